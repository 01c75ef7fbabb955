// The decoder on real captures of passthrough_hp and fuse-zip
// (test/fixtures/real-servers/README.md): what the report says is checked
// against what the workloads themselves saw (their *.workload.json(l)).

import assert from 'node:assert/strict';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyzeTrace, exportPerfetto, openTraceSource } from '../../server/trace';

const FIX = join(__dirname, '..', 'fixtures', 'real-servers');
interface Workload { files: Record<string, { attempted: number; opened: number; openErrors: Record<string, number> }> }
const workloads = (name: string): Workload[] => readFileSync(join(FIX, name), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Workload);
const eio = (ws: Workload[]): number => ws.reduce((n, w) => n + Object.values(w.files).reduce((m, f) => m + (f.openErrors.EIO ?? 0), 0), 0);
const opens = (ws: Workload[]): number => ws.reduce((n, w) => n + Object.values(w.files).reduce((m, f) => m + f.attempted, 0), 0);
const analyze = (name: string) => analyzeTrace(openTraceSource(join(FIX, name)));

test('8 threads on passthrough_hp: a reply taken at its <unfinished ...> start line, no false refusal', async () => {
  const r = await analyze('mt8-false-refusal.strace');
  assert.equal(eio(workloads('mt8-false-refusal.workload.json')), 0);
  assert.deepEqual(r.denials, []);
  assert.equal(r.opcodes.find((o) => o.opcode === 'FUSE_OPEN')?.sent, opens(workloads('mt8-false-refusal.workload.json')));
  assert.equal(r.inFlightCount, 0);
  assert.equal(r.badLines, 0);
});

test('forced fallback: each EIO of the workload is one proven refusal of a, with the failed BACKING_OPEN as cause', async () => {
  const r = await analyze('fallback-eio.strace');
  const truth = workloads('fallback-eio.workload.jsonl');
  assert.equal(r.denials.length, eio(truth));
  assert.deepEqual(r.denials.map((d) => d.unique).sort((x, y) => x - y), [24, 26, 52, 56, 60, 64, 86, 90, 104, 108]);
  for (const d of r.denials) {
    assert.equal(d.certainty, 'proven');
    assert.equal(d.name, 'a');
    assert.equal(d.rule, 'cached-open-on-passthrough-inode');
    assert.match(d.cause ?? '', /FUSE_DEV_IOC_BACKING_OPEN of \/tmp\/rlcap\/fb\/src\/b failed \(EINVAL\)/);
  }
  assert.equal(r.inFlightCount, 0, 'the spliced READ replies are paired');
  assert.equal(r.badLines, 0, 'resume lines of openat, ioctl and splice are not garbage');
  const a = r.inodes?.filter((i) => i.name === 'a') ?? [];
  assert.equal(a.length, 1);
  assert.equal(a[0]!.opensSeen, 11, "the holder's passthrough open and the 10 refused reopens");
  assert.equal(a[0]!.openFiles, 0, 'the holder exited before the capture ended');
  assert.equal(a[0]!.lastOpen?.outcome, 'refused');
});

test('splice replies of --nopassthrough are paired by their vmspliced header', async () => {
  const r = await analyze('splice-nopassthrough.strace');
  assert.equal(r.inFlightCount, 0);
  assert.ok((r.opcodes.find((o) => o.opcode === 'FUSE_READ')?.count ?? 0) >= 4);
  assert.ok(r.warnings.some((w) => /^4 replies the daemon spliced/.test(w)), r.warnings.join('\n'));
  assert.deepEqual(r.denials, []);
});

test('fuse-zip (one fh for every open of a file): no refusal, none possible', async () => {
  const r = await analyze('log-fuse-zip-0.5.0.log');
  assert.deepEqual(r.denials, []);
});

test('Perfetto export of the fallback: the backing ioctls on their daemon threads, node ids as in the report', async () => {
  const chunks: string[] = [];
  await exportPerfetto(createReadStream(join(FIX, 'fallback-eio.strace')), (t) => chunks.push(t));
  const events = (JSON.parse(chunks.join('')) as { traceEvents: Array<{ cat?: string; name: string; tid: number; args: Record<string, unknown> }> }).traceEvents;
  const backing = events.filter((e) => e.cat === 'backing').map((e) => [e.name, e.tid, e.args.id, e.args.path]);
  assert.deepEqual(backing, [
    ['FUSE_DEV_IOC_BACKING_OPEN', 15510, 1, '/tmp/rlcap/fb/src/a'],
    ['FUSE_DEV_IOC_BACKING_OPEN EINVAL', 15537, null, '/tmp/rlcap/fb/src/b'],
    ['FUSE_DEV_IOC_BACKING_CLOSE', 15610, null, null],
  ]);
});
