// The inspect panel of one mount: its connection and daemon, the files in use
// with their descriptors and mappings (sortable tables), what the kernel does
// not export (said once, with a link to the page that explains it), and the
// warnings of the scan, routine ones folded into one line. The toolbar runs
// the mount's commands in the extension. Every name from the system goes in
// as a text node (dom.ts's h, sortableTable's cells), through inertText.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import { IO_MODE_NOT_EXPORTED, type InodeView, type Inspection, type Mapping, type Mount, type OpenFile, type ProcessTie } from '../protocol/inspect';
import type { MountModes, TrackedInode } from '../protocol/track';
import type { FromInspect, InspectAction, ToInspect } from '../protocol/webview';
import { inertText } from '../protocol/inert-text';
import { h, replaceApp, vscodeApi } from './dom';
import { sortableTable, type Column } from './sortableTable';

const vscode = vscodeApi<FromInspect>();

window.addEventListener('message', (event: MessageEvent<ToInspect>) => {
  const m = event.data;
  switch (m.type) {
    case 'inspection':
      render(m.inspection, m.modes, m.refreshSeconds);
      break;
    case 'refreshing':
      document.body.classList.add('refreshing');
      break;
    case 'error':
      document.body.classList.remove('refreshing');
      replaceApp(toolbar(), h('p', { class: 'error', attrs: { role: 'alert' } }, inertText(m.message)));
      break;
  }
});

const ACTIONS: { action: InspectAction; label: string; title: string; secondary?: boolean }[] = [
  { action: 'capture', label: 'Capture Trace…', title: 'Record the FUSE requests of this mount (tracefs or strace on the daemon)' },
  { action: 'track', label: 'Track I/O Modes…', title: 'Follow the io mode of every inode as the daemon answers opens (strace)' },
  { action: 'exportScenario', label: 'Export as Scenario', title: 'A scenario that replays what is open and mapped now', secondary: true },
  { action: 'exportReport', label: 'Export Report', title: 'This report as Markdown, to save or paste into a bug report', secondary: true },
  { action: 'setLimits', label: 'Set Limits…', title: 'max_background and congestion_threshold of the connection', secondary: true },
  { action: 'abort', label: 'Abort Connection…', title: 'Fail every request of this connection (asks first)', secondary: true },
];

function toolbar(): HTMLElement {
  const refresh = button('Refresh', 'Scan /proc again now', false, () => vscode.postMessage({ type: 'refresh' }));
  refresh.classList.add('refresh');
  return h(
    'div',
    { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Mount actions' } },
    refresh,
    ...ACTIONS.map((a) => button(a.label, a.title, a.secondary ?? false, () => vscode.postMessage({ type: 'action', action: a.action }))),
  );
}

function button(label: string, title: string, secondary: boolean, onClick: () => void): HTMLElement {
  const b = document.createElement('vscode-button');
  b.append(document.createTextNode(label));
  b.title = title;
  if (secondary) b.setAttribute('secondary', '');
  b.addEventListener('click', onClick);
  return b;
}

/** The mountpoint the tables' paths are shown relative to (it is the page's heading). */
let mountpoint = '';

/** A path on the mount as `./rest`; any other path whole. */
function onMount(path: string): string {
  return path.startsWith(`${mountpoint}/`) ? `.${path.slice(mountpoint.length)}` : path;
}

function render(inspection: Inspection, modes: MountModes | null, refreshSeconds: number): void {
  document.body.classList.remove('refreshing');
  const m = inspection.mount;
  mountpoint = m.mountpoint;
  const scanned = new Date(inspection.scannedAt);
  const header = h(
    'header',
    { class: 'summary' },
    h('h1', {}, inertText(m.mountpoint)),
    h(
      'p',
      {},
      `Scanned at ${scanned.toLocaleTimeString()} (${scanned.toLocaleDateString()})`,
      inspection.kernelRelease ? ` on Linux ${inertText(inspection.kernelRelease)}` : '',
      refreshSeconds > 0 ? ` · refreshes every ${refreshSeconds} s while visible` : ' · refreshes on demand',
    ),
  );
  const inodes = inspection.inodes;
  const opens = inodes.flatMap((i) => i.opens);
  const mappings = inodes.flatMap((i) => i.mappings);
  replaceApp(
    header,
    toolbar(),
    warningsSection(inspection.warnings),
    connectionSection(m),
    notExported(inodes),
    h('h2', {}, `Files in use (${inodes.length})`),
    inodes.length === 0
      ? h('p', { class: 'placeholder' }, 'No process holds a descriptor or a mapping of a file on this mount.')
      : sortableTable('Files in use', fileColumns(modes), inodes),
    opens.length > 0 ? h('h2', {}, `Open descriptors (${opens.length})`) : null,
    opens.length > 0 ? sortableTable('Open descriptors', OPEN_COLUMNS, opens) : null,
    mappings.length > 0 ? h('h2', {}, `Mappings (${mappings.length})`) : null,
    mappings.length > 0 ? sortableTable('Mappings', MAPPING_COLUMNS, mappings) : null,
    inspection.ties.length > 0 ? h('h2', {}, `Working directories, roots and executables on the mount (${inspection.ties.length})`) : null,
    inspection.ties.length > 0 ? h('p', { class: 'note' }, 'These keep the mount busy without a descriptor (lsof: cwd, rtd, txt).') : null,
    inspection.ties.length > 0 ? sortableTable('Processes standing on the mount', TIE_COLUMNS, inspection.ties) : null,
  );
}

function connectionSection(m: Mount): HTMLElement {
  const rows: [string, string][] = [
    ['daemon', daemonText(m)],
    ['connection', `${m.connection} (device ${m.device}, mount id ${m.mountId})`],
    ['fstype · source', `${m.fstype} · ${m.source}`],
  ];
  if (m.connectionStats) {
    const s = m.connectionStats;
    rows.push(['requests waiting', String(s.waiting)], ['max_background · congestion_threshold', `${s.maxBackground} · ${s.congestionThreshold}`]);
  } else {
    rows.push(['connection numbers', `missing: ${m.connectionStatsMissing ?? 'fusectl is not readable'}`]);
  }
  rows.push(['mount options', m.mountOptions.join(',')]);
  rows.push(['super options', Object.entries(m.superOptions).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(',')]);
  if (m.optionalFields.length > 0) rows.push(['propagation', m.optionalFields.join(' ')]);
  return h(
    'dl',
    { class: 'facts', attrs: { 'aria-label': 'Connection' } },
    ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { title: inertText(v) }, inertText(v))]),
  );
}

