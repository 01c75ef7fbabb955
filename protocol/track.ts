// Live tracking of a mount's io modes (`fuselens track --json`, fuselens/startTracking
// and the trackingUpdate notification) and the provenance every inode's mode is shown
// with, in the tree and in `fuselens inspect --trace`: what proves the mode, or why it
// is unknown. server/trace/provenance.ts makes these; the fronts only render them.

import type { InodeMode } from './io-mode';
import type { U64 } from './u64';

/**
 * How the mode is known. `proven`: the OPEN/CREATE replies the trace saw, replayed through
 * the model, account for every file of the inode. `inferred`: files opened before the trace
 * are still held, and a later open (or its refusal) proves the mode by the kernel's rules.
 * `unknown`: the evidence proves no mode.
 */
export type ModeBasis = 'proven' | 'inferred' | 'unknown';

export type MatchedBy = 'ino' | 'name' | 'opener';

export interface ModeProvenance {
  mode: InodeMode | 'unknown';
  basis: ModeBasis;
  /** One line: `passthrough · backing 3 (/src/a) · since OPEN at 12:03:01 by cat (9045)`. */
  text: string;
  /** The reasoning, a sentence each (the tooltip). */
  reasons: string[];
  /**
   * How the trace's inode was matched to /proc's, never by node id: `ino` from a LOOKUP/CREATE
   * reply, `name` from one, `opener` when the process that sent the OPEN holds exactly one
   * descriptor on the mount no other traced inode accounts for; null when the trace has none for it.
   */
  matchedBy: MatchedBy | null;
  /** The FUSE node id of the matched trace inode, for reference only. */
  nodeid: U64 | null;
  backingId: number | null;
  backingPath: string | null;
}

/** One inode held on the mount (per /proc) with its mode's provenance. */
export interface TrackedInode {
  /** st_ino (from /proc, else from the trace's LOOKUP/CREATE reply); null for a file only the trace saw, whose ino it did not learn. */
  ino: U64 | null;
  /** A path the kernel gave for it (or the trace's name for it), or null. */
  path: string | null;
  /** Descriptors and mappings on it now, per /proc. */
  opens: number;
  mappings: number;
  provenance: ModeProvenance;
}

/** What the modes of a mount are read from: a live tracking session, or a trace file opened in the editor. */
export type ModeSource =
  | {
      kind: 'tracking';
      trackingId: string;
      mountpoint: string;
      connection: number;
      daemon: { pid: number; comm: string };
      /** ISO time tracking started. */
      since: string;
      /** Requests decoded so far. */
      requests: number;
      state: 'running' | 'stopped';
      /** Why it stopped (`stop`, `daemon exited`, an error), when stopped. */
      stoppedBy?: string;
    }
  | {
      kind: 'trace';
      path: string;
      connection: number;
      /** When the trace's capture began, in words. */
      since: string;
    };

/** A mount's modes with their provenance (fuselens/modeProvenance, and each trackingUpdate). */
export interface MountModes {
  mountpoint: string;
  source: ModeSource | null;
  inodes: TrackedInode[];
}

/** One line of `fuselens track --json`. */
export type TrackLine =
  | { type: 'start'; source: Extract<ModeSource, { kind: 'tracking' }>; inodes: TrackedInode[] }
  | { type: 'inode'; time: string; inode: TrackedInode }
  | { type: 'released'; time: string; ino: U64 | null; path: string | null }
  | { type: 'stop'; time: string; stoppedBy: string; requests: number; warnings: string[] };
