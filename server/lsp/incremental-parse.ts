// Re-parsing only the lines that changed. The language has one statement per
// line and parseScenario (server/scenario/parse.ts) parses each line on its
// own, so the parse of an unchanged line can be kept. Each line is parsed under
// its id (line-ids.ts), not its number: lines inserted or deleted above a line
// leave its parse as it is, so an edit costs the lines it changed, whatever
// the document's length. LineIds.scenario makes the Scenario a full
// parseScenario would give. The per-line parse and the statements are chunked
// (server/scenario/chunked-list.ts): a version shares the chunks of its unchanged
// lines with the one before, where a copy of each 100,000-entry array cost
// milliseconds per version.

import type { Statement, SyntaxError } from '../scenario/ast';
import { ChunkedList } from '../scenario/chunked-list';
import { parseLine } from '../scenario/parse';
import type { ChunkedScenario } from '../scenario/resume';
import { LINE_ID_SPACING, LineIds } from './line-ids';

/** What one line parsed to. */
export interface LineParse {
  statement: Statement | undefined;
  error: SyntaxError | undefined;
}

export interface ParsedLines {
  lines: ChunkedList<string>;
  /** Each line's id: the `line` its parse was made with. */
  ids: LineIds;
  perLine: ChunkedList<LineParse>;
  /** The statements and errors, lines as ids. */
  scenario: ChunkedScenario;
  /**
   * Every statement and error is the one of the version this one was parsed from (an edit
   * inside a comment or blank space, blank lines or comments added or removed): with line
   * ids, that version's simulation holds for this one as it is.
   */
  sameStatements: boolean;
}

/** One line, as parseScenario parses each line of a text, under its id. */
function parseOne(text: string, id: number): LineParse {
  const { statement, error } = parseLine(text, id);
  return { statement, error };
}

/** A blank line or a comment. */
function isEmpty(p: LineParse): boolean {
  return !p.statement && !p.error;
}

/** Whether two parses of a line are the same (plain data: their JSON is). */
function sameParse(a: LineParse, b: LineParse): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The statements and errors of some lines' parses. */
function assemble(perLine: readonly LineParse[]): { statements: Statement[]; errors: SyntaxError[] } {
  const statements: Statement[] = [];
  const errors: SyntaxError[] = [];
  for (const p of perLine) {
    if (p.statement) statements.push(p.statement);
    if (p.error) errors.push(p.error);
  }
  return { statements, errors };
}

/**
 * The ids of a version whose lines [head, newLength - tail) replaced the lines
 * [head, oldLength - tail) of one with `old` ids: the changed block keeps its lines'
 * ids in order as far as it has as many lines, and the lines it has more get ids
 * between the last kept one and the line below. Where there is no room between, the
 * line below is taken into the block (so parsed again, under a new id): `tail` is
 * what is left of the unchanged lines below.
 */
function idsAfterEdit(old: LineIds, oldLength: number, newLength: number, tail: number): { ids: LineIds; tail: number } {
  if (oldLength === newLength) return { ids: old, tail };
  const from = old.ids;
  for (;;) {
    // The lines before the ones given ids: those above the block, and as many of it as there were.
    const kept = Math.min(oldLength, newLength) - tail;
    const more = newLength - tail - kept;
    const low = kept > 0 ? from.at(kept - 1) : -1;
    const high = tail > 0 ? from.at(oldLength - tail) : Infinity;
    const step = high === Infinity ? LINE_ID_SPACING : (high - low) / (more + 1);
    if (more > 0 && step < 1) {
      tail--;
      continue;
    }
    const added: number[] = [];
    for (let j = 0; j < more; j++) added.push(low + Math.floor(step * (j + 1)));
    // Chunked, the ids above and below the block are shared with the old ones (an array of
    // them made again cost 2-7 ms of an Enter's CPU at 100,000 lines). The lines above the
    // block and its first `kept` keep their ids and their lines.
    return { ids: new LineIds(from.replaced(kept, oldLength - tail, added), old.serial, kept > 0 ? low + 1 : -Infinity), tail };
  }
}

