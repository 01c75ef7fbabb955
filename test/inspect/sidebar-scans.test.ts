// The sidebar's refresh (list, then the expanded mount) reads /proc once: the list's scan
// also serves the mount inspected last, when that mount is asked for in the same refresh
// (server/inspect/sidebar-scans.ts). Seen on a real mount: a process that opens a file
// between the list and the inspection is missing from that inspection (it is the list's
// scan), and present once the inspection comes too late to share it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectMount, listMounts, SidebarScans, type Inspection } from '../../server/inspect';
import { bindfsOfFiles } from '../support/fuse-mounts';
import { startHolder } from '../support/inspect-holder';

const pidsOf = (ins: Inspection): number[] => [...new Set(ins.inodes.flatMap((i) => i.opens.map((o) => o.pid)))].sort((a, b) => a - b);

test('sidebar scans: the list and the expanded mount share one /proc scan within a refresh, not after', async (t) => {
  const M = await bindfsOfFiles(t, 'fuselens-sidebar-', ['a', 'b'], 100);
  const first = await startHolder([`open:a:rdwr:${M}/a`]);
  t.after(() => first.stop());

  let clock = 0;
  const sidebar = new SidebarScans(() => clock);
  const listed = sidebar.list();
  assert.deepEqual(listed.mounts.map((m) => m.mountpoint), listMounts().mounts.map((m) => m.mountpoint));
  // The first refresh knows no expanded mount yet: the inspection scans for itself.
  const before = sidebar.inspect(M);
  assert.deepEqual(pidsOf(before), [first.pid]);

  // The next refresh: the list scans for M too, and M's inspection is that scan.
  assert.ok(listMounts(undefined, { alsoScanMount: before.mount.mountId }).scan, 'listMounts scans for the mount asked');
  sidebar.list();
  const second = await startHolder([`open:b:rdonly:${M}/b`]);
  t.after(() => second.stop());
  clock += 100;
  const shared = sidebar.inspect(M);
  assert.deepEqual(pidsOf(shared), [first.pid], 'the inspection is the scan made before the second holder opened b');
  assert.deepEqual(shared.inodes.flatMap((i) => i.opens).filter((o) => o.pid === first.pid),
    before.inodes.flatMap((i) => i.opens).filter((o) => o.pid === first.pid));
  // Taken once: asked again, it reads /proc.
  assert.deepEqual(pidsOf(sidebar.inspect(M)), [first.pid, second.pid].sort((a, b) => a - b));

  // A list long before the inspection: scanned afresh.
  sidebar.list();
  const third = await startHolder([`open:a:rdonly:${M}/a`]);
  t.after(() => third.stop());
  clock += 60_000;
  assert.deepEqual(pidsOf(sidebar.inspect(M)), pidsOf(inspectMount(M)));
  assert.ok(pidsOf(inspectMount(M)).includes(third.pid));
});
