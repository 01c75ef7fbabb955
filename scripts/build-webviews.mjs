// Bundles the webview scripts (webview/*.ts entry points) for the browser
// into dist/webview/. The extension's own bundle comes from scripts/build.mjs.
import { build } from 'esbuild';

const watch = process.argv.includes('--watch');
await build({
  entryPoints: ['webview/timeline.ts', 'webview/trace.ts'],
  outdir: 'dist/webview',
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2022',
  sourcemap: watch ? 'inline' : false,
  minify: !watch,
  logLevel: 'warning',
});
