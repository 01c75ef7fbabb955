// An array with a part replaced, made in one copy (`slice().concat()` or
// `slice().splice()` copy it twice or three times): a document's line ends when
// they are mixed (document-lines.ts). The long lists a document keeps per version
// (lines, statements, steps, diagnostics) are chunked instead (chunked-list.ts).

/** `items` with [start, end) replaced by `middle`, as a new array (one copy). */
export function spliced<T>(items: readonly T[], start: number, end: number, middle: readonly T[]): T[] {
  const out = new Array<T>(items.length - (end - start) + middle.length);
  let k = 0;
  for (let i = 0; i < start; i++) out[k++] = items[i]!;
  for (let i = 0; i < middle.length; i++) out[k++] = middle[i]!;
  for (let i = end; i < items.length; i++) out[k++] = items[i]!;
  return out;
}
