// The fuselens/* requests (protocol/messages.ts) through a real LSP connection
// to the built server (dist/server.js over stdio, test/lsp/client.ts): what
// the timeline, the sidebar, the trace view and the run command get. Real
// mounts (bindfs), a real process holding a file, real traces and captures.

import { execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import { Notifications, Requests, type CaptureProgress, type OpenTraceResult, type RequestSpec, type TraceProgress } from '../../protocol/messages';
import { LspClient, ROOT } from '../lsp/client';
import { examplesWithHeldFile, until, type TestMount } from '../support/fuse-mounts';

const QUICK_FIX = join(ROOT, 'examples', 'try-quick-fix.fusesim');

function ask<P, R>(client: LspClient, spec: RequestSpec<P, R>, params: P, ms = 30_000): Promise<R> {
  return client.within(ms, spec.method, client.connection.sendRequest(spec.method, params) as Promise<R>);
}

describe('fuselens/* requests over a real LSP connection', { timeout: 180_000 }, () => {
  let client: LspClient;
  let mount: TestMount;
  let holder: ChildProcess;

  before(async () => {
    client = await LspClient.start({ configuration: {} });
    ({ mount, holder } = await examplesWithHeldFile('fuselens-custom-'));
  });

  after(async () => {
    holder?.kill('SIGKILL');
    await client?.shutdown().catch(() => client.kill());
    await mount?.unmount();
  });

  test('simulate: the open document, its denied step, and again after an edit', async () => {
    const uri = 'file:///virtual/timeline.fusesim';
    const text = readFileSync(QUICK_FIX, 'utf8');
    await client.open(uri, text);
    const first = await ask(client, Requests.simulate, { uri });
    assert.ok(first);
    assert.equal(first.version, 1);
    const denied = first.steps.filter((s) => !['ok', 'blocks', 'skipped'].includes(s.outcome));
    assert.deepEqual(denied.map((s) => [s.line, s.outcome]), [[12, 'EIO']]);
    await client.replace(uri, text.replace('open data.db as reader2', 'open data.db as reader2 reply passthrough backing=b1'));
    const second = await ask(client, Requests.simulate, { uri });
    assert.ok(second);
    assert.equal(second.version, 2);
    assert.equal(second.steps.find((s) => s.line === 12)?.outcome, 'ok');
  });

  test('simulate: an unknown document is null, not an error', async () => {
    assert.equal(await ask(client, Requests.simulate, { uri: 'file:///nowhere/missing.fusesim' }), null);
  });

  test('checkFile: a scenario on disk gets the same diagnostics the editor shows, with the rule page', async () => {
    const result = await ask(client, Requests.checkFile, { uri: pathToFileURL(QUICK_FIX).href });
    assert.equal(result.error, undefined);
    const errors = result.diagnostics.filter((d) => d.severity === 1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.range.start.line, 11);
    assert.equal(errors[0]!.code, 'cached-open-on-passthrough-inode');
    assert.match(errors[0]!.codeDescription?.href ?? '', /docs\/rules\/cached-open-on-passthrough-inode\.md$/);
    const missing = await ask(client, Requests.checkFile, { uri: 'file:///nowhere/missing.fusesim' });
    assert.match(missing.error ?? '', /ENOENT/);
  });

  test('listMounts and inspectMount: the bindfs mount, its daemon, and the file tail holds open', async () => {
    const { mounts, cpuMs } = await ask(client, Requests.listMounts, {});
    const m = mounts.find((x) => x.mountpoint === mount.mountpoint);
    assert.ok(m, `${mount.mountpoint} not among ${mounts.map((x) => x.mountpoint).join(', ')}`);
    assert.equal(m.daemon?.pid, mount.pid);
    // The refresh pacer's measure: reading all of /proc costs CPU, and a few seconds of it is not plausible.
    assert.ok(cpuMs > 0 && cpuMs < 5000, `listMounts cpuMs ${cpuMs}`);
    const { inspection, cpuMs: inspectMs } = await ask(client, Requests.inspectMount, { mountpoint: mount.mountpoint });
    assert.ok(inspection);
    assert.ok(inspectMs > 0 && inspectMs < 5000, `inspectMount cpuMs ${inspectMs}`);
    const held = inspection.inodes.find((i) => i.path === join(mount.mountpoint, 'held.txt'));
    assert.ok(held);
    assert.ok(held.opens.some((o) => o.pid === holder.pid && o.flags[0] === 'O_RDONLY'));
    const gone = await ask(client, Requests.inspectMount, { mountpoint: '/definitely/not/a/mount' });
    assert.equal(gone.inspection, null);
    assert.ok(gone.error);
  });

  test('exportScenario: the mount as a scenario that parses', async () => {
    const { text } = await ask(client, Requests.exportScenario, { mountpoint: mount.mountpoint });
    assert.match(text, /^file held\.txt$/m);
    const uri = 'file:///virtual/exported.fusesim';
    const diagnostics = await client.open(uri, text);
    assert.deepEqual(diagnostics.filter((d) => d.severity === 1), []);
  });

  test('setConnectionLimits: a real fusectl write, and a gone connection keeps its errno', async () => {
    const m = (await ask(client, Requests.listMounts, {})).mounts.find((x) => x.mountpoint === mount.mountpoint)!;
    const set = await ask(client, Requests.setConnectionLimits, { connection: m.connection, maxBackground: 13 });
    assert.ok(set.ok, JSON.stringify(set));
    assert.equal(set.stats?.maxBackground, 13);
    assert.equal(readFileSync(`/sys/fs/fuse/connections/${m.connection}/max_background`, 'utf8').trim(), '13');
    const gone = await ask(client, Requests.setConnectionLimits, { connection: 999_999, maxBackground: 13 });
    assert.equal(gone.ok, false);
    assert.ok(!gone.ok && gone.errno === 'ENOENT', JSON.stringify(gone));
  });

  test('openTrace: a recorded tracefs capture becomes a trace view; garbage is a clear failure', async () => {
    const result = await ask(client, Requests.openTrace, { path: join(ROOT, 'test', 'fixtures', 'trace', 'bindfs.ftrace') });
    assert.ok(result.ok, JSON.stringify(result));
    const view = result.view;
    assert.equal(view.report.format, 'ftrace');
    assert.ok(view.report.requests > 0);
    const counted = view.histograms.reduce((n, h) => n + h.counts.reduce((a, b) => a + b, 0), 0);
    assert.equal(counted, view.report.requests, 'every paired request is in a histogram bucket');
    assert.equal(view.timeline.length, Math.min(view.report.requests, view.timelineLimit));
    assert.ok(view.timeline.every((r, i) => i === 0 || (r.startUs ?? 0) >= (view.timeline[i - 1]!.startUs ?? 0)), 'timeline in time order');
    const bad = await ask(client, Requests.openTrace, { path: join(ROOT, 'package.json') });
    assert.equal(bad.ok, false);
  });

  test('openTrace with a progressId: progress up to the whole file; cancelling stops the read', async (t) => {
    // About 90 MB of real tracefs lines (the bindfs fixture's events, repeated): several progress notifications.
    const events = readFileSync(join(ROOT, 'test', 'fixtures', 'trace', 'bindfs.ftrace'), 'utf8').split('\n').filter((l) => l.includes('fuse_request_'));
    const block = Buffer.from(Array.from({ length: 500 }, () => events.join('\n') + '\n').join(''));
    const path = join(tmpdir(), `fuselens-progress-${process.pid}.ftrace`);
    t.after(() => rmSync(path, { force: true }));
    writeFileSync(path, '');
    for (let i = 0; i < 40; i++) appendFileSync(path, block);
    const size = statSync(path).size;
    const progress: TraceProgress[] = [];
    const sub = client.connection.onNotification(Notifications.traceProgress.method, (p: unknown) => void progress.push(p as TraceProgress));
    t.after(() => sub.dispose());

    const whole = await ask(client, Requests.openTrace, { path, progressId: 'whole' });
    assert.ok(whole.ok, JSON.stringify(whole));
    assert.equal(whole.view.report.requests, 19 * 500 * 40);
    const mine = progress.filter((p) => p.progressId === 'whole');
    assert.ok(mine.length >= 1);
    assert.ok(mine.every((p, i) => p.total === size && (i === 0 || p.bytes >= mine[i - 1]!.bytes)), 'bytes only grow, of the file size');
    assert.equal(mine.at(-1)!.bytes, size, 'the last notification is the whole file');

    // Cancelled as soon as it is sent: the server has read at most a few chunks when $/cancelRequest arrives.
    const source = new CancellationTokenSource();
    const pending = client.connection.sendRequest(Requests.openTrace.method, { path, progressId: 'cancelled' }, source.token) as Promise<OpenTraceResult>;
    source.cancel();
    const cancelled = await client.within(30_000, 'the cancelled openTrace', pending);
    assert.ok(!cancelled.ok && cancelled.errno === 'ECANCELED', JSON.stringify(cancelled).slice(0, 200));
    const seen = progress.filter((p) => p.progressId === 'cancelled');
    assert.ok(seen.every((p) => p.bytes < size), 'the read stopped before the end of the file');
  });

  test('openTrace on a FIFO (as on trace_pipe): read until cancelled, then what was read is shown', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'fuselens-fifo-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fifo = join(dir, 'trace_pipe');
    execFileSync('mkfifo', [fifo]);
    const lines = readFileSync(join(ROOT, 'test', 'fixtures', 'trace', 'bindfs.ftrace'));
    let read = 0;
    const gotAll = new Promise<void>((resolve) => {
      const sub = client.connection.onNotification(Notifications.traceProgress.method, (p: TraceProgress) => {
        if (p.progressId !== 'fifo') return;
        read = p.bytes;
        if (p.bytes === lines.length) {
          sub.dispose();
          resolve();
        }
      });
    });
    const source = new CancellationTokenSource();
    const pending = client.connection.sendRequest(Requests.openTrace.method, { path: fifo, progressId: 'fifo' }, source.token) as Promise<OpenTraceResult>;
    const writer = await open(fifo, 'w'); // once the server has it open; stays open: the FIFO never ends by itself
    t.after(() => writer.close());
    await writer.write(lines);
    await client.within(30_000, `the server to read the ${lines.length} bytes (read ${read})`, gotAll);
    source.cancel();
    const result = await client.within(30_000, 'openTrace after the cancel', pending);
    assert.ok(result.ok, JSON.stringify(result));
    assert.deepEqual([result.view.report.events, result.view.report.requests], [38, 19]);
    assert.match(result.view.report.warnings[0]!, /does not end: this is what was read/);
  });

  test('startCapture / captureProgress / stopCapture on the bindfs mount', async () => {
    const m = (await ask(client, Requests.listMounts, {})).mounts.find((x) => x.mountpoint === mount.mountpoint)!;
    const progress: CaptureProgress[] = [];
    client.connection.onNotification(Notifications.captureProgress.method, (p: unknown) => void progress.push(p as CaptureProgress));
    const started = await ask(client, Requests.startCapture, { mountpoint: m.mountpoint, connection: m.connection, daemon: false });
    assert.ok(started.ok, JSON.stringify(started));
    await until(() => {
      readFileSync(join(mount.mountpoint, 'held.txt'));
      return progress.some((p) => p.captureId === started.captureId && p.events > 0);
    }, 'a progress notification counting requests', 30_000);
    const stopped = await ask(client, Requests.stopCapture, { captureId: started.captureId });
    assert.ok(stopped.ok, JSON.stringify(stopped));
    const opened = await ask(client, Requests.openTrace, { path: stopped.path });
    assert.ok(opened.ok && opened.view.report.opcodes.some((o) => o.opcode === 'FUSE_READ' || o.opcode === 'FUSE_OPEN'));
    const again = await ask(client, Requests.stopCapture, { captureId: started.captureId });
    assert.equal(again.ok, false);
  });

  test('runScenario: the kernel beside the simulation', async () => {
    const uri = pathToFileURL(join(ROOT, 'examples', 'passthrough-and-direct-io.fusesim')).href;
    const result = await ask(client, Requests.runScenario, { uri }, 120_000);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.report.uri, uri);
    assert.equal(result.report.differences, 0);
    assert.ok(result.report.steps.every((s) => typeof s.simulated === 'string'));
  });
});
