// A scan of /proc/PID/{fd,fdinfo,maps,cwd,root,exe}: FUSE daemons (holders of
// /dev/fuse), and the descriptors, mappings, working directories, roots and
// executables that lie on given FUSE superblocks.
//
// Nothing here touches a FUSE mount: readlink of /proc/PID/fd/N is d_path() of
// the open file, fdinfo and maps print what the kernel already has, and the
// mount of a cwd/root/exe comes from an O_PATH descriptor's fdinfo, which calls
// nothing of FUSE (procfs.ts). So a stopped daemon cannot hang the scan (no
// stat/statfs/open through the mount).

import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KTHREADD, sameOpenFile } from './kcmp';
import { decodeOpenFlags } from './open-flags';
import { errnoOf, keptOpen, procReader } from './procfs';
import { BLOCK_PIDS, emptyPart, isGone, parseStat, refreshPart, scanBlock, type BlockTarget, type BlockWork, type FoundTie, type ProcessPart, type ReadOpen } from './scan-block';
import type { ScanCache } from './scan-cache';
import { SharedWork, type ScanHelper } from './scan-helper';
import type { MountInfoEntry } from './types';
import { decodeName } from '../../protocol/byte-names';
import type { U64 } from '../../protocol/u64';

export type { FoundTie } from './scan-block';

/** What to look for: superblocks by `major:minor`, and the mounts of the reader's namespace. */
export interface ScanTarget {
  devices: Set<string>;
  /** All mounts of the reader's mount namespace (to map fdinfo mnt_id to a device). */
  mounts: MountInfoEntry[];
}

export interface DevFuseHolder {
  pid: number;
  fd: number;
  /** From fdinfo `fuse_connection:` (6.18+); undefined on kernels that do not print it. */
  connection?: number;
}

export interface FoundOpen {
  mntId: number;
  device: string;
  ino: U64;
  pid: number;
  fd: number;
  path: string;
  deleted: boolean;
  rawFlags: string;
  flags: string[];
  pos: number;
}

export interface FoundMapping {
  device: string;
  ino: U64;
  pid: number;
  start: string;
  end: string;
  perms: string;
  offset: string;
  path: string;
}

export interface ProcessScan {
  devFuse: DevFuseHolder[];
  /** Descriptors on the target that were read. */
  opens: FoundOpen[];
  /**
   * Descriptors not read but found by kcmp to be the same open file, at the same number,
   * as one in `opens`: process `pid[i]` holds `opens[of[i]]`'s file at its fd (see scanProcesses).
   */
  copies: { pid: number[]; of: number[] };
  mappings: FoundMapping[];
  ties: FoundTie[];
  /** comm of every pid that appears above. */
  comm: Map<number, string>;
  /** Parent pid of every pid in `comm` whose stat was read (sharing looks for a fork's parent). */
  parents: Map<number, number>;
  warnings: string[];
  /** Processes whose /proc entries could not be read (EACCES/EPERM): a daemon may hide among them. */
  unreadable: number[];
}

function isDenied(code: string): boolean {
  return code === 'EACCES' || code === 'EPERM';
}

/** A descriptor read on the target, kept by number for the processes after it. */
interface Read {
  pid: number;
  /** Its index in ProcessScan.opens. */
  open: number;
}

/** What a process holds at a descriptor number: a file on the target (read, or what it is a copy of) or /dev/fuse. */
type Held = { read: Read } | { holder: ProcessPart['devFuse'][number] };

