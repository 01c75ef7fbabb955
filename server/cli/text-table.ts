// Column widths of the CLI's text tables, by a loop: a table may have a row per
// step of a million-step scenario, and spreading that many arguments into
// Math.max overflows the stack (issue 15: `RangeError: Maximum call stack size exceeded`).

/** The widest cell of each of the first `columns` columns (a missing cell counts as empty). */
export function columnWidths(rows: readonly (readonly string[])[], columns: number): number[] {
  const widths = new Array<number>(columns).fill(0);
  for (const row of rows) for (let c = 0; c < columns; c++) widths[c] = Math.max(widths[c]!, (row[c] ?? '').length);
  return widths;
}
