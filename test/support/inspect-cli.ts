// Runs `fuselens mounts` / `fuselens inspect` without the rest of the CLI, so the
// inspection tests can spawn them as real processes (as another user, against a
// stopped daemon) before or without a full build: node --import tsx test/support/inspect-cli.ts inspect /tmp/m --json

import { abortConnection, setConnectionLimit, type ConnectionLimit } from '../../server/inspect';
import { inspectCommand } from '../../server/cli/inspect';
import { mountsCommand } from '../../server/cli/mounts';
import { UsageError } from '../../server/cli/command';

const [name, ...args] = process.argv.slice(2);

// Test-only: `limit CONN max_background|congestion_threshold VALUE SYSDIR` and `abort CONN SYSDIR`
// print "ok" or "CODE message" (what the sidebar would show).
if (name === 'limit' || name === 'abort') {
  try {
    if (name === 'limit') setConnectionLimit(Number(args[0]), args[1] as ConnectionLimit, Number(args[2]), args[3]);
    else abortConnection(Number(args[0]), args[1]);
    process.stdout.write('ok\n');
  } catch (err) {
    const e = err as { code?: string; message: string };
    process.stdout.write(`${e.code} ${e.message}\n`);
  }
  process.exit(0);
}
const command = name === 'mounts' ? mountsCommand : name === 'inspect' ? inspectCommand : undefined;
if (!command) {
  process.stderr.write('usage: inspect-cli.ts mounts|inspect ARGS\n');
  process.exit(2);
}
command
  .run(args, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) })
  .then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof UsageError ? '' : 'internal error: '}${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    },
  );
