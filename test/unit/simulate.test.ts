// The simulator on whole scenarios: outcomes, blocking and waking, warnings,
// skipped steps, and the JSON of `simulate --json`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulateScenario, simulateSource } from '../../server/scenario/simulate';
import { streamScenario } from '../../server/scenario/parse';
import { inodeTableAfter, inodeTables, withInodeTables } from '../../protocol/scenario';

const codes = (text: string, severity?: string) =>
  simulateScenario(text).diagnostics.filter((d) => !severity || d.severity === severity).map((d) => `${d.range.start.line + 1}:${d.code}`);
/** `line:code` of every diagnostic of a result. */
const codesOf = (r: ReturnType<typeof simulateScenario>) => r.diagnostics.map((d) => `${d.range.start.line + 1}:${d.code}`);

test('a denied open carries user errno, internal reason, rule and the conflicting opens', () => {
  const r = simulateScenario('kernel 6.18\ninit passthrough\nfile a\nbacking b\nopen a as c\nopen a as p reply passthrough backing=b');
  const step = r.steps.find((s) => s.target === 'p')!;
  assert.deepEqual([step.outcome, step.reason, step.rule, step.line], ['EIO', 'ETXTBSY', 'passthrough-open-on-caching-inode', 6]);
  assert.deepEqual(step.inodes, {}, 'a denied open changes no inode');
  assert.deepEqual(inodeTables(r)[r.steps.indexOf(step)]!.a, { mode: 'caching', iocachectr: 1, backing: null });
  const d = r.diagnostics.find((x) => x.code === 'passthrough-open-on-caching-inode')!;
  assert.equal(d.severity, 'error');
  assert.match(d.message, /ETXTBSY inside fuse_inode_uncached_io_start, turned into EIO/);
  assert.ok(d.data?.what === 'denied');
  assert.deepEqual([d.data.rule, d.data.outcome, d.data.reason, d.data.inode], ['passthrough-open-on-caching-inode', 'EIO', 'ETXTBSY', { name: 'a', mode: 'caching', iocachectr: 1, backing: null }]);
  assert.deepEqual(d.data.conflicting, [{ handle: 'c', line: 5, descriptors: [{ process: 'main', name: 'c' }], mappings: [] }]);
});

test('a stated denial is information; a wrong statement is an error on the outcome', () => {
  const text = 'init passthrough\nfile a\nbacking b\nopen a as c\nopen a as p reply passthrough backing=b => EIO\nopen a as q reply passthrough backing=b => ok';
  const r = simulateScenario(text);
  assert.deepEqual(r.diagnostics.map((d) => [d.range.start.line + 1, d.severity, d.code]), [
    [5, 'information', 'passthrough-open-on-caching-inode'],
    [6, 'error', 'outcome-mismatch'],
  ]);
  assert.match(r.diagnostics[1]!.message, /expected ok, but the kernel gives EIO/);
  assert.equal(r.diagnostics[1]!.range.start.character, text.split('\n')[5]!.indexOf('ok'));
});

test('a blocked step records where it completed and with what', () => {
  const text = [
    'init passthrough', 'file a', 'process w', 'process r',
    'w: open a as f reply direct_io parallel_direct_writes', 'w: write f begin as x',
    'r: open a as c => blocks', 'r: close c', 'write x end',
  ].join('\n');
  const r = simulateScenario(text);
  const blocked = r.steps.find((s) => s.target === 'c' && s.action === 'open')!;
  assert.deepEqual([blocked.outcome, blocked.completedAt, blocked.finalOutcome], ['blocks', 9, 'ok']);
  assert.equal(r.steps.find((s) => s.action === 'close')!.outcome, 'skipped');
  assert.deepEqual(codes(text, 'warning'), ['8:step-after-blocked']);
});

test('i_rwsem wake order: a released lock goes to every queued parallel write, also those behind a waiting writer (seen on 6.18.44)', () => {
  const text = [
    'file a', 'process p1', 'process p2', 'process p3',
    'open a as x reply direct_io', 'p1: open a as r1 reply direct_io parallel_direct_writes',
    'p2: open a as w reply direct_io', 'p3: open a as r2 reply direct_io parallel_direct_writes',
    'write x begin as X', 'p1: write r1 begin as R1 => blocks', 'p2: write w begin as W => blocks', 'p3: write r2 begin as R2 => blocks',
    'write X end', 'write R1 end', 'write R2 end', 'write W end',
  ].join('\n');
  const r = simulateScenario(text);
  const at = (target: string) => r.steps.find((s) => s.action === 'write-begin' && s.target === target)!.completedAt;
  assert.deepEqual([at('R1'), at('R2'), at('W')], [13, 13, 15]);
  assert.deepEqual(codes(text, 'error'), []);
});

test('plain writes woken together: the lock is counted for all readers before any of them ends', () => {
  const text = [
    'file a', 'process p1', 'process p2', 'process p3',
    'open a as x reply direct_io', 'p1: open a as r1 reply direct_io parallel_direct_writes',
    'p2: open a as w reply direct_io', 'p3: open a as r2 reply direct_io parallel_direct_writes',
    'write x begin as X', 'p1: write r1', 'p2: write w begin as W', 'p3: write r2 begin as R2',
    'write X end', 'write R2 end', 'write W end',
  ].join('\n');
  const r = simulateScenario(text);
  const at = (target: string) => r.steps.find((s) => s.target === target && s.action.startsWith('write'))!.completedAt;
  assert.deepEqual([at('r1'), at('R2'), at('W')], [13, 13, 14]);
});

