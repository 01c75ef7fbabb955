// FUSE servers nobody here wrote, from Debian's packages: rclone mount of a
// local directory (Go, 64-bit inode numbers, node ids reused after FORGET),
// fuse-zip (libfuse 2.9, one fh for every open of a file) and squashfuse.
// For each, fuse-workload.c's own results (several processes × 8 threads of
// open/read/close) are the truth for `trace` of a tracefs capture and of a
// strace capture (`capture --daemon`) of the same run, for `inspect --json`
// (against `lsof +f -- MNT`) and for `track`. Each skips, saying why, when not
// root, without /dev/fuse, or without the server's binary. The runs recorded in
// test/fixtures/real-servers/other-* (other-README.md) get the same trace
// checks offline, everywhere.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Inspection } from '../../protocol/inspect';
import type { TrackLine, TrackedInode } from '../../protocol/track';
import type { TraceReport } from '../../protocol/trace';
import type { Command } from '../../server/cli/command';
import { inspectCommand } from '../../server/cli/inspect';
import { traceCommand } from '../../server/cli/trace';
import { startTracking } from '../../server/trace/track';
import { DEBIAN_SERVERS, PROGRAM, recordRun, skipReason, statIno, type DebianServer, type RecordedRun } from '../support/debian-servers';
import { until, type TestMount } from '../support/fuse-mounts';
import { cleanupAfterAll } from '../support/cleanup';
import { resultFor, runWorkload, type WorkloadResult } from '../support/passthrough-hp';

/** Runs of the capture test per server (each one to two seconds). */
const RUNS = Number(process.env.FUSELENS_OTHER_SERVERS_RUNS ?? 3);
/** Requests that never get a reply; tracefs has no event for FORGET (fuse_queue_forget bypasses fuse_request_send). */
const NO_REPLY = ['FUSE_FORGET', 'FUSE_BATCH_FORGET', 'FUSE_INTERRUPT'];

const out = mkdtempSync(join(tmpdir(), 'fuselens-other-servers-'));
const cleanup = cleanupAfterAll(() => {
  if (!process.env.FUSELENS_KEEP_CAPTURES) rmSync(out, { recursive: true, force: true });
});
const hold = cleanup.hold;

async function mount(s: DebianServer): Promise<TestMount> {
  const m = await s.mount();
  cleanup.defer(() => m.unmount());
  return m;
}

const sent = (r: TraceReport, opcode: string): number => r.opcodes.find((o) => o.opcode === opcode)?.sent ?? 0;
/** Refusals the report asserts: every denial but those it marks only possible (a report without certainty asserts them all). */
const refused = (r: TraceReport) => r.denials.filter((d) => d.certainty !== 'possible');
const possible = (r: TraceReport) => r.denials.filter((d) => d.certainty === 'possible');
const opened = (r: WorkloadResult): number => Object.values(r.files).reduce((n, f) => n + f.opened, 0);


