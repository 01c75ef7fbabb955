// The FUSE messages a strace capture holds, made into trace events: the second
// half of the strace reader. strace.ts finds each request the daemon read and
// each reply it wrote in the text (lines, escapes, unfinished calls, splices)
// and hands their bytes here, where they are decoded with the FUSE ABI module
// (server/abi). The two halves run in one thread, or the first in the parse
// worker and this one on the main thread beside the analysis (read.ts): what
// crosses between them is bytes and a few numbers (sink-records.ts).

import { ENTRY_OUT_SIZE, IN_HEADER_SIZE, Op, OUT_HEADER_SIZE, decodeInitOut, decodeOpenOut, decodeRequestBody, opcodeName, u64, u64Id, type RequestBody } from '../abi';
import type { ReplyBody, TraceSink } from './events';
import type { U64 } from '../../protocol/u64';

/** Replies whose body is data (what libfuse splices). */
const DATA_REPLIES = new Set<number>([Op.FUSE_READ, Op.FUSE_READDIR, Op.FUSE_READDIRPLUS, Op.FUSE_READLINK, Op.FUSE_GETXATTR, Op.FUSE_LISTXATTR]);
const EMPTY = Buffer.alloc(0);
/** How much of the call's text a bad line shows. */
export const BAD_TEXT = 200;

/** The text of the call a message came from, shown when the message cannot be decoded: made only then. */
export interface CallText {
  /** Its first `max` characters (latin1, each byte one). */
  head(max: number): string;
}

/** A call's text held as a string (a replayed record's, sink-records.ts). */
export class StringCallText implements CallText {
  constructor(public text = '') {}
  head(max: number): string {
    return this.text.length <= max ? this.text : this.text.slice(0, max);
  }
}

/**
 * Where the reader hands each FUSE message it found: the `length` bytes at `at` of `buf`, as the call read or wrote
 * them; `text` is the call's text, shown when the message cannot be decoded.
 */
export interface StraceMessageSink {
  /**
   * Where the reader decodes the next message's bytes: the buffer returned, from `roomAt`, with at least `n` bytes
   * free (in the parse worker, the batch that crosses to the main thread: the bytes are decoded where they travel).
   */
  room(n: number): Buffer;
  readonly roomAt: number;
  /** A request read by thread `tid`; `whole`: all of its fuse_in_header.len bytes are here, so its body is decoded. */
  request(buf: Buffer, at: number, length: number, whole: boolean, ts: number | null, connection: number | null, tid: number, comm: string | null, lineNo: number, text: CallText): void;
  /**
   * A reply (unique ≠ 0) to a request of `opcode` (undefined when its request was not seen). `spliced`: only the
   * header (and what was vmspliced with it) is here; the data went from a file into the pipe.
   */
  reply(buf: Buffer, at: number, length: number, opcode: number | undefined, spliced: boolean, ts: number | null, connection: number | null, tid: number, lineNo: number, text: CallText): void;
}

/** Makes the events of the messages, in this thread. */
export class StraceMessages implements StraceMessageSink {
  private scratch = Buffer.alloc(64 * 1024);
  readonly roomAt = 0;

  constructor(private readonly sink: TraceSink) {}

  room(n: number): Buffer {
    if (this.scratch.length < n) this.scratch = Buffer.alloc(Math.max(n, this.scratch.length * 2));
    return this.scratch;
  }

  request(buf: Buffer, at: number, _length: number, whole: boolean, ts: number | null, connection: number | null, tid: number, comm: string | null, lineNo: number, text: CallText): void {
    const opcode = buf.readUInt32LE(at + 4);
    const len = buf.readUInt32LE(at);
    let body: RequestBody | null = null;
    if (whole) {
      try {
        // `whole`: fuse_in_header.len bytes are here. Only the body is decoded: the header's fields are read below.
        body = decodeRequestBody(opcode, buf.subarray(at + IN_HEADER_SIZE, at + len));
        // The data is not kept: the body was made for this event, so it is dropped in place.
        if (body.op === 'write') body.write.data = EMPTY;
        else if (body.op === 'raw') body = null;
      } catch {
        this.sink.bad(lineNo, `${opcodeName(opcode)} request body shorter than its struct`, text.head(BAD_TEXT));
      }
    }
    // The fields in sendEvent's order (one shape for every event), without its argument object: one object per message.
    this.sink.event({
      kind: 'send', ts, connection, unique: u64(buf, at + 8), opcode, len, pid: buf.readUInt32LE(at + 32), comm, nodeid: u64Id(buf, at + 16),
      uid: buf.readUInt32LE(at + 24), gid: buf.readUInt32LE(at + 28), tid: tid || null, body,
    });
  }

