// `simulate`'s output worker (dist/simulate-output-worker.js): makes the table or the
// --json steps from the steps the simulating thread hands over (step-ring.ts) and
// writes them to the command's stdout itself, while that thread simulates the next.

import { workerData, type MessagePort } from 'node:worker_threads';
import { ChunkedOutput } from './chunked-output';
import { writeAllSync } from './run-cli';
import { stepWriter, type StepFormat } from './step-output';
import { CLOSED, FAILED, readStepRing, stopRing, WRITTEN, type StepRingMemory } from './step-ring';
import { jsonInert } from './terminal-text';

export interface OutputWorkerData {
  memory: StepRingMemory;
  /** Records too long for the ring come by it (step-ring.ts); the worker's failure goes back by it. */
  port: MessagePort;
  /** The scenario's text as read (UTF-8, in shared memory): the steps' words are in it. Null once decoded. */
  text: { bytes: SharedArrayBuffer; offset: number; length: number } | null;
  format: StepFormat;
  /** The descriptor to write to: the command's stdout. */
  fd: number;
}

const data = workerData as OutputWorkerData;
const { memory, port, format, fd } = data;
try {
  const closed = (): never => {
    // The reader has gone: the simulating thread ends the command quietly, as it would have on its own.
    stopRing(memory, CLOSED);
    process.exit(0);
  };
  const out = new ChunkedOutput((bytes) => writeAllSync(fd, bytes, closed), format === 'json' ? jsonInert : undefined);
  const writer = stepWriter(format, out);
  readStepRing(memory, port, takeText(data), (step) => writer.add(step));
  writer.end();
  out.flush();
  stopRing(memory, WRITTEN);
} catch (err) {
  port.postMessage(err instanceof Error ? (err.stack ?? err.message) : String(err));
  stopRing(memory, FAILED);
}

/**
 * The text the simulating thread has, decoded as it decoded it (input-file.ts readScenarioText); its bytes are
 * then let go, so that their shared memory is freed once neither thread holds them.
 */
function takeText(data: OutputWorkerData): string {
  const text = data.text!;
  data.text = null;
  return Buffer.from(text.bytes, text.offset, text.length).toString('utf8');
}
