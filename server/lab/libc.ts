// The few libc calls the lab needs that node has no API for: mount(2),
// umount2(2), ioctl(2) on /dev/fuse and tgkill(2), through koffi (prebuilt FFI).
// Loaded lazily so that importing the lab on a machine without koffi's
// binary still type-checks and reports a clear error at run time.

import { constants } from 'node:os';
import type * as Koffi from 'koffi';

interface Libc {
  koffi: typeof Koffi;
  mount: (source: string, target: string, fstype: string, flags: number, data: string) => number;
  umount2: (target: string, flags: number) => number;
  ioctlPtr: (fd: number, request: number, arg: Buffer) => number;
  tgkill: (tgid: number, tid: number, sig: number) => number;
}

let libc: Libc | undefined;

function load(): Libc {
  if (libc) return libc;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const koffi = require('koffi') as typeof Koffi;
  const lib = koffi.load('libc.so.6');
  libc = {
    koffi,
    mount: lib.func('int mount(const char *src, const char *tgt, const char *fstype, unsigned long flags, const char *data)'),
    umount2: lib.func('int umount2(const char *tgt, int flags)'),
    ioctlPtr: lib.func('int ioctl(int fd, unsigned long req, void *arg)'),
    tgkill: lib.func('int tgkill(int tgid, int tid, int sig)'),
  };
  return libc;
}

const errnoNames = new Map<number, string>(Object.entries(constants.errno).map(([name, n]) => [n, name]));
/** `EIO` for 5. */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}
export function errnoNumber(name: string): number | undefined {
  return (constants.errno as Record<string, number>)[name];
}

/** An error from a libc call, keeping the errno name (EPERM, ...). */
export class SyscallError extends Error {
  constructor(
    readonly syscall: string,
    readonly errno: number,
  ) {
    super(`${syscall}: ${errnoName(errno)}`);
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MNT_DETACH = 2;

export function mount(source: string, target: string, fstype: string, flags: number, data: string): void {
  const l = load();
  if (l.mount(source, target, fstype, flags, data) !== 0) throw new SyscallError('mount', l.koffi.errno());
}

/** Returns 0 or the errno. */
export function umount2(target: string, flags: number): number {
  const l = load();
  return l.umount2(target, flags) === 0 ? 0 : l.koffi.errno();
}

/** A signal to one thread (node's process.kill signals a whole process); returns 0 or the errno. */
export function tgkill(tgid: number, tid: number, signal: number): number {
  const l = load();
  return l.tgkill(tgid, tid, signal) === 0 ? 0 : l.koffi.errno();
}

/** ioctl with a pointer argument; returns the ioctl's value or -errno. */
export function ioctl(fd: number, request: number, arg: Buffer): number {
  const l = load();
  const r = l.ioctlPtr(fd, request, arg);
  return r < 0 ? -l.koffi.errno() : r;
}
