// The "FUSE Mounts" tree of the FUSE Lens sidebar: mount → daemon and inodes →
// open files and mappings. Everything comes from the server (fuselens/listMounts,
// fuselens/inspectMount), which reads /proc and sysfs without touching the
// mounts. Items have stable ids and getParent so `reveal` works; the tree
// refreshes on demand and, while visible, on an interval; a failure becomes an
// error node with a way out, never an empty tree.

import * as vscode from 'vscode';
import { Requests, type InodeView, type Inspection, type Mapping, type Mount, type OpenFile } from '../protocol/messages';
import type { ProcessTie } from '../protocol/inspect';
import type { ModeSource, MountModes, TrackedInode } from '../protocol/track';
import { errorText, type ServerConnection } from './client';
import { md } from './mountReport';
import { RefreshPacer } from './refresh-pacer';
import { inertText } from '../protocol/inert-text';
import type { Health, MountHealthHistory } from './mountHealth';

export type MountNode =
  | { kind: 'mount'; id: string; mount: Mount }
  | { kind: 'daemon'; id: string; parent: MountNode; mount: Mount }
  | { kind: 'tie'; id: string; parent: MountNode; mount: Mount; tie: ProcessTie }
  | { kind: 'tracking'; id: string; parent: MountNode; mount: Mount; source: Extract<ModeSource, { kind: 'tracking' }> }
  | { kind: 'trace'; id: string; parent: MountNode; mount: Mount; source: Extract<ModeSource, { kind: 'trace' }> }
  | { kind: 'inode'; id: string; parent: MountNode; mount: Mount; inode: InodeView; tracked?: TrackedInode }
  | { kind: 'open'; id: string; parent: MountNode; mount: Mount; inode: InodeView; open: OpenFile }
  | { kind: 'mapping'; id: string; parent: MountNode; mount: Mount; inode: InodeView; mapping: Mapping }
  | { kind: 'message'; id: string; parent?: MountNode; text: string; detail: string; error: boolean; command?: vscode.Command };

