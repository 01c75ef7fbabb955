// Track I/O Modes (sidebar and palette), Stop Tracking and Detach Trace: the
// server attaches strace to the mount's daemon (fuselens/startTracking) and
// sends trackingUpdate as modes change; the tree shows each inode's mode with
// its provenance. Tracking slows the daemon, so it starts only after a
// confirmation; it stops on Stop, when the daemon exits, and when the window
// closes (the server detaches strace on shutdown).

import * as vscode from 'vscode';
import { Notifications, Requests, type Mount } from '../protocol/messages';
import { errorText, type ServerConnection } from './client';
import { pickMount } from './mountCommands';
import type { MountNode, MountsTreeProvider } from './mountsTree';
import { inertText } from '../protocol/inert-text';

export function registerTrackCommands(context: vscode.ExtensionContext, server: ServerConnection, tree: MountsTreeProvider): void {
  const reg = (id: string, fn: (...args: never[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  context.subscriptions.push(server.onNotification(Notifications.trackingUpdate, (modes) => tree.updateModes(modes)));

  reg('fuselens.trackModes', async (node?: MountNode) => {
    const mount: Mount | undefined = node && 'mount' in node ? node.mount : await pickMount(server, 'Track the io modes of which mount?');
    if (!mount) return;
    const daemon = mount.daemon ? `${inertText(mount.daemon.comm)} (pid ${mount.daemon.pid})` : 'its daemon';
    const choice = await vscode.window.showWarningMessage(
      `Track the io modes of ${inertText(mount.mountpoint)}?`,
      {
        modal: true,
        detail: `FUSE Lens attaches strace to ${daemon}: every request it serves is slowed down while tracking. Stop detaches it; the daemon keeps running.`,
      },
      'Track',
    );
    if (choice !== 'Track') return;
    try {
      const result = await server.request(Requests.startTracking, { mountpoint: mount.mountpoint });
      if (!result.ok) {
        void vscode.window.showErrorMessage(`FUSE Lens: could not track ${mount.mountpoint}: ${result.message}`);
        return;
      }
      tree.refresh();
    } catch (err) {
      void vscode.window.showErrorMessage(`FUSE Lens: could not track ${mount.mountpoint}: ${errorText(err)}`);
    }
  });

  reg('fuselens.stopTracking', async (node?: MountNode) => {
    let mountpoint = node && 'mount' in node ? node.mount.mountpoint : undefined;
    if (!mountpoint) {
      const tracked = tree.trackedMounts();
      mountpoint = tracked.length === 1 ? tracked[0] : await vscode.window.showQuickPick(tracked, { title: 'Stop tracking which mount?' });
    }
    if (!mountpoint) return;
    const result = await server.request(Requests.stopTracking, { mountpoint });
    if (!result.ok) void vscode.window.showErrorMessage(`FUSE Lens: ${result.message}`);
    tree.refresh();
  });

  reg('fuselens.detachTrace', async (node?: MountNode) => {
    if (!node || node.kind !== 'trace') return;
    const result = await server.request(Requests.detachTrace, { connection: node.source.connection });
    if (!result.ok) void vscode.window.showErrorMessage(`FUSE Lens: ${result.message}`);
    tree.refresh();
  });
}
