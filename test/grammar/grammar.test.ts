// The TextMate grammar (syntaxes/fusesim.tmLanguage.json), checked with
// vscode-tmgrammar-test against the scope assertions in test/grammar/*.fusesim.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const ROOT = join(__dirname, '..', '..');
const TOOL = join(ROOT, 'node_modules', '.bin', 'vscode-tmgrammar-test');
const GRAMMAR = join(ROOT, 'syntaxes', 'fusesim.tmLanguage.json');

function runTool(pattern: string) {
  return spawnSync(TOOL, ['-g', GRAMMAR, '--config', join(ROOT, 'package.json'), pattern], { cwd: ROOT, encoding: 'utf8' });
}

test('every scope assertion in test/grammar/*.fusesim holds', () => {
  const r = runTool('test/grammar/*.fusesim');
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /statements\.fusesim run successfuly/);
  assert.match(r.stdout, /steps\.fusesim run successfuly/);
});

test('a wrong assertion fails (the tool really checks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-grammar-'));
  try {
    writeFileSync(
      join(dir, 'wrong.fusesim'),
      ['# SYNTAX TEST "source.fusesim" "a deliberately wrong assertion"', 'open data.db as f1', '# <---- comment.line.number-sign.fusesim', ''].join('\n'),
    );
    const r = runTool(join(dir, 'wrong.fusesim'));
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stdout, /missing required scopes: comment\.line\.number-sign\.fusesim/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
