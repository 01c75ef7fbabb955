// Every input a user can hand a command, as the built binary meets it (issue 15,
// findings 5 and 6): a directory, a socket, a device, a symlink loop, an
// unreadable file, an empty one, a missing one — a clear message and exit 2,
// never an internal error; a reader that stops early ends the command quietly;
// a 200,000-step scenario runs; a million errors cost a thousand lines.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fuselens = join(__dirname, '..', '..', 'bin', 'fuselens');
let dir: string;
let socketServer: Server;
const kinds: Record<string, string> = {};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fuselens-inputs-'));
  chmodSync(dir, 0o755); // `nobody` must reach the unreadable file to be refused by its mode
  kinds.directory = dir;
  kinds.socket = join(dir, 'sock');
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(kinds.socket, resolve));
  kinds['device /dev/null'] = '/dev/null';
  kinds['device /dev/zero'] = '/dev/zero';
  kinds['symlink loop'] = join(dir, 'loop1');
  symlinkSync(join(dir, 'loop2'), join(dir, 'loop1'));
  symlinkSync(join(dir, 'loop1'), join(dir, 'loop2'));
  kinds.unreadable = join(dir, 'unreadable.fusesim');
  writeFileSync(kinds.unreadable, 'file a\nopen a as h\n', { mode: 0o600 });
  kinds.empty = join(dir, 'empty');
  writeFileSync(kinds.empty, '');
  kinds.missing = join(dir, 'missing');
});

