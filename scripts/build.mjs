// One esbuild bundle per entry point (as rust-analyzer's editors/code does);
// type-checking is its own step (`npm run typecheck`).
import { build } from 'esbuild';
import { existsSync } from 'node:fs';

const entries = [
  { in: 'extension/extension.ts', out: 'dist/extension.js', external: ['vscode'] },
  { in: 'server/lsp/main.ts', out: 'dist/server.js', external: ['koffi'] },
  { in: 'server/cli/entry.ts', out: 'dist/cli.js', external: ['koffi'] },
];

const watch = process.argv.includes('--watch');
await Promise.all(
  entries
    .filter((e) => existsSync(e.in))
    .map((e) =>
      build({
        entryPoints: [e.in],
        outfile: e.out,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        sourcemap: true,
        minify: !watch,
        external: e.external,
        logLevel: 'warning',
      }),
    ),
);
