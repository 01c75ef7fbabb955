// The strace reader's calls recorded as the parse worker records them (sink-records.ts) and replayed give the sink
// what reading in one thread gives, whichever thread decodes the calls' strings and wherever their text is: in the
// chunk both threads hold, or copied into the batch (a line cut by a chunk's end).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { lineSplitter, type TraceSink } from '../../server/trace';
import { StraceReader } from '../../server/trace/strace';
import { StraceMessages } from '../../server/trace/strace-messages';
import { ReceivedBuffers, replaySinkRecords, SinkRecorder, type SinkBatch } from '../../server/trace/sink-records';

const FIXTURES = [
  ...['mt8-false-refusal', 'splice-nopassthrough', 'other-rclone'].map((s) => join(__dirname, '..', 'fixtures', 'real-servers', `${s}.strace`)),
  ...['bindfs-multithreaded', 'bindfs-s32-y'].map((s) => join(__dirname, '..', 'fixtures', 'trace', `${s}.strace`)),
];

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
  for (const file of FIXTURES) {
    for (const size of [4096, 1 << 20]) {
      const chunks = sharedChunks(fs.readFileSync(file), size);
      const one = oneThread(chunks);
      assert.ok(one.length > 5, file);
      let n = 0;
      for (const [how, decodeHere] of [['here', () => true], ['there', () => false], ['in turn', () => n++ % 2 === 0]] as const) {
        assert.deepEqual(recordedAndReplayed(chunks, decodeHere), one, `${file} in chunks of ${size}, strings decoded ${how}`);
      }
    }
  }
});
