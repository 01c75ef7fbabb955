// One esbuild bundle per entry point (as rust-analyzer's editors/code does),
// and the webview scripts for the browser into dist/webview/; type-checking
// is its own step (`npm run typecheck`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

/**
 * The procfs addon (server/inspect/native/procfs.c, loaded by procfs-addon.ts) with the C compiler
 * alone: Node-API's headers from the node-api-headers package (the Node.js project's own copy, so the build
 * does not depend on whether this machine's Node was installed with its headers), else Node's own include/node.
 * Optional: without a compiler or the header, the scan reads through koffi, and the build says so.
 */
function buildProcfsAddon() {
  const out = 'dist/procfs.node';
  rmSync(out, { force: true });
  mkdirSync('dist', { recursive: true });
  const include = ['node_modules/node-api-headers/include', join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => existsSync(join(d, 'node_api.h')));
  if (process.platform !== 'linux' || !include) {
    console.warn('build: no node_api.h; the /proc scan will read through koffi (dist/procfs.node not built)');
    return;
  }
  const cc = process.env.CC || 'cc';
  const r = spawnSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', `-I${include}`, '-o', out, 'server/inspect/native/procfs.c'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    console.warn(`build: ${cc} failed; the /proc scan will read through koffi (dist/procfs.node not built)\n${r.error?.message ?? r.stderr}`);
  }
}

const nodeEntries = [
  { in: 'extension/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  { in: 'server/lsp/main.ts', out: 'dist/server.js', external: ['koffi'] },
  { in: 'server/cli/entry.ts', out: 'dist/cli.js', external: ['koffi'] },
  // `fuselens inspect` alone (bin/fuselens picks it): a tenth of the size to load.
  { in: 'server/cli/inspect-entry.ts', out: 'dist/cli-inspect.js', external: ['koffi'] },
  // `fuselens check` and `simulate` alone (bin/fuselens picks it): the simulator without the other commands.
  { in: 'server/cli/scenario-entry.ts', out: 'dist/cli-scenario.js', external: ['koffi'] },
  // The tracefs parse worker, found beside cli.js and server.js (server/trace/read.ts).
  { in: 'server/trace/parse-worker.ts', out: 'dist/trace-worker.js', external: [] },
  // The /proc scan's helper thread, found beside cli-inspect.js, cli.js and server.js (server/inspect/scan-helper.ts).
  { in: 'server/inspect/scan-worker.ts', out: 'dist/inspect-worker.js', external: ['koffi'] },
];

buildProcfsAddon();
await Promise.all([
  ...nodeEntries.map((e) =>
    build({
      entryPoints: [e.in],
      outfile: e.out,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: true,
      minify: true,
      external: e.external,
      logLevel: 'warning',
    }),
  ),
  build({
    entryPoints: ['webview/timeline.ts', 'webview/trace.ts', 'webview/inspect.ts'],
    outdir: 'dist/webview',
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
  }),
]);
