// The stdio encoder (server/lsp/reused-buffer-encoder.ts) writes the bytes
// vscode-jsonrpc's own encoder writes, Buffer.from(JSON.stringify(msg)), whatever the
// message, and a message's bytes stay as they were until the next is encoded; the bytes
// kept of a frozen diagnostic are its JSON's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { analyzeAfresh } from '../../server/lsp/analysis';
import { lspDiagnostics } from '../../server/lsp/diagnostics';
import { reusedBufferJsonEncoder } from '../../server/lsp/reused-buffer-encoder';
import { RuleDocs } from '../../server/lsp/rule-docs';
import { bigScenario } from './big-scenario';

const utf8 = { charset: 'utf-8' as const };

test('the reused-buffer encoder writes what JSON.stringify and Buffer.from write, diagnostics one by one included', async () => {
  const encode = (reusedBufferJsonEncoder() as { encode(m: unknown, o: typeof utf8): Promise<Uint8Array> }).encode;
  const a = analyzeAfresh(bigScenario(3000));
  const real = lspDiagnostics(a, new RuleDocs(), 'file:///a "quoted" → "diagnostics":[].fusesim');
  assert.ok(real.length >= 64 && real.some((d) => /[^\x00-\x7f]/.test(String(d.message))), 'many diagnostics, some not ASCII');
  const publish = (diagnostics: unknown[], uri = 'file:///x.fusesim') => ({ jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri, version: 2, diagnostics } });
  const text = fc.string({ unit: 'binary' });
  const anyDiagnostic = fc.record({ message: text, code: text, range: fc.constant(real[0]!.range), extra: fc.option(fc.oneof(text, fc.integer(), fc.constant(undefined))) });
  const messages: unknown[] = [
    publish(real), publish(real, 'file:///a "quoted" → "diagnostics":[].fusesim'), publish(real.slice(0, 3)), publish([]),
    { jsonrpc: '2.0', id: 4, result: { contents: 'é → ok' } },
    ...fc.sample(fc.array(anyDiagnostic, { minLength: 60, maxLength: 90 }).map((ds) => publish(ds, 'file:///r.fusesim')), { numRuns: 30, seed: 5 }),
    // Frozen ones, whose bytes are kept: each published twice.
    ...fc.sample(fc.array(anyDiagnostic.map((d) => Object.freeze(d)), { minLength: 60, maxLength: 90 }).map((ds) => publish(ds, 'file:///f.fusesim')), { numRuns: 10, seed: 6 })
      .flatMap((m) => [m, m]),
  ];
  let before: { bytes: Uint8Array; copy: Buffer } | undefined;
  for (const m of messages) {
    if (before) assert.deepEqual(Buffer.from(before.bytes), before.copy, 'the last message unchanged until the next is encoded');
    const bytes = await encode(m, utf8);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(JSON.stringify(m), 'utf-8'));
    before = { bytes, copy: Buffer.from(bytes) };
  }
});
