// Reader for tracefs text (`trace`, `trace_pipe`, or a saved copy) with the
// fuse tracepoints of Linux 6.12+ (fs/fuse/fuse_trace.h):
//   cat-4445 [000] ...1.  331.102692: fuse_request_send: connection 41 req 4 opcode 3 (FUSE_GETATTR) len 56
//   bindfs-4442 [001] .....  331.102776: fuse_request_end: connection 41 req 4 len 120 error 0
//   CPU:1 [LOST 12 EVENTS]
// Parsed byte by byte (no regular expressions, no per-line strings but the
// comm) because captures run to millions of lines. Tolerates the optional
// `(tgid)` column (record-tgid), a missing irq-info column, other events in
// the same buffer (ignored), and `trace-cmd`-less raw copies.

import { endEvent, sendEvent, type TraceReader, type TraceSink } from './events';

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

const SEND = Buffer.from('fuse_request_send');
const END = Buffer.from('fuse_request_end');
const SENT = Buffer.from('fuse_request_sent');
const LOST = Buffer.from('[LOST ');
// Bits of the fields seen on a line: connection 1, req 2, opcode 4, len 8, error 16.
const NEED_SEND = 1 | 2 | 4 | 8;
const NEED_END = 1 | 2 | 8 | 16;
const NEED_SENT = 1 | 2;

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= C.zero && c <= C.nine;
}

function equalsAt(buf: Buffer, start: number, end: number, pat: Buffer): boolean {
  if (end - start !== pat.length) return false;
  for (let i = 0; i < pat.length; i++) if (buf[start + i] !== pat[i]) return false;
  return true;
}

export class FtraceReader implements TraceReader {
  readonly format = 'ftrace' as const;
  /** Lines of other tracepoints in the buffer: counted, not reported one by one. */
  otherEvents = 0;
  private fields = { connection: -1, req: -1, opcode: -1, len: -1, error: 0, seen: 0 };

