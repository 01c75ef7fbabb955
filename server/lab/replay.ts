// Plays a parsed scenario on the running kernel: the lab server answers the
// FUSE side, one agent process per scenario process does the system calls.
// Produces what the kernel did at each step (the "observed" outcomes); index.ts
// sets them beside the simulator's.

import * as fs from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_STACK_DEPTH } from '../model/connection';
import type { Scenario, StepStatement } from '../scenario/ast';
import { actionOf, createAnswer, DEFAULT_PROCESS, isStep, processOf, targetOf } from '../scenario/syntax';
import { threadDeclarations } from '../scenario/simulate';
import { Agent, AGENT_GONE, AgentHub, agentBinary, agentCacheDir, processState, processWchan, isServerWait, waitGone, type AgentReply } from './agent';
import { FOPEN, INIT_FLAG_BITS, type InitFlagName, type Request } from '../abi';
import { errnoName, errnoNumber, MNT_DETACH, mount, MS_NODEV, MS_NOSUID, tgkill, umount2 } from './libc';
import { STACK_MOUNT } from './agent-source';
import type { LabEvent } from './log';
import type { U64 } from '../../protocol/u64';
import { LabServer, type HeldRequest, type LabInit, type OpenPlan } from './server';
import { startGuardian, type Guardian } from './guardian';

/** What the kernel did at one step. */
export interface ObservedStep {
  /** 1-based line. */
  line: number;
  process: string;
  action: string;
  target: string;
  /** `ok`, `blocks`, `skipped`, an errno name, or `unobservable` (expect: the kernel exports no io-mode state). */
  outcome: string;
  /** For a step that blocked: the line after which it completed, or null if it never did. */
  completedAt?: number | null;
  finalOutcome?: string | null;
  /** Why a step was skipped or what the kernel returned (fd, backing id, address). */
  note?: string;
}

export interface ReplayOptions {
  /** Every lab-jsonl event of the server. */
  log?: (event: LabEvent) => void;
  /** Called after each step (and again when a blocked step completes). */
  onStep?: (step: ObservedStep) => void;
  signal?: AbortSignal;
  /** How long a step may sleep in the kernel outside the known io-mode waits before it is called `blocks` (ms). */
  blockTimeoutMs?: number;
  /** How long a blocked step is given to complete after each later step (ms). */
  settleMs?: number;
}

/** The bytes every scenario file (and backing file) starts with: 8 KiB, so 4 KiB writes at 0 do not extend. */
export const FILE_SIZE = 8192;
/** The agent's io size and a page: it maps two of them (agent-source.ts). */
const PAGE = 4096;

const O = constants as unknown as { O_RDONLY: number; O_WRONLY: number; O_RDWR: number; O_DIRECT: number };
const ACCESS = { rdonly: O.O_RDONLY ?? 0, wronly: O.O_WRONLY ?? 1, rdwr: O.O_RDWR ?? 2 };
const O_DIRECT = (fs.constants as unknown as { O_DIRECT?: number }).O_DIRECT ?? 0o40000;
const O_TRUNC = fs.constants.O_TRUNC;
const O_CREAT = fs.constants.O_CREAT;
const O_EXCL = fs.constants.O_EXCL;
const O_APPEND = fs.constants.O_APPEND;
/** Linux's O_PATH (node has no constant for it). */
const O_PATH = 0o10000000;

class AbortedError extends Error {
  constructor() {
    super('the run was cancelled');
  }
}

/** A scenario process died without being told to (killed from outside, or crashed). */
export class AgentDiedError extends Error {
  constructor() {
    super('a scenario process (agent) died unexpectedly; the run was stopped and cleaned up');
  }
}

interface Pending {
  step: ObservedStep;
  /** The thread that sleeps, when not the process's main thread (a blocked `write … begin`). */
  tid?: number;
  reply: Promise<AgentReply>;
  done?: AgentReply;
  /** For a blocked `write … begin`: the held write appears when the lock is granted. */
  write?: string;
}

/** A scenario process's main thread, or one of its threads (`thread T of P`: then `fds` and `maps` are P's). */
interface Proc {
  name: string;
  agent: Agent | null;
  fds: Map<string, number>;
  maps: Map<string, number>;
  blocked: Pending | null;
  exited: boolean;
  /** For a main thread: its process's other threads. */
  threads: Proc[];
}

/** A request the server holds and the system call of `agent` that waits for it. */
interface HeldCall {
  unique: number;
  agent: Agent;
  reply: Promise<AgentReply>;
}

/** A RELEASE the server is to hold: `unique` once the kernel sent it (in the background, when the file is released). */
interface HeldRelease {
  unique: number | null;
  held: Promise<unknown>;
  cancel: () => void;
}

/** A `write … begin`: a pwrite on its own thread of the process. */
interface InFlightWrite {
  proc: Proc;
  tid: number;
  /** The WRITE request the server holds, once it arrived. */
  unique: number | null;
  reply: Promise<AgentReply>;
}

/**
 * wchan (the function a task sleeps in) of the kernel waits the io-mode rules
 * cause, as seen on 6.18: fuse_file_cached_io_open (a caching open or a DIO
 * shared mmap waiting for parallel direct writes), fuse_file_write_iter (a
 * direct write waiting for the inode lock); the others are lock slow paths.
 */
const IO_MODE_WAITS = /fuse_file_cached_io_open|fuse_file_io_open|fuse_file_write_iter|fuse_dio_lock|fuse_direct_write_iter|rwsem_down|down_write|down_read|inode_lock/;
const HARD_TIMEOUT_MS = 30_000;
/** How long `release R end` waits for a RELEASE the kernel sends in the background (fuse_simple_background). */
const RELEASE_ARRIVAL_MS = 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lab server's INIT answer for a scenario's `init` line (model defaults for max_stack_depth). */
export function labInit(scenario: Scenario): LabInit {
  const init = scenario.statements.find((s) => s.kind === 'init');
  const flags: InitFlagName[] = [];
  let noOpen = false;
  let maxStackDepth = 0;
  if (init?.kind === 'init') {
    for (const f of init.flags) {
      if (f.value === 'no_open') noOpen = true;
      else if (f.value in INIT_FLAG_BITS) flags.push(f.value as InitFlagName);
    }
    maxStackDepth = init.maxStackDepth?.value ?? (flags.includes('passthrough') ? DEFAULT_MAX_STACK_DEPTH : 0);
  }
  return { flags, maxStackDepth, noOpen };
}

