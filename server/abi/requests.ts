// Requests as the kernel writes them to /dev/fuse: struct fuse_in_header and
// the bodies FUSE Lens decodes (include/uapi/linux/fuse.h; all little endian,
// x86_64/arm64 hosts).

import type { U64 } from '../../protocol/u64';
import { cstring, u64, u64Halves, u64Id, type U64Halves } from './bytes';
import { initFlag } from './flags';
import { FUSE_OPCODES } from './opcodes';

export const IN_HEADER_SIZE = 40;
export const WRITE_IN_SIZE = 40;

/** struct fuse_in_header */
export interface InHeader {
  len: number;
  opcode: number;
  unique: number;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
  totalExtlen: number;
}

export function decodeInHeader(b: Buffer): InHeader {
  if (b.length < IN_HEADER_SIZE) throw new Error(`FUSE request of ${b.length} bytes is shorter than fuse_in_header`);
  return {
    len: b.readUInt32LE(0),
    opcode: b.readUInt32LE(4),
    unique: u64(b, 8),
    nodeid: u64(b, 16),
    uid: b.readUInt32LE(24),
    gid: b.readUInt32LE(28),
    pid: b.readUInt32LE(32),
    totalExtlen: b.readUInt16LE(36),
  };
}

export function encodeInHeader(h: Omit<InHeader, 'len' | 'totalExtlen'> & { totalExtlen?: number }, bodyLength: number): Buffer {
  const b = Buffer.alloc(IN_HEADER_SIZE);
  b.writeUInt32LE(IN_HEADER_SIZE + bodyLength, 0);
  b.writeUInt32LE(h.opcode, 4);
  b.writeBigUInt64LE(BigInt(h.unique), 8);
  b.writeBigUInt64LE(BigInt(h.nodeid), 16);
  b.writeUInt32LE(h.uid, 24);
  b.writeUInt32LE(h.gid, 28);
  b.writeUInt32LE(h.pid, 32);
  b.writeUInt16LE(h.totalExtlen ?? 0, 36);
  return b;
}

export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  /** flags | flags2 << 32 (flags2 only counts with init_ext). */
  flags: bigint;
}
export interface OpenIn {
  /** open(2) flags of the user. */
  flags: number;
  openFlags: number;
}
export interface CreateIn extends OpenIn {
  mode: number;
  umask: number;
  name: string;
}
export interface ReleaseIn {
  fh: U64;
  flags: number;
  releaseFlags: number;
  lockOwner: U64Halves;
}
export interface ReadIn {
  fh: U64;
  offset: number;
  size: number;
  readFlags: number;
  flags: number;
}
export interface WriteIn extends ReadIn {
  writeFlags: number;
  data: Buffer;
}
export interface SetattrIn {
  valid: number;
  fh: U64;
  size: number;
  mode: number;
}
export interface ForgetOne {
  nodeid: number;
  nlookup: number;
}

/** Decoded body of a request, by opcode; unknown opcodes keep the raw bytes. */
export type RequestBody =
  | { op: 'init'; init: InitIn }
  | { op: 'lookup'; name: string }
  | { op: 'forget'; nlookup: number }
  | { op: 'batch_forget'; forgets: ForgetOne[] }
  | { op: 'getattr'; getattrFlags: number; fh: U64 }
  | { op: 'setattr'; setattr: SetattrIn }
  | { op: 'open'; open: OpenIn }
  | { op: 'create'; create: CreateIn }
  /** fuse_mknod_in { mode, rdev, umask, padding } and the name. */
  | { op: 'mknod'; mknod: { mode: number; rdev: number; umask: number; name: string } }
  | { op: 'read'; read: ReadIn }
  | { op: 'write'; write: WriteIn }
  | { op: 'release'; release: ReleaseIn }
  | { op: 'flush'; fh: U64; lockOwner: U64Halves }
  | { op: 'fsync'; fh: U64; fsyncFlags: number }
  | { op: 'interrupt'; unique: number }
  /** fuse_getxattr_in { size, padding } and the attribute's name. */
  | { op: 'getxattr'; size: number; name: string }
  | { op: 'none' }
  | { op: 'raw'; bytes: Buffer };

export interface Request {
  header: InHeader;
  body: RequestBody;
}

/** Decodes one request as read from /dev/fuse (one read = one request). */
export function decodeRequest(buf: Buffer): Request {
  const header = decodeInHeader(buf);
  return { header, body: decodeRequestBody(header.opcode, buf.subarray(IN_HEADER_SIZE, header.len)) };
}

