// The trace view: per-opcode counts and latency histograms, a timeline of
// requests, the slowest and the failed requests, detected io-mode denials and
// the reconstructed inode modes. A request (a table row or a timeline bar) is
// focusable; click or Enter shows its details right under it, as named fields.
// Failures are grouped by opcode and errno; pid 0 is the kernel itself.

import type { TraceRequest, TraceView } from '../protocol/messages';
import type { DenialReport, FailureGroup } from '../protocol/trace';
import type { FromTrace, ToTrace } from '../protocol/webview';
import { h, replaceApp, svg, vscodeApi } from './dom';
import { latencyChart } from './latencyChart';

const vscode = vscodeApi<FromTrace>();

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
    section('Latency over time (drag across to select requests)', latencyOverTime(view.timeline)),
    section(`Slowest requests (${view.slowest.length})`, view.slowest.length ? requestTable(view.slowest) : h('p', {}, 'No paired request with a latency.')),
    section(
      `Failed requests (${view.failedCount}), by opcode and errno`,
      view.failureGroups.length ? failureTable(view.failureGroups) : h('p', {}, 'No request failed.'),
    ),
    section(`Detected io-mode denials (${proven.length})`, denialTable(proven, 'No OPEN was answered and then released at once by the kernel.')),
    possible.length > 0 ? section(`Possible refused opens (${possible.length}): the evidence allows another reading`, denialTable(possible, '')) : null,
    s.denialsCount > s.denials.length
      ? h('p', {}, `${s.denialsCount} refused or possibly refused opens in all: the first ${s.denials.length} are listed above (`, h('code', {}, 'fuselens trace --export-scenario'), ' keeps every one).')
      : null,
    s.inodes ? section(`Inodes (io mode since the capture began)`, inodeTable(view)) : null,
  );
}

/** "Open as Scenario": the extension exports the trace as a .fusesim (fuselens trace --export-scenario). */
function openAsScenario(): HTMLElement {
  const button = h('button', { title: 'The OPEN replies, RELEASEs and backing ioctls of this trace as a .fusesim scenario' }, 'Open as Scenario');
  button.addEventListener('click', () => vscode.postMessage({ type: 'openAsScenario' }));
  return button;
}

/** A section; a table in it scrolls sideways in its own box when the view is narrow, never the page. */
function section(title: string, body: Node | null): HTMLElement | null {
  if (!body) return null;
  return h('section', {}, h('h2', {}, title), body instanceof HTMLTableElement ? h('div', { class: 'scroll' }, body) : body);
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

/** Latency buckets as bars: x is the latency (log2 buckets, labelled at both ends), y the count (its maximum labelled). */
function histogram(bucketsUs: number[], counts: number[], opcode: string): SVGElement {
  const plotW = 112;
  const plotH = 28;
  const left = 28;
  const width = left + plotW + 4;
  const height = plotH + 14;
  const max = Math.max(1, ...counts);
  const bar = plotW / Math.max(1, counts.length);
  const label = counts.map((c, i) => `≤${bucketsUs[i] ?? '∞'}µs: ${c}`).join(', ');
  const last = bucketsUs[bucketsUs.length - 1] ?? 0;
  return svg(
    'svg',
    { width, height, class: 'histogram', role: 'img', 'aria-label': `${opcode} latency (requests per latency bucket): ${label}` },
    svg('text', { x: left - 3, y: 9, class: 'axis', 'text-anchor': 'end' }, String(max)),
    svg('text', { x: left - 3, y: plotH, class: 'axis', 'text-anchor': 'end' }, '0'),
    svg('line', { x1: left, y1: plotH + 0.5, x2: left + plotW, y2: plotH + 0.5, class: 'axis-line' }),
    ...counts.map((c, i) => {
      const hgt = c === 0 ? 0 : Math.max(1, (c / max) * plotH);
      return svg('rect', { x: left + i * bar + 1, y: plotH - hgt, width: Math.max(1, bar - 2), height: hgt }, svg('title', {}, `≤ ${bucketsUs[i] ?? '∞'} µs: ${c}`));
    }),
    svg('text', { x: left, y: height - 1, class: 'axis' }, `≤${bucketsUs[0] ?? 1} µs`),
    svg('text', { x: left + plotW, y: height - 1, class: 'axis', 'text-anchor': 'end' }, `>${duration(last)}`),
  );
}

/** 16777216 µs as "16.8 s", 1500 as "1.5 ms". */
function duration(us: number): string {
  if (us >= 1e6) return `${(us / 1e6).toFixed(1)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(1)} ms`;
  return `${us} µs`;
}

function timeline(requests: TraceRequest[]): HTMLElement | null {
  const timed = requests.filter((r) => r.startUs !== null && r.latencyUs !== null);
  if (timed.length === 0) return h('p', {}, 'This trace has no timestamps.');
  const opcodes = [...new Set(timed.map((r) => r.opcode))];
  const end = Math.max(1, ...timed.map((r) => (r.startUs ?? 0) + (r.latencyUs ?? 0)));
  const rowH = 18;
  const labelW = 150;
  // As wide as the view (re-drawn with each trace), so the labels keep their size.
  const width = Math.max(480, document.body.clientWidth - 32);
  const plot = width - labelW - 10;
  const chart = svg(
    'svg',
    { class: 'timeline-chart', width, height: opcodes.length * rowH + 20, viewBox: `0 0 ${width} ${opcodes.length * rowH + 20}`, role: 'group', 'aria-label': `${timed.length} requests over ${end} µs` },
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
      rect.addEventListener('click', () => showBelowChart(rect, r));
      rect.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          showBelowChart(rect, r);
        }
      });
      return rect;
    }),
    svg('text', { x: labelW, y: opcodes.length * rowH + 15, class: 'axis' }, '0'),
    svg('text', { x: width - 10, y: opcodes.length * rowH + 15, class: 'axis', 'text-anchor': 'end' }, `${end} µs`),
  );
  return h('div', { class: 'chart' }, chart, h('div', { class: 'chart-details', attrs: { 'aria-live': 'polite' } }));
}

