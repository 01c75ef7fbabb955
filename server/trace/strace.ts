// Reader for strace captures of a FUSE daemon's /dev/fuse traffic:
//   strace -f -p PID -y -e trace=read,readv,write,writev,splice,vmsplice,ioctl,openat -xx -s 1048576 -tt -T
// (older captures: -P /dev/fuse and only read/readv/write/writev).
// Each read() is one request (fuse_in_header + body), each write()/writev()
// one reply (fuse_out_header + body) or a notification (unique 0); a reply
// moved by splice(pipe -> /dev/fuse) takes its header from the vmsplice that
// filled the pipe. ioctl FUSE_DEV_IOC_BACKING_OPEN/CLOSE become backing events.
// The calls' text goes to strace-messages.ts, which decodes their strings and
// the messages in them with the FUSE ABI module (server/abi), so the trace
// shows what libfuse's debug log does not: OPEN reply flags, backing ids, INIT
// reply flags.
//
// Order: events are emitted in the order the kernel saw them. A reply acts
// when the daemon's write enters the kernel (fuse_dev_do_write runs inside the
// call), so it is emitted at its start line, which holds all its bytes even
// when strace splits it with `<unfinished ...>`; a request exists for the
// daemon only when its read returns, so it is emitted at the resume line.
// strace prints each thread's entry and exit stops in the order it sees them,
// so a request that the kernel sent because of a reply (the RELEASE of a
// refused OPEN) always comes after that reply's start line.
// Handles `-o FILE -f` ("PID  time ..."), stderr ("[pid N] time ..."),
// -t/-tt/-ttt and no timestamps, -y fd paths, and strings printed without -xx.

import { FUSE_DEV_IOC_BACKING_CLOSE, FUSE_DEV_IOC_BACKING_OPEN, OUT_HEADER_SIZE } from '../abi';
import { backingEvent, type TraceReader, type TraceSink } from './events';
import { errnoNumber } from './errno';
import { decodeName } from '../../protocol/byte-names';
import { BAD_TEXT, callTextHead, StraceMessages, type StraceMessageSink } from './strace-messages';
import { hexValue, StraceStrings } from './strace-strings';

export const STRACE_BLIND_SPOTS =
  'strace sees the daemon\'s system calls, not the kernel: requests a daemon reads with splice(2) (libfuse -o splice_read) ' +
  'or over FUSE-over-io_uring never appear in this capture, so counts of such a daemon are incomplete.';
/** A reply spliced from a pipe: its header comes from the vmsplice that filled the pipe, its data is not in the capture. */
export const SPLICED_REPLIES = 'replies the daemon spliced into /dev/fuse (READ data) are paired and timed by their header; their data is not decoded';

const enum C {
  space = 32,
  quote = 34,
  backslash = 92,
  lparen = 40,
  rparen = 41,
  lt = 60,
  gt = 62,
  colon = 58,
  dot = 46,
  zero = 48,
  nine = 57,
  lbracket = 91,
  rbracket = 93,
}

const DAY_US = 86_400_000_000;
const UNFINISHED = Buffer.from('<unfinished ...>');
const RESUMED = Buffer.from(' resumed>');
const DETACHED = Buffer.from('<detached ...>');
const EQUALS_LENGTH = ') = '.length;