/**
 * Scans every process of `procRoot`. With `target` null only /dev/fuse holders are collected.
 *
 * `sharing` (real /proc only: it asks the kernel about the pids) lets a descriptor be
 * copied instead of read: a forked child's table points at the parent's struct files, so
 * when kcmp says fd N of this process is the same open file as fd N of a process read
 * before, its path, mount, inode, flags and position are that one's (one syscall instead
 * of readlink + open/read/close of fdinfo). A process whose first such comparison fails
 * is not compared with that process again (its own files follow); reading is the
 * fallback, so the answer never depends on the guess. O_CLOEXEC, which fdinfo adds to
 * `flags` from the descriptor table, is the first descriptor's: fork copies it, and an
 * fcntl(F_SETFD) in the child since then is not seen.
 *
 * The processes are read in blocks (scan-block.ts), shared with the helper thread when
 * there is one (`helper`, scan-helper.ts; real /proc only), each block copying from its
 * own processes and noting which descriptors are the same as the process's just before
 * it (sameAsBefore: a family of forks spans blocks); then, in process order, those take
 * what that process holds, and a descriptor a block read is asked about once more
 * against the last one read at its number in the blocks before, and becomes that one's
 * copy if it is the same open file. So every copy is of the first reader of its open
 * file at that number, whichever thread read which block.
 *
 * With `cache` (a refresh: scan-cache.ts), the processes that did not run since the last
 * scan keep their parts, brought up to date, and only the others are read (in blocks, as
 * above); a kept part takes its place in process order as a process read alone would, so
 * a block's copy whose source is no longer the last read at its number (a kept process
 * read one between them) is compared with that last read instead: the result is the
 * full scan's. Kernel threads sharing kthreadd's descriptor table and fs_struct hold what
 * it holds (scan-cache.ts sharesAllOfKthreadd): they take kthreadd's part when it holds
 * nothing on the target, and are read alone otherwise. A refresh that read nothing new (its
 * reads add nothing, its kept parts are the last scan's objects) returns the last scan
 * itself, as its merge would make it again.
 */
