// The FUSE messages a strace capture holds, made into trace events: the second
// half of the strace reader. strace.ts finds each read and write of /dev/fuse
// in the text (lines, unfinished and resumed calls, splices) and hands over the
// call's text; here its strings are decoded (strace-strings.ts), a request is
// matched to its reply, and both are decoded with the FUSE ABI module
// (server/abi). The two halves run in one thread, or the first in the parse
// worker and this one on the main thread beside the analysis (read.ts): what
// crosses between them is where the call's text is and a few numbers
// (sink-records.ts), so the decoding is done where the events are made.

import { ENTRY_OUT_SIZE, IN_HEADER_SIZE, Op, OUT_HEADER_SIZE, decodeInitOut, decodeOpenOut, decodeRequestBody, i32, needBytes, opcodeName, u32, u64, u64Id, type RequestBody } from '../abi';
import type { ReplyBody, TraceSink } from './events';
import { StraceStrings } from './strace-strings';
import { UniqueMap } from './unique-map';
import type { U64 } from '../../protocol/u64';

/** Replies whose body is data (what libfuse splices). */
const DATA_REPLIES = new Set<number>([Op.FUSE_READ, Op.FUSE_READDIR, Op.FUSE_READDIRPLUS, Op.FUSE_READLINK, Op.FUSE_GETXATTR, Op.FUSE_LISTXATTR]);
const EMPTY = Buffer.alloc(0);
/** How much of the call's text a bad line shows. */
export const BAD_TEXT = 200;

/**
 * Where the reader hands each read and write of /dev/fuse it found, and what else the messages' decoding needs.
 * A call's text is `prefix` [prefixAt, prefixAt + prefixLength) (the head of an unfinished call, printed on an earlier
 * line) and then `buf` [start, end); its strings are in [start, argsEnd).
 */
export interface StraceMessageSink {
  /**
   * A read (`request`: the daemon read a request) or a write (a reply or a notification); `result` is what the call
   * returned, the bytes it moved, or -1 for a call acted on at its start line (all of its strings' bytes). A prefix's
   * bytes are never written again once passed: the sink may keep where it put them (sink-records.ts).
   */
  call(
    request: boolean, buf: Buffer, start: number, argsEnd: number, end: number, prefix: Buffer, prefixAt: number, prefixLength: number, result: number,
    ts: number | null, tid: number, lineNo: number,
  ): void;
  /** A reply spliced from a pipe: only its header (and what was vmspliced with it) is in the `length` bytes at `at`. */
  splicedReply(buf: Buffer, at: number, length: number, ts: number | null, tid: number, lineNo: number): void;
  /** The name of a requesting task (`# fuselens-comm` lines). */
  comm(pid: number, comm: string): void;
}

/** Makes the events of the messages, in this thread. */
export class StraceMessages implements StraceMessageSink {
  private readonly strings = new StraceStrings();
  /** unique → opcode of requests read and not yet answered, to decode replies. */
  private readonly inflight = new UniqueMap<number>();
  /** Requesting tasks' names from the capture's side lines. */
  private readonly comms = new Map<number, string>();
  private readonly text = new CallText();

  /** `connection`: the one these /dev/fuse fds belong to (strace cannot tell). */
  constructor(private readonly sink: TraceSink, private readonly connection: number | null) {}

  call(
    request: boolean, buf: Buffer, start: number, argsEnd: number, end: number, prefix: Buffer, prefixAt: number, prefixLength: number, result: number,
    ts: number | null, tid: number, lineNo: number,
  ): void {
    const strings = this.strings;
    strings.decode(buf, start, argsEnd);
    const length = result < 0 ? strings.length : Math.min(strings.length, result);
    this.decodedCall(request, strings.data, 0, length, strings.truncated, buf, start, end, prefix, prefixAt, prefixLength, ts, tid, lineNo);
  }

