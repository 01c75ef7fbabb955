// The trace view: per-opcode counts and latency histograms, a timeline of
// requests, the slowest and the failed requests, detected io-mode denials and
// the reconstructed inode modes. A request (a table row or a timeline bar) is
// focusable; click or Enter shows its details.

import type { TraceRequest, TraceView } from '../protocol/messages';
import type { DenialReport } from '../protocol/trace';
import type { FromTrace, ToTrace } from '../protocol/webview';
import { h, replaceApp, svg, vscodeApi } from './dom';

const vscode = vscodeApi<FromTrace>();
let details: HTMLElement = h('section', { class: 'details', attrs: { 'aria-live': 'polite' } });

window.addEventListener('message', (event: MessageEvent<ToTrace>) => {
  const m = event.data;
  if (m.type === 'error') replaceApp(h('p', { class: 'placeholder error' }, `Could not read the trace: ${m.message}`));
  else render(m.view);
});

function render(view: TraceView): void {
  const s = view.report;
  // A possible refusal is never shown as a denial (protocol/trace.ts DenialReport.certainty).
  const proven = s.denials.filter((d) => d.certainty === 'proven');
  const possible = s.denials.filter((d) => d.certainty === 'possible');
  details = h('section', { class: 'details', attrs: { 'aria-live': 'polite' } }, h('p', { class: 'placeholder' }, 'Select a request for its details.'));
  replaceApp(
    h(
      'header',
      { class: 'summary' },
      h('h1', {}, view.path),
      openAsScenario(),
      h(
        'p',
        {},
        `${s.format} · ${s.events} events · ${s.requests} requests · ${s.inFlightCount} in flight at the end · ${s.orphanReplies} replies without request · ${s.lost} lost · ${s.badLines} bad lines · connection${s.connections.length === 1 ? '' : 's'} ${s.connections.join(', ') || '—'}`,
      ),
      ...s.warnings.map((w) => h('p', { class: 'warning' }, w)),
    ),
    section('Requests per opcode', opcodeTable(view)),
    section('Timeline', timeline(view.timeline)),
    section(`Slowest requests (${view.slowest.length})`, view.slowest.length ? requestTable(view.slowest) : h('p', {}, 'No paired request with a latency.')),
    section(
      `Failed requests (${view.failedCount}${view.failedCount > view.failed.length ? `, first ${view.failed.length} shown` : ''})`,
      view.failed.length ? requestTable(view.failed) : h('p', {}, 'No request failed.'),
    ),
    section(`Detected io-mode denials (${proven.length})`, denialTable(proven, 'No OPEN was answered and then released at once by the kernel.')),
    possible.length > 0 ? section(`Possible refused opens (${possible.length}): the evidence allows another reading`, denialTable(possible, '')) : null,
    s.inodes ? section(`Inodes (io mode since the capture began)`, inodeTable(view)) : null,
    details,
  );
}

/** "Open as Scenario": the extension exports the trace as a .fusesim (fuselens trace --export-scenario). */
function openAsScenario(): HTMLElement {
  const button = h('button', { title: 'The OPEN replies, RELEASEs and backing ioctls of this trace as a .fusesim scenario' }, 'Open as Scenario');
  button.addEventListener('click', () => vscode.postMessage({ type: 'openAsScenario' }));
  return button;
}

function section(title: string, body: Node | null): HTMLElement | null {
  return body ? h('section', {}, h('h2', {}, title), body) : null;
}

function opcodeTable(view: TraceView): HTMLElement {
  const hist = new Map(view.histograms.map((x) => [x.opcode, x]));
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, ...['Opcode', 'Count', 'Errors', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs', 'Latency histogram'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    h(
      'tbody',
      {},
      ...view.report.opcodes.map((o) => {
        const errnos = Object.entries(o.errnos).filter(([, n]) => n > 0).map(([e, n]) => `${e}×${n}`).join(' ');
        const x = hist.get(o.opcode);
        return h(
          'tr',
          {},
          h('th', { attrs: { scope: 'row' } }, o.opcode),
          h('td', { class: 'num' }, String(o.count)),
          h('td', { class: o.errors > 0 ? 'num errno' : 'num' }, String(o.errors), errnos ? ` (${errnos})` : ''),
          h('td', { class: 'num' }, o.latencyUs ? String(o.latencyUs.p50) : '—'),
          h('td', { class: 'num' }, o.latencyUs ? String(o.latencyUs.p90) : '—'),
          h('td', { class: 'num' }, o.latencyUs ? String(o.latencyUs.p99) : '—'),
          h('td', { class: 'num' }, o.latencyUs ? String(o.latencyUs.max) : '—'),
          h('td', {}, x ? histogram(x.bucketsUs, x.counts, o.opcode) : ''),
        );
      }),
    ),
  );
}

function histogram(bucketsUs: number[], counts: number[], opcode: string): SVGElement {
  const width = 160;
  const height = 28;
  const max = Math.max(1, ...counts);
  const bar = width / Math.max(1, counts.length);
  const label = counts.map((c, i) => `≤${bucketsUs[i] ?? '∞'}µs: ${c}`).join(', ');
  return svg(
    'svg',
    { width, height, class: 'histogram', role: 'img', 'aria-label': `${opcode} latency: ${label}` },
    ...counts.map((c, i) => {
      const hgt = c === 0 ? 0 : Math.max(1, (c / max) * height);
      return svg('rect', { x: i * bar + 1, y: height - hgt, width: Math.max(1, bar - 2), height: hgt }, svg('title', {}, `≤ ${bucketsUs[i] ?? '∞'} µs: ${c}`));
    }),
  );
}

