// The lab's FUSE server: speaks the protocol over /dev/fuse itself (no
// libfuse), serves a flat directory of the scenario's files (contents in temp
// files), answers each OPEN with the flags and backing id the runner planned
// for it, holds WRITE, FLUSH, OPEN, READ and RELEASE requests on request, registers backing files with the
// real FUSE_DEV_IOC_BACKING_OPEN/_CLOSE ioctls, and logs every request and
// reply as lab-jsonl (docs/lab.md).
//
// Requests are read with fs.read, i.e. a blocking read(2) on a libuv pool
// thread, so the event loop stays free. Consequence: the process hosting a
// LabServer must never touch the mount synchronously (it would wait for a
// reply only its own event loop can send).

import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { join } from 'node:path';
import * as abi from '../abi';
import { errnoName, errnoNumber, ioctl, MNT_DETACH, mount, MS_NODEV, MS_NOSUID, umount2 } from './libc';
import type { LabEvent } from './log';
import { LAB_FSTYPE, labMountSource } from '../../protocol/inspect';
import type { U64 } from '../../protocol/u64';

const Op = abi.Op;
const E = (name: string): number => -(errnoNumber(name) ?? 5);

/** What the server answers to FUSE_INIT. Flag names are server/abi INIT flag names. */
export interface LabInit {
  flags: abi.InitFlagName[];
  /** Sent in fuse_init_out.max_stack_depth (only meaningful with passthrough). */
  maxStackDepth: number;
  /** Answer every OPEN with ENOSYS (and offer FUSE_NO_OPEN_SUPPORT). */
  noOpen: boolean;
}

export interface LabFile {
  name: string;
  content: Buffer;
}

export interface LabServerOptions {
  mountpoint: string;
  /** Directory for the files' contents (the server's own storage). */
  dataDir: string;
  files: LabFile[];
  init: LabInit;
  /** What a file made by FUSE_CREATE holds (default: nothing). */
  newFileContent?: (name: string) => Buffer;
  log?: (event: LabEvent) => void;
}

/** How to answer the next OPEN of a file. */
export interface OpenPlan {
  openFlags: number;
  backingId: number;
  /** Negative errno to fail the OPEN with. */
  error?: number;
  /**
   * After `error` (ENOSYS to a CREATE): the plan of the OPEN the kernel sends
   * after it has made the name with MKNOD (fuse_atomic_open, fc->no_create).
   */
  then?: OpenPlan;
}

export interface HeldRequest {
  unique: number;
  pid: number;
  nodeid: number;
}

interface Node {
  nodeid: number;
  name: string;
  dataFd: number;
}

interface Hold {
  /** FUSE_WRITE, FUSE_FLUSH, FUSE_OPEN, FUSE_READ or FUSE_RELEASE. */
  opcode: number;
  nodeid: number;
  /** The process whose request (from any of its threads) is held; null: any (a RELEASE is sent by no process in particular). */
  pid: number | null;
  /** For a RELEASE: the file handle of the open file it releases. */
  fh?: U64;
  /** For an OPEN: how to answer it once released. */
  plan?: OpenPlan;
  resolve: (w: HeldRequest) => void;
}

const ROOT_MODE = 0o040755;
const FILE_MODE = 0o100644;
const VALID_SECONDS = 3600;
const MAX_WRITE = 128 * 1024;

/** Reads `/proc/self/mountinfo` for the device minor (= fusectl connection) of a mountpoint. */
function connectionOf(mountpoint: string): number {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] === mountpoint.replace(/ /g, '\\040')) return Number(f[2]!.split(':')[1]);
  }
  return -1;
}

/** The fusectl files of a connection the lab uses. */
type FusectlFile = 'abort' | 'waiting';