export function scanProcesses(procRoot: string, target: ScanTarget | null, sharing: boolean, helper?: ScanHelper | null, cache?: ScanCache): ProcessScan {
  const scan: ProcessScan = { devFuse: [], opens: [], copies: { pid: [], of: [] }, mappings: [], ties: [], comm: new Map(), parents: new Map(), warnings: [], unreadable: [] };
  let pids: number[];
  try {
    pids = procReader().listNumbers(procRoot);
  } catch (err) {
    scan.warnings.push(`cannot list ${procRoot}: ${errnoOf(err)}`);
    return scan;
  }
  const blockTarget: BlockTarget | null = target && {
    devices: [...target.devices],
    mounts: target.mounts.map((m) => [m.mountId, m.device]),
    mountpoints: target.mounts.filter((m) => target.devices.has(m.device)).map((m) => m.mountpoint),
    ownNs: safeReadlink(join(procRoot, 'self', 'ns', 'mnt')),
  };
  const work: BlockWork = { procRoot, pids: Int32Array.from(pids), target: blockTarget, sharing };
  // With a cache (a refresh): the parts of processes that did not run since are kept, brought up to date; the rest is read.
  const planned = cache
    ? cache.plan(cacheKey(procRoot, sharing, blockTarget), procRoot, pids, (part, files) => refreshPart(work, part, files))
    : { kept: new Map<number, ProcessPart>(), likeKthreadd: new Set<number>(), read: pids };
  // The procfs files a refresh's cache keeps open in this process (thousands) are skipped by number in any
  // scan of it, the sidebar's refresh or another request's scan (exportScenario) in the same server.
  const readWork: BlockWork = cache ? { ...work, pids: Int32Array.from(planned.read) } : work;
  if (procRoot === '/proc' && keptOpen.size > 0) readWork.ownProcfs = Int32Array.from(keptOpen);
  // A refresh that reads a few processes does it alone: the helper's share would cost more CPU (posting, its own cold code) than it saves.
  const parts = new SharedWork(readWork, cache && planned.read.length * 2 < pids.length ? null : (helper ?? null)).take();
  // A refresh whose parts are the last scan's (unchanged): its answer is the last one.
  const last = cache?.lastScan;
  if (last && sameAsLast(pids, planned, parts, last.used)) {
    cache!.remember(procRoot, planned.read, parts);
    return last.scan;
  }
  const used: ProcessPart[] = []; // the parts that add something, in process order, for the next refresh's comparison

  let withoutIno = 0;
  const flagWords = new Map<string, string[]>(); // rawFlags -> decodeOpenFlags (a few distinct values)
  const lastRead = new Map<number, Read>(); // by descriptor number, over the blocks merged so far
  let blockRead = new Map<number, Read>(); // by descriptor number: what this block's copies are of
  // What the process before this block holds, by descriptor number, and whether it was read whole.
  let edge = { held: new Map<number, Held>(), whole: true };
  const denied = new Map<string, number[]>(); // "fd: EACCES" -> pids
  let kthreadd: ProcessPart | undefined; // its part, merged before the kernel threads that hold what it holds (pid order)
  /** A kernel thread sharing kthreadd's table and fs_struct (ScanCache.plan): kthreadd's nothing, else read alone. */
  const likeKthreadd = (pid: number): ProcessPart =>
    kthreadd && !kthreadd.hit && kthreadd.problems.length === 0 ? emptyPart(pid) : scanBlock({ ...readWork, pids: Int32Array.of(pid) }, 0, 1, false)[0]!;
  let n = 0; // the next part read, by its index in readWork.pids
  for (const pid of pids) {
    // A kept part was read alone in effect (no copies of its own): it stays out of the blocks' bookkeeping.
    const keptPart = planned.kept.get(pid) ?? (planned.likeKthreadd.has(pid) ? likeKthreadd(pid) : undefined);
    const read = keptPart === undefined ? n++ : undefined;
    if (read !== undefined && read % BLOCK_PIDS === 0) blockRead = new Map();
    // A sameAsBefore descriptor is what the process before the block holds at its number; if
    // nothing and that one was not read whole (it failed or exited meanwhile), this process is read again alone.
    const given = keptPart ?? parts[read!]!;
    const part = !edge.whole && given.sameAsBefore.some((fd) => !edge.held.has(fd)) ? scanBlock(readWork, read!, read! + 1, false)[0]! : given;
    if (read !== undefined) parts[read] = part; // as the cache keeps it
    if (pid === KTHREADD) kthreadd = part;
    if (!addsNothing(part)) used.push(part);
    // Kept for the next block's sameAsBefore when this is the last process of its block.
    const held = read !== undefined && (read + 1) % BLOCK_PIDS === 0 ? new Map<number, Held>() : undefined;
    let hit = part.hit;
    const notAlike = new Set<number>(); // pids whose descriptor kcmp found not to be this process's
    const copy = (fd: number, of: Read): void => {
      scan.copies.pid.push(pid);
      scan.copies.of.push(of.open);
      if (read !== undefined) blockRead.set(fd, of);
      held?.set(fd, { read: of });
    };
    const readOne = (o: ReadOpen): void => {
      const before = sharing ? lastRead.get(o.fd) : undefined;
      if (before && before.pid !== pid && !notAlike.has(before.pid)) {
        if (sameOpenFile(before.pid, o.fd, pid, o.fd) === true) return copy(o.fd, before);
        notAlike.add(before.pid);
      }
      const mine: Read = { pid, open: scan.opens.length };
      lastRead.set(o.fd, mine);
      if (read !== undefined) blockRead.set(o.fd, mine);
      held?.set(o.fd, { read: mine });
      scan.opens.push(found(o, pid, flagWords));
    };
    /**
     * A descriptor the block found to be the same open file as `of`: its copy when `of` is still
     * the last read at that number. Otherwise a kept process's read came between (a refresh):
     * it is what it would have been read as, `of`'s file, compared with that last read like any read.
     */
    const sameAs = (fd: number, of: Read): void => {
      if (lastRead.get(fd) === of) return copy(fd, of);
      const theirs = scan.opens[of.open]!;
      readOne({ fd, mntId: theirs.mntId, device: theirs.device, ino: theirs.ino, path: theirs.path, deleted: theirs.deleted, rawFlags: theirs.rawFlags, pos: theirs.pos });
    };
    for (const fd of part.copied) sameAs(fd, blockRead.get(fd)!); // the block's read at this number, or what that became
    for (const fd of part.sameAsBefore) {
      const theirs = edge.held.get(fd);
      if (theirs === undefined) continue; // neither on the target nor /dev/fuse, as that one is not
      hit = true;
      if ('read' in theirs) sameAs(fd, theirs.read);
      else {
        scan.devFuse.push({ pid, ...theirs.holder });
        held?.set(fd, theirs);
      }
    }
    for (const o of part.opens) readOne(o);
    for (const h of part.devFuse) {
      scan.devFuse.push({ pid, ...h });
      held?.set(h.fd, { holder: h });
    }
    if (held) edge = { held, whole: part.problems.length === 0 };
    for (const t of part.ties) scan.ties.push({ ...t, pid });
    for (const m of part.mappings) scan.mappings.push({ ...m, pid });
    if (hit) {
      scan.comm.set(pid, part.comm ?? '?');
      if (part.ppid !== undefined) scan.parents.set(pid, part.ppid);
    }
    withoutIno += part.withoutIno;
    // One warning per process: the first thing that failed says enough.
    const first = part.problems[0];
    if (!first) continue;
    const { what, code } = first;
    const dir = join(procRoot, String(pid));
    if (isGone(code)) scan.warnings.push(`pid ${pid} vanished during the scan (${join(dir, what)}: ${code})`);
    else if (isDenied(code)) {
      const why = `${code} on ${what ? `/proc/PID/${what.replace(/\/\d+$/, '/N')}` : '/proc/PID'}`;
      denied.set(why, [...(denied.get(why) ?? []), pid]);
      scan.unreadable.push(pid);
    } else scan.warnings.push(`pid ${pid}: cannot read ${join(dir, what)}: ${code}`);
  }
  cache?.remember(procRoot, planned.read, parts);
  if (cache) cache.lastScan = { used, scan };
  if (withoutIno > 0)
    scan.warnings.push(`${withoutIno} file(s) on the mount are not shown: their fdinfo has no \`ino:\` line (an older kernel)`);
  for (const [why, pids] of denied) {
    const shown = pids.length > 12 ? `${pids.slice(0, 10).join(', ')} and ${pids.length - 10} more` : pids.join(', ');
    scan.warnings.push(
      `${pids.length} process${pids.length === 1 ? '' : 'es'} could not be read (${why}), so their open files and mappings are not shown ` +
        `(run as root or as their owner): pid${pids.length === 1 ? '' : 's'} ${shown}`,
    );
  }
  return scan;
}

