// Backing files: FUSE_DEV_IOC_BACKING_OPEN / _CLOSE (fs/fuse/backing.c in 6.18,
// fs/fuse/passthrough.c in 6.9–6.17). Ids come from a cyclic idr: 1 first, then
// growing, never reused within a scenario.

import type { Connection } from './connection';
import type { RuleName } from './rules';

export interface BackingTable {
  /** Registered ids (the idr), each with the scenario name it stands for. */
  ids: ReadonlyMap<number, string>;
  nextId: number;
}

export const EMPTY_BACKINGS: BackingTable = { ids: new Map(), nextId: 1 };

export type BackingResult =
  | { ok: true; table: BackingTable; id: number }
  | { ok: false; errno: string; rule: RuleName };

/**
 * fuse_backing_open(): unknown ioctl before 6.9 (ENOTTY); EPERM unless
 * passthrough is on for the connection (CAP_SYS_ADMIN assumed: the lab runs as
 * root). The stacking check (ELOOP) needs a stacked backing fs, which the
 * language cannot express.
 */
export function backingOpen(conn: Connection, table: BackingTable, name: string): BackingResult {
  if (!conn.features.ioModes) return { ok: false, errno: 'ENOTTY', rule: 'backing-ioctl-unknown' };
  if (!conn.passthrough) return { ok: false, errno: 'EPERM', rule: 'backing-requires-passthrough' };
  const id = table.nextId;
  const ids = new Map(table.ids);
  ids.set(id, name);
  return { ok: true, table: { ids, nextId: id + 1 }, id };
}

/**
 * fuse_backing_close(): same permission checks; id <= 0 is EINVAL, an unknown
 * id ENOENT. The backing object itself lives on while an inode is bound to it.
 */
export function backingClose(conn: Connection, table: BackingTable, id: number): BackingResult {
  if (!conn.features.ioModes) return { ok: false, errno: 'ENOTTY', rule: 'backing-ioctl-unknown' };
  if (!conn.passthrough) return { ok: false, errno: 'EPERM', rule: 'backing-requires-passthrough' };
  if (id <= 0) return { ok: false, errno: 'EINVAL', rule: 'backing-close-unknown-id' };
  if (!table.ids.has(id)) return { ok: false, errno: 'ENOENT', rule: 'backing-close-unknown-id' };
  const ids = new Map(table.ids);
  ids.delete(id);
  return { ok: true, table: { ids, nextId: table.nextId }, id };
}
