// `fuselens run` killed at any moment leaves nothing behind: its guardian
// (server/lab/guardian.ts), started before the temp dir exists, detaches the
// lab mount and removes the dir, whatever the signal. What a run killed
// together with its guardian leaves is marked stale by `fuselens mounts`,
// removed by the next `run` (which says so) and by `fuselens clean`.
// Needs root and /dev/fuse.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { labAvailability } from '../../server/lab/index';
import { until } from '../support/fuse-mounts';
import { assertNothingLeftIn, buildCli, fuselens, killAtRandomMoment, mountsBelow, processesMentioning, random, SEED, soon } from './support';

const available = labAvailability();
const skip = available.ok ? false : available.reason;

let work = '';
let tmp = '';
let scenario = '';
before(async () => {
  if (skip) return;
  await buildCli();
  work = fs.mkdtempSync(join(tmpdir(), 'fuselens-safety-run-'));
  tmp = join(work, 'tmp');
  fs.mkdirSync(tmp);
  scenario = join(work, 'short.fusesim');
  // Short but with every kind of resource: a backing file (and the overlayfs of a stacked one), a fork,
  // a write held in flight, opens.
  const lines = ['init passthrough direct_io_allow_mmap', 'file a', 'file b', 'process p1', 'backing b1', 'backing b2 stacked',
    'open a as keep reply passthrough backing=b1', 'fork as child', 'p1: open b as w reply direct_io parallel_direct_writes',
    'p1: write w begin as W'];
  for (let i = 0; i < 60; i++) lines.push(`open b as h${i} reply direct_io`, `close h${i}`);
  fs.writeFileSync(scenario, lines.join('\n') + '\n');
});
after(() => {
  if (!work) return;
  for (const p of processesMentioning(tmp)) process.kill(p, 'SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

test('SIGKILL right after the lab mount appears: the mount and the temp dir go (finding 1)', { skip }, async () => {
  for (let i = 0; i < 3; i++) {
    const run = fuselens(['run', scenario], tmp);
    assert.ok(await soon(() => mountsBelow(tmp).length > 0, 10000), `the lab mount appears: ${run.stderr()}`);
    run.child.kill('SIGKILL');
    assert.equal((await run.exited).signal, 'SIGKILL');
    await assertNothingLeftIn(tmp, `kill ${i + 1}`);
  }
});

test(`SIGKILL and SIGTERM at 20 random moments of run (seed ${SEED}); then a run works`, { skip }, async (t) => {
  const rand = random(SEED);
  const moments: string[] = [];
  for (let i = 0; i < 20; i++) {
    const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGTERM'; // ten of each
    const run = fuselens(['run', scenario], tmp);
    // A third of the kills land the moment the mount appears, the others anywhere in the run's life.
    moments.push(await killAtRandomMoment(run, signal, rand, () => mountsBelow(tmp).length > 0, 'mount', 700));
    const end = await run.exited;
    if (signal === 'SIGTERM' && end.code !== null) assert.ok([0, 143].includes(end.code), `exit ${end.code}: ${run.stderr()}`);
    await assertNothingLeftIn(tmp, `kill ${i + 1} (${moments.join(' ')})`);
  }
  t.diagnostic(moments.join(' '));
  const again = fuselens(['run', scenario], tmp);
  const end = await again.exited;
  assert.equal(end.code, 0, again.stderr());
  assert.doesNotMatch(again.stderr(), /stale|removed/, 'nothing was left for it to clean');
  await assertNothingLeftIn(tmp, 'after a normal run');
});

test('a run killed with its guardian: mounts says stale, the next run cleans it and says so; clean too', { skip }, async () => {
  const leave = async () => {
    const run = fuselens(['run', scenario], tmp);
    assert.ok(await soon(() => mountsBelow(tmp).length > 0, 10000), run.stderr());
    // The guardian names its dir on its command line (--guard DIR).
    for (const p of processesMentioning('--guard')) if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(tmp)) process.kill(p, 'SIGKILL');
    run.child.kill('SIGKILL');
    await run.exited;
    await until(() => processesMentioning(tmp).length === 0, 'the agents to exit', 5000);
    const [mnt] = mountsBelow(tmp);
    assert.ok(mnt, 'the mount stays: nobody guards it');
    return mnt;
  };

  const mnt = await leave();
  const mounts = fuselens(['mounts', '--json'], tmp);
  assert.equal((await mounts.exited).code, 0);
  const listed = (JSON.parse(mounts.stdout()) as { mountpoint: string; stale?: boolean; daemon: unknown }[]).find((m) => m.mountpoint === mnt);
  assert.deepEqual({ stale: listed?.stale, daemon: listed?.daemon }, { stale: true, daemon: null });
  const text = fuselens(['mounts'], tmp);
  await text.exited;
  assert.match(text.stdout(), /STALE/);

  const run = fuselens(['run', scenario], tmp);
  assert.equal((await run.exited).code, 0, run.stderr());
  assert.ok(run.stderr().includes(`detached the stale lab mount ${mnt}`), run.stderr());
  assert.ok(run.stderr().includes(`removed the temp dir ${join(mnt, '..')}`), run.stderr());
  await assertNothingLeftIn(tmp, 'after the next run');

  const mnt2 = await leave();
  const clean = fuselens(['clean'], tmp);
  assert.equal((await clean.exited).code, 0, clean.stderr());
  assert.ok(clean.stdout().includes(`detached the stale lab mount ${mnt2}`), clean.stdout());
  await assertNothingLeftIn(tmp, 'after clean');
  const nothing = fuselens(['clean', '--json'], tmp);
  assert.equal((await nothing.exited).code, 0);
  const removed = JSON.parse(nothing.stdout()) as { what: string }[];
  assert.deepEqual(removed.filter((r) => r.what.startsWith(tmp)), [], 'nothing of ours left to clean');
});

test('clean never walks into a mount: an unguarded run dir with a bind mount in it stays until it is unmounted', { skip }, async () => {
  const dir = join(tmp, 'fuselens-run-bound');
  const outside = join(work, 'outside');
  fs.mkdirSync(join(dir, 'mnt'), { recursive: true });
  fs.mkdirSync(outside, { recursive: true });
  fs.writeFileSync(join(outside, 'precious'), 'keep me\n');
  assert.equal(spawnSync('mount', ['--bind', outside, join(dir, 'mnt')]).status, 0);
  try {
    const clean = fuselens(['clean'], tmp);
    assert.equal((await clean.exited).code, 0, clean.stderr());
    assert.doesNotMatch(clean.stdout(), /fuselens-run-bound/);
    assert.equal(fs.readFileSync(join(outside, 'precious'), 'utf8'), 'keep me\n');
  } finally {
    spawnSync('umount', [join(dir, 'mnt')]);
  }
  const clean = fuselens(['clean'], tmp);
  await clean.exited;
  assert.ok(clean.stdout().includes(`removed the temp dir ${dir} (no guardian holds it)`), clean.stdout());
  assert.equal(fs.existsSync(dir), false);
  assert.equal(fs.readFileSync(join(outside, 'precious'), 'utf8'), 'keep me\n');
});

test('a run that aborts the connection with requests held and processes asleep unmounts it itself and leaves nothing', { skip }, async () => {
  const aborting = join(work, 'abort.fusesim');
  fs.writeFileSync(aborting, ['file a', 'process p1', 'process p2', 'p1: open a as w reply direct_io', 'p1: write w begin as W',
    'p2: open a as c', 'p2: close c begin as X', 'open a as d reply direct_io', 'write d begin as W2', 'abort'].join('\n') + '\n');
  const trace = join(work, 'abort.jsonl');
  const run = fuselens(['run', aborting, '--trace', trace], tmp);
  assert.equal((await run.exited).code, 0, run.stderr());
  // The lab's read loop ends at the abort; the run must still unmount (the guardian is only the fallback).
  const types = fs.readFileSync(trace, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
  assert.ok(types.indexOf('abort') >= 0 && types.indexOf('unmount') > types.indexOf('abort'), types.join(' '));
  await assertNothingLeftIn(tmp, 'after a run with an abort');
});

test('a run that unmounts lazily with files open and a write held leaves nothing', { skip }, async () => {
  const lazy = join(work, 'lazy.fusesim');
  fs.writeFileSync(lazy, ['file a', 'process p1', 'p1: open a as w reply direct_io', 'p1: write w begin as W', 'open a as f', 'umount lazy',
    'open a as g => ENOENT'].join('\n') + '\n');
  const run = fuselens(['run', lazy], tmp);
  assert.equal((await run.exited).code, 0, run.stderr());
  assert.match(run.stdout(), /agree on every step/);
  await assertNothingLeftIn(tmp, 'after a run with a lazy umount');
});
