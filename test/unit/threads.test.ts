// Threads (`thread T of P`): the parser's shape and errors, and what the
// simulator makes of a thread — its process's descriptors and mappings, its
// own sleep, exit_group, and the file a sleeping call keeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../server/scenario/parse';
import { simulateScenario } from '../../server/scenario/simulate';

const codes = (text: string, severity?: string) =>
  simulateScenario(text).diagnostics.filter((d) => !severity || d.severity === severity).map((d) => `${d.range.start.line + 1}:${d.code}`);
const outcomes = (text: string) =>
  simulateScenario(text).steps.map((s) => `${s.line}:${s.process}:${s.outcome}${s.completedAt !== undefined ? `→${s.completedAt}` : ''}`);

test('thread NAME of PROC parses; its steps take the thread as their prefix', () => {
  const s = parseScenario('thread t1 of p1\nt1: open a as f');
  assert.deepEqual(s.errors, []);
  const [decl, step] = s.statements;
  assert.ok(decl?.kind === 'thread');
  assert.deepEqual([decl.name.value, decl.of.value, decl.of.range.start.character], ['t1', 'p1', 13]);
  assert.equal(step?.process?.value, 't1');
});

test('thread: parser errors say where and what was expected', () => {
  const error = (text: string) => {
    const e = parseScenario(text).errors;
    assert.equal(e.length, 1, text);
    return [e[0]!.range.start.line, e[0]!.range.start.character, e[0]!.message];
  };
  assert.deepEqual(error('file a\nthread'), [1, 6, 'expected a thread name (a name like data.db or f1) at the end of the line']);
  assert.deepEqual(error('thread t1 p1'), [0, 10, "expected 'of' in `thread NAME of PROC`, found 'p1'"]);
  assert.deepEqual(error('thread t1 of'), [0, 12, 'expected the process the thread belongs to (a name like data.db or f1) at the end of the line']);
  assert.deepEqual(error('thread t1 of p1 p2'), [0, 16, "expected the end of the statement (thread NAME of PROC), found 'p2'"]);
  assert.match(error('t1: thread t2 of p1')[2] as string, /'thread' is not a process step/);
});

test('a thread shares its process\'s descriptors and mappings; fork copies the calling thread with the whole table', () => {
  const text = [
    'init passthrough', 'file a', 'process p', 'thread t of p', 'thread u of c', 'backing b',
    't: open a as f', 'p: read f', 't: mmap f shared as m', 'p: close f',
    'open a as x reply passthrough backing=b', 'p: munmap m', 'open a as y reply passthrough backing=b', 'close y',
    'p: open a as g', 't: fork as c', 'u: close g', 'p: read g', 'c: read g',
  ].join('\n');
  assert.deepEqual(outcomes(text).filter((o) => !o.startsWith('6:')), [
    '7:t:ok', '8:p:ok', '9:t:ok', '10:p:ok', '11:main:EIO', '12:p:ok', '13:main:ok', '14:main:ok', '15:p:ok', '16:t:ok', '17:u:ok', '18:p:ok', '19:c:EBADF',
  ]);
});

test('exit in any thread ends the process: every thread, and its files are released', () => {
  const text = 'init passthrough\nfile a\nthread t of p\nbacking b\np: open a as f\nt: exit\np: read f\nt: read f\nopen a as x reply passthrough backing=b => ok';
  assert.deepEqual(codes(text, 'error'), ['7:process-exited', '8:process-exited']);
  assert.match(simulateScenario(text).diagnostics.find((d) => d.code === 'process-exited')!.message, /process p exited at line 6/);
});

test('a thread sleeps on its own, and its sleeping call keeps its file after a sibling closes it', () => {
  const text = [
    'init passthrough', 'file a', 'thread t of p', 'backing b',
    'p: open a as x reply direct_io', 'p: open a as w', 'p: write x begin as W',
    't: write w => blocks', 't: read w', 'p: read x => ok', 'p: close w',
    'open a as pt reply passthrough backing=b => EIO', 'write W end', 'open a as pt2 reply passthrough backing=b => ok',
  ].join('\n');
  assert.deepEqual(codes(text, 'error'), []);
  assert.deepEqual(codes(text, 'warning'), ['9:step-after-blocked']);
  assert.match(simulateScenario(text).diagnostics.find((d) => d.code === 'step-after-blocked')!.message, /^thread t is asleep since line 8/);
  assert.ok(outcomes(text).includes('8:t:blocks→13'));
});

test('exit while a thread waits for a held FLUSH: the thread ends after the answer, its close killed', () => {
  const text = 'init passthrough\nfile a\nthread t of p\nbacking b\np: open a as f\nt: open a as g\nt: close g begin as X => blocks\np: exit\n'
    + 'open a as x reply passthrough backing=b => EIO\nclose X end\nopen a as y reply passthrough backing=b => ok';
  assert.deepEqual(codes(text, 'error'), []);
  assert.deepEqual(codes(text).filter((c) => c.endsWith('request-interrupted')), ['8:request-interrupted']);
  assert.ok(outcomes(text).includes('7:t:blocks→10'));
  assert.equal(simulateScenario(text).steps.find((s) => s.line === 7)?.finalOutcome, 'killed');
});

test('exit while a thread sleeps on the inode lock, and mmap_lock users while one sleeps in mmap, are not modelled', () => {
  const exit = 'file a\nthread t of p\nprocess q\nq: open a as w reply direct_io\nq: write w begin as W\np: open a as f\nt: write f => blocks\np: exit\nwrite W end\np: exit';
  assert.deepEqual(codes(exit, 'warning'), ['8:not-modelled']);
  assert.deepEqual(outcomes(exit).slice(-3), ['8:p:skipped', '9:main:ok', '10:p:ok']);
  const mmap = [
    'init passthrough direct_io_allow_mmap', 'file a', 'thread t of p',
    'p: open a as w reply direct_io parallel_direct_writes', 'p: write w begin as W', 'p: open a as d reply direct_io',
    't: mmap d shared as m => blocks', 'p: mmap w private as n', 'p: fork as c', 'p: read d', 'write W end',
  ].join('\n');
  assert.deepEqual(codes(mmap, 'warning'), ['8:not-modelled', '9:not-modelled']);
  assert.ok(outcomes(mmap).includes('10:p:ok'));
});

test('thread declarations: a name taken by a process or thread, and a thread of a thread, are errors', () => {
  assert.deepEqual(codes('process p\nthread p of q'), ['2:duplicate-name']);
  assert.deepEqual(codes('thread main of q'), ['1:duplicate-name']);
  assert.deepEqual(codes('thread t of p\nthread t of q'), ['2:duplicate-name']);
  assert.deepEqual(codes('thread t of p\nthread u of t'), ['2:unknown-name']);
  assert.deepEqual(codes('thread t of p\nfile a\nopen a as f\nfork as t'), ['4:duplicate-name']);
});
