// Input no scenario should be: a binary file renamed .fusesim, a 50 MB
// scenario, a line of 1 MB, bytes that are not UTF-8, random word soup. The
// server answers each with diagnostics (or nothing) within a deadline, and
// keeps serving other documents afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { CompletionItem, Diagnostic, DocumentSymbol, SemanticTokens } from 'vscode-languageserver-protocol';
import { allDiagnostics, analyze } from '../../server/lsp/analysis';
import { codeActions } from '../../server/lsp/code-actions';
import { complete } from '../../server/lsp/completion';
import { hover } from '../../server/lsp/hover';
import { documentSymbols, highlights } from '../../server/lsp/navigation';
import { semanticTokens } from '../../server/lsp/semantic-tokens';
import { Requests } from '../../protocol/messages';
import { bigScenario } from './big-scenario';
import { freshUri, LspClient, scenario, useSharedClient } from './client';

let c: LspClient;
useSharedClient((client) => (c = client));

const DENIAL = scenario`
  init passthrough max_stack_depth=1
  file data.db
  backing b1
  open data.db as f1
  open data.db as f2 reply passthrough backing=b1
`;

/** The server still works: a small document gets its denial. */
async function stillServes(): Promise<void> {
  const ds = await c.open(freshUri('alive'), DENIAL);
  assert.ok(ds.some((d) => d.code === 'passthrough-open-on-caching-inode'), JSON.stringify(ds));
}

/** Every request a client makes on open still answers (empty is fine). */
async function featuresAnswer(uri: string): Promise<void> {
  const position = { line: 0, character: 3 };
  await c.hover(uri, position);
  await c.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
  await c.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
  await c.request<SemanticTokens>('textDocument/semanticTokens/full', { textDocument: { uri } });
  await c.request('textDocument/codeAction', { textDocument: { uri }, range: { start: position, end: position }, context: { diagnostics: [] } });
}

test('a binary file renamed .fusesim: one clear diagnostic, nothing else', async () => {
  for (const bytes of [randomBytes(256 * 1024), readFileSync(process.execPath).subarray(0, 512 * 1024)]) {
    const uri = freshUri('binary');
    const ds = await c.open(uri, bytes.toString('utf8'));
    assert.deepEqual(ds.map((d) => d.code), ['binary-file']);
    assert.match(String(ds[0]!.message), /not a text scenario/);
    await featuresAnswer(uri);
  }
  await stillServes();
});

test('a 50 MB scenario: refused with a message, edits to it stay fast, the server stays up', async () => {
  const unit = bigScenario(1000);
  const text = unit.repeat(Math.ceil((50 * 1024 * 1024) / unit.length));
  assert.ok(text.length >= 50 * 1024 * 1024);
  const uri = freshUri('huge');
  const started = performance.now();
  const ds = await c.open(uri, text);
  assert.deepEqual(ds.map((d) => d.code), ['file-too-large']);
  assert.match(String(ds[0]!.message), /fuselens check/);
  const edited = await c.edit(uri, [{ range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, newText: '# typed\n' }]);
  assert.deepEqual(edited.map((d) => d.code), ['file-too-large']);
  await featuresAnswer(uri);
  await stillServes();
  assert.ok(performance.now() - started < 20_000, 'the whole round took under 20 s');
  await c.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
});

test('a scenario of 19,000 lines is checked, and typing in it is checked again on every change', async () => {
  const text = bigScenario(19_000);
  const uri = freshUri('large');
  const ds = await c.open(uri, text);
  assert.ok(ds.some((d) => d.code === 'passthrough-open-on-caching-inode'));
  assert.ok(ds.length <= 1001, 'diagnostics are capped');
  const typed = await c.edit(uri, [{ range: { start: { line: 60, character: 0 }, end: { line: 60, character: 0 } }, newText: 'close nope\n' }]);
  assert.ok(typed.some((d) => d.code === 'unknown-name' && d.range.start.line === 60), 'the new line is checked without a save');
  await featuresAnswer(uri);
  // Quick fixes for the whole document: each candidate re-simulates 19,000 lines, so the request keeps to a budget.
  const t = performance.now();
  const actions = await c.request<unknown[]>('textDocument/codeAction', {
    textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 19_000, character: 0 } }, context: { diagnostics: [] },
  });
  assert.ok(Array.isArray(actions));
  assert.ok(performance.now() - t < 15_000, `quick fixes over 19,000 lines took ${Math.round(performance.now() - t)} ms`);
});