test('O_DIRECT under writeback_cache reaches the server holding the inode lock exclusively', () => {
  const text = [
    'init writeback_cache', 'file a', 'process p1', 'process p2',
    'p1: open a as d o_direct', 'p2: open a as c', 'p1: write d begin as X', 'p2: write c => blocks', 'write X end',
  ].join('\n');
  const r = simulateScenario(text);
  assert.deepEqual(codes(text, 'warning'), []);
  const blocked = r.steps.find((s) => s.target === 'c' && s.action === 'write')!;
  assert.deepEqual([blocked.completedAt, blocked.finalOutcome], [9, 'ok']);
  assert.deepEqual(codes('init writeback_cache\nfile a\nopen a as c\nwrite c begin as X', 'warning'), ['4:write-not-held'], 'buffered: page cache');
});

test('a woken caching open completes at the wake-up and counts once', () => {
  const text = [
    'init passthrough', 'file a', 'process w', 'process r',
    'w: open a as f reply direct_io parallel_direct_writes', 'w: write f begin as x',
    'r: open a as c reply parallel_direct_writes => blocks', 'write x end', 'expect a caching', 'expect a iocachectr=1',
  ].join('\n');
  const r = simulateScenario(text);
  const blocked = r.steps.find((s) => s.target === 'c')!;
  assert.deepEqual([blocked.completedAt, blocked.finalOutcome], [8, 'ok']);
  assert.deepEqual(codes(text, 'error'), []);
});

test('a step that never wakes is reported', () => {
  const r = simulateScenario('init passthrough\nfile a\nprocess w\nw: open a as f reply direct_io parallel_direct_writes\nw: write f begin as x\nopen a as c');
  const s = r.steps.at(-1)!;
  assert.deepEqual([s.outcome, s.completedAt, s.finalOutcome], ['blocks', null, null]);
  assert.ok(r.diagnostics.some((d) => d.code === 'never-wakes' && d.range.start.line === 5));
});

test('warnings for what the kernel silently changes or ignores', () => {
  assert.deepEqual(codes('kernel 6.18\ninit passthrough writeback_cache', 'warning'), ['2:passthrough-disabled-by-writeback-cache']);
  assert.deepEqual(codes('kernel 6.18\ninit passthrough max_stack_depth=3', 'warning'), ['2:passthrough-bad-max-stack-depth']);
  assert.deepEqual(codes('kernel 6.1\ninit passthrough', 'warning'), ['2:flag-unknown-to-kernel']);
  assert.deepEqual(codes('kernel 6.18\nfile a\nopen a as f reply passthrough io_uring_zero_copy backing=1', 'warning'), ['3:flag-unknown-to-kernel']);
  assert.deepEqual(codes('file a\nopen a as f reply parallel_direct_writes', 'warning'), ['2:parallel-writes-need-direct-io']);
  assert.deepEqual(codes('init passthrough\nbacking b', 'warning'), ['2:backing-never-used']);
  assert.deepEqual(codes('init passthrough\nfile a\nbacking b\nopen a as f reply direct_io backing=b', 'warning'), ['3:backing-never-used', '4:backing-without-passthrough']);
  assert.deepEqual(codes('init no_open\nfile a\nopen a as f reply direct_io', 'warning'), ['3:reply-ignored-under-no-open']);
});

test('7.3 knows FOPEN_IO_URING_ZERO_COPY, and it is outside the passthrough mask there too', () => {
  const r = simulateScenario('kernel 7.3\ninit passthrough\nfile a\nbacking b\nopen a as f reply passthrough io_uring_zero_copy backing=b');
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['passthrough-flag-combination']);
});

test('names: unknown, failed, duplicate, and descriptors of other processes', () => {
  assert.deepEqual(codes('close nope'), ['1:unknown-name']);
  assert.deepEqual(codes('open ghost as f'), ['1:unknown-name']);
  const failed = simulateScenario('init passthrough\nfile a\nbacking b\nopen a as p reply passthrough backing=b\nopen a as c => EIO\nclose c');
  assert.equal(failed.steps.at(-1)!.outcome, 'skipped');
  assert.ok(failed.diagnostics.some((d) => d.code === 'handle-not-open' && d.range.start.line === 5));
  const other = simulateScenario('file a\nprocess p2\nopen a as f\np2: close f');
  assert.deepEqual([other.steps.at(-1)!.outcome, other.steps.at(-1)!.rule], ['EBADF', 'bad-file-descriptor']);
  assert.deepEqual(codes('file a\nopen a as f\nopen a as f'), ['3:duplicate-name']);
  assert.deepEqual(codes('file a\nfile a'), ['2:duplicate-name']);
  assert.deepEqual(codes('kernel 6.18\nkernel 6.9'), ['2:duplicate-statement']);
  assert.deepEqual(codes('file a\nopen a as f\nexit\nclose f'), ['4:process-exited']);
});

test('read and write need the matching access mode; mmap needs a readable descriptor', () => {
  const r = simulateScenario('file a\nopen a as r rdonly\nopen a as w wronly\nwrite r\nread w\nmmap w private as m\nmmap r shared write as m2\nmmap r private write as m3');
  assert.deepEqual(r.steps.slice(2).map((s) => s.outcome), ['EBADF', 'EBADF', 'EACCES', 'EACCES', 'ok']);
});

