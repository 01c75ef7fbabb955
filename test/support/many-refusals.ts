// A tracefs capture of many proven refusals: the lab's recorded refused open (an OPEN by cat
// released at once), `count` times over after the FLUSH that proves each. Long captures hold one
// per open; the trace report lists the first listLimit and counts the rest.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The capture's text; its OPENs have the unique ids 100, 104, 108, … */
export function manyRefusalsFtrace(count: number): string {
  const lines = readFileSync(join(__dirname, '..', 'fixtures', 'trace', 'lab-refused-open.ftrace'), 'utf8').split('\n');
  const flush = lines.slice(9, 11).join('\n');
  const send = (unique: number, opcode: string) =>
    `             cat-4394    [000] ...1.  1313.000000: fuse_request_send: connection 42 req ${unique} opcode ${opcode} len 48 `;
  const end = (unique: number) => `            node-4337    [001] .....  1313.000100: fuse_request_end: connection 42 req ${unique} len 32 error 0`;
  const body = Array.from({ length: count }, (_, i) => {
    const u = 100 + i * 4;
    return [send(u, '14 (FUSE_OPEN)'), end(u), send(u + 2, '18 (FUSE_RELEASE)'), end(u + 2)].join('\n');
  });
  return [lines[0], flush, ...body, ''].join('\n');
}
