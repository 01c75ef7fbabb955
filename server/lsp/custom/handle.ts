import type { CancellationToken, Connection } from 'vscode-languageserver';
import { Requests, type Failure, type RequestSpec } from '../../../protocol/messages';
import { boolean, number, object, onValidRequest, optional, string, type Shape } from '../valid-params';

const document = object({ uri: string });
const mount = object({ mountpoint: string });

/**
 * What each custom request's params must be: the fields of protocol/messages.ts's params
 * types that the handlers read. Keyed like `Requests`, so a new request without its
 * shape does not compile.
 */
const PARAMS: { [K in keyof typeof Requests]: Shape } = {
  simulate: document,
  checkFile: document,
  runScenario: document,
  listMounts: object({}),
  inspectMount: mount,
  exportScenario: mount,
  setConnectionLimits: object({ connection: number, maxBackground: optional(number), congestionThreshold: optional(number) }),
  abortConnection: object({ connection: number }),
  openTrace: object({ path: string, progressId: optional(string) }),
  exportTraceScenario: object({ path: string }),
  startCapture: object({ mountpoint: string, connection: number, daemon: boolean }),
  stopCapture: object({ captureId: string }),
  startTracking: mount,
  stopTracking: mount,
  mountModes: mount,
  detachTrace: object({ connection: number }),
};
const SHAPE_BY_METHOD = new Map(Object.entries(PARAMS).map(([name, shape]) => [Requests[name as keyof typeof Requests].method, shape]));

/** Registers a handler for one of protocol/messages.ts's requests, typed by it, behind the check of its params (InvalidParams when wrong). */
export function handle<P, R>(
  connection: Connection,
  spec: RequestSpec<P, R>,
  handler: (params: P, token: CancellationToken) => R | Promise<R>,
): void {
  const shape = SHAPE_BY_METHOD.get(spec.method);
  if (!shape) throw new Error(`${spec.method} is not one of protocol/messages.ts's Requests`);
  onValidRequest(connection, spec.method, shape, handler);
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