export class MountsTreeProvider implements vscode.TreeDataProvider<MountNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<MountNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private timer: NodeJS.Timeout | undefined;
  private readonly pacer = new RefreshPacer();
  private view: vscode.TreeView<MountNode> | undefined;
  /** The last inspection of each mount, by mount id, for context commands. */
  private readonly inspections = new Map<number, Inspection>();
  private mounts: Mount[] = [];
  /** Each listed mount's health (its icon), against the previous listing. */
  private health = new Map<number, Health>();
  /** The last modes of each mount with a mode source (tracking, an attached trace), by mountpoint. */
  private readonly modes = new Map<string, MountModes>();

  private readonly listed = new vscode.EventEmitter<{ mounts: Mount[]; health: Map<number, Health> }>();
  /** Each listing the tree made, with its mounts' health: the status bar shows it rather than listing again. */
  readonly onDidListMounts = this.listed.event;

  constructor(
    private readonly server: ServerConnection,
    private readonly log: vscode.LogOutputChannel,
    private readonly healthHistory: MountHealthHistory,
  ) {}

  attach(view: vscode.TreeView<MountNode>): vscode.Disposable {
    this.view = view;
    const onVisibility = view.onDidChangeVisibility(() => this.schedule());
    const onConfig = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('fuselens.mounts.refreshInterval')) this.schedule();
    });
    this.schedule();
    return vscode.Disposable.from(onVisibility, onConfig);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  knownMounts(): readonly Mount[] {
    return this.mounts;
  }

  /** The tree's node of a mount (same id as listed), for `reveal`. */
  nodeOf(mount: Mount): MountNode {
    return { kind: 'mount', id: `mount/${mount.mountId}`, mount };
  }

  /** A trackingUpdate: the mount's inodes are shown again with their new modes. */
  updateModes(modes: MountModes): void {
    this.modes.set(modes.mountpoint, modes);
    const tracking = [...this.modes.values()].some((m) => m.source?.kind === 'tracking' && m.source.state === 'running');
    void vscode.commands.executeCommand('setContext', 'fuselens.tracking', tracking);
    this.refresh();
  }

  /** The mountpoints being tracked now. */
  trackedMounts(): string[] {
    return [...this.modes.values()].filter((m) => m.source?.kind === 'tracking' && m.source.state === 'running').map((m) => m.mountpoint);
  }

  /** Refresh on an interval only while the view is visible (Docker extension's habit), paced by its cost. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const seconds = vscode.workspace.getConfiguration('fuselens').get<number>('mounts.refreshInterval', 5);
    if (!this.view?.visible || seconds <= 0) return;
    this.timer = setTimeout(() => {
      this.refresh();
      this.schedule();
    }, this.pacer.next(seconds * 1000));
  }

  getTreeItem(node: MountNode): vscode.TreeItem {
    switch (node.kind) {
      case 'mount':
        return mountItem(node, this.health.get(node.mount.mountId));
      case 'daemon':
        return daemonItem(node);
      case 'tie':
        return tieItem(node);
      case 'tracking':
        return trackingItem(node);
      case 'trace':
        return traceItem(node);
      case 'inode':
        return inodeItem(node);
      case 'open':
        return openItem(node);
      case 'mapping':
        return mappingItem(node);
      case 'message': {
        // Messages quote paths and errors from the server.
        const item = new vscode.TreeItem(inertText(node.text), vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.description = inertText(node.detail);
        item.tooltip = `${inertText(node.text)}\n${inertText(node.detail)}`;
        item.iconPath = new vscode.ThemeIcon(node.error ? 'error' : 'info');
        item.contextValue = node.error ? 'error' : 'message';
        if (node.command) item.command = node.command;
        return item;
      }
    }
  }

  getParent(node: MountNode): MountNode | undefined {
    return node.kind === 'mount' ? undefined : node.parent;
  }

  async getChildren(node?: MountNode): Promise<MountNode[]> {
    if (!node) return this.rootChildren();
    switch (node.kind) {
      case 'mount':
        return this.mountChildren(node);
      case 'inode':
        return [
          ...node.inode.opens.map((open): MountNode => ({
            kind: 'open',
            id: `${node.id}/fd/${open.pid}/${open.fd}`,
            parent: node,
            mount: node.mount,
            inode: node.inode,
            open,
          })),
          ...node.inode.mappings.map((mapping): MountNode => ({
            kind: 'mapping',
            id: `${node.id}/map/${mapping.pid}/${mapping.start}`,
            parent: node,
            mount: node.mount,
            inode: node.inode,
            mapping,
          })),
        ];
      default:
        return [];
    }
  }

  private async rootChildren(): Promise<MountNode[]> {
    try {
      const result = await this.server.request(Requests.listMounts, {});
      this.pacer.spent(result.cpuMs);
      for (const w of result.warnings) this.log.warn(`mounts: ${w}`);
      void vscode.commands.executeCommand('setContext', 'fuselens.noMounts', result.mounts.length === 0);
      // An empty array shows the welcome view (viewsWelcome), which says how to make a mount.
      this.mounts = result.mounts;
      this.health = this.healthHistory.rate(result.mounts);
      this.listed.fire({ mounts: result.mounts, health: this.health });
      return result.mounts.map((mount) => this.nodeOf(mount));
    } catch (err) {
      this.log.error(`listing mounts: ${errorText(err)}`);
      return [
        {
          kind: 'message',
          id: 'error/mounts',
          text: 'Could not list the FUSE mounts',
          detail: `${errorText(err)} — click to show the log`,
          error: true,
          command: { title: 'Show Output', command: 'fuselens.showOutput' },
        },
      ];
    }
  }

  private async mountChildren(node: Extract<MountNode, { kind: 'mount' }>): Promise<MountNode[]> {
    const daemon: MountNode = { kind: 'daemon', id: `${node.id}/daemon`, parent: node, mount: node.mount };
    try {
      const [result, modes] = await Promise.all([
        this.server.request(Requests.inspectMount, { mountpoint: node.mount.mountpoint }),
        this.server.request(Requests.mountModes, { mountpoint: node.mount.mountpoint }).catch((err: unknown) => {
          this.log.warn(`${node.mount.mountpoint}: modes: ${errorText(err)}`);
          return null;
        }),
      ]);
      this.pacer.spent(result.cpuMs);
      if (modes) this.modes.set(node.mount.mountpoint, modes);
      const source = modes?.source ?? null;
      const sourceNodes: MountNode[] =
        source?.kind === 'tracking' && source.state === 'running'
          ? [{ kind: 'tracking', id: `${node.id}/tracking`, parent: node, mount: node.mount, source }]
          : source?.kind === 'trace'
            ? [{ kind: 'trace', id: `${node.id}/trace`, parent: node, mount: node.mount, source }]
            : [];
      if (!result.inspection) {
        return [daemon, errorNode(node, result.error ?? 'the mount is gone')];
      }
      this.inspections.set(node.mount.mountId, result.inspection);
      for (const w of result.inspection.warnings) this.log.warn(`${node.mount.mountpoint}: ${w}`);
      const inodes = result.inspection.inodes.map((inode): MountNode => ({
        kind: 'inode',
        id: `${node.id}/ino/${inode.ino}`,
        parent: node,
        mount: node.mount,
        inode,
        ...trackedFor(modes, inode),
      }));
      const ties = result.inspection.ties.map((tie): MountNode => ({
        kind: 'tie',
        id: `${node.id}/tie/${tie.pid}/${tie.kind}`,
        parent: node,
        mount: node.mount,
        tie,
      }));
      if (inodes.length === 0) {
        inodes.push({
          kind: 'message',
          id: `${node.id}/none`,
          parent: node,
          text: 'No open files or mappings',
          detail: 'no process holds a file of this mount',
          error: false,
        });
      }
      return [daemon, ...sourceNodes, ...ties, ...inodes];
    } catch (err) {
      return [daemon, errorNode(node, errorText(err))];
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
    this.listed.dispose();
  }
}

function errorNode(parent: MountNode, message: string): MountNode {
  return {
    kind: 'message',
    id: `${parent.id}/error`,
    parent,
    text: 'Could not inspect this mount',
    detail: `${message} — click to retry`,
    error: true,
    command: { title: 'Refresh', command: 'fuselens.mounts.refresh' },
  };
}

const HEALTH_COLOR = { ok: 'charts.green', warning: 'list.warningForeground', error: 'list.errorForeground' } as const;

function mountItem(node: Extract<MountNode, { kind: 'mount' }>, health: Health | undefined): vscode.TreeItem {
  const m = node.mount;
  const item = new vscode.TreeItem(inertText(m.mountpoint), vscode.TreeItemCollapsibleState.Collapsed);
  item.id = node.id;
  const waiting = m.connectionStats ? `waiting ${m.connectionStats.waiting}` : 'waiting ?';
  const daemon = m.daemon ? `${m.daemon.comm} (${m.daemon.pid})` : 'daemon ?';
  item.description = inertText(`${m.fstype} · conn ${m.connection} · ${waiting} · ${daemon}`);
  // Health at a glance: the icon's colour (green, warning, error), the reason first in the tooltip.
  item.iconPath = new vscode.ThemeIcon('server-process', health ? new vscode.ThemeColor(HEALTH_COLOR[health.level]) : undefined);
  item.resourceUri = vscode.Uri.file(m.mountpoint);
  item.contextValue = 'mount';
  const tip = new vscode.MarkdownString(undefined, true);
  tip.appendMarkdown(`**${md(m.mountpoint)}**\n\n`);
  if (health && health.level !== 'ok') tip.appendMarkdown(`$(warning) ${md(health.why)}\n\n`);
  tip.appendMarkdown(`- fstype: ${md(m.fstype)}, source: ${md(m.source)}\n`);
  tip.appendMarkdown(`- device ${m.device}, connection ${m.connection} (/sys/fs/fuse/connections/${m.connection})\n`);
  if (m.connectionStats) {
    const s = m.connectionStats;
    tip.appendMarkdown(`- waiting ${s.waiting}, max_background ${s.maxBackground}, congestion_threshold ${s.congestionThreshold}\n`);
  } else {
    tip.appendMarkdown(`- connection numbers missing: ${md(m.connectionStatsMissing ?? 'fusectl not readable')}\n`);
  }
  tip.appendMarkdown(`- daemon: ${md(daemonText(m))}\n`);
  tip.appendMarkdown(`- options: ${md(m.mountOptions.join(','))} / ${md(superOptionsText(m))}`);
  item.tooltip = tip;
  return item;
}

function daemonItem(node: Extract<MountNode, { kind: 'daemon' }>): vscode.TreeItem {
  const m = node.mount;
  const item = new vscode.TreeItem(
    m.daemon ? `Daemon: ${inertText(m.daemon.comm)}` : 'Daemon: unknown',
    vscode.TreeItemCollapsibleState.None,
  );
  item.id = node.id;
  item.description = m.daemon
    ? `pid ${m.daemon.pid}${m.daemon.source === 'guess-from-cmdline' ? ' (guessed from its command line)' : ''}`
    : inertText(m.daemonNote ?? 'no process holds /dev/fuse for this connection');
  item.tooltip = inertText(daemonText(m));
  item.iconPath = new vscode.ThemeIcon(m.daemon ? 'gear' : 'question');
  item.contextValue = 'daemon';
  return item;
}

function inodeItem(node: Extract<MountNode, { kind: 'inode' }>): vscode.TreeItem {
  const inode = node.inode;
  const name = inode.path ? relativeToMount(inode.path, node.mount.mountpoint) : `inode ${inode.ino}`;
  const item = new vscode.TreeItem(inertText(name), vscode.TreeItemCollapsibleState.Expanded);
  item.id = node.id;
  const p = node.tracked?.provenance;
  const holders = `${inode.opens.length} open · ${inode.mappings.length} mapped`;
  // With a provenance the mode leads: it is what the row is for, and a narrow sidebar cuts the end.
  item.description = p
    ? `${p.text} · ino ${inode.ino} · ${holders}`
    : `ino ${inode.ino} · mode ${inode.mode} · ${holders}`;
  item.iconPath = new vscode.ThemeIcon(p ? MODE_ICONS[p.mode] : 'file');
  if (inode.path) item.resourceUri = vscode.Uri.file(inode.path);
  item.contextValue = 'inode';
  const tip = new vscode.MarkdownString();
  tip.appendMarkdown(`**${md(inode.path ?? `inode ${inode.ino}`)}** (ino ${inode.ino})\n\n`);
  if (p) {
    tip.appendMarkdown(`io mode: **${md(p.mode)}** (${BASIS_WORDS[p.basis]})\n\n${md(p.text)}\n\n`);
    for (const r of p.reasons) tip.appendMarkdown(`- ${md(r)}\n`);
    if (p.matchedBy) tip.appendMarkdown(`\nThe trace's node ${md(String(p.nodeid))} matched by ${MATCH_WORDS[p.matchedBy]}.\n`);
    tip.appendMarkdown('\nWhat /proc alone shows:\n\n');
  } else {
    tip.appendMarkdown(`io mode: **${inode.mode}**`);
    if (inode.mode === 'unknown') tip.appendMarkdown(' — the kernel exports no io mode; this is what can be seen:');
    tip.appendMarkdown('\n\n');
  }
  for (const e of inode.evidence) tip.appendMarkdown(`- ${md(e)}\n`);
  item.tooltip = tip;
  return item;
}

const MODE_ICONS: Record<TrackedInode['provenance']['mode'], string> = {
  passthrough: 'arrow-swap',
  caching: 'database',
  uncached: 'circle-slash',
  idle: 'circle-outline',
  unknown: 'question',
};

const BASIS_WORDS: Record<TrackedInode['provenance']['basis'], string> = {
  proven: 'proven by the trace',
  inferred: 'inferred from later evidence',
  unknown: 'the evidence proves no mode',
};

const MATCH_WORDS: Record<NonNullable<TrackedInode['provenance']['matchedBy']>, string> = {
  ino: 'inode number (LOOKUP/CREATE reply)',
  name: 'name (LOOKUP/CREATE)',
  opener: 'its opener, the only process descriptor on the mount no other traced node accounts for',
};

/** The tracked inode /proc's inode is, by inode number (the server gave each held inode its provenance). */
function trackedFor(modes: MountModes | null, inode: InodeView): { tracked?: TrackedInode } {
  const t = modes?.source ? modes.inodes.find((i) => i.ino !== null && String(i.ino) === String(inode.ino)) : undefined;
  return t ? { tracked: t } : {};
}

