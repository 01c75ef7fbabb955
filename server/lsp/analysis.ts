// One document's parse and simulation, computed once per version and shared
// by every feature (diagnostics, hover, completion, code actions...). The
// parser and simulator are the same ones the CLI uses (server/scenario).
//
// Given the analysis of the previous version, only the changed lines are
// parsed again (incremental-parse.ts), and the simulation resumes from its
// last checkpoint before the first changed step and stops where its state
// meets the previous one's (server/scenario/resume.ts); when every line parses
// as it did (an edit inside a comment or blank space) the previous simulation
// holds as it is. What only hovers and navigation need (the name index) is
// built on first use.

import type { Scenario, Statement } from '../scenario/ast';
import type { Diagnostic, SimulationResult, StepResult } from '../scenario/result';
import { startResumable, type ResumableSimulation, type SimulationJob } from '../scenario/resume';
import { parseLines, type ParsedLines } from './incremental-parse';
import { screenText, splitLines } from './input-limits';
import { buildNameIndex, type NameIndex } from './names';

export interface Analysis {
  /** The text as the editor has it. */
  text: string;
  /** Its lines (split on \n, \r\n and \r, as LSP and the parser count them). */
  lines: string[];
  /** The default kernel the simulation was run with (a `kernel` line overrides it). */
  defaultKernel: string | undefined;
  /** False when the input was refused (binary, too large) or the engine failed. */
  analyzed: boolean;
  scenario: Scenario;
  result: SimulationResult | undefined;
  /** The simulation with its checkpoints, for the next version's to resume from. */
  simulation: ResumableSimulation | undefined;
  /** Declarations and uses of names (built on first use). */
  readonly names: NameIndex;
  /** Problems of the input (binary, long lines, bad UTF-8) and of the engine itself. */
  inputDiagnostics: Diagnostic[];
  /** Step results by 0-based line (built on first use). */
  readonly stepsByLine: Map<number, StepResult>;
  /** Statements by 0-based line (built on first use). */
  readonly statementsByLine: Map<number, Statement>;
  /** Milliseconds spent screening, parsing and simulating. */
  elapsedMs: number;
  /** The per-line parse, for the next version's incremental parse. */
  parsed: ParsedLines | undefined;
}

const EMPTY_SCENARIO: Scenario = { statements: [], errors: [], lineCount: 0 };

export interface AnalysisOptions {
  defaultKernel?: string | undefined;
  /** The analysis of an earlier version of the same document: its unchanged lines are not parsed again. */
  previous?: Analysis | undefined;
  /** Called with an engine failure (a bug): the analysis still returns, with a diagnostic. */
  onEngineError?: (err: unknown) => void;
}

/**
 * The last few analyses, by text and kernel: the timeline's fuselens/simulate
 * request asks about the text the diagnostics were just computed for, and gets
 * that analysis instead of a second simulation. Small documents only.
 */
const recent: Analysis[] = [];
const RECENT_COUNT = 4;
const RECENT_MAX_CHARS = 256 * 1024;

/** An analysis under way: its simulation run in slices (analysis-cache.ts) or at once. */
export interface PendingAnalysis {
  /** Works until `deadline` (a performance.now() time): the analysis once done. Never throws. */
  runUntil(deadline: number): Analysis | undefined;
}

/** Parses and simulates `text`. Never throws: an engine failure becomes a diagnostic. */
export function analyze(text: string, options: AnalysisOptions = {}): Analysis {
  return startAnalysis(text, options).runUntil(Infinity)!;
}

/** `analyze`, to be run in slices. */
export function startAnalysis(text: string, options: AnalysisOptions = {}): PendingAnalysis {
  const hit = recent.find((a) => a.defaultKernel === options.defaultKernel && a.text === text);
  if (hit) return { runUntil: () => hit };
  const pending = startAfresh(text, options);
  return {
    runUntil(deadline) {
      const analysis = pending.runUntil(deadline);
      if (analysis && text.length <= RECENT_MAX_CHARS && analysis.analyzed && !recent.includes(analysis)) {
        recent.unshift(analysis);
        recent.length = Math.min(recent.length, RECENT_COUNT);
      }
      return analysis;
    },
  };
}

