// A second thread for a /proc scan (processes.ts): the processes are cut into blocks
// (scan-block.ts) that the scan's thread and this helper claim from a shared counter,
// so that on two CPUs the whole scan runs on both.
// The scan stays synchronous. The helper posts each block as it finishes it; when the
// scan's own thread runs out of blocks to claim, it waits for the helper's, but for a
// block the helper has not finished within about the time the scan took per block of
// its own (the helper starting up, or preempted on a loaded machine), it reads that
// block itself and drops the helper's copy when it comes: the scan is never slower than
// the time it takes alone by more than that wait.
// The worker runs `inspect-worker.js` (scan-worker.ts's bundle, scripts/build.mjs):
// beside this module's bundle in dist/, or the repository's dist/ when run from source.
// It starts without the parent's loader flags (tsx): loading modules through loader
// hooks needs the parent's event loop, which a blocked scan does not run. With one
// CPU, or no built worker, there is no helper and the scan reads everything itself.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { MessagePort, Worker } from 'node:worker_threads';
import { BLOCK_PIDS, scanBlock, type BlockWork, type ProcessPart } from './scan-block';

export type ToScanWorker = { port: MessagePort } | { id: number; work: BlockWork; shared: Int32Array };
/** One block the helper did: the parts of `work.pids[from..]`. */
export interface FromScanWorker {
  id: number;
  from: number;
  parts: ProcessPart[];
}

// shared[NEXT]: the next pid index to claim; shared[BLOCK0 + b]: block b's state, once the helper claimed it.
const NEXT = 0;
const BLOCK0 = 1;
const HELPER_ON_IT = 0;
const HELPER_DONE = 1; // its parts are posted
const TAKEN_OVER = 2; // the scan read it itself

/** Longest and shortest wait for a helper's block before the scan reads it itself. */
const WAIT_MS = { min: 0.5, max: 20 } as const;

function blockCount(work: BlockWork): number {
  return Math.ceil(work.pids.length / BLOCK_PIDS);
}

/** Claims the next block of `work`: the index of its first pid, or undefined when none is left. */
function claim(work: BlockWork, shared: Int32Array): number | undefined {
  const from = Atomics.add(shared, NEXT, BLOCK_PIDS);
  return from < work.pids.length ? from : undefined;
}

function readBlock(work: BlockWork, from: number): ProcessPart[] {
  return scanBlock(work, from, Math.min(work.pids.length, from + BLOCK_PIDS));
}

/** The worker's side (scan-worker.ts): claims blocks until none is left, posting each as it is done. */
export function helpWith(id: number, work: BlockWork, shared: Int32Array, port: MessagePort): void {
  for (let from = claim(work, shared); from !== undefined; from = claim(work, shared)) {
    port.postMessage({ id, from, parts: readBlock(work, from) } satisfies FromScanWorker);
    const at = BLOCK0 + from / BLOCK_PIDS;
    // Posted first: a scan that sees HELPER_DONE finds the parts on its port.
    if (Atomics.compareExchange(shared, at, HELPER_ON_IT, HELPER_DONE) === HELPER_ON_IT) Atomics.notify(shared, at);
  }
}

export interface ScanHelper {
  worker: Worker;
  port: MessagePort;
  nextId: number;
}

let helper: ScanHelper | null | undefined;

/**
 * node:worker_threads, loaded only where a helper starts: it brings the streams with it (~25
 * built-in modules compiled at start-up, ~15 ms of CPU), which `fuselens inspect` never uses.
 */
function threads(): typeof import('node:worker_threads') {
  return createRequire(__filename)('node:worker_threads') as typeof import('node:worker_threads');
}

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
 * Starts the helper thread; idempotent. The language server's sidebar starts it once for
 * its repeated scans (SidebarScans); `fuselens inspect`, one scan and done, does without
 * (inspect-entry.ts). Does nothing where it cannot help (one CPU, no built worker).
 */
export function startScanHelper(): void {
  if (helper === undefined) {
    const file = availableParallelism() > 1 ? workerFile() : undefined;
    if (file === undefined) helper = null;
    else {
      const { MessageChannel, Worker } = threads();
      const worker = new Worker(file, { execArgv: [] });
      worker.unref(); // never what keeps a process alive
      worker.on('error', () => (helper = null));
      const { port1, port2 } = new MessageChannel();
      worker.postMessage({ port: port2 } satisfies ToScanWorker, [port2]);
      helper = { worker, port: port1, nextId: 0 };
    }
  }
}

/** Work shared with the helper (or done alone without one): start it, then finish it with `take`. */
export class SharedWork {
  private readonly shared: Int32Array;
  private readonly id: number | undefined;

  constructor(
    private readonly work: BlockWork,
    private readonly helper: ScanHelper | null,
  ) {
    this.shared = new Int32Array(new SharedArrayBuffer(4 * (BLOCK0 + blockCount(work))));
    if (helper && blockCount(work) > 1) {
      this.id = helper.nextId++;
      helper.worker.postMessage({ id: this.id, work, shared: this.shared } satisfies ToScanWorker);
    }
  }

  /** Every process's part, in the order of `work.pids`: the blocks left are done here, the helper's are waited for. */
  take(): ProcessPart[] {
    const { work, shared } = this;
    const results = new Array<ProcessPart>(work.pids.length);
    const into = (from: number, parts: ProcessPart[]): void => {
      for (let i = 0; i < parts.length; i++) results[from + i] = parts[i]!;
    };
    const mine = new Set<number>();
    const started = process.hrtime.bigint();
    for (let from = claim(work, shared); from !== undefined; from = claim(work, shared)) {
      into(from, readBlock(work, from));
      mine.add(from);
    }
    const h = this.helper;
    if (this.id === undefined || !h) return results;
    const wait = Math.min(WAIT_MS.max, Math.max(WAIT_MS.min, Number(process.hrtime.bigint() - started) / 1e6 / Math.max(1, mine.size)));
    const posted = new Map<number, ProcessPart[]>(); // by `from`
    const { receiveMessageOnPort } = threads();
    for (let from = 0; from < work.pids.length; from += BLOCK_PIDS) {
      if (mine.has(from)) continue;
      const at = BLOCK0 + from / BLOCK_PIDS;
      for (;;) {
        for (let m; (m = receiveMessageOnPort(h.port)?.message as FromScanWorker | undefined); )
          if (m.id === this.id) posted.set(m.from, m.parts); // other ids: blocks of earlier scans that the scan read itself
        const parts = posted.get(from);
        if (parts) {
          into(from, parts);
          break;
        }
        if (Atomics.load(shared, at) === HELPER_DONE) continue; // posted: on the port now
        Atomics.wait(shared, at, HELPER_ON_IT, wait);
        if (Atomics.compareExchange(shared, at, HELPER_ON_IT, TAKEN_OVER) === HELPER_ON_IT) {
          into(from, readBlock(work, from));
          break;
        }
      }
    }
    return results;
  }
}
