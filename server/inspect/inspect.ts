// listMounts / inspectMount: the readers put together. See index.ts for the API.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureFusectl, readConnectionStats } from './fusectl';
import { sameOpenFile } from './kcmp';
import type { ScanCache } from './scan-cache';
import { scanHelper } from './scan-helper';
import { connectionFromDevice, isFuseFsType, parseMountInfo, readMountInfoFile } from './mountinfo';
import { namesMountpoint, processGone, readComm, readState, scanProcesses, type DevFuseHolder, type FoundOpen, type ProcessScan } from './processes';
import type {
  Daemon,
  FuseMount,
  InodeReport,
  InspectRoots,
  Inspection,
  Mapping,
  MountInfoEntry,
  OpenFile,
  ReconstructedMode,
} from './types';
import { DEFAULT_ROOTS } from './types';
import { compareU64, toU64, type U64 } from '../../protocol/u64';
import { IO_MODE_NOT_EXPORTED, LAB_FSTYPE, labServerPid } from '../../protocol/inspect';

export interface InspectOptions {
  /** Mount fusectl when it is missing (root, real /sys only). Default: true for the real roots. */
  mayMountFusectl?: boolean;
  /**
   * Use kcmp(2) to find descriptors sharing one open file, and to take a forked child's
   * descriptor from the one it shares instead of reading it (real /proc only: it asks
   * the kernel about the pids). Default: true for the real roots.
   */
  detectSharing?: boolean;
  /**
   * Modes reconstructed from a trace capture (`fuselens trace --json` → `inodes`), shown beside
   * `unknown`; or a function from the mount's connection number to them (no need to list mounts first).
   */
  reconstructed?: ReconstructedMode[] | ((connection: number) => ReconstructedMode[] | undefined);
  /** inspectMount: the mount by its mountinfo id (exact even when mounts are stacked on one path). */
  mountId?: number;
  /**
   * listMounts: also collect the descriptors, mappings and ties on the mount of this
   * mountinfo id, and return that scan as `scan` for its inspectMount in the same refresh
   * (the sidebar's refresh then reads /proc once, not twice: server/inspect/sidebar-scans.ts).
   */
  alsoScanMount?: number;
  /** inspectMount: listMounts' `scan`, used instead of scanning again when it was made for this mount. */
  scan?: MountScan;
  /**
   * What the last scan read, kept to read again only what may have changed (scan-cache.ts);
   * used with the real /proc and kcmp (detectSharing) only. The sidebar's refresh passes one.
   */
  cache?: ScanCache;
}

/** A /proc scan listMounts made for one mount too (InspectOptions.alsoScanMount). */
export interface MountScan {
  mountId: number;
  device: string;
  scan: ProcessScan;
}

/** An error the CLI prints as is (exit 2) and the sidebar shows as a message. */
export class InspectError extends Error {
  constructor(
    message: string,
    readonly code: 'ENOENT' | 'EACCES' | 'EIO' | 'NOTFUSE',
  ) {
    super(message);
    this.name = 'InspectError';
  }
}

function isRealRoots(roots: InspectRoots): boolean {
  return roots.proc === '/proc' && roots.sys === '/sys';
}

/** The cache a scan may use: its proof (run marks, kcmp) holds for the real /proc only. */
function cacheFor(roots: InspectRoots, sharing: boolean, options: InspectOptions): ScanCache | undefined {
  return isRealRoots(roots) && sharing ? options.cache : undefined;
}

function readMountTable(roots: InspectRoots): { all: MountInfoEntry[]; warnings: string[] } {
  const path = join(roots.proc, 'self', 'mountinfo');
  let text: string;
  try {
    text = readMountInfoFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InspectError(`cannot read ${path}: ${code ?? (err as Error).message}`, code === 'EACCES' ? 'EACCES' : 'EIO');
  }
  const { entries, bad } = parseMountInfo(text);
  const warnings = bad.length > 0 ? [`${path}: ${bad.length} line(s) not in mountinfo format (lines ${bad.slice(0, 10).join(', ')})`] : [];
  return { all: entries, warnings };
}

