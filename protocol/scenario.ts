// What a simulation says about a scenario, and what a run on the kernel adds:
// the shape of `fuselens simulate --json` and `fuselens run --json`
// (docs/scenario-language.md, docs/cli-json.md), of fuselens/simulate and
// fuselens/runScenario, and of what the timeline draws. server/scenario and
// server/lab produce these; nothing here may be renamed (the CLI's JSON).

import type { InodeMode } from './io-mode';

export type { InodeMode };

/** 0-based, as in LSP; the CLI's text output adds 1 to lines and columns. */
export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface InodeSnapshot {
  mode: InodeMode;
  iocachectr: number;
  /** Name of the backing bound to the inode (its `backing` statement), or null. */
  backing: string | null;
}

export type Severity = 'error' | 'warning' | 'information';

export interface Diagnostic {
  range: Range;
  severity: Severity;
  /** A rule name (docs/rules/CODE.md) or a syntax/name code. */
  code: string;
  message: string;
  /**
   * The facts the message was rendered from (server/scenario/result.ts DiagnosticData): the
   * server's quick fixes read them back; clients pass them through untouched, as LSP's
   * Diagnostic.data.
   */
  data?: unknown;
}

export interface StepResult {
  /** 1-based line. */
  line: number;
  process: string;
  action: string;
  /** The handle, mapping, file or backing the step acts on. */
  target: string;
  /** `ok`, `blocks`, `skipped` or an errno name. */
  outcome: string;
  /** The errno inside the kernel, when it differs from what the process sees. */
  reason?: string;
  rule?: string;
  /** For a step that blocked: the 1-based line of the step that woke it, or null. */
  completedAt?: number | null;
  finalOutcome?: string | null;
  inodes: Record<string, InodeSnapshot>;
}

export interface SimulationResult {
  kernel: string;
  steps: StepResult[];
  diagnostics: Diagnostic[];
}

/** A step of a run on the kernel (server/lab): the simulator's step with the kernel's outcome in `outcome`. */
export interface RunStep extends StepResult {
  /** The simulator's outcome for this step. */
  simulated: string;
  simulatedCompletedAt?: number | null;
  simulatedFinalOutcome?: string | null;
  /** Kernel and simulator disagree on this step. */
  differs: boolean;
  /** What the kernel returned or why the step was not played (fd, backing id, ...). */
  note?: string;
}

/** A run of a scenario on the kernel: each step's `outcome` is the kernel's, `simulated` the simulator's. */
export interface RunResult extends SimulationResult {
  steps: RunStep[];
  /** `uname -r` of the kernel the scenario ran on. */
  kernelRelease: string;
  /** Number of steps with `differs`. */
  differences: number;
}
