// The simulation's diagnostics (lines as ids, line-ids.ts) made with lines for publishing,
// kept from version to version of a document. A long scenario publishes its first 1,001
// diagnostics at every version, and an edit below them (most edits of a 100,000-line
// scenario) leaves them as they were: made again each time, with their messages rendered
// again, they were a large part of what an edit cost (bench/README.md).

import type { Diagnostic } from '../scenario/result';
import type { LinedDiagnostic, LineIds } from './line-ids';

/** What was made with lines, and the serial of the ids it holds for. */
interface Kept {
  ids: number;
  highestId: number;
}

/**
 * Made with lines under ids X, it holds under X, and under ids made from X by an edit below
 * every line it names. Seen to hold, it is marked as holding under `ids`, so that the next
 * version's check compares with these.
 */
function holds(kept: Kept, ids: LineIds): boolean {
  if (kept.ids !== ids.serial && (kept.ids !== ids.from || kept.highestId >= ids.sameLineBelow)) return false;
  kept.ids = ids.serial;
  return true;
}

/** One document's diagnostics with lines, shared by its versions' analyses (analysis.ts). */
export class LinedDiagnostics {
  private readonly each = new WeakMap<Diagnostic, LinedDiagnostic & Kept>();
  /** The last list made, and what it was made of: the same list again when those are the same. */
  private last: (Kept & { onIds: readonly Diagnostic[]; lined: readonly Diagnostic[] }) | undefined;

  /** `onIds` with lines under `ids`: the array made last time when they are the same diagnostics, on the same lines. */
  of(onIds: readonly Diagnostic[], ids: LineIds): readonly Diagnostic[] {
    const last = this.last;
    if (last && sameItems(last.onIds, onIds) && holds(last, ids)) return last.lined;
    let highestId = -Infinity;
    const lined = onIds.map((d) => {
      let made = this.each.get(d);
      if (!made || !holds(made, ids)) this.each.set(d, (made = { ...ids.linedDiagnostic(d), ids: ids.serial }));
      highestId = Math.max(highestId, made.highestId);
      return made.diagnostic;
    });
    this.last = { onIds, lined, ids: ids.serial, highestId };
    return lined;
  }
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
