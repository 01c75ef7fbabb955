// Reading a trace file in chunks into a few buffers used again and again, where
// fs.createReadStream allocates a new one per chunk: each new megabyte is
// faulted in and zeroed by the kernel, which cost 0.6–0.9 s of CPU per GB read
// (2026-12-02, bench/README.md "Traces") — more than the line splitting of a
// tracefs capture. The buffers are shared memory, so that a chunk crosses to
// the parse worker without a copy and without being detached, and comes back
// once the worker has read it (read.ts).

import { closeSync, read } from 'node:fs';
import { promisify } from 'node:util';

/** What one read asks for: as fs.createReadStream's highWaterMark was for trace files. */
export const CHUNK_BYTES = 1 << 20;
/**
 * Buffers made for the pool at most: the parse worker holds up to 4 chunks (read.ts), one more is being read, one read
 * ahead. A reader that never gives chunks back gets plain buffers after these: a GB of new SharedArrayBuffers cost 4 s
 * of CPU against 0.8 s for new Buffers (reading 1 GB into a new one of each per MiB, 2026-12-02).
 */
const POOLED_BUFFERS = 8;

const readInto = promisify(read);

export interface FileChunks {
  chunks: AsyncIterable<Buffer>;
  /** Gives a chunk's buffer back for later reads: call it once nothing reads the chunk any more. Other buffers are ignored. */
  recycle(chunk: Buffer): void;
}

/** The file open at `fd`, read to its end in chunks of CHUNK_BYTES; closes `fd` when the reading ends or is left. */
export function fileChunks(fd: number): FileChunks {
  const free: SharedArrayBuffer[] = [];
  const pooled = new Set<ArrayBufferLike>();
  const next = (): Buffer => {
    const sab = free.pop();
    if (sab) return Buffer.from(sab);
    if (pooled.size >= POOLED_BUFFERS) return Buffer.allocUnsafeSlow(CHUNK_BYTES);
    const made = new SharedArrayBuffer(CHUNK_BYTES);
    pooled.add(made);
    return Buffer.from(made);
  };
  /**
   * The next chunk's read, started before the chunk before it is handed out, so that reading overlaps the parsing: in one
   * thread the main thread waited 0.2–0.8 s per GB of strace for its reads (its event loop idle), 0.03–0.16 s with this.
   */
  const readNext = (): Promise<Buffer> => {
    const buf = next();
    return readInto(fd, buf, 0, CHUNK_BYTES, null).then(({ bytesRead }) => buf.subarray(0, bytesRead));
  };
  async function* chunks(): AsyncGenerator<Buffer> {
    let ahead: Promise<Buffer> | null = null;
    try {
      ahead = readNext();
      for (;;) {
        const chunk: Buffer = await ahead;
        ahead = null;
        if (chunk.length === 0) {
          if (pooled.has(chunk.buffer)) free.push(chunk.buffer as SharedArrayBuffer);
          return;
        }
        ahead = readNext();
        // Not yet awaited: a failure is thrown where it is awaited, not reported as unhandled meanwhile.
        ahead.catch(() => {});
        yield chunk;
      }
    } finally {
      // A read still running when the reading is left must end before the descriptor is closed (its number may be reused).
      if (ahead) await ahead.catch(() => {});
      closeSync(fd);
    }
  }
  return {
    chunks: chunks(),
    recycle: (chunk) => {
      if (pooled.has(chunk.buffer) && !free.includes(chunk.buffer as SharedArrayBuffer)) free.push(chunk.buffer as SharedArrayBuffer);
    },
  };
}
