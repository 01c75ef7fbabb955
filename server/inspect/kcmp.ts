// kcmp(2) with KCMP_FILE: whether two descriptors (in one process or two)
// refer to the same open file description (struct file). /proc shows no such
// link; kcmp is the kernel's own answer (needs ptrace access to both pids).
// Loaded through koffi lazily, so a front without koffi still works (no
// sharing information then).

import { createRequire } from 'node:module';

const KCMP_FILE = 0;
const SYS_KCMP: Record<string, number> = { x64: 312, arm64: 272 };

type Kcmp = (pid1: number, pid2: number, fd1: number, fd2: number) => number;
let cached: Kcmp | null | undefined;

function load(): Kcmp | null {
  if (cached !== undefined) return cached;
  cached = null;
  const nr = SYS_KCMP[process.arch];
  if (nr === undefined) return null;
  try {
    const koffi = createRequire(__filename)('koffi') as typeof import('koffi');
    const libc = koffi.load('libc.so.6');
    const syscall = libc.func('long syscall(long nr, int pid1, int pid2, int type, unsigned long idx1, unsigned long idx2)');
    cached = (pid1, pid2, fd1, fd2) => Number(syscall(nr, pid1, pid2, KCMP_FILE, fd1, fd2));
  } catch {
    cached = null;
  }
  return cached;
}

/** true/false when the kernel answered; undefined when kcmp is unavailable or refused (EPERM, ESRCH, EBADF). */
export function sameOpenFile(pid1: number, fd1: number, pid2: number, fd2: number): boolean | undefined {
  const kcmp = load();
  if (!kcmp) return undefined;
  const r = kcmp(pid1, pid2, fd1, fd2);
  if (r < 0) return undefined;
  return r === 0;
}
