// Turns a stream of trace events into the report `fuselens trace` prints and
// the trace view shows: requests paired by (connection, unique), per-opcode
// counts/errors/latency, per process, the slowest, the ones still in flight,
// nodeid names from LOOKUP/CREATE, refused opens (rules §2.1) and — where the
// source carries OPEN replies — each inode's io mode replayed through the
// kernel model (server/model, mirroring fs/fuse/iomode.c).
// Memory is bounded by what is in flight, the number of inodes and processes,
// and fixed-size histograms; the events themselves are not kept.

import { release } from 'node:os';
import { FOPEN, Op, fopenFlagNames, initFlagNames, opcodeName } from '../abi';
import {
  RULES, fileIoOpen, kernelVersionOfRelease, fileIoRelease, IDLE_INODE, inodeMode, processInitReply, type Connection, type FileIo, type InodeIo,
  type KernelVersion, type RuleName,
} from '../model';
import { errnoName } from './errno';
import type { EndEvent, SendEvent, SentEvent, TraceEvent, TraceFormat, TraceSink } from './events';
import type {
  BadLine, DenialReport, InitReport, InodeReport, LatencySummary, OpcodeStats, ProcessStats, RequestSummary, TraceReport,
} from '../../protocol/trace';
import { LatencyHistogram } from './histogram';
import { UniqueMap } from './unique-map';

/** The report is `fuselens trace --json`'s and the trace view's: its shape is the wire's, in protocol/trace.ts. */
export type {
  BadLine, DenialReport, InitReport, InodeReport, LatencySummary, OpcodeStats, ProcessStats, RequestSummary, TraceReport,
};

/** A paired request, as handed to `onRequest` (the Perfetto export, the trace view). */
export interface PairedRequest {
  send: SendEvent;
  end: EndEvent;
  /** When the daemon picked the request up (fuse_request_sent), if traced. */
  sentTs: number | null;
  sentTid: number | null;
}

export interface AnalyzeOptions {
  /** Kernel whose rules replay the io modes; default: the running kernel. */
  kernel?: KernelVersion;
  /** How many slowest requests to keep (default 20). */
  slowest?: number;
  /** How many in-flight requests and bad lines to list (default 100; all are counted). */
  listLimit?: number;
  onRequest?: (request: PairedRequest) => void;
}

/** Opcodes the daemon never answers (or answers only in corner cases). */
const NO_REPLY = new Set<number>([Op.FUSE_FORGET, Op.FUSE_BATCH_FORGET, Op.FUSE_INTERRUPT, Op.FUSE_NOTIFY_REPLY]);
const NO_REPLY_TABLE: boolean[] = Array.from({ length: 64 }, (_, op) => NO_REPLY.has(op));
/**
 * Requests waiting for their reply, replies waiting for their request, and fuse_request_sent
 * events waiting for both, kept at most per connection: a capture without replies (only
 * fuse_request_send enabled) must not hold every request of the file in memory.
 */
const WAITING_LIMIT = 100_000;
const ENOSYS = -38;

export function runningKernel(): KernelVersion {
  return kernelVersionOfRelease(release()) ?? { major: 6, minor: 18 };
}

interface OpAcc {
  count: number;
  sent: number;
  errors: number;
  errnos: Map<string, number>;
  hist: LatencyHistogram;
}

/** What the analyzer remembers of an OPEN/CREATE until the file's RELEASE. */
interface OpenRecord {
  nodeid: number | null;
  pid: number | null;
  unique: number;
  ts: number | null;
  used: boolean;
  noflush: boolean;
  file: FileIo | null;
  refused: { rule: RuleName; errno: string } | null;
}

interface ConnState {
  pending: UniqueMap<SendEvent>;
  orphans: UniqueMap<EndEvent>;
  sent: UniqueMap<SentEvent>;
  names: Map<number, string>;
  inos: Map<number, number>;
  /** Files by handle (protocol streams). */
  files: Map<number, OpenRecord>;
  /** Last successful OPEN per requesting task (tracepoints: no handles). */
  lastOpenByPid: Map<number, OpenRecord>;
  inodes: Map<number, { io: InodeIo; opens: number; files: number; lastFlags: number }>;
  model: Connection;
  initSeen: boolean;
  noFlush: boolean;
}