function timeline(requests: TraceRequest[]): HTMLElement | null {
  const timed = requests.filter((r) => r.startUs !== null && r.latencyUs !== null);
  if (timed.length === 0) return h('p', {}, 'This trace has no timestamps.');
  const opcodes = [...new Set(timed.map((r) => r.opcode))];
  const end = Math.max(1, ...timed.map((r) => (r.startUs ?? 0) + (r.latencyUs ?? 0)));
  const rowH = 18;
  const labelW = 150;
  const width = 900;
  const plot = width - labelW - 10;
  const chart = svg(
    'svg',
    { class: 'timeline-chart', viewBox: `0 0 ${width} ${opcodes.length * rowH + 20}`, role: 'group', 'aria-label': `${timed.length} requests over ${end} µs` },
    ...opcodes.map((op, i) => svg('text', { x: 0, y: i * rowH + 13, class: 'axis' }, op)),
    ...timed.map((r) => {
      const x = labelW + ((r.startUs ?? 0) / end) * plot;
      const w = Math.max(2, ((r.latencyUs ?? 0) / end) * plot);
      const rect = svg('rect', {
        x,
        y: opcodes.indexOf(r.opcode) * rowH + 3,
        width: w,
        height: rowH - 6,
        class: r.error !== 0 ? 'req failed' : 'req',
        tabindex: 0,
        role: 'button',
        'aria-label': requestLabel(r),
      }, svg('title', {}, requestLabel(r)));
      rect.addEventListener('click', () => showDetails(r));
      rect.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          showDetails(r);
        }
      });
      return rect;
    }),
    svg('text', { x: labelW, y: opcodes.length * rowH + 15, class: 'axis' }, '0'),
    svg('text', { x: width - 10, y: opcodes.length * rowH + 15, class: 'axis', 'text-anchor': 'end' }, `${end} µs`),
  );
  return h('div', { class: 'chart' }, chart);
}

function requestTable(requests: TraceRequest[]): HTMLElement {
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, ...['Opcode', 'Unique', 'Connection', 'Pid', 'Latency µs', 'Error'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    h(
      'tbody',
      {},
      ...requests.map((r) => {
        const row = h(
          'tr',
          { class: r.error !== 0 ? 'request failed' : 'request', attrs: { tabindex: '0', role: 'button', 'aria-label': requestLabel(r) } },
          h('td', {}, r.opcode),
          h('td', { class: 'num' }, String(r.unique)),
          h('td', { class: 'num' }, String(r.connection ?? '—')),
          h('td', { class: 'num' }, `${r.pid ?? '—'}${r.comm ? ` ${r.comm}` : ''}`),
          h('td', { class: 'num' }, r.latencyUs === null ? '—' : String(r.latencyUs)),
          h('td', { class: r.error !== 0 ? 'errno' : '' }, r.error === 0 ? '0' : `${r.errno ?? ''} (${r.error})`),
        );
        row.addEventListener('click', () => showDetails(r));
        row.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            showDetails(r);
          }
        });
        return row;
      }),
    ),
  );
}

/** Refused opens, proven or possible: `Why` says what the stream shows, then the other reading and the backing failure before it. */
function denialTable(denials: DenialReport[], none: string): HTMLElement {
  if (denials.length === 0) return h('p', {}, none);
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, ...['Inode', 'Name', 'Pid', 'OPEN', 'RELEASE', 'Rule', 'Why'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    h(
      'tbody',
      {},
      ...denials.map((d) =>
        h(
          'tr',
          { class: 'request failed' },
          h('td', { class: 'num' }, String(d.nodeid ?? '—')),
          h('td', {}, d.name ?? '—'),
          h('td', { class: 'num' }, String(d.pid ?? '—')),
          h('td', { class: 'num' }, String(d.unique)),
          h('td', { class: 'num' }, d.releaseUnique === null ? '—' : String(d.releaseUnique)),
          h('td', {}, d.rule ?? '—'),
          h('td', { class: 'why' }, [d.why, d.note && `But: ${d.note}`, d.cause && `After: ${d.cause}`].filter(Boolean).join('\n')),
        ),
      ),
    ),
  );
}

function inodeTable(view: TraceView): HTMLElement {
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, ...['Node id', 'Name', 'Mode', 'iocachectr', 'Backing id', 'Backing file', 'Opens seen'].map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    h(
      'tbody',
      {},
      ...(view.report.inodes ?? []).map((i) =>
        h('tr', {}, h('td', { class: 'num' }, String(i.nodeid)), h('td', {}, i.name ?? '—'), h('td', { class: `cell mode-${i.mode}` }, i.mode), h('td', { class: 'num' }, String(i.iocachectr)), h('td', { class: 'num' }, i.backingId === null ? '—' : String(i.backingId)), h('td', {}, i.backingPath ?? '—'), h('td', { class: 'num' }, String(i.opensSeen))),
      ),
    ),
  );
}

function requestLabel(r: TraceRequest): string {
  return `${r.opcode} #${r.unique} from pid ${r.pid ?? '?'}: ${r.latencyUs ?? '?'} µs${r.error !== 0 ? `, ${r.errno ?? 'error'} (${r.error})` : ''}`;
}

function showDetails(r: TraceRequest): void {
  const rows = Object.entries(r)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => h('tr', {}, h('th', { attrs: { scope: 'row' } }, k), h('td', {}, String(v))));
  details.replaceChildren(h('h2', {}, `${r.opcode} #${r.unique}`), h('table', { class: 'data' }, h('tbody', {}, ...rows)));
  details.scrollIntoView({ block: 'nearest' });
}

vscode.postMessage({ type: 'ready' });
