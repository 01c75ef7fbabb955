// The language server parses and simulates a document with each line labelled by
// an id instead of its number (issue 14: Enter pressed in a 100,000-line scenario
// must not move every statement, step and diagnostic below it). A line keeps its id
// while lines are inserted and deleted around it, and ids increase down the
// document, so an insert leaves everything already parsed and simulated as it is:
// the simulator uses a line only as a label, compares lines only for their order,
// and counts them from 1 by adding 1 (server/scenario/simulate.ts), so a run on ids
// is a run on lines relabelled. Lines are made from ids only for what is shown
// (the diagnostics published, a hover, the timeline).

import { renderMessage } from '../scenario/diagnostic-text';
import type { Scenario, Statement, SyntaxError } from '../scenario/ast';
import type { Diagnostic, SimulationResult, StepResult } from '../scenario/result';
import type { ChunkedList } from '../scenario/chunked-list';
import type { ChunkedScenario } from '../scenario/resume';

/**
 * Ids of a first parse are this far apart, so that this many lines fit between two of
 * them before the ones around an insert are given new ids (incremental-parse.ts);
 * small enough that 150,000 lines' ids stay small integers (V8's Smis: no boxed numbers).
 */
export const LINE_ID_SPACING = 8192;

/**
 * The keys under which the diagnostics' data hold lines (counted from 1). Lines are only
 * ever there, never inside words: a message's words may quote the user's text (a file
 * named "line 5"), which no rewriting may touch.
 */
const DATA_LINE_KEYS: ReadonlySet<string> = new Set(['line', 'wokeAt']);

/** What a diagnostic on line ids is with lines, and the highest id it holds (LineIds.sameLineBelow). */
export interface LinedDiagnostic {
  diagnostic: Diagnostic;
  highestId: number;
}

let made = 0;

/** A document's line ids, one per line, increasing: from an id to its line. */
export class LineIds {
  /** Tells these ids apart from every other LineIds (a number: a LineIds holds 800 KB at 100,000 lines, not to be kept alive). */
  readonly serial = ++made;

  /**
   * `from`: the serial of the ids these were made from by an edit, and `sameLineBelow`: every
   * id below it is on the same line in both (the lines above the edit). A diagnostic made with
   * lines there whose ids are all below it is the same here (analysis.ts keeps it).
   */
  constructor(readonly ids: ChunkedList<number>, readonly from = 0, readonly sameLineBelow = -Infinity) {}

  /** The 0-based line of an id of this document. */
  lineOf(id: number): number {
    const line = this.ids.countWhile((v) => v < id);
    if (line < this.ids.length && this.ids.at(line) === id) return line;
    // A label the simulator made from a line it was given: always one of the document's.
    throw new Error(`line id ${id} is not one of the document's`);
  }

  /** A line counted from 1 (step results, diagnostics' data). */
  countedLineOf(id1: number): number {
    return this.lineOf(id1 - 1) + 1;
  }

  /** A statement parsed on line `line` under its id, as parsed on `line` (every range of it is on its line). */
  statement<T extends Statement | SyntaxError>(s: T, line: number): T {
    return onLine(s, line);
  }

  scenario(s: ChunkedScenario): Scenario {
    return {
      statements: s.statements.slice().map((x) => this.statement(x, this.lineOf(x.line))),
      errors: s.errors.slice().map((e) => this.statement(e, this.lineOf(e.range.start.line))),
      lineCount: this.ids.length,
    };
  }

  step(s: StepResult): StepResult {
    const line = this.countedLineOf(s.line);
    return s.completedAt == null ? { ...s, line } : { ...s, line, completedAt: this.countedLineOf(s.completedAt) };
  }

  diagnostic(d: Diagnostic): Diagnostic {
    return this.linedDiagnostic(d).diagnostic;
  }

  /** `diagnostic`, with the highest id it holds (its range's lines, its data's). */
  linedDiagnostic(d: Diagnostic): LinedDiagnostic {
    const { start, end } = d.range;
    const range = { start: { line: this.lineOf(start.line), character: start.character }, end: { line: this.lineOf(end.line), character: end.character } };
    const highest = { id: Math.max(start.line, end.line) };
    if (!d.data) return { diagnostic: { ...d, range }, highestId: highest.id };
    const data = this.data(d.data, false, highest);
    // The words are made from the facts (diagnostic-text.ts): again where a line in them is another.
    return { diagnostic: data === d.data ? { ...d, range } : { ...d, range, data, message: renderMessage(data) }, highestId: highest.id };
  }

  result(r: SimulationResult): SimulationResult {
    return { ...r, steps: r.steps.map((s) => this.step(s)), diagnostics: r.diagnostics.map((d) => this.diagnostic(d)) };
  }

  /** Plain data with its lines made lines: the same object where none changed. `highest`: raised to each id met. */
  private data<T>(value: T, lineValued: boolean, highest: { id: number }): T {
    if (typeof value === 'number') {
      if (!lineValued) return value;
      highest.id = Math.max(highest.id, value - 1);
      return this.countedLineOf(value) as T;
    }
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const v = this.data(value[i] as unknown, false, highest);
        if (v !== value[i]) (out ??= value.slice())[i] = v;
      }
      return (out ?? value) as T;
    }
    const from = value as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const k of Object.keys(from)) {
      const v = this.data(from[k], DATA_LINE_KEYS.has(k), highest);
      if (v !== from[k]) (out ??= { ...from })[k] = v;
    }
    return (out ?? value) as T;
  }
}

/** A copy of a parse with every `line` (its own, its tokens' and its ranges') set to `line`. */
function onLine<T>(value: T, line: number): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => onLine(v, line)) as T;
  const from = value as Record<string, unknown>;
  // A Token keeps its class: its range is made from its line when asked.
  const out = Object.create(Object.getPrototypeOf(from) as object | null) as Record<string, unknown>;
  for (const k in from) {
    const v = from[k];
    out[k] = k === 'line' && typeof v === 'number' ? line : typeof v === 'object' && v !== null ? onLine(v, line) : v;
  }
  return out as T;
}