function fileContent(name: string): Buffer {
  const line = Buffer.from(`fuselens lab file ${name}\n`);
  const b = Buffer.alloc(FILE_SIZE);
  for (let off = 0; off < FILE_SIZE; off += line.length) line.copy(b, off);
  return b;
}

type Of<K extends StepStatement['kind']> = Extract<StepStatement, { kind: K }>;

function skip(step: ObservedStep, why: string): void {
  step.outcome = 'skipped';
  step.note = why;
}

function outcomeOf(r: AgentReply): string {
  if (!r.ok && r.errno === AGENT_GONE) throw new AgentDiedError();
  return r.ok ? 'ok' : errnoName(r.errno);
}

/**
 * A scenario played on the mounted lab server: one method per statement, named
 * as Simulation's (server/scenario/simulate.ts), so the two read side by side —
 * the simulator asks the model, this asks the kernel through the agents.
 */
class Replay {
  readonly observed: ObservedStep[] = [];
  private readonly procs = new Map<string, Proc>();
  /** Handle → the scenario file it opens (a held write names its file). */
  private readonly handleFile = new Map<string, string>();
  private readonly backings = new Map<string, number>();
  private readonly backingPaths = new Map<string, string>();
  /** The overlayfs of `backing B stacked`, mounted on first use. */
  private stackMounted = false;
  private readonly writes = new Map<string, InFlightWrite>();
  /** FLUSHes the server holds (`close F begin as X`): X → the request and the call waiting for it. */
  private readonly flushes = new Map<string, HeldCall>();
  /** OPENs and READs the server holds (`open … begin as O`, `read F begin as R`), by name. */
  private readonly opens = new Map<string, HeldCall>();
  private readonly reads = new Map<string, HeldCall>();
  /** RELEASEs the server is to hold (`release F begin as R`): `unique` once it arrived. */
  private readonly releases = new Map<string, HeldRelease>();
  /** Handle → the file handle its OPEN or CREATE was answered with (a RELEASE carries it). */
  private readonly handleFh = new Map<string, U64>();
  /** The server answered a CREATE with ENOSYS: the kernel makes new files with MKNOD + OPEN (fc->no_create). */
  private noCreate = false;
  /** Held WRITEs and FLUSHes the connection's abort ended: `write W end` / `close X end` of them is skipped. */
  private readonly abortedRequests = new Set<string>();
  /** After `umount`: a create would make a file in the directory below, outside FUSE. */
  private unmounted = false;
  private readonly blocked: Pending[] = [];
  /** The requests the kernel sent FUSE_INTERRUPT for. */
  private readonly interrupts = new Set<number>();
  /** The blocked closes whose FLUSH the server holds, with its unique. */
  private readonly flushWaits = new Map<Pending, number>();

  constructor(
    private readonly lab: LabServer,
    private readonly agents: AgentHub,
    private readonly mountpoint: string,
    private readonly backingDir: string,
    private readonly opts: ReplayOptions & { blockTimeoutMs: number; settleMs: number },
    /** `thread T of P`: T → P, as the simulator reads them. */
    private readonly threadOf: ReadonlyMap<string, string> = new Map(),
    /** The declared processes (a signal may name one that has done nothing yet). */
    private readonly declared: ReadonlySet<string> = new Set(),
  ) {
    // Every FUSE_INTERRUPT the server reads, by the unique of the request it interrupts.
    lab.on('request', (req: Request) => {
      if (req.body.op === 'interrupt') this.interrupts.add(req.body.unique);
    });
  }

  async run(stmt: StepStatement): Promise<void> {
    const step: ObservedStep = { line: stmt.line + 1, process: processOf(stmt), action: actionOf(stmt), target: targetOf(stmt), outcome: 'ok' };
    this.observed.push(step);
    await this.dispatch(stmt, step);
    await this.settleBlocked(step.line);
    this.emit(step);
  }

  private emit(s: ObservedStep): void {
    this.opts.onStep?.({ ...s });
  }

  private async dispatch(s: StepStatement, step: ObservedStep): Promise<void> {
    // Not a system call of a process: the author (expect) or the server (backing ioctls, a held write's reply).
    switch (s.kind) {
      case 'expect': return this.expect(step);
      case 'backing': return this.backing(s, step);
      case 'backing-close': return this.backingClose(s, step);
      case 'write-end': return this.writeEnd(s, step);
      case 'close-end': return this.closeEnd(s, step);
      case 'open-end': return this.answerHeld(this.opens, s.open.value, 'OPEN', step);
      case 'read-end': return this.answerHeld(this.reads, s.read.value, 'READ', step);
      case 'release-begin': return this.releaseBegin(s, step);
      case 'release-end': return this.releaseEnd(s, step);
      case 'abort': return this.abort();
      case 'umount': return this.umount(s, step);
      case 'signal': return this.signal(s, step);
    }
    const proc = await this.procOf(step.process);
    const agent = proc.agent;
    if (proc.exited || !agent) return skip(step, `process ${step.process} has exited`);
    if (proc.blocked) return skip(step, `process ${step.process} is blocked at line ${proc.blocked.step.line}`);
    const inMmap = this.tasksOf(proc).find((t) => t.blocked?.step.action === 'mmap');
    if (inMmap && (s.kind === 'mmap' || s.kind === 'munmap' || s.kind === 'msync' || s.kind === 'fork')) {
      return skip(step, `thread ${inMmap.name} sleeps in mmap holding the mmap_lock: outside the language`);
    }
    switch (s.kind) {
      case 'open': return this.open(proc, agent, s, step);
      case 'close': return this.close(proc, agent, s, step);
      case 'dup': return this.dup(proc, agent, s, step);
      case 'mmap': return this.mmap(proc, agent, s, step);
      case 'munmap': return this.munmap(proc, agent, s, step);
      case 'msync': return this.msync(proc, agent, s, step);
      case 'close-begin': return this.closeBegin(proc, agent, s, step);
      case 'read-begin': return this.readBegin(proc, agent, s, step);
      case 'fork': return this.fork(proc, agent, s, step);
      case 'exit': return this.exit(proc, agent, step);
      case 'read': return this.read(proc, agent, s, step);
      case 'write': return this.write(proc, agent, s, step);
      case 'write-begin': return this.writeBegin(proc, agent, s, step);
      case 'fcntl': return this.fcntl(proc, agent, s, step);
      case 'send': return this.send(proc, agent, s, step);
    }
  }

