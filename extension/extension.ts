// FUSE Lens in VS Code: a thin client. The language server (dist/server.js)
// simulates scenarios, reads mounts and traces; the extension asks it and
// shows the answers (Problems, the sidebar tree, webviews).

import * as vscode from 'vscode';
import { ServerConnection } from './client';
import { registerDocPages } from './docPages';
import { InspectPanels } from './inspectPanel';
import { MountHealthHistory } from './mountHealth';
import { MountsStatus, REVEAL_MOUNT_COMMAND } from './mountsStatus';
import { registerMountCommands } from './mountCommands';
import { MountsTreeProvider } from './mountsTree';
import { registerScenarioCommands } from './scenarioCommands';
import { TimelinePanel } from './timelinePanel';
import { registerTraceCommands } from './traceCommands';
import { registerTrackCommands } from './trackCommands';

let server: ServerConnection | undefined;

export interface FuseLensApi {
  /** Time from the start of activate() to a running language server, in ms. */
  activationMs: number;
  server: ServerConnection;
  /** The FUSE Mounts tree, for the extension-host tests. */
  mounts: MountsTreeProvider;
}

export async function activate(context: vscode.ExtensionContext): Promise<FuseLensApi> {
  const started = performance.now();
  const log = vscode.window.createOutputChannel('FUSE Lens', { log: true });
  context.subscriptions.push(log);
  server = new ServerConnection(context, log);
  context.subscriptions.push(server);
  context.subscriptions.push(vscode.commands.registerCommand('fuselens.showOutput', () => log.show()));

  const timeline = new TimelinePanel(context.extensionUri, server, log);
  context.subscriptions.push(timeline);

  const healthHistory = new MountHealthHistory();
  const tree = new MountsTreeProvider(server, log, healthHistory);
  const view = vscode.window.createTreeView('fuselens.mounts', { treeDataProvider: tree, showCollapseAll: true });
  context.subscriptions.push(tree, view, tree.attach(view));

  registerScenarioCommands(context, server, timeline, log);
  const inspectPanels = new InspectPanels(context.extensionUri, server, log);
  context.subscriptions.push(inspectPanels);
  registerDocPages(context);
  const status = new MountsStatus(server, tree, healthHistory);
  context.subscriptions.push(
    status,
    vscode.commands.registerCommand(REVEAL_MOUNT_COMMAND, async () => {
      if (status.target) await view.reveal(tree.nodeOf(status.target), { select: true, focus: true, expand: true });
      else await vscode.commands.executeCommand('fuselens.mounts.focus');
    }),
  );
  registerMountCommands(context, server, tree, inspectPanels);
  registerTraceCommands(context, server, tree, log);
  registerTrackCommands(context, server, tree);

  try {
    await server.start();
  } catch {
    // Shown to the user by ServerConnection; commands retry through request().
  }
  const activationMs = performance.now() - started;
  log.info(`activated in ${activationMs.toFixed(0)} ms`);
  return { activationMs, server, mounts: tree };
}

export async function deactivate(): Promise<void> {
  await server?.dispose();
  server = undefined;
}
