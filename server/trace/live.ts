// Reading a source that may never end — tracefs `trace_pipe`, a FIFO, a pipe
// on stdin — so that the reader can be told to stop and still report what it
// read. A blocking read (what fs streams do, in the thread pool) cannot be
// interrupted, so the file is opened non-blocking and polled; stopping drains
// what is already there, so nothing written before the stop is lost. A socket
// on stdin cannot be opened again; it is read as a stream, stopped between
// chunks.

import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';

const POLL_MS = 100;
/** Reads after the stop, at most (a source that never pauses must not keep the reader going). */
const DRAIN_LIMIT = 64;

/** Reads what a non-blocking fd has now: the byte count (0 at end of file), or -1 when it would block. */
export function readNonBlocking(fd: number, buf: Buffer): number {
  try {
    return fs.readSync(fd, buf, 0, buf.length, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    return -1;
  }
}

/**
 * Whether a file with these stats is such a source: not a regular file, or a regular file of size 0
 * (pseudo-files like trace_pipe report 0; an empty file read this way simply ends at once).
 */
export function isLiveSource(st: Pick<fs.Stats, 'isFile' | 'size'>): boolean {
  return !st.isFile() || st.size === 0;
}

/**
 * The bytes of `path` as they come, until end of file or until `signal` aborts (then what is
 * already readable is still returned). A FIFO without a writer yet is waited for, not taken as ended.
 * `onWaiting` is called the first time nothing is there to read.
 */
export function pollSource(path: string, signal: AbortSignal, onWaiting?: () => void): AsyncIterable<Buffer> {
  // Opened here, not when the reading starts, so a source that cannot be read fails the call.
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    return polled(fd, fs.fstatSync(fd).isFIFO(), signal, onWaiting);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

async function* polled(fd: number, fifo: boolean, signal: AbortSignal, onWaiting?: () => void): AsyncIterable<Buffer> {
  const buf = Buffer.alloc(1 << 20);
  let seen = false;
  let drained = 0;
  try {
    for (;;) {
      if (signal.aborted && drained++ >= DRAIN_LIMIT) return;
      const n = readNonBlocking(fd, buf);
      if (n > 0) {
        seen = true;
        yield Buffer.from(buf.subarray(0, n));
        await turn(); // let signals and timers in even when data never stops coming
        continue;
      }
      if (n === 0 && (seen || !fifo)) return;
      if (signal.aborted) return;
      onWaiting?.();
      onWaiting = undefined;
      await sleep(POLL_MS, undefined, { signal }).catch(() => {}); // an abort wakes it for the last drain
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A stream's chunks until it ends or `signal` aborts; after the abort, what the stream delivers
 * at once is still returned. `onWaiting` is called the first time no chunk comes for a while.
 */
export async function* streamUntil(stream: Readable, signal: AbortSignal, onWaiting?: () => void): AsyncIterable<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = () => {
    wake?.();
    wake = null;
  };
  const onData = (c: Buffer | string) => {
    queue.push(typeof c === 'string' ? Buffer.from(c) : c);
    if (queue.length >= 8) stream.pause(); // the reader is behind: let the writer wait
    poke();
  };
  const onEnd = () => {
    ended = true;
    poke();
  };
  const onError = (e: Error) => {
    failed = e;
    poke();
  };
  stream.on('data', onData).on('end', onEnd).on('error', onError);
  signal.addEventListener('abort', poke, { once: true });
  let waiting = onWaiting;
  try {
    for (;;) {
      while (queue.length > 0) {
        yield queue.shift()!;
        if (queue.length < 8) stream.resume();
      }
      if (failed) throw failed;
      if (ended) return;
      if (signal.aborted) {
        // One more turn for data the system already holds, then stop.
        await turn();
        await turn();
        while (queue.length > 0) yield queue.shift()!;
        return;
      }
      const quiet =
        waiting &&
        setTimeout(() => {
          waiting?.();
          waiting = undefined;
        }, POLL_MS);
      await new Promise<void>((resolve) => (wake = resolve));
      if (quiet) clearTimeout(quiet);
    }
  } finally {
    stream.off('data', onData).off('end', onEnd).off('error', onError);
    signal.removeEventListener('abort', poke);
    stream.destroy(); // read no more; an open stdin would keep the process alive
  }
}
