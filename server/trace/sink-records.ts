// A reader's TraceSink calls as flat records, so that a reader in a worker
// thread (parse-worker.ts) hands its output to the analysis on the main thread
// in batches of shared buffers instead of one structured clone per event. Events
// travel with the fields a tracefs event carries (no request or reply bodies,
// node ids); the strace reader's FUSE messages travel as their bytes
// (StraceMessageSink), decoded into events on the main thread
// (strace-messages.ts), and its rare backing events as a structured clone.

import type { BackingEvent, TraceEvent, TraceFormat, TraceSink } from './events';
import { BAD_TEXT, replyMayFail, requestMayFail, StringCallText, type CallText, type StraceMessageSink } from './strace-messages';

const enum Op {
  send = 0,
  end = 1,
  sent = 2,
  lost = 3,
  bad = 4,
  warning = 5,
  backing = 6,
  /** StraceMessageSink calls: slot 3 the bytes' offset in the batch's `bytes`, 6 their length, 4 whole|opcode, 9 the text or -1. */
  request = 7,
  reply = 8,
  splicedReply = 9,
}
/** Slots per record: op, ts, connection, unique, opcode|error|cpu, len|count|lineNo, pid, tid, string, string. */
const SLOTS = 10;
/** Records per batch: a 1 MiB chunk of tracefs text holds about 9,000 events. */
export const BATCH_RECORDS = 16384;
/** Bytes of FUSE messages per batch (more for one larger message): 1 MiB of strace text holds about 256 kB of them. */
const BATCH_BYTES = 1 << 20;

/**
 * One batch: `count` records in the buffer numbered `records`, their strings (comms, bad lines, warnings) in `strings`,
 * the FUSE messages' bytes in the buffer numbered `bytes` (or in `bytesOnce`, a buffer made for one larger message),
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
const orUndefined = (v: number): number | undefined => (v === v ? v : undefined);

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
  /** A comm's index in this batch's strings. */
  private readonly interned = new Map<string, number>();

  /** Called with each batch that fills up before take() is called. */
  constructor(private readonly onFull: (batch: SinkBatch) => void) {}

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

  /** The rest of this batch's bytes (a new batch when fewer than `n` are left): the reader decodes a message where it travels. */
  room(n: number): Buffer {
    if (this.bytesLength > 0 && this.bytesLength + n > this.bytes.length) this.onFull(this.take());
    if (n > this.bytes.length) {
      // Empty (a batch was just handed over, or none written yet): the kept buffer waits for the next batch.
      if (this.bytesId !== ONCE) this.spareBytes.push(this.bytesId);
      this.bytesId = ONCE;
      this.bytes = sharedBytes(n);
    }
    return this.bytes;
  }

  get roomAt(): number {
    return this.bytesLength;
  }

  request(buf: Buffer, at: number, length: number, whole: boolean, ts: number | null, connection: number | null, tid: number, comm: string | null, lineNo: number, text: CallText): void {
    const s = this.message(Op.request, buf, at, length, ts, connection, tid, lineNo, requestMayFail(buf, at, whole), text);
    this.slots[s + 4] = whole ? 1 : 0;
    this.slots[s + 8] = comm === null ? -1 : this.intern(comm);
  }

  reply(buf: Buffer, at: number, length: number, opcode: number | undefined, spliced: boolean, ts: number | null, connection: number | null, tid: number, lineNo: number, text: CallText): void {
    const s = this.message(spliced ? Op.splicedReply : Op.reply, buf, at, length, ts, connection, tid, lineNo, replyMayFail(buf, at, length, opcode, spliced), text);
    this.slots[s + 4] = opcode === undefined ? NaN : opcode;
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

  /**
   * A message's record with its bytes, and the call's text where decoding it may fail (the only use of the text). The
   * bytes are where room() put them, unless a batch was handed over since (or they came from elsewhere): then copied.
   */
  private message(op: Op, buf: Buffer, at: number, length: number, ts: number | null, connection: number | null, tid: number, lineNo: number, withText: boolean, text: CallText): number {
    if (this.count === BATCH_RECORDS) this.onFull(this.take());
    if (buf !== this.bytes || at !== this.bytesLength) buf.copy(this.room(length), this.bytesLength, at, at + length);
    const s = this.record(op);
    const r = this.slots;
    r[s + 1] = num(ts);
    r[s + 2] = num(connection);
    r[s + 3] = this.bytesLength;
    r[s + 5] = lineNo;
    r[s + 6] = length;
    r[s + 7] = tid;
    r[s + 9] = withText ? this.strings.push(text.head(BAD_TEXT)) - 1 : -1;
    this.bytesLength += length;
    return s;
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
 * Makes the recorded calls on `sink` and the recorded messages on `messages` (the strace reader's), in their order;
 * the events have the shapes FtraceReader gives them. `buffers`: where this reader keeps the batches' buffers.
 */
export function replaySinkRecords(batch: SinkBatch, buffers: ReceivedBuffers, sink: TraceSink, messages?: StraceMessageSink): void {
  const { records: r, bytes } = buffers.of(batch);
  const strings = batch.strings;
  const text = new StringCallText();
  for (let i = 0, s = 0; i < batch.count; i++, s += SLOTS) {
    const op = r[s]!;
    if (op >= Op.request) {
      // As integers: read from the Float64Array they are doubles, which every offset computed from them would stay.
      const at = r[s + 3]! | 0;
      const length = r[s + 6]! | 0;
      const t = r[s + 9]!;
      text.text = t < 0 ? '' : strings[t]!;
      const c = r[s + 8]!;
      if (op === Op.request) messages!.request(bytes, at, length, r[s + 4] === 1, orNull(r[s + 1]!), orNull(r[s + 2]!), r[s + 7]!, c < 0 ? null : strings[c]!, r[s + 5]!, text);
      else messages!.reply(bytes, at, length, orUndefined(r[s + 4]!), op === Op.splicedReply, orNull(r[s + 1]!), orNull(r[s + 2]!), r[s + 7]!, r[s + 5]!, text);
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
