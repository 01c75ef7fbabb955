// The io modes a trace rebuilt (the report's `inodes`) in the shape the
// inspection shows beside what /proc says (server/inspect's ReconstructedMode):
// for the editor's sidebar after Open Trace, and for `fuselens inspect --trace`,
// which reads a saved `fuselens trace --json`.

import { readFileSync } from 'node:fs';
import type { ReconstructedMode } from '../inspect';
import type { InodeReport, TraceReport } from './analyze';

/** What of a report says when its capture began (all of it optional in a report read back from JSON). */
export type CaptureClock = Partial<Pick<TraceReport, 'format' | 'captureStarted' | 'startedAt'>>;

/**
 * When the capture of `source` began, in words: the `fuselens capture` header's time, else the
 * first timestamp in the source's clock (tracefs: µs since boot; strace -tt: since midnight;
 * strace -ttt and lab-jsonl: since the epoch), else "the start of" the source.
 */
export function captureStartText(report: CaptureClock, source: string): string {
  if (typeof report.captureStarted === 'string') return report.captureStarted;
  const us = typeof report.startedAt === 'number' ? report.startedAt : undefined;
  if (us === undefined) return `the start of ${source}`;
  const iso = (ms: number): string => new Date(ms).toISOString();
  if (report.format === 'ftrace') {
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return `${iso(Date.now() - uptime * 1000 + us / 1000)} (${(us / 1e6).toFixed(3)} s after boot)`;
  }
  if (us < 86_400e6) {
    const s = us / 1e6;
    const hh = String(Math.floor(s / 3600)).padStart(2, '0');
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
    return `${hh}:${mm}:${(s % 60).toFixed(3).padStart(6, '0')}`;
  }
  return iso(us / 1000);
}

/**
 * The report's inodes as the inspection takes them (`inspectMount(..., { reconstructed })`): matched
 * there by st_ino when the trace had it, else by name, within their connection; `since` is shown as is.
 * Fields a report read back from JSON lacks are left out.
 */
export function reconstructedModes(inodes: readonly InodeReport[], since: string): ReconstructedMode[] {
  return inodes.map((i) => ({
    ...(i.ino != null ? { ino: i.ino } : {}),
    ...(i.nodeid != null ? { nodeid: i.nodeid } : {}),
    ...(i.name != null ? { name: i.name } : {}),
    ...(i.connection != null ? { connection: i.connection } : {}),
    mode: i.mode,
    ...(i.iocachectr != null ? { iocachectr: i.iocachectr } : {}),
    since,
  }));
}
