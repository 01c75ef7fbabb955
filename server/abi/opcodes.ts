// FUSE opcodes and protocol version of include/uapi/linux/fuse.h (proto 7.45,
// as offered by Linux 6.18; fuse-kernel-rules.md section 1).

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