/** A request's body by its opcode: `b` holds the bytes after fuse_in_header, up to its len. */
export function decodeRequestBody(opcode: number, b: Buffer): RequestBody {
  const o = FUSE_OPCODES;
  let body: RequestBody;
  switch (opcode) {
    case o.FUSE_INIT: {
      const flags = BigInt(b.readUInt32LE(12));
      const flags2 = b.length >= 20 ? BigInt(b.readUInt32LE(16)) : 0n;
      const ext = (flags & initFlag('init_ext')) !== 0n;
      body = {
        op: 'init',
        init: {
          major: b.readUInt32LE(0),
          minor: b.readUInt32LE(4),
          maxReadahead: b.readUInt32LE(8),
          flags: flags | (ext ? flags2 << 32n : 0n),
        },
      };
      break;
    }
    case o.FUSE_LOOKUP:
      body = { op: 'lookup', name: cstring(b, 0) };
      break;
    case o.FUSE_FORGET:
      body = { op: 'forget', nlookup: u64(b, 0) };
      break;
    case o.FUSE_BATCH_FORGET: {
      const count = b.readUInt32LE(0);
      const forgets: ForgetOne[] = [];
      for (let i = 0; i < count && 8 + 16 * (i + 1) <= b.length; i++)
        forgets.push({ nodeid: u64(b, 8 + 16 * i), nlookup: u64(b, 16 + 16 * i) });
      body = { op: 'batch_forget', forgets };
      break;
    }
    case o.FUSE_GETATTR:
      body = b.length >= 16 ? { op: 'getattr', getattrFlags: b.readUInt32LE(0), fh: u64Id(b, 8) } : { op: 'getattr', getattrFlags: 0, fh: 0 };
      break;
    case o.FUSE_SETATTR:
      body = { op: 'setattr', setattr: { valid: b.readUInt32LE(0), fh: u64Id(b, 8), size: u64(b, 16), mode: b.readUInt32LE(68) } };
      break;
    case o.FUSE_OPEN:
    case o.FUSE_OPENDIR:
      body = { op: 'open', open: { flags: b.readUInt32LE(0), openFlags: b.readUInt32LE(4) } };
      break;
    case o.FUSE_CREATE:
      body = {
        op: 'create',
        create: { flags: b.readUInt32LE(0), mode: b.readUInt32LE(4), umask: b.readUInt32LE(8), openFlags: b.readUInt32LE(12), name: cstring(b, 16) },
      };
      break;
    case o.FUSE_MKNOD:
      body = { op: 'mknod', mknod: { mode: b.readUInt32LE(0), rdev: b.readUInt32LE(4), umask: b.readUInt32LE(8), name: cstring(b, 16) } };
      break;
    case o.FUSE_READ:
    case o.FUSE_READDIR:
    case o.FUSE_READDIRPLUS:
      body = { op: 'read', read: { fh: u64Id(b, 0), offset: u64(b, 8), size: b.readUInt32LE(16), readFlags: b.readUInt32LE(20), flags: b.readUInt32LE(32) } };
      break;
    case o.FUSE_WRITE: {
      const size = b.readUInt32LE(16);
      body = {
        op: 'write',
        write: {
          fh: u64Id(b, 0),
          offset: u64(b, 8),
          size,
          readFlags: 0,
          writeFlags: b.readUInt32LE(20),
          flags: b.readUInt32LE(32),
          data: b.subarray(WRITE_IN_SIZE, WRITE_IN_SIZE + size),
        },
      };
      break;
    }
    case o.FUSE_RELEASE:
    case o.FUSE_RELEASEDIR:
      body = { op: 'release', release: { fh: u64Id(b, 0), flags: b.readUInt32LE(8), releaseFlags: b.readUInt32LE(12), lockOwner: u64Halves(b, 16) } };
      break;
    case o.FUSE_FLUSH:
      body = { op: 'flush', fh: u64Id(b, 0), lockOwner: u64Halves(b, 16) };
      break;
    case o.FUSE_FSYNC:
    case o.FUSE_FSYNCDIR:
      body = { op: 'fsync', fh: u64Id(b, 0), fsyncFlags: b.readUInt32LE(8) };
      break;
    case o.FUSE_INTERRUPT:
      body = { op: 'interrupt', unique: u64(b, 0) };
      break;
    case o.FUSE_GETXATTR:
      body = { op: 'getxattr', size: b.readUInt32LE(0), name: cstring(b, 8) };
      break;
    case o.FUSE_STATFS:
    case o.FUSE_DESTROY:
      body = { op: 'none' };
      break;
    default:
      body = { op: 'raw', bytes: Buffer.from(b) };
  }
  return body;
}
