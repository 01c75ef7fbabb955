// What the trace view draws beyond the report (protocol/messages.ts TraceView):
// a latency histogram per opcode, the first requests in time order, the failed
// ones grouped by opcode and errno, and each request's file name where the
// trace named its node id. Built here, beside the report, so any front (the editor's view, the CLI)
// gets the same data; memory stays bounded by the limits below.

import type { TraceRequest, TraceView } from '../../protocol/messages';
import type { FailureGroup } from '../../protocol/trace';
import { opcodeName } from '../abi';
import type { PairedRequest, RequestSummary, TraceReport } from './analyze';
import { errnoName } from './errno';

const TIMELINE_LIMIT = 2000;
const FAILED_LIMIT = 200;
/** Histogram buckets: ≤1 µs, ≤2, ≤4, … ≤2^24 µs (16 s), then more. */
const BUCKETS = Array.from({ length: 25 }, (_, i) => 2 ** i);

/** An analyzer's onRequest hook that collects the view's data; `build` adds the report. */
export class TraceViewBuilder {
  private readonly histograms = new Map<string, number[]>();
  private readonly timeline: TraceRequest[] = [];
  private readonly failed: TraceRequest[] = [];
  private failedCount = 0;
  private readonly failureGroups = new Map<string, FailureGroup>();
  private firstTs: number | null = null;

  add(r: PairedRequest): void {
    const opcode = opcodeName(r.send.opcode);
    const latency = r.send.ts !== null && r.end.ts !== null ? Math.max(0, r.end.ts - r.send.ts) : null;
    if (r.send.ts !== null && (this.firstTs === null || r.send.ts < this.firstTs)) this.firstTs = r.send.ts;
    if (latency !== null) {
      let counts = this.histograms.get(opcode);
      if (!counts) this.histograms.set(opcode, (counts = new Array<number>(BUCKETS.length + 1).fill(0)));
      const i = BUCKETS.findIndex((b) => latency <= b);
      counts[i === -1 ? BUCKETS.length : i]!++;
    }
    const request: TraceRequest = {
      connection: r.send.connection,
      unique: r.send.unique,
      opcode,
      pid: r.send.pid,
      comm: r.send.comm,
      nodeid: r.send.nodeid,
      latencyUs: latency,
      error: r.end.error,
      errno: r.end.error !== 0 ? errnoName(r.end.error) : null,
      startUs: r.send.ts,
    };
    if (this.timeline.length < TIMELINE_LIMIT) this.timeline.push(request);
    if (r.end.error !== 0) {
      this.failedCount++;
      if (this.failed.length < FAILED_LIMIT) this.failed.push(request);
      const errno = request.errno ?? String(r.end.error);
      const key = `${opcode} ${errno}`;
      const group = this.failureGroups.get(key);
      if (group) group.count++;
      else this.failureGroups.set(key, { opcode, errno, count: 1, first: request });
    }
  }

  build(path: string, report: TraceReport): TraceView {
    const base = this.firstTs ?? 0;
    const named = fileNames(report);
    const relative = (r: TraceRequest): TraceRequest => withFile({ ...r, startUs: r.startUs === null ? null : r.startUs - base }, named);
    const timeline = this.timeline.map(relative).sort((a, b) => (a.startUs ?? 0) - (b.startUs ?? 0));
    return {
      path,
      report,
      histograms: [...this.histograms].map(([opcode, counts]) => ({ opcode, bucketsUs: BUCKETS, counts })),
      timeline,
      timelineLimit: TIMELINE_LIMIT,
      slowest: report.slowest.map((s) => withFile(fromSummary(s, base), named)),
      failed: this.failed.map(relative),
      failedCount: this.failedCount,
      failureGroups: [...this.failureGroups.values()]
        .sort((a, b) => b.count - a.count || a.opcode.localeCompare(b.opcode))
        .map((g) => ({ ...g, first: relative(g.first) })),
    };
  }
}

function fromSummary(s: RequestSummary, base: number): TraceRequest {
  return {
    connection: s.connection,
    unique: s.unique,
    opcode: s.opcode,
    pid: s.pid,
    comm: s.comm,
    nodeid: s.nodeid,
    latencyUs: s.latencyUs,
    error: s.error,
    errno: s.error !== 0 ? errnoName(s.error) : null,
    startUs: s.ts === null ? null : s.ts - base,
  };
}

/** FUSE_ROOT_ID (include/uapi/linux/fuse.h): the mount's root, never looked up. */
const ROOT_NODEID = '1';

/** `connection:nodeid` → the name LOOKUP/CREATE replies gave it (the report's inodes). */
function fileNames(report: TraceReport): Map<string, string> {
  const names = new Map<string, string>();
  for (const i of report.inodes ?? []) if (i.name !== null) names.set(`${i.connection}:${i.nodeid}`, i.name);
  return names;
}

function withFile(r: TraceRequest, names: Map<string, string>): TraceRequest {
  if (r.nodeid === null) return r;
  const file = String(r.nodeid) === ROOT_NODEID ? '/' : names.get(`${r.connection}:${r.nodeid}`);
  return file === undefined ? r : { ...r, file };
}
