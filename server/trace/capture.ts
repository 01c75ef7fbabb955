// Live capture of one FUSE connection into a trace file that `fuselens trace`
// reads back:
//   - tracefs (default): the fuse_request_* events of a private tracefs
//     instance (instances/fuselens-PID-N), filtered on `connection == N`, read
//     from its trace_pipe. The global trace buffer, its enables and filters are
//     never touched; when instances are unavailable the top-level events are
//     used and their enable/filter/tracing_on are saved and restored.
//   - daemon: strace attached to the connection's daemon with the flags the
//     strace reader expects (plus -T for read durations): /dev/fuse reads and
//     writes, the splices of replies, the backing ioctls and the openat of
//     their files (STRACE_ARGS).
// Cleanup (disable, restore, rmdir, detach strace) runs on stop(), on timeout,
// on error, and — synchronously — at process exit, so SIGINT in the CLI
// (which calls stop()) or a crash leaves tracefs as it was. A SIGKILL skips
// all that: strace dies with us (setpriv --pdeathsig KILL; the kernel detaches
// it from the daemon), a tracefs instance stays until the next capture (or
// `fuselens clean`) removes instances whose pid is dead. Both write the file as
// they go (every strace line as it comes, trace_pipe every POLL_MS), so a
// SIGKILL loses less than a second of what was seen.

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { listMounts, processGone, tryReadComm } from '../inspect';
import type { TraceFormat } from './events';
import type { TraceReader, TraceSink } from './events';
import { LineSplitter } from './lines';
import { readNonBlocking } from './live';
import { expectsReply } from './analyze';
import { createReader, formatCaptureHeader } from './read';
import { straceCommLine } from './strace';

export interface CaptureOptions {
  /** The connection (fusectl number, `fuselens mounts`). */
  connection: number;
  /** The trace file to write. */
  output: string;
  /** strace the daemon instead of tracing the kernel: true finds the daemon of the connection, a number names its pid. */
  daemon?: boolean | number;
  /** Stop by itself after this many seconds (default: only stop()). */
  seconds?: number;
  /** tracefs root (default /sys/kernel/tracing). */
  tracefs?: string;
  /** Refuse a connection no mount has (default true). */
  checkConnection?: boolean;
  /** Called about every 200 ms with the number of requests captured so far. */
  onProgress?: (requests: number) => void;
  /**
   * Sees, as the capture is written, what `fuselens trace` will read in it (strace: each request with its requester's
   * name), from the reader that counts the requests: a follower (server/trace/track.ts) decodes no line a second time.
   */
  sink?: TraceSink;
}

export interface CaptureResult {
  file: string;
  format: TraceFormat;
  /** Requests seen while capturing that expect a reply (tracefs: send events; strace: reads of /dev/fuse): the report's `sent`. */
  requests: number;
  /** Requests that never get a reply (FORGET, BATCH_FORGET, INTERRUPT): the report's `noReply`. */
  noReply: number;
  stoppedBy: 'time' | 'stop' | 'error';
  warnings: string[];
}

export interface Capture {
  file: string;
  format: TraceFormat;
  /** The daemon pid (strace captures). */
  daemon: number | null;
  /** What earlier captures had left and this one removed on start (stale tracefs instances, orphan straces). */
  cleaned: string[];
  /** Ends the capture (idempotent); resolves when everything is restored. */
  stop(): Promise<CaptureResult>;
  /** Resolves when the capture ends for any reason. */
  done: Promise<CaptureResult>;
}

export class CaptureError extends Error {}

export const TRACEFS = '/sys/kernel/tracing';
const FUSE_EVENTS = ['fuse_request_send', 'fuse_request_end', 'fuse_request_sent'];
const POLL_MS = 200;

export async function startCapture(options: CaptureOptions): Promise<Capture> {
  if (options.checkConnection !== false && !listMounts().mounts.some((m) => m.connection === options.connection))
    throw new CaptureError(`no FUSE mount has connection ${options.connection} (see fuselens mounts)`);
  return options.daemon ? startStraceCapture(options) : startTracefsCapture(options);
}

// ---- tracefs ----------------------------------------------------------------

interface SavedFile {
  path: string;
  value: string;
}

let instanceCounter = 0;

