// "FUSE Lens: Capture Trace…" and "FUSE Lens: Open Trace…", and the trace
// view (a webview per trace file). The server captures, reads and analyzes;
// this shows progress with a live count and a way to stop, then the result.

import * as vscode from 'vscode';
import { Notifications, Requests } from '../protocol/messages';
import type { FromTrace, ToTrace } from '../protocol/webview';
import { errorText, type ServerConnection } from './client';
import { pickMount } from './mountCommands';
import type { MountsTreeProvider } from './mountsTree';
import { webviewHtml, webviewOptions } from './webviewHtml';
import { inertText } from '../protocol/inert-text';

/** From this size on, reading a trace takes long enough to show a percentage and a Cancel button. */
const BIG_TRACE_BYTES = 32 * 1024 * 1024;
const megabytes = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;

export function registerTraceCommands(
  context: vscode.ExtensionContext,
  server: ServerConnection,
  tree: MountsTreeProvider,
  log: vscode.LogOutputChannel,
): void {
  const reg = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  const stopItem = vscode.window.createStatusBarItem('fuselens.capture', vscode.StatusBarAlignment.Left, 50);
  stopItem.name = 'FUSE Lens capture';
  stopItem.command = 'fuselens.stopCapture';
  stopItem.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
  context.subscriptions.push(stopItem);
  let stopCurrent: (() => void) | undefined;

  reg('fuselens.stopCapture', () => stopCurrent?.());

  reg('fuselens.openTrace', async (uri?: vscode.Uri) => {
    const file =
      uri instanceof vscode.Uri
        ? uri
        : (
            await vscode.window.showOpenDialog({
              title: 'Open a FUSE trace (tracefs text, strace -xx, libfuse debug log, lab JSON lines)',
              canSelectMany: false,
              filters: { 'FUSE traces': ['txt', 'trace', 'log', 'strace', 'jsonl', 'json'], 'All files': ['*'] },
            })
          )?.[0];
    if (file) await openTrace(file.fsPath);
  });

  reg('fuselens.openTraceAsScenario', async (uri?: vscode.Uri) => {
    const file =
      uri instanceof vscode.Uri
        ? uri
        : (await vscode.window.showOpenDialog({ title: 'Open a FUSE capture as a scenario (strace of a daemon, lab JSON lines, libfuse debug log)', canSelectMany: false }))?.[0];
    if (!file) return;
    const result = await server.request(Requests.exportTraceScenario, { path: file.fsPath });
    if (!result.ok) {
      server.showFailure(`FUSE Lens: could not export ${file.fsPath} as a scenario: ${result.errno}: ${result.message}`);
      return;
    }
    const doc = await vscode.workspace.openTextDocument({ language: 'fusesim', content: result.text });
    await vscode.window.showTextDocument(doc);
  });

  reg('fuselens.captureTrace', async (node?: { kind: string; mount?: import('../protocol/messages').Mount }) => {
    const mount = node?.mount ?? (await pickMount(server, 'Capture the FUSE requests of which mount?'));
    if (!mount) return;
    if (stopCurrent) {
      void vscode.window.showWarningMessage('FUSE Lens: a capture is already running; stop it first.');
      return;
    }
    const how = await vscode.window.showQuickPick(
      [
        { label: 'Kernel tracepoints', detail: 'fuse_request_send/end from tracefs: opcodes, latency and errors of every request', daemon: false },
        {
          label: 'Daemon protocol stream (strace)',
          detail: `strace on ${mount.daemon ? `${inertText(mount.daemon.comm)} (pid ${mount.daemon.pid})` : 'the daemon'}: also OPEN reply flags, so the io mode of each inode`,
          daemon: true,
        },
      ],
      { title: `Capture on ${mount.mountpoint}` },
    );
    if (!how) return;
    const started = await server.request(Requests.startCapture, { mountpoint: mount.mountpoint, connection: mount.connection, daemon: how.daemon });
    if (!started.ok) {
      server.showFailure(`FUSE Lens: could not start a capture on ${mount.mountpoint}: ${started.errno}: ${started.message}`);
      return;
    }
    const { captureId } = started;
    let stopped = false;
    const path = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Capturing FUSE requests on ${mount.mountpoint}`, cancellable: true },
      (progress, token) =>
        new Promise<string | undefined>((resolve) => {
          let events = 0;
          progress.report({ message: '0 events — Cancel stops the capture and opens it' });
          stopItem.text = '$(debug-stop) Stop FUSE capture (0)';
          stopItem.tooltip = `Stop capturing on ${mount.mountpoint} and open the trace`;
          stopItem.show();
          const sub = server.onNotification(Notifications.captureProgress, (p) => {
            if (p.captureId !== captureId) return;
            events = p.events;
            progress.report({ message: `${events} events — Cancel stops the capture and opens it` });
            stopItem.text = `$(debug-stop) Stop FUSE capture (${events})`;
          });
          const stop = () => {
            if (stopped) return;
            stopped = true;
            sub.dispose();
            stopItem.hide();
            stopCurrent = undefined;
            server.request(Requests.stopCapture, { captureId }).then(
              (r) => {
                if (r.ok) resolve(r.path);
                else {
                  server.showFailure(`FUSE Lens: the capture failed: ${r.errno}: ${r.message}`);
                  resolve(undefined);
                }
              },
              (err: unknown) => {
                server.showFailure(`FUSE Lens: could not stop the capture: ${errorText(err)}`);
                resolve(undefined);
              },
            );
          };
          stopCurrent = stop;
          token.onCancellationRequested(stop);
        }),
    );
    if (path) {
      log.info(`capture on ${mount.mountpoint} written to ${path}`);
      tree.refresh(); // the tree shows the io modes the capture reconstructed
      await openTrace(path);
    }
  });

  let progressIds = 0;
  async function openTrace(path: string): Promise<void> {
    const name = path.split('/').pop() ?? path;
    const size = await vscode.workspace.fs.stat(vscode.Uri.file(path)).then((s) => s.size, () => -1); // -1: the server will say why
    // Big files (a second or more) get a notification with a percentage and Cancel; small ones the
    // status bar. A size of 0 is also what trace_pipe and FIFOs show: they are read until Cancel,
    // which then shows what was read.
    const big = size >= BIG_TRACE_BYTES;
    const live = size === 0;
    const title = live ? `Reading ${name} until you stop it` : `Reading ${big ? name : path}`;
    const result = await vscode.window.withProgress(
      { location: big || live ? vscode.ProgressLocation.Notification : vscode.ProgressLocation.Window, title, cancellable: big || live },
      (progress, token) => {
        const progressId = `open-${++progressIds}`;
        let shown = 0;
        const sub = server.onNotification(Notifications.traceProgress, (p) => {
          if (p.progressId !== progressId) return;
          if (p.total === 0) return progress.report({ message: `${megabytes(p.bytes)} so far — Cancel stops and shows them` });
          const percent = Math.floor((p.bytes / p.total) * 100);
          progress.report({ increment: percent - shown, message: `${megabytes(p.bytes)} of ${megabytes(p.total)}` });
          shown = percent;
        });
        return server.request(Requests.openTrace, { path, progressId }, token).finally(() => sub.dispose());
      },
    );
    if (!result.ok && result.errno === 'ECANCELED') {
      log.info(`reading ${path} cancelled`);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      'fuselens.trace',
      `Trace: ${name}`,
      vscode.ViewColumn.Active,
      webviewOptions(context.extensionUri),
    );
    panel.webview.html = webviewHtml(panel.webview, context.extensionUri, { title: 'FUSE trace', script: 'trace.js', stylesheet: 'webview.css', scriptStylesheet: 'trace.css' });
    const message: ToTrace = result.ok ? { type: 'trace', view: result.view } : { type: 'error', message: `${result.errno}: ${result.message}` };
    panel.webview.onDidReceiveMessage((m: FromTrace) => {
      if (m.type === 'ready') void panel.webview.postMessage(message);
      else if (m.type === 'openAsScenario') void vscode.commands.executeCommand('fuselens.openTraceAsScenario', vscode.Uri.file(path));
    });
    if (!result.ok) log.error(`open trace ${path}: ${result.errno}: ${result.message}`);
  }
}
