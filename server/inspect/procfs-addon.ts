// The addon built from native/procfs.c (scripts/build.mjs, `npm run build`): the /proc
// scan's system calls without koffi's ~1 µs a call, and a process's descriptors read in
// one call (procfs.ts ProcDir.links), and a refresh's reads of a process it keeps in one
// (ProcReader.reread). Optional: where it was not built (no C compiler,
// another platform than the build's), it is absent and koffi does the same reads.

import { createRequire } from 'node:module';
import { join } from 'node:path';

/** The addon's functions: each returns its result, or -errno (never throws). */
export interface ProcfsAddon {
  openat(dirfd: number, path: string, flags: number): number;
  readlinkat(dirfd: number, path: string, buf: Buffer): number;
  /** Into buf[at..]. */
  read(fd: number, buf: Buffer, at: number): number;
  /** Into buf, from the file's start. */
  pread(fd: number, buf: Buffer): number;
  close(fd: number): number;
  kcmp(pid1: number, pid2: number, type: number, idx1: number, idx2: number): number;
  /** The directory's decimal names, into out; -ENOBUFS when more than out holds. */
  numbers(fd: number, out: Int32Array): number;
  /** ProcDir.links's reads in one call, its records written to out (native/procfs.c js_fd_links). */
  fdLinks(fdDirFd: number, pidDirFd: number, fds: Int32Array, count: number, prefixes: Buffer, all: number, out: Buffer): number;
  /** ProcReader.reread in one call, its record written to out (native/procfs.c js_reread). */
  reread(fdDirFd: number, pidDirFd: number, fds: Int32Array, infoFds: Int32Array, count: number, statFd: number, out: Buffer): number;
}

let loaded: ProcfsAddon | null | undefined;

/** The addon beside the bundle (dist/procfs.node), or in dist/ beside the sources (tests and benches run from source); null without it. */
export function procfsAddon(): ProcfsAddon | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.env.FUSELENS_PROCFS) return loaded; // forced to koffi or node:fs (procfs.ts procReader)
  const load = createRequire(__filename);
  for (const file of [join(__dirname, 'procfs.node'), join(__dirname, '..', '..', 'dist', 'procfs.node')]) {
    try {
      return (loaded = load(file) as ProcfsAddon);
    } catch {
      // not built there, or for another platform
    }
  }
  return loaded;
}
