// Reader for the lab server's "lab-jsonl" log (server/lab/log.ts, docs/lab.md):
// one JSON object per line, `type` request | reply | ioctl | mount | unmount,
// `time` in seconds since the epoch. Requests carry the decoded arguments,
// replies the decoded body (an OPEN's `{ fh, openFlags, backingId }`, an INIT's
// flag names), so the lab's captures feed the io-mode reconstruction exactly.

import { INIT_FLAG_BITS, Op, U64Halves, opcodeNumber, type InitOut, type RequestBody } from '../abi';
import { endEvent, sendEvent, type ReplyBody, type TraceReader, type TraceSink } from './events';

type Json = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class LabJsonlReader implements TraceReader {
  readonly format = 'lab-jsonl' as const;
  /** unique → opcode, for replies that do not name their opcode. */
  private readonly inflight = new Map<string, number>();

  constructor(private readonly sink: TraceSink) {}

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    const text = buf.toString('utf8', start, end).trim();
    if (text === '') return;
    let e: Json;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      e = parsed as Json;
    } catch {
      return this.sink.bad(lineNo, 'not a JSON object (truncated line?)', text.slice(0, 200));
    }
    const ts = num(e.time) === null ? null : Math.round(num(e.time)! * 1e6);
    const connection = num(e.connection);
    const unique = num(e.unique);
    if (e.type === 'request') {
      const opcode = typeof e.opcode === 'string' ? opcodeNumber(e.opcode) : num(e.opcode);
      if (unique === null || opcode === null || opcode === undefined)
        return this.sink.bad(lineNo, 'request without unique or a known opcode', text.slice(0, 200));
      if (opcode !== Op.FUSE_FORGET && opcode !== Op.FUSE_BATCH_FORGET) this.inflight.set(`${connection}:${unique}`, opcode);
      this.sink.event(
        sendEvent({
          ts, connection, unique, opcode, len: num(e.len), pid: num(e.pid), nodeid: num(e.nodeid), uid: num(e.uid),
          body: requestBody(opcode, (e.args ?? null) as Json | null),
        }),
      );
    } else if (e.type === 'reply') {
      const error = num(e.error);
      if (unique === null || error === null) return this.sink.bad(lineNo, 'reply without unique or error', text.slice(0, 200));
      const key = `${connection}:${unique}`;
      const opcode = (typeof e.opcode === 'string' ? opcodeNumber(e.opcode) : undefined) ?? this.inflight.get(key);
      this.inflight.delete(key);
      const reply = error === 0 && opcode !== undefined && typeof e.reply === 'object' && e.reply !== null ? replyBody(opcode, e.reply as Json) : null;
      this.sink.event(endEvent({ ts, connection, unique, error, reply }));
    } else if (e.type !== 'mount' && e.type !== 'unmount' && e.type !== 'abort' && e.type !== 'ioctl') {
      this.sink.bad(lineNo, `unknown lab event type ${JSON.stringify(e.type)}`, text.slice(0, 200));
    }
  }

  finish(): void {}
}

function requestBody(opcode: number, a: Json | null): RequestBody | null {
  if (!a) return null;
  const n = (k: string) => num(a[k]) ?? 0;
  switch (opcode) {
    case Op.FUSE_LOOKUP:
      return typeof a.name === 'string' ? { op: 'lookup', name: a.name } : null;
    case Op.FUSE_OPEN:
    case Op.FUSE_OPENDIR:
      return { op: 'open', open: { flags: n('flags'), openFlags: 0 } };
    case Op.FUSE_CREATE:
      return { op: 'create', create: { flags: n('flags'), mode: n('mode'), umask: 0, openFlags: 0, name: String(a.name ?? '') } };
    case Op.FUSE_READ:
    case Op.FUSE_READDIR:
    case Op.FUSE_READDIRPLUS:
      return { op: 'read', read: { fh: n('fh'), offset: n('offset'), size: n('size'), readFlags: 0, flags: 0 } };
    case Op.FUSE_WRITE:
      return { op: 'write', write: { fh: n('fh'), offset: n('offset'), size: n('size'), readFlags: 0, writeFlags: n('writeFlags'), flags: 0, data: Buffer.alloc(0) } };
    case Op.FUSE_RELEASE:
    case Op.FUSE_RELEASEDIR:
      return { op: 'release', release: { fh: n('fh'), flags: n('flags'), releaseFlags: 0, lockOwner: new U64Halves(0, 0) } };
    case Op.FUSE_FLUSH:
      return { op: 'flush', fh: n('fh'), lockOwner: new U64Halves(0, 0) };
    case Op.FUSE_INTERRUPT:
      return { op: 'interrupt', unique: n('unique') };
    case Op.FUSE_INIT:
      return { op: 'init', init: { major: n('major'), minor: n('minor'), maxReadahead: 0, flags: flagsFromNames(a.flags) } };
    default:
      return null;
  }
}

function replyBody(opcode: number, r: Json): ReplyBody | null {
  const n = (k: string) => num(r[k]) ?? 0;
  switch (opcode) {
    case Op.FUSE_INIT: {
      const init: InitOut = {
        major: n('major'), minor: n('minor'), maxReadahead: 0, flags: flagsFromNames(r.flags), maxBackground: 0,
        congestionThreshold: 0, maxWrite: n('maxWrite'), timeGran: 0, maxPages: 0, mapAlignment: 0,
        maxStackDepth: n('maxStackDepth'), requestTimeout: 0,
      };
      return { op: 'init', init };
    }
    case Op.FUSE_LOOKUP:
      return num(r.nodeid) === null ? null : { op: 'entry', nodeid: n('nodeid'), generation: 0, ino: num(r.ino) };
    case Op.FUSE_OPEN:
    case Op.FUSE_OPENDIR:
      return { op: 'open', open: { fh: n('fh'), openFlags: n('openFlags'), backingId: n('backingId') } };
    case Op.FUSE_CREATE:
      // The lab's CREATE reply names the new node when it logs `nodeid`; without it the model keys on the handle.
      return { op: 'create', nodeid: num(r.nodeid), generation: 0, ino: num(r.ino), open: { fh: n('fh'), openFlags: n('openFlags'), backingId: n('backingId') } };
    case Op.FUSE_WRITE:
      return { op: 'write', size: n('size') };
    case Op.FUSE_READ:
    case Op.FUSE_READDIR:
      return { op: 'data', size: n('size') };
    default:
      return null;
  }
}

function flagsFromNames(v: unknown): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (!Array.isArray(v)) return 0n;
  let flags = 0n;
  for (const name of v) {
    const bit = (INIT_FLAG_BITS as Record<string, number>)[String(name)];
    if (bit !== undefined) flags |= 1n << BigInt(bit);
  }
  return flags;
}
