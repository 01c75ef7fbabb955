// The file status flags a process gives its open file — O_TRUNC and O_APPEND
// at open(2), O_APPEND and O_DIRECT again with fcntl(F_SETFL) — and what
// fs/fuse makes of them. None of them touches the inode's io mode: that is
// decided once, in fuse_file_io_open(), from the server's FOPEN flags.

import type { LockKind } from './dio';

/**
 * fuse_dio_wr_exclusive_lock(): "Append will need to know the eventual EOF -
 * always needs an exclusive lock" (IOCB_APPEND, all kernels 6.1–7.3). Cached
 * and passthrough writes take the lock exclusively anyway; an exclusive direct
 * write is not an uncached io user (fuse_dio_lock() only counts shared ones),
 * so an appending write never holds a caching open back.
 */
export function appendingLockKind(kind: LockKind, append: boolean): LockKind {
  return append ? 'exclusive' : kind;
}

/**
 * The lock an O_TRUNC open takes after fuse_open() returned: do_open() →
 * handle_truncate() → do_truncate() holds i_rwsem exclusively around
 * notify_change() → fuse_setattr() (FUSE_SETATTR size 0, or with
 * atomic_o_trunc only the page-cache truncation). So the open waits for any
 * write in flight on the inode, and its io mode is already taken meanwhile.
 */
export const TRUNCATE_LOCK: LockKind = 'exclusive';

/**
 * fcntl(F_SETFL) → setfl() in fs/fcntl.c: FUSE has no ->check_flags and its
 * files carry FMODE_CAN_ODIRECT, so O_DIRECT and O_APPEND are simply set or
 * cleared. The io mode stays: fuse_file_io_open() puts a file opened with
 * O_DIRECT but without FOPEN_DIRECT_IO in caching mode precisely because "a
 * later fcntl() could remove O_DIRECT"; the reverse, setting O_DIRECT later,
 * leaves a caching file caching (its writes go through fuse_cache_write_iter()
 * → generic_file_direct_write(), exclusive as before).
 */
export interface StatusFlags {
  oDirect: boolean;
  append: boolean;
}