  /** The task of a name; a process (with its declared threads) is started on its first use. */
  private async procOf(name: string): Promise<Proc> {
    let p = this.procs.get(name);
    if (p) return p;
    const of = this.threadOf.get(name);
    if (of !== undefined) {
      // Its process starts it (startThreads); one that could not be started does nothing.
      await this.procOf(of);
      return this.procs.get(name) ?? { name, agent: null, fds: new Map(), maps: new Map(), blocked: null, exited: true, threads: [] };
    }
    p = { name, agent: await this.agents.spawn(), fds: new Map(), maps: new Map(), blocked: null, exited: false, threads: [] };
    this.procs.set(name, p);
    await this.startThreads(p);
    return p;
  }

  /** A second name of the same open file (dup, send) has its file handle. */
  private copyFileHandle(from: string, to: string): void {
    const fh = this.handleFh.get(from);
    if (fh !== undefined) this.handleFh.set(to, fh);
  }

  /**
   * pthread_create of the process's declared threads, while its main thread is
   * free to take the command: a thread is there from when its process is.
   */
  private async startThreads(p: Proc): Promise<void> {
    for (const [thread, of] of this.threadOf) {
      if (of !== p.name || this.procs.has(thread) || !p.agent) continue;
      const agent = await this.agents.thread(p.agent);
      const t: Proc = { name: thread, agent: 'errno' in agent ? null : agent, fds: p.fds, maps: p.maps, blocked: null, exited: 'errno' in agent, threads: [] };
      p.threads.push(t);
      this.procs.set(thread, t);
    }
  }

  /** Every task of the process `proc` belongs to. */
  private tasksOf(proc: Proc): Proc[] {
    const group = [...this.procs.values()].find((p) => p === proc || p.threads.includes(proc)) ?? proc;
    return [group, ...group.threads];
  }

  /** The process's descriptor of a handle; when it holds none, the step is skipped. */
  private fdOf(proc: Proc, handle: string, step: ObservedStep): number | undefined {
    const fd = proc.fds.get(handle);
    if (fd === undefined) skip(step, `${handle} is not open in ${proc.name}`);
    return fd;
  }

  // ---- steps ---------------------------------------------------------------

  private expect(step: ObservedStep): void {
    step.outcome = 'unobservable';
    step.note = 'the kernel exports no io-mode state (fuse-kernel-rules.md §7)';
  }

  private backing(s: Of<'backing'>, step: ObservedStep): void {
    const pathKey = s.path?.value ?? `\0${s.name.value}`;
    const key = `${s.stacked ? 'stacked' : ''}\0${pathKey}`;
    let path = this.backingPaths.get(key);
    if (!path) {
      path = join(s.stacked ? this.stackDir() : this.backingDir, s.path ? s.path.value.replace(/[^A-Za-z0-9_.-]/g, '_') : s.name.value);
      fs.writeFileSync(path, fileContent(s.name.value));
      this.backingPaths.set(key, path);
    }
    let openFlags = fs.constants.O_RDONLY;
    if (s.fd?.value === 'o_path') openFlags = O_PATH;
    if (s.fd?.value === 'dir') {
      path = join(this.backingDir, `${s.name.value}.dir`);
      fs.mkdirSync(path, { recursive: true });
      openFlags = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY;
    }
    const id = this.lab.backingOpen(path, openFlags, s.flags?.value ?? 0);
    this.backings.set(s.name.value, id);
    if (id < 0) step.outcome = errnoName(id);
    else step.note = `backing id ${id}`;
  }

  /**
   * An overlayfs over two plain dirs of the run (s_stack_depth 1), for
   * backing files on a stacked file system. The runner detaches it at the
   * end; if the runner dies, the guardian does.
   */
  private stackDir(): string {
    const at = join(this.backingDir, '..', STACK_MOUNT);
    if (!this.stackMounted) {
      const parts = ['lower', 'upper', 'work'].map((p) => `${at}.${p}`);
      for (const d of [...parts, at]) fs.mkdirSync(d, { recursive: true });
      mount('overlay', at, 'overlay', MS_NOSUID | MS_NODEV, `lowerdir=${parts[0]},upperdir=${parts[1]},workdir=${parts[2]}`);
      this.stackMounted = true;
    }
    return at;
  }

  /** Detaches the overlayfs, if one was mounted. */
  detachStack(): void {
    if (this.stackMounted) umount2(join(this.backingDir, '..', STACK_MOUNT), MNT_DETACH);
    this.stackMounted = false;
  }

  private backingClose(s: Of<'backing-close'>, step: ObservedStep): void {
    const id = this.backings.get(s.name.value);
    if (id === undefined) return skip(step, `no backing named ${s.name.value}`);
    const r = this.lab.backingClose(id > 0 ? id : 0);
    if (r < 0) step.outcome = errnoName(r);
  }