  /**
   * A call whose strings were decoded already (by the parse worker, sink-records.ts): the `length` bytes at `at` of
   * `bytes`, what `call` decodes and cuts at the result; `truncated` as StraceStrings says. Its text is where `call`'s is.
   */
  decodedCall(
    request: boolean, bytes: Buffer, at: number, length: number, truncated: boolean, buf: Buffer, start: number, end: number, prefix: Buffer,
    prefixAt: number, prefixLength: number, ts: number | null, tid: number, lineNo: number,
  ): void {
    const text = this.text.set(buf, start, end, prefix, prefixAt, prefixLength);
    if (request) this.request(bytes, at, length, truncated, ts, tid, lineNo, text);
    else this.reply(bytes, at, length, false, ts, tid, lineNo, text);
  }

  splicedReply(buf: Buffer, at: number, length: number, ts: number | null, tid: number, lineNo: number): void {
    // Its text is never shown: a spliced reply's body is not decoded, so it cannot fail.
    this.reply(buf, at, length, true, ts, tid, lineNo, this.text.set(buf, at, at, EMPTY, 0, 0));
  }

  comm(pid: number, comm: string): void {
    this.comms.set(pid, comm);
  }

  /** The request whose `length` bytes are at `at` of `b`; `truncated`: strace cut its string short. */
  private request(b: Buffer, at: number, length: number, truncated: boolean, ts: number | null, tid: number, lineNo: number, text: CallText): void {
    if (length < IN_HEADER_SIZE) {
      const why = truncated
        ? `strace printed only ${length} bytes of the request, less than fuse_in_header: record with -s 1048576`
        : `read of ${length} bytes is shorter than fuse_in_header`;
      return this.sink.bad(lineNo, why, text.head(BAD_TEXT));
    }
    const len = u32(b, at);
    const opcode = u32(b, at + 4);
    const whole = len <= length;
    // Its body is decoded only when all of it is here.
    if (!whole && truncated) {
      this.sink.warning('strace cut some requests short ("..." after the string): run it with -s 1048576 to decode their bodies');
    } else if (!whole) {
      this.sink.bad(lineNo, `request of ${len} bytes but only ${length} in the line`, text.head(120));
    }
    const unique = u64(b, at + 8);
    if (opcode !== Op.FUSE_FORGET && opcode !== Op.FUSE_BATCH_FORGET) this.inflight.set(unique, opcode);
    let body: RequestBody | null = null;
    if (whole) {
      try {
        // `whole`: fuse_in_header.len bytes are here. Only the body is decoded: the header's fields are read below.
        body = decodeRequestBody(opcode, b, at + IN_HEADER_SIZE, at + len);
        // The data is not kept: the body was made for this event, so it is dropped in place.
        if (body.op === 'write') body.write.data = EMPTY;
        else if (body.op === 'raw') body = null;
      } catch {
        this.sink.bad(lineNo, `${opcodeName(opcode)} request body shorter than its struct`, text.head(BAD_TEXT));
      }
    }
    const pid = u32(b, at + 32);
    // The fields in sendEvent's order (one shape for every event), without its argument object: one object per message.
    this.sink.event({
      kind: 'send', ts, connection: this.connection, unique, opcode, len, pid, comm: this.comms.size === 0 ? null : this.comms.get(pid) ?? null,
      nodeid: u64Id(b, at + 16), uid: u32(b, at + 24), gid: u32(b, at + 28), tid: tid || null, body,
    });
  }

  /** `spliced`: only the header (and what was vmspliced with it) is in the `length` bytes at `at` of `b`; the data went from a file into the pipe. */
  private reply(b: Buffer, at: number, length: number, spliced: boolean, ts: number | null, tid: number, lineNo: number, text: CallText): void {
    if (length < OUT_HEADER_SIZE) return this.sink.bad(lineNo, `write of ${length} bytes is shorter than fuse_out_header`, text.head(BAD_TEXT));
    const unique = u64(b, at + 8);
    if (unique === 0) return; // a notification (error = notify code), not a reply
    const opcode = this.inflight.take(unique);
    const len = u32(b, at);
    const error = i32(b, at + 4);
    let reply: ReplyBody | null = null;
    if (spliced && error === 0 && opcode !== undefined) {
      // The data's size is the header's len: that is what a READ reply's report needs.
      reply = DATA_REPLIES.has(opcode) ? { op: 'data', size: len - OUT_HEADER_SIZE } : null;
    } else if (error === 0 && opcode !== undefined) {
      try {
        reply = decodeReply(opcode, b, at + OUT_HEADER_SIZE, at + Math.min(len, length));
      } catch {
        this.sink.bad(lineNo, `${opcodeName(opcode)} reply body shorter than its struct`, text.head(BAD_TEXT));
      }
    }
    // In endEvent's order, as above.
    this.sink.event({ kind: 'end', ts, connection: this.connection, unique, len, error, tid: tid || null, comm: null, reply });
  }
}

