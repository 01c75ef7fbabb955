// Reader for libfuse's debug output (`-d` / `-o debug` / passthrough_hp's `--debug-fuse`).
// The request and reply lines, by version (lib/fuse_lowlevel.c, fuse_ll_process_buf() and
// fuse_send_msg(); 3.18 also lib/fuse_uring.c):
//   2.9 and 3.x < 3.18:  unique: 8, opcode: OPEN (14), nodeid: 2, insize: 48, pid: 4504
//   3.18+ (/dev/fuse):   dev unique: 8, opcode: OPEN (14), nodeid: 2, insize: 48, pid: 4504
//   3.18+ (io_uring):    cqe unique: 8, opcode: OPEN (14), nodeid: 2, insize: 48, pid: 4504
//   every version:          unique: 8, success, outsize: 32
//                           unique: 8, success, outsize: 32 (splice)
//                           unique: 12, error: -38 (Function not implemented), outsize: 16
//   3.18+ (io_uring, after the line above):  unique: 8, result=16
// The high-level library (lib/fuse.c) adds detail lines about the request being served:
//   open flags: 0x8000 /a.txt
//      open[5] flags: 0x8000 /a.txt
//      NODEID: 2                                  (after LOOKUP/CREATE)
// The log has no timestamps and no reply open flags. Each libfuse line is one write(2)
// (vfprintf on unbuffered stderr, lib/fuse_log.c), but a server that prints to the same
// stderr piece by piece (passthrough_hp's `cerr << ... << endl`) can leave a fragment of its own
// line in front of libfuse's: requests and replies are therefore found anywhere in a line.
// The server's own lines are skipped and counted; when they are most of the file the report
// says so. Multithreaded daemons interleave lines: a detail line belongs to the most recent
// request of that opcode.

import { toU64, type U64 } from '../../protocol/u64';
import { Op, U64Halves, initFlag, type InitOut } from '../abi';
import { endEvent, sendEvent, type ReplyBody, type SendEvent, type TraceReader, type TraceSink } from './events';
import { decodeName } from '../../protocol/byte-names';

const REQUEST = /(?:dev |cqe )?unique: (\d+), opcode: ([A-Z_0-9?]+) \((\d+)\), nodeid: (\d+), insize: (\d+), pid: (\d+)/;
const REPLY = /unique: (\d+), (?:success|error: (-?\d+) \([^)]*\)), outsize: (\d+)/;
/** io_uring's commit line (fuse_uring.c), printed after the reply line of the same request. */
const URING_RESULT = /unique: \d+, result=-?\d+/;
const NODEID = /^\s+NODEID: (\d+)/;
const PATH_OP = /^(LOOKUP|create flags: (0x[0-9a-f]+)|open flags: (0x[0-9a-f]+)) (\/.*?)(?: 0\d+ umask=\d+)?$/;
const HANDLE = /^\s*(open|create|release|read|write)\[(\d+)\](?: (\d+) bytes (?:from|to) (\d+))?(?: flags: (0x[0-9a-f]+))?/;
const VERSION = /^FUSE library version: (\d+)\.(\d+)/;
const INIT_LINE = /^(\s*)INIT: (\d+)\.(\d+)/;
const INIT_FIELD = /^(\s*)(flags2?|max_readahead|max_write|max_background|congestion_threshold|time_gran|max_stack_depth)=(0x[0-9a-f]+|\d+)/;
/**
 * Every other line libfuse itself prints in debug mode: the high-level library's per-request
 * lines (lib/fuse.c: "getattr[NULL] /a", "release[5] flags: 0x8000", "FORGET 2/1", "LOOKUP-DOT",
 * path-lock traces "QUEUE PATH 12"), its start-up settings ("nullpath_ok: 0") and notices
 * ("NOTIFY: code=...", "FUSE_INTERRUPT: ...", "fuse: ..."). Known so they are not counted as
 * the filesystem's own output.
 */
