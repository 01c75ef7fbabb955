// `fuselens check` and `simulate` as a user runs them: the built binary on the
// examples and on one scenario per row of the rules table (test/scenarios).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inodeTables } from '../../protocol/scenario';
import { stepScenario } from '../lsp/big-scenario';
import { simulateScenario } from '../../server/scenario/simulate';
import { jsonInert } from '../../server/cli/terminal-text';

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
  assert.equal(out.version, 2);
  assert.equal(out.kernel, '6.18');
  assert.deepEqual(out.initialInodes, { 'data.db': { mode: 'idle', iocachectr: 0, backing: null } });
  const denied = out.steps.find((s: { line: number }) => s.line === 12);
  assert.deepEqual(
    { line: denied.line, process: denied.process, action: denied.action, target: denied.target, outcome: denied.outcome, reason: denied.reason, rule: denied.rule },
    { line: 12, process: 'main', action: 'open', target: 'reader2', outcome: 'EIO', reason: 'EINVAL', rule: 'cached-open-on-passthrough-inode' },
  );
  // A step carries only the inodes it changed; the whole table is rebuilt from them.
  assert.deepEqual(denied.inodes, {});
  const opened = out.steps.find((s: { line: number }) => s.line === 11);
  assert.deepEqual(opened.inodes, { 'data.db': { mode: 'passthrough', iocachectr: -1, backing: 'b1' } });
  assert.deepEqual(inodeTables(out)[out.steps.indexOf(denied)]!['data.db'], { mode: 'passthrough', iocachectr: -1, backing: 'b1' });
  assert.deepEqual(out.finalInodes, { 'data.db': { mode: 'passthrough', iocachectr: -1, backing: 'b1' } });
  assert.deepEqual(
    out.diagnostics.map((d: Record<string, unknown>) => [d.line, d.column, d.severity, d.code]),
    [[12, 1, 'error', 'cached-open-on-passthrough-inode']],
  );
});

test('simulate: a human table of steps', () => {
  const r = run('simulate', join(root, 'examples', 'parallel-direct-writes.fusesim'));
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^kernel 6\.18$/m);
  assert.match(r.stdout, /^17\s+reader\s+open c\s+blocks → ok at line 19$/m);
  // Each row shows the inodes its step changed: the last write's end wakes the caching open.
  assert.match(r.stdout, /^19\s+main\s+write-end y\s+ok\s+img=caching\(1\)$/m);
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

/** Runs the built CLI with stdout into a file (a million steps are more than a pipe buffer should hold). */
function runToFile(args: string[], out: string): { status: number | null; stderr: string } {
  const fd = openSync(out, 'w');
  try {
    const r = spawnSync(fuselens, args, { stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
    return { status: r.status, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

async function* linesOf(file: string): AsyncGenerator<string> {
  yield* createInterface({ input: createReadStream(file), crlfDelay: Infinity });
}

/** The `simulate --json` document of a scenario, read one line at a time: its head, its steps through `step`, and its end. */
async function readSimulateJson(file: string, step: (s: { line: number; outcome: string; inodes: object }) => void): Promise<Record<string, unknown>> {
  let head = '';
  let tail = '';
  let inSteps = false;
  for await (const line of linesOf(file)) {
    if (!inSteps && tail === '') {
      head += line;
      if (line === '"steps":[') inSteps = true;
    } else if (inSteps && line.startsWith('{')) {
      step(JSON.parse(line.endsWith(',') ? line.slice(0, -1) : line));
    } else {
      inSteps = false;
      tail += line;
    }
  }
  return JSON.parse(head + tail);
}

test('a million-step scenario through check, simulate and simulate --json: no error, every step written, the JSON one document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-million-'));
  try {
    const file = join(dir, 'million.fusesim');
    writeFileSync(file, stepScenario(1_000_000));
    const out = join(dir, 'out');

    const check = runToFile(['check', file], out);
    assert.equal(check.status, 1, check.stderr.slice(0, 2000)); // the scenario has denials, on purpose
    const checked = readFileSync(out, 'utf8').trimEnd().split('\n');
    assert.equal(checked.length, 1001, 'the first 1,000 diagnostics and how many more');
    assert.match(checked[1000]!, /: \d+ more diagnostics not shown/);

    const text = runToFile(['simulate', file], out);
    assert.equal(text.status, 0, text.stderr.slice(0, 2000));
    let rows = 0;
    let header = '';
    for await (const line of linesOf(out)) {
      if (header === '') header = line;
      else if (/^\d+ /.test(line)) rows++;
    }
    assert.equal(header, 'kernel 6.18');
    assert.equal(rows, 1_000_000);

    const json = runToFile(['simulate', '--json', file], out);
    assert.equal(json.status, 0, json.stderr.slice(0, 2000));
    let steps = 0;
    let lastLine = 0;
    let blocked = 0;
    const doc = await readSimulateJson(out, (s) => {
      steps++;
      assert.ok(s.line > lastLine, `steps in line order (${s.line} after ${lastLine})`);
      lastLine = s.line;
      if (s.outcome === 'blocks') blocked++;
    });
    assert.equal(steps, 1_000_000);
    assert.ok(blocked > 0, 'blocked steps are written too, once woken');
    assert.equal(doc.version, 2);
    assert.equal((doc.diagnostics as unknown[]).length, 1000);
    assert.ok((doc.omittedDiagnostics as number) > 0);
    assert.equal(Object.keys(doc.finalInodes as object).length, 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate --json writes each step as JSON.stringify does (its steps are written by their known fields, then by writeJson)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-'));
  try {
    const steps = join(dir, 'steps.fusesim');
    writeFileSync(steps, stepScenario(2_000));
    for (const file of [...scenarios.map((f) => join(root, f)), join(root, 'examples', DEMO), steps]) {
      const lines = execFileSync(fuselens, ['simulate', '--json', file], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n');
      const from = lines.indexOf('"steps":[') + 1;
      const written = lines.slice(from, lines.findIndex((l, i) => i >= from && l.startsWith(']'))).map((l) => l.replace(/,$/, ''));
      const expected = simulateScenario(readFileSync(file, 'utf8')).steps.map((s) => jsonInert(JSON.stringify(s)));
      assert.deepEqual(written, expected, file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('simulate --json is one document, whose steps rebuild the tables of the simulation; --max-diagnostics bounds its diagnostics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-'));
  try {
    const file = join(dir, 'steps.fusesim');
    writeFileSync(file, stepScenario(2_000));
    const all = JSON.parse(execFileSync(fuselens, ['simulate', '--json', '--max-diagnostics', '0', file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
    assert.equal(all.steps.length, 2_000);
    assert.equal(all.omittedDiagnostics, undefined);
    assert.deepEqual(inodeTables(all).at(-1), all.finalInodes);
    const five = JSON.parse(execFileSync(fuselens, ['simulate', '--json', '--max-diagnostics', '5', file], { encoding: 'utf8', maxBuffer: 1 << 28 }));
    assert.deepEqual(five.diagnostics, all.diagnostics.slice(0, 5));
    assert.equal(five.omittedDiagnostics, all.diagnostics.length - 5);
    assert.deepEqual(five.steps, all.steps);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
