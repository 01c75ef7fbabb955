// Flag bits of the FUSE wire: FOPEN_* in fuse_open_out.open_flags and the
// FUSE_INIT flags (include/uapi/linux/fuse.h). The one home of each bit number;
// server/model/flags.ts gives them their meaning and kernel versions.

/** fuse_open_out.open_flags (reply to OPEN, CREATE, OPENDIR) as bit numbers. */
export const FOPEN_BITS = {
  direct_io: 0,
  keep_cache: 1,
  nonseekable: 2,
  cache_dir: 3,
  stream: 4,
  noflush: 5,
  parallel_direct_writes: 6,
  passthrough: 7,
  io_uring_zero_copy: 8,
} as const;
export type FopenFlagName = keyof typeof FOPEN_BITS;

/** The FOPEN_* values: `FOPEN.passthrough` is FOPEN_PASSTHROUGH (0x80). */
export const FOPEN = Object.fromEntries(Object.entries(FOPEN_BITS).map(([name, bit]) => [name, 1 << bit])) as Record<FopenFlagName, number>;

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
