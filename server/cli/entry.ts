// The `fuselens` executable: bin/fuselens loads this bundle (dist/cli.js).

import { main } from './main';

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
