// Where a scenario's lines are: the one definition of a line end (\n, \r\n or \r), read by
// the parser (forEachLine, and streamScenario's two passes over a text's spans).

/** Each line of `text` as its offsets [from, to), and its 0-based number; returns how many lines there are. */
export function forEachLineSpan(text: string, visit: (from: number, to: number, n: number) => void): number {
  let from = 0;
  let n = 0;
  if (!text.includes('\r')) {
    // Only \n ends lines: indexOf finds each end faster than the expression below.
    for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', from)) {
      visit(from, at, n++);
      from = at + 1;
    }
    visit(from, text.length, n);
    return n + 1;
  }
  const end = /\r\n|\r|\n/g;
  for (let m = end.exec(text); m !== null; m = end.exec(text)) {
    visit(from, m.index, n++);
    from = end.lastIndex;
  }
  visit(from, text.length, n);
  return n + 1;
}
