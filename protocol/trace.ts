// What `fuselens trace --json` prints (docs/cli-json.md) and what the trace view
// shows (fuselens/openTrace): server/trace's report of a trace, and the
// view's requests and histograms. Field names are the CLI's JSON contract.

import type { InodeMode } from './io-mode';
import type { U64 } from './u64';

/** The sources server/trace reads (docs/trace.md). */
export type TraceFormat = 'ftrace' | 'strace' | 'libfuse-debug' | 'bazil-debug' | 'lab-jsonl';

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface OpcodeStats {
  opcode: string;
  /** Paired requests (send + end). */
  count: number;
  /** Requests sent, paired or not (FORGET and INTERRUPT never get a reply). */
  sent: number;
  /** Paired requests whose reply carries a negative error. */
  errors: number;
  errnos: Record<string, number>;
  /** Null when the source has no timestamps (libfuse debug log). */
  latencyUs: LatencySummary | null;
  /** Latency histogram for drawing: `[upperUs, count]`, ranges 0–1, 1–2, 2–4, ... µs (empty without timestamps). */
  histogramUs: Array<[upperUs: number, count: number]>;
}

export interface RequestSummary {
  connection: number | null;
  unique: number;
  opcode: string;
  pid: number | null;
  comm: string | null;
  /** Exact at 64 bits (docs/cli-json.md: a string above 2^53 - 1). */
  nodeid: U64 | null;
  /** Microseconds; null without timestamps or, for requests in flight, unknown. */
  latencyUs: number | null;
  error: number;
  /** Send timestamp (µs, the source's clock). */
  ts: number | null;
}

export interface ProcessStats {
  pid: number;
  comm: string | null;
  requests: number;
  errors: number;
}

export interface DenialReport {
  connection: number | null;
  nodeid: U64 | null;
  name: string | null;
  pid: number | null;
  /** unique of the refused OPEN/CREATE. */
  unique: number;
  /** unique of the RELEASE the kernel sent at once; null when the capture does not hold it. */
  releaseUnique: number | null;
  ts: number | null;
  /** The model's rule when the replies explain the refusal (docs/rules/RULE.md): a name of server/model's RULES. */
  rule: string | null;
  why: string;
  /**
   * `proven`: the stream shows the kernel released the file before any FLUSH while its opener waited (fuse_sync_release);
   * `possible`: the evidence allows two readings, said in `note`. Reports count the two apart.
   */
  certainty: 'proven' | 'possible';
  /** What is missing or ambiguous (a possible refusal's other reading, a RELEASE not in the capture); null when nothing is. */
  note: string | null;
  /** A failed FUSE_DEV_IOC_BACKING_OPEN before the refusal, the likely cause of the server's fallback from passthrough; null when none was seen. */
  cause: string | null;
}

/** GETXATTR requests by attribute name (protocol streams that carry the name). */
export interface XattrStats {
  name: string;
  /** Paired requests. */
  count: number;
  errors: number;
  /** errno name → count (ENODATA: the file has no such attribute). */
  errnos: Record<string, number>;
}

export interface InodeReport {
  connection: number | null;
  /** Exact at 64 bits. A node id forgotten (FORGET) and reused is two rows. */
  nodeid: U64;
  /** st_ino from the LOOKUP/CREATE/GETATTR reply's attributes (strace), to match /proc's view, exact at 64 bits; null when unknown. */
  ino: U64 | null;
  name: string | null;
  mode: InodeMode;
  iocachectr: number;
  /** The backing object bound to the inode (fi->fb), by id. */
  backingId: number | null;
  /** OPEN/CREATE replies seen for the inode. */
  opensSeen: number;
  /** Files of the inode open at the end of the capture (as far as the capture shows). */
  openFiles: number;
  /** FOPEN_* names of the last OPEN/CREATE reply for the inode (`keep_cache`, `passthrough`, ...). */
  lastOpenFlags: string[];
  /** The file behind `backingId`, from the FUSE_DEV_IOC_BACKING_OPEN the capture saw; null when not seen. */
  backingPath?: string | null;
  /** The last OPEN/CREATE of the inode the capture saw, and what the kernel made of it. */
  lastOpen?: OpenSeen | null;
}

