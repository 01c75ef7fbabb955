// A simulation resumed from the previous version's checkpoints gives exactly what
// a simulation from scratch gives: for every scenario of test/scenarios and for
// generated ones, after random edits (lines inserted, deleted, changed), the same
// diagnostics, hovers and timeline (server/scenario/resume.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { allDiagnostics, analyzeAfresh, type Analysis } from '../../server/lsp/analysis';
import { lspDiagnostics } from '../../server/lsp/diagnostics';
import { hover } from '../../server/lsp/hover';
import { RuleDocs } from '../../server/lsp/rule-docs';
import { parseLines } from '../../server/lsp/incremental-parse';
import { splitLines } from '../../server/lsp/input-limits';
import { simulateResumable, type ResumableSimulation } from '../../server/scenario/resume';
import { parseScenario } from '../../server/scenario/parse';
import { simulate } from '../../server/scenario/simulate';
import { bigScenario, stepScenario } from './big-scenario';

const dir = join(__dirname, '..', 'scenarios');
const files = readdirSync(dir).filter((f) => f.endsWith('.fusesim')).sort();
const scenarios = [
  ...files.map((f) => ({ name: f, text: readFileSync(join(dir, f), 'utf8') })),
  { name: 'bigScenario(400)', text: bigScenario(400) },
  { name: 'stepScenario(400)', text: stepScenario(400) },
];
/** Lines an edit puts in: every line of every scenario, so edits stay within the language's statements. */
const vocabulary = [...new Set(scenarios.flatMap((s) => splitLines(s.text)))];

/** Where in the text an edit goes, as a fraction of its length (fc.double would put most at the very start). */
const at = fc.integer({ min: 0, max: 999_999 }).map((n) => n / 1_000_000);
const edit = fc.oneof(
  fc.record({ at, remove: fc.nat(2), insert: fc.array(fc.constantFrom(...vocabulary), { maxLength: 2 }) }),
  // A step commented out: often one whose effect does not last, where the resumed run meets the old one.
  at.map((a) => ({ at: a, remove: 1, insert: ['# edited'] })),
  // Enter pressed: a blank line that moves every line below it.
  at.map((a) => ({ at: a, remove: 0, insert: [''] })),
);

function applyEdit(lines: string[], e: { at: number; remove: number; insert: string[] }): string[] {
  const out = [...lines];
  out.splice(Math.floor(e.at * out.length), e.remove, ...e.insert);
  return out;
}

test('resumed after random edits, every scenario simulates as it does from scratch (a copy of the state before every step)', () => {
  let resumed = 0;
  let joined = 0;
  /** Joins after lines were inserted or deleted: the old run met modulo the lines moved. */
  let joinedAfterShift = 0;
  for (const { name, text } of scenarios) {
    // `slices`: the first run leaves its checkpoints for later (as the language server's first
    // analysis does) and this many slices of them are made before the first edit resumes from them.
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), fc.option(fc.nat(2)), (edits, slices) => {
      let lines = splitLines(text);
      let parsed = parseLines(lines);
      let run: ResumableSimulation = simulateResumable(parsed.scenario, {}, undefined, 1, slices !== null);
      // A deadline passed: each slice runs to the next 256th step.
      for (let i = 0; i < (slices ?? 0); i++) run.checkpointsUntil(-Infinity);
      // The parse and the simulation are made on line ids: with their lines, as from scratch.
      assert.deepEqual(parsed.ids.result(run.result), simulate(parseScenario(text)), name);
      for (const e of edits) {
        const start = Math.floor(e.at * lines.length);
        lines = applyEdit(lines, e);
        parsed = parseLines(lines, parsed);
        const kept = { steps: run.stepResults.slice(), found: run.found.slice() };
        const next = simulateResumable(parsed.scenario, {}, run, 1);
        // The first diagnostics as published (picked before the result is made) are the sorted result's first;
        // the first pick (as many as the last version's last) may be that one's, kept (first-diagnostics.ts).
        const firsts = [7, 1, 40, 1001, 7].map((k) => next.firstDiagnostics(k));
        assert.deepEqual(parsed.ids.result(next.result), simulate(parseScenario(lines.join('\n'))), `${name} after ${JSON.stringify(e)}`);
        for (const first of firsts) assert.deepEqual(first, next.result.diagnostics.slice(0, first.length));
        assert.equal(next.diagnosticCount, next.result.diagnostics.length);
        // The version resumed from shares chunks with this one: its lists are as they were.
        assert.deepEqual({ steps: run.stepResults.slice(), found: run.found.slice() }, kept);
        const shared = next.result.steps.filter((s) => run.result.steps.includes(s)).length;
        if (shared > 0) resumed++;
        const last = next.result.steps.at(-1);
        if (last && run.result.steps.includes(last)) joined++;
        const fromId = start < lines.length ? parsed.ids.ids.at(start) : Infinity;
        if (e.insert.length !== e.remove && next.simulated < next.steps.slice().filter((s) => s.line >= fromId).length) joinedAfterShift++;
        run = next;
      }
    }), { numRuns: name.startsWith('big') || name.startsWith('step') ? 30 : 8, seed: 14 });
  }
  // The property holds trivially if nothing is ever reused: it must be.
  assert.ok(resumed > 100, `steps reused after ${resumed} edits`);
  assert.ok(joined > 20, `runs that met the old state before the end: ${joined}`);
  assert.ok(joinedAfterShift > 20, `runs that met the old state, its lines moved, after lines inserted or deleted: ${joinedAfterShift}`);
});

