// The real-server test bed: libfuse's passthrough_hp (multithreaded, passthrough
// and splice by default) driven by fuse-workload.c, whose own results are what
// the kernel did. These tests assert the bed itself — the mount serves the
// files, passthrough really happens, the shim forces a real EIO refusal, splice
// and --single do what they say — so that later decoder tests can trust it.
// They skip (saying why) where ../shared/vendor is absent.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { after, test } from 'node:test';
import { mounted, until } from '../support/fuse-mounts';
import { startHolder } from '../support/inspect-holder';
import {
  mountPassthroughHp,
  passthroughHp,
  resultFor,
  runWorkload,
  type PassthroughHpMount,
  type PassthroughHpOptions,
  type WorkloadResult,
} from '../support/passthrough-hp';

const hp = passthroughHp();
const skip = hp.skip ?? false;

const FILES: Record<string, string> = {
  a: 'a'.repeat(10000),
  b: 'b'.repeat(20000),
  c: 'c'.repeat(3000),
  d: 'd'.repeat(70000),
};

const mounts: PassthroughHpMount[] = [];
after(async () => {
  for (const m of mounts) await m.unmount();
});

async function mount(options: PassthroughHpOptions): Promise<PassthroughHpMount> {
  const m = await mountPassthroughHp(hp.binary!, { files: FILES, ...options });
  mounts.push(m);
  return m;
}

/** Every open of every file succeeded and read the file's first 64 KiB. */
function assertAllSucceeded(m: PassthroughHpMount, r: WorkloadResult): void {
  for (const [name, content] of Object.entries(FILES)) {
    const f = resultFor(r, m.path(name));
    assert.equal(f.opened, f.attempted, `${name}: every open succeeded (${JSON.stringify(f.openErrors)})`);
    assert.deepEqual(f.readErrors, {}, `${name}: no read failed`);
    assert.equal(f.bytes, f.opened * Math.min(content.length, 65536), `${name}: every read returned the file's bytes`);
  }
}

const allFiles = (m: PassthroughHpMount): string[] => Object.keys(FILES).map((n) => m.path(n));
/** libfuse >= 3.18 --debug-fuse request lines: `dev unique: N, opcode: READ (15), ...`. */
const requests = (log: string, opcode: string): number => log.split('\n').filter((l) => l.includes(`opcode: ${opcode} (`)).length;

