// The procfs reads a scan repeats thousands of times (list a directory, readlink, read a
// small file), as cheaply as possible. Node's synchronous fs calls cost several
// microseconds each in bookkeeping; calling libc through koffi costs ~1 µs; the addon
// built from native/procfs.c (scripts/build.mjs) costs a tenth of that and reads a
// process's descriptors in one call (`ProcDir.links`). Whichever is there is used:
// the addon, else koffi, else node:fs (a front that ships neither).
//
// Results live in one shared buffer and are valid until the next call.
// Failures throw `{ code: 'ENOENT' | 'EACCES' | ... }` like node:fs errors.

import { closeSync, constants as fsConstants, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { procfsAddon, type ProcfsAddon } from './procfs-addon';

/**
 * The links of a process's descriptors a scan looks at (ProcDir.links): /dev/fuse, those
 * that begin with one of `prefixes` (the bytes of the target's mountpoints), or, with
 * `all`, every absolute path (a process in another mount namespace names its files from
 * its own root).
 */
export class LinkFilter {
  /** The prefixes as the addon takes them: a u16 length and the bytes, each. */
  readonly packed: Buffer;

  constructor(
    readonly prefixes: readonly Buffer[],
    readonly all = false,
  ) {
    this.packed = Buffer.concat(prefixes.flatMap((p) => [Buffer.from([p.length & 0xff, p.length >> 8]), p]));
  }

  wants(raw: Buffer): boolean {
    return raw[0] === SLASH && (this.all || raw.equals(DEV_FUSE) || this.hasPrefix(raw));
  }

  hasPrefix(raw: Buffer): boolean {
    return this.prefixes.some((p) => raw.length >= p.length && raw.compare(p, 0, p.length, 0, p.length) === 0);
  }
}

/** One descriptor ProcDir.links read: its link failed, or the filter wanted it and its fdinfo was read. */
export interface FdLink {
  fd: number;
  /** The link's bytes (valid until the next read), or the errno name readlink failed with. */
  raw: Buffer | string;
  /** fdinfo/N as latin1 text, or the errno name its read failed with (only when raw is bytes). */
  info?: string;
  infoCode?: string;
}

/**
 * An open directory of procfs (e.g. /proc/PID, /proc/PID/fd): names are looked
 * up relative to it (openat/readlinkat), so the kernel does not walk
 * /proc/PID/... again for every descriptor.
 */
export interface ProcDir {
  /** The names that are decimal numbers (pids, tids, descriptors), ascending. */
  numbers(): number[];
  readlink(name: string): Buffer;
  readFile(name: string, small?: boolean): Buffer;
  /**
   * This being a process's fd/ and `pidDir` its /proc/PID: readlink of each of `fds`, in
   * order, and the fdinfo of each link `filter` wants. Only the failed links and the
   * wanted ones are returned: a scan looks at no other (pipes, sockets, other files).
   */
  links(fds: readonly number[], filter: LinkFilter, pidDir: ProcDir): FdLink[];
  /**
   * Our own fdinfo (`/proc/self/fdinfo/FD`: mnt_id, ino) of an O_PATH descriptor of
   * `name`'s target — for /proc/PID/{cwd,root,exe}, which have no fdinfo of their own.
   * O_PATH calls nothing of the target's filesystem: the magic link is followed
   * without a lookup (nd_jump_link), FUSE has no d_weak_revalidate, do_o_path skips
   * may_open (no ->permission) and do_dentry_open skips ->open; fdinfo prints what the
   * struct file holds. So a stopped FUSE daemon cannot make this wait.
   */
  pathFdinfo(name: string): Buffer;
  dir(name: string): ProcDir;
  /** It stays open between scans: its descriptor joins keptOpen until close. */
  keep(): ProcDir;
  close(): void;
}

export interface ProcReader {
  openDir(path: string): ProcDir;
  /**
   * A file kept open to be read again from its start (`readKept`): procfs prints a seq_file
   * afresh on a read at offset 0 (seq_read_iter), so one pread instead of open, read, close.
   * Bound to the process it was opened for: once that is gone, reads fail (ESRCH).
   */
  openKept(path: string): number;
  readKept(fd: number): Buffer;
  closeKept(fd: number): void;
  /**
   * What a refresh reads again of a process it keeps (process-files.ts), as one record
   * (`parseRereads` takes it apart; a view of the shared buffer, valid until the next read):
   * the link and the fdinfo of each of `fds` (`fdDir` being the process's fd/ and `pidDir` its
   * /proc/PID; fdinfo/N with one pread of `infoFds[i]` where that is kept open, else -1:
   * opened), then its stat (`statFd` likewise). Every read is in it, failures too, so equal
   * records are equal reads. Through the addon, one call.
   */
  reread(fdDir: ProcDir, pidDir: ProcDir, fds: Int32Array, infoFds: Int32Array, statFd: number): Buffer;
  /** ProcDir.numbers of the directory at `path`. */
  listNumbers(path: string): number[];
  /** The link target's bytes (a view of the shared buffer). */
  readlink(path: string): Buffer;
  /**
   * The whole file (a view of the shared buffer). `small`: a file the kernel prints
   * in one go (fdinfo, comm), so a read that does not fill the buffer is the end.
   */
  readFile(path: string, small?: boolean): Buffer;
}

/** The errno name a read failed with (`code` of what these readers and node:fs throw). */
export function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
}

