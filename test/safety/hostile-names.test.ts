// Names chosen by whoever can make a mountpoint, a file, a process or a scenario
// (issue 15, finding 4): through every CLI text output they reach the terminal
// inert — control characters as escapes, never raw — and through --json they
// come back exactly as written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonText, termText } from '../../server/cli/terminal-text';
import { bindfs, until } from '../support/fuse-mounts';
import { inertText } from '../../protocol/inert-text';
import { md } from '../../extension/mountReport';
import { assertInert, rawControls, TITLE_AND_CLEAR } from './support';

const root = join(__dirname, '..', '..');
const fuselens = join(root, 'bin', 'fuselens');

const HOSTILE = ['line\nbreak', 'back`tick', 'pi|pe', '<img src=x onerror=alert(1)>', TITLE_AND_CLEAR, 'csi\u009b31m', 'bidi\u202eevil'];

function cli(args: string[]): { status: number | null; stdout: Buffer; stderr: Buffer } {
  const r = spawnSync(fuselens, args, { encoding: 'buffer', timeout: 30000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}


test('termText writes every control as an escape and leaves other text alone', () => {
  assert.equal(termText(TITLE_AND_CLEAR), '\\x1b]0;pwned\\x07\\x1b[2J');
  assert.equal(termText('a/b\nc\td\re'), 'a/b\\nc\\td\\re');
  assert.equal(termText('\u009b\u0085\u202e\ud800'), '\\x9b\\x85\\u{202e}\\u{d800}');
  assert.equal(termText('plain é ✓ 🙂 <img> `x` |'), 'plain é ✓ 🙂 <img> `x` |');
  for (const s of HOSTILE) assert.deepEqual(rawControls(Buffer.from(termText(s))), [], s);
  // JSON: parses back to the exact strings, and prints inertly (C1 and bidi as \u escapes too).
  const doc = jsonText({ names: HOSTILE });
  assert.deepEqual(JSON.parse(doc), { names: HOSTILE });
  assert.deepEqual(rawControls(Buffer.from(doc)), []);
});

test('tree labels (inertText) and Markdown tooltips (md) show hostile names as one inert line', () => {
  for (const s of HOSTILE) {
    assert.deepEqual(rawControls(Buffer.from(inertText(s))), [], s);
    assert.ok(!inertText(s).includes('\n'), s);
    const m = md(s);
    assert.deepEqual(rawControls(Buffer.from(m)), [], s);
    assert.doesNotMatch(m, /(?<!\\)[<`|]/, `${s}: Markdown syntax left unescaped in ${m}`);
  }
  assert.equal(inertText(TITLE_AND_CLEAR), termText(TITLE_AND_CLEAR));
});

test('check and simulate: scenario text with escapes, newlines in strings and invalid UTF-8 reaches the terminal inert', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-hostile-'));
  try {
    const file = join(dir, 'evil\x1b[2J.fusesim');
    writeFileSync(file, Buffer.concat([
      Buffer.from(`scenario "${TITLE_AND_CLEAR} <img src=x onerror=alert(1)> | \`x\` \u009b"\nfile a\nopen ${TITLE_AND_CLEAR} as h\nopen a as h\nopen a as h\n${HOSTILE.join(' ')}\ncsi\u009b31m\nbidi\u202eevil\n`),
      Buffer.from([0xff, 0xfe, 0x0a]),
    ]));
    const check = cli(['check', file]);
    assert.equal(check.status, 1, check.stderr.toString());
    assertInert('check', check);
    assert.match(check.stdout.toString(), /evil\\x1b\[2J\.fusesim:3:/);
    const simulate = cli(['simulate', file]);
    assertInert('simulate', simulate);
    const json = cli(['check', '--json', file]);
    assertInert('check --json', json);
    assert.equal(JSON.parse(json.stdout.toString()).files[0].file, file);
    // simulate --json escapes C1 and bidi a 64 KiB chunk at a time: the messages still parse back exact.
    const simulateJson = cli(['simulate', '--json', file]);
    assertInert('simulate --json', simulateJson);
    const messages = (JSON.parse(simulateJson.stdout.toString()) as { diagnostics: { message: string }[] }).diagnostics.map((d) => d.message);
    assert.ok(messages.some((m) => m.includes('csi\u009b31m')) && messages.some((m) => m.includes('bidi\u202eevil')), messages.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('trace: a comm name with escape sequences, text inert and JSON exact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-hostile-'));
  try {
    const comm = `${TITLE_AND_CLEAR}|\`<img>`;
    const file = join(dir, 'hostile.ftrace');
    writeFileSync(file, readFileSync(join(root, 'test', 'fixtures', 'trace', 'lab-refused-open.ftrace'), 'utf8').replaceAll('cat-4394', `${comm}-4394`));
    const text = cli(['trace', file]);
    assert.equal(text.status, 0, text.stderr.toString());
    assertInert('trace', text);
    assert.match(text.stdout.toString(), /4394 {2}\\x1b\]0;pwned\\x07\\x1b\[2J\|`<img>/);
    const json = cli(['trace', '--json', file]);
    assertInert('trace --json', json);
    assert.ok(JSON.parse(json.stdout.toString()).processes.some((p: { comm: string }) => p.comm === comm));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mounts and inspect: a bindfs mount at a hostile path, a hostile file name, processes with hostile names', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-hostile-'));
  const source = join(dir, 'src');
  const mountpoint = join(dir, `mnt\n${TITLE_AND_CLEAR} | \`x\` <img src=x onerror=alert(1)>`);
  mkdirSync(source);
  mkdirSync(mountpoint);
  const fileName = `file\n${TITLE_AND_CLEAR}<img src=x onerror=alert(1)>|\``;
  writeFileSync(join(source, fileName), 'x');
  const mount = await bindfs(dir, source, mountpoint);
  // comm is at most 15 bytes; one holder per kind of hostility, each holding the file open.
  const comms = [Buffer.from(TITLE_AND_CLEAR), Buffer.from('a\n|`<img x>'), Buffer.from([0x62, 0xff, 0x1b, 0x5b, 0x32, 0x4a])];
  const holders = comms.map((comm) =>
    spawn(process.execPath, ['-e', `
      const fs = require('fs');
      fs.writeFileSync('/proc/self/comm', Buffer.from(process.env.COMM_HEX, 'hex'));
      fs.openSync(process.env.HELD, 'r');
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1e6);`], { env: { COMM_HEX: comm.toString('hex'), HELD: join(mountpoint, fileName) }, stdio: ['ignore', 'pipe', 'inherit'] }));
  t.after(async () => {
    for (const h of holders) h.kill('SIGKILL');
    await mount.unmount();
    rmSync(dir, { recursive: true, force: true });
  });
  await Promise.all(holders.map((h) => new Promise((resolve) => h.stdout!.once('data', resolve))));
  await until(() => holders.every((h) => readFileSync(`/proc/${h.pid}/comm`).length > 1), 'the holders to rename themselves');

  const mounts = cli(['mounts']);
  assert.equal(mounts.status, 0, mounts.stderr.toString());
  assertInert('mounts', mounts);
  assert.ok(mounts.stdout.toString().includes(termText(mountpoint)), mounts.stdout.toString());
  const mountsJson = cli(['mounts', '--json']);
  assertInert('mounts --json', mountsJson);
  assert.ok(JSON.parse(mountsJson.stdout.toString()).some((m: { mountpoint: string }) => m.mountpoint === mountpoint));

  const inspect = cli(['inspect', mountpoint]);
  assert.equal(inspect.status, 0, inspect.stderr.toString());
  assertInert('inspect', inspect);
  const out = inspect.stdout.toString();
  assert.ok(out.includes(termText(join(mountpoint, fileName))), out);
  assert.ok(out.includes('\\x1b]0;pwned\\x07\\x1b[2J'), out);
  assert.ok(out.includes('a\\n|`<img x>'), out);
  const exported = cli(['inspect', mountpoint, '--export-scenario']);
  assertInert('inspect --export-scenario', exported);

  const json = cli(['inspect', '--json', mountpoint]);
  assertInert('inspect --json', json);
  const ins = JSON.parse(json.stdout.toString());
  assert.equal(ins.mount.mountpoint, mountpoint);
  const inode = ins.inodes.find((i: { path: string }) => i.path === join(mountpoint, fileName));
  assert.ok(inode, JSON.stringify(ins.inodes.map((i: { path: string }) => i.path)));
  const seen = inode.opens.map((o: { comm: string }) => o.comm);
  assert.ok(seen.includes(TITLE_AND_CLEAR), JSON.stringify(seen));
  assert.ok(seen.includes('a\n|`<img x>'), JSON.stringify(seen));
  // A byte that is not UTF-8 travels as its U+DC80–DCFF stand-in (protocol/byte-names.ts), not U+FFFD.
  assert.ok(seen.includes('b\udcff\x1b[2J'), JSON.stringify(seen));
});
