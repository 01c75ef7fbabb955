// A mount's health (extension/mountHealth.ts: its tree icon and the status
// bar) on the mount the inspect fixture tree describes, changed as a
// refresh would see it change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { bindfs, scratch, until } from '../support/fuse-mounts';
import { inspectMount } from '../../server/inspect';
import { MountHealthHistory, mountHealth, worstHealth } from '../../extension/mountHealth';
import type { Mount } from '../../protocol/messages';

const FIX = join(__dirname, '..', 'fixtures', 'inspect', 'ntfs-sshfs');
const mount = (): Mount => inspectMount('/mnt/win', { proc: join(FIX, 'proc'), sys: join(FIX, 'sys') }).mount;
const withWaiting = (m: Mount, waiting: number): Mount => ({ ...m, connectionStats: { ...m.connectionStats!, waiting } });

test('served, with requests below congestion_threshold and not growing: ok', () => {
  const m = mount();
  assert.ok(m.daemon && m.connectionStats, 'the fixture has a daemon and fusectl numbers');
  assert.equal(mountHealth(withWaiting(m, 3), withWaiting(m, 3)).level, 'ok');
  assert.equal(mountHealth(withWaiting(m, 2), withWaiting(m, 3)).level, 'ok', 'fewer waiting is fine');
  assert.equal(mountHealth(withWaiting(m, 3), undefined).level, 'ok', 'the first look has nothing to compare with');
});

test('waiting that grows across refreshes, or reaches congestion_threshold, is a warning saying so', () => {
  const m = mount();
  const grew = mountHealth(withWaiting(m, 5), withWaiting(m, 3));
  assert.deepEqual(grew, { level: 'warning', why: 'requests waiting grew from 3 to 5' });
  const congested = mountHealth(withWaiting(m, m.connectionStats!.congestionThreshold), undefined);
  assert.equal(congested.level, 'warning');
  assert.match(congested.why, /at or above congestion_threshold/);
});

test('no daemon is a warning; a stale mount an error, and the worst one is what the status bar shows', () => {
  const m = mount();
  const orphan: Mount = { ...m, daemon: null, daemonNote: 'no process holds /dev/fuse for this connection' };
  assert.deepEqual(mountHealth(orphan, undefined), { level: 'warning', why: 'no process holds /dev/fuse for this connection' });
  const stale: Mount = { ...m, mountpoint: '/mnt/stale', daemon: null, stale: true };
  const rated = [m, orphan, stale].map((x) => ({ mount: x, health: mountHealth(x, undefined) }));
  assert.equal(worstHealth(rated)?.mount.mountpoint, '/mnt/stale');
  assert.equal(worstHealth([]), null);
});

test('a real daemon stopped with SIGSTOP: inspect reads state T and the mount is an error; SIGCONT makes it ok', { skip: process.getuid?.() !== 0 || spawnSync('which', ['bindfs']).status !== 0 ? 'needs root and bindfs' : false }, async (t) => {
  const s = scratch('fuselens-health-');
  const src = join(s.dir, 'src');
  mkdirSync(src);
  const m = await bindfs(s.dir, src, s.mountpoint);
  t.after(async () => {
    process.kill(m.pid, 'SIGCONT');
    await m.unmount();
    rmSync(s.dir, { recursive: true, force: true });
  });
  const served = inspectMount(s.mountpoint).mount;
  assert.equal(served.daemon?.pid, m.pid);
  assert.equal(mountHealth(served, undefined).level, 'ok', JSON.stringify(served.daemon));
  process.kill(m.pid, 'SIGSTOP');
  await until(() => readFileSync(`/proc/${m.pid}/stat`, 'latin1').split(') ')[1]?.startsWith('T') ?? false, 'the daemon to stop');
  const stopped = inspectMount(s.mountpoint).mount;
  assert.equal(stopped.daemon?.state, 'T');
  const health = mountHealth(stopped, served);
  assert.equal(health.level, 'error');
  assert.match(health.why, /is stopped/);
  process.kill(m.pid, 'SIGCONT');
  await until(() => inspectMount(s.mountpoint).mount.daemon?.state !== 'T', 'the daemon to run again');
  assert.equal(mountHealth(inspectMount(s.mountpoint).mount, stopped).level, 'ok');
});

test('one health history for whoever lists: growth is seen across listings made by the tree and by the status bar alike', () => {
  const history = new MountHealthHistory();
  const m = mount();
  assert.equal(history.rate([withWaiting(m, 3)]).get(m.mountId)?.level, 'ok', 'the first listing has nothing to compare with');
  assert.deepEqual(history.rate([withWaiting(m, 5)]).get(m.mountId), { level: 'warning', why: 'requests waiting grew from 3 to 5' });
  assert.equal(history.rate([withWaiting(m, 5)]).get(m.mountId)?.level, 'ok', 'compared with the listing just before');
});