test('a scenario of 100,000 lines is checked, and while an edit of it is checked again the server answers a hover on another document', async () => {
  const small = freshUri('small');
  await c.open(small, DENIAL);
  const uri = freshUri('hundred-thousand');
  const ds = await c.open(uri, bigScenario(100_000));
  assert.ok(!ds.some((d) => d.code === 'file-too-large'));
  assert.ok(ds.some((d) => d.code === 'passthrough-open-on-caching-inode'));
  // An open left without its close near the top: every later step is simulated again.
  const order: string[] = [];
  const rechecked = c.edit(uri, [{ range: { start: { line: 100, character: 0 }, end: { line: 100, character: 0 } }, newText: 'open data0.db as held\n' }])
    .then((d) => {
      order.push('diagnostics');
      return d;
    });
  // Sent once the check is under way: answered between its slices, not after it.
  await new Promise((resolve) => setTimeout(resolve, 30));
  const answer = await c.hover(small, { line: 3, character: 2 });
  order.push('hover');
  assert.ok(answer, 'the hover has an answer');
  assert.ok((await rechecked).some((d) => d.code === 'passthrough-open-on-caching-inode'));
  assert.deepEqual(order, ['hover', 'diagnostics']);
  await c.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
});

test('a line of 1 MB is left out with a diagnostic; the other lines are still checked', async () => {
  const long = `open data.db as ${'x'.repeat(1024 * 1024)}`;
  const uri = freshUri('longline');
  const ds = await c.open(uri, DENIAL.replace('file data.db\n', `file data.db\n${long}\n`));
  const tooLong = ds.find((d) => d.code === 'line-too-long');
  assert.ok(tooLong, JSON.stringify(ds.map((d) => d.code)));
  assert.equal(tooLong.range.start.line, 2);
  assert.ok(ds.some((d) => d.code === 'passthrough-open-on-caching-inode' && d.range.start.line === 5));
  await c.hover(uri, { line: 2, character: 500_000 });
  await c.request('textDocument/completion', { textDocument: { uri }, position: { line: 2, character: 1024 * 1024 } });
  await featuresAnswer(uri);
});

test('invalid UTF-8 bytes on the wire: a warning where they are, the rest still checked', async () => {
  const uri = freshUri('utf8');
  const marker = 'BADBYTES';
  const text = DENIAL.replace('file data.db', `file data.db # ${marker}`);
  const body = JSON.stringify({
    jsonrpc: '2.0',
    method: 'textDocument/didOpen',
    params: { textDocument: { uri, languageId: 'fusesim', version: 1, text } },
  });
  // Send the frame by hand: a JSON string with raw 0xff 0xfe 0xc3 bytes in it.
  const [head, tail] = body.split(marker) as [string, string];
  const payload = Buffer.concat([Buffer.from(head, 'utf8'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(tail, 'utf8')]);
  const wait = c.diagnostics(uri, 1);
  c.child.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${payload.length}\r\n\r\n`, 'ascii'), payload]));
  const ds = await wait;
  const bad = ds.find((d) => d.code === 'invalid-utf8');
  assert.ok(bad, JSON.stringify(ds));
  assert.equal(bad.range.start.line, 1);
  assert.ok(ds.some((d) => d.code === 'passthrough-open-on-caching-inode'), 'the scenario is still checked');
  await stillServes();
});

test('random word soup through the real server: every document gets diagnostics', async () => {
  const words = ['open', 'close', 'as', 'reply', 'passthrough', 'backing=b1', 'backing', 'init', 'file', 'f1', 'a', '=>', 'EIO',
    'mmap', 'shared', 'write', 'begin', 'end', 'p1:', 'fork', 'exit', '"x', '#', 'kernel', '6.9', 'expect', 'iocachectr=-1', '\t', '\r'];
  const docs = fc.sample(fc.array(fc.array(fc.constantFrom(...words), { maxLength: 8 }).map((w) => w.join(' ')), { maxLength: 30 }).map((l) => l.join('\n')), { numRuns: 40, seed: 42 });
  for (const text of docs) {
    const uri = freshUri('soup');
    const ds: Diagnostic[] = await c.open(uri, text);
    assert.ok(Array.isArray(ds));
    await featuresAnswer(uri);
  }
  await stillServes();
});

test('every feature on arbitrary text never throws (in process, 500 runs)', () => {
  const alphabet = ['open ', 'as ', 'reply ', 'passthrough ', 'direct_io ', 'backing=', 'b1 ', 'f1 ', 'file ', 'init ', 'mmap ', 'shared ',
    'munmap ', 'm1 ', 'dup ', 'fork ', 'p1: ', '=> ', 'EIO ', '"', '#', '\n', '\r\n', '\r', 'write ', 'begin ', 'end ', 'kernel ', '6.', 'expect ',
    'x', '\u0000', '\uFFFD', '=', ':', 'close ', 'backing ', 'max_stack_depth=', 'process ', 'scenario ', 'line ', '5 ', '99999 '];
  fc.assert(fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 200 }), fc.nat(40), fc.nat(60), (parts, line, character) => {
    const text = parts.join('');
    const a = analyze(text);
    const p = { line, character };
    const lineText = a.lines[line] ?? '';
    hover(a, p);
    complete(a, lineText, p);
    semanticTokens(a);
    documentSymbols(a);
    highlights(a, p);
    codeActions(a, { uri: 'untitled:x' }, [], { start: { line: 0, character: 0 }, end: { line: 1000, character: 0 } });
  }), { numRuns: 500, seed: 7 });
});

test('words that look like a line number in what the user wrote stay as written (the server works on line ids)', () => {
  // A message may quote the user's text: a file named "line 5" on a scenario's 5th line
  // once sent the diagnostics' line numbering after an id that was never one.
  for (const text of ['kernel 6.18\nopen "line 5" as h\n', 'kernel 6.18\nopen "line 99999" as h\nclose h\n', 'file "line 2"\nopen "line 2" as f\nopen "line 2" as f\n']) {
    const a = analyze(text);
    const quoted = text.match(/"(line \d+)"/)![1]!;
    const messages = allDiagnostics(a).map((d) => d.message);
    assert.ok(messages.some((m) => m.includes(quoted)), `${JSON.stringify(text)}: ${JSON.stringify(messages)}`);
  }
});

/**
 * Sends one request frame by hand (so `params` can be anything, `null` included) and
 * reads its answer off the server's stdout beside the client's own reader.
 */
let rawId = 0;
function rawRequest(method: string, params: unknown): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const id = `raw-${++rawId}`;
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }), 'utf8');
  let buffered = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer to ${method}`))), 10_000);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headerEnd = buffered.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        const length = Number(/Content-Length: (\d+)/i.exec(buffered.subarray(0, headerEnd).toString('ascii'))?.[1]);
        if (buffered.length < headerEnd + 4 + length) return;
        const message = JSON.parse(buffered.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8'));
        buffered = buffered.subarray(headerEnd + 4 + length);
        if (message.id === id) return finish(() => resolve(message));
      }
    };
    const finish = (then: () => void) => {
      clearTimeout(timer);
      c.child.stdout.off('data', onData);
      then();
    };
    c.child.stdout.on('data', onData);
    c.child.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]));
  });
}

