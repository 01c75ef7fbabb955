// The settings every feature reads, over a real LSP connection to the built
// server (test/lsp/client.ts): the custom requests answer for the same default
// kernel as the diagnostics, whichever way the client sent it.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Requests, type RequestSpec } from '../../protocol/messages';
import { LspClient, freshUri, type StartOptions } from '../lsp/client';

// 6.6 does not know passthrough (rules §4): the scenario's diagnostics and simulation say which kernel was used.
const PASSTHROUGH = 'init passthrough max_stack_depth=1\nfile a\nopen a as f1\n';

function ask<P, R>(client: LspClient, spec: RequestSpec<P, R>, params: P): Promise<R> {
  return client.within(30_000, spec.method, client.connection.sendRequest(spec.method, params) as Promise<R>);
}

after(() => LspClient.killAll());

async function kernelsSeen(options: StartOptions): Promise<{ diagnostics: string[]; simulate: string | undefined; checkFile: string[] }> {
  const client = await LspClient.start(options);
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-settings-'));
  try {
    const uri = freshUri('settings');
    const diagnostics = (await client.open(uri, PASSTHROUGH)).map((d) => String(d.code));
    const simulated = await ask(client, Requests.simulate, { uri });
    const onDisk = join(dir, 'closed.fusesim');
    writeFileSync(onDisk, PASSTHROUGH);
    const checked = await ask(client, Requests.checkFile, { uri: pathToFileURL(onDisk).href });
    return { diagnostics, simulate: simulated?.kernel, checkFile: checked.diagnostics.map((d) => d.code) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await client.shutdown();
  }
}

test('initializationOptions { kernel: "6.6" }: diagnostics, fuselens/simulate and fuselens/checkFile all use 6.6', async () => {
  const seen = await kernelsSeen({ initializationOptions: { kernel: '6.6' } });
  assert.ok(seen.diagnostics.includes('flag-unknown-to-kernel'), JSON.stringify(seen));
  assert.equal(seen.simulate, '6.6');
  assert.ok(seen.checkFile.includes('flag-unknown-to-kernel'), JSON.stringify(seen));
});

test('the canonical shape VS Code sends, as initializationOptions and through workspace/configuration', async () => {
  const initOnly = await kernelsSeen({ initializationOptions: { kernel: { defaultVersion: '6.6' }, simulateOnType: true } });
  assert.equal(initOnly.simulate, '6.6');
  // workspace/configuration (per document) wins over initializationOptions, for every feature alike.
  const pulled = await kernelsSeen({
    initializationOptions: { kernel: { defaultVersion: '6.6' }, simulateOnType: true },
    configuration: { kernel: { defaultVersion: '6.18' }, simulateOnType: true },
  });
  assert.deepEqual(pulled.diagnostics.filter((c) => c === 'flag-unknown-to-kernel'), []);
  assert.equal(pulled.simulate, '6.18');
  assert.deepEqual(pulled.checkFile.filter((c) => c === 'flag-unknown-to-kernel'), []);
});

test('Helix sends its whole config ({ fuselens: {...} }) as initializationOptions', async () => {
  const seen = await kernelsSeen({ initializationOptions: { fuselens: { kernel: { defaultVersion: '6.6' } } } });
  assert.equal(seen.simulate, '6.6');
});