test('a kernel outside the model is an error that lists the modelled releases, and the default is used', () => {
  const r = simulateScenario('kernel 5.15');
  assert.equal(r.kernel, '7.3');
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['unknown-kernel']);
  assert.equal(simulateScenario('', { kernel: '6.12' }).kernel, '6.12');
  // Inside 6.1–7.3 but no such release: refused too, with the releases the model has.
  const unreal = simulateScenario('kernel 6.42');
  assert.deepEqual(unreal.diagnostics.map((d) => d.code), ['unknown-kernel']);
  assert.match(unreal.diagnostics[0]!.message, /6\.19, 7\.0, 7\.1, 7\.2, 7\.3/);
  assert.equal(simulateScenario('kernel 6.12.70').kernel, '6.12.70');
});

test('a stable release whose backport sublevel is unknown is a warning naming the commit', () => {
  const r = simulateScenario('kernel 6.11.3');
  assert.deepEqual(r.diagnostics.map((d) => d.code), ['kernel-backport-unknown']);
  assert.match(r.diagnostics[0]!.message, /2f3d8ff45798/);
  assert.deepEqual(simulateScenario('kernel 6.11').diagnostics, [], 'the mainline release is known');
  assert.deepEqual(simulateScenario('kernel 6.12.3').diagnostics, [], 'bd5603eaae0a: the 6.12.y sublevel is known');
});

test('syntax errors do not stop the other lines from simulating', () => {
  const r = simulateScenario('init passthrough\nfile a\nbacking b\nopen a as\nopen a as c\nopen a as p reply passthrough backing=b');
  assert.deepEqual(r.diagnostics.map((d) => `${d.range.start.line + 1}:${d.code}`), ['4:syntax', '6:passthrough-open-on-caching-inode']);
});

test('no_open before bd5603eaae0a: no io mode; with it (mainline 6.19, 6.18.3+, 6.12.64+): a caching open', () => {
  const text = (k: string) => `kernel ${k}\ninit passthrough no_open\nfile a\nopen a as f\nexpect a idle`;
  for (const without of ['6.10', '6.12', '6.12.63', '6.17', '6.18', '6.18.2']) assert.deepEqual(codes(text(without)), [], without);
  for (const withIt of ['6.12.64', '6.12.70', '6.18.3', '6.18.44', '6.19', '7.3']) assert.deepEqual(codes(text(withIt)), ['5:expect-mismatch'], withIt);
});

test('inode snapshots are per step and independent of later steps', () => {
  const r = simulateScenario('file a\nopen a as f\nclose f');
  assert.deepEqual(r.steps.map((s) => s.inodes.a!.iocachectr), [1, 0]);
});

test('a step carries the inodes it changed; the tables rebuilt from them are the state after each step', () => {
  const r = simulateScenario([
    'init passthrough', 'file a', 'file b', 'backing k',
    'open a as f', 'open b as g reply direct_io', 'read f', 'open a as p reply passthrough backing=k', 'close f', 'open a as q reply passthrough backing=k',
  ].join('\n'));
  assert.deepEqual(r.initialInodes, { a: { mode: 'idle', iocachectr: 0, backing: null }, b: { mode: 'idle', iocachectr: 0, backing: null } });
  assert.deepEqual(r.steps.map((s) => [s.action, s.target, Object.keys(s.inodes)]), [
    ['backing', 'k', []], ['open', 'f', ['a']], ['open', 'g', []], ['read', 'f', []], ['open', 'p', []], ['close', 'f', ['a']], ['open', 'q', ['a']],
  ]);
  const tables = inodeTables(r);
  assert.deepEqual(tables.map((t) => t.a!.mode), ['idle', 'caching', 'caching', 'caching', 'caching', 'idle', 'passthrough']);
  assert.deepEqual(tables[6], { a: { mode: 'passthrough', iocachectr: -1, backing: 'k' }, b: { mode: 'idle', iocachectr: 0, backing: null } });
  assert.deepEqual(r.finalInodes, tables[6]);
  assert.deepEqual(inodeTableAfter(r, 5), tables[4]);
  assert.deepEqual(inodeTableAfter(r, 0), r.initialInodes);
  assert.equal(tables[2], tables[1], 'a step that changed nothing shares the table before it');
  // What the timeline is given: each step with the whole table after it; the result itself unchanged.
  const whole = withInodeTables(r);
  assert.deepEqual(whole.steps.map((st) => st.inodes), tables);
  assert.deepEqual(whole.steps.map((st) => st.line), r.steps.map((st) => st.line));
  assert.deepEqual(r.steps[2]!.inodes, {});
});

test('a blocked step is handed on when it wakes, and the steps after it wait for it, in line order', () => {
  const text = [
    'file a', 'process w', 'process r',
    'w: open a as d reply direct_io parallel_direct_writes', 'w: write d begin as x', 'r: open a as c', 'open a as e reply direct_io', 'write x end', 'close e',
  ].join('\n');
  const seen: [number, string, number | null | undefined][] = [];
  const summary = simulateSource(streamScenario(text), {}, {
    step: (s) => seen.push([s.line, s.outcome, s.completedAt]),
  });
  assert.deepEqual(seen, [[4, 'ok', undefined], [5, 'ok', undefined], [6, 'blocks', 8], [7, 'ok', undefined], [8, 'ok', undefined], [9, 'ok', undefined]]);
  const whole = simulateScenario(text);
  assert.deepEqual(seen, whole.steps.map((s) => [s.line, s.outcome, s.completedAt]));
  assert.deepEqual(summary.diagnostics, whole.diagnostics);
});