export class LabServer extends EventEmitter {
  readonly connection: number;
  private readonly nodes = new Map<number, Node>();
  private readonly byName = new Map<string, Node>();
  private readonly openPlans = new Map<number, OpenPlan[]>();
  /** Plans for FUSE_CREATE, by the name it will create. */
  private readonly createPlans = new Map<string, OpenPlan[]>();
  private readonly holds: Hold[] = [];
  private readonly held = new Map<number, abi.Request>();
  /** How to answer each held OPEN, by its unique. */
  private readonly heldPlans = new Map<number, OpenPlan>();
  /** The file handle the last OPEN or CREATE of each node was given. */
  private readonly lastFh = new Map<number, U64>();
  private readonly fhs = new Map<U64, number>();
  private nextFh = 1;
  private nextNodeid = 2;
  private readonly buf = Buffer.alloc(MAX_WRITE + 64 * 1024);
  /** Set by unmount(): the read loop also stops on its own after an abort, and the mount must still go. */
  private unmounted = false;
  /** Set when the read loop saw the connection end: its number may belong to another mount by now. */
  private connectionEnded = false;
  /**
   * The inode numbers of this connection's fusectl files, read right after the mount. The
   * connection's number goes to the next FUSE mount once its superblock ends, possibly before
   * the read loop has seen the end; fusectl makes new files (new inode numbers) for each
   * connection, so a file opened and found to have the recorded number is this connection's.
   */
  private readonly fusectlInos = new Map<FusectlFile, number>();
  private loopEnded: Promise<void>;
  private endLoop!: () => void;
  private readonly t0 = Date.now();
  initialized: Promise<abi.InitOut>;
  private resolveInit!: (i: abi.InitOut) => void;
  private failInit!: (e: Error) => void;

  private constructor(
    private readonly fd: number,
    private readonly opts: LabServerOptions,
  ) {
    super();
    this.loopEnded = new Promise((r) => (this.endLoop = r));
    this.initialized = new Promise((resolve, reject) => {
      this.resolveInit = resolve;
      this.failInit = reject;
    });
    for (const f of opts.files) this.addFile(f.name, f.content);
    // Resolved before mounting: afterwards a stat of the path would ask this very server.
    const realMountpoint = fs.realpathSync(opts.mountpoint);
    mount(labMountSource(process.pid), opts.mountpoint, LAB_FSTYPE, MS_NOSUID | MS_NODEV, `fd=${fd},rootmode=40000,user_id=0,group_id=0`);
    this.connection = connectionOf(realMountpoint);
    for (const f of ['abort', 'waiting'] as const) {
      try {
        this.fusectlInos.set(f, fs.statSync(this.fusectlPath(f)).ino);
      } catch {
        // fusectl not mounted: no abort, no count of waiting requests
      }
    }
    this.log({ type: 'mount', mountpoint: opts.mountpoint, connection: this.connection });
    this.readLoop();
  }

