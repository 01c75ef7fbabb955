// Commands on mounts: Inspect Mount… (palette; a panel per mount, extension/inspectPanel.ts)
// and the sidebar's context actions. Each asks the server and shows its answer; kernel refusals keep
// their errno and say what to do.

import * as vscode from 'vscode';
import { Requests, type Failure, type Mount } from '../protocol/messages';
import { errorText, type ServerConnection } from './client';
import type { InspectPanels } from './inspectPanel';
import type { MountNode, MountsTreeProvider } from './mountsTree';
import { inertText } from '../protocol/inert-text';

export function registerMountCommands(
  context: vscode.ExtensionContext,
  server: ServerConnection,
  tree: MountsTreeProvider,
  inspectPanels: InspectPanels,
): void {
  const reg = (id: string, fn: (...args: never[]) => unknown) =>
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));

  reg('fuselens.mounts.refresh', () => tree.refresh());

  reg('fuselens.inspectMount', async (node?: MountNode) => {
    const mount = node && 'mount' in node ? node.mount : await pickMount(server, 'Inspect which FUSE mount?');
    if (mount) inspectPanels.show(mount);
  });

  reg('fuselens.mount.copyPath', async (node?: MountNode) => {
    const path = nodePath(node);
    if (path) await vscode.env.clipboard.writeText(path);
  });

  reg('fuselens.mount.revealInExplorer', async (node?: MountNode) => {
    const path = nodePath(node);
    if (!path) return;
    const uri = vscode.Uri.file(path);
    if (vscode.workspace.getWorkspaceFolder(uri)) {
      await vscode.commands.executeCommand('revealInExplorer', uri);
      return;
    }
    const choice = await vscode.window.showInformationMessage(
      `${path} is outside the workspace.`,
      'Add Mount to Workspace',
      'Reveal in OS File Manager',
    );
    if (choice === 'Add Mount to Workspace' && node && 'mount' in node) {
      const folders = vscode.workspace.workspaceFolders ?? [];
      vscode.workspace.updateWorkspaceFolders(folders.length, 0, { uri: vscode.Uri.file(node.mount.mountpoint) });
    } else if (choice === 'Reveal in OS File Manager') {
      await vscode.commands.executeCommand('revealFileInOS', uri);
    }
  });

  reg('fuselens.mount.openScenario', async (node?: MountNode) => {
    const mount = node && 'mount' in node ? node.mount : await pickMount(server, 'Export which mount as a scenario?');
    if (!mount) return;
    const { text } = await server.request(Requests.exportScenario, { mountpoint: mount.mountpoint });
    const doc = await vscode.workspace.openTextDocument({ language: 'fusesim', content: text });
    await vscode.window.showTextDocument(doc);
  });

  reg('fuselens.mount.setLimits', async (node?: MountNode) => {
    const mount = node && 'mount' in node ? node.mount : await pickMount(server, 'Set the limits of which mount?');
    if (!mount) return;
    const which = await vscode.window.showQuickPick(
      [
        { label: 'max_background', detail: 'Requests the kernel keeps in flight in the background (readahead, async writes)', key: 'maxBackground' as const },
        { label: 'congestion_threshold', detail: 'In-flight background requests at which the connection counts as congested', key: 'congestionThreshold' as const },
      ],
      { title: `Connection ${mount.connection} (${mount.mountpoint})` },
    );
    if (!which) return;
    const current = mount.connectionStats?.[which.key];
    const value = await vscode.window.showInputBox({
      title: `${which.label} of ${mount.mountpoint}`,
      value: current === undefined ? '' : String(current),
      prompt: `Written to /sys/fs/fuse/connections/${mount.connection}/${which.label}`,
      validateInput: (v) => (/^\d+$/.test(v) && Number(v) > 0 && Number(v) < 65536 ? undefined : 'A whole number from 1 to 65535'),
    });
    if (value === undefined) return;
    const result = await server.request(Requests.setConnectionLimits, { connection: mount.connection, [which.key]: Number(value) });
    if (!result.ok) return showRefusal(`set ${which.label} of ${mount.mountpoint}`, result);
    void vscode.window.showInformationMessage(`FUSE Lens: ${which.label} of ${mount.mountpoint} is now ${value}.`);
    tree.refresh();
  });

  reg('fuselens.mount.abort', async (node?: MountNode) => {
    const mount = node && 'mount' in node ? node.mount : await pickMount(server, 'Abort the connection of which mount?');
    if (!mount) return;
    const daemon = mount.daemon ? ` (daemon ${mount.daemon.comm}, pid ${mount.daemon.pid})` : '';
    const choice = await vscode.window.showWarningMessage(
      `Abort the FUSE connection of ${mount.mountpoint}${daemon}?`,
      {
        modal: true,
        detail: `This writes to /sys/fs/fuse/connections/${mount.connection}/abort. Every request in flight and every later one fails (ECONNABORTED, ENOTCONN) until the mount is unmounted and mounted again.`,
      },
      'Abort Connection',
    );
    if (choice !== 'Abort Connection') return;
    const result = await server.request(Requests.abortConnection, { connection: mount.connection });
    if (!result.ok) return showRefusal(`abort the connection of ${mount.mountpoint}`, result);
    void vscode.window.showInformationMessage(`FUSE Lens: aborted the connection of ${mount.mountpoint}.`);
    tree.refresh();
  });
}

/** Quick pick of the machine's FUSE mounts; says so when there are none. */
export async function pickMount(server: ServerConnection, title: string): Promise<Mount | undefined> {
  let mounts: Mount[];
  try {
    mounts = (await server.request(Requests.listMounts, {})).mounts;
  } catch (err) {
    server.showFailure(`FUSE Lens: could not list the FUSE mounts: ${errorText(err)}`);
    return undefined;
  }
  if (mounts.length === 0) {
    void vscode.window.showInformationMessage('FUSE Lens: there are no FUSE mounts on this machine. Mount one (e.g. `bindfs SRC DIR`) and try again.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    mounts.map((mount) => ({
      label: inertText(mount.mountpoint),
      description: inertText(`${mount.fstype} · connection ${mount.connection}`),
      detail: mount.daemon ? `daemon ${inertText(mount.daemon.comm)} (pid ${mount.daemon.pid})` : 'daemon unknown',
      mount,
    })),
    { title, matchOnDescription: true },
  );
  return picked?.mount;
}

function nodePath(node?: MountNode): string | undefined {
  if (!node) return undefined;
  switch (node.kind) {
    case 'inode':
    case 'open':
    case 'mapping':
      return node.inode.path ?? node.mount.mountpoint;
    case 'mount':
    case 'daemon':
      return node.mount.mountpoint;
    default:
      return undefined;
  }
}

function showRefusal(what: string, failure: Failure): void {
  const permission = failure.errno === 'EACCES' || failure.errno === 'EPERM';
  const message = permission
    ? `FUSE Lens: not allowed to ${what} (${failure.errno}). Writing to /sys/fs/fuse/connections needs root (CAP_SYS_ADMIN); run VS Code (or code-server) as root.`
    : `FUSE Lens: could not ${what}: ${failure.errno}: ${failure.message}`;
  void vscode.window.showErrorMessage(message);
}
