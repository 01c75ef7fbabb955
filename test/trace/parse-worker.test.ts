// tracefs and strace read in the parse worker (server/trace/parse-worker.ts) give the sink the very calls,
// in the very order, that reading in one thread gives: events, lost events, bad lines, warnings, on
// recorded real captures and on damaged copies of them, cut into chunks that split lines anywhere.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buildSync } from 'esbuild';
import { analyzeTrace, lineSplitter, openTraceSource, readTrace, type TraceSink } from '../../server/trace';
import { StraceReader } from '../../server/trace/strace';
import { StraceMessages } from '../../server/trace/strace-messages';
import { ReceivedBuffers, replaySinkRecords, SinkRecorder, type SinkBatch } from '../../server/trace/sink-records';

// The worker's bundle, built as scripts/build.mjs builds dist/trace-worker.js (sources under tsx have none).
const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-parse-worker-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const parseWorkerFile = join(dir, 'trace-worker.js');
buildSync({
  entryPoints: [join(__dirname, '..', '..', 'server', 'trace', 'parse-worker.ts')], outfile: parseWorkerFile, bundle: true, platform: 'node',
  format: 'cjs', target: 'node20', logLevel: 'warning',
});

const FIXTURES = [
  join(__dirname, '..', 'fixtures', 'trace', 'bindfs.ftrace'),
  join(__dirname, '..', 'fixtures', 'trace', 'lab-refused-open.ftrace'),
  ...['rclone', 'fuse-zip', 'squashfuse'].map((s) => join(__dirname, '..', 'fixtures', 'real-servers', `other-${s}.tracefs`)),
];

/** `text` in chunks of `size` bytes. */
const chunks = (text: string, size: number) => {
  const b = Buffer.from(text);
  return Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size));
};

/** A sink that keeps every call, in order. */
function recording(): { sink: TraceSink; seen: unknown[] } {
  const seen: unknown[] = [];
  const sink: TraceSink = {
    event: (ev) => seen.push(ev),
    lost: (count, cpu) => seen.push({ lost: count, cpu }),
    bad: (line, why, text) => seen.push({ bad: line, why, text }),
    warning: (text) => seen.push({ warning: text }),
  };
  return { sink, seen };
}

/** Every sink call of a reading, in order. */
async function calls(text: string, size: number, parseInWorker: boolean) {
  const { sink, seen } = recording();
  const result = await readTrace(Readable.from(chunks(text, size)), sink, { parseInWorker, parseWorkerFile });
  return { seen, result };
}

/** A real capture with what a damaged one holds: lost events, a cut line, garbage, an unknown comm, another tracepoint. */
function damaged(text: string): string {
  const lines = text.split('\n');
  const send = lines.findIndex((l) => l.includes('fuse_request_send'));
  return [
    ...lines.slice(0, send),
    'CPU:1 [LOST 17 EVENTS]',
    lines[send]!.slice(0, 70),
    'not a trace line at all',
    lines[send]!.replace(/^\s*\S+-(\d+)/, (m, pid: string) => `${' '.repeat(m.length - pid.length - 6)}<...>-${pid}`),
    '            bash-1234    [000] .....  3796.000001: sched_switch: prev_comm=bash',
    ...lines.slice(send),
    'CPU:0 [LOST 3 EVENTS]',
  ].join('\n');
}

test('tracefs read in the parse worker gives the sink what reading in one thread gives', async () => {
  for (const file of FIXTURES) {
    for (const text of [fs.readFileSync(file, 'utf8'), damaged(fs.readFileSync(file, 'utf8'))]) {
      for (const size of [97, 4096]) {
        const one = await calls(text, size, false);
        const two = await calls(text, size, true);
        assert.equal(one.result.parsedInWorker, false);
        assert.equal(two.result.parsedInWorker, true, 'the worker ran');
        assert.deepEqual(two.result, { ...one.result, parsedInWorker: true }, file);
        assert.ok(one.seen.length > 10, file);
        assert.deepEqual(two.seen, one.seen, `${file} in chunks of ${size}`);
      }
    }
  }
});

const STRACE_FIXTURES = [
  ...['mt8-false-refusal', 'debug-mt', 'fallback-eio', 'splice-nopassthrough', 'other-rclone', 'other-fuse-zip', 'other-squashfuse'].map((s) =>
    join(__dirname, '..', 'fixtures', 'real-servers', `${s}.strace`)),
  ...['bindfs-kernel-cache', 'bindfs-multithreaded', 'bindfs-s32-y'].map((s) => join(__dirname, '..', 'fixtures', 'trace', `${s}.strace`)),
];

const hex = (b: Buffer): string => [...b].map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
/** fuse_in_header (len = 40 + body) of `opcode` and `unique`, then `body`. */
const request = (opcode: number, unique: number, body: Buffer) => {
  const h = Buffer.alloc(40);
  h.writeUInt32LE(40 + body.length, 0);
  h.writeUInt32LE(opcode, 4);
  h.writeUInt32LE(unique, 8);
  return Buffer.concat([h, body]);
};
/** fuse_out_header (len = 16 + body, error) of `unique`, then `body`. */
const reply = (unique: number, error: number, body: Buffer) => {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(16 + body.length, 0);
  h.writeInt32LE(error, 4);
  h.writeUInt32LE(unique, 8);
  return Buffer.concat([h, body]);
};

