// Tree labels, descriptions and plain-text tooltips: every string from outside
// (a mountpoint, a path, a comm name, a message quoting them) goes through
// treeText. A label is one line of plain text: a newline would break the row, and
// control or bidi characters would hide or reorder what it says. Markdown
// tooltips use md() (mountReport.ts), which adds Markdown's escaping on top.

import { inertText } from '../protocol/inert-text';

/** `s` with each control character written as its escape (`\n`, `\x1b`, `\u{202e}`, `\xff`). */
export const treeText = inertText;
