// One esbuild bundle per entry point (as rust-analyzer's editors/code does),
// and the webview scripts for the browser into dist/webview/; type-checking
// is its own step (`npm run typecheck`).
import { build } from 'esbuild';

const nodeEntries = [
  { in: 'extension/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  { in: 'server/lsp/main.ts', out: 'dist/server.js', external: ['koffi'] },
  { in: 'server/cli/entry.ts', out: 'dist/cli.js', external: ['koffi'] },
  // `fuselens inspect` alone (bin/fuselens picks it): a tenth of the size to load.
  { in: 'server/cli/inspect-entry.ts', out: 'dist/cli-inspect.js', external: ['koffi'] },
  // `fuselens check` and `simulate` alone (bin/fuselens picks it): the simulator without the other commands.
  { in: 'server/cli/scenario-entry.ts', out: 'dist/cli-scenario.js', external: ['koffi'] },
  // `simulate`'s output worker, found beside cli-scenario.js and cli.js (server/cli/off-thread-steps.ts).
  { in: 'server/cli/output-worker.ts', out: 'dist/simulate-output-worker.js', external: [] },
  // The tracefs parse worker, found beside cli.js and server.js (server/trace/read.ts).
  { in: 'server/trace/parse-worker.ts', out: 'dist/trace-worker.js', external: [] },
  // The /proc scan's helper thread, found beside cli-inspect.js, cli.js and server.js (server/inspect/scan-helper.ts).
  { in: 'server/inspect/scan-worker.ts', out: 'dist/inspect-worker.js', external: ['koffi'] },
];

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
