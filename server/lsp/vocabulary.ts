// The words of the scenario language the editor offers and colours
// (scenario-language.md "Statements"). Flags come from server/model/flags.ts.

import { INIT_BEHAVIOURS, INIT_FLAGS, OPEN_FLAGS, type FlagInfo } from '../model/flags';
import { atLeast, parseKernelVersion } from '../model/kernel-version';

/** Keywords that start a statement, with the shape shown in completion. */
export const STATEMENTS: ReadonlyArray<{ keyword: string; snippet: string; doc: string; step: boolean }> = [
  { keyword: 'scenario', snippet: 'scenario "${1:title}"', doc: 'The scenario\'s title (optional, once).', step: false },
  { keyword: 'kernel', snippet: 'kernel ${1|6.18,6.12,6.9,6.6,6.1,7.3|}', doc: 'The kernel version whose rules apply.', step: false },
  { keyword: 'init', snippet: 'init passthrough max_stack_depth=${1:1}', doc: 'What the server answers to FUSE_INIT.', step: false },
  { keyword: 'file', snippet: 'file ${1:data.db}', doc: 'A regular file (an inode) of the mount.', step: false },
  { keyword: 'process', snippet: 'process ${1:p1}', doc: 'A process (`main` exists without being declared).', step: false },
  { keyword: 'backing', snippet: 'backing ${1:b1} "${2:/srv/data.db}"', doc: 'FUSE_DEV_IOC_BACKING_OPEN: register a backing file; the name stands for the id.', step: false },
  { keyword: 'open', snippet: 'open ${1:file} as ${2:f1} ${3|rdonly,wronly,rdwr|} reply ${4:passthrough} backing=${5:b1}', doc: 'open(2) of a file of the mount; `reply` lists the FOPEN flags the server answers.', step: true },
  { keyword: 'close', snippet: 'close ${1:f1}', doc: 'close(2) of this process\'s descriptor.', step: true },
  { keyword: 'dup', snippet: 'dup ${1:f1} as ${2:f2}', doc: 'dup(2): a second descriptor of the same open file.', step: true },
  { keyword: 'mmap', snippet: 'mmap ${1:f1} ${2|shared,private|} as ${3:m1}', doc: 'mmap(2) of an open file.', step: true },
  { keyword: 'munmap', snippet: 'munmap ${1:m1}', doc: 'munmap(2) of a mapping.', step: true },
  { keyword: 'fork', snippet: 'fork as ${1:child}', doc: 'fork(2): the child gets copies of all descriptors and mappings.', step: true },
  { keyword: 'exit', snippet: 'exit', doc: 'The process exits: all its descriptors and mappings are dropped.', step: true },
  { keyword: 'read', snippet: 'read ${1:f1}', doc: 'read(2) through a descriptor.', step: true },
  { keyword: 'write', snippet: 'write ${1:f1}', doc: 'write(2) through a descriptor (`write F begin as W` keeps a direct-io write in flight).', step: true },
  { keyword: 'expect', snippet: 'expect ${1:file} ${2|idle,caching,uncached,passthrough|}', doc: 'Assert an inode\'s state here.', step: false },
];

/** Every word that is a keyword somewhere in a statement. */
export const KEYWORDS = new Set([
  ...STATEMENTS.map((s) => s.keyword),
  'as', 'rdonly', 'wronly', 'rdwr', 'o_direct', 'reply', 'shared', 'private', 'begin', 'end', 'close',
]);

export const ACCESS_MODES = ['rdonly', 'wronly', 'rdwr'] as const;
/** The names and modes the parser accepts. */
export { EXPECTED_MODES as EXPECT_MODES, NAME_PATTERN } from '../scenario/parse';

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
