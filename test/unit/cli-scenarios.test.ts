// `fuselens check` and `simulate` as a user runs them: the built binary on the
// examples and on one scenario per row of the rules table (test/scenarios).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const fuselens = join(root, 'bin', 'fuselens');
const run = (...args: string[]) => spawnSync(fuselens, args, { encoding: 'utf8' });

/** The example that shows an unexpected denial on purpose, for the editor's quick fix. */
const DEMO = 'try-quick-fix.fusesim';
const scenarios = [
  ...readdirSync(join(root, 'test', 'scenarios')).map((f) => join('test', 'scenarios', f)),
  ...readdirSync(join(root, 'examples')).filter((f) => f !== DEMO).map((f) => join('examples', f)),
].filter((f) => f.endsWith('.fusesim'));

test('the rules table is covered: every scenario states outcomes, and check passes on all', () => {
  assert.ok(scenarios.length >= 40, `only ${scenarios.length} scenarios`);
  for (const file of scenarios) {
    const text = readFileSync(join(root, file), 'utf8');
    assert.match(text, /=> |expect /, `${file} states no outcome`);
  }
  const r = spawnSync(fuselens, ['check', ...scenarios], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('every stated outcome is the simulated one (check --json has no error)', () => {
  const out = JSON.parse(execFileSync(fuselens, ['check', '--json', ...scenarios], { encoding: 'utf8', cwd: root }));
  assert.equal(out.files.length, scenarios.length);
  assert.deepEqual(out.files.map((f: { file: string }) => f.file), scenarios);
  for (const f of out.files) {
    assert.deepEqual(f.diagnostics.filter((d: { severity: string }) => d.severity === 'error'), [], f.file);
  }
});

test('check: compiler-style output and exit 1 on the demo example', () => {
  const r = run('check', join(root, 'examples', DEMO));
  assert.equal(r.status, 1);
  assert.match(r.stdout, /try-quick-fix\.fusesim:12:1: error cached-open-on-passthrough-inode: data\.db is in passthrough mode, held by writer \(line 11\) → EIO: .*In the kernel: EINVAL inside fuse_file_io_open, turned into EIO/);
});

test('simulate --json follows the contract', () => {
  const out = JSON.parse(execFileSync(fuselens, ['simulate', '--json', join(root, 'examples', DEMO)], { encoding: 'utf8' }));
  assert.equal(out.kernel, '6.18');
  const denied = out.steps.find((s: { line: number }) => s.line === 12);
  assert.deepEqual(
    { line: denied.line, process: denied.process, action: denied.action, target: denied.target, outcome: denied.outcome, reason: denied.reason, rule: denied.rule },
    { line: 12, process: 'main', action: 'open', target: 'reader2', outcome: 'EIO', reason: 'EINVAL', rule: 'cached-open-on-passthrough-inode' },
  );
  assert.deepEqual(denied.inodes['data.db'], { mode: 'passthrough', iocachectr: -1, backing: 'b1' });
  assert.deepEqual(
    out.diagnostics.map((d: Record<string, unknown>) => [d.line, d.column, d.severity, d.code]),
    [[12, 1, 'error', 'cached-open-on-passthrough-inode']],
  );
});

test('simulate: a human table of steps', () => {
  const r = run('simulate', join(root, 'examples', 'parallel-direct-writes.fusesim'));
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^kernel 6\.18$/m);
  assert.match(r.stdout, /reader\s+open c\s+blocks → ok at line 19\s+img=uncached\(-2\)/);
});

test('exit 2 for bad usage and unreadable files; --help and --version', () => {
  assert.equal(run('check').status, 2);
  assert.equal(run('check', '--frob', 'x').status, 2);
  const missing = run('check', '/nonexistent.fusesim');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read \/nonexistent\.fusesim: ENOENT/);
  assert.equal(run('simulate', 'a', 'b').status, 2);
  assert.equal(run('frobnicate').status, 2);
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /check\s+report what the kernel would deny/);
  assert.match(run('--version').stdout, /^fuselens \d+\.\d+\.\d+/);
  assert.match(run('check', '--help').stdout, /usage: fuselens check FILE\.\.\./);
});

test('check reads several files, in order, and --kernel picks the rules', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-'));
  writeFileSync(join(dir, 'a.fusesim'), 'file a\nopen a as d reply direct_io\nmmap d shared as m => ENODEV\n');
  writeFileSync(join(dir, 'b.fusesim'), 'file b\n');
  const ok = run('check', '--kernel', '6.18', join(dir, 'a.fusesim'), join(dir, 'b.fusesim'));
  assert.equal(ok.status, 0, ok.stdout);
  const old = run('check', '--json', '--kernel', '6.1', join(dir, 'a.fusesim'));
  assert.equal(old.status, 0);
});
