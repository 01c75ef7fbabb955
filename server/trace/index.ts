// FUSE traces: readers for four sources (tracefs, strace of /dev/fuse, libfuse
// debug logs, lab-jsonl), the analysis into a report, the trace view's data, the
// Perfetto export and live capture. The CLI (`fuselens trace`, `fuselens
// capture`) and the editor's custom requests are both fronts on this module:
// each opens its source with openTraceSource and hands it to analyzeTrace,
// exportPerfetto or traceView. docs/trace.md describes the formats and the report.

import type { TraceView } from '../../protocol/messages';
import { TraceAnalyzer, type AnalyzeOptions, type TraceReport } from './analyze';
import type { TraceEvent, TraceFormat } from './events';
import { parseInWorkerByDefault, readTrace, type ReadOptions } from './read';
import { PerfettoWriter } from './perfetto';
import type { TraceSource } from './source';
import { TraceViewBuilder } from './view';
import { CaptureScenario, type ScenarioExport, type ScenarioExportOptions } from './export-scenario';

export * from './events';
export * from './analyze';
export * from './read';
export { LatencyHistogram } from './histogram';
export { errnoName } from './errno';
export { STRACE_BLIND_SPOTS } from './strace';
export { decodeReply } from './strace-messages';

export interface AnalyzeTraceOptions extends AnalyzeOptions, ReadOptions {
  format?: TraceFormat;
  connection?: number | null;
  /** Sees every event before the analyzer does. */
  onEvent?: (ev: TraceEvent) => void;
}

/** An opened source (openTraceSource), or any stream of its bytes (a Readable, a test's chunks). */
export type TraceInput = TraceSource | AsyncIterable<Buffer | string>;

const isSource = (input: TraceInput): input is TraceSource => 'chunks' in input && 'stopped' in input;

/**
 * Detects the format (or takes options.format), streams the input through its reader and
 * TraceAnalyzer, and returns the report (`fuselens trace --json`). Throws UnknownFormatError
 * for input that is none of the formats; bad lines are counted, never thrown.
 */
export async function analyzeTrace(input: TraceInput, options: AnalyzeTraceOptions = {}): Promise<TraceReport> {
  const source = isSource(input) ? input : null;
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
  const parseInWorker = options.parseInWorker ?? (source !== null && !source.live && parseInWorkerByDefault(source.size));
  const recycle = source?.recycle;
  const result = await readTrace(isSource(input) ? input.chunks : input, sink, { ...options, parseInWorker, ...(recycle ? { recycle } : {}) });
  const report = analyzer.report(result.format);
  report.captureStarted = typeof result.header?.started === 'string' ? result.header.started : null;
  if (source?.stopped()) report.warnings.unshift(`${source.name} does not end: this is what was read until the reading was stopped`);
  return report;
}

/** The report and what the trace view draws beyond it (histograms, timeline, failed requests). */
export async function traceView(source: TraceSource, options: AnalyzeTraceOptions = {}): Promise<TraceView> {
  const view = new TraceViewBuilder();
  const report = await analyzeTrace(source, {
    ...options,
    onRequest: (r) => {
      view.add(r);
      options.onRequest?.(r);
    },
  });
  return view.build(source.name, report);
}

export { PerfettoWriter };

/**
 * Analyzes `input` and writes the Perfetto/Chrome JSON through `write` as it
 * goes (use fs.writeSync on a file descriptor so memory stays flat).
 */
export async function exportPerfetto(
  input: TraceInput,
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
    onBacking: writer.onBacking,
  });
  writer.finish();
  if (writer.syntheticClock) report.warnings.push('the source has no timestamps: the exported timeline lays requests out 1 µs apart in order');
  return report;
}
/**
 * Analyzes `input` and turns its protocol stream into a `.fusesim` scenario (export-scenario.ts);
 * the report is the analysis the export's stated outcomes come from.
 */
export async function exportTraceScenario(
  input: TraceInput,
  options: AnalyzeTraceOptions & ScenarioExportOptions,
): Promise<ScenarioExport & { report: TraceReport }> {
  const scenario = new CaptureScenario();
  const report = await analyzeTrace(input, {
    ...options,
    // Each exported open states whether it was refused: the scenario holds every open, so every refusal is kept for it.
    denialLimit: Infinity,
    onEvent: (ev) => {
      scenario.event(ev);
      options.onEvent?.(ev);
    },
    onRequest: (r) => {
      scenario.paired(r);
      options.onRequest?.(r);
    },
  });
  return { ...scenario.render(report, options), report };
}
export type { ExportedOpen, ScenarioExport } from './export-scenario';
export { startCapture, CaptureError, STRACE_ARGS, TRACEFS, type Capture, type CaptureOptions, type CaptureResult } from './capture';
export { LineSplitter } from './lines';
export { openTraceSource, type TraceSource, type TraceSourceOptions } from './source';
export { captureStartText, reconstructedModes, type CaptureClock } from './reconstructed';
