// The server's log goes to the client (window/logMessage), where the editor
// shows it ("FUSE Lens" output); a failure is logged with its stack, since it
// is a bug the user can only report.

import type { Connection } from 'vscode-languageserver';

export interface ServerLog {
  info(message: string): void;
  /** A failure of `what` (`checking file:///a.fusesim`), with the stack. */
  error(what: string, err: unknown): void;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

export function connectionLog(connection: Connection): ServerLog {
  return {
    info: (message) => connection.console.log(message),
    error: (what, err) => connection.console.error(`${what}: ${errorText(err)}`),
  };
}
