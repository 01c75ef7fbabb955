// The decoder against a real multithreaded server: libfuse's passthrough_hp
// captured with the project's own `capture --daemon` (strace) while
// fuse-workload.c runs threads × processes of open/read/close. The workload's
// own results are the truth: every refusal the report proves must be an open
// that failed with EIO, every EIO must be proven, and nothing may be "possible"
// where the server's FLUSH works and handles are distinct. RUNS runs of each
// configuration (FUSELENS_DECODER_RUNS overrides the default of 20), each a
// fraction of a second. They skip (saying why) where ../shared/vendor is absent.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { analyzeTrace, openTraceSource, startCapture, type TraceReport } from '../../server/trace';
import { fuseZip, scratch } from '../support/fuse-mounts';
import { startHolder } from '../support/inspect-holder';
import {
  mountPassthroughHp, passthroughHp, resultFor, runWorkload, type PassthroughHpMount, type PassthroughHpOptions, type WorkloadOptions,
  type WorkloadResult,
} from '../support/passthrough-hp';

const hp = passthroughHp();
const skip = hp.skip ?? false;
const RUNS = Number(process.env.FUSELENS_DECODER_RUNS ?? 20);
const FILES: Record<string, string> = { a: 'a'.repeat(10000), b: 'b'.repeat(20000), c: 'c'.repeat(3000), d: 'd'.repeat(70000) };

const out = mkdtempSync(join(tmpdir(), 'fuselens-decoder-'));
const mounts: PassthroughHpMount[] = [];
after(async () => {
  for (const m of mounts) await m.unmount();
  if (!process.env.FUSELENS_KEEP_CAPTURES) rmSync(out, { recursive: true, force: true });
});

async function mount(options: PassthroughHpOptions): Promise<PassthroughHpMount> {
  const m = await mountPassthroughHp(hp.binary!, { files: FILES, ...options });
  mounts.push(m);
  return m;
}

let captures = 0;
/** `fuselens capture --daemon` of a daemon while `work` runs; the analysis of the file. */
async function captured<T>(m: { pid: number }, work: () => Promise<T>): Promise<{ report: TraceReport; result: T; live: { requests: number; noReply: number } }> {
  const file = join(out, `capture-${captures++}.strace`);
  const capture = await startCapture({ connection: 0, output: file, daemon: m.pid, checkConnection: false });
  // RELEASE is asynchronous (fuse_file_put): give the last ones time to be answered before strace detaches.
  const result = await work().finally(() => new Promise((r) => setTimeout(r, 150)).then(() => capture.stop()));
  const end = await capture.stop(); // idempotent: the result of the stop above
  const report = await analyzeTrace(openTraceSource(file));
  if (!process.env.FUSELENS_KEEP_CAPTURES) rmSync(file);
  return { report, result, live: { requests: end.requests, noReply: end.noReply } };
}

const opensFailed = (r: WorkloadResult, errno: string): number => Object.values(r.files).reduce((n, f) => n + (f.openErrors[errno] ?? 0), 0);
const opensAttempted = (r: WorkloadResult): number => Object.values(r.files).reduce((n, f) => n + f.attempted, 0);
const proven = (r: TraceReport) => r.denials.filter((d) => d.certainty === 'proven');
const possible = (r: TraceReport) => r.denials.filter((d) => d.certainty === 'possible');
const sent = (r: TraceReport, opcode: string): number => r.opcodes.find((o) => o.opcode === opcode)?.sent ?? 0;

/** RUNS captures of the workload on one mount: no refusal, every request answered, counts those of the workload. */
async function noRefusals(options: PassthroughHpOptions, workload: WorkloadOptions): Promise<void> {
  const m = await mount(options);
  const files = Object.keys(FILES).map((n) => m.path(n));
  for (let run = 0; run < RUNS; run++) {
    // Lingering threads: the capture names a requester from /proc when it reads its first request.
    const { report, result, live } = await captured(m, () => runWorkload(files, { lingerMs: 200, ...workload }));
    const where = `run ${run + 1} of ${RUNS}`;
    assert.equal(opensFailed(result, 'EIO'), 0, `${where}: the workload saw no refusal`);
    assert.deepEqual(proven(report), [], `${where}: and the decoder proves none`);
    assert.ok(possible(report).every((d) => d.note?.includes('strace attached')), `${where}: a possible one only where a request was lost to the attach`);
    // A daemon thread blocked in read() when strace attaches gets its next request without strace printing
    // the bytes (the call is restarted under ptrace): at most one request per daemon thread can be missing.
    const threads = readdirSync(`/proc/${m.pid}/task`).length;
    const opens = sent(report, 'FUSE_OPEN');
    if (process.env.FUSELENS_KEEP_CAPTURES && opens !== opensAttempted(result)) console.log(`MISSING in capture-${captures - 1}: ${opens} of ${opensAttempted(result)}`);
    assert.ok(opens <= opensAttempted(result) && opens >= opensAttempted(result) - threads, `${where}: one OPEN per open() of the workload (${opens} of ${opensAttempted(result)})`);
    assert.deepEqual(report.inFlight.map((q) => q.opcode), [], `${where}: every request answered, spliced READ replies included`);
    assert.equal(report.badLines, 0, `${where}: every line read`);
    // The capture named each requesting thread from /proc while it ran (a thread gone before strace's line reached us stays unnamed).
    const named = report.processes.filter((p) => p.pid !== 0 && p.comm !== null);
    assert.ok(named.length > 0 && named.every((p) => p.comm!.startsWith('fuse-workload')), `${where}: comm from /proc (${JSON.stringify(report.processes)})`);
    assert.deepEqual(live, { requests: report.sent, noReply: report.noReply }, `${where}: the capture's count is the trace's`);
    assert.equal(report.sent + report.noReply, report.opcodes.reduce((n, o) => n + o.sent, 0));
  }
}

