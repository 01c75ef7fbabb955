// The trace readers on recorded real captures (test/fixtures/trace/README.md)
// and on damaged copies of them: every problem is counted and reported, never
// thrown. No mounts needed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { manyRefusalsFtrace } from '../support/many-refusals';
import { cli } from '../support/cli';
import { until } from '../support/fuse-mounts';
import {
  LineSplitter, TRACE_FORMATS, captureStartText, reconstructedModes, traceView, UnknownFormatError, analyzeTrace, detectFormat, openTraceSource, exportPerfetto, readTrace,
  type SendEvent, type TraceEvent, type TraceFormat, type TraceReport,
} from '../../server/trace';

const FIX = join(__dirname, '..', 'fixtures', 'trace');
const fixture = (name: string) => fs.readFileSync(join(FIX, name), 'utf8');
const analyze = (text: string | Buffer, format?: TraceFormat) =>
  analyzeTrace(Readable.from([typeof text === 'string' ? Buffer.from(text) : text]), format ? { format } : {});
const counts = (r: TraceReport) => Object.fromEntries(r.opcodes.map((o) => [o.opcode, [o.count, o.errors]]));

test('formats are detected from their first lines', () => {
  const expected: Record<string, TraceFormat> = {
    'bindfs.ftrace': 'ftrace',
    'lab-refused-open.ftrace': 'ftrace',
    'bindfs-multithreaded.strace': 'strace',
    'bindfs-kernel-cache.strace': 'strace',
    'bindfs-d.log': 'libfuse-debug',
    'squashfuse-d.log': 'libfuse-debug',
    'lab-refused-open.jsonl': 'lab-jsonl',
  };
  for (const [name, format] of Object.entries(expected)) assert.equal(detectFormat(fixture(name)), format, name);
  // Without the capture header, by content alone.
  assert.equal(detectFormat(fixture('bindfs.ftrace').split('\n').slice(1).join('\n')), 'ftrace');
  assert.equal(detectFormat(fixture('bindfs-kernel-cache.strace').split('\n').slice(1).join('\n')), 'strace');
  assert.equal(detectFormat('hello\nworld\n'), null);
  // A trace_pipe of a buffer with other events enabled: the first lines need not be fuse ones.
  assert.equal(detectFormat('          <idle>-0       [001] d.h2.  8827.005934: sched_waking: comm=bindfs pid=17548 prio=120 target_cpu=000\n'), 'ftrace');
});

test('tracefs capture of bindfs: exact counts, errnos, processes, latencies', async () => {
  const r = await analyzeTrace(openTraceSource(join(FIX, 'bindfs.ftrace')));
  assert.equal(r.format, 'ftrace');
  assert.deepEqual(counts(r), {
    FUSE_GETATTR: [4, 0], FUSE_LOOKUP: [3, 2], FUSE_RELEASE: [2, 0], FUSE_READDIR: [2, 0], FUSE_OPEN: [1, 0], FUSE_READ: [1, 0],
    FUSE_WRITE: [1, 0], FUSE_GETXATTR: [1, 1], FUSE_FLUSH: [1, 1], FUSE_OPENDIR: [1, 0], FUSE_RELEASEDIR: [1, 0], FUSE_CREATE: [1, 0],
  });
  assert.deepEqual([r.events, r.requests, r.unmatched, r.lost, r.badLines], [38, 19, 0, 0, 0]);
  assert.deepEqual(r.connections, [42]);
  assert.deepEqual(r.opcodes.find((o) => o.opcode === 'FUSE_GETXATTR')?.errnos, { ENODATA: 1 });
  assert.deepEqual(r.opcodes.find((o) => o.opcode === 'FUSE_FLUSH')?.errnos, { ENOSYS: 1 });
  assert.equal(r.processes.find((p) => p.comm === 'cat')?.requests, 6);
  const open = r.opcodes.find((o) => o.opcode === 'FUSE_OPEN')!;
  assert.ok(open.latencyUs && open.latencyUs.max > 0 && open.latencyUs.p50 <= open.latencyUs.max);
  assert.equal(r.slowest[0]!.latencyUs, Math.max(...r.opcodes.map((o) => o.latencyUs!.max)));
  for (const o of r.opcodes) {
    assert.equal(o.histogramUs.reduce((n, [, c]) => n + c, 0), o.count, `${o.opcode} histogram holds every request`);
    assert.ok(o.histogramUs.at(-1)![0] > o.latencyUs!.max, 'the last range holds the maximum');
  }
  assert.deepEqual(r.denials, [], 'bindfs answers FLUSH with ENOSYS: no denial guesses');
});

