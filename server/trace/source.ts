// Opening a trace source, for every front (`fuselens trace`, the editor's Open
// Trace): a file is read to its end; a source that may never end (trace_pipe, a
// FIFO, a pipe or socket on stdin) is read until the caller stops it, and what
// was read until then is still analyzed. Progress and cancellation are the
// caller's: it passes a callback and an AbortSignal.

import { fstatSync, openSync, statSync } from 'node:fs';
import { fileChunks } from './file-chunks';
import { isLiveSource, pollSource, streamUntil } from './live';
import { withReadProgress } from './progress';

export interface TraceSourceOptions {
  /**
   * Stops the reading. A source that never ends is read no further and what it gave is
   * analyzed (as Ctrl-C does in the CLI); a file is abandoned: its reading fails with ECANCELED.
   */
  signal?: AbortSignal;
  /** Called once, the first time a source that never ends has nothing to read. */
  onWaiting?: () => void;
  /** Bytes read so far of `total` (the file's size; 0 for a source that never ends): after the first chunk, then at most every 200 ms, and at the end. */
  onProgress?: (bytes: number, total: number) => void;
}

export interface TraceSource {
  /** `stdin` for `-`, else the path. */
  name: string;
  /** Whether the source may never end, so that only the signal stops its reading. */
  live: boolean;
  /** The file's size in bytes; 0 for a source that never ends. */
  size: number;
  chunks: AsyncIterable<Buffer>;
  /**
   * Gives a chunk back once nothing reads it any more, so that a file's next chunks are read into its buffer
   * (file-chunks.ts); the reading goes on the same without it.
   */
  recycle(chunk: Buffer): void;
  /** Whether the signal stopped a source that never ends (the analysis then says it saw only a part). */
  stopped(): boolean;
}

/**
 * Opens `path` (`-` is stdin) for reading a trace. Throws the system's error (ENOENT,
 * EACCES, ...) at once when the source cannot be opened, before any reading starts.
 */
export function openTraceSource(path: string, options: TraceSourceOptions = {}): TraceSource {
  const signal = options.signal ?? new AbortController().signal;
  const name = path === '-' ? 'stdin' : path;
  let live: boolean;
  let size: number;
  let chunks: AsyncIterable<Buffer>;
  let recycle: (chunk: Buffer) => void = () => {};
  if (path === '-' && fstatSync(0).isSocket()) {
    // A socket cannot be opened again through /proc: it is read as a stream.
    live = true;
    size = 0;
    chunks = streamUntil(process.stdin, signal, options.onWaiting);
  } else {
    // stdin through /proc/self/fd/0, so a FIFO or file on stdin is read like one named.
    const file = path === '-' ? '/proc/self/fd/0' : path;
    const st = statSync(file);
    // open(2) succeeds on a directory and only read(2) fails: refuse it here, where every other
    // source that cannot be read is refused, rather than in the middle of the reading.
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${name} is a directory`), { code: 'EISDIR', path: name });
    live = isLiveSource(st);
    size = live ? 0 : st.size;
    if (live) chunks = pollSource(file, signal, options.onWaiting);
    else ({ chunks, recycle } = fileChunks(openSync(file, 'r')));
  }
  const onProgress = options.onProgress;
  chunks = withReadProgress(chunks, {
    report: (bytes) => onProgress?.(bytes, size),
    stopped: () => (!live && signal.aborted ? Object.assign(new Error(`reading ${name} was cancelled`), { code: 'ECANCELED' }) : null),
  });
  return { name, live, size, chunks, recycle, stopped: () => live && signal.aborted };
}
