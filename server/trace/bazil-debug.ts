// Reader for the debug log of bazil.org/fuse (Go), the FUSE library of `rclone mount`, as
// rclone prints it with `--debug-fuse -vv` (add `--log-format date,time,microseconds` for latencies):
//   2026/12/01 01:22:46.140557 DEBUG : fuse: <- Open [ID=0x8 Node=0x2 Uid=0 Gid=0 Pid=20335] dir=false fl=OpenReadOnly
//   2026/12/01 01:22:46.140912 DEBUG : fuse: -> [ID=0x8] Open 0x1 fl=0
//   2026/12/01 01:22:46.171204 DEBUG : fuse: -> [ID=0x11c] Lookup error=ENOENT
// A request is "<- " and the request's String() (bazil fuse.go: "<Op> [ID=%#x Node=%#x Uid=%d
// Gid=%d Pid=%d] ..."), a reply "-> [ID=%#x] " and the response's String() or "<Op> error=ERRNO[: text]"
// (fs/serve.go, request/response). Replies carry the handle and the open flags bazil names
// (OpenDirectIO, OpenKeepCache, ...), the node id and attr.ino of LOOKUP/CREATE. bazil logs a
// reply for FORGET and INTERRUPT although nothing is written to the kernel: those are dropped.
// Without microseconds in the log prefix the clock has whole seconds: no latencies then.

import { constants } from 'node:os';
import { toU64, type U64 } from '../../protocol/u64';
import { FOPEN, Op, U64Halves, type OpenOut } from '../abi';
import { endEvent, sendEvent, type ReplyBody, type SendEvent, type TraceReader, type TraceSink } from './events';
import { decodeName } from '../../protocol/byte-names';

