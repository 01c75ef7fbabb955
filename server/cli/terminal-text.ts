// The terminal's escaping: every string from outside (a path, a comm name,
// scenario text, a trace field, a mount option) passes through termText before
// the CLI prints it as text. Whoever can name a file, a mountpoint or a process
// chooses those bytes, and a terminal obeys what it is sent: ESC ] 0 ; … BEL
// retitles it, ESC [ 2 J clears it, a newline forges a line of our output.
// `--json` output goes through jsonText instead: JSON escapes C0 itself.

import { inertText } from '../../protocol/inert-text';

/** `s` as one line of inert terminal text (protocol/inert-text.ts). */
export const termText = inertText;

/**
 * A copy of `data` (JSON-shaped: the protocol's results) with every string, keys
 * included, through termText: for renderers that build text from a whole result
 * (server/inspect/report.ts, the trace summary), so no field can be forgotten.
 */
export function termSafe<T>(data: T): T {
  if (typeof data === 'string') return termText(data) as T;
  if (Array.isArray(data)) return data.map(termSafe) as T;
  if (data !== null && typeof data === 'object')
    return Object.fromEntries(Object.entries(data).map(([k, v]) => [termText(k), termSafe(v)])) as T;
  return data;
}

/**
 * `--json` output: JSON.stringify escapes C0 and lone surrogates but leaves C1 and
 * the bidi controls raw; those are written as \uXXXX too, so the document parses
 * back to the exact strings and prints inertly.
 */
export function jsonText(value: unknown, indent = 2): string {
  return jsonInert(JSON.stringify(value, null, indent)) + '\n';
}

/**
 * JSON.stringify's output with C1 and the bidi controls written as \uXXXX: they can
 * only stand inside its strings, so a stream of JSON text may be escaped a chunk at a
 * time (`simulate --json` escapes 64 KiB at once, not each of a million steps).
 */
export function jsonInert(json: string): string {
  return json.replace(/[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
