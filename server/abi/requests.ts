// Requests as the kernel writes them to /dev/fuse: struct fuse_in_header and
// the bodies FUSE Lens decodes (include/uapi/linux/fuse.h; all little endian,
// x86_64/arm64 hosts).

import type { U64 } from '../../protocol/u64';
import { cstring, needBytes, u32, u64, u64Halves, u64Id, type U64Halves } from './bytes';
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

/**
 * A request's body by its opcode: `b` holds the bytes after fuse_in_header, up to its len, in [at, end) (by default all
 * of `b`). Read where they are, without a view of them: the strace reader decodes millions of bodies.
 */
export function decodeRequestBody(opcode: number, b: Buffer, at = 0, end = b.length): RequestBody {
  const o = FUSE_OPCODES;
  const room = Math.max(0, end - at);
  let body: RequestBody;
  switch (opcode) {
    case o.FUSE_INIT: {
      needBytes(room, 16);
      const flags = BigInt(u32(b, at + 12));
      const flags2 = room >= 20 ? BigInt(u32(b, at + 16)) : 0n;
      const ext = (flags & initFlag('init_ext')) !== 0n;
      body = {
        op: 'init',
        init: {
          major: u32(b, at),
          minor: u32(b, at + 4),
          maxReadahead: u32(b, at + 8),
          flags: flags | (ext ? flags2 << 32n : 0n),
        },
      };
      break;
    }
    case o.FUSE_LOOKUP:
      body = { op: 'lookup', name: cstring(b, at, end) };
      break;
    case o.FUSE_FORGET:
      needBytes(room, 8);
      body = { op: 'forget', nlookup: u64(b, at) };
      break;
    case o.FUSE_BATCH_FORGET: {
      needBytes(room, 4);
      const count = u32(b, at);
      const forgets: ForgetOne[] = [];
      for (let i = 0; i < count && 8 + 16 * (i + 1) <= room; i++)
        forgets.push({ nodeid: u64(b, at + 8 + 16 * i), nlookup: u64(b, at + 16 + 16 * i) });
      body = { op: 'batch_forget', forgets };
      break;
    }
    case o.FUSE_GETATTR:
      body = room >= 16 ? { op: 'getattr', getattrFlags: u32(b, at), fh: u64Id(b, at + 8) } : { op: 'getattr', getattrFlags: 0, fh: 0 };
      break;
    case o.FUSE_SETATTR:
      needBytes(room, 72);
      body = { op: 'setattr', setattr: { valid: u32(b, at), fh: u64Id(b, at + 8), size: u64(b, at + 16), mode: u32(b, at + 68) } };
      break;
    case o.FUSE_OPEN:
    case o.FUSE_OPENDIR:
      needBytes(room, 8);
      body = { op: 'open', open: { flags: u32(b, at), openFlags: u32(b, at + 4) } };
      break;
    case o.FUSE_CREATE:
      needBytes(room, 16);
      body = {
        op: 'create',
        create: {
          flags: u32(b, at), mode: u32(b, at + 4), umask: u32(b, at + 8), openFlags: u32(b, at + 12),
          name: cstring(b, at + 16, end),
        },
      };
      break;
    case o.FUSE_MKNOD:
      needBytes(room, 12);
      body = {
        op: 'mknod',
        mknod: { mode: u32(b, at), rdev: u32(b, at + 4), umask: u32(b, at + 8), name: cstring(b, at + 16, end) },
      };
      break;
    case o.FUSE_READ:
    case o.FUSE_READDIR:
    case o.FUSE_READDIRPLUS:
      needBytes(room, 36);
      body = {
        op: 'read',
        read: { fh: u64Id(b, at), offset: u64(b, at + 8), size: u32(b, at + 16), readFlags: u32(b, at + 20), flags: u32(b, at + 32) },
      };
      break;
    case o.FUSE_WRITE: {
      needBytes(room, 36);
      const size = u32(b, at + 16);
      body = {
        op: 'write',
        write: {
          fh: u64Id(b, at),
          offset: u64(b, at + 8),
          size,
          readFlags: 0,
          writeFlags: u32(b, at + 20),
          flags: u32(b, at + 32),
          data: b.subarray(at + WRITE_IN_SIZE, Math.min(end, at + WRITE_IN_SIZE + size)),
        },
      };
      break;
    }
    case o.FUSE_RELEASE:
    case o.FUSE_RELEASEDIR:
      needBytes(room, 24);
      body = { op: 'release', release: { fh: u64Id(b, at), flags: u32(b, at + 8), releaseFlags: u32(b, at + 12), lockOwner: u64Halves(b, at + 16) } };
      break;
    case o.FUSE_FLUSH:
      needBytes(room, 24);
      body = { op: 'flush', fh: u64Id(b, at), lockOwner: u64Halves(b, at + 16) };
      break;
    case o.FUSE_FSYNC:
    case o.FUSE_FSYNCDIR:
      needBytes(room, 12);
      body = { op: 'fsync', fh: u64Id(b, at), fsyncFlags: u32(b, at + 8) };
      break;
    case o.FUSE_INTERRUPT:
      needBytes(room, 8);
      body = { op: 'interrupt', unique: u64(b, at) };
      break;
    case o.FUSE_GETXATTR:
      needBytes(room, 4);
      body = { op: 'getxattr', size: u32(b, at), name: cstring(b, at + 8, end) };
      break;
    case o.FUSE_STATFS:
    case o.FUSE_DESTROY:
      body = { op: 'none' };
      break;
    default:
      body = { op: 'raw', bytes: Buffer.from(b.subarray(at, Math.max(at, end))) };
  }
  return body;
}
