// The FUSE flags a scenario can name: FOPEN_* (OPEN/CREATE reply) and FUSE_INIT
// reply flags (fuse-kernel-rules.md section 1; include/uapi/linux/fuse.h).

export interface FlagInfo {
  /** Canonical scenario spelling: lower case, no prefix. */
  name: string;
  /** The C name in include/uapi/linux/fuse.h. */
  cName: string;
  /** Bit number (FOPEN_*: in open_flags; INIT: bits >= 32 travel in flags2). */
  bit: number;
  /** First kernel that knows the flag; null when older than every modelled kernel. */
  since: string | null;
  meaning: string;
}

export const OPEN_FLAGS: readonly FlagInfo[] = [
  { name: 'direct_io', cName: 'FOPEN_DIRECT_IO', bit: 0, since: null,
    meaning: 'Bypass the page cache: reads and writes go to the server. Neutral for io modes unless the file is also mmapped shared.' },
  { name: 'keep_cache', cName: 'FOPEN_KEEP_CACHE', bit: 1, since: null,
    meaning: "Don't invalidate the page cache on open. Not allowed with passthrough." },
  { name: 'nonseekable', cName: 'FOPEN_NONSEEKABLE', bit: 2, since: null,
    meaning: 'The file is not seekable. Not allowed with passthrough.' },
  { name: 'cache_dir', cName: 'FOPEN_CACHE_DIR', bit: 3, since: null,
    meaning: 'Cache directory contents (directories only; proto 7.28). Not allowed with passthrough.' },
  { name: 'stream', cName: 'FOPEN_STREAM', bit: 4, since: null,
    meaning: 'The file is a stream: no file position. Not allowed with passthrough.' },
  { name: 'noflush', cName: 'FOPEN_NOFLUSH', bit: 5, since: null,
    meaning: "Don't send FLUSH on close (proto 7.35). Allowed with passthrough." },
  { name: 'parallel_direct_writes', cName: 'FOPEN_PARALLEL_DIRECT_WRITES', bit: 6, since: null,
    meaning: 'Direct-io writes may run in parallel under a shared inode lock (proto 7.38, already in 6.1). Needs direct_io: without it the kernel strips the flag.' },
  { name: 'passthrough', cName: 'FOPEN_PASSTHROUGH', bit: 7, since: '6.9',
    meaning: 'Reads, writes and mmap go straight to the backing file named by backing_id (proto 7.40). Puts the inode in passthrough (uncached) mode.' },
  { name: 'io_uring_zero_copy', cName: 'FOPEN_IO_URING_ZERO_COPY', bit: 8, since: '7.0',
    meaning: 'Zero-copy io over FUSE-over-io_uring (proto 7.46). Outside the passthrough mask: passthrough with it is refused.' },
];