export class TraceAnalyzer implements TraceSink {
  private events = 0;
  private lostEvents = 0;
  private paired = 0;
  private outOfOrder = 0;
  private orphanReplies = 0;
  /** Requests sent while WAITING_LIMIT others of their connection were waiting: counted, never paired. */
  private untracked = 0;
  private badCount = 0;
  private readonly badList: BadLine[] = [];
  private readonly warnings = new Set<string>();
  private readonly conns = new Map<number, ConnState>();
  private readonly ops = new Map<number, OpAcc>();
  private readonly procs = new Map<number, ProcessStats>();
  private slow: RequestSummary[] = [];
  private readonly denials: DenialReport[] = [];
  private readonly inits: InitReport[] = [];
  private firstTs: number | null = null;
  private lastTs: number | null = null;
  private hasTimestamps = false;
  private sawOpenReplies = false;
  private readonly kernel: KernelVersion;
  private readonly slowestN: number;
  private readonly listLimit: number;

  constructor(private readonly options: AnalyzeOptions = {}) {
    this.kernel = options.kernel ?? runningKernel();
    this.slowestN = options.slowest ?? 20;
    this.listLimit = options.listLimit ?? 100;
  }

  // ---- TraceSink ----

  event(ev: TraceEvent): void {
    this.events++;
    if (ev.ts !== null) {
      this.hasTimestamps = true;
      if (this.firstTs === null || ev.ts < this.firstTs) this.firstTs = ev.ts;
      if (this.lastTs === null || ev.ts > this.lastTs) this.lastTs = ev.ts;
    }
    const c = this.conn(ev.connection);
    if (ev.kind === 'send') this.onSend(c, ev);
    else if (ev.kind === 'end') this.onEnd(c, ev);
    else if (c.sent.size < WAITING_LIMIT) c.sent.set(ev.unique, ev);
  }

  lost(count: number): void {
    this.lostEvents += count;
  }

  bad(lineNo: number, why: string, text: string): void {
    this.badCount++;
    if (this.badList.length < this.listLimit) this.badList.push({ line: lineNo, why, text });
  }

  warning(text: string): void {
    this.warnings.add(text);
  }

  // ---- pairing ----

  private conn(connection: number | null): ConnState {
    const key = connection ?? -1;
    if (key === this.lastConnKey && this.lastConn) return this.lastConn;
    let c = this.conns.get(key);
    if (!c) {
      c = {
        pending: new UniqueMap(), orphans: new UniqueMap(), sent: new UniqueMap(), names: new Map(), inos: new Map(), files: new Map(), lastOpenByPid: new Map(),
        inodes: new Map(), model: assumedConnection(this.kernel), initSeen: false, noFlush: false,
      };
      this.conns.set(key, c);
    }
    this.lastConnKey = key;
    this.lastConn = c;
    return c;
  }
  private lastConnKey = -2;
  private lastConn: ConnState | null = null;

  private opAcc(opcode: number): OpAcc {
    let a = opcode < 256 ? this.opsByNumber[opcode] : this.ops.get(opcode);
    if (!a) {
      a = { count: 0, sent: 0, errors: 0, errnos: new Map(), hist: new LatencyHistogram() };
      this.ops.set(opcode, a);
      if (opcode < 256) this.opsByNumber[opcode] = a;
    }
    return a;
  }
  /** The same accumulators by opcode number, for the per-event path. */
  private readonly opsByNumber: Array<OpAcc | undefined> = new Array<OpAcc | undefined>(256).fill(undefined);

  private onSend(c: ConnState, s: SendEvent): void {
    this.opAcc(s.opcode).sent++;
    this.watchForDenial(c, s);
    const orphan = c.orphans.size > 0 ? c.orphans.get(s.unique) : undefined;
    if (orphan) {
      c.orphans.delete(s.unique);
      this.outOfOrder++;
      this.pair(c, s, orphan);
      return;
    }
    if (s.opcode < NO_REPLY_TABLE.length && NO_REPLY_TABLE[s.opcode]) return;
    if (c.pending.size < WAITING_LIMIT) c.pending.set(s.unique, s);
    else this.untracked++;
  }