test('the trace view: a histogram per opcode, the timeline from 0, the failed requests — as many as the report counts', async () => {
  const path = join(FIX, 'bindfs.ftrace');
  const view = await traceView(openTraceSource(path));
  assert.equal(view.path, path);
  const r = view.report;
  assert.deepEqual(
    Object.fromEntries(view.histograms.map((h) => [h.opcode, h.counts.reduce((a, b) => a + b, 0)])),
    Object.fromEntries(r.opcodes.map((o) => [o.opcode, o.count])),
  );
  for (const h of view.histograms) assert.equal(h.counts.length, h.bucketsUs.length + 1, 'one bucket past the last bound');
  assert.equal(view.timeline.length, r.requests);
  assert.equal(view.timeline[0]!.startUs, 0);
  assert.ok(view.timeline.every((t, i) => i === 0 || t.startUs! >= view.timeline[i - 1]!.startUs!), 'in time order');
  assert.equal(view.failedCount, r.opcodes.reduce((n, o) => n + o.errors, 0));
  assert.deepEqual(view.failed.map((f) => f.errno).sort(), ['ENODATA', 'ENOENT', 'ENOENT', 'ENOSYS']);
  assert.deepEqual(view.slowest.map((s) => s.unique), r.slowest.map((s) => s.unique));
});

test('openTraceSource: a missing file fails at once; a file stopped after its first chunk fails with ECANCELED', async (t) => {
  assert.throws(() => openTraceSource(join(FIX, 'no-such.ftrace')), { code: 'ENOENT' });
  const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-source-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'big.ftrace');
  fs.writeFileSync(path, fixture('bindfs.ftrace').repeat(1000)); // several 1 MB chunks
  const stop = new AbortController();
  const seen: number[] = [];
  const source = openTraceSource(path, { signal: stop.signal, onProgress: (bytes) => (seen.push(bytes), stop.abort()) });
  assert.deepEqual([source.live, source.size], [false, fs.statSync(path).size]);
  await assert.rejects(analyzeTrace(source), { code: 'ECANCELED' });
  assert.deepEqual(seen, [1 << 20], 'stopped before the second chunk');
  assert.equal(source.stopped(), false, 'a file is abandoned, not summarised');
});

test('capture start in words: the capture header, else the first timestamp in the source clock', () => {
  assert.equal(captureStartText({ captureStarted: '2026-11-25T14:33:08.934Z', startedAt: 5 }, 'x'), '2026-11-25T14:33:08.934Z');
  assert.equal(captureStartText({ format: 'strace', startedAt: 36_000_500_000 }, 'x'), '10:00:00.500');
  assert.equal(captureStartText({ format: 'lab-jsonl', startedAt: Date.UTC(2026, 0, 2) * 1000 }, 'x'), '2026-01-02T00:00:00.000Z');
  assert.equal(captureStartText({ format: 'libfuse-debug', startedAt: null }, 'x.log'), 'the start of x.log');
});

test('strace of a multithreaded bindfs: <unfinished ...> and resumed halves joined, every request paired', async () => {
  const text = fixture('bindfs-multithreaded.strace');
  assert.ok((text.match(/<unfinished \.\.\.>/g) ?? []).length > 100);
  const r = await analyze(text);
  assert.equal(r.format, 'strace');
  assert.deepEqual(counts(r), {
    FUSE_LOOKUP: [12, 0], FUSE_OPEN: [12, 0], FUSE_READ: [12, 0], FUSE_RELEASE: [12, 0], FUSE_GETATTR: [11, 0], FUSE_FLUSH: [1, 1],
  });
  assert.deepEqual([r.requests, r.unmatched, r.badLines], [60, 0, 0]);
  assert.deepEqual(r.inodes?.map((i) => i.name).sort(), Array.from({ length: 12 }, (_, i) => `f${i + 1}`).sort());
  // Decoded request bodies: READ offset/size, LOOKUP names, requester pids.
  const reads: SendEvent[] = [];
  await readTrace(Readable.from([Buffer.from(text)]), {
    event: (e) => void (e.kind === 'send' && e.body?.op === 'read' && reads.push(e)), lost() {}, bad() {}, warning() {},
  });
  assert.equal(reads.length, 12);
  for (const e of reads) {
    assert.ok(e.body?.op === 'read' && e.body.read.offset === 0 && e.body.read.size === 4096);
    assert.ok(e.pid! > 0 && e.tid! > 0 && Number(e.nodeid) > 1);
  }
});

test('strace: OPEN reply flags, names and warnings; without -T the caveat is said', async () => {
  const r = await analyzeTrace(openTraceSource(join(FIX, 'bindfs-kernel-cache.strace')));
  assert.deepEqual(r.connections, [41], 'from the capture header');
  assert.deepEqual(r.inodes, [
    {
      connection: 41, nodeid: 2, ino: 2146513, name: 'a.txt', mode: 'idle', iocachectr: 0, backingId: null, opensSeen: 1, openFiles: 0,
      lastOpenFlags: ['keep_cache'], backingPath: null,
      lastOpen: { ts: 52389235659, pid: 22270, comm: null, flags: ['keep_cache'], backingId: null, outcome: 'ok' },
    },
  ]);
  assert.equal(r.captureStarted, '2026-11-25T14:33:08.934Z');
  assert.deepEqual(reconstructedModes(r.inodes ?? [], captureStartText(r, 'a.strace')), [
    { ino: 2146513, nodeid: 2, name: 'a.txt', connection: 41, mode: 'idle', iocachectr: 0, since: '2026-11-25T14:33:08.934Z' },
  ]);
  assert.ok(r.warnings.some((w) => w.includes('splice')));
  const noT = await analyze(fixture('bindfs-multithreaded.strace').replace(/ <\d+\.\d+>$/gm, ''));
  assert.equal(noT.requests, 60);
});

