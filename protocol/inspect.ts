// What `fuselens mounts --json` and `fuselens inspect --json` print
// (docs/cli-json.md), and what fuselens/listMounts and fuselens/inspectMount
// answer: the sidebar shows the same data. server/inspect produces these.
// More fields than the contract names may appear; none of the contract's are
// renamed.

import type { InodeMode } from './io-mode';
import type { U64 } from './u64';

/** `/sys/fs/fuse/connections/<N>/` (fusectl), shared/fuse-kernel-rules.md §7. */
export interface ConnectionStats {
  /** Requests in flight or queued (file `waiting`). */
  waiting: number;
  maxBackground: number;
  congestionThreshold: number;
}

/** The process holding `/dev/fuse` for a connection. */
export interface Daemon {
  pid: number;
  comm: string;
  /**
   * `fdinfo`: a `/dev/fuse` descriptor whose fdinfo says `fuse_connection: N` (proof).
   * `guess-from-cmdline`: the kernel does not say (before 6.18); this process holds
   * `/dev/fuse` and names the mountpoint on its command line. A guess, labelled as such.
   */
  source: 'fdinfo' | 'guess-from-cmdline';
  /** The `/dev/fuse` descriptor (with `source: 'fdinfo'`). */
  fd?: number;
  /** Other processes that also hold a `/dev/fuse` descriptor of this connection. */
  otherPids?: number[];
  /**
   * The state letter of /proc/PID/stat when read (R, S, D, T, t, …): `T`/`t` is a daemon
   * stopped (SIGSTOP, a debugger) — every request to the mount waits; `D` is uninterruptible sleep.
   */
  state?: string;
}

/** The fstype of the mounts `fuselens run` makes (its lab server). */
export const LAB_FSTYPE = 'fuse.fuselens-lab';

/** A lab mount's source names its server's pid: whether that process lives needs no /proc/PID/fd. */
export function labMountSource(serverPid: number): string {
  return `fuselens-lab:${serverPid}`;
}

/** The server pid of a lab mount's source, or null (a source of another form). */
export function labServerPid(source: string): number | null {
  const m = /^fuselens-lab:(\d+)$/.exec(source);
  return m ? Number(m[1]) : null;
}

export interface Mount {
  mountId: number;
  mountpoint: string;
  fstype: string;
  source: string;
  device: string;
  /** N of `/sys/fs/fuse/connections/<N>/`: the device's dev_t, `major<<20|minor`. */
  connection: number;
  mountOptions: string[];
  superOptions: Record<string, string | true>;
  optionalFields: string[];
  /** null when fusectl is missing or unreadable; `connectionStatsMissing` says why. */
  connectionStats: ConnectionStats | null;
  connectionStatsMissing?: string;
  daemon: Daemon | null;
  /** Why `daemon` is null, or what makes it uncertain. */
  daemonNote?: string;
  /**
   * Present (true) on a lab mount (LAB_FSTYPE) that no process serves: no /dev/fuse holder, and
   * its server (named by its source, labMountSource) is gone. Left by a `fuselens run` killed
   * together with its guardian; `fuselens clean` removes it.
   */
  stale?: true;
}

export interface OpenFile {
  pid: number;
  comm: string;
  fd: number;
  /** Names of the bits of fdinfo's octal `flags`, access mode first. */
  flags: string[];
  /** fdinfo's `flags` as printed (octal). */
  rawFlags: string;
  pos: number;
  /** The descriptor's target as `/proc/PID/fd/N` names it. */
  path: string;
  /** True when the target carries ` (deleted)`. */
  deleted: boolean;
  /**
   * Descriptors (`pid:fd`) in other processes that refer to the same open file
   * description (kernel `struct file`), proven with kcmp(KCMP_FILE); e.g. after fork.
   */
  sharedWith?: string[];
}

export interface Mapping {
  pid: number;
  comm: string;
  start: string;
  end: string;
  /** `rwxs` / `rwxp` as maps prints them. */
  perms: string;
  shared: boolean;
  /** File offset of the mapping, hex as maps prints it. */
  offset: string;
  path: string;
  /** True when no descriptor of this process refers to the file (mapped after close). */
  withoutDescriptor: boolean;
}

/**
 * The mode the trace reader reconstructed from OPEN/CREATE replies seen since a
 * capture began (`fuselens trace --json` → `inodes`). Matched to an inode by
 * `ino` when given, else by file name; never by FUSE node id, which is the
 * server's handle and not st_ino in general.
 */
export interface ReconstructedMode {
  ino?: U64;
  /** The FUSE node id, shown for reference only. */
  nodeid?: U64;
  /** Last path component (from LOOKUP) or a full path. */
  name?: string;
  /** When given, only an inode of this connection matches. */
  connection?: number;
  mode: InodeMode;
  iocachectr?: number;
  /** When the capture started (shown as is). */
  since: string;
}

/**
 * The first line of every inode's `evidence`: what /proc cannot say. The fronts show it
 * once per report rather than once per inode.
 */
export const IO_MODE_NOT_EXPORTED =
  "the kernel exports no io mode for an inode (no sysfs, fdinfo or maps field; fuse-kernel-rules §7): only the server's OPEN replies decide it";

export interface InodeView {
  /** st_ino as fdinfo `ino:` and maps print it: exact, a string above 2^53 - 1 (u64.ts). */
  ino: U64;
  /** A path the kernel gave for it (fd link or maps), or null. */
  path: string | null;
  /** Always `unknown` from /proc alone: the kernel exports no io mode (rules §7). */
  mode: Exclude<InodeMode, 'idle'> | 'unknown';
  evidence: string[];
  opens: OpenFile[];
  mappings: Mapping[];
  /** From a trace capture, when one was given; never merged into `mode`. */
  reconstructed?: ReconstructedMode & { matchedBy: 'ino' | 'name' };
}

/**
 * A process that keeps the mount busy by where it stands rather than by what it
 * holds open: its working directory, root directory or executable is on the
 * mount (lsof's `cwd`, `rtd` and `txt`). Read from /proc/PID/{cwd,root,exe}.
 */
export interface ProcessTie {
  pid: number;
  comm: string;
  kind: 'cwd' | 'root' | 'exe';
  /** The link's target as /proc/PID/KIND names it (d_path), without ` (deleted)`. */
  path: string;
  /** True when the target carries ` (deleted)`: removed, and still in use. */
  deleted: boolean;
  /** st_ino of the directory or executable. */
  ino: U64;
}

export interface Inspection {
  mount: Mount;
  inodes: InodeView[];
  warnings: string[];
  /** Processes whose cwd, root or executable is on the mount, by pid then kind (cwd, root, exe). */
  ties: ProcessTie[];
  /** ISO time of the scan. */
  scannedAt: string;
  /** `<proc>/sys/kernel/osrelease`, when readable. */
  kernelRelease?: string;
}
