// End-to-end in a real VS Code (code-server + Chromium, see harness.ts):
// the scenario editor (Problems panel, quick fix, timeline) and the FUSE Lens
// sidebar on a real bindfs mount with a process holding a file open.
// Run by `npm run test:e2e` (which packages the .vsix first). Screenshots go
// to test-output/e2e/. Every wait is on UI state, with a deadline.

import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { examplesWithHeldFile, type TestMount } from '../support/fuse-mounts';
import { openEditor, ROOT, screenshotAfterEach, type Editor } from './harness';

const TIMEOUT = 60_000;

describe('FUSE Lens in code-server', { timeout: 10 * 60_000 }, () => {
  let editor: Editor;
  let workspace: string;
  let mount: TestMount | undefined;
  let holder: ChildProcess | undefined;
  let mountDir: string | undefined;

  before(async () => {
    // A copy of examples/, so the quick fix edits the copy.
    workspace = mkdtempSync(join(tmpdir(), 'fuselens-e2e-ws-'));
    cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
    // A recorded lab trace with a refused open (test/fixtures/trace/README.md says how it was made).
    cpSync(join(ROOT, 'test', 'fixtures', 'trace', 'lab-refused-open.jsonl'), join(workspace, 'traces', 'lab-refused-open.jsonl'));

    // A real FUSE mount and a process holding one of its files open.
    const held = await examplesWithHeldFile('fuselens-e2e-mount-');
    ({ mount, holder } = held);
    mountDir = held.mount.dir;

    // No timed refresh: a re-render under an open context menu would race the test's clicks.
    editor = await openEditor(workspace, { 'fuselens.mounts.refreshInterval': 0 });
  });

  screenshotAfterEach('', () => editor);

  after(async () => {
    await editor?.close();
    holder?.kill('SIGKILL');
    await mount?.unmount();
    if (mountDir) rmSync(mountDir, { recursive: true, force: true });
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  test('a denied step is in the Problems panel on its line, the timeline highlights it, the quick fix removes it', async () => {
    const { page } = editor;
    await editor.open('try-quick-fix.fusesim');

    // The language server's diagnostic, in the Problems panel, on line 12.
    await editor.command('View: Focus Problems (Errors, Warnings, Infos)');
    const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'cached-open-on-passthrough-inode' }).first();
    await problem.waitFor({ timeout: TIMEOUT });
    const problemText = await problem.innerText();
    assert.match(problemText, /EIO/);
    assert.match(problemText, /Ln 12/);
    await editor.screenshot('1-problems');

    // The timeline: the denied step's row is highlighted with its errno.
    await editor.command('FUSE Lens: Show Simulation');
    const timeline = editor.webview();
    const denied = timeline.locator('tr.step-denied');
    await denied.first().waitFor({ timeout: TIMEOUT });
    assert.equal(await denied.count(), 1);
    assert.equal(await denied.first().getAttribute('data-line'), '12');
    assert.match(await denied.first().innerText(), /EIO/);
    await editor.screenshot('2-timeline');

    // Clicking the row reveals line 12 in the editor. Under load the first click can land while the
    // webview re-renders its rows (a simulation arriving): then it is clicked once more.
    const status = page.locator('.statusbar-item[id="status.editor.selection"]');
    const atLine12 = status.filter({ hasText: /Ln 12/ });
    await denied.first().click();
    if (!(await atLine12.waitFor({ timeout: 15_000 }).then(() => true, () => false))) await timeline.locator('tr.step-denied').first().click();
    await atLine12.waitFor({ timeout: TIMEOUT });

    // Keyboard: the first row is the tab stop, ↓ moves to the next step (line 9), Enter reveals it.
    // The click's reveal gives the editor the focus (showTextDocument, preserveFocus false); under
    // load that lands after the status bar shows Ln 12, and would take the focus back from the row:
    // wait for it, then press keys only once the row holds the focus in a focused webview.
    await page.locator('.monaco-editor.focused').first().waitFor({ timeout: TIMEOUT });
    const firstRow = timeline.locator('tr.step').first();
    const rowFocused = () => firstRow.evaluate((row) => row === document.activeElement && document.hasFocus()).catch(() => false);
    const focusDeadline = Date.now() + TIMEOUT;
    for (;;) {
      await firstRow.focus();
      if (await rowFocused()) break;
      assert.ok(Date.now() < focusDeadline, 'the first timeline row never took the keyboard focus');
      await page.waitForTimeout(250);
    }
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await status.filter({ hasText: /Ln 9,/ }).waitFor({ timeout: TIMEOUT });
    await editor.command('Go to Line/Column...');
    await page.keyboard.type('12');
    await page.keyboard.press('Enter');
    await status.filter({ hasText: /Ln 12/ }).waitFor({ timeout: TIMEOUT });

    // Quick fix on line 12: the light bulb's first fix, then the diagnostic is gone.
    // Ctrl+. right after the cursor lands can race the code-action request; ask again until the menu shows.
    const action = page.locator('.action-widget .monaco-list-row.action', { hasText: /passthrough/i }).first();
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      await page.keyboard.press('Control+.');
      if (await action.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
      assert.ok(Date.now() < deadline, 'the quick fix menu never appeared');
      await page.keyboard.press('Escape');
    }
    await editor.screenshot('3-quick-fix-menu');
    await action.click();
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'cached-open-on-passthrough-inode' }).waitFor({ state: 'detached', timeout: TIMEOUT });
    // The timeline follows the edit: no denied step any more.
    await timeline.locator('tr.step').first().waitFor();
    await timeline.locator('tr.step-denied').waitFor({ state: 'detached', timeout: TIMEOUT });
    await editor.screenshot('4-after-quick-fix');
  });

  test('the timeline follows the active scenario and marks blocking steps with where they wake', async () => {
    await editor.open('parallel-direct-writes.fusesim');
    const timeline = editor.webview();
    await timeline.locator('h1', { hasText: 'parallel-direct-writes.fusesim' }).waitFor();
    const blocked = timeline.locator('tr.step-blocked');
    assert.equal(await blocked.count(), 2);
    assert.match(await blocked.first().innerText(), /blocks\s*→ ok at line 19/);
    assert.equal(await blocked.first().getAttribute('data-line'), '17');
  });

  test('Run Scenario on This Kernel asks first, then shows the kernel beside the simulation', async () => {
    const { page } = editor;
    await editor.open('passthrough-and-direct-io.fusesim');
    await editor.command('FUSE Lens: Run Scenario on This Kernel');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: TIMEOUT });
    assert.match(await dialog.innerText(), /passthrough-and-direct-io\.fusesim/);
    await dialog.locator('.monaco-button', { hasText: 'Mount and Run' }).click();
    await page.locator('.notification-toast', { hasText: 'agrees with the simulation on every step' }).waitFor({ timeout: 2 * TIMEOUT });
    const timeline = editor.webview();
    await timeline.locator('th', { hasText: 'Kernel' }).waitFor({ timeout: TIMEOUT });
    await timeline.locator('h1', { hasText: 'passthrough-and-direct-io.fusesim' }).waitFor();
    assert.equal(await timeline.locator('tr.step-differs').count(), 0);
    assert.match(await timeline.locator('header').innerText(), /0 differences/);
    await editor.screenshot('4b-run-on-kernel');
  });

  test('the sidebar shows the bindfs mount, its daemon and the file tail holds open', async () => {
    const { page } = editor;
    assert.ok(mount && holder?.pid);
    await page.locator('.activitybar .action-item a[aria-label^="FUSE Lens"]').click();
    const mountRow = page.locator('.monaco-list-row', { hasText: mount.mountpoint }).first();
    await mountRow.waitFor({ timeout: TIMEOUT });
    assert.match(await mountRow.innerText(), /fuse.* · conn \d+ · waiting \d+ · bindfs/);
    assert.ok((await page.locator('.part.sidebar .monaco-list-row').count()) > 0); // the selector welcome.e2e.ts counts on
    if ((await mountRow.getAttribute('aria-expanded')) !== 'true') await mountRow.click();
    const daemonRow = page.locator('.monaco-list-row', { hasText: 'Daemon: bindfs' }).first();
    await daemonRow.waitFor({ timeout: TIMEOUT });
    assert.match(await daemonRow.innerText(), new RegExp(`pid ${mount.pid}`));
    const fileRow = page.locator('.monaco-list-row', { hasText: 'held.txt' }).first();
    await fileRow.waitFor({ timeout: TIMEOUT });
    const openRow = page.locator('.monaco-list-row', { hasText: `tail (${holder.pid}) fd` }).first();
    await openRow.waitFor({ timeout: TIMEOUT });
    assert.match(await openRow.innerText(), /O_RDONLY/);
    await editor.screenshot('5-sidebar');

    // Inspect Mount… from the palette: the panel names the daemon and the open file (test/e2e/inspect.e2e.ts has the rest).
    await editor.command('FUSE Lens: Inspect Mount…');
    await editor.pick(mount.mountpoint);
    const report = editor.webview();
    await report.locator('h1', { hasText: mount.mountpoint }).waitFor({ timeout: TIMEOUT });
    // The descriptor row of tail (in a narrow group the table stacks each cell under its column's name).
    const tailRow = report.locator('vscode-table[aria-label="Open descriptors"] vscode-table-row', { hasText: String(holder.pid) }).first();
    await tailRow.waitFor({ timeout: TIMEOUT });
    assert.match(await tailRow.innerText(), /tail/);
    const reportText = await report.locator('body').innerText();
    assert.match(reportText, new RegExp(`bindfs \\(pid ${mount.pid}\\)`));
    assert.match(reportText, /held\.txt/);
    await editor.screenshot('5b-inspect-panel');

    // Open Scenario from This Mount (context menu): the mount as a .fusesim file.
    if (!(await mountRow.isVisible())) await page.locator('.activitybar .action-item a[aria-label^="FUSE Lens"]').click();
    await mountRow.click({ button: 'right' });
    // Menu items act on mouse-up after the menu has settled; choosing with the keyboard is deterministic.
    const menuItem = page.locator('.context-view .action-label', { hasText: 'Open Scenario from This Mount' });
    await menuItem.hover();
    await page.locator('.context-view .action-item.focused', { hasText: 'Open Scenario from This Mount' }).waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.monaco-editor .view-lines', { hasText: 'held.txt' }).first().waitFor({ timeout: TIMEOUT });
    await page.locator('.statusbar-item', { hasText: 'FUSE Scenario' }).first().waitFor();
    await editor.screenshot('5c-exported-scenario');
  });

  test('the mounts view refreshes on its interval while visible', async () => {
    const { page } = editor;
    assert.ok(mount);
    await editor.command('FUSE Lens: Focus on Mounts View');
    await page.locator('.monaco-list-row', { hasText: 'held.txt' }).first().waitFor();
    // Workspace settings: the extension follows configuration changes.
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'fuselens.mounts.refreshInterval': 1 }));
    writeFileSync(join(mount.mountpoint, 'later.txt'), 'opened after the view was drawn\n');
    const later = spawn('tail', ['-f', join(mount.mountpoint, 'later.txt')], { stdio: 'ignore' });
    try {
      // No refresh click: the row appears by itself.
      await page.locator('.monaco-list-row', { hasText: `tail (${later.pid}) fd` }).first().waitFor();
      await editor.screenshot('5d-refreshed-by-interval');
    } finally {
      later.kill('SIGKILL');
      writeFileSync(join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'fuselens.mounts.refreshInterval': 0 }));
    }
  });

  test('Capture Trace… counts requests live, Stop opens the trace view with the opcodes seen', async () => {
    const { page } = editor;
    assert.ok(mount);
    await editor.command('FUSE Lens: Capture Trace…');
    await editor.pick(mount.mountpoint);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Kernel tracepoints' }).first().click();
    const notification = page.locator('.notification-toast', { hasText: 'Capturing FUSE requests' });
    await notification.waitFor({ timeout: TIMEOUT });
    // A workload on the mount, repeated until the live count shows it.
    const counted = notification.filter({ hasText: /[1-9]\d* events/ });
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      readFileSync(join(mount.mountpoint, 'held.txt'));
      readFileSync(join(mount.mountpoint, 'try-quick-fix.fusesim'));
      if (await counted.waitFor({ timeout: 1000 }).then(() => true, () => false)) break;
      assert.ok(Date.now() < deadline, 'the capture never counted a request');
    }
    await editor.screenshot('6-capture-progress');
    await page.locator('.statusbar-item', { hasText: 'Stop FUSE capture' }).click();
    const trace = editor.webview();
    await trace.locator('h2', { hasText: 'Requests per opcode' }).waitFor({ timeout: TIMEOUT });
    const opcodes = await trace.locator('table.data').first().innerText();
    assert.match(opcodes, /FUSE_(OPEN|READ|LOOKUP|GETATTR)/);
    // The latency chart is drawn as the view opens; the palette commands below need a workbench that still answers.
    await trace.locator('.latency-chart canvas').waitFor({ timeout: TIMEOUT });
    if (await page.locator('.part.panel').isVisible()) await editor.command('View: Hide Panel');
    await editor.command('View: Toggle Maximize Editor Group');
    await editor.screenshot('7-trace-view');
    await editor.command('View: Toggle Maximize Editor Group');
  });

  test('Check All Scenarios in Workspace fills the Problems panel for files that are not open', async () => {
    const { page } = editor;
    await editor.command('FUSE Lens: Check All Scenarios in Workspace');
    await page.locator('.notification-toast', { hasText: /5 scenarios checked/ }).waitFor({ timeout: TIMEOUT });
    await editor.command('View: Focus Problems (Errors, Warnings, Infos)');
    const file = page.locator('.markers-panel .monaco-list-row', { hasText: 'direct-io-mmap-taint.fusesim' }).first();
    await file.waitFor({ timeout: TIMEOUT });
    await page.locator('.markers-panel .monaco-list-row', { hasText: /denied, as expected.*\[Ln 18, Col 1\]/ }).first().waitFor({ timeout: TIMEOUT });
    await editor.screenshot('8-check-all');
  });

  test('Open Trace… from the Explorer: the refused open and the inode modes of a recorded lab trace', async () => {
    const { page } = editor;
    await editor.command('View: Show Explorer');
    const folder = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'traces' }).first();
    await folder.waitFor();
    if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
    const file = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'lab-refused-open.jsonl' }).first();
    await file.click({ button: 'right' });
    const menuItem = page.locator('.context-view .action-label', { hasText: /^Open Trace…/ });
    await menuItem.hover();
    await page.locator('.context-view .action-item.focused', { hasText: /^Open Trace…/ }).waitFor();
    await page.keyboard.press('Enter');
    const trace = editor.webview();
    await trace.locator('h2', { hasText: 'Detected io-mode denials (1)' }).waitFor();
    const denial = await trace.locator('h2', { hasText: 'Detected io-mode denials' }).locator('xpath=..').innerText();
    assert.match(denial, /hello\.txt/);
    assert.match(denial, /4394/);
    await trace.locator('h2', { hasText: 'Inodes' }).waitFor();
    // A request's details, from the keyboard: named fields in a row right under it.
    const first = trace.locator('tr.request').first();
    await first.focus();
    await page.keyboard.press('Enter');
    const details = first.locator('xpath=following-sibling::tr[1]');
    await details.locator('dl.request-details dt', { hasText: 'Sent by' }).waitFor();
    assert.equal(await first.getAttribute('aria-expanded'), 'true');
    assert.match(await details.innerText(), /Request\s+FUSE_\w+ #\d+/);
    await editor.command('View: Toggle Maximize Editor Group');
    await details.scrollIntoViewIfNeeded();
    await editor.screenshot('8b-trace-denials');
    await editor.command('View: Toggle Maximize Editor Group');
  });

  test('Abort Connection asks first, naming the mount, then the kernel fails requests on it', async () => {
    const { page } = editor;
    assert.ok(mount);
    const mountpoint = mount.mountpoint;
    await editor.command('FUSE Lens: Focus on Mounts View');
    const mountRow = page.locator('.monaco-list-row', { hasText: mount.mountpoint }).first();
    await mountRow.click({ button: 'right' });
    const menuItem = page.locator('.context-view .action-label', { hasText: 'Abort Connection' });
    await menuItem.hover();
    await page.locator('.context-view .action-item.focused', { hasText: 'Abort Connection' }).waitFor();
    await page.keyboard.press('Enter');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), new RegExp(`Abort the FUSE connection of ${mount.mountpoint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await editor.screenshot('9-abort-confirmation');
    await dialog.locator('.monaco-button', { hasText: 'Abort Connection' }).click();
    await page.locator('.notification-toast', { hasText: 'aborted the connection of' }).waitFor();
    assert.throws(() => readFileSync(join(mountpoint, 'held.txt')), /ENOTCONN|ECONNABORTED/);
  });
});
