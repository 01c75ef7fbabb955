// Kernel versions the model knows, and the version gates of the rules
// (fuse-kernel-rules.md section 4). A `kernel 6.12` line means the mainline
// release 6.12; `kernel 6.12.70` a stable release of that series, which
// matters only where a change was backported (`stable` of a gate).

export interface KernelVersion {
  major: number;
  minor: number;
  /** The stable release (`70` of 6.12.70); absent for the mainline release itself. */
  sublevel?: number;
}

/** The mainline releases the model covers, oldest first (fs/fuse read at 6.1, 6.12, 6.18 and 7.3; see the docs). */
export const MODELLED_KERNELS = [
  '6.1', '6.2', '6.3', '6.4', '6.5', '6.6', '6.7', '6.8', '6.9', '6.10', '6.11', '6.12', '6.13', '6.14', '6.15',
  '6.16', '6.17', '6.18', '6.19', '7.0', '7.1', '7.2', '7.3',
] as const;
export const NEWEST_KERNEL = '7.3';
export const OLDEST_KERNEL = '6.1';

export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), ...(m[3] !== undefined && { sublevel: Number(m[3]) }) };
}

/** The version of a kernel release string (`uname -r`, os.release()): `6.18.44` of `6.18.44-fc-v657`. */
export function kernelVersionOfRelease(release: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  return m ? parseKernelVersion(m.slice(1).filter((x) => x !== undefined).join('.')) : undefined;
}

export function formatKernelVersion(v: KernelVersion): string {
  return v.sublevel === undefined ? seriesOf(v) : `${v.major}.${v.minor}.${v.sublevel}`;
}

/** The mainline release a version belongs to: `6.12` of 6.12.70. */
export function seriesOf(v: KernelVersion): string {
  return `${v.major}.${v.minor}`;
}

/** The versions atLeast was asked about (a few constants of the flag and gate tables), parsed once: a scenario compares one per reply flag. */
const parsedBounds = new Map<string, KernelVersion>();

/** a >= b, as mainline releases (the sublevel does not count: see `hasChange` for backports). */

export function atLeast(a: KernelVersion, b: string): boolean {
  let v = parsedBounds.get(b);
  if (!v) parsedBounds.set(b, (v = parseKernelVersion(b)!));
  return a.major !== v.major ? a.major > v.major : a.minor >= v.minor;
}

/** Whether a version belongs to a mainline release the model covers (any sublevel of it). */
export function isModelled(v: KernelVersion): boolean {
  return (MODELLED_KERNELS as readonly string[]).includes(seriesOf(v));
}

/** A change of the kernel that a rule depends on. */
export interface VersionGate {
  /** What changes, as a clause after "from this version on". */
  summary: string;
  /** The mainline commit (12 hex digits), or null where the sources read do not name it. */
  commit: string | null;
  /** The first mainline release with the change. */
  mainline: string;
  /**
   * Stable series that took the change, with the first stable release that has it
   * (null: taken, but the sublevel could not be established from the sources).
   * A series not listed never took it (docs/fuse-kernel-rules.md section 4).
   */
  stable: Readonly<Record<string, number | null>>;
}

/**
 * The gates, one per behaviour switch. Sources: the stable review series on
 * stable@vger.kernel.org (6.6.8-rc1 of 2023-12-18, 6.18.3-rc1 of 2025-12-29,
 * 6.12.64-rc1 of 2026-01-06 carry the patches named here); the 6.10.y/6.11.y
 * reviews of 2f3d8ff45798 were found without their sublevel.
 */
