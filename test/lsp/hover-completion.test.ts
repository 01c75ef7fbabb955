// Hover and completion through the real server. Cursor positions are marked
// inline in the scenario text with <|name|> (yaml-language-server style).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CompletionItem, CompletionList } from 'vscode-languageserver-protocol';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STATEMENT_KEYWORDS, STATEMENTS } from '../../server/scenario/syntax';
import { freshUri, LspClient, marked, ROOT, scenario, useSharedClient } from './client';

let c: LspClient;
useSharedClient((client) => (c = client));

async function hoverAt(source: string, mark: string) {
  const { text, at } = marked(source);
  const uri = freshUri('hover');
  await c.open(uri, text);
  const h = await c.hover(uri, at[mark]!);
  return h?.contents.value ?? '';
}

async function completeAt(source: string, mark = 'cursor'): Promise<string[]> {
  const { text, at } = marked(source);
  const uri = freshUri('complete');
  await c.open(uri, text);
  const r = await c.request<CompletionItem[] | CompletionList | null>('textDocument/completion', { textDocument: { uri }, position: at[mark]! });
  const items = Array.isArray(r) ? r : (r?.items ?? []);
  return items.map((i) => i.label);
}

const BASE = scenario`
  kernel 6.18
  init pass<|initflag|>through max_stack_depth=1 direct_io_<|allow|>allow_mmap
  file data.db
  process p1
  backing b1
  open data.db as f1 reply keep_cache
  mmap f1 shared as m1
  p1: open da<|fileref|>ta.db as f<|handledecl|>2 reply FOPEN_PASS<|replyflag|>THROUGH backing=b1
  mun<|step|>map m1
  close f<|handleref|>1
`;

test('hover on a reply flag: C name, value, meaning, first kernel', async () => {
  const v = await hoverAt(BASE, 'replyflag');
  assert.match(v, /FOPEN_PASSTHROUGH/);
  assert.match(v, /0x80/);
  assert.match(v, /backing file/);
  assert.match(v, /Introduced in Linux 6\.9/);
  assert.match(v, /Written `FOPEN_PASSTHROUGH`/, 'says how the C spelling maps');
});

test('hover on an init flag: flags2 bit, meaning, first kernel', async () => {
  const v = await hoverAt(BASE, 'allow');
  assert.match(v, /FUSE_DIRECT_IO_ALLOW_MMAP/);
  assert.match(v, /flags2/);
  assert.match(v, /bit 36/);
  assert.match(v, /Introduced in Linux 6\.6/);
  const pt = await hoverAt(BASE, 'initflag');
  assert.match(pt, /FUSE_PASSTHROUGH/);
  assert.match(pt, /Introduced in Linux 6\.9/);
});

test('hover on a flag the chosen kernel does not know says so', async () => {
  const v = await hoverAt(BASE.replace('kernel 6.18', 'kernel 6.6'), 'replyflag');
  assert.match(v, /Linux 6\.6 .* does not know it/);
});

test('hover on a kernel version and on max_stack_depth', async () => {
  const k = await hoverAt(BASE.replace('kernel 6.18', 'kernel 6.1<|k|>0'), 'k');
  assert.match(k, /Linux 6\.10/);
  assert.match(k, /yes: per-inode io modes .*\(6\.9, cb098dd24bab\)/);
  assert.match(k, /no: a set FUSE_I_CACHE_IO_MODE .*\(6\.12; 6\.10\.\?, 6\.11\.\?, 2f3d8ff45798\)/);
  const stable = await hoverAt(BASE.replace('kernel 6.18', 'kernel 6.1<|k|>0.5'), 'k');
  assert.match(stable, /not known: a set FUSE_I_CACHE_IO_MODE/);
  const d = await hoverAt(BASE.replace('max_stack_depth=1', 'max_stack_<|d|>depth=1'), 'd');
  assert.match(d, /1 ≤ max_stack_depth ≤ 2/);
});

