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

const DELETED = ' (deleted)';
const SLASH = 0x2f;
const DEV_FUSE = Buffer.from('/dev/fuse');

/** `major:minor` as /proc/PID/maps prints a device: `%02x:%02x`. */
export function mapsDevice(major: number, minor: number): string {
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}`;
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
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
 */
export function scanProcesses(procRoot: string, target: ScanTarget | null, sameOpenFile?: SameOpenFile): ProcessScan {
  const scan: ProcessScan = { devFuse: [], opens: [], copies: { pid: [], of: [] }, mappings: [], ties: [], comm: new Map(), parents: new Map(), warnings: [], unreadable: [] };
  const mountDevice = new Map<number, string>();
  const prefixes: string[] = [];
  for (const m of target?.mounts ?? []) {
    mountDevice.set(m.mountId, m.device);
    if (target!.devices.has(m.device)) prefixes.push(m.mountpoint);
  }
  const mapsDevices = new Map<Buffer, string>(); // ` 00:28 ` as maps spells it -> mountinfo spelling
  for (const dev of target?.devices ?? []) {
    const [maj, min] = dev.split(':').map(Number) as [number, number];
    mapsDevices.set(Buffer.from(` ${mapsDevice(maj, min)} `, 'latin1'), dev);
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

  const denied = new Map<string, number[]>(); // "fd: EACCES" -> pids
  for (const pid of pids) {
    const dir = join(procRoot, String(pid));
    let hit = false;
    let warned = false;
    // One warning per process: the first thing that failed says enough.
    const problem = (what: string, err: unknown): void => {
      if (warned) return;
      warned = true;
      const code = errnoOf(err);
      if (isGone(code)) scan.warnings.push(`pid ${pid} vanished during the scan (${join(dir, what)}: ${code})`);
      else if (isDenied(code)) {
        const why = `${code} on ${what ? `/proc/PID/${what.replace(/\/\d+$/, '/N')}` : '/proc/PID'}`;
        denied.set(why, [...(denied.get(why) ?? []), pid]);
        scan.unreadable.push(pid);
      }
      else scan.warnings.push(`pid ${pid}: cannot read ${join(dir, what)}: ${code}`);
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

      /**
       * Whether the file a link names lies on a target superblock: by its path first (cheap, own
       * namespace only), then by the mount fdinfo's mnt_id names (exact: a mount nested below the
       * FUSE mount is not it, a bind mount of it is). With the fdinfo text for the caller.
       */
      const onTarget = (link: string, what: string, readInfo: () => string) => {
        const deleted = link.endsWith(DELETED);
        const path = deleted ? link.slice(0, -DELETED.length) : link;
        if (!foreignMounts && !prefixes.some((p) => under(path, p))) return undefined;
        let info: string;
        try {
          info = readInfo();
        } catch (err) {
          if (!isGone(errnoOf(err))) problem(what, err);
          return undefined;
        }
        const device = (foreignMounts ?? mountDevice).get(Number(fdinfoField(info, 'mnt_id')));
        if (device === undefined || !target?.devices.has(device)) return undefined;
        const ino = toU64(fdinfoField(info, 'ino') ?? '');
        if (ino === undefined) {
          withoutIno++;
          return undefined;
        }
        return { path, deleted, device, ino, info };
      };

      let fdinfoDir: ProcDir | undefined;
      const fdinfo = (name: string): string => {
        fdinfoDir ??= openDir(() => pidDir.dir('fdinfo'));
        return fdinfoDir.readFile(name, true).toString('latin1'); // ASCII fields
      };
      const notAlike = new Set<number>(); // pids whose descriptor kcmp found not to be this process's
      for (const name of fds) {
        const fd = Number(name);
        const before = sameOpenFile && lastRead.get(fd);
        if (before && before.pid !== pid && !notAlike.has(before.pid)) {
          if (sameOpenFile(before.pid, fd, pid, fd) === true) {
            if (before.holder) scan.devFuse.push({ ...before.holder, pid });
            if (before.open !== undefined) {
              scan.copies.pid.push(pid);
              scan.copies.of.push(before.open);
            }
            hit ||= before.holder !== undefined || before.open !== undefined;
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
            const conn = fdinfoField(fdinfo(name), 'fuse_connection');
            if (conn !== undefined && /^\d+$/.test(conn)) holder.connection = Number(conn);
          } catch (err) {
            if (!isGone(errnoOf(err))) problem(`fdinfo/${name}`, err);
          }
          scan.devFuse.push(holder);
          read.holder = holder;
          hit = true;
          continue;
        }
        if (!target) continue;
        const found = onTarget(decodeName(raw), `fdinfo/${name}`, () => fdinfo(name));
        if (!found) continue;
        const rawFlags = fdinfoField(found.info, 'flags') ?? '0';
        let flags = flagWords.get(rawFlags);
        if (!flags) flagWords.set(rawFlags, (flags = decodeOpenFlags(rawFlags)));
        read.open = scan.opens.length;
        scan.opens.push({
          device: found.device,
          ino: found.ino,
          pid,
          fd,
          path: found.path,
          deleted: found.deleted,
          rawFlags,
          flags,
          pos: Number(fdinfoField(found.info, 'pos') ?? 0),
        });
        hit = true;
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
        const found = onTarget(decodeName(raw), kind, () => pidDir.pathFdinfo(kind).toString('latin1'));
        if (!found) continue;
        scan.ties.push({ device: found.device, pid, kind, path: found.path, deleted: found.deleted, ino: found.ino });
        hit = true;
      }

      if (target && mapsDevices.size > 0) {
        let bytes: Buffer | undefined;
        try {
          bytes = pidDir.readFile('maps');
        } catch (err) {
          problem('maps', err);
        }
        let maps: string | undefined;
        for (const [spelled, device] of mapsDevices) {
          // Most processes map nothing from the mount: search the bytes before decoding.
          if (!bytes || bytes.indexOf(spelled) < 0) continue;
          maps ??= decodeName(bytes); // format fields are ASCII, so decoding the whole text keeps each path's bytes
          for (const line of maps.split('\n')) {
            const m = parseMapsLine(line);
            if (!m || m.device !== spelled.toString('latin1', 1, spelled.length - 1)) continue;
            scan.mappings.push({ device, ino: m.ino, pid, start: m.start, end: m.end, perms: m.perms, offset: m.offset, path: m.path });
            hit = true;
          }
        }
      }

      if (hit) {
        // stat, not comm: the same name (both proc_task_name without escaping) and the parent
        // pid that sharing needs, in one read instead of two.
        let head: StatHead | undefined;
        try {
          head = parseStat(pidDir.readFile('stat', true));
        } catch (err) {
          problem('stat', err);
        }
        scan.comm.set(pid, head?.comm ?? '?');
        if (head?.ppid !== undefined) scan.parents.set(pid, head.ppid);
      }
    } finally {
      for (const d of opened) d.close();
    }
  }
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

/** One line of /proc/PID/maps (proc(5)); undefined for anonymous or malformed lines' absence of a device. */
export function parseMapsLine(line: string):
  | { start: string; end: string; perms: string; offset: string; device: string; ino: U64; path: string }
  | undefined {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/.exec(line);
  const ino = m ? toU64(m[6]!) : undefined;
  if (!m || ino === undefined) return undefined;
  const rawPath = m[7]!;
  return {
    start: m[1]!,
    end: m[2]!,
    perms: m[3]!,
    offset: m[4]!,
    device: m[5]!,
    ino,
    path: (rawPath.endsWith(DELETED) ? rawPath.slice(0, -DELETED.length) : rawPath).replace(/\\012/g, '\n'),
  };
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