test('exit with a write in flight keeps the process\'s files until the write ends (found on 6.18.44)', () => {
  const text = [
    'init passthrough', 'file a', 'file b', 'process p1', 'backing b1',
    'p1: open b as c', 'p1: open a as w reply direct_io parallel_direct_writes', 'p1: write w begin as W1', 'p1: exit',
    'expect b caching', 'write W1 end', 'expect b idle', 'open b as pt reply passthrough backing=b1 => ok',
  ].join('\n');
  // exit_group's SIGKILL wakes the writing thread: FUSE_INTERRUPT for W1 (seen on 6.18.44).
  assert.deepEqual(codes(text), ['9:request-interrupted']);
  assert.deepEqual(codes('file a\nprocess p\np: open a as f\np: exit\nexpect a idle'), [], 'without writes, exit releases at once');
});

test('an O_TRUNC open takes its io mode, then waits for the inode lock of a write in flight', () => {
  const text = [
    'file a', 'process p', 'open a as w reply direct_io', 'write w begin as x',
    'p: open a as t o_trunc', 'expect a caching', 'p: close t', 'write x end', 'p: close t',
  ].join('\n');
  const r = simulateScenario(text);
  const t = r.steps.find((s) => s.target === 't' && s.action === 'open')!;
  assert.deepEqual([t.outcome, t.rule, t.completedAt, t.finalOutcome], ['blocks', 'truncate-waits-for-inode-lock', 8, 'ok']);
  assert.deepEqual(r.steps.filter((s) => s.action === 'close' && s.target === 't').map((s) => s.outcome), ['skipped', 'ok']);
  assert.deepEqual(codes(text, 'error'), []);
  // Without O_TRUNC, or with no write in flight, the open does not wait.
  assert.equal(simulateScenario(text.replace(' o_trunc', '')).steps.find((s) => s.target === 't')!.outcome, 'ok');
  assert.equal(simulateScenario('file a\nopen a as t o_trunc').steps[0]!.outcome, 'ok');
});

test('an O_TRUNC caching open that slept for parallel writes then waits for their lock', () => {
  const text = [
    'file a', 'process p', 'open a as w reply direct_io parallel_direct_writes', 'write w begin as x',
    'p: open a as t o_trunc', 'expect a uncached', 'write x end',
  ].join('\n');
  const r = simulateScenario(text);
  const t = r.steps.find((s) => s.target === 't')!;
  assert.deepEqual([t.outcome, t.rule, t.completedAt, t.finalOutcome], ['blocks', 'cached-open-waits-for-parallel-writes', 7, 'ok']);
  assert.deepEqual(r.steps.at(-1)!.inodes.a, { mode: 'caching', iocachectr: 1, backing: null });
});

test('O_APPEND, at open or by fcntl, makes a parallel direct write exclusive; fcntl keeps the io mode', () => {
  const writes = (flags: string, fcntl: string) => simulateScenario([
    'file a', 'process p', 'open a as w reply direct_io parallel_direct_writes', 'write w begin as x',
    `p: open a as g ${flags} reply direct_io parallel_direct_writes`, fcntl, 'p: write g',
  ].join('\n')).steps.find((s) => s.action === 'write' && s.target === 'g')!.outcome;
  assert.equal(writes('', ''), 'ok');
  assert.equal(writes('o_append', ''), 'blocks');
  assert.equal(writes('', 'p: fcntl g setfl o_append'), 'blocks');
  assert.equal(writes('o_append', 'p: fcntl g setfl o_direct'), 'ok');
  const r = simulateScenario('file a\nopen a as f\nfcntl f setfl o_direct\nexpect a caching\nfcntl nope setfl');
  assert.deepEqual(r.steps.map((s) => s.outcome), ['ok', 'ok', 'ok', 'skipped']);
  assert.deepEqual(codes('file a\nopen a as f\nfcntl f setfl o_direct\nexpect a caching\nfcntl nope setfl'), ['5:unknown-name']);
});

test('the truncation and an appending write queue for the inode lock in rwsem_mark_wake()\'s order', () => {
  // x (appending: exclusive) holds the lock; y and z (parallel) and the truncation of t queue in that order.
  const text = [
    'file a', 'process p1', 'process p2', 'process p3', 'process p4',
    'p1: open a as d1 o_append reply direct_io parallel_direct_writes',
    'p2: open a as d2 reply direct_io parallel_direct_writes',
    'p4: open a as d4 reply direct_io parallel_direct_writes',
    'p1: write d1 begin as x', 'p2: write d2 begin as y', 'p3: open a as t o_trunc reply direct_io', 'p4: write d4 begin as z',
    'write x end', 'write y end', 'write z end',
  ].join('\n');
  const r = simulateScenario(text);
  const at = (target: string) => r.steps.find((s) => s.target === target && s.outcome === 'blocks')!;
  // The released lock goes to both queued parallel writes, also z behind the waiting truncation; t gets it once both end.
  assert.deepEqual([at('y').completedAt, at('z').completedAt, at('t').completedAt], [13, 13, 15]);
  assert.equal(at('t').rule, 'truncate-waits-for-inode-lock');
  assert.deepEqual(codes(text).filter((c) => !c.endsWith('-waits-for-inode-lock')), []);
  // Without o_append, x shares the lock: y goes at once, and z waits behind the truncation, which the last reader's end hands it on from.
  const shared = simulateScenario(text.replace(' o_append', ''));
  assert.equal(shared.steps.find((s) => s.target === 'y')!.outcome, 'ok');
  assert.deepEqual(['t', 'z'].map((h) => shared.steps.find((s) => s.target === h && s.outcome === 'blocks')!.completedAt), [14, 14]);
});

