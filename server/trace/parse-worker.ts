// The worker thread of a tracefs reading (read.ts, parseInWorker): splits the
// chunks the main thread posts into lines and reads them with the format's
// reader while the main thread analyses the previous chunk's events. Its output
// goes back as sink records (sink-records.ts), one batch per chunk, and the
// main thread sends each batch's buffer back to be written again.

import { parentPort, workerData } from 'node:worker_threads';
import { createReader, lineSplitter } from './read';
import { SinkRecorder, type FromParseWorker, type ParseWorkerData, type SinkBatch, type ToParseWorker } from './sink-records';

function main(): void {
  const port = parentPort!;
  const data = workerData as ParseWorkerData;
  const post = (batch: SinkBatch, chunkDone: boolean, lines?: number) =>
    port.postMessage({ batch, chunkDone, ...(lines === undefined ? {} : { lines }) } satisfies FromParseWorker, [batch.records]);
  const recorder = new SinkRecorder((batch) => post(batch, false));
  const reader = createReader(data.format, recorder, { connection: data.connection });
  const splitter = lineSplitter(reader, recorder);
  port.on('message', (m: ToParseWorker) => {
    if ('chunk' in m) {
      splitter.push(Buffer.from(m.chunk));
      post(recorder.take(), true);
    } else if ('recycle' in m) recorder.recycle(m.recycle);
    else {
      splitter.end();
      reader.finish();
      post(recorder.take(), false, splitter.lines);
      port.close();
    }
  });
}

main();
