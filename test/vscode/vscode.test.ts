// The extension-host suite (mocha inside VS Code, the real `vscode` API) run
// by @vscode/test-electron against installed VS Codes given by path: set
// VSCODE_PATH to one executable, or several separated by ':' (e.g. the
// engines.vscode minimum, 1.91, and the latest stable). VS Code cannot be
// downloaded on the machines this project's CI uses, so without VSCODE_PATH
// this skips, saying so; test/e2e/ covers the same behaviour in code-server.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';

const ROOT = join(__dirname, '..', '..');
const executables = (process.env['VSCODE_PATH'] ?? '').split(delimiter).filter((p) => p !== '');

if (executables.length === 0) {
  test('extension-host suite (@vscode/test-electron)', { skip: 'VSCODE_PATH is not set: no installed VS Code to run the extension-host suite in (set VSCODE_PATH=/path/to/code[:/path/to/another]); test/e2e covers the same behaviour in code-server' }, () => {});
} else {
  for (const executable of executables) {
    test(`extension-host suite in ${executable}`, { timeout: 5 * 60_000 }, async () => {
      assert.ok(existsSync(executable), `VSCODE_PATH names ${executable}, which does not exist`);
      const { runTests } = await import('@vscode/test-electron');
      if (!existsSync(join(ROOT, 'dist', 'extension.js')) || !existsSync(join(ROOT, 'dist', 'server.js'))) {
        const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
        assert.equal(r.status, 0, 'the build failed');
      }
      spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
      // The suite runs inside the extension host as CommonJS; mocha stays in node_modules.
      const outDir = join(ROOT, '.cache', 'vscode-test');
      mkdirSync(outDir, { recursive: true });
      await build({
        entryPoints: [join(__dirname, 'suite', 'index.ts')],
        outfile: join(outDir, 'suite.js'),
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        external: ['vscode', 'mocha'],
        logLevel: 'warning',
      });
      const workspace = mkdtempSync(join(tmpdir(), 'fuselens-vscode-ws-'));
      const userData = mkdtempSync(join(tmpdir(), 'fuselens-vscode-user-'));
      cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
      try {
        const code = await runTests({
          vscodeExecutablePath: executable,
          extensionDevelopmentPath: ROOT,
          extensionTestsPath: join(outDir, 'suite.js'),
          launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', userData, '--no-sandbox'],
        });
        assert.equal(code, 0, 'the extension-host suite failed');
      } finally {
        rmSync(workspace, { recursive: true, force: true });
        rmSync(userData, { recursive: true, force: true });
      }
    });
  }
}