function daemonsByConnection(
  holders: DevFuseHolder[],
  procRoot: string,
  fuseMounts: MountInfoEntry[],
  unreadable: number[],
): Map<number, { daemon: Daemon | null; note?: string }> {
  const out = new Map<number, { daemon: Daemon | null; note?: string }>();
  const kernelSays = holders.some((h) => h.connection !== undefined);
  for (const m of fuseMounts) {
    const conn = connectionFromDevice(m.major, m.minor);
    if (out.has(conn)) continue;
    if (kernelSays) {
      const mine = holders.filter((h) => h.connection === conn).sort((a, b) => a.pid - b.pid || a.fd - b.fd);
      const first = mine[0];
      if (!first) {
        out.set(conn, guessAmongUnreadable(m, unreadable, procRoot) ?? {
          daemon: null,
          note: `no process holds a /dev/fuse descriptor of connection ${conn} (daemon exited, or in another pid namespace)`,
        });
        continue;
      }
      const others = [...new Set(mine.map((h) => h.pid))].filter((p) => p !== first.pid);
      const daemon: Daemon = { pid: first.pid, comm: readComm(procRoot, first.pid), source: 'fdinfo', fd: first.fd };
      if (others.length > 0) daemon.otherPids = others;
      out.set(conn, { daemon });
      continue;
    }
    // Before 6.18 fdinfo of /dev/fuse does not name the connection: guess from the command line.
    const guesses = [...new Set(holders.map((h) => h.pid))].filter((pid) => namesMountpoint(procRoot, pid, m.mountpoint));
    const pid = guesses[0];
    if (pid === undefined) {
      const fromUnreadable = guessAmongUnreadable(m, unreadable, procRoot);
      if (fromUnreadable) {
        out.set(conn, fromUnreadable);
        continue;
      }
      out.set(conn, {
        daemon: null,
        note:
          holders.length > 0
            ? `this kernel's /dev/fuse fdinfo has no fuse_connection line and no /dev/fuse holder names ${m.mountpoint} on its command line`
            : 'no process holds /dev/fuse (daemon exited, in another pid namespace, or not readable)',
      });
      continue;
    }
    out.set(conn, {
      daemon: { pid, comm: readComm(procRoot, pid), source: 'guess-from-cmdline' },
      note: `GUESS: this kernel's /dev/fuse fdinfo has no fuse_connection line; pid ${pid} holds /dev/fuse and names ${m.mountpoint} on its command line${guesses.length > 1 ? ` (so do pids ${guesses.slice(1).join(', ')})` : ''}`,
    });
  }
  return out;
}

/**
 * When the /dev/fuse holders cannot be read (not root), the command line, which
 * anyone may read, is the only hint: a process naming the mountpoint. A guess.
 */
function guessAmongUnreadable(m: MountInfoEntry, unreadable: number[], procRoot: string): { daemon: Daemon; note: string } | undefined {
  if (unreadable.length === 0) return undefined;
  const pid = unreadable.find((p) => namesMountpoint(procRoot, p, m.mountpoint));
  if (pid === undefined) return undefined;
  return {
    daemon: { pid, comm: readComm(procRoot, pid), source: 'guess-from-cmdline' },
    note: `GUESS: ${unreadable.length} process(es) could not be read (not root), so no /dev/fuse holder is proven; pid ${pid} names ${m.mountpoint} on its command line`,
  };
}

