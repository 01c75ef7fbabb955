// Format detection and the one entry point that runs a byte stream through
// the right reader: `readTrace(stream, sink)`.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TraceFormat, TraceReader, TraceSink } from './events';
import { FtraceReader } from './ftrace';
import { LabJsonlReader } from './lab-jsonl';
import { BazilDebugReader, isBazilDebugLine } from './bazil-debug';
import { LibfuseDebugReader, isLibfuseDebugLine } from './libfuse-debug';
import { LineSplitter } from './lines';
import { StraceReader, type StraceReaderOptions } from './strace';
import { StraceMessages } from './strace-messages';
import { ReceivedBuffers, replaySinkRecords, type FromParseWorker, type ParseWorkerData, type ToParseWorker } from './sink-records';

/** The formats `fuselens trace` reads, each with what it is (the CLI's --help, the error for other input). */
export const TRACE_FORMAT_SOURCES: Readonly<Record<TraceFormat, string>> = {
  ftrace: 'tracefs text with fuse_request_* events (fuselens capture, trace_pipe, a saved trace)',
  strace: 'strace -f of a daemon\'s reads and writes on /dev/fuse (fuselens capture --daemon)',
  'libfuse-debug': 'stderr of a libfuse 2.9 / 3.x server run with -d, -o debug or --debug-fuse',
  'lab-jsonl': 'the FUSE Lens lab server\'s JSON-lines log',
  'bazil-debug': 'bazil.org/fuse debug log (rclone mount --debug-fuse -vv)',
};
export const TRACE_FORMATS = Object.keys(TRACE_FORMAT_SOURCES) as readonly TraceFormat[];

/**
 * The header `fuselens capture` writes as the first line of a capture:
 * `# fuselens-capture {"format":"strace","connection":41,...}`.
 */
export interface CaptureHeader {
  format: TraceFormat;
  connection: number | null;
  /** Daemon pid (strace captures). */
  daemon?: number | null;
  /** ISO time the capture started. */
  started?: string;
  [key: string]: unknown;
}
export const CAPTURE_HEADER_PREFIX = '# fuselens-capture ';

export function formatCaptureHeader(h: CaptureHeader): string {
  return `${CAPTURE_HEADER_PREFIX}${JSON.stringify(h)}\n`;
}

export function parseCaptureHeader(line: string): CaptureHeader | null {
  if (!line.startsWith(CAPTURE_HEADER_PREFIX)) return null;
  try {
    const h = JSON.parse(line.slice(CAPTURE_HEADER_PREFIX.length)) as CaptureHeader;
    return TRACE_FORMATS.includes(h.format) ? h : null;
  } catch {
    return null;
  }
}

