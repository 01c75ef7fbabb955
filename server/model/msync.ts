// msync(2) of a mapping of a FUSE file: mm/msync.c → vfs_fsync_range() of
// the vma's file → fuse_fsync() in fs/fuse/file.c.

import type { LockKind } from './dio';

/**
 * Whether msync(MS_SYNC) reaches fuse_fsync(): only for a shared mapping
 * (msync skips private ones), and not for a passthrough mapping, whose
 * vm_file is the backing file (backing_file_mmap() swaps it in), so the
 * backing file system syncs it. MS_ASYNC does nothing at all since 2.6.19.
 */
export function msyncReachesFuse(shared: boolean, passthrough: boolean): boolean {
  return shared && !passthrough;
}

/**
 * fuse_fsync() holds i_rwsem exclusively around the writeback and FUSE_FSYNC
 * (all kernels 6.1–7.3), so it waits for every write in flight on the inode.
 */
export const FSYNC_LOCK: LockKind = 'exclusive';