  /** Opens /dev/fuse, mounts, and resolves once FUSE_INIT is answered. */
  static async start(opts: LabServerOptions): Promise<LabServer> {
    const fd = fs.openSync('/dev/fuse', 'r+');
    let server: LabServer;
    try {
      server = new LabServer(fd, opts);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
    await server.initialized;
    return server;
  }

  /** The node id a file name was given (files are numbered from 2 in order). */
  nodeid(name: string): number | undefined {
    return this.byName.get(name)?.nodeid;
  }

  dataPath(name: string): string {
    return join(this.opts.dataDir, `${name}.data`);
  }

  /** The next OPEN of `file` is answered by `plan` (plans queue per file). */
  planOpen(file: string, plan: OpenPlan): void {
    const id = this.nodeid(file);
    if (id === undefined) throw new Error(`lab: no file ${file}`);
    const q = this.openPlans.get(id) ?? [];
    q.push(plan);
    this.openPlans.set(id, q);
  }

  /** The next FUSE_CREATE of `name` (a name the server does not have yet) is answered by `plan`. */
  planCreate(name: string, plan: OpenPlan): void {
    const q = this.createPlans.get(name) ?? [];
    q.push(plan);
    this.createPlans.set(name, q);
  }

  clearOpenPlans(): void {
    this.openPlans.clear();
    this.createPlans.clear();
  }

  /**
   * `held` resolves when the next WRITE of `file` from process `pid` (any of its threads) arrives; it is
   * held unanswered until `releaseHeld`. `cancel` withdraws this hold only (others may still wait for
   * writes asleep on the inode lock).
   */
  holdNextWrite(file: string, pid: number): { held: Promise<HeldRequest>; cancel: () => void } {
    return this.holdNext(Op.FUSE_WRITE, file, pid);
  }

  /** The same for the next FLUSH (a close) of `file` from process `pid`. */
  holdNextFlush(file: string, pid: number): { held: Promise<HeldRequest>; cancel: () => void } {
    return this.holdNext(Op.FUSE_FLUSH, file, pid);
  }

  /** The same for the next OPEN of `file` from process `pid`, answered by `plan` once released. */
  holdNextOpen(file: string, pid: number, plan: OpenPlan): { held: Promise<HeldRequest>; cancel: () => void } {
    return this.holdNext(Op.FUSE_OPEN, file, pid, { plan });
  }

  /** The same for the next READ of `file` from process `pid`. */
  holdNextRead(file: string, pid: number): { held: Promise<HeldRequest>; cancel: () => void } {
    return this.holdNext(Op.FUSE_READ, file, pid);
  }

  /** The same for the RELEASE of the open file of `file` that was given handle `fh`, from whichever task sends it. */
  holdNextRelease(file: string, fh: U64): { held: Promise<HeldRequest>; cancel: () => void } {
    return this.holdNext(Op.FUSE_RELEASE, file, null, { fh });
  }

  /** The file handle the last OPEN or CREATE of `file` was answered with. */
  lastFileHandle(file: string): U64 | undefined {
    const id = this.nodeid(file);
    return id === undefined ? undefined : this.lastFh.get(id);
  }

  /**
   * Whether the connection still exists (fusectl): the superblock's end destroys it (fuse_conn_destroy).
   * Once the read loop saw it end, the number may name another mount's connection.
   */
  connectionAlive(): boolean {
    if (this.connectionEnded) return false;
    if (!this.fusectlInos.has('waiting')) return fs.existsSync(`/sys/fs/fuse/connections/${this.connection}`);
    const fd = this.openOwn('waiting', 'r');
    if (fd !== undefined) fs.closeSync(fd);
    return fd !== undefined;
  }

  private fusectlPath(file: FusectlFile): string {
    return `/sys/fs/fuse/connections/${this.connection}/${file}`;
  }

  /** A descriptor of this connection's fusectl file; undefined when the connection (or fusectl) is gone or the number is another's. */
  private openOwn(file: FusectlFile, flags: 'r' | 'w'): number | undefined {
    const ino = this.fusectlInos.get(file);
    if (ino === undefined) return undefined;
    let fd: number;
    try {
      fd = fs.openSync(this.fusectlPath(file), flags);
    } catch {
      return undefined;
    }
    if (fs.fstatSync(fd).ino === ino) return fd;
    fs.closeSync(fd);
    return undefined;
  }

  private holdNext(
    opcode: number, file: string, pid: number | null, extra: Pick<Hold, 'fh' | 'plan'> = {},
  ): { held: Promise<HeldRequest>; cancel: () => void } {
    const nodeid = this.nodeid(file) ?? -1;
    let hold: Hold | undefined;
    const held = new Promise<HeldRequest>((resolve) => {
      hold = { opcode, nodeid, pid, ...extra, resolve };
      this.holds.push(hold);
    });
    return {
      held,
      cancel: () => {
        const i = this.holds.indexOf(hold!);
        if (i >= 0) this.holds.splice(i, 1);
      },
    };
  }

  /** Performs and answers a held request; or, given a negative errno, answers it with that error. */
  releaseHeld(unique: number, error?: number): void {
    const req = this.held.get(unique);
    if (!req) return;
    this.held.delete(unique);
    if (error !== undefined) this.reply(unique, error, undefined, undefined, req);
    else this.dispatch(req);
  }

  /**
   * Requests the kernel counts as waiting on this connection (fusectl
   * `waiting`) beyond the requests held on purpose; null without fusectl.
   */
  unansweredRequests(): number | null {
    const fd = this.openOwn('waiting', 'r');
    if (fd === undefined) return null;
    try {
      return Math.max(0, Number(fs.readFileSync(fd, 'utf8')) - this.held.size);
    } catch {
      return null;
    } finally {
      fs.closeSync(fd);
    }
  }

  heldWrites(): number[] {
    return [...this.held.keys()];
  }

  /**
   * FUSE_DEV_IOC_BACKING_OPEN of `path`: the backing id (≥ 1) or -errno.
   * `openFlags`: how the server opens it (default O_RDONLY; O_PATH, O_DIRECTORY
   * for the argument errors); `mapFlags`: fuse_backing_map.flags.
   */
  backingOpen(path: string, openFlags: number = fs.constants.O_RDONLY, mapFlags = 0): number {
    let fd: number;
    try {
      fd = fs.openSync(path, openFlags);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      this.log({ type: 'ioctl', request: 'FUSE_DEV_IOC_BACKING_OPEN', path, result: E(code), errno: code });
      return E(code);
    }
    const r = ioctl(this.fd, abi.FUSE_DEV_IOC_BACKING_OPEN, abi.encodeBackingMap(fd, mapFlags));
    fs.closeSync(fd);
    this.log({ type: 'ioctl', request: 'FUSE_DEV_IOC_BACKING_OPEN', path, ...(mapFlags !== 0 && { flags: mapFlags }), result: r, errno: r < 0 ? errnoName(r) : null });
    return r;
  }

  /** FUSE_DEV_IOC_BACKING_CLOSE: 0 or -errno. */
  backingClose(id: number): number {
    const arg = Buffer.alloc(4);
    arg.writeInt32LE(id);
    const r = ioctl(this.fd, abi.FUSE_DEV_IOC_BACKING_CLOSE, arg);
    this.log({ type: 'ioctl', request: 'FUSE_DEV_IOC_BACKING_CLOSE', backingId: id, result: r, errno: r < 0 ? errnoName(r) : null });
    return r;
  }

  /**
   * Aborts the connection through fusectl so that every waiter wakes, unmounts
   * (lazily if busy), waits for the read loop to end and closes /dev/fuse.
   * Safe to call more than once.
   */
  async unmount(): Promise<void> {
    if (this.unmounted) return this.loopEnded;
    this.unmounted = true;
    for (const unique of [...this.held.keys()]) this.reply(unique, E('EINTR'));
    // Abort before the umount, while the connection's number is still ours: a umount that
    // ends the connection frees its device minor, the next FUSE mount on the machine (an
    // overlapping run) gets the lowest free one — often the same number — and an abort
    // written after the umount ended that other run's connection.
    this.abortConnection();
    const err = umount2(this.opts.mountpoint, 0);
    if (err !== 0) umount2(this.opts.mountpoint, MNT_DETACH);
    const timeout = new Promise<void>((r) => setTimeout(r, 2000).unref());
    await Promise.race([this.loopEnded, timeout]);
    try {
      fs.closeSync(this.fd);
    } catch {
      // already closed
    }
    for (const n of this.nodes.values()) fs.closeSync(n.dataFd);
    this.nodes.clear();
    this.log({ type: 'unmount', mountpoint: this.opts.mountpoint, connection: this.connection });
  }

  /**
   * A scenario's `abort`: fuse_abort_conn() ends every request with
   * ECONNABORTED; held ones are forgotten (their replies would find no
   * request). The mount stays until unmount().
   */
  abort(): void {
    this.held.clear();
    this.abortConnection();
    this.log({ type: 'abort', mountpoint: this.opts.mountpoint, connection: this.connection });
  }

  private abortConnection(): void {
    // A connection that ended (a scenario's umount) gave its number back: the next FUSE mount
    // on the machine (an overlapping run) may have it now, also before the read loop has seen
    // the end, and a write by number would abort that one. So only this connection's own file.
    if (this.connectionEnded) return;
    const fd = this.openOwn('abort', 'w');
    if (fd === undefined) return; // fusectl not mounted, or the connection is gone: the umount ended it
    try {
      fs.writeSync(fd, '1');
    } catch {
      // ended between the open and the write
    } finally {
      fs.closeSync(fd);
    }
  }

  private addFile(name: string, content: Buffer): Node {
    const path = this.dataPath(name);
    fs.writeFileSync(path, content);
    const node = { nodeid: this.nextNodeid++, name, dataFd: fs.openSync(path, 'r+') };
    this.nodes.set(node.nodeid, node);
    this.byName.set(name, node);
    return node;
  }

  private log(e: Record<string, unknown>): void {
    this.opts.log?.({ time: (this.t0 + performance.now()) / 1000, ...e } as LabEvent);
  }

  private readLoop(): void {
    fs.read(this.fd, this.buf, 0, this.buf.length, null, (err, n) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EINTR' || code === 'EAGAIN' || code === 'ENOENT') return this.readLoop();
        // ENODEV: the connection is gone (unmounted or aborted).
        if (code !== 'ENODEV') this.emit('error', err);
        this.connectionEnded = true;
        // Without this, a connection that ends before FUSE_INIT (aborted from outside) left
        // start() awaiting forever with nothing pending: the command ended silently.
        this.failInit(new Error(`lab: the FUSE connection ${this.connection} ended before FUSE_INIT`));
        this.endLoop();
        this.emit('closed');
        return;
      }
      try {
        this.handle(Buffer.from(this.buf.subarray(0, n)));
      } catch (e) {
        this.emit('error', e);
      }
      this.readLoop();
    });
  }

  private handle(raw: Buffer): void {
    const req = abi.decodeRequest(raw);
    const h = req.header;
    this.log({
      type: 'request',
      connection: this.connection,
      unique: h.unique,
      opcode: abi.opcodeName(h.opcode),
      nodeid: h.nodeid,
      name: this.nodes.get(h.nodeid)?.name ?? (h.nodeid === abi.FUSE_ROOT_ID ? '/' : undefined),
      pid: h.pid,
      uid: h.uid,
      len: h.len,
      args: requestArgs(req),
    });
    this.emit('request', req);
    if (this.holds.length > 0) {
      // h.pid is the thread id: a write on a thread of the agent matches its process.
      const i = this.holds.findIndex((x) => x.opcode === h.opcode && x.nodeid === h.nodeid
        && (x.fh === undefined || (req.body.op === 'release' && req.body.release.fh === x.fh))
        && (x.pid === null || x.pid === h.pid || fs.existsSync(`/proc/${x.pid}/task/${h.pid}`)));
      if (i >= 0) {
        const hold = this.holds.splice(i, 1)[0]!;
        this.held.set(h.unique, req);
        if (hold.plan) this.heldPlans.set(h.unique, hold.plan);
        hold.resolve({ unique: h.unique, pid: h.pid, nodeid: h.nodeid });
        return;
      }
    }
    this.dispatch(req);
  }

  private reply(unique: number, error: number, body?: Buffer, decoded?: Record<string, unknown>, req?: abi.Request): void {
    try {
      fs.writeSync(this.fd, abi.encodeReply(unique, error, body));
    } catch (err) {
      // ENOENT: the request was interrupted or aborted meanwhile.
      decoded = { ...decoded, writeError: (err as NodeJS.ErrnoException).code };
    }
    this.log({
      type: 'reply',
      connection: this.connection,
      unique,
      opcode: req ? abi.opcodeName(req.header.opcode) : undefined,
      nodeid: req?.header.nodeid,
      pid: req?.header.pid,
      error,
      errno: error < 0 ? errnoName(error) : null,
      reply: error === 0 ? decoded : undefined,
    });
    this.emit('reply', { unique, error, req });
  }

  private attr(nodeid: number): abi.Attr {
    const time = Math.floor(this.t0 / 1000);
    if (nodeid === abi.FUSE_ROOT_ID)
      return { ino: 1, size: 4096, blocks: 8, time, mode: ROOT_MODE, nlink: 2, uid: 0, gid: 0, blksize: 4096 };
    const node = this.nodes.get(nodeid)!;
    const size = fs.fstatSync(node.dataFd).size;
    return { ino: nodeid, size, blocks: Math.ceil(size / 512), time, mode: FILE_MODE, nlink: 1, uid: 0, gid: 0, blksize: 4096 };
  }

  private entry(node: Node): Buffer {
    return abi.encodeEntryOut(node.nodeid, 1, VALID_SECONDS, this.attr(node.nodeid));
  }

  private known(nodeid: number): boolean {
    return nodeid === abi.FUSE_ROOT_ID || this.nodes.has(nodeid);
  }

  private dispatch(req: abi.Request): void {
    const h = req.header;
    const b = req.body;
    const ok = (body: Buffer, decoded?: Record<string, unknown>) => this.reply(h.unique, 0, body, decoded, req);
    const fail = (errno: string) => this.reply(h.unique, E(errno), undefined, undefined, req);
    switch (h.opcode) {
      case Op.FUSE_INIT:
        return this.answerInit(req);
      case Op.FUSE_LOOKUP: {
        const node = b.op === 'lookup' && h.nodeid === abi.FUSE_ROOT_ID ? this.byName.get(b.name) : undefined;
        return node ? ok(this.entry(node), { nodeid: node.nodeid }) : fail('ENOENT');
      }
      case Op.FUSE_FORGET:
      case Op.FUSE_BATCH_FORGET:
        return; // no reply, by protocol
      case Op.FUSE_GETATTR:
        return this.known(h.nodeid) ? ok(abi.encodeAttrOut(VALID_SECONDS, this.attr(h.nodeid))) : fail('ENOENT');
      case Op.FUSE_SETATTR: {
        const node = this.nodes.get(h.nodeid);
        if (b.op === 'setattr' && node && b.setattr.valid & (1 << 3)) fs.ftruncateSync(node.dataFd, b.setattr.size);
        return this.known(h.nodeid) ? ok(abi.encodeAttrOut(VALID_SECONDS, this.attr(h.nodeid))) : fail('ENOENT');
      }
      case Op.FUSE_OPEN:
        return this.answerOpen(req);
      case Op.FUSE_CREATE: {
        if (b.op !== 'create' || h.nodeid !== abi.FUSE_ROOT_ID) return fail('EINVAL');
        const plan = this.createPlans.get(b.create.name)?.shift() ?? this.takePlan(this.nodeid(b.create.name) ?? -1);
        // The MKNOD that follows a CREATE answered ENOSYS takes the plan of the OPEN after it.
        if (plan.then) this.createPlans.set(b.create.name, [plan.then, ...(this.createPlans.get(b.create.name) ?? [])]);
        if (plan.error) return this.reply(h.unique, plan.error, undefined, undefined, req);
        const node = this.nodeNamed(b.create.name);
        const fh = this.newFh(node.nodeid);
        const out = { fh, openFlags: plan.openFlags, backingId: plan.backingId };
        return ok(Buffer.concat([this.entry(node), abi.encodeOpenOut(out)]), { nodeid: node.nodeid, ...openReply(out) });
      }
      case Op.FUSE_MKNOD: {
        // After a CREATE answered ENOSYS (fc->no_create) the kernel makes a new file with MKNOD, then OPENs it.
        if (b.op !== 'mknod' || h.nodeid !== abi.FUSE_ROOT_ID) return fail('EINVAL');
        const node = this.nodeNamed(b.mknod.name);
        const plan = this.createPlans.get(b.mknod.name)?.shift();
        if (plan) this.openPlans.set(node.nodeid, [plan, ...(this.openPlans.get(node.nodeid) ?? [])]);
        return ok(this.entry(node), { nodeid: node.nodeid });
      }
      case Op.FUSE_READ: {
        const node = this.nodes.get(h.nodeid);
        if (!node || b.op !== 'read') return fail('EBADF');
        const data = Buffer.alloc(b.read.size);
        const n = fs.readSync(node.dataFd, data, 0, data.length, b.read.offset);
        return ok(data.subarray(0, n), { size: n });
      }
      case Op.FUSE_WRITE: {
        const node = this.nodes.get(h.nodeid);
        if (!node || b.op !== 'write') return fail('EBADF');
        const n = fs.writeSync(node.dataFd, b.write.data, 0, b.write.data.length, b.write.offset);
        return ok(abi.encodeWriteOut(n), { size: n });
      }
      case Op.FUSE_STATFS:
        return ok(abi.encodeStatfsOut({ blocks: 1 << 20, bfree: 1 << 19, bavail: 1 << 19, files: 1000, ffree: 900, bsize: 4096, namelen: 255, frsize: 4096 }));
      case Op.FUSE_RELEASE:
      case Op.FUSE_RELEASEDIR:
        if (b.op === 'release') this.fhs.delete(b.release.fh);
        return ok(Buffer.alloc(0));
      case Op.FUSE_FLUSH:
      case Op.FUSE_FSYNC:
      case Op.FUSE_FSYNCDIR:
        return ok(Buffer.alloc(0));
      case Op.FUSE_OPENDIR: {
        if (h.nodeid !== abi.FUSE_ROOT_ID) return fail('ENOTDIR');
        const out = { fh: this.newFh(h.nodeid), openFlags: 0, backingId: 0 };
        return ok(abi.encodeOpenOut(out), openReply(out));
      }
      case Op.FUSE_READDIR: {
        if (b.op !== 'read' || h.nodeid !== abi.FUSE_ROOT_ID) return fail('ENOTDIR');
        const entries: abi.Dirent[] = [
          { ino: 1, name: '.', type: abi.DT_DIR },
          { ino: 1, name: '..', type: abi.DT_DIR },
          ...[...this.nodes.values()].map((n) => ({ ino: n.nodeid, name: n.name, type: abi.DT_REG })),
        ];
        const data = abi.encodeDirents(entries, b.read.offset, b.read.size);
        return ok(data, { size: data.length });
      }
      case Op.FUSE_INTERRUPT:
        // Every request but a held WRITE is answered already. A held WRITE
        // stays held: the scenario ends it (`write W end`), as a server may
        // ignore interrupts. So a process exiting with a write in flight
        // stays in the kernel until then, as with a real slow server.
        return;
      case Op.FUSE_DESTROY:
        return ok(Buffer.alloc(0));
      default:
        return fail('ENOSYS');
    }
  }

  /** The node of `name`, made now (CREATE, MKNOD) if the server does not have it yet. */
  private nodeNamed(name: string): Node {
    return this.byName.get(name) ?? this.addFile(name, this.opts.newFileContent?.(name) ?? Buffer.alloc(0));
  }

  private newFh(nodeid: number): number {
    const fh = this.nextFh++;
    this.fhs.set(fh, nodeid);
    this.lastFh.set(nodeid, fh);
    return fh;
  }

  private takePlan(nodeid: number): OpenPlan {
    return this.openPlans.get(nodeid)?.shift() ?? { openFlags: 0, backingId: 0 };
  }

  private answerOpen(req: abi.Request): void {
    const h = req.header;
    if (this.opts.init.noOpen) return this.reply(h.unique, E('ENOSYS'), undefined, undefined, req);
    if (!this.nodes.has(h.nodeid)) return this.reply(h.unique, E('ENOENT'), undefined, undefined, req);
    const held = this.heldPlans.get(h.unique);
    this.heldPlans.delete(h.unique);
    const plan = held ?? this.takePlan(h.nodeid);
    if (plan.error) return this.reply(h.unique, plan.error, undefined, undefined, req);
    const out = { fh: this.newFh(h.nodeid), openFlags: plan.openFlags, backingId: plan.backingId };
    this.reply(h.unique, 0, abi.encodeOpenOut(out), openReply(out), req);
  }

  private answerInit(req: abi.Request): void {
    if (req.body.op !== 'init') return;
    const offered = req.body.init;
    if (offered.major !== abi.FUSE_KERNEL_VERSION) {
      this.reply(req.header.unique, E('EPROTO'), undefined, undefined, req);
      return;
    }
    let wanted = abi.initFlag('init_ext');
    for (const f of this.opts.init.flags) wanted |= abi.initFlag(f);
    if (this.opts.init.noOpen) wanted |= abi.initFlag('no_open_support');
    const out: abi.InitOut = {
      major: abi.FUSE_KERNEL_VERSION,
      minor: Math.min(offered.minor, abi.FUSE_KERNEL_MINOR_VERSION),
      maxReadahead: offered.maxReadahead,
      flags: wanted & offered.flags,
      maxBackground: 12,
      congestionThreshold: 9,
      maxWrite: MAX_WRITE,
      timeGran: 1,
      maxPages: 0,
      mapAlignment: 0,
      maxStackDepth: this.opts.init.maxStackDepth,
      requestTimeout: 0,
    };
    this.reply(req.header.unique, 0, abi.encodeInitOut(out), {
      major: out.major,
      minor: out.minor,
      flags: abi.initFlagNames(out.flags),
      offered: abi.initFlagNames(offered.flags),
      maxWrite: out.maxWrite,
      maxStackDepth: out.maxStackDepth,
    }, req);
    this.resolveInit(out);
  }
}

