// A second real editor other than VS Code: Debian's Emacs 28 with elpa-eglot
// 1.9 (scripts/setup.sh installs both), in batch mode. The set-up is the
// elisp block docs/editor.md gives, taken from the page itself, so the page
// cannot drift from what works; test/editor/emacs.el then drives
// `fuselens lsp --stdio` through diagnostics, hover, completion and a quick
// fix on examples/try-quick-fix.fusesim.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertCompletionAndFix, scratchScenario } from './other-editor';

const ROOT = join(__dirname, '..', '..');
const emacs = spawnSync('emacs', ['--batch', '--eval', '(progn (require (quote package)) (add-to-list (quote package-directory-list) "/usr/share/emacs/site-lisp/elpa") (package-initialize) (require (quote eglot)))'], { encoding: 'utf8' });

/** The ```elisp block under "**Emacs**" in docs/editor.md. */
function documentedSetup(): string {
  const page = readFileSync(join(ROOT, 'docs', 'editor.md'), 'utf8');
  const block = /^\*\*Emacs\*\*[\s\S]*?^```elisp\n([\s\S]*?)^```/m.exec(page);
  assert.ok(block?.[1], 'docs/editor.md has an elisp block under **Emacs**');
  return block[1];
}

test('Emacs (eglot, batch) shows the diagnostic, the hover, completion, and applies the quick fix', { skip: emacs.status === 0 ? false : 'emacs with eglot is not installed (scripts/setup.sh installs Debian\'s emacs-nox and elpa-eglot)', timeout: 90_000 }, (t) => {
  const { dir, file } = scratchScenario(t, 'fuselens-emacs-');
  const setup = join(dir, 'setup.el');
  writeFileSync(setup, documentedSetup());
  const result = join(dir, 'result.json');
  const r = spawnSync('emacs', ['--batch', '-l', join(__dirname, 'emacs.el')], {
    encoding: 'utf8',
    timeout: 80_000,
    // `fuselens` on PATH, as the documented set-up runs it; a HOME of its own, so no user's init or packages.
    env: { ...process.env, PATH: `${join(ROOT, 'bin')}${delimiter}${process.env['PATH'] ?? ''}`, HOME: dir, FUSELENS_SETUP: setup, FUSELENS_FILE: file, FUSELENS_OUT: result },
  });
  const seen = JSON.parse(readFileSync(result, 'utf8')) as {
    error?: string;
    mode: string;
    diagnostics: { line: number; type: string; text: string }[];
    hover: string;
    completion: string[];
    actions: string[];
    fixed?: boolean;
    line12?: string;
  };
  assert.equal(seen.error, undefined, `emacs: ${seen.error} ${r.stderr}`);
  assert.equal(r.status, 0, `emacs: ${r.stderr}`);
  assert.equal(seen.mode, 'fusesim-mode', 'the documented auto-mode-alist entry chose the mode');
  const denial = seen.diagnostics.find((d) => d.text.includes('[cached-open-on-passthrough-inode]'));
  assert.ok(denial, JSON.stringify(seen.diagnostics));
  assert.equal(denial.line, 12);
  assert.equal(denial.type, 'eglot-error');
  assert.match(denial.text, /data\.db is in passthrough mode, held by writer \(line 11\) → EIO/);
  assert.match(seen.hover, /^Inodes after this step\b/);
  assert.match(seen.hover, /\| data\.db \| passthrough \|/);
  assertCompletionAndFix(seen);
});
