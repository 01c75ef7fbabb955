// The editor features of the statements added for issue 12 (create, fcntl,
// send, msync, munmap part, the open and backing options), in process: what
// completion offers after each word, and which words declare and use names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../server/lsp/analysis';
import { complete } from '../../server/lsp/completion';
import { hover } from '../../server/lsp/hover';
import { buildNameIndex, occurrenceAt } from '../../server/lsp/names';
import { parseScenario } from '../../server/scenario/parse';

const SCENARIO = 'file a\nprocess p2\nopen a as f1\nmmap f1 shared as m1\n';

/** Completion labels at the end of `line`, typed after SCENARIO. */
function labelsAfter(line: string): string[] {
  const a = analyze(SCENARIO + line);
  return complete(a, line, { line: 4, character: line.length }).map((i) => i.label);
}

test('completion walks each new statement word by word', () => {
  assert.ok(labelsAfter('').includes('create') && labelsAfter('').includes('msync'), 'statement keywords come from the table');
  assert.deepEqual(labelsAfter('fcntl '), ['f1']);
  assert.deepEqual(labelsAfter('fcntl f1 '), ['setfl']);
  assert.deepEqual(labelsAfter('fcntl f1 setfl o_direct '), ['o_append', '=>']);
  assert.deepEqual(labelsAfter('send f1 '), ['to']);
  assert.ok(labelsAfter('send f1 to ').includes('p2'));
  assert.deepEqual(labelsAfter('munmap m1 '), ['part']);
  assert.deepEqual(labelsAfter('msync '), ['m1']);
  assert.deepEqual(labelsAfter('create '), ['new1']);
  const createOptions = labelsAfter('create n as f2 ');
  const openOptions = labelsAfter('open a as f2 ');
  for (const w of ['o_direct', 'o_trunc', 'o_append']) assert.ok(createOptions.includes(w) && openOptions.includes(w), w);
  assert.ok(createOptions.includes('o_excl') && !openOptions.includes('o_excl'), 'o_excl only after create');
  assert.ok(!labelsAfter('open a as f2 o_trunc ').includes('o_trunc'), 'an option is offered once');
});

test('a create of an undeclared name declares the file; fcntl, send and msync refer to their names', () => {
  const text = 'file a\nprocess p2\ncreate n as f\nopen n as g\nfcntl f setfl\nsend f to p2 as h\nmmap g shared as m\nmsync m\ncreate a as k';
  const index = buildNameIndex(parseScenario(text));
  const at = (line: number, word: string) => occurrenceAt(index, line, text.split('\n')[line]!.search(new RegExp(`\\b${word}\\b`)))!;
  assert.equal(at(2, 'n').occurrence.declaration, true);
  assert.equal(at(3, 'n').declaration?.range.start.line, 2);
  assert.equal(at(8, 'a').occurrence.declaration, false, 'a create of a declared file only refers to it');
  assert.equal(at(8, 'a').declaration?.range.start.line, 0);
  assert.equal(at(4, 'f').declaration?.range.start.line, 2);
  assert.equal(at(5, 'p2').declaration?.range.start.line, 1);
  assert.equal(at(5, 'h').occurrence.declaration, true);
  assert.equal(at(7, 'm').declaration?.range.start.line, 6);
});

test('hover on a new step shows its action and outcome', () => {
  const text = 'file a\nopen a as f\ncreate a as g o_excl\nfcntl f setfl o_append';
  const a = analyze(text);
  const on = (line: number) => {
    const h = hover(a, { line, character: 1 });
    return h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
  };
  assert.match(on(2), /\*\*create\*\* `g` → \*\*EEXIST\*\*/);
  assert.match(on(2), /create-exclusive-name-exists/);
  assert.match(on(3), /\*\*fcntl\*\* `f` → \*\*ok\*\*/);
});

test('completion of held OPEN, READ and RELEASE: begin after a handle, end after a held name', () => {
  assert.ok(labelsAfter('open a as f2 ').includes('begin'));
  assert.ok(!labelsAfter('create n as f2 ').includes('begin'), 'a CREATE is not held');
  assert.deepEqual(labelsAfter('open a as f2 reply direct_io begin '), ['as']);
  assert.deepEqual(labelsAfter('open a as f2 begin as '), ['o1']);
  assert.deepEqual(labelsAfter('read f1 '), ['begin', '=>']);
  assert.deepEqual(labelsAfter('read f1 begin as '), ['r1']);
  assert.deepEqual(labelsAfter('release '), ['f1']);
  assert.deepEqual(labelsAfter('release f1 '), ['begin']);
  const a = analyze(`${SCENARIO}open a as f2 begin as O\nread f1 begin as R\nrelease f1 begin as L\nopen `);
  assert.ok(complete(a, 'open ', { line: 7, character: 5 }).some((i) => i.label === 'O'));
  assert.deepEqual(complete(a, 'open O ', { line: 7, character: 7 }).map((i) => i.label), ['end']);
  assert.deepEqual(complete(a, 'read R ', { line: 7, character: 7 }).map((i) => i.label), ['end']);
  assert.deepEqual(complete(a, 'release L ', { line: 7, character: 10 }).map((i) => i.label), ['end']);
});

test('hover on a held OPEN shows where it is answered', () => {
  const text = 'init passthrough\nfile a\nprocess p\nbacking k\np: open a as pt reply passthrough backing=k begin as O1 => blocks\nopen a as c\nopen O1 end\n';
  const a = analyze(text);
  const md = (line: number, character: number) => {
    const h = hover(a, { line, character });
    return h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
  };
  assert.match(md(4, 3), /blocks/);
  assert.match(md(6, 0), /open/);
  const idx = buildNameIndex(parseScenario(text));
  const use = occurrenceAt(idx, 6, 6);
  assert.deepEqual([use?.occurrence.kind, use?.declaration?.range.start.line], ['open', 4], 'O1 at `open O1 end` is the held OPEN of line 5');
});

test('completion of a held FLUSH: begin after a handle, end after a held FLUSH', () => {
  assert.deepEqual(labelsAfter('close f1 '), ['begin', '=>']);
  assert.deepEqual(labelsAfter('close f1 begin '), ['as']);
  assert.deepEqual(labelsAfter('close f1 begin as '), ['x1']);
  const a = analyze(`${SCENARIO}close f1 begin as x1\nclose `);
  assert.deepEqual(complete(a, 'close ', { line: 5, character: 6 }).map((i) => i.label).sort(), ['f1', 'x1']);
  assert.deepEqual(complete(a, 'close x1 ', { line: 5, character: 9 }).map((i) => i.label), ['end']);
});
