// What a scan (processes.ts) keeps for the next one, so that a refresh of the sidebar
// reads again only what may have changed (issue 14: a refresh every 5 s must cost
// under 1 % of a core). A process none of whose threads ran since it was read
// (run-marks.ts), and that shares no descriptor table, address space or fs_struct with
// a process that ran (kcmp KCMP_FILES / KCMP_VM / KCMP_FS: clone(2) without
// CLONE_THREAD, as vfork shares the address space), has the same descriptors, mappings
// and cwd/root/exe: its part is kept, and only what another process can change is read
// again (scan-block.ts refreshPart: the paths, positions and flags of its files on the
// target, its maps lines on the target, its name and parent). Everything else is read
// as a scan reads it. So a refresh reports what a full scan would, but for one race
// it cannot see: a process made by a sharer with CLONE_FILES / CLONE_VM / CLONE_FS
// before that sharer's mark was taken and gone again before the sharing was asked,
// having changed the shared table meanwhile (bench/README.md, "What a refresh proves").
//
// Kept only while the target is the same (the mount, every mount of the namespace, the
// reader's namespace): anything else, and the cache starts afresh.

import { resourceOrder, type KcmpResource } from './kcmp';
import { idleSince, releaseRunMark, takeRunMark, type RunMark } from './run-marks';
import type { ProcessPart } from './scan-block';

interface Kept {
  mark: RunMark;
  part: ProcessPart;
  /** Processes sharing its table, address space or fs_struct when it was read: kept only if they did not run either. */
  sharers: number[];
}

const RESOURCES: readonly KcmpResource[] = ['files', 'vm', 'fs'];

export class ScanCache {
  private key: string | undefined;
  private kept = new Map<number, Kept>();
  private marks = new Map<number, RunMark>();
  /** The processes the last scan kept (did not read again whole). */
  lastKept: ReadonlySet<number> = new Set();

  /**
   * Of `pids` (a scan of `key`), the parts that are kept, brought up to date by `refresh`
   * (undefined: read the process again), and the pids to read. Marks are taken of those,
   * before they are read.
   */
  plan(key: string, procRoot: string, pids: number[], refresh: (part: ProcessPart) => ProcessPart | undefined): { kept: Map<number, ProcessPart>; read: number[] } {
    if (key !== this.key) {
      this.clear();
      this.key = key;
    }
    const idle = new Set<number>();
    for (const [pid, k] of this.kept) if (idleSince(k.mark)) idle.add(pid);
    const kept = new Map<number, ProcessPart>();
    const read: number[] = [];
    for (const pid of pids) {
      const k = this.kept.get(pid);
      const part = k && idle.has(pid) && k.sharers.every((s) => idle.has(s)) ? refresh(k.part) : undefined;
      if (part) kept.set(pid, part);
      else read.push(pid);
    }
    for (const [pid, k] of this.kept) if (!kept.has(pid)) releaseRunMark(k.mark);
    this.kept = new Map([...kept].map(([pid, part]) => [pid, { ...this.kept.get(pid)!, part }]));
    for (const pid of read) {
      const mark = takeRunMark(procRoot, pid);
      if (mark) this.marks.set(pid, mark);
    }
    this.lastKept = new Set(kept.keys());
    return { kept, read };
  }

  /**
   * The parts read after `plan` (in the order of its `read`): each one read whole, without
   * problems and with its mark is kept for the next scan, with the processes it shares
   * resources with (asked now, after the marks: sharing made since needs a sharer to run).
   */
  remember(read: number[], parts: ProcessPart[]): void {
    const sharers = sharersAmong(read);
    parts.forEach((part, n) => {
      const pid = read[n]!;
      const mark = this.marks.get(pid);
      if (!mark) return;
      this.marks.delete(pid);
      const whole = part.problems.length === 0 && part.copied.length === 0 && part.sameAsBefore.length === 0;
      if (whole && sharers) this.kept.set(pid, { mark, part, sharers: sharers.get(pid) ?? [] });
      else releaseRunMark(mark);
    });
    for (const mark of this.marks.values()) releaseRunMark(mark);
    this.marks.clear();
  }

  clear(): void {
    for (const k of this.kept.values()) releaseRunMark(k.mark);
    for (const mark of this.marks.values()) releaseRunMark(mark);
    this.kept.clear();
    this.marks.clear();
    this.key = undefined;
  }
}

/**
 * For each of `pids`, the others sharing its descriptor table, address space or fs_struct
 * (kcmp orders them: a sort per resource, equal neighbours share); undefined when kcmp is
 * missing or a sort lost a process midway (then nothing is kept this time). A process kcmp
 * may not ask about (ptrace_may_access refuses it: one the scan cannot read either, named
 * in its warnings) is left out, as is one gone meanwhile: see the limits in bench/README.md.
 */
function sharersAmong(pids: number[]): Map<number, number[]> | undefined {
  if (resourceOrder(process.pid, process.pid, 'files') !== 0) return undefined;
  const out = new Map<number, number[]>();
  for (const resource of RESOURCES) {
    const live = pids.filter((pid) => resourceOrder(pid, pid, resource) === 0);
    let failed = false;
    live.sort((a, b) => {
      const order = resourceOrder(a, b, resource);
      if (order === undefined) failed = true;
      return order ?? 0;
    });
    if (failed) return undefined;
    for (let i = 0; i < live.length; ) {
      let j = i + 1;
      while (j < live.length && resourceOrder(live[i]!, live[j]!, resource) === 0) j++;
      for (let a = i; a < j && j - i > 1; a++) {
        let mine = out.get(live[a]!);
        if (!mine) out.set(live[a]!, (mine = []));
        for (let b = i; b < j; b++) if (a !== b) mine.push(live[b]!);
      }
      i = j;
    }
  }
  return out;
}