function daemonText(m: Mount): string {
  const d = m.daemon;
  if (!d) return `unknown${m.daemonNote ? `: ${m.daemonNote}` : ''}`;
  const how = d.source === 'fdinfo' ? `holds /dev/fuse as fd ${d.fd ?? '?'} (fdinfo)` : 'a guess from its command line, not proven by the kernel';
  const others = d.otherPids && d.otherPids.length > 0 ? `; also held by pids ${d.otherPids.join(', ')}` : '';
  return `${d.comm} (pid ${d.pid}), ${how}${others}`;
}

/** The explanation every inode's evidence begins with, said once, with the page that explains it. */
function notExported(inodes: InodeView[]): HTMLElement | null {
  if (!inodes.some((i) => i.evidence[0] === IO_MODE_NOT_EXPORTED)) return null;
  const link = h('a', { attrs: { href: '#', role: 'button' } }, 'What /proc cannot tell, and why');
  link.addEventListener('click', (e) => {
    e.preventDefault();
    vscode.postMessage({ type: 'explain' });
  });
  return h(
    'p',
    { class: 'note not-exported' },
    'The kernel exports no io mode (caching, direct-io, passthrough) for an inode: only the server’s OPEN replies decide it, so a mode shows here only from a trace or while tracking. ',
    link,
  );
}

/** Warnings every scan of a busy machine has (a process gone or not ours to read): one folded line. */
const ROUTINE = [
  { pattern: /^(\d+) process(?:es)? could not be read/, words: (n: number) => `${n} process${n === 1 ? '' : 'es'} could not be read` },
  { pattern: /^pid \d+ vanished during the scan/, words: (n: number) => `${n} process${n === 1 ? '' : 'es'} ended during the scan` },
];

