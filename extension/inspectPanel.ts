// "FUSE Lens: Inspect Mount…": one webview per mount, titled by its
// mountpoint. It asks the server for the inspection when it opens, on its
// Refresh button and, while visible, every `fuselens.mounts.refreshInterval`
// seconds (the tree's setting: one pace for every live view). Its toolbar runs
// the mount's commands (capture, track, export, limits, abort) on its mount.

import * as vscode from 'vscode';
import { Requests, type Mount } from '../protocol/messages';
import type { FromInspect, InspectAction, ToInspect } from '../protocol/webview';
import { errorText, type ServerConnection } from './client';
import { mountReportMarkdown } from './mountReport';
import { openDocPage } from './docPages';
import { inertText } from '../protocol/inert-text';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** The command each toolbar action runs, with the mount as a tree node would pass it. */
const ACTION_COMMANDS: Record<Exclude<InspectAction, 'exportReport'>, string> = {
  capture: 'fuselens.captureTrace',
  track: 'fuselens.trackModes',
  exportScenario: 'fuselens.mount.openScenario',
  setLimits: 'fuselens.mount.setLimits',
  abort: 'fuselens.mount.abort',
};

class InspectPanel implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  private ready = false;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private mount: Mount,
    private readonly extensionUri: vscode.Uri,
    private readonly server: ServerConnection,
    private readonly log: vscode.LogOutputChannel,
    onDispose: () => void,
  ) {
    this.panel = vscode.window.createWebviewPanel('fuselens.inspect', inertText(mount.mountpoint), vscode.ViewColumn.Active, webviewOptions(extensionUri));
    this.panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'fuselens.svg');
    this.panel.webview.html = webviewHtml(this.panel.webview, extensionUri, {
      title: `FUSE mount ${mount.mountpoint}`,
      script: 'inspect.js',
      stylesheet: 'webview.css',
    });
    this.disposables.push(
      this.panel.webview.onDidReceiveMessage((m: FromInspect) => this.receive(m)),
      this.panel.onDidChangeViewState(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('fuselens.mounts.refreshInterval')) return;
        this.schedule();
        void this.refresh(); // the header says the new pace
      }),
      this.panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal(undefined, false);
    void this.refresh();
  }

  private intervalSeconds(): number {
    return Math.max(0, vscode.workspace.getConfiguration('fuselens').get<number>('mounts.refreshInterval', 5));
  }

  /** Auto-refresh runs only while the panel is visible (a hidden one costs nothing). */
  private schedule(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const seconds = this.intervalSeconds();
    if (!this.panel.visible || seconds === 0) return;
    this.timer = setInterval(() => void this.refresh(), seconds * 1000);
  }

  private async refresh(): Promise<void> {
    if (!this.ready) return;
    const generation = ++this.generation;
    this.post({ type: 'refreshing' });
    try {
      const [result, modes] = await Promise.all([
        this.server.request(Requests.inspectMount, { mountpoint: this.mount.mountpoint }),
        this.server.request(Requests.mountModes, { mountpoint: this.mount.mountpoint }).catch(() => null),
      ]);
      if (generation !== this.generation) return; // a newer refresh is on its way
      if (!result.inspection) {
        this.post({ type: 'error', message: `Could not inspect ${this.mount.mountpoint}: ${result.error ?? 'unknown error'}` });
        return;
      }
      this.mount = result.inspection.mount;
      this.post({ type: 'inspection', inspection: result.inspection, modes, refreshSeconds: this.intervalSeconds() });
    } catch (err) {
      this.log.error(`inspect ${this.mount.mountpoint}: ${errorText(err)}`);
      this.post({ type: 'error', message: `Could not inspect ${this.mount.mountpoint}: ${errorText(err)}` });
    }
  }

  private receive(message: FromInspect): void {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.schedule();
        void this.refresh();
        break;
      case 'refresh':
        void this.refresh();
        break;
      case 'explain':
        void openDocPage(this.extensionUri, 'inspect.md');
        break;
      case 'action':
        void this.act(message.action);
        break;
    }
  }

  private async act(action: InspectAction): Promise<void> {
    if (action === 'exportReport') {
      const [result, modes] = await Promise.all([
        this.server.request(Requests.inspectMount, { mountpoint: this.mount.mountpoint }),
        this.server.request(Requests.mountModes, { mountpoint: this.mount.mountpoint }).catch(() => null),
      ]);
      if (!result.inspection) return;
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: mountReportMarkdown(result.inspection, modes) });
      await vscode.window.showTextDocument(doc, vscode.ViewColumn.Beside);
      return;
    }
    await vscode.commands.executeCommand(ACTION_COMMANDS[action], { kind: 'mount', mount: this.mount });
    void this.refresh();
  }

  private post(message: ToInspect): void {
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
    this.disposables.length = 0;
  }
}

/** The open inspect panels, one per mountpoint. */
export class InspectPanels implements vscode.Disposable {
  private readonly panels = new Map<string, InspectPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly server: ServerConnection,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  show(mount: Mount): void {
    let panel = this.panels.get(mount.mountpoint);
    if (!panel) {
      panel = new InspectPanel(mount, this.extensionUri, this.server, this.log, () => this.panels.delete(mount.mountpoint));
      this.panels.set(mount.mountpoint, panel);
    } else {
      panel.reveal();
    }
  }

  dispose(): void {
    for (const p of this.panels.values()) p.panel.dispose();
  }
}