test('strace: readv and write lines decode as read and writev do', async () => {
  const text = fixture('bindfs-kernel-cache.strace');
  const other = text
    .split('\n')
    .map((l) =>
      l
        .replace(/ read\((\d+), ("[^"]*"), (\d+)\)/, ' readv($1, [{iov_base=$2, iov_len=$3}], 1)')
        .replace(/ read\((\d+),  <detached/, ' readv($1,  <detached')
        .replace(/ writev\((\d+), \[(.*)\], \d+\) = (\d+)/, (_m, fd: string, iovs: string, n: string) =>
          ` write(${fd}, "${[...iovs.matchAll(/iov_base="([^"]*)"/g)].map((m) => m[1]).join('')}", ${n}) = ${n}`),
    )
    .join('\n');
  assert.ok(/ readv\(/.test(other) && / write\(/.test(other) && !/ writev\(| read\(/.test(other), 'every call rewritten');
  const [a, b] = await Promise.all([analyze(text), analyze(other)]);
  assert.ok(a.requests > 0);
  assert.deepEqual({ ...b, warnings: [] }, { ...a, warnings: [] });
});

test('strace -y with -xx (escaped fd paths) and a too small -s: every cut request is reported with the fix', async () => {
  const r = await analyzeTrace(openTraceSource(join(FIX, 'bindfs-s32-y.strace')));
  assert.equal(r.format, 'strace');
  assert.equal(r.badLines, 6);
  assert.ok(r.bad.every((b) => /printed only 32 bytes .* -s 1048576/.test(b.why)));
  assert.equal(r.orphanReplies, 6, 'their replies are still read');
});

test('libfuse debug logs of libfuse 2.9 (bindfs -d) and 3.14 (squashfuse -d)', async () => {
  const b = await analyzeTrace(openTraceSource(join(FIX, 'bindfs-d.log')));
  assert.equal(b.format, 'libfuse-debug');
  assert.deepEqual(counts(b), {
    FUSE_LOOKUP: [3, 2], FUSE_GETATTR: [2, 0], FUSE_RELEASE: [2, 0], FUSE_READDIR: [2, 0], FUSE_OPEN: [1, 0], FUSE_READ: [1, 0],
    FUSE_WRITE: [1, 0], FUSE_GETXATTR: [1, 1], FUSE_FLUSH: [1, 1], FUSE_INIT: [1, 0], FUSE_OPENDIR: [1, 0], FUSE_RELEASEDIR: [1, 0],
    FUSE_CREATE: [1, 0],
  });
  assert.deepEqual([b.unmatched, b.badLines], [0, 0]);
  assert.ok(b.opcodes.every((o) => o.latencyUs === null), 'the log has no clock');
  assert.deepEqual(b.inits.map((i) => [i.major, i.minor, i.flags]), [[7, 19, ['async_read', 'export_support']]]);
  assert.equal(b.inodes, undefined, 'no reply open flags in a debug log');
  const s = await analyzeTrace(openTraceSource(join(FIX, 'squashfuse-d.log')));
  assert.equal(s.requests, 12);
  assert.deepEqual(s.inits.map((i) => [i.major, i.minor]), [[7, 31]]);
  assert.ok(s.inits[0]!.flags.includes('do_readdirplus'));
  const events: TraceEvent[] = [];
  await readTrace(Readable.from([fixture('squashfuse-d.log')]), { event: (e) => void events.push(e), lost() {}, bad() {}, warning() {} });
  const lookup = events.find((e) => e.kind === 'send' && e.body?.op === 'lookup');
  assert.ok(lookup?.kind === 'send' && lookup.body?.op === 'lookup' && lookup.body.name === 'a.txt' && lookup.pid === 4588);
});

test('recorded refused open (lab mount, Linux 6.18): the signature in the lab log and in tracefs', async () => {
  const lab = await analyzeTrace(openTraceSource(join(FIX, 'lab-refused-open.jsonl')));
  assert.equal(lab.denials.length, 1);
  assert.equal(lab.denials[0]!.rule, 'cached-open-on-passthrough-inode');
  assert.equal(lab.denials[0]!.name, 'hello.txt');
  assert.deepEqual(lab.inits.map((i) => i.passthrough), [true]);
  const kernel = await analyzeTrace(openTraceSource(join(FIX, 'lab-refused-open.ftrace')));
  assert.equal(kernel.denials.length, 1);
  assert.equal(kernel.denials[0]!.pid, lab.denials[0]!.pid);
});

test('refusals: the first listLimit are listed, all are counted (a long capture may hold one per open)', async () => {
  const text = manyRefusalsFtrace(150);
  const all = await analyze(text);
  assert.deepEqual([all.denials.length, all.denialsCount], [100, 150]);
  assert.deepEqual(all.denials.map((d) => d.unique).slice(0, 2), [100, 104]);
  assert.ok(all.denials.every((d) => d.certainty === 'proven'));
  const few = await analyzeTrace(Readable.from([Buffer.from(text)]), { listLimit: 3 });
  assert.deepEqual([few.denials.map((d) => d.unique), few.denialsCount], [[100, 104, 108], 150]);
  const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-trace-denials-'));
  try {
    fs.writeFileSync(join(dir, 'many.ftrace'), text);
    const human = await cli(['trace', join(dir, 'many.ftrace')]);
    assert.match(human.out, /refused opens \(100\):/);
    assert.match(human.out, /150 refused or possibly refused opens in all: the first 100 are listed above/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('refusals beyond the list that a later FLUSH proves: the inode still shows its last open refused', async () => {
  // The lab's refused open (pid 4394's cached OPEN of the passthrough inode, released at once) three times before any FLUSH.
  const lines = fixture('lab-refused-open.jsonl').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const withUnique = (l: Record<string, unknown>, unique: number) => JSON.stringify({ ...l, unique });
  const refused = [0, 1, 2].flatMap((i) => lines.slice(8, 12).map((l, k) => withUnique(l, 100 + i * 4 + (k >> 1) * 2)));
  const text = [...lines.slice(0, 8).map((l) => JSON.stringify(l)), ...refused, ...lines.slice(12, 14).map((l) => JSON.stringify(l)), ''].join('\n');
  const listed = await analyzeTrace(Readable.from([Buffer.from(text)]), { listLimit: 1 });
  const all = await analyzeTrace(Readable.from([Buffer.from(text)]));
  assert.deepEqual(all.denials.map((d) => [d.unique, d.certainty]), [[100, 'proven'], [104, 'proven'], [108, 'proven']]);
  assert.deepEqual([listed.denials.map((d) => [d.unique, d.certainty]), listed.denialsCount], [[[100, 'proven']], 3]);
  assert.equal(listed.inodes![0]!.lastOpen!.outcome, 'refused');
  assert.deepEqual(listed.inodes, all.inodes);
});

test('disagreements of the model and the capture: one warning per open up to listLimit, the rest counted', async () => {
  // The lab's refused open (a cached OPEN of the passthrough inode) 150 times, each flushed
  // before its RELEASE: the capture says every one of them was a file, the model says refused.
  const lines = fixture('lab-refused-open.jsonl').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { args?: object; reply?: object });
  const [open, openReply, release, releaseReply, flush, flushReply] = lines.slice(8, 14) as typeof lines;
  const body = Array.from({ length: 150 }, (_, i) => {
    const u = 100 + i * 8;
    const fh = 10 + i;
    return [
      { ...open, unique: u }, { ...openReply, unique: u, reply: { ...openReply!.reply, fh } },
      { ...flush, unique: u + 2, args: { fh } }, { ...flushReply, unique: u + 2 },
      { ...release, unique: u + 4, args: { ...release!.args, fh } }, { ...releaseReply, unique: u + 4 },
    ];
  });
  const text = [...lines.slice(0, 8), ...body.flat()].map((l) => JSON.stringify(l)).join('\n') + '\n';
  const r = await analyzeTrace(Readable.from([Buffer.from(text)]));
  const said = r.warnings.filter((w) => /^the model says OPEN unique \d+ was refused/.test(w));
  assert.equal(said.length, 100);
  assert.ok(r.warnings.includes('50 more OPEN(s) the model says were refused were flushed: the capture disagrees with the model there too (not listed)'), JSON.stringify(r.warnings.slice(-2)));
});

// ---- damaged input ----

const ftraceLines = () => fixture('bindfs.ftrace').split('\n');

test('bad tracefs input: truncated lines, lost markers, out of order, missing halves, garbage — counted, never thrown', async () => {
  const lines = ftraceLines();
  const events = lines.filter((l) => l.includes('fuse_request_'));
  const first = lines.findIndex((l) => l.includes('fuse_request_send'));
  // 1. A send whose fields are cut off, and one cut in the middle of its timestamp.
  const cut = [...lines];
  cut[first] = cut[first]!.slice(0, cut[first]!.indexOf(' req '));
  cut[first + 2] = cut[first + 2]!.slice(0, cut[first + 2]!.indexOf('.') + 3);
  let r = await analyze(cut.join('\n'));
  assert.equal(r.badLines, 2);
  assert.equal(r.orphanReplies, 2, 'their replies have no request');
  assert.equal(r.requests, 17);
  assert.match(r.bad[0]!.why, /truncated fuse_request_send/);
  // 2. Lost-event markers.
  r = await analyze([...lines.slice(0, 5), 'CPU:1 [LOST 17 EVENTS]', ...lines.slice(5), 'CPU:0 [LOST 3 EVENTS]'].join('\n'));
  assert.equal(r.lost, 20);
  assert.ok(r.warnings.some((w) => w.includes('dropped 20')));
  // 3. Out of order across CPUs: every end before its send.
  const swapped: string[] = [];
  for (let i = 0; i < events.length; i += 2) swapped.push(events[i + 1]!, events[i]!);
  r = await analyze(swapped.join('\n'), 'ftrace');
  assert.deepEqual([r.requests, r.outOfOrder, r.unmatched], [19, 19, 0]);
  const ordered = await analyze(events.join('\n'), 'ftrace');
  assert.deepEqual(r.opcodes.map((o) => o.latencyUs), ordered.opcodes.map((o) => o.latencyUs), 'latency from the timestamps, not the line order');
  // 4. A request without reply and a reply without request.
  const open = events.findIndex((l) => l.includes('(FUSE_OPEN)'));
  const noEnd = events.filter((_, i) => i !== open + 1);
  r = await analyze(noEnd.join('\n'), 'ftrace');
  assert.deepEqual([r.inFlightCount, r.orphanReplies, r.requests], [1, 0, 18]);
  assert.equal(r.inFlight[0]!.opcode, 'FUSE_OPEN');
  const noSend = events.filter((_, i) => i !== open);
  r = await analyze(noSend.join('\n'), 'ftrace');
  assert.deepEqual([r.inFlightCount, r.orphanReplies, r.unmatched], [0, 1, 1]);
  // 5. Garbage bytes between the lines, and a file that is only garbage.
  const noise = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x5b, 0x5d, 0x2d, 0x3a, 10, 0x80, 0x81]);
  r = await analyze(Buffer.concat([Buffer.from(lines.slice(0, 10).join('\n') + '\n'), noise, Buffer.from(lines.slice(10).join('\n'))]));
  assert.equal(r.requests, 19, 'the line after the noise still parses (its comm starts with the stray bytes)');
  assert.equal(r.badLines, 1);
  await assert.rejects(analyze(Buffer.concat([noise, noise])), UnknownFormatError);
});

test('tracefs layouts: the fixed-width default and every other column layout give the same events', async () => {
  const events = async (text: string) => {
    const got: TraceEvent[] = [];
    const r = await analyzeTrace(Readable.from([Buffer.from(text)]), { format: 'ftrace', onEvent: (e) => got.push(e) });
    assert.equal(r.badLines, 0, JSON.stringify(r.bad));
    return got.map((e) => (e.kind === 'send' ? [e.kind, e.comm, e.pid, e.ts, e.unique, e.opcode, e.len] : e.kind === 'end' ? [e.kind, e.comm, e.tid, e.ts, e.unique, e.len, e.error] : [e.kind]));
  };
  const send = ' fuse_request_send: connection 42 req 4 opcode 3 (FUSE_GETATTR) len 56 ';
  const end = ' fuse_request_end: connection 42 req 4 len 120 error -2';
  const want = (comm: string, pid: number, ts: number) => [
    ['send', comm, pid, ts, 4, 3, 56],
    ['end', comm, pid, ts + 84, 4, 120, -2],
  ];
  const layouts: Array<[string, string, number, number, string, string]> = [
    // [task column, what follows it up to the timestamp, ...]: the default first.
    ['             cat-4445   ', ' [001] ...1. ', 331102692, 4445, 'cat', ' 331.102692:'],
    ['  kworker/u8:2-1234567 ', ' [000] d..1. ', 5000000, 1234567, 'kworker/u8:2', '   5.000000:'],
    ['          my-app-77     ', ' [003] ..... ', 1000, 77, 'my-app', '   0.001000:'],
    ['      my app x-77     ', '  (     77) [003] ..... ', 1000, 77, 'my app x', '   0.001000:'],
    ['             cat-12345678 ', ' [001] ...1. ', 331102692, 12345678, 'cat', ' 331.102692:'],
    ['             cat-4445   ', ' [1023] ...1. ', 331102692, 4445, 'cat', ' 331.102692:'],
    ['             cat-4445   ', ' [001] d..1 ', 331102692, 4445, 'cat', ' 331.102692:'], // 4 flags (kernels before 5.x)
    ['             cat-4445   ', ' [001]', 331102692, 4445, 'cat', ' 331.102692:'], // options/irq-info off
    ['             cat-4445   ', ' [001] ...1. ', 331102692, 4445, 'cat', ' 331.102692123:'], // ns fraction cut to µs
    ['             cat-4445   ', ' [001] ...1. ', 331102692, 4445, 'cat', ' 331102692:'], // counter clock: the number as is
  ];
  for (const [task, middle, ts, pid, comm, stamp] of layouts) {
    const endStamp = stamp.includes('.') ? stamp.replace(/\.(\d{6})/, (_, f: string) => `.${String(Number(f) + 84).padStart(6, '0')}`) : ` ${ts + 84}:`;
    const text = `${task}${middle}${stamp}${send}\n${task}${middle}${endStamp}${end}\n`;
    assert.deepEqual(await events(text), want(comm, pid, ts), text);
  }
});

test('a capture without replies (only fuse_request_send enabled): memory bounded, what was not paired is said', async () => {
  const sends = Array.from(
    { length: 150_000 },
    (_, i) => `             cat-4445    [000] ...1.  ${1000 + Math.floor(i / 1000)}.${String(i % 1000).padStart(6, '0')}: fuse_request_send: connection 42 req ${2 * i + 2} opcode 3 (FUSE_GETATTR) len 56 `,
  );
  const r = await analyze(sends.join('\n') + '\n');
  assert.deepEqual([r.events, r.requests, r.inFlightCount], [150_000, 0, 100_000], 'at most 100,000 requests kept waiting per connection');
  assert.equal(r.opcodes[0]!.sent, 150_000, 'every request is still counted as sent');
  assert.ok(r.warnings.some((w) => w.startsWith('50000 request(s) were sent while 100000 others were still waiting')), r.warnings.join('\n'));
});

test('fuse_request_sent (7.x kernels): queue time becomes the daemon track in the export', async () => {
  // 6.18 has no fuse_request_sent: insert one (the daemon picking the request up) after each send.
  const lines = ftraceLines().filter((l) => l.includes('fuse_request_'));
  const withSent: string[] = [];
  for (const l of lines) {
    withSent.push(l);
    const m = / +(\d+\.\d+): fuse_request_send: connection (\d+) req (\d+) opcode (\d+) (\(\w+\))/.exec(l);
    if (m) withSent.push(`          bindfs-777     [001] .....  ${m[1]}: fuse_request_sent: connection ${m[2]} req ${m[3]} opcode ${m[4]} ${m[5]}`);
  }
  const chunks: string[] = [];
  const r = await exportPerfetto(Readable.from([withSent.join('\n')]), (t) => chunks.push(t));
  assert.deepEqual([r.events, r.requests, r.badLines], [57, 19, 0]);
  const doc = JSON.parse(chunks.join('')) as { traceEvents: Array<Record<string, unknown>> };
  const daemon = doc.traceEvents.filter((e) => e.cat === 'daemon');
  assert.equal(daemon.length, 19);
  assert.ok(daemon.every((e) => e.ph === 'X' && e.tid === 777));
});

test('bad strace, libfuse and lab input is counted', async () => {
  const st = fixture('bindfs-kernel-cache.strace').split('\n');
  const read = st.findIndex((l) => / read\(/.test(l));
  // A read cut inside its hex string (no result), a resumed half without its start, a short read.
  const damaged = [...st];
  damaged[read] = damaged[read]!.slice(0, 120);
  damaged.push('123 10:00:00.000001 <... read resumed>"\\x01", 135168) = 1 <0.000001>');
  damaged.push('123 10:00:00.000002 read(4, "\\x01\\x02", 135168) = 2 <0.000001>');
  let r = await analyze(damaged.join('\n'));
  assert.equal(r.badLines, 3);
  assert.equal(r.orphanReplies, 1);
  // libfuse: foreign lines are ignored, a reply without request is an orphan.
  r = await analyze(fixture('bindfs-d.log') + '\nsome filesystem chatter\n   unique: 999, success, outsize: 16\n');
  assert.deepEqual([r.orphanReplies, r.badLines], [1, 0]);
  // lab-jsonl: a truncated object and an unknown type.
  const lab = fixture('lab-refused-open.jsonl').split('\n');
  r = await analyze([...lab.slice(0, 3), lab[3]!.slice(0, 40), '{"type":"banana","time":1}', ...lab.slice(4)].join('\n'));
  assert.equal(r.badLines, 2);
});

test('lines: long lines are skipped and reported, memory bounded; CRLF and missing final newline handled', () => {
  const got: string[] = [];
  const over: number[] = [];
  const s = new LineSplitter((b, start, end) => got.push(b.toString('utf8', start, end)), (n, len) => over.push(n, len), 64);
  s.push(Buffer.from('one\r\ntw'));
  s.push(Buffer.from('o\n' + 'x'.repeat(50)));
  s.push(Buffer.from('y'.repeat(50) + '\nthree'));
  s.end();
  assert.deepEqual(got, ['one', 'two', 'three']);
  assert.deepEqual(over, [3, 100]);
});

test('property: arbitrary bytes through every reader never throw (but say so when nothing was understood)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.constantFrom(...TRACE_FORMATS), async (bytes, format) => {
      const r = await analyze(Buffer.from(bytes), format).catch((err: unknown) => {
        if (err instanceof UnknownFormatError && /none of its \d+ line\(s\) was understood/.test(err.message)) return null;
        throw err;
      });
      if (r) assert.equal(r.format, format);
    }),
    { numRuns: 300 },
  );
  // Real lines with random cuts and splices.
  const pool = [fixture('bindfs.ftrace'), fixture('bindfs-multithreaded.strace').slice(0, 6000), fixture('bindfs-d.log'), fixture('lab-refused-open.jsonl')];
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 3 }), fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 8 }), async (which, cuts) => {
      let text = pool[which]!;
      for (const [a, b] of cuts) {
        const i = a % Math.max(1, text.length);
        text = text.slice(0, i) + text.slice(i + (b % 40));
      }
      await analyze(text, TRACE_FORMATS[which === 0 ? 0 : which === 1 ? 1 : which === 2 ? 2 : 3]);
    }),
    { numRuns: 200 },
  );
});

