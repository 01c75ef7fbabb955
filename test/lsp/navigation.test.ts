// Names through the real server: go to definition, references, highlights,
// rename (applied and re-checked), the outline, and semantic tokens.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type {
  DocumentHighlight,
  DocumentSymbol,
  Location,
  Range,
  SemanticTokens,
  WorkspaceEdit,
} from 'vscode-languageserver-protocol';
import { freshUri, LspClient, marked, scenario } from './client';

// Whatever a failing test left running is killed, so the test process can end.
after(() => LspClient.killAll());

let c: LspClient;
after(async () => {
  await c.shutdown();
});

const SOURCE = scenario`
  scenario "names"
  init passthrough max_stack_depth=1
  file <|filedecl|>data.db
  process p1
  backing <|backingdecl|>b1
  open data.db as <|f1decl|>f1 reply keep_cache
  dup <|f1use|>f1 as g1
  p1: open data.db as f1x reply passthrough backing=<|backinguse|>b1
  close f1
  close g1
  open data.db as f1 reply passthrough backing=b1
  close <|f1again|>f1
  <|main|>main: close f1x
  <|p1use|>p1: close f1x
`;

const { text, at } = marked(SOURCE);
const lines = text.split('\n');
const word = (r: Range) => lines[r.start.line]!.slice(r.start.character, r.end.character);
let uri: string;

before(async () => {
  c = await LspClient.start();
  uri = freshUri('nav');
  await c.open(uri, text);
});

const req = <T>(method: string, position = at.cursor!, extra: object = {}) =>
  c.request<T>(method, { textDocument: { uri }, position, ...extra });

test('go to definition: a use jumps to the declaration in effect', async () => {
  const def = await req<Location>('textDocument/definition', at.f1use);
  assert.equal(def.uri, uri);
  assert.deepEqual(def.range.start, at.f1decl);
  const again = await req<Location>('textDocument/definition', at.f1again);
  assert.equal(again.range.start.line, 10, 'the later `open ... as f1` declares a new f1');
  const backing = await req<Location>('textDocument/definition', at.backinguse);
  assert.deepEqual(backing.range.start, at.backingdecl);
  const p1 = await req<Location>('textDocument/definition', at.p1use);
  assert.equal(p1.range.start.line, 3);
  assert.equal(await req('textDocument/definition', at.main), null, 'main has no declaration');
});

test('find references and highlights of a name', async () => {
  const refs = await req<Location[]>('textDocument/references', at.f1use, { context: { includeDeclaration: true } });
  assert.deepEqual(refs.map((r) => r.range.start.line), [5, 6, 8]);
  assert.ok(refs.every((r) => word(r.range) === 'f1'));
  const noDecl = await req<Location[]>('textDocument/references', at.f1use, { context: { includeDeclaration: false } });
  assert.deepEqual(noDecl.map((r) => r.range.start.line), [6, 8]);
  const file = await req<Location[]>('textDocument/references', at.filedecl, { context: { includeDeclaration: true } });
  assert.deepEqual(file.map((r) => r.range.start.line), [2, 5, 7, 10]);
  const hl = await req<DocumentHighlight[]>('textDocument/documentHighlight', at.backingdecl);
  assert.deepEqual(hl.map((h) => [h.range.start.line, h.kind]), [[4, 3], [7, 2], [10, 2]]);
});

test('rename a name: every occurrence tied to it, and the scenario still checks the same', async () => {
  const prep = await req<{ range: Range; placeholder: string }>('textDocument/prepareRename', at.f1use);
  assert.equal(prep.placeholder, 'f1');
  const edit = await req<WorkspaceEdit>('textDocument/rename', at.f1use, { newName: 'reader' });
  const edits = edit.changes![uri]!;
  assert.deepEqual(edits.map((e) => e.range.start.line), [5, 6, 8], 'the second f1 (line 11) is another open');
  const copy = freshUri('renamed');
  const before = await c.open(copy, text);
  const after = await c.applyWorkspaceEdit({ changes: { [copy]: edits } });
  assert.match(c.text(copy), /open data\.db as reader reply keep_cache\ndup reader as g1/);
  assert.deepEqual(after.map((d) => [d.code, d.range.start.line]), before.map((d) => [d.code, d.range.start.line]));
});

test('rename refuses bad names, clashes and the default process', async () => {
  await assert.rejects(req('textDocument/rename', at.f1use, { newName: 'open' }), /not a valid name/);
  await assert.rejects(req('textDocument/rename', at.f1use, { newName: '9x' }), /not a valid name/);
  await assert.rejects(req('textDocument/rename', at.backingdecl, { newName: 'b1' }).then(() => req('textDocument/rename', at.f1use, { newName: 'g1' })), /already declared on line 7/);
  await assert.rejects(req('textDocument/prepareRename', at.main), /default process/);
});

test('document symbols: title, files, backings, processes with what their steps declare', async () => {
  const symbols = await req<DocumentSymbol[]>('textDocument/documentSymbol', undefined);
  const names = symbols.map((s) => s.name);
  assert.deepEqual(names, ['names', 'data.db', 'p1', 'b1', 'main']);
  const main = symbols.find((s) => s.name === 'main')!;
  assert.deepEqual(main.children!.map((s) => s.name), ['f1', 'g1', 'f1']);
  const p1 = symbols.find((s) => s.name === 'p1')!;
  assert.deepEqual(p1.children!.map((s) => s.name), ['f1x']);
  for (const s of [...symbols.filter((x) => x !== main), ...main.children!]) assert.equal(word(s.selectionRange), s.name === 'names' ? '"names"' : s.name);
});

test('semantic tokens: keywords, names by kind, flags, outcomes, comments', async () => {
  const legend = c.initializeResult.capabilities.semanticTokensProvider!.legend;
  const src = 'open data.db as f1 reply passthrough backing=b1 => EIO # why\n';
  const u = freshUri('tokens');
  await c.open(u, `file data.db\nbacking b1\n${src}`);
  const tokens = await c.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri: u } });
  const decoded: Array<[string, string]> = [];
  let line = 0;
  let char = 0;
  const all = `file data.db\nbacking b1\n${src}`.split('\n');
  for (let i = 0; i < tokens.data.length; i += 5) {
    const [dl, dc, len, type] = tokens.data.slice(i, i + 5) as [number, number, number, number];
    line += dl;
    char = dl === 0 ? char + dc : dc;
    decoded.push([all[line]!.slice(char, char + len), legend.tokenTypes[type]!]);
  }
  const onLine3 = decoded.slice(decoded.findIndex(([w]) => w === 'open'));
  assert.deepEqual(onLine3, [
    ['open', 'keyword'], ['data.db', 'class'], ['as', 'keyword'], ['f1', 'variable'], ['reply', 'keyword'],
    ['passthrough', 'macro'], ['backing', 'keyword'], ['b1', 'struct'], ['=>', 'operator'], ['EIO', 'enumMember'], ['# why', 'comment'],
  ]);
});
