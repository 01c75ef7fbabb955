// Lines inserted or deleted above a part of a scenario move that part's line
// numbers, and nothing else about it: the simulator uses a line only as a label
// (where a statement is, where a process exited, a handle failed, a call woke)
// and for the words of a diagnostic. So a state, a step result or a diagnostic of
// the old version is the new version's with its lines moved (resume.ts meets the
// old run after an insert, and reuses what it found beyond, moved).

import { renderMessage } from './diagnostic-text';
import type { Renumbering } from './object-graph';
import type { Diagnostic, StepResult } from './result';

/** An edit in line terms: old lines [start, oldEnd) became new lines [start, oldEnd + delta). */
export interface LineEdit {
  start: number;
  oldEnd: number;
  delta: number;
}

/** Edits in the order made: from the lines of a kept state to the current document's. */
export type LineMap = readonly LineEdit[];

/**
 * The keys under which the simulator's state, its step results and diagnostics hold
 * lines (0-based in statements and state, 1-based in results and diagnostic data);
 * anything numeric inside `failedHandles` is. Every field of the simulator that holds
 * a line must be listed: one that is not is compared and reused unmoved, so a checkpoint
 * reused below a shift would keep an old line (test/lsp/resume-property.test.ts finds it).
 */
export const LINE_KEYS: ReadonlySet<string> = new Set([
  'line', 'exitedAt', 'unmountedAt', 'abortedAt', 'connectionGoneAt', 'completedAt', 'wokeAt', 'failedHandles',
]);

/**
 * A 0-based line moved by one edit: lines before it stay, lines after it move by
 * `delta`, a changed line keeps its number while the new block still has it.
 */
function moveLine(e: LineEdit, y: number): number | undefined {
  if (y < e.start) return y;
  if (y >= e.oldEnd) return y + e.delta;
  return y < e.oldEnd + e.delta ? y : undefined;
}

function moveAll(map: LineMap, y: number): number | undefined {
  let v: number | undefined = y;
  for (const e of map) {
    if (v === undefined) return undefined;
    v = moveLine(e, v);
  }
  return v;
}

/** Where lines are counted from: 0 in statements (LSP ranges), 1 in step results and diagnostic data. */
type Base = 0 | 1;

function moveCounted(map: LineMap, line: number, base: Base): number | undefined {
  const moved = moveAll(map, line - base);
  return moved === undefined ? undefined : moved + base;
}

/**
 * Moving the lines of a simulator state (for copyGraph and sameGraph): statements and
 * the simulator's own fields count from 0; the step results it holds (a blocked
 * step waiting for its wake-up) from 1. Undefined for no edit.
 */
export function stateRenumbering(map: LineMap): Renumbering | undefined {
  if (map.length === 0) return undefined;
  return { keys: LINE_KEYS, move: (line, key, holder) => moveCounted(map, line, key === 'completedAt' || (key === 'line' && isStepResult(holder)) ? 1 : 0) };
}

/** A StepResult (protocol/scenario.ts) in the state: the shape onStep is given. */
function isStepResult(o: object): boolean {
  return 'action' in o && 'outcome' in o && 'inodes' in o;
}

/** Thrown when a value holds a line the map cannot move. */
class Unmovable extends Error {}

/**
 * `value` (plain data) with the numbers under LINE_KEYS, counted from `base`, moved:
 * the same object where nothing in it moved, so that most facts are not copied.
 */
function movedData<T>(value: T, map: LineMap, base: Base, lineValued = false): T {
  if (typeof value === 'number' && lineValued) {
    const v = moveCounted(map, value, base);
    if (v === undefined) throw new Unmovable();
    return v as T;
  }
  // A line inside a sentence cannot be moved (a diagnostic's words are made from its data).
  if (typeof value === 'string' && /\bline \d/.test(value)) throw new Unmovable();
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = movedData(value[i] as unknown, map, base, lineValued);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return (out ?? value) as T;
  }
  const from = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(from)) {
    const v = movedData(from[k], map, base, LINE_KEYS.has(k));
    if (v !== from[k]) (out ??= { ...from })[k] = v;
  }
  return (out ?? value) as T;
}

/** Steps moved by `map`, or undefined when one holds a line it cannot move. */
export function movedSteps(steps: readonly StepResult[], map: LineMap): StepResult[] | undefined {
  if (map.length === 0) return steps.slice();
  const out: StepResult[] = new Array(steps.length);
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i]!;
    const line = moveCounted(map, s.line, 1);
    if (line === undefined) return undefined;
    if (s.completedAt == null) out[i] = { ...s, line };
    else {
      const completedAt = moveCounted(map, s.completedAt, 1);
      if (completedAt === undefined) return undefined;
      out[i] = { ...s, line, completedAt };
    }
  }
  return out;
}

/** Diagnostics moved by `map`, their words made again where a line they name moved; undefined when one cannot be moved. */
export function movedDiagnostics(found: readonly Diagnostic[], map: LineMap): Diagnostic[] | undefined {
  if (map.length === 0) return found.slice();
  const out: Diagnostic[] = new Array(found.length);
  try {
    for (let i = 0; i < found.length; i++) {
      const d = found[i]!;
      const range = movedData(d.range, map, 0);
      if (!d.data) {
        movedData(d.message, map, 0);
        out[i] = { ...d, range };
        continue;
      }
      const data = movedData(d.data, map, 1);
      out[i] = data === d.data ? { ...d, range } : { ...d, range, message: renderMessage(data), data };
    }
  } catch (err) {
    if (err instanceof Unmovable) return undefined;
    throw err;
  }
  return out;
}
