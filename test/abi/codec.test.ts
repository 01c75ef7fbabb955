// The FUSE ABI (server/abi): layouts and values against the uapi header and the
// rules (fuse-kernel-rules.md §1), round trips of encoders and decoders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as abi from '../../server/abi';

test('constants match the uapi header and the rules', () => {
  assert.equal(abi.Op.FUSE_OPEN, 14);
  assert.equal(abi.Op.FUSE_INIT, 26);
  assert.equal(abi.Op.FUSE_BATCH_FORGET, 42);
  assert.equal(abi.Op.FUSE_STATX, 52);
  assert.equal(abi.opcodeName(35), 'FUSE_CREATE');
  assert.equal(abi.opcodeName(999), 'FUSE_OP_999');
  assert.equal(abi.FOPEN.passthrough, 0x80);
  assert.equal(abi.FOPEN.parallel_direct_writes, 0x40);
  assert.equal(abi.initFlag('passthrough'), 1n << 37n);
  assert.equal(abi.initFlag('direct_io_allow_mmap'), 1n << 36n);
  assert.equal(abi.initFlag('writeback_cache'), 0x10000n);
  assert.equal(abi.FUSE_DEV_IOC_BACKING_OPEN, 0x4010e501);
  assert.equal(abi.FUSE_DEV_IOC_BACKING_CLOSE, 0x4004e502);
  assert.deepEqual(abi.fopenFlagNames(0x81 | 0x400), ['direct_io', 'passthrough', '0x400']);
  // The INIT flags the rules observed being offered by 6.18.44.
  const offered = abi.initFlagNames(0x5fd73fffffbn);
  for (const f of ['passthrough', 'direct_io_allow_mmap', 'writeback_cache', 'no_open_support', 'allow_idmap', 'request_timeout'])
    assert.ok(offered.includes(f), f);
  for (const f of ['over_io_uring', 'map_alignment', 'submounts', 'has_inode_dax']) assert.ok(!offered.includes(f), f);
});

test('fuse_init_out: max_stack_depth at 36, flags2 at 32', () => {
  const out: abi.InitOut = {
    major: 7, minor: 45, maxReadahead: 131072, flags: abi.initFlag('init_ext') | abi.initFlag('passthrough'),
    maxBackground: 12, congestionThreshold: 9, maxWrite: 131072, timeGran: 1, maxPages: 0, mapAlignment: 0,
    maxStackDepth: 2, requestTimeout: 0,
  };
  const b = abi.encodeInitOut(out);
  assert.equal(b.length, 64);
  assert.equal(b.readUInt32LE(32), 1 << 5);
  assert.equal(b.readUInt32LE(36), 2);
  assert.deepEqual(abi.decodeInitOut(b), out);
});

test('fuse_open_out carries backing_id at 12, signed', () => {
  const b = abi.encodeOpenOut({ fh: 7, openFlags: abi.FOPEN.passthrough, backingId: -5 });
  assert.equal(b.length, 16);
  assert.equal(b.readInt32LE(12), -5);
  assert.deepEqual(abi.decodeOpenOut(b), { fh: 7, openFlags: 0x80, backingId: -5 });
  assert.deepEqual([...abi.encodeBackingMap(3)], [3, 0, 0, 0, ...new Array(12).fill(0)]);
});

test('requests decode: header, OPEN, WRITE, BATCH_FORGET, INIT with flags2', () => {
  const open = Buffer.alloc(8);
  open.writeUInt32LE(0o2, 0);
  const req = abi.decodeRequest(Buffer.concat([
    abi.encodeInHeader({ opcode: abi.Op.FUSE_OPEN, unique: 42, nodeid: 2, uid: 0, gid: 0, pid: 77 }, 8), open,
  ]));
  assert.deepEqual(req.header, { len: 48, opcode: 14, unique: 42, nodeid: 2, uid: 0, gid: 0, pid: 77, totalExtlen: 0 });
  assert.deepEqual(req.body, { op: 'open', open: { flags: 2, openFlags: 0 } });

  const w = Buffer.alloc(abi.WRITE_IN_SIZE + 3);
  w.writeBigUInt64LE(5n, 0);
  w.writeBigUInt64LE(4096n, 8);
  w.writeUInt32LE(3, 16);
  w.write('abc', abi.WRITE_IN_SIZE);
  const wr = abi.decodeRequest(Buffer.concat([abi.encodeInHeader({ opcode: abi.Op.FUSE_WRITE, unique: 4, nodeid: 2, uid: 0, gid: 0, pid: 1 }, w.length), w]));
  assert.equal(wr.body.op, 'write');
  if (wr.body.op === 'write') {
    assert.equal(wr.body.write.offset, 4096);
    assert.equal(wr.body.write.data.toString(), 'abc');
  }

  const bf = Buffer.alloc(8 + 32);
  bf.writeUInt32LE(2, 0);
  bf.writeBigUInt64LE(2n, 8);
  bf.writeBigUInt64LE(1n, 16);
  bf.writeBigUInt64LE(3n, 24);
  bf.writeBigUInt64LE(4n, 32);
  const f = abi.decodeRequest(Buffer.concat([abi.encodeInHeader({ opcode: abi.Op.FUSE_BATCH_FORGET, unique: 0, nodeid: 0, uid: 0, gid: 0, pid: 0 }, bf.length), bf]));
  assert.deepEqual(f.body, { op: 'batch_forget', forgets: [{ nodeid: 2, nlookup: 1 }, { nodeid: 3, nlookup: 4 }] });

  const init = Buffer.alloc(64);
  init.writeUInt32LE(7, 0);
  init.writeUInt32LE(45, 4);
  init.writeUInt32LE(1 << 30, 12);
  init.writeUInt32LE(1 << 5, 16);
  const i = abi.decodeRequest(Buffer.concat([abi.encodeInHeader({ opcode: abi.Op.FUSE_INIT, unique: 2, nodeid: 0, uid: 0, gid: 0, pid: 0 }, 64), init]));
  assert.equal(i.body.op, 'init');
  if (i.body.op === 'init') assert.deepEqual(abi.initFlagNames(i.body.init.flags), ['init_ext', 'passthrough']);
});

test('dirents are 8-byte aligned and chain their offsets', () => {
  const entries = [{ ino: 1, name: '.', type: abi.DT_DIR }, { ino: 2, name: 'data.db', type: abi.DT_REG }];
  const b = abi.encodeDirents(entries, 0, 4096);
  assert.equal(b.length, 32 + 32);
  assert.equal(b.readBigUInt64LE(8), 1n);
  assert.equal(b.toString('utf8', 32 + 24, 32 + 31), 'data.db');
  assert.equal(abi.encodeDirents(entries, 1, 4096).length, 32);
  assert.equal(abi.encodeDirents(entries, 0, 40).length, 32, 'stops before an entry that does not fit');
});

test('reply header: length counts the body, errors carry no body', () => {
  const ok = abi.encodeReply(9, 0, Buffer.alloc(8));
  assert.deepEqual(abi.decodeOutHeader(ok), { len: 24, error: 0, unique: 9 });
  const err = abi.encodeReply(9, -5, Buffer.alloc(8));
  assert.deepEqual(abi.decodeOutHeader(err), { len: 16, error: -5, unique: 9 });
});