  /** The server answers the held WRITE: not an action of any process, so it happens even while the named process is blocked or gone. */
  private async writeEnd(s: Of<'write-end'>, step: ObservedStep): Promise<void> {
    const w = this.writes.get(s.write.value);
    if (!w && this.abortedRequests.has(s.write.value)) return skip(step, `WRITE ${s.write.value} ended with the connection`);
    if (!w) return skip(step, `no write ${s.write.value} in flight`);
    this.writes.delete(s.write.value);
    if (w.unique !== null) this.lab.releaseHeld(w.unique, this.answerError(s.error?.value));
    const r = await this.observe(w.proc.agent!, w.reply, w.tid);
    if (r !== 'blocks' && !r.ok && r.errno === AGENT_GONE && w.proc.exited) {
      // The process exited meanwhile: its writing thread ends without reporting.
      step.note = `process ${w.proc.name} had exited; the server's reply ended its write`;
      await waitGone(w.proc.agent!.pid, this.opts.blockTimeoutMs);
    } else step.outcome = r === 'blocks' ? 'blocks' : outcomeOf(r);
  }

  private async open(proc: Proc, agent: Agent, s: Of<'open'>, step: ObservedStep): Promise<void> {
    let backingId = 0;
    if (s.backing?.kind === 'id') backingId = s.backing.id.value;
    else if (s.backing?.kind === 'name') backingId = Math.max(0, this.backings.get(s.backing.name.value) ?? 0);
    let openFlags = 0;
    for (const f of s.reply) openFlags |= (FOPEN as Record<string, number>)[f.value] ?? 0;
    // `create` of a name the server does not have yet reaches it as FUSE_CREATE, otherwise as FUSE_OPEN.
    if (s.create && this.unmounted) return skip(step, 'a create after umount is outside the language');
    const creates = s.create !== undefined && this.lab.nodeid(s.file.value) === undefined;
    let plan: OpenPlan = { openFlags, backingId };
    // A CREATE answered ENOSYS: the plan after it is the OPEN's that follows MKNOD (fuse_atomic_open).
    const { createRefused, replyError } = createAnswer(s, creates && !this.noCreate);
    if (replyError) {
      const errno = errnoNumber(replyError.value);
      if (errno === undefined) return skip(step, `${replyError.value} is not an errno of this system`);
      plan.error = -errno;
    }
    if (createRefused) {
      plan = { openFlags: 0, backingId: 0, error: -errnoNumber('ENOSYS')!, then: plan };
      this.noCreate = true;
    }
    if (s.hold) return this.openHeld(proc, agent, s, step, plan);
    // Under no_create the plan goes with the name to the MKNOD, which hands it to the OPEN.
    if (creates) this.lab.planCreate(s.file.value, plan);
    else if (this.lab.nodeid(s.file.value) !== undefined) this.lab.planOpen(s.file.value, plan);
    // else: a name a failed create never made; the kernel's LOOKUP answers ENOENT.
    const reply = agent.send(this.openCommand(s));
    const r = await this.observe(agent, reply);
    this.lab.clearOpenPlans();
    this.handleFile.set(s.handle.value, s.file.value);
    this.settle(proc, step, reply, r, this.opened(proc, s));
    if (r !== 'blocks' && r.ok) step.note = `fd ${r.value}`;
  }

  private openCommand(s: Of<'open'>): string {
    const flags = ACCESS[s.access?.value ?? 'rdwr'] | (s.oDirect ? O_DIRECT : 0) | (s.oTrunc ? O_TRUNC : 0) | (s.oAppend ? O_APPEND : 0)
      | (s.create ? O_CREAT : 0) | (s.oExcl ? O_EXCL : 0);
    return `open ${join(this.mountpoint, s.file.value)} ${flags}`;
  }

  /** What an open that returned keeps: its descriptor, and the file handle the server gave it. */
  private opened(proc: Proc, s: Of<'open'>): (x: AgentReply) => void {
    return (x) => {
      if (!x.ok) return;
      proc.fds.set(s.handle.value, x.value);
      const fh = this.lab.lastFileHandle(s.file.value);
      if (fh !== undefined) this.handleFh.set(s.handle.value, fh);
    };
  }

  /** `open … begin as O`: the server holds the OPEN (answering it by `plan` at `open O end`); the process waits in open. */
  private openHeld(proc: Proc, agent: Agent, s: Of<'open'>, step: ObservedStep, plan: OpenPlan): Promise<void> {
    this.handleFile.set(s.handle.value, s.file.value);
    return this.callHeld(proc, agent, step, this.openCommand(s), this.lab.holdNextOpen(s.file.value, agent.pid, plan),
      this.opens, s.hold!.value, 'OPEN', this.opened(proc, s));
  }

  /**
   * A system call of `agent` whose request the server holds (`hold`): `blocks`
   * once held (kept in `into` as `name`, for its `… end`), or the call's own
   * outcome when it returned without sending the request.
   */
  private async callHeld(
    proc: Proc, agent: Agent, step: ObservedStep, command: string, hold: { held: Promise<HeldRequest>; cancel: () => void },
    into: Map<string, HeldCall>, name: string, request: string, finish?: (x: AgentReply) => void,
  ): Promise<void> {
    const reply = agent.send(command);
    const first = await this.observe(agent, Promise.race([hold.held.then((h) => ({ held: h.unique })), reply.then((x) => ({ reply: x }))]));
    if (first !== 'blocks' && 'held' in first) {
      into.set(name, { unique: first.held, agent, reply });
      step.note = `${request} unique ${first.held} held by the server`;
      return this.settle(proc, step, reply, 'blocks', finish);
    }
    hold.cancel();
    if (first === 'blocks') return this.settle(proc, step, reply, 'blocks', finish);
    step.outcome = outcomeOf(first.reply);
    finish?.(first.reply);
    step.note = `the call sent no ${request}`;
  }