function toFuseMount(
  m: MountInfoEntry,
  roots: InspectRoots,
  fusectlReason: string | undefined,
  daemons: Map<number, { daemon: Daemon | null; note?: string }>,
): FuseMount {
  const connection = connectionFromDevice(m.major, m.minor);
  const stats = fusectlReason === undefined ? readConnectionStats(connection, roots.sys) : { stats: null, reason: fusectlReason };
  const d = daemons.get(connection);
  const mount: FuseMount = {
    mountId: m.mountId,
    mountpoint: m.mountpoint,
    fstype: m.fstype,
    source: m.source,
    device: m.device,
    connection,
    mountOptions: m.mountOptions,
    superOptions: m.superOptions,
    optionalFields: m.optionalFields,
    connectionStats: stats.stats,
    // The daemon's state now, per mount (a Daemon may serve several bind mounts of one connection).
    daemon: d?.daemon ? withState(d.daemon, roots.proc) : null,
  };
  if (stats.reason !== undefined) mount.connectionStatsMissing = stats.reason;
  if (d?.note !== undefined) mount.daemonNote = d.note;
  if (m.fstype === LAB_FSTYPE && mount.daemon === null && labServerGone(m.source, roots.proc)) mount.stale = true;
  return mount;
}

function withState(daemon: Daemon, procRoot: string): Daemon {
  const state = readState(procRoot, daemon.pid);
  return state === undefined ? daemon : { ...daemon, state };
}

/** A lab mount's server (its source names it) is gone, or it cannot be told. */
function labServerGone(source: string, procRoot: string): boolean {
  const pid = labServerPid(source);
  if (pid === null) return true; // a lab mount made before sources named the server: no holder is all there is
  return processGone(pid, procRoot);
}

/** Every FUSE mount of the reader's mount namespace, in mountinfo order. */
export function listMounts(roots: InspectRoots = DEFAULT_ROOTS, options: InspectOptions = {}): { mounts: FuseMount[]; warnings: string[]; scan?: MountScan } {
  const { all, warnings } = readMountTable(roots);
  const fuse = all.filter((m) => isFuseFsType(m.fstype));
  if (fuse.length === 0) return { mounts: [], warnings };
  const fusectl = ensureFusectl(roots.sys, all, options.mayMountFusectl ?? (isRealRoots(roots) && process.getuid?.() === 0));
  const also = options.alsoScanMount === undefined ? undefined : fuse.find((m) => m.mountId === options.alsoScanMount);
  const target = also ? { devices: new Set([also.device]), mounts: all } : null;
  const sharing = options.detectSharing ?? isRealRoots(roots);
  const scan = scanProcesses(roots.proc, target, sharing, target && isRealRoots(roots) ? scanHelper() : null, cacheFor(roots, sharing, options));
  const daemons = daemonsByConnection(scan.devFuse, roots.proc, fuse, scan.unreadable);
  return {
    mounts: fuse.map((m) => toFuseMount(m, roots, fusectl.reason, daemons)),
    warnings: [...warnings, ...scan.warnings],
    ...(also && { scan: { mountId: also.mountId, device: also.device, scan } }),
  };
}

/** The FUSE mount at `mountpoint` (the topmost if several are stacked), or one that contains it. */
function findMount(fuse: MountInfoEntry[], mountpoint: string, mountId?: number): { entry: MountInfoEntry; note?: string } {
  if (mountId !== undefined) {
    const byId = fuse.find((m) => m.mountId === mountId);
    if (!byId) throw new InspectError(`FUSE mount id ${mountId} (${mountpoint}) is gone`, 'NOTFUSE');
    return { entry: byId };
  }
  // resolve() is string work only: realpath would lstat through the mount.
  const wanted = resolve(mountpoint);
  const exact = fuse.filter((m) => m.mountpoint === wanted);
  if (exact.length > 0) return { entry: exact[exact.length - 1]! };
  const containing = fuse
    .filter((m) => wanted.startsWith(m.mountpoint === '/' ? '/' : m.mountpoint + '/'))
    .sort((a, b) => b.mountpoint.length - a.mountpoint.length);
  if (containing[0]) return { entry: containing[0], note: `${wanted} lies inside the FUSE mount ${containing[0].mountpoint}; showing that mount` };
  const known = fuse.map((m) => m.mountpoint);
  throw new InspectError(
    `${wanted} is not a FUSE mountpoint${known.length > 0 ? ` (FUSE mounts: ${known.join(', ')})` : ' (there are no FUSE mounts; see `fuselens mounts`)'}`,
    'NOTFUSE',
  );
}


