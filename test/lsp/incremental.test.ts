// The incremental parse gives exactly what a full parse gives, whatever the
// edit: random scenarios, random line edits (insert, delete, change, join).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseScenario } from '../../server/scenario/parse';
import { parseLines } from '../../server/lsp/incremental-parse';
import { splitLines } from '../../server/lsp/input-limits';
import { analyze, analyzeAfresh } from '../../server/lsp/analysis';
import { AnalysisCache } from '../../server/lsp/analysis-cache';
import { LinesDocument } from '../../server/lsp/document-lines';
import type { ServerLog } from '../../server/lsp/server-log';
import { DEFAULT_SETTINGS } from '../../protocol/settings';
import { bigScenario } from './big-scenario';

const LINES = [
  'file a', 'file b', 'init passthrough max_stack_depth=1', 'backing b1', 'open a as f1 reply keep_cache', 'open a as f2 reply passthrough backing=b1',
  'close f1', 'mmap f1 shared as m1', 'munmap m1', 'p1: open b as g', 'fork as p1', '# comment', '', 'opne x', 'open a as', 'write f2 begin as w',
  'write w end', 'expect a caching', 'kernel 6.9', 'open a as f3 => EIO', '"unterminated',
];

test('parseLines after any edit equals a full parseScenario', () => {
  const doc = fc.array(fc.constantFrom(...LINES), { maxLength: 40 }).map((l) => l.join('\n'));
  const edit = fc.record({ at: fc.nat(45), remove: fc.nat(3), insert: fc.array(fc.constantFrom(...LINES), { maxLength: 3 }), crlf: fc.boolean() });
  fc.assert(fc.property(doc, fc.array(edit, { minLength: 1, maxLength: 5 }), (text, edits) => {
    let prev = parseLines(splitLines(text));
    let current = text;
    for (const e of edits) {
      const lines = splitLines(current);
      const at = Math.min(e.at, lines.length);
      lines.splice(at, e.remove, ...e.insert);
      current = lines.join(e.crlf ? '\r\n' : '\n');
      prev = parseLines(splitLines(current), prev);
      // Parsed on line ids (server/lsp/line-ids.ts): with their lines, the same.
      assert.deepEqual(prev.ids.scenario(prev.scenario), parseScenario(current));
    }
  }), { numRuns: 300, seed: 3 });
});

test('an analysis from the previous version simulates the same as a fresh one', () => {
  const text = bigScenario(1000);
  const first = analyzeAfresh(text);
  const lines = text.split('\n');
  lines.splice(500, 1, 'close nope', lines[500]!);
  const edited = lines.join('\n');
  const incremental = analyzeAfresh(edited, { previous: first });
  const fresh = analyzeAfresh(edited);
  assert.notEqual(incremental, fresh);
  assert.deepEqual(incremental.result, fresh.result);
  assert.deepEqual(incremental.names.declarations.length, fresh.names.declarations.length);
});

test('the same text and kernel analyzed twice is simulated once', () => {
  const text = bigScenario(200);
  const a = analyze(text, { defaultKernel: '6.12' });
  assert.equal(analyze(text, { defaultKernel: '6.12' }), a);
  assert.notEqual(analyze(text, { defaultKernel: '6.9' }), a, 'another kernel is another simulation');
  assert.notEqual(analyze(`${text}# more\n`, { defaultKernel: '6.12' }), a);
});

test('an edit that leaves every statement as it was (a comment typed, blanks changed) keeps the simulation; any other edit simulates again', () => {
  const text = bigScenario(1000);
  const first = analyzeAfresh(text);
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith('open '));
  const variants: [string, boolean][] = [
    [`${lines[at]}   # typed`, true],
    [`  ${lines[at]!.replace(/ as /, '  as ')}`.replace(/^ {2}/, ''), false], // a blank more inside: the ranges move
    [`${lines[at]} rdonly`, false],
    ['# a step commented out', false],
  ];
  for (const [line, keeps] of variants) {
    const edited = [...lines];
    edited[at] = line;
    const text2 = edited.join('\n');
    const incremental = analyzeAfresh(text2, { previous: first });
    assert.equal(incremental.result === first.result, keeps, line);
    assert.deepEqual(incremental.result, analyzeAfresh(text2).result, line);
  }
  const comment = lines.findIndex((l) => l.includes('#'));
  const edited = [...lines];
  edited[comment] = `${edited[comment]} more words`;
  assert.equal(analyzeAfresh(edited.join('\n'), { previous: first, defaultKernel: '6.9' }).result === first.result, false, 'another kernel simulates again');
});

test('a first analysis publishes before its checkpoints; the cache makes them in slices, or the next version\'s analysis does', async () => {
  const log = { info() {}, warn() {}, error(what: string, err: unknown) { throw new Error(`${what}: ${String(err)}`); } } as unknown as ServerLog;
  const settings = DEFAULT_SETTINGS;
  const cache = new AnalysisCache(log);
  const document = LinesDocument.create('file:///cache.fusesim', 'fusesim', 1, bigScenario(5000));
  const first = cache.of(document, settings);
  assert.equal(first.simulation!.checkpoints.size, 0, 'no state copied before the diagnostics');
  await cache.checkpointsInSlices(document.uri, 1, first);
  assert.ok(first.simulation!.checkpoints.size >= 4, `checkpoints made afterwards: ${first.simulation!.checkpoints.size}`);
  assert.ok(first.simulation!.checkpointsUntil(-Infinity));
  // An edit before they are made: the new version's analysis makes them before it resumes from them.
  const other = LinesDocument.create('file:///other.fusesim', 'fusesim', 1, bigScenario(4000));
  const before = cache.of(other, settings);
  const at = other.lines.slice().findIndex((l, i) => i > 2000 && l.startsWith('expect'));
  other.update([{ range: { start: { line: at, character: 0 }, end: { line: at, character: other.lines.at(at).length } }, text: 'expect data1.db caching' }], 2);
  assert.equal(before.simulation!.checkpoints.size, 0);
  const next = await cache.ofInSlices(other, settings);
  assert.ok(before.simulation!.checkpointsUntil(-Infinity) && before.simulation!.checkpoints.size >= 4, 'made by the newer version\'s analysis');
  assert.ok(next!.simulation!.simulated < 2000, `resumed from them: ${next!.simulation!.simulated} steps simulated`);
  assert.deepEqual(next!.result, analyzeAfresh(other.getText()).result);
});
