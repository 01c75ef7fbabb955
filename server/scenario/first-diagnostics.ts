// The first diagnostics by position of a simulation the language server keeps from version
// to version (resume.ts): the 1,001 it publishes of a long scenario's 25,000. Picked from the
// diagnostics in the order found, in chunks (chunked-list.ts) that the versions share; a
// chunk whose earliest diagnostic would not be kept is passed over whole. An edit below the
// diagnostics picked (most edits of a long scenario) changes only chunks passed over: the
// pick is then the last version's, found again without pushing 2,000 diagnostics into a
// list and sorting them (2-4 ms of an edit's server CPU, bench/README.md).

import { comparePositions, DiagnosticList } from './diagnostic-list';
import type { Diagnostic } from './result';
import type { Position } from '../../protocol/scenario';

/** Entries [from, to) of an array never changed (a chunk), in the order the diagnostics were found. */
export type FoundPart = readonly [chunk: readonly Diagnostic[], from: number, to: number];

/** The earliest start of the diagnostics of a chunk (never changed: kept by the chunk). */
const earliest = new WeakMap<readonly Diagnostic[], Position>();

function earliestIn(chunk: readonly Diagnostic[]): Position {
  let min = earliest.get(chunk);
  if (!min) {
    for (const d of chunk) if (!min || comparePositions(d.range.start, min) < 0) min = d.range.start;
    earliest.set(chunk, min!);
  }
  return min!;
}

interface Picked {
  max: number;
  /** The parts up to the last one any diagnostic was taken from. */
  read: FoundPart[];
  /** The list they were picked into: its cutoff tells what the parts after them could change. */
  list: DiagnosticList;
  first: Diagnostic[];
}

/** The first diagnostics of a document's simulations, the last pick kept. */
export class FirstDiagnostics {
  private last: Picked | undefined;

  /** The first `max` by position (a stable sort) of the diagnostics of `parts`: the last version's array when it holds. */
  of(max: number, parts: readonly FoundPart[]): Diagnostic[] {
    const last = this.last;
    if (last && last.max === max && stillPicked(last, parts)) return last.first;
    const list = new DiagnosticList(max);
    let read = 0;
    parts.forEach(([chunk, from, to], k) => {
      if (from === 0 && to === chunk.length && !list.keeps(earliestIn(chunk))) return;
      for (let i = from; i < to; i++) list.push(chunk[i]!);
      read = k + 1;
    });
    const first = list.sorted();
    this.last = { max, read: parts.slice(0, read), list, first };
    return first;
  }
}

/**
 * The same parts up to the last read (so the list is as it was there), and after them none
 * with a diagnostic before the pick's last: those come later in the order found, so in the
 * stable sort after it, and none of them is picked.
 */
function stillPicked(last: Picked, parts: readonly FoundPart[]): boolean {
  const { read, list } = last;
  if (parts.length < read.length) return false;
  for (let k = 0; k < read.length; k++) {
    const [chunk, from, to] = parts[k]!;
    if (chunk !== read[k]![0] || from !== read[k]![1] || to !== read[k]![2]) return false;
  }
  for (let k = read.length; k < parts.length; k++) {
    const [chunk, from, to] = parts[k]!;
    if (from === 0 && to === chunk.length) {
      if (list.keeps(earliestIn(chunk))) return false;
    } else {
      for (let i = from; i < to; i++) if (list.keeps(chunk[i]!.range.start)) return false;
    }
  }
  return true;
}
