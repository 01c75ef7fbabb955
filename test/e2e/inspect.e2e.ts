// The inspect panel in a real VS Code (issue 13): a webview per mount titled by
// its mountpoint, with sortable tables of the files, descriptors and mappings
// a real bindfs mount has in use, the "no io mode" explanation once with a
// page that opens rendered, a Refresh button and a refresh on the interval
// while visible, and the mount's actions in its toolbar. Rule pages open
// rendered from the Problems panel. Screenshots at 1600×1000, whole and with
// the editor split in half, light and dark, go to test-output/e2e/.

import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { examplesWithHeldFile, type TestMount } from '../support/fuse-mounts';
import { openViewEditor, ROOT, screenshotAfterEach, type Editor } from './harness';

const TIMEOUT = 60_000;

describe('the inspect panel in code-server', { timeout: 10 * 60_000 }, () => {
  let editor: Editor;
  let workspace: string;
  let mount: TestMount;
  let holder: ChildProcess;
  let mapper: ChildProcess | undefined;
  const extra: ChildProcess[] = [];

  before(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'fuselens-e2e-inspect-ws-'));
    cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
    ({ mount, holder } = await examplesWithHeldFile('fuselens-e2e-inspect-'));
    // A shared mapping of a file on the mount (Python's mmap keeps a dup of the descriptor).
    writeFileSync(join(mount.mountpoint, 'mapped.bin'), Buffer.alloc(8192, 1));
    mapper = spawn('/usr/bin/python3', ['-c', `
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 8192, mmap.MAP_SHARED)
os.close(fd)
print('ready', flush=True)
time.sleep(1e6)`, join(mount.mountpoint, 'mapped.bin')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => mapper!.stdout!.once('data', resolve));
    editor = await openViewEditor(workspace);
  });

  screenshotAfterEach('inspect-', () => editor);

  after(async () => {
    await editor?.close();
    for (const p of [holder, mapper, ...extra]) p?.kill('SIGKILL');
    await mount?.unmount();
    if (mount) rmSync(mount.dir, { recursive: true, force: true });
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  /** The inspect panel's document (the newest webview is the panel until a preview opens). */
  const openPanel = async (): Promise<FrameLocator> => {
    await editor.command('FUSE Lens: Inspect Mount…');
    await editor.pick(mount.mountpoint);
    const panel = editor.webview();
    await panel.locator('h1', { hasText: mount.mountpoint }).waitFor({ timeout: TIMEOUT });
    await panel.locator('vscode-table[aria-label="Open descriptors"] vscode-table-row').first().waitFor({ timeout: TIMEOUT });
    return panel;
  };

  /** The panel alone in the editor, the bottom panel hidden: the window's whole width. */
  const openPanelWhole = async (): Promise<FrameLocator> => {
    await editor.command('View: Close All Editors');
    if (await editor.page.locator('.part.panel').isVisible()) await editor.command('View: Hide Panel');
    return openPanel();
  };

  /** Half the editor: a scenario on the left, the panel on the right. */
  const openPanelBesideScenario = async (): Promise<FrameLocator> => {
    await editor.command('View: Close All Editors');
    await editor.open('try-quick-fix.fusesim');
    await editor.page.keyboard.press('Control+Backslash');
    await editor.page.locator('.editor-group-container').nth(1).waitFor();
    return openPanel();
  };

  /** Every column header ends inside its table's box, and no text sticks out of the page. */
  const fits = async (panel: FrameLocator, what: string) => {
    for (const name of ['Files in use', 'Open descriptors', 'Mappings']) {
      const table = panel.locator(`vscode-table[aria-label="${name}"]`);
      const box = await table.boundingBox();
      assert.ok(box, `${what}: ${name} is shown`);
      const headers = table.locator('vscode-table-header-cell');
      for (let i = 0; i < (await headers.count()); i++) {
        const h = await headers.nth(i).boundingBox();
        if (h && h.width > 0) assert.ok(h.x + h.width <= box.x + box.width + 1, `${what}: ${name} column ${i} ends inside the table`);
      }
    }
    const overflow = await panel.locator('body').evaluate((b) => b.scrollWidth - b.clientWidth);
    assert.ok(overflow <= 0, `${what}: the page scrolls sideways by ${overflow}px`);
  };

  /** The text of each row of a panel table, in the order shown. */
  const rowsOf = (panel: FrameLocator, table: string) =>
    panel.locator(`vscode-table[aria-label="${table}"] vscode-table-body vscode-table-row`).allInnerTexts();

  test('a panel titled by the mountpoint: connection, files, descriptors and mappings, the io-mode note once', async () => {
    const { page } = editor;
    const panel = await openPanel();
    // The editor tab is named by the mountpoint, not a mount id.
    await page.locator('.tab.active', { hasText: mount.mountpoint }).waitFor();

    const facts = await panel.locator('dl.facts').innerText();
    assert.match(facts, new RegExp(`bindfs \\(pid ${mount.pid}\\)`));
    assert.match(facts, /requests waiting\s+\d+/);

    const files = (await rowsOf(panel, 'Files in use')).join('\n');
    assert.match(files, /held\.txt/);
    assert.match(files, /mapped\.bin/);
    const opens = (await rowsOf(panel, 'Open descriptors')).join('\n');
    assert.match(opens, new RegExp(`tail\\s+${holder.pid}\\b`));
    const maps = (await rowsOf(panel, 'Mappings')).join('\n');
    assert.match(maps, new RegExp(`python3\\s+${mapper!.pid}\\b`));
    assert.match(maps, /rw-s\s+shared/);

    // "The kernel exports no io mode" is said once, not once per file.
    const body = await panel.locator('body').innerText();
    assert.equal(body.match(/exports no io mode/g)?.length, 1, body);
    // Local time, not ISO UTC.
    assert.doesNotMatch(body, /\d{4}-\d\d-\d\dT\d\d:\d\d/);
    assert.match(body, /Scanned at \d{1,2}:\d\d:\d\d/);

    await editor.screenshot('inspect-1-light-1600', 'inspect-panel');
  });

  test('the descriptor table sorts by a column on a click and from the keyboard', async () => {
    const panel = await openPanel();
    const second = spawn('tail', ['-f', join(mount.mountpoint, 'held.txt')], { stdio: 'ignore' });
    extra.push(second);
    await panel.locator('vscode-button.refresh').click();
    await panel.locator('vscode-table[aria-label="Open descriptors"] vscode-table-row', { hasText: String(second.pid) }).waitFor({ timeout: TIMEOUT });

    const pidHeader = panel.locator('vscode-table[aria-label="Open descriptors"] vscode-table-header-cell', { hasText: /^pid/ });
    const pids = async () =>
      (await rowsOf(panel, 'Open descriptors')).map((r) => Number(/\s(\d+)\s/.exec(r)?.[1])).filter((n) => Number.isFinite(n));
    await pidHeader.click();
    assert.equal(await pidHeader.getAttribute('aria-sort'), 'ascending');
    const up = await pids();
    assert.deepEqual(up, [...up].sort((a, b) => a - b));
    assert.ok(up.length >= 2, `two holders at least: ${up}`);
    await pidHeader.focus();
    await editor.page.keyboard.press('Enter');
    assert.equal(await pidHeader.getAttribute('aria-sort'), 'descending');
    const down = await pids();
    assert.deepEqual(down, [...up].reverse());
  });

  test('while visible the panel refreshes on the interval; the explanation opens rendered', async () => {
    const { page } = editor;
    const panel = await openPanel();
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'fuselens.mounts.refreshInterval': 1 }));
    await panel.locator('header', { hasText: 'refreshes every 1 s while visible' }).waitFor({ timeout: TIMEOUT });
    writeFileSync(join(mount.mountpoint, 'later.txt'), 'opened after the panel was drawn\n');
    const later = spawn('tail', ['-f', join(mount.mountpoint, 'later.txt')], { stdio: 'ignore' });
    extra.push(later);
    try {
      await panel.locator('vscode-table[aria-label="Files in use"] vscode-table-row', { hasText: 'later.txt' }).waitFor({ timeout: TIMEOUT });
    } finally {
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'fuselens.mounts.refreshInterval': 0 }));
    }
    await panel.locator('header', { hasText: 'refreshes on demand' }).waitFor({ timeout: TIMEOUT });

    // The link in the note opens docs/inspect.md of the installed extension as a rendered preview.
    await panel.locator('.not-exported a').click();
    await page.locator('.tab', { hasText: 'Preview inspect.md' }).waitFor({ timeout: TIMEOUT });
    const preview = editor.webview();
    await preview.locator('h2', { hasText: 'What is unknown, and why' }).waitFor({ timeout: TIMEOUT });
  });

  test('Export as Scenario from the toolbar opens the mount as a scenario', async () => {
    const { page } = editor;
    await editor.command('View: Close All Editors');
    const panel = await openPanel();
    await panel.locator('vscode-button', { hasText: 'Export as Scenario' }).click();
    await page.locator('.monaco-editor .view-lines', { hasText: 'held.txt' }).first().waitFor({ timeout: TIMEOUT });
    await page.locator('.statusbar-item', { hasText: 'FUSE Scenario' }).first().waitFor();
    await editor.command('View: Revert and Close Editor');
  });

  test('screenshots: light and dark, whole and with the editor split in half, nothing cut off', async () => {
    const { page } = editor;
    let panel = await openPanelWhole();
    await fits(panel, 'light, 1600');
    await editor.screenshot('inspect-2-light-1600');

    panel = await openPanelBesideScenario();
    await fits(panel, 'light, split');
    await editor.screenshot('inspect-3-light-split');

    await editor.command('Preferences: Toggle between Light/Dark Themes');
    await page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: TIMEOUT });
    await panel.locator('h1', { hasText: mount.mountpoint }).waitFor();
    await fits(panel, 'dark, split');
    await editor.screenshot('inspect-4-dark-split');
    await editor.command('View: Close All Editors');
    panel = await openPanel();
    await fits(panel, 'dark, 1600');
    await editor.screenshot('inspect-5-dark-1600');
    await editor.command('Preferences: Toggle between Light/Dark Themes');
    await page.locator('.monaco-workbench.vs').waitFor({ timeout: TIMEOUT });
  });

  test('the status bar counts the mounts; a click shows the Mounts view with a mount selected, its title whole', async () => {
    const { page } = editor;
    await editor.command('View: Close All Editors');
    const status = page.locator('.statusbar-item', { hasText: /FUSE: \d+ mounts?/ }).first();
    await status.waitFor({ timeout: TIMEOUT });
    const count = Number(/FUSE: (\d+)/.exec(await status.innerText())?.[1]);
    assert.ok(count >= 1, 'our bindfs mount at least');
    await status.click();
    const sidebar = page.locator('.part.sidebar');
    await sidebar.locator('.monaco-list-row[aria-selected="true"]', { hasText: '/' }).first().waitFor({ timeout: TIMEOUT });
    // The view's title is not cut: "FUSE LENS: MOUNTS".
    const title = sidebar.locator('.composite.title .title-label h2');
    assert.match(await title.innerText(), /^FUSE LENS: MOUNTS$/i);
    const fits = await title.evaluate((h) => h.scrollWidth <= h.clientWidth);
    assert.ok(fits, 'the title fits its header');
    await editor.screenshot('inspect-7-status-and-tree');
  });

  test('a rule link in the Problems panel opens the rule page rendered, not its Markdown source', async () => {
    const { page } = editor;
    await editor.command('View: Close All Editors');
    await editor.open('try-quick-fix.fusesim');
    await editor.command('View: Focus Problems (Errors, Warnings, Infos)');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'cached-open-on-passthrough-inode' }).first();
    await problem.waitFor({ timeout: TIMEOUT });
    await problem.locator('.monaco-link', { hasText: 'cached-open-on-passthrough-inode' }).click();
    await page.locator('.tab', { hasText: 'Preview cached-open-on-passthrough-inode.md' }).waitFor({ timeout: TIMEOUT });
    const preview = editor.webview();
    await preview.locator('h1').first().waitFor({ timeout: TIMEOUT });
    // No tab with the raw source.
    assert.equal(await page.locator('.tab', { hasText: /^cached-open-on-passthrough-inode\.md/ }).count(), 0);
    await editor.screenshot('inspect-6-rule-page');

    // The hover of the refused step: the inode table first, and the rule's page one click away.
    await editor.command('View: Close All Editors');
    await editor.open('try-quick-fix.fusesim');
    const line12 = page.locator('.monaco-editor .view-line', { hasText: 'reader2' }).first();
    const link = page.locator('.monaco-hover a', { hasText: "the rule's page" });
    await editor.hover(line12, link, { x: 20, y: 5 });
    // Below the diagnostic (the editor's part), the server's part: the inode table before the outcome.
    const hoverText = await page.locator('.monaco-hover').first().innerText();
    const table = hoverText.indexOf('Inodes after this step');
    assert.ok(table > 0 && table < hoverText.indexOf('(inside the kernel: EINVAL)'), hoverText);
    assert.match(hoverText, /writer is held open here \(line 11\)/, 'the holding step as related information');
    await editor.screenshot('inspect-8-hover', 'diagnostic-hover');
    await link.click();
    await page.locator('.tab', { hasText: 'Preview cached-open-on-passthrough-inode.md' }).waitFor({ timeout: TIMEOUT });
  });

  test('high contrast: the inspect panel and the Mounts tree read in Dark High Contrast, nothing cut', async () => {
    const { page } = editor;
    await editor.colorTheme('Dark High Contrast', 'hc-black');
    let panel = await openPanelWhole();
    await panel.locator('body.vscode-high-contrast').waitFor({ timeout: TIMEOUT });
    await fits(panel, 'high contrast, 1600');
    await editor.screenshot('inspect-9-hc-1600');

    panel = await openPanelBesideScenario();
    await fits(panel, 'high contrast, split');
    await editor.screenshot('inspect-10-hc-split');

    // The Mounts tree: the mount, its daemon, the held file and the descriptor on it.
    await editor.command('FUSE Lens: Focus on Mounts View');
    const sidebar = page.locator('.part.sidebar');
    // Another mount of the machine, expanded, can push ours out of the rendered rows (a list
    // draws only what it shows): the view's Collapse All brings every mount row back into view.
    await sidebar.locator('.action-label[aria-label="Collapse All"]').first().click({ timeout: TIMEOUT });
    const mountRow = sidebar.locator('.monaco-list-row', { hasText: mount.mountpoint }).first();
    await mountRow.waitFor({ timeout: TIMEOUT });
    if ((await mountRow.getAttribute('aria-expanded')) !== 'true') await mountRow.click();
    const held = sidebar.locator('.monaco-list-row', { hasText: 'held.txt' }).first();
    await held.waitFor({ timeout: TIMEOUT });
    if ((await held.getAttribute('aria-expanded')) !== 'true') await held.click();
    await sidebar.locator('.monaco-list-row', { hasText: `tail (${holder.pid}) fd` }).first().waitFor({ timeout: TIMEOUT });
    await editor.screenshot('inspect-11-hc-tree');
    // A long mountpoint ends in an ellipsis in a narrow sidebar (the tree's own eliding); the
    // row's hover says it whole.
    await editor.hover(mountRow, page.locator('.monaco-hover, .workbench-hover', { hasText: mount.mountpoint }).first(), { x: 80, y: 8 });
    await editor.screenshot('inspect-12-hc-tree-hover');
    await editor.colorTheme('Light Modern', 'vs');
  });

});
