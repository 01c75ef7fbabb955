// The procfs files a refresh reads again of a process it keeps (scan-cache.ts,
// scan-block.ts refreshPart), left open from one refresh to the next: /proc/PID and its
// fd/ directory (readlinks relative to them), and small files read again from their
// start with one pread (procfs prints a seq_file afresh at offset 0) instead of open,
// read and close: each fdinfo/N and the stat. An open fdinfo file holds a page of
// kernel memory (its seq_file buffer), so at most `budget` of them are kept across all
// processes; past that they are opened for each read. Bound to the process: once it is
// gone, reads fail (ESRCH) and the refresh reads it whole.

import { join } from 'node:path';
import { procReader, type ProcDir } from './procfs';

/** How many small files all the kept processes may keep open together. */
export interface KeptBudget {
  left: number;
}

export class ProcessFiles {
  private pidDir: ProcDir | undefined;
  private fdDir: ProcDir | undefined;
  private readonly kept = new Map<string, number>(); // name below /proc/PID -> fd

  constructor(
    private readonly procRoot: string,
    private readonly pid: number,
    private readonly budget: KeptBudget,
  ) {}

  /** /proc/PID, open. */
  dir(): ProcDir {
    return (this.pidDir ??= procReader().openDir(join(this.procRoot, String(this.pid))).keep());
  }

  /** readlink of /proc/PID/fd/N. */
  fdLink(fd: number): Buffer {
    return (this.fdDir ??= this.dir().dir('fd').keep()).readlink(String(fd));
  }

  /** A small file below /proc/PID (fdinfo/N, stat), kept open while the budget allows. */
  small(name: string): Buffer {
    const reader = procReader();
    let fd = this.kept.get(name);
    if (fd === undefined && this.budget.left > 0) {
      fd = reader.openKept(join(this.procRoot, String(this.pid), name));
      this.kept.set(name, fd);
      this.budget.left--;
    }
    return fd === undefined ? this.dir().readFile(name, true) : reader.readKept(fd);
  }

  close(): void {
    const reader = procReader();
    for (const fd of this.kept.values()) reader.closeKept(fd);
    this.budget.left += this.kept.size;
    this.kept.clear();
    this.fdDir?.close();
    this.pidDir?.close();
    this.fdDir = this.pidDir = undefined;
  }
}
