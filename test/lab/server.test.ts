// The lab's FUSE server on the real kernel: ordinary tools work on its mount,
// passthrough opens really go to the backing file, inconsistent replies cost
// the opener an EIO. Needs root and /dev/fuse (skipped otherwise, with the reason).
//
// Every command on the mount runs as a child process, asynchronously: the
// server answers from this process's event loop, so a synchronous call here
// would wait for itself.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labAvailability } from '../../server/lab/index';
import { FOPEN } from '../../server/abi';
import type { LabEvent, LabReplyEvent, LabRequestEvent } from '../../server/lab/log';
import { isMounted } from '../../server/lab/replay';
import { LabServer, type LabInit } from '../../server/lab/server';
import { umount2 } from '../../server/lab/libc';

const run = promisify(execFile);
const available = labAvailability();
const skip = available.ok ? false : available.reason;

async function withLab(
  t: TestContext,
  init: LabInit,
  body: (lab: LabServer, mnt: string, events: LabEvent[], dir: string) => Promise<void>,
): Promise<void> {
  const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-labtest-'));
  const mnt = join(dir, 'mnt');
  fs.mkdirSync(mnt);
  const events: LabEvent[] = [];
  const lab = await LabServer.start({
    mountpoint: mnt,
    dataDir: dir,
    files: [{ name: 'hello.txt', content: Buffer.from('hello, lab\n') }, { name: 'data.db', content: Buffer.alloc(8192, 'd') }],
    init,
    log: (e) => events.push(e),
  });
  t.after(async () => {
    await lab.unmount();
    if (!isMounted(mnt)) fs.rmSync(dir, { recursive: true, force: true });
  });
  await body(lab, mnt, events, dir);
}

const requests = (events: LabEvent[], opcode: string) =>
  events.filter((e): e is LabRequestEvent => e.type === 'request' && e.opcode === opcode);
const replies = (events: LabEvent[], opcode: string) =>
  events.filter((e): e is LabReplyEvent => e.type === 'reply' && e.opcode === opcode);

const PASSTHROUGH: LabInit = { flags: ['passthrough'], maxStackDepth: 1, noOpen: false };

test('cat, ls and dd work on a lab mount', { skip }, async (t) => {
  await withLab(t, PASSTHROUGH, async (_lab, mnt, events) => {
    assert.equal((await run('cat', [join(mnt, 'hello.txt')])).stdout, 'hello, lab\n');
    const ls = (await run('ls', ['-l', mnt])).stdout;
    assert.match(ls, /-rw-r--r-- 1 root root +11 .* hello\.txt/);
    assert.match(ls, /8192 .* data\.db/);
    // dd into an existing file without truncating, and into a new file (CREATE).
    await run('dd', ['if=/dev/zero', `of=${join(mnt, 'data.db')}`, 'bs=4096', 'count=1', 'conv=notrunc,fsync', 'status=none']);
    await run('dd', ['if=/dev/urandom', `of=${join(mnt, 'new.bin')}`, 'bs=4096', 'count=3', 'status=none']);
    const back = (await run('dd', [`if=${join(mnt, 'data.db')}`, 'bs=8192', 'count=1', 'status=none'], { encoding: 'buffer' })).stdout;
    assert.equal(back.length, 8192);
    assert.ok(back.subarray(0, 4096).every((b) => b === 0));
    assert.ok(back.subarray(4096).every((b) => b === 'd'.charCodeAt(0)));
    assert.match((await run('stat', ['-c', '%s', join(mnt, 'new.bin')])).stdout, /^12288\n$/);
    assert.match((await run('ls', [mnt])).stdout, /new\.bin/);
    assert.match((await run('df', ['-P', mnt])).stdout, /fuselens-lab/);
    for (const op of ['FUSE_INIT', 'FUSE_LOOKUP', 'FUSE_OPEN', 'FUSE_READ', 'FUSE_WRITE', 'FUSE_CREATE', 'FUSE_READDIR', 'FUSE_FSYNC', 'FUSE_STATFS'])
      assert.ok(requests(events, op).length > 0, `${op} seen`);
    // Every request but FORGET is answered, and the log pairs them by unique.
    const answered = new Set(events.filter((e) => e.type === 'reply').map((e) => (e as LabReplyEvent).unique));
    for (const r of events.filter((e): e is LabRequestEvent => e.type === 'request'))
      if (!/FORGET/.test(r.opcode)) assert.ok(answered.has(r.unique), `${r.opcode} ${r.unique} answered`);
  });
});

