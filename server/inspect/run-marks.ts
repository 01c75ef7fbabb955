// Whether a process has run since a mark: what lets a refresh (scan-cache.ts) keep what
// it read of a process instead of reading it again. A process's descriptor table,
// address space and cwd change only by a system call of a thread using them, and a
// thread that ran has a different /proc/PID/task/TID/schedstat (kernel/sched/stats.c
// proc_pid_schedstat: ns on a CPU, ns waiting, times switched in):
//
// - a mark is each thread's schedstat line, read first, then the thread's state from
//   its stat, which must not be R (running or runnable): so no thread was on a CPU
//   when its line was read, or it was switched out between the two reads (which adds
//   to its time on a CPU, update_curr);
// - a thread switched in since adds one to its third field (sched_info_arrive); one
//   that exited fails the read (the file is kept open, bound to that task: ESRCH, even
//   if its number is reused); a new thread is made by one that ran. So an unchanged line
//   for every marked thread proves that no thread of the process ran since its mark.
//
// Kernels built without schedstats print `0 0 0` (sched_info_on): no mark then.

import { join } from 'node:path';
import { parseStat } from './scan-block';
import { procReader } from './procfs';

export interface RunMark {
  /** Each thread's /proc/PID/task/TID/schedstat, kept open. */
  fds: number[];
  /** Their lines when marked. */
  lines: string[];
}

function line(fd: number): string {
  return procReader().readKept(fd).toString('latin1');
}

/** A mark of every thread of `pid`, taken before the process is read; undefined when one is running or cannot be read. */
export function takeRunMark(procRoot: string, pid: number): RunMark | undefined {
  const reader = procReader();
  const mark: RunMark = { fds: [], lines: [] };
  try {
    const task = join(procRoot, String(pid), 'task');
    for (const tid of reader.listNumbers(task)) {
      mark.fds.push(reader.openKept(join(task, String(tid), 'schedstat')));
      const text = line(mark.fds[mark.fds.length - 1]!);
      if (text.startsWith('0 0 0')) throw new Error('no schedstats');
      mark.lines.push(text);
      const state = parseStat(reader.readFile(join(task, String(tid), 'stat'), true))?.state;
      if (state === undefined || state === 'R') throw new Error('running');
    }
    return mark.fds.length > 0 ? mark : (releaseRunMark(mark), undefined);
  } catch {
    releaseRunMark(mark);
    return undefined;
  }
}

/** No thread of the process ran since `mark` (each line read again the same). */
export function idleSince(mark: RunMark): boolean {
  try {
    return mark.fds.every((fd, i) => line(fd) === mark.lines[i]);
  } catch {
    return false; // a thread exited, or the process
  }
}

export function releaseRunMark(mark: RunMark): void {
  const reader = procReader();
  for (const fd of mark.fds) reader.closeKept(fd);
  mark.fds.length = 0;
}
