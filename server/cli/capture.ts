// `fuselens capture --connection N [--seconds S] [--daemon [PID]] [-o FILE]`:
// records one connection's FUSE traffic into a file for `fuselens trace`.
// Ctrl-C ends the capture cleanly (tracefs restored, strace detached); after
// a SIGKILL strace dies with it, and the next capture removes its tracefs instance.

import { CaptureError, startCapture } from '../trace';
import { UsageError, parseOptions, type CliIo, type Command } from './command';
import { termText } from './terminal-text';

export const captureCommand: Command = {
  name: 'capture',
  summary: "record a FUSE connection's requests (tracepoints, or strace of its daemon)",
  usage: 'fuselens capture --connection N [--seconds S] [--daemon [--pid PID]] [-o FILE] [--json]',
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, values, operands } = parseOptions(
      args.map((a) => (a === '-o' ? '--output' : a)),
      { flags: ['--daemon', '--json'], values: ['--connection', '--seconds', '--output', '--pid', '--tracefs'] },
    );
    if (operands.length > 0) throw new UsageError(`unexpected ${operands.join(' ')}`);
    const connection = Number(values.get('--connection'));
    if (!values.has('--connection') || !Number.isInteger(connection) || connection < 0)
      throw new UsageError('--connection N is required (the number `fuselens mounts` shows)');
    const seconds = values.has('--seconds') ? Number(values.get('--seconds')) : undefined;
    if (seconds !== undefined && !(seconds > 0)) throw new UsageError('--seconds needs a positive number');
    const pid = values.has('--pid') ? Number(values.get('--pid')) : undefined;
    if (pid !== undefined && !(Number.isInteger(pid) && pid > 0)) throw new UsageError('--pid needs a process id');
    if (pid !== undefined && !flags.has('--daemon')) throw new UsageError('--pid goes with --daemon');
    const daemon = flags.has('--daemon') ? pid ?? true : false;
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const output = values.get('--output') ?? `fuse-${connection}-${stamp}.${daemon ? 'strace' : 'trace'}`;

    let capture;
    try {
      capture = await startCapture({
        connection, output, daemon, ...(seconds !== undefined ? { seconds } : {}),
        ...(values.has('--tracefs') ? { tracefs: values.get('--tracefs')! } : {}),
        onProgress: (n) => {
          if (process.stderr.isTTY) process.stderr.write(`\r${n} requests captured`);
        },
      });
    } catch (err) {
      if (err instanceof CaptureError) {
        io.stderr(`fuselens capture: ${termText(err.message)}\n`);
        return 2;
      }
      throw err;
    }
    for (const line of capture.cleaned) io.stderr(`fuselens capture: ${termText(line)}\n`);
    io.stderr(
      `capturing connection ${connection} ${capture.daemon !== null ? `(strace of daemon pid ${capture.daemon})` : '(kernel tracepoints)'} into ${termText(output)}` +
        `${seconds !== undefined ? ` for ${seconds} s` : ''}; Ctrl-C stops\n`,
    );
    const stop = () => void capture.stop().catch(() => {});
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    try {
      const result = await capture.done;
      if (process.stderr.isTTY) io.stderr('\n');
      for (const w of result.warnings) io.stderr(`warning: ${termText(w)}\n`);
      if (flags.has('--json')) io.stdout(JSON.stringify(result, null, 2) + '\n');
      else
        io.stdout(
          `${result.requests} requests (+ ${result.noReply} that get no reply: FORGET, INTERRUPT) captured in ${termText(result.file)} ` +
            `(read it with: fuselens trace ${termText(result.file)})\n`,
        );
      return 0;
    } catch (err) {
      io.stderr(`fuselens capture: ${termText(err instanceof Error ? err.message : String(err))}\n`);
      return 2;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
