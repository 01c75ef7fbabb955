// A mount's health at a glance, for its tree icon and the status bar: from
// what listMounts says now and what it said at the previous refresh. No I/O
// and no vscode: the decision is tested on its own (test/editor/mount-health.test.ts).

import type { Mount } from '../protocol/messages';

export type Health = { level: 'ok' | 'warning' | 'error'; why: string };

/**
 * `error`: no process serves the connection (a stale lab mount, or no /dev/fuse holder), or
 * its daemon is stopped (state T/t in /proc/PID/stat: SIGSTOP, a debugger).
 * `warning`: the daemon is in uninterruptible sleep (D).
 * `warning`: requests are piling up — `waiting` (fusectl) grew since the last refresh, or
 * reached congestion_threshold (the kernel then counts the connection as congested).
 */
export function mountHealth(now: Mount, before: Mount | undefined): Health {
  if (now.stale) return { level: 'error', why: 'no process serves this mount (its server is gone)' };
  if (!now.daemon) return { level: 'warning', why: now.daemonNote ?? 'no process is known to serve this mount' };
  const state = now.daemon.state;
  if (state === 'T' || state === 't') return { level: 'error', why: `the daemon ${now.daemon.comm} (${now.daemon.pid}) is stopped: every request to this mount waits` };
  if (state === 'D') return { level: 'warning', why: `the daemon ${now.daemon.comm} (${now.daemon.pid}) is in uninterruptible sleep (state D)` };
  const s = now.connectionStats;
  if (s) {
    const was = before?.connectionStats?.waiting;
    if (was !== undefined && s.waiting > was) return { level: 'warning', why: `requests waiting grew from ${was} to ${s.waiting}` };
    if (s.congestionThreshold > 0 && s.waiting >= s.congestionThreshold) {
      return { level: 'warning', why: `${s.waiting} requests waiting, at or above congestion_threshold ${s.congestionThreshold}` };
    }
  }
  return { level: 'ok', why: s ? `${s.waiting} requests waiting` : 'served' };
}

/**
 * Each mount's health against the listing before it, kept once for whoever lists: the
 * tree while it is visible, the status bar while it is not.
 */
export class MountHealthHistory {
  private previous = new Map<number, Mount>();

  rate(mounts: Mount[]): Map<number, Health> {
    const health = new Map(mounts.map((m) => [m.mountId, mountHealth(m, this.previous.get(m.mountId))]));
    this.previous = new Map(mounts.map((m) => [m.mountId, m]));
    return health;
  }
}

/** The worst of several, with the mount it is about; null for no mounts. */
export function worstHealth(mounts: { mount: Mount; health: Health }[]): { mount: Mount; health: Health } | null {
  const rank = { ok: 0, warning: 1, error: 2 } as const;
  let worst: { mount: Mount; health: Health } | null = null;
  for (const m of mounts) if (!worst || rank[m.health.level] > rank[worst.health.level]) worst = m;
  return worst;
}
