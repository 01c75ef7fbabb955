// FUSE traces: readers for four sources, the analysis, the Perfetto export and
// live capture. The CLI (`fuselens trace`, `fuselens capture`) and the VS Code
// trace view are both fronts on this module.
//
// Module API (everything below is re-exported here; import from 'server/trace'):
//
//   analyzeTrace(input, options?) → Promise<TraceReport>
//       input: AsyncIterable<Buffer|string> (fs.createReadStream(path), process.stdin,
//       a Readable). Detects the format (or options.format), streams it through
//       the reader and TraceAnalyzer, returns the report (`TraceReport`, the
//       JSON `fuselens trace --json` prints). Throws UnknownFormatError for
//       input that is none of the formats; never throws on bad lines (they are
//       counted in report.badLines / listed in report.bad).
//       options: { format?, connection?, kernel?, slowest?, listLimit?,
//                  onRequest?(PairedRequest), onEvent?(TraceEvent) }
//   analyzeTraceFile(path, options?) → Promise<TraceReport>   ('-' = stdin)
//   readTrace(input, sink, {format?, connection?}) → Promise<{format, lines, header}>
//       lower level: any TraceSink (event/lost/bad/warning) gets the events.
//   TraceAnalyzer: a TraceSink; .report(format) → TraceReport.
//   reconstructedModes(report) → ReconstructedMode[]   (server/inspect's shape: feed to
//       inspectMount(mnt, roots, { reconstructed }) for the sidebar, "since capture started at …")
//   detectFormat(headText) → TraceFormat | null
//   PerfettoWriter: a TraceAnalyzer onRequest hook that streams Chrome/Perfetto
//       trace-event JSON (one track per requesting process, one per daemon thread).
//   exportPerfetto(input, out: Writable, options?) → Promise<TraceReport>
//   startCapture(options) → Promise<Capture>   (capture.ts)
//       options: { connection, daemon?: boolean | pid, output: path, seconds?,
//                  tracefs?: '/sys/kernel/tracing', onProgress?(requestsSeen) }
//       Capture: { stop(): Promise<CaptureResult>, done: Promise<CaptureResult>, file, format }
//       tracefs state (events enable, filter) is restored on stop, error, SIGINT.
//
// Events (events.ts): SendEvent / SentEvent / EndEvent with connection, unique,
// opcode, lengths, error, pid/comm, daemon thread, µs timestamps and — for
// strace and lab captures — the decoded bodies (RequestBody from
// server/lab/fuse-abi.ts, ReplyBody). Timestamps are in the source's clock:
// tracefs µs since boot, strace -tt µs since midnight, lab µs since the epoch.

import { createReadStream } from 'node:fs';
import type { ReconstructedMode } from '../inspect';
import { TraceAnalyzer, type AnalyzeOptions, type TraceReport } from './analyze';
import type { TraceEvent, TraceFormat } from './events';
import { readTrace } from './read';
import { PerfettoWriter } from './perfetto';

export * from './events';
export * from './analyze';
export * from './read';
export { LatencyHistogram } from './histogram';
export { errnoName } from './errno';
export { STRACE_BLIND_SPOTS, decodeReply } from './strace';

export interface AnalyzeTraceOptions extends AnalyzeOptions {
  format?: TraceFormat;
  connection?: number | null;
  /** Sees every event before the analyzer does. */
  onEvent?: (ev: TraceEvent) => void;
}

export async function analyzeTrace(input: AsyncIterable<Buffer | string>, options: AnalyzeTraceOptions = {}): Promise<TraceReport> {
  const analyzer = new TraceAnalyzer(options);
  const onEvent = options.onEvent;
  const sink = onEvent
    ? {
        event: (ev: TraceEvent) => {
          onEvent(ev);
          analyzer.event(ev);
        },
        lost: (n: number) => analyzer.lost(n),
        bad: (line: number, why: string, text: string) => analyzer.bad(line, why, text),
        warning: (text: string) => analyzer.warning(text),
      }
    : analyzer;
  const result = await readTrace(input, sink, options);
  const report = analyzer.report(result.format);
  report.captureStarted = typeof result.header?.started === 'string' ? result.header.started : null;
  return report;
}

/**
 * The report's inodes in the shape the inspection takes (`inspectMount(..., { reconstructed })`,
 * server/inspect/types.ts): matched there by st_ino, else by name; `since` says when the capture began.
 */
export function reconstructedModes(report: TraceReport): ReconstructedMode[] {
  const since = report.captureStarted ?? (report.startedAt !== null ? `trace time ${(report.startedAt / 1e6).toFixed(6)} s` : 'the start of the capture');
  return (report.inodes ?? []).map((i) => ({
    ...(i.ino !== null ? { ino: i.ino } : {}),
    nodeid: i.nodeid,
    ...(i.name !== null ? { name: i.name } : {}),
    ...(i.connection !== null ? { connection: i.connection } : {}),
    mode: i.mode,
    iocachectr: i.iocachectr,
    since,
  }));
}

export function analyzeTraceFile(path: string, options: AnalyzeTraceOptions = {}): Promise<TraceReport> {
  const input = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  return analyzeTrace(input, options);
}

export { PerfettoWriter };

/**
 * Analyzes `input` and writes the Perfetto/Chrome JSON through `write` as it
 * goes (use fs.writeSync on a file descriptor so memory stays flat).
 */
export async function exportPerfetto(
  input: AsyncIterable<Buffer | string>,
  write: (text: string) => void,
  options: AnalyzeTraceOptions = {},
): Promise<TraceReport> {
  const writer = new PerfettoWriter(write);
  const report = await analyzeTrace(input, {
    ...options,
    onRequest: (r) => {
      writer.onRequest(r);
      options.onRequest?.(r);
    },
  });
  writer.finish();
  if (writer.syntheticClock) report.warnings.push('the source has no timestamps: the exported timeline lays requests out 1 µs apart in order');
  return report;
}
export { startCapture, CaptureError, STRACE_ARGS, TRACEFS, type Capture, type CaptureOptions, type CaptureResult } from './capture';
export { LineSplitter } from './lines';
export { isLiveSource, pollSource, streamUntil } from './live';
export { withReadProgress, type ReadProgress } from './progress';
