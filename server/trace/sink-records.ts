// A reader's TraceSink calls as flat records, so that a reader in a worker
// thread (parse-worker.ts) hands its output to the analysis on the main thread
// in batches of shared buffers instead of one structured clone per event. Events
// travel with the fields a tracefs event carries (no request or reply bodies,
// node ids); the strace reader's reads and writes of /dev/fuse travel as where
// their text is (StraceMessageSink), in the chunk of the input the main thread
// holds too, so that their strings are decoded and made into events there
// (strace-messages.ts); its rare backing events as a structured clone.

import type { BackingEvent, TraceEvent, TraceFormat, TraceSink } from './events';
import type { StraceMessages, StraceMessageSink } from './strace-messages';
import { StraceStrings } from './strace-strings';

const enum Op {
  send = 0,
  end = 1,
  sent = 2,
  lost = 3,
  bad = 4,
  warning = 5,
  backing = 6,
  /**
   * StraceMessageSink calls. `call`'s: slots 2–4 start, argsEnd, end (in `bytes`, or with inChunk in the chunk), 6 the
   * result, 8–9 the prefix's offset in `bytes` and length; splicedReply's: 3 the bytes' offset in `bytes`, 6 their
   * length; comm's: 6 the pid.
   */
  request = 7,
  reply = 8,
  splicedReply = 9,
  comm = 10,
  /** With request or reply: the call's text is in the chunk the batch was read from, where the main thread has it too. */
  inChunk = 16,
  /** With request or reply: its strings were decoded in the worker, slot 6 bytes of them from slot 3 of `bytes`. */
  decoded = 32,
  /** With decoded: strace cut a string short. */
  truncated = 64,
}
/** Slots per record: op, ts, connection, unique, opcode|error|cpu, len|count|lineNo, pid, tid, string, string. */
const SLOTS = 10;
/** Records per batch: a 1 MiB chunk of tracefs text holds about 9,000 events. */
export const BATCH_RECORDS = 16384;
/**
 * Bytes of calls' text per batch (more for one larger call): what is not in a shared chunk (a call's text cut by a
 * chunk's end, or of a stream's chunk, moved to the worker), unfinished calls' heads, spliced replies' headers.
 */
const BATCH_BYTES = 1 << 20;

/**
 * One batch: `count` records in the buffer numbered `records`, their strings (comms, bad lines, warnings) in `strings`,
 * the calls' text in the buffer numbered `bytes` (or in `bytesOnce`, a buffer made for one larger message),
 * backing events in `objects`. The buffers are shared, not transferred, and the writer writes a buffer again only once
 * the reader has sent its number back. Each buffer crosses once, in `fresh`, the first time a batch uses it: every
 * shared buffer in a message is a new ArrayBuffer object on the receiving side, and the main thread's collector spent
 * more time sweeping those than the strace reading's whole one-thread collection (ReceivedBuffers).
 */
export interface SinkBatch {
  records: number;
  count: number;
  strings: string[];
  bytes: number;
  bytesOnce?: SharedArrayBuffer;
  fresh: SharedBuffer[];
  objects: BackingEvent[];
}
/** A buffer of a batch, by its number: records (Float64Array) or bytes. */
export interface SharedBuffer {
  id: number;
  kind: 'records' | 'bytes';
  buffer: SharedArrayBuffer;
}
/** The number of `bytesOnce`: not kept, not sent back. */
const ONCE = -1;
const sharedRecords = () => new Float64Array(new SharedArrayBuffer(BATCH_RECORDS * SLOTS * 8));
const sharedBytes = (n: number) => Buffer.from(new SharedArrayBuffer(n));

/** NaN stands for null in a slot. */
const num = (v: number | null): number => (v === null ? NaN : v);
const orNull = (v: number): number | null => (v === v ? v : null);

/** A TraceSink that writes records; `take()` hands over the batch so far and starts the next in `spare` (or a new buffer). */
export class SinkRecorder implements TraceSink, StraceMessageSink {
  /** Every records and bytes buffer made, by number: kept to be written again (as many as were ever in flight at once). */
  private readonly recordBuffers: Float64Array[] = [];
  private readonly byteBuffers: Buffer[] = [];
  /** Buffers made since the last batch was handed over: they go with the next. */
  private fresh: SharedBuffer[] = [];
  /** The numbers of buffers sent back, to write again. */
  private readonly spare: number[] = [];
  private readonly spareBytes: number[] = [];
  private slotsId = this.newRecords();
  private slots = this.recordBuffers[this.slotsId]!;
  private count = 0;
  private strings: string[] = [];
  private bytesId = this.newBytes();
  private bytes = this.byteBuffers[this.bytesId]!;
  private bytesLength = 0;
  private objects: BackingEvent[] = [];
  /** Where the worker decodes the strings of the calls it decodes (`call`). */
  private readonly decoder = new StraceStrings();
  /** The last prefix (StraceMessageSink.call) copied into this batch's bytes, and where: at prefixIn. */
  private prefix: Buffer | null = null;
  private prefixAt = 0;
  private prefixLength = 0;
  private prefixIn = 0;
  /** A comm's index in this batch's strings. */
  private readonly interned = new Map<string, number>();

