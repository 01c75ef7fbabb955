// What live tracking (`fuselens track`, Track I/O Modes) costs the daemon it
// attaches to: libfuse's passthrough_hp under fuse-workload.c (8 threads of
// open/read/close over 8 files), run untraced, tracked, and untraced again in
// one run. The workload's own cycle count and time give cycles/s; the
// tracker's count of paired requests for the tracked run gives requests per
// cycle, hence the daemon's requests/s in each phase. Skips (saying why) where
// passthrough_hp cannot be built (no ../shared/vendor, not root).

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountPassthroughHp, passthroughHp, runWorkload, type PassthroughHpMount, type WorkloadResult } from '../test/support/passthrough-hp';
import { listMounts } from '../server/inspect';
import { analyzeTrace, openTraceSource, startCapture } from '../server/trace';
import { startTracking } from '../server/trace/track';
import { reportFigure } from './summary';

const FILES = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}`, String(i).repeat(16384)]));
const WORK = { threads: 8, iterations: 2000 };

function cycles(r: WorkloadResult): number {
  return Object.values(r.files).reduce((n, f) => n + f.opened, 0);
}

async function main(): Promise<void> {
  const hp = passthroughHp();
  if (hp.binary === undefined) {
    console.log(`tracking: skipped — ${hp.skip}`);
    return;
  }
  const m = await mountPassthroughHp(hp.binary, { files: FILES });
  try {
    const paths = Object.keys(FILES).map((n) => m.path(n));
    await runWorkload(paths, { threads: 2, iterations: 20 }); // warm the dentry and page caches
    const before = await runWorkload(paths, WORK);
    const session = await startTracking({ mountpoint: m.mountpoint });
    const tracked = await runWorkload(paths, WORK);
    const stop = await session.stop();
    const tracer = Number(/^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${m.pid}/status`, 'utf8'))![1]);
    const after = await runWorkload(paths, WORK);

    const perCycle = stop.requests / cycles(tracked);
    const line = (name: string, r: WorkloadResult) => {
      const perS = (cycles(r) / r.ms) * 1000;
      return { name, perS, text: `${name.padEnd(18)} ${cycles(r)} open/read/close in ${r.ms.toFixed(0)} ms: ${perS.toFixed(0)} cycles/s ≈ ${(perS * perCycle).toFixed(0)} daemon requests/s` };
    };
    const rows = [line('untraced', before), line('tracked (strace)', tracked), line('untraced again', after)];
    console.log(`passthrough_hp, fuse-workload: ${WORK.threads} threads × ${WORK.iterations} iterations over ${paths.length} files`);
    console.log(`tracking saw ${stop.requests} requests for ${cycles(tracked)} cycles: ${perCycle.toFixed(2)} requests per cycle (OPEN, FLUSH, RELEASE; READs go to the backing file)`);
    for (const r of rows) console.log(`  ${r.text}`);
    const untraced = (rows[0]!.perS + rows[2]!.perS) / 2;
    console.log(`tracking costs the daemon ${(untraced / rows[1]!.perS).toFixed(1)}× (requests/s untraced ÷ tracked); TracerPid after Stop: ${tracer}`);
    reportFigure({ figure: 'tracking: the daemon slowed by', value: `${(untraced / rows[1]!.perS).toFixed(1)}×`, target: '' });
    if (tracer !== 0) process.exitCode = 1;
    await decoderOnRealCapture(m, paths);
  } finally {
    await m.unmount();
  }
}

/**
 * The strace decoder and the analysis on a real capture of this daemon (`fuselens capture --daemon`
 * during the same workload, 8 threads): events/s and MB/s of `fuselens trace`'s work, best of 3.
 */
async function decoderOnRealCapture(m: PassthroughHpMount, paths: string[]): Promise<void> {
  const connection = listMounts().mounts.find((x) => x.mountpoint === m.mountpoint)!.connection;
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-bench-capture-'));
  try {
    const output = join(dir, 'passthrough_hp.strace');
    const capture = await startCapture({ connection, daemon: m.pid, output });
    await runWorkload(paths, { threads: 8, iterations: 4000 });
    const captured = await capture.stop();
    const mb = statSync(output).size / 1e6;
    let best = Infinity;
    let events = 0;
    let refusals = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      const report = await analyzeTrace(openTraceSource(output));
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
      events = report.events;
      refusals = report.denials.length;
    }
    console.log(
      `decoder on a real passthrough_hp capture (${captured.requests} requests, ${mb.toFixed(1)} MB of strace): ` +
        `${events} events in ${best.toFixed(0)} ms: ${((events / best) * 1000 / 1e6).toFixed(2)} M events/s, ${((mb / best) * 1000).toFixed(0)} MB/s; ${refusals} refusals (the workload had none)`,
    );
    reportFigure({ figure: 'strace decoder, a small real passthrough_hp capture', value: `${((events / best) * 1000 / 1e6).toFixed(2)} M events/s`, target: '' });
    if (refusals !== 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