function readTrim(path: string): string {
  return fs.readFileSync(path, 'utf8').trim();
}

/** Sets up the trace directory; returns it with the restore list. Throws CaptureError with what to do. */
function prepareTracefs(root: string): { dir: string; instance: boolean; saved: SavedFile[]; events: string[]; cleaned: string[] } {
  if (!fs.existsSync(join(root, 'events'))) {
    throw new CaptureError(`${root} is not a mounted tracefs (mount -t tracefs nodev ${root}, as root)`);
  }
  if (!fs.existsSync(join(root, 'events', 'fuse', 'fuse_request_send'))) {
    throw new CaptureError(`this kernel has no fuse tracepoints (${root}/events/fuse/fuse_request_send; they arrived in Linux 6.12): use --daemon to strace the daemon instead`);
  }
  const cleaned = removeStaleInstances(root).map((path) => `removed the tracefs instance ${path} (its capture was killed)`);
  let dir = root;
  let instance = false;
  const name = `fuselens-${process.pid}-${instanceCounter++}`;
  try {
    fs.mkdirSync(join(root, 'instances', name));
    dir = join(root, 'instances', name);
    instance = true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new CaptureError(`cannot write to ${root}: ${code} (capturing kernel tracepoints needs root)`);
    // No instances: fall back to the top level, saving what we change.
  }
  const events = FUSE_EVENTS.filter((e) => fs.existsSync(join(dir, 'events', 'fuse', e)));
  const saved: SavedFile[] = [];
  const save = (path: string) => saved.push({ path, value: readTrim(path) });
  if (!instance) {
    save(join(dir, 'tracing_on'));
    for (const e of events) {
      save(join(dir, 'events', 'fuse', e, 'enable'));
      save(join(dir, 'events', 'fuse', e, 'filter'));
    }
  }
  return { dir, instance, saved, events, cleaned };
}

/** Our instances are `fuselens-<pid of the capturing process>-<n>`. */
const INSTANCE_NAME = /^fuselens-(\d+)-\d+$/;

/**
 * Removes the instances left by captures that were killed (SIGKILL skips every cleanup): those whose
 * pid is gone. Returns the removed instances' paths.
 */
export function removeStaleInstances(root: string = TRACEFS): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(join(root, 'instances'));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = INSTANCE_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || fs.existsSync(`/proc/${m[1]}`)) continue;
    try {
      fs.rmdirSync(join(root, 'instances', name));
      removed.push(join(root, 'instances', name));
    } catch {
      // busy (someone reads its trace_pipe) or already gone
    }
  }
  return removed;
}

function restoreTracefs(t: { dir: string; instance: boolean; saved: SavedFile[]; events: string[] }, warnings: string[]): void {
  const tryWrite = (path: string, value: string) => {
    try {
      fs.writeFileSync(path, value + '\n');
    } catch (err) {
      warnings.push(`could not restore ${path}: ${(err as Error).message}`);
    }
  };
  for (const e of t.events) tryWrite(join(t.dir, 'events', 'fuse', e, 'enable'), '0');
  if (t.instance) {
    try {
      fs.rmdirSync(t.dir);
    } catch (err) {
      warnings.push(`could not remove the tracefs instance ${t.dir}: ${(err as Error).message}`);
    }
    return;
  }
  // A saved filter reads "none" when there is none; writing 0 clears a filter.
  for (const s of [...t.saved].reverse()) tryWrite(s.path, s.path.endsWith('/filter') && s.value === 'none' ? '0' : s.value);
}