function openReply(o: abi.OpenOut): Record<string, unknown> {
  return { fh: o.fh, openFlags: o.openFlags, flags: abi.fopenFlagNames(o.openFlags), backingId: o.backingId };
}

/** The decoded request fields worth a log line. */
function requestArgs(req: abi.Request): Record<string, unknown> | undefined {
  const b = req.body;
  switch (b.op) {
    case 'init':
      return { major: b.init.major, minor: b.init.minor, flags: abi.initFlagNames(b.init.flags) };
    case 'lookup':
      return { name: b.name };
    case 'forget':
      return { nlookup: b.nlookup };
    case 'batch_forget':
      return { forgets: b.forgets };
    case 'open':
      return { flags: b.open.flags };
    case 'create':
      return { name: b.create.name, flags: b.create.flags, mode: b.create.mode };
    case 'mknod':
      return { name: b.mknod.name, mode: b.mknod.mode };
    case 'read':
      return { fh: b.read.fh, offset: b.read.offset, size: b.read.size };
    case 'write':
      return { fh: b.write.fh, offset: b.write.offset, size: b.write.size, writeFlags: b.write.writeFlags };
    case 'release':
      return { fh: b.release.fh, flags: b.release.flags };
    case 'flush':
    case 'fsync':
      return { fh: b.fh };
    case 'interrupt':
      return { unique: b.unique };
    case 'setattr':
      return { valid: b.setattr.valid, size: b.setattr.size };
    default:
      return undefined;
  }
}