const MT: WorkloadOptions = { threads: 8, iterations: 6, processes: 2 };

test('passthrough_hp (passthrough, splice, multithreaded): no refusal reported over the runs, none happened', { skip }, () => noRefusals({}, MT));
test('passthrough_hp --nopassthrough: READ replies spliced, paired; no refusal', { skip }, () => noRefusals({ passthrough: false }, MT));
test('passthrough_hp --nopassthrough --nosplice: no refusal', { skip }, () => noRefusals({ passthrough: false, splice: false }, MT));
test('passthrough_hp --direct-io: no refusal', { skip }, () => noRefusals({ directIo: true }, MT));
test('passthrough_hp --single: no refusal', { skip }, () => noRefusals({ single: true }, MT));

test('forced fallback, a held open before each capture: every EIO reported (proven, or possible where the attach lost a request), nothing else', { skip }, async () => {
  const m = await mount({ failBackingOpen: 'b' });
  const holder = await startHolder([`open:held:rdonly:${m.path('a')}`]);
  try {
    // The holder's passthrough open of a is before every capture: the stream alone proves the refusals.
    const fallback = await runWorkload([m.path('b')], { threads: 1, iterations: 1 });
    assert.equal(resultFor(fallback, m.path('b')).opened, 1);
    for (let run = 0; run < RUNS; run++) {
      const { report, result } = await captured(m, () => runWorkload([m.path('a'), m.path('c')], { threads: 8, iterations: 3, processes: 2 }));
      const where = `run ${run + 1} of ${RUNS}`;
      const a = resultFor(result, m.path('a'));
      assert.equal(a.opened, 0, `${where}: no reopen of a succeeded`);
      assert.equal(resultFor(result, m.path('c')).opened, resultFor(result, m.path('c')).attempted, `${where}: c opens`);
      const refused = proven(report);
      const said = `${where} (${JSON.stringify(report.denials.map((d) => [d.unique, d.certainty]))}, ${report.orphanReplies} requests lost to the attach)`;
      // Every EIO is proven, except those whose OPEN (or FLUSH) strace lost when it attached: each lost request left a reply without request.
      assert.ok(refused.length <= opensFailed(result, 'EIO'), `${said}: no refusal proven that did not happen`);
      assert.ok(report.denials.length >= opensFailed(result, 'EIO') - report.orphanReplies, `${said}: none missed`);
      assert.ok(possible(report).every((d) => d.note?.includes('strace attached')), `${said}: possible only where a request was lost`);
    }
  } finally {
    await holder.stop();
  }
});

test('forced fallback in one capture: the failed BACKING_OPEN is named as the cause; a, still held, shows its backing file', { skip }, async () => {
  const m = await mount({ failBackingOpen: 'b' });
  const holders: Array<Awaited<ReturnType<typeof startHolder>>> = [];
  try {
    const { report, result } = await captured(m, async () => {
      holders.push(await startHolder([`open:held:rdonly:${m.path('a')}`]));
      await runWorkload([m.path('b')], { threads: 1, iterations: 1 });
      return runWorkload([m.path('a'), m.path('c')], { threads: 8, iterations: 3 });
    });
    const eio = opensFailed(result, 'EIO');
    assert.ok(eio > 0, 'the kernel refused reopens of a');
    assert.equal(proven(report).length, eio);
    assert.deepEqual(possible(report), []);
    assert.ok(proven(report).every((d) => d.name === 'a' && d.rule === 'cached-open-on-passthrough-inode'), 'the model explains each one');
    assert.ok(proven(report).every((d) => d.cause?.includes('FUSE_DEV_IOC_BACKING_OPEN') && d.cause.includes(join(m.source, 'b'))), 'the cause names b');
    const a = report.inodes?.find((i) => i.name === 'a' && i.openFiles > 0);
    assert.equal(a?.mode, 'passthrough', 'a is held in passthrough');
    assert.equal(a?.backingPath, join(m.source, 'a'), "a's backing file is its source");
    assert.equal(a?.lastOpen?.outcome, 'refused', 'its last open was refused');
  } finally {
    for (const h of holders) await h.stop();
  }
});

const noFuseZip = spawnSync('sh', ['-c', 'command -v fuse-zip']).status !== 0 ? 'needs fuse-zip (apt-get install fuse-zip)' : false;

test('fuse-zip (libfuse 2.9, one fh for every open of a file): 4 processes × 2 threads on one file, no refusal over the runs', { skip: skip || noFuseZip }, async () => {
  const { dir, mountpoint } = scratch('fuselens-fuse-zip-');
  const source = join(dir, 'src');
  mkdirSync(source);
  writeFileSync(join(source, 'a'), 'a'.repeat(10000));
  const m = await fuseZip(dir, source, mountpoint);
  try {
    const file = join(mountpoint, 'a');
    for (let run = 0; run < RUNS; run++) {
      const { report, result } = await captured(m, () => runWorkload([file], { threads: 2, iterations: 10, processes: 4 }));
      const where = `run ${run + 1} of ${RUNS}`;
      assert.equal(resultFor(result, file).opened, 80, `${where}: every open succeeded`);
      assert.deepEqual(proven(report), [], `${where}: no refusal proven`);
      assert.ok(possible(report).every((d) => d.note?.includes('strace attached')), `${where}: none possible but for a request lost to the attach`);
      assert.equal(report.badLines, 0);
    }
  } finally {
    await m.unmount();
  }
});
