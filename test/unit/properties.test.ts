// Property tests: random and mutated scenario text never throws, every
// diagnostic range lies inside the document, and simulation is deterministic.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { simulateScenario, simulateSource } from '../../server/scenario/simulate';
import { splitLines, streamScenario } from '../../server/scenario/parse';
import type { Range } from '../../server/scenario/ast';
import type { StepResult } from '../../server/scenario/result';

const root = join(__dirname, '..', '..');
const corpus = [join(root, 'examples'), join(root, 'test', 'scenarios')].flatMap((dir) =>
  readdirSync(dir).filter((f) => f.endsWith('.fusesim')).map((f) => readFileSync(join(dir, f), 'utf8')));

const words = [
  'open', 'close', 'dup', 'mmap', 'munmap', 'fork', 'exit', 'read', 'write', 'begin', 'end', 'as', 'reply', 'backing',
  'backing=b', 'backing=0', 'init', 'kernel', '6.9', '6.18', 'passthrough', 'direct_io', 'parallel_direct_writes',
  'shared', 'private', 'expect', 'caching', 'file', 'a', 'f', 'g', 'm', 'p2', 'p2:', '=>', 'EIO', 'ok', 'blocks',
  '"', '#', 'iocachectr=1', 'max_stack_depth=1', 'no_open', 'direct_io_allow_mmap', 'process', 'scenario', '\t', '\r',
  'o_direct', 'o_trunc', 'o_append', 'fcntl', 'setfl', 'create', 'o_excl', 'EEXIST', 'new', 'error=ENOSYS', 'error=EIO', 'send', 'to', 'msync', 'part', 'dir', 'o_path', 'flags=1', 'stacked', 'max_stack_depth=2', 'X', 'noflush', 'release', 'O', 'R', 'thread', 'of', 't', 't:', 'signal', 'SIGUSR1', 'SIGKILL', 'error=EINTR', 'error=ENOSYS',
];
const line = fc.array(fc.constantFrom(...words), { maxLength: 8 }).map((ws) => ws.join(' '));
const structured = fc.array(line, { maxLength: 40 }).map((ls) => ls.join('\n'));

function inside(range: Range, lines: string[]): boolean {
  const ok = (p: Range['start']) => p.line >= 0 && p.line < lines.length && p.character >= 0 && p.character <= lines[p.line]!.length;
  const ordered = range.start.line < range.end.line || (range.start.line === range.end.line && range.start.character <= range.end.character);
  return ok(range.start) && ok(range.end) && ordered;
}

function check(text: string): void {
  const first = simulateScenario(text);
  const lines = splitLines(text);
  for (const d of first.diagnostics) assert.ok(inside(d.range, lines), `range ${JSON.stringify(d.range)} outside the text`);
  assert.deepEqual(simulateScenario(text), first, 'simulating twice gives the same result');
  const steps: StepResult[] = [];
  const streamed = simulateSource(streamScenario(text), {}, { step: (s) => steps.push(s) });
  assert.deepEqual({ ...streamed, steps }, first, 'read as it goes (the CLI), the same result');
  for (const max of [0, 1, 3]) {
    const bounded = simulateScenario(text, { maxDiagnostics: max });
    assert.deepEqual(bounded.diagnostics, first.diagnostics.slice(0, max), `the first ${max} diagnostics by position`);
    assert.deepEqual(bounded.diagnosticCounts, first.diagnosticCounts, 'every diagnostic counted');
  }
}

test('declaration lines are told apart by their first word, as the lexer splits it', () => {
  const text = ['file=>ok', 'file#c', '\t backing close b', 'backing"x"', 'files a', 'p: file a', ' init passthrough', 'kernel\f6.18', 'open a as h', 'backing b'].join('\n');
  check(text);
  const declared = streamScenario(text).declarations.map((s) => `${s.line + 1}:${s.kind}`);
  assert.deepEqual(declared, ['3:backing-close', '7:init', '8:kernel', '10:backing']);
});

test('random text never throws, keeps ranges inside, and is deterministic', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), check), { numRuns: 300 });
});

test('random statements built from the language never throw', () => {
  fc.assert(fc.property(structured, check), { numRuns: 500 });
});

test('random steps of threads, held requests and signals never throw', () => {
  // Well-formed lines, so that the threads, held requests and signals meet in every order.
  const head = 'init passthrough direct_io_allow_mmap\nfile a\nprocess p\nthread t of p\nthread u of c\nbacking b\n';
  const actor = fc.constantFrom('', 'p: ', 't: ', 'u: ', 'c: ');
  const step = fc.constantFrom(
    'open a as f', 'open a as f reply direct_io parallel_direct_writes', 'open a as f reply passthrough backing=b', 'close f',
    'write f', 'write f begin as W', 'write W end', 'write W end error=EINTR', 'close f begin as X', 'close X end',
    'close X end error=ENOSYS', 'mmap f shared as m', 'munmap m', 'msync m', 'fork as c', 'exit', 'read f', 'dup f as g',
    'send f to t', 'signal p SIGUSR1', 'signal t SIGKILL', 'signal W SIGUSR1', 'signal W SIGKILL', 'signal c SIGKILL', 'abort',
  );
  const serverStep = /^(write W end|close X end|signal|abort)/;
  const lines = fc.array(fc.tuple(actor, step).map(([a, s]) => (serverStep.test(s) ? s : a + s)), { maxLength: 30 });
  fc.assert(fc.property(lines, (ls) => check(head + ls.join('\n'))), { numRuns: 500 });
});

test('mutated example scenarios never throw', () => {
  const mutation = fc.record({
    scenario: fc.constantFrom(...corpus),
    at: fc.nat(),
    cut: fc.nat({ max: 20 }),
    insert: fc.oneof(fc.constantFrom(...words).map((w) => ` ${w} `), fc.string({ maxLength: 6 }), fc.constant('\n')),
  }).map(({ scenario, at, cut, insert }) => {
    const i = at % (scenario.length + 1);
    return scenario.slice(0, i) + insert + scenario.slice(i + cut);
  });
  fc.assert(fc.property(mutation, check), { numRuns: 500 });
});

test('shuffled lines of the examples never throw', () => {
  const shuffled = fc.constantFrom(...corpus).chain((s) => fc.shuffledSubarray(s.split('\n'))).map((ls) => ls.join('\n'));
  fc.assert(fc.property(shuffled, check), { numRuns: 300 });
});
