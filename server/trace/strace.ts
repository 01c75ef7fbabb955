// Reader for strace captures of a FUSE daemon's /dev/fuse traffic:
//   strace -f -p PID -P /dev/fuse -e trace=read,readv,write,writev -xx -s 1048576 -tt
// Each read() is one request (fuse_in_header + body), each write()/writev()
// one reply (fuse_out_header + body) or a notification (unique 0). The bytes
// are decoded with the FUSE ABI module (server/abi), so the trace
// shows what libfuse's debug log does not: OPEN reply flags, backing ids,
// INIT reply flags. `<unfinished ...>` / `<... read resumed>` pairs are joined
// per thread. Handles `-o FILE -f` ("PID  time ..."), stderr ("[pid N] time
// ..."), -t/-tt/-ttt and no timestamps, -y fd paths, and strings printed
// without -xx.

import {
  ENTRY_OUT_SIZE, IN_HEADER_SIZE, Op, OUT_HEADER_SIZE, decodeInitOut, decodeOpenOut, decodeRequest, opcodeName,
  type RequestBody,
} from '../abi';
import { endEvent, sendEvent, type ReplyBody, type TraceReader, type TraceSink } from './events';

export const STRACE_BLIND_SPOTS =
  'strace sees only read/readv/write/writev on /dev/fuse: requests a daemon moves with splice(2) ' +
  '(libfuse -o splice_read/splice_write/splice_move) or over FUSE-over-io_uring never appear in this capture, ' +
  'so counts of such a daemon are incomplete.';

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

function endsWith(buf: Buffer, start: number, end: number, suffix: Buffer): boolean {
  if (end - start < suffix.length) return false;
  for (let i = 0, at = end - suffix.length; i < suffix.length; i++) if (buf[at + i] !== suffix[i]) return false;
  return true;
}

/** Offset from `start` of the last ") = " (the result; -xx strings hold no ')'), or -1. */
function lastEquals(buf: Buffer, start: number, end: number): number {
  for (let i = end - 4; i >= start; i--) if (buf[i] === 41 && buf[i + 1] === 32 && buf[i + 2] === 61 && buf[i + 3] === 32) return i - start;
  return -1;
}
const EMPTY = Buffer.alloc(0);

type Syscall = 'read' | 'readv' | 'write' | 'writev';
/** The call named by buf[start, end): read, readv, write, writev, or null for any other. */
function syscallAt(buf: Buffer, start: number, end: number): Syscall | null {
  const n = end - start;
  const v = buf[end - 1] === 118; /* v */
  if (n === (v ? 5 : 4) && buf[start] === 114 && buf[start + 1] === 101 && buf[start + 2] === 97 && buf[start + 3] === 100) return v ? 'readv' : 'read';
  if (n === (v ? 6 : 5) && buf[start] === 119 && buf[start + 1] === 114 && buf[start + 2] === 105 && buf[start + 3] === 116 && buf[start + 4] === 101)
    return v ? 'writev' : 'write';
  return null;
}

interface Pending {
  syscall: Syscall;
  ts: number | null;
  /** The args text before `<unfinished ...>`. */
  head: Buffer;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= C.zero && c <= C.nine;
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export interface StraceReaderOptions {
  /** The connection these /dev/fuse fds belong to (strace cannot tell); a `# fuselens-capture` header sets it too. */
  connection?: number | null;
}

export class StraceReader implements TraceReader {
  readonly format = 'strace' as const;
  connection: number | null;
  /** Calls on /dev/fuse seen, for the "nothing decoded" warning. */
  calls = 0;
  /** Completed reads without -T's duration: their time is when the daemon started waiting. */
  readsWithoutDuration = 0;
  /** Syscalls other than read/readv/write/writev (e.g. splice) seen in the file. */
  readonly otherSyscalls = new Map<string, number>();
  private readonly pending = new Map<number, Pending>();
  /** unique → opcode of requests read and not yet answered, to decode replies. */
  private readonly inflight = new Map<number, number>();
  private data = Buffer.alloc(64 * 1024);
  private dataLength = 0;
  private truncatedData = false;
  private lastTs = -1;
  private dayOffset = 0;