function warningsSection(warnings: string[]): HTMLElement | null {
  const counts = ROUTINE.map(() => 0);
  const routine: string[] = [];
  const other: string[] = [];
  for (const w of warnings) {
    const i = ROUTINE.findIndex((r) => r.pattern.test(w));
    if (i < 0) {
      other.push(w);
      continue;
    }
    routine.push(w);
    const n = ROUTINE[i]!.pattern.exec(w)?.[1];
    counts[i]! += n ? Number(n) : 1;
  }
  if (warnings.length === 0) return null;
  const parts: Node[] = other.map((w) => h('p', { class: 'warning', attrs: { role: 'status' } }, inertText(w)));
  if (routine.length > 0) {
    const summary = ROUTINE.flatMap((r, i) => (counts[i]! > 0 ? [r.words(counts[i]!)] : [])).join(' · ');
    const fold = document.createElement('vscode-collapsible');
    fold.setAttribute('heading', summary);
    fold.classList.add('routine');
    fold.append(h('ul', {}, ...routine.map((w) => h('li', {}, inertText(w)))));
    parts.push(fold);
  }
  return h('section', { class: 'warnings', attrs: { 'aria-label': 'Warnings' } }, ...parts);
}

function provenanceOf(modes: MountModes | null, inode: InodeView): TrackedInode | undefined {
  return modes?.inodes.find((t) => t.ino !== null && String(t.ino) === String(inode.ino));
}

function fileColumns(modes: MountModes | null): Column<InodeView>[] {
  const mode = (i: InodeView): string => {
    const p = provenanceOf(modes, i)?.provenance;
    if (p) return `${p.mode} (${p.basis})`;
    if (i.reconstructed) return `${i.reconstructed.mode} (from the trace)`;
    return i.mode;
  };
  return [
    { label: 'Path', width: 'auto', wrap: true, text: (i) => (i.path === null ? `inode ${i.ino}` : onMount(i.path)) },
    { label: 'ino', width: '96px', text: (i) => String(i.ino), key: (i) => BigInt(i.ino) },
    { label: 'io mode', width: '110px', wrap: true, text: mode },
    { label: 'Opens', width: '68px', text: (i) => String(i.opens.length), key: (i) => i.opens.length },
    { label: 'Maps', width: '64px', text: (i) => String(i.mappings.length), key: (i) => i.mappings.length },
    {
      label: 'Evidence',
      width: 'auto',
      wrap: true,
      text: (i) => {
        const p = provenanceOf(modes, i)?.provenance;
        const evidence = i.evidence.filter((e) => e !== IO_MODE_NOT_EXPORTED);
        return [p?.text, ...evidence].filter(Boolean).join('; ') || '—';
      },
    },
  ];
}

const OPEN_COLUMNS: Column<OpenFile>[] = [
  { label: 'Process', width: 'auto', wrap: true, text: (o) => o.comm },
  { label: 'pid', width: '72px', text: (o) => String(o.pid), key: (o) => o.pid },
  { label: 'fd', width: '52px', text: (o) => String(o.fd), key: (o) => o.fd },
  { label: 'Path', width: 'auto', wrap: true, text: (o) => `${onMount(o.path)}${o.deleted ? ' (deleted)' : ''}` },
  { label: 'Flags', width: '124px', text: (o) => o.flags.join(' '), wrap: true },
  { label: 'Position', width: '84px', text: (o) => String(o.pos), key: (o) => o.pos },
  { label: 'Shared with', width: 'auto', text: (o) => o.sharedWith?.join(', ') ?? '', wrap: true },
];

const MAPPING_COLUMNS: Column<Mapping>[] = [
  { label: 'Process', width: 'auto', wrap: true, text: (m) => m.comm },
  { label: 'pid', width: '72px', text: (m) => String(m.pid), key: (m) => m.pid },
  { label: 'Path', width: 'auto', wrap: true, text: (m) => onMount(m.path) },
  { label: 'Address range', width: 'auto', wrap: true, text: (m) => `${m.start}-${m.end}`, key: (m) => BigInt(`0x${m.start}`) },
  { label: 'Perms', width: '68px', text: (m) => m.perms },
  {
    label: 'Kind',
    width: 'auto',
    wrap: true,
    text: (m) => `${m.shared ? 'shared' : 'private'}${m.withoutDescriptor ? ', no descriptor (mapped after close)' : ''}`,
  },
];

const TIE_COLUMNS: Column<ProcessTie>[] = [
  { label: 'Process', width: 'auto', wrap: true, text: (t) => t.comm },
  { label: 'pid', width: '72px', text: (t) => String(t.pid), key: (t) => t.pid },
  { label: 'As', width: '60px', text: (t) => t.kind },
  { label: 'Path', width: 'auto', wrap: true, text: (t) => `${onMount(t.path)}${t.deleted ? ' (deleted)' : ''}` },
  { label: 'ino', width: '96px', text: (t) => String(t.ino), key: (t) => BigInt(t.ino) },
];

vscode.postMessage({ type: 'ready' });
