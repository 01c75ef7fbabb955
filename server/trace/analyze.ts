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
import type { BackingEvent, EndEvent, SendEvent, SentEvent, TraceEvent, TraceFormat, TraceSink } from './events';
import type {
  BadLine, DenialReport, InitReport, InodeReport, LatencySummary, OpcodeStats, OpenSeen, ProcessStats, RequestSummary, TraceReport, XattrStats,
} from '../../protocol/trace';
import { LatencyHistogram } from './histogram';
import { UniqueMap } from './unique-map';
import { OpenFiles, type OpenFile } from './open-files';
import { compareU64, type U64 } from '../../protocol/u64';

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
  /** How many in-flight requests, bad lines and refusals to list (default 100; all are counted). */
  listLimit?: number;
  /** How many refusals to list, when not `listLimit` (the scenario export needs every one). */
  denialLimit?: number;
  onRequest?: (request: PairedRequest) => void;
  /** Each FUSE_DEV_IOC_BACKING_OPEN/CLOSE of the stream (the Perfetto export). */
  onBacking?: (event: BackingEvent) => void;
}

/** Opcodes the daemon never answers (or answers only in corner cases). */
const NO_REPLY = new Set<number>([Op.FUSE_FORGET, Op.FUSE_BATCH_FORGET, Op.FUSE_INTERRUPT, Op.FUSE_NOTIFY_REPLY]);
const NO_REPLY_TABLE: boolean[] = Array.from({ length: 64 }, (_, op) => NO_REPLY.has(op));
/** Whether the daemon answers this opcode: the capture's live count and the report count the others apart. */
export function expectsReply(opcode: number): boolean {
  return !(opcode < NO_REPLY_TABLE.length ? NO_REPLY_TABLE[opcode] : NO_REPLY.has(opcode));
}
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

/** What the analyzer remembers of an OPEN/CREATE until the file's RELEASE (open-files.ts matches the RELEASE). */
interface OpenRecord extends OpenFile {
  unique: number;
  ts: number | null;
  noflush: boolean;
  file: FileIo | null;
  refused: { rule: RuleName; errno: string } | null;
  /** The inode's record this open counted in (a reused node id is another inode). */
  inode: InodeState | null;
  seen: OpenSeen;
}

interface InodeState {
  nodeid: U64;
  io: InodeIo;
  opens: number;
  files: number;
  lastFlags: number;
  lastOpen: OpenSeen | null;
  /** Name and st_ino, kept when the node id is forgotten. */
  name: string | null;
  ino: U64 | null;
}

interface ConnState {
  pending: UniqueMap<SendEvent>;
  orphans: UniqueMap<EndEvent>;
  sent: UniqueMap<SentEvent>;
  names: Map<U64, string>;
  inos: Map<U64, U64>;
  /** Open files until their RELEASE. */
  opens: OpenFiles<OpenRecord>;
  /** Last successful OPEN per requesting task (tracepoints: no handles). */
  lastOpenByPid: Map<number, OpenRecord>;
  inodes: Map<U64, InodeState>;
  /** Inodes whose node id was forgotten (FORGET): a later use of the id is another inode. */
  forgotten: InodeState[];
  /** Backing files by id, from FUSE_DEV_IOC_BACKING_OPEN. */
  backings: Map<number, string | null>;
  /** The last failed FUSE_DEV_IOC_BACKING_OPEN, said next to the refusals that follow it. */
  backingFailure: string | null;
  /**
   * The highest unique of a reply whose request is not in the capture. Uniques grow (fuse_get_unique), so one
   * above an open's means a request sent after that open was lost — strace drops the bytes of a read that was
   * in progress when it attached — and it may have been the file's FLUSH.
   */
  lostAfter: number;
  model: Connection;
  initSeen: boolean;
  noFlush: boolean;
  /**
   * Whether a FLUSH request was seen on the connection. The kernel stops sending FLUSH for good once the
   * server answered one with ENOSYS (fc->no_flush, fuse_flush), maybe before the capture began: until a
   * FLUSH shows it was not so, a RELEASE without FLUSH does not prove a refusal.
   */
  flushSeen: boolean;
  /** Refusals held "possible" only because no FLUSH had been seen yet: a later FLUSH proves them (no_flush never goes back to 0). */
  awaitingFlush: Array<{ denial: DenialReport; rec: OpenRecord }>;
  /**
   * The same for refusals beyond the listed ones, of which the report shows only the open (an inode's `lastOpen`): the
   * latest per inode, so that the memory stays bounded by the inodes.
   */
  awaitingFlushOpens: Map<InodeState, OpenSeen>;
}

