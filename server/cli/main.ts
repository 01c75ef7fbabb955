// `fuselens`: the command-line front on the same modules the language server uses.

import { version } from '../../package.json';
import { runCliCommand, type CliIo, type Command } from './command';
import { checkCommand, simulateCommand } from './scenario-commands';
import { mountsCommand } from './mounts';
import { inspectCommand } from './inspect';
import { lspCommand } from './lsp';
import { runCommand } from './run';
import { traceCommand } from './trace';
import { captureCommand } from './capture';
import { trackCommand } from './track';
import { cleanCommand } from './clean';
import { termText } from './terminal-text';

const commands: Command[] = [checkCommand, simulateCommand, mountsCommand, inspectCommand, lspCommand, runCommand, traceCommand, captureCommand, trackCommand, cleanCommand];

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'fuselens — FUSE mounts, traces and the kernel\'s I/O-mode rules',
    '',
    'usage: fuselens COMMAND [ARGS] [--json]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'fuselens COMMAND --help shows a command\'s usage. Exit status: 0 fine,',
    '1 errors found (check) or differences (run), 2 bad usage or unreadable input.',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.stdout(`fuselens ${version}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.stderr(`fuselens: unknown command '${termText(name)}'\n\n${help()}\n`);
    return 2;
  }
  return runCliCommand(command, args, io);
}
