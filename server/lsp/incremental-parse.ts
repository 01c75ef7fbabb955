// Re-parsing only the lines that changed. The language has one statement per
// line and parseScenario (server/scenario/parse.ts) parses each line on its
// own, so the parse of an unchanged line can be kept: lines before the edit as
// they are, lines after it moved by the number of lines inserted or removed.
// The result is the same Scenario a full parseScenario would give.

import type { Statement, SyntaxError, Scenario } from '../scenario/ast';
import type { LineEdit } from '../scenario/line-shift';
import { parseLine } from '../scenario/parse';

/** What one line parsed to. */
export interface LineParse {
  statement: Statement | undefined;
  error: SyntaxError | undefined;
}

export interface ParsedLines {
  lines: string[];
  perLine: LineParse[];
  scenario: Scenario;
  /**
   * Every line parses to what it did in the version this one was parsed from (an edit
   * inside a comment or blank space): the statements, ranges included, are the same,
   * so that version's simulation holds for this one.
   */
  sameStatements: boolean;
  /** The lines changed since the version this one was parsed from: every line below is its parse moved. */
  edit?: LineEdit;
}

/** A copy of a parsed value with every `line` number moved by `delta`. */
function moved<T>(value: T, delta: number): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => moved(v, delta)) as T;
  const from = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in from) {
    const v = from[k];
    out[k] = k === 'line' && typeof v === 'number' ? v + delta : typeof v === 'object' && v !== null ? moved(v, delta) : v;
  }
  return out as T;
}

/** One line, as parseScenario parses each line of a text. */
function parseOne(text: string, line: number): LineParse {
  const { statement, error } = parseLine(text, line);
  return { statement, error };
}

function parseAll(lines: string[]): ParsedLines {
  return assemble(lines, lines.map(parseOne), false);
}

/** Whether two parses of a line are the same (plain data: their JSON is). */
function sameParse(a: LineParse, b: LineParse): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function assemble(lines: string[], perLine: LineParse[], sameStatements: boolean): ParsedLines {
  const statements: Statement[] = [];
  const errors: SyntaxError[] = [];
  for (const p of perLine) {
    if (p.statement) statements.push(p.statement);
    if (p.error) errors.push(p.error);
  }
  return { lines, perLine, scenario: { statements, errors, lineCount: lines.length }, sameStatements };
}

/**
 * Parses `lines` (the text split as LSP and the parser split it), reusing
 * `previous` for the lines before and after the changed block.
 */
export function parseLines(lines: string[], previous?: ParsedLines): ParsedLines {
  if (!previous) return parseAll(lines);
  const old = previous.lines;
  let head = 0;
  const max = Math.min(old.length, lines.length);
  while (head < max && old[head] === lines[head]) head++;
  let tail = 0;
  while (tail < max - head && old[old.length - 1 - tail] === lines[lines.length - 1 - tail]) tail++;
  const delta = lines.length - old.length;
  // Moving the statements below an inserted line (a copy with new line numbers)
  // costs about two thirds of parsing them again.
  const perLine: LineParse[] = new Array(lines.length);
  for (let i = 0; i < head; i++) perLine[i] = previous.perLine[i]!;
  let same = delta === 0;
  for (let i = head; i < lines.length - tail; i++) {
    const fresh = parseOne(lines[i]!, i);
    // A line edited in place that parses as before keeps its parse (a comment typed, blanks changed).
    const before = delta === 0 ? previous.perLine[i]! : undefined;
    if (before && sameParse(fresh, before)) perLine[i] = before;
    else {
      perLine[i] = fresh;
      same = false;
    }
  }
  for (let i = lines.length - tail; i < lines.length; i++) {
    const p = previous.perLine[i - delta]!;
    perLine[i] = delta === 0 ? p : { statement: p.statement && moved(p.statement, delta), error: p.error && moved(p.error, delta) };
  }
  // Every line's parse is the previous one's: so is the scenario.
  if (same) return { lines, perLine, scenario: previous.scenario, sameStatements: true };
  return { ...assemble(lines, perLine, false), edit: { start: head, oldEnd: old.length - tail, delta } };
}
