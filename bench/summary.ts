// The headline figures of each benchmark, gathered by `npm run bench` (bench/run.ts) into
// one table at the end, each with the load average when it was measured (issue 14): a
// benchmark prints its details as it goes and reports its figures here as well.
// Outside `npm run bench` (one file run alone) nothing is gathered.

import { appendFileSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadavg } from 'node:os';

/** The middle of the values, sorted (the upper one of an even count; NaN for none): every benchmark's median. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** The file run.ts collects the figures in, one JSON line each. */
export const FIGURES_ENV = 'FUSELENS_BENCH_FIGURES';

export interface Figure {
  /** What was measured, e.g. "check, 1,000,000 steps: wall". */
  figure: string;
  /** The figure with its unit, as printed. */
  value: string;
  /** The target it is held against ("< 3 s"), or "" where it has none. */
  target: string;
  /** Whether it meets the target; undefined where it has none. */
  met?: boolean;
}

interface Recorded extends Figure {
  bench: string;
  load: number;
}

/** Reports one figure of the running benchmark. */
export function reportFigure(figure: Figure): void {
  const file = process.env[FIGURES_ENV];
  if (!file) return;
  const recorded: Recorded = { bench: basename(process.argv[1] ?? '?', '.bench.ts'), load: loadavg()[0]!, ...figure };
  appendFileSync(file, JSON.stringify(recorded) + '\n');
}

/** The table of every figure reported into `file`, as run.ts prints it. */
export function figureTable(file: string): string {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 'no figures were reported\n';
  }
  const rows = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Recorded);
  const cells = rows.map((r) => [r.bench, r.figure, r.value, r.target, r.met === undefined ? '' : r.met ? 'met' : 'NOT MET', r.load.toFixed(1)]);
  const header = ['bench', 'figure', 'value', 'target', '', 'load'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 2 || i === 5 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}
