// dist/server.js: the language server as the extension starts it (`--node-ipc`)
// and as any LSP editor can (`node dist/server.js --stdio`); the transport is
// chosen from the command line by vscode-languageserver.

import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startLanguageServer } from './server';
import { keepAliveOnStrayErrors } from './process-guard';

const connection = createConnection(ProposedFeatures.all);
keepAliveOnStrayErrors(connection);
startLanguageServer(connection);
connection.listen();
