// The strace decoder's judgement on small streams built with the ABI's own
// encoders, for the cases the real captures cannot pin down one by one: a
// handle shared by several opens (fuse-zip), a node id reused after FORGET
// (rclone), 64-bit inode numbers, GETXATTR names, a failed BACKING_OPEN, a
// refused open whose RELEASE the capture does not hold.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { FOPEN, Op, encodeAttr, encodeInHeader, encodeOpenOut, encodeReply } from '../../server/abi';
import { analyzeTrace, type TraceReport } from '../../server/trace';

const hex = (b: Buffer): string => [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
let clock = 0;
const ts = (): string => `01:00:00.${String(++clock).padStart(6, '0')}`;
let nextUnique = 2;

/** One request read by daemon thread `tid`; returns its unique. */
function request(lines: string[], tid: number, opcode: number, nodeid: number | bigint, pid: number, body: Buffer = Buffer.alloc(0)): number {
  const unique = nextUnique;
  nextUnique += 2;
  const bytes = Buffer.concat([encodeInHeader({ opcode, unique, nodeid: 0, uid: 0, gid: 0, pid }, body.length), body]);
  bytes.writeBigUInt64LE(BigInt(nodeid), 16);
  lines.push(`${tid} ${ts()} read(4</dev/fuse>, "${hex(bytes)}", 1052672) = ${bytes.length} <0.000010>`);
  return unique;
}

function reply(lines: string[], tid: number, unique: number, error = 0, body: Buffer = Buffer.alloc(0)): void {
  const bytes = encodeReply(unique, error, body);
  lines.push(`${tid} ${ts()} writev(4</dev/fuse>, [{iov_base="${hex(bytes)}", iov_len=${bytes.length}}], 1) = ${bytes.length} <0.000010>`);
}

const u64 = (n: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const releaseIn = (fh: number | string): Buffer => Buffer.concat([u64(BigInt(fh)), Buffer.alloc(16)]);
const flushIn = (fh: number | string): Buffer => Buffer.concat([u64(BigInt(fh)), Buffer.alloc(16)]);
const openOut = (fh: number | string, openFlags = 0, backingId = 0): Buffer => encodeOpenOut({ fh, openFlags, backingId });
const entryOut = (nodeid: number | bigint, ino: bigint): Buffer => {
  const attr = encodeAttr({ ino: 0, size: 0, blocks: 0, time: 0, mode: 0o100644, nlink: 1, uid: 0, gid: 0, blksize: 4096 });
  attr.writeBigUInt64LE(ino, 0);
  return Buffer.concat([u64(nodeid), u64(0), Buffer.alloc(24), attr]);
};
const name = (s: string): Buffer => Buffer.from(`${s}\0`);

/** OPEN and its reply with `fh` (a passthrough reply with backing id 1). */
function open(lines: string[], nodeid: number | bigint, pid: number, fh: number | string, flags = 0): number {
  const u = request(lines, 1, Op.FUSE_OPEN, nodeid, pid, Buffer.alloc(8));
  reply(lines, 1, u, 0, openOut(fh, flags, flags & FOPEN.passthrough ? 1 : 0));
  return u;
}
function close(lines: string[], nodeid: number | bigint, pid: number, fh: number | string): void {
  reply(lines, 1, request(lines, 1, Op.FUSE_FLUSH, nodeid, pid, flushIn(fh)));
  reply(lines, 1, request(lines, 1, Op.FUSE_RELEASE, nodeid, 0, releaseIn(fh)));
}
function lookup(lines: string[], parent: number, file: string, nodeid: number | bigint, ino: bigint): void {
  reply(lines, 1, request(lines, 1, Op.FUSE_LOOKUP, parent, 100, name(file)), 0, entryOut(nodeid, ino));
}

const analyze = (lines: string[]): Promise<TraceReport> =>
  analyzeTrace(Readable.from([Buffer.from(`# fuselens-capture {"format":"strace","connection":7}\n${lines.join('\n')}\n`)]));

test('one fh for every open of a file (fuse-zip): closes interleaved across processes are no refusal', async () => {
  const l: string[] = [];
  lookup(l, 1, 'z', 5, 50n);
  open(l, 5, 201, 7);
  open(l, 5, 202, 7);
  close(l, 5, 201, 7);
  open(l, 5, 203, 7);
  close(l, 5, 203, 7);
  close(l, 5, 202, 7);
  const r = await analyze(l);
  assert.deepEqual(r.denials, []);
  assert.equal(r.inodes?.[0]?.opensSeen, 3);
});

test('a RELEASE without FLUSH while its opener waits: possible until a FLUSH on the connection shows the kernel sends them, then proven; with the handle shared by two waiting openers, possible', async () => {
  const l: string[] = [];
  lookup(l, 1, 'a', 5, 50n);
  const refused = open(l, 5, 301, 9);
  reply(l, 1, request(l, 1, Op.FUSE_RELEASE, 5, 0, releaseIn(9)));
  // No FLUSH yet: the server may have answered one with ENOSYS before the capture (squashfuse does), and then no close sends one.
  const unsure = await analyze(l);
  assert.deepEqual(unsure.denials.map((d) => [d.unique, d.certainty, d.name]), [[refused, 'possible', 'a']]);
  assert.match(unsure.denials[0]!.note ?? '', /no FLUSH has been seen on this connection yet/);
  assert.equal(unsure.inodes?.[0]?.lastOpen?.outcome, 'possibly-refused');
  // Another file's close sends a FLUSH: fc->no_flush was never set, so the quiet RELEASE was a refusal.
  lookup(l, 1, 'b', 6, 60n);
  open(l, 6, 302, 10);
  reply(l, 1, request(l, 1, Op.FUSE_FLUSH, 6, 302, flushIn(10)));
  reply(l, 1, request(l, 1, Op.FUSE_RELEASE, 6, 0, releaseIn(10)));
  const proven = await analyze(l);
  assert.deepEqual(proven.denials.map((d) => [d.unique, d.certainty, d.name, d.note]), [[refused, 'proven', 'a', null]]);
  assert.equal(proven.inodes?.find((i) => i.name === 'a')?.lastOpen?.outcome, 'refused');

  const shared: string[] = [];
  lookup(shared, 1, 'a', 5, 50n);
  open(shared, 5, 301, 9);
  open(shared, 5, 302, 9);
  reply(shared, 1, request(shared, 1, Op.FUSE_RELEASE, 5, 0, releaseIn(9)));
  reply(shared, 1, request(shared, 1, Op.FUSE_FLUSH, 5, 303, flushIn(9)));
  const possible = await analyze(shared);
  assert.equal(possible.denials.length, 1);
  assert.equal(possible.denials[0]!.certainty, 'possible');
  assert.match(possible.denials[0]!.note ?? '', /2 opens of the node share handle 9/);
});

test('an opener that sent another request since its OPEN was not refused: its file is still open', async () => {
  const l: string[] = [];
  lookup(l, 1, 'a', 5, 50n);
  open(l, 5, 401, 3);
  reply(l, 1, request(l, 1, Op.FUSE_GETATTR, 5, 401, Buffer.alloc(16)));
  // A RELEASE of that handle without FLUSH: the stream contradicts itself, and nothing is claimed.
  reply(l, 1, request(l, 1, Op.FUSE_RELEASE, 5, 0, releaseIn(3)));
  assert.deepEqual((await analyze(l)).denials, []);
});

test('a server that answers FLUSH with ENOSYS: a quiet open and RELEASE is a possible refusal only where the model refuses it', async () => {
  const l: string[] = [];
  lookup(l, 1, 'a', 5, 50n);
  open(l, 5, 501, 3, FOPEN.passthrough);
  reply(l, 1, request(l, 1, Op.FUSE_FLUSH, 5, 501, flushIn(3)), -38);
  const cached = open(l, 5, 502, 4); // a caching open of an inode in passthrough mode: the model refuses it
  reply(l, 1, request(l, 1, Op.FUSE_RELEASE, 5, 0, releaseIn(4)));
  open(l, 6, 503, 8); // an ordinary open()+close() without I/O on another file
  reply(l, 1, request(l, 1, Op.FUSE_RELEASE, 6, 0, releaseIn(8)));
  const r = await analyze(l);
  assert.deepEqual(r.denials.map((d) => [d.unique, d.certainty, d.rule]), [[cached, 'possible', 'cached-open-on-passthrough-inode']]);
  assert.match(r.denials[0]!.note ?? '', /ENOSYS/);
});

test('a refused open whose RELEASE is not in the capture is reported as possible, saying so', async () => {
  const l: string[] = [];
  lookup(l, 1, 'a', 5, 50n);
  open(l, 5, 601, 3, FOPEN.passthrough);
  const refused = open(l, 5, 602, 4);
  const r = await analyze(l);
  assert.deepEqual(r.denials.map((d) => [d.unique, d.releaseUnique, d.certainty]), [[refused, null, 'possible']]);
  assert.match(r.denials[0]!.note ?? '', /RELEASE is not in the capture/);
});

test('FORGET ends a node id: the id reused for another file is another inode; 64-bit inode numbers stay exact', async () => {
  const l: string[] = [];
  lookup(l, 1, 'first', 5, 5878266001153151637n);
  open(l, 5, 701, 3);
  close(l, 5, 701, 3);
  request(l, 1, Op.FUSE_FORGET, 5, 0, u64(1));
  lookup(l, 1, 'second', 5, 42n);
  open(l, 5, 702, 3);
  const r = await analyze(l);
  assert.deepEqual(r.inodes?.map((i) => [i.nodeid, i.name, i.ino, i.opensSeen, i.openFiles]), [
    [5, 'first', '5878266001153151637', 1, 0],
    [5, 'second', 42, 1, 1],
  ]);
  assert.equal(r.noReply, 1, 'the FORGET is counted apart');

  // A node id past 2^53 (a pointer or a hash) is one exact decimal string, in the report and the text.
  const big = 0x1234_5678_9abc_def1n;
  const l2: string[] = [];
  lookup(l2, 1, 'far', big, 7n);
  open(l2, big, 703, 3);
  const r2 = await analyze(l2);
  assert.deepEqual(r2.inodes?.map((i) => i.nodeid), [big.toString()]);
  assert.equal(r.sent, r.requests, 'every other request answered');
});

test('GETXATTR names are counted with their errors; GETATTR replies give the inode number', async () => {
  const l: string[] = [];
  const getxattr = (n: string) => Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0]), name(n)]);
  reply(l, 1, request(l, 1, Op.FUSE_GETXATTR, 5, 801, getxattr('security.capability')), -61);
  reply(l, 1, request(l, 1, Op.FUSE_GETXATTR, 5, 801, getxattr('security.capability')), -61);
  reply(l, 1, request(l, 1, Op.FUSE_GETXATTR, 5, 801, getxattr('user.x')), 0, Buffer.alloc(8));
  const attrOut = Buffer.concat([Buffer.alloc(16), encodeAttr({ ino: 77, size: 0, blocks: 0, time: 0, mode: 0o100644, nlink: 1, uid: 0, gid: 0, blksize: 4096 })]);
  reply(l, 1, request(l, 1, Op.FUSE_GETATTR, 5, 801, Buffer.alloc(16)), 0, attrOut);
  open(l, 5, 801, 3);
  const r = await analyze(l);
  assert.deepEqual(r.xattrs, [
    { name: 'security.capability', count: 2, errors: 2, errnos: { ENODATA: 2 } },
    { name: 'user.x', count: 1, errors: 0, errnos: {} },
  ]);
  assert.equal(r.inodes?.[0]?.ino, 77);
});