export class TraceAnalyzer implements TraceSink {
  private events = 0;
  /** Requests sent that expect a reply, and those that never get one (FORGET, INTERRUPT). */
  private sentReplied = 0;
  private sentNoReply = 0;
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
  private readonly xattrs = new Map<string, XattrStats>();
  private slow: RequestSummary[] = [];
  private readonly denials: DenialReport[] = [];
  private denialCount = 0;
  private readonly inits: InitReport[] = [];
  private firstTs: number | null = null;
  private lastTs: number | null = null;
  private hasTimestamps = false;
  private sawOpenReplies = false;
  private saidNoInit = false;
  private readonly kernel: KernelVersion;
  private readonly slowestN: number;
  private readonly listLimit: number;
  private readonly denialLimit: number;

  constructor(private readonly options: AnalyzeOptions = {}) {
    this.kernel = options.kernel ?? runningKernel();
    this.slowestN = options.slowest ?? 20;
    this.listLimit = options.listLimit ?? 100;
    this.denialLimit = options.denialLimit ?? this.listLimit;
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
    else if (ev.kind === 'backing') this.onBacking(c, ev);
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
        pending: new UniqueMap(), orphans: new UniqueMap(), sent: new UniqueMap(), names: new Map(), inos: new Map(), opens: new OpenFiles(),
        lastOpenByPid: new Map(), inodes: new Map(), forgotten: [], backings: new Map(), backingFailure: null, lostAfter: -1,
        model: assumedConnection(this.kernel), initSeen: false, noFlush: false, flushSeen: false, awaitingFlush: [], awaitingFlushOpens: new Map(),
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
    const replied = expectsReply(s.opcode);
    if (replied) this.sentReplied++;
    else this.sentNoReply++;
    const orphan = c.orphans.size > 0 ? c.orphans.take(s.unique) : undefined;
    if (orphan) {
      this.outOfOrder++;
      this.pair(c, s, orphan);
      return;
    }
    if (!replied) return;
    if (c.pending.size < WAITING_LIMIT) c.pending.set(s.unique, s);
    else this.untracked++;
  }

  private onEnd(c: ConnState, e: EndEvent): void {
    const s = c.pending.take(e.unique);
    if (!s) {
      if (e.unique > c.lostAfter) c.lostAfter = e.unique;
      if (c.orphans.size < WAITING_LIMIT) c.orphans.set(e.unique, e);
      else this.orphanReplies++;
      return;
    }
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
    if (s.body?.op === 'getxattr') this.noteXattr(s.body.name, e.error);
    this.learn(c, s, e);
    const sent = c.sent.size > 0 ? c.sent.take(s.unique) : undefined;
    this.options.onRequest?.({ send: s, end: e, sentTs: sent?.ts ?? null, sentTid: sent?.tid ?? null });
  }

