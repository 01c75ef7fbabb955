// Replies as a server writes them to /dev/fuse: struct fuse_out_header and the
// reply structs the lab server sends or the trace readers decode
// (include/uapi/linux/fuse.h; all little endian).

import type { U64 } from '../../protocol/u64';
import { i32, needBytes, u32, u64, u64Id } from './bytes';

export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
export const OPEN_OUT_SIZE = 16;
export const INIT_OUT_SIZE = 64;
export const KSTATFS_SIZE = 80;

export function encodeOutHeader(unique: number, error: number, bodyLength: number): Buffer {
  const b = Buffer.alloc(OUT_HEADER_SIZE);
  b.writeUInt32LE(OUT_HEADER_SIZE + bodyLength, 0);
  b.writeInt32LE(error, 4);
  b.writeBigUInt64LE(BigInt(unique), 8);
  return b;
}

export interface OutHeader {
  len: number;
  error: number;
  unique: number;
}
export function decodeOutHeader(b: Buffer): OutHeader {
  return { len: b.readUInt32LE(0), error: b.readInt32LE(4), unique: u64(b, 8) };
}

/** A whole reply: header + body. `error` is 0 or a negative errno. */
export function encodeReply(unique: number, error: number, body: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([encodeOutHeader(unique, error, error === 0 ? body.length : 0), error === 0 ? body : Buffer.alloc(0)]);
}

export interface InitOut {
  major: number;
  minor: number;
  maxReadahead: number;
  /** flags | flags2 << 32 */
  flags: bigint;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
  mapAlignment: number;
  maxStackDepth: number;
  requestTimeout: number;
}

export function encodeInitOut(i: InitOut): Buffer {
  const b = Buffer.alloc(INIT_OUT_SIZE);
  b.writeUInt32LE(i.major, 0);
  b.writeUInt32LE(i.minor, 4);
  b.writeUInt32LE(i.maxReadahead, 8);
  b.writeUInt32LE(Number(i.flags & 0xffffffffn), 12);
  b.writeUInt16LE(i.maxBackground, 16);
  b.writeUInt16LE(i.congestionThreshold, 18);
  b.writeUInt32LE(i.maxWrite, 20);
  b.writeUInt32LE(i.timeGran, 24);
  b.writeUInt16LE(i.maxPages, 28);
  b.writeUInt16LE(i.mapAlignment, 30);
  b.writeUInt32LE(Number((i.flags >> 32n) & 0xffffffffn), 32);
  b.writeUInt32LE(i.maxStackDepth, 36);
  b.writeUInt16LE(i.requestTimeout, 40);
  return b;
}

/** fuse_init_out in [at, end) of `b` (by default all of it); fields past the end read as 0 (older servers send less). */
export function decodeInitOut(b: Buffer, at = 0, end = b.length): InitOut {
  const room = end - at;
  const at32 = (off: number) => (room >= off + 4 ? b.readUInt32LE(at + off) : 0);
  const at16 = (off: number) => (room >= off + 2 ? b.readUInt16LE(at + off) : 0);
  return {
    major: at32(0),
    minor: at32(4),
    maxReadahead: at32(8),
    flags: BigInt(at32(12)) | (BigInt(at32(32)) << 32n),
    maxBackground: at16(16),
    congestionThreshold: at16(18),
    maxWrite: at32(20),
    timeGran: at32(24),
    maxPages: at16(28),
    mapAlignment: at16(30),
    maxStackDepth: at32(36),
    requestTimeout: at16(40),
  };
}

/** struct fuse_attr */
export interface Attr {
  ino: number;
  size: number;
  blocks: number;
  /** Seconds (same for atime/mtime/ctime in the lab). */
  time: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  blksize: number;
}

