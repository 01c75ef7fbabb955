// The messages between the extension and its webviews (postMessage both ways),
// typed once here and imported by both sides.

import type { RunReport, SimulateResult, TraceView } from './messages';

export type Simulation = NonNullable<SimulateResult>;

/** Extension → timeline webview. */
export type ToTimeline =
  | {
      type: 'simulation';
      fileName: string;
      simulation: Simulation;
      /** The last "Run Scenario on This Kernel" of this document, if its text has not changed since. */
      run: RunReport | null;
    }
  | { type: 'empty'; message: string }
  | { type: 'cursor'; line: number };

/** Timeline webview → extension. */
export type FromTimeline = { type: 'ready' } | { type: 'reveal'; line: number };

/** Extension → trace webview. */
export type ToTrace = { type: 'trace'; view: TraceView } | { type: 'error'; message: string };

/** Trace webview → extension. `openAsScenario`: the trace shown, exported as a scenario. */
export type FromTrace = { type: 'ready' } | { type: 'openAsScenario' };
