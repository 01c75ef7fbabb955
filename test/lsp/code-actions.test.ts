// Quick fixes through the real server: for each kind of denial or flag
// warning, the expected fix is offered, and EVERY fix offered is applied as
// an editor would (the workspace edit sent back as a didChange) and the
// server's next diagnostics no longer have the problem.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DiagnosticSeverity, type CodeAction, type Diagnostic } from 'vscode-languageserver-protocol';
import { freshUri, LspClient, ROOT, scenario, useSharedClient } from './client';
import { analyzeAfresh } from '../../server/lsp/analysis';
import { checkFixes } from '../../server/lsp/code-actions';

let c: LspClient;
useSharedClient((client) => (c = client));

interface Case {
  name: string;
  text: string;
  code: string;
  /** Titles that must be among the fixes. */
  expect: RegExp[];
}

const PT = 'init passthrough max_stack_depth=1';

const cases: Case[] = [
  {
    name: 'passthrough open while a caching open (and its mapping) holds the inode',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      open data.db as f1 reply keep_cache
      mmap f1 shared as m1
      open data.db as f2 reply passthrough backing=b1
    `,
    code: 'passthrough-open-on-caching-inode',
    expect: [/^Close and unmap f1 \(line 4\) first$/],
  },
  {
    name: 'passthrough open while a forked child still holds the caching file',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      open data.db as f1
      fork as child
      close f1
      open data.db as f2 reply passthrough backing=b1
    `,
    code: 'passthrough-open-on-caching-inode',
    expect: [/^Close f1 \(line 4\) first$/],
  },
  {
    name: 'passthrough open while a caching open that is used later holds the inode',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      open data.db as f1 reply keep_cache
      open data.db as f2 reply passthrough backing=b1
      read f1
      close f1
    `,
    code: 'passthrough-open-on-caching-inode',
    expect: [/^Reply passthrough with backing b1 to f1 \(line 4\) as well$/],
  },
  {
    name: 'cached open of a passthrough inode',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      open data.db as f1 reply passthrough backing=b1
      open data.db as f2 reply keep_cache
    `,
    code: 'cached-open-on-passthrough-inode',
    expect: [/^Reply passthrough with backing b1$/, /^Close f1 \(line 4\) first$/],
  },
  {
    name: 'shared mmap of a direct-io file without direct_io_allow_mmap (no init line)',
    text: scenario`
      file data.db
      open data.db as f1 reply direct_io
      mmap f1 shared as m1
    `,
    code: 'direct-io-shared-mmap-not-allowed',
    expect: [/^Enable direct_io_allow_mmap in FUSE_INIT$/, /^Map it private$/],
  },
  {
    name: 'shared mmap of a direct-io file without direct_io_allow_mmap (init line exists)',
    text: scenario`
      ${PT}
      file data.db
      open data.db as f1 reply direct_io
      mmap f1 shared as m1
    `,
    code: 'direct-io-shared-mmap-not-allowed',
    expect: [/^Enable direct_io_allow_mmap in FUSE_INIT$/],
  },
  {
    name: 'passthrough with keep_cache',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      open data.db as f1 reply passthrough keep_cache backing=b1
    `,
    code: 'passthrough-flag-combination',
    expect: [/^Drop keep_cache from the reply/],
  },
  {
    name: 'passthrough in a reply that FUSE_INIT did not enable',
    text: scenario`
      init direct_io_allow_mmap
      file data.db
      open data.db as f1 reply passthrough backing=1
    `,
    code: 'passthrough-not-negotiated',
    expect: [/^Drop passthrough from the reply$/],
  },
  {
    name: 'passthrough not negotiated, and the reply also carries keep_cache (a chained fix)',
    text: scenario`
      file data.db
      backing b1
      open data.db as f1 reply passthrough keep_cache backing=b1
    `,
    code: 'passthrough-not-negotiated',
    expect: [/^Enable passthrough in FUSE_INIT, and drop keep_cache/],
  },
  {
    name: 'writeback_cache turns passthrough off',
    text: scenario`
      ${PT} writeback_cache
      file data.db
    `,
    code: 'passthrough-disabled-by-writeback-cache',
    expect: [/^Drop writeback_cache/],
  },
  {
    name: 'parallel_direct_writes without direct_io',
    text: scenario`
      file data.db
      open data.db as f1 reply parallel_direct_writes
    `,
    code: 'parallel-writes-need-direct-io',
    expect: [/^Add direct_io to the reply$/, /^Drop parallel_direct_writes$/],
  },
  {
    name: 'a flag the chosen kernel does not know',
    text: scenario`
      kernel 6.12
      file data.db
      open data.db as f1 reply direct_io io_uring_zero_copy
    `,
    code: 'flag-unknown-to-kernel',
    expect: [/^Drop io_uring_zero_copy/],
  },
  {
    name: 'a bad backing id',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      open data.db as f1 reply passthrough backing=0
    `,
    code: 'passthrough-bad-backing-id',
    expect: [/^Reply backing=b1$/],
  },
  {
    name: 'a second backing for a bound inode',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      backing b2
      open data.db as f1 reply passthrough backing=b1
      open data.db as f2 reply passthrough backing=b2
    `,
    code: 'passthrough-conflicting-backing',
    expect: [/^Reply backing=b1 \(the backing the inode is bound to\)$/],
  },
  {
    name: 'a shared writable mapping of a read-only descriptor',
    text: scenario`
      file data.db
      open data.db as f1 rdonly
      mmap f1 shared write as m1
    `,
    code: 'mmap-access-mode',
    expect: [/^Open f1 rdwr \(line 2\)$/, /^Map it without write$/],
  },
  {
    name: 'a write through a read-only descriptor',
    text: scenario`
      file data.db
      open data.db as f1 rdonly
      write f1
    `,
    code: 'bad-file-descriptor',
    expect: [/^Open f1 rdwr \(line 2\)$/],
  },
  {
    name: 'a stated outcome that differs',
    text: scenario`
      ${PT}
      file data.db
      backing b1
      open data.db as f1
      open data.db as f2 reply passthrough backing=b1 => ok
    `,
    code: 'outcome-mismatch',
    expect: [/^Expect EIO/],
  },
  {
    name: 'the example examples/try-quick-fix.fusesim',
    text: readFileSync(join(ROOT, 'examples', 'try-quick-fix.fusesim'), 'utf8'),
    code: 'cached-open-on-passthrough-inode',
    expect: [/^Reply passthrough with backing b1$/],
  },
];

async function fixesFor(uri: string, d: Diagnostic): Promise<CodeAction[]> {
  return c.request<CodeAction[]>('textDocument/codeAction', {
    textDocument: { uri },
    range: d.range,
    context: { diagnostics: [d], only: ['quickfix'] },
  });
}

for (const k of cases) {
  test(`quick fix: ${k.name}`, async () => {
    const uri = freshUri('fix');
    const ds = await c.open(uri, k.text);
    const target = ds.find((d) => d.code === k.code);
    assert.ok(target, `no ${k.code} in ${JSON.stringify(ds)}`);
    const actions = await fixesFor(uri, target);
    const titles = actions.map((a) => a.title);
    for (const e of k.expect) assert.ok(titles.some((t) => e.test(t)), `no fix like ${e} among ${JSON.stringify(titles)}`);
    assert.equal(actions.filter((a) => a.isPreferred).length, 1, 'one preferred fix');
    for (const a of actions) {
      assert.equal(a.kind, 'quickfix');
      assert.deepEqual(a.diagnostics?.map((d) => d.code), [k.code], 'the fix names its diagnostic');
      // Apply the fix to a fresh copy of the scenario, as the editor would, and re-check.
      const copy = freshUri('fixed');
      await c.open(copy, k.text);
      const edit = { changes: { [copy]: a.edit!.changes![uri]! } };
      const after = await c.applyWorkspaceEdit(edit);
      const text = c.text(copy);
      assert.ok(!after.some((d) => d.code === k.code), `"${a.title}" left ${k.code}:\n${text}\n${JSON.stringify(after)}`);
      const errorsBefore = ds.filter((d) => d.severity === DiagnosticSeverity.Error).length;
      const errorsAfter = after.filter((d) => d.severity === DiagnosticSeverity.Error).length;
      assert.ok(errorsAfter < errorsBefore || (target.severity !== DiagnosticSeverity.Error && errorsAfter <= errorsBefore),
        `"${a.title}" does not reduce the errors (${errorsBefore} → ${errorsAfter}):\n${text}`);
    }
  });
}

test('no quick fix is offered for a denial the line states', async () => {
  const uri = freshUri('nofix');
  const ds = await c.open(uri, scenario`
    ${PT}
    file data.db
    backing b1
    open data.db as f1
    open data.db as f2 reply passthrough backing=b1 => EIO
  `);
  const info = ds.find((d) => d.code === 'passthrough-open-on-caching-inode');
  assert.equal(info?.severity, DiagnosticSeverity.Information);
  assert.deepEqual(await fixesFor(uri, info!), []);
});

test('quick fixes read the diagnostic\'s facts, not its words', () => {
  const a = analyzeAfresh('open data.db as f1\nopen data.db as f2 reply passthrough backing=b9\n');
  for (const [code, title] of [['unknown-name', 'Declare file data.db'], ['unknown-name', 'Register backing b9 here']] as const) {
    const ds = a.result!.diagnostics.filter((x) => x.code === code);
    const titles = ds.flatMap((d) => checkFixes(a, { ...d, message: 'reworded' }).filter((f) => f.confirmed).map((f) => f.candidate.title));
    assert.ok(titles.some((t) => t.startsWith(title)), `${title} in ${titles.join('; ')}`);
  }
});