test('under writeback_cache an O_DIRECT write reaches the server, whether O_DIRECT came with the open or from fcntl', () => {
  const held = (open: string, fcntl: string) => codes(`init writeback_cache\nfile a\nopen a as f${open}\n${fcntl}\nwrite f begin as W`, 'warning');
  assert.deepEqual(held('', 'expect a caching'), ['5:write-not-held']);
  assert.deepEqual(held(' o_direct', 'expect a caching'), []);
  assert.deepEqual(held('', 'fcntl f setfl o_direct'), []);
  assert.deepEqual(held(' o_direct', 'fcntl f setfl'), ['5:write-not-held']);
});

test('create: a new name is made with the reply\'s io mode; an existing one is opened, or EEXIST under o_excl', () => {
  const r = simulateScenario([
    'init passthrough', 'file a', 'backing b', 'create n as f reply passthrough backing=b', 'create n as g o_excl',
    'create a as h o_excl', 'create a as i reply keep_cache', 'read g',
  ].join('\n'));
  assert.deepEqual(r.steps.map((s) => `${s.action}:${s.outcome}`), [
    'backing:ok', 'create:ok', 'create:EEXIST', 'create:EEXIST', 'create:ok', 'read:skipped',
  ]);
  assert.deepEqual(r.steps[1]!.inodes.n, { mode: 'passthrough', iocachectr: -1, backing: 'b' });
  assert.equal(r.steps[2]!.rule, 'create-exclusive-name-exists');
  assert.deepEqual(codes('file a\ncreate n as f\nopen n as g'), [], 'a created name is known to later steps');
  assert.deepEqual(codes('file a\nopen n as g'), ['2:unknown-name']);
});

test('create under no_open: the CREATE reply counts and is not warned about; O_TRUNC of a new file waits for nothing', () => {
  const text = 'init no_open\nprocess p\ncreate n as f reply direct_io parallel_direct_writes\nwrite f begin as w\np: create n as g o_trunc => blocks\nwrite w end';
  const r = simulateScenario(text);
  assert.deepEqual(codes(text), ['5:cached-open-waits-for-parallel-writes']);
  const g = r.steps.find((s) => s.target === 'g')!;
  assert.deepEqual([g.outcome, g.rule, g.completedAt], ['blocks', 'cached-open-waits-for-parallel-writes', 6]);
  assert.deepEqual(codes('init no_open\nfile a\ncreate a as f reply direct_io', 'warning'), ['3:reply-ignored-under-no-open']);
  const fresh = simulateScenario('file a\nprocess p\nopen a as w reply direct_io\nwrite w begin as x\np: create n as t o_trunc');
  assert.equal(fresh.steps.at(-1)!.outcome, 'ok');
});

test('reply error=E: the process gets E; ENOSYS turns on no_open from that open on', () => {
  const r = simulateScenario([
    'init passthrough', 'file a', 'file b', 'backing k', 'open a as f reply error=EACCES', 'read f',
    'create n as c reply error=EIO', 'create n as d o_excl',
    'open a as p reply passthrough backing=k', 'open a as e reply error=ENOSYS', 'open b as g reply direct_io',
    'create m as h reply passthrough backing=k',
  ].join('\n'));
  assert.deepEqual(r.steps.map((s) => `${s.line}:${s.outcome}`), ['4:ok', '5:EACCES', '6:skipped', '7:EIO', '8:ok', '9:ok', '10:EIO', '11:ok', '12:ok']);
  assert.equal(r.steps[6]!.rule, 'cached-open-on-passthrough-inode', 'the ENOSYS open is a no_open caching open of a passthrough inode');
  assert.deepEqual(r.steps[7]!.inodes.b, { mode: 'caching', iocachectr: 1, backing: null }, 'direct_io ignored: no OPEN is sent any more');
  assert.deepEqual(r.steps[8]!.inodes.m, { mode: 'passthrough', iocachectr: -1, backing: 'k' }, 'a CREATE reply still counts');
  assert.deepEqual(r.diagnostics.map((d) => `${d.range.start.line + 1}:${d.code}`), [
    '6:handle-not-open', '10:cached-open-on-passthrough-inode', '11:reply-ignored-under-no-open',
  ]);
  const enosys = simulateScenario('file a\ncreate n as c reply error=ENOSYS\nclose c');
  assert.deepEqual(enosys.steps.map((s) => s.outcome), ['ok', 'ok'], 'MKNOD + OPEN make and open the file');
  assert.deepEqual(enosys.diagnostics.map((d) => d.code), ['create-falls-back-to-mknod']);
});

