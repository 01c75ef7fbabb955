// What a /proc scan (processes.ts) reads of each process, a block of processes at a
// time, so that the scan's thread and its helper (scan-helper.ts) can each claim
// blocks and the whole scan, not only its tail, runs on two CPUs. Per process: list
// its descriptors and readlink each; the fdinfo of those under a mountpoint of the
// target (or /dev/fuse); its cwd/root/exe; the lines of its maps on the target; and,
// when it holds anything, its stat (name and parent pid).
//
// kcmp needs process order: a forked child's descriptor is the parent's open file, so
// it is copied instead of read. Within a block that is decided here, against the
// processes before it in the block and the one just before the block (what that one's
// descriptor is, only the merge knows: processes.ts); a descriptor a block did read is
// asked about once more in process order against the blocks before, so the result does
// not depend on which thread read which block.

import { join } from 'node:path';
import { sameOpenFile } from './kcmp';
import { parseMountInfo, readMountInfoFile } from './mountinfo';
import { DELETED, readMapsMatches, type MapsMatch } from './maps';
import type { ProcessFiles } from './process-files';
import { errnoOf, LinkFilter, parseRereads, procReader, type ProcDir } from './procfs';
import type { ProcessTie } from './types';
import { decodeName, encodeName } from '../../protocol/byte-names';
import { toU64, type U64 } from '../../protocol/u64';

/** What to look for, as it is posted to the helper thread. */
export interface BlockTarget {
  devices: string[];
  /** mnt_id → device of every mount of the reader's namespace (fdinfo names the mount by id). */
  mounts: [number, string][];
  /** Where the target is mounted in the reader's namespace. */
  mountpoints: string[];
  /** The reader's mount namespace (`mnt:[N]`): processes of another read their own mountinfo. */
  ownNs: string | undefined;
}

/** The processes of a scan; blocks of BLOCK_PIDS of them are claimed in turn. */
export interface BlockWork {
  procRoot: string;
  pids: Int32Array;
  /** null: only /dev/fuse holders are collected. */
  target: BlockTarget | null;
  /** Copy a descriptor kcmp shows to be an earlier one's open file (real /proc only: it asks the kernel). */
  sharing: boolean;
  /**
   * Descriptors of the scanning process itself known to be procfs files (what a refresh keeps
   * open: scan-cache.ts), not read: thousands of them would make it the costliest process to scan.
   */
  ownProcfs?: Int32Array;
}

export const BLOCK_PIDS = 16;

/** A descriptor on the target whose fdinfo was read (FoundOpen without pid and decoded flags). */
export interface ReadOpen {
  fd: number;
  /** fdinfo's mnt_id (a refresh checks the descriptor is still this file: refreshPart). */
  mntId: number;
  device: string;
  ino: U64;
  path: string;
  deleted: boolean;
  rawFlags: string;
  pos: number;
}

export type FoundTie = Omit<ProcessTie, 'comm'> & { device: string };

/** What one process holds on the target, and what could not be read of it. */
export interface ProcessPart {
  pid: number;
  /** What failed, in the order tried: the first is the process's warning. `what` is the path below /proc/PID. */
  problems: { what: string; code: string }[];
  /** /dev/fuse descriptors; `connection` from fdinfo `fuse_connection:` (6.18+). */
  devFuse: { fd: number; connection?: number }[];
  /** Descriptors on the target that were read, in descriptor order. */
  opens: ReadOpen[];
  /** Descriptors kcmp found to be the same open file as the one read last at their number in the block (on the target). */
  copied: number[];
  /**
   * Descriptors kcmp found to be the same open file as the process's just before the block
   * at that number: whatever that one is (on the target, /dev/fuse or neither), so is this.
   */
  sameAsBefore: number[];
  ties: Omit<FoundTie, 'pid'>[];
  mappings: MapsMatch[];
  /** It holds something (or may: sameAsBefore): `comm` and `ppid` are from its stat ('?' and undefined when that failed). */
  hit: boolean;
  comm?: string;
  ppid?: number;
  /** Descriptors on the mount left out: their fdinfo has no `ino:` line (an older kernel). */
  withoutIno: number;
}

