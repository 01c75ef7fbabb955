// The FUSE flags a scenario can name: FOPEN_* (OPEN/CREATE reply) and FUSE_INIT
// reply flags (fuse-kernel-rules.md section 1; include/uapi/linux/fuse.h), with
// what they mean and which kernel knows them. The bits come from server/abi.

import * as abi from '../abi';
import { KERNEL_GATES } from './kernel-version';

export interface FlagInfo {
  /** Canonical scenario spelling: lower case, no prefix. */
  name: string;
  /** The C name in include/uapi/linux/fuse.h. */
  cName: string;
  /** Bit number from server/abi (FOPEN_*: in open_flags; INIT: bits >= 32 travel in flags2); -1 for a behaviour. */
  bit: number;
  /** First kernel that knows the flag; null when older than every modelled kernel. */
  since: string | null;
  meaning: string;
}

const open = (name: abi.FopenFlagName, since: string | null, meaning: string): FlagInfo =>
  ({ name, cName: `FOPEN_${name.toUpperCase()}`, bit: abi.FOPEN_BITS[name], since, meaning });
const init = (name: abi.InitFlagName, since: string | null, meaning: string): FlagInfo =>
  ({ name, cName: `FUSE_${name.toUpperCase()}`, bit: abi.INIT_FLAG_BITS[name], since, meaning });

export const OPEN_FLAGS: readonly FlagInfo[] = [
  open('direct_io', null,
    'Bypass the page cache: reads and writes go to the server. Neutral for io modes unless the file is also mmapped shared.'),
  open('keep_cache', null,
    "Don't invalidate the page cache on open. Not allowed with passthrough."),
  open('nonseekable', null,
    'The file is not seekable. Not allowed with passthrough.'),
  open('cache_dir', null,
    'Cache directory contents (directories only; proto 7.28). Not allowed with passthrough.'),
  open('stream', null,
    'The file is a stream: no file position. Not allowed with passthrough.'),
  open('noflush', null,
    "Don't send FLUSH on close (proto 7.35). Allowed with passthrough."),
  open('parallel_direct_writes', null,
    'Direct-io writes may run in parallel under a shared inode lock (proto 7.38, already in 6.1). Needs direct_io: without it the kernel strips the flag.'),
  open('passthrough', KERNEL_GATES.ioModes.mainline,
    'Reads, writes and mmap go straight to the backing file named by backing_id (proto 7.40). Puts the inode in passthrough (uncached) mode.'),
  open('io_uring_zero_copy', KERNEL_GATES.ioUringZeroCopy.mainline,
    'Zero-copy io over FUSE-over-io_uring (proto 7.46). Outside the passthrough mask: passthrough with it is refused.'),
];