test('a CREATE answered ENOSYS: MKNOD + OPEN for this and every later create, the OPEN reply gives the io mode', () => {
  const r = simulateScenario([
    'init passthrough', 'backing k', 'create n1 as f1 reply error=ENOSYS reply passthrough backing=k', 'open n1 as c',
    'create n2 as f2 reply error=EIO', 'open n2 as g', 'create n3 as h reply error=ENOSYS',
  ].join('\n'));
  assert.deepEqual(r.steps.map((s) => s.outcome), ['ok', 'ok', 'EIO', 'EIO', 'ok', 'ok']);
  assert.deepEqual(r.steps[1]!.inodes.n1, { mode: 'passthrough', iocachectr: -1, backing: 'k' });
  assert.equal(r.steps[4]!.outcome, 'ok', 'MKNOD made n2 although its OPEN failed');
  assert.deepEqual(r.steps[5]!.inodes.n3, { mode: 'caching', iocachectr: 1, backing: null }, 'a later ENOSYS answers the OPEN: no_open');
  // Under no_open the OPEN after MKNOD is not sent: the reply flags are not read, where a CREATE's would be.
  const noOpen = simulateScenario('init no_open\ncreate a as f reply direct_io\ncreate b as g reply error=ENOSYS\ncreate c as h reply direct_io');
  assert.deepEqual([noOpen.steps[0]!.inodes.a?.mode, noOpen.steps[2]!.inodes.c?.mode], ['idle', 'caching']);
});

test('a held OPEN: the process waits, and the inode as it is at the reply decides', () => {
  const r = simulateScenario([
    'init passthrough', 'file a', 'process p', 'process q', 'backing k',
    'p: open a as pt reply passthrough backing=k begin as O1', 'p: read pt', 'q: open a as c', 'umount', 'open O1 end',
    'q: close c', 'q: open a as c2 begin as O2 => EIO', 'p: open a as pt3 reply passthrough backing=k', 'open O2 end',
  ].join('\n'));
  assert.deepEqual(r.steps.map((s) => s.outcome), ['ok', 'blocks', 'skipped', 'ok', 'EBUSY', 'ok', 'ok', 'blocks', 'ok', 'ok']);
  assert.deepEqual([r.steps[1]!.rule, r.steps[1]!.completedAt, r.steps[1]!.finalOutcome], ['passthrough-open-on-caching-inode', 10, 'EIO']);
  assert.deepEqual([r.steps[7]!.completedAt, r.steps[7]!.finalOutcome], [14, 'EIO']);
  assert.deepEqual(codesOf(r), ['6:open-waits-for-reply', '6:passthrough-open-on-caching-inode', '7:step-after-blocked', '9:umount-busy',
    '12:cached-open-on-passthrough-inode']);
  assert.equal(r.diagnostics.find((d) => d.range.start.line === 11)!.severity, 'information', 'the EIO the line states');
  assert.deepEqual(simulateScenario('file a\nopen a as f begin as O => ok\nopen O end').diagnostics.map((d) => d.code), [],
    '=> ok states what the open ends with');
  assert.deepEqual(simulateScenario('file a\nopen a as f begin as O => EIO\nopen O end').diagnostics.map((d) => d.code), ['outcome-mismatch']);
  const noOpen = simulateScenario('init no_open\nfile a\nopen a as f begin as O\nopen O end');
  assert.deepEqual(noOpen.steps.map((s) => s.outcome), ['ok', 'skipped']);
  assert.deepEqual(noOpen.diagnostics.map((d) => d.code), ['request-not-held', 'unknown-name']);
  const aborted = simulateScenario('file a\nprocess p\np: open a as f begin as O\nabort\nopen O end\np: close f');
  assert.deepEqual([aborted.steps[0]!.finalOutcome, aborted.steps[2]!.outcome, aborted.steps[3]!.outcome], ['ECONNABORTED', 'skipped', 'skipped']);
});

test('a held READ: direct reads wait, cached ones are not modelled, passthrough ones send none', () => {
  const r = simulateScenario([
    'init passthrough', 'file a', 'file b', 'process p', 'process q', 'backing k',
    'p: open a as d reply direct_io', 'p: read d begin as R', 'q: open a as c', 'read R end',
    'q: open b as o o_direct', 'q: read o begin as R2', 'read R2 end', 'q: close o',
    'q: open b as cb', 'q: read cb begin as R3', 'p: open b as pt reply passthrough backing=k',
  ].join('\n'));
  assert.deepEqual(r.steps.map((s) => s.outcome), ['ok', 'ok', 'blocks', 'ok', 'ok', 'ok', 'blocks', 'ok', 'ok', 'ok', 'skipped', 'EIO']);
  assert.deepEqual([r.steps[2]!.rule, r.steps[2]!.completedAt], ['read-waits-for-reply', 10]);
  assert.ok(codesOf(r).includes('16:not-modelled'));
  const pt = simulateScenario('init passthrough\nfile a\nbacking k\nopen a as f reply passthrough backing=k\nread f begin as R\nread R end');
  assert.deepEqual(pt.steps.map((s) => s.outcome), ['ok', 'ok', 'ok', 'skipped']);
  assert.deepEqual(pt.diagnostics.map((d) => d.code), ['request-not-held', 'unknown-name']);
});

test('a held RELEASE: nothing waits for it; umount or abort end it', () => {
  const r = simulateScenario([
    'init passthrough', 'file a', 'backing k', 'open a as pt reply passthrough backing=k', 'dup pt as pt2', 'release pt begin as R',
    'close pt', 'release R end', 'close pt2', 'open a as c', 'release R end', 'close c',
    'open a as x', 'release x begin as R2', 'close x', 'umount', 'release R2 end',
  ].join('\n'));
  assert.deepEqual(r.steps.map((s) => s.outcome), ['ok', 'ok', 'ok', 'ok', 'ok', 'skipped', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'skipped']);
  assert.deepEqual(codesOf(r), ['8:request-not-sent', '17:request-aborted']);
  const noOpen = simulateScenario('init no_open\nfile a\nopen a as f\nrelease f begin as R');
  assert.deepEqual(noOpen.diagnostics.map((d) => d.code), ['request-not-held']);
  const aborted = simulateScenario('file a\nopen a as f\nrelease f begin as R\nclose f\nabort\nrelease R end');
  assert.deepEqual(aborted.diagnostics.map((d) => d.code), ['request-aborted']);
});

