// One document's parse and simulation, computed once per version and shared
// by every feature (diagnostics, hover, completion, code actions...). The
// parser and simulator are the same ones the CLI uses (server/scenario).

import type { Scenario, Statement } from '../scenario/ast';
import type { Diagnostic, SimulationResult, StepResult } from '../scenario/result';
import { parseScenario } from '../scenario/parse';
import { simulate } from '../scenario/simulate';
import { screenText } from './input-limits';
import { buildNameIndex, type NameIndex } from './names';

export interface Analysis {
  /** The text as the editor has it. */
  text: string;
  /** Its lines (split on \n, \r\n and \r, as LSP and the parser count them). */
  lines: string[];
  /** The default kernel the simulation was run with (a `kernel` line overrides it). */
  defaultKernel: string | undefined;
  /** False when the input was refused (binary, too large) or the engine failed. */
  analysed: boolean;
  scenario: Scenario;
  result: SimulationResult | undefined;
  names: NameIndex;
  /** Problems of the input (binary, long lines, bad UTF-8) and of the engine itself. */
  inputDiagnostics: Diagnostic[];
  /** Step results by 0-based line. */
  stepsByLine: Map<number, StepResult>;
  /** Statements by 0-based line. */
  statementsByLine: Map<number, Statement>;
  /** Milliseconds spent parsing and simulating. */
  elapsedMs: number;
}

const EMPTY_SCENARIO: Scenario = { statements: [], errors: [], lineCount: 0 };

export interface AnalysisOptions {
  defaultKernel?: string | undefined;
  /** Called with an engine failure (a bug): the analysis still returns, with a diagnostic. */
  onEngineError?: (err: unknown) => void;
}

/** Parses and simulates `text`. Never throws: an engine failure becomes a diagnostic. */
export function analyse(text: string, options: AnalysisOptions = {}): Analysis {
  const started = performance.now();
  const screened = screenText(text);
  const inputDiagnostics = [...screened.diagnostics];
  let scenario = EMPTY_SCENARIO;
  let result: SimulationResult | undefined;
  let analysed = screened.analysed;
  if (analysed) {
    try {
      scenario = parseScenario(screened.text);
      result = simulate(scenario, options.defaultKernel ? { kernel: options.defaultKernel } : {});
    } catch (err) {
      options.onEngineError?.(err);
      analysed = false;
      inputDiagnostics.push({
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        severity: 'error',
        code: 'internal-error',
        message: `FUSE Lens could not check this scenario: ${err instanceof Error ? err.message : String(err)}. ` +
          'This is a bug in FUSE Lens; the server log has the details.',
      });
    }
  }
  const stepsByLine = new Map<number, StepResult>();
  for (const step of result?.steps ?? []) stepsByLine.set(step.line - 1, step);
  const statementsByLine = new Map<number, Statement>();
  for (const s of scenario.statements) statementsByLine.set(s.line, s);
  return {
    text,
    lines: text.split(/\r\n|\r|\n/),
    defaultKernel: options.defaultKernel,
    analysed,
    scenario,
    result,
    names: buildNameIndex(scenario),
    inputDiagnostics,
    stepsByLine,
    statementsByLine,
    elapsedMs: performance.now() - started,
  };
}

/** Every diagnostic of an analysis, input problems first. */
export function allDiagnostics(a: Analysis): Diagnostic[] {
  return a.result ? [...a.inputDiagnostics, ...a.result.diagnostics] : a.inputDiagnostics;
}
