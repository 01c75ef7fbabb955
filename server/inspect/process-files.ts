// The procfs files a refresh reads again of a process it keeps (scan-cache.ts,
// scan-block.ts refreshPart), left open from one refresh to the next: /proc/PID and its
// fd/ directory (readlinks relative to them), and small files read again from their
// start with one pread (procfs prints a seq_file afresh at offset 0) instead of open,
// read and close: each fdinfo/N and the stat. An open fdinfo file holds a page of
// kernel memory (its seq_file buffer), so at most `budget` of them are kept across all
// processes; past that they are opened for each read. Bound to the process: once it is
// gone, reads fail (ESRCH) and the refresh reads it whole.
//
// Each read is also compared with the one before it of the same link or file: a kept
// process's files mostly say the same at every refresh, and what says the same need not
// be decoded and parsed again (refreshPart keeps what it made of it last time). Compared
// as latin1 text, a char per byte: equal texts are equal bytes.

import { join } from 'node:path';
import { procReader, type ProcDir } from './procfs';

/** How many small files all the kept processes may keep open together. */
export interface KeptBudget {
  left: number;
}

export class ProcessFiles {
  private pidDir: ProcDir | undefined;
  private fdDir: ProcDir | undefined;
  /** fdinfo/N kept open, by N. */
  private readonly fdinfoKept = new Map<number, number>();
  private statKept: number | undefined;
  /** The last text read of each fd/N link and fdinfo/N, by N, and of the stat (key 0). */
  private readonly lastLink = new Map<number, string>();
  private readonly lastFdinfo = new Map<number, string>();
  private readonly lastStat = new Map<number, string>();

  constructor(
    private readonly procRoot: string,
    private readonly pid: number,
    private readonly budget: KeptBudget,
  ) {}

  /** /proc/PID, open. */
  dir(): ProcDir {
    return (this.pidDir ??= procReader().openDir(join(this.procRoot, String(this.pid))).keep());
  }

  /** readlink of /proc/PID/fd/N, or undefined when its bytes are those of the last call for N (a view of procfs.ts's shared buffer). */
  changedLink(fd: number): Buffer | undefined {
    return changed(this.lastLink, fd, (this.fdDir ??= this.dir().dir('fd').keep()).readlink(String(fd)));
  }

  /** fdinfo/N as text, or undefined when it is what the last call for N read. */
  changedFdinfo(fd: number): string | undefined {
    let kept = this.fdinfoKept.get(fd);
    if (kept === undefined && this.budget.left > 0) {
      kept = this.openKept(`fdinfo/${fd}`);
      this.fdinfoKept.set(fd, kept);
    }
    return changed(this.lastFdinfo, fd, kept === undefined ? this.dir().readFile(`fdinfo/${fd}`, true) : procReader().readKept(kept))?.toString('latin1');
  }

  /** The stat's bytes, or undefined when they are those of the last call (a view of procfs.ts's shared buffer). */
  changedStat(): Buffer | undefined {
    if (this.statKept === undefined && this.budget.left > 0) this.statKept = this.openKept('stat');
    return changed(this.lastStat, 0, this.statKept === undefined ? this.dir().readFile('stat', true) : procReader().readKept(this.statKept));
  }

  private openKept(name: string): number {
    const fd = procReader().openKept(join(this.procRoot, String(this.pid), name));
    this.budget.left--;
    return fd;
  }

  close(): void {
    const reader = procReader();
    const kept = [...this.fdinfoKept.values(), ...(this.statKept === undefined ? [] : [this.statKept])];
    for (const fd of kept) reader.closeKept(fd);
    this.budget.left += kept.length;
    this.fdinfoKept.clear();
    this.statKept = undefined;
    this.lastLink.clear();
    this.lastFdinfo.clear();
    this.lastStat.clear();
    this.fdDir?.close();
    this.pidDir?.close();
    this.fdDir = this.pidDir = undefined;
  }
}

/** `bytes`, or undefined when they are what `last` holds for `key`; remembered for the next call. */
function changed(last: Map<number, string>, key: number, bytes: Buffer): Buffer | undefined {
  const text = bytes.toString('latin1');
  if (last.get(key) === text) return undefined;
  last.set(key, text);
  return bytes;
}
