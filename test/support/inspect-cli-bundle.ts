// test/support/inspect-cli.ts bundled into one file in a world-readable temp
// directory, so tests can run `mounts` / `inspect` as another user (nobody)
// wherever the checkout lives (a CI clone under a 0700 home is not readable
// by nobody, and neither are its node_modules). koffi is left out: the
// bundle then reads procfs through node:fs, as a front without koffi does.

import { buildSync } from 'esbuild';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let bundled: string | undefined;

export function inspectCliBundle(): string {
  if (bundled) return bundled;
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-inspect-cli-'));
  chmodSync(dir, 0o755);
  const out = join(dir, 'inspect-cli.js');
  buildSync({
    entryPoints: [join(__dirname, 'inspect-cli.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['koffi'],
    logLevel: 'warning',
  });
  chmodSync(out, 0o644);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  bundled = out;
  return out;
}
