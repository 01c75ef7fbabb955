// The simulation timeline: one row per step, one column per inode, each cell
// the inode's mode and iocachectr after that step. Denied and blocked steps
// are highlighted with their errno. A row is a button: click, Enter or Space
// reveals its line; ↑/↓/Home/End move between rows. After "Run Scenario on
// This Kernel" a Kernel column stands beside the Simulated one.

import type { StepResult } from '../protocol/scenario';
import type { FromTimeline, Simulation, ToTimeline } from '../protocol/webview';
import type { RunReport } from '../protocol/messages';
import { inertText } from '../protocol/inert-text';
import { h, replaceApp, vscodeApi } from './dom';

const vscode = vscodeApi<FromTimeline>();
let currentLine = 0;

window.addEventListener('message', (event: MessageEvent<ToTimeline>) => {
  const m = event.data;
  switch (m.type) {
    case 'simulation':
      render(m.fileName, m.simulation, m.run, m.written);
      break;
    case 'empty':
      replaceApp(h('p', { class: 'placeholder' }, m.message));
      break;
    case 'cursor':
      markCursor(m.line);
      break;
  }
});

function render(fileName: string, sim: Simulation, run: RunReport | null, written: Record<number, string>): void {
  const inodes = inodeNames(sim.steps);
  const kernelByLine = new Map(run?.steps.map((s) => [s.line, s]) ?? []);
  const denied = sim.steps.filter((s) => isDenied(s.outcome)).length;
  const blocked = sim.steps.filter((s) => s.outcome === 'blocks').length;

  const header = h(
    'header',
    { class: 'summary' },
    h('h1', {}, fileName),
    h(
      'p',
      {},
      `Kernel ${sim.kernel} rules · ${sim.steps.length} steps · `,
      h('span', { class: denied > 0 ? 'count denied' : 'count' }, `${denied} denied`),
      ' · ',
      h('span', { class: blocked > 0 ? 'count blocked' : 'count' }, `${blocked} blocking`),
      run ? ` · ran on ${run.kernelRelease}: ${run.differences} difference${run.differences === 1 ? '' : 's'}` : '',
    ),
  );

  const headRow = h(
    'tr',
    {},
    h('th', { attrs: { scope: 'col' } }, 'Line'),
    h('th', { attrs: { scope: 'col' } }, 'Process'),
    h('th', { attrs: { scope: 'col' } }, 'Step'),
    h('th', { attrs: { scope: 'col' } }, run ? 'Simulated' : 'Outcome'),
    run ? h('th', { attrs: { scope: 'col' } }, 'Kernel') : null,
    ...inodes.map((name) => h('th', { class: 'inode', attrs: { scope: 'col' } }, name)),
  );

  const rows = sim.steps.map((step) => {
    const kernel = kernelByLine.get(step.line);
    const differs = kernel?.differs ?? false;
    const classes = ['step'];
    if (isDenied(step.outcome)) classes.push('step-denied');
    if (step.outcome === 'blocks') classes.push('step-blocked');
    if (step.outcome === 'skipped') classes.push('step-skipped');
    if (differs) classes.push('step-differs');
    const row = h(
      'tr',
      {
        class: classes.join(' '),
        title: stepTitle(step),
        attrs: { tabindex: '-1', 'data-line': String(step.line), role: 'button', 'aria-label': `Line ${step.line}: ${step.process} ${step.action} ${step.target}, ${step.outcome}` },
      },
      h('td', { class: 'line' }, String(step.line)),
      h('td', {}, step.process),
      h('td', { class: 'step-text' }, asWritten(written[step.line]) ?? `${step.action} ${step.target}`),
      h('td', { class: 'outcome' }, outcomeCell(step)),
      run ? h('td', { class: differs ? 'outcome differs' : 'outcome', title: kernel?.note ?? '' }, kernel?.outcome ?? '—', differs ? ' ≠' : '') : null,
      ...inodes.map((name) => {
        const snap = step.inodes[name];
        if (!snap) return h('td', { class: 'cell' }, '');
        return h(
          'td',
          { class: `cell mode-${snap.mode}`, title: `${name}: ${snap.mode}, iocachectr ${snap.iocachectr}${snap.backing ? `, backing ${snap.backing}` : ''}` },
          h('span', { class: 'mode' }, snap.mode),
          ' ',
          h('span', { class: 'ctr' }, String(snap.iocachectr)),
          snap.backing ? h('span', { class: 'backing' }, ` ⇢${snap.backing}`) : null,
        );
      }),
    );
    row.addEventListener('click', () => reveal(step.line));
    row.addEventListener('keydown', (e) => onRowKey(e, row, step.line));
    return row;
  });
  // The first row is the tab stop; arrows move within the table (roving tabindex).
  rows[0]?.setAttribute('tabindex', '0');

  const table = h(
    'table',
    { class: 'timeline', attrs: { 'aria-label': 'Simulation steps; Enter reveals the line' } },
    h('thead', {}, headRow),
    h('tbody', {}, ...rows),
  );
  const legend = h(
    'p',
    { class: 'legend' },
    'Each cell: the inode’s io mode and iocachectr after the step (>0 caching opens, <0 parallel direct-I/O writes in flight); ',
    h('span', { class: 'backing' }, '⇢b1'),
    ': the inode is bound to backing b1 (passthrough). Rows: ',
    h('span', { class: 'swatch step-denied' }, 'denied'),
    ' ',
    h('span', { class: 'swatch step-blocked' }, 'blocks'),
    ' ',
    h('span', { class: 'swatch step-skipped' }, 'skipped'),
    run ? ' · ≠: the kernel’s outcome differs from the simulation.' : '',
  );
  // A wide table scrolls in its own box (the page never cuts a column); the legend stays in view.
  replaceApp(header, sim.steps.length === 0 ? h('p', { class: 'placeholder' }, 'No steps yet.') : h('div', { class: 'scroll' }, table), legend);
  markCursor(currentLine);
}

