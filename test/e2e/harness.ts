// Runs FUSE Lens in a real VS Code for the end-to-end tests: code-server (from
// scripts/code-server.sh's cache) with the packaged .vsix installed into a
// fresh profile, and Debian's Chromium driven by playwright-core
// (/work/shared/e2e-vscode.md). Everything is torn down by `close()`.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'node:test';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';

export const ROOT = join(__dirname, '..', '..');
export const OUTPUT = join(ROOT, 'test-output', 'e2e');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export interface Editor {
  page: Page;
  url: string;
  /** code-server's --user-data-dir (its logs/ hold the extension host's logs). */
  userData: string;
  /**
   * Saves a screenshot into test-output/e2e/NAME.png and returns its path. With `readme`, and
   * FUSELENS_README_IMAGES=1 in the environment, also as docs/images/README.png: the README's
   * pictures are taken by the suite, never by hand.
   */
  screenshot(name: string, readme?: string): Promise<string>;
  /** Opens a workspace file by name through Quick Open and waits for its tab. */
  open(fileName: string): Promise<void>;
  /** Runs a command by its title through the command palette (F1). */
  command(title: string): Promise<void>;
  /**
   * Rests the pointer on `target` until `shown` (its hover) appears. A hover can miss the first
   * time (the pointer arrived while the workbench was busy): then the pointer leaves and comes back.
   */
  hover(target: Locator, shown: Locator, position?: { x: number; y: number }): Promise<void>;
  /**
   * In the quick pick a command opened, types `text` and chooses the first row showing it (with
   * other helpers' mounts on the machine, a mount's row may be below the visible ones).
   */
  pick(text: string): Promise<void>;
  /**
   * Switches to the colour theme named `theme` (Preferences: Color Theme, by its key chord: typed
   * into the palette, its name ranks after "Browse Color Themes") and waits for the workbench's
   * theme class (`vs`, `vs-dark`, `hc-black`, `hc-light`).
   */
  colorTheme(theme: string, workbenchClass: string): Promise<void>;
  /** The document inside the most recently opened webview. */
  webview(): FrameLocator;
  close(): Promise<void>;
}

