// `fuselens capture`: the file it writes reads back, and tracefs is left as it
// was — after a timed capture, after Ctrl-C, after an error — both with a
// private tracefs instance (real tracefs) and with the top-level fallback
// (a tracefs-shaped directory without instances/).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listMounts } from '../../server/inspect';
import { TRACEFS, analyzeTrace, openTraceSource, startCapture } from '../../server/trace';
import { mountWith, scratch, until } from '../support/fuse-mounts';

const run = promisify(execFile);
const ENTRY = join(__dirname, '..', '..', 'server', 'cli', 'entry.ts');

const skip =
  process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(join(TRACEFS, 'events/fuse/fuse_request_send')) ? 'no fuse tracepoints' : false;

/**
 * Top-level fuse event settings, and the instances of captures run by `pid` (other tests on
 * the machine may capture too), or with 'dead' the instances whose process is gone.
 */
function tracefsState(pid: number | 'dead' = process.pid): string {
  const fuse = join(TRACEFS, 'events/fuse');
  const parts = [fs.readFileSync(join(TRACEFS, 'tracing_on'), 'utf8')];
  for (const e of fs.readdirSync(fuse).filter((n) => n.startsWith('fuse_request')))
    parts.push(e, fs.readFileSync(join(fuse, e, 'enable'), 'utf8'), fs.readFileSync(join(fuse, e, 'filter'), 'utf8'));
  const mine = (n: string) => (pid === 'dead' ? /^fuselens-\d+-/.test(n) && !fs.existsSync(`/proc/${n.split('-')[1]}`) : n.startsWith(`fuselens-${pid}-`));
  parts.push(...fs.readdirSync(join(TRACEFS, 'instances')).filter(mine));
  return JSON.stringify(parts);
}

test('fuselens capture: Ctrl-C ends the capture, the file reads back, tracefs is as before', { skip }, async (t) => {
  const before = tracefsState();
  const { dir, mountpoint } = scratch('fuselens-capture-cli-');
  const src = join(dir, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, 'a.txt'), 'hello\n');
  const m = await mountWith(dir, mountpoint, 'bindfs', ['-f', src, mountpoint]);
  t.after(() => m.unmount());
  const connection = listMounts().mounts.find((x) => x.mountpoint === mountpoint)!.connection;
  const out = join(tmpdir(), `fuselens-capture-${process.pid}.trace`);
  t.after(() => fs.rmSync(out, { force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'capture', '--connection', String(connection), '-o', out, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  child.stdout.on('data', (d) => (stdout += String(d)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await until(() => /capturing connection/.test(stderr), 'the capture to start');
  assert.notEqual(tracefsState(child.pid), tracefsState(-1), 'its instance exists while capturing');
  for (let i = 0; i < 3; i++) assert.equal((await run('cat', [join(mountpoint, 'a.txt')])).stdout, 'hello\n');
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr);
  assert.equal(tracefsState(child.pid), before, 'its instance is gone');
  assert.equal(tracefsState(), before);
  const result = JSON.parse(stdout) as { requests: number; stoppedBy: string; format: string };
  assert.equal(result.stoppedBy, 'stop');
  assert.equal(result.format, 'ftrace');
  const r = await analyzeTrace(openTraceSource(out));
  assert.deepEqual(r.connections, [connection]);
  assert.equal(r.opcodes.find((o) => o.opcode === 'FUSE_OPEN')?.count, 3, 'three cats, three OPENs');
  assert.equal(result.requests, r.opcodes.reduce((n, o) => n + o.sent, 0), 'the live count matches the file');
});

test('fuselens capture: bad connection and bad usage exit 2 and leave nothing behind', { skip }, async () => {
  const before = tracefsState('dead');
  const r = await run(process.execPath, ['--import', 'tsx', ENTRY, 'capture', '--connection', '999999', '--seconds', '1']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((r as { code: number }).code, 2);
  assert.match((r as { stderr: string }).stderr, /no FUSE mount has connection 999999/);
  const u = await run(process.execPath, ['--import', 'tsx', ENTRY, 'capture']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((u as { code: number }).code, 2);
  assert.equal(tracefsState('dead'), before);
});

test('without tracefs instances the top-level enable, filter and tracing_on are saved and restored', async () => {
  // A tracefs-shaped directory: no instances/, so the capture uses (and must restore) the top level.
  const root = fs.mkdtempSync(join(tmpdir(), 'fuselens-fake-tracefs-'));
  try {
    const ev = (e: string) => join(root, 'events', 'fuse', e);
    for (const e of ['fuse_request_send', 'fuse_request_end']) {
      fs.mkdirSync(ev(e), { recursive: true });
      fs.writeFileSync(join(ev(e), 'enable'), '0\n');
      fs.writeFileSync(join(ev(e), 'filter'), e === 'fuse_request_end' ? 'error < 0\n' : 'none\n');
    }
    fs.writeFileSync(join(root, 'tracing_on'), '0\n');
    const line = '             cat-4445    [000] ...1.   331.102692: fuse_request_send: connection 41 req 4 opcode 3 (FUSE_GETATTR) len 56 \n';
    fs.writeFileSync(join(root, 'trace_pipe'), line);
    const out = join(root, 'out.trace');
    const seen: number[] = [];
    const capture = await startCapture({ connection: 41, output: out, tracefs: root, seconds: 0.2, checkConnection: false, onProgress: (n) => seen.push(n) });
    // While capturing: enabled, filtered on the connection.
    assert.equal(fs.readFileSync(join(ev('fuse_request_send'), 'enable'), 'utf8'), '1\n');
    assert.equal(fs.readFileSync(join(ev('fuse_request_end'), 'filter'), 'utf8'), 'connection == 41\n');
    assert.equal(fs.readFileSync(join(root, 'tracing_on'), 'utf8'), '1\n');
    const result = await capture.done;
    assert.equal(result.stoppedBy, 'time');
    assert.equal(result.requests, 1);
    assert.ok(seen.includes(1));
    // Restored: enable 0, the old filters ("none" → cleared with 0), tracing_on 0.
    assert.equal(fs.readFileSync(join(ev('fuse_request_send'), 'enable'), 'utf8'), '0\n');
    assert.equal(fs.readFileSync(join(ev('fuse_request_send'), 'filter'), 'utf8'), '0\n');
    assert.equal(fs.readFileSync(join(ev('fuse_request_end'), 'filter'), 'utf8'), 'error < 0\n');
    assert.equal(fs.readFileSync(join(root, 'tracing_on'), 'utf8'), '0\n');
    const r = await analyzeTrace(openTraceSource(out));
    assert.deepEqual([r.format, r.inFlightCount, r.connections], ['ftrace', 1, [41]]);
    // A second stop() is harmless.
    assert.equal((await capture.stop()).stoppedBy, 'time');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