/** "pid 1 fd 3, pid 2 fd 3 and 7 more": who, briefly. */
function who(items: string[]): string {
  return items.length <= 4 ? items.join(', ') : `${items.slice(0, 3).join(', ')} and ${items.length - 3} more`;
}

function evidenceFor(opens: OpenFile[], mappings: Mapping[]): string[] {
  const ev: string[] = [IO_MODE_NOT_EXPORTED];
  const direct = opens.filter((o) => o.flags.includes('O_DIRECT')).map((o) => `pid ${o.pid} fd ${o.fd}`);
  if (direct.length > 0)
    ev.push(`opened with O_DIRECT (${who(direct)}); that alone does not make it direct-io: the server's reply (FOPEN_DIRECT_IO or not) does, and it is not visible here`);
  const orphan = mappings.filter((m) => m.withoutDescriptor).map((m) => `pid ${m.pid} ${m.shared ? 'shared' : 'private'} ${m.perms}`);
  if (orphan.length > 0)
    ev.push(`mapped with no descriptor left (${who(orphan)}): unless the file is passthrough the mapping keeps the open file, and its mode, alive until munmap (rules 2.5, 2.6)`);
  const shared = mappings.filter((m) => m.shared && !m.withoutDescriptor).map((m) => `pid ${m.pid}`);
  if (shared.length > 0)
    ev.push(`mapped shared (${who(shared)}): a non-passthrough file mapped shared is in caching mode; a passthrough one maps its backing file (maps looks the same)`);
  return ev;
}

function matchReconstructed(inode: InodeReport, connection: number, all: ReconstructedMode[]): InodeReport['reconstructed'] {
  const mine = all.filter((r) => r.connection === undefined || r.connection === connection);
  // toU64: a trace read back from JSON may spell a small number as a string; junk matches nothing.
  const byIno = mine.find((r) => r.ino !== undefined && toU64(r.ino) === inode.ino);
  if (byIno) return { ...byIno, matchedBy: 'ino' };
  if (inode.path === null) return undefined;
  const base = inode.path.slice(inode.path.lastIndexOf('/') + 1);
  const byName = mine.filter((r) => r.ino === undefined && r.name !== undefined && (r.name === base || r.name === inode.path));
  // Two inodes of the capture with this name: which one this is cannot be told.
  if (byName.length === 1) return { ...byName[0]!, matchedBy: 'name' };
  return undefined;
}

/** Every descriptor the scan found: those read, then the copies (ProcessScan.copies), by index. */
interface Descriptors {
  count: number;
  pid(i: number): number;
  /** The index of the read descriptor whose file this is (itself when it was read). */
  source(i: number): number;
  read(i: number): FoundOpen;
  copied(i: number): boolean;
}

function descriptorsOf(scan: ProcessScan): Descriptors {
  const { opens, copies } = scan;
  const n = opens.length;
  return {
    count: n + copies.pid.length,
    pid: (i) => (i < n ? opens[i]!.pid : copies.pid[i - n]!),
    source: (i) => (i < n ? i : copies.of[i - n]!),
    read: (i) => opens[i < n ? i : copies.of[i - n]!]!,
    copied: (i) => i >= n,
  };
}

/**
 * Links descriptors that share one open file description: each copy with the
 * descriptor it was matched with by kcmp during the scan, then, asking the kernel
 * with kcmp, the candidates among the same inode's descriptors: in the same process
 * (dup), or in a parent and its child (fork; a copy is linked already). Descriptors
 * passed over a socket to an unrelated process are not asked about.
 */
