// The FUSE wire protocol: opcodes, flag values and struct layouts of the
// kernel's uapi <linux/fuse.h> (proto 7.45 as offered by 6.18), with decoders
// for requests and encoders for replies. The one place in FUSE Lens that knows
// byte offsets: the lab server speaks it, trace readers decode with it.
// Layouts: docs fuse-kernel-rules.md §1 and include/uapi/linux/fuse.h. All
// little endian (x86_64/arm64 hosts).

export const FUSE_KERNEL_VERSION = 7;
/** The minor version this module understands (6.18's). */
export const FUSE_KERNEL_MINOR_VERSION = 45;
export const FUSE_ROOT_ID = 1;

export const FUSE_OPCODES = {
  FUSE_LOOKUP: 1,
  FUSE_FORGET: 2,
  FUSE_GETATTR: 3,
  FUSE_SETATTR: 4,
  FUSE_READLINK: 5,
  FUSE_SYMLINK: 6,
  FUSE_MKNOD: 8,
  FUSE_MKDIR: 9,
  FUSE_UNLINK: 10,
  FUSE_RMDIR: 11,
  FUSE_RENAME: 12,
  FUSE_LINK: 13,
  FUSE_OPEN: 14,
  FUSE_READ: 15,
  FUSE_WRITE: 16,
  FUSE_STATFS: 17,
  FUSE_RELEASE: 18,
  FUSE_FSYNC: 20,
  FUSE_SETXATTR: 21,
  FUSE_GETXATTR: 22,
  FUSE_LISTXATTR: 23,
  FUSE_REMOVEXATTR: 24,
  FUSE_FLUSH: 25,
  FUSE_INIT: 26,
  FUSE_OPENDIR: 27,
  FUSE_READDIR: 28,
  FUSE_RELEASEDIR: 29,
  FUSE_FSYNCDIR: 30,
  FUSE_GETLK: 31,
  FUSE_SETLK: 32,
  FUSE_SETLKW: 33,
  FUSE_ACCESS: 34,
  FUSE_CREATE: 35,
  FUSE_INTERRUPT: 36,
  FUSE_BMAP: 37,
  FUSE_DESTROY: 38,
  FUSE_IOCTL: 39,
  FUSE_POLL: 40,
  FUSE_NOTIFY_REPLY: 41,
  FUSE_BATCH_FORGET: 42,
  FUSE_FALLOCATE: 43,
  FUSE_READDIRPLUS: 44,
  FUSE_RENAME2: 45,
  FUSE_LSEEK: 46,
  FUSE_COPY_FILE_RANGE: 47,
  FUSE_SETUPMAPPING: 48,
  FUSE_REMOVEMAPPING: 49,
  FUSE_SYNCFS: 50,
  FUSE_TMPFILE: 51,
  FUSE_STATX: 52,
  FUSE_COPY_FILE_RANGE_64: 53,
  CUSE_INIT: 4096,
} as const;
export type FuseOpcodeName = keyof typeof FUSE_OPCODES;
export const Op = FUSE_OPCODES;

const opcodeNames = new Map<number, FuseOpcodeName>(
  Object.entries(FUSE_OPCODES).map(([name, value]) => [value, name as FuseOpcodeName]),
);
/** `FUSE_OPEN` for 14; unknown numbers as `FUSE_OP_<n>`. */
export function opcodeName(opcode: number): string {
  return opcodeNames.get(opcode) ?? `FUSE_OP_${opcode}`;
}
export function opcodeNumber(name: string): number | undefined {
  return (FUSE_OPCODES as Record<string, number>)[name];
}

/** fuse_open_out.open_flags (reply to OPEN, CREATE, OPENDIR). */
export const FOPEN = {
  direct_io: 1 << 0,
  keep_cache: 1 << 1,
  nonseekable: 1 << 2,
  cache_dir: 1 << 3,
  stream: 1 << 4,
  noflush: 1 << 5,
  parallel_direct_writes: 1 << 6,
  passthrough: 1 << 7,
  io_uring_zero_copy: 1 << 8,
} as const;

/** FUSE_INIT flags as bit numbers; bits ≥ 32 travel in flags2 (needs init_ext). */
export const INIT_FLAG_BITS = {
  async_read: 0,
  posix_locks: 1,
  file_ops: 2,
  atomic_o_trunc: 3,
  export_support: 4,
  big_writes: 5,
  dont_mask: 6,
  splice_write: 7,
  splice_move: 8,
  splice_read: 9,
  flock_locks: 10,
  has_ioctl_dir: 11,
  auto_inval_data: 12,
  do_readdirplus: 13,
  readdirplus_auto: 14,
  async_dio: 15,
  writeback_cache: 16,
  no_open_support: 17,
  parallel_dirops: 18,
  handle_killpriv: 19,
  posix_acl: 20,
  abort_error: 21,
  max_pages: 22,
  cache_symlinks: 23,
  no_opendir_support: 24,
  explicit_inval_data: 25,
  map_alignment: 26,
  submounts: 27,
  handle_killpriv_v2: 28,
  setxattr_ext: 29,
  init_ext: 30,
  init_reserved: 31,
  security_ctx: 32,
  has_inode_dax: 33,
  create_supp_group: 34,
  has_expire_only: 35,
  direct_io_allow_mmap: 36,
  passthrough: 37,
  no_export_support: 38,
  has_resend: 39,
  allow_idmap: 40,
  over_io_uring: 41,
  request_timeout: 42,
  has_io_uring_bufpool: 43,
} as const;
export type InitFlagName = keyof typeof INIT_FLAG_BITS;

