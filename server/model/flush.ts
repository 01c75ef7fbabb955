// close(2) of a FUSE file: filp_flush() → fuse_flush() sends FLUSH and waits
// for the reply; only then fput() lets the file go (fuse_release, io mode).

import type { Connection } from './connection';
import { FOPEN } from './flags';
import type { FileIo } from './state';

/**
 * Whether fuse_flush() sends a FLUSH for this close: not when the open was
 * answered FOPEN_NOFLUSH, unless writeback_cache (dirty pages must reach the
 * server first); nor after the server answered a FLUSH with ENOSYS
 * (fc->no_flush, `close X end error=ENOSYS`). Every close(2) of a
 * descriptor flushes, also when other descriptors of the file stay open.
 * Checked on 6.18.44: a close does not wait for the inode lock of a write in
 * flight (test/scenarios/close-waits-for-flush.fusesim).
 */
export function flushReachesServer(conn: Connection, file: FileIo): boolean {
  if (conn.noFlush) return false;
  return (file.openFlags & FOPEN.noflush!) === 0 || conn.writebackCache;
}
