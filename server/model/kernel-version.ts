// Kernel versions the model knows, and the version gates of the rules
// (fuse-kernel-rules.md section 4). A version is compared as major.minor.

export interface KernelVersion {
  major: number;
  minor: number;
}

/** The kernels whose fs/fuse sources the rules were read from, oldest first. */
export const MODELLED_KERNELS = ['6.1', '6.6', '6.9', '6.12', '6.18', '7.3'] as const;
export const NEWEST_KERNEL = '7.3';
export const OLDEST_KERNEL = '6.1';

export function parseKernelVersion(text: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)(?:\.\d+)?$/.exec(text);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** The version of a kernel release string (`uname -r`, os.release()): `6.18` of `6.18.44-fc-v657`. */
export function kernelVersionOfRelease(release: string): KernelVersion | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function formatKernelVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}`;
}

/** a >= b */
export function atLeast(a: KernelVersion, b: string): boolean {
  const v = parseKernelVersion(b)!;
  return a.major !== v.major ? a.major > v.major : a.minor >= v.minor;
}

/** Whether a version lies in the range the model covers (6.1 up to the newest modelled). */
export function isModelled(v: KernelVersion): boolean {
  return atLeast(v, OLDEST_KERNEL) && !atLeast({ major: v.major, minor: v.minor - 1 }, NEWEST_KERNEL);
}

/** The behaviour switches that differ between kernel versions. */
export interface KernelFeatures {
  /** 6.9: per-inode io modes (fs/fuse/iomode.c) and passthrough. */
  ioModes: boolean;
  /** 6.6: FUSE_DIRECT_IO_ALLOW_MMAP (born FUSE_DIRECT_IO_RELAX). */
  directIoAllowMmap: boolean;
  /**
   * 6.6–6.8 (the 6.7-cycle fix, also in 6.6.y): with direct_io_allow_mmap
   * negotiated every direct-io write takes the exclusive inode lock.
   */
  allowMmapForcesExclusiveDio: boolean;
  /**
   * 6.9–6.11: fuse_dio_wr_exclusive_lock ignored FUSE_I_CACHE_IO_MODE, so new
   * parallel writes kept entering while a cached opener waited (fixed by
   * 2f3d8ff45798 in 6.12).
   */
  parallelWritesIgnoreCacheBit: boolean;
  /**
   * bd5603eaae0a (6.19 cycle, in the 6.12.117 and 6.18.44 trees the rules were
   * read from): files of a no_open server are ordinary cached opens. Before it
   * they had no io mode at all.
   */
  noOpenFilesTakeCachedMode: boolean;
  /** 7.0: FOPEN_IO_URING_ZERO_COPY exists (and is outside the passthrough mask). */
  ioUringZeroCopy: boolean;
}

export function kernelFeatures(v: KernelVersion): KernelFeatures {
  const ioModes = atLeast(v, '6.9');
  return {
    ioModes,
    directIoAllowMmap: atLeast(v, '6.6'),
    allowMmapForcesExclusiveDio: atLeast(v, '6.6') && !ioModes,
    parallelWritesIgnoreCacheBit: ioModes && !atLeast(v, '6.12'),
    noOpenFilesTakeCachedMode: atLeast(v, '6.12'),
    ioUringZeroCopy: atLeast(v, '7.0'),
  };
}
