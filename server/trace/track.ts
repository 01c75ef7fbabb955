// Live tracking of a mount's io modes (`fuselens track`, the editor's Track I/O
// Modes): strace on the mount's daemon through capture.ts (the same launcher as
// `capture --daemon`, strace dying with this process), its output decoded as it
// is written and replayed through the model by TraceAnalyzer, and — every
// interval — /proc read again (server/inspect) and each held inode's mode given
// with its provenance (provenance.ts). A snapshot of what was held when
// tracking began tells files opened before it from those the trace saw.
// Stops on stop(), when the daemon exits, and at process exit (capture.ts
// detaches strace; on SIGKILL, strace dies with us and the kernel detaches).
// The capture file goes in a private temp dir `fuselens-track-PID-XXXXXX`,
// removed at the end; one left by a SIGKILL (PID dead) is removed by the next
// tracking and by `fuselens clean` (removeStaleTrackingDirs).

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ModeSource, TrackLine, TrackedInode } from '../../protocol/track';
import { toU64 } from '../../protocol/u64';
import type { InodeView } from '../../protocol/inspect';
import { inspectMount, listMounts, processGone } from '../inspect';
import { TraceAnalyzer } from './analyze';
import { CaptureError, startCapture, type Capture } from './capture';
import { heldModes, provenance, sameProvenance } from './provenance';

export type TrackingSource = Extract<ModeSource, { kind: 'tracking' }>;

export interface TrackOptions {
  mountpoint: string;
  /** How often /proc is read again and changes reported (default 500 ms). */
  intervalMs?: number;
  /** Called with the lines of each change (`inode`, `released`), after the start. */
  onChange?: (lines: TrackLine[]) => void;
  /** The strace capture file (default: a temporary file, removed at the end). */
  captureFile?: string;
}

export interface TrackStop {
  stoppedBy: string;
  requests: number;
  warnings: string[];
}

export interface TrackingSession {
  readonly source: TrackingSource;
  /** The held (and traced, still open) inodes with their provenance, as last computed. */
  inodes(): TrackedInode[];
  /** Ends tracking (idempotent): strace detaches, the daemon runs on untraced. */
  stop(): Promise<TrackStop>;
  /** Resolves when tracking ends for any reason. */
  done: Promise<TrackStop>;
}

export class TrackError extends Error {}

let sessions = 0;

