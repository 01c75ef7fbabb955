// The language server on standard input/output (`fuselens lsp --stdio`, server/cli/lsp.ts,
// and `node dist/server.js --stdio`, main.ts), its messages encoded into a reused buffer
// (reused-buffer-encoder.ts).

import { createConnection, ProposedFeatures, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { reusedBufferJsonEncoder } from './reused-buffer-encoder';
import { startLanguageServer } from './server';
import { keepAliveOnStrayErrors } from './process-guard';

/** Serves until the editor sends `exit` or closes the input; the returned promise never settles. */
export function serveStdio(): Promise<number> {
  // stdout carries the protocol: anything else printed must go to stderr.
  for (const name of ['log', 'info', 'warn', 'debug'] as const) console[name] = (...a: unknown[]) => console.error(...a);
  const connection = createConnection(ProposedFeatures.all, new StreamMessageReader(process.stdin), new StreamMessageWriter(process.stdout, { contentTypeEncoder: reusedBufferJsonEncoder() }));
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
}
