// The lines the server keeps from the editor's incremental changes are the lines of the
// text the changes make (server/lsp/document-lines.ts), whatever the changes and line ends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { DocumentLines } from '../../server/lsp/document-lines';
import { splitLines } from '../../server/lsp/input-limits';

const piece = fc.constantFrom('open a as f', 'x', '', '\n', '\r\n', '\r', 'é', '# c\n', 'close f\r\n');
const text = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
/** A change as fractions of the document: where it starts and ends (a line, a column a little past the line's end at times). */
const change = fc.record({
  startLine: fc.double({ min: 0, max: 1, noNaN: true }), startChar: fc.nat(12),
  lines: fc.nat(2), endChar: fc.nat(12), text, whole: fc.nat(19).map((n) => n === 0),
});

test('the lines kept from incremental changes are the split of the changed text', () => {
  fc.assert(fc.property(text, fc.array(fc.array(change, { minLength: 1, maxLength: 3 }), { maxLength: 6 }), (initial, batches) => {
    const kept = new DocumentLines();
    let document = kept.create('file:///t.fusesim', 'fusesim', 1, initial);
    assert.deepEqual(kept.of(document), splitLines(initial));
    let version = 1;
    for (const batch of batches) {
      const changes: TextDocumentContentChangeEvent[] = [];
      // Each change of a batch is on the text as the ones before it left it.
      let current = splitLines(document.getText());
      for (const c of batch) {
        const start = { line: Math.floor(c.startLine * current.length), character: c.startChar };
        const endLine = Math.min(start.line + c.lines, current.length - 1);
        const end = endLine === start.line && c.endChar < start.character ? start : { line: endLine, character: c.endChar };
        const made: TextDocumentContentChangeEvent = c.whole ? { text: c.text } : { range: { start, end }, text: c.text };
        changes.push(made);
        current = splitLines(textAfter(document.getText(), changes));
      }
      document = kept.update(document, changes, ++version);
      assert.deepEqual(kept.of(document), splitLines(document.getText()), JSON.stringify(changes));
    }
  }), { numRuns: 500, seed: 7 });
});

/** The text a batch of changes makes of `text`, as TextDocument makes it. */
function textAfter(text: string, changes: TextDocumentContentChangeEvent[]): string {
  const kept = new DocumentLines();
  return kept.update(kept.create('file:///probe', 'fusesim', 0, text), changes, 1).getText();
}
