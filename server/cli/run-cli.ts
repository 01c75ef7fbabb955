// What every `fuselens` executable bundle does around its commands: write to the
// process's stdout/stderr, end quietly on a closed pipe, and turn the result into
// the exit status (entry.ts for every command, inspect-entry.ts for `inspect`).

import { writeSync } from 'node:fs';
import type { CliIo } from './command';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `bytes` to `fd` before returning, so that a reader slower than the command
 * holds it back (the pipe's own flow control) instead of the output queueing in memory:
 * `process.stdout.write` on a full pipe keeps every later chunk (a million steps of
 * `simulate --json` read slowly: ~100 MB more). The pipe is non-blocking once Node has made
 * process.stdout, so a full one answers EAGAIN: wait a millisecond and go on. A closed one
 * (EPIPE) calls `closed`: stdout's ends the command quietly (as below), stderr's drops the
 * message.
 */
function writeAllSync(fd: number, bytes: Uint8Array, closed: () => void): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else if (code === 'EPIPE') return closed();
      else throw err;
    }
  }
}

const endQuietly = (): never => process.exit(0);
const dropMessage = (): void => undefined;

function writeStdoutSync(bytes: Uint8Array): void {
  writeAllSync(1, bytes, endQuietly);
}

/** UTF-16 code units encoded at a time by writeTextSync: at most 3 bytes each in UTF-8. */
const TEXT_CHUNK = 1 << 16;
let textBytes: Buffer | undefined;

/**
 * `text` written as UTF-8 a chunk at a time through one buffer: `inspect --json` of 4,000
 * descriptors is 1.3 MB, which process.stdout (or Buffer.from) would first copy whole into
 * fresh memory (~20 ms of page faults on this project's VMs).
 */
function writeTextSync(fd: number, text: string, closed: () => void): void {
  const bytes = (textBytes ??= Buffer.allocUnsafe(3 * TEXT_CHUNK));
  for (let at = 0; at < text.length; ) {
    let end = Math.min(text.length, at + TEXT_CHUNK);
    // Never between the halves of a surrogate pair: each alone would be encoded as U+FFFD.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    writeAllSync(fd, bytes.subarray(0, bytes.write(text.slice(at, end))), closed);
    at = end;
  }
}

export interface CliFrame {
  /**
   * Every write done in full before the command goes on (through writeAllSync, without
   * process.stdout and stderr), and the process ended as soon as the command settles:
   * nothing is left queued, so Node's own teardown (freeing the heap: ~20 ms of CPU after a
   * 4,000-descriptor `inspect`) and the streams behind process.stdout (net, streams: ~5 ms
   * to load) are spared. For a command whose start-up and exit are much of its time
   * (`inspect`, run by scripts and the bench against lsof), and that leaves nothing running.
   */
  writeThrough?: boolean;
}

export function runCli(main: (argv: string[], io: CliIo) => Promise<number>, frame: CliFrame = {}): void {
  // A command whose promise never settles (something awaited an event that can no longer
  // come) would otherwise end with status 0 and no output once Node has nothing left to
  // wait for: a silent success. Say so and fail instead.
  // ('beforeExit' comes only when the event loop empties, never after process.exit(): the
  // language server and a closed pipe end that way on purpose.)
  let settled = false;
  process.on('beforeExit', () => {
    if (settled) return;
    process.stderr.write('fuselens: internal error: the command stopped before it finished (it waited for something that can no longer happen)\n');
    process.exitCode = 2;
  });

  const io: CliIo = frame.writeThrough
    ? {
        stdout: (t) => writeTextSync(1, t, endQuietly),
        stdoutBytes: writeStdoutSync,
        stderr: (t) => writeTextSync(2, t, dropMessage),
      }
    : streamIo();
  const end = (code: number): void => {
    settled = true;
    if (frame.writeThrough) process.exit(code);
    process.exitCode = code;
  };
  main(process.argv.slice(2), io).then(end, (err: unknown) => {
    io.stderr(`fuselens: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
    end(2);
  });
}

/** Text through process.stdout and process.stderr; the bytes path in step with the reader. */
function streamIo(): CliIo {
  // A reader that stops early (`fuselens simulate X | head -1`) closes the pipe: the
  // output is no longer wanted, so the command ends quietly and successfully, as
  // cat and grep do under SIGPIPE (Node ignores SIGPIPE and reports EPIPE instead).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  // A closed stderr loses the messages but not the result: the exit status still says it.
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  return {
    stdout: (t) => process.stdout.write(t),
    // Only the bytes path (simulate's output, all of it through here) is written in step
    // with the reader; text goes through process.stdout as before.
    stdoutBytes: writeStdoutSync,
    stderr: (t) => process.stderr.write(t),
  };
}