export function encodeAttr(a: Attr, b: Buffer = Buffer.alloc(ATTR_SIZE), off = 0): Buffer {
  b.writeBigUInt64LE(BigInt(a.ino), off);
  b.writeBigUInt64LE(BigInt(a.size), off + 8);
  b.writeBigUInt64LE(BigInt(a.blocks), off + 16);
  for (const o of [24, 32, 40]) b.writeBigUInt64LE(BigInt(a.time), off + o);
  b.writeUInt32LE(a.mode, off + 60);
  b.writeUInt32LE(a.nlink, off + 64);
  b.writeUInt32LE(a.uid, off + 68);
  b.writeUInt32LE(a.gid, off + 72);
  b.writeUInt32LE(a.blksize, off + 80);
  return b;
}

export function encodeEntryOut(nodeid: number, generation: number, validSeconds: number, attr: Attr): Buffer {
  const b = Buffer.alloc(ENTRY_OUT_SIZE);
  b.writeBigUInt64LE(BigInt(nodeid), 0);
  b.writeBigUInt64LE(BigInt(generation), 8);
  b.writeBigUInt64LE(BigInt(validSeconds), 16);
  b.writeBigUInt64LE(BigInt(validSeconds), 24);
  encodeAttr(attr, b, 40);
  return b;
}

export function encodeAttrOut(validSeconds: number, attr: Attr): Buffer {
  const b = Buffer.alloc(ATTR_OUT_SIZE);
  b.writeBigUInt64LE(BigInt(validSeconds), 0);
  encodeAttr(attr, b, 16);
  return b;
}

/** struct fuse_open_out { u64 fh; u32 open_flags; i32 backing_id; } */
export interface OpenOut {
  fh: U64;
  openFlags: number;
  backingId: number;
}
export function encodeOpenOut(o: OpenOut): Buffer {
  const b = Buffer.alloc(OPEN_OUT_SIZE);
  b.writeBigUInt64LE(BigInt(o.fh), 0);
  b.writeUInt32LE(o.openFlags >>> 0, 8);
  b.writeInt32LE(o.backingId, 12);
  return b;
}
/** fuse_open_out at `at` of `b`, whose body ends at `end`: RangeError when it is shorter than the struct. */
export function decodeOpenOut(b: Buffer, at = 0, end = b.length): OpenOut {
  needBytes(end - at, OPEN_OUT_SIZE);
  return { fh: u64Id(b, at), openFlags: u32(b, at + 8), backingId: i32(b, at + 12) };
}

export function encodeWriteOut(size: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(size, 0);
  return b;
}

export interface Kstatfs {
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  bsize: number;
  namelen: number;
  frsize: number;
}
export function encodeStatfsOut(s: Kstatfs): Buffer {
  const b = Buffer.alloc(KSTATFS_SIZE);
  [s.blocks, s.bfree, s.bavail, s.files, s.ffree].forEach((v, i) => b.writeBigUInt64LE(BigInt(v), i * 8));
  b.writeUInt32LE(s.bsize, 40);
  b.writeUInt32LE(s.namelen, 44);
  b.writeUInt32LE(s.frsize, 48);
  return b;
}

/** DT_* types for fuse_dirent.type */
export const DT_DIR = 4;
export const DT_REG = 8;

export interface Dirent {
  ino: number;
  name: string;
  type: number;
}

/**
 * Packs directory entries starting at index `offset` into at most `size`
 * bytes; each entry's `off` is the index of the next one (what the kernel
 * passes back as the next READDIR offset).
 */
export function encodeDirents(entries: Dirent[], offset: number, size: number): Buffer {
  const parts: Buffer[] = [];
  let used = 0;
  for (let i = offset; i < entries.length; i++) {
    const e = entries[i]!;
    const name = Buffer.from(e.name);
    const len = (24 + name.length + 7) & ~7;
    if (used + len > size) break;
    const b = Buffer.alloc(len);
    b.writeBigUInt64LE(BigInt(e.ino), 0);
    b.writeBigUInt64LE(BigInt(i + 1), 8);
    b.writeUInt32LE(name.length, 16);
    b.writeUInt32LE(e.type, 20);
    name.copy(b, 24);
    parts.push(b);
    used += len;
  }
  return Buffer.concat(parts);
}
