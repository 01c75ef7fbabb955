// `fuselens check` of a scenario with 1,000,000 errors (1,000,000 repeated
// `open a as h`, issue 15): wall and CPU time, peak RSS (and per line) and output size
// of the built CLI. Before the diagnostics were bounded: 31 s on a terminal, 1.7 GB
// and 99 MB of output; target (issue 14): under 3 s and 400 MB.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandUsage, fuselens, loadAverage } from './command-usage';
import { reportFigure } from './summary';

const dir = mkdtempSync(join(tmpdir(), 'fuselens-bench-check-'));
try {
  const file = join(dir, 'million.fusesim');
  const small = join(dir, 'thousand.fusesim');
  writeFileSync(file, 'file a\n' + 'open a as h\n'.repeat(1_000_000));
  writeFileSync(small, 'file a\n' + 'open a as h\n'.repeat(1_000));
  const out = join(dir, 'out');
  const base = commandUsage(fuselens, ['check', small], out);
  const u = commandUsage(fuselens, ['check', file], out);
  const perLine = ((u.peakMiB - base.peakMiB) * 2 ** 20) / 999_000;
  console.log(`check of 1,000,000 error lines (12 MB), load average ${loadAverage()}: ${u.wallS.toFixed(2)} s wall, ${u.cpuS.toFixed(2)} s CPU, ` +
    `peak RSS ${u.peakMiB.toFixed(0)} MiB (${perLine.toFixed(0)} B per line beyond 1,000 lines' ${base.peakMiB.toFixed(0)} MiB), ` +
    `${(u.outputBytes / 1e6).toFixed(2)} MB of output (exit ${u.status}) — target < 3 s and < 400 MB: ${u.wallS < 3 && u.peakMiB < 400 ? 'met' : 'NOT met'}`);
  reportFigure({
    figure: 'check, 1,000,000 error lines',
    value: `${u.wallS.toFixed(2)} s (CPU ${u.cpuS.toFixed(2)} s), ${u.peakMiB.toFixed(0)} MiB`,
    target: '< 3 s, < 400 MB',
    met: u.status === 1 && u.wallS < 3 && u.peakMiB < 400,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
