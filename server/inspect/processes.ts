// One pass over /proc/PID/{fd,fdinfo,maps,cwd,root,exe}: FUSE daemons (holders
// of /dev/fuse), and the descriptors, mappings, working directories, roots and
// executables that lie on given FUSE superblocks.
//
// Nothing here touches a FUSE mount: readlink of /proc/PID/fd/N is d_path() of
// the open file, fdinfo and maps print what the kernel already has, and the
// mount of a cwd/root/exe comes from an O_PATH descriptor's fdinfo, which calls
// nothing of FUSE (procfs.ts). So a stopped daemon cannot hang the scan (no
// stat/statfs/open through the mount).

import { readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { decodeOpenFlags } from './open-flags';
import { parseMountInfo, readMountInfoFile } from './mountinfo';
import { procReader, type ProcDir, type ProcReader } from './procfs';
import { SharedWork, type ScanHelper } from './scan-helper';
import { DELETED, errnoOf, type MapsMatch, type ReadResult } from './scan-reads';
import type { MountInfoEntry, ProcessTie } from './types';
import { decodeName, encodeName } from '../../protocol/byte-names';
import { toU64, type U64 } from '../../protocol/u64';

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

export type FoundTie = Omit<ProcessTie, 'comm'> & { device: string };

/** The /proc/PID links that tie a process to a filesystem without a descriptor (lsof's cwd, rtd, txt). */
const TIE_LINKS: readonly ProcessTie['kind'][] = ['cwd', 'root', 'exe'];

/** kcmp(2) KCMP_FILE (kcmp.ts): true/false when the kernel answered, undefined when it could not. */
export type SameOpenFile = (pid1: number, fd1: number, pid2: number, fd2: number) => boolean | undefined;

/** What one descriptor read turned out to be, kept by descriptor number for the processes after it. */
interface ReadDescriptor {
  pid: number;
  /** Its index in ProcessScan.opens. */
  open?: number;
  holder?: DevFuseHolder;
  /** Its link lies under a mountpoint: `open` is set once its fdinfo shows it on the target. */
  candidate?: boolean;
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

const SLASH = 0x2f;
const DEV_FUSE = Buffer.from('/dev/fuse');

/** `major:minor` as /proc/PID/maps prints a device: `%02x:%02x`. */
export function mapsDevice(major: number, minor: number): string {
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function isGone(code: string): boolean {
  return code === 'ENOENT' || code === 'ESRCH';
}

function isDenied(code: string): boolean {
  return code === 'EACCES' || code === 'EPERM';
}

const reader = (): ProcReader => procReader();

/** The value of one `name:\tvalue` line of an fdinfo text, or undefined. */
function fdinfoField(text: string, name: string): string | undefined {
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

function under(path: string, mountpoint: string): boolean {
  if (mountpoint === '/') return path.startsWith('/');
  return path === mountpoint || path.startsWith(mountpoint + '/');
}

/** A descriptor whose link lies under a mountpoint: on the target if its fdinfo's mnt_id says so. */
interface Candidate {
  fd: number;
  link: string;
  read: ReadDescriptor;
  /** Its index in the fdinfo reads. */
  at: number;
  /** When it would have been read: a failure then is the process's first problem if nothing failed before. */
  seq: number;
}

/** A descriptor kcmp found to be the same open file as one read before at its number. */
interface Copy {
  before: ReadDescriptor;
}

/** What the first pass learnt of one process; the second resolves it once the deferred reads are in. */
interface ProcessPass {
  pid: number;
  hit: boolean;
  /** The failures, each with when it happened: the first is the process's warning. */
  problems: { seq: number; what: string; err: unknown }[];
  /** Its copies and candidates, in descriptor order. */
  found: (Copy | Candidate)[];
  foreignMounts: Map<number, string> | undefined;
  /** Its maps were to be read (the first pass did not stop before them), at this point in order. */
  mapsSeq?: number;
  endSeq: number;
}

/**
 * Scans every process of `procRoot`. With `target` null only /dev/fuse holders are collected.
 *
 * `sameOpenFile` (real /proc only: it asks the kernel about the pids) lets a descriptor be
 * copied instead of read: a forked child's table points at the parent's struct files, so
 * when kcmp says fd N of this process is the same open file as fd N of a process read
 * before, its path, mount, inode, flags and position are that one's (one syscall instead
 * of readlink + open/read/close of fdinfo). A process whose first such comparison fails
 * is not compared with that process again (its own files follow); reading is the
 * fallback, so the answer never depends on the guess. O_CLOEXEC, which fdinfo adds to
 * `flags` from the descriptor table, is the first descriptor's: fork copies it, and an
 * fcntl(F_SETFD) in the child since then is not seen.
 *
 * Two passes: the first lists and readlinks every descriptor in process order (kcmp needs
 * that order) and notes those under a mountpoint; their fdinfo and every process's maps,
 * which decide nothing in the first pass, are read after it, or meanwhile by the helper
 * thread when there is one (`helper`, scan-helper.ts; real /proc only); the second pass
 * puts the results together in process order, as one pass would have.
 */
export function scanProcesses(procRoot: string, target: ScanTarget | null, sameOpenFile?: SameOpenFile, helper?: ScanHelper | null): ProcessScan {
  const scan: ProcessScan = { devFuse: [], opens: [], copies: { pid: [], of: [] }, mappings: [], ties: [], comm: new Map(), parents: new Map(), warnings: [], unreadable: [] };
  const mountDevice = new Map<number, string>();
  const prefixes: string[] = [];
  for (const m of target?.mounts ?? []) {
    mountDevice.set(m.mountId, m.device);
    if (target!.devices.has(m.device)) prefixes.push(m.mountpoint);
  }
  const mapsSpelled: [string, string][] = []; // ` 00:28 ` as maps spells it -> mountinfo spelling
  for (const dev of target?.devices ?? []) {
    const [maj, min] = dev.split(':').map(Number) as [number, number];
    mapsSpelled.push([` ${mapsDevice(maj, min)} `, dev]);
  }
  // Byte prefixes of the mountpoints, without the trailing slash check (done on the string).
  const prefixBytes = prefixes.map((p) => Buffer.from(encodeName(p)));
  const maybeOnMount = (raw: Buffer): boolean => prefixBytes.some((p) => raw.length >= p.length && raw.compare(p, 0, p.length, 0, p.length) === 0);
  let withoutIno = 0;
  const flagWords = new Map<string, string[]>(); // rawFlags -> decodeOpenFlags (a few distinct values)
  const lastRead = new Map<number, ReadDescriptor>(); // by descriptor number
  const ownNs = safeReadlink(join(procRoot, 'self', 'ns', 'mnt'));
  const nsMounts = new Map<string, Map<number, string>>();

  let pids: number[];
  try {
    pids = reader().listDir(procRoot).filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  } catch (err) {
    scan.warnings.push(`cannot list ${procRoot}: ${errnoOf(err)}`);
    return scan;
  }
  // Maps decide nothing in the first pass: the helper can start on them now.
  const mapsWork = target !== null && mapsSpelled.length > 0 ? new SharedWork({ kind: 'maps', procRoot, pids, spelled: mapsSpelled }, helper ?? null) : undefined;
  const readMaps = mapsWork !== undefined;

  /**
   * Whether the file a link names lies on a target superblock, by the mount its fdinfo's
   * mnt_id names (exact: a mount nested below the FUSE mount is not it, a bind mount of it is).
   */
  const onTarget = (link: string, info: string, foreignMounts: Map<number, string> | undefined) => {
    const deleted = link.endsWith(DELETED);
    const path = deleted ? link.slice(0, -DELETED.length) : link;
    const device = (foreignMounts ?? mountDevice).get(Number(fdinfoField(info, 'mnt_id')));
    if (device === undefined || !target?.devices.has(device)) return undefined;
    const ino = toU64(fdinfoField(info, 'ino') ?? '');
    if (ino === undefined) {
      withoutIno++;
      return undefined;
    }
    return { path, deleted, device, ino, info };
  };
  /** A link's path may lie on the mount (own namespace: by its path; another: it cannot be told here). */
  const underMount = (link: string, foreignMounts: Map<number, string> | undefined): boolean => {
    if (foreignMounts) return true;
    const path = link.endsWith(DELETED) ? link.slice(0, -DELETED.length) : link;
    return prefixes.some((p) => under(path, p));
  };

  let seq = 0;
  const passes: ProcessPass[] = [];
  const fdinfoPairs: number[] = [];
  for (const pid of pids) {
    const dir = join(procRoot, String(pid));
    const pass: ProcessPass = { pid, hit: false, problems: [], found: [], foreignMounts: undefined, endSeq: 0 };
    passes.push(pass);
    const problem = (what: string, err: unknown): void => {
      pass.problems.push({ seq: seq++, what, err });
    };
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
        pidDir = openDir(() => reader().openDir(dir));
      } catch (err) {
        problem('', err);
        continue;
      }
      let fdDir: ProcDir | undefined;
      let fds: string[];
      try {
        fdDir = openDir(() => pidDir.dir('fd'));
        fds = fdDir.list().sort((a, b) => Number(a) - Number(b));
      } catch (err) {
        problem('fd', err);
        fds = [];
        if (isGone(errnoOf(err))) continue;
      }
      // A process in another mount namespace names its files from its own root, and its
      // fdinfo mnt_id refers to its namespace's mounts: read that namespace's mountinfo.
      let foreignMounts: Map<number, string> | undefined;
      if (target) {
        let ns: string | undefined;
        try {
          ns = pidDir.readlink('ns/mnt').toString('utf8');
        } catch {
          ns = undefined;
        }
        if (ns !== undefined && ownNs !== undefined && ns !== ownNs) {
          foreignMounts = nsMounts.get(ns);
          if (!foreignMounts) {
            foreignMounts = new Map();
            try {
              for (const m of parseMountInfo(readMountInfoFile(join(dir, 'mountinfo'))).entries)
                foreignMounts.set(m.mountId, m.device);
            } catch (err) {
              problem('mountinfo', err);
            }
            nsMounts.set(ns, foreignMounts);
          }
        }
      }
      pass.foreignMounts = foreignMounts;

      const notAlike = new Set<number>(); // pids whose descriptor kcmp found not to be this process's
      for (const name of fds) {
        const fd = Number(name);
        const before = sameOpenFile && lastRead.get(fd);
        if (before && before.pid !== pid && !notAlike.has(before.pid)) {
          if (sameOpenFile(before.pid, fd, pid, fd) === true) {
            if (before.holder) {
              scan.devFuse.push({ ...before.holder, pid });
              pass.hit = true;
            }
            if (before.candidate) pass.found.push({ before });
            continue;
          }
          notAlike.add(before.pid);
        }
        const read: ReadDescriptor = { pid };
        lastRead.set(fd, read);
        let raw: Buffer;
        try {
          // As bytes: most targets (pipes, sockets, other files) are dropped without decoding.
          raw = fdDir!.readlink(name);
        } catch (err) {
          if (!isGone(errnoOf(err))) problem(`fd/${name}`, err);
          continue; // closed while we looked
        }
        if (raw[0] !== SLASH) continue;
        if (!foreignMounts && !raw.equals(DEV_FUSE) && !maybeOnMount(raw)) continue;
        if (raw.equals(DEV_FUSE)) {
          const holder: DevFuseHolder = { pid, fd };
          try {
            const conn = fdinfoField(pidDir.readFile(`fdinfo/${name}`, true).toString('latin1'), 'fuse_connection');
            if (conn !== undefined && /^\d+$/.test(conn)) holder.connection = Number(conn);
          } catch (err) {
            if (!isGone(errnoOf(err))) problem(`fdinfo/${name}`, err);
          }
          scan.devFuse.push(holder);
          read.holder = holder;
          pass.hit = true;
          continue;
        }
        if (!target) continue;
        const link = decodeName(raw);
        if (!underMount(link, foreignMounts)) continue;
        read.candidate = true;
        pass.found.push({ fd, link, read, at: fdinfoPairs.length / 2, seq: seq++ });
        fdinfoPairs.push(pid, fd);
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
        if (raw[0] !== SLASH || (!foreignMounts && !maybeOnMount(raw))) continue;
        const link = decodeName(raw);
        if (!underMount(link, foreignMounts)) continue;
        let info: string;
        try {
          info = pidDir.pathFdinfo(kind).toString('latin1');
        } catch (err) {
          if (!isGone(errnoOf(err))) problem(kind, err);
          continue;
        }
        const found = onTarget(link, info, foreignMounts);
        if (!found) continue;
        scan.ties.push({ device: found.device, pid, kind, path: found.path, deleted: found.deleted, ino: found.ino });
        pass.hit = true;
      }
      if (readMaps) pass.mapsSeq = seq++;
    } finally {
      for (const d of opened) d.close();
      pass.endSeq = seq++;
    }
  }

  // The deferred reads, shared with the helper: fdinfo of the candidates, then the maps.
  const fdinfo = new SharedWork({ kind: 'fdinfo', procRoot, pairs: Int32Array.from(fdinfoPairs) }, helper ?? null).take() as ReadResult[];
  const maps = mapsWork?.take() as (MapsMatch[] | { code: string })[] | undefined;

  const denied = new Map<string, number[]>(); // "fd: EACCES" -> pids
  passes.forEach((pass, n) => {
    const { pid } = pass;
    for (const f of pass.found) {
      if ('before' in f) {
        if (f.before.open === undefined) continue;
        scan.copies.pid.push(pid);
        scan.copies.of.push(f.before.open);
        pass.hit = true;
        continue;
      }
      const info = fdinfo[f.at]!;
      if (typeof info !== 'string') {
        if (!isGone(info.code)) pass.problems.push({ seq: f.seq, what: `fdinfo/${f.fd}`, err: info });
        continue;
      }
      const found = onTarget(f.link, info, pass.foreignMounts);
      if (!found) continue;
      const rawFlags = fdinfoField(found.info, 'flags') ?? '0';
      let flags = flagWords.get(rawFlags);
      if (!flags) flagWords.set(rawFlags, (flags = decodeOpenFlags(rawFlags)));
      f.read.open = scan.opens.length;
      scan.opens.push({
        device: found.device,
        ino: found.ino,
        pid,
        fd: f.fd,
        path: found.path,
        deleted: found.deleted,
        rawFlags,
        flags,
        pos: Number(fdinfoField(found.info, 'pos') ?? 0),
      });
      pass.hit = true;
    }
    if (pass.mapsSeq !== undefined && maps) {
      const mine = maps[n]!;
      if ('code' in mine) pass.problems.push({ seq: pass.mapsSeq, what: 'maps', err: mine });
      else {
        for (const m of mine) scan.mappings.push({ ...m, pid });
        pass.hit ||= mine.length > 0;
      }
    }
    if (pass.hit) {
      // stat, not comm: the same name (both proc_task_name without escaping) and the parent
      // pid that sharing needs, in one read instead of two.
      let head: StatHead | undefined;
      try {
        head = parseStat(reader().readFile(join(procRoot, String(pid), 'stat'), true));
      } catch (err) {
        pass.problems.push({ seq: pass.endSeq, what: 'stat', err });
      }
      scan.comm.set(pid, head?.comm ?? '?');
      if (head?.ppid !== undefined) scan.parents.set(pid, head.ppid);
    }
    // One warning per process: the first thing that failed says enough.
    const first = pass.problems.reduce<ProcessPass['problems'][number] | undefined>((a, p) => (a && a.seq <= p.seq ? a : p), undefined);
    if (!first) return;
    const what = first.what;
    const code = errnoOf(first.err);
    const dir = join(procRoot, String(pid));
    if (isGone(code)) scan.warnings.push(`pid ${pid} vanished during the scan (${join(dir, what)}: ${code})`);
    else if (isDenied(code)) {
      const why = `${code} on ${what ? `/proc/PID/${what.replace(/\/\d+$/, '/N')}` : '/proc/PID'}`;
      denied.set(why, [...(denied.get(why) ?? []), pid]);
      scan.unreadable.push(pid);
    } else scan.warnings.push(`pid ${pid}: cannot read ${join(dir, what)}: ${code}`);
  });
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

/** The start of /proc/PID/stat: the name, the state letter (R, S, D, T, t, Z, …) and the parent pid. */
interface StatHead {
  comm: string;
  state: string;
  ppid: number | undefined;
}

/**
 * /proc/PID/stat (fs/proc/array.c do_task_stat): `pid (comm) state ppid …`. The name may hold
 * spaces and ')', so it runs from the first '(' to the last ')'; its bytes are comm's
 * (proc_task_name without escaping in both files).
 */
function parseStat(bytes: Buffer): StatHead | undefined {
  const open = bytes.indexOf(0x28);
  const close = bytes.lastIndexOf(0x29);
  if (open < 0 || close < open) return undefined;
  const fields = bytes.toString('latin1', close + 2).split(' ');
  const ppid = Number(fields[1]);
  return { comm: decodeName(bytes.subarray(open + 1, close)), state: fields[0]!, ppid: Number.isInteger(ppid) ? ppid : undefined };
}

/** The process state letter of /proc/PID/stat, or undefined once it is gone. */
export function readState(procRoot: string, pid: number): string | undefined {
  try {
    return parseStat(readFileSync(join(procRoot, String(pid), 'stat')))?.state;
  } catch {
    return undefined;
  }
}