/**
 * A real strace capture with what a damaged or hostile one holds: a cut line, garbage, a resume without its start,
 * an OPEN request and an OPEN reply too short for their structs, a request cut short, a notification, a detach.
 */
function damagedStrace(text: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /\bread\(/.test(l) && l.includes('= '));
  const tid = lines[at]!.match(/^\s*(\d+)/)?.[1] ?? '1';
  const read = (b: Buffer) => `${tid} 23:59:59.000001 read(4</dev/fuse>, "${hex(b)}", 1052672) = ${b.length} <0.000010>`;
  const writev = (b: Buffer) => `${tid} 23:59:59.000002 writev(4</dev/fuse>, [{iov_base="${hex(b)}", iov_len=${b.length}}], 1) = ${b.length} <0.000010>`;
  return [
    ...lines.slice(0, at),
    lines[at]!.slice(0, 70),
    'not a trace line at all',
    '99999 23:59:59.000000 <... read resumed>"\\x00", 10) = 1 <0.000001>',
    read(request(14, 0xfff1, Buffer.alloc(4))),
    read(request(14, 0xfff2, Buffer.alloc(8))),
    writev(reply(0xfff2, 0, Buffer.alloc(4))),
    `${tid} 23:59:59.000003 read(4</dev/fuse>, "${hex(request(1, 0xfff3, Buffer.from('name\0')).subarray(0, 42))}"..., 1052672) = 45 <0.000010>`,
    writev(reply(0, 1, Buffer.alloc(8))),
    `${tid} 23:59:59.000004 read(4</dev/fuse>,  <detached ...>`,
    ...lines.slice(at),
  ].join('\n');
}

test('strace read in the parse worker gives the sink what reading in one thread gives', async () => {
  for (const file of STRACE_FIXTURES) {
    for (const text of [fs.readFileSync(file, 'utf8'), damagedStrace(fs.readFileSync(file, 'utf8'))]) {
      for (const size of [97, 4096]) {
        const one = await calls(text, size, false);
        const two = await calls(text, size, true);
        assert.equal(two.result.parsedInWorker, true, 'the worker ran');
        assert.deepEqual(two.result, { ...one.result, parsedInWorker: true }, file);
        assert.ok(one.seen.length > 10, file);
        assert.deepEqual(two.seen, one.seen, `${file} in chunks of ${size}`);
      }
    }
  }
});