  /**
   * Called with each batch that fills up before take() is called. `inChunk`: whether `buf` holds the lines of the chunk
   * being read, at the chunk's offsets, and the chunk is in memory the main thread shares (a file's, file-chunks.ts).
   * `decodeHere`: whether the next call's strings are decoded in this thread rather than by the reader of the batch
   * (the report is the same either way; only the work moves).
   */
  constructor(
    private readonly onFull: (batch: SinkBatch) => void,
    private readonly inChunk: (buf: Buffer) => boolean = () => false,
    private readonly decodeHere: () => boolean = () => true,
  ) {}

  private newRecords(): number {
    const records = sharedRecords();
    const id = this.recordBuffers.push(records) - 1;
    this.fresh.push({ id, kind: 'records', buffer: records.buffer as SharedArrayBuffer });
    return id;
  }

  private newBytes(): number {
    const bytes = sharedBytes(BATCH_BYTES);
    const id = this.byteBuffers.push(bytes) - 1;
    this.fresh.push({ id, kind: 'bytes', buffer: bytes.buffer as SharedArrayBuffer });
    return id;
  }

  event(ev: TraceEvent): void {
    if (ev.kind === 'backing') {
      const s = this.record(Op.backing);
      this.slots[s + 8] = this.objects.push(ev) - 1;
      return;
    }
    if ((ev.kind === 'send' && (ev.body !== null || ev.nodeid !== null || ev.uid !== null || ev.gid !== null)) || (ev.kind === 'end' && ev.reply !== null))
      throw new Error('sink records carry events without bodies; strace messages travel as bytes');
    const s = this.record(ev.kind === 'send' ? Op.send : ev.kind === 'end' ? Op.end : Op.sent);
    const r = this.slots;
    r[s + 1] = num(ev.ts);
    r[s + 2] = num(ev.connection);
    r[s + 3] = ev.unique;
    if (ev.kind === 'send') {
      r[s + 4] = ev.opcode;
      r[s + 5] = num(ev.len);
      r[s + 6] = num(ev.pid);
    } else if (ev.kind === 'end') {
      r[s + 4] = ev.error;
      r[s + 5] = num(ev.len);
    }
    r[s + 7] = num(ev.tid);
    r[s + 8] = ev.comm === null ? -1 : this.intern(ev.comm);
  }

  lost(count: number, cpu: number | null): void {
    const s = this.record(Op.lost);
    this.slots[s + 4] = num(cpu);
    this.slots[s + 5] = count;
  }

  bad(lineNo: number, why: string, text: string): void {
    const s = this.record(Op.bad);
    this.slots[s + 5] = lineNo;
    this.slots[s + 8] = this.strings.push(why) - 1;
    this.slots[s + 9] = this.strings.push(text) - 1;
  }

  warning(text: string): void {
    const s = this.record(Op.warning);
    this.slots[s + 8] = this.strings.push(text) - 1;
  }

