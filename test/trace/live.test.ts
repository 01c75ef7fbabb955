// Real captures on the real kernel: a bindfs mount traced with tracefs and
// with strace on its daemon at the same time (the two must agree, exactly),
// strace from the daemon's start (FUSE_INIT decoded), and a lab mount that
// refuses an open (the denial signature, from the lab's log and from tracefs).
// Needs root, /dev/fuse, bindfs, strace and the fuse tracepoints (skipped with
// the reason otherwise). Every command on a mount runs as a child process.
// FUSELENS_RECORD=1 rewrites the lab fixtures in test/fixtures/trace/.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { listMounts } from '../../server/inspect';
import { FOPEN } from '../../server/abi';
import { labAvailability } from '../../server/lab/index';
import { formatLabEvent, type LabEvent } from '../../server/lab/log';
import { LabServer } from '../../server/lab/server';
import { STRACE_ARGS, TRACEFS, TraceAnalyzer, analyzeTrace, openTraceSource, startCapture, type TraceReport } from '../../server/trace';
import { mountWith, scratch, until, type TestMount } from '../support/fuse-mounts';

const run = promisify(execFile);

function why(): string | false {
  if (process.getuid?.() !== 0) return 'needs root (tracefs, strace -p, mounting)';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (!fs.existsSync(join(TRACEFS, 'events/fuse/fuse_request_send'))) return 'no fuse tracepoints (Linux 6.12+, tracefs mounted)';
  for (const tool of ['bindfs', 'strace'])
    if (!process.env.PATH?.split(':').some((d) => fs.existsSync(join(d, tool)))) return `${tool} is not installed (scripts/setup.sh)`;
  return false;
}
const skip = why();

function connectionOf(mountpoint: string): number {
  const m = listMounts().mounts.find((x) => x.mountpoint === mountpoint);
  assert.ok(m, `mount ${mountpoint} listed`);
  return m.connection;
}

function byOpcode(r: TraceReport): Record<string, number[]> {
  return Object.fromEntries(r.opcodes.filter((o) => o.count > 0).map((o) => [o.opcode, [o.count, o.errors]]));
}

/** Top-level fuse event settings, and the instances of captures run by `pid` (other tests on the machine may capture too). */
function tracefsState(pid: number = process.pid): string {
  const fuse = join(TRACEFS, 'events/fuse');
  const parts = [fs.readFileSync(join(TRACEFS, 'tracing_on'), 'utf8')];
  for (const e of fs.readdirSync(fuse).filter((n) => n.startsWith('fuse_request')))
    parts.push(e, fs.readFileSync(join(fuse, e, 'enable'), 'utf8'), fs.readFileSync(join(fuse, e, 'filter'), 'utf8'));
  const instances = fs.readdirSync(join(TRACEFS, 'instances')).filter((n) => n.startsWith(`fuselens-${pid}-`));
  return JSON.stringify({ parts, instances });
}

async function mountBindfs(t: TestContext, prefix: string): Promise<TestMount> {
  const { dir, mountpoint } = scratch(prefix);
  const src = join(dir, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, 'a.txt'), 'hello\n');
  // Long cache timeouts: the request counts must not depend on how fast the test runs.
  const m = await mountWith(dir, mountpoint, 'bindfs', ['-f', '-o', 'kernel_cache,attr_timeout=100,entry_timeout=100,negative_timeout=0', src, mountpoint]);
  t.after(() => m.unmount());
  return m;
}

/** cat a file, create one, stat a missing name, list the directory. */
async function workload(mnt: string): Promise<void> {
  assert.equal((await run('cat', [join(mnt, 'a.txt')])).stdout, 'hello\n');
  await run('sh', ['-c', `echo hi > '${join(mnt, 'new.txt')}'`]);
  await assert.rejects(run('stat', [join(mnt, 'missing')]));
  assert.match((await run('ls', [mnt])).stdout, /a\.txt\nnew\.txt/);
}

