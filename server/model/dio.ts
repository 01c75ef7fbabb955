// Writes and the inode lock: fuse_file_write_iter(), fuse_dio_wr_exclusive_lock(),
// fuse_dio_lock() and fuse_dio_unlock() in fs/fuse/file.c.

import type { Connection } from './connection';
import { FOPEN } from './flags';
import { uncachedIoEnd, uncachedIoStart } from './iomode';
import type { FileIo, InodeIo } from './state';

/** Where fuse_file_write_iter() sends a write. FOPEN_DIRECT_IO overrides FOPEN_PASSTHROUGH. */
export type WritePath = 'direct' | 'passthrough' | 'cached';

export function writePath(file: FileIo): WritePath {
  if (file.openFlags & FOPEN.direct_io!) return 'direct';
  if (file.passthrough !== null) return 'passthrough';
  return 'cached';
}

export type LockKind = 'shared' | 'exclusive';

/**
 * The lock a write asks for. Cached and passthrough writes take the inode
 * lock exclusively. A direct write may share it only with
 * FOPEN_PARALLEL_DIRECT_WRITES and (6.12+, or before 6.9) while
 * FUSE_I_CACHE_IO_MODE is clear; before 6.9 no io modes exist, and on
 * 6.6–6.8 direct_io_allow_mmap forces the exclusive lock. Appending and
 * extending writes (always exclusive) are outside the language: scenario
 * writes stay inside the file.
 */
export function writeLockKind(conn: Connection, inode: InodeIo, file: FileIo): LockKind {
  if (writePath(file) !== 'direct') return 'exclusive';
  if (!(file.openFlags & FOPEN.parallel_direct_writes!)) return 'exclusive';
  if (conn.features.allowMmapForcesExclusiveDio && conn.directIoAllowMmap) return 'exclusive';
  if (conn.features.ioModes && !conn.features.parallelWritesIgnoreCacheBit && inode.cacheIoMode) return 'exclusive';
  return 'shared';
}

/** The inode's i_rwsem: shared holders, an exclusive holder, FIFO waiters. */
export interface RwSem {
  readers: number;
  writer: boolean;
}

export const FREE_RWSEM: RwSem = { readers: 0, writer: false };

/** Whether a lock can be taken now; `queued` says whether earlier waiters stand in line. */
export function canLock(sem: RwSem, kind: LockKind, queued: boolean): boolean {
  if (queued || sem.writer) return false;
  return kind === 'shared' || sem.readers === 0;
}

export function lock(sem: RwSem, kind: LockKind): RwSem {
  return kind === 'shared' ? { ...sem, readers: sem.readers + 1 } : { ...sem, writer: true };
}

export function unlock(sem: RwSem, kind: LockKind): RwSem {
  return kind === 'shared' ? { ...sem, readers: sem.readers - 1 } : { ...sem, writer: false };
}

/**
 * fuse_dio_lock() after the shared lock is held (6.9+): a parallel write is an
 * uncached user of the inode for its duration. With caching users present it
 * falls back to the exclusive lock — never an error. Returns the lock it holds
 * in the end; the fallback can always take the exclusive lock at once, since
 * shared holders on a caching inode are impossible.
 */
export function dioWriteStart(conn: Connection, inode: InodeIo, kind: LockKind): { inode: InodeIo; kind: LockKind } {
  if (kind === 'exclusive' || !conn.features.ioModes) return { inode, kind };
  const started = uncachedIoStart(inode, null);
  return started.ok ? { inode: started.inode, kind: 'shared' } : { inode, kind: 'exclusive' };
}

/** fuse_dio_unlock(): the end of a parallel write may wake cached openers. */
export function dioWriteEnd(conn: Connection, inode: InodeIo, kind: LockKind): { inode: InodeIo; wake: boolean } {
  if (kind === 'exclusive' || !conn.features.ioModes) return { inode, wake: false };
  return uncachedIoEnd(inode);
}