  /**
   * A read or write of /dev/fuse: its text crosses as its offsets in the chunk where it is there, else copied into
   * this batch's bytes; an unfinished call's head (`prefix`) is copied; its strings go decoded where decodeHere says.
   */
  call(
    request: boolean, buf: Buffer, start: number, argsEnd: number, end: number, prefix: Buffer, prefixAt: number, prefixLength: number, result: number,
    ts: number | null, tid: number, lineNo: number,
  ): void {
    const inChunk = this.inChunk(buf);
    const decode = this.decodeHere();
    // The record and its bytes in one batch: a full one is handed over first.
    if (this.count === BATCH_RECORDS) this.onFull(this.take());
    const bytes = this.room(prefixLength + (inChunk ? 0 : end - start) + (decode ? argsEnd - start : 0));
    // A prefix this batch holds already is not copied again: the reader's fd-only read heads repeat on nearly every request
    // (strace.ts, ReadHead), and a prefix's bytes are never written again once passed (StraceMessageSink).
    let p = this.bytesLength;
    if (prefix === this.prefix && prefixAt === this.prefixAt && prefixLength === this.prefixLength) p = this.prefixIn;
    else if (prefixLength > 0) {
      for (let i = 0; i < prefixLength; i++) bytes[p + i] = prefix[prefixAt + i]!;
      this.bytesLength += prefixLength;
      this.prefix = prefix;
      this.prefixAt = prefixAt;
      this.prefixLength = prefixLength;
      this.prefixIn = p;
    }
    let at = start;
    if (!inChunk) {
      at = this.bytesLength;
      this.bytesLength += buf.copy(bytes, at, start, end);
    }
    let op = (request ? Op.request : Op.reply) | (inChunk ? Op.inChunk : 0);
    let decodedAt = 0;
    if (decode) {
      const strings = this.decoder;
      decodedAt = this.bytesLength;
      strings.decode(buf, start, argsEnd, bytes, decodedAt);
      this.bytesLength += strings.length;
      result = result < 0 ? strings.length : Math.min(strings.length, result);
      op |= Op.decoded | (strings.truncated ? Op.truncated : 0);
    }
    const s = this.record(op);
    const r = this.slots;
    r[s + 1] = num(ts);
    r[s + 2] = at;
    r[s + 3] = decode ? decodedAt : at + argsEnd - start;
    r[s + 4] = at + end - start;
    r[s + 5] = lineNo;
    r[s + 6] = result;
    r[s + 7] = tid;
    r[s + 8] = p;
    r[s + 9] = prefixLength;
  }

  splicedReply(buf: Buffer, at: number, length: number, ts: number | null, tid: number, lineNo: number): void {
    if (this.count === BATCH_RECORDS) this.onFull(this.take());
    const bytes = this.room(length);
    const s = this.record(Op.splicedReply);
    const r = this.slots;
    r[s + 1] = num(ts);
    r[s + 3] = this.bytesLength;
    r[s + 5] = lineNo;
    r[s + 6] = length;
    r[s + 7] = tid;
    this.bytesLength += buf.copy(bytes, this.bytesLength, at, at + length);
  }

  comm(pid: number, comm: string): void {
    const s = this.record(Op.comm);
    this.slots[s + 6] = pid;
    this.slots[s + 8] = this.strings.push(comm) - 1;
  }

  /** This batch's bytes, with `n` free from bytesLength (a new batch when fewer are left). */
  private room(n: number): Buffer {
    if (this.bytesLength > 0 && this.bytesLength + n > this.bytes.length) this.onFull(this.take());
    if (n > this.bytes.length) {
      // Empty (a batch was just handed over, or none written yet): the kept buffer waits for the next batch.
      if (this.bytesId !== ONCE) this.spareBytes.push(this.bytesId);
      this.bytesId = ONCE;
      this.bytes = sharedBytes(n);
    }
    return this.bytes;
  }

  /** The records so far (possibly none), leaving an empty batch. */
  take(): SinkBatch {
    const batch: SinkBatch = { records: this.slotsId, count: this.count, strings: this.strings, bytes: this.bytesId, fresh: this.fresh, objects: this.objects };
    if (this.bytesId === ONCE) batch.bytesOnce = this.bytes.buffer as SharedArrayBuffer;
    this.fresh = [];
    this.slotsId = this.spare.pop() ?? this.newRecords();
    this.slots = this.recordBuffers[this.slotsId]!;
    this.bytesId = this.spareBytes.pop() ?? this.newBytes();
    this.bytes = this.byteBuffers[this.bytesId]!;
    this.bytesLength = 0;
    this.prefix = null;
    this.count = 0;
    this.strings = [];
    this.objects = [];
    this.interned.clear();
    return batch;
  }

  /** A batch's buffers (their numbers), replayed and sent back, to write the next batch in. */
  recycle(records: number, bytes: number): void {
    this.spare.push(records);
    if (bytes !== ONCE) this.spareBytes.push(bytes);
  }

  private record(op: Op): number {
    if (this.count === BATCH_RECORDS) this.onFull(this.take());
    const s = this.count++ * SLOTS;
    this.slots[s] = op;
    return s;
  }

  private intern(comm: string): number {
    let i = this.interned.get(comm);
    if (i === undefined) this.interned.set(comm, (i = this.strings.push(comm) - 1));
    return i;
  }
}

/** The buffers a SinkRecorder's batches have brought, by number, each made into its view once. */
export class ReceivedBuffers {
  private readonly records: Float64Array[] = [];
  private readonly bytes: Buffer[] = [];

