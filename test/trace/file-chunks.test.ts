// A trace file read into buffers used again (server/trace/file-chunks.ts): the chunks are the file's bytes in
// order, a chunk kept by its reader is never written over, and a chunk given back is read into again.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHUNK_BYTES, fileChunks } from '../../server/trace/file-chunks';

const dir = fs.mkdtempSync(join(tmpdir(), 'fuselens-file-chunks-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
/** 11.5 chunks of bytes that differ from chunk to chunk and within each. */
const bytes = Buffer.from(Array.from({ length: Math.floor(CHUNK_BYTES * 11.5) }, (_, i) => (i * 7 + (i >> 20)) & 0xff));
const file = join(dir, 'trace');
fs.writeFileSync(file, bytes);

test('chunks kept by their reader are the file, none written over by later reads', async () => {
  const { chunks } = fileChunks(fs.openSync(file, 'r'));
  const kept: Buffer[] = [];
  for await (const c of chunks) kept.push(c);
  assert.equal(kept.length, 12);
  assert.ok(Buffer.concat(kept).equals(bytes));
});

test('a chunk given back is read into again, and the reading is the same', async () => {
  const { chunks, recycle } = fileChunks(fs.openSync(file, 'r'));
  const read: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for await (const c of chunks) {
    read.push(Buffer.from(c));
    buffers.add(c.buffer);
    recycle(c);
  }
  assert.ok(Buffer.concat(read).equals(bytes));
  // The next chunk is read while this one is parsed: two buffers take turns.
  assert.equal(buffers.size, 2, 'two buffers for every chunk when each is given back before the next one is asked for');
});

test('leaving the reading early closes the file', async () => {
  const fd = fs.openSync(file, 'r');
  for await (const c of fileChunks(fd).chunks) {
    assert.equal(c.length, CHUNK_BYTES);
    break;
  }
  assert.throws(() => fs.fstatSync(fd), /EBADF/);
});
