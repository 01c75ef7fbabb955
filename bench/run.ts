// `npm run bench`: runs every bench/*.bench.ts in turn (tracking.bench.ts: what live
// tracking costs a real daemon); each prints its own figures as it goes, and reports its
// headline figures (bench/summary.ts), printed at the end in one table with the load average
// of each. A benchmark that fails is reported and the others still run; the exit status says so.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { FIGURES_ENV, figureTable } from './summary';

const only = process.argv.slice(2);
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const dir = mkdtempSync(join(tmpdir(), 'fuselens-bench-'));
const figures = join(dir, 'figures.jsonl');
let failed = 0;
try {
  for (const file of files) {
    console.log(`\n== ${file}`);
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(__dirname, file)], {
      stdio: 'inherit',
      env: { ...process.env, [FIGURES_ENV]: figures },
    });
    if (r.status !== 0) {
      failed++;
      console.log(`!! ${file} failed (exit ${r.status ?? r.signal})`);
    }
  }
  console.log(`\n== every figure (load: the 1-minute load average when it was measured, on ${cpus().length} CPUs)`);
  process.stdout.write(figureTable(figures));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed > 0 ? 1 : 0);
