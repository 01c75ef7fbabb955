// Reader for tracefs text (`trace`, `trace_pipe`, or a saved copy) with the
// fuse tracepoints of Linux 6.12+ (fs/fuse/fuse_trace.h):
//   cat-4445 [000] ...1.  331.102692: fuse_request_send: connection 41 req 4 opcode 3 (FUSE_GETATTR) len 56
//   bindfs-4442 [001] .....  331.102776: fuse_request_end: connection 41 req 4 len 120 error 0
//   CPU:1 [LOST 12 EVENTS]
// Parsed byte by byte (no regular expressions, no per-line strings but the
// comm) because captures run to millions of lines. Tolerates the optional
// `(tgid)` column (record-tgid), a missing irq-info column, other events in
// the same buffer (ignored), and `trace-cmd`-less raw copies.

import type { TraceReader, TraceSink } from './events';
import { decodeName } from '../../protocol/byte-names';

/**
 * FORGET and BATCH_FORGET reach the daemon through the input queue's forget list (fuse_queue_forget),
 * not as requests, and the request tracepoints do not show them (on 6.18: a strace capture of the
 * same run counted 196 FORGETs, tracefs none). So they are not counted here, and a node id the
 * server reuses after a FORGET looks like the same inode.
 */
export const FTRACE_BLIND_SPOTS =
  'tracefs shows no FORGET or BATCH_FORGET (the kernel queues them apart from requests): they are not counted here, and a node id ' +
  'the server reuses after a FORGET cannot be told from the old one';

const enum C {
  space = 32,
  tab = 9,
  hash = 35,
  dash = 45,
  dot = 46,
  colon = 58,
  lbracket = 91,
  rbracket = 93,
  lparen = 40,
  rparen = 41,
  zero = 48,
  nine = 57,
}

const LOST = Buffer.from('[LOST ');
const UNKNOWN_COMM = Buffer.from('<...>');
const NO_CPU = -1;
const NO_TASK = -2;
const NO_TIMESTAMP = -1;
const BAD_TIMESTAMP = -2;
/** A fraction of n digits times TO_MICROS[n] is in µs. */
const TO_MICROS = [0, 1e5, 1e4, 1e3, 100, 10, 1];
// Bits of the fields seen on a line: connection 1, req 2, opcode 4, len 8, error 16.
const NEED_SEND = 1 | 2 | 4 | 8;
const NEED_END = 1 | 2 | 8 | 16;
const NEED_SENT = 1 | 2;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= C.zero && c <= C.nine;
}

export class FtraceReader implements TraceReader {
  readonly format = 'ftrace' as const;
  private fields = { connection: -1, req: -1, opcode: -1, len: -1, error: 0, seen: 0 };

  private sawEvents = false;

