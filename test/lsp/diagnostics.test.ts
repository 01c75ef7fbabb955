// Diagnostics pushed by the real server (node dist/server.js --stdio) over a
// real LSP connection: denied steps, stated outcomes, flag warnings, changes,
// settings.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver-protocol';
import { analyze } from '../../server/lsp/analysis';
import { freshUri, LspClient, ROOT, scenario } from './client';

// Whatever a failing test left running is killed, so the test process can end.
after(() => LspClient.killAll());

const clients: LspClient[] = [];
async function start(...args: Parameters<typeof LspClient.start>): Promise<LspClient> {
  const c = await LspClient.start(...args);
  clients.push(c);
  return c;
}
after(async () => {
  for (const c of clients) c.kill();
});

const CACHED_THEN_PASSTHROUGH = scenario`
  kernel 6.18
  init passthrough max_stack_depth=1
  file data.db
  backing b1
  open data.db as f1 reply keep_cache
  open data.db as f2 reply passthrough backing=b1
`;

const byCode = (ds: Diagnostic[], code: string) => ds.filter((d) => d.code === code);

test('a denied step is an error on its line with errno, inner reason, rule code and its page', async () => {
  const c = await start();
  const uri = freshUri();
  const ds = await c.open(uri, CACHED_THEN_PASSTHROUGH);
  const [d, ...rest] = byCode(ds, 'passthrough-open-on-caching-inode');
  assert.ok(d, JSON.stringify(ds));
  assert.equal(rest.length, 0);
  assert.equal(d.severity, DiagnosticSeverity.Error);
  assert.equal(d.range.start.line, 5);
  assert.equal(d.range.start.character, 0);
  assert.equal(d.source, 'fuselens');
  assert.match(String(d.message), /\bEIO\b/);
  assert.match(String(d.message), /\bETXTBSY\b/);
  assert.match(String(d.message), /f1 \(line 5\)/, 'names the open file in the way');
  // The point comes first, in plain words; the kernel's detail after it.
  assert.match(String(d.message), /^data\.db is in caching mode, held by f1 \(line 5\) → EIO: .*\. In the kernel: ETXTBSY inside /);
  // The open in the way is a related location on its line.
  assert.deepEqual(d.relatedInformation, [
    { location: { uri, range: { start: { line: 4, character: 0 }, end: { line: 4, character: 35 } } }, message: 'f1 is held open here (line 5)' },
  ]);
  // The facts stay in the server's analysis, what quick fixes read (not the text); they are not sent.
  assert.equal(d.data, undefined);
  const [kept] = analyze(CACHED_THEN_PASSTHROUGH).result!.diagnostics.filter((x) => x.code === d.code);
  assert.deepEqual(kept?.data, {
    what: 'denied', stated: false, outcome: 'EIO', rule: 'passthrough-open-on-caching-inode', reason: 'ETXTBSY',
    inode: { name: 'data.db', mode: 'caching', iocachectr: 1, backing: null },
    conflicting: [{ handle: 'f1', line: 5, descriptors: [{ process: 'main', name: 'f1' }], mappings: [] }],
  });
  const page = join(ROOT, 'docs', 'rules', 'passthrough-open-on-caching-inode.md');
  if (existsSync(page)) assert.equal(d.codeDescription?.href, pathToFileURL(page).href);
  else assert.equal(d.codeDescription, undefined, 'no link to a page that does not exist');
  await c.shutdown();
});

test('every diagnostic whose rule has a page links to it, and only those', async () => {
  const c = await start();
  const ds = await c.open(freshUri(), scenario`
    init passthrough max_stack_depth=1 writeback_cache
    file a
    open a as f1 reply parallel_direct_writes
    open a as f2 reply passthrough backing=0
    mmap f1 shared as m1
  `);
  assert.ok(ds.length >= 3, JSON.stringify(ds));
  for (const d of ds) {
    const page = join(ROOT, 'docs', 'rules', `${String(d.code)}.md`);
    assert.equal(d.codeDescription?.href, existsSync(page) ? pathToFileURL(page).href : undefined, String(d.code));
  }
  await c.shutdown();
});

test('a denial the line states (=> EIO) is information, "denied, as expected"', async () => {
  const c = await start();
  const ds = await c.open(freshUri(), CACHED_THEN_PASSTHROUGH.replace('backing=b1', 'backing=b1 => EIO'));
  const [d] = byCode(ds, 'passthrough-open-on-caching-inode');
  assert.ok(d);
  assert.equal(d.severity, DiagnosticSeverity.Information);
  assert.match(String(d.message), /denied, as expected/);
  assert.equal(ds.filter((x) => x.severity === DiagnosticSeverity.Error).length, 0);
  await c.shutdown();
});

test('a stated outcome that differs from the simulation is an error on the outcome', async () => {
  const c = await start();
  const text = CACHED_THEN_PASSTHROUGH.replace('backing=b1', 'backing=b1 => ok');
  const ds = await c.open(freshUri(), text);
  const [d] = byCode(ds, 'outcome-mismatch');
  assert.ok(d, JSON.stringify(ds));
  assert.equal(d.severity, DiagnosticSeverity.Error);
  assert.equal(d.range.start.line, 5);
  assert.equal(text.split('\n')[5]!.slice(d.range.start.character, d.range.end.character), 'ok');
  assert.match(String(d.message), /expected ok, but the kernel gives EIO/);
  await c.shutdown();
});

