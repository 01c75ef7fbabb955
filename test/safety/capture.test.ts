// `fuselens capture` and `fuselens track` killed at any moment: the user's
// daemon (bindfs here) is never left traced, stopped or killed; strace dies
// with its capturer (PR_SET_PDEATHSIG); a tracefs instance or tracking temp
// dir a SIGKILL leaves is removed by the next capture or tracking, which
// works; and what a capture saw is in its file up to the last second.
// Needs root, strace, setpriv, bindfs and the fuse tracepoints.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { listMounts } from '../../server/inspect';
import { STRACE_ARGS } from '../../server/trace';
import { bindfs, scratch, type TestMount } from '../support/fuse-mounts';
import {
  assertDaemonServes, buildCli, fuselens, instancesOf, killAtRandomMoment, random, SEED, soon, tracerPid, TRACEFS, type Cli,
} from './support';

const has = (cmd: string) => spawnSync('which', [cmd]).status === 0;
const skip =
  process.getuid?.() !== 0 ? 'needs root'
  : !fs.existsSync(join(TRACEFS, 'events/fuse/fuse_request_send')) ? 'no fuse tracepoints'
  : !['strace', 'setpriv', 'bindfs'].every(has) ? 'needs strace, setpriv and bindfs'
  : false;

let m: TestMount;
let connection = -1;
let tmp = '';
let traffic: NodeJS.Timeout | undefined;
/** While true the daemon is idle: a tracer that is not killed stays attached (nothing makes it write). */
let quiet = false;

before(async () => {
  if (skip) return;
  await buildCli();
  const s = scratch('fuselens-safety-capture-');
  const src = join(s.dir, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, 'a.txt'), 'hello\n');
  tmp = join(s.dir, 'tmp');
  fs.mkdirSync(tmp);
  m = await bindfs(s.dir, src, s.mountpoint);
  connection = listMounts().mounts.find((x) => x.mountpoint === s.mountpoint)!.connection;
  // Requests all along (an open, a read, a release each time): a capture always has something to write.
  const read = () => fs.promises.readFile(join(s.mountpoint, 'a.txt')).catch(() => undefined);
  traffic = setInterval(() => quiet || void read(), 20);
});
after(async () => {
  clearInterval(traffic);
  await m?.unmount();
});

const captureArgs = (daemon: boolean, out: string) => ['capture', '--connection', String(connection), ...(daemon ? ['--daemon'] : []), '-o', out];

/** What `fuselens trace FILE --json` finds in a capture. */
async function requestsIn(file: string): Promise<number> {
  const t = fuselens(['trace', file, '--json'], tmp);
  await t.exited;
  return (JSON.parse(t.stdout()) as { requests: number }).requests;
}

async function killedAfter(cli: Cli, ms: number, signal: NodeJS.Signals): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  cli.child.kill(signal);
  await cli.exited;
}

test('capture --daemon killed with SIGKILL: strace detaches at once, and what it saw is in the file (finding 2)', { skip }, async () => {
  const out = join(tmp, 'killed.strace');
  const cap = fuselens(captureArgs(true, out), tmp);
  assert.ok(await soon(() => /capturing connection/.test(cap.stderr()), 10000), cap.stderr());
  assert.notEqual(tracerPid(m.pid), 0, 'traced while capturing');
  await new Promise((r) => setTimeout(r, 1500));
  // Killed while the daemon is idle: an strace that outlived its capturer would stay attached.
  quiet = true;
  try {
    await new Promise((r) => setTimeout(r, 100));
    await killedAfter(cap, 0, 'SIGKILL');
    await assertDaemonServes(m.pid);
  } finally {
    quiet = false;
  }
  assert.ok((await requestsIn(out)) > 10, 'the requests of 1.5 s are in the file');
  const again = fuselens([...captureArgs(true, join(tmp, 'again.strace')), '--seconds', '0.3'], tmp);
  assert.equal((await again.exited).code, 0, again.stderr());
});

test('an strace of ours orphaned on the daemon: the next capture detaches it first; clean too', { skip }, async () => {
  const orphan = () => {
    // setsid -f: strace's parent exits at once, so it is reparented to init, as a killed capturer's was.
    spawnSync('setsid', ['-f', 'strace', ...STRACE_ARGS, '-o', '|cat', '-p', String(m.pid)], { stdio: 'ignore' });
    return soon(() => tracerPid(m.pid) !== 0, 5000);
  };
  assert.ok(await orphan(), 'the orphan strace attached');
  const cap = fuselens([...captureArgs(true, join(tmp, 'after-orphan.strace')), '--seconds', '0.3'], tmp);
  assert.equal((await cap.exited).code, 0, cap.stderr());
  assert.match(cap.stderr(), new RegExp(`detached an orphan strace \\(pid \\d+\\) of an earlier capture from pid ${m.pid}`));
  await assertDaemonServes(m.pid);
  assert.ok(await orphan(), 'the orphan strace attached');
  const clean = fuselens(['clean'], tmp);
  assert.equal((await clean.exited).code, 0, clean.stderr());
  assert.match(clean.stdout(), new RegExp(`stopped the orphan strace \\d+ \\(detached from pid ${m.pid}\\)`));
  await assertDaemonServes(m.pid);
});

