// The argument of FUSE_DEV_IOC_BACKING_OPEN, struct fuse_backing_map { fd,
// flags, padding }, and what fuse_backing_open() (fs/fuse/backing.c in 6.18,
// passthrough.c in 6.9–6.17) refuses in it.

import { backingOpen, type BackingResult, type BackingTable } from './backing';
import type { Connection } from './connection';

/** What the descriptor in the map is: a regular file, a directory, or an O_PATH descriptor of a regular file. */
export type BackingFd = 'file' | 'dir' | 'o_path';

export interface BackingMap {
  flags: number;
  fd: BackingFd;
  /** s_stack_depth of the backing file's file system: 0 for a plain one, 1 on an overlayfs. */
  stackDepth: number;
}

/**
 * fuse_backing_open() in its order: ENOTTY before 6.9 and EPERM without
 * passthrough (backingOpen); then `map->flags || map->padding` → EINVAL;
 * then the file, taken with fget_raw() — so an O_PATH descriptor is
 * accepted — must be regular: a directory is EISDIR (anything else EINVAL).
 * Last, `backing_sb->s_stack_depth >= fc->max_stack_depth` → ELOOP: a
 * passthrough file's own file system counts one level more than its
 * backing's, and no stack may pass FILESYSTEM_MAX_STACK_DEPTH (2).
 */
export function backingOpenWith(conn: Connection, table: BackingTable, name: string, map: BackingMap): BackingResult {
  if (!conn.features.ioModes || !conn.passthrough) return backingOpen(conn, table, name);
  if (map.flags !== 0) return { ok: false, errno: 'EINVAL', rule: 'backing-open-bad-argument' };
  if (map.fd === 'dir') return { ok: false, errno: 'EISDIR', rule: 'backing-open-bad-argument' };
  if (map.stackDepth >= conn.maxStackDepth) return { ok: false, errno: 'ELOOP', rule: 'backing-stack-too-deep' };
  return backingOpen(conn, table, name);
}
