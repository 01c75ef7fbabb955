// One document's parse and simulation, computed once per version and shared
// by every feature (diagnostics, hover, completion, code actions...). The
// parser and simulator are the same ones the CLI uses (server/scenario).
//
// Given the analysis of the previous version, only the changed lines are
// parsed again (incremental-parse.ts), and the simulation resumes from its
// last checkpoint before the first changed step and stops where its state
// meets the previous one's (server/scenario/resume.ts); when every line parses
// as it did (an edit inside a comment or blank space) the previous simulation
// holds as it is. Both are made on line ids (line-ids.ts), so that lines
// inserted or deleted leave the rest as it was; the lines are made only for
// what is shown: the diagnostics published, and the scenario and result on
// first use by a feature. What only hovers and navigation need (the name
// index) is built on first use too.

import type { Scenario, Statement } from '../scenario/ast';
import type { Diagnostic, SimulationResult, StepResult } from '../scenario/result';
import { CHECKPOINT_EVERY, startResumable, type ResumableSimulation, type SimulationJob } from '../scenario/resume';
import { parseLines, type ParsedLines } from './incremental-parse';
import { scenarioText, screenText, type ScenarioText } from './input-limits';
import { LinedDiagnostics } from './lined-diagnostics';
import { buildNameIndex, type NameIndex } from './names';

export interface Analysis {
  /** The text as the editor has it (made on first use from a document's lines). */
  readonly text: string;
  /** Its lines (split on \n, \r\n and \r, as LSP and the parser count them), as an array made on first use. */
  readonly lines: string[];
  /** Line `i` of the text, without making the array of them all. */
  line(i: number): string | undefined;
  /** The default kernel the simulation was run with (a `kernel` line overrides it). */
  defaultKernel: string | undefined;
  /** False when the input was refused (binary, too large) or the engine failed. */
  analyzed: boolean;
  /** The parse (made on first use, from `parsed`). */
  readonly scenario: Scenario;
  /** The simulation's result (made on first use, from `simulation`). */
  readonly result: SimulationResult | undefined;
  /** The simulation with its checkpoints, for the next version's to resume from; lines as ids. */
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
  /** The per-line parse, for the next version's incremental parse; lines as ids. */
  parsed: ParsedLines | undefined;
  /**
   * The first `max` of allDiagnostics, and how many there are in all: the lines made only for
   * those. The same array as the last version's when they are the same (lined-diagnostics.ts).
   */
  firstDiagnostics(max: number): { first: readonly Diagnostic[]; total: number };
  /** The simulation's diagnostics made with lines, shared by a document's versions. */
  readonly withLines: LinedDiagnostics;
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
export function analyze(text: string | ScenarioText, options: AnalysisOptions = {}): Analysis {
  return startAnalysis(text, options).runUntil(Infinity)!;
}

/** `analyze`, to be run in slices. */
export function startAnalysis(given: string | ScenarioText, options: AnalysisOptions = {}): PendingAnalysis {
  const text = typeof given === 'string' ? scenarioText(given) : given;
  const hit = text.length <= RECENT_MAX_CHARS ? recent.find((a) => a.defaultKernel === options.defaultKernel && a.text === text.text()) : undefined;
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
export function analyzeAfresh(text: string | ScenarioText, options: AnalysisOptions = {}): Analysis {
  return startAfresh(typeof text === 'string' ? scenarioText(text) : text, options).runUntil(Infinity)!;
}

function startAfresh(text: ScenarioText, options: AnalysisOptions): PendingAnalysis {
  const started = performance.now();
  const screened = screenText(text);
  const inputDiagnostics = [...screened.diagnostics];
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
      done = assembled(text, options, analyzed, simulation, inputDiagnostics, parsed, elapsedMs);
      return done;
    },
  };
}

