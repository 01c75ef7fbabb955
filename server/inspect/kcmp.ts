// kcmp(2): whether two descriptors (in one process or two) refer to the same open
// file description (KCMP_FILE), and how two processes' descriptor tables, address
// spaces and fs_structs (cwd, root) order (KCMP_FILES, KCMP_VM, KCMP_FS: equal when
// shared). /proc shows no such link; kcmp is the kernel's own answer (needs ptrace
// access to both pids). Called through the procfs addon (procfs-addon.ts) where it was
// built, else through koffi, loaded lazily, so a front without either still works (no
// sharing information then).

import { createRequire } from 'node:module';
import { procfsAddon } from './procfs-addon';

const KCMP_FILE = 0;
/** What two processes may share without being threads of one process (clone(2) flags without CLONE_THREAD). */
export const KCMP_RESOURCES = { vm: 1, files: 2, fs: 3 } as const;
export type KcmpResource = keyof typeof KCMP_RESOURCES;

/** The kernel's thread creator: every kernel thread shares its descriptor table and fs_struct, none has an address space. */
export const KTHREADD = 2;

const SYS_KCMP: Record<string, number> = { x64: 312, arm64: 272 };

type Kcmp = (pid1: number, pid2: number, type: number, fd1: number, fd2: number) => number;
let cached: Kcmp | null | undefined;

function load(): Kcmp | null {
  if (cached !== undefined) return cached;
  cached = null;
  const addon = procfsAddon();
  if (addon) return (cached = addon.kcmp);
  const nr = SYS_KCMP[process.arch];
  if (nr === undefined) return null;
  try {
    const koffi = createRequire(__filename)('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const syscall = libc.func('long syscall(long nr, int pid1, int pid2, int type, unsigned long idx1, unsigned long idx2)');
    cached = (pid1, pid2, type, fd1, fd2) => Number(syscall(nr, pid1, pid2, type, fd1, fd2));
  } catch {
    cached = null;
  }
  return cached;
}

/** true/false when the kernel answered; undefined when kcmp is unavailable or refused (EPERM, ESRCH, EBADF). */
export function sameOpenFile(pid1: number, fd1: number, pid2: number, fd2: number): boolean | undefined {
  const kcmp = load();
  if (!kcmp) return undefined;
  const r = kcmp(pid1, pid2, KCMP_FILE, fd1, fd2);
  if (r < 0) return undefined;
  return r === 0;
}

/**
 * How the two processes' `resource` objects order: 0 the same object (shared), -1 / 1 a
 * total order of distinct ones (the kernel's obfuscated pointers, stable while both live);
 * undefined when kcmp is unavailable or refused.
 */
export function resourceOrder(pid1: number, pid2: number, resource: KcmpResource): -1 | 0 | 1 | undefined {
  const kcmp = load();
  if (!kcmp) return undefined;
  const r = kcmp(pid1, pid2, KCMP_RESOURCES[resource], 0, 0);
  return r === 0 ? 0 : r === 1 ? -1 : r === 2 ? 1 : undefined;
}