test('tracefs and strace captures of one bindfs workload agree exactly, OPEN reply flags decoded', { skip }, async (t) => {
  const before = tracefsState();
  // strace can miss the bytes of the one request a daemon thread was already waiting for in read() as
  // it attached (docs/trace.md, "Attaching"): its reply then stands without a request. Such a run
  // proves nothing about the decoder, so it is made again on a fresh mount (at most three times).
  const captureBoth = async () => {
    const m = await mountBindfs(t, 'fuselens-trace-live-');
    const connection = connectionOf(m.mountpoint);
    const ftraceFile = join(m.dir, 'capture.ftrace');
    const straceFile = join(m.dir, 'capture.strace');
    // Followers, as tracking follows a capture: each sees what the capture's own reader decoded.
    const followers = { kernel: new TraceAnalyzer(), daemon: new TraceAnalyzer() };
    const kernel = await startCapture({ connection, output: ftraceFile, sink: followers.kernel });
    t.after(() => kernel.stop());
    const daemon = await startCapture({ connection, output: straceFile, daemon: m.pid, sink: followers.daemon });
    t.after(() => daemon.stop());
    assert.equal(daemon.daemon, m.pid);

    await workload(m.mountpoint);
    // ls's RELEASEDIR is answered after ls exits: stop once nothing is waiting on the connection.
    const waiting = `/sys/fs/fuse/connections/${connection}/waiting`;
    await until(() => fs.readFileSync(waiting, 'utf8').trim() === '0', 'no request waiting');
    const [k, d] = await Promise.all([kernel.stop(), daemon.stop()]);
    assert.equal(tracefsState(), before, 'tracefs enable/filter/tracing_on as before, instance removed');
    assert.equal(k.format, 'ftrace');
    assert.equal(d.format, 'strace');
    const fromKernel = await analyzeTrace(openTraceSource(ftraceFile));
    const fromDaemon = await analyzeTrace(openTraceSource(straceFile));
    // What a follower was handed is what `fuselens trace` reads in the file, requesters' names included.
    const file = (r: TraceReport) => ({ ...r, captureStarted: null });
    assert.deepEqual(followers.kernel.report('ftrace'), file(fromKernel), 'the tracefs capture hands over what its file holds');
    assert.deepEqual(followers.daemon.report('strace'), file(fromDaemon), 'the strace capture hands over what its file holds');
    return { m, connection, k, d, fromKernel, fromDaemon };
  };
  let r = await captureBoth();
  for (let attempt = 2; attempt <= 3 && r.fromDaemon.orphanReplies > 0; attempt++) {
    t.diagnostic(`strace lost ${r.fromDaemon.orphanReplies} request(s) as it attached: run ${attempt}`);
    r = await captureBoth();
  }
  const { m, connection, k, d, fromKernel, fromDaemon } = r;

  // On 6.18 with bindfs 1.14.7 (libfuse 2.9.9) and cache timeouts of 100 s. GETATTR
  // depends on what ran on the mount before the capture; it must still agree.
  const getattrs = fromKernel.opcodes.find((o) => o.opcode === 'FUSE_GETATTR')?.count ?? 0;
  const expected: Record<string, number[]> = {
    FUSE_LOOKUP: [3, 2], // a.txt; new.txt and missing: ENOENT
    FUSE_GETATTR: [getattrs, 0],
    FUSE_OPEN: [1, 0],
    FUSE_READ: [1, 0],
    FUSE_FLUSH: [1, 1], // bindfs answers ENOSYS, so the kernel sends no more FLUSHes
    FUSE_RELEASE: [2, 0],
    FUSE_CREATE: [1, 0],
    FUSE_GETXATTR: [1, 1], // security.capability before the write: ENODATA
    FUSE_WRITE: [1, 0],
    FUSE_OPENDIR: [1, 0],
    FUSE_READDIR: [2, 0],
    FUSE_RELEASEDIR: [1, 0],
  };
  assert.ok(getattrs >= 1);
  assert.deepEqual(byOpcode(fromKernel), expected);
  assert.deepEqual(byOpcode(fromDaemon), expected, 'strace of the daemon sees exactly what the kernel sent');
  const sent = (r: TraceReport) => r.opcodes.reduce((n, o) => n + o.sent, 0);
  assert.equal(k.requests, sent(fromKernel), 'the tracefs capture says how many requests it holds');
  assert.equal(d.requests, sent(fromDaemon), 'the strace capture counts requests, not the read strace detached from');
  for (const r of [fromKernel, fromDaemon]) {
    assert.equal(r.unmatched, 0);
    assert.equal(r.lost, 0);
    assert.equal(r.badLines, 0);
    assert.equal(r.requests, Object.values(expected).reduce((n, [c]) => n + c!, 0));
    assert.deepEqual(r.connections, [connection]);
    assert.equal(r.opcodes.find((o) => o.opcode === 'FUSE_LOOKUP')?.errnos.ENOENT, 2);
    assert.deepEqual(r.denials, []);
  }
  // The kernel names the requesting processes; the protocol carries the same pids.
  const comms = new Set(fromKernel.processes.map((p) => p.comm));
  for (const comm of ['cat', 'stat', 'ls']) assert.ok(comms.has(comm), `${comm} in ${[...comms].join(',')}`);
  const kernelPids = new Set(fromKernel.processes.map((p) => p.pid));
  for (const p of fromDaemon.processes) if (p.pid !== 0) assert.ok(kernelPids.has(p.pid), `pid ${p.pid} of the protocol seen by tracefs`);
  // Decoded OPEN/CREATE replies: bindfs -o kernel_cache answers FOPEN_KEEP_CACHE.
  assert.deepEqual(
    fromDaemon.inodes?.map((i) => [i.name, i.lastOpenFlags, i.mode, i.iocachectr, i.openFiles]),
    [['a.txt', ['keep_cache'], 'idle', 0, 0], ['new.txt', ['keep_cache'], 'idle', 0, 0]],
  );
  // st_ino from the LOOKUP reply's attributes is what user space sees through the mount.
  const ino = Number((await run('stat', ['-c', '%i', join(m.mountpoint, 'a.txt')])).stdout);
  assert.equal(fromDaemon.inodes?.find((i) => i.name === 'a.txt')?.ino, ino);
  assert.ok(fromDaemon.warnings.some((w) => /splice/.test(w)), 'says what strace cannot see');
  assert.equal(fromKernel.inodes, undefined, 'tracepoints carry no replies');
});

