// "FUSE: 3 mounts" in the status bar, a warning when a mount is unhealthy
// (mountHealth.ts); a click reveals that mount (or the first) in the Mounts
// view. The status bar is always visible, the view not: it shows each listing
// the tree makes, and lists the mounts itself on the view's interval only when
// the tree has not (the view hidden or collapsed). A listing is not free: finding
// each connection's daemon reads every process's descriptors in /proc.

import * as vscode from 'vscode';
import { Requests, type Mount } from '../protocol/messages';
import { inertText } from '../protocol/inert-text';
import type { ServerConnection } from './client';
import { worstHealth, type Health, type MountHealthHistory } from './mountHealth';
import type { MountsTreeProvider } from './mountsTree';

export const REVEAL_MOUNT_COMMAND = 'fuselens.mounts.reveal';

export class MountsStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('fuselens.mounts', vscode.StatusBarAlignment.Left, 10);
  private timer: NodeJS.Timeout | undefined;
  private intervalMs = 0;
  /** When the tree last listed the mounts (it does while its view is visible). */
  private treeListedAt = 0;
  /** The mount a click reveals: the unhealthy one, else the first. */
  target: Mount | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly server: ServerConnection,
    tree: MountsTreeProvider,
    private readonly healthHistory: MountHealthHistory,
  ) {
    this.item.name = 'FUSE mounts';
    this.item.command = REVEAL_MOUNT_COMMAND;
    this.disposables.push(
      this.item,
      tree.onDidListMounts(({ mounts, health }) => {
        this.treeListedAt = Date.now();
        this.show(mounts, health);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('fuselens.mounts.refreshInterval')) this.schedule();
      }),
    );
    this.schedule();
    void this.update();
  }

  private schedule(): void {
    clearInterval(this.timer);
    const seconds = vscode.workspace.getConfiguration('fuselens').get<number>('mounts.refreshInterval', 5);
    this.intervalMs = seconds * 1000;
    this.timer = seconds > 0 ? setInterval(() => void this.update(), this.intervalMs) : undefined;
  }

  async update(): Promise<void> {
    if (Date.now() - this.treeListedAt < this.intervalMs) return; // the tree's listing is shown already
    let mounts: Mount[];
    try {
      mounts = (await this.server.request(Requests.listMounts, {})).mounts;
    } catch {
      this.item.hide(); // the server's own status item says it is down
      return;
    }
    this.show(mounts, this.healthHistory.rate(mounts));
  }

  private show(mounts: Mount[], health: Map<number, Health>): void {
    const rated = mounts.map((mount) => ({ mount, health: health.get(mount.mountId)! }));
    const worst = worstHealth(rated);
    this.target = worst && worst.health.level !== 'ok' ? worst.mount : rated[0]?.mount;
    const n = rated.length;
    const bad = worst && worst.health.level !== 'ok' ? worst : null;
    this.item.text = `${bad ? '$(warning)' : '$(server-process)'} FUSE: ${n} mount${n === 1 ? '' : 's'}`;
    this.item.backgroundColor = bad ? new vscode.ThemeColor(bad.health.level === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground') : undefined;
    this.item.tooltip = bad
      ? `${inertText(bad.mount.mountpoint)}: ${inertText(bad.health.why)} — click to show it`
      : n === 0 ? 'No FUSE mounts on this machine' : 'FUSE mounts on this machine — click to show them';
    this.item.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
