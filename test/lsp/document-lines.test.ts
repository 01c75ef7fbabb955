// The server's documents, kept as lines from the editor's incremental changes
// (server/lsp/document-lines.ts), are the documents vscode-languageserver-textdocument
// makes of the same changes: the same text, lines, positions and line parts, whatever
// the changes and line ends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { LinesDocument } from '../../server/lsp/document-lines';
import { splitLines, type ScenarioText } from '../../server/lsp/input-limits';
import { bigScenario } from './big-scenario';

const piece = fc.constantFrom('open a as f', 'x', '', '\n', '\r\n', '\r', 'é', '# c\n', 'close f\r\n');
const text = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
/** A change: where it starts (a fraction of the lines; a column at times past the line's end), how many lines it spans. */
const change = fc.record({
  startLine: fc.double({ min: 0, max: 1, noNaN: true }), startChar: fc.nat(12),
  lines: fc.nat(2), endChar: fc.nat(12), text, whole: fc.nat(19).map((n) => n === 0),
});

function same(mine: LinesDocument, theirs: TextDocument, what: string): void {
  const text = theirs.getText();
  assert.equal(mine.getText(), text, what);
  assert.deepEqual(mine.lines.slice(), splitLines(text), what);
  assert.equal(mine.lineCount, theirs.lineCount, what);
  const snapshot = mine.snapshot();
  assert.equal(snapshot.length, text.length, what);
  assert.equal(snapshot.head(7), text.slice(0, 7), what);
  for (let line = 0; line <= theirs.lineCount; line++) {
    for (const [from, to] of [[0, 200], [2, 5], [4, 1]] as const) {
      const range = { start: { line, character: from }, end: { line, character: to } };
      assert.equal(mine.getText(range), theirs.getText(range), `${what}: line ${line} ${from}-${to}`);
    }
  }
}

test('a document kept as lines is the one TextDocument makes of the same changes', () => {
  fc.assert(fc.property(text, fc.array(fc.array(change, { minLength: 1, maxLength: 3 }), { maxLength: 6 }), (initial, batches) => {
    const mine = LinesDocument.create('file:///t.fusesim', 'fusesim', 1, initial);
    const theirs = TextDocument.create('file:///t.fusesim', 'fusesim', 1, initial);
    same(mine, theirs, 'opened');
    for (const [k, batch] of batches.entries()) {
      const changes: TextDocumentContentChangeEvent[] = [];
      // Each change of a batch is on the text the ones before it left: placed on a probe.
      const probe = TextDocument.create('file:///probe', 'fusesim', 0, theirs.getText());
      for (const c of batch) {
        const start = { line: Math.floor(c.startLine * probe.lineCount), character: c.startChar };
        const endLine = Math.min(start.line + c.lines, probe.lineCount - 1);
        const end = endLine === start.line && c.endChar < start.character ? start : { line: endLine, character: c.endChar };
        const made: TextDocumentContentChangeEvent = c.whole ? { text: c.text } : { range: { start, end }, text: c.text };
        changes.push(made);
        TextDocument.update(probe, [made], probe.version + 1);
      }
      mine.update(changes, k + 2);
      TextDocument.update(theirs, changes, k + 2);
      same(mine, theirs, JSON.stringify(changes));
      assert.equal(mine.version, theirs.version);
    }
  }), { numRuns: 500, seed: 7 });
});

test('each version of a long document keeps its lines while later versions share and change their chunks', () => {
  const initial = bigScenario(3000);
  fc.assert(fc.property(fc.array(change, { minLength: 1, maxLength: 12 }), (changes) => {
    const mine = LinesDocument.create('file:///long.fusesim', 'fusesim', 1, initial);
    const theirs = TextDocument.create('file:///long.fusesim', 'fusesim', 1, initial);
    const versions: { snapshot: ScenarioText; text: string }[] = [{ snapshot: mine.snapshot(), text: initial }];
    for (const [k, c] of changes.entries()) {
      const start = { line: Math.floor(c.startLine * theirs.lineCount), character: c.startChar };
      const end = { line: Math.min(start.line + c.lines, theirs.lineCount - 1), character: c.endChar };
      const made: TextDocumentContentChangeEvent = { range: end.line > start.line || c.endChar >= c.startChar ? { start, end } : { start, end: start }, text: c.text };
      mine.update([made], k + 2);
      TextDocument.update(theirs, [made], k + 2);
      versions.push({ snapshot: mine.snapshot(), text: theirs.getText() });
    }
    // Every version as it was made, after all the later ones: no change showed through a shared chunk.
    for (const [k, v] of versions.entries()) {
      assert.deepEqual(v.snapshot.lines.slice(), splitLines(v.text), `version ${k + 1}`);
      assert.equal(v.snapshot.text(), v.text, `version ${k + 1}`);
    }
  }), { numRuns: 150, seed: 8 });
});
