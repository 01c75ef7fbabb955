// Runs inside VS Code's extension host (loaded by @vscode/test-electron):
// activation, commands, diagnostics and the quick fix, and the mounts tree,
// through the real `vscode` API. Kept small: test/e2e covers the same in
// code-server on every CI run.

import assert from 'node:assert/strict';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import type { FuseLensApi } from '../../../extension/extension';

const EXTENSION_ID = 'fuselens.fuse-lens';

/** Resolves when `check` holds, re-checking on every diagnostics change (deadline 20 s). */
function diagnosticsUntil(uri: vscode.Uri, check: (d: readonly vscode.Diagnostic[]) => boolean): Promise<readonly vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const now = vscode.languages.getDiagnostics(uri);
    if (check(now)) return resolve(now);
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`diagnostics of ${uri.fsPath} never matched: ${JSON.stringify(vscode.languages.getDiagnostics(uri))}`));
    }, 20_000);
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (!e.uris.some((u) => u.toString() === uri.toString())) return;
      const d = vscode.languages.getDiagnostics(uri);
      if (check(d)) {
        clearTimeout(timer);
        sub.dispose();
        resolve(d);
      }
    });
  });
}

const tests: [string, () => Promise<void>][] = [
  [
    'activates and starts the language server',
    async () => {
      const ext = vscode.extensions.getExtension<FuseLensApi>(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is not installed`);
      const api = await ext.activate();
      assert.ok(api.server.client.isRunning());
      console.log(`activation took ${api.activationMs.toFixed(0)} ms`);
    },
  ],
  [
    'registers every command it contributes',
    async () => {
      const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
      const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
      const registered = new Set(await vscode.commands.getCommands(true));
      assert.deepEqual(contributed.filter((c) => !registered.has(c)), []);
    },
  ],
  [
    'shows the denial of try-quick-fix.fusesim on line 12 and the quick fix removes it',
    async () => {
      const [uri] = await vscode.workspace.findFiles('try-quick-fix.fusesim');
      assert.ok(uri, 'examples/try-quick-fix.fusesim is not in the workspace');
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc);
      const diags = await diagnosticsUntil(uri, (d) => d.some((x) => x.severity === vscode.DiagnosticSeverity.Error));
      const denial = diags.find((d) => String(typeof d.code === 'object' ? d.code.value : d.code) === 'cached-open-on-passthrough-inode');
      assert.ok(denial, JSON.stringify(diags));
      assert.equal(denial.range.start.line, 11);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, denial.range, vscode.CodeActionKind.QuickFix.value);
      const fix = actions.find((a) => a.edit && /passthrough/i.test(a.title));
      assert.ok(fix?.edit, `no passthrough quick fix among ${actions.map((a) => a.title).join(', ')}`);
      assert.ok(await vscode.workspace.applyEdit(fix.edit));
      await diagnosticsUntil(uri, (d) => !d.some((x) => x.severity === vscode.DiagnosticSeverity.Error));
      await vscode.commands.executeCommand('workbench.action.files.revert');
    },
  ],
  [
    'the mounts tree lists what the server lists',
    async () => {
      const api = vscode.extensions.getExtension<FuseLensApi>(EXTENSION_ID)!.exports;
      const roots = await api.mounts.getChildren();
      assert.equal(roots.filter((n) => n.kind === 'mount').length, api.mounts.knownMounts().length);
      for (const node of roots) assert.ok(api.mounts.getTreeItem(node).id, 'every item has a stable id');
    },
  ],
];

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false });
  const root = Mocha.Suite.create(mocha.suite, 'FUSE Lens extension host');
  for (const [name, fn] of tests) root.addTest(new Mocha.Test(name, fn));
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolve()));
  });
}