export function initFlag(name: InitFlagName): bigint {
  return 1n << BigInt(INIT_FLAG_BITS[name]);
}

/** Names of the set bits of a 64-bit INIT flag word (flags | flags2 << 32). */
export function initFlagNames(flags: bigint): string[] {
  const names: string[] = [];
  for (const [name, bit] of Object.entries(INIT_FLAG_BITS)) if (flags & (1n << BigInt(bit))) names.push(name);
  return names;
}

export function fopenFlagNames(flags: number): string[] {
  const names: string[] = [];
  let rest = flags;
  for (const [name, bit] of Object.entries(FOPEN)) {
    if (flags & bit) names.push(name);
    rest &= ~bit;
  }
  if (rest) names.push(`0x${rest.toString(16)}`);
  return names;
}

/** /dev/fuse ioctls (magic 229), rules §1. */
export const FUSE_DEV_IOC_BACKING_OPEN = 0x4010e501;
export const FUSE_DEV_IOC_BACKING_CLOSE = 0x4004e502;

/** struct fuse_backing_map { i32 fd; u32 flags; u64 padding; } */
export function encodeBackingMap(fd: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32LE(fd, 0);
  return b;
}

// ---- sizes ----------------------------------------------------------------

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
export const OPEN_OUT_SIZE = 16;
export const INIT_OUT_SIZE = 64;
export const KSTATFS_SIZE = 80;
export const WRITE_IN_SIZE = 40;

// ---- requests ---------------------------------------------------------------

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

const u64 = (b: Buffer, off: number): number => Number(b.readBigUInt64LE(off));

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
  fh: number;
  flags: number;
  releaseFlags: number;
  lockOwner: bigint;
}
export interface ReadIn {
  fh: number;
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
  fh: number;
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
  | { op: 'getattr'; getattrFlags: number; fh: number }
  | { op: 'setattr'; setattr: SetattrIn }
  | { op: 'open'; open: OpenIn }
  | { op: 'create'; create: CreateIn }
  | { op: 'read'; read: ReadIn }
  | { op: 'write'; write: WriteIn }
  | { op: 'release'; release: ReleaseIn }
  | { op: 'flush'; fh: number; lockOwner: bigint }
  | { op: 'fsync'; fh: number; fsyncFlags: number }
  | { op: 'interrupt'; unique: number }
  | { op: 'none' }
  | { op: 'raw'; bytes: Buffer };

export interface Request {
  header: InHeader;
  body: RequestBody;
}

function cstring(b: Buffer, off: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 ? b.length : end);
}

/** Decodes one request as read from /dev/fuse (one read = one request). */
export function decodeRequest(buf: Buffer): Request {
  const header = decodeInHeader(buf);
  const b = buf.subarray(IN_HEADER_SIZE, header.len);
  const o = FUSE_OPCODES;
  let body: RequestBody;
  switch (header.opcode) {
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
      body = b.length >= 16 ? { op: 'getattr', getattrFlags: b.readUInt32LE(0), fh: u64(b, 8) } : { op: 'getattr', getattrFlags: 0, fh: 0 };
      break;
    case o.FUSE_SETATTR:
      body = { op: 'setattr', setattr: { valid: b.readUInt32LE(0), fh: u64(b, 8), size: u64(b, 16), mode: b.readUInt32LE(68) } };
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
    case o.FUSE_READ:
    case o.FUSE_READDIR:
    case o.FUSE_READDIRPLUS:
      body = { op: 'read', read: { fh: u64(b, 0), offset: u64(b, 8), size: b.readUInt32LE(16), readFlags: b.readUInt32LE(20), flags: b.readUInt32LE(32) } };
      break;
    case o.FUSE_WRITE: {
      const size = b.readUInt32LE(16);
      body = {
        op: 'write',
        write: {
          fh: u64(b, 0),
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
      body = { op: 'release', release: { fh: u64(b, 0), flags: b.readUInt32LE(8), releaseFlags: b.readUInt32LE(12), lockOwner: b.readBigUInt64LE(16) } };
      break;
    case o.FUSE_FLUSH:
      body = { op: 'flush', fh: u64(b, 0), lockOwner: b.readBigUInt64LE(16) };
      break;
    case o.FUSE_FSYNC:
    case o.FUSE_FSYNCDIR:
      body = { op: 'fsync', fh: u64(b, 0), fsyncFlags: b.readUInt32LE(8) };
      break;
    case o.FUSE_INTERRUPT:
      body = { op: 'interrupt', unique: u64(b, 0) };
      break;
    case o.FUSE_STATFS:
    case o.FUSE_DESTROY:
      body = { op: 'none' };
      break;
    default:
      body = { op: 'raw', bytes: Buffer.from(b) };
  }
  return { header, body };
}

// ---- replies ---------------------------------------------------------------

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

export function decodeInitOut(b: Buffer): InitOut {
  const at32 = (off: number) => (b.length >= off + 4 ? b.readUInt32LE(off) : 0);
  const at16 = (off: number) => (b.length >= off + 2 ? b.readUInt16LE(off) : 0);
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
  fh: number;
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
export function decodeOpenOut(b: Buffer): OpenOut {
  return { fh: u64(b, 0), openFlags: b.readUInt32LE(8), backingId: b.readInt32LE(12) };
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
