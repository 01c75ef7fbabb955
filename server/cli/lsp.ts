// `fuselens lsp --stdio`: the language server on standard input/output, for
// any LSP editor (docs/language-server.md has Neovim, Helix and Emacs setups).

import { createConnection, ProposedFeatures, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { parseOptions, UsageError, type Command } from './command';
import { startLanguageServer } from '../lsp/server';
import { keepAliveOnStrayErrors } from '../lsp/process-guard';

export const lspCommand: Command = {
  name: 'lsp',
  summary: 'run the language server (LSP) on standard input/output',
  usage: 'fuselens lsp --stdio',
  run(args) {
    const { flags, operands } = parseOptions(args, { flags: ['--stdio'] });
    if (operands.length > 0) throw new UsageError(`unexpected argument '${operands[0]}'`);
    if (!flags.has('--stdio')) throw new UsageError('only --stdio is supported: fuselens lsp --stdio');
    // stdout carries the protocol: anything else printed must go to stderr.
    for (const name of ['log', 'info', 'warn', 'debug'] as const) console[name] = (...a: unknown[]) => console.error(...a);
    const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout));
    keepAliveOnStrayErrors(connection);
    startLanguageServer(connection);
    connection.listen();
    // Runs until the client sends `exit` or closes the input (vscode-languageserver exits the process).
    return new Promise<number>((resolve) => {
      connection.onExit(() => resolve(0));
      process.stdin.on('end', () => resolve(0));
    });
  },
};