const SLASH = 0x2f;
const DEV_FUSE = Buffer.from('/dev/fuse');

let shared = Buffer.allocUnsafe(256 * 1024);
/**
 * `shared.subarray(0, n)` made once per length and handed out again: a result is valid
 * until the next call anyway, and a scan takes ~15,000 of them, each a Buffer built in
 * JavaScript (its offsets checked, a FastBuffer constructed) — ~1 µs apiece in the
 * unoptimized code `fuselens inspect` runs, and garbage for the collector.
 */
let views: Buffer[] = [];

function sharedView(n: number): Buffer {
  return views[n] ?? (views[n] = shared.subarray(0, n));
}

/** The descriptors openKept opened and closeKept has not closed: procfs files of this process. */
export const keptOpen = new Set<number>();

function grow(keep: number): void {
  const bigger = Buffer.allocUnsafe(shared.length * 2);
  shared.copy(bigger, 0, 0, keep);
  shared = bigger;
  views = [];
}

function kept(fd: number): number {
  keptOpen.add(fd);
  return fd;
}

/**
 * ProcDir.links as one readlink (and, when wanted, one fdinfo read) per descriptor: the
 * readers without the addon. Each wanted link is copied, as the next read reuses the buffer.
 */
function linksOneByOne(fdDir: ProcDir, fds: readonly number[], filter: LinkFilter, pidDir: ProcDir): FdLink[] {
  const found: FdLink[] = [];
  let fdinfoDir: ProcDir | undefined; // opened when a descriptor needs it (most processes have none on the mount)
  try {
    for (const fd of fds) {
      const name = String(fd);
      let raw: Buffer;
      try {
        raw = fdDir.readlink(name);
      } catch (err) {
        found.push({ fd, raw: errnoOf(err) });
        continue;
      }
      if (!filter.wants(raw)) continue;
      const link: FdLink = { fd, raw: Buffer.from(raw) };
      try {
        link.info = (fdinfoDir ??= pidDir.dir('fdinfo')).readFile(name, true).toString('latin1');
      } catch (err) {
        link.infoCode = errnoOf(err);
      }
      found.push(link);
    }
  } finally {
    fdinfoDir?.close();
  }
  return found;
}

/** The record's lengths: a read's length, or -errno when it failed. */
function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32LE(n);
  return b;
}

/** ProcReader.reread as one read at a time, its record built here: the readers without the addon. */
function rereadOneByOne(reader: ProcReader, fdDir: ProcDir, pidDir: ProcDir, fds: Int32Array, infoFds: Int32Array, statFd: number): Buffer {
  const record: Buffer[] = [];
  const put = (read: () => Buffer): void => {
    try {
      const bytes = read();
      record.push(int32(bytes.length), Buffer.from(bytes));
    } catch (err) {
      record.push(int32(-((osConstants.errno as Record<string, number>)[errnoOf(err)] ?? osConstants.errno.EIO)));
    }
  };
  fds.forEach((fd, i) => {
    put(() => fdDir.readlink(String(fd)));
    put(() => (infoFds[i]! >= 0 ? reader.readKept(infoFds[i]!) : pidDir.readFile(`fdinfo/${fd}`, true)));
  });
  put(() => (statFd >= 0 ? reader.readKept(statFd) : pidDir.readFile('stat', true)));
  return Buffer.concat(record);
}