test('strace from the daemon start decodes FUSE_INIT and the reply flags', { skip }, async (t) => {
  const { dir, mountpoint } = scratch('fuselens-trace-init-');
  const src = join(dir, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, 'a.txt'), 'hello\n');
  // Outside `dir`: unmounting removes the mount's scratch directory.
  const out = fs.mkdtempSync(join(tmpdir(), 'fuselens-trace-init-out-'));
  t.after(() => fs.rmSync(out, { recursive: true, force: true }));
  const file = join(out, 'daemon.strace');
  const m = await mountWith(dir, mountpoint, 'strace', [...STRACE_ARGS, '-o', file, 'bindfs', '-f', '-o', 'direct_io', src, mountpoint]);
  t.after(() => m.unmount());
  assert.equal((await run('cat', [join(mountpoint, 'a.txt')])).stdout, 'hello\n');
  await m.unmount(); // strace exits with bindfs: the file is complete
  const r = await analyzeTrace(openTraceSource(file), { connection: 7 });
  assert.equal(r.inits.length, 1);
  const init = r.inits[0]!;
  assert.deepEqual([init.major, init.minor], [7, 19], 'libfuse 2.9.9 speaks 7.19');
  assert.ok(init.flags.includes('async_read'));
  assert.equal(init.passthrough, false);
  assert.deepEqual(r.inodes?.map((i) => [i.name, i.lastOpenFlags]), [['a.txt', ['direct_io']]]);
  assert.equal(r.opcodes.find((o) => o.opcode === 'FUSE_INIT')?.count, 1);
  // DESTROY may be answered or cut off by the unmount; nothing else stays open.
  assert.ok(r.inFlight.every((s) => s.opcode === 'FUSE_DESTROY'), JSON.stringify(r.inFlight));
});

const labSkip = skip || (labAvailability().ok ? false : 'lab unavailable');