test('send: the receiver holds the same open file; names, exited and blocked receivers', () => {
  const r = simulateScenario('init passthrough\nfile a\nprocess q\nbacking k\nopen a as f\nsend f to q as g\nclose f\nopen a as p reply passthrough backing=k\nq: close g\nopen a as p2 reply passthrough backing=k');
  assert.deepEqual(r.steps.map((s) => s.outcome), ['ok', 'ok', 'ok', 'ok', 'EIO', 'ok', 'ok']);
  assert.deepEqual([r.steps[2]!.action, r.steps[2]!.target], ['send', 'g']);
  assert.deepEqual(codes('file a\nprocess q\nopen a as f\nsend f to q\nq: send f to q'), ['5:duplicate-name']);
  assert.deepEqual(codes('file a\nprocess q\nopen a as f\nq: exit\nsend f to q'), ['5:process-exited']);
  const blocked = 'file a\nprocess q\nopen a as w reply direct_io parallel_direct_writes\nwrite w begin as x\nq: open a as c => blocks\nsend w to q\nwrite x end';
  assert.deepEqual(codes(blocked), ['5:cached-open-waits-for-parallel-writes', '6:step-after-blocked']);
});

test('a partial munmap keeps the file; msync of a shared FUSE mapping waits for the inode lock', () => {
  const pt = (unmap: string) => simulateScenario(
    `init passthrough\nfile a\nbacking k\nopen a as c\nmmap c shared as m\nclose c\n${unmap}\nopen a as p reply passthrough backing=k`,
  ).steps.at(-1)!.outcome;
  assert.equal(pt('munmap m part'), 'EIO');
  assert.equal(pt('munmap m'), 'ok');
  const sync = (map: string, reply = '') => simulateScenario([
    'init passthrough', 'file a', 'process q', 'backing k', `open a as f ${reply}`, `mmap f ${map} as m`,
    `q: open a as g ${reply || 'reply direct_io'}`, 'q: write g begin as w', 'msync m', 'write w end',
  ].join('\n')).steps.find((s) => s.action === 'msync')!;
  const shared = sync('shared');
  assert.deepEqual([shared.outcome, shared.rule, shared.completedAt], ['blocks', 'msync-waits-for-inode-lock', 10]);
  assert.equal(sync('private').outcome, 'ok');
  assert.equal(sync('shared', 'reply passthrough backing=k').outcome, 'ok', 'a passthrough mapping syncs the backing file');
  assert.deepEqual(codes('file a\nmsync m'), ['2:unknown-name']);
});

test('BACKING_OPEN arguments: flags EINVAL, a directory EISDIR, O_PATH accepted; EPERM comes first', () => {
  const r = simulateScenario('init passthrough\nfile a\nbacking f flags=2\nbacking d dir\nbacking p o_path\nopen a as x reply passthrough backing=p');
  assert.deepEqual(r.steps.map((s) => [s.outcome, s.rule ?? null]), [
    ['EINVAL', 'backing-open-bad-argument'], ['EISDIR', 'backing-open-bad-argument'], ['ok', null], ['ok', null],
  ]);
  assert.equal(simulateScenario('file a\nbacking f flags=2').steps[0]!.outcome, 'EPERM');
  assert.equal(simulateScenario('kernel 6.6\nbacking d dir').steps[0]!.outcome, 'ENOTTY');
});

test('a stacked backing file: ELOOP while max_stack_depth leaves no room for it', () => {
  const open = (depth: number) => simulateScenario(`init passthrough max_stack_depth=${depth}\nbacking b stacked`).steps[0]!;
  assert.deepEqual([open(1).outcome, open(1).rule], ['ELOOP', 'backing-stack-too-deep']);
  assert.equal(open(2).outcome, 'ok');
});

test('a held FLUSH: the close blocks and the file is released at close X end; noflush is not held', () => {
  const text = [
    'init passthrough', 'file a', 'process p', 'backing k', 'p: open a as c', 'p: close c begin as X',
    'open a as t reply passthrough backing=k', 'p: read c', 'close X end', 'open a as t2 reply passthrough backing=k',
  ].join('\n');
  const r = simulateScenario(text);
  assert.deepEqual(r.steps.map((s) => s.outcome), ['ok', 'ok', 'blocks', 'EIO', 'skipped', 'ok', 'ok']);
  const held = r.steps[2]!;
  assert.deepEqual([held.action, held.rule, held.completedAt, held.finalOutcome], ['close-begin', 'close-waits-for-flush', 9, 'ok']);
  assert.deepEqual(codes('file a\nopen a as f reply noflush\nclose f begin as X', 'warning'), ['3:flush-not-held']);
  assert.equal(simulateScenario('init writeback_cache\nfile a\nopen a as f reply noflush\nclose f begin as X').steps[1]!.outcome, 'blocks',
    'with writeback_cache noflush does not skip the FLUSH');
  assert.deepEqual(codes('file a\nclose X end'), ['2:unknown-name']);
});

