// Descriptors a forked child inherits are taken from the parent's (kcmp says they are
// the same open file) instead of read again (server/inspect/processes.ts). What the
// inspection reports must not depend on it: the same rows as reading every descriptor.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { inspectMount, type Inspection } from '../../server/inspect';
import { parseMountInfo } from '../../server/inspect/mountinfo';
import { scanProcesses } from '../../server/inspect/processes';
import { scanHelper, startScanHelper } from '../../server/inspect/scan-helper';
import { bindfsOfFiles } from '../support/fuse-mounts';
import { startHolder, type Holder } from '../support/inspect-holder';

function rows(ins: Inspection, pids: number[]): string[] {
  return ins.inodes
    .flatMap((i) => i.opens.map((o) => ({ ...o, ino: i.ino })))
    .filter((o) => pids.includes(o.pid))
    .map((o) => `${o.pid} ${o.fd} ${o.path} ino=${o.ino} ${o.rawFlags} ${o.flags.join('|')} pos=${o.pos} ${o.comm}`)
    .sort();
}

test('inherited descriptors: copied by kcmp, reported exactly as when each is read', async (t) => {
  const M = await bindfsOfFiles(t, 'fuselens-inherit-', ['a', 'b', 'c'], 100);
  const h = await startHolder([`open:a:rdwr:${M}/a`, `open:b:rdonly+direct:${M}/b`, 'fork:one', 'fork:two', `open:c:wronly+append:${M}/c`, 'fork:three']);
  t.after(() => h.stop());
  const pids = [h.pid, ...Object.values(h.children)];
  assert.equal(pids.length, 4);

  // The scan copies the children's descriptors of a and b (and c for the third child) ...
  const all = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).entries;
  const device = all.find((m) => m.mountpoint === M)!.device;
  const scan = scanProcesses('/proc', { devices: new Set([device]), mounts: all }, true);
  const copied = scan.copies.pid.map((pid, i) => `${pid}:${scan.opens[scan.copies.of[i]!]!.fd}`).filter((k) => pids.includes(Number(k.split(':')[0])));
  const children = Object.values(h.children);
  const fds = h.fds as Record<string, number>;
  const expected = [
    ...children.flatMap((c) => [`${c}:${fds.a}`, `${c}:${fds.b}`]),
    `${h.children.three}:${fds.c}`,
  ];
  assert.deepEqual(copied.sort(), expected.sort());

  // ... and the report is the one reading every descriptor gives, with the sharing the kernel confirms.
  const fast = inspectMount(M);
  const read = inspectMount(M, undefined, { detectSharing: false });
  assert.deepEqual(rows(fast, pids), rows(read, pids));
  assert.equal(rows(fast, pids).length, 3 + 2 * 3 + 1);
  const parentA = fast.inodes.flatMap((i) => i.opens).find((o) => o.pid === h.pid && o.fd === fds.a)!;
  assert.deepEqual([...parentA.sharedWith!].sort(), children.map((c) => `${c}:${fds.a}`).sort());
  for (const c of children) {
    const childA = fast.inodes.flatMap((i) => i.opens).find((o) => o.pid === c && o.fd === fds.a)!;
    assert.deepEqual(childA.sharedWith, [`${h.pid}:${fds.a}`]);
  }
});

test('the scan with its helper thread finds what it finds alone, in the same order', async (t) => {
  const M = await bindfsOfFiles(t, 'fuselens-helper-', ['a', 'b'], 100);
  // Enough processes that both threads claim blocks of them (scan-block.ts: 16 a block) ...
  const holders: Holder[] = [];
  for (let i = 0; i < 40; i++) holders.push(await startHolder([`open:a:rdwr:${M}/a`, `open:b:rdonly:${M}/b`, 'mmap:m:b:shared:r', 'fork:child']));
  // ... and a family spread over several blocks: its children are copies of its reads all the same.
  const forks = Array.from({ length: 40 }, (_, i) => `fork:c${i}`);
  const family = await startHolder([`open:a:rdonly:${M}/a`, ...forks]);
  holders.push(family);
  t.after(() => Promise.all(holders.map((h) => h.stop())));
  startScanHelper();
  const helper = scanHelper();
  assert.ok(helper, 'a helper on this 2-CPU machine (dist/inspect-worker.js built)');

  const all = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).entries;
  const target = { devices: new Set([all.find((m) => m.mountpoint === M)!.device]), mounts: all };
  const ours = (pid: number): boolean => holders.some((h) => h.pid === pid || Object.values(h.children).includes(pid));
  // Every descriptor and mapping on the mount (only ours are there); names and parents of ours.
  const found = (scan: ReturnType<typeof scanProcesses>) => ({
    opens: scan.opens,
    copies: scan.copies.pid.map((pid, i) => [pid, scan.opens[scan.copies.of[i]!]!.pid, scan.opens[scan.copies.of[i]!]!.fd]),
    mappings: scan.mappings,
    ties: scan.ties,
    comm: [...scan.comm].filter(([pid]) => ours(pid)),
    parents: [...scan.parents].filter(([pid]) => ours(pid)),
  });
  scanProcesses('/proc', target, true, helper); // the worker started, so it takes a share below
  const together = found(scanProcesses('/proc', target, true, helper));
  const alone = found(scanProcesses('/proc', target, true, null));
  assert.deepEqual(together, alone);
  assert.equal(together.opens.length + together.copies.length, 40 * 2 * 2 + 41);
  assert.equal(together.mappings.length, 40 * 2);
  // The family's 40 children, in several blocks, are each a copy of the one read of a.
  const familyReads = together.opens.filter((o) => o.pid === family.pid);
  assert.equal(familyReads.length, 1);
  assert.deepEqual(
    together.copies.filter(([, of]) => of === family.pid).map(([pid]) => pid).sort(),
    Object.values(family.children).sort(),
  );
});
