// Small DOM helpers shared by the webview scripts. No innerHTML: text goes in
// as text, so nothing from a scenario or a trace can become markup.

export interface VsCodeApi<T> {
  postMessage(message: T): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi<T>(): VsCodeApi<T>;

export function vscodeApi<T>(): VsCodeApi<T> {
  return acquireVsCodeApi<T>();
}

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; title?: string; attrs?: Record<string, string> } = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.title) el.title = props.title;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

export function replaceApp(...children: (Node | null)[]): HTMLElement {
  const app = document.getElementById('app');
  if (!app) throw new Error('webview: #app is missing');
  app.replaceChildren(...children.filter((c): c is Node => c !== null));
  return app;
}
