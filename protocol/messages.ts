// Every custom request and notification between the extension and the language
// server, with its params and result types (as vscode-eslint's customMessages.ts
// and rust-analyzer's lsp_ext.ts). Both sides import this module and nothing
// else names a `fuselens/…` method.
//
// The data these carry is defined beside it, one file per area, and the
// server imports it from there: protocol/scenario.ts (simulations, runs),
// protocol/inspect.ts (mounts, inspections), protocol/trace.ts (trace reports
// and views), protocol/settings.ts (the settings the client sends). Those
// shapes are also the JSON contract of the CLI (docs/cli-json.md), so
// `fuselens … --json` and the editor show the same data. protocol/ imports
// nothing from server/ or extension/.

import type { ConnectionStats, Inspection, Mount } from './inspect';
import type { RunResult, SimulationResult } from './scenario';
import type { TraceView } from './trace';
import type { ModeSource, MountModes } from './track';

export type { ConnectionStats, InodeView, Inspection, Mapping, Mount, OpenFile } from './inspect';
export type { RunStep, SimulationResult, StepResult } from './scenario';
export type { RequestSummary, TraceReport, TraceRequest, TraceView } from './trace';
export type { ModeProvenance, ModeSource, MountModes, TrackedInode } from './track';

/** A request: its method name, with params and result carried in the type only. */
export interface RequestSpec<P, R> {
  readonly method: string;
  /** Phantom fields, never set: they carry the types. */
  readonly _params?: P;
  readonly _result?: R;
}

/** A notification from the server to the client. */
export interface NotificationSpec<P> {
  readonly method: string;
  readonly _params?: P;
}

function request<P, R>(method: string): RequestSpec<P, R> {
  return { method };
}
function notification<P>(method: string): NotificationSpec<P> {
  return { method };
}

/** A failure the user can act on: the errno name when the kernel said no. */
export interface Failure {
  ok: false;
  /** `EACCES`, `EPERM`, `ENOENT`, … or `ERROR` for anything else. */
  errno: string;
  message: string;
}
export type Outcome<T> = ({ ok: true } & T) | Failure;

// ── Scenarios ───────────────────────────────────────────────────────────────

export interface DocumentParams {
  /** URI of the scenario (an open document, or a file on disk). */
  uri: string;
}

/** The simulation of one scenario, for the timeline. `null` if the document is unknown. */
export type SimulateResult = (SimulationResult & { uri: string; version: number | null }) | null;

/** A diagnostic as LSP sends it (0-based range), for files that are not open. */
export interface FileDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** LSP DiagnosticSeverity: 1 error, 2 warning, 3 information, 4 hint. */
  severity: 1 | 2 | 3 | 4;
  code: string;
  message: string;
  source: string;
  codeDescription?: { href: string };
}

export interface CheckFileResult {
  uri: string;
  diagnostics: FileDiagnostic[];
  /** Set when the file could not be read. */
  error?: string;
}

/** The lab's run (server/lab): each step's `outcome` is the kernel's, `simulated` the simulator's. */
export type RunReport = RunResult & { uri: string };
export type RunScenarioResult = Outcome<{ report: RunReport }>;

// ── Mounts (docs/cli-json.md: `fuselens mounts --json`, `inspect --json`) ───────

/**
 * CPU time (user + system, every thread of the server) spent answering, in ms: what the
 * Mounts view's refresh pacer counts (extension/refresh-pacer.ts). Wall time would count
 * the waits of a loaded machine as cost and stretch the refresh for no reason.
 */
interface Costed {
  cpuMs: number;
}

export interface MountsResult extends Costed {
  mounts: Mount[];
  warnings: string[];
}

export interface MountParams {
  mountpoint: string;
}

export interface InspectResult extends Costed {
  inspection: Inspection | null;
  /** Why there is no inspection (the mount went away, …). */
  error?: string;
}

export interface ExportScenarioResult {
  text: string;
}

export interface ConnectionLimitsParams {
  connection: number;
  maxBackground?: number;
  congestionThreshold?: number;
}
export type ConnectionLimitsResult = Outcome<{ stats: ConnectionStats | null }>;

export interface AbortParams {
  connection: number;
}
export type AbortResult = Outcome<Record<never, never>>;

