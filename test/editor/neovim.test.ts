// A real editor other than VS Code: Debian's Neovim (0.7, scripts/setup.sh
// installs it) started headless with test/editor/neovim.lua, the set-up
// docs/editor.md gives, drives `fuselens lsp --stdio` through diagnostics,
// hover, completion and a quick fix on examples/try-quick-fix.fusesim.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCompletionAndFix, scratchScenario } from './other-editor';

const ROOT = join(__dirname, '..', '..');
const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });

test('Neovim (headless) shows the diagnostic, the hover, completion, and applies the quick fix', { skip: nvim.status === 0 ? false : 'nvim is not installed (scripts/setup.sh installs Debian\'s neovim)', timeout: 90_000 }, (t) => {
  const { dir, file } = scratchScenario(t, 'fuselens-nvim-');
  const result = join(dir, 'result.json');
  const r = spawnSync('nvim', ['--headless', '-u', 'NONE', '-i', 'NONE', '-n', '-c', `luafile ${join(__dirname, 'neovim.lua')}`], {
    encoding: 'utf8',
    timeout: 80_000,
    env: { ...process.env, FUSELENS_FILE: file, FUSELENS_OUT: result, FUSELENS_CLI: join(ROOT, 'bin', 'fuselens'), XDG_STATE_HOME: dir, XDG_CACHE_HOME: dir },
  });
  assert.equal(r.status, 0, `nvim: ${r.stderr}`);
  const seen = JSON.parse(readFileSync(result, 'utf8')) as {
    diagnosed: boolean;
    diagnostics: { lnum: number; message: string; code: string; severity: number }[];
    hover: { contents: { kind: string; value: string } } | null;
    completion: string[];
    actions: string[];
    fixed?: boolean;
    line12?: string;
    errors?: string[];
  };
  assert.equal(seen.errors, undefined, 'no request was refused');
  assert.ok(seen.diagnosed, 'diagnostics arrived');
  const denial = seen.diagnostics.find((d) => d.code === 'cached-open-on-passthrough-inode');
  assert.ok(denial, JSON.stringify(seen.diagnostics));
  assert.equal(denial.lnum, 11);
  assert.equal(denial.severity, 1);
  assert.match(denial.message, /^data\.db is in passthrough mode, held by writer \(line 11\) → EIO/);
  assert.equal(seen.hover?.contents.kind, 'markdown');
  assert.match(seen.hover!.contents.value, /^Inodes after this step\b/);
  assertCompletionAndFix(seen);
});
