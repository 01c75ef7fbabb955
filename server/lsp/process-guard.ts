// A language server that dies takes the editor's features with it. Errors
// escaping a handler are already answered by vscode-jsonrpc; whatever escapes
// elsewhere (a timer, a promise nobody awaited) is logged here instead of
// ending the process.

import type { Connection } from 'vscode-languageserver';
import { errorText } from './server-log';

export function keepAliveOnStrayErrors(connection: Connection): void {
  const report = (what: string) => (err: unknown) => {
    const text = errorText(err);
    try {
      connection.console.error(`${what}: ${text}`);
    } catch {
      process.stderr.write(`fuselens language server: ${what}: ${text}\n`);
    }
  };
  process.on('uncaughtException', report('uncaught exception'));
  process.on('unhandledRejection', report('unhandled rejection'));
}
