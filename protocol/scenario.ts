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

/** Inodes by file name. */
export type InodeTable = Readonly<Record<string, InodeSnapshot>>;

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
  /**
   * The inodes whose state this step changed, with their state after it (a blocked
   * step's wake-up changes them in the step that woke it); the others are as they
   * were. inodeTables() rebuilds the whole table after each step.
   */
  inodes: InodeTable;
}

export interface SimulationResult {
  kernel: string;
  /** Every inode before the first step (the declared files, idle). */
  initialInodes: InodeTable;
  steps: StepResult[];
  /** Every inode after the last step. */
  finalInodes: InodeTable;
  diagnostics: Diagnostic[];
}

/**
 * The whole inode table after each step (`tables[i]` after `steps[i]`), from the
 * initial table and the changes each step carries. A step that changed nothing
 * shares the table of the step before it.
 */
export function inodeTables(result: Pick<SimulationResult, 'initialInodes' | 'steps'>): InodeTable[] {
  const tables: InodeTable[] = [];
  let table = result.initialInodes;
  for (const step of result.steps) {
    if (Object.keys(step.inodes).length > 0) table = { ...table, ...step.inodes };
    tables.push(table);
  }
  return tables;
}

/** The whole inode table after the first `count` steps. */
export function inodeTableAfter(result: Pick<SimulationResult, 'initialInodes' | 'steps'>, count: number): InodeTable {
  const table: Record<string, InodeSnapshot> = { ...result.initialInodes };
  for (let i = 0; i < count && i < result.steps.length; i++) Object.assign(table, result.steps[i]!.inodes);
  return table;
}

/**
 * A result whose steps each carry the whole inode table after them, not only what
 * they changed: for views written for whole tables (the timeline webview).
 */
export function withInodeTables<R extends Pick<SimulationResult, 'initialInodes' | 'steps'>>(result: R): R {
  const tables = inodeTables(result);
  return { ...result, steps: result.steps.map((step, i) => ({ ...step, inodes: tables[i]! })) };
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
