// Hostile names in the editor (issue 15): a bindfs mount whose mountpoint, a
// file on it and the comm of the process holding that file are HTML, Markdown
// and shell syntax (and a newline), and a trace whose task column is HTML.
// Through the tree, the inspect panel and the trace view each reads as
// written, a newline as an escape (protocol/inert-text.ts): nothing executes
// (no dialog), nothing renders as markup (no <img>/<b> element).
// The CLI side is test/safety/hostile-names.test.ts.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FrameLocator, Locator } from 'playwright-core';
import { bindfs, until, type TestMount } from '../support/fuse-mounts';
import { openEditor, ROOT, type Editor } from './harness';

const IMG = '<img src=x onerror=alert(1)>';
const MOUNT_NAME = `mnt\n\`x\` | *bold* ${IMG}`;
const FILE_NAME = `f\n${IMG} |*bold*\`.txt`;
// A newline reads as an escape: `\n` in a tree label and in the panel (inertText).
const inTree = (s: string) => s.replaceAll('\n', '\\n');
const COMM = '<b>x</b>|'; // comm holds at most 15 bytes
const TRACE_COMM = `<b>y</b>${IMG}`;

let editor: Editor | undefined;
let workspace: string;
let dir: string;
let mount: TestMount | undefined;
let holder: ChildProcess | undefined;
const dialogs: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fuselens-e2e-hostile-'));
  const source = join(dir, 'src');
  const mountpoint = join(dir, MOUNT_NAME);
  mkdirSync(source);
  mkdirSync(mountpoint);
  writeFileSync(join(source, FILE_NAME), 'x');
  mount = await bindfs(dir, source, mountpoint);
  holder = spawn(process.execPath, ['-e', `
    const fs = require('fs');
    fs.writeFileSync('/proc/self/comm', process.env.COMM);
    fs.openSync(process.env.HELD, 'r');
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1e6);`], { env: { COMM, HELD: join(mountpoint, FILE_NAME) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => holder!.stdout!.once('data', resolve));
  await until(() => readFileSync(`/proc/${holder!.pid}/comm`, 'utf8') === `${COMM}\n`, 'the holder to rename itself');

  // A tracefs capture whose reading process has an HTML comm.
  workspace = mkdtempSync(join(tmpdir(), 'fuselens-e2e-hostile-ws-'));
  const trace = readFileSync(join(ROOT, 'test', 'fixtures', 'trace', 'bindfs.ftrace'), 'utf8');
  assert.ok(trace.includes('cat-26640'));
  writeFileSync(join(workspace, 'hostile.ftrace'), trace.replaceAll('cat-26640', `${TRACE_COMM}-26640`));

  editor = await openEditor(workspace, { 'fuselens.mounts.refreshInterval': 0 });
  editor.page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
});

after(async () => {
  await editor?.close();
  holder?.kill('SIGKILL');
  await mount?.unmount();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** Elements that would exist only if a name had been parsed as markup. */
async function markupIn(scope: Locator | FrameLocator): Promise<number> {
  return (await scope.locator('img').count()) + (await scope.locator('b', { hasText: /^[xy]$/ }).count());
}

test('hostile mount, file and process names read as written in the tree, the inspect panel and the trace view', { timeout: 180_000 }, async () => {
  assert.ok(editor && mount && holder?.pid);
  const { page } = editor;

  // The tree: mount row, file row, process row, each with the names as text.
  await editor.command('FUSE Lens: Focus on Mounts View');
  const sidebar = page.locator('.part.sidebar');
  const mountRow = sidebar.locator('.monaco-list-row', { hasText: inTree(MOUNT_NAME) }).first();
  await mountRow.waitFor();
  if ((await mountRow.getAttribute('aria-expanded')) !== 'true') await mountRow.click();
  const fileRow = sidebar.locator('.monaco-list-row', { hasText: inTree(FILE_NAME) }).first();
  await fileRow.waitFor();
  const openRow = sidebar.locator('.monaco-list-row', { hasText: `${COMM} (${holder.pid}) fd` }).first();
  await openRow.waitFor();
  assert.ok((await mountRow.innerText()).includes(inTree(mount.mountpoint)));
  assert.ok((await fileRow.innerText()).includes(inTree(FILE_NAME)));
  assert.equal(await markupIn(sidebar), 0, 'no element made from a name in the tree');
  await editor.screenshot('hostile-1-tree');

  // Inspect Mount…: the panel (title, heading, tables, warnings) shows the names as text.
  await editor.command('FUSE Lens: Inspect Mount…');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: inTree(MOUNT_NAME) }).first().click();
  const report = editor.webview();
  await report.locator('h1', { hasText: inTree(mount.mountpoint) }).waitFor();
  await page.locator('.tab.active', { hasText: inTree(MOUNT_NAME) }).waitFor();
  const holderRow = report.locator('vscode-table[aria-label="Open descriptors"] vscode-table-row', { hasText: String(holder.pid) }).first();
  await holderRow.waitFor();
  assert.ok((await holderRow.innerText()).startsWith(`${COMM}\t${holder.pid}\t`), await holderRow.innerText());
  const reportText = await report.locator('body').innerText();
  assert.ok(reportText.includes(`./${inTree(FILE_NAME)}`), reportText); // paths on the mount read from the mountpoint
  assert.equal(await markupIn(report), 0, 'no element made from a name in the panel');
  await editor.screenshot('hostile-2-inspect-panel');

  // Open Trace… from the Explorer: the HTML comm is a request row's text.
  await editor.command('View: Show Explorer');
  const file = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'hostile.ftrace' }).first();
  await file.click({ button: 'right' });
  await page.locator('.context-view .action-label', { hasText: /^Open Trace…/ }).hover();
  await page.locator('.context-view .action-item.focused', { hasText: /^Open Trace…/ }).waitFor();
  await page.keyboard.press('Enter');
  const trace = editor.webview();
  const row = trace.locator('tr.request', { hasText: TRACE_COMM }).first();
  await row.waitFor();
  assert.ok((await row.innerText()).includes(`26640 ${TRACE_COMM}`));
  assert.equal(await markupIn(trace), 0, 'no element made from a name in the trace view');
  await row.scrollIntoViewIfNeeded();
  await editor.screenshot('hostile-3-trace');

  assert.deepEqual(dialogs, [], 'no alert or other dialog');
});