function assembled(
  text: ScenarioText, options: AnalysisOptions, analyzed: boolean, simulation: ResumableSimulation | undefined,
  inputDiagnostics: Diagnostic[], parsed: ParsedLines | undefined, elapsedMs: number,
): Analysis {
  const previous = options.previous;
  // What is the previous version's, line ids included, is shown as it was shown there.
  const sameIds = parsed !== undefined && parsed.ids === previous?.parsed?.ids;
  const sameResult = sameIds && simulation !== undefined && simulation === previous!.simulation;
  const sameScenario = sameIds && parsed.scenario === previous!.parsed!.scenario;
  // Held weakly: each version held the one before it, every version of a long document stayed
  // in memory (3.5 MB an edit at 100,000 lines, and the collector marked them all again and
  // again). Once collected, what it showed is made again, the same.
  const shownBefore = previous && (sameResult || sameScenario) ? new WeakRef(previous) : undefined;
  let scenario: Scenario | undefined;
  let result: SimulationResult | undefined;
  let stepsByLine: Map<number, StepResult> | undefined;
  let names: NameIndex | undefined;
  let statementsByLine: Map<number, Statement> | undefined;
  let lines: string[] | undefined;
  const withLines = previous?.withLines ?? new LinedDiagnostics();
  const analysis: Analysis = {
    get text() {
      return text.text();
    },
    get lines() {
      return (lines ??= text.lines.slice());
    },
    line: (i) => (i >= 0 && i < text.lines.length ? text.lines.at(i) : undefined),
    defaultKernel: options.defaultKernel,
    analyzed,
    get scenario() {
      if (!parsed) return EMPTY_SCENARIO;
      return (scenario ??= (sameScenario ? shownBefore?.deref()?.scenario : undefined) ?? parsed.ids.scenario(parsed.scenario));
    },
    get result() {
      if (!simulation || !parsed) return undefined;
      return (result ??= (sameResult ? shownBefore?.deref()?.result : undefined) ?? parsed.ids.result(simulation.result));
    },
    simulation,
    get names() {
      return (names ??= buildNameIndex(analysis.scenario));
    },
    inputDiagnostics,
    get stepsByLine() {
      if (!stepsByLine && sameResult) stepsByLine = shownBefore?.deref()?.stepsByLine;
      if (!stepsByLine) {
        stepsByLine = new Map();
        for (const step of analysis.result?.steps ?? []) stepsByLine.set(step.line - 1, step);
      }
      return stepsByLine;
    },
    get statementsByLine() {
      if (!statementsByLine) {
        statementsByLine = new Map();
        for (const s of analysis.scenario.statements) statementsByLine.set(s.line, s);
      }
      return statementsByLine;
    },
    elapsedMs,
    parsed,
    withLines,
    firstDiagnostics(max) {
      const total = inputDiagnostics.length + (simulation && parsed ? simulation.diagnosticCount : 0);
      const first = inputDiagnostics.slice(0, max);
      if (!simulation || !parsed) return { first, total };
      // Those of the simulation in lines: the result's if a feature made it, else only these made with lines.
      if (result) for (const d of result.diagnostics.slice(0, max - first.length)) first.push(d);
      else {
        const lined = withLines.of(simulation.firstDiagnostics(max - first.length), parsed.ids);
        if (first.length === 0) return { first: lined, total };
        for (const d of lined) first.push(d);
      }
      return { first, total };
    },
  };
  return analysis;
}

/**
 * The simulation of a parse under a default kernel: the previous analysis's when every
 * statement is as it was there (an edit in a comment or blank space), since the same
 * statements simulate the same; else resumed from it (another kernel: simulated afresh).
 * A simulation afresh leaves its checkpoints for later (resume.ts): its diagnostics are
 * published first, then analysis-cache.ts has them made in slices.
 */
export function simulationOf(
  parsed: ParsedLines, defaultKernel: string | undefined, previous?: Pick<Analysis, 'simulation' | 'defaultKernel'>,
): SimulationJob {
  const kept = previous?.simulation;
  if (parsed.sameStatements && kept && previous.defaultKernel === defaultKernel) return { runUntil: () => kept };
  return startResumable(parsed.scenario, defaultKernel ? { kernel: defaultKernel } : {}, kept, CHECKPOINT_EVERY, true);
}

/** Every diagnostic of an analysis, input problems first. */
export function allDiagnostics(a: Analysis): Diagnostic[] {
  return a.result ? [...a.inputDiagnostics, ...a.result.diagnostics] : a.inputDiagnostics;
}