/** Every request the server registers: the LSP features it announces, and protocol/messages.ts's custom ones. */
const METHODS = [
  'textDocument/hover', 'textDocument/completion', 'textDocument/codeAction', 'textDocument/definition', 'textDocument/references',
  'textDocument/documentHighlight', 'textDocument/prepareRename', 'textDocument/rename', 'textDocument/documentSymbol',
  'textDocument/semanticTokens/full', 'textDocument/semanticTokens/range',
  ...Object.values(Requests).map((r) => r.method),
];

test('every request with params that are not what it takes is answered InvalidParams (-32602) saying what is wrong', async () => {
  const uri = freshUri('params');
  await c.open(uri, DENIAL);
  for (const method of METHODS) {
    for (const params of [null, 'x', 42, [1, 2]]) {
      const answer = await rawRequest(method, params);
      assert.equal(answer.error?.code, -32602, `${method} ${JSON.stringify(params)}: ${JSON.stringify(answer)}`);
      assert.doesNotMatch(answer.error!.message, /TypeError|Cannot read|undefined/, method);
    }
  }
  // One wrong field: the message names it.
  const wrong = await rawRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 'x', character: 0 } }, context: { diagnostics: [] } });
  assert.equal(wrong.error?.code, -32602);
  assert.match(wrong.error!.message, /params\.range\.end\.line must be an integer/);
  // The case: a diagnostic in the context without its range.
  const noRange = await rawRequest('textDocument/codeAction', {
    textDocument: { uri },
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    context: { diagnostics: [{ message: 'x', code: 'cached-open-on-passthrough-inode' }] },
  });
  assert.equal(noRange.error?.code, -32602, JSON.stringify(noRange));
  assert.match(noRange.error!.message, /params\.context\.diagnostics\[0\]\.range must be an object, not undefined/);
  const hover = await rawRequest('textDocument/hover', { textDocument: { uri }, position: { line: -1, character: 0 } });
  assert.match(hover.error!.message, /params\.position\.line/);
  const mount = await rawRequest(Requests.inspectMount.method, { mountpoint: 7 });
  assert.match(mount.error!.message, /params\.mountpoint must be a string, not number 7/);
  // Right params still work, through the same path.
  const actions = await rawRequest('textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: 9, character: 0 } }, context: { diagnostics: [] } });
  assert.ok(Array.isArray(actions.result), JSON.stringify(actions));
  const mounts = await rawRequest(Requests.listMounts.method, {});
  assert.ok(Array.isArray((mounts.result as { mounts?: unknown } | undefined)?.mounts), JSON.stringify(mounts));
  await stillServes();
});
