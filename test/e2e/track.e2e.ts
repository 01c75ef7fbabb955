// End-to-end in code-server (harness.ts): Track I/O Modes on a passthrough_hp
// mount from the sidebar's context menu, with a file held open in passthrough
// mode before tracking and one opened while tracking. The tree shows the
// tracking node, "unknown · opened before tracking" on the first (never
// idle), "passthrough · backing N" on the second (the backing the daemon says
// it set up), and Stop leaves the daemon untraced. Screenshots at full and
// half width, light and dark, go to test-output/e2e/track-*.png.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { until } from '../support/fuse-mounts';
import { startHolder, type Holder } from '../support/inspect-holder';
import { mountPassthroughHp, passthroughHp, type PassthroughHpMount } from '../support/passthrough-hp';
import { openEditor, type Editor } from './harness';

const TIMEOUT = 60_000;
const hp = passthroughHp();

describe('Track I/O Modes in code-server', { timeout: 10 * 60_000, skip: hp.skip ?? false }, () => {
  let editor: Editor;
  let workspace: string;
  let m: PassthroughHpMount;
  const holders: Holder[] = [];

  before(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'fuselens-e2e-track-'));
    m = await mountPassthroughHp(hp.binary!, { files: { 'held-before.txt': 'a'.repeat(10000), 'opened-while-tracking.txt': 'b'.repeat(20000) }, debug: true });
    holders.push(await startHolder([`open:held:rdonly:${m.path('held-before.txt')}`]));
    assert.match(m.stderr(), /setup shared backing file \d+ for inode/, 'held-before.txt is open in passthrough mode');
    editor = await openEditor(workspace, { 'fuselens.mounts.refreshInterval': 0 });
  });

  after(async () => {
    await editor?.close();
    for (const h of holders) await h.stop();
    await m?.unmount();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  const theme = (name: string) => {
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'fuselens.mounts.refreshInterval': 0, 'workbench.colorTheme': name }));
  };
  const tracerPid = () => Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${m.pid}/status`, 'utf8'))![1]);

  test('the sidebar tracks the mount: a file held before tracking is unknown, one opened while tracking is passthrough with its backing', async () => {
    const { page } = editor;
    theme('Default Dark Modern');
    await page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: TIMEOUT });
    await page.locator('.activitybar .action-item a[aria-label^="FUSE Lens"]').click();
    const mountRow = page.locator('.monaco-list-row', { hasText: m.mountpoint }).first();
    await mountRow.waitFor({ timeout: TIMEOUT });
    if ((await mountRow.getAttribute('aria-expanded')) !== 'true') await mountRow.click();
    const heldRow = page.locator('.monaco-list-row', { hasText: 'held-before.txt' }).first();
    await heldRow.waitFor({ timeout: TIMEOUT });

    // Track I/O Modes from the mount's context menu; the confirmation says it slows the daemon.
    await mountRow.click({ button: 'right' });
    const menuItem = page.locator('.context-view .action-label', { hasText: 'Track I/O Modes' });
    await menuItem.hover();
    await page.locator('.context-view .action-item.focused', { hasText: 'Track I/O Modes' }).waitFor();
    await page.keyboard.press('Enter');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: TIMEOUT });
    assert.match(await dialog.innerText(), /slowed down/);
    assert.match(await dialog.innerText(), new RegExp(`passthrough_hp \\(pid ${m.pid}\\)`));
    await editor.screenshot('track-0-confirmation');
    await dialog.locator('.monaco-button', { hasText: 'Track' }).click();

    const trackingRow = page.locator('.monaco-list-row', { hasText: `Tracking: passthrough_hp (${m.pid})` }).first();
    await trackingRow.waitFor({ timeout: TIMEOUT });
    await until(() => tracerPid() !== 0, 'strace attached to the daemon');
    await heldRow.filter({ hasText: 'unknown · opened before tracking' }).waitFor({ timeout: TIMEOUT });

    // Opened while tracking: the tree updates by itself (trackingUpdate), no refresh.
    const h = await startHolder([`open:b:rdonly:${m.path('opened-while-tracking.txt')}`]);
    holders.push(h);
    const newRow = page.locator('.monaco-list-row', { hasText: 'opened-while-tracking.txt' }).first();
    await newRow.filter({ hasText: /passthrough · backing \d+/ }).waitFor({ timeout: TIMEOUT });
    const text = await newRow.innerText();
    const backing = Number(/passthrough · backing (\d+)/.exec(text)![1]);
    const daemonSays = [...m.stderr().matchAll(/setup shared backing file (\d+) for inode/g)].map((x) => Number(x[1]));
    assert.ok(daemonSays.includes(backing), `backing ${backing} is one passthrough_hp set up (${daemonSays.join(', ')})`);
    // Its backing file, from the BACKING_OPEN the capture saw, and the OPEN that put it there.
    assert.ok(text.includes(`passthrough · backing ${backing} (${join(m.source, 'opened-while-tracking.txt')})`), text);
    assert.match(text, /since OPEN at \d\d:\d\d:\d\d by /);
    assert.doesNotMatch(await heldRow.innerText(), /idle/, 'never idle while a descriptor is held');

    // A wider sidebar, so the rows' modes show whole in the full-width screenshots.
    const widen = async () => {
      const box = (await page.locator('.part.sidebar').boundingBox())!;
      await page.mouse.move(box.x + box.width + 2, box.y + 200);
      await page.mouse.down();
      await page.mouse.move(box.x + 760, box.y + 200, { steps: 5 });
      await page.mouse.up();
      await page.mouse.move(box.x + 1000, box.y + 600); // off the sash, which stays highlighted under the pointer
      return box;
    };
    const box = await widen();

    // The tooltip says why.
    await editor.hover(newRow, page.locator('.monaco-hover', { hasText: 'proven by the trace' }));
    await editor.screenshot('track-1-dark-full-tooltip');
    await page.mouse.move(box.x + 700, box.y + 700);
    await page.keyboard.press('Escape');
    await page.locator('.monaco-hover', { hasText: 'proven by the trace' }).waitFor({ state: 'hidden', timeout: TIMEOUT });

    // Selected, the tracking row shows its Stop action.
    await trackingRow.click();
    await trackingRow.locator('.action-label[aria-label="Stop Tracking"]').waitFor({ timeout: TIMEOUT });
    await editor.screenshot('track-2-dark-full');
    await page.setViewportSize({ width: 700, height: 900 });
    await editor.screenshot('track-3-dark-half');
    theme('Default Light Modern');
    await page.locator('.monaco-workbench.vs:not(.vs-dark)').waitFor({ timeout: TIMEOUT });
    await editor.screenshot('track-4-light-half');
    await page.setViewportSize({ width: 1400, height: 900 });
    await widen();
    await editor.screenshot('track-5-light-full');
    theme('Default Dark Modern');

    // Stop (the tracking node's inline action): strace detaches, the daemon serves on.
    await trackingRow.hover();
    await trackingRow.locator('.action-label[aria-label="Stop Tracking"]').click();
    await trackingRow.waitFor({ state: 'detached', timeout: TIMEOUT });
    await until(() => tracerPid() === 0, 'strace detached from the daemon');
    assert.equal(readFileSync(m.path('opened-while-tracking.txt'), 'utf8').length, 20000);
  });
});
