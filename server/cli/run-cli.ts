// What every `fuselens` executable bundle does around its commands: write to the
// process's stdout/stderr, end quietly on a closed pipe, and turn the result into
// the exit status (entry.ts for every command, inspect-entry.ts for `inspect`).

import { writeSync } from 'node:fs';
import type { CliIo } from './command';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `bytes` to the process's stdout before returning, so that a reader slower
 * than the command holds it back (the pipe's own flow control) instead of the output
 * queueing in memory: `process.stdout.write` on a full pipe keeps every later chunk (a
 * million steps of `simulate --json` read slowly: ~100 MB more). The pipe is non-blocking
 * once Node has made process.stdout, so a full one answers EAGAIN: wait a millisecond and
 * go on. A closed one (EPIPE) ends the command quietly, as below.
 */
function writeStdoutSync(bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(1, bytes, done, bytes.length - done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 1);
      else if (code === 'EPIPE') process.exit(0);
      else throw err;
    }
  }
}

export function runCli(main: (argv: string[], io: CliIo) => Promise<number>): void {
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

  main(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    // Only the bytes path (simulate's output, all of it through here) is written in step
    // with the reader; text goes through process.stdout as before.
    stdoutBytes: writeStdoutSync,
    stderr: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (err: unknown) => {
      settled = true;
      process.stderr.write(`fuselens: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
