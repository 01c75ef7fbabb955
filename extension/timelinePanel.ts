// "FUSE Lens: Show Simulation": a webview beside the editor with the
// scenario's timeline. It follows the active scenario editor as you type (the
// server simulates; this only asks and forwards), and a click on a row
// reveals that line.

import * as vscode from 'vscode';
import { Requests, type RunReport } from '../protocol/messages';
import type { FromTimeline, ToTimeline } from '../protocol/webview';
import { withInodeTables } from '../protocol/scenario';
import { LANGUAGE_ID, errorText, type ServerConnection } from './client';
import { webviewHtml, webviewOptions } from './webviewHtml';

const TYPING_DELAY_MS = 150;

export class TimelinePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private document: vscode.TextDocument | undefined;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private readonly runs = new Map<string, { version: number; report: RunReport }>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly server: ServerConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor && editor.document.languageId === LANGUAGE_ID) this.follow(editor.document);
      }),
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.document !== this.document || e.contentChanges.length === 0) return;
        if (!vscode.workspace.getConfiguration('fuselens').get<boolean>('simulateOnType', true)) return;
        this.schedule();
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc === this.document) this.schedule();
      }),
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (e.textEditor.document === this.document && e.selections[0]) {
          this.post({ type: 'cursor', line: e.selections[0].active.line + 1 });
        }
      }),
    );
  }

  /** Opens (or reveals) the timeline for a scenario document. */
  show(document: vscode.TextDocument): void {
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel(
        'fuselens.timeline',
        'Simulation',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        webviewOptions(this.extensionUri),
      );
      this.panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'fusesim.svg');
      this.ready = false;
      this.panel.webview.html = webviewHtml(this.panel.webview, this.extensionUri, {
        title: 'Simulation',
        script: 'timeline.js',
        stylesheet: 'webview.css',
      });
      this.panel.webview.onDidReceiveMessage((m: FromTimeline) => this.receive(m), undefined, this.disposables);
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.document = undefined;
      });
    } else {
      this.panel.reveal(undefined, true);
    }
    this.follow(document);
  }

  /** Shows a run's kernel outcomes beside the simulated ones, while the text is unchanged. */
  setRun(document: vscode.TextDocument, report: RunReport): void {
    this.runs.set(document.uri.toString(), { version: document.version, report });
    if (document === this.document) void this.refresh();
  }

  private follow(document: vscode.TextDocument): void {
    if (!this.panel) return;
    this.document = document;
    this.panel.title = `Simulation: ${document.uri.path.split('/').pop() ?? ''}`;
    void this.refresh();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), TYPING_DELAY_MS);
  }

  private async refresh(): Promise<void> {
    const document = this.document;
    if (!this.panel || !document || !this.ready) return;
    const generation = ++this.generation;
    try {
      const simulation = await this.server.request(Requests.simulate, { uri: document.uri.toString() });
      if (generation !== this.generation) return; // a newer request is on its way
      if (!simulation) {
        this.post({ type: 'empty', message: 'The language server does not know this document yet.' });
        return;
      }
      const run = this.runs.get(document.uri.toString());
      const fileName = vscode.workspace.asRelativePath(document.uri);
      const written: Record<number, string> = {};
      for (const step of simulation.steps) {
        if (step.line >= 1 && step.line <= document.lineCount) written[step.line] = document.lineAt(step.line - 1).text;
      }
      // The server sends each step's changed inodes; the timeline draws the whole table after each step.
      this.post({ type: 'simulation', fileName, simulation: withInodeTables(simulation), run: run && run.version === document.version ? run.report : null, written });
      const editor = vscode.window.visibleTextEditors.find((e) => e.document === document);
      if (editor) this.post({ type: 'cursor', line: editor.selection.active.line + 1 });
    } catch (err) {
      this.log.error(`simulate ${document.uri.toString()}: ${errorText(err)}`);
      this.post({ type: 'empty', message: `The simulation failed: ${errorText(err)}` });
    }
  }

  private receive(message: FromTimeline): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        void this.refresh();
        break;
      case 'reveal':
        void this.reveal(message.line);
        break;
    }
  }

  private async reveal(line: number): Promise<void> {
    if (!this.document) return;
    const position = new vscode.Position(Math.max(0, line - 1), 0);
    const column = vscode.window.visibleTextEditors.find((e) => e.document === this.document)?.viewColumn ?? vscode.ViewColumn.One;
    const editor = await vscode.window.showTextDocument(this.document, { viewColumn: column, preserveFocus: false });
    const end = editor.document.lineAt(position.line).range.end;
    editor.selection = new vscode.Selection(position, end);
    editor.revealRange(new vscode.Range(position, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  }

  private post(message: ToTimeline): void {
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
