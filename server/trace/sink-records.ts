// A reader's TraceSink calls as flat records, so that a reader in a worker
// thread (parse-worker.ts) hands its output to the analysis on the main thread
// in transferable batches instead of one structured clone per event. Only the
// fields a tracefs event carries travel (no request or reply bodies, node ids,
// backing events): the worker parses tracefs only, where the reading costs as
// much as the analysis, so each thread does one of them.

import type { TraceEvent, TraceFormat, TraceSink } from './events';

const enum Op {
  send = 0,
  end = 1,
  sent = 2,
  lost = 3,
  bad = 4,
  warning = 5,
}
/** Slots per record: op, ts, connection, unique, opcode|error|cpu, len|count|lineNo, pid, tid, string, string. */
const SLOTS = 10;
/** Records per batch: a 1 MiB chunk of tracefs text holds about 9,000 events. */
export const BATCH_RECORDS = 16384;

/** One batch: `count` records in `records`, their strings (comms, bad lines, warnings) in `strings`. */
export interface SinkBatch {
  records: ArrayBuffer;
  count: number;
  strings: string[];
}

/** NaN stands for null in a slot. */
const num = (v: number | null): number => (v === null ? NaN : v);
const orNull = (v: number): number | null => (v === v ? v : null);

/** A TraceSink that writes records; `take()` hands over the batch so far and starts the next in `spare` (or a new buffer). */
export class SinkRecorder implements TraceSink {
  private slots = new Float64Array(BATCH_RECORDS * SLOTS);
  private count = 0;
  private strings: string[] = [];
  /** A comm's index in this batch's strings. */
  private readonly interned = new Map<string, number>();
  private readonly spare: ArrayBuffer[] = [];

  /** Called with each batch that fills up before take() is called. */
  constructor(private readonly onFull: (batch: SinkBatch) => void) {}

  event(ev: TraceEvent): void {
    if (ev.kind === 'backing' || (ev.kind === 'send' && (ev.body !== null || ev.nodeid !== null || ev.uid !== null || ev.gid !== null)) || (ev.kind === 'end' && ev.reply !== null))
      throw new Error('sink records carry tracefs events only');
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

  /** The records so far (possibly none), leaving an empty batch. */
  take(): SinkBatch {
    const batch = { records: this.slots.buffer as ArrayBuffer, count: this.count, strings: this.strings };
    const next = this.spare.pop();
    this.slots = next ? new Float64Array(next) : new Float64Array(BATCH_RECORDS * SLOTS);
    this.count = 0;
    this.strings = [];
    this.interned.clear();
    return batch;
  }

  /** A batch's buffer, replayed and sent back, to write the next batch in. */
  recycle(records: ArrayBuffer): void {
    if (records.byteLength === BATCH_RECORDS * SLOTS * 8 && this.spare.length < 4) this.spare.push(records);
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

/** Makes the recorded calls on `sink`, in their order; the events have the shapes FtraceReader gives them. */
export function replaySinkRecords(batch: SinkBatch, sink: TraceSink): void {
  const r = new Float64Array(batch.records);
  const strings = batch.strings;
  for (let i = 0, s = 0; i < batch.count; i++, s += SLOTS) {
    const op = r[s]!;
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
    } else if (op === Op.lost) sink.lost(r[s + 5]!, orNull(r[s + 4]!));
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

/** Messages to the worker: a chunk of the input (its bytes transferred), a batch buffer to reuse, the end of input. */
export type ToParseWorker = { chunk: ArrayBuffer } | { recycle: ArrayBuffer } | { end: true };
/** Messages from the worker: the records of one chunk (`chunkDone`), of a full batch, or of the end (`lines`: the input's line count). */
export type FromParseWorker = { batch: SinkBatch; chunkDone: boolean; lines?: number };