  private noteXattr(name: string, error: number): void {
    let x = this.xattrs.get(name);
    if (!x) this.xattrs.set(name, (x = { name, count: 0, errors: 0, errnos: {} }));
    x.count++;
    if (error < 0) {
      x.errors++;
      const e = errnoName(error);
      x.errnos[e] = (x.errnos[e] ?? 0) + 1;
    }
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
        c.lastOpenByPid.set(s.pid, this.openRecord(s, e, s.nodeid, null, 0, null));
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
    if (r.op === 'create' && s.body?.op === 'create' && r.nodeid !== null) c.names.set(r.nodeid, s.body.create.name);
    if ((r.op === 'entry' || r.op === 'create') && r.ino !== null && r.nodeid !== null) c.inos.set(r.nodeid, r.ino);
    if (r.op === 'attr' && s.nodeid !== null) c.inos.set(s.nodeid, r.ino);
    if (s.opcode !== Op.FUSE_OPEN && s.opcode !== Op.FUSE_CREATE) return;
    let nodeid = s.opcode === Op.FUSE_OPEN ? s.nodeid : null;
    let rec: OpenRecord;
    if (r.op === 'open' || r.op === 'create') {
      if (r.op === 'create' && r.nodeid !== null) nodeid = r.nodeid;
      rec = this.openRecord(s, e, nodeid, r.open.fh, r.open.openFlags, r.open.backingId);
      rec.noflush = (r.open.openFlags & FOPEN.noflush) !== 0;
      this.sawOpenReplies = true;
      if (nodeid !== null) this.replayOpen(c, rec, r.open.openFlags, r.open.backingId);
    } else if (r.op === 'handle') {
      rec = this.openRecord(s, e, nodeid ?? r.nodeid, r.fh, 0, null);
    } else return;
    c.opens.opened(rec);
  }

  private openRecord(s: SendEvent, e: EndEvent, nodeid: U64 | null, fh: U64 | null, openFlags: number, backingId: number | null): OpenRecord {
    return {
      nodeid, fh, pid: s.pid, unique: s.unique, ts: e.ts, flushed: false, quiet: true, noflush: false, file: null, refused: null, inode: null,
      seen: { ts: e.ts, pid: s.pid, comm: s.comm, flags: this.openFlagNames(openFlags), backingId: backingId !== null && backingId > 0 ? backingId : null, outcome: 'ok' },
    };
  }

  /** fopenFlagNames, remembered per value: every OPEN reply asks, and a capture holds a handful of values. */
  private openFlagNames(flags: number): string[] {
    let names = this.flagNames.get(flags);
    if (!names) this.flagNames.set(flags, (names = fopenFlagNames(flags)));
    return names.slice();
  }
  private readonly flagNames = new Map<number, string[]>();

  private inode(c: ConnState, nodeid: U64): InodeState {
    let inode = c.inodes.get(nodeid);
    if (!inode) c.inodes.set(nodeid, (inode = { nodeid, io: IDLE_INODE, opens: 0, files: 0, lastFlags: 0, lastOpen: null, name: null, ino: null }));
    return inode;
  }