// ── Traces (the report is `fuselens trace --json`'s, protocol/trace.ts) ──────

export interface OpenTraceParams {
  path: string;
  /** When set, the server sends traceProgress notifications with it while it reads the file. */
  progressId?: string;
}
export interface TraceProgress {
  progressId: string;
  /** Bytes of the file read so far, of `total`. */
  bytes: number;
  /** The file's size; 0 for a source that never ends (trace_pipe, a FIFO), read until cancelled. */
  total: number;
}
export type OpenTraceResult = Outcome<{ view: TraceView }>;

export interface TraceFileParams {
  path: string;
}
/** The capture as `.fusesim` text (`fuselens trace --export-scenario`). */
export type ExportTraceScenarioResult = Outcome<{ text: string }>;

export interface StartCaptureParams {
  mountpoint: string;
  connection: number;
  /** Attach strace to the daemon (the protocol stream: OPEN reply flags, io modes) instead of kernel tracepoints. */
  daemon: boolean;
}
export type StartCaptureResult = Outcome<{ captureId: string; path: string }>;

export interface CaptureParams {
  captureId: string;
}
export interface CaptureProgress {
  captureId: string;
  events: number;
}
export type StopCaptureResult = Outcome<{ path: string }>;

// ── Tracking io modes live (protocol/track.ts; `fuselens track`) ───────────────

export type StartTrackingResult = Outcome<{ source: Extract<ModeSource, { kind: 'tracking' }> }>;
export type StopTrackingResult = Outcome<{ stoppedBy: string; requests: number }>;
export interface DetachTraceParams {
  connection: number;
}
export type DetachTraceResult = Outcome<Record<never, never>>;

// ── The methods ─────────────────────────────────────────────────────────────

export const Requests = {
  simulate: request<DocumentParams, SimulateResult>('fuselens/simulate'),
  checkFile: request<DocumentParams, CheckFileResult>('fuselens/checkFile'),
  runScenario: request<DocumentParams, RunScenarioResult>('fuselens/runScenario'),
  listMounts: request<Record<never, never>, MountsResult>('fuselens/listMounts'),
  inspectMount: request<MountParams, InspectResult>('fuselens/inspectMount'),
  exportScenario: request<MountParams, ExportScenarioResult>('fuselens/exportScenario'),
  setConnectionLimits: request<ConnectionLimitsParams, ConnectionLimitsResult>('fuselens/setConnectionLimits'),
  abortConnection: request<AbortParams, AbortResult>('fuselens/abortConnection'),
  openTrace: request<OpenTraceParams, OpenTraceResult>('fuselens/openTrace'),
  /** "Open as Scenario" of the trace view: the trace file as a scenario. */
  exportTraceScenario: request<TraceFileParams, ExportTraceScenarioResult>('fuselens/exportTraceScenario'),
  startCapture: request<StartCaptureParams, StartCaptureResult>('fuselens/startCapture'),
  stopCapture: request<CaptureParams, StopCaptureResult>('fuselens/stopCapture'),
  /** Attaches strace to the mount's daemon and follows its io modes until stopTracking (or the daemon exits). */
  startTracking: request<MountParams, StartTrackingResult>('fuselens/startTracking'),
  stopTracking: request<MountParams, StopTrackingResult>('fuselens/stopTracking'),
  /** The mount's held inodes with their modes' provenance, from its tracking or its attached trace (source null: neither). */
  mountModes: request<MountParams, MountModes>('fuselens/mountModes'),
  /** Forgets the trace opened for a connection: its modes no longer show on the mount. */
  detachTrace: request<DetachTraceParams, DetachTraceResult>('fuselens/detachTrace'),
} as const;

export const Notifications = {
  /** Sent about once a second while a capture runs. */
  captureProgress: notification<CaptureProgress>('fuselens/captureProgress'),
  /** Sent about every 200 ms while openTrace reads a file (when asked with a progressId). */
  traceProgress: notification<TraceProgress>('fuselens/traceProgress'),
  /** Sent when a tracked mount's modes change, and once with its final state when tracking stops. */
  trackingUpdate: notification<MountModes>('fuselens/trackingUpdate'),
} as const;
