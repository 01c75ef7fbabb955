// Reader for libfuse's debug output (`-d` / `-o debug`), as printed by the
// libfuse 2.9 (Debian's bindfs) and libfuse 3.14 (Debian's squashfuse) that
// this project records its fixtures from (test/fixtures/trace/README.md):
//   unique: 8, opcode: OPEN (14), nodeid: 2, insize: 48, pid: 4504
//   open flags: 0x8000 /a.txt                     (high-level library only)
//      open[5] flags: 0x8000 /a.txt
//      unique: 8, success, outsize: 32
//      unique: 12, error: -38 (Function not implemented), outsize: 16
//      NODEID: 2                                  (after LOOKUP/CREATE, high-level only)
// The log has no timestamps and no reply open flags; lines in between that
// the filesystem itself prints are ignored. Multithreaded daemons interleave
// lines: a detail line belongs to the most recent request of that opcode.

import { Op, type InitOut } from '../abi';
import { endEvent, sendEvent, type ReplyBody, type SendEvent, type TraceReader, type TraceSink } from './events';

const REQUEST = /^unique: (\d+), opcode: ([A-Z_0-9]+) \((\d+)\), nodeid: (\d+), insize: (\d+), pid: (\d+)/;
const REPLY = /^\s+unique: (\d+), (?:success|error: (-?\d+) \([^)]*\)), outsize: (\d+)/;
const NODEID = /^\s+NODEID: (\d+)/;
const PATH_OP = /^(LOOKUP|create flags: (0x[0-9a-f]+)|open flags: (0x[0-9a-f]+)) (\/.*?)(?: 0\d+ umask=\d+)?$/;
const HANDLE = /^\s*(open|create|release|read|write)\[(\d+)\](?: (\d+) bytes (?:from|to) (\d+))?(?: flags: (0x[0-9a-f]+))?/;
const INIT_LINE = /^(\s*)INIT: (\d+)\.(\d+)/;
const INIT_FIELD = /^(\s*)(flags2?|max_readahead|max_write|max_background|congestion_threshold|time_gran|max_stack_depth)=(0x[0-9a-f]+|\d+)/;

interface Open {
  send: SendEvent;
  nodeid: number | null;
  fh: number | null;
  init: Partial<Record<string, number>> | null;
}

export class LibfuseDebugReader implements TraceReader {
  readonly format = 'libfuse-debug' as const;
  /** Requests not yet answered, by unique: details arrive on the following lines. */
  private readonly open = new Map<number, Open>();
  private lastByOpcode = new Map<number, Open>();
  private last: Open | null = null;
  private connection: number | null;

  constructor(private readonly sink: TraceSink, options: { connection?: number | null } = {}) {
    this.connection = options.connection ?? null;
  }

