// The messages between the extension and its webviews (postMessage both ways),
// typed once here and imported by both sides.

import type { Inspection, MountModes, RunReport, SimulateResult, TraceView } from './messages';

export type Simulation = NonNullable<SimulateResult>;

/** Extension → timeline webview. */
export type ToTimeline =
  | {
      type: 'simulation';
      fileName: string;
      simulation: Simulation;
      /** The last "Run Scenario on This Kernel" of this document, if its text has not changed since. */
      run: RunReport | null;
      /** Each step's line as written (by 1-based line), so the timeline reads like the file. */
      written: Record<number, string>;
    }
  | { type: 'empty'; message: string }
  | { type: 'cursor'; line: number };

/** Timeline webview → extension. */
export type FromTimeline = { type: 'ready' } | { type: 'reveal'; line: number };

/** Extension → trace webview. */
export type ToTrace = { type: 'trace'; view: TraceView } | { type: 'error'; message: string };

/** Trace webview → extension. `openAsScenario`: the trace shown, exported as a scenario. */
export type FromTrace = { type: 'ready' } | { type: 'openAsScenario' };

/** Extension → inspect panel (one per mount). */
export type ToInspect =
  | {
      type: 'inspection';
      inspection: Inspection;
      /** The mount's modes with their provenance, when tracking or a trace is attached. */
      modes: MountModes | null;
      /** Seconds between refreshes while the panel is visible; 0: only on demand. */
      refreshSeconds: number;
    }
  | { type: 'refreshing' }
  | { type: 'error'; message: string };

/** What the inspect panel's toolbar asks the extension to do with its mount. */
export type InspectAction = 'capture' | 'track' | 'exportScenario' | 'exportReport' | 'setLimits' | 'abort';

/** Inspect panel → extension. `explain` opens docs/inspect.md's "what is unknown" page rendered. */
export type FromInspect = { type: 'ready' } | { type: 'refresh' } | { type: 'action'; action: InspectAction } | { type: 'explain' };
