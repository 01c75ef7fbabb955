// Replaying scenarios on the kernel (issue 6): for every example, the time
// from mount to unmount of the lab (from its own lab-jsonl events) and the
// whole runScenario call (parse, simulate, agents, cleanup), median of
// several runs, printed per scenario. Also checks kernel and simulator agree.
// Needs root and /dev/fuse; says so and exits 0 without them.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labAvailability, runScenario } from '../server/lab/index';
import { median, reportFigure } from './summary';

const RUNS = 5;

async function main(): Promise<number> {
  const available = labAvailability();
  if (!available.ok) {
    console.log(`lab: skipped (${available.reason})`);
    return 0;
  }
  const dir = join(__dirname, '..', 'examples');
  const files = readdirSync(dir).filter((f) => f.endsWith('.fusesim')).sort();
  let differences = 0;
  console.log(`lab: replay of each example on the kernel, median of ${RUNS} runs`);
  console.log(`${'scenario'.padEnd(36)} ${'steps'.padStart(5)} ${'mount→unmount'.padStart(14)} ${'runScenario'.padStart(12)}`);
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    const mounted: number[] = [];
    const total: number[] = [];
    let steps = 0;
    for (let i = 0; i < RUNS; i++) {
      let mountAt = 0;
      let unmountAt = 0;
      const t0 = performance.now();
      const result = await runScenario(text, {
        log: (e) => {
          if (e.type === 'mount') mountAt = performance.now();
          if (e.type === 'unmount') unmountAt = performance.now();
        },
      });
      total.push(performance.now() - t0);
      mounted.push(unmountAt - mountAt);
      steps = result.steps.length;
      if (i === 0) differences += result.differences;
    }
    console.log(`${file.padEnd(36)} ${String(steps).padStart(5)} ${`${median(mounted).toFixed(1)} ms`.padStart(14)} ${`${median(total).toFixed(1)} ms`.padStart(12)}`);
  }
  if (differences > 0) console.log(`!! ${differences} step(s) where kernel and simulator differ (fuselens run FILE shows them)`);
  reportFigure({ figure: `fuselens run of ${files.length} examples: steps where kernel and simulator differ`, value: String(differences), target: '0', met: differences === 0 });
  return differences > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
