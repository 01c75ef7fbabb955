// The common event every trace reader produces: a request sent to the FUSE
// daemon ("send") or its reply ("end"), with whatever the source carries.
// Kernel tracepoints give lengths, errors and the requesting task; a protocol
// stream (strace, the lab server) also gives the decoded bodies.

import type { InitOut, OpenOut, RequestBody } from '../abi';
import type { TraceFormat } from '../../protocol/trace';
import type { U64 } from '../../protocol/u64';

export type { TraceFormat };

export interface SendEvent {
  kind: 'send';
  /** Microseconds (tracefs: since boot; strace -tt: since midnight; null when the source has no clock). */
  ts: number | null;
  /** The connection (fusectl directory number); null when the source does not say. */
  connection: number | null;
  unique: number;
  /** FUSE opcode number (FUSE_OPEN = 14). */
  opcode: number;
  /** Request length in bytes (fuse_in_header.len). */
  len: number | null;
  /** The requesting process: fuse_in_header.pid, or the task that sent it (tracefs). 0 for kernel-internal requests. */
  pid: number | null;
  comm: string | null;
  /** The FUSE node id, exact at 64 bits (a server may hand out pointers or hashes). */
  nodeid: U64 | null;
  uid: number | null;
  gid: number | null;
  /** The thread that produced the record: tracefs task, or the daemon thread that read the request (strace). */
  tid: number | null;
  /** Decoded request body (strace, lab), when the source carries it. */
  body: RequestBody | null;
}

/** A decoded reply body, by the opcode of the request it answers. */
export type ReplyBody =
  | { op: 'init'; init: InitOut }
  /** fuse_entry_out: `ino` is attr.ino, the st_ino user space sees, exact at 64 bits (null when the source does not say). */
  | { op: 'entry'; nodeid: U64; generation: number; ino: U64 | null }
  /** fuse_attr_out (GETATTR, SETATTR): attr.ino of the request's node id. */
  | { op: 'attr'; ino: U64 }
  | { op: 'open'; open: OpenOut }
  /** `nodeid` null when the source does not say. */
  | { op: 'create'; nodeid: U64 | null; generation: number; ino: U64 | null; open: OpenOut }
  | { op: 'write'; size: number }
  | { op: 'data'; size: number }
  /** OPEN/CREATE reply of a source that shows the handle but not the open flags (libfuse debug log). */
  | { op: 'handle'; fh: U64; nodeid: U64 | null };

export interface EndEvent {
  kind: 'end';
  ts: number | null;
  connection: number | null;
  unique: number;
  /** Reply length in bytes (fuse_out_header.len). */
  len: number | null;
  /** 0 or a negative errno, as in fuse_out_header.error. */
  error: number;
  /** Daemon thread that wrote the reply (tracefs task / strace thread). */
  tid: number | null;
  comm: string | null;
  reply: ReplyBody | null;
}

/**
 * `fuse/fuse_request_sent` (kernels with it, 7.x): the daemon has read the
 * request from /dev/fuse. Between send and sent the request sat in the queue.
 */
export interface SentEvent {
  kind: 'sent';
  ts: number | null;
  connection: number | null;
  unique: number;
  tid: number | null;
  comm: string | null;
}

/**
 * FUSE_DEV_IOC_BACKING_OPEN / _CLOSE on /dev/fuse (strace captures): the daemon registering a backing
 * file for passthrough (fs/fuse/backing.c fuse_backing_open) or dropping one.
 */
export interface BackingEvent {
  kind: 'backing';
  ts: number | null;
  connection: number | null;
  /** The daemon thread that called the ioctl. */
  tid: number | null;
  op: 'open' | 'close';
  /** 0, or the negative errno the ioctl failed with. */
  error: number;
  /** The errno's name as the source printed it (`EINVAL`), or null on success. */
  errno: string | null;
  /** The backing id BACKING_OPEN returned; null when it failed or the source does not show it (strace hides CLOSE's argument). */
  id: number | null;
  /** The backing file: the descriptor the daemon's thread opened last before the ioctl (strace -y); null when not seen. */
  path: string | null;
}

export type TraceEvent = SendEvent | SentEvent | EndEvent | BackingEvent;

/** What a reader reports besides events. Every problem is counted, never thrown. */
export interface TraceSink {
  event(ev: TraceEvent): void;
  /** `CPU:N [LOST M EVENTS]`: the ring buffer overflowed. */
  lost(count: number, cpu: number | null): void;
  /** A line the reader could not use (truncated, garbage, undecodable bytes). */
  bad(lineNo: number, why: string, text: string): void;
  /** Something the user should know about the capture as a whole (e.g. what strace cannot see). */
  warning(text: string): void;
}

/** A line-oriented reader. Lines are handed over as bytes without the newline. */
export interface TraceReader {
  readonly format: TraceFormat;
  line(buf: Buffer, start: number, end: number, lineNo: number): void;
  /** End of input: flush joined/partial state. */
  finish(): void;
}

export function sendEvent(f: Partial<SendEvent> & Pick<SendEvent, 'unique' | 'opcode'>): SendEvent {
  // All fields spelled out (no spread): one object shape for every event keeps the readers fast.
  return {
    kind: 'send', ts: f.ts ?? null, connection: f.connection ?? null, unique: f.unique, opcode: f.opcode, len: f.len ?? null,
    pid: f.pid ?? null, comm: f.comm ?? null, nodeid: f.nodeid ?? null, uid: f.uid ?? null, gid: f.gid ?? null, tid: f.tid ?? null,
    body: f.body ?? null,
  };
}

export function endEvent(f: Partial<EndEvent> & Pick<EndEvent, 'unique' | 'error'>): EndEvent {
  return {
    kind: 'end', ts: f.ts ?? null, connection: f.connection ?? null, unique: f.unique, len: f.len ?? null, error: f.error,
    tid: f.tid ?? null, comm: f.comm ?? null, reply: f.reply ?? null,
  };
}

export function backingEvent(f: Omit<BackingEvent, 'kind'>): BackingEvent {
  return { kind: 'backing', ts: f.ts, connection: f.connection, tid: f.tid, op: f.op, error: f.error, errno: f.errno, id: f.id, path: f.path };
}
