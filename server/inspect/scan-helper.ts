// A second thread for the reads of a /proc scan that decide nothing (scan-reads.ts),
// for a long-lived process's repeated scans (startScanHelper), so that on two CPUs the first pass's readlinks and the fdinfo and maps reads overlap.
// The scan stays synchronous. Each piece of work is a list cut into blocks that both
// threads claim from a shared counter; when the scan's own thread runs out of blocks it
// waits only for blocks the helper has taken, and if the helper has not started the
// work (still starting up: tens of ms for a fresh thread), it takes the work back.
// The worker runs `inspect-worker.js` (scan-worker.ts's bundle, scripts/build.mjs):
// beside this module's bundle in dist/, or the repository's dist/ when run from source.
// It starts without the parent's loader flags (tsx): loading modules through loader
// hooks needs the parent's event loop, which a blocked scan does not run. With one
// CPU, or no built worker, there is no helper and the scan reads everything itself.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { readFdinfos, readMapsMatches, type MapsMatch, type ReadResult } from './scan-reads';

/** A list of reads, cut into blocks. */
export type ScanWork =
  | { kind: 'fdinfo'; procRoot: string; pairs: Int32Array }
  | { kind: 'maps'; procRoot: string; pids: number[]; spelled: [string, string][] };

export type ScanResult = ReadResult | MapsMatch[] | { code: string };

export type ToScanWorker = { port: MessagePort } | { id: number; work: ScanWork; shared: Int32Array };
export interface FromScanWorker {
  id: number;
  blocks: [number, ScanResult[]][];
}

// shared[STATE]: who has the work; shared[NEXT]: the next item to claim.
const STATE = 0;
const NEXT = 1;
const WAITING = 0; // posted, the helper has not looked at it
const BUSY = 1; // the helper is claiming blocks
const DONE = 2; // the helper has posted its blocks
const TAKEN_BACK = 3; // the scan did it all before the helper started

const BLOCK = { fdinfo: 64, maps: 8 } as const;

/** The scan gives up on the helper (and stops it) after this long without an answer. */
const ANSWER_TIMEOUT_MS = 10_000;

function workCount(work: ScanWork): number {
  return work.kind === 'fdinfo' ? work.pairs.length / 2 : work.pids.length;
}

/** Claims blocks of `work` until none is left, doing each into `into(from, results)`. */
export function doBlocks(work: ScanWork, shared: Int32Array, into: (from: number, results: ScanResult[]) => void): void {
  const count = workCount(work);
  const size = BLOCK[work.kind];
  for (;;) {
    const from = Atomics.add(shared, NEXT, size);
    if (from >= count) return;
    const to = Math.min(count, from + size);
    const out: ScanResult[] = [];
    if (work.kind === 'fdinfo') out.push(...readFdinfos(work.procRoot, work.pairs, from, to));
    else for (let i = from; i < to; i++) out.push(readMapsMatches(work.procRoot, work.pids[i]!, work.spelled));
    into(from, out);
  }
}

/** The worker's side (scan-worker.ts): the blocks it claimed, or undefined when the scan took the work back. */
export function helpWith(work: ScanWork, shared: Int32Array): FromScanWorker['blocks'] | undefined {
  if (Atomics.compareExchange(shared, STATE, WAITING, BUSY) !== WAITING) return undefined;
  const blocks: FromScanWorker['blocks'] = [];
  doBlocks(work, shared, (from, results) => blocks.push([from, results]));
  return blocks;
}

/** The worker has posted its answer: the scan may read it. */
export function helped(shared: Int32Array): void {
  Atomics.store(shared, STATE, DONE);
  Atomics.notify(shared, STATE);
}

export interface ScanHelper {
  worker: Worker;
  port: MessagePort;
  nextId: number;
  /** Answers received while waiting for another one, by id. */
  early: Map<number, FromScanWorker['blocks']>;
}

let helper: ScanHelper | null | undefined;

function workerFile(): string | undefined {
  // dist/ beside the bundle, or the repository's dist/ from server/inspect/.
  for (const file of [join(__dirname, 'inspect-worker.js'), join(__dirname, '..', '..', 'dist', 'inspect-worker.js')])
    if (existsSync(file)) return file;
  return undefined;
}

/** The helper thread if startScanHelper started it (and it has not failed since), else null. */
export function scanHelper(): ScanHelper | null {
  return helper ?? null;
}

/**
 * Starts the helper thread for the scans of a long-lived process (the language server's
 * sidebar: SidebarScans); idempotent. A one-shot command does not: a fresh thread costs
 * about what it would take off a single scan (measured: `fuselens inspect` used 10 % more
 * CPU and was no sooner with it on a loaded 2-CPU machine). Does nothing where it cannot
 * help (one CPU, no built worker).
 */
export function startScanHelper(): void {
  if (helper === undefined) {
    const file = availableParallelism() > 1 ? workerFile() : undefined;
    if (file === undefined) helper = null;
    else {
      const worker = new Worker(file, { execArgv: [] });
      worker.unref(); // never what keeps a process alive
      worker.on('error', () => (helper = null));
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ port: port2 } satisfies ToScanWorker, [port2]);
      helper = { worker, port: port1, nextId: 0, early: new Map() };
    }
  }
}

/** Work shared with the helper (or done alone without one): start it, then finish it with `take`. */
export class SharedWork {
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private readonly id: number | undefined;

  constructor(
    private readonly work: ScanWork,
    private readonly helper: ScanHelper | null,
  ) {
    if (helper && workCount(work) > 0) {
      this.id = helper.nextId++;
      helper.worker.postMessage({ id: this.id, work, shared: this.shared } satisfies ToScanWorker);
    }
  }

  /** Every result, by index: the blocks left are done here, the helper's are waited for. */
  take(): ScanResult[] {
    const results = new Array<ScanResult>(workCount(this.work));
    const into = (from: number, out: ScanResult[]): void => {
      for (let i = 0; i < out.length; i++) results[from + i] = out[i]!;
    };
    doBlocks(this.work, this.shared, into);
    const h = this.helper;
    if (this.id === undefined || !h) return results;
    if (Atomics.compareExchange(this.shared, STATE, WAITING, TAKEN_BACK) === WAITING) return results;
    for (;;) {
      const m = receiveMessageOnPort(h.port)?.message as FromScanWorker | undefined;
      if (m) h.early.set(m.id, m.blocks);
      const blocks = h.early.get(this.id);
      if (blocks) {
        h.early.delete(this.id);
        for (const [from, out] of blocks) into(from, out);
        return results;
      }
      if (m) continue;
      if (Atomics.wait(this.shared, STATE, BUSY, ANSWER_TIMEOUT_MS) === 'timed-out' || helper !== h) {
        // Stuck: stop it, and do what it had claimed.
        helper = null;
        void h.worker.terminate();
        const alone = new SharedWork(this.work, null);
        return alone.take();
      }
    }
  }
}