function showBelowChart(bar: SVGElement, r: TraceRequest): void {
  const box = bar.closest('.chart')?.querySelector('.chart-details');
  box?.replaceChildren(requestDetails(r));
}

/** uPlot's chart of latency against time, and under it the requests a drag selected. */
function latencyOverTime(requests: TraceRequest[]): HTMLElement | null {
  if (!requests.some((r) => r.startUs !== null && r.latencyUs !== null)) return null;
  const box = h('div', { class: 'latency-chart', attrs: { role: 'img', 'aria-label': 'Latency of each request against the time it was sent, per opcode' } });
  const picked = h('div', { class: 'selection', attrs: { 'aria-live': 'polite' } });
  latencyChart(box, requests, requestLabel, (chosen, from, to) =>
    picked.replaceChildren(
      h('h3', {}, `${chosen.length} request${chosen.length === 1 ? '' : 's'} sent from ${from.toFixed(3)} to ${to.toFixed(3)} ms`),
      chosen.length > 0 ? h('div', { class: 'scroll' }, requestTable(chosen.slice(0, 200))) : h('p', {}, 'None.'),
    ),
  );
  return h('div', {}, box, picked);
}

function requestTable(requests: TraceRequest[]): HTMLElement {
  const columns = ['Opcode', 'File', 'Process', 'Latency µs', 'Result', 'Unique'];
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, ...columns.map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    h(
      'tbody',
      {},
      ...requests.map((r) => {
        const row = h(
          'tr',
          { class: r.error !== 0 ? 'request failed' : 'request', attrs: { tabindex: '0', role: 'button', 'aria-expanded': 'false', 'aria-label': requestLabel(r) } },
          h('td', {}, r.opcode),
          h('td', { class: 'file' }, fileText(r)),
          h('td', {}, processText(r)),
          h('td', { class: 'num' }, r.latencyUs === null ? '—' : String(r.latencyUs)),
          h('td', { class: r.error !== 0 ? 'errno' : '' }, resultText(r)),
          h('td', { class: 'num' }, String(r.unique)),
        );
        onActivate(row, () => toggleDetailsRow(row, r, columns.length));
        return row;
      }),
    ),
  );
}

/** Failures by opcode and errno, most frequent first; a row opens the first request of its group. */
function failureTable(groups: FailureGroup[]): HTMLElement {
  const columns = ['Opcode', 'Errno', 'Count', 'First: file', 'First: process'];
  return h(
    'table',
    { class: 'data' },
    h('thead', {}, h('tr', {}, ...columns.map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    h(
      'tbody',
      {},
      ...groups.map((g) => {
        const row = h(
          'tr',
          { class: 'request failed', attrs: { tabindex: '0', role: 'button', 'aria-expanded': 'false', 'aria-label': `${g.count} × ${g.opcode} ${g.errno}` } },
          h('td', {}, g.opcode),
          h('td', { class: 'errno' }, g.errno),
          h('td', { class: 'num' }, String(g.count)),
          h('td', { class: 'file' }, fileText(g.first)),
          h('td', {}, processText(g.first)),
        );
        onActivate(row, () => toggleDetailsRow(row, g.first, columns.length));
        return row;
      }),
    ),
  );
}

function onActivate(el: HTMLElement, act: () => void): void {
  el.addEventListener('click', act);
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      act();
    }
  });
}

