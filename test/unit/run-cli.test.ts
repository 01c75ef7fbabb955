// The frame of every fuselens bundle (server/cli/run-cli.ts): the command's status
// becomes the exit status, and a command whose promise never settles ends with an
// internal error and status 2 — not the silent status 0 Node gives a drained loop.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const runCli = join(__dirname, '..', '..', 'server', 'cli', 'run-cli.ts');

function run(main: string, frame = '{}'): { status: number | null; stdout: string; stderr: string } {
  const script = `const { runCli } = require(${JSON.stringify(runCli)}); runCli(${main}, ${frame});`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the command\'s status is the exit status', () => {
  const r = run(`async (argv, io) => { io.stdout('done\\n'); return 1; }`);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, 'done\n');
  assert.equal(r.stderr, '');
});

test('a command that never settles ends with an internal error and status 2', () => {
  const r = run(`() => new Promise(() => {})`);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^fuselens: internal error: the command stopped before it finished/);
});

test('process.exit inside a command (the language server, a closed pipe) is left alone', () => {
  const r = run(`() => { setTimeout(() => process.exit(0), 10); return new Promise(() => {}); }`);
  assert.equal(r.status, 0);
  assert.equal(r.stderr, '');
});

test('writeThrough: long text arrives whole through a pipe, astral characters across its chunks included, and the status is the exit status', () => {
  // 200,000 code units: several of writeTextSync's chunks, each ending inside a surrogate pair.
  const main = `async (argv, io) => { io.stderr('warning: é\\n'); io.stdout('a' + '\u{1F600}'.repeat(100000) + '\\n'); return 1; }`;
  const r = run(main, '{ writeThrough: true }');
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, 'a' + '\u{1F600}'.repeat(100000) + '\n');
  assert.equal(r.stderr, 'warning: é\n');
});

test('writeThrough: a command that throws ends with an internal error and status 2', () => {
  const r = run(`async () => { throw new Error('boom'); }`, '{ writeThrough: true }');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^fuselens: internal error: Error: boom/);
});
