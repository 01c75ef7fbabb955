// One line of plain text: tree labels, descriptions, plain-text tooltips and the
// webviews' cells and headings (their text nodes). Every string from outside
// (a mountpoint, a path, a comm name, a message quoting them) goes through
// treeText. A newline would break the row (or vanish into a space in HTML), and
// control or bidi characters would hide or reorder what it says. Markdown
// tooltips use md() (extension/mountReport.ts) instead; the CLI's terminal has its own
// (server/cli/terminal-text.ts).

/** C0, DEL, C1, the bidi overrides and isolates, line/paragraph separators. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with each control character written as its escape (`\n`, `\x1b`, `\u{202e}`). */
export function treeText(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const n = c.charCodeAt(0);
    return NAMED[c] ?? (n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`);
  });
}