  /** close(2) whose FLUSH the server holds until `close X end`: the process waits in close meanwhile. */
  private async closeBegin(proc: Proc, agent: Agent, s: Of<'close-begin'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    proc.fds.delete(s.handle.value);
    await this.callHeld(proc, agent, step, `close ${fd}`, this.lab.holdNextFlush(this.handleFile.get(s.handle.value) ?? '', agent.pid),
      this.flushes, s.as.value, 'FLUSH');
    // A signal to this task interrupts the FLUSH it waits for.
    const call = this.flushes.get(s.as.value);
    if (call && proc.blocked) this.flushWaits.set(proc.blocked, call.unique);
  }

  /** The server answers the held FLUSH; the close returns (settleBlocked records it). */
  private closeEnd(s: Of<'close-end'>, step: ObservedStep): Promise<void> {
    return this.answerHeld(this.flushes, s.flush.value, 'FLUSH', step, s.error?.value);
  }

  /**
   * The server answers a request it holds (FLUSH, OPEN, READ); the call waiting
   * for it returns, or sleeps again in the kernel (an answered open's io-mode
   * wait), before the next step — settleBlocked records which.
   */
  private async answerHeld(held: Map<string, HeldCall>, name: string, request: string, step: ObservedStep, error?: string): Promise<void> {
    const call = held.get(name);
    if (call === undefined && this.abortedRequests.has(name)) return skip(step, `${request} ${name} ended with the connection`);
    if (call === undefined) return skip(step, `no ${request} ${name} held`);
    held.delete(name);
    this.lab.releaseHeld(call.unique, this.answerError(error));
    await this.observe(call.agent, call.reply);
  }

  /** read(2) whose READ the server holds until `read R end`: the process waits in read meanwhile. */
  private readBegin(proc: Proc, agent: Agent, s: Of<'read-begin'>, step: ObservedStep): Promise<void> | void {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    return this.callHeld(proc, agent, step, `read ${fd}`, this.lab.holdNextRead(this.handleFile.get(s.handle.value) ?? '', agent.pid),
      this.reads, s.as.value, 'READ');
  }

  /** The server is to hold the RELEASE of F's open file, known by the file handle its OPEN was given. */
  private releaseBegin(s: Of<'release-begin'>, step: ObservedStep): void {
    const fh = this.handleFh.get(s.handle.value);
    if (fh === undefined) return skip(step, `${s.handle.value} is not open`);
    const { held, cancel } = this.lab.holdNextRelease(this.handleFile.get(s.handle.value) ?? '', fh);
    const entry: HeldRelease = { unique: null, held, cancel };
    entry.held = held.then((h) => (entry.unique = h.unique));
    this.releases.set(s.as.value, entry);
    step.note = `the RELEASE of fh ${fh} will be held`;
  }

  /**
   * The server answers the held RELEASE. The kernel sends it in the background
   * once the file is released, so it is given a moment to arrive; the
   * connection's end (abort, or the superblock's after umount) ended it.
   */
  private async releaseEnd(s: Of<'release-end'>, step: ObservedStep): Promise<void> {
    const entry = this.releases.get(s.release.value);
    if (!entry && this.abortedRequests.has(s.release.value)) return skip(step, `RELEASE ${s.release.value} ended with the connection`);
    if (!entry) return skip(step, `no RELEASE ${s.release.value} held`);
    if (!this.lab.connectionAlive()) {
      this.releases.delete(s.release.value);
      entry.cancel();
      return skip(step, `RELEASE ${s.release.value} ended with the connection`);
    }
    if (entry.unique === null) await Promise.race([entry.held, sleep(RELEASE_ARRIVAL_MS)]);
    if (entry.unique === null) return skip(step, `the RELEASE of ${s.release.value} has not been sent: its file is not released`);
    this.releases.delete(s.release.value);
    this.lab.releaseHeld(entry.unique);
  }

  /** `end error=ERRNO`: the negative errno the server answers with (undefined: it performs the request). */
  private answerError(name: string | undefined): number | undefined {
    if (name === undefined) return undefined;
    return -(errnoNumber(name) ?? errnoNumber('EIO')!);
  }

  /**
   * tgkill(2) of the task (the thread of an in-flight write, a thread, or a
   * process's main thread). SIGUSR1 has a no-op handler in the agents; after
   * it the runner waits for the server to read the FUSE_INTERRUPT of the
   * held request the task waits for, if any, and notes its unique. SIGKILL
   * kills the process: its threads waiting for a held request end when it
   * is answered (settleBlocked records their calls as `killed`).
   */
  private async signal(s: Of<'signal'>, step: ObservedStep): Promise<void> {
    const name = s.task.value;
    const write = this.writes.get(name);
    if (!write && !this.procs.has(name) && !this.threadOf.has(name) && !this.declared.has(name) && name !== DEFAULT_PROCESS) {
      return skip(step, `no process, thread or write named ${name}`);
    }
    const proc = write?.proc ?? (await this.procOf(name));
    if (proc.exited || !proc.agent) return skip(step, `process ${proc.name} has exited`);
    const pid = proc.agent.pid;
    if (s.signal.value === 'SIGKILL') return this.kill(proc, pid, step);
    const err = tgkill(pid, write?.tid ?? proc.agent.tid ?? pid, constants.signals.SIGUSR1);
    // A write that never reached the server has returned, and its thread is gone: the signal reaches nobody.
    if (err === constants.errno.ESRCH && write) return void (step.note = `the thread of ${name} has ended`);
    if (err !== 0) return void (step.outcome = errnoName(err));
    const held = write ? write.unique : (this.flushOf(proc) ?? null);
    if (held === null) return;
    const deadline = Date.now() + this.opts.blockTimeoutMs;
    while (!this.interrupts.has(held) && Date.now() < deadline) await sleep(2);
    step.note = this.interrupts.has(held) ? `FUSE_INTERRUPT of unique ${held} read by the server` : `no FUSE_INTERRUPT of unique ${held} seen`;
  }

