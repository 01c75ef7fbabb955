// `npm run package` (after the esbuild bundles): builds the .vsix with
// @vscode/vsce, offline, from a staging folder (.cache/vsix/) holding only
// what the installed extension runs: the bundles, media, grammar, snippets,
// rule pages, and the one runtime dependency esbuild leaves external (koffi,
// the server's FFI; its JavaScript and the Linux x64 binary) under
// dist/node_modules. esbuild bundles the rest, hence --no-dependencies.
// Prints the .vsix's size.
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const pkg = createRequire(import.meta.url)(join(root, 'package.json'));
const stage = join(root, '.cache', 'vsix');

for (const need of ['dist/extension.js', 'dist/server.js', 'dist/webview/timeline.js', 'dist/webview/trace.js', 'dist/webview/inspect.js']) {
  if (!existsSync(join(root, need))) {
    console.error(`package: ${need} is missing; run 'npm run build' first`);
    process.exit(2);
  }
}

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const copy = (from, to = from, filter = () => true) => {
  if (existsSync(join(root, from))) cpSync(join(root, from), join(stage, to), { recursive: true, filter });
};
for (const f of ['package.json', '.vscodeignore', 'language-configuration.json', 'CHANGELOG.md', 'LICENSE']) copy(f);
for (const d of ['media', 'syntaxes', 'snippets', 'docs/rules', 'docs/inspect.md', 'dist/webview']) copy(d);
copy('docs/editor.md', 'README.md');
copy('dist/extension.js');
copy('dist/server.js');
copy('dist/trace-worker.js'); // the tracefs parse worker the server starts for large traces (server/trace/read.ts)
copy('dist/inspect-worker.js'); // the /proc scan's helper thread the server's sidebar starts (server/inspect/scan-helper.ts)
copy('dist/procfs.node'); // the /proc scan's system calls, built for this platform (server/inspect/procfs-addon.ts; koffi reads without it)

// koffi: JavaScript only (no C sources, docs or vendored headers), plus the Linux x64 binary.
const runtimeOnly = (from) => !/\.(cc|hh|c|h|inc|def|md)$|\/(doc|vendor|lib|musl_x64)(\/|$)|CMakeLists\.txt$/.test(from);
copy('node_modules/koffi', 'dist/node_modules/koffi', runtimeOnly);
copy('node_modules/@koromix/koffi-linux-x64', 'dist/node_modules/@koromix/koffi-linux-x64', runtimeOnly);

const out = join(root, `${pkg.name}-${pkg.version}.vsix`);
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const r = spawnSync(
  process.execPath,
  [vsce, 'package', '--no-dependencies', '--allow-missing-repository', '-o', out],
  { cwd: stage, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
);
// vsce lists every file it packs; keep its warnings, errors and verdict.
const quiet = (text) => text.split('\n').filter((l) => /WARNING|ERROR|DONE/.test(l)).join('\n');
if (r.status !== 0) {
  process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
  process.exit(r.status ?? 1);
}
const said = quiet(`${r.stdout}\n${r.stderr}`);
if (said) console.log(said);
const bytes = statSync(out).size;
console.log(`package: ${out} ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes)`);