/** Opens (or closes) the request's details in a row right under the clicked one. */
function toggleDetailsRow(row: HTMLTableRowElement, r: TraceRequest, span: number): void {
  const next = row.nextElementSibling;
  if (next?.classList.contains('details-row')) {
    next.remove();
    row.setAttribute('aria-expanded', 'false');
    return;
  }
  const cell = h('td', { attrs: { colspan: String(span) } }, requestDetails(r));
  row.after(h('tr', { class: 'details-row' }, cell));
  row.setAttribute('aria-expanded', 'true');
}

/** pid 0: the kernel sent the request itself (FORGET, INTERRUPT, writeback, readahead). */
function processText(r: TraceRequest): string {
  if (r.pid === 0) return 'kernel';
  if (r.pid === null) return '—';
  return r.comm ? `${r.pid} ${r.comm}` : String(r.pid);
}

function fileText(r: TraceRequest): string {
  // Node id 0 is no node: FUSE_INIT and the other connection-wide requests.
  if (r.nodeid === null || String(r.nodeid) === '0') return '—';
  return r.file !== undefined ? r.file : `node ${r.nodeid}`;
}

function resultText(r: TraceRequest): string {
  return r.error === 0 ? 'ok' : `${r.errno ?? 'error'} (${r.error})`;
}

/** A request as named fields a person reads, not the wire's. */
function requestDetails(r: TraceRequest): HTMLElement {
  const fields: [string, string][] = [
    ['Request', `${r.opcode} #${r.unique}`],
    ['File', fileText(r) === '—' ? '—' : r.file !== undefined ? `${r.file} (node id ${r.nodeid})` : `node id ${r.nodeid} (no LOOKUP in the trace named it)`],
    ['Sent by', r.pid === 0 ? 'the kernel itself (pid 0)' : processText(r)],
    ['Sent at', r.startUs === null ? 'unknown (no timestamps)' : `${(r.startUs / 1000).toFixed(3)} ms after the first request`],
    ['Took', r.latencyUs === null ? 'unknown (no reply seen)' : duration(r.latencyUs)],
    ['Result', r.error === 0 ? 'ok' : `${r.errno ?? 'error'} (${r.error})`],
    ['Connection', r.connection === null ? '—' : String(r.connection)],
  ];
  return h('dl', { class: 'facts request-details', attrs: { 'aria-label': `${r.opcode} #${r.unique}` } }, ...fields.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

/**
 * Refused opens, proven or possible. The facts in a row; under it, across the whole table, `Why`:
 * what the stream shows, then the other reading and the backing failure before it (so the
 * long text wraps to any width instead of widening the table).
 */
function denialTable(denials: DenialReport[], none: string): HTMLElement {
  if (denials.length === 0) return h('p', {}, none);
  const columns = ['Inode', 'Name', 'Pid', 'OPEN', 'RELEASE', 'Rule'];
  return h(
    'table',
    { class: 'data denials' },
    h('thead', {}, h('tr', {}, ...columns.map((t) => h('th', { attrs: { scope: 'col' } }, t)))),
    ...denials.map((d) =>
      h(
        'tbody',
        { class: 'denial' },
        h(
          'tr',
          { class: 'request failed' },
          h('td', { class: 'num' }, String(d.nodeid ?? '—')),
          h('td', { class: 'file' }, d.name ?? '—'),
          h('td', { class: 'num' }, d.pid === 0 ? 'kernel' : String(d.pid ?? '—')),
          h('td', { class: 'num' }, String(d.unique)),
          h('td', { class: 'num' }, d.releaseUnique === null ? '—' : String(d.releaseUnique)),
          h('td', { class: 'file' }, d.rule ?? '—'),
        ),
        h(
          'tr',
          { class: 'why-row' },
          h('td', { class: 'why', attrs: { colspan: String(columns.length) } }, [`Why: ${d.why}`, d.note && `But: ${d.note}`, d.cause && `After: ${d.cause}`].filter(Boolean).join('\n')),
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
  return `${r.opcode} #${r.unique} from ${r.pid === 0 ? 'the kernel' : `pid ${r.pid ?? '?'}`}${r.file !== undefined ? ` on ${r.file}` : ''}: ${r.latencyUs ?? '?'} µs${r.error !== 0 ? `, ${r.errno ?? 'error'} (${r.error})` : ''}`;
}

vscode.postMessage({ type: 'ready' });
