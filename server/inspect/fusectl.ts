// fusectl: /sys/fs/fuse/connections/<N>/{waiting,max_background,congestion_threshold,abort}
// (fs/fuse/control.c). Reading these never sends a request to the daemon.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ConnectionStats, MountInfoEntry } from './types';

export function fusectlDir(sysRoot: string): string {
  return join(sysRoot, 'fs', 'fuse', 'connections');
}

/** An error from the kernel or from validation, with the errno name kept. */
export class ConnectionControlError extends Error {
  constructor(
    message: string,
    /** `EACCES`, `EPERM`, `ENOENT`, `EINVAL`, ... */
    readonly code: string,
  ) {
    super(message);
    this.name = 'ConnectionControlError';
  }
}

export interface FusectlState {
  mounted: boolean;
  /** Why the statistics are missing, when they are. */
  reason?: string;
  /** Set when this call mounted fusectl itself. */
  mountedNow?: boolean;
}

/**
 * Whether fusectl is mounted at `<sys>/fs/fuse/connections` (per mountinfo);
 * if not and `mayMount`, mounts it (root only), as scripts/setup.sh does.
 */
export function ensureFusectl(sysRoot: string, mounts: MountInfoEntry[], mayMount: boolean): FusectlState {
  const dir = fusectlDir(sysRoot);
  if (mounts.some((m) => m.fstype === 'fusectl')) return { mounted: true };
  if (!existsSync(dir))
    return { mounted: false, reason: `${dir} does not exist (is the fuse module loaded?), so waiting/max_background/congestion_threshold are unknown` };
  if (mayMount) {
    // Loaded only here: child_process brings net, dgram and the streams with it, a few ms of
    // every `fuselens inspect` start-up that finds fusectl mounted.
    const { spawnSync } = createRequire(__filename)('node:child_process') as typeof import('node:child_process');
    const r = spawnSync('mount', ['-t', 'fusectl', 'none', dir], { encoding: 'utf8', timeout: 5000 });
    if (r.status === 0) return { mounted: true, mountedNow: true };
    return {
      mounted: false,
      reason: `fusectl is not mounted at ${dir} and mounting it failed: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}`,
    };
  }
  // A fixture tree, or a caller that may not mount: use whatever is there.
  if (readdirSafe(dir).length > 0) return { mounted: true };
  return {
    mounted: false,
    reason: `fusectl is not mounted at ${dir}; as root: mount -t fusectl none ${dir}`,
  };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readNumber(path: string): number {
  const text = readFileSync(path, 'utf8').trim();
  if (!/^\d+$/.test(text)) throw Object.assign(new Error(`${path}: not a number: ${JSON.stringify(text)}`), { code: 'EINVAL' });
  return Number(text);
}

/** The three numbers of connection N, or null with the reason. */
export function readConnectionStats(
  connection: number,
  sysRoot: string,
): { stats: ConnectionStats; reason?: undefined } | { stats: null; reason: string } {
  const dir = join(fusectlDir(sysRoot), String(connection));
  try {
    return {
      stats: {
        waiting: readNumber(join(dir, 'waiting')),
        maxBackground: readNumber(join(dir, 'max_background')),
        congestionThreshold: readNumber(join(dir, 'congestion_threshold')),
      },
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    if (code === 'ENOENT')
      return { stats: null, reason: `${dir} does not exist (connection not in this fusectl: another namespace, or already gone)` };
    if (code === 'EACCES' || code === 'EPERM')
      return { stats: null, reason: `reading ${dir}: ${code} (fusectl files are readable by root only)` };
    return { stats: null, reason: `reading ${dir}: ${(err as Error).message}` };
  }
}

export type ConnectionLimit = 'max_background' | 'congestion_threshold';

function writeControl(path: string, text: string, what: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied: fusectl files are writable by root only'
        : code === 'ENOENT'
          ? 'no such connection (unmounted, or fusectl not mounted)'
          : code === 'EINVAL'
            ? 'the kernel refused the value'
            : (err as Error).message;
    throw new ConnectionControlError(`cannot ${what} (${path}): ${code}: ${why}`, code);
  }
}

/** Writes a new limit (fuse_conn_max_background_write / fuse_conn_congestion_threshold_write). */
export function setConnectionLimit(connection: number, limit: ConnectionLimit, value: number, sysRoot = '/sys'): void {
  if (limit !== 'max_background' && limit !== 'congestion_threshold')
    throw new ConnectionControlError(`unknown limit ${String(limit)}: use max_background or congestion_threshold`, 'EINVAL');
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff)
    throw new ConnectionControlError(`${limit} must be a whole number from 1 up, got ${value}`, 'EINVAL');
  writeControl(join(fusectlDir(sysRoot), String(connection), limit), `${value}\n`, `set ${limit} of connection ${connection} to ${value}`);
}

/**
 * Aborts connection N (fuse_conn_abort_write → fuse_abort_conn): every pending and
 * future request fails with ECONNABORTED/ENOTCONN until the mount is unmounted.
 */
export function abortConnection(connection: number, sysRoot = '/sys'): void {
  writeControl(join(fusectlDir(sysRoot), String(connection), 'abort'), '1\n', `abort connection ${connection}`);
}
