// "FUSE: 3 mounts" in the status bar, a warning when a mount is unhealthy
// (mountHealth.ts); a click reveals that mount (or the first) in the Mounts
// view. It asks listMounts on the view's interval whether or not the view is
// visible, since the status bar always is. That list is not free: finding each
// connection's daemon reads every process's descriptors in /proc, and while the
// view is visible the tree asks for the same list on its own timer.

import * as vscode from 'vscode';
import { Requests, type Mount } from '../protocol/messages';
import { inertText } from '../protocol/inert-text';
import type { ServerConnection } from './client';
import { mountHealth, worstHealth, type Health } from './mountHealth';

export const REVEAL_MOUNT_COMMAND = 'fuselens.mounts.reveal';

export class MountsStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('fuselens.mounts', vscode.StatusBarAlignment.Left, 10);
  private timer: NodeJS.Timeout | undefined;
  private previous = new Map<number, Mount>();
  /** The mount a click reveals: the unhealthy one, else the first. */
  target: Mount | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly server: ServerConnection) {
    this.item.name = 'FUSE mounts';
    this.item.command = REVEAL_MOUNT_COMMAND;
    this.disposables.push(
      this.item,
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
    this.timer = seconds > 0 ? setInterval(() => void this.update(), seconds * 1000) : undefined;
  }

  async update(): Promise<void> {
    let mounts: Mount[];
    try {
      mounts = (await this.server.request(Requests.listMounts, {})).mounts;
    } catch {
      this.item.hide(); // the server's own status item says it is down
      return;
    }
    const rated = mounts.map((mount) => ({ mount, health: mountHealth(mount, this.previous.get(mount.mountId)) }));
    this.previous = new Map(mounts.map((m) => [m.mountId, m]));
    this.render(rated);
  }

  private render(rated: { mount: Mount; health: Health }[]): void {
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