/** What a `reread` record says: each descriptor's link (bytes: views of the record) and fdinfo (latin1 text), then the stat's bytes; undefined when a read failed. */
export function parseRereads(record: Buffer, count: number): { links: Buffer[]; infos: string[]; stat: Buffer } | undefined {
  let at = 0;
  const next = (): Buffer | undefined => {
    const len = record.readInt32LE(at);
    at += 4;
    if (len < 0) return undefined;
    at += len;
    return record.subarray(at - len, at);
  };
  const links: Buffer[] = [];
  const infos: string[] = [];
  for (let i = 0; i < count; i++) {
    const link = next();
    const info = next();
    if (link === undefined || info === undefined) return undefined;
    links.push(link);
    infos.push(info.toString('latin1'));
  }
  const stat = next();
  return stat && { links, infos, stat };
}

const AS_BUFFER = { encoding: 'buffer' } as const;
// open(2)'s O_PATH and O_CLOEXEC: the same on x86-64 and arm64; node's fs.constants lacks them.
const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000;

const DECIMAL = /^\d+$/;

/** The numeric ones of `names`, ascending. */
function numbersOf(names: string[]): number[] {
  return ascending(names.filter((n) => DECIMAL.test(n)).map(Number));
}

/** procfs lists pids, tids and descriptors in ascending order already: sorted only if not. */
function ascending(numbers: number[]): number[] {
  for (let i = 1; i < numbers.length; i++) if (numbers[i]! < numbers[i - 1]!) return numbers.sort((a, b) => a - b);
  return numbers;
}

function nodeDir(path: string): ProcDir {
  const dir: ProcDir = {
    numbers: () => numbersOf(readdirSync(path)),
    readlink: (name) => nodeReader.readlink(path + '/' + name),
    readFile: (name, small) => nodeReader.readFile(path + '/' + name, small),
    links: (fds, filter, pidDir) => linksOneByOne(dir, fds, filter, pidDir),
    pathFdinfo(name) {
      const fd = openSync(path + '/' + name, O_PATH | O_CLOEXEC);
      try {
        return nodeReader.readFile(`/proc/self/fdinfo/${fd}`, true);
      } finally {
        closeSync(fd);
      }
    },
    dir: (name) => nodeDir(path + '/' + name),
    keep: () => dir,
    close: () => undefined,
  };
  return dir;
}

const nodeReader: ProcReader = {
  openKept: (path) => kept(openSync(path, fsConstants.O_RDONLY | O_CLOEXEC)),
  readKept(fd) {
    const n = readSync(fd, shared, 0, shared.length, 0);
    return sharedView(n);
  },
  closeKept: (fd) => {
    keptOpen.delete(fd);
    closeSync(fd);
  },
  reread: (fdDir, pidDir, fds, infoFds, statFd) => rereadOneByOne(nodeReader, fdDir, pidDir, fds, infoFds, statFd),
  openDir(path) {
    readdirSync(path); // fail now, as opening it would
    return nodeDir(path);
  },
  listNumbers: (path) => numbersOf(readdirSync(path)),
  readlink: (path) => readlinkSync(path, AS_BUFFER),
  readFile(path, small = false) {
    const fd = openSync(path, 'r');
    try {
      let len = 0;
      for (;;) {
        if (len === shared.length) grow(len);
        const room = shared.length - len;
        const n = readSync(fd, shared, len, room, null);
        len += n;
        if (n === 0 || (small && n < room)) return sharedView(len);
      }
    } finally {
      closeSync(fd);
    }
  },
};

/**
 * The system calls the libc reader makes, each returning -errno on failure: the addon's,
 * or koffi's. `fdLinks` and `reread` (the addon's): ProcDir.links and ProcReader.reread in
 * one call; without them, one read at a time.
 */
type Syscalls = Omit<ProcfsAddon, 'kcmp' | 'numbers' | 'fdLinks' | 'reread'> & {
  /** The directory's decimal names (throws as the readers do). */
  numbers(fd: number): number[];
  fdLinks?: ProcfsAddon['fdLinks'];
  reread?: ProcfsAddon['reread'];
};

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
const SYS_GETDENTS64: Record<string, number> = { x64: 217, arm64: 61 };

/** The name of the errno a call returned as -errno. */
function errnoName(r: number): string {
  return ERRNO_NAMES.get(-r) ?? `errno ${-r}`;
}

function fail(r: number): never {
  throw { code: errnoName(r) };
}

function checked(r: number): number {
  return r < 0 ? fail(r) : r;
}

