// The editor features of `thread T of P`, `signal TASK SIG` and `end error=ERRNO`:
// completion word by word and of a thread's prefix, the names they declare and
// refer to, and hover.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze } from '../../server/lsp/analysis';
import { complete } from '../../server/lsp/completion';
import { hover } from '../../server/lsp/hover';
import { buildNameIndex, occurrenceAt } from '../../server/lsp/names';
import { parseScenario } from '../../server/scenario/parse';

const SCENARIO = 'file a\nprocess p1\nthread t1 of p1\nt1: open a as f1 reply direct_io\nt1: write f1 begin as w1\n';

function labelsAfter(line: string): string[] {
  const a = analyze(SCENARIO + line);
  return complete(a, line, { line: 5, character: line.length }).map((i) => i.label);
}

test('completion: the thread statement word by word, and a thread as a prefix and a receiver', () => {
  assert.ok(labelsAfter('').includes('thread'), 'the keyword comes from the statement table');
  assert.ok(labelsAfter('').includes('t1:'), 'a declared thread is offered as a prefix');
  assert.deepEqual(labelsAfter('thread '), ['t2']);
  assert.deepEqual(labelsAfter('thread t2 '), ['of']);
  assert.deepEqual(labelsAfter('thread t2 of ').sort(), ['main', 'p1']);
  assert.ok(labelsAfter('send f1 to ').includes('t1'));
  assert.ok(labelsAfter('t1: ').includes('read') && !labelsAfter('t1: ').includes('thread'), 'a thread does steps, not declarations');
});

test('a thread is declared by its line and used by its prefix and by send; its process is referred to', () => {
  const text = 'process p1\nthread t1 of p1\nfile a\nt1: open a as f\nsend f to t1';
  const index = buildNameIndex(parseScenario(text));
  const at = (line: number, character: number) => occurrenceAt(index, line, character)!;
  assert.deepEqual([at(1, 8).occurrence.kind, at(1, 8).occurrence.declaration], ['thread', true]);
  assert.equal(at(1, 14).occurrence.kind, 'process');
  assert.equal(at(1, 14).declaration?.range.start.line, 0);
  assert.deepEqual([at(3, 0).occurrence.kind, at(3, 0).declaration?.range.start.line], ['thread', 1]);
  assert.deepEqual([at(4, 11).occurrence.kind, at(4, 11).declaration?.range.start.line], ['thread', 1]);
});

test('hover on a thread\'s name, on its declaration and on its step', () => {
  const a = analyze(SCENARIO + 't1: read f1');
  const on = (line: number, character: number) => {
    const h = hover(a, { line, character });
    return h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
  };
  assert.match(on(3, 0), /thread \*\*t1\*\* — declared on line 3/);
  assert.match(on(2, 2), /thread NAME of PROC/);
  assert.match(on(5, 5), /\*\*read\*\* `f1` by `t1` → \*\*ok\*\*/);
});

test('completion: signal TASK SIG, and error= after a held request\'s end', () => {
  assert.ok(labelsAfter('').includes('signal'), 'the keyword comes from the statement table');
  assert.deepEqual(labelsAfter('signal ').sort(), ['main', 'p1', 't1', 'w1']);
  assert.deepEqual(labelsAfter('signal p1 '), ['SIGUSR1', 'SIGKILL']);
  assert.deepEqual(labelsAfter('write w1 end '), ['error=']);
  assert.deepEqual(labelsAfter('close x1 end '), ['error=']);
  assert.ok(!labelsAfter('p1: ').includes('signal'), 'a signal is sent by no process');
});

test('signal refers to a write, a thread or a process', () => {
  const text = 'process p1\nthread t1 of p1\nfile a\np1: open a as f\np1: write f begin as W\nsignal W SIGUSR1\nsignal t1 SIGKILL\nsignal p1 SIGUSR1';
  const index = buildNameIndex(parseScenario(text));
  const at = (line: number) => occurrenceAt(index, line, 7)!;
  assert.deepEqual([at(5).occurrence.kind, at(5).declaration?.range.start.line], ['write', 4]);
  assert.deepEqual([at(6).occurrence.kind, at(6).declaration?.range.start.line], ['thread', 1]);
  assert.deepEqual([at(7).occurrence.kind, at(7).declaration?.range.start.line], ['process', 0]);
});

test('hover on a signal step shows its outcome; its diagnostic names the FUSE_INTERRUPT', () => {
  const a = analyze(`${SCENARIO}signal w1 SIGUSR1\nwrite w1 end error=EINTR`);
  const on = (line: number) => {
    const h = hover(a, { line, character: 1 });
    return h && typeof h.contents === 'object' && 'value' in h.contents ? h.contents.value : '';
  };
  assert.match(on(5), /\*\*signal\*\* `w1` → \*\*ok\*\*/);
  const interrupted = a.result?.diagnostics.find((d) => d.code === 'request-interrupted');
  assert.equal(interrupted?.range.start.line, 5);
  assert.match(interrupted?.message ?? '', /FUSE_INTERRUPT for the held WRITE w1/);
  assert.match(on(6), /\*\*write-end\*\* `w1` → \*\*EINTR\*\*/);
});