const REQUEST = /fuse: <- (\w+) \[ID=0x([0-9a-f]+) Node=0x([0-9a-f]+) Uid=(\d+) Gid=(\d+) Pid=(\d+)\] ?(.*)$/;
const REPLY = /fuse: -> \[ID=0x([0-9a-f]+)\] (.*)$/;
/** Go's log prefix (rclone: "2006/01/02 15:04:05[.000000] LEVEL : "), local time. */
const LOG_TIME = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?/;
const ERROR = /(?:^| )error=(E[A-Z0-9]+)/;
const ENTRY = /^(?:Lookup |Create \{)0x([0-9a-f]+) gen=(\d+) .*?\battr=\{.*?\bino=(\d+)/;
const OPEN_OUT = /0x([0-9a-f]+) fl=([\w+]+)\}?$/;

/** bazil's request type names (without "Request") → opcode; `dir=true` picks the directory twin. */
const OPCODES: Readonly<Record<string, readonly [file: number, dir?: number]>> = {
  Init: [Op.FUSE_INIT], Destroy: [Op.FUSE_DESTROY], Statfs: [Op.FUSE_STATFS], Interrupt: [Op.FUSE_INTERRUPT],
  Lookup: [Op.FUSE_LOOKUP], Forget: [Op.FUSE_FORGET], BatchForget: [Op.FUSE_BATCH_FORGET], Getattr: [Op.FUSE_GETATTR],
  Setattr: [Op.FUSE_SETATTR], Access: [Op.FUSE_ACCESS], Readlink: [Op.FUSE_READLINK], Symlink: [Op.FUSE_SYMLINK],
  Link: [Op.FUSE_LINK], Mknod: [Op.FUSE_MKNOD], Mkdir: [Op.FUSE_MKDIR], Remove: [Op.FUSE_UNLINK, Op.FUSE_RMDIR],
  Rename: [Op.FUSE_RENAME], Open: [Op.FUSE_OPEN, Op.FUSE_OPENDIR], Create: [Op.FUSE_CREATE], Read: [Op.FUSE_READ, Op.FUSE_READDIR],
  Write: [Op.FUSE_WRITE], Flush: [Op.FUSE_FLUSH], Release: [Op.FUSE_RELEASE, Op.FUSE_RELEASEDIR], Fsync: [Op.FUSE_FSYNC, Op.FUSE_FSYNCDIR],
  Getxattr: [Op.FUSE_GETXATTR], Listxattr: [Op.FUSE_LISTXATTR], Setxattr: [Op.FUSE_SETXATTR], Removexattr: [Op.FUSE_REMOVEXATTR],
  Poll: [Op.FUSE_POLL], NotifyReply: [Op.FUSE_NOTIFY_REPLY], QueryLock: [Op.FUSE_GETLK], Lock: [Op.FUSE_SETLK],
  LockWait: [Op.FUSE_SETLKW], Unlock: [Op.FUSE_SETLK], Fallocate: [Op.FUSE_FALLOCATE],
};
/** bazil's OpenResponseFlags names (fuse.go openResponseFlagNames) → FOPEN_* bits. */
const OPEN_FLAGS: Readonly<Record<string, number>> = {
  OpenDirectIO: FOPEN.direct_io, OpenKeepCache: FOPEN.keep_cache, OpenNonSeekable: FOPEN.nonseekable, OpenCacheDir: FOPEN.cache_dir,
};
/** Nothing reaches the kernel for these, whatever bazil logs. */
const NO_REPLY = new Set<number>([Op.FUSE_FORGET, Op.FUSE_BATCH_FORGET, Op.FUSE_INTERRUPT, Op.FUSE_NOTIFY_REPLY]);

/** Whether a line is one of bazil's request or reply lines: for format detection. */
export function isBazilDebugLine(line: string): boolean {
  return REQUEST.test(line) || REPLY.test(line);
}

export class BazilDebugReader implements TraceReader {
  readonly format = 'bazil-debug' as const;
  /** Opcodes of the requests waiting for their reply, by ID. */
  private readonly pending = new Map<number, number>();
  /** IDs of requests nothing is written back for: bazil's reply line for them is dropped. */
  private readonly silent = new Set<number>();
  /** Handles of open directories: their RELEASE is a RELEASEDIR (bazil's String() does not say). */
  private readonly dirHandles = new Set<U64>();
  private readonly connection: number | null;
  private protocolLines = 0;
  /** Lines that are neither bazil's nor the program's own log lines (with the Go log's date). */
  private foreignLines = 0;
  private firstForeign: { lineNo: number; text: string } | null = null;

  constructor(private readonly sink: TraceSink, options: { connection?: number | null } = {}) {
    this.connection = options.connection ?? null;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    // A log line quotes names the kernel passed as bytes: keep any that are not UTF-8 (protocol/byte-names.ts).
    const text = decodeName(buf.subarray(start, end));
    let m = REQUEST.exec(text);
    if (m) {
      this.protocolLines++;
      this.request(m, logTime(text), lineNo, text);
      return;
    }
    if ((m = REPLY.exec(text))) {
      this.protocolLines++;
      this.reply(Number.parseInt(m[1]!, 16), m[2]!, logTime(text));
      return;
    }
    if (LOG_TIME.test(text) || /^\s*$/.test(text)) return;
    this.foreignLines++;
    this.firstForeign ??= { lineNo, text: text.slice(0, 200) };
  }

  private request(m: RegExpExecArray, ts: number | null, lineNo: number, text: string): void {
    const name = m[1]!;
    const rest = m[7]!;
    const ops = OPCODES[name];
    if (!ops) {
      this.sink.bad(lineNo, `unknown bazil request ${name}`, text.slice(0, 200));
      return;
    }
    // After the header: the handle first for handle requests ("0x1 4096 @0x0 ..."), a quoted name for name requests.
    const args = rest.split(' ');
    const handle = args[0]?.startsWith('0x') ? hexU64(args[0]) : null;
    const dir = name === 'Release' ? handle !== null && this.dirHandles.has(handle) : / dir=true\b/.test(` ${rest}`);
    const opcode = dir && ops[1] !== undefined ? ops[1] : ops[0];
    if (opcode === Op.FUSE_RELEASEDIR) this.dirHandles.delete(handle!);
    const send = sendEvent({
      ts, connection: this.connection, unique: Number.parseInt(m[2]!, 16), opcode, nodeid: Number.parseInt(m[3]!, 16),
      uid: Number(m[4]), gid: Number(m[5]), pid: Number(m[6]),
    });
    send.body = requestBody(opcode, rest, handle, args);
    this.sink.event(send);
    if (NO_REPLY.has(opcode)) this.silent.add(send.unique);
    else this.pending.set(send.unique, opcode);
  }

  private reply(unique: number, out: string, ts: number | null): void {
    if (this.silent.delete(unique)) return;
    const opcode = this.pending.get(unique);
    this.pending.delete(unique);
    const error = replyError(out);
    const reply = error === 0 && opcode !== undefined ? replyBody(opcode, out) : null;
    if (opcode === Op.FUSE_OPENDIR && reply?.op === 'open') this.dirHandles.add(reply.open.fh);
    this.sink.event(endEvent({ ts, connection: this.connection, unique, error, reply }));
  }

  finish(): void {
    const f = this.firstForeign;
    if (f && this.foreignLines > this.protocolLines)
      this.sink.warning(
        `${this.foreignLines} lines are neither bazil.org/fuse protocol lines (${this.protocolLines}) nor log lines of the program; ` +
          `the first is line ${f.lineNo}: ${JSON.stringify(f.text)}`,
      );
  }
}

/** µs since the epoch of the log's local clock; null when the prefix has whole seconds only. */
function logTime(text: string): number | null {
  const t = LOG_TIME.exec(text);
  if (!t || t[7] === undefined) return null;
  const seconds = Date.UTC(Number(t[1]), Number(t[2]) - 1, Number(t[3]), Number(t[4]), Number(t[5]), Number(t[6])) / 1000;
  return seconds * 1e6 + Math.round(Number(`0.${t[7]}`) * 1e6);
}

/** 0, or the negative errno of "error=ENOENT" (bazil prints the errno it sends, fs/serve.go). */
function replyError(out: string): number {
  const m = ERROR.exec(out);
  if (!m) return 0;
  const n = (constants.errno as Record<string, number | undefined>)[m[1]!];
  return n === undefined ? -(constants.errno.EIO) : -n;
}

function openOut(m: RegExpExecArray | null): OpenOut | null {
  if (!m) return null;
  let openFlags = 0;
  for (const name of m[2]!.split('+')) openFlags |= OPEN_FLAGS[name] ?? (name.startsWith('0x') ? Number.parseInt(name, 16) : Number(name) || 0);
  return { fh: hexU64(m[1]!) ?? 0, openFlags, backingId: 0 };
}

/** A handle as bazil prints it (`0x1f`), exact at every size; null when it is not one. */
function hexU64(text: string): U64 | null {
  const hex = text.startsWith('0x') ? text.slice(2) : text;
  return /^[0-9a-f]{1,16}$/i.test(hex) ? toU64(BigInt(`0x${hex}`))! : null;
}

/** attr.ino as a number where a double holds it exactly; null otherwise (Go servers hash 64-bit inode numbers). */
function exactIno(text: string): number | null {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

function replyBody(opcode: number, out: string): ReplyBody | null {
  if (opcode === Op.FUSE_OPEN || opcode === Op.FUSE_OPENDIR) {
    const open = openOut(OPEN_OUT.exec(out));
    return open ? { op: 'open', open } : null;
  }
  const entry = ENTRY.exec(out);
  if (!entry) return null;
  const nodeid = Number.parseInt(entry[1]!, 16);
  const generation = Number(entry[2]);
  const ino = exactIno(entry[3]!);
  if (opcode === Op.FUSE_CREATE) {
    const open = openOut(OPEN_OUT.exec(out));
    return open ? { op: 'create', nodeid, generation, ino, open } : null;
  }
  return opcode === Op.FUSE_LOOKUP ? { op: 'entry', nodeid, generation, ino } : null;
}

/** The parts of a request the analysis follows: names, handles, offsets (bazil's String() of each request). */
function requestBody(opcode: number, rest: string, fh: U64 | null, args: string[]): SendEvent['body'] {
  const name = /^"((?:[^"\\]|\\.)*)"/.exec(rest)?.[1];
  switch (opcode) {
    case Op.FUSE_LOOKUP:
      return name === undefined ? null : { op: 'lookup', name: unquote(name) };
    case Op.FUSE_CREATE:
      return name === undefined ? null : { op: 'create', create: { flags: 0, openFlags: 0, mode: 0, umask: 0, name: unquote(name) } };
    case Op.FUSE_READ:
    case Op.FUSE_WRITE: {
      // "0x1 4096 @0x0 ..." (Read: handle, size, offset; Write: handle, length, offset)
      if (fh === null || args[2]?.startsWith('@0x') !== true) return null;
      const io = { fh, size: Number(args[1]), offset: Number.parseInt(args[2].slice(3), 16), readFlags: 0, flags: 0 };
      return opcode === Op.FUSE_READ ? { op: 'read', read: io } : { op: 'write', write: { ...io, writeFlags: 0, data: Buffer.alloc(0) } };
    }
    case Op.FUSE_FLUSH:
      return fh === null ? null : { op: 'flush', fh, lockOwner: new U64Halves(0, 0) };
    case Op.FUSE_RELEASE:
      return fh === null ? null : { op: 'release', release: { fh, flags: 0, releaseFlags: 0, lockOwner: new U64Halves(0, 0) } };
    default:
      return null;
  }
}

/** Go's %q for the names a file system sees: JSON reads the common escapes; others stay as printed. */
function unquote(quoted: string): string {
  try {
    return JSON.parse(`"${quoted}"`) as string;
  } catch {
    return quoted;
  }
}
