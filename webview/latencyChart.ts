// Latency over time, one series of points per opcode, with uPlot (fast at a
// million points, zoom and drag-select built in). Dragging across the chart
// selects the requests sent in that span; `onSelect` lists them. Colours come
// from the theme's chart colours, so light, dark and high contrast all work.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TraceRequest } from '../protocol/messages';

const PALETTE = ['blue', 'orange', 'green', 'purple', 'red', 'yellow'];

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/**
 * The chart in `box` (drawn at its width, redrawn when it changes). x: ms since the first
 * request; y: latency in µs on a log scale.
 */
export function latencyChart(box: HTMLElement, requests: TraceRequest[], onSelect: (picked: TraceRequest[], fromMs: number, toMs: number) => void): void {
  const timed = requests.filter((r) => r.startUs !== null && r.latencyUs !== null).sort((a, b) => a.startUs! - b.startUs!);
  if (timed.length === 0) return;
  const opcodes = [...new Set(timed.map((r) => r.opcode))];
  const xs = timed.map((r) => r.startUs! / 1000);
  const ys = opcodes.map((op) => timed.map((r) => (r.opcode === op ? Math.max(1, r.latencyUs!) : null)));
  const axis = themeColor('--vscode-descriptionForeground', '#888');
  const grid = themeColor('--vscode-editorGroup-border', '#8884');
  const opts: uPlot.Options = {
    width: Math.max(320, box.clientWidth),
    height: 220,
    // Explicit ranges: uPlot's own for a log scale whose values span less than a decade, or an
    // x span of zero (one request), can spin; whole decades and a 1 ms minimum span cannot.
    scales: {
      x: { time: false, range: (_u, min, max) => [min, Math.max(max, min + 1)] },
      y: { distr: 3, range: (_u, min, max) => [10 ** Math.floor(Math.log10(Math.max(1, min))), 10 ** Math.max(Math.ceil(Math.log10(Math.max(1, max))), Math.floor(Math.log10(Math.max(1, min))) + 1)] },
    },
    axes: [
      { label: 'sent at (ms since the first request)', stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid } },
      { label: 'latency (µs, log)', stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid } },
    ],
    cursor: { drag: { x: true, y: false, setScale: false } },
    series: [
      { label: 'ms' },
      ...opcodes.map((op, i) => ({
        label: op,
        stroke: themeColor(`--vscode-charts-${PALETTE[i % PALETTE.length]}`, '#36c'),
        paths: () => null,
        points: { show: true, size: 5 },
      })),
    ],
    hooks: {
      setSelect: [
        (u: uPlot) => {
          if (u.select.width <= 0) return;
          const from = u.posToVal(u.select.left, 'x');
          const to = u.posToVal(u.select.left + u.select.width, 'x');
          onSelect(timed.filter((r) => r.startUs! / 1000 >= from && r.startUs! / 1000 <= to), from, to);
        },
      ],
    },
  };
  const plot = new uPlot(opts, [xs, ...ys] as uPlot.AlignedData, box);
  // Redrawn only when the box's width really changed: a redraw that toggled the page's
  // scrollbar would otherwise resize the box again, in a loop that starves the editor.
  let width = opts.width;
  new ResizeObserver(() => {
    const now = Math.max(320, box.clientWidth);
    if (Math.abs(now - width) < 24) return;
    width = now;
    plot.setSize({ width, height: 220 });
  }).observe(box);
}