  /** SIGKILL to the process (exit_group, as `exit`). */
  private async kill(proc: Proc, pid: number, step: ObservedStep): Promise<void> {
    const tasks = this.endGroup(proc, step);
    if (!tasks) return;
    process.kill(pid, 'SIGKILL');
    // Its main thread ends at once, unless it waits for a held FLUSH (then it ends after the answer).
    if (!tasks[0]!.blocked) await waitGone(pid, this.opts.blockTimeoutMs);
  }

  /** The unique of the FLUSH the server holds for the task's close, if it waits in one. */
  private flushOf(task: Proc): number | undefined {
    return task.blocked ? this.flushWaits.get(task.blocked) : undefined;
  }

  /**
   * 1 to the connection's fusectl abort file: the kernel ends the held
   * requests itself (their processes' calls return, settleBlocked records
   * how), so a later `write W end` or `close X end` has nothing to answer.
   */
  private async abort(): Promise<void> {
    for (const [name, w] of this.writes) {
      if (w.unique === null) continue;
      this.abortedRequests.add(name);
      this.writes.delete(name);
    }
    for (const held of [this.flushes, this.opens, this.reads]) {
      for (const name of held.keys()) this.abortedRequests.add(name);
      held.clear();
    }
    for (const [name, r] of this.releases) {
      r.cancel();
      this.abortedRequests.add(name);
    }
    this.releases.clear();
    this.lab.abort();
  }

  /** umount2(2) of the lab mount by the runner (no agent has its cwd there); the run's cleanup copes with a mount already gone. */
  private umount(s: Of<'umount'>, step: ObservedStep): void {
    const err = umount2(this.mountpoint, s.lazy ? MNT_DETACH : 0);
    if (err !== 0) step.outcome = errnoName(err);
    else this.unmounted = true;
  }

  /** sendmsg(SCM_RIGHTS) to the receiving agent's socket, then its recvmsg: a descriptor of the same open file. */
  private async send(proc: Proc, agent: Agent, s: Of<'send'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    const to = await this.procOf(s.to.value);
    if (to.exited || !to.agent) return skip(step, `process ${to.name} has exited`);
    if (to.blocked) return skip(step, `process ${to.name} is blocked at line ${to.blocked.step.line}`);
    for (const [who, command] of [[to.agent, 'fdsock'], [agent, `sendfd ${fd} ${to.agent.pid}`]] as const) {
      const r = await who.send(command);
      if (!r.ok) {
        step.outcome = outcomeOf(r);
        step.note = `${command.split(' ')[0]} failed`;
        return;
      }
    }
    const got = await to.agent.send('recvfd');
    step.outcome = outcomeOf(got);
    if (!got.ok) return;
    const name = (s.as ?? s.handle).value;
    to.fds.set(name, got.value);
    this.handleFile.set(name, this.handleFile.get(s.handle.value) ?? '');
    this.copyFileHandle(s.handle.value, name);
    step.note = `fd ${got.value} in ${to.name}`;
  }

  private async fcntl(proc: Proc, agent: Agent, s: Of<'fcntl'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    let flags = 0;
    for (const f of s.setfl) flags |= f.value === 'o_direct' ? O_DIRECT : O_APPEND;
    step.outcome = outcomeOf(await agent.send(`setfl ${fd} ${flags}`));
  }

  private async close(proc: Proc, agent: Agent, s: Of<'close'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    proc.fds.delete(s.handle.value);
    const r = await this.observe(agent, agent.send(`close ${fd}`));
    step.outcome = r === 'blocks' ? 'blocks' : outcomeOf(r);
  }

  private async dup(proc: Proc, agent: Agent, s: Of<'dup'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    const r = await agent.send(`dup ${fd}`);
    step.outcome = outcomeOf(r);
    if (r.ok) {
      proc.fds.set(s.as.value, r.value);
      this.handleFile.set(s.as.value, this.handleFile.get(s.handle.value) ?? '');
      this.copyFileHandle(s.handle.value, s.as.value);
    }
  }

  private async mmap(proc: Proc, agent: Agent, s: Of<'mmap'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    const reply = agent.send(`mmap ${fd} ${s.sharing.value === 'shared' ? 1 : 0} ${s.write ? 1 : 0}`);
    const r = await this.observe(agent, reply);
    this.settle(proc, step, reply, r, (x) => {
      if (x.ok) proc.maps.set(s.as.value, x.value);
    });
  }

  private async munmap(proc: Proc, agent: Agent, s: Of<'munmap'>, step: ObservedStep): Promise<void> {
    const addr = proc.maps.get(s.mapping.value);
    if (addr === undefined) return skip(step, `${s.mapping.value} is not mapped in ${proc.name}`);
    // The agent maps two pages; `part` unmaps the first, the rest goes with the whole range.
    if (!s.part) proc.maps.delete(s.mapping.value);
    step.outcome = outcomeOf(await agent.send(`munmap ${addr} ${s.part ? PAGE : 2 * PAGE}`));
  }

  /** msync(MS_SYNC) of the mapping's last page; it may wait for the inode lock. */
  private async msync(proc: Proc, agent: Agent, s: Of<'msync'>, step: ObservedStep): Promise<void> {
    const addr = proc.maps.get(s.mapping.value);
    if (addr === undefined) return skip(step, `${s.mapping.value} is not mapped in ${proc.name}`);
    const reply = agent.send(`msync ${addr}`);
    this.settle(proc, step, reply, await this.observe(agent, reply), () => undefined);
  }

  private async fork(proc: Proc, agent: Agent, s: Of<'fork'>, step: ObservedStep): Promise<void> {
    const child = await this.agents.fork(agent);
    if ('errno' in child) {
      step.outcome = errnoName(child.errno);
      return;
    }
    const forked: Proc = { name: s.as.value, agent: child, fds: new Map(proc.fds), maps: new Map(proc.maps), blocked: null, exited: false, threads: [] };
    this.procs.set(s.as.value, forked);
    await this.startThreads(forked);
    step.note = `pid ${child.pid}`;
  }