  /** The batch's records and bytes, learning the buffers that came with it. */
  of(batch: SinkBatch): { records: Float64Array; bytes: Buffer } {
    for (const f of batch.fresh) {
      if (f.kind === 'records') this.records[f.id] = new Float64Array(f.buffer);
      else this.bytes[f.id] = Buffer.from(f.buffer);
    }
    return { records: this.records[batch.records]!, bytes: batch.bytesOnce ? Buffer.from(batch.bytesOnce) : this.bytes[batch.bytes]! };
  }
}

/**
 * Makes the recorded calls on `sink` and the recorded reads and writes on `messages` (the strace reader's), in their
 * order; the events have the shapes FtraceReader gives them. `buffers`: where this reader keeps the batches' buffers;
 * `chunk`: the chunk of the input the batch was read from, where it was shared with the worker.
 */
export function replaySinkRecords(batch: SinkBatch, buffers: ReceivedBuffers, sink: TraceSink, messages?: StraceMessages, chunk?: Buffer): void {
  const { records: r, bytes } = buffers.of(batch);
  const strings = batch.strings;
  for (let i = 0, s = 0; i < batch.count; i++, s += SLOTS) {
    const op = r[s]!;
    if (op >= Op.request) {
      // Offsets as integers: read from the Float64Array they are doubles, which every offset computed from them would stay.
      if (op === Op.splicedReply) messages!.splicedReply(bytes, r[s + 3]! | 0, r[s + 6]! | 0, orNull(r[s + 1]!), r[s + 7]!, r[s + 5]!);
      else if (op === Op.comm) messages!.comm(r[s + 6]!, strings[r[s + 8]!]!);
      else {
        const request = (op & (Op.request | Op.reply)) === Op.request;
        const text = op & Op.inChunk ? chunk! : bytes;
        const start = r[s + 2]! | 0;
        const end = r[s + 4]! | 0;
        if (op & Op.decoded) {
          messages!.decodedCall(
            request, bytes, r[s + 3]! | 0, r[s + 6]! | 0, (op & Op.truncated) !== 0, text, start, end, bytes, r[s + 8]! | 0, r[s + 9]! | 0, orNull(r[s + 1]!),
            r[s + 7]!, r[s + 5]!,
          );
        } else messages!.call(request, text, start, r[s + 3]! | 0, end, bytes, r[s + 8]! | 0, r[s + 9]! | 0, r[s + 6]!, orNull(r[s + 1]!), r[s + 7]!, r[s + 5]!);
      }
      continue;
    }
    if (op === Op.send || op === Op.end || op === Op.sent) {
      const ts = orNull(r[s + 1]!);
      const connection = orNull(r[s + 2]!);
      const unique = r[s + 3]!;
      const tid = orNull(r[s + 7]!);
      const c = r[s + 8]!;
      const comm = c < 0 ? null : strings[c]!;
      if (op === Op.send) {
        sink.event({
          kind: 'send', ts, connection, unique, opcode: r[s + 4]!, len: orNull(r[s + 5]!), pid: orNull(r[s + 6]!), comm, nodeid: null, uid: null,
          gid: null, tid, body: null,
        });
      } else if (op === Op.end) {
        sink.event({ kind: 'end', ts, connection, unique, len: orNull(r[s + 5]!), error: r[s + 4]!, tid, comm, reply: null });
      } else sink.event({ kind: 'sent', ts, connection, unique, tid, comm });
    } else if (op === Op.backing) sink.event(batch.objects[r[s + 8]!]!);
    else if (op === Op.lost) sink.lost(r[s + 5]!, orNull(r[s + 4]!));
    else if (op === Op.bad) sink.bad(r[s + 5]!, strings[r[s + 8]!]!, strings[r[s + 9]!]!);
    else sink.warning(strings[r[s + 8]!]!);
  }
}

// The worker's messages (parse-worker.ts ⇄ read.ts), here so that neither imports the other.
/** What the main thread passes to the worker at its start. */
export interface ParseWorkerData {
  format: TraceFormat;
  connection: number | null;
}

/**
 * Messages to the worker: a chunk of the input (`length` bytes at `offset` of a buffer shared or transferred), a batch's
 * buffers to reuse, the end of input.
 */
export type ToParseWorker = { chunk: ArrayBuffer | SharedArrayBuffer; offset: number; length: number } | { recycle: number; recycleBytes: number } | { end: true };
/** Messages from the worker: the records of one chunk (`chunkDone`), of a full batch, or of the end (`lines`: the input's line count). */
export type FromParseWorker = { batch: SinkBatch; chunkDone: boolean; lines?: number };