/**
 * A part that adds nothing to a scan: nothing on the target or /dev/fuse (or that may be:
 * sameAsBefore), nothing left out, nothing failed. Such parts leave the merge's bookkeeping
 * (copies, the blocks' edges) as it was.
 */
function addsNothing(p: ProcessPart): boolean {
  return !p.hit && p.problems.length === 0 && p.sameAsBefore.length === 0 && p.withoutIno === 0;
}

/**
 * Whether a refresh's parts (the kept ones, `planned.kept`, and those read, `parts`, in the order
 * of `pids`) that add something are, in order, those the last scan was merged from (`used`): each
 * one holding something the same object (a kept part none of whose reads changed is the last
 * refresh's object: refreshPart returns `old`; one read again is a new object), each one holding
 * nothing the same process with the same failures (pid 1 of a container, whose descriptors
 * EACCES at each refresh). The merge of such parts makes the last scan again: it depends on
 * nothing else but kcmp's answers about the kept processes' descriptors, which cannot change
 * while their tables do not. The kernel threads taken from kthreadd need kthreadd to add nothing.
 */
function sameAsLast(pids: number[], planned: { kept: Map<number, ProcessPart>; likeKthreadd: Set<number> }, parts: ProcessPart[], used: ProcessPart[]): boolean {
  let n = 0; // the next part read
  let i = 0; // the next of `used`
  for (const pid of pids) {
    if (planned.likeKthreadd.has(pid)) continue;
    const p = planned.kept.get(pid) ?? parts[n++]!;
    if (pid === KTHREADD && planned.likeKthreadd.size > 0 && !addsNothing(p)) return false;
    if (addsNothing(p)) continue;
    const q = used[i++];
    if (!q || (p !== q && !(p.pid === q.pid && failsAlike(p, q)))) return false;
  }
  return i === used.length;
}