test('the diagnostics kept up to a limit are the first by position, also those found last; all are counted', () => {
  // The open on line 6 sleeps for good: its never-wakes warning is found at the end, after 500 later errors.
  const text = [
    'file a', 'process w', 'process r', 'w: open a as d reply direct_io parallel_direct_writes', 'w: write d begin as x', 'r: open a as c',
    ...new Array<string>(500).fill('open nofile as h'),
  ].join('\n');
  const all = simulateScenario(text);
  assert.ok(all.diagnostics.some((d) => d.code === 'never-wakes' && d.range.start.line === 5));
  for (const max of [1, 3, 200]) {
    const bounded = simulateScenario(text, { maxDiagnostics: max });
    assert.deepEqual(bounded.diagnostics, all.diagnostics.slice(0, max));
    assert.deepEqual(bounded.diagnosticCounts, all.diagnosticCounts);
  }
});

test('abort: a held FLUSH and a held WRITE end with ECONNABORTED; later requests fail with ENOTCONN, passthrough io and cached pages do not', () => {
  const text = [
    'init passthrough', 'file a', 'file b', 'process p', 'backing k', 'open b as pt reply passthrough backing=k',
    'p: open a as c', 'p: close c begin as X', 'open a as d reply direct_io', 'write d begin as W', 'open a as r', 'read r', 'abort',
    'read r', 'read pt', 'write d', 'open a as again', 'close r', 'write W end', 'close X end',
  ].join('\n');
  const r = simulateScenario(text);
  assert.deepEqual(r.steps.map((s) => s.outcome), [
    'ok', 'ok', 'ok', 'blocks', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ENOTCONN', 'ENOTCONN', 'ENOTCONN', 'skipped', 'skipped',
  ]);
  const held = r.steps.find((s) => s.action === 'close-begin')!;
  assert.deepEqual([held.completedAt, held.finalOutcome], [13, 'ECONNABORTED']);
  assert.deepEqual(codes(text, 'warning'), ['8:close-waits-for-flush', '19:request-aborted', '20:request-aborted']);
  // Without an earlier read the pages are not cached: the read needs a READ.
  assert.equal(simulateScenario('file a\nopen a as f\nabort\nread f').steps[2]!.outcome, 'ENOTCONN');
  // A noflush file's close sends nothing, so it still succeeds.
  assert.equal(simulateScenario('file a\nopen a as f reply noflush\nabort\nclose f').steps[2]!.outcome, 'ok');
});

test('umount: EBUSY while a file or a passthrough mapping lives; lazy always; then opens by name are ENOENT', () => {
  const outcomes = (text: string) => simulateScenario(text).steps.map((s) => s.outcome);
  assert.deepEqual(outcomes('file a\nopen a as f\numount\nclose f\numount\numount\nopen a as g'), ['ok', 'EBUSY', 'ok', 'ok', 'EINVAL', 'ENOENT']);
  assert.equal(simulateScenario('file a\nopen a as f\numount').steps[1]!.rule, 'umount-busy');
  assert.deepEqual(outcomes('file a\nopen a as f\numount lazy\nread f\nwrite f'), ['ok', 'ok', 'ok', 'ok']);
  assert.deepEqual(outcomes('init passthrough\nfile a\nbacking b\nopen a as p reply passthrough backing=b\nmmap p shared as m\nclose p\numount\nmunmap m\numount'),
    ['ok', 'ok', 'ok', 'ok', 'EBUSY', 'ok', 'ok']);
  assert.deepEqual(codes('file a\numount lazy\ncreate n as f', 'warning'), ['3:not-modelled']);
});

test('exit of main: later unprefixed system calls are process-exited and skipped; the server\'s steps still run', () => {
  const text = 'file a\nopen a as f reply direct_io\nwrite f begin as W\nexit\nread f\nwrite W end\numount';
  const r = simulateScenario(text);
  assert.deepEqual(r.steps.map((s) => [s.process, s.outcome]), [['main', 'ok'], ['main', 'ok'], ['main', 'ok'], ['main', 'skipped'], ['main', 'ok'], ['main', 'ok']]);
  assert.deepEqual(codes(text, 'error'), ['5:process-exited']);
});

test('abort: a name of an aborted write can be reused by a write that needs no server', () => {
  const text = 'init passthrough\nfile a\nfile b\nbacking k\nopen a as d reply direct_io\nopen b as p reply passthrough backing=k\n' +
    'write d begin as W\nabort\nwrite W end\nwrite p begin as W\nwrite W end';
  assert.deepEqual(simulateScenario(text).steps.map((s) => s.outcome), ['ok', 'ok', 'ok', 'ok', 'ok', 'skipped', 'ok', 'ok']);
  assert.deepEqual(codes(text, 'warning'), ['9:request-aborted', '10:write-not-held']);
});

test('abort: a truncating open asleep on the inode lock fails with ENOTCONN and installs no descriptor', () => {
  const text = 'file a\nprocess p\nopen a as d reply direct_io\nwrite d begin as W\np: open a as t o_trunc\nabort\np: read t';
  const r = simulateScenario(text);
  const open = r.steps.find((s) => s.target === 't' && s.action === 'open')!;
  assert.deepEqual([open.outcome, open.completedAt, open.finalOutcome], ['blocks', 6, 'ENOTCONN']);
  assert.equal(r.steps.at(-1)!.outcome, 'skipped');
  assert.deepEqual(codes(text, 'warning').filter((c) => c.endsWith('handle-not-open')), ['7:handle-not-open']);
});