  constructor(private readonly sink: TraceSink, options: StraceReaderOptions = {}) {
    this.connection = options.connection ?? null;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    let p = start;
    while (p < end && buf[p] === C.space) p++;
    if (p >= end || buf[p] === 35 /* # */) return;
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
      let q = p;
      while (q < end && buf[q] !== C.space) q++;
      ts = this.parseTime(buf, p, q);
      if (ts === null) return this.sink.bad(lineNo, 'bad timestamp', buf.toString('latin1', start, Math.min(end, start + 200)));
      p = q + 1;
    }
    if (buf[p] === C.lt) {
      // "<... read resumed>..." — join with the thread's unfinished half.
      const r = buf.subarray(p, end).indexOf(RESUMED);
      const pend = this.pending.get(tid);
      if (r < 0 || !pend) return this.sink.bad(lineNo, 'resumed call without its <unfinished ...> half', buf.toString('latin1', start, Math.min(end, start + 200)));
      this.pending.delete(tid);
      const joined = Buffer.concat([pend.head, buf.subarray(p + r + RESUMED.length, end)]);
      // A read's data arrived when it returned (resumed); a write's went out when it was called.
      const when = pend.syscall === 'read' || pend.syscall === 'readv' ? ts : pend.ts;
      this.call(pend.syscall, when, tid, joined, 0, joined.length, lineNo, true);
      return;
    }
    const nameStart = p;
    while (p < end && buf[p] !== C.lparen && buf[p] !== C.space) p++;
    if (buf[p] !== C.lparen) return; // "--- SIGCHLD ---", "+++ exited +++", "strace: Process N attached"
    const syscall = syscallAt(buf, nameStart, p);
    if (!syscall) {
      const name = buf.toString('latin1', nameStart, p);
      this.otherSyscalls.set(name, (this.otherSyscalls.get(name) ?? 0) + 1);
      return;
    }
    const argsStart = p + 1;
    // Both markers end the line; with -xx no string can hold them, so a look at the end suffices.
    let last = end;
    while (last > argsStart && buf[last - 1] === C.space) last--;
    if (endsWith(buf, argsStart, last, UNFINISHED)) {
      this.pending.set(tid, { syscall, ts, head: Buffer.from(buf.subarray(argsStart, last - UNFINISHED.length)) });
      return;
    }
    if (endsWith(buf, argsStart, last, DETACHED)) return;
    this.call(syscall, ts, tid, buf, argsStart, end, lineNo, false);
  }

  finish(): void {
    if (this.pending.size > 0) this.sink.warning(`${this.pending.size} call(s) still unfinished when the capture ended`);
    const splices = [...this.otherSyscalls.keys()].filter((n) => n.startsWith('splice') || n.startsWith('io_uring') || n === 'vmsplice');
    if (splices.length > 0) this.sink.warning(`the daemon used ${splices.join(', ')} on /dev/fuse: those requests are not decoded. ${STRACE_BLIND_SPOTS}`);
    else this.sink.warning(STRACE_BLIND_SPOTS);
    if (this.readsWithoutDuration > 0)
      this.sink.warning(
        'strace ran without -T: a request read in one line is stamped when the daemon called read(), idle wait included, ' +
          'so latencies of an idle daemon are too long (fuselens capture --daemon passes -T)',
      );
    if (this.calls === 0) this.sink.warning('no read/write on /dev/fuse in this capture (was strace attached to the daemon with -P /dev/fuse?)');
  }

  /** args = the text after "name(" up to the end of the line: `fd, "bytes", size) = result`. */
  private call(syscall: Syscall, ts: number | null, tid: number, buf: Buffer, start: number, end: number, lineNo: number, joined: boolean): void {
    const eq = lastEquals(buf, start, end);
    if (eq < 0) return this.sink.bad(lineNo, `${syscall} without a result (truncated line?)`, buf.toString('latin1', start, Math.min(end, start + 200)));
    const resAt = start + eq + EQUALS_LENGTH;
    let result = 0;
    let neg = false;
    let q = resAt;
    if (buf[q] === 45) {
      neg = true;
      q++;
    }
    if (!isDigit(buf[q])) return; // "= ? <unavailable>"
    while (isDigit(buf[q])) result = result * 10 + (buf[q++]! - C.zero);
    if (neg) return; // failed call: -1 EINTR/EAGAIN/ENODEV (unmounted) or ENOENT (reply to a request that is gone)
    // -T appends "<0.000123>", the time spent in the call. strace stamps a call with its entry time, so a
    // blocking read() that completed in one line is stamped when the daemon started waiting: add the duration.
    if ((syscall === 'read' || syscall === 'readv') && ts !== null && !joined) {
      while (q < end && buf[q] === C.space) q++;
      if (buf[q] === C.lt) {
        const close = buf.indexOf(C.gt, q);
        const secs = Number(buf.toString('latin1', q + 1, close > q && close < end ? close : end));
        if (Number.isFinite(secs)) ts += Math.round(secs * 1e6);
      } else this.readsWithoutDuration++;
    }
    // -y prints "4</dev/fuse>": skip fds that are not /dev/fuse.
    let f = start;
    while (f < end && isDigit(buf[f])) f++;
    if (buf[f] === C.lt) {
      const close = buf.indexOf(C.gt, f);
      // With -xx the path is escaped too: 4<\x2f\x64\x65\x76...>.
      const path = buf.toString('latin1', f + 1, close).replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
      if (!path.includes('fuse')) return;
    }
    this.calls++;
    this.collectStrings(buf, start, start + eq);
    const bytes = this.data.subarray(0, Math.min(this.dataLength, result));
    if (syscall === 'read' || syscall === 'readv') this.request(bytes, ts, tid, lineNo, buf, start, end);
    else this.reply(bytes, ts, tid, lineNo, buf, start, end);
  }

