// dist/server.js: the language server as the extension starts it (`--node-ipc`)
// and as any LSP editor can (`node dist/server.js --stdio`, served as `fuselens lsp
// --stdio` serves it: stdio.ts); other transports are chosen from the command line
// by vscode-languageserver.

import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startLanguageServer } from './server';
import { keepAliveOnStrayErrors } from './process-guard';
import { serveStdio } from './stdio';

if (process.argv.includes('--stdio')) {
  void serveStdio();
} else {
  const connection = createConnection(ProposedFeatures.all);
  keepAliveOnStrayErrors(connection);
  startLanguageServer(connection);
  connection.listen();
}