/**
 * Parses `lines` (the text split as LSP and the parser split it), reusing
 * `previous` for the lines before and after the changed block. Unchanged lines
 * are found by identity: a document's versions share the chunks of their
 * unchanged lines (document-lines.ts), whose strings are the same.
 */
export function parseLines(given: readonly string[] | ChunkedList<string>, previous?: ParsedLines): ParsedLines {
  const lines = given instanceof ChunkedList ? given : ChunkedList.of(given);
  if (!previous) {
    const ids: number[] = [];
    for (let i = 0; i < lines.length; i++) ids.push(i * LINE_ID_SPACING);
    const perLine: LineParse[] = [];
    lines.forEach((text) => perLine.push(parseOne(text, ids[perLine.length]!)));
    const { statements, errors } = assemble(perLine);
    return {
      lines, ids: new LineIds(ChunkedList.of(ids)), perLine: ChunkedList.of(perLine), sameStatements: false,
      scenario: { statements: ChunkedList.of(statements), errors: ChunkedList.of(errors), lineCount: lines.length },
    };
  }
  const old = previous.lines;
  const identical = (a: string, b: string) => a === b;
  const head = old.sameHead(lines, identical);
  let tail = Math.min(old.sameTail(lines, identical), Math.min(old.length, lines.length) - head);
  const made = idsAfterEdit(previous.ids, old.length, lines.length, tail);
  const ids = made.ids;
  tail = made.tail;
  // Lines removed that held a statement or an error: the scenario is another.
  let same = true;
  previous.perLine.forEach((p) => {
    if (!isEmpty(p)) same = false;
  }, lines.length - tail, old.length - tail);
  // The lines [head, lines.length - tail) parsed; those above and below are previous's.
  const changed: LineParse[] = [];
  for (let i = head; i < lines.length - tail; i++) {
    const fresh = parseOne(lines.at(i), ids.ids.at(i));
    // A line that keeps its id and parses as before keeps its parse (a comment typed, blanks changed).
    const before = i < old.length - tail ? previous.perLine.at(i) : undefined;
    if (before && sameParse(fresh, before)) changed.push(before);
    else {
      changed.push(fresh);
      if (before || !isEmpty(fresh)) same = false;
    }
  }
  const perLine = previous.perLine.replaced(head, old.length - tail, changed);
  // Every statement and error is the previous one's (blank lines or comments added or removed besides): so is the scenario.
  if (same) return { lines, ids, perLine, scenario: lines.length === old.length ? previous.scenario : { ...previous.scenario, lineCount: lines.length }, sameStatements: true };
  // The previous scenario's statements and errors above and below the block, the block's between.
  const oldIds = previous.ids.ids;
  const blockStart = head < old.length ? oldIds.at(head) : Infinity;
  const blockEnd = tail > 0 ? oldIds.at(old.length - tail) : Infinity;
  const block = assemble(changed);
  const { statements, errors } = previous.scenario;
  const lineOf = (s: Statement) => s.line;
  const errorLineOf = (e: SyntaxError) => e.range.start.line;
  return {
    lines, ids, perLine, sameStatements: false,
    scenario: {
      statements: onLinesReplaced(statements, block.statements, lineOf, blockStart, blockEnd),
      errors: onLinesReplaced(errors, block.errors, errorLineOf, blockStart, blockEnd),
      lineCount: lines.length,
    },
  };
}

/** `items` (in line order) with those on lines [from, to) replaced by `between`. */
function onLinesReplaced<T>(items: ChunkedList<T>, between: T[], lineOf: (item: T) => number, from: number, to: number): ChunkedList<T> {
  return items.replaced(countBefore(items, lineOf, from), countBefore(items, lineOf, to), between);
}

/** How many of `items` (in line order) are on lines before `line`. */
function countBefore<T>(items: ChunkedList<T>, lineOf: (item: T) => number, line: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lineOf(items.at(mid)) < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
