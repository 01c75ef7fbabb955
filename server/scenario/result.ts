// What a simulation says about a scenario: the shape of `fuselens simulate --json`
// (docs/cli-json.md), used by the CLI, the language server and the timeline.
// It is the wire's, so it is defined in protocol/scenario.ts.

export type {
  ConflictingFile, Diagnostic, DiagnosticData, InodeMode, InodeSnapshot, Severity, SimulationResult, StepResult,
} from '../../protocol/scenario';