  /** fuse_file_io_open() on the reply (model/iomode.ts). */
  private replayOpen(c: ConnState, rec: OpenRecord, openFlags: number, backingId: number): void {
    const inode = this.inode(c, rec.nodeid!);
    rec.inode = inode;
    inode.opens++;
    inode.lastFlags = openFlags;
    inode.lastOpen = rec.seen;
    if (!c.initSeen && openFlags & FOPEN.passthrough && !this.saidNoInit) {
      // Said once: a capture begun after FUSE_INIT would otherwise hash this text again at every passthrough open.
      this.saidNoInit = true;
      this.warning('FUSE_INIT is not in the capture: the io-mode replay assumes passthrough was negotiated (max_stack_depth 1)');
    }
    const file: FileIo = { iomode: 'none', openFlags, passthrough: null, hasArgs: true };
    // A backing id is taken as registered: a capture without the backing ioctls (or begun after them) cannot say.
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

  private onBacking(c: ConnState, b: BackingEvent): void {
    this.options.onBacking?.(b);
    if (b.op === 'open' && b.id !== null) c.backings.set(b.id, b.path);
    if (b.op === 'open' && b.error !== 0)
      c.backingFailure = `FUSE_DEV_IOC_BACKING_OPEN${b.path ? ` of ${b.path}` : ''} failed (${b.errno ?? errnoName(b.error)})${
        b.ts !== null ? ` at ${clock(b.ts)}` : ''} by daemon thread ${b.tid ?? '?'}: a server falls back from passthrough then (libfuse passthrough_hp disables it)`;
  }

  /** Runs on every send: follows the openers, the FLUSHes and RELEASEs of open files, and the node ids' lives. */
  private watchForDenial(c: ConnState, s: SendEvent): void {
    c.opens.sent(s.pid);
    const b = s.body;
    if (s.opcode === Op.FUSE_FORGET && s.nodeid !== null) return this.forget(c, s.nodeid);
    if (b?.op === 'batch_forget') {
      for (const f of b.forgets) this.forget(c, f.nodeid);
      return;
    }
    if (s.opcode === Op.FUSE_FLUSH) this.flushSeen(c);
    if (s.opcode === Op.FUSE_FLUSH && (b !== null || c.opens.size > 0)) c.opens.flushed(s.nodeid, b?.op === 'flush' ? b.fh : null, s.pid);
    if (s.opcode === Op.FUSE_RELEASE && b?.op === 'release') return this.released(c, s, b.release.fh);
    if (b) return;
    // Tracepoints: no handles, so follow the task: OPEN ok, then its very next request is the RELEASE.
    if (s.pid === null || c.lastOpenByPid.size === 0) return;
    const rec = c.lastOpenByPid.get(s.pid);
    if (!rec) return;
    c.lastOpenByPid.delete(s.pid);
    if (s.opcode === Op.FUSE_RELEASE) this.judgeRelease(c, s, rec, 1);
  }

  /** FUSE_FORGET ends a node id's life (fuse_evict_inode sends the whole lookup count): a later use is another inode. */
  private forget(c: ConnState, nodeid: U64): void {
    const inode = c.inodes.get(nodeid);
    if (inode) {
      c.inodes.delete(nodeid);
      inode.name = c.names.get(nodeid) ?? null;
      inode.ino = c.inos.get(nodeid) ?? null;
      if (c.forgotten.length < this.listLimit * 100) c.forgotten.push(inode);
    }
    c.names.delete(nodeid);
    c.inos.delete(nodeid);
  }

  /** A RELEASE: the end of a file, or of a refused open (open-files.ts says which the stream proves). */
  private released(c: ConnState, s: SendEvent, fh: U64): void {
    const match = c.opens.released(s.nodeid, fh);
    if (match.kind === 'before') return;
    const rec = match.file;
    this.releaseFile(rec);
    if (match.kind === 'closed') {
      if (rec.refused) this.disagreement(rec.unique, rec.refused.rule);
      return;
    }
    // No opener waiting: not the RELEASE of a refusal (an open before the capture, or a lost FLUSH).
    if (match.waiting > 0) this.judgeRelease(c, s, rec, match.waiting);
  }

  /** The model refused an open whose file was flushed: said once per open (the text is not made again for one said already). */
  private disagreement(unique: number, rule: RuleName): void {
    let said = this.disagreements.get(rule);
    if (!said) this.disagreements.set(rule, (said = new Set()));
    if (said.has(unique)) return;
    said.add(unique);
    // One warning per open, so bounded like the lists: a long capture may disagree at every open.
    if (++this.disagreementCount > this.listLimit) return;
    this.warning(`the model says OPEN unique ${unique} was refused (${rule}) but the file was flushed: the capture disagrees with the model`);
  }
  private readonly disagreements = new Map<RuleName, Set<number>>();
  private disagreementCount = 0;

  private releaseFile(rec: OpenRecord): void {
    if (!rec.file || !rec.inode) return;
    rec.inode.io = fileIoRelease(rec.inode.io, rec.file).inode;
    rec.inode.files--;
    rec.file = null;
  }

  /** `candidates`: quiet opens of the node with this handle, of which `rec` is judged. */
  /** The first FLUSH of a connection: the kernel was sending FLUSH all along, so the refusals held back for want of one are proven. */
  private flushSeen(c: ConnState): void {
    if (c.flushSeen) return;
    c.flushSeen = true;
    for (const { denial, rec } of c.awaitingFlush) {
      denial.certainty = 'proven';
      denial.note = null;
      rec.seen.outcome = 'refused';
    }
    c.awaitingFlush = [];
    for (const [inode, seen] of c.awaitingFlushOpens) if (inode.lastOpen === seen) seen.outcome = 'refused';
    c.awaitingFlushOpens.clear();
  }

  private judgeRelease(c: ConnState, s: SendEvent, rec: OpenRecord, candidates: number): void {
    const model = rec.refused
      ? `${RULES[rec.refused.rule].title} (${rec.refused.errno} inside the kernel, EIO to the process)`
      : null;
    let why: string;
    let note: string | null = null;
    let certainty: DenialReport['certainty'] = 'proven';
    let waitsForFlush = false;
    if (c.noFlush || rec.noflush) {
      // A close sends no FLUSH here, so open()+close() without I/O looks the same: only the model can speak.
      if (!model) {
        this.warning(
          'refused opens cannot be told from open()+close() without I/O on a connection whose server answers FLUSH with ENOSYS ' +
            '(or sets FOPEN_NOFLUSH): such candidates are reported only where the io-mode model says the open was refused',
        );
        return;
      }
      certainty = 'possible';
      why = `OPEN succeeded, then RELEASE with no FLUSH while the opener waited: ${model}`;
      note = c.noFlush
        ? 'the server answered FLUSH with ENOSYS, so a close sends none: this may also be an open() and close() without I/O'
        : 'the reply set FOPEN_NOFLUSH, so a close sends no FLUSH: this may also be an open() and close() without I/O';
    } else {
      why = model
        ? `OPEN succeeded, kernel released it at once: ${model}`
        : 'OPEN succeeded, kernel released it at once (no FLUSH: the file never reached a file descriptor)';
      if (candidates > 1) {
        certainty = 'possible';
        note = `${candidates} opens of the node share handle ${rec.fh} and none was flushed: one of them was refused, which one the stream does not say`;
      } else if (c.lostAfter > rec.unique) {
        certainty = 'possible';
        note = `a request sent after this OPEN is not in the capture (the reply of unique ${c.lostAfter} has none: strace attached while a daemon thread was reading it); it may have been this file's FLUSH`;
      } else if (!c.flushSeen) {
        certainty = 'possible';
        waitsForFlush = true;
        note =
          'no FLUSH has been seen on this connection yet: if the server answered FLUSH with ENOSYS before the capture began, the kernel ' +
          'sends none, and this may be an open() and close() without I/O (a later FLUSH would prove the refusal)';
      }
    }
    rec.seen.outcome = certainty === 'proven' ? 'refused' : 'possibly-refused';
    this.denialCount++;
    // Beyond the listed ones a refusal is counted, not kept: a capture of hours may hold one per open.
    const denial: DenialReport | null = this.denials.length < this.denialLimit ? {
      connection: s.connection, nodeid: rec.nodeid, name: rec.nodeid === null ? null : c.names.get(rec.nodeid) ?? null, pid: rec.pid, unique: rec.unique,
      releaseUnique: s.unique, ts: rec.ts, rule: rec.refused?.rule ?? null, why, certainty, note, cause: c.backingFailure,
    } : null;
    if (denial) this.denials.push(denial);
    if (!waitsForFlush) return;
    if (denial) c.awaitingFlush.push({ denial, rec });
    else if (rec.inode) c.awaitingFlushOpens.set(rec.inode, rec.seen);
  }

  /** Opens the model refused whose RELEASE the capture does not hold (yet): said, as possible, up to `room` of them; all counted. */
  private unreleasedRefusals(room: number): { listed: DenialReport[]; count: number } {
    const listed: DenialReport[] = [];
    let count = 0;
    for (const [key, c] of this.conns)
      for (const rec of c.opens.values()) {
        if (!rec.refused || !rec.quiet || rec.flushed) continue;
        if (count++ >= room) continue;
        listed.push({
          connection: key >= 0 ? key : null, nodeid: rec.nodeid, name: rec.nodeid === null ? null : c.names.get(rec.nodeid) ?? null, pid: rec.pid,
          unique: rec.unique, releaseUnique: null, ts: rec.ts, rule: rec.refused.rule,
          why: `the model says the kernel refused it: ${RULES[rec.refused.rule].title} (${rec.refused.errno} inside the kernel, EIO to the process)`,
          certainty: 'possible',
          note: 'its RELEASE is not in the capture (the capture ended first?): the kernel sends one at once for a refused open',
          cause: c.backingFailure,
        });
      }
    return { listed, count };
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
      sent: this.sentReplied,
      noReply: this.sentNoReply,
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
      denialsCount: this.denialCount,
      inits: this.inits,
      bad: this.badList,
      warnings: [...this.warnings],
    };
    if (this.disagreementCount > this.listLimit)
      report.warnings.push(`${this.disagreementCount - this.listLimit} more OPEN(s) the model says were refused were flushed: the capture disagrees with the model there too (not listed)`);
    if (this.untracked > 0)
      report.warnings.push(
        `${this.untracked} request(s) were sent while ${WAITING_LIMIT} others were still waiting for their reply: they count as sent but were not ` +
          'paired (their replies count as replies without request). Does the capture hold the replies (fuse_request_end)?',
      );
    if (this.lostEvents > 0) report.warnings.push(`the kernel dropped ${this.lostEvents} trace events (ring buffer full): counts are lower bounds and some requests look unmatched`);
    if (this.badCount > 0) report.warnings.push(`${this.badCount} line(s) could not be read (see "bad")`);
    const unreleased = this.unreleasedRefusals(this.denialLimit - this.denials.length);
    report.denials = [...this.denials, ...unreleased.listed];
    report.denialsCount = this.denialCount + unreleased.count;
    if (this.xattrs.size > 0) report.xattrs = [...this.xattrs.values()].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    if (this.sawOpenReplies) {
      report.inodes = [];
      for (const [key, c] of this.conns) {
        const row = (i: InodeState, name: string | null, ino: U64 | null): InodeReport => ({
          connection: key >= 0 ? key : null, nodeid: i.nodeid, ino, name, mode: inodeMode(i.io), iocachectr: i.io.iocachectr,
          backingId: i.io.fb, opensSeen: i.opens, openFiles: i.files, lastOpenFlags: fopenFlagNames(i.lastFlags),
          backingPath: i.io.fb !== null ? c.backings.get(i.io.fb) ?? null : null, lastOpen: i.lastOpen,
        });
        for (const i of c.forgotten) report.inodes.push(row(i, i.name, i.ino));
        for (const [nodeid, i] of c.inodes) report.inodes.push(row(i, c.names.get(nodeid) ?? null, c.inos.get(nodeid) ?? null));
      }
      // Stable: a forgotten inode comes before the later one that reused its node id.
      report.inodes.sort((a, b) => (a.connection ?? -1) - (b.connection ?? -1) || compareU64(a.nodeid, b.nodeid));
    }
    return report;
  }
}

/** HH:MM:SS.ffffff of a wall-clock timestamp in µs since midnight (strace -tt). */
function clock(us: number): string {
  const day = us % 86_400_000_000;
  const s = Math.floor(day / 1e6);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(s / 3600) % 24)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}.${pad(day % 1e6, 6)}`;
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