async function startTracefsCapture(options: CaptureOptions): Promise<Capture> {
  const root = options.tracefs ?? TRACEFS;
  const t = prepareTracefs(root);
  const warnings: string[] = [];
  let restored = false;
  const restoreOnce = () => {
    if (restored) return;
    restored = true;
    restoreTracefs(t, warnings);
  };
  const onExit = () => restoreOnce();
  process.on('exit', onExit);

  let out: number | null = null;
  let pipe: number | null = null;
  try {
    out = fs.openSync(options.output, 'w');
    fs.writeSync(out, formatCaptureHeader({ format: 'ftrace', connection: options.connection, started: new Date().toISOString(), tracefs: t.dir }));
    for (const e of t.events) fs.writeFileSync(join(t.dir, 'events', 'fuse', e, 'filter'), `connection == ${options.connection}\n`);
    fs.writeFileSync(join(t.dir, 'tracing_on'), '1\n');
    for (const e of t.events) fs.writeFileSync(join(t.dir, 'events', 'fuse', e, 'enable'), '1\n');
    pipe = fs.openSync(join(t.dir, 'trace_pipe'), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    if (pipe !== null) fs.closeSync(pipe);
    if (out !== null) fs.closeSync(out);
    restoreOnce();
    process.off('exit', onExit);
    throw err instanceof CaptureError ? err : new CaptureError(`could not set up tracefs in ${t.dir}: ${(err as Error).message}`);
  }

  const outFd = out;
  const pipeFd = pipe;
  const counter = new RequestCounter('ftrace', options.connection, options.sink);
  const buf = Buffer.alloc(1 << 20);
  /** Copies what trace_pipe has now; false when it would block. */
  const drain = () => {
    for (;;) {
      const n = readNonBlocking(pipeFd, buf);
      if (n <= 0) return;
      counter.feed(buf.subarray(0, n));
      let off = 0;
      while (off < n) off += fs.writeSync(outFd, buf, off, n - off);
    }
  };

  return runLoop({
    format: 'ftrace',
    file: options.output,
    daemon: null,
    cleaned: t.cleaned,
    seconds: options.seconds,
    onProgress: options.onProgress,
    tick: () => {
      drain();
      return counter.count;
    },
    finish: async () => {
      try {
        drain();
      } finally {
        fs.closeSync(pipeFd);
        fs.closeSync(outFd);
        restoreOnce();
        process.off('exit', onExit);
      }
      return { requests: counter.end(), noReply: counter.noReply, warnings };
    },
  });
}

/**
 * Counts the requests of a capture as it is written, with the reader `fuselens trace` uses, so the
 * live count and the final one are those the trace will show (a strace read that returned no
 * request, the read strace detaches from, a half of an unfinished call: none counts). What the
 * reader gives goes on to `follower`, each request named by `nameOf` first (strace: the name the
 * capture writes into the file before the request's line, which `fuselens trace` gives it too).
 */
class RequestCounter {
  count = 0;
  noReply = 0;
  private readonly reader: TraceReader;
  private readonly splitter: LineSplitter;

  constructor(format: TraceFormat, connection: number, follower?: TraceSink, nameOf?: (pid: number) => string | null) {
    const sink: TraceSink = {
      event: (e) => {
        if (e.kind === 'send') {
          if (e.pid !== null && nameOf) e.comm ??= nameOf(e.pid);
          if (expectsReply(e.opcode)) this.count++;
          else this.noReply++;
        }
        follower?.event(e);
      },
      lost: (count, cpu) => follower?.lost(count, cpu),
      bad: (lineNo, why, text) => follower?.bad(lineNo, why, text),
      warning: (text) => follower?.warning(text),
    };
    // The connection the capture's header names, as the file's reader takes it from there.
    this.reader = createReader(format, sink, { connection });
    this.splitter = new LineSplitter((buf, start, end, lineNo) => this.reader.line(buf, start, end, lineNo));
  }

  feed(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  /** One line, for a caller that splits lines itself. */
  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    this.reader.line(buf, start, end, lineNo);
  }

  /** The end of the capture: the last line may lack its newline. */
  end(): number {
    this.splitter.end();
    this.reader.finish();
    return this.count;
  }
}

// ---- strace -----------------------------------------------------------------

/**
 * No `-P /dev/fuse`: it would drop the vmsplice that puts a spliced reply's header into its pipe and the
 * openat of a backing file before FUSE_DEV_IOC_BACKING_OPEN. Instead -y names every descriptor and the
 * reader keeps /dev/fuse's (and the pipes spliced into it); the syscall list keeps the cost near -P's:
 * the daemon's file I/O (pread/pwrite, splice from files aside) is not traced.
 */
export const STRACE_ARGS = ['-f', '-y', '-e', 'trace=read,readv,write,writev,splice,vmsplice,ioctl,openat', '-xx', '-s', '1048576', '-tt', '-T'];

function findDaemon(connection: number): number {
  const { mounts } = listMounts();
  const m = mounts.find((x) => x.connection === connection);
  if (!m) throw new CaptureError(`no FUSE mount has connection ${connection} (see fuselens mounts)`);
  if (!m.daemon) throw new CaptureError(`the daemon of connection ${connection} (${m.mountpoint}) was not found${m.daemonNote ? `: ${m.daemonNote}` : ''}; pass its pid with --daemon PID`);
  return m.daemon.pid;
}

/** The strace command line of a capture of `pid`: one place, so that an orphan of ours is recognised by it. */
function straceArgv(pid: number): string[] {
  // strace writes to our pipe and we write the file, so that the name of each requesting process, read
  // from /proc while it still exists, goes in as a line before its first request (straceCommLine). `-o |cat`
  // keeps the -o line format ("TID time ..."); /dev/stdout cannot be opened on node's stdio socket.
  return ['strace', ...STRACE_ARGS, '-o', '|cat', '-p', String(pid)];
}

export interface OrphanStrace {
  /** The strace process. */
  pid: number;
  /** The process it traces. */
  tracee: number;
}

/**
 * straces of ours whose capture is gone: our exact command line, reparented to init. (Since every
 * capture runs strace under PR_SET_PDEATHSIG they die with it; these are from older versions, or from
 * a capture whose strace was started by hand the same way.)
 */
export function orphanStraces(procRoot = '/proc'): OrphanStrace[] {
  const out: OrphanStrace[] = [];
  for (const entry of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(join(procRoot, entry, 'comm'), 'utf8') !== 'strace\n') continue;
      const argv = fs.readFileSync(join(procRoot, entry, 'cmdline'), 'utf8').split('\0').slice(0, -1);
      const tracee = Number(argv.at(-1));
      if (!Number.isInteger(tracee) || argv.join('\0') !== straceArgv(tracee).join('\0')) continue;
      const ppid = /^PPid:\s+(\d+)/m.exec(fs.readFileSync(join(procRoot, entry, 'status'), 'utf8'))?.[1];
      if (ppid === '1') out.push({ pid: Number(entry), tracee });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Detaches orphan straces (SIGINT: strace detaches and exits); resolves with those that went within 2 s. */
export async function stopOrphanStraces(orphans: OrphanStrace[]): Promise<OrphanStrace[]> {
  for (const o of orphans) {
    try {
      process.kill(o.pid, 'SIGINT');
    } catch {
      // gone already
    }
  }
  const deadline = Date.now() + 2000;
  const alive = (o: OrphanStrace) => !processGone(o.pid);
  while (orphans.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return orphans.filter((o) => !alive(o));
}

async function startStraceCapture(options: CaptureOptions): Promise<Capture> {
  const pid = typeof options.daemon === 'number' ? options.daemon : findDaemon(options.connection);
  // An orphan strace of ours on this daemon would make the attach fail (EPERM): it goes first.
  const detached = await stopOrphanStraces(orphanStraces().filter((o) => o.tracee === pid));
  const outFd = fs.openSync(options.output, 'w');
  fs.writeSync(outFd, formatCaptureHeader({ format: 'strace', connection: options.connection, daemon: pid, started: new Date().toISOString() }));
  // strace dies with this process even on SIGKILL, so the daemon is never left traced. The death
  // signal follows the thread that forked (prctl PR_SET_PDEATHSIG): Node spawns from its main thread.
  const argv = ['setpriv', '--pdeathsig', 'KILL', '--', ...straceArgv(pid)];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let exited = false;
  const exit = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      exited = true;
      resolve(code);
    });
    child.on('error', (err) => {
      exited = true;
      stderr += `${err.message}\n`;
      resolve(null);
    });
  });
  const onExit = () => {
    if (!exited) child.kill('SIGINT');
  };
  process.on('exit', onExit);
  /** Each requester's name, read from /proc the first time it asks (null once it is gone), written before that line. */
  const names = new Map<number, string | null>();
  const pending: Buffer[] = [];
  const counter = new RequestCounter('strace', options.connection, options.sink, (pid) => {
    let comm = names.get(pid);
    if (comm === undefined) {
      names.set(pid, (comm = readComm(pid)));
      if (comm !== null) pending.push(Buffer.from(straceCommLine(pid, comm) + '\n'));
    }
    return comm;
  });
  const splitter = new LineSplitter((buf, start, end, lineNo) => {
    counter.line(buf, start, end, lineNo);
    pending.push(Buffer.from(buf.subarray(start, end)), NEWLINE);
  });
  const flush = () => {
    if (pending.length === 0) return;
    const chunk = Buffer.concat(pending);
    pending.length = 0;
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(outFd, chunk, off, chunk.length - off);
  };
  child.stdout!.on('data', (d: Buffer) => {
    splitter.push(d);
    flush();
  });
  // Attached when strace says so; it exits at once when it cannot attach.
  const attached = await new Promise<boolean>((resolve) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/Process \d+ attached/.test(stderr)) resolve(true);
    });
    void exit.then(() => resolve(false));
  });
  if (!attached) {
    process.off('exit', onExit);
    fs.closeSync(outFd);
    throw new CaptureError(`strace could not attach to pid ${pid}: ${stderr.trim() || 'strace exited'}`);
  }
  return runLoop({
    format: 'strace',
    file: options.output,
    daemon: pid,
    cleaned: detached.map((o) => `detached an orphan strace (pid ${o.pid}) of an earlier capture from pid ${o.tracee}`),
    seconds: options.seconds,
    onProgress: options.onProgress,
    tick: () => {
      if (exited) throw new CaptureError(`strace stopped: ${stderr.trim()}`);
      return counter.count;
    },
    finish: async () => {
      if (!exited) child.kill('SIGINT'); // strace detaches and flushes on SIGINT
      await exit; // 'close': stdout is drained too
      process.off('exit', onExit);
      splitter.end();
      flush();
      fs.closeSync(outFd);
      const warnings = stderr.split('\n').filter((l) => l && !/Process \d+ (attached|detached)/.test(l)).map((l) => `strace: ${l}`);
      return { requests: counter.end(), noReply: counter.noReply, warnings };
    },
  });
}

