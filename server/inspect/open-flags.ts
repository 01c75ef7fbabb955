// Names of the bits of the octal `flags:` line of /proc/PID/fdinfo/FD
// (file->f_flags, plus O_CLOEXEC when the descriptor has close-on-exec).
// Values from include/uapi/asm-generic/fcntl.h; arm64 overrides four of them
// (arch/arm64/include/uapi/asm/fcntl.h).

const GENERIC: [number, string][] = [
  [0o100, 'O_CREAT'],
  [0o200, 'O_EXCL'],
  [0o400, 'O_NOCTTY'],
  [0o1000, 'O_TRUNC'],
  [0o2000, 'O_APPEND'],
  [0o4000, 'O_NONBLOCK'],
  [0o20000, 'O_ASYNC'],
  [0o40000, 'O_DIRECT'],
  [0o100000, 'O_LARGEFILE'],
  [0o200000, 'O_DIRECTORY'],
  [0o400000, 'O_NOFOLLOW'],
  [0o1000000, 'O_NOATIME'],
  [0o2000000, 'O_CLOEXEC'],
  [0o10000000, 'O_PATH'],
  [0o20000000, 'O_TMPFILE'],
];

const ARM64_OVERRIDES: Record<string, number> = {
  O_DIRECTORY: 0o40000,
  O_NOFOLLOW: 0o100000,
  O_DIRECT: 0o200000,
  O_LARGEFILE: 0o400000,
};

const O_DSYNC = 0o10000;
const O_SYNC_BIT = 0o4000000; // __O_SYNC; O_SYNC is __O_SYNC|O_DSYNC

function table(arch: string): [number, string][] {
  if (arch !== 'arm64') return GENERIC;
  return GENERIC.map(([bit, name]) => [ARM64_OVERRIDES[name] ?? bit, name]);
}

export const ACCESS_MODES = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_ACCMODE(3)'] as const;

/**
 * Decodes fdinfo's octal flags: access mode first, then the other bits in
 * ascending order; O_SYNC when both sync bits are set, O_DSYNC alone otherwise;
 * bits with no name are shown as octal.
 */
export function decodeOpenFlags(octal: string, arch: string = process.arch): string[] {
  let value = parseInt(octal, 8);
  if (!Number.isFinite(value)) return [];
  const names: string[] = [ACCESS_MODES[value & 3]!];
  value &= ~3;
  for (const [bit, name] of table(arch)) {
    if (value & bit) {
      names.push(name);
      value &= ~bit;
    }
    if (bit === 0o4000 && value & O_DSYNC) {
      names.push(value & O_SYNC_BIT ? 'O_SYNC' : 'O_DSYNC');
      value &= ~(O_DSYNC | O_SYNC_BIT);
    }
  }
  if (value & O_SYNC_BIT) {
    names.push('__O_SYNC');
    value &= ~O_SYNC_BIT;
  }
  if (value !== 0) names.push(`0${value.toString(8)}`);
  return names;
}
