// `fuselens lsp --stdio`: the language server on standard input/output, for
// any LSP editor (docs/language-server.md has Neovim, Helix and Emacs setups).
// The server itself (server/lsp/stdio.ts, vscode-languageserver) is loaded only when
// this command runs: every other command starts faster without it.

import { parseOptions, UsageError, type Command } from './command';

export const lspCommand: Command = {
  name: 'lsp',
  summary: 'run the language server (LSP) on standard input/output',
  usage: 'fuselens lsp --stdio',
  async run(args) {
    const { flags, operands } = parseOptions(args, { flags: ['--stdio'] });
    if (operands.length > 0) throw new UsageError(`unexpected argument '${operands[0]}'`);
    if (!flags.has('--stdio')) throw new UsageError('only --stdio is supported: fuselens lsp --stdio');
    const { serveStdio } = await import('../lsp/stdio.js');
    return serveStdio();
  },
};