function koffiSyscalls(): Syscalls | null {
  const getdents = SYS_GETDENTS64[process.arch];
  if (getdents === undefined) return null;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(__filename)('koffi') as typeof import('koffi');
  } catch {
    return null;
  }
  const libc = koffi.load('libc.so.6');
  const openat = libc.func('int openat(int dirfd, const char *path, int flags)');
  const readlinkat = libc.func('long readlinkat(int dirfd, const char *path, uint8_t *buf, size_t size)');
  const close = libc.func('int close(int fd)');
  const read = libc.func('long read(int fd, uint8_t *buf, size_t n)');
  const pread = libc.func('long pread(int fd, uint8_t *buf, size_t n, long offset)');
  const syscall = libc.func('long syscall(long nr, int fd, uint8_t *buf, unsigned long count)');
  const r = (n: number | bigint): number => (Number(n) < 0 ? -koffi.errno() : Number(n));
  return {
    openat: (dirfd, path, flags) => r(openat(dirfd, path, flags)),
    readlinkat: (dirfd, path, buf) => r(readlinkat(dirfd, path, buf, buf.length)),
    read: (fd, buf, at) => r(read(fd, at === 0 ? buf : buf.subarray(at), buf.length - at)),
    pread: (fd, buf) => r(pread(fd, buf, buf.length, 0)),
    close: (fd) => r(close(fd)),
    numbers(fd) {
      const numbers: number[] = [];
      for (;;) {
        const n = checked(r(syscall(getdents, fd, shared, shared.length)));
        if (n === 0) return numbers;
        // struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name[] (NUL-terminated).
        // The name's digits are read as a number where they lie: no string per entry (a process's
        // descriptors are listed at each scan, thousands of them).
        for (let off = 0; off < n; off += shared[off + 16]! | (shared[off + 17]! << 8)) {
          let at = off + 19;
          let value = 0;
          for (let b = shared[at]!; b >= 0x30 && b <= 0x39; b = shared[++at]!) value = value * 10 + b - 0x30;
          if (at > off + 19 && shared[at] === 0) numbers.push(value);
        }
      }
    },
  };
}

let numberSpace = new Int32Array(1024);

/** The addon's calls, its listing as the readers return it. */
function addonSyscalls(addon: ProcfsAddon): Syscalls {
  return {
    ...addon,
    numbers(fd) {
      for (;;) {
        const n = addon.numbers(fd, numberSpace);
        if (n !== -osConstants.errno.ENOBUFS) return Array.from(numberSpace.subarray(0, checked(n)));
        numberSpace = new Int32Array(numberSpace.length * 2);
      }
    },
  };
}

