// The trace view and the simulation timeline fit the editor (issue 13): at
// 1600×1000 and in half the editor, light and dark, the page never scrolls
// sideways (a wide table scrolls in its own box); a request's details open
// right under its row as named fields; failures are grouped by opcode and
// errno; pid 0 reads "kernel"; node ids carry the names LOOKUP gave them; the
// timeline's legend explains every mark. Screenshots go to test-output/e2e/.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { manyRefusalsFtrace } from '../support/many-refusals';
import { openViewEditor, ROOT, screenshotAfterEach, type Editor } from './harness';

const TIMEOUT = 60_000;

describe('the trace view and the timeline fit the editor', { timeout: 10 * 60_000 }, () => {
  let editor: Editor;
  let workspace: string;

  before(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'fuselens-e2e-views-ws-'));
    cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
    for (const f of ['bindfs.ftrace', 'lab-refused-open.jsonl']) cpSync(join(ROOT, 'test', 'fixtures', 'trace', f), join(workspace, f));
    writeFileSync(join(workspace, 'many-refusals.ftrace'), manyRefusalsFtrace(150));
    editor = await openViewEditor(workspace);
  });

  screenshotAfterEach('views-', () => editor);

  after(async () => {
    await editor?.close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  const openTrace = async (file: string): Promise<FrameLocator> => {
    const { page } = editor;
    await editor.command('View: Show Explorer');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: file }).first();
    const item = page.locator('.context-view .action-label', { hasText: /^Open Trace…/ });
    // Right after start-up the Explorer may open a menu before it knows the file's type: ask again.
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      await row.click({ button: 'right' });
      if (await item.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
      assert.ok(Date.now() < deadline, 'the Explorer never offered Open Trace');
      await page.keyboard.press('Escape');
    }
    await item.hover();
    await page.locator('.context-view .action-item.focused', { hasText: /^Open Trace…/ }).waitFor();
    await page.keyboard.press('Enter');
    const trace = editor.webview();
    await trace.locator('h2', { hasText: 'Requests per opcode' }).waitFor({ timeout: TIMEOUT });
    return trace;
  };

  /** The hue (0–360°) of an rgb colour. */
  const hue = ([r, g, b]: [number, number, number]) => {
    const max = Math.max(r, g, b);
    const d = max - Math.min(r, g, b);
    if (d === 0) return 0;
    const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
    return (h * 60 + 360) % 360;
  };

  /** How far the page scrolls sideways (0: everything fits or scrolls in its own box). */
  const sideways = (view: FrameLocator) => view.locator('body').evaluate((b) => b.scrollWidth - b.clientWidth);

  /**
   * The latency chart, drawn when the view opened (no button): its canvas holds pixels of the
   * opcodes' colours (the legend markers' colours), so the points are drawn, not only the axes.
   * Returns how many opcodes have points on the canvas (a point may hide another), and how many the legend lists.
   */
  const chartPoints = async (view: FrameLocator) => {
    const canvas = view.locator('.latency-chart canvas');
    await canvas.waitFor({ timeout: TIMEOUT });
    return canvas.evaluate((c: HTMLCanvasElement) => {
      // (No named function in here: the test's compiler would wrap it in a helper the page lacks.)
      const colours = Array.from(document.querySelectorAll<HTMLElement>('.latency-chart .u-legend .u-marker'))
        .map((m) => (/rgba?\((\d+), (\d+), (\d+)/.exec(getComputedStyle(m).borderTopColor) ?? []).slice(1).map(Number));
      const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      const seen = new Set<number>();
      for (let i = 0; i < data.length; i += 4) {
        colours.forEach((k, n) => {
          if (k.length === 3 && Math.abs(data[i]! - k[0]!) + Math.abs(data[i + 1]! - k[1]!) + Math.abs(data[i + 2]! - k[2]!) < 12 && data[i + 3]! > 200) seen.add(n);
        });
      }
      return { drawn: seen.size, listed: colours.length, colours: colours.map((k) => k.join(',')).join(' ') };
    });
  };

  /** Parts of the latency chart (legend entries, the pointer line, the plot) outside its box or the view, or cut inside their cells. */
  const chartCut = (view: FrameLocator) =>
    view.locator('.latency-chart').evaluate((box) => {
      const b = box.getBoundingClientRect();
      const right = Math.min(b.right, document.documentElement.clientWidth);
      const parts = Array.from(box.querySelectorAll<HTMLElement>('.u-legend tr, .u-legend th, .u-legend td, .u-wrap, p.pointed'));
      const outside = parts.filter((e) => {
        const r = e.getBoundingClientRect();
        return r.width > 0 && (r.left < b.left - 0.5 || r.right > right + 0.5);
      });
      const cut = parts.filter((e) => e.scrollWidth > e.clientWidth + 1);
      return [...outside, ...cut].map((e) => `${e.className || e.tagName}: ${e.textContent ?? ''}`);
    });

  test('failures grouped by opcode and errno; a row opens its details right under it', async () => {
    const trace = await openTrace('bindfs.ftrace');
    const failed = trace.locator('section', { has: trace.locator('h2', { hasText: 'Failed requests' }) });
    const lookup = failed.locator('tr.request', { hasText: 'FUSE_LOOKUP' }).filter({ hasText: 'ENOENT' }).first();
    assert.match(await lookup.innerText(), /FUSE_LOOKUP\s+ENOENT\s+2\b/);
    assert.match(await trace.locator('h2', { hasText: 'Failed requests' }).innerText(), /Failed requests \(4\), by opcode and errno/);
    await lookup.click();
    const details = lookup.locator('xpath=following-sibling::tr[1]');
    await details.locator('dl.request-details').waitFor();
    const text = await details.innerText();
    assert.match(text, /Request\s+FUSE_LOOKUP #\d+/);
    assert.match(text, /Result\s+ENOENT \(-2\)/);
    assert.match(text, /Sent at\s+[\d.]+ ms after the first request/);
    assert.doesNotMatch(text, /latencyUs|startUs/);
    // The histograms have labelled axes.
    const axis = await trace.locator('svg.histogram text.axis').allTextContents();
    assert.ok(axis.includes('≤1 µs') && axis.some((t) => t.startsWith('>16')), axis.join(' '));
    assert.ok((await sideways(trace)) <= 0, 'the page does not scroll sideways');
    await editor.screenshot('views-1-trace-light-1600', 'trace-view');

    // Latency over time (uPlot), drawn as the view opened; its legend is whole at 1600 px.
    const points = await chartPoints(trace);
    // Every opcode with a latency (a p50 in the table) is in the legend.
    const timedOpcodes = (await trace.locator('section', { has: trace.locator('h2', { hasText: 'Requests per opcode' }) }).locator('tbody tr td:nth-of-type(3)').allInnerTexts()).filter((p50) => p50 !== '—');
    assert.equal(points.listed, timedOpcodes.length, 'the legend lists every opcode with a latency');
    assert.ok(points.drawn > 0, 'the canvas holds points in the opcodes\' colours, not only axes');
    assert.deepEqual(await chartCut(trace), [], 'nothing of the chart is cut');
    const over = trace.locator('.latency-chart .u-over');
    await over.scrollIntoViewIfNeeded();
    const box = await over.boundingBox();
    assert.ok(box && box.width > 200, 'the chart is drawn at the view\'s width');
    const { page } = editor;
    // The request under the pointer is named under the plot.
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await trace.locator('.latency-chart p.pointed', { hasText: /^FUSE_\w+ #\d+ from .*: \d+ µs/ }).waitFor({ timeout: TIMEOUT });
    assert.deepEqual(await chartCut(trace), [], 'nothing of the chart is cut with the pointer on it');
    await editor.screenshot('views-1a-latency-light-1600');
    // A drag across the plot selects the requests sent in that span.
    await page.mouse.move(box.x + 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2, { steps: 8 });
    await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 8 });
    await page.mouse.up();
    const picked = trace.locator('.selection h3');
    await picked.waitFor({ timeout: TIMEOUT });
    const n = Number(/^(\d+) requests?/.exec(await picked.innerText())?.[1]);
    assert.ok(n > 0, await picked.innerText());
    assert.equal(await trace.locator('.selection tr.request').count(), Math.min(n, 200));
    await editor.screenshot('views-1b-latency-selection', 'latency-chart');
  });

  test('pid 0 is the kernel; node ids carry their names; the denial fits half the editor, light and dark', async () => {
    const { page } = editor;
    await editor.command('View: Close All Editors');
    await editor.open('try-quick-fix.fusesim');
    await page.keyboard.press('Control+Backslash');
    await page.locator('.editor-group-container').nth(1).waitFor();
    const trace = await openTrace('lab-refused-open.jsonl');
    await trace.locator('h2', { hasText: 'Detected io-mode denials (1)' }).waitFor();
    const slowest = await trace.locator('h2', { hasText: 'Slowest requests' }).locator('xpath=..').innerText();
    assert.match(slowest, /\bkernel\b/, 'a request the kernel sent itself');
    assert.doesNotMatch(slowest, /\t0\t/, 'not pid 0');
    assert.match(slowest, /hello\.txt/, 'a node id named by its LOOKUP');
    assert.ok((await sideways(trace)) <= 0, 'half width: the page does not scroll sideways');
    const why = trace.locator('td.why').first();
    const whyBox = await why.boundingBox();
    const scroller = await why.locator('xpath=ancestor::div[contains(@class,"scroll")]').boundingBox();
    assert.ok(whyBox && scroller, 'the denial table is in its own scroll box');
    await editor.screenshot('views-2-trace-light-split');
    // The latency chart in half the editor: drawn, nothing cut.
    const points = await chartPoints(trace);
    assert.ok(points.listed > 0 && points.drawn > 0, JSON.stringify(points));
    assert.deepEqual(await chartCut(trace), [], 'half width: nothing of the chart is cut');
    await trace.locator('.latency-chart').scrollIntoViewIfNeeded();
    await editor.screenshot('views-2b-latency-light-split');
    await editor.command('Preferences: Toggle between Light/Dark Themes');
    await page.locator('.monaco-workbench.vs-dark').waitFor({ timeout: TIMEOUT });
    // The chart is drawn again in the dark theme's chart colours.
    await trace.locator('body.vscode-dark').waitFor({ timeout: TIMEOUT });
    let dark = await chartPoints(trace);
    for (const deadline = Date.now() + TIMEOUT; dark.colours === points.colours && Date.now() < deadline; ) dark = await chartPoints(trace);
    assert.ok(dark.drawn > 0 && dark.colours !== points.colours, `light ${points.colours}, dark ${dark.colours}`);
    assert.deepEqual(await chartCut(trace), [], 'dark: nothing of the chart is cut');
    await editor.screenshot('views-3b-latency-dark-split');
    await trace.locator('h1').scrollIntoViewIfNeeded();
    await editor.screenshot('views-3-trace-dark-split');
  });

  test('the timeline in half the editor: nothing cut, the legend explains ⇢b1; dark and light', async () => {
    const { page } = editor;
    await editor.command('View: Close All Editors');
    await editor.open('try-quick-fix.fusesim');
    await editor.command('FUSE Lens: Show Simulation');
    const timeline = editor.webview();
    await timeline.locator('tr.step-denied').first().waitFor({ timeout: TIMEOUT });
    // Steps read as written in the file (without the outcome or a comment).
    assert.equal(await timeline.locator('tr.step-denied td.step-text').innerText(), 'open data.db as reader2');
    const legend = await timeline.locator('.legend').innerText();
    assert.match(legend, /⇢b1: the inode is bound to backing b1/);
    assert.ok((await sideways(timeline)) <= 0, 'the page does not scroll sideways');
    // Every inode column is inside the view or inside the table's own scroll box.
    const lastInode = timeline.locator('th.inode').last();
    const box = await lastInode.boundingBox();
    const scroller = await timeline.locator('div.scroll').boundingBox();
    assert.ok(box && scroller && box.x >= scroller.x);
    await editor.screenshot('views-4-timeline-dark-split', 'timeline');
    await editor.command('Preferences: Toggle between Light/Dark Themes');
    await page.locator('.monaco-workbench.vs').waitFor({ timeout: TIMEOUT });
    await editor.screenshot('views-5-timeline-light-split');
  });

  test('high contrast: the timeline and the trace view read in Dark High Contrast, nothing cut', async () => {
    // The timeline of the test before is still open beside its scenario.
    await editor.colorTheme('Dark High Contrast', 'hc-black');
    const timeline = editor.webview();
    assert.ok((await sideways(timeline)) <= 0, 'the timeline does not scroll sideways');
    await editor.screenshot('views-6-timeline-hc-split');
    await editor.command('View: Close All Editors');
    const trace = await openTrace('lab-refused-open.jsonl');
    await trace.locator('h2', { hasText: 'Detected io-mode denials (1)' }).waitFor();
    assert.ok((await sideways(trace)) <= 0, 'the trace view does not scroll sideways');
    await editor.screenshot('views-7-trace-hc-1600');
    const points = await chartPoints(trace);
    assert.ok(points.listed > 0 && points.drawn > 0, JSON.stringify(points));
    // High contrast defines no charts.orange: each opcode still has a hue of its own (a shared
    // stand-in drew FUSE_LOOKUP in a second blue, 8° from FUSE_INIT's).
    const hues = points.colours.split(' ').map((c) => hue(c.split(',').map(Number) as [number, number, number]));
    for (const [i, a] of hues.entries()) {
      for (const b of hues.slice(i + 1)) assert.ok(Math.min(Math.abs(a - b), 360 - Math.abs(a - b)) >= 20, `distinct hues: ${points.colours}`);
    }
    assert.deepEqual(await chartCut(trace), [], 'high contrast: nothing of the chart is cut');
    await trace.locator('.latency-chart').scrollIntoViewIfNeeded();
    await editor.screenshot('views-7b-latency-hc-1600');
  });

  test('150 refusals: the first 100 listed, the line that counts them all reads at full and half width, light and dark', async () => {
    const { page } = editor;
    await editor.colorTheme('Light Modern', 'vs');
    await editor.command('View: Close All Editors');
    let trace = await openTrace('many-refusals.ftrace');
    await trace.locator('h2', { hasText: 'Detected io-mode denials (100)' }).waitFor({ timeout: TIMEOUT });
    const counted = trace.locator('p', { hasText: 'refused or possibly refused opens in all' });
    assert.equal(await counted.innerText(), '150 refused or possibly refused opens in all: the first 100 are listed above (fuselens trace --export-scenario keeps every one).');
    assert.ok((await sideways(trace)) <= 0, 'full width: the page does not scroll sideways');
    await counted.scrollIntoViewIfNeeded();
    await editor.screenshot('views-8-refusals-light-1600');
    await editor.command('View: Close All Editors');
    await editor.open('try-quick-fix.fusesim');
    await page.keyboard.press('Control+Backslash');
    await page.locator('.editor-group-container').nth(1).waitFor();
    trace = await openTrace('many-refusals.ftrace');
    await editor.colorTheme('Dark Modern', 'vs-dark');
    await trace.locator('body.vscode-dark').waitFor({ timeout: TIMEOUT });
    assert.ok((await sideways(trace)) <= 0, 'half width: the page does not scroll sideways');
    await trace.locator('p', { hasText: 'refused or possibly refused opens in all' }).scrollIntoViewIfNeeded();
    await editor.screenshot('views-9-refusals-dark-split');
  });
});