test('Perfetto export: one track per requesting process, daemon threads, valid JSON', async () => {
  const chunks: string[] = [];
  const r = await exportPerfetto(fs.createReadStream(join(FIX, 'bindfs-multithreaded.strace')), (t) => chunks.push(t));
  const doc = JSON.parse(chunks.join('')) as { traceEvents: Array<Record<string, unknown>> };
  const complete = doc.traceEvents.filter((e) => e.ph === 'X');
  const requesters = complete.filter((e) => e.cat === 'fuse');
  assert.equal(requesters.length, r.requests);
  const names = doc.traceEvents.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => (e.args as { name: string }).name);
  assert.equal(names.filter((n) => /^pid \d+$/.test(n)).length, 12, 'twelve cat processes');
  assert.ok(names.includes('kernel (pid 0 requests)'));
  assert.ok(names.some((n) => n.startsWith('FUSE daemon')));
  const daemonThreads = new Set(complete.filter((e) => e.cat === 'daemon').map((e) => e.tid));
  assert.ok(daemonThreads.size > 1, `several daemon threads (${daemonThreads.size})`);
  for (const e of requesters) assert.ok(typeof e.ts === 'number' && typeof e.dur === 'number' && (e.dur as number) >= 0);
  // tracefs: requesters named by comm, daemon replies as instants.
  const k: string[] = [];
  await exportPerfetto(fs.createReadStream(join(FIX, 'bindfs.ftrace')), (t) => k.push(t));
  const kdoc = JSON.parse(k.join('')) as { traceEvents: Array<Record<string, unknown>> };
  assert.ok(kdoc.traceEvents.some((e) => e.ph === 'M' && (e.args as { name: string }).name.startsWith('cat ')));
  assert.ok(kdoc.traceEvents.some((e) => e.ph === 'i' && e.cat === 'daemon'));
});

