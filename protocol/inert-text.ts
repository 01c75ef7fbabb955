// One line of inert text, for every medium that shows a string from outside — a
// path, a comm name, a mountpoint, scenario text, a trace field. Whoever can name a
// file, a mountpoint or a process chooses those characters: a terminal obeys
// ESC ] 0 ; … BEL (retitle) and ESC [ 2 J (clear), a newline forges a line of
// output or breaks a tree row, bidi controls reorder what is shown
// (CVE-2021-42574). Each medium adds its own syntax escaping on top of this
// (server/cli/terminal-text.ts, extension/inertText.ts, extension/mountReport.ts).

import { nameByteOf } from './byte-names';

/**
 * C0 and DEL; C1 (U+0080–U+009F: U+009B is CSI to a terminal that takes 8-bit
 * controls); the bidirectional marks, overrides and isolates; line/paragraph
 * separators; lone surrogates (not text: a byte of a name that was not UTF-8,
 * protocol/byte-names.ts, or garbage).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Printable ASCII only: nothing UNSAFE matches. Tested first, by a loop (a million-step
 * table escapes millions of names, mostly a few characters long: a regular expression's
 * call cost more than the loop).
 */
function printableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escape(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const byte = nameByteOf(c);
  if (byte !== undefined) return `\\x${byte.toString(16)}`;
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
}

/**
 * `s` as one line of inert text: each control character written as its escape
 * (`\n`, `\t`, `\x1b`, `\x9b`, `\u{202e}`), a byte of a name that was not UTF-8 as
 * the byte it was (`\xff`), everything else as is.
 */
export function inertText(s: string): string {
  return printableAscii(s) ? s : s.replace(UNSAFE, escape);
}