/** strace -f -y of the daemon's splice calls while `work` runs; returns the splices into /dev/fuse. */
async function splicesToDevFuse(pid: number, work: () => Promise<unknown>): Promise<number> {
  const strace = spawn('strace', ['-f', '-y', '-e', 'trace=splice', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  strace.stderr!.on('data', (d) => (out += String(d)));
  // strace prints "Process N attached with K threads" once it traces all of them.
  await until(() => out.includes('attached'), 'strace to attach');
  try {
    await work();
  } finally {
    const exited = new Promise((r) => strace.once('exit', r));
    strace.kill('SIGINT');
    await exited;
  }
  return out.split('\n').filter((l) => /splice\(.*<\/dev\/fuse>/.test(l) && /\) = \d+/.test(l)).length;
}

test('passthrough_hp mounts over its source and serves its files', { skip }, async () => {
  const m = await mount({});
  assert.ok(mounted(m.mountpoint));
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === m.mountpoint)!;
  assert.match(line, / - fuse /, 'a fuse mount');
  assert.equal(readFileSync(m.path('b'), 'utf8'), FILES.b);
  await m.unmount();
  assert.ok(!mounted(m.mountpoint), 'unmount removes the mount');
  assert.ok(m.daemon.exitCode !== null || m.daemon.signalCode !== null, 'and the daemon exits');
});

test('multithreaded passthrough_hp: 8 threads × 200 open/read/close all succeed, in passthrough (no READ reaches the server)', { skip }, async () => {
  const m = await mount({ debug: true, debugFuse: true });
  const r = await runWorkload(allFiles(m), { threads: 8, iterations: 200 });
  assertAllSucceeded(m, r);
  const log = m.stderr();
  assert.ok(requests(log, 'OPEN') > 0, 'OPEN requests reached the server');
  assert.equal(requests(log, 'READ'), 0, 'no READ reached the server: the kernel read the backing files');
  assert.match(log, /setup shared backing file \d+ for inode \d+/, 'passthrough_hp opened backing files');
  assert.ok(readdirSync(`/proc/${m.pid}/task`).length > 1, 'several daemon threads');
  await m.unmount();
});

test('several processes × 8 threads of open/read/close on passthrough_hp all succeed', { skip }, async () => {
  const m = await mount({});
  const r = await runWorkload(allFiles(m), { threads: 8, iterations: 100, processes: 4 });
  assert.equal(r.processes, 4);
  assert.equal(Object.values(r.files).reduce((n, f) => n + f.attempted, 0), 4 * 8 * 100, 'every iteration of every process counted');
  assertAllSucceeded(m, r);
  await m.unmount();
});

test('--nopassthrough: the same workload succeeds and READs reach the server, with no backing file', { skip }, async () => {
  const m = await mount({ passthrough: false, debug: true, debugFuse: true });
  assertAllSucceeded(m, await runWorkload(allFiles(m), { threads: 8, iterations: 50 }));
  const log = m.stderr();
  assert.ok(requests(log, 'READ') > 0, 'READ requests reached the server');
  assert.doesNotMatch(log, /backing file/);
  await m.unmount();
});

test('--direct-io with passthrough: opens get a backing file, yet READs still reach the server (FOPEN_DIRECT_IO wins for read)', { skip }, async () => {
  const m = await mount({ directIo: true, debug: true, debugFuse: true });
  assertAllSucceeded(m, await runWorkload(allFiles(m), { threads: 4, iterations: 20 }));
  const log = m.stderr();
  assert.match(log, /setup shared backing file/);
  // fs/fuse/file.c fuse_file_read_iter: FOPEN_DIRECT_IO is checked before passthrough.
  assert.ok(requests(log, 'READ') >= 4 * 20, 'every read went to the server');
  await m.unmount();
});

test('splice on (default): READ replies are spliced into /dev/fuse; --nosplice: none are', { skip }, async () => {
  const spliced = await mount({ passthrough: false });
  const withSplice = await splicesToDevFuse(spliced.pid, () => runWorkload(allFiles(spliced), { threads: 4, iterations: 10 }));
  await spliced.unmount();
  const plain = await mount({ passthrough: false, splice: false });
  const withoutSplice = await splicesToDevFuse(plain.pid, async () => assertAllSucceeded(plain, await runWorkload(allFiles(plain), { threads: 4, iterations: 10 })));
  await plain.unmount();
  // libfuse splices only data replies of 2 pages or more (fuse_send_data_iov, lib/fuse_lowlevel.c): a, b, d here.
  assert.ok(withSplice > 0, 'READ replies were spliced into /dev/fuse');
  assert.equal(withoutSplice, 0);
});

test('--single: one daemon thread serves the 8-thread workload', { skip }, async () => {
  const m = await mount({ single: true });
  assertAllSucceeded(m, await runWorkload(allFiles(m), { threads: 8, iterations: 50 }));
  assert.equal(readdirSync(`/proc/${m.pid}/task`).length, 1);
  await m.unmount();
});

test('forced fallback: a failed BACKING_OPEN turns passthrough off, and the kernel refuses (EIO) a reopen of a file held open in passthrough', { skip }, async () => {
  const m = await mount({ failBackingOpen: 'b', debug: true });
  const holder = await startHolder([`open:held:rdonly:${m.path('a')}`, 'mmap:map:held:shared:r']);
  try {
    assert.match(m.stderr(), /setup shared backing file \d+ for inode/, 'a is open in passthrough mode');
    const fallback = await runWorkload([m.path('b')], { threads: 1, iterations: 1 });
    assert.equal(resultFor(fallback, m.path('b')).opened, 1, 'b itself opens (without passthrough)');
    assert.match(m.stderr(), /fuse_passthrough_open failed for inode \d+, disabling rw passthrough/);

    const reopen = await runWorkload([m.path('a'), m.path('c')], { threads: 4, iterations: 10 });
    const a = resultFor(reopen, m.path('a'));
    assert.equal(a.opened, 0, 'no reopen of a succeeded');
    assert.deepEqual(a.openErrors, { EIO: a.attempted }, 'every reopen of a got EIO');
    const c = resultFor(reopen, m.path('c'));
    assert.equal(c.opened, c.attempted, 'c, open nowhere, opens (caching)');
  } finally {
    await holder.stop();
  }
  // With the last passthrough open of a gone, its inode leaves passthrough mode.
  const later = await runWorkload([m.path('a')], { threads: 2, iterations: 5 });
  assert.equal(resultFor(later, m.path('a')).opened, 10);
  await m.unmount();
});
