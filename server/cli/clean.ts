// `fuselens clean [--json]`: removes what killed FUSE Lens commands left on
// this machine (docs/cleanup.md) and says what it removed: lab mounts no
// process serves and their temp dirs (a `fuselens run` killed together with
// its guardian), `fuselens-run-*` dirs no guardian holds, the temp dirs of
// killed trackings, tracefs instances of dead captures, and straces of ours
// orphaned on a daemon. A user's mount
// is never touched: only fstype fuse.fuselens-lab, only with no daemon.
// `fuselens run` cleans the lab's leftovers (cleanLabLeftovers) on start.

import { jsonText, termText } from './terminal-text';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_MOUNT } from '../lab/agent-source';
import { listMounts, parseMountInfo } from '../inspect';
import { detachMount, detachRunStack, removeRunDir, runDirOf, unguardedRunDirs } from '../lab/guardian';
import { orphanStraces, removeStaleInstances, stopOrphanStraces } from '../trace/capture';
import { removeStaleTrackingDirs } from '../trace/track';
import { parseOptions, UsageError, type Command } from './command';

export interface Removed {
  kind: 'lab-mount' | 'temp-dir' | 'tracefs-instance' | 'strace';
  /** The mountpoint, dir or instance path; the strace's pid. */
  what: string;
  detail: string;
}

/** Stale lab mounts (detached, their run dirs removed) and unguarded run dirs. */
export function cleanLabLeftovers(): Removed[] {
  const removed: Removed[] = [];
  for (const m of listMounts().mounts) {
    if (!m.stale) continue;
    const err = detachMount(m.mountpoint);
    if (err !== null) continue;
    removed.push({ kind: 'lab-mount', what: m.mountpoint, detail: `connection ${m.connection}, no daemon` });
  }
  const dirs = new Set(unguardedRunDirs());
  for (const m of removed) {
    const dir = runDirOf(m.what);
    if (dir !== null) dirs.add(dir);
  }
  if (dirs.size === 0) return removed;
  const mounted = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).entries;
  for (const dir of dirs) {
    if (detachRunStack(dir, mounted)) removed.push({ kind: 'lab-mount', what: join(dir, STACK_MOUNT), detail: 'overlayfs of a stacked backing file, its run gone' });
  }
  // Read after the detaches; every mount, not only FUSE ones.
  const points = parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8')).entries.map((e) => e.mountpoint);
  for (const dir of dirs) if (removeRunDir(dir, points)) removed.push({ kind: 'temp-dir', what: dir, detail: 'no guardian holds it' });
  return removed;
}

/** Everything of ours left behind. */
export async function cleanAll(): Promise<Removed[]> {
  const removed = cleanLabLeftovers();
  for (const dir of removeStaleTrackingDirs()) removed.push({ kind: 'temp-dir', what: dir, detail: 'its tracking was killed' });
  for (const path of removeStaleInstances()) removed.push({ kind: 'tracefs-instance', what: path, detail: 'its capture is gone' });
  for (const o of await stopOrphanStraces(orphanStraces()))
    removed.push({ kind: 'strace', what: String(o.pid), detail: `detached from pid ${o.tracee}` });
  return removed;
}

/** One line of terminal text (paths escaped: termText). */
export function removedText(removed: Removed): string {
  const r = { ...removed, what: termText(removed.what), detail: termText(removed.detail) };
  switch (r.kind) {
    case 'lab-mount':
      return `detached the stale lab mount ${r.what} (${r.detail})`;
    case 'temp-dir':
      return `removed the temp dir ${r.what} (${r.detail})`;
    case 'tracefs-instance':
      return `removed the tracefs instance ${r.what} (${r.detail})`;
    case 'strace':
      return `stopped the orphan strace ${r.what} (${r.detail})`;
  }
}

export const cleanCommand: Command = {
  name: 'clean',
  summary: 'remove what killed fuselens commands left: stale lab mounts, temp dirs, tracefs instances, straces',
  usage: 'fuselens clean [--json]',
  async run(args, io) {
    const { flags, operands } = parseOptions(args, { flags: ['--json'] });
    if (operands.length > 0) throw new UsageError(`unexpected ${operands.join(' ')}`);
    const removed = await cleanAll();
    if (flags.has('--json')) io.stdout(jsonText(removed) + '\n');
    else io.stdout(removed.length === 0 ? 'nothing to clean\n' : removed.map((r) => removedText(r) + '\n').join(''));
    return 0;
  },
};
