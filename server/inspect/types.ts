// The inputs the readers take, and the shapes they produce: those are what
// `fuselens mounts --json` and `fuselens inspect --json` print and what the
// editor receives, so they are defined in protocol/inspect.ts. The readers
// call a mount a FuseMount and an inode an InodeReport.

export type {
  ConnectionStats, Daemon, Inspection, Mapping, OpenFile, ProcessTie, ReconstructedMode,
  Mount as FuseMount, InodeView as InodeReport,
} from '../../protocol/inspect';

/** Where the readers look. Tests point these at fixture trees. */
export interface InspectRoots {
  /** procfs, normally `/proc` (mountinfo is read from `<proc>/self/mountinfo`). */
  proc: string;
  /** sysfs, normally `/sys` (fusectl lives at `<sys>/fs/fuse/connections`). */
  sys: string;
}

export const DEFAULT_ROOTS: InspectRoots = { proc: '/proc', sys: '/sys' };

/** One line of mountinfo, parsed (proc(5)); paths unescaped. */
export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** `major:minor` of the superblock, decimal, as mountinfo prints it. */
  device: string;
  major: number;
  minor: number;
  root: string;
  mountpoint: string;
  mountOptions: string[];
  optionalFields: string[];
  fstype: string;
  source: string;
  superOptions: Record<string, string | true>;
}