test('passthrough: BACKING_OPEN gives an id, OPEN is answered with FOPEN_PASSTHROUGH, reads never reach the server', { skip }, async (t) => {
  await withLab(t, PASSTHROUGH, async (lab, mnt, events, dir) => {
    const backing = join(dir, 'backing.txt');
    fs.writeFileSync(backing, 'from the backing file\n');
    const id = lab.backingOpen(backing);
    assert.ok(id >= 1, `backing id ${id}`);
    lab.planOpen('hello.txt', { openFlags: FOPEN.passthrough, backingId: id });
    // The content comes from the backing file, not from the server's copy.
    assert.equal((await run('cat', [join(mnt, 'hello.txt')])).stdout, 'from the backing file\n');
    const open = replies(events, 'FUSE_OPEN').at(-1);
    assert.deepEqual(open?.reply && { flags: open.reply.flags, backingId: open.reply.backingId }, { flags: ['passthrough'], backingId: id });
    assert.equal(requests(events, 'FUSE_READ').length, 0, 'no READ reached the server');
    assert.ok(events.some((e) => e.type === 'ioctl' && e.request === 'FUSE_DEV_IOC_BACKING_OPEN' && e.result === id));
    assert.equal(lab.backingClose(id), 0);
    assert.equal(lab.backingClose(id), -2, 'closing twice: ENOENT');
    // Without passthrough, the server's own content and a READ.
    assert.equal((await run('cat', [join(mnt, 'hello.txt')])).stdout, 'hello, lab\n');
    assert.equal(requests(events, 'FUSE_READ').length, 1);
  });
});

test('inconsistent OPEN replies give EIO from open(), and the kernel releases the file at once', { skip }, async (t) => {
  await withLab(t, PASSTHROUGH, async (lab, mnt, events, dir) => {
    const backing = join(dir, 'backing.txt');
    fs.writeFileSync(backing, 'x');
    const id = lab.backingOpen(backing);
    const cases = [
      { openFlags: FOPEN.passthrough, backingId: 42 }, // unknown id (ENOENT inside)
      { openFlags: FOPEN.passthrough, backingId: 0 }, // no id (EINVAL inside)
      { openFlags: FOPEN.passthrough | FOPEN.keep_cache, backingId: id }, // flag outside the passthrough mask
    ];
    for (const plan of cases) {
      lab.planOpen('hello.txt', plan);
      await assert.rejects(run('cat', [join(mnt, 'hello.txt')]), (err: { stderr: string }) => {
        assert.match(err.stderr, /Input\/output error/);
        return true;
      });
    }
    // Each refused open was answered (OPEN ok) and then released by the kernel.
    const opens = replies(events, 'FUSE_OPEN').filter((r) => r.error === 0).length;
    assert.equal(opens, cases.length);
    assert.equal(requests(events, 'FUSE_RELEASE').length, cases.length);
  });
});

test('a mount without passthrough refuses BACKING_OPEN with EPERM', { skip }, async (t) => {
  await withLab(t, { flags: ['writeback_cache', 'passthrough'], maxStackDepth: 1, noOpen: false }, async (lab, mnt, _events, dir) => {
    fs.writeFileSync(join(dir, 'b'), 'x');
    assert.equal(lab.backingOpen(join(dir, 'b')), -1, 'EPERM: writeback_cache disables passthrough');
    assert.equal((await run('cat', [join(mnt, 'hello.txt')])).stdout, 'hello, lab\n');
  });
});

// A connection's number is the superblock's anonymous device minor: once a umount ends the
// connection, the next FUSE mount gets the lowest free minor — usually the same number. The
// first server's clean-up must not write to that number's `abort` then: it would end the other
// mount's connection (an overlapping `fuselens run` stopped before FUSE_INIT). Here the other
// mount is made while this process's event loop is blocked, so the first server's read loop has
// not yet seen its connection end: only the fusectl file's own inode tells the two apart.
const bindfs = (() => {
  try {
    execFileSync('bindfs', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
test('a server whose mount is gone does not abort the connection that took its number', { skip: skip || (!bindfs && 'bindfs is not installed') }, async (t) => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-labtest-'));
  const other = join(dir, 'other');
  fs.mkdirSync(join(dir, 'src'));
  fs.writeFileSync(join(dir, 'src', 'f'), 'x');
  fs.mkdirSync(other);
  let a: LabServer | undefined;
  // One hook, in this order: removing the dir while a mount of this process is on it would
  // wait for this very process to answer.
  t.after(async () => {
    await a?.unmount();
    umount2(other, 0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const mountpoint = join(dir, 'a');
  fs.mkdirSync(mountpoint);
  const init: LabInit = { flags: [], maxStackDepth: 0, noOpen: false };
  a = await LabServer.start({ mountpoint, dataDir: dir, files: [{ name: 'f', content: Buffer.from('x') }], init, log: () => undefined });
  assert.equal(umount2(mountpoint, 0), 0);
  execFileSync('bindfs', [join(dir, 'src'), other]);
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === other);
  const connection = Number(line?.split(' ')[2]?.split(':')[1]);
  if (connection !== a.connection) {
    // Only when something else on the machine mounted FUSE in between (tests run one file at a time).
    t.skip(`another FUSE mount took the freed number ${a.connection} first`);
    return;
  }
  await a.unmount();
  const { stdout } = await run('cat', [join(other, 'f')]);
  assert.equal(stdout, 'x', 'the other mount still answers');
});
