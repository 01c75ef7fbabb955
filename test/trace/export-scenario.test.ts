// `fuselens trace CAPTURE --export-scenario` on real captures
// (test/fixtures/real-servers, test/fixtures/trace): simulating the export
// gives, open by open, what the capture's analysis says and what the
// workload itself saw (its *.workload.json(l)); what the language cannot
// state is in a comment; names from outside cannot add a statement.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { simulateScenario } from '../../server/scenario/simulate';
import { exportTraceScenario, openTraceSource, type ScenarioExport, type TraceReport } from '../../server/trace';
import { Requests } from '../../protocol/messages';
import { LspClient, ROOT } from '../lsp/client';
import { cli } from '../support/cli';

const REAL = join(__dirname, '..', 'fixtures', 'real-servers');
const TRACE = join(__dirname, '..', 'fixtures', 'trace');
interface Workload { files: Record<string, { attempted: number; opened: number; openErrors: Record<string, number> }> }
const workloads = (file: string): Workload[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Workload);
/** The workload's opens of the file named `name`, over its runs: attempts and EIOs. */
const truth = (ws: Workload[], name: string) => {
  const files = ws.flatMap((w) => Object.entries(w.files).filter(([path]) => path.endsWith(`/${name}`)).map(([, f]) => f));
  return { attempted: files.reduce((n, f) => n + f.attempted, 0), eio: files.reduce((n, f) => n + (f.openErrors.EIO ?? 0), 0) };
};

const exported = (file: string) => exportTraceScenario(openTraceSource(file), { source: file.split('/').pop()! });

/**
 * The round trip: each exported open simulates to what the analysis says of it — EIO where it reports the
 * refusal (proven, or possible with the model's rule), ok otherwise — and no stated outcome disagrees.
 */
function roundTrip(x: ScenarioExport & { report: TraceReport }): Map<string, { ok: number; eio: number }> {
  const sim = simulateScenario(x.text);
  assert.deepEqual(sim.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.range.start.line + 1}: ${d.message}`), [], 'no error, no outcome-mismatch');
  const byLine = new Map(sim.steps.map((s) => [s.line, s]));
  const perFile = new Map<string, { ok: number; eio: number }>();
  for (const o of x.opens) {
    // Only a failed reply the language cannot state is a comment alone.
    if (o.line === null && o.error !== null && o.stated === null) continue;
    assert.ok(o.line !== null, `OPEN ${o.unique} is an open statement`);
    const step = byLine.get(o.line);
    assert.ok(step?.action === 'open' || step?.action === 'create', `line ${o.line} is OPEN ${o.unique}'s open or create`);
    const denial = x.report.denials.find((d) => d.unique === o.unique);
    // A failed reply reaches the process as is, but ENOSYS to an OPEN, which turns on no_open (fuse_file_open).
    const analysis = o.error !== null ? (o.error === 'ENOSYS' && step.action === 'open' ? 'ok' : o.error)
      : denial && (denial.certainty === 'proven' || denial.rule !== null) ? 'EIO' : 'ok';
    assert.equal(step.outcome, analysis, `OPEN ${o.unique} (line ${o.line}): simulated as the analysis says`);
    if (o.stated !== null) assert.equal(step.outcome, o.stated, `OPEN ${o.unique}: the outcome the stream proves`);
    const f = perFile.get(o.file) ?? { ok: 0, eio: 0 };
    if (step.outcome === 'EIO') f.eio++;
    else f.ok++;
    perFile.set(o.file, f);
  }
  return perFile;
}