test('hover on a step: outcome and every inode after it', async () => {
  const v = await hoverAt(BASE, 'step');
  assert.match(v, /munmap/);
  assert.match(v, /\| inode \| mode \| iocachectr \| backing \|/);
  assert.match(v, /\| data\.db \| caching \| 1 \| — \|/, v);
  const denied = await hoverAt(BASE.replace('mun<|step|>map m1', 'munmap m1').replace('p1: open da<|fileref|>', 'p1: op<|d|>en da'), 'd');
  assert.match(denied, /→ \*\*EIO\*\* \(inside the kernel: ETXTBSY\)/, denied);
  assert.match(denied, /passthrough-open-on-caching-inode/);
  // The diagnostic shows above the hover: the inode table comes first, the outcome once after it.
  assert.match(denied, /^Inodes after this step\b/, denied);
  assert.equal(denied.match(/EIO/g)?.length, 1, denied);
});

test('hover on a declaration\'s keyword: its shape and meaning; on a denied step the rule\'s title', async () => {
  const v = await hoverAt(BASE.replace('init pass<|initflag|>through', 'in<|kw|>it passthrough'), 'kw');
  assert.match(v, /`init FLAG\.\.\. \[max_stack_depth=N\]`/);
  assert.match(v, /What the server answers to FUSE_INIT/);
  const denied = await hoverAt(BASE.replace('p1: open da<|fileref|>', 'p1: op<|d|>en da'), 'd');
  assert.match(denied, /passthrough-open-on-caching-inode` — A passthrough open of an inode that has caching opens/, denied);
});

test('hover on a name: where it is declared', async () => {
  const file = await hoverAt(BASE, 'fileref');
  assert.match(file, /file \*\*data\.db\*\* — declared on line 3/);
  const handle = await hoverAt(BASE, 'handleref');
  assert.match(handle, /open file \*\*f1\*\* — declared on line 6/);
  assert.match(handle, /open data\.db as f1 reply keep_cache/);
});

test('completion at the start of a line: statement keywords, shapes and process prefixes', async () => {
  const labels = await completeAt(`${BASE}<|cursor|>`);
  for (const k of ['open', 'close', 'mmap', 'munmap', 'fork', 'expect', 'init', 'kernel', 'backing']) assert.ok(labels.includes(k), k);
  assert.ok(labels.includes('open …'), 'a statement shape (snippet)');
  assert.ok(labels.includes('p1:') && labels.includes('main:'), labels.join(' '));
  const afterPrefix = await completeAt(`${BASE}p1: <|cursor|>`);
  assert.ok(afterPrefix.includes('open') && !afterPrefix.includes('init'), 'a process step only after PROC:');
});

test('completion after reply: reply flags only, not init flags', async () => {
  const labels = await completeAt(`${BASE}open data.db as f9 reply <|cursor|>`);
  for (const f of ['passthrough', 'direct_io', 'parallel_direct_writes', 'keep_cache', 'noflush']) assert.ok(labels.includes(f), f);
  assert.ok(!labels.includes('writeback_cache') && !labels.includes('direct_io_allow_mmap'), 'init flags are not reply flags');
  assert.ok(labels.includes('backing=b1'), 'the declared backing');
  const partial = await completeAt(`${BASE}open data.db as f9 reply direct_io para<|cursor|>`);
  assert.ok(partial.includes('parallel_direct_writes'));
  assert.ok(!partial.includes('direct_io'), 'a flag already given is not offered again');
});

test('completion after init: init flags and max_stack_depth', async () => {
  const labels = await completeAt('init <|cursor|>\n');
  for (const f of ['passthrough', 'max_stack_depth=', 'direct_io_allow_mmap', 'writeback_cache', 'no_open']) assert.ok(labels.includes(f), f);
  assert.ok(!labels.includes('keep_cache'), 'reply flags are not init flags');
  const old = await completeAt('kernel 6.1\ninit <|cursor|>\n');
  assert.ok(!old.includes('passthrough') && !old.includes('direct_io_allow_mmap'), 'flags 6.1 does not know are not offered');
});

test('completion of declared names: files, handles, mappings, backings, processes', async () => {
  assert.deepEqual(await completeAt(`${BASE}open <|cursor|>`), ['data.db']);
  assert.ok((await completeAt(`${BASE}close <|cursor|>`)).includes('f1'));
  assert.deepEqual(await completeAt(`${BASE}munmap <|cursor|>`), ['m1']);
  assert.deepEqual(await completeAt(`${BASE}backing close <|cursor|>`), ['b1']);
  assert.deepEqual(await completeAt(`${BASE}expect <|cursor|>`), ['data.db']);
  assert.ok((await completeAt(`${BASE}expect data.db <|cursor|>`)).includes('passthrough'));
  assert.deepEqual(await completeAt(`${BASE}open data.db as <|cursor|>`), ['f3'], 'a fresh handle name');
});

test('completion of outcomes after => and of kernel versions', async () => {
  const outcomes = await completeAt(`${BASE}open data.db as f9 => <|cursor|>`);
  for (const o of ['ok', 'blocks', 'EIO', 'ENODEV', 'EBUSY']) assert.ok(outcomes.includes(o), o);
  const kernels = await completeAt('kernel <|cursor|>\n');
  for (const k of ['6.1', '6.6', '6.9', '6.12', '6.18']) assert.ok(kernels.includes(k), k);
});

test('no completion inside a comment', async () => {
  assert.deepEqual(await completeAt(`${BASE}# open <|cursor|>`), []);
});

test('a completion replaces the whole word being typed, and shapes are snippets', async () => {
  const { text, at } = marked(`${BASE}open data.db as f9 reply direct_io <|start|>backing=<|cursor|>`);
  const uri = freshUri('edit');
  await c.open(uri, text);
  const items = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: at.cursor });
  const b1 = items.find((i) => i.label === 'backing=b1');
  assert.ok(b1?.textEdit && 'range' in b1.textEdit, JSON.stringify(items));
  assert.deepEqual(b1.textEdit.range, { start: at.start, end: at.cursor });
  assert.equal(b1.textEdit.newText, 'backing=b1');
  const shapes = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: 0, character: 0 } });
  const open = shapes.find((i) => i.label === 'open …');
  assert.equal(open?.insertTextFormat, 2);
  assert.match(open!.textEdit!.newText, /^open \$\{1:file\} as \$\{2:f1\}/);
});