/** The /proc/PID links that tie a process to a filesystem without a descriptor (lsof's cwd, rtd, txt). */
const TIE_LINKS: readonly ProcessTie['kind'][] = ['cwd', 'root', 'exe'];

const SLASH = 0x2f;
const DEV_FUSE = Buffer.from('/dev/fuse');

export function isGone(code: string): boolean {
  return code === 'ENOENT' || code === 'ESRCH';
}

/** `major:minor` as /proc/PID/maps prints a device: `%02x:%02x`. */
export function mapsDevice(major: number, minor: number): string {
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

/** The value of one `name:\tvalue` line of an fdinfo text, or undefined. */
export function fdinfoField(text: string, name: string): string | undefined {
  const key = name + ':';
  let at: number;
  if (text.startsWith(key)) at = 0;
  else {
    const i = text.indexOf('\n' + key);
    if (i < 0) return undefined;
    at = i + 1;
  }
  const end = text.indexOf('\n', at);
  return text.slice(at + key.length, end < 0 ? text.length : end).trim();
}

/** fdinfo `fuse_connection:` of a /dev/fuse descriptor (6.18+), undefined when absent or not a number. */
function fuseConnection(info: string): number | undefined {
  const conn = fdinfoField(info, 'fuse_connection');
  return conn !== undefined && /^\d+$/.test(conn) ? Number(conn) : undefined;
}

/** What an open file's fdinfo says that another process sharing it may change: its flags and position. */
function openState(info: string): { rawFlags: string; pos: number } {
  return { rawFlags: fdinfoField(info, 'flags') ?? '0', pos: Number(fdinfoField(info, 'pos') ?? 0) };
}

function under(path: string, mountpoint: string): boolean {
  if (mountpoint === '/') return path.startsWith('/');
  return path === mountpoint || path.startsWith(mountpoint + '/');
}

/** What a work's blocks share in one thread, made once per work. */
interface Context {
  mountDevice: Map<number, string>;
  devices: Set<string>;
  /** Links that may be on the mount: /dev/fuse and those with a mountpoint's bytes as prefix (the trailing slash is checked on the string). */
  onMountpoints: LinkFilter;
  /** In another mount namespace, any path may be on the mount (its mnt_id tells). */
  anyPath: LinkFilter;
  /** ` 00:28 ` as maps spells a device → its mountinfo spelling. */
  mapsSpelled: [string, string][];
  /** mnt_id → device of each other namespace seen, by its `mnt:[N]`. */
  nsMounts: Map<string, Map<number, string>>;
}

const contexts = new WeakMap<BlockWork, Context>();

function contextOf(work: BlockWork): Context {
  let ctx = contexts.get(work);
  if (!ctx) {
    const t = work.target;
    const prefixes = (t?.mountpoints ?? []).map((p) => Buffer.from(encodeName(p)));
    ctx = {
      mountDevice: new Map(t?.mounts),
      devices: new Set(t?.devices),
      onMountpoints: new LinkFilter(prefixes),
      anyPath: new LinkFilter(prefixes, true),
      mapsSpelled: (t?.devices ?? []).map((dev) => {
        const [maj, min] = dev.split(':').map(Number) as [number, number];
        return [` ${mapsDevice(maj, min)} `, dev];
      }),
      nsMounts: new Map(),
    };
    contexts.set(work, ctx);
  }
  return ctx;
}

/** A descriptor read in this block, kept by number for the processes after it; or the process's before the block. */
interface BlockRead {
  pid: number;
  /** It is on the target (in its process's `opens`). */
  open?: true;
  holder?: { fd: number; connection?: number };
  /** Of the process just before the block: what it is, this block does not know. */
  beforeBlock?: true;
}

/**
 * The processes `work.pids[from..to)`, each as one part, in order. `afterPrevious`: their
 * descriptors may be found the same as the process's before `from` (sameAsBefore).
 */
export function scanBlock(work: BlockWork, from: number, to: number, afterPrevious = true): ProcessPart[] {
  const ctx = contextOf(work);
  const lastRead = new Map<number, BlockRead>(); // by descriptor number
  const edge: BlockRead | undefined = work.sharing && afterPrevious && from > 0 ? { pid: work.pids[from - 1]!, beforeBlock: true } : undefined;
  const parts: ProcessPart[] = [];
  for (let i = from; i < to; i++) parts.push(scanProcess(work, ctx, work.pids[i]!, lastRead, edge));
  return parts;
}

/** A process that holds nothing on the target, before it is read. */
export function emptyPart(pid: number): ProcessPart {
  return { pid, problems: [], devFuse: [], opens: [], copied: [], sameAsBefore: [], ties: [], mappings: [], hit: false, withoutIno: 0 };
}

function scanProcess(work: BlockWork, ctx: Context, pid: number, lastRead: Map<number, BlockRead>, edge: BlockRead | undefined): ProcessPart {
  const part = emptyPart(pid);
  const problem = (what: string, err: unknown): void => {
    part.problems.push({ what, code: errnoOf(err) });
  };
  const target = work.target;
  const reader = procReader();
  // Directory handles: names are looked up relative to them (fewer procfs walks).
  const opened: ProcDir[] = [];
  const openDir = (open: () => ProcDir): ProcDir => {
    const d = open();
    opened.push(d);
    return d;
  };
  try {
    let pidDir: ProcDir;
    try {
      pidDir = openDir(() => reader.openDir(join(work.procRoot, String(pid))));
    } catch (err) {
      problem('', err);
      return part;
    }
    let fdDir: ProcDir | undefined;
    let fds: number[];
    try {
      fdDir = openDir(() => pidDir.dir('fd'));
      fds = fdDir.numbers();
      if (pid === process.pid && work.ownProcfs) {
        const skip = new Set(work.ownProcfs);
        fds = fds.filter((fd) => !skip.has(fd));
      }
    } catch (err) {
      problem('fd', err);
      if (isGone(errnoOf(err))) return part;
      fds = [];
    }
    const foreignMounts = target ? foreignMountsOf(work, ctx, pidDir, pid, problem) : undefined;
    /** A link's path may lie on the mount (own namespace: by its path; another: it cannot be told here). */
    const underMount = (link: string): boolean => {
      if (foreignMounts) return true;
      const { path } = splitDeleted(link);
      return target!.mountpoints.some((p) => under(path, p));
    };
    /**
     * Whether the file a link names lies on a target superblock, by the mount its fdinfo's
     * mnt_id names (exact: a mount nested below the FUSE mount is not it, a bind mount of it is).
     */
    const onTarget = (link: string, info: string) => {
      const mntId = Number(fdinfoField(info, 'mnt_id'));
      const device = (foreignMounts ?? ctx.mountDevice).get(mntId);
      if (device === undefined || !ctx.devices.has(device)) return undefined;
      const ino = toU64(fdinfoField(info, 'ino') ?? '');
      if (ino === undefined) {
        part.withoutIno++;
        return undefined;
      }
      const { path, deleted } = splitDeleted(link);
      return { path, deleted, device, ino, mntId };
    };

    // kcmp first: a descriptor that is an earlier process's open file is copied, not read.
    const toRead: number[] = [];
    const notAlike = new Set<number>(); // pids whose descriptor kcmp found not to be this process's
    for (const fd of fds) {
      const before = work.sharing ? (lastRead.get(fd) ?? edge) : undefined;
      if (before && before.pid !== pid && !notAlike.has(before.pid)) {
        if (sameOpenFile(before.pid, fd, pid, fd) === true) {
          if (before.beforeBlock) {
            part.sameAsBefore.push(fd);
            lastRead.set(fd, before); // the block's next processes compare with that one too
          }
          if (before.holder) part.devFuse.push(before.holder);
          if (before.open) part.copied.push(fd);
          part.hit ||= before.holder !== undefined || before.open === true;
          continue;
        }
        notAlike.add(before.pid);
      }
      lastRead.set(fd, { pid });
      toRead.push(fd);
    }
    // The links of the rest, and the fdinfo of those that may be on the target or /dev/fuse
    // (most are pipes, sockets and other files, left out unread and undecoded).
    const links = toRead.length === 0 ? [] : fdDir!.links(toRead, foreignMounts ? ctx.anyPath : ctx.onMountpoints, pidDir);
    for (const { fd, raw, info, infoCode } of links) {
      if (typeof raw === 'string') {
        if (!isGone(raw)) problem(`fd/${fd}`, { code: raw });
        continue; // closed while we looked
      }
      const read = lastRead.get(fd)!;
      if (raw.equals(DEV_FUSE)) {
        const holder: BlockRead['holder'] = { fd };
        if (info !== undefined) {
          const connection = fuseConnection(info);
          if (connection !== undefined) holder.connection = connection;
        } else if (!isGone(infoCode!)) problem(`fdinfo/${fd}`, { code: infoCode });
        part.devFuse.push(holder);
        read.holder = holder;
        part.hit = true;
        continue;
      }
      if (!target) continue;
      const link = decodeName(raw);
      if (!underMount(link)) continue;
      if (info === undefined) {
        if (!isGone(infoCode!)) problem(`fdinfo/${fd}`, { code: infoCode });
        continue;
      }
      const found = onTarget(link, info);
      if (!found) continue;
      part.opens.push({ fd, ...found, ...openState(info) });
      read.open = true;
      part.hit = true;
    }

    for (const kind of target ? TIE_LINKS : []) {
      let raw: Buffer;
      try {
        raw = pidDir.readlink(kind);
      } catch (err) {
        // ENOENT: a kernel thread's exe, a zombie's links.
        if (!isGone(errnoOf(err))) problem(kind, err);
        continue;
      }
      if (raw[0] !== SLASH || (!foreignMounts && !ctx.onMountpoints.hasPrefix(raw))) continue;
      const link = decodeName(raw);
      if (!underMount(link)) continue;
      let info: string;
      try {
        info = pidDir.pathFdinfo(kind).toString('latin1');
      } catch (err) {
        if (!isGone(errnoOf(err))) problem(kind, err);
        continue;
      }
      const found = onTarget(link, info);
      if (!found) continue;
      part.ties.push({ device: found.device, kind, path: found.path, deleted: found.deleted, ino: found.ino });
      part.hit = true;
    }
    if (target && ctx.mapsSpelled.length > 0) {
      const maps = readMapsMatches(pidDir, ctx.mapsSpelled);
      if ('code' in maps) problem('maps', maps);
      else {
        part.mappings = maps;
        part.hit ||= maps.length > 0;
      }
    }
    if (part.hit || part.sameAsBefore.length > 0) {
      // stat, not comm: the same name (both proc_task_name without escaping) and the parent
      // pid that sharing needs, in one read instead of two.
      try {
        const head = parseStat(pidDir.readFile('stat', true));
        part.comm = head?.comm;
        part.ppid = head?.ppid;
      } catch (err) {
        problem('stat', err);
      }
    }
  } finally {
    for (const d of opened) d.close();
  }
  return part;
}

/** A link's target as the scan reports it: the path without d_path's ` (deleted)`, and whether it was there. */
function splitDeleted(link: string): { path: string; deleted: boolean } {
  const deleted = link.endsWith(DELETED);
  return { path: deleted ? link.slice(0, -DELETED.length) : link, deleted };
}

/**
 * A part read before, brought up to date for a refresh (scan-cache.ts) of a process that has
 * not run since (run-marks.ts), so whose descriptor table, mappings and cwd/root/exe are
 * the same: what may still have changed is read again. The paths of its files on the
 * target (a rename anywhere, or the daemon invalidating a name, changes d_path), the
 * position and flags of each open file (another process sharing the open file description
 * moves them: fork, SCM_RIGHTS, pidfd_getfd), the connection of a /dev/fuse descriptor (set
 * when another process mounts with it), the maps lines on the target (their paths), the
 * name and parent (reparented when the parent exits). Read in one call (`files`:
 * process-files.ts); when it reads the same bytes as at the last refresh, what was made of
 * them is kept, and a part none of whose reads changed is `old` itself. undefined when a
 * read fails or finds another file: the process is read again whole.
 */
export function refreshPart(work: BlockWork, old: ProcessPart, files: ProcessFiles): ProcessPart | undefined {
  if (!old.hit) return old; // nothing on the target, and a table that did not change cannot have gained any
  try {
    const fds = [...old.opens.map((o) => o.fd), ...old.devFuse.map((h) => h.fd)];
    const record = files.changedReads(fds);
    let opens = old.opens;
    let devFuse = old.devFuse;
    let head: StatHead | undefined;
    if (record) {
      const reads = parseRereads(record, fds.length);
      head = reads && parseStat(reads.stat);
      if (!reads || !head) return undefined;
      opens = [];
      for (const [i, o] of old.opens.entries()) {
        const info = reads.infos[i]!;
        if (Number(fdinfoField(info, 'mnt_id')) !== o.mntId || toU64(fdinfoField(info, 'ino') ?? '') !== o.ino) return undefined;
        opens.push({ ...o, ...splitDeleted(decodeName(reads.links[i]!)), ...openState(info) });
      }
      devFuse = old.devFuse.map(({ fd }, i) => {
        const connection = fuseConnection(reads.infos[old.opens.length + i]!);
        return connection === undefined ? { fd } : { fd, connection };
      });
    }
    const ties = old.ties.length === 0 ? old.ties : old.ties.map((t) => ({ ...t, ...splitDeleted(decodeName(files.dir().readlink(t.kind))) }));
    let mappings = old.mappings;
    if (mappings.length > 0) {
      const maps = readMapsMatches(files.dir(), contextOf(work).mapsSpelled);
      if ('code' in maps) return undefined;
      mappings = maps;
    }
    if (!record && ties === old.ties && mappings === old.mappings) return old;
    return { ...old, opens, devFuse, ties, mappings, ...(head && { comm: head.comm, ppid: head.ppid }) };
  } catch {
    return undefined;
  }
}

/**
 * mnt_id → device of the mount namespace of a process in another namespace than the reader's
 * (its files are named from its own root, and its fdinfo mnt_id refers to its mounts), read
 * once per namespace; undefined for the reader's own.
 */
function foreignMountsOf(
  work: BlockWork,
  ctx: Context,
  pidDir: ProcDir,
  pid: number,
  problem: (what: string, err: unknown) => void,
): Map<number, string> | undefined {
  let ns: string;
  try {
    ns = pidDir.readlink('ns/mnt').toString('utf8');
  } catch {
    return undefined;
  }
  if (work.target?.ownNs === undefined || ns === work.target.ownNs) return undefined;
  let mounts = ctx.nsMounts.get(ns);
  if (!mounts) {
    mounts = new Map();
    try {
      for (const m of parseMountInfo(readMountInfoFile(join(work.procRoot, String(pid), 'mountinfo'))).entries) mounts.set(m.mountId, m.device);
    } catch (err) {
      problem('mountinfo', err);
    }
    ctx.nsMounts.set(ns, mounts);
  }
  return mounts;
}

/** The start of /proc/PID/stat: the name, the state letter (R, S, D, T, t, Z, …) and the parent pid. */
export interface StatHead {
  comm: string;
  state: string;
  ppid: number | undefined;
}

/**
 * /proc/PID/stat (fs/proc/array.c do_task_stat): `pid (comm) state ppid …`. The name may hold
 * spaces and ')', so it runs from the first '(' to the last ')'; its bytes are comm's
 * (proc_task_name without escaping in both files).
 */
export function parseStat(bytes: Buffer): StatHead | undefined {
  const open = bytes.indexOf(0x28);
  const close = bytes.lastIndexOf(0x29);
  if (open < 0 || close < open) return undefined;
  // `) S 1234 …`: the state letter, then the parent pid up to the next space (the ~50 fields after it are not wanted).
  const stateAt = close + 2;
  const ppidAt = bytes.indexOf(0x20, stateAt) + 1;
  const ppidEnd = ppidAt > 0 ? bytes.indexOf(0x20, ppidAt) : -1;
  const ppid = ppidAt > 0 ? Number(bytes.toString('latin1', ppidAt, ppidEnd < 0 ? bytes.length : ppidEnd)) : NaN;
  const state = bytes.toString('latin1', stateAt, ppidAt > 0 ? ppidAt - 1 : bytes.length);
  return { comm: decodeName(bytes.subarray(open + 1, close)), state, ppid: Number.isInteger(ppid) ? ppid : undefined };
}