test('flags the kernel ignores are warnings on the flag itself', async () => {
  const c = await start();
  const text = scenario`
    kernel 6.6
    init passthrough max_stack_depth=1
    file a
    open a as f1 reply parallel_direct_writes
  `;
  const ds = await c.open(freshUri(), text);
  const lines = text.split('\n');
  const pdw = byCode(ds, 'parallel-writes-need-direct-io')[0];
  assert.ok(pdw, JSON.stringify(ds));
  assert.equal(pdw.severity, DiagnosticSeverity.Warning);
  assert.equal(lines[3]!.slice(pdw.range.start.character, pdw.range.end.character), 'parallel_direct_writes');
  const unknown = byCode(ds, 'flag-unknown-to-kernel')[0];
  assert.ok(unknown, 'passthrough is new in 6.9');
  assert.equal(unknown.severity, DiagnosticSeverity.Warning);
  assert.equal(lines[1]!.slice(unknown.range.start.character, unknown.range.end.character), 'passthrough');
  await c.shutdown();
});

test('an incremental change is re-checked: the diagnostic follows the edit and goes when fixed', async () => {
  const c = await start();
  const uri = freshUri();
  let ds = await c.open(uri, CACHED_THEN_PASSTHROUGH);
  assert.equal(byCode(ds, 'passthrough-open-on-caching-inode').length, 1);
  // Insert a comment line above: the diagnostic moves down one line.
  ds = await c.edit(uri, [{ range: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }, newText: '# a comment\n' }]);
  assert.equal(byCode(ds, 'passthrough-open-on-caching-inode')[0]?.range.start.line, 6);
  // Close f1 before the passthrough open: no more errors.
  ds = await c.edit(uri, [{ range: { start: { line: 6, character: 0 }, end: { line: 6, character: 0 } }, newText: 'close f1\n' }]);
  assert.deepEqual(ds.filter((d) => d.severity === DiagnosticSeverity.Error), []);
  // Type a syntax error: a syntax diagnostic, and the rest still simulates.
  ds = await c.edit(uri, [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, newText: 'opne x\n' }]);
  assert.ok(ds.some((d) => d.code === 'syntax' && d.range.start.line === 3), JSON.stringify(ds));
  await c.shutdown();
});

test('settings: the default kernel comes from workspace/configuration; a kernel line wins', async () => {
  const c = await start({ configuration: { kernel: { defaultVersion: '6.6' }, simulateOnType: true } });
  const text = scenario`
    init passthrough max_stack_depth=1
    file a
    open a as f1
  `;
  let ds = await c.open(freshUri(), text);
  assert.ok(byCode(ds, 'flag-unknown-to-kernel').length > 0, `6.6 does not know passthrough: ${JSON.stringify(ds)}`);
  ds = await c.open(freshUri(), `kernel 6.18\n${text}`);
  assert.equal(byCode(ds, 'flag-unknown-to-kernel').length, 0);
  await c.shutdown();
});

test('settings: a default kernel the model does not cover is reported, and the newest is used', async () => {
  const c = await start({ configuration: { kernel: { defaultVersion: '5.4' } } });
  const ds = await c.open(freshUri(), 'init passthrough max_stack_depth=1\n');
  const m = await c.message(/default kernel 5\.4 is not one the simulator models/);
  assert.equal(m.type, 2, 'a warning');
  assert.equal(byCode(ds, 'flag-unknown-to-kernel').length, 0, 'checked with the newest kernel');
  await c.shutdown();
});

test('settings: initializationOptions serve clients without workspace/configuration', async () => {
  const c = await start({ initializationOptions: { kernel: '6.6' } });
  const ds = await c.open(freshUri(), 'init passthrough max_stack_depth=1\n');
  assert.ok(byCode(ds, 'flag-unknown-to-kernel').length > 0, JSON.stringify(ds));
  await c.shutdown();
});

test('settings: with simulateOnType off, changes are checked on save only', async () => {
  const c = await start({ configuration: { simulateOnType: false } });
  const published: Array<number | undefined> = [];
  c.onPublish((p) => published.push(p.version));
  const uri = freshUri();
  const ds = await c.open(uri, 'file a\nopen a as f1\n');
  assert.deepEqual(ds, [], 'an open is checked');
  // A change that makes an error, then a save: the only check of version 2 is the save's.
  await c.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 },
    contentChanges: [{ text: 'file a\nopen a as f1\nclose nope\n' }],
  });
  const afterSave = c.diagnostics(uri, 2);
  await c.connection.sendNotification('textDocument/didSave', { textDocument: { uri } });
  const saved = await afterSave;
  assert.ok(saved.some((d) => d.code === 'unknown-name'), JSON.stringify(saved));
  assert.deepEqual(published.filter((v) => v === 2).length, 1);
  await c.shutdown();
});

test('closing a document clears its diagnostics', async () => {
  const c = await start();
  const uri = freshUri();
  await c.open(uri, CACHED_THEN_PASSTHROUGH);
  const cleared = new Promise<Diagnostic[]>((resolve) => {
    c.onPublish((p) => {
      if (p.uri === uri) resolve(p.diagnostics);
    });
  });
  await c.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
  assert.deepEqual(await c.within(5000, 'cleared diagnostics', cleared), []);
  await c.shutdown();
});
