// What a simulation says about a scenario: the shape of `fuselens simulate --json`
// (docs/cli-json.md), used by the CLI, the language server and the timeline. The
// shapes on the wire are protocol/scenario.ts's; this module adds what only the
// server reads: the facts each diagnostic carries in `data`, for quick fixes.

import type {
  Diagnostic as WireDiagnostic, InodeMode, InodeSnapshot, SimulationResult as WireSimulationResult,
} from '../../protocol/scenario';
import type { AccessMode } from '../model/state';
import type { NameKind } from './syntax';
import type { Severity } from '../../protocol/scenario';

export type { InodeMode, InodeSnapshot, InodeTable, Severity, StepResult } from '../../protocol/scenario';

export interface Diagnostic extends WireDiagnostic {
  /** Rendered from `data` by renderMessage (server/scenario/diagnostic-text.ts), the one place diagnostic text is made. */
  message: string;
  /** The facts the message says, for quick fixes and other readers. */
  data?: DiagnosticData;
}

export interface SimulationResult extends WireSimulationResult {
  /** In position order; at most SimulateOptions.maxDiagnostics of them. */
  diagnostics: Diagnostic[];
  /** How many diagnostics of each severity the simulation found, those not kept included. */
  diagnosticCounts: Record<Severity, number>;
}

/** A simulation whose steps went elsewhere as they were made (simulateSource's `onStep`). */
export type SimulationSummary = Omit<SimulationResult, 'steps'>;

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
  /** `thread`: the sleeper is a declared thread (`process` names it). */
  | { what: 'step-after-blocked'; process: string; line: number; thread?: true }
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
  /** `modelled`: the mainline releases the model covers. */
  | { what: 'unknown-kernel'; kernel: string; modelled: string[]; fallback: string }
  /** A stable release of a series that took a change (`commit`, first in `mainline`) at a sublevel not known. */
  | { what: 'kernel-backport-unknown'; kernel: string; commit: string; summary: string; mainline: string }
  | { what: 'duplicate-statement'; keyword: string; line: number }
  | { what: 'syntax'; message: string }
  | { what: 'not-modelled'; construct: string; because: string; /** The step the construct refers to, counted from 1. */ line?: number }
  /** A `begin as` on a request the kernel does not send here (`because`): the step goes on without a hold. */
  | { what: 'request-not-held'; request: 'OPEN' | 'READ' | 'RELEASE'; because: string }
  /** `release R end` before R's file was released (its descriptor or mapping from `line` still holds it). */
  | { what: 'request-not-sent'; name: string; line: number }
  | { what: 'create-falls-back-to-mknod' }
  | { what: 'flush-not-held'; reason: 'noflush' | 'no_flush' }
  /** A signal at this step made the kernel send FUSE_INTERRUPT for a held request (`WRITE W`, `FLUSH X`); `fatal`: SIGKILL. */
  | { what: 'request-interrupted'; request: string; fatal: boolean }
  /** `write W end` / `close X end` of a request the `abort` at `line` ended. */
  | { what: 'request-aborted'; name: string; line: number };

