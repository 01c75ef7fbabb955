// The worker thread of a tracefs reading (read.ts, parseInWorker): splits the
// chunks the main thread posts into lines and reads them with the format's
// reader while the main thread analyses the previous chunk's events. Its output
// goes back as sink records (sink-records.ts), one batch per chunk, and the
// main thread sends each batch's buffer back to be written again.

import { parentPort, workerData } from 'node:worker_threads';
import type { TraceFormat } from './events';
import { createReader, lineSplitter } from './read';
import { SinkRecorder, type SinkBatch } from './sink-records';

/** What the main thread passes to the worker at its start. */
export interface ParseWorkerData {
  format: TraceFormat;
  connection: number | null;
}

/** Messages to the worker: a chunk of the input (its bytes transferred), a batch buffer to reuse, the end of input. */
export type ToParseWorker = { chunk: ArrayBuffer } | { recycle: ArrayBuffer } | { end: true };
/** Messages from the worker: the records of one chunk (`chunkDone`), of a full batch, or of the end (`lines`: the input's line count). */
export type FromParseWorker = { batch: SinkBatch; chunkDone: boolean; lines?: number };

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