test('completion: one item per keyword, its shape a separate labelled snippet, docs as Markdown; no snippet of the extension shadows a keyword', async () => {
  const { text, at } = marked(`${BASE}<|cursor|>`);
  const uri = freshUri('keywords');
  await c.open(uri, text);
  const items = await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: at.cursor });
  for (const k of STATEMENT_KEYWORDS) {
    assert.equal(items.filter((i) => i.label === k).length, 1, `one ${k}`);
  }
  const open = items.find((i) => i.label === 'open')!;
  // The table's doc as Markdown: its backticks are code spans, not literal text.
  assert.deepEqual(open.documentation, { kind: 'markdown', value: STATEMENTS.find((st) => st.keyword === 'open')!.doc });
  assert.match(open.documentation.value, /`reply`/);
  const shape = items.find((i) => i.label === 'open …')!;
  assert.equal(shape.labelDetails?.description, 'statement with placeholders');
  // VS Code adds the extension's snippets (snippets/fusesim.json) to the list: their prefixes name variants.
  const snippets = JSON.parse(readFileSync(join(ROOT, 'snippets', 'fusesim.json'), 'utf8')) as Record<string, { prefix: string }>;
  for (const [name, { prefix }] of Object.entries(snippets)) assert.ok(!STATEMENT_KEYWORDS.includes(prefix), `snippet "${name}" is offered as ${prefix}, a keyword`);
});