  line(buf: Buffer, start: number, end: number): void {
    const text = buf.toString('utf8', start, end);
    let m = REQUEST.exec(text);
    if (m) {
      const opcode = Number(m[3]);
      const send = sendEvent({
        connection: this.connection, unique: Number(m[1]), opcode, nodeid: Number(m[4]), len: Number(m[5]), pid: Number(m[6]),
      });
      const o: Open = { send, nodeid: null, fh: null, init: null };
      if (opcode === Op.FUSE_FORGET || opcode === Op.FUSE_BATCH_FORGET) this.sink.event(send);
      else {
        this.open.set(send.unique, o);
        this.lastByOpcode.set(opcode, o);
        this.last = o;
      }
      return;
    }
    m = REPLY.exec(text);
    if (m) {
      const unique = Number(m[1]);
      const o = this.open.get(unique);
      this.open.delete(unique);
      // The request is emitted once its detail lines are in: right before its reply.
      if (o) this.sink.event(o.send);
      const error = m[2] === undefined ? 0 : Number(m[2]);
      this.sink.event(endEvent({ connection: this.connection, unique, error, len: Number(m[3]), reply: o && error === 0 ? replyOf(o) : null }));
      return;
    }
    if ((m = NODEID.exec(text))) {
      const o = this.lastByOpcode.get(Op.FUSE_CREATE) === this.last ? this.last : this.lastByOpcode.get(Op.FUSE_LOOKUP) ?? this.last;
      if (o) o.nodeid = Number(m[1]);
      return;
    }
    if ((m = PATH_OP.exec(text))) {
      const path = m[4]!;
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (m[1] === 'LOOKUP') {
        const o = this.lastByOpcode.get(Op.FUSE_LOOKUP);
        if (o && o.send.body === null) o.send.body = { op: 'lookup', name };
      } else if (m[2] !== undefined) {
        const o = this.lastByOpcode.get(Op.FUSE_CREATE);
        if (o && o.send.body === null) o.send.body = { op: 'create', create: { flags: parseInt(m[2], 16), mode: 0, umask: 0, openFlags: 0, name } };
      } else if (m[3] !== undefined) {
        const o = this.lastByOpcode.get(Op.FUSE_OPEN);
        if (o && o.send.body === null) o.send.body = { op: 'open', open: { flags: parseInt(m[3], 16), openFlags: 0 } };
      }
      return;
    }
    if ((m = HANDLE.exec(text))) {
      const fh = Number(m[2]);
      const what = m[1]!;
      const opcode = { open: Op.FUSE_OPEN, create: Op.FUSE_CREATE, release: Op.FUSE_RELEASE, read: Op.FUSE_READ, write: Op.FUSE_WRITE }[what as 'open'];
      const o = this.lastByOpcode.get(opcode);
      if (!o) return;
      o.fh = fh;
      const flags = m[5] === undefined ? 0 : parseInt(m[5], 16);
      if (what === 'release' && o.send.body === null) o.send.body = { op: 'release', release: { fh, flags, releaseFlags: 0, lockOwner: 0n } };
      else if ((what === 'read' || what === 'write') && o.send.body === null && m[3] !== undefined) {
        const io = { fh, offset: Number(m[4]), size: Number(m[3]), readFlags: 0, flags };
        o.send.body = what === 'read' ? { op: 'read', read: io } : { op: 'write', write: { ...io, writeFlags: 0, data: Buffer.alloc(0) } };
      }
      return;
    }
    if ((m = INIT_LINE.exec(text)) || (m = INIT_FIELD.exec(text))) {
      const o = this.lastByOpcode.get(Op.FUSE_INIT);
      if (!o) return;
      const reply = m[1]!.length > 0; // the reply's lines are indented, the kernel's offer is not
      if (m[2] && /^\d+$/.test(m[2]) && m[3]) {
        if (reply) o.init = { ...o.init, major: Number(m[2]), minor: Number(m[3]) };
        else o.send.body = { op: 'init', init: { major: Number(m[2]), minor: Number(m[3]), maxReadahead: 0, flags: 0n } };
      } else if (reply) {
        o.init = { ...o.init, [m[2]!]: m[3]!.startsWith('0x') ? parseInt(m[3]!, 16) : Number(m[3]) };
      } else if (o.send.body?.op === 'init' && m[2] === 'flags') {
        o.send.body.init.flags = BigInt(parseInt(m[3]!, 16));
      }
      return;
    }
  }

  /** Requests without a reply are still in flight at the end of the log. */
  finish(): void {
    for (const o of this.open.values()) this.sink.event(o.send);
    this.open.clear();
  }
}

function replyOf(o: Open): ReplyBody | null {
  const op = o.send.opcode;
  if (op === Op.FUSE_INIT && o.init) {
    const i = o.init;
    const init: InitOut = {
      major: i.major ?? 0, minor: i.minor ?? 0, maxReadahead: i.max_readahead ?? 0,
      flags: BigInt(i.flags ?? 0) | (BigInt(i.flags2 ?? 0) << 32n),
      maxBackground: i.max_background ?? 0, congestionThreshold: i.congestion_threshold ?? 0, maxWrite: i.max_write ?? 0,
      timeGran: i.time_gran ?? 0, maxPages: 0, mapAlignment: 0, maxStackDepth: i.max_stack_depth ?? 0, requestTimeout: 0,
    };
    return { op: 'init', init };
  }
  if (op === Op.FUSE_LOOKUP && o.nodeid !== null) return { op: 'entry', nodeid: o.nodeid, generation: 0, ino: null };
  // The debug log never prints the reply's open_flags or backing_id: only the handle.
  if ((op === Op.FUSE_OPEN || op === Op.FUSE_CREATE) && o.fh !== null) return { op: 'handle', fh: o.fh, nodeid: o.nodeid };
  return null;
}