/** Everything the editor shows of an analysis: diagnostics, the timeline, a hover on every word of every third line. */
function shown(a: Analysis) {
  const hovers: unknown[] = [];
  a.lines.forEach((line, i) => {
    if (i % 3 === 0) for (const m of line.matchAll(/\S+/g)) hovers.push(hover(a, { line: i, character: m.index })?.contents);
  });
  return { diagnostics: allDiagnostics(a), timeline: a.result, hovers };
}

const docs = new RuleDocs();
const uri = 'file:///edited.fusesim';

/**
 * The diagnostics published for an analysis. Asked for before anything else: the first 1,001
 * are then made with lines from the ones kept from version to version (analysis.ts, diagnostics.ts).
 */
function published(a: Analysis) {
  return JSON.stringify(lspDiagnostics(a, docs, uri));
}

test('the language server\'s analysis of an edited version, resumed from the previous one, shows what a fresh one shows', () => {
  const text = bigScenario(2600);
  fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
    let lines = splitLines(text);
    let analysis = analyzeAfresh(lines.join('\n'));
    for (const e of edits) {
      lines = applyEdit(lines, e);
      const edited = lines.join('\n');
      analysis = analyzeAfresh(edited, { previous: analysis });
      const fresh = analyzeAfresh(edited);
      assert.equal(published(analysis), published(fresh), `published after ${JSON.stringify(e)}`);
      assert.deepEqual(shown(analysis), shown(fresh), JSON.stringify(e));
    }
  }), { numRuns: 8, seed: 14 });
});

test('lines inserted again and again at one place, and at the top, until their line ids run out, analyze as from scratch', () => {
  let lines = splitLines(bigScenario(300));
  let analysis = analyzeAfresh(lines.join('\n'));
  const middle = lines.findIndex((l) => l.startsWith('expect'));
  const inserts = ['', 'open data1.db as late rdonly', '# note', 'close late'];
  for (let i = 0; i < 40; i++) {
    // Each below the last one inserted: every id between two old lines is taken in turn.
    lines = [...lines.slice(0, middle + 1 + i), inserts[i % inserts.length]!, ...lines.slice(middle + 1 + i)];
    if (i % 4 === 0) lines = [`# top ${i}`, ...lines];
    const edited = lines.join('\n');
    analysis = analyzeAfresh(edited, { previous: analysis });
    assert.equal(published(analysis), published(analyzeAfresh(edited)), `published after insert ${i}`);
    const ids = analysis.parsed!.ids.ids.slice();
    for (let k = 1; k < ids.length; k++) assert.ok(ids[k - 1]! < ids[k]!, `line ids increase (line ${k}, insert ${i})`);
    assert.deepEqual(shown(analysis), shown(analyzeAfresh(edited)), `insert ${i}`);
  }
});

test('a comment typed on an open that a diagnostic shows as held (the simulation kept) moves the end of its related location', () => {
  const lines = splitLines(bigScenario(300));
  const before = analyzeAfresh(lines.join('\n'));
  const held = lspDiagnostics(before, docs, uri).find((d) => d.relatedInformation?.length)!;
  const at = held.relatedInformation![0]!.location.range.start.line;
  lines[at] = `${lines[at]}   # held here`;
  const edited = lines.join('\n');
  const after = analyzeAfresh(edited, { previous: before });
  assert.equal(after.simulation, before.simulation, 'the same statements: the simulation kept');
  assert.equal(published(after), published(analyzeAfresh(edited)));
  assert.notEqual(published(after), published(before));
});