const NEWLINE = Buffer.from('\n');

/** The name of a requesting task (fuse_in_header.pid is a thread id; /proc/TID/comm is its name), or null once it is gone. */
function readComm(tid: number): string | null {
  return tid > 0 ? tryReadComm('/proc', tid) : null;
}

// ---- the shared loop ----------------------------------------------------------

function runLoop(c: {
  format: TraceFormat;
  file: string;
  daemon: number | null;
  cleaned: string[];
  seconds: number | undefined;
  onProgress: ((requests: number) => void) | undefined;
  tick: () => number;
  finish: () => Promise<{ requests: number; noReply: number; warnings: string[] }>;
}): Capture {
  let timer: NodeJS.Timeout | null = null;
  let ending: Promise<CaptureResult> | null = null;
  let resolveDone!: (r: CaptureResult) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<CaptureResult>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  const deadline = c.seconds === undefined ? null : Date.now() + c.seconds * 1000;
  const end = (stoppedBy: CaptureResult['stoppedBy'], error?: unknown): Promise<CaptureResult> => {
    if (ending) return ending;
    if (timer) clearTimeout(timer);
    ending = c.finish().then(
      (r) => {
        const result = { file: c.file, format: c.format, requests: r.requests, noReply: r.noReply, stoppedBy, warnings: r.warnings };
        if (error) rejectDone(error);
        else resolveDone(result);
        return result;
      },
      (err: unknown) => {
        rejectDone(error ?? err);
        throw err;
      },
    );
    return ending;
  };
  const loop = () => {
    timer = null;
    try {
      const n = c.tick();
      c.onProgress?.(n);
    } catch (err) {
      void end('error', err).catch(() => {});
      return;
    }
    if (deadline !== null && Date.now() >= deadline) {
      void end('time').catch(() => {});
      return;
    }
    timer = setTimeout(loop, deadline === null ? POLL_MS : Math.max(1, Math.min(POLL_MS, deadline - Date.now())));
  };
  timer = setTimeout(loop, 0);
  done.catch(() => {}); // callers may only use stop()
  return { file: c.file, format: c.format, daemon: c.daemon, cleaned: c.cleaned, stop: () => end('stop'), done };
}