/** Index of the first `needle` in buf[start, end), or -1 (Buffer.indexOf would need a subarray to stop at `end`). */
function indexIn(buf: Buffer, start: number, end: number, needle: Buffer): number {
  const first = needle[0];
  for (let i = start, last = end - needle.length; i <= last; i++) {
    if (buf[i] !== first) continue;
    let k = 1;
    while (k < needle.length && buf[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}

/**
 * -T's "0.000123>" at p, in µs (0 when it is not a number). strace prints 6 decimals: read as
 * integers; any other form goes through Number, as would each.
 */
function duration(buf: Buffer, p: number, end: number): number {
  let close = p;
  while (close < end && buf[close] !== C.gt) close++;
  let q = p;
  let us = 0;
  while (q < close && isDigit(buf[q])) us = us * 10 + (buf[q++]! - C.zero);
  if (q > p && buf[q] === C.dot && close - q === 7) {
    let frac = 0;
    let r = q + 1;
    while (r < close && isDigit(buf[r])) frac = frac * 10 + (buf[r++]! - C.zero);
    if (r === close) return us * 1e6 + frac;
  }
  const secs = Number(buf.toString('latin1', p, close));
  return Number.isFinite(secs) ? Math.round(secs * 1e6) : 0;
}

/** From the last byte back: a call's line ends in `>` too, with -T (`<0.000012>`), and differs from the markers just before it. */
function endsWith(buf: Buffer, start: number, end: number, suffix: Buffer): boolean {
  if (end - start < suffix.length) return false;
  for (let i = suffix.length - 1, at = end - suffix.length; i >= 0; i--) if (buf[at + i] !== suffix[i]) return false;
  return true;
}

/** Offset from `start` of the last ") = " (the result; -xx strings hold no ')'), or -1. */
function lastEquals(buf: Buffer, start: number, end: number): number {
  for (let i = end - 4; i >= start; i--) if (buf[i] === 41 && buf[i + 1] === 32 && buf[i + 2] === 61 && buf[i + 3] === 32) return i - start;
  return -1;
}
const EMPTY = Buffer.alloc(0);
/** Zero bytes after a joined call: a read past its end (an escape cut short) sees no digit, quote or escape. */
const JOIN_PAD = 4;

/**
 * A side line of a `fuselens capture --daemon` file: the name of a requesting task, read from /proc/TID/comm
 * while capturing and written before its first request, so the reader stays a function of the file.
 */
const COMM_PREFIX = '# fuselens-comm ';
export function straceCommLine(pid: number, comm: string): string {
  return `${COMM_PREFIX}${JSON.stringify({ pid, comm })}`;
}
const COMM_PREFIX_BYTES = Buffer.from(COMM_PREFIX);

/**
 * A write-direction ioctl request as strace may print it: by name (newer strace), by number, or as
 * `_IOC(_IOC_WRITE, type, nr, size)` (strace 6.1), from the number's _IOC layout (nr bits 0–7, type
 * 8–15, size 16–29).
 */
function ioctlSpellings(name: string, request: number): RegExp {
  const hex = (n: number) => `0x${n.toString(16)}`;
  const ioc = `_IOC(_IOC_WRITE, ${hex((request >>> 8) & 0xff)}, ${hex(request & 0xff)}, ${hex((request >>> 16) & 0x3fff)})`;
  return new RegExp([name, hex(request), ioc].map((t) => t.replace(/[()]/g, '\\$&')).join('|'));
}
const BACKING_OPEN = ioctlSpellings('FUSE_DEV_IOC_BACKING_OPEN', FUSE_DEV_IOC_BACKING_OPEN);
const BACKING_CLOSE = ioctlSpellings('FUSE_DEV_IOC_BACKING_CLOSE', FUSE_DEV_IOC_BACKING_CLOSE);

/** A descriptor of /dev/fuse by its -y path (libfuse's clone fds are /dev/fuse too; a chroot may show /dev/fuse under a prefix). */
function isDevFuse(path: string): boolean {
  return path.endsWith('/dev/fuse');
}

/**
 * Paths kept: /dev/fuse and the files a passthrough server opens for its backing ids (the benchmark's passthrough_hp
 * captures hold 9 or more, and with 8 kept one in 17 lookups missed, each a decode of the path).
 */
const PATHS_KEPT = 16;

/** The text of -y paths (decodeName of their bytes, each `\xNN` one byte) by their bytes as printed, for the last few seen. */
class PathCache {
  private readonly raw: Buffer[] = [];
  private readonly texts: string[] = [];
  private next = 0;
  /** The entry found last. */
  private hit = 0;
  /** Where the last path read ends: its '>'. */
  close = 0;

  /**
   * The path from `start` (past its '<') to the first '>' before `end`. A path seen before is found by its bytes and
   * the '>' after them (no byte of a kept one is a '>'), without looking for the '>' first.
   */
  text(buf: Buffer, start: number, end: number): string {
    // The path found last first: a daemon's lines name /dev/fuse nearly always, and the others before it cost a compare each.
    for (let j = 0, count = this.raw.length; j < count; j++) {
      const k = j === 0 ? this.hit : j === this.hit ? 0 : j;
      const r = this.raw[k]!;
      const n = r.length;
      if (start + n >= end || buf[start + n] !== C.gt) continue;
      let i = 0;
      while (i < n && r[i] === buf[start + i]) i++;
      if (i === n) {
        this.close = start + n;
        this.hit = k;
        return this.texts[k]!;
      }
    }
    let close = start;
    while (close < end && buf[close] !== C.gt) close++;
    this.close = close;
    end = close;
    const n = end - start;
    const bytes = Buffer.allocUnsafe(n);
    let length = 0;
    for (let p = start; p < end; p++) {
      const c = buf[p]!;
      const hi = c === C.backslash && buf[p + 1] === 120 /* x */ && p + 3 < end ? hexValue(buf[p + 2]) : -1;
      const lo = hi >= 0 ? hexValue(buf[p + 3]) : -1;
      if (lo >= 0) {
        bytes[length++] = (hi << 4) | lo;
        p += 3;
      } else bytes[length++] = c;
    }
    const text = decodeName(bytes.subarray(0, length));
    const k = this.next;
    this.next = (k + 1) % PATHS_KEPT;
    this.raw[k] = Buffer.from(buf.subarray(start, end));
    this.texts[k] = text;
    return text;
  }
}

/**
 * The last unfinished read whose head was its fd alone (Pending.fdOnly), by its bytes: a daemon's threads wait in
 * read(4</dev/fuse>, ...) on nearly every other line, and a head seen before needs neither a copy nor its fd and path
 * read again. Its bytes are never written again (a new head gets a new buffer), so that the Pending entries and the
 * parse worker's batches (sink-records.ts: copied once per batch) can hold them.
 */
class ReadHead {
  bytes: Buffer = EMPTY;
  path: string | null = null;

  matches(buf: Buffer, start: number, end: number): boolean {
    const bytes = this.bytes;
    const n = bytes.length;
    if (end - start !== n || n === 0) return false;
    for (let i = 0; i < n; i++) if (bytes[i] !== buf[start + i]) return false;
    return true;
  }

  keep(buf: Buffer, start: number, end: number, path: string | null): Buffer {
    this.path = path;
    return (this.bytes = Buffer.from(buf.subarray(start, end)));
  }
}

/** Past the next ", " at bracket depth 0 (an argument such as `[0]` or `NULL`). */
function skipArg(buf: Buffer, p: number, end: number): number {
  let depth = 0;
  for (; p < end; p++) {
    const c = buf[p];
    if (c === C.lbracket || c === 123) depth++;
    else if (c === C.rbracket || c === 125) depth--;
    else if (c === 44 && depth === 0) return p + 1 < end && buf[p + 1] === C.space ? p + 2 : p + 1;
  }
  return end;
}

type Syscall = 'read' | 'readv' | 'write' | 'writev' | 'splice' | 'vmsplice' | 'ioctl' | 'openat' | 'open';
/** The other calls the reader decodes, by their names' bytes: compared where they are, no string made per line. */
const OTHER_SYSCALLS = (['splice', 'vmsplice', 'ioctl', 'openat', 'open'] as const).map((name) => ({ name, bytes: Buffer.from(name) }));
/** The call named by buf[start, end): one the reader decodes, or null for any other. */
function syscallAt(buf: Buffer, start: number, end: number): Syscall | null {
  const n = end - start;
  const v = buf[end - 1] === 118; /* v */
  if (n === (v ? 5 : 4) && buf[start] === 114 && buf[start + 1] === 101 && buf[start + 2] === 97 && buf[start + 3] === 100) return v ? 'readv' : 'read';
  if (n === (v ? 6 : 5) && buf[start] === 119 && buf[start + 1] === 114 && buf[start + 2] === 105 && buf[start + 3] === 116 && buf[start + 4] === 101)
    return v ? 'writev' : 'write';
  for (const other of OTHER_SYSCALLS) if (isAt(buf, start, end, other.bytes)) return other.name;
  return null;
}

/** Whether buf[start, end) is `bytes`. */
function isAt(buf: Buffer, start: number, end: number, bytes: Buffer): boolean {
  if (end - start !== bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}

/** The names of the last few calls the reader does not decode (close, futex, ...), by their bytes: a string per name, not per line. */
class OtherNames {
  private readonly bytes: Buffer[] = [];
  private readonly names: string[] = [];
  private next = 0;

  name(buf: Buffer, start: number, end: number): string {
    for (let k = 0; k < this.bytes.length; k++) if (isAt(buf, start, end, this.bytes[k]!)) return this.names[k]!;
    const name = buf.toString('latin1', start, end);
    const k = this.next;
    this.next = (k + 1) % 8;
    this.bytes[k] = Buffer.from(buf.subarray(start, end));
    this.names[k] = name;
    return name;
  }
}

/** Calls whose effect happens at entry: the reader acts on their start line (see the header). */
const ACTS_AT_ENTRY = new Set<Syscall>(['write', 'writev', 'splice', 'vmsplice']);

interface Pending {
  /** The thread is inside this call (entries are kept per thread and reused). */
  active: boolean;
  syscall: Syscall | null;
  ts: number | null;
  /** The args text before `<unfinished ...>`: head[0, headLength), in `own` or, for a read's fd alone, the reader's ReadHead. */
  head: Buffer;
  headLength: number;
  /** The buffer the thread keeps for the heads it copies. */
  own: Buffer;
  /** The call was decoded at its start line: the resume line only ends it. */
  done: boolean;
  /**
   * The head is the fd alone (a read's `4</dev/fuse>, `), whose -y path is `path`: the resume line is read where it
   * is, not after a copy of both (the head holds no string, no `) = `).
   */
  fdOnly: boolean;
  path: string | null;
}

/** The two decimal digits at `at` as a number, or -1 where either is not a digit. */
function twoDigits(buf: Buffer, at: number): number {
  const a = buf[at]! - C.zero;
  const b = buf[at + 1]! - C.zero;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= C.zero && c <= C.nine;
}

export interface StraceReaderOptions {
  /** The connection these /dev/fuse fds belong to (strace cannot tell); a `# fuselens-capture` header sets it too. */
  connection?: number | null;
  /** Where the reads and writes of /dev/fuse go: by default made into events on the sink in this thread (StraceMessages). */
  messages?: StraceMessageSink;
}

export class StraceReader implements TraceReader {
  readonly format = 'strace' as const;
  /** Fixed at construction: StraceMessages stamps the messages' events with the same value. */
  readonly connection: number | null;
  /** Calls on /dev/fuse seen, for the "nothing decoded" warning. */
  calls = 0;
  /** Completed reads without -T's duration: their time is when the daemon started waiting. */
  readsWithoutDuration = 0;
  /** Syscalls other than read/readv/write/writev (e.g. splice) seen in the file. */
  readonly otherSyscalls = new Map<string, number>();
  /** Per thread, its call between `<unfinished ...>` and `<... resumed>`. */
  private readonly pending = new Map<number, Pending>();
  /** Per thread, the path of the descriptor its last openat/open returned (-y). */
  private readonly lastOpened = new Map<number, string>();
  /** Reply headers vmspliced into a pipe (by the pipe's -y path, or by thread without -y), until spliced to /dev/fuse. */
  private readonly pipes = new Map<string, Buffer>();
  private readonly paths = new PathCache();
  private readonly otherNames = new OtherNames();
  private readonly readHead = new ReadHead();
  private splicedReplies = 0;
  private unmatchedSplices = 0;
  /** A vmsplice's strings (a reply's header, kept until its splice). */
  private readonly strings = new StraceStrings();
  private lastTs = -1;
  private dayOffset = 0;

  private readonly messages: StraceMessageSink;

  constructor(private readonly sink: TraceSink, options: StraceReaderOptions = {}) {
    this.connection = options.connection ?? null;
    this.messages = options.messages ?? new StraceMessages(sink, this.connection);
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    let p = start;
    while (p < end && buf[p] === C.space) p++;
    if (p >= end) return;
    if (buf[p] === 35 /* # */) return this.sideLine(buf, p, end);
    let tid = 0;
    if (buf[p] === C.lbracket) {
      // "[pid  4471] "
      while (p < end && !isDigit(buf[p]) && buf[p] !== C.rbracket) p++;
      while (isDigit(buf[p])) tid = tid * 10 + (buf[p++]! - C.zero);
      while (p < end && buf[p] !== C.rbracket) p++;
      p++;
      while (p < end && buf[p] === C.space) p++;
    } else if (isDigit(buf[p])) {
      let q = p;
      let n = 0;
      while (isDigit(buf[q])) n = n * 10 + (buf[q++]! - C.zero);
      if (buf[q] === C.space) {
        tid = n;
        p = q;
        while (p < end && buf[p] === C.space) p++;
      }
    }
    // Timestamp (optional): HH:MM:SS[.ffffff] or SECONDS.ffffff.
    let ts: number | null = null;
    if (isDigit(buf[p])) {
      ts = this.parseTime(buf, p, end);
      if (ts === null) return this.sink.bad(lineNo, 'bad timestamp', buf.toString('latin1', start, Math.min(end, start + 200)));
      p = this.timeEnd + 1;
    }
    if (buf[p] === C.lt) {
      // "<... read resumed>..." — join with the thread's unfinished half.
      const r = indexIn(buf, p, end, RESUMED);
      const pend = this.pending.get(tid);
      if (r < 0 || !pend?.active) return this.sink.bad(lineNo, 'resumed call without its <unfinished ...> half', buf.toString('latin1', start, Math.min(end, start + 200)));
      pend.active = false;
      if (pend.done || pend.syscall === null) return;
      if (pend.fdOnly) return this.call(pend.syscall, ts, tid, buf, r + RESUMED.length, end, lineNo, true, false, pend);
      const joined = this.join(pend, buf, r + RESUMED.length, end);
      // A read's data arrived when it returned (resumed): stamp it then.
      this.call(pend.syscall, ts, tid, joined, 0, pend.headLength + end - (r + RESUMED.length), lineNo, true, false);
      return;
    }
    const nameStart = p;
    while (p < end && buf[p] !== C.lparen && buf[p] !== C.space) p++;
    if (buf[p] !== C.lparen) return; // "--- SIGCHLD ---", "+++ exited +++", "strace: Process N attached"
    const syscall = syscallAt(buf, nameStart, p);
    if (!syscall) {
      const name = this.otherNames.name(buf, nameStart, p);
      this.otherSyscalls.set(name, (this.otherSyscalls.get(name) ?? 0) + 1);
    }
    const argsStart = p + 1;
    // Both markers end the line; with -xx no string can hold them, so a look at the end suffices.
    let last = end;
    while (last > argsStart && buf[last - 1] === C.space) last--;
    if (endsWith(buf, argsStart, last, UNFINISHED)) {
      // Every unfinished call is remembered, so that its resume line is not taken for garbage.
      const done = syscall !== null && ACTS_AT_ENTRY.has(syscall);
      const headEnd = last - UNFINISHED.length;
      if (done) this.call(syscall, ts, tid, buf, argsStart, headEnd, lineNo, false, true);
      let pend = this.pending.get(tid);
      if (!pend) this.pending.set(tid, (pend = { active: true, syscall, ts, head: EMPTY, headLength: 0, own: EMPTY, done, fdOnly: false, path: null }));
      pend.active = true;
      pend.syscall = syscall;
      pend.ts = ts;
      pend.done = done;
      pend.headLength = 0;
      pend.fdOnly = false;
      // A call decoded now needs nothing of its start line later: only the others keep their head.
      if (syscall && !done) {
        const n = headEnd - argsStart;
        pend.headLength = n;
        const read = syscall === 'read' || syscall === 'readv';
        if (read && this.readHead.matches(buf, argsStart, headEnd)) {
          pend.head = this.readHead.bytes;
          pend.fdOnly = true;
          pend.path = this.readHead.path;
          return;
        }
        if (pend.own.length < n) pend.own = Buffer.allocUnsafe(Math.max(n, 64));
        // A few bytes: a loop, not Buffer.copy's view per call.
        const head = (pend.head = pend.own);
        for (let i = 0; i < n; i++) head[i] = buf[argsStart + i]!;
        if (read) {
          this.fdOnlyHead(pend, buf, argsStart, headEnd);
          // Its head goes to the messages' sink as the prefix of the resumed call: a buffer never written again.
          if (pend.fdOnly) pend.head = this.readHead.keep(buf, argsStart, headEnd, pend.path);
        }
      }
      return;
    }
    if (!syscall || endsWith(buf, argsStart, last, DETACHED)) return;
    this.call(syscall, ts, tid, buf, argsStart, end, lineNo, false, false);
  }

  /** Whether an unfinished read's head [start, end) is its fd alone (Pending.fdOnly), and that fd's path. */
  private fdOnlyHead(pend: Pending, buf: Buffer, start: number, end: number): void {
    this.fdPathAt(buf, start, end);
    for (let p = this.fdNext; p < end; p++) if (buf[p] !== C.space) return;
    for (let p = start; p < end; p++) if (buf[p] === C.quote || buf[p] === C.rparen) return;
    pend.fdOnly = true;
    pend.path = this.fdPath;
  }

  /**
   * The unfinished call's head and its resume line's rest, [restStart, end), one after the other in a
   * buffer the reader reuses; zeros after them read as the end of input does.
   */
  private join(pend: Pending, buf: Buffer, restStart: number, end: number): Buffer {
    const n = pend.headLength + end - restStart;
    if (this.joined.length < n + JOIN_PAD) this.joined = Buffer.allocUnsafe(Math.max(n + JOIN_PAD, this.joined.length * 2));
    const joined = this.joined;
    pend.head.copy(joined, 0, 0, pend.headLength);
    buf.copy(joined, pend.headLength, restStart, end);
    joined.fill(0, n, n + JOIN_PAD);
    return joined;
  }
  private joined = Buffer.alloc(4096);

  private sideLine(buf: Buffer, start: number, end: number): void {
    if (end - start <= COMM_PREFIX_BYTES.length || buf.compare(COMM_PREFIX_BYTES, 0, COMM_PREFIX_BYTES.length, start, start + COMM_PREFIX_BYTES.length) !== 0) return;
    try {
      const { pid, comm } = JSON.parse(buf.toString('utf8', start + COMM_PREFIX_BYTES.length, end)) as { pid: unknown; comm: unknown };
      if (typeof pid === 'number' && typeof comm === 'string') this.messages.comm(pid, comm);
    } catch {
      // not ours: a comment
    }
  }

  finish(): void {
    // A daemon thread waiting in read() of /dev/fuse is idle, not lost: only other calls are worth a word.
    const busy = [...this.pending.values()].filter((p) => p.active && p.syscall !== 'read' && p.syscall !== 'readv' && !p.done).length;
    if (busy > 0) this.sink.warning(`${busy} call(s) other than an idle read of /dev/fuse still unfinished when the capture ended`);
    const blind = [...this.otherSyscalls.keys()].filter((n) => n.startsWith('io_uring') || n === 'splice from /dev/fuse');
    if (blind.length > 0) this.sink.warning(`the daemon used ${blind.join(', ')} on /dev/fuse: those requests are not decoded. ${STRACE_BLIND_SPOTS}`);
    else this.sink.warning(STRACE_BLIND_SPOTS);
    if (this.splicedReplies > 0) this.sink.warning(`${this.splicedReplies} ${SPLICED_REPLIES}`);
    if (this.unmatchedSplices > 0)
      this.sink.warning(
        `${this.unmatchedSplices} splice(s) into /dev/fuse without the vmsplice of their header: capture with -y and trace=...,splice,vmsplice (fuselens capture --daemon does)`,
      );
    if (this.readsWithoutDuration > 0)
      this.sink.warning(
        'strace ran without -T: a request read in one line is stamped when the daemon called read(), idle wait included, ' +
          'so latencies of an idle daemon are too long (fuselens capture --daemon passes -T)',
      );
    if (this.calls === 0) this.sink.warning('no read/write on /dev/fuse in this capture (was strace attached to the daemon? fuselens capture --daemon runs it with the flags this reader expects)');
  }

  /**
   * The fd at `start` and its -y path: `4</dev/fuse>`, with -xx `4<\x2f\x64...>`; into fdPath (null without -y) and
   * fdNext, where the following argument starts (fields, not an object per call). Paths repeat on nearly every line
   * (/dev/fuse): `paths` keeps the decoded ones by their bytes.
   */
  private fdPathAt(buf: Buffer, start: number, end: number): void {
    let f = start;
    while (f < end && buf[f] === C.space) f++;
    while (f < end && (isDigit(buf[f]) || buf[f] === 45 || (buf[f]! >= 65 && buf[f]! <= 90) || buf[f] === 95)) f++; // 4, -1, AT_FDCWD
    let path: string | null = null;
    if (f < end && buf[f] === C.lt) {
      path = this.paths.text(buf, f + 1, end);
      f = this.paths.close + 1;
    }
    this.fdPath = path;
    this.fdNext = skipArg(buf, f, end);
  }
  private fdPath: string | null = null;
  private fdNext = 0;

  /**
   * args = the text after "name(" up to the end of the line: `fd, "bytes", size) = result`. `atEntry`: the
   * start line of an unfinished call, acted on now (its bytes are all there; its result is not). `head`: the
   * unfinished read whose resume line's rest this is (Pending.fdOnly), the text of its call being both.
   */
  private call(syscall: Syscall, ts: number | null, tid: number, buf: Buffer, start: number, end: number, lineNo: number, joined: boolean, atEntry: boolean, head?: Pending): void {
    let result = 0;
    let errno: string | null = null;
    let resAt = end;
    let argsEnd = end;
    if (!atEntry) {
      const eq = lastEquals(buf, start, end);
      if (eq < 0) return this.sink.bad(lineNo, `${syscall} without a result (truncated line?)`, callTextHead(buf, start, end, head?.head ?? EMPTY, 0, head?.headLength ?? 0, BAD_TEXT));
      argsEnd = start + eq;
      resAt = argsEnd + EQUALS_LENGTH;
      let neg = false;
      let q = resAt;
      if (buf[q] === 45) {
        neg = true;
        q++;
      }
      if (!isDigit(buf[q])) return; // "= ? <unavailable>"
      while (isDigit(buf[q])) result = result * 10 + (buf[q++]! - C.zero);
      if (neg) {
        // failed call: -1 EINTR/EAGAIN/ENODEV (unmounted) or ENOENT (reply to a request that is gone); a
        // failed BACKING_OPEN is worth reporting.
        if (syscall !== 'ioctl') return;
        while (buf[q] === C.space) q++;
        const e = q;
        while (q < end && buf[q] !== C.space) q++;
        errno = buf.toString('latin1', e, q);
      }
      // -T appends "<0.000123>", the time spent in the call. strace stamps a call with its entry time, so a
      // blocking read() that completed in one line is stamped when the daemon started waiting: add the duration.
      if ((syscall === 'read' || syscall === 'readv') && ts !== null && !joined) {
        while (q < end && buf[q] !== C.space && buf[q] !== C.lt) q++;
        while (q < end && buf[q] === C.space) q++;
        if (buf[q] === C.lt) ts += duration(buf, q + 1, end);
        else this.readsWithoutDuration++;
      }
    }
    if (syscall === 'openat' || syscall === 'open') return this.opened(tid, buf, resAt, end);
    // -y prints "4</dev/fuse>": the first argument's path (null without -y, where -P kept only /dev/fuse).
    // (A head is a read's fd alone: nothing follows it there.)
    if (head) this.fdPath = head.path;
    else this.fdPathAt(buf, start, end);
    const path = this.fdPath;
    if (syscall === 'vmsplice') return this.vmspliced(tid, path, buf, this.fdNext, argsEnd);
    if (syscall === 'splice') return this.spliced(tid, path, ts, buf, this.fdNext, argsEnd, lineNo);
    if (path !== null && !isDevFuse(path)) return;
    if (syscall === 'ioctl') return this.ioctl(tid, ts, buf, this.fdNext, argsEnd, result, errno);
    this.calls++;
    this.messages.call(
      syscall === 'read' || syscall === 'readv', buf, start, argsEnd, end, head?.head ?? EMPTY, 0, head?.headLength ?? 0, atEntry ? -1 : result, ts, tid, lineNo,
    );
  }

  /** openat/open with -y: the path of the descriptor it returned, the thread's candidate for a BACKING_OPEN. */
  private opened(tid: number, buf: Buffer, resAt: number, end: number): void {
    this.fdPathAt(buf, resAt, end);
    if (this.fdPath !== null) this.lastOpened.set(tid, this.fdPath);
  }

  /** vmsplice into a pipe: libfuse's fuse_send_data_iov puts the reply's header there before splicing the data after it. */
  private vmspliced(tid: number, pipe: string | null, buf: Buffer, start: number, end: number): void {
    this.strings.decode(buf, start, end);
    if (this.strings.length < OUT_HEADER_SIZE) return;
    this.pipes.set(pipe ?? `tid ${tid}`, Buffer.from(this.strings.data.subarray(0, this.strings.length)));
  }

  /** splice(in, off, out, off, len, flags): pipe → /dev/fuse is a reply; /dev/fuse → pipe a request read (not decoded). */
  private spliced(tid: number, inPath: string | null, ts: number | null, buf: Buffer, start: number, end: number, lineNo: number): void {
    this.fdPathAt(buf, skipArg(buf, start, end), end);
    const out = this.fdPath;
    if (inPath !== null && isDevFuse(inPath)) {
      this.otherSyscalls.set('splice from /dev/fuse', (this.otherSyscalls.get('splice from /dev/fuse') ?? 0) + 1);
      return;
    }
    if (out === null || !isDevFuse(out)) return;
    const key = inPath ?? `tid ${tid}`;
    const head = this.pipes.get(key);
    this.pipes.delete(key);
    this.calls++;
    if (!head) {
      this.unmatchedSplices++;
      return;
    }
    this.splicedReplies++;
    this.messages.splicedReply(head, 0, head.length, ts, tid, lineNo);
  }

  /** FUSE_DEV_IOC_BACKING_OPEN/CLOSE (strace 6.1 prints them as _IOC(_IOC_WRITE, 0xe5, 0x1|0x2, ...)). */
  private ioctl(tid: number, ts: number | null, buf: Buffer, start: number, end: number, result: number, errno: string | null): void {
    const text = buf.toString('latin1', start, Math.min(end, start + 120));
    const op = BACKING_OPEN.test(text) ? 'open' : BACKING_CLOSE.test(text) ? 'close' : null;
    if (!op) return;
    this.sink.event(
      backingEvent({
        ts, connection: this.connection, tid: tid || null, op, error: errno === null ? 0 : -(errnoNumber(errno) ?? 0) || -1, errno,
        // strace shows neither struct fuse_backing_map's fd nor the closed id: the backing file is the one this
        // thread opened last (libfuse's fuse_passthrough_open is called on the fd the server just opened).
        id: op === 'open' && errno === null ? result : null,
        path: op === 'open' ? this.lastOpened.get(tid) ?? null : null,
      }),
    );
  }

  /**
   * µs; HH:MM:SS(.frac) since midnight with day wrap, or epoch seconds(.frac): the timestamp at `start`, which ends
   * at the next space (or `end`); where it ends goes to timeEnd. One pass: its digits are read as it is scanned.
   */
  private parseTime(buf: Buffer, start: number, end: number): number | null {
    // strace -tt (fuselens capture runs it so): HH:MM:SS.ffffff, its digits at fixed places, read without the loop.
    if (start + 15 < end && buf[start + 2] === C.colon && buf[start + 5] === C.colon && buf[start + 8] === C.dot && buf[start + 15] === C.space) {
      const h = twoDigits(buf, start);
      const m = twoDigits(buf, start + 3);
      const sec = twoDigits(buf, start + 6);
      const f1 = twoDigits(buf, start + 9);
      const f2 = twoDigits(buf, start + 11);
      const f3 = twoDigits(buf, start + 13);
      if ((h | m | sec | f1 | f2 | f3) >= 0) return this.wallClock(((h * 60 + m) * 60 + sec) * 1e6 + f1 * 10_000 + f2 * 100 + f3, start + 15);
    }
    let parts = 0;
    let acc = 0;
    let secs = 0;
    let p = start;
    while (p < end && buf[p] !== C.dot) {
      const c = buf[p]!;
      if (c === C.space) break;
      if (c === C.colon) {
        secs = secs * 60 + acc;
        acc = 0;
        parts++;
      } else if (isDigit(c)) acc = acc * 10 + (c - C.zero);
      else return null;
      p++;
    }
    secs = parts > 0 ? secs * 60 + acc : acc;
    let frac = 0;
    let digits = 0;
    if (buf[p] === C.dot) {
      p++;
      while (p < end && isDigit(buf[p])) {
        if (digits < 6) {
          frac = frac * 10 + (buf[p]! - C.zero);
          digits++;
        }
        p++;
      }
      while (digits < 6) {
        frac *= 10;
        digits++;
      }
    }
    // Whatever else comes before the space is not read (as before the one pass).
    while (p < end && buf[p] !== C.space) p++;
    if (parts > 0) return this.wallClock(secs * 1e6 + frac, p);
    this.timeEnd = p;
    return (this.lastTs = secs * 1e6 + frac);
  }

  /** A time of day, `us` since midnight, ending at `timeEnd`: past midnight the clock restarts at 00:00:00. */
  private wallClock(us: number, timeEnd: number): number {
    this.timeEnd = timeEnd;
    us += this.dayOffset;
    if (this.lastTs >= 0 && us < this.lastTs - DAY_US / 2) {
      this.dayOffset += DAY_US;
      us += DAY_US;
    }
    return (this.lastTs = us);
  }
  private timeEnd = 0;
}