function markSharing(d: Descriptors, parents: Map<number, number>, views: OpenFile[]): void {
  // Every copy of one descriptor says the same ("PID:FD" of that one): one array for all
  // of them (100,000 copies make 100,000 arrays otherwise), copied before it is added to.
  const common = new Map<number, string[]>();
  const add = (a: number, b: number): void => {
    const view = views[a]!;
    const text = `${views[b]!.pid}:${views[b]!.fd}`;
    if (view.sharedWith !== undefined && d.copied(a) && view.sharedWith === common.get(d.source(a))) view.sharedWith = [...view.sharedWith, text];
    else (view.sharedWith ??= []).push(text);
  };
  const linked = (a: number, b: number): void => {
    add(a, b);
    add(b, a);
  };
  const byIno = new Map<U64, number[]>();
  for (let i = 0; i < d.count; i++) {
    if (d.copied(i)) {
      const source = d.source(i);
      let mine = common.get(source);
      if (!mine) common.set(source, (mine = [`${views[source]!.pid}:${views[source]!.fd}`]));
      views[i]!.sharedWith = mine;
      (views[source]!.sharedWith ??= []).push(`${views[i]!.pid}:${views[i]!.fd}`);
    }
    const ino = d.read(i).ino;
    const g = byIno.get(ino);
    if (g) g.push(i);
    else byIno.set(ino, [i]);
  }
  const link = (a: number, b: number): void => {
    if (d.read(a) === d.read(b) && (d.copied(a) || d.copied(b))) return; // linked above
    if (sameOpenFile(views[a]!.pid, views[a]!.fd, views[b]!.pid, views[b]!.fd) === true) linked(a, b);
  };
  for (const group of byIno.values()) {
    if (group.length < 2) continue;
    const byPid = new Map<number, number[]>();
    for (const i of group) {
      const mine = byPid.get(d.pid(i));
      if (mine) mine.push(i);
      else byPid.set(d.pid(i), [i]);
    }
    for (const [pid, mine] of byPid) {
      for (let i = 0; i < mine.length; i++) for (let j = i + 1; j < mine.length; j++) link(mine[i]!, mine[j]!);
      const read = mine.filter((i) => !d.copied(i));
      if (byPid.size < 2 || read.length === 0) continue;
      const parent = parents.get(pid);
      for (const theirs of parent !== undefined ? (byPid.get(parent) ?? []) : []) for (const a of read) link(theirs, a);
    }
  }
}

/** What is open and mapped on the FUSE mount at `mountpoint` right now. */
export function inspectMount(mountpoint: string, roots: InspectRoots = DEFAULT_ROOTS, options: InspectOptions = {}): Inspection {
  const { all, warnings } = readMountTable(roots);
  const fuse = all.filter((m) => isFuseFsType(m.fstype));
  const found = findMount(fuse, mountpoint, options.mountId);
  if (found.note) warnings.push(found.note);
  const entry = found.entry;
  const real = isRealRoots(roots);
  const fusectl = ensureFusectl(roots.sys, all, options.mayMountFusectl ?? (real && process.getuid?.() === 0));
  const sharing = options.detectSharing ?? real;
  const given = options.scan;
  const scan = given && given.mountId === entry.mountId && given.device === entry.device
    ? given.scan
    : scanProcesses(roots.proc, { devices: new Set([entry.device]), mounts: all }, sharing, real ? scanHelper() : null, cacheFor(roots, sharing, options));
  const daemons = daemonsByConnection(scan.devFuse, roots.proc, [entry], scan.unreadable);
  const mount = toFuseMount(entry, roots, fusectl.reason, daemons);
  warnings.push(...scan.warnings);

  const reconstructed = typeof options.reconstructed === 'function' ? options.reconstructed(mount.connection) : options.reconstructed;
  // A refresh that found what the last one did returns the last one's scan (processes.ts): its reports are made again only when they would differ.
  let made = reconstructed ? undefined : reportsMade.get(scan);
  if (!made) {
    made = reportsOf(scan, sharing, mount.connection, reconstructed);
    if (!reconstructed) reportsMade.set(scan, made);
  }
  const inspection: Inspection = { mount, inodes: made.inodes, warnings, ties: made.ties, scannedAt: new Date().toISOString() };
  try {
    inspection.kernelRelease = readFileSync(join(roots.proc, 'sys', 'kernel', 'osrelease'), 'utf8').trim();
  } catch {
    // a fixture tree without it
  }
  return inspection;
}

