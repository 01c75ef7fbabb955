// The settings every feature reads, over a real LSP connection to the built
// server (test/lsp/client.ts): the custom requests answer for the same default
// kernel as the diagnostics, whichever way the client sent it. And the one
// settings shape (protocol/settings.ts) against package.json's keys.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Requests, type RequestSpec } from '../../protocol/messages';
import { DEFAULT_SETTINGS, SETTINGS_SECTION, defaultKernel, readSettings } from '../../protocol/settings';
import { parseKernelVersion } from '../../server/model/kernel-version';
import { LspClient, ROOT, freshUri, type StartOptions } from '../lsp/client';

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

test('package.json contributes every key of the settings the client sends, with the same default and type', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { type: string; default: unknown }> } };
  };
  const contributed = pkg.contributes.configuration.properties;
  const keys = (value: unknown, prefix: string): Array<[string, unknown]> =>
    value !== null && typeof value === 'object'
      ? Object.entries(value).flatMap(([k, v]) => keys(v, `${prefix}.${k}`))
      : [[prefix, value]];
  const settings = keys(DEFAULT_SETTINGS, SETTINGS_SECTION);
  assert.deepEqual(settings.map(([k]) => k).sort(), ['fuselens.kernel.defaultVersion', 'fuselens.simulateOnType']);
  for (const [key, value] of settings) {
    assert.ok(contributed[key], `${key} is not contributed`);
    assert.equal(contributed[key].default, value, key);
    assert.equal(contributed[key].type, typeof value, key);
  }
  // What VS Code answers for the section is the settings themselves.
  assert.deepEqual(readSettings({ kernel: { defaultVersion: '' }, simulateOnType: true, mounts: { refreshInterval: 5 } }), DEFAULT_SETTINGS);
});

test('readSettings: the shorter shapes, `newest`, and what it ignores', () => {
  const base = readSettings({ kernel: '6.9', simulateOnType: false });
  assert.deepEqual(base, { kernel: { defaultVersion: '6.9' }, simulateOnType: false });
  assert.deepEqual(readSettings({ fuselens: { kernel: '6.12' } }, base), { kernel: { defaultVersion: '6.12' }, simulateOnType: false });
  assert.deepEqual(readSettings({ kernel: 'newest' }, base).kernel, { defaultVersion: '' });
  assert.deepEqual(readSettings({ kernel: ' 6.6 ' }, base).kernel, { defaultVersion: '6.6' });
  // Not a version: the base's kernel is kept; a wrong type for simulateOnType too.
  assert.deepEqual(readSettings({ kernel: 'linux', simulateOnType: 'yes' }, base), base);
  assert.deepEqual(readSettings(null, base), base);
  // A kernel setting is taken exactly when the model can read it as a version.
  for (const text of ['6.9', '6.18', '7.3', '6.6.10', '6', '6.x', 'v6.9', '6.9-rc1']) {
    const taken = readSettings({ kernel: text }, DEFAULT_SETTINGS).kernel.defaultVersion === text;
    assert.equal(taken, parseKernelVersion(text) !== undefined, text);
  }
  assert.equal(defaultKernel(DEFAULT_SETTINGS), undefined);
  assert.equal(defaultKernel(base), '6.9');
});
