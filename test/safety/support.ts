// Fault injection for the kill-safety tests: the CLI bundled once (fast
// starts), spawned in a private TMPDIR, killed at a seeded random moment, and
// the checks of what may remain afterwards. Set FUSELENS_SAFETY_SEED to replay
// a failing batch's moments.

import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { until } from '../support/fuse-mounts';

const root = resolve(__dirname, '../..');
export const CLI = join(root, 'node_modules/.cache/fuselens-safety-test/cli.js');

/** Bundles the CLI from the sources (inside node_modules, so that it finds koffi). */
export async function buildCli(): Promise<void> {
  await build({
    entryPoints: [join(root, 'server/cli/entry.ts')], outfile: CLI, bundle: true, platform: 'node', format: 'cjs',
    target: 'node20', external: ['koffi'], logLevel: 'warning',
  });
}

export const SEED = Number(process.env.FUSELENS_SAFETY_SEED ?? Date.now() % 1_000_000);

/** mulberry32: a small seeded generator, so a failing batch can be replayed. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Cli {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function fuselens(args: string[], tmp: string): Cli {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, TMPDIR: tmp }, cwd: root });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  return { child, pid: child.pid!, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for `cond`, polling every millisecond; false at the deadline. */
export async function soon(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 1));
  }
  return true;
}

/**
 * Kills `cli` at a random moment: a third of the time the moment `ready` holds (named `readyName`),
 * otherwise after up to `withinMs`. Returns the moment, as `SIGKILL@mount` or `SIGTERM@312ms`.
 */
export async function killAtRandomMoment(
  cli: Cli, signal: NodeJS.Signals, rand: () => number, ready: () => boolean, readyName: string, withinMs: number,
): Promise<string> {
  let moment: string;
  if (rand() < 1 / 3) {
    await soon(ready, 10000);
    moment = `${signal}@${readyName}`;
  } else {
    const ms = Math.floor(rand() * withinMs);
    await new Promise((r) => setTimeout(r, ms));
    moment = `${signal}@${ms}ms`;
  }
  cli.child.kill(signal);
  return moment;
}

/** Mountpoints below `dir` (this mount namespace). */
export function mountsBelow(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(dir + '/'));
}

/** Live processes (not zombies) whose command line mentions `text`: agents and guardians of runs in `text`. */
export function processesMentioning(text: string): number[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    if (pid === process.pid) return false;
    try {
      if (/^[ZX]/.test(state(pid) ?? 'X')) return false;
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  });
}

/** The state letter of /proc/PID/stat, or null when the process is gone. */
export function state(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

export function tracerPid(pid: number): number {
  return Number(/^TracerPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

export const TRACEFS = '/sys/kernel/tracing';

/** The tracefs instances of captures run by these pids (other tests on the machine may capture too). */
export function instancesOf(pids: number[]): string[] {
  const mine = new Set(pids.map(String));
  return fs.readdirSync(join(TRACEFS, 'instances')).filter((n) => /^fuselens-\d+-\d+$/.test(n) && mine.has(n.split('-')[1]!));
}

/**
 * A user's daemon is never killed nor left stopped: once its tracer is gone (a dying strace may
 * hold it in a trace stop for a moment), it runs untraced.
 */
export async function assertDaemonServes(pid: number): Promise<void> {
  const running = () => {
    const s = state(pid);
    return s !== null && !'ZXTt'.includes(s) && tracerPid(pid) === 0;
  };
  if (await soon(running, 3000)) return;
  assert.fail(`the daemon ${pid} is left in state ${state(pid)} with TracerPid ${state(pid) === null ? '-' : tracerPid(pid)}`);
}

/** Nothing of the runs made in `tmp` remains: no mount, no process, no temp dir. */
export async function assertNothingLeftIn(tmp: string, what: string): Promise<void> {
  await until(() => mountsBelow(tmp).length === 0, `${what}: no lab mount left in ${tmp}`, 5000);
  await until(() => processesMentioning(tmp).length === 0, `${what}: no agent or guardian left`, 5000);
  await until(() => fs.readdirSync(tmp).filter((n) => n.startsWith('fuselens-')).length === 0, `${what}: no temp dir left in ${tmp}`, 5000);
}

/** A title change and a screen clear: what a terminal obeys if a name reaches it raw. */
export const TITLE_AND_CLEAR = '\x1b]0;pwned\x07\x1b[2J';

/** Bytes a terminal would act on: C0 but newline, DEL, C1 (as UTF-8), or bytes that are not UTF-8. */
export function rawControls(out: Buffer): string[] {
  const found: string[] = [];
  const text = out.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(out)) found.push('invalid UTF-8');
  for (const m of text.matchAll(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g))
    found.push(`U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m.index}`);
  return found;
}

/** Both streams of a command reach the terminal inert: no raw control, only UTF-8. */
export function assertInert(what: string, r: { stdout: Buffer; stderr: Buffer }): void {
  assert.deepEqual(rawControls(r.stdout), [], `${what}: stdout\n${r.stdout.toString('utf8')}`);
  assert.deepEqual(rawControls(r.stderr), [], `${what}: stderr\n${r.stderr.toString('utf8')}`);
}