/** The reports made of a scan without reconstructed modes (the same for as long as the scan is reused). */
const reportsMade = new WeakMap<ProcessScan, Pick<Inspection, 'inodes' | 'ties'>>();

/** The inode reports and ties of a scan of one mount. */
function reportsOf(scan: ProcessScan, sharing: boolean, connection: number, reconstructed: ReconstructedMode[] | undefined): Pick<Inspection, 'inodes' | 'ties'> {
  const comm = (pid: number): string => scan.comm.get(pid) ?? '?';
  const held = descriptorsOf(scan);
  const views: OpenFile[] = [];
  for (let i = 0; i < held.count; i++) {
    const o = held.read(i);
    const pid = held.pid(i);
    views.push({ pid, comm: comm(pid), fd: o.fd, flags: o.flags, rawFlags: o.rawFlags, pos: o.pos, path: o.path, deleted: o.deleted });
  }
  if (sharing) markSharing(held, scan.parents, views);

  const inodes = new Map<U64, InodeReport>(); // one form per value (u64.ts), so a fine key
  const inode = (ino: U64, path: string): InodeReport => {
    let r = inodes.get(ino);
    if (!r) inodes.set(ino, (r = { ino, path, mode: 'unknown', evidence: [], opens: [], mappings: [] }));
    return r;
  };
  for (let i = 0; i < held.count; i++) inode(held.read(i).ino, held.read(i).path).opens.push(views[i]!);
  const heldBy = new Set<string>();
  if (scan.mappings.length > 0) for (let i = 0; i < held.count; i++) heldBy.add(`${held.pid(i)}/${held.read(i).ino}`);
  for (const m of scan.mappings) {
    inode(m.ino, m.path).mappings.push({
      pid: m.pid,
      comm: comm(m.pid),
      start: m.start,
      end: m.end,
      perms: m.perms,
      shared: m.perms[3] === 's',
      offset: m.offset,
      path: m.path,
      withoutDescriptor: !heldBy.has(`${m.pid}/${m.ino}`),
    });
  }
  // Copies were found after the descriptors read: each inode's descriptors in process order, as read.
  for (const r of inodes.values()) r.opens.sort((a, b) => a.pid - b.pid || a.fd - b.fd);
  // By path's code units, not localeCompare: the same order whatever the locale, and no ICU
  // collator to set up (10–25 ms of a `fuselens inspect` start-up).
  const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const reports = [...inodes.values()].sort((a, b) => byPath(a.path ?? '', b.path ?? '') || compareU64(a.ino, b.ino));
  for (const r of reports) {
    r.evidence = evidenceFor(r.opens, r.mappings);
    const rec = reconstructed ? matchReconstructed(r, connection, reconstructed) : undefined;
    if (rec) {
      r.reconstructed = rec;
      r.evidence.push(
        `since capture started at ${rec.since}, the trace shows ${rec.mode}${rec.iocachectr !== undefined ? ` (iocachectr ${rec.iocachectr})` : ''}, matched by ${rec.matchedBy}; opens made before the capture are not counted`,
      );
    }
  }
  const ties = scan.ties.map((t) => ({ pid: t.pid, comm: comm(t.pid), kind: t.kind, path: t.path, deleted: t.deleted, ino: t.ino }));
  return { inodes: reports, ties };
}