/** `analyze` without the memo of recent analyses (for measurements and tests). */
export function analyzeAfresh(text: string, options: AnalysisOptions = {}): Analysis {
  return startAfresh(text, options).runUntil(Infinity)!;
}

function startAfresh(text: string, options: AnalysisOptions): PendingAnalysis {
  const started = performance.now();
  const lines = splitLines(text);
  const screened = screenText(text, lines);
  const inputDiagnostics = [...screened.diagnostics];
  let scenario = EMPTY_SCENARIO;
  let parsed: ParsedLines | undefined;
  let job: SimulationJob | undefined;
  let analyzed = screened.analyzed;
  const failed = (err: unknown) => {
    options.onEngineError?.(err);
    analyzed = false;
    parsed = undefined;
    inputDiagnostics.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: 'error',
      code: 'internal-error',
      message: `FUSE Lens could not check this scenario: ${err instanceof Error ? err.message : String(err)}. ` +
        'This is a bug in FUSE Lens; the server log has the details.',
    });
  };
  if (analyzed) {
    try {
      parsed = parseLines(screened.lines, options.previous?.parsed);
      scenario = parsed.scenario;
      job = simulationOf(parsed, options.defaultKernel, options.previous);
    } catch (err) {
      failed(err);
    }
  }
  let elapsedMs = performance.now() - started;
  let done: Analysis | undefined;
  return {
    runUntil(deadline) {
      if (done) return done;
      const slice = performance.now();
      let simulation: ResumableSimulation | undefined;
      if (job && analyzed) {
        try {
          simulation = job.runUntil(deadline);
        } catch (err) {
          failed(err);
        }
      }
      elapsedMs += performance.now() - slice;
      if (analyzed && !simulation) return undefined;
      done = assembled(text, lines, options, analyzed, scenario, simulation, inputDiagnostics, parsed, elapsedMs);
      return done;
    },
  };
}

function assembled(
  text: string, lines: string[], options: AnalysisOptions, analyzed: boolean, scenario: Scenario, simulation: ResumableSimulation | undefined,
  inputDiagnostics: Diagnostic[], parsed: ParsedLines | undefined, elapsedMs: number,
): Analysis {
  const result = simulation?.result;
  const previous = options.previous;
  let stepsByLine: Map<number, StepResult> | undefined = result && result === previous?.result ? previous.stepsByLine : undefined;
  let names: NameIndex | undefined;
  let statementsByLine: Map<number, Statement> | undefined;
  return {
    text,
    lines,
    defaultKernel: options.defaultKernel,
    analyzed,
    scenario,
    result,
    simulation,
    get names() {
      return (names ??= buildNameIndex(scenario));
    },
    inputDiagnostics,
    get stepsByLine() {
      if (!stepsByLine) {
        stepsByLine = new Map();
        for (const step of result?.steps ?? []) stepsByLine.set(step.line - 1, step);
      }
      return stepsByLine;
    },
    get statementsByLine() {
      if (!statementsByLine) {
        statementsByLine = new Map();
        for (const s of scenario.statements) statementsByLine.set(s.line, s);
      }
      return statementsByLine;
    },
    elapsedMs,
    parsed,
  };
}

/**
 * The simulation of a parse under a default kernel: the previous analysis's when every
 * statement is as it was there (an edit in a comment or blank space), since the same
 * statements simulate the same; else resumed from it (another kernel: simulated afresh).
 */
export function simulationOf(
  parsed: ParsedLines, defaultKernel: string | undefined, previous?: Pick<Analysis, 'simulation' | 'defaultKernel'>,
): SimulationJob {
  const kept = previous?.simulation;
  if (parsed.sameStatements && kept && previous.defaultKernel === defaultKernel) return { runUntil: () => kept };
  return startResumable(parsed.scenario, defaultKernel ? { kernel: defaultKernel } : {}, kept, undefined, parsed.edit);
}

/** Every diagnostic of an analysis, input problems first. */
export function allDiagnostics(a: Analysis): Diagnostic[] {
  return a.result ? [...a.inputDiagnostics, ...a.result.diagnostics] : a.inputDiagnostics;
}
