// A simulation's diagnostics, kept up to a limit: the first N by position are
// kept, the rest only counted, so a scenario with a million errors costs the
// memory of N of them (issue 15: 1,000,000 repeated opens took 1.7 GB to check).
// The CLI (`check --max-diagnostics`) and the language server (publishing)
// share the default limit.

import type { Diagnostic } from './result';
import type { Position, Severity } from '../../protocol/scenario';

/** More than this many diagnostics in one file are counted, not shown, unless asked for. */
export const MAX_DIAGNOSTICS = 1000;

/** Negative when `a` comes before `b`. */
export const comparePositions = (a: Position, b: Position) => a.line - b.line || a.character - b.character;
const byPosition = (a: Diagnostic, b: Diagnostic) => comparePositions(a.range.start, b.range.start);

/** Sorts diagnostics in place by position, as DiagnosticList keeps them (a stable sort: equal positions keep their order). */
export function sortByPosition(diagnostics: Diagnostic[]): void {
  diagnostics.sort(byPosition);
}

export class DiagnosticList {
  private kept: Diagnostic[] = [];
  /** Every diagnostic pushed, the dropped included, by severity. */
  readonly counts: Record<Severity, number> = { error: 0, warning: 0, information: 0 };

  /**
   * Once `max` are kept, the position of the last of them: a diagnostic at or after it
   * would sort after them (the sort is stable) and is only counted.
   */
  private cutoff: Position | null = null;

  /** `max`: how many to keep (Infinity for all). */
  constructor(private readonly max: number) {}

  push(d: Diagnostic): void {
    this.add(d.range.start, d.severity, () => d);
  }

  /**
   * Counts a diagnostic at `start`, and keeps the one `make` builds unless it cannot be
   * among the first `max`: the simulation of a million denials renders the text of a
   * few thousand of them.
   */
  add(start: Position, severity: Severity, make: () => Diagnostic): void {
    this.counts[severity]++;
    if (!this.keeps(start)) return;
    this.kept.push(make());
    // Sorting once per `max` pushes keeps the cost n·log(max) and the memory 2·max.
    if (this.kept.length >= 2 * this.max + 64) this.prune();
  }

  /** Whether a diagnostic at `start` pushed now would be kept (none at or after the cutoff is). */
  keeps(start: Position): boolean {
    return !this.cutoff || comparePositions(start, this.cutoff) < 0;
  }

  /** The kept diagnostics in position order (a stable sort: equal positions keep their order). */
  sorted(): Diagnostic[] {
    this.prune();
    return this.kept;
  }

  private prune(): void {
    sortByPosition(this.kept);
    if (this.kept.length >= this.max) {
      this.kept.length = this.max;
      this.cutoff = this.max > 0 ? this.kept[this.max - 1]!.range.start : { line: -Infinity, character: 0 };
    }
  }
}
