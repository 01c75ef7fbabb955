// server/cli/chunked-output.ts against the string operations it stands in for:
// rows padded with padEnd and trimmed with trimEnd, then encoded as UTF-8; JSON
// text through jsonInert; values through writeJson against JSON.stringify. Cells mix
// ASCII, multi-byte text, Unicode white space and strings long enough to be gathered
// as text, over many chunks. And `simulate` through a
// CliIo that takes only text (the tests' in-process runs) against the binary's bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ChunkedOutput } from '../../server/cli/chunked-output';
import { jsonInert } from '../../server/cli/terminal-text';
import { cli } from '../support/cli';

const CELLS = ['', 'ok', 'blocks → ok at line 34', 'EIO (ETXTBSY)', 'é', '\u00a0', 'a\u3000', 'x ', '\t', '🙂', 'f0=caching(1)', 'a'.repeat(40), `${'b'.repeat(33)}\u2003`];

/** A seeded choice, so a failure can be replayed. */
function picker(seed: number): () => string {
  let a = seed;
  return () => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return CELLS[a % CELLS.length]!;
  };
}

function collect(finish?: (text: string) => string): { out: ChunkedOutput; bytes: () => Buffer; chunks: () => number } {
  const chunks: Buffer[] = [];
  const out = new ChunkedOutput((b) => chunks.push(Buffer.from(b)), finish);
  return { out, bytes: () => Buffer.concat(chunks), chunks: () => chunks.length };
}

test('table rows written cell by cell equal the rows padded, trimmed and encoded as text', () => {
  const pick = picker(7);
  const widths = [6, 4, 12, 3];
  const { out, bytes, chunks } = collect();
  let expected = '';
  for (let r = 0; r < 20_000; r++) {
    const row = [pick(), pick(), pick(), pick(), pick()];
    const padded = row.slice(0, 4).map((c, i) => c.padEnd(widths[i]!)).join('  ') + '  ' + row[4];
    expected += padded.trimEnd() + '\n';
    const start = out.position;
    for (let c = 0; c < 4; c++) {
      out.append(row[c]!);
      out.spaces(Math.max(0, widths[c]! - row[c]!.length) + 2);
    }
    out.append(row[4]!);
    out.trimEnd(start);
    out.write('\n');
  }
  out.flush();
  assert.ok(chunks() > 3, `${chunks()} chunks`);
  assert.ok(bytes().equals(Buffer.from(expected)));
});

test('JSON text: jsonInert applied to chunks with DEL or non-ASCII, others handed on as they are', () => {
  const { out, bytes } = collect(jsonInert);
  let text = '';
  for (let r = 0; r < 20_000; r++) {
    const piece = (r === 0 ? '\n' : ',\n') + JSON.stringify({ line: r, name: r % 5000 === 17 ? 'del\u007f' : r % 5000 === 2500 ? 'c1\u009b bidi\u202e' : `f${r}` });
    text += piece;
    out.write(piece);
  }
  out.flush();
  assert.ok(bytes().equals(Buffer.from(jsonInert(text))));
  assert.ok(!bytes().includes(0x7f), 'DEL, alone in its chunk, written as \\u007f');
});

test('writeJson writes the bytes of JSON.stringify: escapes, non-ASCII, lone surrogates, numbers, left-out values, over many chunks', () => {
  const strings = ['', 'f0', 'quote " and \\ back', 'tab\tnew\nline\u0001\u001f', 'é 🙂', '\ud800 alone', 'c1\u009b del\u007f', 'x'.repeat(300)];
  const numbers = [0, -0, 7, 123456789, 2 ** 31, -3, 1.5, 1e21, 1e-7, NaN, Infinity, Number.MAX_SAFE_INTEGER];
  const values: unknown[] = [];
  for (let r = 0; r < 5_000; r++) {
    values.push({
      line: numbers[r % numbers.length],
      [strings[r % strings.length]!]: strings[(r + 3) % strings.length],
      gone: undefined,
      fn: () => 1,
      list: [r % 2 === 0, null, undefined, strings[(r + 5) % strings.length], { n: numbers[(r + 1) % numbers.length] }],
      empty: Object.freeze({}),
      bare: Object.assign(Object.create(null) as object, { '2': 'b', '1': 'a', z: 1 }),
      map: new Map([[1, 2]]),
    });
  }
  const { out, bytes, chunks } = collect();
  let expected = '';
  for (const v of values) {
    out.writeJson(v);
    out.write('\n');
    expected += JSON.stringify(v) + '\n';
  }
  out.flush();
  assert.ok(chunks() > 3, `${chunks()} chunks`);
  assert.ok(bytes().equals(Buffer.from(expected)));
});

test('simulate through a CliIo without stdoutBytes (text only) writes what the binary writes as bytes', async () => {
  const root = join(__dirname, '..', '..');
  const file = join(root, 'test', 'scenarios', 'blocked-write-completes.fusesim');
  for (const args of [['simulate', file], ['simulate', '--json', file]]) {
    const inProcess = await cli(args);
    const binary = spawnSync(join(root, 'bin', 'fuselens'), args);
    assert.equal(inProcess.code, binary.status);
    assert.ok(Buffer.from(inProcess.out).equals(binary.stdout), args.join(' '));
  }
  assert.match((await cli(['simulate', file])).out, /blocks → /);
});
