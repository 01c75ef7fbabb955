// `simulate`'s steps made into text and written on the second CPU (output-worker.ts)
// while this thread simulates: of a million steps, the table or JSON and its writes
// were about a sixth of the command (issue 14). The output is the same either way,
// made by the same code (step-output.ts); only where it runs differs.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { StepStatement } from '../scenario/ast';
import type { ScenarioSource } from '../scenario/parse';
import type { StepResult } from '../scenario/result';
import type { CliIo } from './command';
import type { ScenarioText } from './input-file';
import type { OutputWorkerData } from './output-worker';
import type { StepFormat, StepWriter } from './step-output';
import { CLOSED, StepRingWriter, stepRingMemory } from './step-ring';

/**
 * From this much text (some 40,000 steps) the worker is started: its start-up, tens of
 * milliseconds of the other CPU, is then well below what the output costs this thread.
 */
const WORKER_FROM_BYTES = 1 << 20;

/**
 * Steps handed to the output worker, which writes them to `stdoutFile` itself. `watch`
 * the source simulated: the ring takes each step's words from its statement.
 */
export class OffThreadSteps implements StepWriter {
  /**
   * The statements run whose steps have not come yet (a step waits while an earlier one sleeps): [next, count).
   * Reused from the start once all have come, not emptied: a fresh array at each step would be garbage.
   */
  private readonly statements: StepStatement[] = [];
  private next = 0;
  private count = 0;

  private constructor(private readonly ring: StepRingWriter) {}

  /**
   * The worker started on the text `read`, or null where it would not help or cannot run: a short
   * scenario, one CPU, output that is not a file descriptor (tests), sources run without a
   * build (no bundle of the worker beside this one).
   */
  static start(read: ScenarioText, format: StepFormat, stdout: CliIo['stdoutFile'], file = join(__dirname, 'simulate-output-worker.js')): OffThreadSteps | null {
    const source = read.bytes;
    if (!stdout || !source || source.length < WORKER_FROM_BYTES || !(source.buffer instanceof SharedArrayBuffer) || availableParallelism() < 2 || !existsSync(file)) return null;
    // Handed to the worker and not kept here, so that their memory goes once it has decoded them (24 MB of a million steps).
    read.bytes = null;
    const memory = stepRingMemory();
    const { port1, port2 } = new MessageChannel();
    // The text's bytes are shared, not copied: the worker decodes its own copy of the text from them, on its CPU.
    const text = { bytes: source.buffer, offset: source.byteOffset, length: source.length };
    const workerData: OutputWorkerData = { memory, port: port2, text, format, fd: stdout.fd };
    const worker = new Worker(file, { workerData, transferList: [port2] });
    // Done once the ring says so (end); its thread never keeps the command alive.
    worker.unref();
    return new OffThreadSteps(new StepRingWriter(memory, port1, (state) => {
      if (state === CLOSED) return stdout.closed();
      const message = receiveMessageOnPort(port1)?.message;
      throw new Error(`simulate's output worker failed: ${typeof message === 'string' ? message : 'no reason given'}`);
    }));
  }

  /** `source` with each statement noted as it is simulated. */
  watch(source: ScenarioSource): ScenarioSource {
    return {
      declarations: source.declarations,
      forEachStep: (step, error) => source.forEachStep((s) => {
        this.statements[this.count++] = s;
        step(s);
      }, error),
    };
  }

  /** Steps come in the order their statements ran, one each. */
  add(step: StepResult): void {
    const statement = this.statements[this.next++]!;
    if (this.next === this.count) this.next = this.count = 0;
    this.ring.add(step, statement);
  }

  /** Returns once the worker has written every step. */
  end(): void {
    this.ring.end();
  }
}