export async function startTracking(options: TrackOptions): Promise<TrackingSession> {
  const mount = listMounts().mounts.find((m) => m.mountpoint === options.mountpoint);
  if (!mount) throw new TrackError(`${options.mountpoint} is not a FUSE mount (see fuselens mounts)`);
  if (!mount.daemon) throw new TrackError(`the daemon of ${mount.mountpoint} was not found${mount.daemonNote ? `: ${mount.daemonNote}` : ''}`);
  const daemon = { pid: mount.daemon.pid, comm: mount.daemon.comm };
  // Taken before strace attaches: whatever is held now was opened before the trace can see it.
  const before = holders(inspectMount(mount.mountpoint).inodes);

  // The capture's own reader hands each decoded line over (each strace line is decoded once), with each
  // requester's comm read from /proc as its first request comes: a short-lived opener (cat) is named
  // though gone by the next interval.
  const analyzer = new TraceAnalyzer();
  const own = options.captureFile === undefined;
  const file = options.captureFile ?? tempCapture();
  const removeOwn = () => {
    if (own) rmSync(dirname(file), { recursive: true, force: true });
  };
  let capture: Capture;
  try {
    capture = await startCapture({
      connection: mount.connection, output: file, daemon: daemon.pid, sink: analyzer,
    });
  } catch (err) {
    removeOwn();
    throw err instanceof CaptureError ? new TrackError(err.message) : err;
  }

  const source: TrackingSource = {
    kind: 'tracking', trackingId: `${process.pid}-${++sessions}`, mountpoint: mount.mountpoint, connection: mount.connection, daemon,
    since: new Date().toISOString(), requests: 0, state: 'running',
  };
  let current = new Map<string, TrackedInode>();
  /** OPEN/CREATE replies seen per traced inode at the last interval. */
  const opensSeen = new Map<string, number>();

  const compute = (): TrackedInode[] => {
    const report = analyzer.report('strace');
    source.requests = report.requests;
    const traced = report.inodes ?? [];
    let held: InodeView[] = [];
    try {
      held = inspectMount(mount.mountpoint).inodes;
    } catch {
      // The mount is going away; what the trace says still stands.
    }
    const modes = heldModes({
      held, connection: mount.connection, traced,
      heldFromBefore: (v) => {
        const was = before.get(String(v.ino));
        return !!was && [...keysOf(v)].some((k) => was.has(k));
      },
    });
    // Files the trace has open that /proc does not show (opened and closed between two reads of it),
    // and inodes opened since the last interval and already released: each change gets its line.
    const matched = new Set(modes.map((m) => m.traced));
    const out = modes.map((m) => m.inode);
    for (const t of traced) {
      const key = `${t.connection}/${t.nodeid}`;
      const newOpens = t.opensSeen !== (opensSeen.get(key) ?? 0);
      opensSeen.set(key, t.opensSeen);
      if (matched.has(t) || (t.openFiles === 0 && !newOpens)) continue;
      out.push({
        ino: t.ino == null ? null : (toU64(t.ino) ?? null), path: t.name, opens: 0, mappings: 0,
        provenance: provenance({ held: { opens: 0, mappings: 0 }, heldFromBefore: false, traced: { inode: t, matchedBy: null } }),
      });
    }
    return out;
  };

  const diff = (next: TrackedInode[]): TrackLine[] => {
    const time = new Date().toISOString();
    const lines: TrackLine[] = [];
    const map = new Map(next.map((i) => [keyOf(i), i]));
    for (const [k, i] of map) {
      const old = current.get(k);
      if (!old || !sameProvenance(old, i)) lines.push({ type: 'inode', time, inode: i });
    }
    for (const [k, i] of current) if (!map.has(k)) lines.push({ type: 'released', time, ino: i.ino, path: i.path });
    current = map;
    return lines;
  };

  diff(compute());
  const tick = () => {
    // /proc changes without a request too (a close of a descriptor opened before tracking), so read it every time.
    const lines = diff(compute());
    if (lines.length > 0) options.onChange?.(lines);
  };
  const timer = setInterval(tick, options.intervalMs ?? 500);

  let ending: Promise<TrackStop> | null = null;
  const end = (stoppedBy: string, run: () => Promise<{ requests: number; warnings: string[] }>): Promise<TrackStop> => {
    if (ending) return ending;
    clearInterval(timer);
    ending = run().then(
      (r) => finish(stoppedBy, r.warnings),
      (err: unknown) => finish(stoppedBy, [err instanceof Error ? err.message : String(err)]),
    );
    return ending;
  };
  const finish = (stoppedBy: string, warnings: string[]): TrackStop => {
    tick();
    removeOwn();
    source.state = 'stopped';
    source.stoppedBy = stoppedBy;
    return { stoppedBy, requests: source.requests, warnings };
  };
  // strace ends by itself when the daemon exits (or fails): the capture's done says so.
  const done = new Promise<TrackStop>((resolve) => {
    capture.done.then(
      () => resolve(end('stop', async () => ({ requests: 0, warnings: [] }))),
      (err: unknown) => resolve(end(processGone(daemon.pid) ? 'daemon exited' : `strace stopped: ${errorText(err)}`, async () => ({ requests: 0, warnings: [] }))),
    );
  });

  return {
    source,
    inodes: () => [...current.values()],
    stop: () => end('stop', () => capture.stop()),
    done,
  };
}

const TRACK_DIR = /^fuselens-track-(\d+)-/;

function tempCapture(): string {
  removeStaleTrackingDirs();
  const dir = mkdtempSync(join(tmpdir(), `fuselens-track-${process.pid}-`));
  return join(dir, `track-${sessions + 1}.strace`);
}

/** Removes the temp dirs of trackings whose process is gone (killed: no cleanup ran); returns their paths. */
export function removeStaleTrackingDirs(tmp = tmpdir()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(tmp);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = TRACK_DIR.exec(name)?.[1];
    if (pid === undefined || !processGone(Number(pid))) continue;
    rmSync(join(tmp, name), { recursive: true, force: true });
    removed.push(join(tmp, name));
  }
  return removed;
}

/** What holds each inode: `fd:PID:N` and `map:PID:START`, by ino. */
function holders(inodes: readonly InodeView[]): Map<string, Set<string>> {
  return new Map(inodes.map((v) => [String(v.ino), new Set(keysOf(v))]));
}

function* keysOf(v: InodeView): Iterable<string> {
  for (const o of v.opens) yield `fd:${o.pid}:${o.fd}`;
  for (const m of v.mappings) yield `map:${m.pid}:${m.start}`;
}

function keyOf(i: TrackedInode): string {
  return i.ino !== null ? `ino:${i.ino}` : `node:${i.provenance.nodeid}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
