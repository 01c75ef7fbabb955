// The procfs files a refresh reads again of a process it keeps (scan-cache.ts,
// scan-block.ts refreshPart), left open from one refresh to the next: /proc/PID and its
// fd/ directory (readlinks relative to them), and small files read again from their
// start with one pread (procfs prints a seq_file afresh at offset 0) instead of open,
// read and close: each fdinfo/N and the stat. An open fdinfo file holds a page of
// kernel memory (its seq_file buffer), so at most `budget` of them are kept across all
// processes; past that they are opened for each read. Bound to the process: once it is
// gone, reads fail (ESRCH) and the refresh reads it whole.
//
// All of a process's reads are made in one call (ProcReader.reread: in C through the
// addon) and come back as one record, compared whole with the last one: a kept process's
// files mostly say the same at every refresh, and a record with the same bytes need not
// be decoded and parsed again (refreshPart keeps what it made of it last time). One
// compare of a few kilobytes instead of a string made and compared per read (~8,000 on
// the 4,000 state: bench/README.md, "The kept reads in one call").

import { join } from 'node:path';
import { procReader, type ProcDir } from './procfs';

/** How many small files all the kept processes may keep open together. */
export interface KeptBudget {
  left: number;
}

export class ProcessFiles {
  private pidDir: ProcDir | undefined;
  private fdDir: ProcDir | undefined;
  /** The descriptors read again, and each one's fdinfo/N kept open (-1: opened at each read). */
  private fds: Int32Array | undefined;
  private infoFds = new Int32Array(0);
  private statKept: number | undefined;
  /** The last record read (a copy), compared with the next. */
  private last: Buffer | undefined;

  constructor(
    private readonly procRoot: string,
    private readonly pid: number,
    private readonly budget: KeptBudget,
  ) {}

  /** /proc/PID, open. */
  dir(): ProcDir {
    return (this.pidDir ??= procReader().openDir(join(this.procRoot, String(this.pid))).keep());
  }

  /**
   * The links and fdinfo of `fds` and the stat, read again (ProcReader.reread's record, a view of
   * procfs.ts's shared buffer), or undefined when the record's bytes are those of the last call.
   * `fds` are the same at each call: a kept process's descriptor table did not change.
   */
  changedReads(fds: readonly number[]): Buffer | undefined {
    if (this.fds === undefined) {
      this.fds = Int32Array.from(fds);
      this.infoFds = new Int32Array(fds.length).fill(-1);
      // Assigned one at a time, so that close() finds each one opened if a later open fails.
      for (let i = 0; i < fds.length && this.budget.left > 0; i++) this.infoFds[i] = this.openKept(`fdinfo/${fds[i]}`);
      if (this.budget.left > 0) this.statKept = this.openKept('stat');
    }
    const record = procReader().reread((this.fdDir ??= this.dir().dir('fd').keep()), this.dir(), this.fds, this.infoFds, this.statKept ?? -1);
    if (this.last?.equals(record)) return undefined;
    this.last = Buffer.from(record);
    return record;
  }

  private openKept(name: string): number {
    const fd = procReader().openKept(join(this.procRoot, String(this.pid), name));
    this.budget.left--;
    return fd;
  }

  close(): void {
    const reader = procReader();
    const kept = [...this.infoFds.filter((fd) => fd >= 0), ...(this.statKept === undefined ? [] : [this.statKept])];
    for (const fd of kept) reader.closeKept(fd);
    this.budget.left += kept.length;
    this.fds = undefined;
    this.infoFds = new Int32Array(0);
    this.statKept = undefined;
    this.last = undefined;
    this.fdDir?.close();
    this.pidDir?.close();
    this.fdDir = this.pidDir = undefined;
  }
}