const LIBRARY_LINE =
  /^\s*(?:(?:f?getattr|setattr|rename|unlink|rmdir|symlink|link|release(?:dir)?|opendir|open|read(?:dir(?:plus)?)?|write(?:_buf)?|fsync(?:dir)?|flush|statfs|create|lock|flock|chown|chmod|f?truncate|utimens?|access|readlink|mknod|mkdir|[sg]etxattr|listxattr|removexattr|bmap|ioctl|poll|fallocate|copy_file_range|lseek|statx)(?:\[[^\]]*\])?[ :]|(?:NOTIFY|INTERRUPT|FUSE_INTERRUPT|DELETE): |(?:LOOKUP|LOOKUP-DOT|LOOKUP-DOTDOT|FORGET \d+\/\d+)$|(?:DE)?QUEUE[ _]PATH|PATH2 \d|(?:nullpath_ok|nopath|utime_omit_ok): \d|fuse: |FUSE library version: )/;

/** Whether a line is one of libfuse's requests or replies (or its version banner): for format detection. */
export function isLibfuseDebugLine(line: string): boolean {
  return REQUEST.test(line) || REPLY.test(line) || line.startsWith('FUSE library version: ');
}

interface Open {
  send: SendEvent;
  nodeid: number | null;
  fh: U64 | null;
  init: Partial<Record<string, number>> | null;
}

export class LibfuseDebugReader implements TraceReader {
  readonly format = 'libfuse-debug' as const;
  /** Requests not yet answered, by unique: details arrive on the following lines. */
  private readonly open = new Map<number, Open>();
  private lastByOpcode = new Map<number, Open>();
  private last: Open | null = null;
  private connection: number | null;
  /** Lines libfuse printed, and the others (the filesystem's own), with the first of those. */
  private libraryLines = 0;
  private otherLines = 0;
  private firstOther: { lineNo: number; text: string } | null = null;
  /**
   * libfuse >= 3.18 prints the INIT reply's "flags=" before it fills them in (lib/fuse_lowlevel.c,
   * _do_init: the debug lines come before `outarg.flags = outargflags`), so the line shows max_pages
   * at most. It still prints max_stack_depth exactly when it sets FUSE_PASSTHROUGH. Known from the
   * version banner, or from the `dev`/`cqe` request prefix that came with the same release.
   */
  private initFlagsUnprinted = false;

  constructor(private readonly sink: TraceSink, options: { connection?: number | null } = {}) {
    this.connection = options.connection ?? null;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    // A log line quotes names the kernel passed as bytes: keep any that are not UTF-8 (protocol/byte-names.ts).
    const text = decodeName(buf.subarray(start, end));
    if (this.request(text) || this.reply(text) || this.detail(text)) {
      this.libraryLines++;
      return;
    }
    if (/^\s*$/.test(text)) return;
    this.otherLines++;
    this.firstOther ??= { lineNo, text: text.slice(0, 200) };
  }

  /** A request line, possibly after a fragment of the server's own output. */
  private request(text: string): boolean {
    const m = REQUEST.exec(text);
    if (!m) return false;
    const opcode = Number(m[3]);
    if (m[0].startsWith('dev ') || m[0].startsWith('cqe ')) this.initFlagsUnprinted = true;
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
    return true;
  }

  /** A reply line (fuse_send_msg), possibly after a fragment of the server's own output. */
  private reply(text: string): boolean {
    const m = REPLY.exec(text);
    if (!m) return URING_RESULT.test(text);
    const unique = Number(m[1]);
    const o = this.open.get(unique);
    this.open.delete(unique);
    // The request is emitted once its detail lines are in: right before its reply.
    if (o) this.sink.event(o.send);
    const error = m[2] === undefined ? 0 : Number(m[2]);
    this.sink.event(endEvent({ connection: this.connection, unique, error, len: Number(m[3]), reply: o && error === 0 ? this.replyOf(o) : null }));
    return true;
  }