/** `max_stack_depth=N` is a field of fuse_init_out, not a flag; the parser handles it apart. */
export const INIT_FLAGS: readonly FlagInfo[] = [
  { name: 'async_read', cName: 'FUSE_ASYNC_READ', bit: 0, since: null, meaning: 'Asynchronous read requests.' },
  { name: 'posix_locks', cName: 'FUSE_POSIX_LOCKS', bit: 1, since: null, meaning: 'Remote POSIX file locking.' },
  { name: 'file_ops', cName: 'FUSE_FILE_OPS', bit: 2, since: null, meaning: 'Kernel sends file handle for fstat etc. (unused).' },
  { name: 'atomic_o_trunc', cName: 'FUSE_ATOMIC_O_TRUNC', bit: 3, since: null, meaning: 'Handles the O_TRUNC open flag in the filesystem.' },
  { name: 'export_support', cName: 'FUSE_EXPORT_SUPPORT', bit: 4, since: null, meaning: 'Handles lookups of "." and "..".' },
  { name: 'big_writes', cName: 'FUSE_BIG_WRITES', bit: 5, since: null, meaning: 'Writes larger than 4 kB (obsolete, always on).' },
  { name: 'dont_mask', cName: 'FUSE_DONT_MASK', bit: 6, since: null, meaning: "Don't apply umask to file mode on create." },
  { name: 'splice_write', cName: 'FUSE_SPLICE_WRITE', bit: 7, since: null, meaning: 'Kernel supports splice write on the device.' },
  { name: 'splice_move', cName: 'FUSE_SPLICE_MOVE', bit: 8, since: null, meaning: 'Kernel supports splice move on the device.' },
  { name: 'splice_read', cName: 'FUSE_SPLICE_READ', bit: 9, since: null, meaning: 'Kernel supports splice read on the device.' },
  { name: 'flock_locks', cName: 'FUSE_FLOCK_LOCKS', bit: 10, since: null, meaning: 'Remote flock() locking.' },
  { name: 'has_ioctl_dir', cName: 'FUSE_HAS_IOCTL_DIR', bit: 11, since: null, meaning: 'ioctl on directories.' },
  { name: 'auto_inval_data', cName: 'FUSE_AUTO_INVAL_DATA', bit: 12, since: null, meaning: 'Invalidate cached pages when mtime or size changes.' },
  { name: 'do_readdirplus', cName: 'FUSE_DO_READDIRPLUS', bit: 13, since: null, meaning: 'READDIRPLUS (readdir + lookup).' },
  { name: 'readdirplus_auto', cName: 'FUSE_READDIRPLUS_AUTO', bit: 14, since: null, meaning: 'Adaptive READDIRPLUS.' },
  { name: 'async_dio', cName: 'FUSE_ASYNC_DIO', bit: 15, since: null, meaning: 'Asynchronous direct io. Unrelated to io modes.' },
  { name: 'writeback_cache', cName: 'FUSE_WRITEBACK_CACHE', bit: 16, since: null,
    meaning: 'Writeback caching of writes. Silently disables passthrough (process_init_reply).' },
  { name: 'no_open_support', cName: 'FUSE_NO_OPEN_SUPPORT', bit: 17, since: null,
    meaning: 'The server may answer OPEN with ENOSYS (no_open). Use `init no_open` to make the scenario\'s server do so.' },
  { name: 'parallel_dirops', cName: 'FUSE_PARALLEL_DIROPS', bit: 18, since: null,
    meaning: 'Parallel lookups and readdir. Not parallel direct writes: that is the per-open FOPEN_PARALLEL_DIRECT_WRITES.' },
  { name: 'handle_killpriv', cName: 'FUSE_HANDLE_KILLPRIV', bit: 19, since: null, meaning: 'The server kills suid/sgid on write/chown/trunc.' },
  { name: 'posix_acl', cName: 'FUSE_POSIX_ACL', bit: 20, since: null, meaning: 'POSIX ACL support.' },
  { name: 'abort_error', cName: 'FUSE_ABORT_ERROR', bit: 21, since: null, meaning: 'Reading the device after abort returns ECONNABORTED.' },
  { name: 'max_pages', cName: 'FUSE_MAX_PAGES', bit: 22, since: null, meaning: 'init_out.max_pages is valid.' },
  { name: 'cache_symlinks', cName: 'FUSE_CACHE_SYMLINKS', bit: 23, since: null, meaning: 'Cache READLINK replies.' },
  { name: 'no_opendir_support', cName: 'FUSE_NO_OPENDIR_SUPPORT', bit: 24, since: null, meaning: 'The server may answer OPENDIR with ENOSYS. Unrelated to io modes.' },
  { name: 'explicit_inval_data', cName: 'FUSE_EXPLICIT_INVAL_DATA', bit: 25, since: null, meaning: 'Only invalidate cached pages on explicit request.' },
  { name: 'map_alignment', cName: 'FUSE_MAP_ALIGNMENT', bit: 26, since: null, meaning: 'init_out.map_alignment is valid (DAX).' },
  { name: 'submounts', cName: 'FUSE_SUBMOUNTS', bit: 27, since: null, meaning: 'Automount submounts (virtiofs).' },
  { name: 'handle_killpriv_v2', cName: 'FUSE_HANDLE_KILLPRIV_V2', bit: 28, since: null, meaning: 'The server kills suid/sgid/caps on write/chown/trunc (v2).' },
  { name: 'setxattr_ext', cName: 'FUSE_SETXATTR_EXT', bit: 29, since: null, meaning: 'Extended fuse_setxattr_in.' },
  { name: 'init_ext', cName: 'FUSE_INIT_EXT', bit: 30, since: null, meaning: 'flags2 is valid. Implied by any flag of bit 32 or above.' },
  { name: 'security_ctx', cName: 'FUSE_SECURITY_CTX', bit: 32, since: null, meaning: 'Security context on create.' },
  { name: 'has_inode_dax', cName: 'FUSE_HAS_INODE_DAX', bit: 33, since: null, meaning: 'Per-inode DAX (virtiofs only).' },
  { name: 'create_supp_group', cName: 'FUSE_CREATE_SUPP_GROUP', bit: 34, since: null, meaning: 'Supplementary group on create.' },
  { name: 'has_expire_only', cName: 'FUSE_HAS_EXPIRE_ONLY', bit: 35, since: '6.6', meaning: 'FUSE_EXPIRE_ONLY for entry invalidation.' },
  { name: 'direct_io_allow_mmap', cName: 'FUSE_DIRECT_IO_ALLOW_MMAP', bit: 36, since: '6.6',
    meaning: 'Allow MAP_SHARED of FOPEN_DIRECT_IO files (born FUSE_DIRECT_IO_RELAX). From 6.9 such a mapping puts the file in caching mode until release.' },
  { name: 'passthrough', cName: 'FUSE_PASSTHROUGH', bit: 37, since: '6.9',
    meaning: 'Passthrough to backing files. Only enabled with 1 <= max_stack_depth <= 2 and without writeback_cache.' },
  { name: 'no_export_support', cName: 'FUSE_NO_EXPORT_SUPPORT', bit: 38, since: '6.9', meaning: 'Explicitly no NFS export support.' },
  { name: 'has_resend', cName: 'FUSE_HAS_RESEND', bit: 39, since: '6.9', meaning: 'FUSE_NOTIFY_RESEND is supported.' },
  { name: 'allow_idmap', cName: 'FUSE_ALLOW_IDMAP', bit: 40, since: '6.12', meaning: 'Idmapped mounts.' },
  { name: 'over_io_uring', cName: 'FUSE_OVER_IO_URING', bit: 41, since: '6.14', meaning: 'FUSE over io_uring (offered only with enable_uring=Y).' },
  { name: 'request_timeout', cName: 'FUSE_REQUEST_TIMEOUT', bit: 42, since: '6.15', meaning: 'Requests time out (init_out.request_timeout).' },
  { name: 'has_io_uring_bufpool', cName: 'FUSE_HAS_IO_URING_BUFPOOL', bit: 43, since: '7.0', meaning: 'io_uring buffer pool (proto 7.46).' },
];

