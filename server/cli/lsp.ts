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
    // The `exit` notification ends the process (vscode-languageserver: status 0 after
    // `shutdown`, else 1). So does the editor closing our input, as with --stdio.
    let shutdown = false;
    connection.onShutdown(() => {
      shutdown = true;
    });
    const inputGone = () => process.exit(shutdown ? 0 : 1);
    process.stdin.on('end', inputGone);
    process.stdin.on('close', inputGone);
    connection.listen();
    return new Promise<number>(() => {
      // Never settles: the process ends through process.exit above.
    });
  },
};
