// Trace reading throughput and memory on real captures (issue 14, part 3):
//   - tracefs: a capture recorded in this run on this machine (`fuselens capture` of libfuse's
//     passthrough_hp under fuse-workload.c, 8 threads over 8 files); where that cannot run (not root,
//     no passthrough_hp), the recorded tracefs fixtures of test/fixtures/real-servers instead;
//   - strace: the multithreaded passthrough_hp captures of the real-server tests
//     (test/fixtures/real-servers/*.strace, `fuselens capture --daemon` of 8 threads).
// Each is repeated to 1 GB (its header line once) in /tmp and read the way `fuselens trace` reads a
// file (openTraceSource + analyzeTrace) in a fresh node process: events/s by wall clock and per CPU
// second (both threads when the parse worker runs), peak RSS, and `wc -l` of the same file in the same
// run as a yardstick. Each is read both ways: parse worker + analysis (what analyzeTrace does with a
// file this size) and in one thread. The load average is printed before each measurement: other
// processes on the machine's cores slow the wall clock, not the CPU time.
// Targets: tracefs ≥ 3 M events/s, strace ≥ 1 M events/s, 1 GB under 200 MB peak RSS. Exits 1 when the
// RSS is over, or a rate is under its target by wall clock and per CPU second both.

import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { listMounts } from '../server/inspect';
import { startCapture } from '../server/trace';
import { mountPassthroughHp, passthroughHp, runWorkload } from '../test/support/passthrough-hp';
import { reportFigure } from './summary';

const GB = 1e9;
const RSS_LIMIT_MB = 200;
const FIXTURES = join(__dirname, '..', 'test', 'fixtures', 'real-servers');
const STRACE_CAPTURES = ['mt8-false-refusal.strace', 'debug-mt.strace', 'fallback-eio.strace', 'splice-nopassthrough.strace'];
const TRACEFS_FIXTURES = ['other-rclone.tracefs', 'other-fuse-zip.tracefs', 'other-squashfuse.tracefs'];

interface PhaseResult {
  seconds: number;
  /** CPU seconds (user + system, every thread) of the reading and analysis. */
  cpuSeconds: number;
  events: number;
  requests: number;
  peakRssMb: number;
  /**
   * CPU seconds by thread (clock ticks, 10 ms): the main thread (reading the file, replaying the batches, the analysis),
   * the parse worker's, the others (V8's collector helpers, libuv's pool); and the seconds the main thread's event loop
   * was idle (waiting for the worker's batches or the file).
   */
  threads: { main: number; mainIdle: number; worker: number; others: number };
}

/**
 * Each measurement runs in a fresh plain `node` (no tsx loader hooks) on an esbuild bundle of server/trace,
 * the way dist/cli.js ships it, with the parse worker's bundle beside it as dist/trace-worker.js is beside
 * cli.js, so peak RSS and CPU belong to the analysis alone.
 */
const PHASE_SOURCE = `
const { readdirSync, readFileSync } = require('node:fs');
const { performance } = require('node:perf_hooks');
const { analyzeTrace, openTraceSource } = require(${JSON.stringify(join(__dirname, '..', 'server', 'trace', 'index.ts'))});
// CPU seconds (user + system, in clock ticks of 10 ms) of /proc/self/stat or of one thread's stat.
const ticks = (stat) => { const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
const threads = () => new Map(readdirSync('/proc/self/task').map((tid) => [tid, ticks(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'))]));
(async () => {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const before = threads();
  const all0 = ticks(readFileSync('/proc/self/stat', 'utf8'));
  const elu0 = performance.eventLoopUtilization();
  const r = await analyzeTrace(openTraceSource(process.argv[2]), { parseInWorker: process.argv[3] === 'worker' });
  const c = process.cpuUsage(c0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const idle = performance.eventLoopUtilization(elu0).idle / 1e3;
  // The parse worker's thread: the busiest thread started during the reading (libuv's pool threads, started then too,
  // read the file and little else), or, once it has exited, what the process spent beyond the threads still here.
  const after = threads();
  let alive = 0;
  let worker = 0;
  for (const [tid, t] of after) {
    alive += t - (before.get(tid) ?? 0);
    if (!before.has(tid) && process.argv[3] === 'worker') worker = Math.max(worker, t);
  }
  const main = after.get(String(process.pid)) - before.get(String(process.pid));
  if (process.argv[3] === 'worker') worker += ticks(readFileSync('/proc/self/stat', 'utf8')) - all0 - alive;
  console.log(JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6, events: r.events, requests: r.requests,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    threads: { main, mainIdle: idle, worker, others: c.user / 1e6 + c.system / 1e6 - main - worker } }));
})();
`;

function buildPhase(dir: string): string {
  const out = join(dir, 'phase.cjs');
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning' } as const;
  buildSync({ ...common, stdin: { contents: PHASE_SOURCE, resolveDir: __dirname, loader: 'js' }, outfile: out });
  buildSync({ ...common, entryPoints: [join(__dirname, '..', 'server', 'trace', 'parse-worker.ts')], outfile: join(dir, 'trace-worker.js') });
  return out;
}