  private onEnd(c: ConnState, e: EndEvent): void {
    const s = c.pending.get(e.unique);
    if (!s) {
      if (c.orphans.size < WAITING_LIMIT) c.orphans.set(e.unique, e);
      else this.orphanReplies++;
      return;
    }
    c.pending.delete(e.unique);
    this.pair(c, s, e);
  }

  private pair(c: ConnState, s: SendEvent, e: EndEvent): void {
    this.paired++;
    const a = this.opAcc(s.opcode);
    a.count++;
    if (e.error < 0) {
      a.errors++;
      const name = errnoName(e.error);
      a.errnos.set(name, (a.errnos.get(name) ?? 0) + 1);
    }
    const latency = s.ts !== null && e.ts !== null ? Math.max(0, e.ts - s.ts) : null;
    if (latency !== null) a.hist.add(latency);
    if (s.pid !== null) {
      let p = this.procs.get(s.pid);
      if (!p) this.procs.set(s.pid, (p = { pid: s.pid, comm: s.comm, requests: 0, errors: 0 }));
      p.requests++;
      if (e.error < 0) p.errors++;
      if (p.comm === null && s.comm !== null) p.comm = s.comm;
    }
    if (latency !== null) this.noteSlow(s, e, latency);
    this.learn(c, s, e);
    const sent = c.sent.size > 0 ? c.sent.get(s.unique) : undefined;
    if (sent) c.sent.delete(s.unique);
    this.options.onRequest?.({ send: s, end: e, sentTs: sent?.ts ?? null, sentTid: sent?.tid ?? null });
  }

  private noteSlow(s: SendEvent, e: EndEvent, latency: number): void {
    const n = this.slowestN;
    if (n <= 0) return;
    if (this.slow.length >= n && latency <= this.slow[this.slow.length - 1]!.latencyUs!) return;
    this.slow.push(summary(s, e.error, latency));
    this.slow.sort((x, y) => y.latencyUs! - x.latencyUs!);
    if (this.slow.length > n) this.slow.length = n;
  }

  // ---- what replies teach: names, io modes, refused opens ----

  private learn(c: ConnState, s: SendEvent, e: EndEvent): void {
    if (s.opcode === Op.FUSE_FLUSH && e.error === ENOSYS) c.noFlush = true;
    const r = e.reply;
    if (e.error !== 0) return;
    if (!r) {
      // Tracepoints: no handle to follow, so remember the opener (see watchForDenial).
      if ((s.opcode === Op.FUSE_OPEN || s.opcode === Op.FUSE_CREATE) && s.pid !== null)
        c.lastOpenByPid.set(s.pid, { nodeid: s.nodeid, pid: s.pid, unique: s.unique, ts: e.ts, used: false, noflush: false, file: null, refused: null });
      return;
    }
    if (r.op === 'init') {
      c.initSeen = true;
      const flags = initFlagNames(r.init.flags);
      c.model = processInitReply(this.kernel, { flags: new Set(flags), maxStackDepth: r.init.maxStackDepth }).conn;
      this.inits.push({
        connection: s.connection, major: r.init.major, minor: r.init.minor, flags, maxStackDepth: r.init.maxStackDepth, passthrough: c.model.passthrough,
      });
      return;
    }
    if (r.op === 'entry' && s.body?.op === 'lookup') c.names.set(r.nodeid, s.body.name);
    if (r.op === 'create' && s.body?.op === 'create' && r.nodeid >= 0) c.names.set(r.nodeid, s.body.create.name);
    if ((r.op === 'entry' || r.op === 'create') && r.ino !== null && r.nodeid >= 0) c.inos.set(r.nodeid, r.ino);
    if (s.opcode !== Op.FUSE_OPEN && s.opcode !== Op.FUSE_CREATE) return;
    const rec: OpenRecord = { nodeid: s.opcode === Op.FUSE_OPEN ? s.nodeid : null, pid: s.pid, unique: s.unique, ts: e.ts, used: false, noflush: false, file: null, refused: null };
    if (r.op === 'open' || r.op === 'create') {
      if (r.op === 'create' && r.nodeid >= 0) rec.nodeid = r.nodeid;
      rec.noflush = (r.open.openFlags & FOPEN.noflush) !== 0;
      this.sawOpenReplies = true;
      if (rec.nodeid !== null) this.replayOpen(c, rec, r.open.openFlags, r.open.backingId);
      c.files.set(r.open.fh, rec);
    } else if (r.op === 'handle') {
      if (r.nodeid !== null && rec.nodeid === null) rec.nodeid = r.nodeid;
      c.files.set(r.fh, rec);
    }
  }

