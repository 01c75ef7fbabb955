// fuselens/openTrace, startCapture, stopCapture (+ captureProgress): the trace
// module (server/trace) behind the trace view. Also remembers the io modes the
// last trace of each connection reconstructed, for the sidebar's inodes.

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { CancellationToken, Connection } from 'vscode-languageserver';
import {
  Notifications,
  Requests,
  type OpenTraceParams,
  type OpenTraceResult,
  type TraceRequest,
  type TraceView,
} from '../../../protocol/messages';
import type { ReconstructedMode } from '../../inspect';
import {
  analyzeTrace, errnoName, isLiveSource, opcodeNameOf, pollSource, withReadProgress, type PairedRequest, type RequestSummary, type TraceReport,
} from './trace-api';
import { registerCaptureRequests, type CaptureStarts } from './captures';
import { failure, handle } from './handle';

const TIMELINE_LIMIT = 2000;
const FAILED_LIMIT = 200;
/** Histogram buckets: ≤1 µs, ≤2, ≤4, … ≤2^24 µs (16 s), then more. */
const BUCKETS = Array.from({ length: 25 }, (_, i) => 2 ** i);

export interface TraceState {
  /** Modes reconstructed by the last trace read for `connection`, if it carried replies. */
  reconstructedFor(connection: number): ReconstructedMode[] | undefined;
}

export function registerTraceRequests(connection: Connection): TraceState {
  const reconstructed = new Map<number, ReconstructedMode[]>();
  const captureStarts: CaptureStarts = new Map();

  async function openTrace(params: OpenTraceParams, since: string, token: CancellationToken): Promise<TraceView> {
    const { path, progressId } = params;
    const view = new TraceViewBuilder();
    const st = await stat(path);
    // A file is read to its end, and cancelling abandons it. A source that never ends (trace_pipe,
    // a FIFO) is read until cancelled, and cancelling shows what was read, as Ctrl-C does in the CLI.
    const live = isLiveSource(st);
    const stop = new AbortController();
    const cancelled = token.onCancellationRequested(() => stop.abort());
    const source = live ? pollSource(path, stop.signal) : createReadStream(path, { highWaterMark: 1 << 20 });
    const input = withReadProgress(source, {
      report: (bytes) => {
        if (progressId !== undefined) void connection.sendNotification(Notifications.traceProgress.method, { progressId, bytes, total: st.size });
      },
      stopped: () => (!live && token.isCancellationRequested ? Object.assign(new Error(`reading ${path} was cancelled`), { code: 'ECANCELED' }) : null),
    });
    const report = await analyzeTrace(input, { onRequest: (r) => view.add(r) }).finally(() => cancelled.dispose());
    if (live && stop.signal.aborted) report.warnings.unshift(`${path} does not end: this is what was read until the reading was stopped`);
    for (const c of report.connections) {
      const inodes = report.inodes?.filter((i) => i.connection === c || i.connection === null);
      if (inodes && inodes.length > 0) {
        reconstructed.set(
          c,
          inodes.map((i) => ({ nodeid: i.nodeid, ...(i.name ? { name: i.name } : {}), mode: i.mode, iocachectr: i.iocachectr, since })),
        );
      }
    }
    return view.build(path, report);
  }

  handle(connection, Requests.openTrace, async (params: OpenTraceParams, token): Promise<OpenTraceResult> => {
    try {
      const started = captureStarts.get(params.path);
      return { ok: true, view: await openTrace(params, started ?? `the start of ${params.path}`, token) };
    } catch (err) {
      return failure(err);
    }
  });

  registerCaptureRequests(connection, captureStarts);

  return { reconstructedFor: (c) => reconstructed.get(c) };
}

/** Collects what the trace view draws beyond the report, in bounded memory. */
class TraceViewBuilder {
  private readonly histograms = new Map<string, number[]>();
  private readonly timeline: TraceRequest[] = [];
  private readonly failed: TraceRequest[] = [];
  private failedCount = 0;
  private firstTs: number | null = null;

  add(r: PairedRequest): void {
    const opcode = opcodeNameOf(r.send.opcode);
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
    }
  }

  build(path: string, report: TraceReport): TraceView {
    const base = this.firstTs ?? 0;
    const relative = (r: TraceRequest): TraceRequest => ({ ...r, startUs: r.startUs === null ? null : r.startUs - base });
    const timeline = this.timeline.map(relative).sort((a, b) => (a.startUs ?? 0) - (b.startUs ?? 0));
    return {
      path,
      report,
      histograms: [...this.histograms].map(([opcode, counts]) => ({ opcode, bucketsUs: BUCKETS, counts })),
      timeline,
      timelineLimit: TIMELINE_LIMIT,
      slowest: report.slowest.map((s) => fromSummary(s, base)),
      failed: this.failed.map(relative),
      failedCount: this.failedCount,
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
