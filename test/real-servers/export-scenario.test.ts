// Scenarios from captures, on a real server: libfuse's passthrough_hp captured
// with `fuselens capture --daemon` (strace) while fuse-workload.c runs, the
// capture exported with `trace --export-scenario`, the export simulated — each
// open's simulated outcome must be what the capture's analysis says of it and,
// in total, what the workload itself saw (its EIOs) — and then replayed on this
// kernel with `fuselens run`, which must find no difference. Captures with
// refusals come from the backing-open shim (passthrough_hp falls back to
// caching opens while another file is held in passthrough), as in
// decoder.test.ts; a failed OPEN reply from an immutable backing file
// (passthrough_hp's own open(2) of it for writing fails with EPERM, which it
// answers). Skips (saying why) where ../shared/vendor is absent.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { labAvailability, runScenario } from '../../server/lab';
import { simulateScenario } from '../../server/scenario/simulate';
import { exportTraceScenario, openTraceSource, startCapture, type ScenarioExport, type TraceReport } from '../../server/trace';
import { startHolder } from '../support/inspect-holder';
import {
  mountPassthroughHp, passthroughHp, resultFor, runWorkload, type PassthroughHpMount, type PassthroughHpOptions, type WorkloadResult,
} from '../support/passthrough-hp';

const hp = passthroughHp();
const lab = labAvailability();
const skip = hp.skip ?? (lab.ok ? false : lab.reason);
const FILES: Record<string, string> = { a: 'a'.repeat(10000), b: 'b'.repeat(20000), c: 'c'.repeat(3000), d: 'd'.repeat(70000) };

const out = mkdtempSync(join(tmpdir(), 'fuselens-export-scenario-'));
const mounts: PassthroughHpMount[] = [];
after(async () => {
  for (const m of mounts) await m.unmount();
  rmSync(out, { recursive: true, force: true });
});

type Exported = ScenarioExport & { report: TraceReport };
let captures = 0;

/**
 * A capture of a fresh mount while `work` runs, exported. strace may lose the request a daemon thread was
 * reading as it attached (a reply without request says so); such a run is made again, at most three times,
 * so that the capture holds every open of the workload.
 */
async function exportOf<T>(options: PassthroughHpOptions, work: (m: PassthroughHpMount) => Promise<T>): Promise<{ x: Exported; result: T }> {
  for (let attempt = 1; ; attempt++) {
    const m = await mountPassthroughHp(hp.binary!, { files: FILES, ...options });
    mounts.push(m);
    const file = join(out, `capture-${captures++}.strace`);
    const capture = await startCapture({ connection: 0, output: file, daemon: m.pid, checkConnection: false });
    // RELEASE is asynchronous (fuse_file_put): give the last ones time to be answered before strace detaches.
    const result = await work(m).finally(() => new Promise((r) => setTimeout(r, 150)).then(() => capture.stop()));
    await capture.stop();
    const x = await exportTraceScenario(openTraceSource(file), { source: file.split("/").pop()! });
    if ((x.report.orphanReplies === 0 && x.report.inFlightCount === 0) || attempt === 3) return { x, result };
  }
}

/** Each exported open simulates to what the analysis says of it; the per-file counts of the simulation. */
function roundTrip(x: Exported): Map<string, { ok: number; eio: number }> {
  const sim = simulateScenario(x.text);
  assert.deepEqual(sim.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.range.start.line + 1}: ${d.message}`), [], 'no error, no outcome-mismatch');
  const byLine = new Map(sim.steps.map((s) => [s.line, s]));
  const files = new Map<string, { ok: number; eio: number }>();
  for (const o of x.opens) {
    const step = o.line === null ? undefined : byLine.get(o.line);
    assert.ok(step?.action === 'open' || step?.action === 'create', `OPEN ${o.unique} is an open or create of the export`);
    const denial = x.report.denials.find((d) => d.unique === o.unique);
    // A failed reply reaches the process as is (these captures have no ENOSYS, which would turn on no_open instead).
    const analysis = o.error ?? (denial && (denial.certainty === 'proven' || denial.rule !== null) ? 'EIO' : 'ok');
    assert.equal(step.outcome, analysis, `OPEN ${o.unique}: as the analysis says`);
    const f = files.get(o.file) ?? { ok: 0, eio: 0 };
    if (step.outcome === 'EIO') f.eio++;
    else f.ok++;
    files.set(o.file, f);
  }
  return files;
}

const counts = (r: WorkloadResult, m: PassthroughHpMount, name: string) => {
  const f = resultFor(r, m.path(name));
  return { ok: f.opened, eio: f.openErrors.EIO ?? 0 };
};

/** `fuselens run` of the export: the kernel and the simulator agree on every step. */
async function replays(x: Exported): Promise<void> {
  const run = await runScenario(x.text);
  const differing = run.steps.filter((s) => s.differs).map((s) => `line ${s.line}: ${s.action} ${s.target}: kernel ${s.outcome}, simulated ${s.simulated}`);
  assert.deepEqual(differing, [], 'fuselens run finds no difference');
  assert.equal(run.steps.filter((s) => s.action === 'open' || s.action === 'create').length, x.opens.length, 'every open was played');
}

const CONFIGS: Array<{ name: string; options: PassthroughHpOptions; reply: RegExp }> = [
  { name: 'passthrough (default)', options: {}, reply: /reply .*passthrough backing=b\d+/ },
  { name: '--direct-io', options: { directIo: true }, reply: /reply direct_io .*passthrough backing=b\d+/ },
  { name: '--nopassthrough', options: { passthrough: false }, reply: /reply keep_cache parallel_direct_writes => ok/ },
];

for (const config of CONFIGS) {
  test(`passthrough_hp ${config.name}, 2 processes × 4 threads on a b c d: every open simulates ok as the workload saw, and \`run\` replays the export`, { skip }, async () => {
    let m!: PassthroughHpMount;
    const { x, result } = await exportOf(config.options, (mount) => {
      m = mount;
      // The threads linger: the capture names a requester from /proc when it reads its first request,
      // and a thread already gone by then has no name left to read (under load, CI saw every one gone).
      return runWorkload(['a', 'b', 'c', 'd'].map((n) => mount.path(n)), { threads: 4, iterations: 3, processes: 2, lingerMs: 1500 });
    });
    const files = roundTrip(x);
    for (const name of ['a', 'b', 'c', 'd']) assert.deepEqual(files.get(name), counts(result, m, name), name);
    assert.match(x.text, config.reply, 'the reply flags of the server');
    if (config.options.passthrough !== false)
      assert.match(x.text, /^backing b\d+ "[^"]*\/src\/[abcd]"   # FUSE_DEV_IOC_BACKING_OPEN by daemon thread \d+: id \d+$/m, 'backing files by path');
    // comm is the program's name cut to 15 bytes (TASK_COMM_LEN), the same for every thread: each process is comm_PID.
    assert.match(x.text, /^process (fuse-workload[^ ]*)_(\d+)   # pid \2 \(\1\)$/m, 'threads named by comm and pid');
    await replays(x);
  });
}

