// Chrome / Perfetto trace-event JSON ("JSON Array Format" inside
// {"traceEvents": [...]}, https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU),
// written as requests are paired so memory stays flat. Tracks:
//   - one per requesting process (pid = the requester): each request as a
//     complete event from send to reply;
//   - one per daemon thread under a "FUSE daemon (connection N)" process:
//     the time the daemon held the request (strace: read → reply write;
//     tracefs: fuse_request_sent → end when traced, else an instant at the reply).

import { U64Halves, opcodeName } from '../abi';
import { errnoName } from './errno';
import type { PairedRequest } from './analyze';
import type { BackingEvent } from './events';

/** Synthetic pids for the daemon tracks, clear of real pid numbers (pid_max ≤ 4194304). */
const DAEMON_PID_BASE = 10_000_000;

export class PerfettoWriter {
  private buffered: string[] = [];
  private bufferedLength = 0;
  private first = true;
  private readonly named = new Set<string>();
  private seq = 0;
  /** Set when the source has no clock: requests are laid out 1 µs apart in order. */
  syntheticClock = false;
  requests = 0;

  constructor(private readonly write: (text: string) => void) {
    this.write('{"displayTimeUnit":"ms","traceEvents":[\n');
  }

  /** Use as TraceAnalyzer's onRequest. */
  readonly onRequest = (r: PairedRequest): void => {
    const s = r.send;
    const e = r.end;
    this.requests++;
    let start = s.ts;
    let end = e.ts;
    if (start === null || end === null) {
      this.syntheticClock = true;
      start = this.seq++;
      end = start + 1;
    }
    const name = opcodeName(s.opcode);
    const args: Record<string, unknown> = { unique: s.unique, nodeid: s.nodeid, error: e.error === 0 ? 0 : `${e.error} (${errnoName(e.error)})`, len: s.len, outLen: e.len };
    if (s.body && s.body.op !== 'none') args.request = bodyArgs(s.body as unknown as Record<string, unknown>);
    if (e.reply) args.reply = bodyArgs(e.reply as unknown as Record<string, unknown>);
    const pid = s.pid ?? 0;
    this.name('process_name', pid, pid, pid === 0 ? 'kernel (pid 0 requests)' : `${s.comm ?? 'pid'} ${pid}`);
    this.emit({ ph: 'X', cat: 'fuse', name, ts: start, dur: Math.max(0, end - start), pid, tid: pid, args });
    const dpid = DAEMON_PID_BASE + (s.connection ?? 0);
    this.name('process_name', dpid, dpid, `FUSE daemon${s.connection === null ? '' : ` (connection ${s.connection})`}`);
    const holder = r.sentTid ?? s.tid ?? e.tid;
    const from = r.sentTs ?? (s.tid !== null && s.body !== null ? start : null);
    const tid = holder ?? 0;
    this.name('thread_name', dpid, tid, `${(r.sentTid !== null ? null : e.comm) ?? 'daemon thread'} ${tid}`);
    if (from !== null) this.emit({ ph: 'X', cat: 'daemon', name, ts: from, dur: Math.max(0, end - from), pid: dpid, tid, args: { unique: s.unique } });
    else this.emit({ ph: 'i', s: 't', cat: 'daemon', name: `${name} reply`, ts: end, pid: dpid, tid: e.tid ?? 0, args: { unique: s.unique, error: e.error } });
  };

  /** Use as TraceAnalyzer's onBacking: the backing ioctls as instants on the daemon thread that made them. */
  readonly onBacking = (b: BackingEvent): void => {
    if (b.ts === null) return;
    const dpid = DAEMON_PID_BASE + (b.connection ?? 0);
    this.name('process_name', dpid, dpid, `FUSE daemon${b.connection === null ? '' : ` (connection ${b.connection})`}`);
    const name = `FUSE_DEV_IOC_BACKING_${b.op === 'open' ? 'OPEN' : 'CLOSE'}${b.error !== 0 ? ` ${b.errno ?? errnoName(b.error)}` : ''}`;
    this.emit({ ph: 'i', s: 't', cat: 'backing', name, ts: b.ts, pid: dpid, tid: b.tid ?? 0, args: { id: b.id, path: b.path, error: b.error } });
  };

  /** Closes the JSON document. */
  finish(): void {
    this.flush();
    this.write('\n]}\n');
  }

  private name(kind: 'process_name' | 'thread_name', pid: number, tid: number, name: string): void {
    const key = `${kind}:${pid}:${tid}`;
    if (this.named.has(key)) return;
    this.named.add(key);
    this.emit({ ph: 'M', name: kind, pid, tid, args: { name } });
  }

  private emit(ev: Record<string, unknown>): void {
    const text = (this.first ? '' : ',\n') + JSON.stringify(ev, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    this.first = false;
    this.buffered.push(text);
    this.bufferedLength += text.length;
    if (this.bufferedLength > 1 << 16) this.flush();
  }

  private flush(): void {
    if (this.buffered.length === 0) return;
    this.write(this.buffered.join(''));
    this.buffered = [];
    this.bufferedLength = 0;
  }
}

/** Body fields for the args pane, without byte payloads; a u64 kept as halves is written as its number (toJSON). */
function bodyArgs(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (Buffer.isBuffer(v)) continue;
    out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof U64Halves) ? bodyArgs(v as Record<string, unknown>) : v;
  }
  return out;
}
