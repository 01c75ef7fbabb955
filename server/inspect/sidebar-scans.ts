// The sidebar's refresh asks for the mount list, then for the inspection of each
// expanded mount: two whole /proc scans, each a readlink of every descriptor of every
// process (issue 14). Here the list's scan also collects what the mount inspected last
// needs, and that mount's inspection in the same refresh takes it: one scan per refresh
// with one mount expanded. Another mount, or one asked long after the list, is scanned
// afresh, so no inspection shows /proc older than SAME_REFRESH_MS.
// Each scan keeps what it read for the next (scan-cache.ts): a refresh reads whole only
// the processes that ran since the last, and of the others what another process can change.

import { inspectMount, listMounts, type MountScan } from './inspect';
import { ScanCache } from './scan-cache';
import { startScanHelper } from './scan-helper';
import type { FuseMount, Inspection } from './types';

/** The tree asks for an expanded mount's children as soon as the list is shown. */
const SAME_REFRESH_MS = 2000;

/**
 * What the cache keeps open (thousands of procfs files) is let go when no refresh came for
 * this long: the view was hidden. Longer than the longest wait the pacer asks for
 * (extension/refresh-pacer.ts MAX_REFRESH_WAIT_MS, 10 min), so a paced view keeps it.
 */
const RELEASE_AFTER_MS = 11 * 60_000;

export class SidebarScans {
  /** The mountinfo id of the last mount inspected: the one likely expanded. */
  private inspected: number | undefined;
  private last: { scan: MountScan; at: number } | undefined;
  /** Shared by the list's scans and the inspections': both look for the mount inspected last (one target, one cache). */
  readonly cache = new ScanCache();

  private release: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {
    // Refreshed every few seconds for as long as the view is visible: worth a second thread.
    startScanHelper();
  }

  /** listMounts(), also scanning for the mount inspected last. */
  list(): { mounts: FuseMount[]; warnings: string[] } {
    clearTimeout(this.release);
    this.release = setTimeout(() => this.cache.clear(), RELEASE_AFTER_MS).unref();
    const { mounts, warnings, scan } = listMounts(undefined, { alsoScanMount: this.inspected, cache: this.cache });
    this.last = scan && { scan, at: this.now() };
    return { mounts, warnings };
  }

  /** inspectMount(mountpoint), from the list's scan when that was made for this mount moments ago. */
  inspect(mountpoint: string): Inspection {
    const last = this.last;
    const fresh = last && this.now() - last.at <= SAME_REFRESH_MS ? last.scan : undefined;
    const inspection = inspectMount(mountpoint, undefined, fresh ? { scan: fresh } : { cache: this.cache });
    this.inspected = inspection.mount.mountId;
    // Taken once (inspectMount used it if it was of this mount): asked again, /proc is read again.
    if (fresh?.mountId === this.inspected) this.last = undefined;
    return inspection;
  }
}