/** Two parts of one process holding nothing, that failed the same reads with the same errors: the same warnings. */
function failsAlike(p: ProcessPart, q: ProcessPart): boolean {
  const holdsNothing = (x: ProcessPart): boolean => !x.hit && x.sameAsBefore.length === 0;
  return (
    holdsNothing(p) &&
    holdsNothing(q) &&
    p.withoutIno === q.withoutIno &&
    p.problems.length === q.problems.length &&
    p.problems.every((x, k) => x.what === q.problems[k]!.what && x.code === q.problems[k]!.code)
  );
}

/**
 * What a kept part's meaning depends on: the target's devices, its mountpoints (where paths
 * are looked for), its mounts by id, the reader's namespace. Not the other mounts: a kept
 * process's descriptors off the target are pinned to their mounts, which stay off it while
 * they live (a mount id is not reused while mounted), so other sessions mounting and
 * unmounting elsewhere do not empty the cache.
 */
function cacheKey(procRoot: string, sharing: boolean, target: BlockTarget | null): string {
  if (!target) return JSON.stringify([procRoot, sharing, null]);
  const devices = new Set(target.devices);
  return JSON.stringify([procRoot, sharing, target.devices, target.mountpoints, target.ownNs, target.mounts.filter(([, device]) => devices.has(device))]);
}

/** A read descriptor of process `pid` as the scan reports it, its flags named. */
function found(o: ReadOpen, pid: number, flagWords: Map<string, string[]>): FoundOpen {
  let flags = flagWords.get(o.rawFlags);
  if (!flags) flagWords.set(o.rawFlags, (flags = decodeOpenFlags(o.rawFlags)));
  return { mntId: o.mntId, device: o.device, ino: o.ino, pid, fd: o.fd, path: o.path, deleted: o.deleted, rawFlags: o.rawFlags, flags, pos: o.pos };
}

function safeReadlink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** The arguments of a pid's command line, or undefined. */
export function readCmdline(procRoot: string, pid: number): string[] | undefined {
  try {
    return decodeName(readFileSync(join(procRoot, String(pid), 'cmdline'))).replace(/\0+$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/** Whether a process names `mountpoint` as one of its arguments (trailing slashes ignored). */
export function namesMountpoint(procRoot: string, pid: number, mountpoint: string): boolean {
  return readCmdline(procRoot, pid)?.some((arg) => arg === mountpoint || arg.replace(/\/+$/, '') === mountpoint) ?? false;
}

/** Whether a process is gone: no /proc entry, or a zombie (its stat still there, the process dead). */
export function processGone(pid: number, procRoot = '/proc'): boolean {
  const state = readState(procRoot, pid);
  return state === undefined || state === 'Z' || state === 'X';
}

/** /proc/PID/comm's bytes as a name (any byte but NUL may be in it: prctl PR_SET_NAME). */
function commText(bytes: Buffer): string {
  return decodeName(bytes[bytes.length - 1] === 0x0a ? bytes.subarray(0, -1) : bytes);
}

/** A process's (or thread's) name from /proc/PID/comm, or null once it is gone. */
export function tryReadComm(procRoot: string, pid: number): string | null {
  try {
    return commText(readFileSync(join(procRoot, String(pid), 'comm')));
  } catch {
    return null;
  }
}

export function readComm(procRoot: string, pid: number): string {
  return tryReadComm(procRoot, pid) ?? '?';
}

/** The process state letter of /proc/PID/stat, or undefined once it is gone. */
export function readState(procRoot: string, pid: number): string | undefined {
  try {
    return parseStat(readFileSync(join(procRoot, String(pid), 'stat')))?.state;
  } catch {
    return undefined;
  }
}
