// The shape a request's params must have, checked before its handler runs: a
// client that sends `params: null`, a string for a position or an array by
// position is answered InvalidParams (-32602, JSON-RPC 2.0 §5.1) saying which
// field is wrong, never an internal error with a TypeError's text. Handlers
// then read their params as their types say.

import { ErrorCodes, ParameterStructures, RequestType, ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver';

/** The problem with `value` at `at` (a path like `params.position.line`), or null when it fits. */
export type Shape = (value: unknown, at: string) => string | null;

function got(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

export const string: Shape = (v, at) => (typeof v === 'string' ? null : `${at} must be a string, not ${got(v)}`);
export const boolean: Shape = (v, at) => (typeof v === 'boolean' ? null : `${at} must be true or false, not ${got(v)}`);
/** An LSP `uinteger`: line and character numbers, counts. */
export const uinteger: Shape = (v, at) =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2 ** 31 - 1 ? null : `${at} must be an integer from 0 to 2^31-1, not ${got(v)}`);
/** A number the handler checks itself (a connection number, a limit). */
export const number: Shape = (v, at) => (typeof v === 'number' && Number.isFinite(v) ? null : `${at} must be a number, not ${got(v)}`);
/** Anything: a field the handler does not read, or reads defensively. */
export const any: Shape = () => null;

export const optional = (shape: Shape): Shape => (v, at) => (v === undefined ? null : shape(v, at));

export const arrayOf = (shape: Shape): Shape => (v, at) => {
  if (!Array.isArray(v)) return `${at} must be an array, not ${got(v)}`;
  for (let i = 0; i < v.length; i++) {
    const problem = shape(v[i], `${at}[${i}]`);
    if (problem) return problem;
  }
  return null;
};

/** An object with these fields (others are allowed: clients add their own). */
export const object = (fields: Record<string, Shape>): Shape => (v, at) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return `${at} must be an object, not ${got(v)}`;
  for (const [name, shape] of Object.entries(fields)) {
    const problem = shape((v as Record<string, unknown>)[name], `${at}.${name}`);
    if (problem) return problem;
  }
  return null;
};

// The LSP structures the features read (LSP 3.17 "Basic JSON Structures").
export const textDocument = object({ uri: string });
export const position = object({ line: uinteger, character: uinteger });
export const range = object({ start: position, end: position });
export const textDocumentPosition = { textDocument, position };

/** Throws InvalidParams when `params` does not fit `shape`; the message says which field and why. */
export function requireParams(method: string, shape: Shape, params: unknown): void {
  const problem = shape(params, 'params');
  if (problem) throw new ResponseError(ErrorCodes.InvalidParams, `${method}: ${problem}`);
}

/**
 * Registers `handler` for `method` behind the check of its params. Params by name only
 * (LSP and our custom requests are all by name): JSON-RPC itself answers InvalidParams
 * to params by position or none at all.
 */
export function onValidRequest<P, R>(
  connection: Connection,
  method: string,
  shape: Shape,
  handler: (params: P, token: CancellationToken) => R | Promise<R>,
): void {
  const type = new RequestType<unknown, unknown, unknown>(method, ParameterStructures.byName);
  connection.onRequest(type, (params: unknown, token: CancellationToken) => {
    requireParams(method, shape, params);
    return handler(params as P, token) as unknown;
  });
}