/** Scenario-only init words: server behaviour, not bits. */
export const INIT_BEHAVIOURS: readonly FlagInfo[] = [
  { name: 'no_open', cName: 'ENOSYS reply to FUSE_OPEN', bit: -1, since: null,
    meaning: 'The server answers OPEN with ENOSYS: the kernel stops sending OPEN and RELEASE for regular files (fc->no_open) and gives each open FOPEN_KEEP_CACHE.' },
];

const aliases: Record<string, string> = { direct_io_relax: 'direct_io_allow_mmap' };

/**
 * Canonical name of a flag as a user may write it: `direct_io`, `DIRECT_IO`,
 * `FOPEN_DIRECT_IO`, `FUSE_PASSTHROUGH` all work (pasted from C).
 */
export function canonicalFlagName(text: string): string {
  const lower = text.toLowerCase().replace(/^(fopen_|fuse_)/, '');
  return aliases[lower] ?? lower;
}

export function findOpenFlag(name: string): FlagInfo | undefined {
  return OPEN_FLAGS.find((f) => f.name === name);
}

export function findInitFlag(name: string): FlagInfo | undefined {
  return INIT_FLAGS.find((f) => f.name === name) ?? INIT_BEHAVIOURS.find((f) => f.name === name);
}

export const FOPEN = Object.fromEntries(OPEN_FLAGS.map((f) => [f.name, 1 << f.bit])) as Record<string, number>;

/** fs/fuse/iomode.c: FOPEN_PASSTHROUGH_MASK */
export const FOPEN_PASSTHROUGH_MASK =
  FOPEN.passthrough! | FOPEN.direct_io! | FOPEN.parallel_direct_writes! | FOPEN.noflush!;

export function openFlagsValue(names: readonly string[]): number {
  return names.reduce((acc, n) => acc | (FOPEN[n] ?? 0), 0);
}
