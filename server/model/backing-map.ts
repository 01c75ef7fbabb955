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
}

/**
 * fuse_backing_open() in its order: ENOTTY before 6.9 and EPERM without
 * passthrough (backingOpen); then `map->flags || map->padding` → EINVAL;
 * then the file, taken with fget_raw() — so an O_PATH descriptor is
 * accepted — must be regular: a directory is EISDIR (anything else EINVAL).
 * The stacking check (ELOOP) needs a stacked backing fs the language cannot
 * express.
 */
export function backingOpenWith(conn: Connection, table: BackingTable, name: string, map: BackingMap): BackingResult {
  if (!conn.features.ioModes || !conn.passthrough) return backingOpen(conn, table, name);
  if (map.flags !== 0) return { ok: false, errno: 'EINVAL', rule: 'backing-open-bad-argument' };
  if (map.fd === 'dir') return { ok: false, errno: 'EISDIR', rule: 'backing-open-bad-argument' };
  return backingOpen(conn, table, name);
}
