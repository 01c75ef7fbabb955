// Editor figures: the .vsix size, and the extension's activation in a real
// VS Code (code-server + Chromium, as test/e2e): from opening a .fusesim file
// to the status bar saying the language server runs, and activate()'s own
// time as the extension logs it. Three cold activations (a page reload
// starts a new extension host).

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtVsix, openEditor, ROOT } from '../test/e2e/harness';
import { median, reportFigure } from './summary';

function logLines(dir: string, needle: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.log')) out.push(...readFileSync(p, 'utf8').split('\n').filter((l) => needle.test(l)));
    }
  };
  walk(dir);
  return out;
}

async function main(): Promise<void> {
  for (const step of [['scripts/build.mjs'], ['scripts/package.mjs']]) {
    const r = spawnSync(process.execPath, step, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${step.join(' ')} failed`);
  }
  const vsix = builtVsix();
  const bytes = statSync(vsix).size;
  console.log(`vsix size: ${(bytes / 1024).toFixed(0)} KiB (${bytes} bytes) ${vsix.split('/').pop()}`);
  reportFigure({ figure: 'vsix size', value: `${(bytes / 1024).toFixed(0)} KiB`, target: '' });

  const workspace = mkdtempSync(join(tmpdir(), 'fuselens-bench-ws-'));
  cpSync(join(ROOT, 'examples'), workspace, { recursive: true });
  const editor = await openEditor(workspace);
  try {
    const { page } = editor;
    const running = page.locator('.statusbar-item', { hasText: 'FUSE Lens' }).locator('.codicon-check');
    const wall: number[] = [];
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        await page.reload();
        await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
      }
      const started = performance.now();
      await editor.open('try-quick-fix.fusesim');
      await running.waitFor({ timeout: 60_000 });
      wall.push(performance.now() - started);
    }
    const logged = logLines(join(editor.userData, 'logs'), /activated in \d+ ms/).map((l) => Number(/activated in (\d+) ms/.exec(l)![1]));
    console.log(`open .fusesim → server running (wall, in the browser): median ${median(wall).toFixed(0)} ms of ${wall.map((w) => w.toFixed(0)).join(', ')}`);
    reportFigure({ figure: 'open .fusesim → language server running', value: `${median(wall).toFixed(0)} ms`, target: '' });
    if (logged.length > 0) console.log(`activate() to a running language server (extension log): median ${median(logged)} ms of ${logged.join(', ')}`);
    else console.log('activate() time: not found in the extension host logs');
  } finally {
    await editor.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
