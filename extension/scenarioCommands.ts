// Commands on scenario files: New Scenario, Show Simulation, Check All
// Scenarios in Workspace, Run Scenario on This Kernel. The server simulates,
// checks and runs; these pick the file, ask, and show the answer.

import { readFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { Requests, type FileDiagnostic, type RunReport } from '../protocol/messages';
import { LANGUAGE_ID, type ServerConnection } from './client';
import type { TimelinePanel } from './timelinePanel';

const templates = [
  { id: 'basic', label: 'Cached open', detail: 'One file opened, read and closed with the page cache' },
  { id: 'passthrough-conflict', label: 'Passthrough vs. cached open', detail: 'The EIO when a passthrough open meets a caching inode' },
  { id: 'mmap-direct-io', label: 'mmap of a direct-I/O file', detail: 'ENODEV without direct_io_allow_mmap' },
  { id: 'parallel-dio', label: 'Parallel direct-I/O writes', detail: 'A cached open that waits for in-flight writes' },
];

export function registerScenarioCommands(
  context: vscode.ExtensionContext,
  server: ServerConnection,
  timeline: TimelinePanel,
  log: vscode.LogOutputChannel,
): void {
  // Problems for scenario files that are not open (open ones get the server's own diagnostics).
  const workspaceProblems = vscode.languages.createDiagnosticCollection('fusesim-workspace');
  // Differences between the kernel and the simulator from the last run of each file.
  const runProblems = vscode.languages.createDiagnosticCollection('fusesim-run');
  context.subscriptions.push(
    workspaceProblems,
    runProblems,
    vscode.workspace.onDidOpenTextDocument((doc) => workspaceProblems.delete(doc.uri)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length > 0) runProblems.delete(e.document.uri);
    }),
  );
  const reg = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg('fuselens.newScenario', async () => {
    const picked = await vscode.window.showQuickPick(templates, { title: 'New FUSE scenario from a template' });
    if (!picked) return;
    const file = vscode.Uri.joinPath(context.extensionUri, 'media', 'templates', `${picked.id}.fusesim`);
    const content = await readFile(file.fsPath, 'utf8');
    const doc = await vscode.workspace.openTextDocument({ language: LANGUAGE_ID, content });
    await vscode.window.showTextDocument(doc);
  });

  reg('fuselens.showSimulation', async (uri?: vscode.Uri) => {
    const doc = await scenarioDocument(uri);
    if (doc) timeline.show(doc);
  });

  reg('fuselens.checkWorkspace', async () => {
    const files = await vscode.workspace.findFiles('**/*.fusesim', '**/node_modules/**');
    if (files.length === 0) {
      void vscode.window.showInformationMessage('FUSE Lens: there are no .fusesim files in this workspace.');
      return;
    }
    let errors = 0;
    let warnings = 0;
    let unreadable = 0;
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'FUSE Lens: checking scenarios', cancellable: true },
      async (progress, token) => {
        for (const [i, uri] of files.entries()) {
          if (token.isCancellationRequested) break;
          progress.report({ message: `${i + 1}/${files.length} ${vscode.workspace.asRelativePath(uri)}`, increment: 100 / files.length });
          const result = await server.request(Requests.checkFile, { uri: uri.toString() }, token);
          if (result.error) {
            unreadable++;
            log.warn(`check ${uri.fsPath}: ${result.error}`);
          }
          errors += result.diagnostics.filter((d) => d.severity === 1).length;
          warnings += result.diagnostics.filter((d) => d.severity === 2).length;
          const open = vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString());
          if (open) workspaceProblems.delete(uri);
          else workspaceProblems.set(uri, result.diagnostics.map(toVscodeDiagnostic));
        }
      },
    );
    const summary = `FUSE Lens: ${files.length} scenario${files.length === 1 ? '' : 's'} checked: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${unreadable > 0 ? `, ${unreadable} unreadable` : ''}.`;
    const choice = await vscode.window.showInformationMessage(summary, 'Show Problems');
    if (choice === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
  });

  reg('fuselens.runScenario', async (uri?: vscode.Uri) => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('FUSE Lens: running a scenario mounts a FUSE filesystem; trust this workspace first.');
      return;
    }
    const doc = await scenarioDocument(uri);
    if (!doc) return;
    const name = vscode.workspace.asRelativePath(doc.uri);
    const choice = await vscode.window.showWarningMessage(
      `Run ${name} on this machine's kernel?`,
      {
        modal: true,
        detail:
          "FUSE Lens will mount its own FUSE filesystem in a temporary directory, run the scenario's processes for real, then unmount and clean up. This needs root and /dev/fuse.",
      },
      'Mount and Run',
    );
    if (choice !== 'Mount and Run') return;
    // The server runs the text as the editor has it (saved or not).
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `FUSE Lens: running ${name} on the kernel` },
      () => server.request(Requests.runScenario, { uri: doc.uri.toString() }),
    );
    if (!result.ok) {
      server.showFailure(`FUSE Lens: could not run ${name}: ${result.errno}: ${result.message}`);
      return;
    }
    runProblems.set(doc.uri, runDiagnostics(doc, result.report));
    timeline.setRun(doc, result.report);
    timeline.show(doc);
    const n = result.report.differences;
    if (n === 0) void vscode.window.showInformationMessage(`FUSE Lens: the kernel (${result.report.kernelRelease}) agrees with the simulation on every step of ${name}.`);
    else void vscode.window.showWarningMessage(`FUSE Lens: the kernel and the simulation differ on ${n} step${n === 1 ? '' : 's'} of ${name} (see Problems and the timeline).`);
  });

  async function scenarioDocument(uri?: vscode.Uri): Promise<vscode.TextDocument | undefined> {
    if (uri instanceof vscode.Uri) return vscode.workspace.openTextDocument(uri);
    const doc = vscode.window.activeTextEditor?.document;
    if (doc?.languageId === LANGUAGE_ID) return doc;
    const files = await vscode.workspace.findFiles('**/*.fusesim', '**/node_modules/**', 200);
    if (files.length === 0) {
      void vscode.window.showInformationMessage('FUSE Lens: open a .fusesim scenario first (or create one with "FUSE Lens: New Scenario").');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      files.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f })),
      { title: 'Which scenario?' },
    );
    return picked ? vscode.workspace.openTextDocument(picked.uri) : undefined;
  }

}

function toVscodeDiagnostic(d: FileDiagnostic): vscode.Diagnostic {
  const range = new vscode.Range(d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character);
  const severity = [vscode.DiagnosticSeverity.Error, vscode.DiagnosticSeverity.Warning, vscode.DiagnosticSeverity.Information, vscode.DiagnosticSeverity.Hint][d.severity - 1];
  const diagnostic = new vscode.Diagnostic(range, d.message, severity);
  diagnostic.source = d.source;
  diagnostic.code = d.codeDescription ? { value: d.code, target: vscode.Uri.parse(d.codeDescription.href) } : d.code;
  return diagnostic;
}

function runDiagnostics(doc: vscode.TextDocument, report: RunReport): vscode.Diagnostic[] {
  return report.steps
    .filter((s) => s.differs)
    .map((s) => {
      const line = doc.lineAt(Math.min(s.line - 1, doc.lineCount - 1));
      const d = new vscode.Diagnostic(
        line.range,
        `On this kernel (${report.kernelRelease}) this step gave ${s.outcome}${s.note ? ` (${s.note})` : ''}; the simulator says ${s.simulated}.`,
        vscode.DiagnosticSeverity.Error,
      );
      d.source = 'fuselens run';
      d.code = 'kernel-differs';
      return d;
    });
}
