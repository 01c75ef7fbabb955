// What a simulation says about a scenario: the shape of `fuselens simulate --json`
// (docs/cli-json.md), used by the CLI, the language server and the timeline.

import type { InodeMode } from '../model/state';
import type { Range } from './ast';

export type { InodeMode };

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
  /** What a quick fix needs: the open files that stand in the way, and where they were opened. */
  data?: DiagnosticData;
}

export interface ConflictingFile {
  /** The handle name of the open (the `as F` of its `open`). */
  handle: string;
  /** 1-based line of its `open`. */
  line: number;
  /** Processes holding a descriptor of it, and mappings that keep it alive. */
  descriptors: { process: string; name: string }[];
  mappings: { process: string; name: string }[];
}

export interface DiagnosticData {
  conflicting?: ConflictingFile[];
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
