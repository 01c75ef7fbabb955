// A simulation's diagnostics, kept up to a limit: the first N by position are
// kept, the rest only counted, so a scenario with a million errors costs the
// memory of N of them (issue 15: 1,000,000 repeated opens took 1.7 GB to check).
// The CLI (`check --max-diagnostics`) and the language server (publishing)
// share the default limit.

import type { Diagnostic } from './result';
import type { Severity } from '../../protocol/scenario';

/** More than this many diagnostics in one file are counted, not shown, unless asked for. */
export const MAX_DIAGNOSTICS = 1000;

const byPosition = (a: Diagnostic, b: Diagnostic) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character;

export class DiagnosticList {
  private kept: Diagnostic[] = [];
  /** Every diagnostic pushed, the dropped included, by severity. */
  readonly counts: Record<Severity, number> = { error: 0, warning: 0, information: 0 };

  /** `max`: how many to keep (Infinity for all). */
  constructor(private readonly max: number) {}

  push(d: Diagnostic): void {
    this.counts[d.severity]++;
    this.kept.push(d);
    // Sorting once per `max` pushes keeps the cost n·log(max) and the memory 2·max.
    if (this.kept.length >= 2 * this.max + 64) this.prune();
  }

  /** The kept diagnostics in position order (a stable sort: equal positions keep their order). */
  sorted(): Diagnostic[] {
    this.prune();
    return this.kept;
  }

  private prune(): void {
    this.kept.sort(byPosition);
    if (this.kept.length > this.max) this.kept.length = this.max;
  }
}
