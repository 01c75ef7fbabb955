// Simulator figures: a generated 100,000-step scenario (target < 1 s) and the
// re-check of a 1,000-line scenario after a one-line edit (target: median < 10 ms).

import { performance } from 'node:perf_hooks';
import { simulateScenario } from '../server/scenario/simulate';

/** A scenario that exercises every kind of step: opens, denials, mmaps, forks, blocking writes. */
function generate(steps: number): string {
  const lines = ['kernel 6.18', 'init passthrough direct_io_allow_mmap'];
  for (let i = 0; i < 8; i++) lines.push(`file f${i}`, `backing b${i}`);
  lines.push('process w', 'process r');
  const block = (i: number, k: number) => [
    `open f${k} as c${i}`,
    `open f${k} as p${i} reply passthrough backing=b${k}`,
    `mmap c${i} shared as m${i}`,
    `close c${i}`,
    `munmap m${i}`,
    `open f${k} as q${i} reply passthrough backing=b${k}`,
    `mmap q${i} shared as n${i}`,
    `fork as k${i}`,
    `k${i}: exit`,
    `close q${i}`,
    `w: open f${k} as d${i} reply direct_io parallel_direct_writes`,
    `w: write d${i} begin as x${i}`,
    `r: open f${k} as e${i}`,
    `write x${i} end`,
    `r: close e${i}`,
    `w: close d${i}`,
    `munmap n${i}`,
  ];
  let i = 0;
  while (lines.length < steps) lines.push(...block(i, i % 8), ''), i++;
  return lines.join('\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const big = generate(100_000);
const rssBefore = process.memoryUsage().rss;
const runs: number[] = [];
let result = simulateScenario('');
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  result = simulateScenario(big);
  runs.push(performance.now() - t0);
}
const rssAfter = process.memoryUsage().rss;
console.log(`simulate 100,000-line scenario (parse + simulate): first run ${runs[0]!.toFixed(0)} ms, ` +
  `then ${runs.slice(1).map((t) => t.toFixed(0)).join(', ')} ms; ${result.steps.length} steps, ` +
  `${result.diagnostics.length} diagnostics (target < 1000 ms)`);
console.log(`  memory: rss ${(rssAfter / 2 ** 20).toFixed(0)} MiB (+${((rssAfter - rssBefore) / 2 ** 20).toFixed(0)} MiB for the run), ` +
  `peak heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);

const base = generate(1_000).split('\n');
const times: number[] = [];
for (let k = 0; k < 200; k++) {
  const edited = [...base];
  const at = 30 + (k * 7) % (base.length - 40);
  edited[at] = k % 2 ? `${edited[at]} # edited` : `open f${k % 8} as edit${k}`;
  const s = performance.now();
  simulateScenario(edited.join('\n'));
  times.push(performance.now() - s);
}
console.log(`re-check 1,000-line scenario after a one-line edit: median ${median(times).toFixed(2)} ms, ` +
  `max ${Math.max(...times).toFixed(2)} ms over ${times.length} edits (target: median < 10 ms)`);
