// The worker thread of a tracefs or strace reading (read.ts, parseInWorker):
// splits the chunks the main thread posts into lines and reads them with the
// format's reader while the main thread analyses the previous chunk's events.
// Its output goes back as sink records (sink-records.ts), one batch per chunk
// (the strace reader's reads and writes of /dev/fuse as where their text is in
// the chunk, decoded on the main thread), and the main thread sends each batch's buffers back to be written
// again (the buffers are shared and cross once; then only their numbers, sink-records.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { createReader, lineSplitter } from './read';
import { SinkRecorder, type FromParseWorker, type ParseWorkerData, type SinkBatch, type ToParseWorker } from './sink-records';

function main(): void {
  const port = parentPort!;
  const data = workerData as ParseWorkerData;
  /** Batches posted and not yet sent back: the ones the main thread has still to replay, the one it replays. */
  let unreplayed = 0;
  const post = (batch: SinkBatch, chunkDone: boolean, lines?: number) => {
    unreplayed++;
    port.postMessage({ batch, chunkDone, ...(lines === undefined ? {} : { lines }) } satisfies FromParseWorker);
  };
  // Whether the main thread holds the chunk being read: a shared one (a file's) it keeps until this one's batches are replayed.
  let shared = false;
  const recorder = new SinkRecorder(
    (batch) => post(batch, false),
    (buf) => shared && buf === splitter.chunkLines,
    // The strace calls' strings are decoded by whichever thread has less to do: here while the main thread is behind
    // (three batches waiting beyond the one it replays), else there. Either alone left the other idle for a third of
    // the time (bench/README.md, Traces). One batch behind was the mark while the main thread's part cost more than the
    // worker's; with it cheaper (s11-trace) that mark left the worker the busier thread (2.74 s CPU per GB against the
    // main thread's 1.73), three behind balances them (1.94 / 1.95).
    () => unreplayed > 3,
  );
  const reader = createReader(data.format, recorder, { connection: data.connection, messages: recorder });
  const splitter = lineSplitter(reader, recorder);
  port.on('message', (m: ToParseWorker) => {
    if ('chunk' in m) {
      shared = m.chunk instanceof SharedArrayBuffer;
      splitter.push(Buffer.from(m.chunk, m.offset, m.length));
      post(recorder.take(), true);
    } else if ('recycle' in m) {
      unreplayed--;
      recorder.recycle(m.recycle, m.recycleBytes);
    }
    else {
      splitter.end();
      reader.finish();
      post(recorder.take(), false, splitter.lines);
      port.close();
    }
  });
}

main();
