// Per-inode io modes: caching vs uncached (passthrough, parallel dio writes).
// Each function mirrors one function of fs/fuse/iomode.c (6.9 – 7.3, identical
// logic); `Step` results carry the new records and never mutate the old ones
// (made by state.ts inodeIo and fileIo).

import type { Connection } from './connection';
import { FOPEN, FOPEN_PASSTHROUGH_MASK } from './flags';
import type { RuleName } from './rules';
import { fileIo, inodeIo, type FileIo, type InodeIo } from './state';

export type Step =
  | { kind: 'ok'; inode: InodeIo; file: FileIo }
  /**
   * The caller sleeps on fi->direct_io_waitq; `inode` has FUSE_I_CACHE_IO_MODE
   * set, `file` is the file as it sleeps (flags sanitised). When woken it goes
   * on inside cachedIoOpen(), not from the start of the open or mmap.
   */
  | { kind: 'wait'; inode: InodeIo; file: FileIo; rule: RuleName }
  /** `errno` is the kernel-internal error; callers map it to what the process sees. */
  | { kind: 'error'; errno: string; rule: RuleName; inode: InodeIo };

/**
 * fuse_inode_uncached_io_start(): a passthrough open (fb given) or a parallel
 * dio write (fb null) enters uncached mode. Refused while caching opens exist
 * (ETXTBSY) or while another backing object is bound (EBUSY). The first
 * passthrough open binds fb; the inode keeps that single reference.
 */
export function uncachedIoStart(inode: InodeIo, fb: number | null): { ok: true; inode: InodeIo } | { ok: false; errno: 'EBUSY' | 'ETXTBSY' } {
  if (fb !== null && inode.fb !== null && inode.fb !== fb) return { ok: false, errno: 'EBUSY' };
  if (inode.iocachectr > 0) return { ok: false, errno: 'ETXTBSY' };
  return { ok: true, inode: inodeIo(inode.iocachectr - 1, inode.cacheIoMode, inode.fb ?? fb) };
}

/**
 * fuse_inode_uncached_io_end(): the last uncached user gone (counter back to
 * 0) wakes the cached openers and drops the bound backing object. This is the
 * only wake-up of direct_io_waitq.
 */
export function uncachedIoEnd(inode: InodeIo): { inode: InodeIo; wake: boolean } {
  const iocachectr = inode.iocachectr + 1;
  if (iocachectr !== 0) return { inode: inodeIo(iocachectr, inode.cacheIoMode, inode.fb), wake: false };
  return { inode: inodeIo(iocachectr, inode.cacheIoMode, null), wake: true };
}

/** fuse_is_io_cache_wait(): uncached users in flight and no backing bound. */
export function isIoCacheWait(inode: InodeIo): boolean {
  return inode.iocachectr < 0 && inode.fb === null;
}

/**
 * fuse_file_cached_io_open(): a caching open, or the first shared mmap of a
 * FOPEN_DIRECT_IO file. Sleeps (setting FUSE_I_CACHE_IO_MODE so that new dio
 * writes go exclusive) while parallel dio writes are in flight; refuses with
 * ETXTBSY if the inode went passthrough meanwhile; counts the file once. A
 * woken sleeper calls this again: the kernel's wait loop is inside it, after
 * fuse_file_io_open()'s backing check and fuse_file_mmap()'s ENODEV checks,
 * which a sleeper does not repeat.
 */
export function cachedIoOpen(inode: InodeIo, file: FileIo, waitRule: RuleName): Step {
  if (!file.hasArgs) return { kind: 'ok', inode, file };
  if (isIoCacheWait(inode)) return { kind: 'wait', inode: inodeIo(inode.iocachectr, true, inode.fb), file, rule: waitRule };
  if (inode.fb !== null) {
    return { kind: 'error', errno: 'ETXTBSY', rule: 'passthrough-open-on-caching-inode', inode: inodeIo(inode.iocachectr, false, inode.fb) };
  }
  if (file.iomode !== 'none') return { kind: 'ok', inode, file };
  return {
    kind: 'ok',
    inode: inodeIo(inode.iocachectr + 1, inode.iocachectr === 0 ? true : inode.cacheIoMode, inode.fb),
    file: fileIo('cached', file.openFlags, file.passthrough, file.hasArgs),
  };
}

