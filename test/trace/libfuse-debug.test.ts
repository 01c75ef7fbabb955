// Debug logs of real FUSE servers nobody here wrote (test/fixtures/real-servers/log-README.md):
// libfuse 2.9 (fuse-zip), 3.14 (squashfuse_ll), 3.18.2 (passthrough_hp, with its own debug
// lines cutting into libfuse's) and bazil.org/fuse (rclone). The counts asserted are the
// recording workload's own (so many open() calls, so many creates), not the reader's output.
// Also: a forced --format on a file of another format, a file mostly of other lines, tracefs's
// `<...>` comm, and live fuse-zip / bindfs mounts with -d (skipped with the reason when they cannot run).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { cli } from '../support/cli';
import { TRACE_FORMATS, UnknownFormatError, analyzeTrace, openTraceSource, readTrace, type SendEvent, type TraceEvent, type TraceReport } from '../../server/trace';
import { mountWith, scratch } from '../support/fuse-mounts';

const REAL = join(__dirname, '..', 'fixtures', 'real-servers');
const TRACES = join(__dirname, '..', 'fixtures', 'trace');
const run = promisify(execFile);

/** opcode → [paired, errors], for the opcodes seen. */
const byOpcode = (r: TraceReport) => Object.fromEntries(r.opcodes.map((o) => [o.opcode, [o.count, o.errors]]));
const analyzeText = (text: string) => analyzeTrace(Readable.from([Buffer.from(text)]));