/** The step's source line without its `PROC:` prefix (the Process column), outcome (`=> …`) or comment. */
function asWritten(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  const text = line.replace(/#.*$/, '').replace(/=>.*$/, '').replace(/^\s*[A-Za-z_][\w.-]*:\s*/, '').trim();
  return text === '' ? undefined : inertText(text);
}

function outcomeCell(step: StepResult): Node {
  const span = h('span', { class: 'errno' }, step.outcome);
  const parts: (Node | string)[] = [span];
  if (step.reason && step.reason !== step.outcome) parts.push(h('span', { class: 'reason' }, ` (${step.reason})`));
  if (step.outcome === 'blocks') {
    parts.push(h('span', { class: 'reason' }, step.completedAt ? ` → ${step.finalOutcome ?? '?'} at line ${step.completedAt}` : ' → never wakes'));
  }
  return h('span', {}, ...parts);
}

function stepTitle(step: StepResult): string {
  const lines = [`Line ${step.line}: ${step.process}: ${step.action} ${step.target} → ${step.outcome}`];
  if (step.reason) lines.push(`inside the kernel: ${step.reason}`);
  if (step.rule) lines.push(`rule: ${step.rule}`);
  return lines.join('\n');
}

function isDenied(outcome: string): boolean {
  return outcome !== 'ok' && outcome !== 'blocks' && outcome !== 'skipped';
}

function inodeNames(steps: StepResult[]): string[] {
  const names = new Set<string>();
  for (const s of steps) for (const n of Object.keys(s.inodes)) names.add(n);
  return [...names];
}

function reveal(line: number): void {
  vscode.postMessage({ type: 'reveal', line });
}

function onRowKey(e: KeyboardEvent, row: HTMLTableRowElement, line: number): void {
  const rows = Array.from(document.querySelectorAll<HTMLTableRowElement>('tr.step'));
  const i = rows.indexOf(row);
  let next: HTMLTableRowElement | undefined;
  switch (e.key) {
    case 'Enter':
    case ' ':
      e.preventDefault();
      reveal(line);
      return;
    case 'ArrowDown':
      next = rows[i + 1];
      break;
    case 'ArrowUp':
      next = rows[i - 1];
      break;
    case 'Home':
      next = rows[0];
      break;
    case 'End':
      next = rows[rows.length - 1];
      break;
    default:
      return;
  }
  e.preventDefault();
  if (next) {
    row.setAttribute('tabindex', '-1');
    next.setAttribute('tabindex', '0');
    next.focus();
  }
}

/** Marks the row of the editor's current line (the step at or before it). */
function markCursor(line: number): void {
  currentLine = line;
  const rows = Array.from(document.querySelectorAll<HTMLTableRowElement>('tr.step'));
  let match: HTMLTableRowElement | undefined;
  for (const row of rows) {
    row.classList.remove('current');
    if (Number(row.dataset['line']) <= line) match = row;
  }
  if (match && Number(match.dataset['line']) === line) {
    match.classList.add('current');
    match.scrollIntoView({ block: 'nearest' });
  }
}

vscode.postMessage({ type: 'ready' });