function libcReader(sys: Syscalls): ProcReader {
  const O_RDONLY_CLOEXEC = fsConstants.O_RDONLY | O_CLOEXEC;
  const O_DIRECTORY = fsConstants.O_DIRECTORY;
  const AT_FDCWD = -100;
  const ENOBUFS = -osConstants.errno.ENOBUFS;
  const readlinkIn = (dirfd: number, path: string): Buffer => {
    for (;;) {
      const n = checked(sys.readlinkat(dirfd, path, shared));
      if (n < shared.length) return sharedView(n);
      grow(0);
    }
  };
  const readFileIn = (dirfd: number, path: string, small: boolean): Buffer => {
    const fd = checked(sys.openat(dirfd, path, O_RDONLY_CLOEXEC));
    try {
      let len = 0;
      for (;;) {
        if (len === shared.length) grow(len);
        const room = shared.length - len;
        const n = checked(sys.read(fd, shared, len));
        len += n;
        if (n === 0 || (small && n < room)) return sharedView(len);
      }
    } finally {
      sys.close(fd);
    }
  };
  let fdsSpace = new Int32Array(1024);
  /** ProcDir.links through the addon: one call, its records (native/procfs.c js_fd_links) parsed here. */
  const linksAtOnce = (fdDirFd: number, pidDirFd: number, fds: readonly number[], filter: LinkFilter): FdLink[] => {
    if (fdsSpace.length < fds.length) fdsSpace = new Int32Array(fds.length * 2);
    fdsSpace.set(fds);
    let n: number;
    while ((n = sys.fdLinks!(fdDirFd, pidDirFd, fdsSpace, fds.length, filter.packed, filter.all ? 1 : 0, shared)) === ENOBUFS) grow(0);
    checked(n);
    const found: FdLink[] = [];
    for (let at = 0; at < n; ) {
      const fd = shared.readInt32LE(at);
      const len = shared.readInt32LE(at + 4);
      at += 8;
      if (len < 0) {
        found.push({ fd, raw: errnoName(len) });
        continue;
      }
      const link: FdLink = { fd, raw: shared.subarray(at, at + len) };
      at += len;
      const infoLen = shared.readInt32LE(at);
      at += 4;
      if (infoLen < 0) link.infoCode = errnoName(infoLen);
      else {
        link.info = shared.toString('latin1', at, at + infoLen);
        at += infoLen;
      }
      found.push(link);
    }
    return found;
  };
  const dirFds = new WeakMap<ProcDir, number>();
  const dirAt = (dirfd: number, path: string): ProcDir => {
    const fd = checked(sys.openat(dirfd, path, O_RDONLY_CLOEXEC | O_DIRECTORY));
    let open = true;
    const dir: ProcDir = {
      numbers: () => ascending(sys.numbers(fd)),
      readlink: (name) => readlinkIn(fd, name),
      readFile: (name, small = false) => readFileIn(fd, name, small),
      links: (fds, filter, pidDir) =>
        sys.fdLinks && dirFds.has(pidDir) ? linksAtOnce(fd, dirFds.get(pidDir)!, fds, filter) : linksOneByOne(dir, fds, filter, pidDir),
      pathFdinfo(name) {
        const target = checked(sys.openat(fd, name, O_PATH | O_CLOEXEC));
        try {
          return readFileIn(AT_FDCWD, `/proc/self/fdinfo/${target}`, true);
        } finally {
          sys.close(target);
        }
      },
      dir: (name) => dirAt(fd, name),
      keep() {
        keptOpen.add(fd);
        return dir;
      },
      close: () => {
        keptOpen.delete(fd);
        if (open) sys.close(fd);
        open = false;
      },
    };
    dirFds.set(dir, fd);
    return dir;
  };
  const reader: ProcReader = {
    openKept: (path) => kept(checked(sys.openat(AT_FDCWD, path, O_RDONLY_CLOEXEC))),
    readKept: (fd) => sharedView(checked(sys.pread(fd, shared))),
    closeKept: (fd) => {
      keptOpen.delete(fd);
      sys.close(fd);
    },
    reread(fdDir, pidDir, fds, infoFds, statFd) {
      const fdDirFd = dirFds.get(fdDir);
      const pidDirFd = dirFds.get(pidDir);
      if (!sys.reread || fdDirFd === undefined || pidDirFd === undefined) return rereadOneByOne(reader, fdDir, pidDir, fds, infoFds, statFd);
      let n: number;
      while ((n = sys.reread(fdDirFd, pidDirFd, fds, infoFds, fds.length, statFd, shared)) === ENOBUFS) grow(0);
      return sharedView(checked(n));
    },
    openDir: (path) => dirAt(AT_FDCWD, path),
    listNumbers(path) {
      const d = dirAt(AT_FDCWD, path);
      try {
        return d.numbers();
      } finally {
        d.close();
      }
    },
    readlink: (path) => readlinkIn(AT_FDCWD, path),
    readFile: (path, small = false) => readFileIn(AT_FDCWD, path, small),
  };
  return reader;
}

const readers = new Map<string, ProcReader | null>();

/** The reader through the addon, through koffi or through node:fs; null where it cannot load here. */
export function readerOf(kind: 'addon' | 'koffi' | 'node'): ProcReader | null {
  let reader = readers.get(kind);
  if (reader === undefined) {
    try {
      const addon = kind === 'addon' ? procfsAddon() : null;
      const sys = kind === 'node' ? null : addon ? addonSyscalls(addon) : kind === 'koffi' ? koffiSyscalls() : null;
      reader = kind === 'node' ? nodeReader : sys && libcReader(sys);
    } catch {
      reader = null;
    }
    readers.set(kind, reader);
  }
  return reader;
}

let chosen: ProcReader | undefined;

/** The fastest reader available here: the addon's, else koffi's libc calls, else node:fs. */
export function procReader(): ProcReader {
  // FUSELENS_PROCFS=node forces node:fs, =koffi koffi (procfs-addon.ts): to compare, or to rule the others out when debugging.
  return (chosen ??= (process.env.FUSELENS_PROCFS !== 'node' && (readerOf('addon') ?? readerOf('koffi'))) || nodeReader);
}

export { nodeReader };