function trackingItem(node: Extract<MountNode, { kind: 'tracking' }>): vscode.TreeItem {
  const s = node.source;
  const item = new vscode.TreeItem(`Tracking: ${inertText(s.daemon.comm)} (${s.daemon.pid})`, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.description = `since ${timeOfDay(s.since)} · ${s.requests} requests`;
  item.iconPath = new vscode.ThemeIcon('pulse');
  item.contextValue = 'tracking';
  item.tooltip = `strace is attached to ${inertText(s.daemon.comm)} (pid ${s.daemon.pid}) since ${s.since}: every request it serves is slowed down.\nEach inode's mode says what proves it. Stop detaches strace; the daemon runs on.`;
  return item;
}

function traceItem(node: Extract<MountNode, { kind: 'trace' }>): vscode.TreeItem {
  const s = node.source;
  const item = new vscode.TreeItem(`From trace ${inertText(s.path.slice(s.path.lastIndexOf('/') + 1))}`, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.description = `capture began ${s.since}`;
  item.iconPath = new vscode.ThemeIcon('history');
  item.contextValue = 'trace';
  item.tooltip = `The inodes' modes come from ${inertText(s.path)} (connection ${s.connection}), whose capture began ${s.since}.\nFiles opened before it began, or after it ended, are not in it: their mode is unknown. Detach to stop using it.`;
  return item;
}

function timeOfDay(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString();
}

/** Each tie in words, and as lsof's FD column names it. */
const TIE_WORDS: Record<ProcessTie['kind'], { what: string; lsof: string }> = {
  cwd: { what: 'working directory', lsof: 'cwd' },
  root: { what: 'root directory', lsof: 'rtd' },
  exe: { what: 'executable', lsof: 'txt' },
};

function tieItem(node: Extract<MountNode, { kind: 'tie' }>): vscode.TreeItem {
  const t = node.tie;
  const item = new vscode.TreeItem(`${inertText(t.comm)} (${t.pid}) ${t.kind}`, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.description = `${inertText(relativeToMount(t.path, node.mount.mountpoint))}${t.deleted ? ' (deleted)' : ''}`;
  item.iconPath = new vscode.ThemeIcon(t.kind === 'exe' ? 'terminal' : 'folder-opened');
  item.contextValue = 'tie';
  const words = TIE_WORDS[t.kind];
  item.tooltip = `${inertText(t.comm)} (pid ${t.pid}) has its ${words.what} on this mount: ${inertText(t.path)}${t.deleted ? ' (deleted)' : ''}, ino ${t.ino}\nIt keeps the mount busy (lsof: ${words.lsof}).`;
  return item;
}

function openItem(node: Extract<MountNode, { kind: 'open' }>): vscode.TreeItem {
  const o = node.open;
  const item = new vscode.TreeItem(`${inertText(o.comm)} (${o.pid}) fd ${o.fd}`, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.description = `${o.flags.join(' ')} · pos ${o.pos}`;
  item.iconPath = new vscode.ThemeIcon('file-symlink-file');
  item.contextValue = 'open';
  item.tooltip = [
    `${inertText(o.comm)} (pid ${o.pid}) holds fd ${o.fd}`,
    `flags ${o.flags.join(' | ')} (${o.rawFlags})`,
    `position ${o.pos}`,
    o.deleted ? 'the file was deleted' : '',
    o.sharedWith && o.sharedWith.length > 0 ? `same open file as ${o.sharedWith.join(', ')}` : '',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return item;
}

function mappingItem(node: Extract<MountNode, { kind: 'mapping' }>): vscode.TreeItem {
  const m = node.mapping;
  const item = new vscode.TreeItem(`${inertText(m.comm)} (${m.pid}) ${m.shared ? 'shared' : 'private'} mapping`, vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.description = `${m.perms} ${m.start}-${m.end}${m.withoutDescriptor ? ' · no descriptor' : ''}`;
  item.iconPath = new vscode.ThemeIcon('layers');
  item.contextValue = 'mapping';
  item.tooltip = [
    `${inertText(m.comm)} (pid ${m.pid}) maps ${inertText(m.path)}`,
    `${m.start}-${m.end} ${m.perms} offset ${m.offset}`,
    m.withoutDescriptor ? 'mapped after its descriptor was closed' : '',
  ]
    .filter((line) => line !== '')
    .join('\n');
  return item;
}

function daemonText(m: Mount): string {
  if (!m.daemon) return m.daemonNote ?? 'unknown';
  const how = m.daemon.source === 'fdinfo' ? `holds /dev/fuse (fd ${m.daemon.fd ?? '?'}) for connection ${m.connection}` : 'a guess from its command line (this kernel does not say)';
  return `${m.daemon.comm} (pid ${m.daemon.pid}): ${how}`;
}

function superOptionsText(m: Mount): string {
  return Object.entries(m.superOptions)
    .map(([k, v]) => (v === true ? k : `${k}=${v}`))
    .join(',');
}

function relativeToMount(path: string, mountpoint: string): string {
  return path.startsWith(mountpoint + '/') ? path.slice(mountpoint.length + 1) : path;
}

