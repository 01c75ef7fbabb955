// The shape every `fuselens` subcommand has; main.ts dispatches on `name`.

import { termText } from './terminal-text';

export interface CliIo {
  stdout: (text: string) => void;
  /** Output already encoded as UTF-8 (simulate's chunks); when absent, it goes to `stdout` as text. */
  stdoutBytes?: (bytes: Uint8Array) => void;
  stderr: (text: string) => void;
}

export interface Command {
  name: string;
  /** One line for `fuselens --help`. */
  summary: string;
  /** Usage lines, e.g. `fuselens check FILE... [--json]`. */
  usage: string;
  /** Returns the exit status: 0 fine, 1 findings (errors, differences), 2 bad usage or unreadable input. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad usage; main prints the message and the command's usage, exit 2. */
export class UsageError extends Error {}

/** Splits `--flag` options from operands; unknown options are usage errors. */
export function parseOptions(
  args: string[],
  known: { flags?: string[]; values?: string[] },
): { flags: Set<string>; values: Map<string, string>; operands: string[] } {
  const flags = new Set<string>();
  const values = new Map<string, string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      // A loop, not push(...rest): argv may hold a million names (ARG_MAX), more than a call's arguments.
      for (const rest of args.slice(i + 1)) operands.push(rest);
      break;
    }
    if (arg.startsWith('--')) {
      const [name, inline] = arg.split('=', 2) as [string, string | undefined];
      if (known.flags?.includes(name) && inline === undefined) flags.add(name);
      else if (known.values?.includes(name)) {
        const value = inline ?? args[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
        values.set(name, value);
      } else throw new UsageError(`unknown option ${arg}`);
    } else operands.push(arg);
  }
  return { flags, values, operands };
}

/** One command with its arguments: its usage on --help, a usage error with its usage (exit 2). */
export async function runCliCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  const name = command.name;
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(`usage: ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      // Usage errors quote the arguments given.
      io.stderr(`fuselens ${name}: ${termText(err.message)}\nusage: ${command.usage}\n`);
      return 2;
    }
    throw err;
  }
}