test('fuselens trace: --json is one document with the contract fields; errors exit 2', async () => {
  const r = await cli(['trace', join(FIX, 'bindfs.ftrace'), '--json']);
  assert.equal(r.code, 0);
  const doc = JSON.parse(r.out) as Record<string, unknown>;
  for (const key of ['format', 'events', 'requests', 'unmatched', 'lost', 'connections', 'opcodes', 'slowest', 'denials'])
    assert.ok(key in doc, key);
  const op = (doc.opcodes as Array<Record<string, unknown>>)[0]!;
  for (const key of ['opcode', 'count', 'errors', 'errnos', 'latencyUs']) assert.ok(key in op, key);
  const slow = (doc.slowest as Array<Record<string, unknown>>)[0]!;
  for (const key of ['connection', 'unique', 'opcode', 'pid', 'latencyUs', 'error']) assert.ok(key in slow, key);
  const human = await cli(['trace', join(FIX, 'lab-refused-open.jsonl')]);
  assert.equal(human.code, 0);
  assert.match(human.out, /refused opens \(1\):\n  hello\.txt pid \d+ OPEN unique \d+ \(RELEASE \d+\): OPEN succeeded, kernel released it at once/);
  assert.match(human.out, /FUSE_INIT reply: 7\.45, .*passthrough on/);
  assert.equal((await cli(['trace', '/nonexistent/trace'])).code, 2);
  assert.equal((await cli(['trace'])).code, 2);
  assert.equal((await cli(['trace', join(FIX, 'bindfs.ftrace'), '--export', 'svg'])).code, 2);
  const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-trace-cli-'));
  try {
    const garbage = join(dir, 'garbage');
    fs.writeFileSync(garbage, Buffer.from([0, 1, 2, 3, 0xff, 10, 65, 66]));
    const g = await cli(['trace', garbage]);
    assert.equal(g.code, 2);
    assert.match(g.err, /not a FUSE trace/);
    const out = join(dir, 'out.json');
    const e = await cli(['trace', join(FIX, 'bindfs.ftrace'), '--export', 'perfetto', '-o', out]);
    assert.equal(e.code, 0);
    assert.ok(Array.isArray((JSON.parse(fs.readFileSync(out, 'utf8')) as { traceEvents: unknown[] }).traceEvents));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('fuselens trace - reads stdin', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'server', 'cli', 'entry.ts'), 'trace', '-', '--json'], {
    input: fs.readFileSync(join(FIX, 'squashfuse-d.log')),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { format: string }).format, 'libfuse-debug');
});