/** fuse_file_cached_io_release(): the bit is cleared with the last caching user. */
export function cachedIoRelease(inode: InodeIo, file: FileIo): { inode: InodeIo; file: FileIo } {
  const iocachectr = inode.iocachectr - 1;
  return {
    inode: inodeIo(iocachectr, iocachectr === 0 ? false : inode.cacheIoMode, inode.fb),
    file: fileIo('none', file.openFlags, file.passthrough, file.hasArgs),
  };
}

/**
 * fuse_file_passthrough_open() with fuse_passthrough_open(): passthrough must
 * be negotiated and the reply may only add DIRECT_IO, PARALLEL_DIRECT_WRITES
 * and NOFLUSH (EINVAL); the id must be > 0 (EINVAL) and registered (ENOENT);
 * then fuse_file_uncached_io_open() binds the backing object.
 */
export function passthroughOpen(
  conn: Connection,
  inode: InodeIo,
  file: FileIo,
  backingId: number,
  isRegistered: (id: number) => boolean,
): Step {
  if (!conn.passthrough) return { kind: 'error', errno: 'EINVAL', rule: 'passthrough-not-negotiated', inode };
  if (file.openFlags & ~FOPEN_PASSTHROUGH_MASK) {
    return { kind: 'error', errno: 'EINVAL', rule: 'passthrough-flag-combination', inode };
  }
  if (backingId <= 0) return { kind: 'error', errno: 'EINVAL', rule: 'passthrough-bad-backing-id', inode };
  if (!isRegistered(backingId)) return { kind: 'error', errno: 'ENOENT', rule: 'passthrough-unknown-backing-id', inode };
  const started = uncachedIoStart(inode, backingId);
  if (!started.ok) {
    const rule = started.errno === 'EBUSY' ? 'passthrough-conflicting-backing' : 'passthrough-open-on-caching-inode';
    return { kind: 'error', errno: started.errno, rule, inode };
  }
  return { kind: 'ok', inode: started.inode, file: fileIo('uncached', file.openFlags, backingId, file.hasArgs) };
}

/**
 * fuse_file_io_open(), run on the server's OPEN/CREATE reply. Order: no args
 * (no_open before bd5603eaae0a) → no mode; inode bound to a backing and the
 * reply lacks PASSTHROUGH → EINVAL; PARALLEL_DIRECT_WRITES without DIRECT_IO
 * is stripped; DIRECT_IO alone is neutral; PASSTHROUGH → passthrough open;
 * anything else → caching open. Every error becomes EIO from open().
 */
export function fileIoOpen(
  conn: Connection,
  inode: InodeIo,
  file: FileIo,
  backingId: number,
  isRegistered: (id: number) => boolean,
): Step {
  if (!file.hasArgs) return { kind: 'ok', inode, file };
  const flags = file.openFlags;
  if (inode.fb !== null && !(flags & FOPEN.passthrough!)) {
    return { kind: 'error', errno: 'EINVAL', rule: 'cached-open-on-passthrough-inode', inode };
  }
  const sanitised: FileIo = flags & FOPEN.direct_io!
    ? file
    : fileIo(file.iomode, flags & ~FOPEN.parallel_direct_writes!, file.passthrough, file.hasArgs);
  if (sanitised.openFlags & FOPEN.direct_io! && !(sanitised.openFlags & FOPEN.passthrough!)) {
    return { kind: 'ok', inode, file: sanitised };
  }
  if (sanitised.openFlags & FOPEN.passthrough!) return passthroughOpen(conn, inode, sanitised, backingId, isRegistered);
  return cachedIoOpen(inode, sanitised, 'cached-open-waits-for-parallel-writes');
}

/**
 * fuse_file_io_release(), called when the struct file's last reference goes
 * (after fuse_prepare_release dropped the per-file backing file): gives the
 * file's mode back to the inode.
 */
export function fileIoRelease(inode: InodeIo, file: FileIo): { inode: InodeIo; file: FileIo; wake: boolean } {
  if (file.iomode === 'cached') {
    const released = cachedIoRelease(inode, file);
    return { inode: released.inode, file: released.file, wake: false };
  }
  if (file.iomode === 'uncached') {
    const ended = uncachedIoEnd(inode);
    return { inode: ended.inode, file: fileIo('none', file.openFlags, null, file.hasArgs), wake: ended.wake };
  }
  return { inode, file, wake: false };
}
