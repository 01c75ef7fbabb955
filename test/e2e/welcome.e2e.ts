// The FUSE Lens view with no FUSE mount: code-server runs in a private mount
// namespace (unshare -m) from which every FUSE mount has been detached, so
// the extension's server sees none, whatever the machine has mounted; the
// view then shows its welcome content, saying how to make a mount.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openEditor, ROOT, type Editor } from './harness';

// In the new namespace: detach every fuse/fuseblk/fuse.* mount (deepest first), then run code-server.
const DETACH_FUSE_MOUNTS =
  'awk \'{ for (i = 7; $i != "-"; i++); if ($(i+1) ~ /^fuse(blk)?(\\.|$)/) print $5 }\' /proc/self/mountinfo | sort -r | ' +
  'while read -r m; do umount -l "$(printf "%b" "$m")"; done; exec "$@"';

let editor: Editor | undefined;
let workspace: string;

before(async () => {
  workspace = mkdtempSync(join(tmpdir(), 'fuselens-e2e-welcome-'));
  cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
  editor = await openEditor(workspace, {}, { wrapper: ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', DETACH_FUSE_MOUNTS, 'sh'] });
});

after(async () => {
  await editor?.close();
  rmSync(workspace, { recursive: true, force: true });
});

test('with no FUSE mount the view says how to make one', { timeout: 180_000 }, async () => {
  assert.ok(editor);
  const { page } = editor;
  await editor.command('FUSE Lens: Focus on Mounts View');
  const welcome = page.locator('.welcome-view-content', { hasText: 'There are no FUSE mounts on this machine' });
  await welcome.waitFor();
  assert.match(await welcome.innerText(), /bindfs/);
  assert.ok(await welcome.locator('.monaco-button', { hasText: 'Refresh' }).isVisible());
  // The view activated the extension: its status bar item says the server runs.
  await page.locator('.statusbar-item', { hasText: 'FUSE Lens' }).locator('.codicon-check').waitFor();
  // Asked again (the welcome's own Refresh button), the server still lists no mount.
  await welcome.locator('.monaco-button', { hasText: 'Refresh' }).click();
  await page.locator('.monaco-progress-container.active').first().waitFor({ state: 'hidden' }).catch(() => undefined);
  await welcome.waitFor();
  assert.equal(await page.locator('.part.sidebar .monaco-list-row').count(), 0, 'no tree item besides the welcome');
  await editor.screenshot('10-welcome-no-mounts');
});
