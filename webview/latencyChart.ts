// Latency over time, one series of points per opcode, with uPlot (fast at a
// million points, zoom and drag-select built in). Dragging across the chart
// selects the requests sent in that span; `onSelect` lists them. Colours come
// from the theme's chart colours, so light, dark and high contrast all work.

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TraceRequest } from '../protocol/messages';

// Each theme colour with its own stand-in: high contrast themes define no `charts.orange`
// (VS Code derives it from editor.findMatchHighlightBackground, null there), and one shared
// stand-in drew two opcodes in the same blue.
const PALETTE: [name: string, fallback: string][] = [
  ['blue', '#59a4f9'],
  ['orange', '#d18616'],
  ['green', '#89d185'],
  ['purple', '#b180d7'],
  ['red', '#f14c4c'],
  ['yellow', '#cca700'],
];
const HEIGHT = 220;

function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** A CSS colour (here a mix of the text colour, which is the theme's foreground) resolved to the rgb() a canvas takes. */
function cssColor(value: string): string {
  const probe = document.createElement('span');
  probe.style.color = value;
  document.body.append(probe);
  const resolved = getComputedStyle(probe).color;
  probe.remove();
  return resolved;
}

/**
 * An axis as wide as its longest tick label ("10,000" does not fit uPlot's fixed 50 px and ran
 * into the axis title). uPlot sizes axes in cycles until they settle; from the second cycle on
 * the size is kept, so labels that change with the size cannot make it cycle forever.
 */
function fitTickLabels(u: uPlot, values: string[] | null, axisIdx: number, cycleNum: number): number {
  const axis = u.axes[axisIdx]!;
  if (cycleNum > 1) return (axis as { _size?: number })._size ?? 50;
  const longest = (values ?? []).reduce((a, v) => (v.length > a.length ? v : a), '');
  u.ctx.font = axis.font?.[0] ?? u.ctx.font;
  return Math.ceil((axis.ticks?.size ?? 10) + (axis.gap ?? 5) + u.ctx.measureText(longest).width / devicePixelRatio);
}

/**
 * The chart in `box`, drawn as soon as the box has a width and redrawn when that width changes.
 * x: ms since the first request; y: latency in µs on a log scale. Under the plot, the request
 * under the pointer as `describe` words it; the legend is a key only (opcode and colour): with
 * one request per x value, uPlot's live legend values are empty for all but one opcode at a time,
 * and its number (µs, without the request) says less than the line under the plot.
 */
export function latencyChart(
  box: HTMLElement,
  requests: TraceRequest[],
  describe: (r: TraceRequest) => string,
  onSelect: (picked: TraceRequest[], fromMs: number, toMs: number) => void,
): void {
  const timed = requests.filter((r) => r.startUs !== null && r.latencyUs !== null).sort((a, b) => a.startUs! - b.startUs!);
  if (timed.length === 0) return;
  const opcodes = [...new Set(timed.map((r) => r.opcode))];
  const xs = timed.map((r) => r.startUs! / 1000);
  const ys = opcodes.map((op) => timed.map((r) => (r.opcode === op ? Math.max(1, r.latencyUs!) : null)));
  const pointed = document.createElement('p');
  pointed.className = 'pointed';
  pointed.setAttribute('aria-live', 'polite');
  // The theme's colours as they are now: read again when the theme changes.
  const options = (width: number): uPlot.Options => {
    const axis = themeColor('--vscode-descriptionForeground', '#888');
    // Faint in every theme: high contrast's border colour would draw the grid over the points.
    const grid = cssColor('color-mix(in srgb, currentColor 15%, transparent)');
    return {
      width,
      height: HEIGHT,
      legend: { live: false },
      // Explicit ranges: whole decades on the log scale and at least 1 ms across, so a trace whose
      // latencies span less than a decade, or a single request, still gets labelled axes.
      scales: {
        x: { time: false, range: (_u, min, max) => [min, Math.max(max, min + 1)] },
        y: { distr: 3, range: (_u, min, max) => [10 ** Math.floor(Math.log10(Math.max(1, min))), 10 ** Math.max(Math.ceil(Math.log10(Math.max(1, max))), Math.floor(Math.log10(Math.max(1, min))) + 1)] },
      },
      axes: [
        { label: 'sent at (ms since the first request)', stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid } },
        { label: 'latency (µs, log)', stroke: axis, grid: { stroke: grid }, ticks: { stroke: grid }, size: fitTickLabels },
      ],
      cursor: { drag: { x: true, y: false, setScale: false } },
      series: [
        { label: 'ms' },
        ...opcodes.map((op, i) => {
          const [name, fallback] = PALETTE[i % PALETTE.length]!;
          const colour = themeColor(`--vscode-charts-${name}`, fallback);
          // Filled dots: a 1 px ring in the theme's colour is hard to see, in high contrast too.
          return { label: op, stroke: colour, paths: () => null, points: { show: true, size: 5, fill: colour } };
        }),
      ],
      hooks: {
        setCursor: [
          (u: uPlot) => {
            const r = u.cursor.idx === null || u.cursor.idx === undefined ? undefined : timed[u.cursor.idx];
            pointed.textContent = r ? describe(r) : '';
          },
        ],
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
  };
  // Drawn on the first width the box reports, not before: a webview laid out at 0 px (opened in a
  // hidden group, or before the editor gives it room) would draw at a guessed width and redraw.
  // Redrawn only when the width really changed: a redraw that toggled the page's scrollbar would
  // otherwise resize the box again (media/webview.css also keeps the scrollbar's room).
  let plot: uPlot | undefined;
  const draw = () => {
    const width = box.clientWidth;
    if (width === 0) return;
    if (!plot) {
      plot = new uPlot(options(width), [xs, ...ys] as uPlot.AlignedData, box);
      box.append(pointed);
    } else if (Math.abs(width - plot.width) >= 24) {
      plot.setSize({ width, height: HEIGHT });
    }
  };
  new ResizeObserver(draw).observe(box);
  // uPlot takes its colours once, so a theme change draws the chart anew. VS Code's webview host
  // sets the theme's id on <body> and the theme's colours in the same step (pre/index.html
  // applyStyles), so the observer runs when both are in place; <body>'s classes also change when
  // a context menu shows, hence the id, not the class.
  new MutationObserver(() => {
    plot?.destroy();
    plot = undefined;
    pointed.textContent = '';
    draw();
  }).observe(document.body, { attributes: true, attributeFilter: ['data-vscode-theme-id'] });
}
