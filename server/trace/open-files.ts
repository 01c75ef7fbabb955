// The open files of one connection as a protocol stream shows them, from each
// OPEN/CREATE reply to its RELEASE, and which RELEASE ends which of them.
// The handle is not an identity: fuse-zip hands every open of a file the same
// fh, passthrough_hp's fh is a descriptor number reused after close, and a
// RELEASE carries pid 0 (fuse_release_common sets nocreds). So a RELEASE is
// matched by node id and handle, and told apart by what the kernel does
// around it:
//   - a file that reached a descriptor is closed with a FLUSH first
//     (filp_close → fuse_flush) and released later;
//   - a refused open is released at once by its opener, which waits in open()
//     for that RELEASE (fs/fuse/file.c fuse_finish_open → fuse_sync_release),
//     so the opener sends nothing between its OPEN reply and the RELEASE.

import type { U64 } from '../../protocol/u64';

export interface OpenFile {
  nodeid: U64 | null;
  /** The handle of the reply; null when the source does not show it. */
  fh: U64 | null;
  /** The task that opened it (fuse_in_header.pid). */
  pid: number | null;
  /** A FLUSH of this file was seen: it reached a file descriptor that was closed. */
  flushed: boolean;
  /** The opener has sent nothing since the reply. */
  quiet: boolean;
}

/** What a RELEASE ended. */
export type ReleaseMatch<F> =
  /** No open file of the capture: one opened before it. */
  | { kind: 'before' }
  /** A flushed file: a normal close. */
  | { kind: 'closed'; file: F }
  /**
   * A file that never reached a descriptor: `file` is the latest one whose opener waits (the oldest when none
   * does), `waiting` how many of the node's unflushed files with that handle have a waiting opener.
   */
  | { kind: 'unflushed'; file: F; waiting: number };

export class OpenFiles<F extends OpenFile> {
  /** By node id (-1: unknown), oldest first. */
  private readonly byNode = new Map<U64, F[]>();
  /** The last open of each requesting task while it is quiet. */
  private readonly quietOpener = new Map<number, F>();
  /** FLUSHes of files opened before the capture, by `nodeid:fh`: their RELEASE is a normal one. */
  private readonly flushedBefore = new Map<string, number>();

  get size(): number {
    return this.byNode.size;
  }

  *values(): IterableIterator<F> {
    for (const list of this.byNode.values()) yield* list;
  }

  opened(file: F): void {
    const key = file.nodeid ?? -1;
    let list = this.byNode.get(key);
    if (!list) this.byNode.set(key, (list = []));
    list.push(file);
    if (file.pid !== null && file.pid !== 0) this.quietOpener.set(file.pid, file);
  }

  /** Any request of task `pid`: its last open is no longer waiting. */
  sent(pid: number | null): void {
    if (pid === null || pid === 0 || this.quietOpener.size === 0) return;
    const file = this.quietOpener.get(pid);
    if (!file) return;
    file.quiet = false;
    this.quietOpener.delete(pid);
  }

  /** A FLUSH marks one open file of the node (the closer's own first, the handle matching when known) as having reached a descriptor. */
  flushed(nodeid: U64 | null, fh: U64 | null, pid: number | null): void {
    // Loops, not filter/find: a FLUSH per close of a busy capture.
    const list = this.byNode.get(nodeid ?? -1);
    let file: F | undefined;
    if (list)
      for (const f of list) {
        if (f.flushed || (fh !== null && f.fh !== null && f.fh !== fh)) continue;
        if (f.pid === pid) {
          file = f;
          break;
        }
        file ??= f;
      }
    if (file) {
      file.flushed = true;
      return;
    }
    const key = `${nodeid}:${fh}`;
    this.flushedBefore.set(key, (this.flushedBefore.get(key) ?? 0) + 1);
  }

  /** A RELEASE of the node with handle `fh` ends one open file, removed here. */
  released(nodeid: U64 | null, fh: U64): ReleaseMatch<F> {
    const key = nodeid ?? -1;
    const list = this.byNode.get(key);
    // Of the node's files with this handle: the first flushed, the first, the last waiting and how many wait.
    let first: F | undefined;
    let lastWaiting: F | undefined;
    let waiting = 0;
    if (list)
      for (const f of list) {
        if (f.fh !== null && f.fh !== fh) continue;
        if (f.flushed) return { kind: 'closed', file: this.remove(key, list, f) };
        first ??= f;
        if (f.quiet) {
          lastWaiting = f;
          waiting++;
        }
      }
    // The FLUSH of a file opened before the capture: this RELEASE is its.
    if ((this.flushedBefore.size > 0 && this.takeFlushBefore(`${nodeid}:${fh}`)) || first === undefined) return { kind: 'before' };
    return { kind: 'unflushed', file: this.remove(key, list!, lastWaiting ?? first), waiting };
  }

  private takeFlushBefore(key: string): boolean {
    const n = this.flushedBefore.get(key) ?? 0;
    if (n === 0) return false;
    if (n === 1) this.flushedBefore.delete(key);
    else this.flushedBefore.set(key, n - 1);
    return true;
  }

  private remove(key: U64, list: F[], file: F): F {
    list.splice(list.indexOf(file), 1);
    if (list.length === 0) this.byNode.delete(key);
    if (file.pid !== null && this.quietOpener.get(file.pid) === file) this.quietOpener.delete(file.pid);
    return file;
  }
}