/** The newest .vsix built by `npm run package`. */
export function builtVsix(): string {
  const files = readdirSync(ROOT)
    .filter((f) => /^fuse-lens-.*\.vsix$/.test(f))
    .map((f) => join(ROOT, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error('no .vsix: run `npm run package` first (npm run test:e2e does)');
  return files[0];
}

/** [node24, entry.js] of the cached code-server, installing it the first time (about 3 minutes). */
export function codeServer(): [string, string] {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/code-server.sh failed (exit ${r.status})`);
  const [node, entry] = r.stdout.trim().split(' ');
  if (!node || !entry) throw new Error(`scripts/code-server.sh printed ${r.stdout}`);
  return [node, entry];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface EditorOptions {
  /** A command line that runs code-server as its last argument (e.g. in a private mount namespace). */
  wrapper?: string[];
  /** The browser window's size; 1400×900 unless given (the issue's screenshots are 1600×1000). */
  viewport?: { width: number; height: number };
}

export async function openEditor(folder: string, settings: Record<string, unknown> = {}, options: EditorOptions = {}): Promise<Editor> {
  const [node, entry] = codeServer();
  const profile = mkdtempSync(join(tmpdir(), 'fuselens-e2e-profile-'));
  const userData = join(profile, 'user-data');
  const extensions = join(profile, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(OUTPUT, { recursive: true });
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'editor.quickSuggestions': { other: false, comments: false, strings: false },
      ...settings,
    }),
  );
  const install = spawnSync(node, [entry, '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', builtVsix(), '--force'], {
    encoding: 'utf8',
  });
  if (install.status !== 0) throw new Error(`installing the .vsix into code-server failed: ${install.stderr}`);

  const port = await freePort();
  const wrapper = options.wrapper ?? [];
  const server: ChildProcess = spawn(
    wrapper[0] ?? node,
    [...wrapper.slice(1), ...(wrapper.length > 0 ? [node] : []), entry, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--user-data-dir', userData, '--extensions-dir', extensions, folder],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let serverLog = '';
  server.stdout?.on('data', (d: Buffer) => (serverLog += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (serverLog += d.toString()));
  let browser: Browser | undefined;
  // code-server runs in its own process group; end it on every exit path (SIGINT/SIGTERM end
  // the test process through process.exit in test/support/fuse-mounts.ts, which fires 'exit').
  const killServer = () => {
    if (server.pid && server.exitCode === null) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', killServer);
  const close = async () => {
    await browser?.close().catch(() => undefined);
    killServer();
    process.off('exit', killServer);
    writeFileSync(join(OUTPUT, 'code-server.log'), serverLog);
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor('code-server to answer /healthz', 60_000, async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const page = await browser.newPage({ viewport: options.viewport ?? { width: 1400, height: 900 } });
    page.setDefaultTimeout(60_000); // CI machines can be slow; every wait is on UI state
    await page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    /**
     * Opens Quick Open / the palette with `key`, types `text` and waits until the first row is
     * `rowText`. The workbench may take focus back while it settles (the input then closes), so
     * this asks again until the deadline.
     */
    const quickInput = async (key: string, text: string, rowText: string) => {
      const deadline = Date.now() + 60_000;
      const input = page.locator('.quick-input-widget input');
      const first = page.locator('.quick-input-list .monaco-list-row').first();
      // Each failed attempt: what the input held and where the focus was, for the report.
      const attempts: string[] = [];
      for (;;) {
        // A key pressed with the focus in a webview reaches the workbench only through the
        // webview's message forwarding; in code-server that forwarding sometimes never delivered
        // F1 once the trace view had the focus (every attempt for a minute: 2 of 7 full runs). The
        // palette is the workbench's: give the workbench the focus first, as a click outside does.
        await page.evaluate(() => {
          if (document.activeElement instanceof HTMLIFrameElement) document.activeElement.blur();
        }).catch(() => undefined);
        await page.keyboard.press(key);
        const ready = await input.waitFor({ timeout: 5000 }).then(
          async () => {
            await input.fill(text);
            await first.filter({ hasText: rowText }).waitFor({ timeout: 5000 });
            return true;
          },
          () => false,
        ).catch(() => false);
        if (ready && (await input.isVisible()) && (await input.inputValue()) === text) return;
        const visible = await input.isVisible().catch(() => false);
        const value = visible ? await input.inputValue().catch(() => '?') : '';
        const focus = await page.evaluate(() => `${document.activeElement?.tagName ?? ''}.${String(document.activeElement?.className ?? '').split(' ')[0]}`).catch(() => '?');
        attempts.push(`${visible ? `open, "${value}"` : 'closed'}, focus ${focus}`);
        if (Date.now() > deadline) {
          // What the palette offered instead, for the report.
          const rows = await page.locator('.quick-input-list .monaco-list-row').allInnerTexts().catch(() => []);
          await page.screenshot({ path: join(OUTPUT, 'quick-input-failure.png') }).catch(() => undefined);
          throw new Error(`the quick input never offered "${rowText}" (it showed: ${rows.slice(0, 3).join(' | ') || 'nothing'}; attempts: ${attempts.slice(-4).join('; ')})`);
        }
        await page.keyboard.press('Escape');
      }
    };
    const editor: Editor = {
      page,
      url,
      userData,
      async screenshot(name, readme) {
        const path = join(OUTPUT, `${name}.png`);
        await page.screenshot({ path });
        if (readme && process.env['FUSELENS_README_IMAGES'] === '1') {
          mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
          copyFileSync(path, join(ROOT, 'docs', 'images', `${readme}.png`));
        }
        return path;
      },
      async open(fileName) {
        await quickInput('Control+P', fileName, fileName);
        await page.keyboard.press('Enter');
        // By the tab's resource name: the timeline's tab ("Simulation: NAME") has the name in its text too.
        await page.locator(`.tab.active[data-resource-name="${fileName}"]`).first().waitFor({ timeout: 60_000 });
      },
      async command(title) {
        await quickInput('F1', `>${title}`, title);
        await page.keyboard.press('Enter');
      },
      async hover(target, shown, position) {
        const deadline = Date.now() + 60_000;
        for (;;) {
          await target.hover(position ? { position } : {});
          if (await shown.waitFor({ timeout: 5000 }).then(() => true, () => false)) return;
          if (Date.now() > deadline) throw new Error('the hover never showed');
          await page.mouse.move(0, 0);
        }
      },
      async pick(text) {
        // Typed only once the pick shows its rows, so nothing goes into the editor behind it.
        await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').first().waitFor({ timeout: 60_000 });
        await page.locator('.quick-input-widget input').fill(text);
        await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().click();
      },
      async colorTheme(theme, workbenchClass) {
        // The picker lists the themes once it has loaded them; typed too early, the name matches
        // nothing but "Browse Additional Color Themes…": then it is asked again.
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first();
        const deadline = Date.now() + 60_000;
        for (;;) {
          await page.keyboard.press('Control+K');
          await page.keyboard.press('Control+T');
          await page.locator('.quick-input-widget input').waitFor({ timeout: 60_000 });
          await page.keyboard.type(theme);
          if (await row.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
          if (Date.now() > deadline) throw new Error(`the colour theme picker never offered ${theme}`);
          await page.keyboard.press('Escape');
        }
        await page.keyboard.press('Enter');
        await page.locator(`.monaco-workbench.${workbenchClass}`).waitFor({ timeout: 60_000 });
      },
      webview() {
        // A webview is an iframe (the host) around an iframe (the content); the newest one is last.
        return page.locator('iframe.webview.ready').last().contentFrame().locator('#active-frame').contentFrame();
      },
      close,
    };
    return editor;
  } catch (err) {
    await close();
    throw err;
  }
}

/** The workbench the view suites look at: 1600×1000 (the size the views are judged at), light, no refresh timer. */
export function openViewEditor(folder: string): Promise<Editor> {
  return openEditor(folder, { 'fuselens.mounts.refreshInterval': 0, 'workbench.colorTheme': 'Default Light Modern' }, { viewport: { width: 1600, height: 1000 } });
}

/** What the screen showed when each test of the suite ended (passed or not), numbered, for diagnosis. */
export function screenshotAfterEach(prefix: string, editor: () => Editor | undefined): void {
  let testNumber = 0;
  afterEach(async () => {
    await editor()?.screenshot(`${prefix}end-of-test-${++testNumber}`).catch(() => undefined);
  });
}