  /** fuse_file_io_open() on the reply (model/iomode.ts). */
  private replayOpen(c: ConnState, rec: OpenRecord, openFlags: number, backingId: number): void {
    const nodeid = rec.nodeid!;
    let inode = c.inodes.get(nodeid);
    if (!inode) c.inodes.set(nodeid, (inode = { io: IDLE_INODE, opens: 0, files: 0, lastFlags: 0 }));
    inode.opens++;
    inode.lastFlags = openFlags;
    if (!c.initSeen && openFlags & FOPEN.passthrough)
      this.warning('FUSE_INIT is not in the capture: the io-mode replay assumes passthrough was negotiated (max_stack_depth 1)');
    const file: FileIo = { iomode: 'none', openFlags, passthrough: null, hasArgs: true };
    // The backing ioctls are not in the stream: a backing id in a reply is taken as registered.
    const step = fileIoOpen(c.model, inode.io, file, backingId, () => true);
    if (step.kind === 'error') {
      inode.io = step.inode;
      rec.refused = { rule: step.rule, errno: step.errno };
    } else {
      inode.io = step.inode;
      rec.file = step.kind === 'ok' ? step.file : { ...file, iomode: 'cached' };
      inode.files++;
    }
  }

  /** Runs on every send: marks handles in use, and catches the RELEASE of a refused open. */
  private watchForDenial(c: ConnState, s: SendEvent): void {
    const b = s.body;
    if (b) {
      const fh = b.op === 'read' ? b.read.fh : b.op === 'write' ? b.write.fh : b.op === 'flush' || b.op === 'fsync' ? b.fh : b.op === 'getattr' && b.getattrFlags & 1 ? b.fh : null;
      if (fh !== null) {
        const rec = c.files.get(fh);
        if (rec) rec.used = true;
      }
      if (s.opcode === Op.FUSE_RELEASE && b.op === 'release') {
        const rec = c.files.get(b.release.fh);
        if (!rec) return;
        c.files.delete(b.release.fh);
        this.releaseFile(c, rec);
        if (!rec.used) this.judgeRelease(c, s, rec);
        else if (rec.refused) this.warning(`the model says OPEN unique ${rec.unique} was refused (${rec.refused.rule}) but the file was used: the capture disagrees with the model`);
      }
      return;
    }
    // Tracepoints: no handles, so follow the task: OPEN ok, then its very next request is the RELEASE.
    if (s.pid === null || c.lastOpenByPid.size === 0) return;
    const rec = c.lastOpenByPid.get(s.pid);
    if (!rec) return;
    c.lastOpenByPid.delete(s.pid);
    if (s.opcode === Op.FUSE_RELEASE) this.judgeRelease(c, s, rec);
  }

  private releaseFile(c: ConnState, rec: OpenRecord): void {
    if (!rec.file || rec.nodeid === null) return;
    const inode = c.inodes.get(rec.nodeid);
    if (!inode) return;
    inode.io = fileIoRelease(inode.io, rec.file).inode;
    inode.files--;
  }

  private judgeRelease(c: ConnState, s: SendEvent, rec: OpenRecord): void {
    let why: string;
    if (rec.refused) {
      why = `OPEN succeeded, kernel released it at once: ${RULES[rec.refused.rule].title} (${rec.refused.errno} inside the kernel, EIO to the process)`;
    } else if (!c.noFlush && !rec.noflush) {
      why = 'OPEN succeeded, kernel released it at once (no FLUSH: the file never reached a file descriptor)';
    } else {
      this.warning(
        'refused opens cannot be told from open()+close() without I/O on a connection whose server answers FLUSH with ENOSYS ' +
          '(or sets FOPEN_NOFLUSH): such candidates are not reported',
      );
      return;
    }
    const name = rec.nodeid === null ? null : c.names.get(rec.nodeid) ?? null;
    this.denials.push({
      connection: s.connection, nodeid: rec.nodeid, name, pid: rec.pid, unique: rec.unique, releaseUnique: s.unique, ts: rec.ts,
      rule: rec.refused?.rule ?? null, why,
    });
  }