after(() => {
  socketServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs fuselens, as `nobody` for the unreadable file (root reads any file). `cpuSeconds`: the most CPU
 * time it may use (RLIMIT_CPU, through prlimit): past it the kernel stops it with SIGXCPU. A bound on
 * the work done, where a wall-clock bound would fail on a busy machine.
 */
function run(args: string[], { asNobody = false, cpuSeconds = 0 } = {}) {
  const [cmd, argv] = asNobody
    ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', fuselens, ...args]]
    : cpuSeconds
      ? ['prlimit', [`--cpu=${cpuSeconds}`, '--', fuselens, ...args]]
      : [fuselens, args];
  return spawnSync(cmd, argv as string[], { encoding: 'utf8', timeout: 60_000, input: '', maxBuffer: 1 << 28 });
}

/** The commands that take a file, and those that take a mountpoint. */
const FILE_COMMANDS = [['check'], ['simulate'], ['run'], ['trace'], ['inspect', '/', '--trace']];
const MOUNT_COMMANDS = [['inspect'], ['track']];

test('each command refuses each input kind it cannot use with a message and exit 2, never an internal error', () => {
  for (const [kind, path] of Object.entries(kinds)) {
    for (const command of [...FILE_COMMANDS, ...MOUNT_COMMANDS]) {
      const args = command[0] === 'inspect' && command.length > 1 ? ['inspect', '--trace', path, '/'] : [...command, path];
      // /dev/zero never ends: refused after a bounded read, not read until memory runs out.
      const r = run(args, { asNobody: kind === 'unreadable', cpuSeconds: kind === 'device /dev/zero' ? 5 : 0 });
      const what = `${args.join(' ')} (${kind})`;
      assert.equal(r.status, 2, `${what}: exit ${r.status} (signal ${r.signal})\n${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, what);
      assert.match(r.stderr, /^fuselens( \w+)?: .+/, what);
      // What was wrong is said in words a user knows (and the errno name, when the kernel gave one).
      const expected: Record<string, RegExp> = {
        directory: /EISDIR \(it is a directory\)|not a FUSE mount/,
        socket: /ENXIO|not a FUSE mount/,
        'device /dev/null': /empty|not JSON|not a FUSE mount/,
        'device /dev/zero': /larger than|not a FUSE trace|not a FUSE mount/,
        'symlink loop': /ELOOP|not a FUSE mount/,
        unreadable: /EACCES \(permission denied\)|not a FUSE mount|root/,
        empty: /empty|not JSON|not a FUSE mount/,
        missing: /ENOENT \(no such file\)|not a FUSE mount/,
      };
      assert.match(r.stderr, expected[kind]!, what);
    }
  }
  const capture = run(['capture', '--connection', '999999', '--seconds', '1']);
  assert.equal(capture.status, 2);
  assert.match(capture.stderr, /no FUSE mount has connection 999999/);
});

test('trace refuses /dev/zero at once, as before', () => {
  const r = run(['trace', '/dev/zero'], { cpuSeconds: 1 });
  assert.equal(r.status, 2, `exit ${r.status} (signal ${r.signal})`);
});

test('check reads a scenario from a FIFO (check <(generate)) to its end', async () => {
  const fifo = join(dir, 'fifo');
  spawnSync('mkfifo', [fifo]);
  const child = spawn(fuselens, ['check', fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  writeFileSync(fifo, 'file a\nopen a as h\nclose h\n');
  const status = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(status, 0, err);
  assert.match(err, /1 file checked, no errors/);
});

/** `file a`, then `open a as h` / `close h` `steps / 2` times: a valid scenario of `steps` steps. */
function longScenario(steps: number): string {
  const file = join(dir, `steps-${steps}.fusesim`);
  writeFileSync(file, 'file a\n' + 'open a as h\nclose h\n'.repeat(steps / 2));
  return file;
}

test('a 200,000-step scenario through check and simulate (text and JSON): no stack overflow', () => {
  const file = longScenario(200_000);
  const check = run(['check', file]);
  assert.equal(check.status, 0, check.stderr);
  const simulate = spawnSync(fuselens, ['simulate', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(simulate.status, 0, simulate.stderr.slice(0, 2000));
  assert.equal(simulate.stdout.trimEnd().split('\n').length, 1 + 200_000);
  const json = spawnSync(fuselens, ['simulate', '--json', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(json.status, 0, json.stderr.slice(0, 2000));
  assert.equal(JSON.parse(json.stdout).steps.length, 200_000);
});

test('simulate | head -1: the closed pipe ends the command quietly, exit 0', async () => {
  // 20,000 steps are far more than a pipe holds; 200,000 (2 MB) go on writing long after the reader has gone.
  for (const [steps, args] of [[20_000, []], [200_000, []], [200_000, ['--json']]] as const) {
    const child = spawn(fuselens, ['simulate', ...args, longScenario(steps)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    const first = await Promise.race([new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString()))), exited.then(() => '')]);
    assert.match(first, args.length ? /^\{"version"/ : /^kernel /, err);
    child.stdout.destroy(); // as `head -1` exits after its line
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [0, null], `${steps} ${args.join(' ')}: ${err}`);
    assert.equal(err, '');
  }
});

test('check of 1,000,000 errors prints the first 1,000 and says how many more; --max-diagnostics changes it', () => {
  const file = join(dir, 'million.fusesim');
  writeFileSync(file, 'file a\n' + 'open a as h\n'.repeat(1_000_000));
  const time = spawnSync('/usr/bin/time', ['-f', '%M', fuselens, 'check', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(time.status, 1);
  const lines = time.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 1001);
  assert.match(lines[0]!, /million\.fusesim:3:11: error duplicate-name/);
  assert.match(lines[999]!, /million\.fusesim:1002:11: error duplicate-name/);
  assert.equal(lines[1000], `${file}: 998999 more diagnostics not shown (--max-diagnostics N shows N, 0 all)`);
  // Peak RSS (kB, last line of time's stderr): the parse of 12 MB of text, not a million diagnostics (1.7 GB before).
  const peakKb = Number(time.stderr.trim().split('\n').at(-1));
  assert.ok(peakKb < 1_300_000, `peak RSS ${peakKb} kB`);

  const five = run(['check', '--max-diagnostics', '5', file]);
  assert.equal(five.stdout.trimEnd().split('\n').length, 6);
  const json = JSON.parse(spawnSync(fuselens, ['check', '--json', file], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout);
  assert.equal(json.files[0].diagnostics.length, 1000);
  assert.equal(json.files[0].omittedDiagnostics, 998999);

  const small = join(dir, 'ten-thousand.fusesim');
  writeFileSync(small, 'file a\n' + 'open a as h\n'.repeat(10_000));
  const all = run(['check', '--max-diagnostics', '0', small]);
  assert.equal(all.stdout.trimEnd().split('\n').length, 9999);
  assert.match(run(['check', '--max-diagnostics', 'x', small]).stderr, /--max-diagnostics wants a count/);
});