  /**
   * _exit(2) in any thread: exit_group, every thread of the process ends (a
   * thread waiting for a held FLUSH after its answer). Skipped, as in the
   * simulator, while a thread sleeps in the kernel otherwise.
   */
  private async exit(proc: Proc, agent: Agent, step: ObservedStep): Promise<void> {
    const tasks = this.endGroup(proc, step);
    if (!tasks) return;
    // A main thread waiting for a held FLUSH ends only after the answer.
    await agent.exit(tasks[0]!.blocked ? 0 : undefined);
  }

  /**
   * exit_group: every thread of the process is gone (or, waiting for a held
   * FLUSH, will be after the answer); its tasks, main thread first. Undefined,
   * and the step skipped as in the simulator, while a thread sleeps in the
   * kernel otherwise: its end after the kill is not modelled.
   */
  private endGroup(proc: Proc, step: ObservedStep): Proc[] | undefined {
    const tasks = this.tasksOf(proc);
    const asleep = tasks.find((t) => t.blocked && this.flushOf(t) === undefined);
    if (asleep) {
      skip(step, `thread ${asleep.name} sleeps in the kernel (line ${asleep.blocked!.step.line}): outside the language`);
      return undefined;
    }
    for (const t of tasks) t.exited = true;
    proc.fds.clear();
    proc.maps.clear();
    return tasks;
  }

  private async read(proc: Proc, agent: Agent, s: Of<'read'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    const reply = agent.send(`read ${fd}`);
    this.settle(proc, step, reply, await this.observe(agent, reply));
  }

  /** A write asleep on the inode lock completes when the lock is granted (the server answers it at once). */
  private async write(proc: Proc, agent: Agent, s: Of<'write'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    const reply = agent.send(`write ${fd}`);
    this.settle(proc, step, reply, await this.observe(agent, reply));
  }

  /** A pwrite on its own thread of the process, which the server holds until `write W end`. */
  private async writeBegin(proc: Proc, agent: Agent, s: Of<'write-begin'>, step: ObservedStep): Promise<void> {
    const fd = this.fdOf(proc, s.handle.value, step);
    if (fd === undefined) return;
    const { held, cancel } = this.lab.holdNextWrite(this.handleFile.get(s.handle.value) ?? '', agent.pid);
    const bg = await agent.writeInBackground(fd);
    if ('errno' in bg) {
      cancel();
      step.outcome = outcomeOf({ ok: false, errno: bg.errno });
      return;
    }
    const inflight: InFlightWrite = { proc, tid: bg.tid, unique: null, reply: bg.done };
    this.writes.set(s.as.value, inflight);
    // In flight once the server holds it; done at once if it never reaches the server (passthrough).
    const first = await this.observe(
      agent,
      Promise.race([held.then((h) => ({ held: h.unique })), bg.done.then((x) => ({ reply: x }))]),
      bg.tid,
    );
    if (first !== 'blocks' && 'held' in first) {
      inflight.unique = first.held;
      step.note = `WRITE unique ${first.held} held by the server`;
    } else if (first !== 'blocks') {
      cancel();
      step.outcome = outcomeOf(first.reply);
      // A write that failed (ENOTCONN after an abort) left nothing in flight to answer.
      if (!first.reply.ok) this.writes.delete(s.as.value);
      step.note = 'the write completed without reaching the server';
    } else {
      step.outcome = 'blocks';
      step.completedAt = null;
      step.finalOutcome = null;
      const pending: Pending = { step, tid: bg.tid, reply: held.then(() => ({ ok: true, value: 0 }) as AgentReply) };
      void held.then((h) => {
        inflight.unique = h.unique;
        pending.done = { ok: true, value: 0 };
      });
      // Done without the server holding it: woken after an abort, it fails (ENOTCONN) and nothing is left to answer.
      void bg.done.then((x) => {
        if (inflight.unique !== null) return;
        cancel();
        pending.done = x;
        if (x.ok) return;
        this.writes.delete(s.as.value);
        this.abortedRequests.add(s.as.value);
      });
      proc.blocked = pending;
      this.blocked.push(pending);
    }
  }

  // ---- sleeping in the kernel ----------------------------------------------

  /**
   * Where a process (or one thread) sleeps: `io-mode` in one of the kernel's
   * own waits a scenario can cause (a caching open or shared mmap waiting
   * for parallel writes, a write waiting for the inode lock), `other` in
   * another uninterruptible sleep that is not a wait for this server, or
   * null (running, or waiting for the server's reply).
   */
  private kernelWait(pid: number, tid?: number): 'io-mode' | 'other' | null {
    if (processState(pid, tid) !== 'D') return null;
    const wchan = processWchan(pid, tid);
    if (isServerWait(wchan) || (this.lab.unansweredRequests() ?? 0) > 0) return null;
    return IO_MODE_WAITS.test(wchan) ? 'io-mode' : 'other';
  }

  /**
   * Waits for an agent's answer. `blocks` when the process sleeps in an
   * io-mode wait for 3 polls in a row (a few ms), in another kernel sleep
   * for blockTimeoutMs, or has not answered at all after HARD_TIMEOUT_MS
   * (a slow machine must not turn a slow step into `blocks`).
   */
  private async observe<T>(agent: Agent, reply: Promise<T>, tid?: number): Promise<T | 'blocks'> {
    const { blockTimeoutMs } = this.opts;
    let result: T | undefined;
    void reply.then((r) => (result = r));
    const start = Date.now();
    let ioModePolls = 0;
    let otherSince: number | null = null;
    while (result === undefined) {
      const now = Date.now();
      if (now - start >= Math.max(HARD_TIMEOUT_MS, blockTimeoutMs)) return 'blocks';
      const wait = this.kernelWait(agent.pid, tid ?? agent.tid);
      ioModePolls = wait === 'io-mode' ? ioModePolls + 1 : 0;
      otherSince = wait === 'other' ? (otherSince ?? now) : null;
      if (ioModePolls >= 3 || (otherSince !== null && now - otherSince >= blockTimeoutMs)) return 'blocks';
      await sleep(2);
    }
    return result;
  }

