import type { CancellationToken, Connection } from 'vscode-languageserver';
import type { Failure, RequestSpec } from '../../../protocol/messages';

/** Registers a handler for one of protocol/messages.ts's requests, typed by it. */
export function handle<P, R>(
  connection: Connection,
  spec: RequestSpec<P, R>,
  handler: (params: P, token: CancellationToken) => R | Promise<R>,
): void {
  connection.onRequest(spec.method, (params: unknown, token: CancellationToken) => handler(params as P, token) as Promise<unknown>);
}

/** An error as an answer: its errno name (`code`) when the kernel gave one. */
export function failure(err: unknown): Failure {
  const code = err && typeof err === 'object' && 'code' in err ? (err as { code: unknown }).code : undefined;
  return {
    ok: false,
    errno: typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : 'ERROR',
    message: err instanceof Error ? err.message : String(err),
  };
}
