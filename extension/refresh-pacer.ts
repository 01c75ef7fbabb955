// How often the FUSE Mounts view refreshes while visible: at the configured
// interval, or less often when refreshing costs more than its share of a core.
// A refresh reads every process's descriptors (server/inspect): tens of
// milliseconds with a few thousand descriptors, a second or more with 100,000
// (bench/README.md); at a fixed 5 s that last case would take a fifth of a core
// for as long as the view stays open.

/** The share of one core the view's refreshes may take while it is visible. */
export const REFRESH_CPU_SHARE = 0.01;

/** The longest wait between two refreshes the pacer asks for (a longer configured interval is kept). */
export const MAX_REFRESH_WAIT_MS = 10 * 60_000;

/**
 * The wait from one refresh to the next: the configured interval, stretched so that a
 * refresh costing `costMs` takes at most `share` of a core (cost / wait <= share).
 */
export function refreshWait(costMs: number, intervalMs: number, share = REFRESH_CPU_SHARE): number {
  return Math.max(intervalMs, Math.min(costMs / share, MAX_REFRESH_WAIT_MS));
}

/**
 * Counts what each refresh costs and says when the next may start. The cost is the CPU
 * time the server reports for its answers (protocol/messages.ts `cpuMs`: the scan, on
 * every thread). Not the time the view waited: on a loaded machine that is mostly
 * waiting for a CPU, and pacing by it stretched a 100 ms scan's refresh to a minute.
 */
export class RefreshPacer {
  private spentMs = 0;

  /** One request of the refresh under way took `ms`. */
  spent(ms: number): void {
    this.spentMs += ms;
  }

  /** A refresh starts now: the wait before the next one, from what the last one cost. */
  next(intervalMs: number): number {
    const cost = this.spentMs;
    this.spentMs = 0;
    return refreshWait(cost, intervalMs);
  }
}