  /**
   * A call that may sleep in the kernel: a `blocks` step is watched until the
   * call returns (settleBlocked records the line after which it did), and its
   * process does nothing meanwhile, as in the simulator.
   */
  private settle(proc: Proc, step: ObservedStep, reply: Promise<AgentReply>, r: AgentReply | 'blocks', finish?: (x: AgentReply) => void): void {
    if (r !== 'blocks') {
      step.outcome = outcomeOf(r);
      finish?.(r);
      return;
    }
    step.outcome = 'blocks';
    step.completedAt = null;
    step.finalOutcome = null;
    const pending: Pending = { step, reply };
    void reply.then((x) => {
      pending.done = x;
      finish?.(x);
    });
    proc.blocked = pending;
    this.blocked.push(pending);
  }

  /** Gives blocked steps a chance to complete after `line`. */
  private async settleBlocked(line: number): Promise<void> {
    for (const p of this.blocked.slice()) {
      // Up to settleMs for it to complete; it stays blocked once seen in a kernel wait 3 polls in a row.
      const proc = [...this.procs.values()].find((x) => x.blocked === p);
      const deadline = Date.now() + this.opts.settleMs;
      let asleep = 0;
      while (p.done === undefined && Date.now() < deadline) {
        if (proc?.agent && this.kernelWait(proc.agent.pid, p.tid ?? proc.agent.tid) === 'io-mode') {
          if (++asleep >= 3) break;
        } else asleep = 0;
        await sleep(2);
      }
      if (p.done !== undefined) {
        p.step.completedAt = line;
        // A call of a killed process returns into a dying thread: its agent never answers.
        const killed = proc?.exited && !p.done.ok && p.done.errno === AGENT_GONE;
        p.step.finalOutcome = killed ? 'killed' : outcomeOf(p.done);
        this.blocked.splice(this.blocked.indexOf(p), 1);
        this.flushWaits.delete(p);
        if (proc) proc.blocked = null;
        this.emit(p.step);
      }
    }
  }
}

/**
 * Replays `scenario` on this kernel. Always cleans up (unmount, agents killed,
 * temp files removed) before it settles, also when aborted or on error.
 */
export async function replayScenario(scenario: Scenario, opts: ReplayOptions = {}): Promise<ObservedStep[]> {
  const blockTimeoutMs = opts.blockTimeoutMs ?? 1500;
  const settleMs = opts.settleMs ?? 100;
  // The guardian is up before anything exists on the system: from here on, even a SIGKILL of
  // this process leaves nothing behind (guardian.ts). Without a cache the agent is compiled
  // into a private dir the guardian removes too.
  const cache = agentCacheDir();
  const buildDir = cache ?? fs.mkdtempSync(join(tmpdir(), 'fuselens-build-'));
  let binary: string;
  let guardian: Guardian;
  try {
    binary = agentBinary(buildDir);
    guardian = await startGuardian(binary, cache ? [] : [buildDir]);
  } catch (err) {
    if (!cache) fs.rmSync(buildDir, { recursive: true, force: true });
    throw err;
  }
  const dir = guardian.dir;
  const mountpoint = join(dir, 'mnt');
  const dataDir = join(dir, 'data');
  const backingDir = join(dir, 'backing');

  const files = filesAtStart(scenario);
  let server: LabServer | undefined;
  let hub: AgentHub | undefined;
  let replay: Replay | undefined;

  try {
    for (const d of [mountpoint, dataDir, backingDir]) fs.mkdirSync(d);
    server = await LabServer.start({
      mountpoint,
      dataDir,
      files: files.map((name) => ({ name, content: fileContent(name) })),
      newFileContent: fileContent,
      init: labInit(scenario),
      ...(opts.log && { log: opts.log }),
    });
    hub = await AgentHub.start(dir, binary);
    const processes = scenario.statements.flatMap((s) => (s.kind === 'process' ? [s.name] : []));
    replay = new Replay(server, hub, mountpoint, backingDir, { ...opts, blockTimeoutMs, settleMs },
      threadDeclarations(scenario.statements, processes, []), new Set(processes.map((p) => p.value)));
    for (const stmt of scenario.statements) {
      if (!isStep(stmt)) continue;
      if (opts.signal?.aborted) throw new AbortedError();
      await replay.run(stmt);
    }
    return replay.observed;
  } finally {
    // Order matters: kill the agents, then end held requests and the
    // connection (which wakes anything sleeping on the mount), then wait.
    const cleanup = async () => {
      await Promise.all([hub?.close(), server?.unmount()]);
    };
    await cleanup().catch(() => undefined);
    replay?.detachStack();
    // Never walk into a mount that is still there: the walk would wait for this very process.
    // The guardian detaches what is left once released.
    if (!isMounted(mountpoint)) fs.rmSync(dir, { recursive: true, force: true });
    if (!cache) fs.rmSync(buildDir, { recursive: true, force: true });
    guardian.release();
  }
}

/**
 * The files the server has before the first step: the declared ones, then any
 * file an `open` names without declaring it (the simulator lets it exist too)
 * unless a `create` makes it first.
 */
function filesAtStart(scenario: Scenario): string[] {
  const declared = new Set<string>();
  const later = new Set<string>();
  for (const s of scenario.statements) {
    if (s.kind === 'file') declared.add(s.name.value);
    else if (s.kind === 'open' && !declared.has(s.file.value)) {
      if (s.create) later.add(s.file.value);
      else if (!later.has(s.file.value)) declared.add(s.file.value);
    }
  }
  return [...declared];
}

/** Whether a path is a mountpoint in this process's namespace (from /proc/self/mountinfo). */
export function isMounted(path: string): boolean {
  const escaped = path.replace(/ /g, '\\040');
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === escaped);
}

export { AbortedError };