test('a damaged strace capture gives the bad lines it holds, in the worker as in one thread', async () => {
  const { seen } = await calls(damagedStrace(fs.readFileSync(STRACE_FIXTURES[0]!, 'utf8')), 4096, true);
  const bad = seen.filter((s): s is { bad: number; why: string; text: string } => typeof s === 'object' && s !== null && 'bad' in s);
  const whys = bad.map((b) => b.why);
  assert.ok(whys.includes('FUSE_OPEN request body shorter than its struct'), whys.join('; '));
  assert.ok(whys.includes('FUSE_OPEN reply body shorter than its struct'), whys.join('; '));
  assert.ok(whys.some((w) => w.startsWith('resumed call without')), whys.join('; '));
  // The call's text goes with a message that cannot be decoded: the args of the OPEN read, as printed.
  assert.match(bad.find((b) => b.why === 'FUSE_OPEN request body shorter than its struct')!.text, /^4<\/dev\/fuse>, "\\x2c\\x00/);
});

test('the report of a capture read in the parse worker is the one-thread report', async () => {
  const text = FIXTURES.map((f) => fs.readFileSync(f, 'utf8')).join('');
  const one = await analyzeTrace(Readable.from(chunks(text, 65536)), { parseInWorker: false });
  const two = await analyzeTrace(Readable.from(chunks(text, 65536)), { parseInWorker: true, parseWorkerFile });
  assert.ok(one.requests > 400, `${one.requests} requests`);
  assert.deepEqual(two, one);
  const strace = STRACE_FIXTURES.slice(0, 4).map((f) => fs.readFileSync(f, 'utf8')).join('');
  const oneStrace = await analyzeTrace(Readable.from(chunks(strace, 65536)), { parseInWorker: false });
  const twoStrace = await analyzeTrace(Readable.from(chunks(strace, 65536)), { parseInWorker: true, parseWorkerFile });
  assert.ok(oneStrace.requests > 300, `${oneStrace.requests} requests`);
  assert.deepEqual(twoStrace, oneStrace);
});

test('a file of many chunks, its buffers used again (file-chunks.ts), gives the report of the same bytes streamed', async () => {
  // Over 8 chunks of CHUNK_BYTES: the worker holds 4 at a time, so buffers go to it, come back and are read into again.
  // The strace calls' text is then read by the main thread from the file's chunks (bad lines' text too).
  const strace = STRACE_FIXTURES.slice(0, 4).map((f) => fs.readFileSync(f, 'utf8')).join('');
  const tracefs = FIXTURES.map((f) => fs.readFileSync(f, 'utf8')).join('');
  for (const text of [strace, damagedStrace(strace), tracefs]) {
    const file = join(dir, 'repeated');
    fs.writeFileSync(file, text.repeat(Math.ceil((10 << 20) / text.length)));
    const streamed = await analyzeTrace(Readable.from(chunks(fs.readFileSync(file, 'utf8'), 65536)), { parseInWorker: false });
    assert.ok(streamed.requests > 10_000, `${streamed.requests} requests`);
    assert.deepEqual(await analyzeTrace(openTraceSource(file), { parseInWorker: true, parseWorkerFile }), streamed);
    assert.deepEqual(await analyzeTrace(openTraceSource(file), { parseInWorker: false }), streamed);
  }
});

test('an error of the analysis ends a reading in the worker with that error', async () => {
  const text = fs.readFileSync(FIXTURES[2]!, 'utf8');
  let events = 0;
  const sink: TraceSink = {
    event: () => {
      if (++events === 100) throw new Error('analysis failed');
    },
    lost: () => {},
    bad: () => {},
    warning: () => {},
  };
  await assert.rejects(readTrace(Readable.from(chunks(text, 512)), sink, { parseInWorker: true, parseWorkerFile }), /analysis failed/);
  assert.equal(events, 100, 'no event after the error');
});

test('without the worker bundle the reading stays in this thread', async () => {
  const text = fs.readFileSync(FIXTURES[0]!, 'utf8');
  const sink: TraceSink = { event: () => {}, lost: () => {}, bad: () => {}, warning: () => {} };
  const r = await readTrace(Readable.from(chunks(text, 512)), sink, { parseInWorker: true, parseWorkerFile: join(dir, 'missing.js') });
  assert.equal(r.parsedInWorker, false);
  assert.equal(r.lines, text.split('\n').length - 1);
});

// The strace reader's calls recorded as the worker records them and replayed, in this thread: whichever thread decodes
// the calls' strings (the worker decides by the main thread's backlog) and wherever their text is — in the chunk both
// threads hold, or copied into the batch (a line cut by a chunk's end) — the sink gets what one thread gives it.
/** `bytes` in chunks of `size` in shared memory, as a file's are read (file-chunks.ts). */
const sharedChunks = (bytes: Buffer, size: number) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => {
    const part = bytes.subarray(i * size, (i + 1) * size);
    const chunk = Buffer.from(new SharedArrayBuffer(part.length));
    part.copy(chunk);
    return chunk;
  });

function oneThread(chunks: Buffer[]): unknown[] {
  const { sink, seen } = recording();
  const reader = new StraceReader(sink);
  const splitter = lineSplitter(reader, sink);
  for (const c of chunks) splitter.push(c);
  splitter.end();
  reader.finish();
  return seen;
}

/** Recorded as the worker records (`decodeHere` deciding per call), then replayed with the chunk each batch is of. */
function recordedAndReplayed(chunks: Buffer[], decodeHere: () => boolean): unknown[] {
  const batches: Array<{ batch: SinkBatch; chunk: Buffer | undefined }> = [];
  let current: Buffer | undefined;
  const recorder = new SinkRecorder((batch) => batches.push({ batch, chunk: current }), (buf) => buf === splitter.chunkLines, decodeHere);
  const reader = new StraceReader(recorder, { messages: recorder });
  const splitter = lineSplitter(reader, recorder);
  for (const c of chunks) {
    current = c;
    splitter.push(c);
    batches.push({ batch: recorder.take(), chunk: c });
  }
  current = undefined;
  splitter.end();
  reader.finish();
  batches.push({ batch: recorder.take(), chunk: undefined });
  const { sink, seen } = recording();
  const messages = new StraceMessages(sink, null);
  const buffers = new ReceivedBuffers();
  for (const { batch, chunk } of batches) replaySinkRecords(batch, buffers, sink, messages, chunk);
  return seen;
}

test('strace calls recorded and replayed give what one thread gives, decoded in either thread, their text in the chunk or copied', () => {
  for (const file of STRACE_FIXTURES) {
    for (const [text, size] of [fs.readFileSync(file, 'utf8'), damagedStrace(fs.readFileSync(file, 'utf8'))].flatMap((t) => [[t, 4096], [t, 1 << 20]] as const)) {
      const chunks = sharedChunks(Buffer.from(text), size);
      const one = oneThread(chunks);
      assert.ok(one.length > 5, file);
      let n = 0;
      for (const [how, decodeHere] of [['here', () => true], ['there', () => false], ['in turn', () => n++ % 2 === 0]] as const) {
        assert.deepEqual(recordedAndReplayed(chunks, decodeHere), one, `${file} in chunks of ${size}, strings decoded ${how}`);
      }
    }
  }
});