export const KERNEL_GATES = {
  directIoAllowMmap: {
    summary: 'FUSE_DIRECT_IO_ALLOW_MMAP (born FUSE_DIRECT_IO_RELAX) allows MAP_SHARED of direct-io files',
    commit: 'e78662e818f9', mainline: '6.6', stable: {},
  },
  allowMmapForcesExclusiveDio: {
    summary: 'with direct_io_allow_mmap negotiated every direct-io write takes the inode lock exclusively',
    commit: '3f29f1c336c0', mainline: '6.7', stable: { '6.6': 8 },
  },
  ioModes: {
    summary: 'per-inode io modes (fs/fuse/iomode.c), passthrough, and parallel direct writes again with allow_mmap (205c1d802683)',
    commit: 'cb098dd24bab', mainline: '6.9', stable: {},
  },
  cacheBitForcesExclusiveDio: {
    summary: 'a set FUSE_I_CACHE_IO_MODE makes new direct-io writes take the exclusive lock, so a waiting cached open is not starved',
    commit: '2f3d8ff45798', mainline: '6.12', stable: { '6.10': null, '6.11': null },
  },
  noOpenFilesTakeCachedMode: {
    summary: 'files of a no_open server are ordinary cached opens ("fuse: fix readahead reclaim deadlock")',
    commit: 'bd5603eaae0a', mainline: '6.19', stable: { '6.12': 64, '6.18': 3 },
  },
  ioUringZeroCopy: {
    summary: 'FOPEN_IO_URING_ZERO_COPY and FUSE_HAS_IO_URING_BUFPOOL exist (FUSE protocol 7.46)',
    commit: null, mainline: '7.3', stable: {},
  },
} as const satisfies Record<string, VersionGate>;

export type GateName = keyof typeof KERNEL_GATES;

/**
 * Whether a kernel has a change: every mainline release from the gate's on,
 * and stable releases of a series that took it from the first that has it.
 * `undefined` when the version names a sublevel of such a series and the
 * sublevel of the backport is unknown.
 */
export function hasChange(v: KernelVersion, gate: VersionGate): boolean | undefined {
  if (atLeast(v, gate.mainline)) return true;
  const series = seriesOf(v);
  if (v.sublevel === undefined || !(series in gate.stable)) return false;
  const first = gate.stable[series];
  return first === null || first === undefined ? undefined : v.sublevel >= first;
}

/** The gates whose answer a version leaves open (a sublevel of a series whose backport sublevel is unknown). */
export function unknownGates(v: KernelVersion): GateName[] {
  return (Object.keys(KERNEL_GATES) as GateName[]).filter((name) => hasChange(v, KERNEL_GATES[name]) === undefined);
}

/** The behaviour switches that differ between kernel versions; each is its gate in KERNEL_GATES. */
export interface KernelFeatures {
  ioModes: boolean;
  directIoAllowMmap: boolean;
  /** The 6.7 fix before io modes: allow_mmap makes every direct-io write exclusive (6.7–6.8, 6.6.8+). */
  allowMmapForcesExclusiveDio: boolean;
  /** 6.9 up to the fix (6.12): fuse_dio_wr_exclusive_lock ignored FUSE_I_CACHE_IO_MODE. */
  parallelWritesIgnoreCacheBit: boolean;
  /** Before it, files of a no_open server had no io mode at all. */
  noOpenFilesTakeCachedMode: boolean;
  /** FOPEN_IO_URING_ZERO_COPY exists (and is outside the passthrough mask). */
  ioUringZeroCopy: boolean;
}

/** The features of a version; a gate left open by an unknown backport sublevel counts as absent (unknownGates says which). */
export function kernelFeatures(v: KernelVersion): KernelFeatures {
  const has = (name: GateName) => hasChange(v, KERNEL_GATES[name]) === true;
  const ioModes = has('ioModes');
  return {
    ioModes,
    directIoAllowMmap: has('directIoAllowMmap'),
    allowMmapForcesExclusiveDio: has('allowMmapForcesExclusiveDio') && !ioModes,
    parallelWritesIgnoreCacheBit: ioModes && !has('cacheBitForcesExclusiveDio'),
    noOpenFilesTakeCachedMode: has('noOpenFilesTakeCachedMode'),
    ioUringZeroCopy: has('ioUringZeroCopy'),
  };
}

/** Whether two versions (`6.18`, `6.18.44`) get the same rules from the model. */
export function sameRules(a: string, b: string): boolean {
  const [va, vb] = [parseKernelVersion(a), parseKernelVersion(b)];
  if (!va || !vb) return a === b;
  const [fa, fb] = [kernelFeatures(va), kernelFeatures(vb)];
  return (Object.keys(fa) as (keyof KernelFeatures)[]).every((k) => fa[k] === fb[k]);
}