test('a refused open on a lab mount: OPEN ok, RELEASE at once — found in the lab log and in tracefs', { skip: labSkip }, async (t) => {
  const { dir, mountpoint } = scratch('fuselens-trace-denial-');
  const events: LabEvent[] = [];
  const lab = await LabServer.start({
    mountpoint, dataDir: dir, files: [{ name: 'hello.txt', content: Buffer.from('hello, lab\n') }],
    init: { flags: ['passthrough'], maxStackDepth: 1, noOpen: false }, log: (e) => events.push(e),
  });
  t.after(async () => {
    await lab.unmount();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ftraceFile = join(dir, 'capture.ftrace');
  const kernel = await startCapture({ connection: lab.connection, output: ftraceFile });
  t.after(() => kernel.stop());
  const backing = join(dir, 'backing.txt');
  fs.writeFileSync(backing, 'from the backing file\n');
  const id = lab.backingOpen(backing);
  assert.ok(id >= 1);
  lab.planOpen('hello.txt', { openFlags: FOPEN.passthrough, backingId: id }); // fd 3 of the shell: passthrough
  lab.planOpen('hello.txt', { openFlags: FOPEN.keep_cache, backingId: 0 }); // cat's open: caching → EIO
  const shell = `exec 3<'${join(mountpoint, 'hello.txt')}'; cat '${join(mountpoint, 'hello.txt')}' 2>&1; echo "cat exit $?"`;
  const out = (await run('sh', ['-c', shell])).stdout;
  assert.match(out, /Input\/output error\ncat exit 1/);
  // The shell's own RELEASE is sent in the background as it exits: wait for its reply.
  await until(() => events.filter((e) => e.type === 'reply' && e.opcode === 'FUSE_RELEASE').length === 2, 'the second RELEASE reply');
  await kernel.stop();

  const text = events.map(formatLabEvent).join('');
  if (process.env.FUSELENS_RECORD) {
    fs.writeFileSync('test/fixtures/trace/lab-refused-open.jsonl', text);
    fs.copyFileSync(ftraceFile, 'test/fixtures/trace/lab-refused-open.ftrace');
  }
  const fromLab = await analyzeTrace(Readable.from([Buffer.from(text)]));
  assert.equal(fromLab.format, 'lab-jsonl');
  assert.equal(fromLab.denials.length, 1, JSON.stringify(fromLab.denials));
  const d = fromLab.denials[0]!;
  const nodeid = lab.nodeid('hello.txt')!;
  assert.equal(d.connection, lab.connection);
  assert.equal(d.nodeid, nodeid);
  assert.equal(d.name, 'hello.txt');
  assert.equal(d.rule, 'cached-open-on-passthrough-inode');
  assert.match(d.why, /OPEN succeeded, kernel released it at once/);
  // The io mode replayed from the replies: while the shell's fd 3 was open the inode was passthrough...
  const upToRefusal = events.slice(0, events.findIndex((e) => e.type === 'reply' && e.unique === d.releaseUnique) + 1);
  const during = await analyzeTrace(Readable.from([Buffer.from(upToRefusal.map(formatLabEvent).join(''))]));
  assert.deepEqual(
    during.inodes?.map((i) => [i.nodeid, i.mode, i.iocachectr, i.backingId, i.opensSeen, i.openFiles]),
    [[nodeid, 'passthrough', -1, id, 2, 1]],
  );
  // ...and idle again once the shell exited (its RELEASE gave the mode back).
  assert.deepEqual(
    fromLab.inodes?.map((i) => [i.nodeid, i.mode, i.iocachectr, i.backingId, i.opensSeen, i.openFiles]),
    [[nodeid, 'idle', 0, null, 2, 0]],
  );

  const fromKernel = await analyzeTrace(openTraceSource(ftraceFile));
  assert.equal(fromKernel.denials.length, 1, JSON.stringify(fromKernel.denials));
  const k = fromKernel.denials[0]!;
  assert.equal(k.pid, d.pid, 'tracefs names the same opener');
  assert.equal(fromKernel.processes.find((p) => p.pid === k.pid)?.comm, 'cat');
  assert.match(k.why, /no FLUSH/);
});
