// The words of the scenario language the editor offers beyond its statements
// (server/scenario/syntax.ts): outcomes and flags (server/model/flags.ts).

import { INIT_BEHAVIOURS, INIT_FLAGS, OPEN_FLAGS, type FlagInfo } from '../model/flags';
import { atLeast, parseKernelVersion } from '../model/kernel-version';

/** Outcomes a step can state: ok, blocks, and the errno names the rules produce. */
export const OUTCOMES: ReadonlyArray<{ name: string; doc: string }> = [
  { name: 'ok', doc: 'The step succeeds.' },
  { name: 'blocks', doc: 'The step waits in the kernel (e.g. behind parallel direct-io writes).' },
  { name: 'EIO', doc: 'open() refused in the requested io mode (every io-mode error of open becomes EIO).' },
  { name: 'ENODEV', doc: 'mmap refused (shared map of a direct-io file, or any map on a passthrough inode).' },
  { name: 'EINVAL', doc: 'Invalid argument (e.g. a backing id of 0 or below).' },
  { name: 'EBUSY', doc: 'The inode is bound to another backing object.' },
  { name: 'EPERM', doc: 'Backing ioctls without passthrough negotiated.' },
  { name: 'ENOENT', doc: 'Unknown backing id.' },
  { name: 'ETXTBSY', doc: 'The inode is in the opposite io mode (returned as is by mmap).' },
  { name: 'EACCES', doc: 'Permission denied.' },
  { name: 'EBADF', doc: 'The descriptor is not open for this access.' },
  { name: 'ELOOP', doc: 'The backing file is stacked too deep for max_stack_depth.' },
  { name: 'ENOSYS', doc: 'Not implemented.' },
  { name: 'EEXIST', doc: 'An exclusive create (O_CREAT with O_EXCL) of a name that exists.' },
  { name: 'EOPNOTSUPP', doc: 'The kernel has no passthrough support.' },
];

/** Whether a kernel version (`6.9`) knows a flag; unknown versions know everything. */
export function kernelKnows(flag: FlagInfo, kernel: string | undefined): boolean {
  if (!flag.since || !kernel) return true;
  const v = parseKernelVersion(kernel);
  return !v || atLeast(v, flag.since);
}

export function replyFlags(): readonly FlagInfo[] {
  return OPEN_FLAGS;
}

export function initFlags(): readonly FlagInfo[] {
  return [...INIT_FLAGS, ...INIT_BEHAVIOURS];
}
