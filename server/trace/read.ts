// Format detection and the one entry point that runs a byte stream through
// the right reader: `readTrace(stream, sink)`.

import type { TraceFormat, TraceReader, TraceSink } from './events';
import { FtraceReader } from './ftrace';
import { LabJsonlReader } from './lab-jsonl';
import { LibfuseDebugReader } from './libfuse-debug';
import { LineSplitter } from './lines';
import { StraceReader } from './strace';

export const TRACE_FORMATS: readonly TraceFormat[] = ['ftrace', 'strace', 'libfuse-debug', 'lab-jsonl'];

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
const LIBFUSE_LINE = /^(\s+unique: \d+, (success|error)|unique: \d+, opcode: [A-Z_0-9]+ \(\d+\)|FUSE library version: )/;
const LAB_LINE = /^\{.*"type":\s*"(request|reply|mount|unmount|ioctl)"/;

/** Decides the format from the first lines; null when none matches. */
export function detectFormat(head: string): TraceFormat | null {
  const lines = head.split('\n', 400);
  const first = lines[0] ?? '';
  const header = parseCaptureHeader(first);
  if (header) return header.format;
  for (const line of lines) {
    if (line.startsWith('# tracer:')) return 'ftrace';
    if (FTRACE_LINE.test(line)) return 'ftrace';
    if (LAB_LINE.test(line)) return 'lab-jsonl';
    if (LIBFUSE_LINE.test(line)) return 'libfuse-debug';
    if (STRACE_LINE.test(line)) return 'strace';
  }
  return null;
}

export interface ReadOptions {
  /** Skip detection. */
  format?: TraceFormat;
  /** The connection for sources that do not name it (strace, libfuse debug log). */
  connection?: number | null;
}

export function createReader(format: TraceFormat, sink: TraceSink, options: { connection?: number | null } = {}): TraceReader {
  switch (format) {
    case 'ftrace':
      return new FtraceReader(sink);
    case 'strace':
      return new StraceReader(sink, options);
    case 'libfuse-debug':
      return new LibfuseDebugReader(sink, options);
    case 'lab-jsonl':
      return new LabJsonlReader(sink);
  }
}

export class UnknownFormatError extends Error {}

export interface ReadResult {
  format: TraceFormat;
  lines: number;
  header: CaptureHeader | null;
}

const DETECT_BYTES = 64 * 1024;

/**
 * Streams `input` (a file stream, stdin, trace_pipe) through the reader of its
 * format into `sink`. Detection looks at the first 64 KiB; memory stays
 * bounded by one line. Throws UnknownFormatError when nothing matches.
 */
export async function readTrace(input: AsyncIterable<Buffer | string>, sink: TraceSink, options: ReadOptions = {}): Promise<ReadResult> {
  const head: Buffer[] = [];
  let headLength = 0;
  let started: { reader: TraceReader; splitter: LineSplitter; header: CaptureHeader | null } | null = null;

  const start = (final: boolean) => {
    const text = Buffer.concat(head).toString('utf8');
    const nl = text.indexOf('\n');
    const header = parseCaptureHeader(nl >= 0 ? text.slice(0, nl) : text);
    // Without the end of input, only whole lines are looked at.
    const format = options.format ?? detectFormat(final ? text : text.slice(0, text.lastIndexOf('\n') + 1));
    if (!format && text.length === 0) throw new UnknownFormatError('the input is empty');
    if (!format) {
      throw new UnknownFormatError(
        'not a FUSE trace: expected tracefs text with fuse_request_* events, an strace of /dev/fuse, a libfuse debug log or lab-jsonl',
      );
    }
    const reader = createReader(format, sink, { connection: options.connection ?? header?.connection ?? null });
    const splitter = new LineSplitter(
      (buf, s, e, n) => reader.line(buf, s, e, n),
      (n, length, head) => sink.bad(n, `line of ${length} bytes is longer than the limit`, head),
    );
    for (const b of head) splitter.push(b);
    head.length = 0;
    return { reader, splitter, header };
  };

  for await (const chunk of input) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (started) {
      started.splitter.push(b);
      continue;
    }
    head.push(b);
    headLength += b.length;
    if (headLength >= DETECT_BYTES) started = start(false);
  }
  started ??= start(true);
  started.splitter.end();
  started.reader.finish();
  return { format: started.reader.format, lines: started.splitter.lines, header: started.header };
}
