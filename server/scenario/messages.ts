// The words of the simulator's diagnostics: for each rule, why the kernel does
// what it does and what the server (or the program) can change.

import type { RuleName } from '../model/rules';

interface Explanation {
  /** The kernel function that decides. */
  where: string;
  why: string;
  fix: string;
}

export const EXPLANATIONS: Record<RuleName, Explanation> = {
  'cached-open-on-passthrough-inode': {
    where: 'fuse_file_io_open',
    why: 'the inode is bound to a backing file, and every open of it must then reply FOPEN_PASSTHROUGH',
    fix: 'reply passthrough (with the same backing) to every open of this file, or close the passthrough opens first',
  },
  'passthrough-not-negotiated': {
    where: 'fuse_file_passthrough_open',
    why: 'passthrough is not enabled on this connection',
    fix: 'answer FUSE_INIT with passthrough (max_stack_depth 1 or 2, no writeback_cache), or drop passthrough from the reply',
  },
  'passthrough-flag-combination': {
    where: 'fuse_file_passthrough_open',
    why: 'a passthrough reply may only add direct_io, parallel_direct_writes and noflush (FOPEN_PASSTHROUGH_MASK)',
    fix: 'drop the other flags from the reply',
  },
  'passthrough-bad-backing-id': {
    where: 'fuse_passthrough_open',
    why: 'the reply carries a backing id of 0 or less (a server whose BACKING_OPEN failed has no id to send)',
    fix: 'register the backing file with FUSE_DEV_IOC_BACKING_OPEN and reply its id (backing=B)',
  },
  'passthrough-unknown-backing-id': {
    where: 'fuse_passthrough_open',
    why: 'the backing id is not registered on this connection (never opened, or already closed with BACKING_CLOSE)',
    fix: 'keep the backing id registered until the last passthrough open of it, as libfuse\'s passthrough_hp does',
  },
  'passthrough-conflicting-backing': {
    where: 'fuse_inode_uncached_io_start',
    why: 'the inode is already bound to another backing object; identity is the id, not the file behind it',
    fix: 'reuse one backing id per inode for every open while any passthrough open of it lives',
  },
  'passthrough-open-on-caching-inode': {
    where: 'fuse_inode_uncached_io_start',
    why: 'the inode has caching users (iocachectr > 0): caching and passthrough must not mix on one inode',
    fix: 'close (and unmap) the caching opens first, or reply passthrough to them as well',
  },
  'cached-open-waits-for-parallel-writes': {
    where: 'fuse_file_cached_io_open',
    why: 'parallel direct-io writes are in flight (iocachectr < 0); the caching open sleeps until the last one ends',
    fix: 'expected behaviour; to avoid the wait, reply direct_io to this open or finish the writes first',
  },
  'mmap-on-passthrough-inode': {
    where: 'fuse_file_mmap',
    why: 'another open of the inode is passthrough, and only a passthrough file can be mapped then',
    fix: 'reply passthrough to this open too (its mapping then maps the backing file)',
  },
  'direct-io-shared-mmap-not-allowed': {
    where: 'fuse_file_mmap',
    why: 'MAP_SHARED of a FOPEN_DIRECT_IO file needs FUSE_DIRECT_IO_ALLOW_MMAP (6.6+) for page-cache coherency',
    fix: 'answer FUSE_INIT with direct_io_allow_mmap, or map privately',
  },
  'direct-io-shared-mmap-taints-file': {
    where: 'fuse_file_io_mmap',
    why: 'the first shared mapping of a direct-io file puts it in caching mode until the file is released',
    fix: 'close and unmap the file before opening the inode for passthrough',
  },
  'direct-io-shared-mmap-waits': {
    where: 'fuse_file_cached_io_open',
    why: 'parallel direct-io writes are in flight; the shared mapping waits until the last one ends',
    fix: 'expected behaviour; finish the writes first to avoid the wait',
  },
  'mmap-access-mode': {
    where: 'do_mmap',
    why: 'a mapping needs a readable descriptor, and a shared writable one a descriptor opened for writing',
    fix: 'open the file rdwr',
  },
  'write-waits-for-inode-lock': {
    where: 'fuse_dio_lock',
    why: 'another write holds the inode lock in a mode that excludes this one',
    fix: 'expected behaviour; parallel_direct_writes with direct_io lets non-extending writes share the lock',
  },
  'bad-file-descriptor': {
    where: 'fdget',
    why: 'the process has no such descriptor, or it was not opened for this access',
    fix: 'open the file with the access the step needs, in this process',
  },
  'backing-requires-passthrough': {
    where: 'fuse_backing_open',
    why: 'the backing ioctls need passthrough enabled by FUSE_INIT (and CAP_SYS_ADMIN)',
    fix: 'answer FUSE_INIT with passthrough and max_stack_depth 1 or 2, without writeback_cache',
  },
  'backing-ioctl-unknown': {
    where: 'fuse_dev_ioctl',
    why: 'FUSE_DEV_IOC_BACKING_OPEN/CLOSE exist from Linux 6.9',
    fix: 'use kernel 6.9 or newer, or serve the file without passthrough',
  },
  'backing-close-unknown-id': {
    where: 'fuse_backing_close',
    why: 'the id is not registered (closed already, or never opened)',
    fix: 'close each backing id once',
  },
  'parallel-writes-need-direct-io': {
    where: 'fuse_file_io_open',
    why: 'FOPEN_PARALLEL_DIRECT_WRITES only applies to FOPEN_DIRECT_IO files; the kernel strips it otherwise',
    fix: 'add direct_io to the reply, or drop parallel_direct_writes',
  },
  'passthrough-disabled-by-writeback-cache': {
    where: 'process_init_reply',
    why: 'with FUSE_WRITEBACK_CACHE in the INIT reply the kernel leaves passthrough off',
    fix: 'drop writeback_cache from the INIT reply',
  },
  'passthrough-bad-max-stack-depth': {
    where: 'process_init_reply',
    why: 'max_stack_depth must be 1 or 2 (FILESYSTEM_MAX_STACK_DEPTH) for passthrough to be enabled',
    fix: 'send max_stack_depth=1 (or 2 when backing files live on a stacked filesystem)',
  },
  'flag-unknown-to-kernel': {
    where: 'include/uapi/linux/fuse.h',
    why: 'the chosen kernel version predates this flag',
    fix: 'choose a newer kernel, or drop the flag',
  },
  'backing-never-used': {
    where: 'fuse_backing_open',
    why: 'the backing id is registered but no passthrough open replies it',
    fix: 'reply backing=B with passthrough, or do not register it',
  },
  'backing-without-passthrough': {
    where: 'fuse_file_io_open',
    why: 'backing_id is only read when the reply has FOPEN_PASSTHROUGH',
    fix: 'add passthrough to the reply, or drop backing=',
  },
  'reply-ignored-under-no-open': {
    where: 'fuse_do_open',
    why: 'the server answers OPEN with ENOSYS, so the kernel sends no OPEN and every open gets FOPEN_KEEP_CACHE',
    fix: 'drop no_open from init, or drop the reply flags',
  },
  'step-after-blocked': {
    where: 'scheduler',
    why: 'the process sleeps in the kernel and can do nothing until it wakes',
    fix: 'let another process (or the server) end the wait first, or run this step in another process',
  },
};

export function explain(rule: RuleName): string {
  const e = EXPLANATIONS[rule];
  return `${e.why}. Fix: ${e.fix}.`;
}
