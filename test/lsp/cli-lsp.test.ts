// `fuselens lsp --stdio`: the same server through the CLI, as Neovim, Helix
// or Emacs start it.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freshUri, LspClient, ROOT, scenario } from './client';

// Whatever a failing test left running is killed, so the test process can end.
after(() => LspClient.killAll());

test('fuselens lsp --stdio: initialize, diagnostics, hover, shutdown and exit 0', async () => {
  const c = await LspClient.start({ via: 'cli' });
  try {
    assert.equal(c.initializeResult.serverInfo?.name, 'fuselens');
    const uri = freshUri('cli');
    const ds = await c.open(uri, scenario`
      init passthrough max_stack_depth=1
      file data.db
      backing b1
      open data.db as f1
      open data.db as f2 reply passthrough backing=b1
    `);
    assert.deepEqual(ds.map((d) => [d.code, d.range.start.line]), [['passthrough-open-on-caching-inode', 4]]);
    const h = await c.hover(uri, { line: 4, character: 27 });
    assert.match(h!.contents.value, /FOPEN_PASSTHROUGH/);
    assert.equal(await c.shutdown(), 0);
  } finally {
    c.kill();
  }
});

test('dist/server.js over node IPC, as the extension starts it', async () => {
  const c = await LspClient.start({ via: 'ipc' });
  try {
    const ds = await c.open(freshUri('ipc'), 'file a\nopen a as f1 reply parallel_direct_writes\n');
    assert.deepEqual(ds.map((d) => d.code), ['parallel-writes-need-direct-io']);
    assert.equal(await c.shutdown(), 0);
  } finally {
    c.kill();
  }
});

test('fuselens lsp without --stdio is a usage error (exit 2)', () => {
  const r = spawnSync(join(ROOT, 'bin', 'fuselens'), ['lsp'], { encoding: 'utf8', input: '' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: fuselens lsp --stdio/);
  assert.equal(r.stdout, '');
});

test('the server exits when its input closes (the editor went away)', async () => {
  const c = await LspClient.start({ via: 'cli' });
  try {
    c.child.stdin.end();
    const code = await c.within(5000, 'exit after stdin closed', c.exited);
    assert.equal(code, 1, 'no shutdown came first');
  } finally {
    c.kill();
  }
});