test('forced fallback (passthrough_hp): the 10 refused reopens of a simulate to EIO, every other open to ok, as the workload saw', async () => {
  const x = await exported(join(REAL, 'fallback-eio.strace'));
  const ws = workloads(join(REAL, 'fallback-eio.workload.jsonl'));
  const files = roundTrip(x);
  // The holder's passthrough open of a (sleep 30 < a) is in the capture too: one more ok open of a.
  assert.deepEqual(files.get('a'), { ok: 1, eio: truth(ws, 'a').eio });
  assert.equal(truth(ws, 'a').eio, truth(ws, 'a').attempted, 'every reopen of a failed');
  assert.deepEqual(files.get('c'), { ok: truth(ws, 'c').attempted, eio: 0 });
  assert.deepEqual(files.get('b'), { ok: truth(ws, 'b').attempted, eio: 0 });
  assert.deepEqual(x.opens.filter((o) => o.stated === 'EIO').map((o) => o.unique).sort((p, q) => p - q), [24, 26, 52, 56, 60, 64, 86, 90, 104, 108]);

  // The holder's open and its backing, in the capture's own words.
  assert.match(x.text, /^backing b1 "\/tmp\/rlcap\/fb\/src\/a"   # FUSE_DEV_IOC_BACKING_OPEN by daemon thread 15510: id 1$/m);
  assert.match(x.text, /^pid15597: open a as f8 rdonly reply parallel_direct_writes passthrough backing=b1 => ok   # FUSE_OPEN unique 8$/m);
  // A refused open's RELEASE is the kernel's own: no close of a handle that never opened.
  assert.match(x.text, /^# RELEASE unique 32: the kernel's own release of the refused f24$/m);
  assert.doesNotMatch(x.text, /close f24\b/);
  // What the language cannot state is said, not dropped.
  assert.match(x.text, /^# FUSE_DEV_IOC_BACKING_OPEN of \/tmp\/rlcap\/fb\/src\/b by daemon thread 15537 failed \(EINVAL\)/m);
  assert.match(x.text, /^# FUSE_DEV_IOC_BACKING_CLOSE by daemon thread 15610 of an id the source does not show/m);
  assert.match(x.text, /^init passthrough max_stack_depth=1   # FUSE_INIT is not in the capture/m, 'assumed as the analysis assumes it');
  assert.match(x.text, /^# Left out .*FUSE_FLUSH 13, FUSE_LOOKUP 3, FUSE_READ 2, FUSE_INTERRUPT 1\.$/m);
  assert.match(x.text, /^kernel \d+\.\d+(\.\d+)? /m);
});

test('8 threads on passthrough_hp: 96 opens, each simulates ok, each a process of its own thread', async () => {
  const x = await exported(join(REAL, 'mt8-false-refusal.strace'));
  const ws = workloads(join(REAL, 'mt8-false-refusal.workload.json'));
  const files = roundTrip(x);
  for (const name of ['a', 'b', 'c', 'd']) assert.deepEqual(files.get(name), { ok: truth(ws, name).attempted, eio: 0 }, name);
  const pids = new Set(x.opens.map((o) => o.process));
  assert.equal(pids.size, 8, 'one process per requesting thread');
  // passthrough_hp's ids registered before the capture: each declared once, at the start, and said so.
  assert.match(x.text, /^backing b1   # id 1: its FUSE_DEV_IOC_BACKING_OPEN is not among the capture's events/m);
});

test('a lab capture: the INIT reply flags, and the refused cached open of a passthrough file', async () => {
  const x = await exported(join(TRACE, 'lab-refused-open.jsonl'));
  roundTrip(x);
  assert.match(x.text, /^init init_ext passthrough max_stack_depth=1   # FUSE_INIT reply, protocol 7\.45$/m);
  assert.match(x.text, /^file hello\.txt$/m);
  assert.match(x.text, /: open hello\.txt as f8 rdonly reply keep_cache => EIO   # FUSE_OPEN unique 8$/m);
});

test('a libfuse debug log: a CREATE written as create with its name and flags (O_TRUNC as o_trunc), reply flags said to be unknown', async () => {
  const x = await exported(join(TRACE, 'bindfs-d.log'));
  roundTrip(x);
  assert.match(x.text, /^init async_read export_support   # FUSE_INIT reply, protocol 7\.19$/m);
  assert.match(x.text, /^file a\.txt$/m);
  // The create makes d.txt: a `file` line would make it an existing name, opened by FUSE_OPEN instead.
  assert.doesNotMatch(x.text, /^file d\.txt/m);
  assert.match(x.text, /^# d\.txt: no file line, its first FUSE_CREATE below makes it$/m);
  assert.match(x.text, /^pid4498: create d\.txt as f18 wronly o_trunc => ok   # FUSE_CREATE unique 18; the source does not show the reply flags/m);
  assert.equal(simulateScenario(x.text).steps.find((s) => s.target === 'f18')?.action, 'create');
  assert.match(x.text, /^pid4498: close f18   # RELEASE unique 24$/m);
});

test('failed replies: reply error=ERRNO with the errno as outcome; a failed CREATE makes no name, the next one creates it; an errno the system does not name and ENOSYS stay as the kernel has them', async () => {
  // The lab capture, and after it (every open closed) requests of another task: CREATE new.txt with O_EXCL answered
  // EDQUOT, then again answered with a handle; OPENs of hello.txt answered 530 (no errno name), EACCES, and ENOSYS.
  let t = 1795617445;
  const req = (unique: number, opcode: string, nodeid: number, args: object) =>
    JSON.stringify({ time: t++, type: 'request', connection: 42, unique, opcode, nodeid, pid: 4395, uid: 0, len: 64, args });
  const rep = (unique: number, opcode: string, error: number, errno: string | null, reply?: object) =>
    JSON.stringify({ time: t++, type: 'reply', connection: 42, unique, opcode, nodeid: 0, pid: 4395, error, errno, ...(reply ? { reply } : {}) });
  const O_WRONLY_CREAT_EXCL = 0o301;
  const lines = [
    req(20, 'FUSE_CREATE', 1, { name: 'new.txt', flags: O_WRONLY_CREAT_EXCL, mode: 0o644 }), rep(20, 'FUSE_CREATE', -122, 'EDQUOT'),
    req(22, 'FUSE_CREATE', 1, { name: 'new.txt', flags: O_WRONLY_CREAT_EXCL, mode: 0o644 }),
    rep(22, 'FUSE_CREATE', 0, null, { nodeid: 3, fh: 3, openFlags: 0, backingId: 0 }),
    req(24, 'FUSE_FLUSH', 3, { fh: 3 }), rep(24, 'FUSE_FLUSH', 0, null),
    req(26, 'FUSE_RELEASE', 3, { fh: 3, flags: O_WRONLY_CREAT_EXCL }), rep(26, 'FUSE_RELEASE', 0, null),
    req(28, 'FUSE_OPEN', 2, { flags: 0o2002 }), rep(28, 'FUSE_OPEN', -530, null),
    req(30, 'FUSE_OPEN', 2, { flags: 0o2002 }), rep(30, 'FUSE_OPEN', -13, 'EACCES'),
    req(32, 'FUSE_OPEN', 2, { flags: 0 }), rep(32, 'FUSE_OPEN', -38, 'ENOSYS'),
  ];
  const lab = `${readFileSync(join(TRACE, 'lab-refused-open.jsonl'), 'utf8').trim()}\n${lines.join('\n')}\n`;
  const x = await exportTraceScenario(Readable.from([lab]), { source: 'failed' });
  roundTrip(x);
  assert.doesNotMatch(x.text, /^file new\.txt/m, 'the create makes new.txt');
  assert.match(x.text, /^pid4395: create new\.txt as f20 wronly o_excl reply error=EDQUOT => EDQUOT   # FUSE_CREATE unique 20$/m);
  assert.match(x.text, /^pid4395: create new\.txt as f22 wronly o_excl => ok   # FUSE_CREATE unique 22$/m, 'the failed CREATE made no name: O_EXCL stays');
  assert.match(x.text, /^pid4395: close f22   # RELEASE unique 26$/m);
  assert.match(x.text, /^# pid4395: FUSE_OPEN of hello\.txt answered E530 by the server \(unique 28\): the language cannot state this failing reply$/m);
  assert.match(x.text, /^pid4395: open hello\.txt as f30 rdwr o_append reply error=EACCES => EACCES   # FUSE_OPEN unique 30$/m);
  // ENOSYS to an OPEN: the kernel turns on no_open and the open goes on (fuse_file_open); the init line does not say no_open too.
  assert.match(x.text, /^pid4395: open hello\.txt as f32 rdonly reply error=ENOSYS   # FUSE_OPEN unique 32$/m);
  assert.match(x.text, /^init init_ext passthrough max_stack_depth=1   # FUSE_INIT reply, protocol 7\.45$/m);
  assert.deepEqual(x.opens.filter((o) => o.error !== null).map((o) => [o.unique, o.error, o.stated]),
    [[20, 'EDQUOT', 'EDQUOT'], [28, 'E530', null], [30, 'EACCES', 'EACCES'], [32, 'ENOSYS', null]]);
});

test('tracepoints: no node ids, no replies: each open a file of its own, and said so', async () => {
  const x = await exported(join(TRACE, 'bindfs.ftrace'));
  roundTrip(x);
  assert.match(x.text, /^file open_8   # the source does not say which node id OPEN unique 8 opened/m);
  assert.match(x.text, /^cat: open open_8 as f8 rdonly   # FUSE_OPEN unique 8; open flags not in the source; the source shows no reply body/m);
});

test('names from the capture cannot add a statement or smuggle control characters', async () => {
  const lab = readFileSync(join(TRACE, 'lab-refused-open.jsonl'), 'utf8').replaceAll('"hello.txt"', JSON.stringify('x\nopen evil as e reply passthrough\x1b[2J'));
  const x = await exportTraceScenario(Readable.from([lab]), { source: 'hostile\nkernel 6.1' });
  assert.doesNotMatch(x.text, /^open evil|^kernel 6\.1$/m, 'no statement of its own');
  assert.doesNotMatch(x.text, /\x1b/, 'no raw control character');
  assert.match(x.text, /^file x_open_evil_as_e_reply_passthrough__2J   # x\\nopen evil as e reply passthrough\\x1b\[2J$/m);
  assert.equal(simulateScenario(x.text).steps.filter((s) => s.target === 'e').length, 0);
  roundTrip(x);
});

test('fuselens trace --export-scenario prints the export; -o writes it; not with --json', async () => {
  const file = join(REAL, 'fallback-eio.strace');
  const r = await cli(['trace', file, '--export-scenario']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, (await exported(file)).text);
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-export-'));
  try {
    const w = await cli(['trace', file, '--export-scenario', '-o', join(dir, 'x.fusesim')]);
    assert.equal(w.code, 0, w.err);
    assert.equal(w.out, '');
    assert.equal(readFileSync(join(dir, 'x.fusesim'), 'utf8'), r.out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const bad = await cli(['trace', file, '--export-scenario', '--json']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--export-scenario writes a scenario: not with --export or --json/);
});

test('fuselens/exportTraceScenario (the trace view\'s "Open as Scenario"): the export over a real LSP connection; an unreadable file is a failure', async () => {
  const client = await LspClient.start({ configuration: {} });
  try {
    const file = join(REAL, 'fallback-eio.strace');
    const result = await client.request(Requests.exportTraceScenario.method, { path: file });
    assert.deepEqual(result, { ok: true, text: (await exported(file)).text });
    const bad = (await client.request(Requests.exportTraceScenario.method, { path: join(ROOT, 'package.json') })) as { ok: boolean };
    assert.equal(bad.ok, false);
  } finally {
    await client.shutdown().catch(() => client.kill());
  }
});

test('a capture of two connections: the first one is exported, the other one\'s events are counted in a comment', async () => {
  const lab = readFileSync(join(TRACE, 'lab-refused-open.jsonl'), 'utf8');
  const second = lab.split('\n').filter((l) => l.includes('"connection":42') && !l.includes('"type":"mount"')).map((l) => l.replace('"connection":42', '"connection":43'));
  const x = await exportTraceScenario(Readable.from([`${lab.trim()}\n${second.join('\n')}\n`]), { source: 'two' });
  assert.match(x.text, /\(lab-jsonl, connection 42\)/);
  assert.match(x.text, new RegExp(`^# ${second.length} events of connection 43 are left out: a scenario is one connection\\.$`, 'm'));
  assert.equal(x.opens.length, 2, 'the opens of connection 42 only');
  roundTrip(x);
});