  reply(buf: Buffer, at: number, length: number, opcode: number | undefined, spliced: boolean, ts: number | null, connection: number | null, tid: number, lineNo: number, text: CallText): void {
    const len = buf.readUInt32LE(at);
    const error = buf.readInt32LE(at + 4);
    let reply: ReplyBody | null = null;
    if (spliced && error === 0 && opcode !== undefined) {
      // The data's size is the header's len: that is what a READ reply's report needs.
      reply = DATA_REPLIES.has(opcode) ? { op: 'data', size: len - OUT_HEADER_SIZE } : null;
    } else if (error === 0 && opcode !== undefined) {
      try {
        reply = decodeReply(opcode, buf.subarray(at + OUT_HEADER_SIZE, at + Math.min(len, length)));
      } catch {
        this.sink.bad(lineNo, `${opcodeName(opcode)} reply body shorter than its struct`, text.head(BAD_TEXT));
      }
    }
    // In endEvent's order, as above.
    this.sink.event({ kind: 'end', ts, connection, unique: u64(buf, at + 8), len, error, tid: tid || null, comm: null, reply });
  }
}

/**
 * Whether decoding a request may fail, so that the call's text must go with it to the thread that decodes it
 * (sink-records.ts): a body no longer than the longest that failed to decode for its opcode. Found by decoding
 * zeros, once per opcode, so that the decoders stay the one place that knows their structs' sizes.
 */
export function requestMayFail(buf: Buffer, at: number, whole: boolean): boolean {
  if (!whole) return false;
  const opcode = buf.readUInt32LE(at + 4);
  // The body is read up to fuse_in_header.len.
  const bodyLength = Math.max(0, buf.readUInt32LE(at) - IN_HEADER_SIZE);
  return bodyLength <= longestFailing(REQUEST_FAILS, opcode, decodeRequestBody);
}

/** The same for a reply (StraceMessageSink.reply's arguments). */
export function replyMayFail(buf: Buffer, at: number, length: number, opcode: number | undefined, spliced: boolean): boolean {
  if (opcode === undefined || spliced || buf.readInt32LE(at + 4) !== 0) return false;
  const bodyLength = Math.min(buf.readUInt32LE(at), length) - OUT_HEADER_SIZE;
  return bodyLength <= longestFailing(REPLY_FAILS, opcode, decodeReply);
}
/** By opcode (FUSE's run below 64; CUSE_INIT and garbage go to `others`): the longest body that failed, -2 not yet probed. */
interface FailLengths {
  low: Int16Array;
  others: Map<number, number>;
}
const failLengths = (): FailLengths => ({ low: new Int16Array(64).fill(-2), others: new Map() });
const REQUEST_FAILS = failLengths();
const REPLY_FAILS = failLengths();
/** Decoders read fixed offsets: beyond this many bytes none of them reads. */
const PROBE_LIMIT = 512;

/** `decode` is the opcode's decoder, passed as it is (no closure made per message). */
function longestFailing(known: FailLengths, opcode: number, decode: (opcode: number, body: Buffer) => unknown): number {
  let longest = opcode < known.low.length ? known.low[opcode]! : known.others.get(opcode) ?? -2;
  if (longest !== -2) return longest;
  longest = -1;
  const zeros = Buffer.alloc(PROBE_LIMIT);
  for (let n = 0; n < PROBE_LIMIT; n++) {
    try {
      decode(opcode, zeros.subarray(0, n));
    } catch {
      longest = n;
    }
  }
  if (opcode < known.low.length) known.low[opcode] = longest;
  else known.others.set(opcode, longest);
  return longest;
}

/** fuse_attr.ino at `offset` (fuse_entry_out: 40, fuse_attr_out: 16), exact at 64 bits (rclone's are hashes). */
function attrIno(out: Buffer, offset: number): U64 | null {
  return out.length >= offset + 8 ? u64Id(out, offset) : null;
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
      return { op: 'entry', nodeid: u64Id(body, 0), generation: u64(body, 8), ino: attrIno(body, 40) };
    case Op.FUSE_OPEN:
    case Op.FUSE_OPENDIR:
      return { op: 'open', open: decodeOpenOut(body) };
    case Op.FUSE_CREATE:
    case Op.FUSE_TMPFILE:
      return {
        op: 'create', nodeid: u64Id(body, 0), generation: u64(body, 8), ino: attrIno(body, 40),
        open: decodeOpenOut(body.subarray(ENTRY_OUT_SIZE)),
      };
    case Op.FUSE_GETATTR:
    case Op.FUSE_SETATTR: {
      const ino = attrIno(body, 16);
      return ino === null ? null : { op: 'attr', ino };
    }
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
