// Simulator figures (issue 14, "Scenarios"):
//  1. `fuselens check`, `simulate` and `simulate --json` of a 1,000,000-step scenario
//     (test/lsp/big-scenario.ts stepScenario: opens, denials, shared mmaps, forks,
//     blocking writes) as child processes: wall and CPU time, peak RSS, output size,
//     and the memory per step (peak RSS beyond the same command on 1,000 steps).
//     Targets: each under 3 s and 400 MB. Yardstick: `node -e 0` in the same run.
//  2. In process: parse + simulate of 100,000 steps (target < 1 s), and the re-check of a
//     1,000-line scenario after a one-line edit (target: median < 10 ms).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { simulateScenario } from '../server/scenario/simulate';
import { stepScenario } from '../test/lsp/big-scenario';
import { commandUsage, fuselens, loadAverage } from './command-usage';
import { median, reportFigure } from './summary';

const MILLION = 1_000_000;
const dir = mkdtempSync(join(tmpdir(), 'fuselens-bench-sim-'));
try {
  const million = join(dir, 'million.fusesim');
  const small = join(dir, 'thousand.fusesim');
  const text = stepScenario(MILLION);
  writeFileSync(million, text);
  writeFileSync(small, stepScenario(1_000));
  const out = join(dir, 'out');
  const t0 = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  const nodeMs = performance.now() - t0;
  console.log(`1,000,000-step scenario (${(text.length / 1e6).toFixed(0)} MB), load average ${loadAverage()}, ` +
    `yardstick \`node -e 0\` ${nodeMs.toFixed(0)} ms`);
  for (const args of [['check'], ['simulate'], ['simulate', '--json']]) {
    const base = commandUsage(fuselens, [...args, small], out);
    const u = commandUsage(fuselens, [...args, million], out);
    const perStep = ((u.peakMiB - base.peakMiB) * 2 ** 20) / (MILLION - 1_000);
    const met = u.wallS < 3 && u.peakMiB < 400 ? 'met' : u.cpuS < 3 && u.peakMiB < 400 ? 'met in CPU time, not wall (load)' : 'NOT met';
    console.log(`  fuselens ${args.join(' ').padEnd(15)} ${u.wallS.toFixed(2)} s wall, ${u.cpuS.toFixed(2)} s CPU, peak RSS ${u.peakMiB.toFixed(0)} MiB ` +
      `(${perStep.toFixed(0)} B per step beyond 1,000 steps' ${base.peakMiB.toFixed(0)} MiB), ${(u.outputBytes / 1e6).toFixed(1)} MB out, exit ${u.status} ` +
      `— target < 3 s and < 400 MB: ${met}`);
    reportFigure({
      figure: `${args.join(' ')}, 1,000,000 steps`,
      value: `${u.wallS.toFixed(2)} s (CPU ${u.cpuS.toFixed(2)} s), ${u.peakMiB.toFixed(0)} MiB, ${perStep.toFixed(0)} B/step`,
      target: '< 3 s, < 400 MB',
      // Exit 1 is `check`'s verdict on the scenario's denials; 2 would be a failure of the command.
      met: (u.status === 0 || u.status === 1) && u.wallS < 3 && u.peakMiB < 400,
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const big = stepScenario(100_000);
const runs: number[] = [];
let result = simulateScenario('');
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  result = simulateScenario(big);
  runs.push(performance.now() - t0);
}
console.log(`in process, 100,000 steps kept (parse + simulate, as the editor does): first run ${runs[0]!.toFixed(0)} ms, ` +
  `then ${runs.slice(1).map((t) => t.toFixed(0)).join(', ')} ms; ${result.steps.length} steps, ` +
  `${result.diagnostics.length} diagnostics (target < 1000 ms)`);

const base = stepScenario(1_000).split('\n');
const times: number[] = [];
for (let k = 0; k < 200; k++) {
  const edited = [...base];
  const at = 30 + (k * 7) % (base.length - 40);
  edited[at] = k % 2 ? `${edited[at]} # edited` : `open f${k % 8} as edit${k}`;
  const s = performance.now();
  simulateScenario(edited.join('\n'));
  times.push(performance.now() - s);
}
let worst = 0;
for (const t of times) worst = Math.max(worst, t);
console.log(`re-check 1,000-line scenario after a one-line edit: median ${median(times).toFixed(2)} ms, ` +
  `max ${worst.toFixed(2)} ms over ${times.length} edits (target: median < 10 ms)`);