/** `fuselens COMMAND ARGS --json` through the CLI's own front (its JSON: 64-bit values as strings). */
async function cliJson<T>(command: Command, args: string[]): Promise<T> {
  let stdout = '';
  let stderr = '';
  const code = await command.run([...args, '--json'], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  assert.equal(code, 0, `fuselens ${command.name} ${args.join(' ')}: ${stderr}`);
  return JSON.parse(stdout) as T;
}

const traceJson = (file: string): Promise<TraceReport> => cliJson<TraceReport>(traceCommand, [file]);

interface LsofRow {
  pid: number;
  /** A descriptor number, or lsof's cwd, rtd, txt, mem. */
  fd: string;
  ino: string;
}

/** `lsof +f -- MOUNT`: every file of the mount's filesystem some process has open, as (pid, fd, inode). */
function lsof(mountpoint: string): LsofRow[] {
  const r = spawnSync('lsof', ['-n', '-P', '-w', '-F', 'pfi', '+f', '--', mountpoint], { encoding: 'utf8' });
  // Exit 1 with no output: no file open; anything on stderr is a real failure.
  assert.equal(r.stderr, '', 'lsof ran cleanly');
  const rows: LsofRow[] = [];
  let pid = 0;
  let row: LsofRow | null = null;
  for (const line of r.stdout.split('\n')) {
    const [tag, value] = [line[0], line.slice(1)];
    if (tag === 'p') pid = Number(value);
    else if (tag === 'f') rows.push((row = { pid, fd: value, ino: '' }));
    else if (tag === 'i' && row) row.ino = value;
  }
  return rows;
}

const TIE_FD = { cwd: 'cwd', root: 'rtd', exe: 'txt' } as const;

/**
 * inspect's view in lsof's terms: descriptors by number, cwd/root/exe ties, mappings as mem; each with its
 * inode. lsof lists a mapped file once per process, and not at all when it is the process's txt (its exe).
 */
function inspectAsLsof(i: Inspection): LsofRow[] {
  const rows: LsofRow[] = [];
  for (const t of i.ties) rows.push({ pid: t.pid, fd: TIE_FD[t.kind], ino: String(t.ino) });
  const txt = new Set(rows.filter((r) => r.fd === 'txt').map((r) => `${r.pid} ${r.ino}`));
  for (const inode of i.inodes) {
    for (const o of inode.opens) rows.push({ pid: o.pid, fd: String(o.fd), ino: String(inode.ino) });
    for (const pid of new Set(inode.mappings.map((mp) => mp.pid)))
      if (!txt.has(`${pid} ${inode.ino}`)) rows.push({ pid, fd: 'mem', ino: String(inode.ino) });
  }
  return rows;
}

const key = (r: LsofRow): string => `${r.pid} ${r.fd} ino ${r.ino}`;
const sortedKeys = (rows: LsofRow[]): string[] => [...new Set(rows.map(key))].sort();

/** The mount's copy of sleep(1) run with its working directory there (lsof's cwd and txt, inspect's ties), until killed. */
function sleeperIn(dir: string): ChildProcess {
  const p = spawn(join(dir, PROGRAM), ['60'], { cwd: dir, stdio: 'ignore' });
  cleanup.defer(async () => void p.kill('SIGKILL'));
  return p;
}

function describeReport(t: TestContext, what: string, r: TraceReport): void {
  t.diagnostic(
    `${what}: ${r.sent} requests, ${r.noReply} without reply, ${r.orphanReplies} orphan replies, ` +
      `${refused(r).length} proven and ${possible(r).length} possible refusals, ${r.badLines} bad lines, warnings ${JSON.stringify(r.warnings)}`,
  );
}

/**
 * A run's two reports against its workload's own results: one OPEN per successful open() in both, no
 * refusal, tracefs and strace counting the same requests, FORGET counted apart and ending a node id's
 * life, inode numbers exact.
 */
function checkRun(where: string, run: RecordedRun, tracefs: TraceReport, strace: TraceReport): void {
  const path = (name: string): string => join(run.mountpoint, name);
  run.results.forEach((r, n) => {
    for (const name of run.phases[n as 0 | 1]) {
      const f = resultFor(r, path(name));
      assert.equal(f.opened, f.attempted, `${where}, ${name}: every open succeeded (${JSON.stringify(f.openErrors)})`);
      assert.deepEqual(f.readErrors, {}, `${where}, ${name}: no read failed`);
      assert.equal(f.bytes, f.opened * run.sizes[name]!, `${where}, ${name}: every read returned the file`);
    }
  });
  const opensOf = (name: string): number => run.results.reduce((n, r) => n + (r.files[path(name)]?.opened ?? 0), 0);
  const opens = run.results.reduce((n, r) => n + opened(r), 0);

  // Nothing but the workload opened a file during the captures (the test's own `stat`s are LOOKUPs).
  assert.equal(sent(tracefs, 'FUSE_OPEN'), opens, `${where}, tracefs: one OPEN per successful open()`);
  assert.equal(sent(strace, 'FUSE_OPEN'), opens, `${where}, strace: one OPEN per successful open()`);
  assert.ok(sent(tracefs, 'FUSE_LOOKUP') >= run.primed, `${where}, tracefs: the test's own LOOKUPs are there`);

  for (const [what, r] of [['tracefs', tracefs], ['strace', strace]] as const) {
    assert.deepEqual(refused(r), [], `${where}, ${what}: no refusal proven (the workload saw none)`);
    // A possible refusal says why it is only possible; reports count them apart.
    for (const d of possible(r)) assert.ok(d.note && d.note.length > 0, `${where}, ${what}: possible refusal ${d.unique} says why: ${JSON.stringify(d)}`);
    assert.equal(r.badLines, 0, `${where}, ${what}: every line read (${JSON.stringify(r.bad.slice(0, 3))})`);
    assert.deepEqual(r.inFlight.map((q) => q.opcode), [], `${where}, ${what}: every request answered`);
    // Requesters: the workload and the test's `stat`s. tracefs names the task that queued the request, which for a
    // background request (an async RELEASE) may be the daemon replying to another (fuse_request_end → flush_bg_queue);
    // the strace capture names tasks from /proc while they run, so a short-lived `stat` and pid 0 stay unnamed.
    const named = r.processes.filter((p) => p.comm !== null || what === 'tracefs');
    const expected = (comm: string | null) => comm === 'stat' || comm === run.server || comm?.startsWith('fuse-workload');
    assert.ok(named.every((p) => expected(p.comm)), `${where}, ${what}: requesters ${JSON.stringify(r.processes)}`);
  }

  // The opcodes both sources see, request for request. A request strace lost as it attached is one of
  // the priming LOOKUPs, and left a reply without its request.
  for (const op of tracefs.opcodes.map((o) => o.opcode).filter((o) => !NO_REPLY.includes(o))) {
    if (op === 'FUSE_LOOKUP') assert.equal(sent(strace, op) + strace.orphanReplies, sent(tracefs, op), `${where}, ${op}: strace's count plus the requests lost to the attach is tracefs's`);
    else assert.equal(sent(strace, op), sent(tracefs, op), `${where}, ${op}: strace and tracefs count the same requests`);
  }
  assert.ok(strace.orphanReplies <= run.primed, `${where}: no more requests lost than the priming LOOKUPs`);
  // The eviction between the phases: strace saw the FORGETs, counted apart from the requests that get a reply.
  const forgets = NO_REPLY.reduce((n, op) => n + sent(strace, op), 0);
  assert.ok(forgets > 0, `${where}: strace saw the evicted inodes' FORGETs`);
  assert.equal(strace.noReply, forgets, `${where}: the FORGETs are counted apart`);

  // Each file's inode rows (one per life of a node id) count its own opens, with stat's inode number, exact.
  const rows = strace.inodes ?? [];
  for (const [name, inos] of Object.entries(run.inos)) {
    if (run.bigInodes) for (const ino of inos) assert.ok(BigInt(ino) > BigInt(Number.MAX_SAFE_INTEGER), `${name}: ${run.server} gives 64-bit inode numbers (${ino})`);
    const mine = rows.filter((i) => i.name === name);
    assert.deepEqual([...new Set(mine.map((row) => String(row.ino)))].sort(), [...inos].sort(), `${where}, ${name}: its rows' inode numbers (LOOKUP replies' attr.ino) are stat's st_ino, exact`);
    // No server here asks for direct I/O or passthrough: the track test expects caching.
    for (const row of mine) assert.deepEqual(row.lastOpenFlags.filter((f) => f === 'direct_io' || f === 'passthrough'), [], `${where}, ${name}: OPEN reply flags`);
    // Opens add up per file, never across files that had the same node id in turn (FORGET ends a node id's life).
    assert.equal(mine.reduce((n, row) => n + row.opensSeen, 0), opensOf(name), `${where}, ${name}: its rows count its own opens`);
  }
  if (run.reusesNodeIds) {
    const namesById = new Map<string, Set<string>>();
    for (const row of rows) namesById.set(String(row.nodeid), (namesById.get(String(row.nodeid)) ?? new Set()).add(row.name ?? '?'));
    assert.ok([...namesById.values()].some((n) => n.size > 1), `${where}: ${run.server} gave a forgotten node id to another file (${JSON.stringify([...namesById].map(([k, v]) => [k, [...v]]))})`);
  }
}

const FIXTURES = join(__dirname, '..', 'fixtures', 'real-servers');
for (const file of readdirSync(FIXTURES).filter((f) => /^other-.*\.run\.json$/.test(f))) {
  const prefix = join(FIXTURES, file.replace(/\.run\.json$/, ''));
  test(`recorded ${file.replace(/\.run\.json$/, '')} (test/fixtures/real-servers/other-README.md): the same trace checks offline`, async () => {
    const run = JSON.parse(readFileSync(`${prefix}.run.json`, 'utf8')) as RecordedRun;
    checkRun(file, run, await traceJson(`${prefix}.tracefs`), await traceJson(`${prefix}.strace`));
  });
}

let captures = 0;
for (const s of DEBIAN_SERVERS) {
  const skip = skipReason(s);

  test(`${s.name}: trace of tracefs and of strace agree with the workload: one OPEN per open(), no refusal, FORGET ends a node id, 64-bit inode numbers exact`, { skip }, async (t) => {
    const m = await mount(s);
    for (let run = 1; run <= RUNS; run++) {
      const where = `run ${run} of ${RUNS}`;
      const prefix = join(out, `capture-${captures++}`);
      const recorded = await recordRun(s, m, prefix);
      const tracefs = await traceJson(`${prefix}.tracefs`);
      const strace = await traceJson(`${prefix}.strace`);
      t.diagnostic(`${where}: ${prefix}.* (kept with FUSELENS_KEEP_CAPTURES=1)`);
      describeReport(t, `${where}, tracefs`, tracefs);
      describeReport(t, `${where}, strace`, strace);
      assert.equal(
        recorded.results.reduce((n, r) => n + opened(r), 0),
        2 * (s.workload.processes ?? 1) * (s.workload.threads ?? 8) * (s.workload.iterations ?? 100),
        `${where}: every iteration of every thread of every process opened a file`,
      );
      checkRun(where, recorded, tracefs, strace);
    }
    await m.unmount();
  });

  test(`${s.name}: inspect --json lists exactly what lsof +f lists (pid, fd or cwd/txt/mem, inode number)`, { skip }, async () => {
    const m = await mount(s);
    const a = join(m.mountpoint, 'a');
    const holder = await hold([`open:a:rdonly:${a}`, `open:b:rdonly:${join(m.mountpoint, 'b')}`, 'mmap:map:a:private:r']);
    const sleeper = sleeperIn(m.mountpoint);
    await until(() => lsof(m.mountpoint).some((r) => r.pid === sleeper.pid && r.fd === 'txt'), 'sleep to run from the mount');

    const inspection = await cliJson<Inspection>(inspectCommand, [m.mountpoint]);
    const listed = lsof(m.mountpoint);
    assert.deepEqual(sortedKeys(inspectAsLsof(inspection)), sortedKeys(listed), 'inspect and lsof list the same (pid, fd, inode)');
    // And those are the holder's own descriptors and mapping, and the sleeper's cwd and executable.
    const fds = listed.filter((r) => r.pid === holder.pid && /^\d+$/.test(r.fd)).map((r) => Number(r.fd)).sort();
    assert.deepEqual(fds, [holder.fds.a!, holder.fds.b!].sort(), "the holder's descriptors");
    assert.ok(listed.some((r) => r.pid === holder.pid && r.fd === 'mem'), "lsof lists the holder's mapping of a");
    const aIno = statIno(a);
    assert.equal(String(inspection.inodes.find((i) => i.opens.some((o) => o.fd === holder.fds.a && o.pid === holder.pid))?.ino), aIno, "a's inode number, exact");
    const ties = (kind: string) => inspection.ties.filter((x) => x.pid === sleeper.pid && x.kind === kind).map((x) => String(x.ino));
    assert.deepEqual(ties('cwd'), [statIno(m.mountpoint)], "the sleeper's cwd is the mount's root");
    assert.deepEqual(ties('exe'), [statIno(join(m.mountpoint, PROGRAM))], "the sleeper's executable is the mount's copy of sleep");
    sleeper.kill('SIGKILL');
    await holder.stop();
    await m.unmount();
  });

  test(`${s.name}: track: a file held from before tracking is unknown (never idle), a file opened while tracking has its mode`, { skip }, async () => {
    const m = await mount(s);
    const a = join(m.mountpoint, 'a');
    const c = join(m.mountpoint, 'c');
    const before = await hold([`open:a:rdonly:${a}`]);
    const lines: TrackLine[] = [];
    const session = await startTracking({ mountpoint: m.mountpoint, intervalMs: 200, onChange: (l) => lines.push(...l) });
    cleanup.defer(async () => void (await session.stop()));
    const about = (path: string, ino: string) => (i: TrackedInode) => String(i.ino) === ino || i.path === path;

    const aIno = statIno(a);
    const a0 = session.inodes().find(about(a, aIno));
    assert.ok(a0, `a, held, is listed at the start (${JSON.stringify(session.inodes())})`);
    assert.equal(String(a0.ino), aIno, "a's inode number, exact");
    assert.equal(a0.provenance.text, 'unknown · opened before tracking');

    // c, never opened before: held by a new process while tracking, and opened and closed by the workload.
    const work = await runWorkload([c], { threads: 8, iterations: 5 });
    assert.equal(resultFor(work, c).opened, 40);
    const during = await hold([`open:c:rdonly:${c}`]);
    const cIno = statIno(c);
    await until(() => session.inodes().some((i) => about(c, cIno)(i) && i.provenance.mode !== 'unknown'), `c with a mode (${JSON.stringify(lines).slice(0, 2000)})`, 10000);
    const c1 = session.inodes().find(about(c, cIno))!;
    assert.equal(String(c1.ino), cIno);
    assert.equal(c1.provenance.mode, 'caching', `c: ${c1.provenance.text}`);
    assert.equal(c1.provenance.basis, 'proven', 'nothing held c before tracking');

    const a1 = session.inodes().find(about(a, aIno));
    assert.equal(a1?.provenance.text, 'unknown · opened before tracking', 'a stays unknown: nothing since proved its mode');
    for (const l of lines) if (l.type === 'inode' && about(a, aIno)(l.inode)) assert.notEqual(l.inode.provenance.mode, 'idle', 'a is never idle while held');

    const stop = await session.stop();
    assert.equal(stop.stoppedBy, 'stop');
    await during.stop();
    await before.stop();
    await m.unmount();
  });
}