  constructor(private readonly sink: TraceSink) {}

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    let p = start;
    while (p < end && (buf[p] === C.space || buf[p] === C.tab)) p++;
    if (p >= end || buf[p] === C.hash) return;
    if (buf[p] === 67 /* C */ && buf[p + 1] === 80 && buf[p + 2] === 85 && buf[p + 3] === C.colon) {
      this.lostMarker(buf, p, end, lineNo);
      return;
    }
    const cpuEnd = this.task(buf, p, start, end);
    if (cpuEnd === NO_CPU) return this.garbage(buf, start, end, lineNo, 'no [CPU] column');
    if (cpuEnd === NO_TASK) return this.garbage(buf, start, end, lineNo, 'no TASK-PID before the CPU column');
    const pid = this.taskPid;
    const commStart = p;
    const commEnd = this.commEnd;
    // After "]": the irq-info flags (never starting with a digit) when shown, then "SECONDS.FRACTION:".
    let r = cpuEnd + 1;
    while (r < end && buf[r] === C.space) r++;
    if (r < end && !isDigit(buf[r])) {
      while (r < end && buf[r] !== C.space) r++;
      while (r < end && buf[r] === C.space) r++;
    }
    const ts = this.timestamp(buf, r, end);
    if (ts < 0) return this.garbage(buf, start, end, lineNo, ts === NO_TIMESTAMP ? 'no timestamp' : 'bad timestamp');
    // Event name up to ':'. "fuse_request_" is 13 bytes; the 14th tells send/sent from end.
    const nameStart = this.timestampEnd + 1;
    let kind: 'send' | 'end' | 'sent' | null = null;
    let nameEnd = -1;
    if (buf[nameStart] === 102 /* f */ && buf[nameStart + 4] === 95 /* _ */ && buf[nameStart + 12] === 95 && buf[nameStart + 7] === 113 /* q */) {
      const k = buf[nameStart + 13];
      if (k === 101 /* e */ && buf[nameStart + 16] === C.colon) {
        kind = 'end';
        nameEnd = nameStart + 16;
      } else if (k === 115 /* s */ && buf[nameStart + 17] === C.colon) {
        kind = buf[nameStart + 16] === 100 /* d */ ? 'send' : buf[nameStart + 16] === 116 /* t */ ? 'sent' : null;
        nameEnd = nameStart + 17;
      }
    }
    if (kind === null || buf[nameStart + 5] !== 114 /* r */ || buf[nameStart + 11] !== 116 /* t */) {
      let e = nameStart;
      while (e < end && buf[e] !== C.colon) e++;
      if (e >= end) return this.garbage(buf, start, end, lineNo, 'no event name');
      return; // another tracepoint in the same buffer
    }
    const f = this.parseFields(buf, nameEnd + 1, end);
    const needed = kind === 'send' ? NEED_SEND : kind === 'end' ? NEED_END : NEED_SENT;
    if ((f.seen & needed) !== needed) return this.garbage(buf, start, end, lineNo, `truncated fuse_request_${kind} line (fields missing)`);
    const comm = this.comm(pid, buf, commStart, commEnd);
    if (kind === 'send') {
      this.sink.event({
        kind: 'send', ts, connection: f.connection, unique: f.req, opcode: f.opcode, len: f.len, pid, comm, nodeid: null, uid: null,
        gid: null, tid: pid, body: null,
      });
    } else if (kind === 'end') {
      this.sawEvents = true;
      this.sink.event({ kind: 'end', ts, connection: f.connection, unique: f.req, len: f.len, error: f.error, tid: pid, comm, reply: null });
    } else {
      this.sink.event({ kind: 'sent', ts, connection: f.connection, unique: f.req, tid: pid, comm });
    }
  }

  finish(): void {
    if (this.sawEvents) this.sink.warning(FTRACE_BLIND_SPOTS);
  }

  /**
   * The task's comm as a string, reused while a pid keeps its name (saves a string per line).
   * `<...>` is what tracefs prints when its comm cache (saved_cmdlines) has no entry for the pid
   * (kernel/trace/trace.c, __trace_find_cmdline): not a name. The pid's name from an earlier line
   * stands in; without one the comm is unknown (null), and the analysis takes it from a later line.
   */
  private comm(pid: number, buf: Buffer, start: number, end: number): string | null {
    const cached = this.comms.get(pid);
    if (end - start === UNKNOWN_COMM.length && UNKNOWN_COMM.equals(buf.subarray(start, end))) return cached?.text ?? null;
    if (cached && cached.bytes.length === end - start) {
      let same = true;
      for (let i = 0; i < cached.bytes.length; i++)
        if (cached.bytes[i] !== buf[start + i]) {
          same = false;
          break;
        }
      if (same) return cached.text;
    }
    if (this.comms.size > 65536) this.comms.clear();
    const bytes = Buffer.from(buf.subarray(start, end));
    const text = decodeName(bytes);
    this.comms.set(pid, { bytes, text });
    return text;
  }
  private readonly comms = new Map<number, { bytes: Buffer; text: string }>();

  /**
   * "connection 41 req 4 opcode 3 (FUSE_GETATTR) len 56 error -2": key/number pairs,
   * parenthesised words skipped. Known keys are recognised by their first byte and
   * length (the fields the kernel prints), others are skipped whole.
   */
  private parseFields(buf: Buffer, p: number, end: number) {
    const f = this.fields;
    f.seen = 0;
    f.error = 0;
    while (p < end) {
      let c = buf[p]!;
      if (c === C.space) {
        p++;
        continue;
      }
      if (c === C.lparen) {
        while (p < end && buf[p] !== C.rparen) p++;
        p++;
        continue;
      }
      let key = 0;
      if (c === 99 /* c */ && buf[p + 10] === C.space) (key = 1), (p += 11);
      else if (c === 114 /* r */ && buf[p + 3] === C.space) (key = 2), (p += 4);
      else if (c === 111 /* o */ && buf[p + 6] === C.space) (key = 4), (p += 7);
      else if (c === 108 /* l */ && buf[p + 3] === C.space) (key = 8), (p += 4);
      else if (c === 101 /* e */ && buf[p + 5] === C.space) (key = 16), (p += 6);
      else if (c === 117 /* u */ && buf[p + 6] === C.space) (key = 2), (p += 7);
      else {
        while (p < end && buf[p] !== C.space) p++;
        continue;
      }
      if (p >= end) break;
      c = buf[p]!;
      const neg = c === C.dash;
      if (neg && ++p < end) c = buf[p]!;
      if (c < C.zero || c > C.nine || p >= end) continue;
      let v = 0;
      do {
        v = v * 10 + (c - C.zero);
        c = ++p < end ? buf[p]! : 0;
      } while (c >= C.zero && c <= C.nine);
      if (neg) v = -v;
      if (key === 1) f.connection = v;
      else if (key === 2) f.req = v;
      else if (key === 4) f.opcode = v;
      else if (key === 8) f.len = v;
      else f.error = v;
      f.seen |= key;
    }
    return f;
  }

  // Out-parameters of task() and timestamp(), to spare an object per line.
  private taskPid = 0;
  private commEnd = 0;
  private timestampEnd = 0;

  /**
   * "<comm>-<pid> [(<tgid>)] [<cpu>]" from p (the comm's first byte): sets taskPid and commEnd and
   * returns the index of the ']', or NO_CPU / NO_TASK.
   */
  private task(buf: Buffer, p: number, start: number, end: number): number {
    // The default layout "%16s-%-7d [%03d]" puts the dash at 16, '[' at 25 and ']' at 29.
    const dash = start + 16;
    if (p < dash && end - start > 40 && buf[dash] === C.dash && buf[start + 24] === C.space && buf[start + 25] === C.lbracket && buf[start + 29] === C.rbracket) {
      let k = dash + 1;
      let c = buf[k]!;
      let pid = 0;
      while (c >= C.zero && c <= C.nine) {
        pid = pid * 10 + (c - C.zero);
        c = buf[++k]!;
      }
      if (k > dash + 1 && c === C.space) {
        this.taskPid = pid;
        this.commEnd = dash;
        return start + 29;
      }
    }
    // Any other layout (tgid column, pids over 7 digits, over 999 CPUs): find " [ddd]", then walk back.
    let lb = -1;
    for (let i = p + 1; i < end - 2 && lb < 0; i++) {
      if (buf[i] === C.lbracket && buf[i - 1] === C.space && isDigit(buf[i + 1])) {
        let j = i + 1;
        while (j < end && isDigit(buf[j])) j++;
        if (buf[j] === C.rbracket) lb = i;
      }
    }
    if (lb < 0) return NO_CPU;
    let q = lb - 1;
    while (q > p && buf[q] === C.space) q--;
    if (buf[q] === C.rparen) {
      while (q > p && buf[q] !== C.lparen) q--;
      q--;
      while (q > p && buf[q] === C.space) q--;
    }
    let pid = 0;
    let mul = 1;
    while (q > p && isDigit(buf[q])) {
      pid += (buf[q]! - C.zero) * mul;
      mul *= 10;
      q--;
    }
    if (buf[q] !== C.dash || mul === 1) return NO_TASK;
    this.taskPid = pid;
    this.commEnd = q;
    let cpuEnd = lb + 1;
    while (isDigit(buf[cpuEnd])) cpuEnd++;
    return cpuEnd;
  }

  /**
   * "331.102692:" at p → 331102692 µs (other fraction widths scaled to µs; a bare counter kept as
   * is), read in one pass; sets timestampEnd (the ':'). NO_TIMESTAMP when p holds no number ending in ':',
   * BAD_TIMESTAMP when the number is malformed.
   */
  private timestamp(buf: Buffer, p: number, end: number): number {
    // Reads stop at `end` (0 past it), so no byte of the next line is taken for this one.
    let c = p < end ? buf[p]! : 0;
    if (c < C.zero || c > C.nine) return NO_TIMESTAMP;
    let sec = 0;
    do {
      sec = sec * 10 + (c - C.zero);
      c = ++p < end ? buf[p]! : 0;
    } while (c >= C.zero && c <= C.nine);
    if (c === C.dot) {
      let frac = 0;
      let digits = 0;
      c = ++p < end ? buf[p]! : 0;
      while (c >= C.zero && c <= C.nine) {
        if (digits < 6) {
          frac = frac * 10 + (c - C.zero);
          digits++;
        }
        c = ++p < end ? buf[p]! : 0;
      }
      sec = sec * 1e6 + frac * TO_MICROS[digits]!;
    }
    if (c !== C.colon) {
      while (p < end && buf[p] !== C.space) p++;
      return buf[p - 1] === C.colon ? BAD_TIMESTAMP : NO_TIMESTAMP;
    }
    this.timestampEnd = p + 1;
    return sec;
  }

  private lostMarker(buf: Buffer, p: number, end: number, lineNo: number): void {
    let cpu = 0;
    let i = p + 4;
    while (isDigit(buf[i])) cpu = cpu * 10 + (buf[i++]! - C.zero);
    const at = buf.subarray(i, end).indexOf(LOST);
    if (at < 0) return this.garbage(buf, p, end, lineNo, 'CPU: line without [LOST N EVENTS]');
    let j = i + at + LOST.length;
    let n = 0;
    while (isDigit(buf[j])) n = n * 10 + (buf[j++]! - C.zero);
    this.sink.lost(n, cpu);
  }

  private garbage(buf: Buffer, start: number, end: number, lineNo: number, why: string): void {
    this.sink.bad(lineNo, why, buf.toString('utf8', start, Math.min(end, start + 200)));
  }
}