/** One OPEN/CREATE as the protocol stream shows it: who asked, what the server replied, what followed. */
export interface OpenSeen {
  /** Reply time, the source's clock (µs). */
  ts: number | null;
  pid: number | null;
  comm: string | null;
  /** FOPEN_* names of the reply. */
  flags: string[];
  backingId: number | null;
  /**
   * `ok`: the file reached the process (or nothing says otherwise); `refused`: the stream proves the
   * kernel refused it (RELEASE at once, the model agrees); `possibly-refused`: the evidence allows
   * both readings (see the denial's note).
   */
  outcome: 'ok' | 'refused' | 'possibly-refused';
}

/** What a connection's FUSE_INIT reply negotiated (protocol streams that caught the INIT). */
export interface InitReport {
  connection: number | null;
  major: number;
  minor: number;
  /** INIT flag names of the reply (`passthrough`, `writeback_cache`, ...). */
  flags: string[];
  maxStackDepth: number;
  /** Whether the kernel turned passthrough on (process_init_reply, model/connection.ts). */
  passthrough: boolean;
}

export interface BadLine {
  line: number;
  why: string;
  text: string;
}

export interface TraceReport {
  format: TraceFormat;
  events: number;
  /** Paired requests. */
  requests: number;
  /** Requests sent that expect a reply, paired or not: the count `fuselens capture` shows while capturing. */
  sent: number;
  /** Requests that never get a reply (FORGET, BATCH_FORGET, INTERRUPT), counted apart. */
  noReply: number;
  /** inFlight + orphanReplies. */
  unmatched: number;
  /** Sends without a reply at the end (not counting opcodes that never get one). */
  inFlightCount: number;
  /** Replies whose request is not in the capture (sent before it began, or lost). */
  orphanReplies: number;
  /** Ends that came before their send (events out of order across CPUs), paired anyway. */
  outOfOrder: number;
  /** Events the kernel dropped (sum of `[LOST N EVENTS]`). */
  lost: number;
  badLines: number;
  connections: number[];
  /** Wall-clock start of the capture (ISO), from a `fuselens capture` header; null otherwise. */
  captureStarted: string | null;
  /** First and last timestamp (µs, the source's clock); null without timestamps. */
  startedAt: number | null;
  endedAt: number | null;
  opcodes: OpcodeStats[];
  processes: ProcessStats[];
  slowest: RequestSummary[];
  inFlight: RequestSummary[];
  /** The first `listLimit` refusals (AnalyzeOptions; 100 by default), proven and possible, in the order found. */
  denials: DenialReport[];
  /** Every refusal found, listed or not. */
  denialsCount: number;
  /** Present when the source carries OPEN replies (strace, lab-jsonl). */
  inodes?: InodeReport[];
  /** GETXATTR requests by name, most asked first; present when the source carries the names (strace). */
  xattrs?: XattrStats[];
  inits: InitReport[];
  bad: BadLine[];
  warnings: string[];
}

/** One request on the trace view's timeline or in its lists: the report's summary of it, plus what the view shows. */
export interface TraceRequest extends Omit<RequestSummary, 'ts'> {
  /** Errno name of `error` (`ENOENT`), or null. */
  errno: string | null;
  /** Microseconds since the first request of the trace, when the source has timestamps. */
  startUs: number | null;
  /**
   * The name the node id was given by a LOOKUP/CREATE reply the trace saw (`/` for the root,
   * FUSE_ROOT_ID), when known. The server's handle, named as the kernel learnt it.
   */
  file?: string;
}

/** Failed requests of one opcode with one errno: many identical failures read as one line. */
export interface FailureGroup {
  opcode: string;
  errno: string;
  count: number;
  /** The first request of the group, to show its details. */
  first: TraceRequest;
}

/** A report plus the detail the trace view draws. */
export interface TraceView {
  path: string;
  report: TraceReport;
  /** Latency histogram per opcode: upper bounds of power-of-two buckets (µs) and counts. */
  histograms: { opcode: string; bucketsUs: number[]; counts: number[] }[];
  /** The first requests in time order (at most timelineLimit), for the timeline. */
  timeline: TraceRequest[];
  timelineLimit: number;
  /** The report's slowest requests, in the same shape. */
  slowest: TraceRequest[];
  /** Requests whose reply carried an error (the first 200). */
  failed: TraceRequest[];
  failedCount: number;
  /** Every failed request, grouped by opcode and errno, most frequent first. */
  failureGroups: FailureGroup[];
}