test('fuselens trace on a big file: progress on stderr only when it is a terminal', (t) => {
  // 70 MB of the bindfs capture's events: over the 64 MB from which the CLI shows progress.
  const events = fixture('bindfs.ftrace').split('\n').filter((l) => l.includes('fuse_request_'));
  const block = Buffer.from(Array.from({ length: 500 }, () => events.join('\n') + '\n').join(''));
  const path = join(tmpdir(), `fuselens-big-${process.pid}.ftrace`);
  t.after(() => fs.rmSync(path, { force: true }));
  fs.writeFileSync(path, '');
  while (fs.statSync(path).size < 70e6) fs.appendFileSync(path, block);
  const cli = `${process.execPath} --import tsx ${join(__dirname, '..', '..', 'server', 'cli', 'entry.ts')} trace ${path} --json`;
  // script(1) gives the command a terminal; its output is what the terminal showed (stderr included).
  const tty = spawnSync('script', ['-qec', `${cli} > /dev/null`, '/dev/null'], { encoding: 'latin1' });
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /\rfuselens trace: read \d+ of 7\d MB \(\d+%\)/);
  assert.ok(tty.stdout.endsWith('\r\x1b[K'), 'the progress line is cleared at the end');
  const piped = spawnSync('sh', ['-c', `${cli} > /dev/null`], { encoding: 'utf8' });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stderr, '', 'nothing on a stderr that is not a terminal');
});

