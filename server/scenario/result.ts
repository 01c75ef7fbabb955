// What a simulation says about a scenario: the shape of `fuselens simulate --json`
// (docs/cli-json.md), used by the CLI, the language server and the timeline.

import type { AccessMode, InodeMode } from '../model/state';
import type { Range } from './ast';
import type { NameKind } from './syntax';

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
  /** Rendered from `data` by renderMessage (server/scenario/diagnostic-text.ts), the one place diagnostic text is made. */
  message: string;
  /** The facts the message says, for quick fixes and other readers. */
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

/** An inode as the kernel had it when it decided. */
export interface InodeState extends InodeSnapshot {
  name: string;
}

/** Why a step came out as it did, beyond its rule. */
export interface StepFacts {
  /** The kernel rule (docs/rules/RULE.md), when one decided. */
  rule?: string;
  /** What the process sees: `ok`, `blocks` or an errno name. */
  outcome: string;
  /** The errno inside the kernel, when the process sees another (open() turns io-mode errors into EIO). */
  reason?: string;
  /** The inode the step acts on and the open files that stand in the way. */
  inode?: InodeState;
  conflicting?: ConflictingFile[];
  /** The reply flags the rule refuses (outside FOPEN_PASSTHROUGH_MASK). */
  flags?: string[];
  /** The descriptor used, how it was opened, and the call it failed (mmap when absent). */
  descriptor?: { handle: string; access: AccessMode; call?: 'read' | 'write' };
  /** The process holds no descriptor of this name (closed, or another process's). */
  missingDescriptor?: { process: string; handle: string };
}

/** The facts of a diagnostic, one shape per sentence (`what`). */
export type DiagnosticData =
  | ({ what: 'denied' | 'blocks'; stated: boolean } & StepFacts)
  /** A step that slept and failed when woken (at a 1-based line, or null at the end). */
  | ({ what: 'wakes-failing'; wokeAt: number | null } & StepFacts)
  | ({ what: 'outcome-mismatch'; stated: string } & StepFacts)
  | { what: 'process-exited'; process: string; line: number }
  | { what: 'step-after-blocked'; process: string; line: number }
  | { what: 'never-wakes'; line: number }
  /** `hint`: say how to declare it. `process`: whose mapping. */
  | { what: 'unknown-name'; kind: NameKind; name: string; hint: boolean; process?: string }
  /** `scope`: declared twice (at `line`, if known), live twice in one process, or in flight twice. */
  | { what: 'duplicate-name'; kind: NameKind; name: string; scope: 'declared' | 'live' | 'in-flight'; line?: number }
  | { what: 'handle-not-open'; handle: string; line: number }
  | { what: 'write-not-held'; path: 'passthrough' | 'cached' }
  | { what: 'write-not-started'; write: string; line: number }
  | { what: 'expect-mismatch'; file: string; actual: InodeState } & ({ mode: InodeMode } | { iocachectr: number })
  | { what: 'reply-ignored-under-no-open' | 'backing-without-passthrough' | 'parallel-writes-need-direct-io' | 'passthrough-disabled-by-writeback-cache' }
  | { what: 'flag-unknown-to-kernel'; flag: string; kernel: string; since: string }
  | { what: 'direct-io-shared-mmap-taints-file'; handle: string }
  | { what: 'passthrough-bad-max-stack-depth'; maxStackDepth: number; passthrough: boolean }
  | { what: 'backing-never-used'; backing: string }
  | { what: 'unknown-kernel'; kernel: string; oldest: string; newest: string; fallback: string }
  | { what: 'duplicate-statement'; keyword: string; line: number }
  | { what: 'syntax'; message: string };

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
