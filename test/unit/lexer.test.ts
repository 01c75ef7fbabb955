// One lexer for the parser and the editor: a word is the same word for
// parsing, completion and colouring (`=>` glued to its neighbours, escaped
// quotes in strings, form feed and vertical tab as blanks).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeAfresh } from '../../server/lsp/analysis';
import { complete } from '../../server/lsp/completion';
import { SEMANTIC_TOKENS_LEGEND, semanticTokens } from '../../server/lsp/semantic-tokens';
import { lexLine } from '../../server/scenario/lexer';
import { parseScenario } from '../../server/scenario/parse';

/** [text, token type] of every semantic token of a document. */
function colours(text: string): [string, string][] {
  const lines = text.split('\n');
  const data = semanticTokens(analyzeAfresh(text)).data;
  const out: [string, string][] = [];
  let line = 0;
  let col = 0;
  for (let i = 0; i < data.length; i += 5) {
    line += data[i]!;
    col = data[i] === 0 ? col + data[i + 1]! : data[i + 1]!;
    out.push([lines[line]!.slice(col, col + data[i + 2]!), SEMANTIC_TOKENS_LEGEND.tokenTypes[data[i + 3]!]!]);
  }
  return out;
}

test('lexLine keeps the comment only when asked', () => {
  assert.deepEqual(lexLine('exit # bye').lexemes.map((l) => l.kind), ['word']);
  assert.deepEqual(lexLine('exit # bye', { keepComments: true }).lexemes.map((l) => [l.kind, l.text]), [['word', 'exit'], ['comment', '# bye']]);
});

test('a glued => is an arrow for the parser, completion and colouring alike', () => {
  const text = 'file a\nopen a as f1=>EIO';
  const s = parseScenario(text).statements[1]!;
  assert.equal(s.outcome?.value, 'EIO');
  const items = complete(analyzeAfresh(text), 'open a as f1=>', { line: 1, character: 14 }).map((i) => i.label);
  assert.ok(items.includes('EIO') && items.includes('ok'), `outcomes after a glued =>: ${items.join(' ')}`);
  const edit = complete(analyzeAfresh(text), 'open a as f1=>', { line: 1, character: 14 })[0]!.textEdit!;
  assert.ok('range' in edit && edit.range.start.character === 14, 'the outcome goes after the =>, not over it');
  const line2 = colours(text).slice(-3);
  assert.deepEqual(line2, [['f1', 'variable'], ['=>', 'operator'], ['EIO', 'enumMember']]);
});

test('form feed and vertical tab separate words; an escaped quote stays inside the string', () => {
  assert.deepEqual(colours('file\fa'), [['file', 'keyword'], ['a', 'class']]);
  assert.deepEqual(lexLine('file\fa\vb').lexemes.map((l) => l.text), ['file', 'a', 'b']);
  const string = 'scenario "say \\"hi\\""';
  assert.equal(parseScenario(string).statements[0]?.kind, 'scenario');
  assert.deepEqual(colours(string), [['scenario', 'keyword'], ['"say \\"hi\\""', 'string']]);
});

test('completion inside an unterminated string offers nothing', () => {
  assert.deepEqual(complete(analyzeAfresh('backing b "/srv'), 'backing b "/srv', { line: 0, character: 15 }), []);
});
