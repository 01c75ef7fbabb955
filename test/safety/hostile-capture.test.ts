// Hostile names through the live paths (issue 15): a daemon captured with
// `fuselens capture --daemon`, the capture read back with `fuselens trace`, and
// the same mount followed by `fuselens track`. The mountpoint, the file and the
// requesting processes' names carry newlines, escape sequences, Markdown/HTML
// syntax and a byte that is not UTF-8; every text output reaches the terminal
// inert and every --json output gives the exact name back.
// Needs root, strace, setpriv and bindfs.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeName } from '../../protocol/byte-names';
import { termText } from '../../server/cli/terminal-text';
import { listMounts } from '../../server/inspect';
import { bindfs, scratch, until, type TestMount } from '../support/fuse-mounts';
import { assertInert, buildCli, CLI, TITLE_AND_CLEAR } from './support';

const has = (cmd: string) => spawnSync('which', [cmd]).status === 0;
const skip = process.getuid?.() !== 0 ? 'needs root' : !['strace', 'setpriv', 'bindfs'].every(has) ? 'needs strace, setpriv and bindfs' : false;

/** comm is at most 15 bytes: an escape sequence, and a name with a byte that is not UTF-8. */
const COMMS = [Buffer.from(TITLE_AND_CLEAR), Buffer.from([0x72, 0xff, 0x0a, 0x3c, 0x69, 0x3e, 0x7c, 0x60])];

let m: TestMount;
let dir = '';
let connection = -1;
let file = '';
const readers: ChildProcess[] = [];

before(async () => {
  if (skip) return;
  await buildCli();
  const s = scratch('fuselens-hostile-capture-', `mnt\n${TITLE_AND_CLEAR} | \`x\` <img src=x onerror=alert(1)>`);
  dir = s.dir;
  const src = join(dir, 'src');
  fs.mkdirSync(src);
  const name = Buffer.concat([Buffer.from(`f\n${TITLE_AND_CLEAR}<img src=x onerror=alert(1)>|\``), Buffer.from([0xfe])]);
  fs.writeFileSync(Buffer.concat([Buffer.from(src + '/'), name]), 'x');
  m = await bindfs(dir, src, s.mountpoint);
  connection = listMounts().mounts.find((x) => x.mountpoint === s.mountpoint)!.connection;
  file = join(s.mountpoint, decodeName(name));
  // Processes with hostile names that open, read and close the file every 50 ms: OPEN/READ/RELEASE to see.
  const path = Buffer.concat([Buffer.from(s.mountpoint + '/'), name]).toString('hex');
  for (const comm of COMMS) {
    const reader = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      fs.writeFileSync('/proc/self/comm', Buffer.from('${comm.toString('hex')}', 'hex'));
      const path = Buffer.from('${path}', 'hex');
      setInterval(() => { try { fs.readFileSync(path); } catch {} }, 50);`], { stdio: 'ignore' });
    readers.push(reader);
  }
  await until(() => readers.every((r) => fs.readFileSync(`/proc/${r.pid}/comm`).length > 1 && !fs.readFileSync(`/proc/${r.pid}/comm`).toString().startsWith('node')), 'the readers to rename themselves');
});

after(async () => {
  for (const r of readers) r.kill('SIGKILL');
  await m?.unmount();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface Output { status: number | null; stdout: Buffer; stderr: Buffer }

/** Runs the built CLI to its end (or until `stopAfterMs`, then SIGINT), keeping the raw bytes. */
function run(args: string[], stopAfterMs?: number): Promise<Output> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TMPDIR: dir } });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  if (stopAfterMs !== undefined) setTimeout(() => child.kill('SIGINT'), stopAfterMs);
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) })));
}


const comms = COMMS.map((c) => decodeName(c));

test('capture --daemon of a mount with hostile names, read back with trace: text inert, JSON exact', { skip }, async () => {
  const capture = join(dir, 'daemon.strace');
  const cap = await run(['capture', '--connection', String(connection), '--daemon', '-o', capture, '--seconds', '2']);
  assert.equal(cap.status, 0, cap.stderr.toString());
  assertInert('capture', cap);

  const text = await run(['trace', capture]);
  assert.equal(text.status, 0, text.stderr.toString());
  assertInert('trace', text);
  for (const comm of comms) assert.ok(text.stdout.toString().includes(termText(comm)), `${termText(comm)} in\n${text.stdout}`);

  const json = await run(['trace', '--json', capture]);
  assertInert('trace --json', json);
  const seen = (JSON.parse(json.stdout.toString()) as { processes: Array<{ comm: string }> }).processes.map((p) => p.comm);
  for (const comm of comms) assert.ok(seen.includes(comm), `${JSON.stringify(comm)} in ${JSON.stringify(seen)}`);
});

test('track of a mount with hostile names: text inert, JSON exact', { skip }, async () => {
  const text = await run(['track', m.mountpoint], 3000);
  assertInert('track', text);
  // A file looked up while tracking is named by its LOOKUP name (the trace has no directory); either form counts.
  assert.ok(text.stdout.toString().includes(termText(basename(file))), `${termText(basename(file))} in\n${text.stdout}`);

  const json = await run(['track', m.mountpoint, '--json'], 3000);
  assertInert('track --json', json);
  const lines = json.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { type: string; source?: { mountpoint: string }; inode?: { path: string } });
  assert.equal(lines[0]?.source?.mountpoint, m.mountpoint, json.stdout.toString());
  assert.ok(lines.some((l) => l.inode?.path === file || l.inode?.path === basename(file)), json.stdout.toString());
});
