// What a run leaves on the system is owned by a guardian that outlives the
// runner: the agent binary in `--guard` mode (agent-source.ts), started before
// the run's temp dir exists. It makes the dir, and when the runner closes its
// stdin — done, or dead by any signal, SIGKILL included (the kernel closes the
// pipe) — it detaches `mnt/` and removes the dir. What a guardian could not
// clean (it was killed itself, or the run predates guardians) is found here:
// a `fuselens-run-*` dir no live guardian names, and a lab mount no process
// serves (clean.ts in the CLI puts the two together).

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { MNT_DETACH, umount2, errnoName } from './libc';
import { STACK_MOUNT } from './agent-source';

/** Every run's temp dir is named so, in `$TMPDIR`. */
export const RUN_DIR_PREFIX = 'fuselens-run-';

export interface Guardian {
  /** The run's temp dir (real path: mountinfo shows resolved paths). */
  dir: string;
  /** The run is over and cleaned: the guardian finds nothing left and exits. */
  release(): void;
}

/**
 * Starts the guardian of a new run and resolves with the dir it made.
 * `alsoRemove`: more dirs it removes when the runner goes (a private build dir).
 */
export async function startGuardian(binary: string, alsoRemove: string[] = []): Promise<Guardian> {
  const template = join(tmpdir(), `${RUN_DIR_PREFIX}XXXXXX`);
  // detached: its own session, so a Ctrl-C to the terminal's process group does not reach it.
  const child = spawn(binary, ['--guard', template, ...alsoRemove], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
  child.stdin!.on('error', () => undefined);
  const dir = await new Promise<string | null>((resolve) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      lines.close();
      resolve(line);
    });
    child.once('exit', () => resolve(null));
    child.once('error', () => resolve(null));
  });
  child.stdout!.destroy();
  child.unref();
  if (dir === null) throw new Error(`could not create the run's temp dir in ${tmpdir()} (the guardian exited)`);
  return { dir: fs.realpathSync(dir), release: () => child.stdin!.end() };
}

/** The dirs live guardians hold (from their command lines: mkdtemp rewrote the template in place). */
export function guardedDirs(procRoot = '/proc'): Set<string> {
  const out = new Set<string>();
  for (const pid of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(pid)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(join(procRoot, pid, 'cmdline'), 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile
    }
    if (argv[1] !== '--guard' || !basename(argv[0] ?? '').startsWith('fuselens-agent-')) continue;
    for (const d of argv.slice(2)) if (d) out.add(realOrSelf(d));
  }
  return out;
}

/** `fuselens-run-*` dirs in `tmp` that no live guardian holds: left by a guardian that was killed. */
export function unguardedRunDirs(tmp = tmpdir()): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(tmp);
  } catch {
    return [];
  }
  const guarded = guardedDirs();
  return names
    .filter((n) => n.startsWith(RUN_DIR_PREFIX))
    .map((n) => join(tmp, n))
    .filter((d) => !guarded.has(realOrSelf(d)) && isPlainDir(d));
}

function realOrSelf(path: string): string {
  try {
    return fs.realpathSync(path);
  } catch {
    return path;
  }
}

function isPlainDir(path: string): boolean {
  try {
    return fs.lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The run dir of a lab mountpoint (`…/fuselens-run-XXXXXX/mnt`), or null. */
export function runDirOf(mountpoint: string): string | null {
  return basename(mountpoint) === 'mnt' && basename(dirname(mountpoint)).startsWith(RUN_DIR_PREFIX) ? dirname(mountpoint) : null;
}

/**
 * Detaches a lab mount whose server is gone. Lazy (MNT_DETACH): its
 * connection is dead, so nothing may wait on it. Returns an errno name or null.
 */
export function detachMount(mountpoint: string): string | null {
  const err = umount2(mountpoint, MNT_DETACH);
  return err === 0 ? null : errnoName(err);
}

/**
 * Detaches the overlayfs a run mounted for `backing B stacked` in a run dir
 * nobody guards (the runner and its guardian were both killed). Only an
 * overlay at exactly that path: any other mount in the dir stays, and so
 * does the dir (removeRunDir). True when it was detached.
 */
export function detachRunStack(dir: string, mounts: readonly { mountpoint: string; fstype: string }[]): boolean {
  const at = join(dir, STACK_MOUNT);
  if (!mounts.some((m) => m.mountpoint === at && m.fstype === 'overlay')) return false;
  return umount2(at, MNT_DETACH) === 0;
}

/**
 * Removes a run dir nobody guards, unless a mount (of any type) is at it or below it: the walk
 * would go into that mount. `mountpoints`: every mountpoint of the namespace (mountinfo).
 * False when it stays.
 */
export function removeRunDir(dir: string, mountpoints: readonly string[]): boolean {
  if (mountpoints.some((p) => p === dir || p.startsWith(dir + '/'))) return false;
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
  } catch {
    return false; // not ours to remove (another user's), or busy
  }
}
