// Writes and the inode lock: fuse_file_write_iter(), fuse_cache_write_iter(),
// fuse_dio_wr_exclusive_lock(), fuse_dio_lock() and fuse_dio_unlock() in
// fs/fuse/file.c; who gets i_rwsem when it is released: rwsem_mark_wake() in
// kernel/locking/rwsem.c.

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

/**
 * Whether a write reaches the server, and so can be held there. A passthrough
 * write goes to the backing file. With writeback_cache, fuse_cache_write_iter()
 * hands a cached write to generic_file_write_iter(), which copies it into the
 * page cache — unless the file was opened O_DIRECT: then
 * generic_file_direct_write() → fuse_direct_IO() sends the WRITE, still under
 * the exclusive inode lock. Without writeback_cache every cached write is
 * written through (fuse_perform_write or generic_file_direct_write).
 */
export function writeReachesServer(conn: Connection, file: FileIo, oDirect: boolean): boolean {
  const path = writePath(file);
  if (path === 'passthrough') return false;
  return path === 'direct' || !conn.writebackCache || oDirect;
}

/**
 * Whether a read reaches the server. fuse_file_read_iter(): FOPEN_DIRECT_IO
 * (which overrides passthrough) → fuse_direct_read_iter, READ always sent and
 * no inode lock taken; a passthrough read goes to the backing file
 * (fuse_passthrough_read_iter); a cached read (fuse_cache_read_iter) sends
 * READ for O_DIRECT (fuse_direct_IO), and otherwise only for pages not in the
 * page cache.
 */
export function readReachesServer(file: FileIo, oDirect: boolean): 'always' | 'never' | 'if-not-cached' {
  const path = writePath(file);
  if (path === 'direct') return 'always';
  if (path === 'passthrough') return 'never';
  return oDirect ? 'always' : 'if-not-cached';
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

/** The inode's i_rwsem: shared holders and an exclusive holder (the waiters are the caller's queue). */
export interface RwSem {
  readers: number;
  writer: boolean;
}

/** A new RwSem record: one shape for all (as state.ts inodeIo). */
function rwSem(readers: number, writer: boolean): RwSem {
  return { readers, writer };
}

export const FREE_RWSEM: RwSem = rwSem(0, false);

/**
 * Whether a lock can be taken at once; `queued` says whether waiters stand in
 * line. Anyone queues behind waiters: rwsem_read_trylock() fails while
 * RWSEM_FLAG_WAITERS is set, and rwsem_down_read_slowpath() does not steal a
 * lock that other readers hold.
 */
export function canLock(sem: RwSem, kind: LockKind, queued: boolean): boolean {
  if (queued || sem.writer) return false;
  return kind === 'shared' || sem.readers === 0;
}

/**
 * rwsem_mark_wake() when the lock is released (up_write, or up_read of the
 * last reader): a writer at the head of the queue gets it alone; a reader at the
 * head gets it together with every other reader in the queue, also readers
 * behind waiting writers (d3681e269fff "locking/rwsem: Wake up almost all
 * readers in wait queue", 5.3, before every modelled kernel; up to MAX_READERS_WAKEUP
 * = 256 at a time, far beyond a scenario). Returns the indices granted.
 */
export function lockGrants(sem: RwSem, queue: readonly LockKind[]): number[] {
  if (sem.writer || queue.length === 0) return [];
  if (queue[0] === 'exclusive') return sem.readers === 0 ? [0] : [];
  return queue.flatMap((kind, i) => (kind === 'shared' ? [i] : []));
}

export function lock(sem: RwSem, kind: LockKind): RwSem {
  return kind === 'shared' ? rwSem(sem.readers + 1, sem.writer) : rwSem(sem.readers, true);
}

export function unlock(sem: RwSem, kind: LockKind): RwSem {
  return kind === 'shared' ? rwSem(sem.readers - 1, sem.writer) : rwSem(sem.readers, false);
}

/**
 * fuse_dio_lock() after the shared lock is held (6.9+): a parallel write is an
 * uncached user of the inode for its duration. With caching users present it
 * falls back to the exclusive lock — never an error: the caller drops the
 * shared lock and takes the exclusive one (inode_unlock_shared, inode_lock),
 * waiting for it like any writer. Returns the lock the write needs in the end.
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
