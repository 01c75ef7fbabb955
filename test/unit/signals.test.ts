// Signals (`signal TASK SIG`) and the server's errno answer to a held request
// (`write W end error=E`, `close X end error=E`): the parser's shapes and
// errors, and what the simulator makes of them (request_wait_answer).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario } from '../../server/scenario/parse';
import { simulateScenario } from '../../server/scenario/simulate';

const codes = (text: string, severity?: string) =>
  simulateScenario(text).diagnostics.filter((d) => !severity || d.severity === severity).map((d) => `${d.range.start.line + 1}:${d.code}`);
const steps = (text: string) =>
  simulateScenario(text).steps.map((s) => `${s.line}:${s.outcome}${s.completedAt !== undefined ? `→${s.finalOutcome}@${s.completedAt}` : ''}`);

test('signal TASK SIG and end error=ERRNO parse', () => {
  const s = parseScenario('signal p1 SIGUSR1\nsignal W sigkill\nwrite W end error=EINTR\nclose X end error=ENOSYS\nclose X end');
  assert.deepEqual(s.errors, []);
  const [a, b, c, d, e] = s.statements;
  assert.ok(a?.kind === 'signal' && b?.kind === 'signal' && c?.kind === 'write-end' && d?.kind === 'close-end' && e?.kind === 'close-end');
  assert.deepEqual([a.task.value, a.signal.value, b.signal.value], ['p1', 'SIGUSR1', 'SIGKILL']);
  assert.deepEqual([c.error?.value, c.error?.range.start.character, d.error?.value, e.error], ['EINTR', 18, 'ENOSYS', undefined]);
});

test('signal and end error=: parser errors say where and what was expected', () => {
  const error = (text: string) => {
    const e = parseScenario(text).errors;
    assert.equal(e.length, 1, text);
    return [e[0]!.range.start.character, e[0]!.message];
  };
  assert.deepEqual(error('signal'), [6, 'expected a process, thread or in-flight write to signal (a name like data.db or f1) at the end of the line']);
  assert.deepEqual(error('signal p1'), [9, 'expected a signal (SIGUSR1 or SIGKILL) at the end of the line']);
  assert.deepEqual(error('signal p1 SIGTERM'), [10, "expected a signal (SIGUSR1 or SIGKILL), found 'SIGTERM'"]);
  assert.deepEqual(error('signal p1 SIGUSR1 now'), [18, "expected the end of the statement (signal TASK SIG), found 'now'"]);
  assert.deepEqual(error('write W end error=eintr'), [18, 'expected an errno name after error=, such as EINTR or EIO']);
  assert.deepEqual(error('close X end EINTR'), [12, "expected the end of the statement (close X end [error=ERRNO]), found 'EINTR'"]);
  assert.deepEqual(error('close X end error=EINTR more'), [24, "expected the end of the statement (close X end [error=ERRNO]), found 'more'"]);
  assert.match(error('p1: signal p2 SIGUSR1')[1] as string, /'signal' is not a process step/);
});

test('SIGUSR1: FUSE_INTERRUPT for the held request the task waits for; the call returns the server\'s answer', () => {
  const text = [
    'file a', 'process p', 'thread t of p',
    'p: open a as w reply direct_io', 'p: write w begin as W', 'signal W SIGUSR1', 'write W end error=EINTR',
    'p: write w begin as W2', 'signal p SIGUSR1', 'write W2 end',
    't: close w begin as X => blocks', 'signal t SIGUSR1', 'close X end error=EIO', 'signal t SIGUSR1',
  ].join('\n');
  assert.deepEqual(codes(text).filter((c) => c.endsWith('request-interrupted')), ['6:request-interrupted', '12:request-interrupted']);
  assert.deepEqual(codes(text, 'error'), [], 'an answer the scenario states is no error');
  assert.deepEqual(steps(text).filter((s) => /^(7|10|11):/.test(s)), ['7:EINTR', '10:ok', '11:blocks→EIO@13']);
});

test('a signal to a task asleep on the inode lock or not in the kernel interrupts nothing', () => {
  const text = [
    'file a', 'process p', 'process q', 'p: open a as w reply direct_io', 'p: write w begin as W',
    'q: open a as v reply direct_io', 'q: write v => blocks', 'signal q SIGUSR1', 'write W end', 'signal q SIGUSR1',
  ].join('\n');
  assert.deepEqual(codes(text).filter((c) => c.endsWith('request-interrupted')), []);
  assert.ok(steps(text).includes('7:blocks→ok@9'));
});

test('SIGKILL: the process ends; a thread waiting for a held FLUSH ends after the answer, holding the files till then', () => {
  const text = [
    'init passthrough', 'file a', 'process p', 'thread t of p', 'backing b',
    'p: open a as c', 't: open a as d', 't: close d begin as X => blocks', 'signal p SIGKILL', 'p: read c',
    'open a as x reply passthrough backing=b => EIO', 'close X end', 'open a as y reply passthrough backing=b => ok',
  ].join('\n');
  assert.deepEqual(codes(text, 'error'), ['10:process-exited']);
  assert.deepEqual(codes(text).filter((c) => c.endsWith('request-interrupted')), ['9:request-interrupted']);
  assert.ok(steps(text).includes('8:blocks→killed@12'));
});

test('SIGKILL of a held write\'s process: the files go when the write is answered; its answer reaches nobody', () => {
  const text = [
    'init passthrough', 'file a', 'process p', 'backing b', 'p: open a as c', 'p: open a as w reply direct_io', 'p: write w begin as W',
    'signal W SIGKILL', 'open a as x reply passthrough backing=b => EIO', 'write W end error=EINTR => ok',
    'open a as y reply passthrough backing=b => ok', 'signal p SIGUSR1',
  ].join('\n');
  assert.deepEqual(codes(text, 'error'), ['12:process-exited']);
});

test('SIGKILL while a thread sleeps on the inode lock is not modelled; an unknown task is an error', () => {
  const text = 'file a\nprocess p\nprocess q\np: open a as w reply direct_io\np: write w begin as W\nq: open a as v\nq: write v => blocks\nsignal q SIGKILL\nwrite W end';
  assert.deepEqual(codes(text, 'warning'), ['8:not-modelled']);
  assert.ok(steps(text).includes('8:skipped') && steps(text).includes('7:blocks→ok@9'));
  assert.deepEqual(codes('signal nobody SIGUSR1'), ['1:unknown-name']);
  assert.deepEqual(codes('process p\nsignal p SIGUSR1'), []);
});

test('ENOSYS to a FLUSH: close succeeds and no FLUSH is sent again (fc->no_flush)', () => {
  const text = 'file a\nopen a as c\nclose c begin as X => blocks\nclose X end error=ENOSYS\nopen a as d\nclose d begin as Y => ok';
  assert.ok(steps(text).includes('3:blocks→ok@4'));
  assert.deepEqual(codes(text, 'warning'), ['6:flush-not-held']);
  assert.match(simulateScenario(text).diagnostics.find((d) => d.code === 'flush-not-held')!.message, /fc->no_flush/);
});