function runPhase(script: string, path: string, mode: 'worker' | 'thread'): PhaseResult {
  const r = spawnSync(process.execPath, [script, path, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`measuring ${path} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PhaseResult;
}

/** `body` written again and again after `header` until the file holds `bytes`. */
function repeatTo(path: string, header: string, body: Buffer, bytes: number): void {
  const fd = openSync(path, 'w');
  let written = writeSync(fd, header);
  const block = Buffer.concat(Array.from({ length: Math.max(1, Math.floor((8 << 20) / body.length)) }, () => body));
  while (written < bytes) written += writeSync(fd, block);
  closeSync(fd);
}

/** A capture file's header line (`# fuselens-capture ...`) and the rest. */
function splitHeader(text: string): { header: string; body: string } {
  const nl = text.indexOf('\n') + 1;
  return text.startsWith('# fuselens-capture ') ? { header: text.slice(0, nl), body: text.slice(nl) } : { header: '', body: text };
}

/** A tracefs capture of passthrough_hp under fuse-workload, recorded now; null (and why) when it cannot be. */
async function recordTracefs(dir: string): Promise<{ file: string; what: string } | { file: null; why: string }> {
  const hp = passthroughHp();
  if (hp.binary === undefined) return { file: null, why: hp.skip };
  const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, String(i).repeat(16384)]));
  const m = await mountPassthroughHp(hp.binary, { files });
  try {
    const connection = listMounts().mounts.find((x) => x.mountpoint === m.mountpoint)!.connection;
    const output = join(dir, 'passthrough_hp.tracefs');
    const capture = await startCapture({ connection, output });
    const paths = Object.keys(files).map((n) => m.path(n));
    const work = { threads: 8, iterations: 300 };
    await runWorkload(paths, work);
    const r = await capture.stop();
    return { file: output, what: `passthrough_hp, fuse-workload ${work.threads} threads × ${work.iterations} over 8 files, recorded now: ${r.requests} requests` };
  } finally {
    await m.unmount();
  }
}

const load = () => `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs`;
const rate = (n: number) => `${(n / 1e6).toFixed(2)} M`;

/** Reads `file` (`mode`) and prints one line; returns whether it failed its target or the RSS limit. */
function measure(script: string, file: string, source: string, label: string, mode: 'worker' | 'thread', target: number, wcSeconds: number): boolean {
  const before = load();
  const r = runPhase(script, file, mode);
  const wall = r.events / r.seconds;
  const cpu = r.events / r.cpuSeconds;
  const met = wall >= target ? 'met' : cpu >= target ? 'met per CPU second, not by wall clock' : 'NOT MET';
  console.log(
    `  ${label.padEnd(28)} ${r.events} events (${r.requests} requests) in ${r.seconds.toFixed(2)} s, ${r.cpuSeconds.toFixed(2)} s CPU: ` +
      `${rate(wall)} events/s, ${rate(cpu)} per CPU second (target ${rate(target)}: ${met}); ${(r.seconds / wcSeconds).toFixed(1)}× wc -l; ` +
      `peak RSS ${r.peakRssMb.toFixed(0)} MB (limit ${RSS_LIMIT_MB}: ${r.peakRssMb < RSS_LIMIT_MB ? 'ok' : 'OVER'}); ${before}`,
  );
  const t = r.threads;
  console.log(
    `    CPU by thread: main ${t.main.toFixed(2)} s (its event loop idle ${t.mainIdle.toFixed(2)} s), ` +
      `${mode === 'worker' ? `parse worker ${t.worker.toFixed(2)} s, ` : ''}collector helpers and file reads ${t.others.toFixed(2)} s`,
  );
  reportFigure({
    figure: `${source} 1 GB, ${label}`,
    value: `${rate(wall)} events/s (${rate(cpu)} per CPU s), ${r.peakRssMb.toFixed(0)} MB`,
    target: `${rate(target)}/s, < ${RSS_LIMIT_MB} MB`,
    met: wall >= target && r.peakRssMb < RSS_LIMIT_MB,
  });
  return r.peakRssMb >= RSS_LIMIT_MB || met === 'NOT MET';
}

function wcLines(file: string): number {
  const t0 = process.hrtime.bigint();
  spawnSync('wc', ['-l', file]);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-bench-trace-'));
  let failed = false;
  try {
    const script = buildPhase(dir);
    const big = join(dir, 'repeated');

    const recorded = await recordTracefs(dir);
    const tracefs = recorded.file !== null
      ? { ...splitHeader(readFileSync(recorded.file, 'utf8')), what: recorded.what }
      : {
          header: '',
          body: TRACEFS_FIXTURES.map((f) => splitHeader(readFileSync(join(FIXTURES, f), 'utf8')).body).join(''),
          what: `the recorded fixtures ${TRACEFS_FIXTURES.join(', ')} (no capture now: ${recorded.why})`,
        };
    repeatTo(big, tracefs.header, Buffer.from(tracefs.body), GB);
    let wc = wcLines(big);
    console.log(`tracefs: ${tracefs.what}; ${(tracefs.body.length / 1e3).toFixed(0)} kB repeated to ${(statSync(big).size / 1e6).toFixed(0)} MB (wc -l ${wc.toFixed(2)} s)`);
    failed = measure(script, big, 'tracefs', 'parse worker + analysis', 'worker', 3e6, wc) || failed;
    failed = measure(script, big, 'tracefs', 'one thread', 'thread', 3e6, wc) || failed;

    // One connection's captures: the header of the first, the bodies of all.
    const captures = STRACE_CAPTURES.map((f) => splitHeader(readFileSync(join(FIXTURES, f), 'utf8')));
    const body = captures.map((c) => c.body).join('');
    repeatTo(big, captures[0]!.header, Buffer.from(body), GB);
    wc = wcLines(big);
    console.log(`strace: passthrough_hp captures ${STRACE_CAPTURES.join(', ')}; ${(body.length / 1e3).toFixed(0)} kB repeated to ${(statSync(big).size / 1e6).toFixed(0)} MB (wc -l ${wc.toFixed(2)} s)`);
    failed = measure(script, big, 'strace', 'parse worker + analysis', 'worker', 1e6, wc) || failed;
    failed = measure(script, big, 'strace', 'one thread', 'thread', 1e6, wc) || failed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

void main();
