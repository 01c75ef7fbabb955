// The trace view's data (server/trace/view.ts) on recorded traces: failures
// grouped by opcode and errno with their counts, and request file names from
// the LOOKUP/CREATE replies the trace saw.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openTraceSource, traceView } from '../../server/trace';

const FIX = join(__dirname, '..', 'fixtures', 'trace');

test('failed requests grouped by opcode and errno: counts add up to every failure, most frequent first', async () => {
  const view = await traceView(openTraceSource(join(FIX, 'bindfs.ftrace')));
  const groups = view.failureGroups.map((g) => `${g.opcode} ${g.errno} ×${g.count}`);
  assert.equal(view.failureGroups.reduce((n, g) => n + g.count, 0), view.failedCount);
  for (const g of view.failureGroups) {
    assert.equal(g.count, view.failed.filter((f) => f.opcode === g.opcode && f.errno === g.errno).length, groups.join(', '));
    assert.equal(g.first.opcode, g.opcode);
    assert.equal(g.first.errno, g.errno);
  }
  assert.ok(view.failureGroups.every((g, i) => i === 0 || g.count <= view.failureGroups[i - 1]!.count), 'most frequent first');
  assert.ok(groups.includes('FUSE_LOOKUP ENOENT ×2'), groups.join(', '));
});

test('a request on a node id a LOOKUP named carries that name; the root is "/"', async () => {
  const view = await traceView(openTraceSource(join(FIX, 'bindfs-kernel-cache.strace')));
  const inodes = view.report.inodes ?? [];
  const named = inodes.find((i) => i.name !== null);
  assert.ok(named, 'the fixture names a node id');
  const onIt = view.timeline.filter((r) => String(r.nodeid) === String(named.nodeid) && r.connection === named.connection);
  assert.ok(onIt.length > 0);
  for (const r of onIt) assert.equal(r.file, named.name);
  const onRoot = view.timeline.filter((r) => String(r.nodeid) === '1');
  for (const r of onRoot) assert.equal(r.file, '/');
  const unnamed = view.timeline.filter((r) => r.nodeid !== null && String(r.nodeid) !== '1' && !inodes.some((i) => String(i.nodeid) === String(r.nodeid)));
  for (const r of unnamed) assert.equal(r.file, undefined);
});
