// `npm run package` (after the esbuild bundles): stages the one runtime
// dependency esbuild leaves external (koffi, the server's FFI; Linux x64 only)
// under dist/node_modules, then builds the .vsix with @vscode/vsce, offline,
// without node_modules (--no-dependencies), and prints its size.
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = createRequire(import.meta.url)(join(root, 'package.json'));
const staged = join(root, 'dist', 'node_modules');

for (const need of ['dist/extension.js', 'dist/server.js', 'dist/webview/timeline.js', 'dist/webview/trace.js']) {
  if (!existsSync(join(root, need))) {
    console.error(`package: ${need} is missing; run 'node scripts/build.mjs && node scripts/build-webviews.mjs' first`);
    process.exit(2);
  }
}

rmSync(staged, { recursive: true, force: true });
const skip = (from) => !/\/(doc|vendor|lib|musl_x64|CMakeLists\.txt)(\/|$)|\/src\/koffi\/src(\/|$)/.test(from);
cpSync(join(root, 'node_modules', 'koffi'), join(staged, 'koffi'), { recursive: true, filter: skip });
const native = join(root, 'node_modules', '@koromix', 'koffi-linux-x64');
if (existsSync(native)) {
  mkdirSync(join(staged, '@koromix'), { recursive: true });
  cpSync(native, join(staged, '@koromix', 'koffi-linux-x64'), { recursive: true, filter: skip });
}

const out = join(root, `${pkg.name}-${pkg.version}.vsix`);
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(
  process.execPath,
  [vsce, 'package', '--no-dependencies', '--readme-path', 'docs/editor.md', '--allow-missing-repository', '--skip-license', '--allow-star-activation', '-o', out],
  { cwd: root, stdio: 'inherit' },
);
if (r.status !== 0) process.exit(r.status ?? 1);
const bytes = statSync(out).size;
console.log(`package: ${out} ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes)`);
