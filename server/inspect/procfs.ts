// The three procfs reads the scan repeats thousands of times (list a
// directory, readlink, read a small file), as cheaply as possible. Node's
// synchronous fs calls cost several microseconds each in bookkeeping; calling
// libc through koffi costs a fraction of that, which is most of the scan on a
// machine with thousands of descriptors. Without koffi (a front that does not
// ship it) the same reads go through node:fs.
//
// Results live in one shared buffer and are valid until the next call.
// Failures throw `{ code: 'ENOENT' | 'EACCES' | ... }` like node:fs errors.

import { closeSync, constants as fsConstants, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';

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
  return {
    numbers: () => numbersOf(readdirSync(path)),
    readlink: (name) => nodeReader.readlink(path + '/' + name),
    readFile: (name, small) => nodeReader.readFile(path + '/' + name, small),
    pathFdinfo(name) {
      const fd = openSync(path + '/' + name, O_PATH | O_CLOEXEC);
      try {
        return nodeReader.readFile(`/proc/self/fdinfo/${fd}`, true);
      } finally {
        closeSync(fd);
      }
    },
    dir: (name) => nodeDir(path + '/' + name),
    keep() {
      return this;
    },
    close: () => undefined,
  };
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

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
const SYS_GETDENTS64: Record<string, number> = { x64: 217, arm64: 61 };

function loadKoffiReader(): ProcReader | null {
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
  const O_RDONLY_CLOEXEC = fsConstants.O_RDONLY | O_CLOEXEC;
  const O_DIRECTORY = fsConstants.O_DIRECTORY;
  const fail = (): never => {
    const errno = koffi.errno();
    throw { code: ERRNO_NAMES.get(errno) ?? `errno ${errno}` };
  };
  const check = (fd: number): number => (fd < 0 ? fail() : fd);
  const AT_FDCWD = -100;
  const numbersIn = (fd: number): number[] => {
    const numbers: number[] = [];
    for (;;) {
      const n = Number(syscall(getdents, fd, shared, shared.length));
      if (n < 0) fail();
      if (n === 0) return ascending(numbers);
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
  };
  const readlinkIn = (dirfd: number, path: string): Buffer => {
    for (;;) {
      const n = Number(readlinkat(dirfd, path, shared, shared.length));
      if (n < 0) fail();
      if (n < shared.length) return sharedView(n);
      grow(0);
    }
  };
  const readFileIn = (dirfd: number, path: string, small: boolean): Buffer => {
    const fd = check(openat(dirfd, path, O_RDONLY_CLOEXEC) as number);
    try {
      let len = 0;
      for (;;) {
        if (len === shared.length) grow(len);
        const room = shared.length - len;
        const n = Number(read(fd, len === 0 ? shared : shared.subarray(len), room));
        if (n < 0) fail();
        len += n;
        if (n === 0 || (small && n < room)) return sharedView(len);
      }
    } finally {
      close(fd);
    }
  };
  const dirAt = (dirfd: number, path: string): ProcDir => {
    const fd = check(openat(dirfd, path, O_RDONLY_CLOEXEC | O_DIRECTORY) as number);
    let open = true;
    return {
      numbers: () => numbersIn(fd),
      readlink: (name) => readlinkIn(fd, name),
      readFile: (name, small = false) => readFileIn(fd, name, small),
      pathFdinfo(name) {
        const target = check(openat(fd, name, O_PATH | O_CLOEXEC) as number);
        try {
          return readFileIn(AT_FDCWD, `/proc/self/fdinfo/${target}`, true);
        } finally {
          close(target);
        }
      },
      dir: (name) => dirAt(fd, name),
      keep() {
        keptOpen.add(fd);
        return this;
      },
      close: () => {
        keptOpen.delete(fd);
        if (open) close(fd);
        open = false;
      },
    };
  };
  return {
    openKept: (path) => kept(check(openat(AT_FDCWD, path, O_RDONLY_CLOEXEC) as number)),
    readKept(fd) {
      const n = Number(pread(fd, shared, shared.length, 0));
      if (n < 0) fail();
      return sharedView(n);
    },
    closeKept: (fd) => {
      keptOpen.delete(fd);
      close(fd);
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
}

let chosen: ProcReader | undefined;

/** The fastest reader available here (koffi's libc calls, else node:fs). */
export function procReader(): ProcReader {
  if (!chosen) {
    try {
      // FUSELENS_PROCFS=node forces node:fs (to compare, or to rule koffi out when debugging).
      chosen = (process.env.FUSELENS_PROCFS !== 'node' && loadKoffiReader()) || nodeReader;
    } catch {
      chosen = nodeReader;
    }
  }
  return chosen;
}

export { nodeReader };
