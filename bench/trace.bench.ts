// Trace reader throughput and memory (issue 4):
//   1. a generated 2,000,000-event tracefs file: events/s through reader + analysis, and the
//      time ratio to `wc -l` on the same file;
//   2. a generated 1 GB tracefs file streamed in a fresh process: peak RSS (must stay < 200 MB);
//   3. a generated 1,000,000-line strace capture (-xx -T, read/writev pairs): events/s decoded.
// Files are generated in /tmp from lines shaped like the recorded fixtures and deleted after.
// Each measurement runs in its own process so peak RSS belongs to it alone. Exits 1 when the
// rate is below 2 M events/s (in wall-clock and CPU time both) or the 1 GB file goes over 200 MB.

import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const OPS: Array<[number, string, number, number]> = [
  [3, 'FUSE_GETATTR', 56, 120], [1, 'FUSE_LOOKUP', 46, 144], [14, 'FUSE_OPEN', 48, 32], [15, 'FUSE_READ', 80, 4112],
  [16, 'FUSE_WRITE', 4176, 24], [25, 'FUSE_FLUSH', 64, 16], [18, 'FUSE_RELEASE', 64, 16],
];
const COMMS = ['cat', 'python3', 'kworker/u8:2', 'my app', 'rsync'];

/** Writes `events` tracefs lines (send/end pairs, 1-3 in flight at once) to `path`, in 4 MB batches. */
export function generateFtrace(path: string, events: number): void {
  const fd = openSync(path, 'w');
  let batch: string[] = [];
  let size = 0;
  let ts = 1000_000_000;
  let unique = 2;
  const pending: Array<[number, number]> = [];
  let written = 0;
  const push = (line: string) => {
    batch.push(line);
    size += line.length;
    written++;
    if (size > 4 << 20) {
      writeSync(fd, batch.join(''));
      batch = [];
      size = 0;
    }
  };
  while (written < events) {
    ts += 3 + (written % 17);
    const sec = Math.floor(ts / 1e6);
    const us = String(ts % 1e6).padStart(6, '0');
    if (pending.length < 3 && (pending.length === 0 || written % 3 !== 0) && written + pending.length + 2 <= events) {
      const op = OPS[unique % OPS.length]!;
      const comm = COMMS[unique % COMMS.length]!;
      const pid = 1000 + (unique % 50);
      push(`${comm.padStart(16)}-${pid}    [00${unique % 4}] ...1.  ${sec}.${us}: fuse_request_send: connection 42 req ${unique} opcode ${op[0]} (${op[1]}) len ${op[2]} \n`);
      pending.push([unique, op[3]]);
      unique += 2;
    } else {
      const [u, len] = pending.shift()!;
      const error = u % 97 === 0 ? -2 : 0;
      push(`          bindfs-999     [001] .....  ${sec}.${us}: fuse_request_end: connection 42 req ${u} len ${error ? 16 : len} error ${error}\n`);
    }
  }
  writeSync(fd, batch.join(''));
  closeSync(fd);
}

