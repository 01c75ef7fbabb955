// `fuselens check` of a scenario with 1,000,000 errors (1,000,000 repeated
// `open a as h`, issue 15): wall time, peak RSS and output size of the built CLI.
// Before the diagnostics were bounded: 31 s on a terminal, 1.7 GB and 99 MB of output.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'fuselens-bench-check-'));
try {
  const file = join(dir, 'million.fusesim');
  writeFileSync(file, 'file a\n' + 'open a as h\n'.repeat(1_000_000));
  const fuselens = join(__dirname, '..', 'bin', 'fuselens');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', fuselens, 'check', file], { maxBuffer: 1 << 30 });
  const [seconds, peakKb] = r.stderr.toString().trim().split('\n').at(-1)!.split(' ');
  console.log(`check of 1,000,000 error lines (12 MB): ${seconds} s, peak RSS ${(Number(peakKb) / 1024).toFixed(0)} MiB, ` +
    `${(r.stdout.length / 1e6).toFixed(2)} MB of output (exit ${r.status})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
