// What every `fuselens` executable bundle does around its commands: write to the
// process's stdout/stderr, end quietly on a closed pipe, and turn the result into
// the exit status (entry.ts for every command, inspect-entry.ts for `inspect`).

import type { CliIo } from './command';

export function runCli(main: (argv: string[], io: CliIo) => Promise<number>): void {
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
    stderr: (t) => process.stderr.write(t),
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`fuselens: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 2;
    },
  );
}