test('fuselens trace on a source that does not end (FIFO, pipe on stdin): Ctrl-C summarises what was read', async (t) => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-live-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'trace_pipe');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const lines = fixture('bindfs.ftrace');
  const cli = [process.execPath, '--import', 'tsx', join(__dirname, '..', '..', 'server', 'cli', 'entry.ts'), 'trace'];
  // The FIFO named on the command line (read non-blocking and polled), a FIFO as stdin (opened
  // again through /proc/self/fd/0, as a shell pipe would be), and node's socket pair as stdin (a stream).
  const sources = {
    path: () => spawn(cli[0]!, [...cli.slice(1), fifo, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    'redirected stdin': () => spawn('sh', ['-c', `exec "$@" - --json < '${fifo}'`, 'sh', ...cli], { stdio: ['ignore', 'pipe', 'pipe'] }),
    'socket stdin': () => spawn(cli[0]!, [...cli.slice(1), '-', '--json'], { stdio: ['pipe', 'pipe', 'pipe'] }),
  };
  for (const [source, start] of Object.entries(sources)) {
    const child = start();
    t.after(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += String(d)));
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // The writer stays open: without the signal the reading would never end.
    const writer = child.stdin ? null : await fs.promises.open(fifo, 'w'); // opens once the other end is open
    if (writer) await writer.write(lines);
    else child.stdin!.write(lines);
    await until(() => /waiting for more of/.test(stderr), `${source}: the CLI to wait for more input`);
    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /SIGINT: reading stopped/);
    const r = JSON.parse(stdout) as TraceReport;
    assert.deepEqual([r.format, r.events, r.requests], ['ftrace', 38, 19], `${source}: everything written before the signal is in the summary`);
    assert.match(r.warnings[0] ?? '', /does not end: this is what was read until the reading was stopped/);
    await writer?.close();
    child.stdin?.end();
  }
});

