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

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KTHREADD, resourceOrder, type KcmpResource } from './kcmp';
import { idleSince, releaseRunMark, takeRunMark, type RunMark } from './run-marks';
import { ProcessFiles, type KeptBudget } from './process-files';
import type { ProcessScan } from './processes';
import type { ProcessPart } from './scan-block';

interface Kept {
  mark: RunMark;
  part: ProcessPart;
  /** What it is refreshed from, open between refreshes. */
  files: ProcessFiles;
  /** Processes sharing its table, address space or fs_struct when it was read: kept only if they did not run either. */
  sharers: number[];
}

const RESOURCES: readonly KcmpResource[] = ['files', 'vm', 'fs'];

/** Past this many processes read in one refresh, the kcmp sorts run only when a quarter of them could be kept. */
const SORTED_AT_MOST = 512;

/** Small procfs files kept open across the kept processes (a page of kernel memory each: 32 MiB at most). */
const KEPT_FILES = 8192;

/**
 * Threads' schedstat files kept open as marks, at most: one descriptor each, so that a machine
 * of many thousand threads does not bring the server near its descriptor limit (past it, a
 * process is simply read whole at every refresh).
 */
const MARKED_THREADS = 8192;

export class ScanCache {
  private key: string | undefined;
  private kept = new Map<number, Kept>();
  private marks = new Map<number, RunMark>();
  /** Processes whose last read could not be kept (a problem, or copies of another's descriptors): not marked while so. */
  private readonly unmarked = new Set<number>();
  /**
   * Processes the last sorts found never to be kept (sharersAmong `never`: kernel threads, zombies):
   * not marked either, a mark being 6–9 system calls and a small machine's ~60 kernel threads being
   * read at every refresh. A pid reused since by another process is read whole until the next sorts.
   */
  private never: ReadonlySet<number> = new Set();
  private readonly budget: KeptBudget = { left: KEPT_FILES };
  /** The processes the last scan kept (did not read again whole). */
  lastKept: ReadonlySet<number> = new Set();
  /** The kernel threads the last scan took from kthreadd's read (`plan`'s likeKthreadd). */
  lastLikeKthreadd: ReadonlySet<number> = new Set();
  /** The last scan made with this cache, and the parts it was merged from that add something (processes.ts). */
  lastScan: { used: ProcessPart[]; scan: ProcessScan } | undefined;

  /**
   * Of `pids` (a scan of `key`), the parts that are kept, brought up to date by `refresh`
   * (undefined: read the process again), the kernel threads that hold what kthreadd holds
   * (`likeKthreadd`: the scan takes them from its read of kthreadd, which is among `read`),
   * and the pids to read. Marks are taken of those, before they are read.
   */
  plan(
    key: string,
    procRoot: string,
    pids: number[],
    refresh: (part: ProcessPart, files: ProcessFiles) => ProcessPart | undefined,
  ): { kept: Map<number, ProcessPart>; likeKthreadd: Set<number>; read: number[] } {
    if (key !== this.key) {
      this.clear();
      this.key = key;
    }
    // Marks of a scan that failed before `remember` took them: let go, not overwritten open.
    for (const mark of this.marks.values()) releaseRunMark(mark);
    this.marks.clear();
    const idle = new Set<number>();
    for (const [pid, k] of this.kept) if (idleSince(k.mark)) idle.add(pid);
    const kept = new Map<number, ProcessPart>();
    const likeKthreadd = new Set<number>();
    const read: number[] = [];
    const kthreadd = this.never.size > 0 && isKthreadd(procRoot);
    for (const pid of pids) {
      const k = this.kept.get(pid);
      const part = k && idle.has(pid) && k.sharers.every((s) => idle.has(s)) ? refresh(k.part, k.files) : undefined;
      if (part) kept.set(pid, part);
      else if (kthreadd && this.never.has(pid) && sharesAllOfKthreadd(pid)) likeKthreadd.add(pid);
      else read.push(pid);
    }
    for (const [pid, k] of this.kept) if (!kept.has(pid)) release(k);
    this.kept = new Map([...kept].map(([pid, part]) => [pid, { ...this.kept.get(pid)!, part }]));
    let marked = 0;
    for (const k of this.kept.values()) marked += k.mark.fds.length;
    for (const pid of read) {
      if (marked >= MARKED_THREADS) break;
      if (this.unmarked.has(pid) || this.never.has(pid)) continue;
      const mark = takeRunMark(procRoot, pid);
      if (mark) {
        this.marks.set(pid, mark);
        marked += mark.fds.length;
      }
    }
    this.lastKept = new Set(kept.keys());
    this.lastLikeKthreadd = likeKthreadd;
    return { kept, likeKthreadd, read };
  }