/** `max_stack_depth=N` is a field of fuse_init_out, not a flag; the parser handles it apart. */
export const INIT_FLAGS: readonly FlagInfo[] = [
  init('async_read', null, 'Asynchronous read requests.'),
  init('posix_locks', null, 'Remote POSIX file locking.'),
  init('file_ops', null, 'Kernel sends file handle for fstat etc. (unused).'),
  init('atomic_o_trunc', null, 'Handles the O_TRUNC open flag in the filesystem.'),
  init('export_support', null, 'Handles lookups of "." and "..".'),
  init('big_writes', null, 'Writes larger than 4 kB (obsolete, always on).'),
  init('dont_mask', null, "Don't apply umask to file mode on create."),
  init('splice_write', null, 'Kernel supports splice write on the device.'),
  init('splice_move', null, 'Kernel supports splice move on the device.'),
  init('splice_read', null, 'Kernel supports splice read on the device.'),
  init('flock_locks', null, 'Remote flock() locking.'),
  init('has_ioctl_dir', null, 'ioctl on directories.'),
  init('auto_inval_data', null, 'Invalidate cached pages when mtime or size changes.'),
  init('do_readdirplus', null, 'READDIRPLUS (readdir + lookup).'),
  init('readdirplus_auto', null, 'Adaptive READDIRPLUS.'),
  init('async_dio', null, 'Asynchronous direct io. Unrelated to io modes.'),
  init('writeback_cache', null,
    'Writeback caching of writes. Silently disables passthrough (process_init_reply).'),
  init('no_open_support', null,
    'The server may answer OPEN with ENOSYS (no_open). Use `init no_open` to make the scenario\'s server do so.'),
  init('parallel_dirops', null,
    'Parallel lookups and readdir. Not parallel direct writes: that is the per-open FOPEN_PARALLEL_DIRECT_WRITES.'),
  init('handle_killpriv', null, 'The server kills suid/sgid on write/chown/trunc.'),
  init('posix_acl', null, 'POSIX ACL support.'),
  init('abort_error', null, 'Reading the device after abort returns ECONNABORTED.'),
  init('max_pages', null, 'init_out.max_pages is valid.'),
  init('cache_symlinks', null, 'Cache READLINK replies.'),
  init('no_opendir_support', null, 'The server may answer OPENDIR with ENOSYS. Unrelated to io modes.'),
  init('explicit_inval_data', null, 'Only invalidate cached pages on explicit request.'),
  init('map_alignment', null, 'init_out.map_alignment is valid (DAX).'),
  init('submounts', null, 'Automount submounts (virtiofs).'),
  init('handle_killpriv_v2', null, 'The server kills suid/sgid/caps on write/chown/trunc (v2).'),
  init('setxattr_ext', null, 'Extended fuse_setxattr_in.'),
  init('init_ext', null, 'flags2 is valid. Implied by any flag of bit 32 or above.'),
  init('security_ctx', null, 'Security context on create.'),
  init('has_inode_dax', null, 'Per-inode DAX (virtiofs only).'),
  init('create_supp_group', null, 'Supplementary group on create.'),
  init('has_expire_only', '6.6', 'FUSE_EXPIRE_ONLY for entry invalidation.'),
  init('direct_io_allow_mmap', KERNEL_GATES.directIoAllowMmap.mainline,
    'Allow MAP_SHARED of FOPEN_DIRECT_IO files (born FUSE_DIRECT_IO_RELAX). From 6.9 such a mapping puts the file in caching mode until release.'),
  init('passthrough', KERNEL_GATES.ioModes.mainline,
    'Passthrough to backing files. Only enabled with 1 <= max_stack_depth <= 2 and without writeback_cache.'),
  init('no_export_support', '6.9', 'Explicitly no NFS export support.'),
  init('has_resend', '6.9', 'FUSE_NOTIFY_RESEND is supported.'),
  init('allow_idmap', '6.12', 'Idmapped mounts.'),
  init('over_io_uring', '6.14', 'FUSE over io_uring (offered only with enable_uring=Y).'),
  init('request_timeout', '6.15', 'Requests time out (init_out.request_timeout).'),
  init('has_io_uring_bufpool', KERNEL_GATES.ioUringZeroCopy.mainline, 'io_uring buffer pool (proto 7.46).'),
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
  // startsWith, not a regex replace: every reply flag of a million-step scenario comes through here.
  const lower = text.toLowerCase();
  const bare = lower.startsWith('fopen_') ? lower.slice(6) : lower.startsWith('fuse_') ? lower.slice(5) : lower;
  return aliases[bare] ?? bare;
}

/** The first flag of each name, as find() would take it: an open's flags are looked up at each of a million opens. */
function byName(list: readonly FlagInfo[]): ReadonlyMap<string, FlagInfo> {
  const map = new Map<string, FlagInfo>();
  for (const f of list) if (!map.has(f.name)) map.set(f.name, f);
  return map;
}
const openFlagsByName = byName(OPEN_FLAGS);

export function findOpenFlag(name: string): FlagInfo | undefined {
  return openFlagsByName.get(name);
}

export function findInitFlag(name: string): FlagInfo | undefined {
  return INIT_FLAGS.find((f) => f.name === name) ?? INIT_BEHAVIOURS.find((f) => f.name === name);
}

/** The ABI's FOPEN values, looked up by a scenario's flag name (which may name no flag). */
export const FOPEN: Readonly<Record<string, number>> = abi.FOPEN;

/** fs/fuse/iomode.c: FOPEN_PASSTHROUGH_MASK */
export const FOPEN_PASSTHROUGH_MASK =
  abi.FOPEN.passthrough | abi.FOPEN.direct_io | abi.FOPEN.parallel_direct_writes | abi.FOPEN.noflush;

export function openFlagsValue(names: readonly string[]): number {
  return names.reduce((acc, n) => acc | (FOPEN[n] ?? 0), 0);
}