test('strace timestamps: -tt (read at fixed places), -ttt and a capture across midnight give the same latencies', async () => {
  const text = fs.readFileSync(join(__dirname, '..', 'fixtures', 'real-servers', 'mt8-false-refusal.strace'), 'utf8');
  const stamp = /^(\d+ )(\d\d):(\d\d):(\d\d)\.(\d{6}) /gm;
  const us = (h: string, m: string, s: string, f: string) => ((Number(h) * 60 + Number(m)) * 60 + Number(s)) * 1e6 + Number(f);
  const first = stamp.exec(text)!;
  const start = us(first[2]!, first[3]!, first[4]!, first[5]!);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  // Seconds since the epoch (-ttt); the same capture moved so that midnight falls between its first request (INIT,
  // 0.800699 s after the first line) and the reply (0.801012 s after it).
  const epoch = text.replace(stamp, (_m, pid: string, h: string, m: string, s: string, f: string) => {
    const t = us(h, m, s, f);
    return `${pid}${1_764_547_200 + Math.floor(t / 1e6)}.${pad(t % 1e6, 6)} `;
  });
  const shifted = text.replace(stamp, (_m, pid: string, h: string, m: string, s: string, f: string) => {
    const t = (us(h, m, s, f) - start + 86_399_199_000) % 86_400_000_000;
    const secs = Math.floor(t / 1e6);
    return `${pid}${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}.${pad(t % 1e6, 6)} `;
  });
  assert.match(shifted, /^\d+ 23:59:59\.999699 <\.\.\. read resumed>.*\n\d+ 00:00:00\.000012 writev/m, 'midnight between a request and its reply');
  const [a, b, c] = await Promise.all([analyze(text), analyze(epoch), analyze(shifted)]);
  assert.ok(a.requests > 100 && a.badLines === 0);
  for (const r of [b, c]) {
    assert.deepEqual(r.opcodes, a.opcodes);
    assert.equal(r.requests, a.requests);
    assert.equal(r.badLines, 0);
  }
});