/** Any tracefs event line (a buffer may hold other events before the first fuse one). */
const FTRACE_LINE = /^\s*.+-\d+\s+(\(\s*[\d-]+\)\s+)?\[\d+\].*\s\d+(\.\d+)?: \w+:/;
const STRACE_LINE = /^(\[pid\s+\d+\]\s+|\d+\s+)?([\d:.]+\s+)?(<\.\.\. )?(read|readv|write|writev)(\(| resumed>)/;
const LAB_LINE = /^\{.*"type":\s*"(request|reply|mount|unmount|ioctl)"/;

/** Whether a line is one of the format's, in the order detection tries them. */
const LOOKS_LIKE: ReadonlyArray<[TraceFormat, (line: string) => boolean]> = [
  ['ftrace', (line) => line.startsWith('# tracer:') || FTRACE_LINE.test(line)],
  ['lab-jsonl', (line) => LAB_LINE.test(line)],
  ['libfuse-debug', isLibfuseDebugLine],
  ['bazil-debug', isBazilDebugLine],
  ['strace', (line) => STRACE_LINE.test(line)],
];

/**
 * Logs recognised but not read, with what to do instead. go-fuse (rclone mount2, gocryptfs, ...)
 * with debug on prints "rx UNIQUE: OPCODE nNODE ..." and "tx UNIQUE:     STATUS ..." (go-fuse
 * fuse/request.go, InputDebug/OutputDebug); no such server in the test machine's packages to
 * record a log from, so no reader.
 */
const UNSUPPORTED: ReadonlyArray<{ name: string; test: RegExp; instead: string }> = [
  {
    name: 'a go-fuse debug log (rx N: / tx N: lines)',
    test: /\b[rt]x \d+: +(?:[A-Z_]+ [ni]\d+|OK\b|\d+=)/,
    instead: 'capture the daemon with `fuselens capture --daemon` (strace) or the kernel with `fuselens capture` (tracefs)',
  },
];

/** Decides the format from the first lines; null when none matches. */
export function detectFormat(head: string): TraceFormat | null {
  const lines = head.split('\n', 400);
  const first = lines[0] ?? '';
  const header = parseCaptureHeader(first);
  if (header) return header.format;
  for (const line of lines) for (const [format, test] of LOOKS_LIKE) if (test(line)) return format;
  return null;
}

export interface ReadOptions {
  /** Skip detection. */
  format?: TraceFormat;
  /** The connection for sources that do not name it (strace, libfuse debug log). */
  connection?: number | null;
  /**
   * Read tracefs or strace text in a worker thread while this thread analyses (default false): worth its start-up
   * (tens of ms) on large files. Other formats, and a build without the worker's file, read in this thread.
   * A chunk in shared memory (a file's, file-chunks.ts) is shared with the worker; another that has its ArrayBuffer
   * to itself (a stream's) moves to the worker, so it reads empty afterwards: give chunks nothing else reads again.
   */
  parseInWorker?: boolean;
  /** The worker's bundle: by default `trace-worker.js` beside this module's bundle (dist/, scripts/build.mjs). */
  parseWorkerFile?: string;
  /** Told each chunk once the reading is done with it (TraceSource.recycle: the file's next chunks are read into it). */
  recycle?: (chunk: Buffer) => void;
}

export function createReader(format: TraceFormat, sink: TraceSink, options: StraceReaderOptions = {}): TraceReader {
  switch (format) {
    case 'ftrace':
      return new FtraceReader(sink);
    case 'strace':
      return new StraceReader(sink, options);
    case 'libfuse-debug':
      return new LibfuseDebugReader(sink, options);
    case 'bazil-debug':
      return new BazilDebugReader(sink, options);
    case 'lab-jsonl':
      return new LabJsonlReader(sink);
  }
}

/** The splitter that feeds `reader`, reporting overlong lines to `sink` (in this thread or the parse worker). */
export function lineSplitter(reader: TraceReader, sink: TraceSink): LineSplitter {
  return new LineSplitter(
    (buf, s, e, n) => reader.line(buf, s, e, n),
    (n, length, head) => sink.bad(n, `line of ${length} bytes is longer than the limit`, head),
  );
}

/** Where the lines of a reading go: the reader in this thread, or the parse worker. */
interface LineParser {
  readonly format: TraceFormat;
  readonly inWorker: boolean;
  /** Resolves when the parser is ready for more (the worker holds a few chunks at most). */
  push(chunk: Buffer): Promise<void> | void;
  /** End of input: resolves with the number of lines once every event is in the sink. */
  end(): Promise<number> | number;
  /** Stops what the parser runs (the worker), at the end or when the reading fails. */
  close(): void;
}

function inThread(reader: TraceReader, sink: TraceSink, recycle: (chunk: Buffer) => void): LineParser {
  const splitter = lineSplitter(reader, sink);
  return {
    format: reader.format,
    inWorker: false,
    // The splitter keeps a copy of a line cut by the chunk's end, the readers nothing of the chunk.
    push: (chunk) => {
      splitter.push(chunk);
      recycle(chunk);
    },
    end: () => {
      splitter.end();
      reader.finish();
      return splitter.lines;
    },
    close: () => {},
  };
}

/**
 * Whether a file of `size` bytes is read in the parse worker unless told otherwise (analyzeTrace): from 16 MB, where
 * the worker's start-up (tens of ms) is a few percent, and where there is a second CPU for it to run on.
 */
export function parseInWorkerByDefault(size: number): boolean {
  return size >= 16 << 20 && availableParallelism() > 1;
}

/** Chunks posted to the worker and not yet read: enough to keep both threads busy, few enough to bound memory. */
const WORKER_CHUNKS_IN_FLIGHT = 4;

/**
 * The worker runs a bundle of parse-worker.ts: `trace-worker.js` beside this module's bundle (dist/), or the file
 * given. Where there is none (sources run through tsx, a package without it), the reading stays in this thread.
 */
function inWorker(
  format: TraceFormat,
  connection: number | null,
  sink: TraceSink,
  recycle: (chunk: Buffer) => void,
  file = join(__dirname, 'trace-worker.js'),
): LineParser | null {
  if (!existsSync(file)) return null;
  // A young generation of 4 MB instead of V8's default: 25 MB less peak RSS on a 1 GB strace capture, the same CPU time.
  const worker = new Worker(file, { workerData: { format, connection } satisfies ParseWorkerData, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  // The strace reader's reads and writes are decoded and made into events here, beside the analysis.
  const messages = format === 'strace' ? new StraceMessages(sink, connection) : undefined;
  const buffers = new ReceivedBuffers();
  /** The chunks posted and not yet read by the worker, oldest first (it reads them in order). */
  const inFlight: Buffer[] = [];
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  let finished: ((lines: number) => void) | null = null;
  let lines = -1;
  const settle = () => {
    const w = wake;
    wake = null;
    w?.();
    if (lines >= 0 || failed) finished?.(lines);
  };
  worker.on('message', (m: FromParseWorker) => {
    if (failed) return;
    try {
      // The batch is of the oldest chunk in flight, which the worker is reading or has just read.
      replaySinkRecords(m.batch, buffers, sink, messages, inFlight[0]);
    } catch (err) {
      // The analysis failed (in this thread): the reading ends with its error, as it would without the worker.
      failed = err instanceof Error ? err : new Error(String(err));
      void worker.terminate();
      settle();
      return;
    }
    worker.postMessage({ recycle: m.batch.records, recycleBytes: m.batch.bytes } satisfies ToParseWorker);
    if (m.chunkDone) recycle(inFlight.shift()!);
    if (m.lines !== undefined) lines = m.lines;
    settle();
  });
  worker.on('error', (err) => {
    failed = err;
    settle();
  });
  worker.on('exit', (code) => {
    if (lines < 0) failed ??= new Error(`the trace parse worker exited (code ${code}) before the end of input`);
    settle();
  });
  const check = () => {
    if (failed) throw failed;
  };
  return {
    format,
    inWorker: true,
    push: (chunk) => {
      check();
      // A chunk in shared memory (a file's, file-chunks.ts) is shared with the worker and comes back when it is read;
      // another moves to the worker, copied first where it shares its memory with others.
      if (chunk.buffer instanceof SharedArrayBuffer) {
        worker.postMessage({ chunk: chunk.buffer, offset: chunk.byteOffset, length: chunk.length } satisfies ToParseWorker);
      } else {
        const own = chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
        const bytes = own ? (chunk.buffer as ArrayBuffer) : new Uint8Array(chunk).buffer;
        worker.postMessage({ chunk: bytes, offset: 0, length: bytes.byteLength } satisfies ToParseWorker, [bytes]);
      }
      inFlight.push(chunk);
      if (inFlight.length < WORKER_CHUNKS_IN_FLIGHT) return;
      return new Promise<void>((resolve) => {
        wake = resolve;
      }).then(check);
    },
    end: () => {
      check();
      worker.postMessage({ end: true } satisfies ToParseWorker);
      return new Promise<number>((resolve) => {
        finished = resolve;
        settle();
      }).then((n) => {
        check();
        return n;
      });
    },
    close: () => void worker.terminate(),
  };
}

export class UnknownFormatError extends Error {}

export interface ReadResult {
  format: TraceFormat;
  lines: number;
  header: CaptureHeader | null;
  /** Whether the lines were read in the parse worker. */
  parsedInWorker: boolean;
}

const DETECT_BYTES = 64 * 1024;

/**
 * Streams `input` (a file stream, stdin, trace_pipe) through the reader of its
 * format into `sink`. Detection looks at the first 64 KiB; memory stays
 * bounded by one line. Throws UnknownFormatError when no format matches, and
 * when the reader (of the detected or forced format) understood none of the lines.
 */
export async function readTrace(input: AsyncIterable<Buffer | string>, sink: TraceSink, options: ReadOptions = {}): Promise<ReadResult> {
  const head: Buffer[] = [];
  let headLength = 0;
  let started: { parser: LineParser; header: CaptureHeader | null; looksLike: boolean; sample: string } | null = null;
  // What the reader made of the input: a format (forced or not) that understood nothing is an error, not an empty report.
  let understood = 0;
  let unreadable = 0;
  const counted: TraceSink = {
    event: (ev) => {
      understood++;
      sink.event(ev);
    },
    lost: (count, cpu) => {
      understood++;
      sink.lost(count, cpu);
    },
    bad: (lineNo, why, text) => {
      unreadable++;
      sink.bad(lineNo, why, text);
    },
    warning: (text) => sink.warning(text),
  };

  const start = (final: boolean) => {
    const text = Buffer.concat(head).toString('utf8');
    const nl = text.indexOf('\n');
    const header = parseCaptureHeader(nl >= 0 ? text.slice(0, nl) : text);
    // Without the end of input, only whole lines are looked at.
    const whole = final ? text : text.slice(0, text.lastIndexOf('\n') + 1);
    const format = options.format ?? detectFormat(whole);
    if (!format && text.length === 0) throw new UnknownFormatError('the input is empty');
    const unsupported = format ? undefined : UNSUPPORTED.find((u) => whole.split('\n', 400).some((line) => u.test.test(line)));
    if (unsupported) throw new UnknownFormatError(`this is ${unsupported.name}, which FUSE Lens does not read: ${unsupported.instead}`);
    if (!format) {
      throw new UnknownFormatError(
        `not a FUSE trace: expected ${Object.values(TRACE_FORMAT_SOURCES).join('; or ')}; the first line is ${quoteLine(whole)}`,
      );
    }
    const test = LOOKS_LIKE.find(([f]) => f === format)![1];
    const looksLike = header?.format === format || whole.split('\n', 400).some(test);
    const connection = options.connection ?? header?.connection ?? null;
    const recycle = options.recycle ?? (() => {});
    const parser =
      (options.parseInWorker && (format === 'ftrace' || format === 'strace') ? inWorker(format, connection, counted, recycle, options.parseWorkerFile) : null) ??
      inThread(createReader(format, counted, { connection }), counted, recycle);
    opened.push(parser);
    return { parser, header, looksLike, sample: looksLike ? '' : whole };
  };
  /** The parser once started, to close whatever happens. */
  const opened: LineParser[] = [];

  /** The head's chunks, then each chunk as it comes, waiting when the parser holds enough. */
  const feed = async (parser: LineParser, chunks: Buffer[]) => {
    for (const b of chunks) await parser.push(b);
  };
  try {
    for await (const chunk of input) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (started) {
        await started.parser.push(b);
        continue;
      }
      head.push(b);
      headLength += b.length;
      if (headLength >= DETECT_BYTES) {
        started = start(false);
        await feed(started.parser, head.splice(0));
      }
    }
    if (!started) {
      started = start(true);
      await feed(started.parser, head.splice(0));
    }
    const { parser } = started;
    const lines = await parser.end();
    if (understood === 0 && !started.looksLike && lines > 0) {
      const other = detectFormat(started.sample);
      throw new UnknownFormatError(
        `not ${parser.format} input: none of its ${lines} line(s) was understood${unreadable > 0 ? ` (${unreadable} unreadable)` : ''}; ` +
          `the first is ${quoteLine(started.sample)}. ` +
          (other && other !== parser.format
            ? `It looks like ${other}: leave out --format, or give --format ${other}`
            : `${parser.format} is ${TRACE_FORMAT_SOURCES[parser.format]}`),
      );
    }
    return { format: parser.format, lines, header: started.header, parsedInWorker: parser.inWorker };
  } finally {
    for (const p of opened) p.close();
  }
}

/** The first non-empty line of `text`, quoted and cut for a message. */
function quoteLine(text: string): string {
  const line = text.split('\n', 400).find((l) => l.trim() !== '') ?? '';
  return JSON.stringify(line.length > 160 ? `${line.slice(0, 160)}…` : line);
}
