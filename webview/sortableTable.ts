// A data table from @vscode-elements/elements (VS Code's look, themes, column
// resizing, a stacked layout when narrow) whose columns sort on a click or on
// Enter/Space on their header. Cells are text nodes only: nothing a process or
// a file is called can become markup, and control characters read as escapes
// (protocol/inert-text.ts).

import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import { inertText } from '../protocol/inert-text';

/** One column: its header, how wide it starts, how its cells read and sort. */
export interface Column<T> {
  label: string;
  /**
   * Initial width as vscode-table takes it: `"72px"` for a number that must never be cut,
   * `"auto"` for text that shares the rest (and wraps, with `wrap`).
   */
  width: string;
  text: (row: T) => string;
  /** Sort key; numbers sort numerically. Defaults to `text`. */
  key?: (row: T) => string | number | bigint;
  /** Let the cell's text wrap rather than end in an ellipsis (long notes). */
  wrap?: boolean;
}

interface SortState {
  column: number;
  descending: boolean;
}

/** Sort order per table name, kept across refreshes. */
const sortStates = new Map<string, SortState>();

/**
 * A table named `name` (its accessible label; sort order survives a refresh of the data).
 * Below `breakpoint` px the rows stack, each cell under its column's name.
 */
export function sortableTable<T>(name: string, columns: Column<T>[], rows: T[]): HTMLElement {
  const table = document.createElement('vscode-table');
  table.setAttribute('aria-label', name);
  table.setAttribute('zebra', '');
  table.setAttribute('bordered-rows', '');
  table.setAttribute('resizable', '');
  table.setAttribute('responsive', '');
  table.setAttribute('breakpoint', '520');
  table.setAttribute('columns', JSON.stringify(columns.map((c) => c.width)));
  table.classList.add('data');

  const header = document.createElement('vscode-table-header');
  header.setAttribute('slot', 'header');
  const body = document.createElement('vscode-table-body');
  body.setAttribute('slot', 'body');
  table.append(header, body);

  const state = sortStates.get(name);
  const cells = columns.map((column, i) => {
    const cell = document.createElement('vscode-table-header-cell');
    cell.classList.add('sortable');
    cell.setAttribute('tabindex', '0');
    cell.setAttribute('role', 'columnheader');
    cell.title = `Sort by ${column.label}`;
    cell.append(document.createTextNode(column.label));
    const arrow = document.createElement('span');
    arrow.className = 'sort-arrow';
    arrow.setAttribute('aria-hidden', 'true');
    cell.append(arrow);
    const sort = () => {
      const now = sortStates.get(name);
      sortStates.set(name, { column: i, descending: now?.column === i ? !now.descending : false });
      fill();
    };
    cell.addEventListener('click', sort);
    cell.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        sort();
      }
    });
    header.append(cell);
    return cell;
  });

  const fill = () => {
    const s = sortStates.get(name);
    const sorted = s ? sortRows(rows, columns[s.column]!, s.descending) : rows;
    cells.forEach((cell, i) => {
      const sorting = s?.column === i;
      cell.setAttribute('aria-sort', sorting ? (s.descending ? 'descending' : 'ascending') : 'none');
      cell.querySelector('.sort-arrow')!.textContent = sorting ? (s.descending ? ' ▼' : ' ▲') : '';
    });
    body.replaceChildren(
      ...sorted.map((row) => {
        const tr = document.createElement('vscode-table-row');
        for (const column of columns) {
          const td = document.createElement('vscode-table-cell');
          const text = inertText(column.text(row));
          td.append(document.createTextNode(text));
          td.title = text;
          if (column.wrap) td.classList.add('wrap');
          tr.append(td);
        }
        return tr;
      }),
    );
  };
  if (state) sortStates.set(name, state);
  fill();
  return table;
}

function sortRows<T>(rows: T[], column: Column<T>, descending: boolean): T[] {
  const key = column.key ?? column.text;
  const sign = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    const order = typeof ka === 'string' || typeof kb === 'string' ? String(ka).localeCompare(String(kb)) : ka < kb ? -1 : ka > kb ? 1 : 0;
    return sign * order;
  });
}