test('capture (tracefs) killed with SIGKILL: what it saw is in the file; the next capture removes its instance', { skip }, async () => {
  const out = join(tmp, 'killed.trace');
  const cap = fuselens(captureArgs(false, out), tmp);
  assert.ok(await soon(() => /capturing connection/.test(cap.stderr()), 10000), cap.stderr());
  await killedAfter(cap, 1500, 'SIGKILL');
  assert.ok((await requestsIn(out)) > 10, 'the requests of 1.5 s are in the file');
  assert.equal(instancesOf([cap.pid]).length, 1, 'a SIGKILL leaves its instance');
  const again = fuselens([...captureArgs(false, join(tmp, 'again.trace')), '--seconds', '0.3'], tmp);
  assert.equal((await again.exited).code, 0, again.stderr());
  assert.match(again.stderr(), new RegExp(`removed the tracefs instance .*fuselens-${cap.pid}-0`));
  assert.deepEqual(instancesOf([cap.pid, again.pid]), []);
});

/** 20 kills of a command at random moments, a third of them the moment it says it has started. */
async function batch(
  t: { diagnostic: (s: string) => void },
  seed: number,
  start: (i: number) => Cli,
  started: (cli: Cli) => boolean,
): Promise<number[]> {
  const rand = random(seed);
  const pids: number[] = [];
  const moments: string[] = [];
  for (let i = 0; i < 20; i++) {
    const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGTERM'; // ten of each
    const cli = start(i);
    pids.push(cli.pid);
    moments.push(await killAtRandomMoment(cli, signal, rand, () => started(cli), 'started', 600));
    const end = await cli.exited;
    if (signal === 'SIGTERM' && end.code !== null) assert.ok([0, 2, 143].includes(end.code), `exit ${end.code}: ${cli.stderr()}`);
    await assertDaemonServes(m.pid);
  }
  t.diagnostic(moments.join(' '));
  return pids;
}

/** After a batch: the daemon untraced, running and serving. */
async function assertDaemonUntouched(): Promise<void> {
  await assertDaemonServes(m.pid);
  assert.equal(fs.readFileSync(join(m.mountpoint, 'a.txt'), 'utf8'), 'hello\n');
}

test(`capture (tracefs) killed at 20 random moments (seed ${SEED}): no instance stays past the next capture`, { skip }, async (t) => {
  const pids = await batch(t, SEED, (i) => fuselens(captureArgs(false, join(tmp, `t${i}.trace`)), tmp), (c) => /capturing/.test(c.stderr()));
  await assertDaemonUntouched();
  const again = fuselens([...captureArgs(false, join(tmp, 'after.trace')), '--seconds', '0.3'], tmp);
  assert.equal((await again.exited).code, 0, again.stderr());
  assert.deepEqual(instancesOf([...pids, again.pid]), []);
});

test(`capture --daemon killed at 20 random moments (seed ${SEED + 1}): the daemon is never left traced`, { skip }, async (t) => {
  await batch(t, SEED + 1, (i) => fuselens(captureArgs(true, join(tmp, `d${i}.strace`)), tmp), (c) => /capturing/.test(c.stderr()));
  await assertDaemonUntouched();
  const again = fuselens([...captureArgs(true, join(tmp, 'after.strace')), '--seconds', '0.3'], tmp);
  assert.equal((await again.exited).code, 0, again.stderr());
  await assertDaemonUntouched();
});

test(`track killed at 20 random moments (seed ${SEED + 2}): untraced daemon, no temp dir past the next tracking`, { skip }, async (t) => {
  await batch(t, SEED + 2, () => fuselens(['track', m.mountpoint, '--json'], tmp), (c) => c.stdout().includes('"type":"start"'));
  await assertDaemonUntouched();
  const again = fuselens(['track', m.mountpoint, '--json', '--seconds', '0.3'], tmp);
  assert.equal((await again.exited).code, 0, again.stderr());
  assert.match(again.stdout(), /"type":"stop"/);
  await assertDaemonUntouched();
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('fuselens-')), [], 'no tracking temp dir left');
});