  constructor(private readonly sink: TraceSink) {}

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    let p = start;
    while (p < end && (buf[p] === C.space || buf[p] === C.tab)) p++;
    if (p >= end || buf[p] === C.hash) return;
    if (buf[p] === 67 /* C */ && buf[p + 1] === 80 && buf[p + 2] === 85 && buf[p + 3] === C.colon) {
      this.lostMarker(buf, p, end, lineNo);
      return;
    }
    // The CPU column: " [ddd]" after the task.
    let lb = -1;
    for (let i = p + 1; i < end - 2; i++) {
      if (buf[i] === C.lbracket && buf[i - 1] === C.space && isDigit(buf[i + 1])) {
        let j = i + 1;
        while (j < end && isDigit(buf[j])) j++;
        if (buf[j] === C.rbracket) {
          lb = i;
          break;
        }
      }
    }
    if (lb < 0) return this.garbage(buf, start, end, lineNo, 'no [CPU] column');
    let cpuEnd = lb + 1;
    while (isDigit(buf[cpuEnd])) cpuEnd++;
    // Task: "<comm>-<pid>" possibly followed by " (<tgid>)".
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
    if (buf[q] !== C.dash || mul === 1) return this.garbage(buf, start, end, lineNo, 'no TASK-PID before the CPU column');
    const commStart = p;
    const commEnd = q;
    // After "]": optional flags column, then the timestamp ending in ':'.
    let r = cpuEnd + 1;
    while (r < end && buf[r] === C.space) r++;
    let tokEnd = r;
    while (tokEnd < end && buf[tokEnd] !== C.space) tokEnd++;
    if (buf[tokEnd - 1] !== C.colon) {
      r = tokEnd;
      while (r < end && buf[r] === C.space) r++;
      tokEnd = r;
      while (tokEnd < end && buf[tokEnd] !== C.space) tokEnd++;
    }
    if (buf[tokEnd - 1] !== C.colon) return this.garbage(buf, start, end, lineNo, 'no timestamp');
    const ts = parseMicros(buf, r, tokEnd - 1);
    if (ts < 0) return this.garbage(buf, start, end, lineNo, 'bad timestamp');
    // Event name up to ':'.
    const nameStart = tokEnd + 1;
    let nameEnd = nameStart;
    while (nameEnd < end && buf[nameEnd] !== C.colon) nameEnd++;
    if (nameEnd >= end) return this.garbage(buf, start, end, lineNo, 'no event name');
    let kind: 'send' | 'end' | 'sent';
    if (equalsAt(buf, nameStart, nameEnd, SEND)) kind = 'send';
    else if (equalsAt(buf, nameStart, nameEnd, END)) kind = 'end';
    else if (equalsAt(buf, nameStart, nameEnd, SENT)) kind = 'sent';
    else {
      this.otherEvents++;
      return;
    }
    const f = this.parseFields(buf, nameEnd + 1, end);
    const needed = kind === 'send' ? NEED_SEND : kind === 'end' ? NEED_END : NEED_SENT;
    if ((f.seen & needed) !== needed) return this.garbage(buf, start, end, lineNo, `truncated fuse_request_${kind} line (fields missing)`);
    const comm = buf.toString('utf8', commStart, commEnd);
    if (kind === 'send') {
      this.sink.event(sendEvent({ ts, connection: f.connection, unique: f.req, opcode: f.opcode, len: f.len, pid, comm, tid: pid }));
    } else if (kind === 'end') {
      this.sink.event(endEvent({ ts, connection: f.connection, unique: f.req, len: f.len, error: f.error, tid: pid, comm }));
    } else {
      this.sink.event({ kind: 'sent', ts, connection: f.connection, unique: f.req, tid: pid, comm });
    }
  }

  finish(): void {}

  /** "connection 41 req 4 opcode 3 (FUSE_GETATTR) len 56 error -2": key/number pairs, parenthesised words skipped. */
  private parseFields(buf: Buffer, p: number, end: number) {
    const f = this.fields;
    f.seen = 0;
    f.error = 0;
    while (p < end) {
      while (p < end && buf[p] === C.space) p++;
      if (p >= end) break;
      if (buf[p] === C.lparen) {
        while (p < end && buf[p] !== C.rparen) p++;
        p++;
        continue;
      }
      const keyStart = p;
      while (p < end && buf[p] !== C.space) p++;
      const keyEnd = p;
      while (p < end && buf[p] === C.space) p++;
      let neg = false;
      if (buf[p] === C.dash) {
        neg = true;
        p++;
      }
      if (!isDigit(buf[p])) continue;
      let v = 0;
      while (p < end && isDigit(buf[p])) v = v * 10 + (buf[p++]! - C.zero);
      if (neg) v = -v;
      const k0 = buf[keyStart];
      const klen = keyEnd - keyStart;
      if (k0 === 99 /* c */ && klen === 10) { f.connection = v; f.seen |= 1; }
      else if ((k0 === 114 /* r */ && klen === 3) || (k0 === 117 /* u */ && klen === 6)) { f.req = v; f.seen |= 2; }
      else if (k0 === 111 /* o */ && klen === 6) { f.opcode = v; f.seen |= 4; }
      else if (k0 === 108 /* l */ && klen === 3) { f.len = v; f.seen |= 8; }
      else if (k0 === 101 /* e */ && klen === 5) { f.error = v; f.seen |= 16; }
    }
    return f;
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

/** "331.102692" → 331102692 µs; other fraction widths scaled to µs. -1 when malformed. */
function parseMicros(buf: Buffer, start: number, end: number): number {
  let sec = 0;
  let p = start;
  if (!isDigit(buf[p])) return -1;
  while (p < end && isDigit(buf[p])) sec = sec * 10 + (buf[p++]! - C.zero);
  if (p === end) return sec; // counter clocks print a bare number; keep it as is
  if (buf[p] !== C.dot) return -1;
  p++;
  let frac = 0;
  let digits = 0;
  while (p < end && isDigit(buf[p])) {
    if (digits < 6) {
      frac = frac * 10 + (buf[p]! - C.zero);
      digits++;
    }
    p++;
  }
  if (p !== end) return -1;
  while (digits < 6) {
    frac *= 10;
    digits++;
  }
  return sec * 1e6 + frac;
}