  // ---- the report ----

  report(format: TraceFormat): TraceReport {
    const inFlight: RequestSummary[] = [];
    let inFlightCount = 0;
    let orphans = this.orphanReplies;
    const connections: number[] = [];
    for (const [key, c] of this.conns) {
      if (key >= 0) connections.push(key); // a connection exists here only if an event named it
      orphans += c.orphans.size;
      inFlightCount += c.pending.size;
      for (const s of c.pending.values()) {
        if (inFlight.length >= this.listLimit) break;
        inFlight.push(summary(s, 0, s.ts !== null && this.lastTs !== null ? this.lastTs - s.ts : null));
      }
    }
    const opcodes: OpcodeStats[] = [...this.ops.entries()]
      .sort((x, y) => y[1].count - x[1].count || y[1].sent - x[1].sent || x[0] - y[0])
      .map(([opcode, a]) => ({
        opcode: opcodeName(opcode),
        count: a.count,
        sent: a.sent,
        errors: a.errors,
        errnos: Object.fromEntries(a.errnos),
        latencyUs: this.hasTimestamps && a.hist.count > 0
          ? { p50: a.hist.percentile(0.5), p90: a.hist.percentile(0.9), p99: a.hist.percentile(0.99), max: a.hist.max }
          : null,
        histogramUs: this.hasTimestamps ? a.hist.log2Buckets() : [],
      }));
    const report: TraceReport = {
      format,
      events: this.events,
      requests: this.paired,
      unmatched: inFlightCount + orphans,
      inFlightCount,
      orphanReplies: orphans,
      outOfOrder: this.outOfOrder,
      lost: this.lostEvents,
      badLines: this.badCount,
      connections: connections.sort((a, b) => a - b),
      captureStarted: null,
      startedAt: this.firstTs,
      endedAt: this.lastTs,
      opcodes,
      processes: [...this.procs.values()].sort((a, b) => b.requests - a.requests),
      slowest: this.slow,
      inFlight,
      denials: this.denials,
      inits: this.inits,
      bad: this.badList,
      warnings: [...this.warnings],
    };
    if (this.untracked > 0)
      report.warnings.push(
        `${this.untracked} request(s) were sent while ${WAITING_LIMIT} others were still waiting for their reply: they count as sent but were not ` +
          'paired (their replies count as replies without request). Does the capture hold the replies (fuse_request_end)?',
      );
    if (this.lostEvents > 0) report.warnings.push(`the kernel dropped ${this.lostEvents} trace events (ring buffer full): counts are lower bounds and some requests look unmatched`);
    if (this.badCount > 0) report.warnings.push(`${this.badCount} line(s) could not be read (see "bad")`);
    if (this.sawOpenReplies) {
      report.inodes = [];
      for (const [key, c] of this.conns)
        for (const [nodeid, i] of c.inodes)
          report.inodes.push({
            connection: key >= 0 ? key : null, nodeid, ino: c.inos.get(nodeid) ?? null, name: c.names.get(nodeid) ?? null, mode: inodeMode(i.io), iocachectr: i.io.iocachectr,
            backingId: i.io.fb, opensSeen: i.opens, openFiles: i.files, lastOpenFlags: fopenFlagNames(i.lastFlags),
          });
      report.inodes.sort((a, b) => (a.connection ?? -1) - (b.connection ?? -1) || a.nodeid - b.nodeid);
    }
    return report;
  }
}

function summary(s: SendEvent, error: number, latency: number | null): RequestSummary {
  return {
    connection: s.connection, unique: s.unique, opcode: opcodeName(s.opcode), pid: s.pid, comm: s.comm, nodeid: s.nodeid,
    latencyUs: latency, error, ts: s.ts,
  };
}

/** Before (or without) the INIT reply: passthrough assumed on, so replies that use it can be replayed. */
function assumedConnection(kernel: KernelVersion): Connection {
  return processInitReply(kernel, { flags: new Set(['passthrough']), maxStackDepth: 1 }).conn;
}