test('forced fallback: a held in passthrough, reopens of a answered as caching opens — the simulated EIOs are the workload\'s, and `run` replays them', { skip }, async () => {
  let m!: PassthroughHpMount;
  const holders: Array<Awaited<ReturnType<typeof startHolder>>> = [];
  try {
    const { x, result } = await exportOf({ failBackingOpen: 'b' }, async (mount) => {
      m = mount;
      holders.push(await startHolder([`open:held:rdonly:${mount.path('a')}`]));
      await runWorkload([mount.path('b')], { threads: 1, iterations: 1 });
      return runWorkload([mount.path('a'), mount.path('c')], { threads: 4, iterations: 3, processes: 2 });
    });
    const truthA = counts(result, m, 'a');
    assert.ok(truthA.eio > 0 && truthA.ok === 0, `the kernel refused every reopen of a (${JSON.stringify(truthA)})`);
    const files = roundTrip(x);
    assert.deepEqual(files.get('a'), { ok: 1, eio: truthA.eio }, "a: the holder's passthrough open, then the workload's refusals");
    assert.deepEqual(files.get('c'), counts(result, m, 'c'), 'c: every open ok');
    assert.equal(x.opens.filter((o) => o.stated === 'EIO').length, truthA.eio, 'each refusal stated as the stream proves it');
    assert.match(x.text, /^# FUSE_DEV_IOC_BACKING_OPEN of .*\/src\/b by daemon thread \d+ failed \(EINVAL\)/m, 'the forced failure is said');
    await replays(x);
  } finally {
    for (const h of holders) await h.stop();
  }
});

/** open(2) from this process: the errno name it failed with, or 'ok'. */
function tryOpen(path: string, flags: string): string {
  try {
    closeSync(openSync(path, flags));
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e);
  }
}

test('a CREATE with O_EXCL, an O_APPEND and an O_TRUNC open, and an OPEN the server answers with EPERM: create, o_append, o_trunc and reply error=EPERM, simulated and replayed as the process saw them', { skip }, async () => {
  let immutable: string | null = null;
  try {
    const seen: Record<string, string> = {};
    const { x } = await exportOf({}, async (m) => {
      // Root passes every permission check, but not an immutable file's: passthrough_hp's open(2) of it for writing fails.
      immutable = join(m.source, 'c');
      execFileSync('chattr', ['+i', immutable]);
      seen.created = tryOpen(m.path('new.db'), 'wx');
      seen.appended = tryOpen(m.path('a'), 'a');
      seen.truncated = tryOpen(m.path('b'), 'w');
      seen.refused = tryOpen(m.path('c'), 'r+');
    });
    assert.deepEqual(seen, { created: 'ok', appended: 'ok', truncated: 'ok', refused: 'EPERM' }, 'what this process saw');
    roundTrip(x);
    // new.db is made by its create: no file line declares it.
    assert.doesNotMatch(x.text, /^file new\.db/m);
    assert.match(x.text, /^\S+: create new\.db as f\d+ wronly o_excl reply .*passthrough backing=b\d+ (=> ok )?  # FUSE_CREATE unique \d+/m);
    assert.match(x.text, /^\S+: open a as f\d+ wronly o_append reply .*passthrough backing=b\d+ /m);
    // O_TRUNC reaches the server only under atomic_o_trunc (fuse_send_open), which libfuse asks for by default.
    assert.match(x.text, /^\S+: open b as f\d+ wronly o_trunc reply .*passthrough backing=b\d+ /m);
    const refused = x.opens.find((o) => o.file === 'c');
    assert.equal(refused?.error, 'EPERM', 'the server answered the OPEN of c with EPERM');
    assert.match(x.text, /^\S+: open c as f\d+ rdwr reply error=EPERM => EPERM   # FUSE_OPEN unique \d+$/m);
    await replays(x);
  } finally {
    if (immutable) execFileSync('chattr', ['-i', immutable]);
  }
});