  private request(b: Buffer, ts: number | null, tid: number, lineNo: number, line: Buffer, start: number, end: number): void {
    if (b.length < IN_HEADER_SIZE) {
      const why = this.truncatedData
        ? `strace printed only ${b.length} bytes of the request, less than fuse_in_header: record with -s 1048576`
        : `read of ${b.length} bytes is shorter than fuse_in_header`;
      return this.sink.bad(lineNo, why, line.toString('latin1', start, Math.min(end, start + 200)));
    }
    const len = b.readUInt32LE(0);
    const opcode = b.readUInt32LE(4);
    const unique = Number(b.readBigUInt64LE(8));
    let body: RequestBody | null = null;
    if (len <= b.length) {
      try {
        body = decodeRequest(b).body;
        if (body.op === 'write') body = { op: 'write', write: { ...body.write, data: EMPTY } };
        else if (body.op === 'raw') body = null;
      } catch {
        this.sink.bad(lineNo, `${opcodeName(opcode)} request body shorter than its struct`, line.toString('latin1', start, Math.min(end, start + 200)));
      }
    } else if (this.truncatedData) {
      this.sink.warning('strace cut some requests short ("..." after the string): run it with -s 1048576 to decode their bodies');
    } else {
      this.sink.bad(lineNo, `request of ${len} bytes but only ${b.length} in the line`, line.toString('latin1', start, Math.min(end, start + 120)));
    }
    if (opcode !== Op.FUSE_FORGET && opcode !== Op.FUSE_BATCH_FORGET) this.inflight.set(unique, opcode);
    this.sink.event(
      sendEvent({
        ts, connection: this.connection, unique, opcode, len,
        nodeid: Number(b.readBigUInt64LE(16)), uid: b.readUInt32LE(24), gid: b.readUInt32LE(28), pid: b.readUInt32LE(32),
        tid: tid || null, body,
      }),
    );
  }

  private reply(b: Buffer, ts: number | null, tid: number, lineNo: number, line: Buffer, start: number, end: number): void {
    if (b.length < OUT_HEADER_SIZE) return this.sink.bad(lineNo, `write of ${b.length} bytes is shorter than fuse_out_header`, line.toString('latin1', start, Math.min(end, start + 200)));
    const len = b.readUInt32LE(0);
    const error = b.readInt32LE(4);
    const unique = Number(b.readBigUInt64LE(8));
    if (unique === 0) return; // a notification (error = notify code), not a reply
    const opcode = this.inflight.get(unique);
    this.inflight.delete(unique);
    let reply: ReplyBody | null = null;
    if (error === 0 && opcode !== undefined) {
      try {
        reply = decodeReply(opcode, b.subarray(OUT_HEADER_SIZE, Math.min(len, b.length)));
      } catch {
        this.sink.bad(lineNo, `${opcodeName(opcode)} reply body shorter than its struct`, line.toString('latin1', start, Math.min(end, start + 200)));
      }
    }
    this.sink.event(endEvent({ ts, connection: this.connection, unique, len, error, tid: tid || null, reply }));
  }