test('libfuse 3.18.2 (passthrough_hp --debug --debug-fuse, 8 threads): split lines re-read, the server\'s lines skipped', async () => {
  const file = join(REAL, 'log-passthrough_hp-3.18.2-debug.log');
  const text = fs.readFileSync(file, 'utf8');
  // The recording really has libfuse lines behind a fragment of passthrough_hp's own output.
  assert.ok(text.split('\n').filter((l) => /.dev unique: \d+, opcode: OPEN/.test(l)).length >= 3, 'split OPEN lines in the fixture');
  const r = await analyzeTrace(openTraceSource(file));
  assert.equal(r.format, 'libfuse-debug');
  // Workload: 8 threads × 20 open/read/close of their own file (passthrough: no READ reaches the
  // server), one create + write each, one stat of a missing name each (passthrough_hp answers a
  // negative entry, not ENOENT); GETXATTR security.capability of the written files: ENODATA.
  assert.deepEqual(byOpcode(r), {
    FUSE_RELEASE: [168, 0], FUSE_FLUSH: [168, 0], FUSE_OPEN: [160, 0], FUSE_LOOKUP: [24, 0], FUSE_GETATTR: [16, 0],
    FUSE_GETXATTR: [8, 8], FUSE_CREATE: [8, 0], FUSE_STATFS: [1, 0], FUSE_INIT: [1, 0],
  });
  assert.deepEqual([r.unmatched, r.badLines], [0, 0]);
  assert.equal(r.processes.filter((p) => p.pid !== 0 && p.requests >= 40).length, 8, 'the 8 workload threads');
  assert.ok(!r.warnings.some((w) => /not libfuse debug output/.test(w)), 'passthrough_hp\'s DEBUG lines are a minority, not a problem');
  // 3.18 prints the reply's flags before setting them; max_stack_depth shows passthrough.
  assert.deepEqual(r.inits.map((i) => [i.major, i.minor, i.passthrough, i.maxStackDepth]), [[7, 45, true, 1]]);
  assert.ok(r.warnings.some((w) => /libfuse >= 3\.18 logs the INIT reply's flags before it sets them/.test(w)));
});

test('libfuse 3.18 over io_uring: `cqe unique:` requests and the `unique: N, result=` commit lines', async () => {
  // The recorded /dev/fuse log turned into what 3.18's io_uring path prints (lib/fuse_lowlevel.c
  // "cqe unique: ...", lib/fuse_uring.c "    unique: %llu, result=%d" after each reply line): on the
  // recording machine libfuse's io-uring did not start (EOPNOTSUPP), so there is no real one.
  const dev = fs.readFileSync(join(REAL, 'log-passthrough_hp-3.18.2-nopassthrough.log'), 'utf8').split('\n');
  const cqe = dev.flatMap((l) => {
    const reply = /^ {3}unique: (\d+), (?:success|error: -?\d+ \([^)]*\)), outsize: (\d+)/.exec(l);
    return reply ? [l, `    unique: ${reply[1]}, result=${Number(reply[2]) - 16}`] : [l.replace(/dev unique: /, 'cqe unique: ')];
  });
  assert.ok(cqe.some((l) => l.startsWith('cqe unique: ')) && cqe.some((l) => /result=/.test(l)));
  const before = await analyzeTrace(openTraceSource(join(REAL, 'log-passthrough_hp-3.18.2-nopassthrough.log')));
  const after = await analyzeText(cqe.join('\n'));
  assert.deepEqual(byOpcode(after), byOpcode(before));
  assert.deepEqual([after.unmatched, after.badLines, after.warnings], [0, 0, before.warnings]);
});

test('libfuse 3.18.2 (passthrough_hp --debug-fuse --nopassthrough --nocache): READ and WRITE reach the server', async () => {
  const r = await analyzeTrace(openTraceSource(join(REAL, 'log-passthrough_hp-3.18.2-nopassthrough.log')));
  // Workload: 8 threads × 10 open/read/close, a create + 1-byte write and a missing stat each.
  const c = byOpcode(r);
  assert.deepEqual([c.FUSE_OPEN, c.FUSE_READ, c.FUSE_CREATE, c.FUSE_WRITE, c.FUSE_RELEASE], [[80, 0], [80, 0], [8, 0], [8, 0], [88, 0]]);
  assert.deepEqual([r.unmatched, r.badLines, r.requests], [0, 0, 651]);
});

test('libfuse 2.9.9 (fuse-zip -d): threads and processes sharing one file', async () => {
  const r = await analyzeTrace(openTraceSource(join(REAL, 'log-fuse-zip-0.5.0.log')));
  assert.equal(r.format, 'libfuse-debug');
  // Workload: 8 threads × 10 opens of their own file + create/write + a missing stat, then
  // 4 processes × 10 opens of f0: 120 OPENs, each with a READ; LOOKUP ENOENT for the 8 new
  // names and the 8 missing ones.
  assert.deepEqual(byOpcode(r), {
    FUSE_RELEASE: [128, 0], FUSE_FLUSH: [128, 0], FUSE_OPEN: [120, 0], FUSE_READ: [120, 0], FUSE_LOOKUP: [24, 16],
    FUSE_WRITE: [8, 0], FUSE_GETXATTR: [8, 8], FUSE_CREATE: [8, 0], FUSE_GETATTR: [1, 0], FUSE_INIT: [1, 0],
  });
  assert.deepEqual([r.unmatched, r.badLines, r.warnings], [0, 0, []]);
  assert.deepEqual(r.inits.map((i) => [i.major, i.minor]), [[7, 19]]);
});

test('libfuse 3.14.0 (squashfuse_ll -d, low-level API)', async () => {
  const r = await analyzeTrace(openTraceSource(join(REAL, 'log-squashfuse_ll-0.1.105.log')));
  // Workload (read-only): 8 threads × 10 open/read/close, a missing stat each. FLUSH is ENOSYS once, then never sent.
  assert.deepEqual(byOpcode(r), {
    FUSE_OPEN: [80, 0], FUSE_RELEASE: [80, 0], FUSE_LOOKUP: [16, 0], FUSE_READ: [8, 0], FUSE_FLUSH: [1, 1], FUSE_INIT: [1, 0],
  });
  assert.deepEqual([r.unmatched, r.badLines, r.warnings], [0, 0, []]);
});

test('bazil.org/fuse (rclone 1.60.1 mount --debug-fuse -vv, microseconds): read, with latencies', async () => {
  const r = await analyzeTrace(openTraceSource(join(REAL, 'log-rclone-1.60.1.log')));
  assert.equal(r.format, 'bazil-debug');
  // Workload: 4 threads × 10 open/read/close, a create + write and a missing stat each, then `ls`.
  assert.deepEqual(byOpcode(r), {
    FUSE_RELEASE: [44, 0], FUSE_FLUSH: [44, 0], FUSE_OPEN: [40, 0], FUSE_READ: [40, 0], FUSE_LOOKUP: [12, 8], FUSE_WRITE: [4, 0],
    FUSE_GETXATTR: [4, 4], FUSE_CREATE: [4, 0], FUSE_GETATTR: [2, 0], FUSE_READDIR: [2, 0], FUSE_OPENDIR: [1, 0], FUSE_RELEASEDIR: [1, 0],
  });
  assert.deepEqual(r.opcodes.find((o) => o.opcode === 'FUSE_GETXATTR')!.errnos, { EIO: 4 }, 'bazil answers EIO for what rclone does not implement');
  assert.deepEqual([r.unmatched, r.badLines, r.warnings], [0, 0, []]);
  assert.ok(r.opcodes.every((o) => o.latencyUs !== null && o.latencyUs.max > 0), 'the log prefix has microseconds');
  // OPEN replies carry the handle and bazil's open flags: the io modes are replayed, names from LOOKUP/CREATE.
  assert.deepEqual(r.inodes?.map((i) => [i.name, i.opensSeen, i.openFiles]).sort(), [
    ['f0', 10, 0], ['f1', 10, 0], ['f2', 10, 0], ['f3', 10, 0], ['new0', 1, 0], ['new1', 1, 0], ['new2', 1, 0], ['new3', 1, 0],
  ]);
  assert.deepEqual(r.denials, []);
});

test('a forced --format on a file of another format: counts and the first line, exit 2', async () => {
  const asLibfuse = await cli(['trace', '--format', 'libfuse-debug', join(TRACES, 'bindfs.ftrace')]);
  assert.equal(asLibfuse.code, 2);
  assert.match(asLibfuse.err, /not libfuse-debug input: none of its 39 line\(s\) was understood; the first is "# fuselens-capture .*It looks like ftrace: leave out --format, or give --format ftrace/);
  const asFtrace = await cli(['trace', '--format', 'ftrace', join(REAL, 'log-squashfuse_ll-0.1.105.log')]);
  assert.equal(asFtrace.code, 2);
  assert.match(asFtrace.err, /not ftrace input: none of its \d+ line\(s\) was understood \(\d+ unreadable\); the first is "FUSE library version: 3\.14\.0"\. It looks like libfuse-debug/);
  // Nothing of any format: the message says what the forced format is.
  const text = 'hello\nworld\n';
  for (const format of TRACE_FORMATS) {
    const e = await analyzeTrace(Readable.from([Buffer.from(text)]), { format }).then(() => null, (err: unknown) => err);
    assert.ok(e instanceof UnknownFormatError, format);
    assert.match(e.message, new RegExp(`^not ${format} input: none of its 2 line\\(s\\) was understood.*the first is "hello"\\. ${format} is `));
  }
  // A libfuse log that only has its banner so far is understood (empty, not an error).
  const empty = await analyzeTrace(Readable.from([Buffer.from('FUSE library version: 3.18.2\n')]), { format: 'libfuse-debug' });
  assert.equal(empty.events, 0);
});

test('a go-fuse debug log is named as not read, exit 2', async () => {
  // Lines as go-fuse's fuse/request.go (InputDebug/OutputDebug) prints them; the Debian rclone has no
  // go-fuse `mount2` to record one from.
  const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-gofuse-'));
  try {
    const log = join(dir, 'go-fuse.log');
    fs.writeFileSync(log, [
      '2026/12/01 01:20:21.124001 rx 4: LOOKUP n1 ["f0"] 3b p1234',
      '2026/12/01 01:20:21.124100 tx 4:     2=no such file or directory, {n0 g0 tE=1s tA=0s {M00 SZ=0 L=0 0:0 0 0:0}}',
      '2026/12/01 01:20:21.124301 rx 6: OPEN n2 {O_RDONLY,0x8000} p1234',
      '2026/12/01 01:20:21.124400 tx 6:     OK, {Fh 1 }',
    ].join('\n') + '\n');
    const r = await cli(['trace', log]);
    assert.equal(r.code, 2);
    assert.match(r.err, /this is a go-fuse debug log \(rx N: \/ tx N: lines\), which FUSE Lens does not read: capture the daemon with `fuselens capture --daemon`/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a libfuse log that is mostly other lines says so, with the counts and the first of them', async () => {
  const log = fs.readFileSync(join(REAL, 'log-squashfuse_ll-0.1.105.log'), 'utf8').split('\n').slice(0, 40);
  const r = await analyzeText([...log, ...Array.from({ length: 100 }, (_, i) => `my fs: step ${i}`)].join('\n') + '\n');
  assert.ok(r.requests > 0);
  assert.equal(r.badLines, 0, 'other lines are not unreadable lines');
  assert.deepEqual(
    r.warnings.filter((w) => /not libfuse debug output/.test(w)),
    ['100 of 140 lines are not libfuse debug output (40 are); the first is line 41: "my fs: step 0". Is this the stderr of a libfuse server run with -d (or --debug-fuse)?'],
  );
  // The same lines as a minority: no warning.
  const few = await analyzeText([...log, 'my fs: hello'].join('\n') + '\n');
  assert.ok(!few.warnings.some((w) => /not libfuse debug output/.test(w)));
});

test('tracefs `<...>` (comm cache miss) is not a process name: the name comes from the pid\'s other lines', async () => {
  const lines = fs.readFileSync(join(TRACES, 'bindfs.ftrace'), 'utf8').split('\n');
  const cat = lines.findIndex((l) => /^ +cat-26640 /.test(l));
  assert.ok(cat > 0);
  // The first event of cat without its name (as tracefs prints it), and one later too.
  const later = lines.findIndex((l, i) => i > cat + 2 && /^ +cat-26640 .*fuse_request_send/.test(l));
  const damaged = lines.map((l, i) => (i === cat || i === later ? l.replace(/^ +cat-26640/, '           <...>-26640') : l));
  const events: TraceEvent[] = [];
  const sink = { event: (e: TraceEvent) => void events.push(e), lost() {}, bad() {}, warning() {} };
  await readTrace(Readable.from([Buffer.from(damaged.join('\n'))]), sink);
  const sends = events.filter((e): e is SendEvent => e.kind === 'send' && e.pid === 26640);
  assert.equal(sends[0]!.comm, null, 'unknown before any line names it');
  assert.ok(sends.slice(1).every((e) => e.comm === 'cat'), 'a later <...> line takes the name seen before');
  const r = await analyzeText(damaged.join('\n'));
  assert.equal(r.processes.find((p) => p.pid === 26640)?.comm, 'cat');
  assert.ok(!r.processes.some((p) => p.comm === '<...>'));
});

test('fuselens trace --help lists every format it reads', async () => {
  const help = await cli(['trace', '--help']);
  assert.equal(help.code, 0);
  for (const format of TRACE_FORMATS) assert.match(help.out, new RegExp(`^  ${format} +\\S`, 'm'), format);
});

// ---- live servers ----

function missing(tool: string): string | false {
  if (process.getuid?.() !== 0) return 'needs root (mounting)';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  return process.env.PATH?.split(':').some((d) => fs.existsSync(join(d, tool))) ? false : `${tool} is not installed (apt-get install ${tool})`;
}

/**
 * Mounts `tool args... MOUNTPOINT` with its stderr (the debug log) in a file, runs 4 processes ×
 * `opens` open/read/close of `file` on it, unmounts, and returns the log's report.
 */
async function debugLogOf(t: TestContext, tool: string, args: (dir: string) => string[], file: string, opens: number): Promise<TraceReport> {
  const { dir, mountpoint } = scratch(`fuselens-${tool}-d-`);
  const log = join(dir, 'debug.log');
  // `exec` keeps the pid: the daemon is the process mountWith waits on.
  const m = await mountWith(dir, mountpoint, 'sh', ['-c', `exec "$0" "$@" 2>"${log}"`, tool, ...args(dir), mountpoint]);
  t.after(() => m.unmount());
  const target = join(mountpoint, file);
  // The file is created through the mount (one CREATE), then read by 4 processes at once.
  await run(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(target)}, 'hello\\n')`]);
  const reader = `const fs = require('fs'); for (let i = 0; i < ${opens}; i++) { const fd = fs.openSync(${JSON.stringify(target)}, 'r'); fs.readSync(fd, Buffer.alloc(64)); fs.closeSync(fd); }`;
  await Promise.all([1, 2, 3, 4].map(() => run(process.execPath, ['-e', reader])));
  const daemon = m.daemon;
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  await run('umount', [mountpoint]);
  if (daemon.exitCode === null && daemon.signalCode === null) await exited;
  return analyzeTrace(openTraceSource(log));
}

test('live fuse-zip -d (libfuse 2.9): the log counts the opens the workload made', { skip: missing('fuse-zip') }, async (t) => {
  const r = await debugLogOf(t, 'fuse-zip', (dir) => ['-d', join(dir, 'new.zip')], 'a.txt', 10);
  assert.equal(r.format, 'libfuse-debug');
  const c = byOpcode(r);
  assert.deepEqual([c.FUSE_CREATE, c.FUSE_OPEN, c.FUSE_RELEASE], [[1, 0], [40, 0], [41, 0]]);
  assert.deepEqual([r.orphanReplies, r.badLines], [0, 0]);
});

test('live bindfs -d (libfuse 2.9, multithreaded): the log counts the opens the workload made', { skip: missing('bindfs') }, async (t) => {
  const r = await debugLogOf(t, 'bindfs', (dir) => {
    fs.mkdirSync(join(dir, 'src'));
    return ['-d', join(dir, 'src')];
  }, 'a.txt', 10);
  const c = byOpcode(r);
  assert.deepEqual([c.FUSE_CREATE, c.FUSE_OPEN, c.FUSE_RELEASE], [[1, 0], [40, 0], [41, 0]]);
  assert.deepEqual([r.orphanReplies, r.badLines], [0, 0]);
});
