// What the tests that drive another editor (Neovim, Emacs) share: a scratch
// copy of examples/try-quick-fix.fusesim to work on (the quick fix edits the
// copy), and what every such editor must have got from the server for it.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';

export function scratchScenario(t: TestContext, prefix: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'try-quick-fix.fusesim');
  copyFileSync(join(__dirname, '..', '..', 'examples', 'try-quick-fix.fusesim'), file);
  return { dir, file };
}

/** Completion lists each keyword once; the first quick fix on line 12 replies passthrough and removes the error. */
export function assertCompletionAndFix(seen: { completion: string[]; actions: string[]; fixed?: boolean; line12?: string }): void {
  assert.ok(seen.completion.includes('open') && seen.completion.includes('close'), seen.completion.join(' '));
  assert.equal(seen.completion.filter((l) => l === 'open').length, 1);
  assert.ok(seen.actions.length > 0, 'a quick fix is offered');
  assert.match(seen.actions[0]!, /passthrough/i);
  assert.equal(seen.fixed, true, 'the fix removes the error');
  assert.match(seen.line12 ?? '', /reply passthrough/);
}