/** `lines` strace lines: each request a read() of the in header + body, each reply a writev(). */
export function generateStrace(path: string, lines: number): void {
  const hex = (b: Buffer) => Array.from(b, (x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
  const fd = openSync(path, 'w');
  let batch: string[] = [];
  let size = 0;
  for (let i = 0, unique = 2; i < lines; i += 2, unique += 2) {
    const [opcode] = OPS[unique % OPS.length]!;
    // Body sizes of the real structs: fuse_read_in/fuse_write_in 40 (+ data), open_in 8, flush/release_in 24, getattr_in 16.
    const body =
      opcode === 15 ? Buffer.alloc(40) : opcode === 16 ? Buffer.alloc(40 + 64) : opcode === 14 ? Buffer.alloc(8)
      : opcode === 25 || opcode === 18 ? Buffer.alloc(24) : opcode === 1 ? Buffer.from('some-file.txt\0') : Buffer.alloc(16);
    if (opcode === 15 || opcode === 16) body.writeUInt32LE(opcode === 15 ? 4096 : 64, 16);
    const req = Buffer.alloc(40 + body.length);
    req.writeUInt32LE(req.length, 0);
    req.writeUInt32LE(opcode, 4);
    req.writeBigUInt64LE(BigInt(unique), 8);
    req.writeBigUInt64LE(2n, 16);
    req.writeUInt32LE(1000 + (unique % 50), 32);
    body.copy(req, 40);
    const reply = Buffer.alloc(opcode === 14 ? 32 : opcode === 16 ? 24 : opcode === 1 ? 144 : 16);
    reply.writeUInt32LE(reply.length, 0);
    reply.writeBigUInt64LE(BigInt(unique), 8);
    const t = `10:${String(Math.floor(i / 600000) % 60).padStart(2, '0')}:${String(Math.floor(i / 10000) % 60).padStart(2, '0')}.${String(i % 1000000).padStart(6, '0')}`;
    const tid = 999 + (unique % 4);
    const a = `${tid}  ${t} read(4, "${hex(req)}", 135168) = ${req.length} <0.000012>\n`;
    const b = `${tid}  ${t} writev(4, [{iov_base="${hex(reply.subarray(0, 16))}", iov_len=16}${reply.length > 16 ? `, {iov_base="${hex(reply.subarray(16))}", iov_len=${reply.length - 16}}` : ''}], ${reply.length > 16 ? 2 : 1}) = ${reply.length} <0.000008>\n`;
    batch.push(a, b);
    size += a.length + b.length;
    if (size > 4 << 20) {
      writeSync(fd, batch.join(''));
      batch = [];
      size = 0;
    }
  }
  writeSync(fd, batch.join(''));
  closeSync(fd);
}

interface PhaseResult {
  seconds: number;
  /** CPU seconds (user + system) of the analysis: what the code costs when other processes share the machine. */
  cpuSeconds: number;
  events: number;
  requests: number;
  peakRssMb: number;
}

/**
 * Each measurement runs in a fresh plain `node` (no tsx loader hooks) on an esbuild bundle of
 * server/trace, the way dist/cli.js ships it, so peak RSS and CPU belong to the analysis alone. The file
 * is opened as `fuselens trace` opens it (openTraceSource).
 */
const PHASE_SOURCE = `
const { analyzeTrace, openTraceSource } = require(${JSON.stringify(join(__dirname, '..', 'server', 'trace', 'index.ts'))});
(async () => {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const r = await analyzeTrace(openTraceSource(process.argv[2]));
  const c = process.cpuUsage(c0);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify({ seconds, cpuSeconds: (c.user + c.system) / 1e6, events: r.events, requests: r.requests,
    peakRssMb: process.resourceUsage().maxRSS / 1024 }));
})();
`;

function buildPhase(): string {
  const out = join(tmpdir(), `fuselens-bench-trace-${process.pid}.cjs`);
  buildSync({ stdin: { contents: PHASE_SOURCE, resolveDir: __dirname, loader: 'js' }, bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: out, logLevel: 'warning' });
  return out;
}

function runPhase(script: string, path: string): PhaseResult {
  const r = spawnSync(process.execPath, [script, path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`measuring ${path} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as PhaseResult;
}

async function mainBench(): Promise<void> {
  const dir = tmpdir();
  const small = join(dir, `fuselens-bench-${process.pid}.ftrace`);
  const big = join(dir, `fuselens-bench-${process.pid}-1g.ftrace`);
  const st = join(dir, `fuselens-bench-${process.pid}.strace`);
  let failed = false;
  const script = buildPhase();
  try {
    generateFtrace(small, 2_000_000);
    const t0 = process.hrtime.bigint();
    const wc = spawnSync('wc', ['-l', small], { encoding: 'utf8' });
    const wcSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const a = runPhase(script, small);
    const rate = a.events / a.seconds;
    const cpuRate = a.events / a.cpuSeconds;
    console.log(`tracefs, 2,000,000 events (${(statSync(small).size / 1e6).toFixed(0)} MB): ${a.events} events, ${a.requests} requests in ${a.seconds.toFixed(2)} s (${a.cpuSeconds.toFixed(2)} s CPU)`);
    console.log(`  ${(rate / 1e6).toFixed(2)} M events/s wall clock, ${(cpuRate / 1e6).toFixed(2)} M events per CPU second (target ≥ 2 M/s: ${rate >= 2e6 ? 'met' : cpuRate >= 2e6 ? 'met in CPU time; wall clock lower, load average ' + loadavg()[0]!.toFixed(1) + ' on ' + cpus().length + ' CPUs' : 'NOT MET'})`);
    console.log(`  wc -l: ${wc.stdout.trim().split(' ')[0]} lines in ${wcSeconds.toFixed(3)} s; fuselens/wc time ratio ${(a.seconds / wcSeconds).toFixed(1)}x`);
    console.log(`  peak RSS ${a.peakRssMb.toFixed(0)} MB`);
    failed ||= rate < 2e6 && cpuRate < 2e6;
    rmSync(small, { force: true });

    generateFtrace(big, Math.ceil(1e9 / 119)); // the generated lines average 119 bytes: about 1 GB
    const b = runPhase(script, big);
    const mb = statSync(big).size / 1e6;
    console.log(`tracefs, ${mb.toFixed(0)} MB file: ${b.events} events in ${b.seconds.toFixed(1)} s (${(b.events / b.seconds / 1e6).toFixed(2)} M events/s, ${(b.events / b.cpuSeconds / 1e6).toFixed(2)} M per CPU second), peak RSS ${b.peakRssMb.toFixed(0)} MB (limit 200 MB) ${b.peakRssMb < 200 ? 'ok' : 'OVER LIMIT'}`);
    failed ||= b.peakRssMb >= 200;
    rmSync(big, { force: true });

    generateStrace(st, 1_000_000);
    const c = runPhase(script, st);
    console.log(`strace, 1,000,000 lines (${(statSync(st).size / 1e6).toFixed(0)} MB): ${c.events} events decoded in ${c.seconds.toFixed(2)} s, ${(c.events / c.seconds / 1e6).toFixed(2)} M events/s (${(c.events / c.cpuSeconds / 1e6).toFixed(2)} M per CPU second), peak RSS ${c.peakRssMb.toFixed(0)} MB`);
  } finally {
    for (const f of [small, big, st, script]) rmSync(f, { force: true });
  }
  if (failed) process.exitCode = 1;
}

if (process.argv.includes('--generate')) {
  generateFtrace('/tmp/fuselens-bench.ftrace', 2_000_000);
  generateStrace('/tmp/fuselens-bench.strace', 1_000_000);
} else void mainBench();