  /** The detail lines that say more about the request being served; true for any line of the library's. */
  private detail(text: string): boolean {
    let m: RegExpExecArray | null;
    if ((m = VERSION.exec(text))) {
      if (Number(m[1]) > 3 || (Number(m[1]) === 3 && Number(m[2]) >= 18)) this.initFlagsUnprinted = true;
      return true;
    }
    if ((m = NODEID.exec(text))) {
      const o = this.lastByOpcode.get(Op.FUSE_CREATE) === this.last ? this.last : this.lastByOpcode.get(Op.FUSE_LOOKUP) ?? this.last;
      if (o) o.nodeid = Number(m[1]);
      return true;
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
      return true;
    }
    if ((m = HANDLE.exec(text))) {
      const fh = toU64(m[2]!);
      if (fh === undefined) return false; // more than 64 bits: not libfuse's
      const what = m[1]!;
      const opcode = { open: Op.FUSE_OPEN, create: Op.FUSE_CREATE, release: Op.FUSE_RELEASE, read: Op.FUSE_READ, write: Op.FUSE_WRITE }[what as 'open'];
      const o = this.lastByOpcode.get(opcode);
      if (!o) return true;
      o.fh = fh;
      const flags = m[5] === undefined ? 0 : parseInt(m[5], 16);
      if (what === 'release' && o.send.body === null) o.send.body = { op: 'release', release: { fh, flags, releaseFlags: 0, lockOwner: new U64Halves(0, 0) } };
      else if ((what === 'read' || what === 'write') && o.send.body === null && m[3] !== undefined) {
        const io = { fh, offset: Number(m[4]), size: Number(m[3]), readFlags: 0, flags };
        o.send.body = what === 'read' ? { op: 'read', read: io } : { op: 'write', write: { ...io, writeFlags: 0, data: Buffer.alloc(0) } };
      }
      return true;
    }
    if ((m = INIT_LINE.exec(text)) || (m = INIT_FIELD.exec(text))) {
      const o = this.lastByOpcode.get(Op.FUSE_INIT);
      if (!o) return true;
      const reply = m[1]!.length > 0; // the reply's lines are indented, the kernel's offer is not
      if (m[2] && /^\d+$/.test(m[2]) && m[3]) {
        if (reply) o.init = { ...o.init, major: Number(m[2]), minor: Number(m[3]) };
        else o.send.body = { op: 'init', init: { major: Number(m[2]), minor: Number(m[3]), maxReadahead: 0, flags: 0n } };
      } else if (reply) {
        o.init = { ...o.init, [m[2]!]: m[3]!.startsWith('0x') ? parseInt(m[3]!, 16) : Number(m[3]) };
      } else if (o.send.body?.op === 'init' && m[2] === 'flags') {
        o.send.body.init.flags = BigInt(parseInt(m[3]!, 16));
      }
      return true;
    }
    return LIBRARY_LINE.test(text);
  }

  /** Requests without a reply are still in flight at the end of the log. */
  finish(): void {
    for (const o of this.open.values()) this.sink.event(o.send);
    this.open.clear();
    const total = this.libraryLines + this.otherLines;
    if (this.firstOther && this.otherLines * 2 > total) {
      const f = this.firstOther;
      this.sink.warning(
        `${this.otherLines} of ${total} lines are not libfuse debug output (${this.libraryLines} are); the first is line ${f.lineNo}: ` +
          `${JSON.stringify(f.text)}. Is this the stderr of a libfuse server run with -d (or --debug-fuse)?`,
      );
    }
  }

  private replyOf(o: Open): ReplyBody | null {
    const op = o.send.opcode;
    if (op === Op.FUSE_INIT && o.init) {
      const i = o.init;
      let flags = BigInt(i.flags ?? 0) | (BigInt(i.flags2 ?? 0) << 32n);
      if (this.initFlagsUnprinted) {
        if (i.max_stack_depth !== undefined) flags |= initFlag('passthrough');
        this.sink.warning(
          'libfuse >= 3.18 logs the INIT reply\'s flags before it sets them: of its INIT flags only max_pages and passthrough ' +
            '(shown by the max_stack_depth line) are known from this log',
        );
      }
      const init: InitOut = {
        major: i.major ?? 0, minor: i.minor ?? 0, maxReadahead: i.max_readahead ?? 0, flags,
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
}