  /** Decodes every "..." in [start, end) into this.data, concatenated (writev's iovecs in order). */
  private collectStrings(buf: Buffer, start: number, end: number): void {
    this.dataLength = 0;
    this.truncatedData = false;
    let p = start;
    while (p < end) {
      const c = buf[p];
      if (c === C.quote) {
        p = this.decodeQuoted(buf, p + 1, end);
        if (buf[p] === C.dot && buf[p + 1] === C.dot && buf[p + 2] === C.dot) this.truncatedData = true;
      } else p++;
    }
  }

  private decodeQuoted(buf: Buffer, p: number, end: number): number {
    if (this.data.length < this.dataLength + (end - p)) {
      const bigger = Buffer.alloc(Math.max(this.data.length * 2, this.dataLength + (end - p)));
      this.data.copy(bigger, 0, 0, this.dataLength);
      this.data = bigger;
    }
    const out = this.data;
    let n = this.dataLength;
    while (p < end) {
      const c = buf[p]!;
      if (c === C.quote) {
        p++;
        break;
      }
      if (c !== C.backslash) {
        out[n++] = c;
        p++;
        continue;
      }
      const e = buf[p + 1];
      if (e === 120 /* x */) {
        const hi = hexValue(buf[p + 2]);
        const lo = hexValue(buf[p + 3]);
        out[n++] = (hi << 4) | lo;
        p += 4;
      } else if (e !== undefined && e >= 48 && e <= 55) {
        let v = 0;
        let k = p + 1;
        while (k < p + 4 && buf[k]! >= 48 && buf[k]! <= 55) v = v * 8 + (buf[k++]! - 48);
        out[n++] = v & 0xff;
        p = k;
      } else {
        out[n++] = ESCAPES[e ?? 0] ?? e ?? 0;
        p += 2;
      }
    }
    this.dataLength = n;
    return p;
  }

  /** µs; HH:MM:SS(.frac) since midnight with day wrap, or epoch seconds(.frac). */
  private parseTime(buf: Buffer, start: number, end: number): number | null {
    let parts = 0;
    let acc = 0;
    let secs = 0;
    let p = start;
    while (p < end && buf[p] !== C.dot) {
      const c = buf[p]!;
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
    let us = secs * 1e6 + frac;
    if (parts > 0) {
      // Wall clock: past midnight the clock restarts at 00:00:00.
      us += this.dayOffset;
      if (this.lastTs >= 0 && us < this.lastTs - DAY_US / 2) {
        this.dayOffset += DAY_US;
        us += DAY_US;
      }
    }
    this.lastTs = us;
    return us;
  }
}

const ESCAPES: Record<number, number> = { 110: 10, 116: 9, 114: 13, 118: 11, 102: 12, 97: 7, 98: 8, 92: 92, 34: 34, 39: 39 };


/** fuse_entry_out.attr.ino (attr at offset 40). */
function attrIno(entryOut: Buffer): number | null {
  return entryOut.length >= 48 ? Number(entryOut.readBigUInt64LE(40)) : null;
}

/** Decodes a successful reply's body by the opcode of its request (include/uapi/linux/fuse.h). */
export function decodeReply(opcode: number, body: Buffer): ReplyBody | null {
  switch (opcode) {
    case Op.FUSE_INIT:
      return { op: 'init', init: decodeInitOut(body) };
    case Op.FUSE_LOOKUP:
    case Op.FUSE_MKNOD:
    case Op.FUSE_MKDIR:
    case Op.FUSE_SYMLINK:
    case Op.FUSE_LINK:
      return { op: 'entry', nodeid: Number(body.readBigUInt64LE(0)), generation: Number(body.readBigUInt64LE(8)), ino: attrIno(body) };
    case Op.FUSE_OPEN:
    case Op.FUSE_OPENDIR:
      return { op: 'open', open: decodeOpenOut(body) };
    case Op.FUSE_CREATE:
    case Op.FUSE_TMPFILE:
      return {
        op: 'create', nodeid: Number(body.readBigUInt64LE(0)), generation: Number(body.readBigUInt64LE(8)), ino: attrIno(body),
        open: decodeOpenOut(body.subarray(ENTRY_OUT_SIZE)),
      };
    case Op.FUSE_WRITE:
      return { op: 'write', size: body.readUInt32LE(0) };
    case Op.FUSE_READ:
    case Op.FUSE_READDIR:
    case Op.FUSE_READDIRPLUS:
    case Op.FUSE_READLINK:
    case Op.FUSE_GETXATTR:
    case Op.FUSE_LISTXATTR:
      return { op: 'data', size: body.length };
    default:
      return null;
  }
}