  /**
   * The parts read after `plan` (in the order of its `read`): each one read whole, without
   * problems and with its mark is kept for the next scan, with the processes it shares
   * resources with (asked now, after the marks: sharing made since needs a sharer to run).
   */
  remember(procRoot: string, read: number[], parts: ProcessPart[]): void {
    const whole = parts.map((part) => part.problems.length === 0 && part.copied.length === 0 && part.sameAsBefore.length === 0);
    this.unmarked.clear();
    read.forEach((pid, n) => whole[n] || this.unmarked.add(pid));
    // The sorts ask kcmp about every process read (any may share with one kept): worth it when
    // most could be kept, not when most are copies (a family of forks: read in blocks each time).
    const candidates = read.filter((pid, n) => whole[n] && this.marks.has(pid)).length;
    const sharing = candidates > 0 && (read.length <= SORTED_AT_MOST || candidates * 4 >= read.length) ? sharersAmong(procRoot, read) : undefined;
    // The kernel threads taken from kthreadd's read were not among `read`: still never kept.
    if (sharing) this.never = new Set([...sharing.never, ...this.lastLikeKthreadd]);
    read.forEach((pid, n) => {
      const mark = this.marks.get(pid);
      if (!mark) return;
      this.marks.delete(pid);
      const part = parts[n]!;
      if (whole[n] && sharing && !sharing.never.has(pid))
        this.kept.set(pid, { mark, part, files: new ProcessFiles(procRoot, pid, this.budget), sharers: sharing.sharers.get(pid) ?? [] });
      else releaseRunMark(mark);
    });
    for (const mark of this.marks.values()) releaseRunMark(mark);
    this.marks.clear();
  }

  clear(): void {
    this.lastScan = undefined;
    for (const k of this.kept.values()) release(k);
    for (const mark of this.marks.values()) releaseRunMark(mark);
    this.kept.clear();
    this.marks.clear();
    this.unmarked.clear();
    this.never = new Set();
    this.key = undefined;
  }
}

function release(k: Kept): void {
  releaseRunMark(k.mark);
  k.files.close();
}


/**
 * Whether `pid` (not kthreadd) shares kthreadd's descriptor table and fs_struct and has no address
 * space (kcmp KCMP_VM equal to kthreadd's: none). /proc then shows it kthreadd's fd/ (the same
 * table), cwd and root (the same fs_struct), and no exe or maps (no mm): what kthreadd holds, it
 * holds, so a scan reads kthreadd once for all of them (processes.ts) instead of ~10 reads for
 * each of a small machine's ~60 kernel threads at every refresh. Asked at each refresh, before
 * kthreadd is read: a thread that unshares since holds, at that moment, what kthreadd did (a
 * kernel thread installs descriptors in its own table only after unsharing it).
 */
function sharesAllOfKthreadd(pid: number): boolean {
  return pid !== KTHREADD && resourceOrder(pid, KTHREADD, 'vm') === 0 && resourceOrder(pid, KTHREADD, 'files') === 0 && resourceOrder(pid, KTHREADD, 'fs') === 0;
}

/**
 * For each of `pids`, the others sharing its descriptor table, address space or fs_struct:
 * kcmp orders them (a sort per resource; equal neighbours share). Processes without an
 * address space (kernel threads, zombies: the same as kthreadd's, none) are never kept
 * (`never`), nor any process sharing a table or fs_struct with kthreadd (init may): the
 * kernel threads always include some that run. Kernel threads share kthreadd's table and
 * fs_struct (kthread_create: CLONE_FILES | CLONE_FS) or their own (unshare), and zombies
 * have none, so leaving them out of the sorts loses no sharing with a user process (that
 * one is compared with kthreadd) and keeps the sorts to the few user processes that ran. A process kcmp may not ask about
 * (ptrace_may_access refuses it: one the scan cannot read either, named in its warnings)
 * is left out, as is one gone meanwhile: see the limits in bench/README.md. undefined when
 * kcmp is missing.
 */
function sharersAmong(procRoot: string, pids: number[]): { sharers: Map<number, number[]>; never: Set<number> } | undefined {
  if (resourceOrder(process.pid, process.pid, 'files') !== 0) return undefined;
  const never = new Set<number>();
  let users = pids;
  if (isKthreadd(procRoot)) {
    users = [];
    for (const pid of pids) {
      if (pid === KTHREADD || resourceOrder(pid, KTHREADD, 'vm') === 0) never.add(pid); // kept out of the sorts: no table of their own to share but kthreadd's
      else {
        users.push(pid);
        if (resourceOrder(pid, KTHREADD, 'files') === 0 || resourceOrder(pid, KTHREADD, 'fs') === 0) never.add(pid);
      }
    }
  }
  const sharers = new Map<number, number[]>();
  for (const resource of RESOURCES) {
    for (const run of sharingRuns(users, resource)) {
      for (const a of run) {
        let mine = sharers.get(a);
        if (!mine) sharers.set(a, (mine = []));
        for (const b of run) if (a !== b) mine.push(b);
      }
    }
  }
  return { sharers, never };
}

/**
 * The groups (two or more) of `pids` sharing `resource`. A process kcmp cannot compare
 * (gone since, or refused) is dropped and the sort made again without it.
 */
function sharingRuns(pids: number[], resource: KcmpResource): number[][] {
  let live = pids;
  for (;;) {
    const failed = new Set<number>();
    const sorted = [...live].sort((a, b) => {
      const order = resourceOrder(a, b, resource);
      if (order === undefined) for (const p of [a, b]) if (resourceOrder(p, p, resource) !== 0) failed.add(p);
      return order ?? 0;
    });
    if (failed.size > 0) {
      live = live.filter((p) => !failed.has(p));
      continue;
    }
    const runs: number[][] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i + 1;
      while (j < sorted.length && resourceOrder(sorted[i]!, sorted[j]!, resource) === 0) j++;
      if (j - i > 1) runs.push(sorted.slice(i, j));
      i = j;
    }
    return runs;
  }
}

function isKthreadd(procRoot: string): boolean {
  try {
    return readFileSync(join(procRoot, String(KTHREADD), 'comm'), 'latin1') === 'kthreadd\n';
  } catch {
    return false;
  }
}