test('a failed BACKING_OPEN is the cause named next to the refusals after it; a good one names the backing file', async () => {
  const l: string[] = [];
  lookup(l, 1, 'a', 5, 50n);
  const u = request(l, 1, Op.FUSE_OPEN, 5, 901, Buffer.alloc(8));
  l.push(`1 ${ts()} openat(AT_FDCWD</>, "/proc/self/fd/9", O_RDONLY) = 11</src/a> <0.000010>`);
  l.push(`1 ${ts()} ioctl(4</dev/fuse>, _IOC(_IOC_WRITE, 0xe5, 0x1, 0x10), 0x7ffd0) = 1 <0.000010>`);
  reply(l, 1, u, 0, openOut(3, FOPEN.passthrough, 1));
  l.push(`2 ${ts()} openat(AT_FDCWD</>, "/proc/self/fd/12", O_RDONLY) = 13</src/b> <0.000010>`);
  l.push(`2 ${ts()} ioctl(4</dev/fuse>, _IOC(_IOC_WRITE, 0xe5, 0x1, 0x10), 0x7ffd0) = -1 EINVAL (Invalid argument) <0.000010>`);
  const refused = open(l, 5, 902, 4);
  reply(l, 1, request(l, 1, Op.FUSE_RELEASE, 5, 0, releaseIn(4)));
  reply(l, 1, request(l, 1, Op.FUSE_FLUSH, 5, 901, flushIn(3))); // the passthrough file's close: this kernel sends FLUSH
  const r = await analyze(l);
  assert.deepEqual(r.denials.map((d) => [d.unique, d.certainty, d.rule]), [[refused, 'proven', 'cached-open-on-passthrough-inode']]);
  assert.match(r.denials[0]!.cause ?? '', /^FUSE_DEV_IOC_BACKING_OPEN of \/src\/b failed \(EINVAL\)/);
  assert.deepEqual(r.inodes?.map((i) => [i.mode, i.backingId, i.backingPath]), [['passthrough', 1, '/src/a']]);
});

test('64-bit handles are exact: a refusal among two handles one double apart is proven, not blurred into a shared handle', async () => {
  // 2^63 + 1 and 2^63 + 2 are the same IEEE double: read through Number(), the quiet RELEASE of the
  // second would have two unflushed opens to choose from, and the refusal would only be possible.
  const [h1, h2] = ['9223372036854775809', '9223372036854775810'];
  const l: string[] = [];
  lookup(l, 1, 'other', 6, 60n);
  open(l, 6, 600, 3);
  close(l, 6, 600, 3); // this kernel sends FLUSH
  lookup(l, 1, 'big', 5, 50n);
  open(l, 5, 601, h1); // held open
  const refused = open(l, 5, 602, h2);
  reply(l, 1, request(l, 1, Op.FUSE_RELEASE, 5, 0, releaseIn(h2)));
  const r = await analyze(l);
  assert.deepEqual(r.denials.map((d) => [d.unique, d.certainty]), [[refused, 'proven']]);
  assert.equal(r.inodes?.find((i) => i.name === 'big')?.openFiles, 1, 'the first file is still open');
});