/** The text of the call a message came from, shown when the message cannot be decoded: made only then. */
class CallText {
  private buf: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  private prefix: Buffer = EMPTY;
  private prefixAt = 0;
  private prefixLength = 0;

  set(buf: Buffer, start: number, end: number, prefix: Buffer, prefixAt: number, prefixLength: number): this {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.prefix = prefix;
    this.prefixAt = prefixAt;
    this.prefixLength = prefixLength;
    return this;
  }

  head(max: number): string {
    return callTextHead(this.buf, this.start, this.end, this.prefix, this.prefixAt, this.prefixLength, max);
  }
}

/** The first `max` characters (latin1, each byte one) of a call's text: `prefix` [prefixAt, +prefixLength), then `buf` [start, end). */
export function callTextHead(buf: Buffer, start: number, end: number, prefix: Buffer, prefixAt: number, prefixLength: number, max: number): string {
  const head = prefix.toString('latin1', prefixAt, prefixAt + Math.min(prefixLength, max));
  return head + buf.toString('latin1', start, Math.min(end, start + max - head.length));
}

/** fuse_attr.ino at `offset` of the body at `at` (fuse_entry_out: 40, fuse_attr_out: 16), exact at 64 bits (rclone's are hashes). */
function attrIno(b: Buffer, at: number, end: number, offset: number): U64 | null {
  return end - at >= offset + 8 ? u64Id(b, at + offset) : null;
}

/**
 * Decodes a successful reply's body, [at, end) of `b` (by default all of it), by the opcode of its request
 * (include/uapi/linux/fuse.h); RangeError when it is shorter than its struct. Read where it is, without a view.
 */
export function decodeReply(opcode: number, b: Buffer, at = 0, end = b.length): ReplyBody | null {
  switch (opcode) {
    case Op.FUSE_INIT:
      return { op: 'init', init: decodeInitOut(b, at, end) };
    case Op.FUSE_LOOKUP:
    case Op.FUSE_MKNOD:
    case Op.FUSE_MKDIR:
    case Op.FUSE_SYMLINK:
    case Op.FUSE_LINK:
      needBytes(end - at, 16);
      return { op: 'entry', nodeid: u64Id(b, at), generation: u64(b, at + 8), ino: attrIno(b, at, end, 40) };
    case Op.FUSE_OPEN:
    case Op.FUSE_OPENDIR:
      return { op: 'open', open: decodeOpenOut(b, at, end) };
    case Op.FUSE_CREATE:
    case Op.FUSE_TMPFILE:
      needBytes(end - at, 16);
      return {
        op: 'create', nodeid: u64Id(b, at), generation: u64(b, at + 8), ino: attrIno(b, at, end, 40),
        open: decodeOpenOut(b, at + ENTRY_OUT_SIZE, end),
      };
    case Op.FUSE_GETATTR:
    case Op.FUSE_SETATTR: {
      const ino = attrIno(b, at, end, 16);
      return ino === null ? null : { op: 'attr', ino };
    }
    case Op.FUSE_WRITE:
      needBytes(end - at, 4);
      return { op: 'write', size: u32(b, at) };
    case Op.FUSE_READ:
    case Op.FUSE_READDIR:
    case Op.FUSE_READDIRPLUS:
    case Op.FUSE_READLINK:
    case Op.FUSE_GETXATTR:
    case Op.FUSE_LISTXATTR:
      return { op: 'data', size: Math.max(0, end - at) };
    default:
      return null;
  }
}
