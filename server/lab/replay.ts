// Plays a parsed scenario on the running kernel: the lab server answers the
// FUSE side, one agent process per scenario process does the system calls.
// Produces what the kernel did at each step (the "observed" outcomes); index.ts
// sets them beside the simulator's.

import * as fs from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_STACK_DEPTH } from '../model/connection';
import type { Scenario } from '../scenario/ast';
import { isStep, targetOf } from '../scenario/syntax';
import { Agent, AGENT_GONE, AgentHub, processState, processWchan, waitGone, type AgentReply } from './agent';
import { FOPEN, INIT_FLAG_BITS, type InitFlagName } from './fuse-abi';
import { errnoName } from './libc';
import type { LabEvent } from './log';
import { LabServer, type LabInit } from './server';

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

const O = constants as unknown as { O_RDONLY: number; O_WRONLY: number; O_RDWR: number; O_DIRECT: number };
const ACCESS = { rdonly: O.O_RDONLY ?? 0, wronly: O.O_WRONLY ?? 1, rdwr: O.O_RDWR ?? 2 };
const O_DIRECT = (fs.constants as unknown as { O_DIRECT?: number }).O_DIRECT ?? 0o40000;

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

interface Proc {
  name: string;
  agent: Agent | null;
  fds: Map<string, number>;
  maps: Map<string, number>;
  blocked: Pending | null;
  exited: boolean;
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

/**
 * Replays `scenario` on this kernel. Always cleans up (unmount, agents killed,
 * temp files removed) before it settles, also when aborted or on error.
 */
export async function replayScenario(scenario: Scenario, opts: ReplayOptions = {}): Promise<ObservedStep[]> {
  const blockTimeoutMs = opts.blockTimeoutMs ?? 1500;
  const settleMs = opts.settleMs ?? 100;
  // Real path: mountinfo shows resolved paths, and isMounted must recognise the mount.
  const dir = fs.realpathSync(fs.mkdtempSync(join(tmpdir(), 'fuselens-run-')));
  const mountpoint = join(dir, 'mnt');
  const dataDir = join(dir, 'data');
  const backingDir = join(dir, 'backing');
  for (const d of [mountpoint, dataDir, backingDir]) fs.mkdirSync(d);

  // Declared files, then any file an `open` names without declaring it (the simulator lets it exist too).
  const files = [
    ...new Set(scenario.statements.flatMap((s) => (s.kind === 'file' ? [s.name.value] : s.kind === 'open' ? [s.file.value] : []))),
  ];
  let server: LabServer | undefined;
  let hub: AgentHub | undefined;
  let watchdog: { stop: () => void } | undefined;
  const observed: ObservedStep[] = [];
  const emit = (s: ObservedStep) => opts.onStep?.({ ...s });
  const abort = () => {
    if (opts.signal?.aborted) throw new AbortedError();
  };

  try {
    server = await LabServer.start({
      mountpoint,
      dataDir,
      files: files.map((name) => ({ name, content: fileContent(name) })),
      init: labInit(scenario),
      ...(opts.log && { log: opts.log }),
    });
    hub = await AgentHub.start(dir);
    watchdog = hub.watchdog(mountpoint);
    const lab = server;
    const agents = hub;

    const procs = new Map<string, Proc>();
    const handleFile = new Map<string, string>();
    const backings = new Map<string, number>();
    const backingPaths = new Map<string, string>();
    const writes = new Map<string, InFlightWrite>();
    const blocked: Pending[] = [];

    const procOf = async (name: string): Promise<Proc> => {
      let p = procs.get(name);
      if (!p) {
        p = { name, agent: await agents.spawn(), fds: new Map(), maps: new Map(), blocked: null, exited: false };
        procs.set(name, p);
      }
      return p;
    };

    /**
     * Where a process (or one thread) sleeps: `io-mode` in one of the kernel's
     * own waits a scenario can cause (a caching open or shared mmap waiting
     * for parallel writes, a write waiting for the inode lock), `other` in
     * another uninterruptible sleep that is not a wait for this server, or
     * null (running, or waiting for the server's reply).
     */
    const kernelWait = (pid: number, tid?: number): 'io-mode' | 'other' | null => {
      if (processState(pid, tid) !== 'D') return null;
      const wchan = processWchan(pid, tid);
      if (/request_wait_answer/.test(wchan) || (lab.unansweredRequests() ?? 0) > 0) return null;
      return IO_MODE_WAITS.test(wchan) ? 'io-mode' : 'other';
    };

    /**
     * Waits for an agent's answer. `blocks` when the process sleeps in an
     * io-mode wait for 3 polls in a row (a few ms), in another kernel sleep
     * for blockTimeoutMs, or has not answered at all after HARD_TIMEOUT_MS
     * (a slow machine must not turn a slow step into `blocks`).
     */
    const observe = async <T>(agent: Agent, reply: Promise<T>, tid?: number): Promise<T | 'blocks'> => {
      let result: T | undefined;
      void reply.then((r) => (result = r));
      const start = Date.now();
      let ioModePolls = 0;
      let otherSince: number | null = null;
      while (result === undefined) {
        const now = Date.now();
        if (now - start >= Math.max(HARD_TIMEOUT_MS, blockTimeoutMs)) return 'blocks';
        const wait = kernelWait(agent.pid, tid);
        ioModePolls = wait === 'io-mode' ? ioModePolls + 1 : 0;
        otherSince = wait === 'other' ? (otherSince ?? now) : null;
        if (ioModePolls >= 3 || (otherSince !== null && now - otherSince >= blockTimeoutMs)) return 'blocks';
        await sleep(2);
      }
      return result;
    };

    const outcomeOf = (r: AgentReply): string => {
      if (!r.ok && r.errno === AGENT_GONE) throw new AgentDiedError();
      return r.ok ? 'ok' : errnoName(r.errno);
    };

    /** Gives blocked steps a chance to complete after `line`. */
    const settleBlocked = async (line: number) => {
      for (const p of blocked.slice()) {
        // Up to settleMs for it to complete; it stays blocked once seen in a kernel wait 3 polls in a row.
        const proc = [...procs.values()].find((x) => x.blocked === p);
        const deadline = Date.now() + settleMs;
        let asleep = 0;
        while (p.done === undefined && Date.now() < deadline) {
          if (proc?.agent && kernelWait(proc.agent.pid, p.tid) === 'io-mode') {
            if (++asleep >= 3) break;
          } else asleep = 0;
          await sleep(2);
        }
        if (p.done !== undefined) {
          p.step.completedAt = line;
          p.step.finalOutcome = outcomeOf(p.done);
          blocked.splice(blocked.indexOf(p), 1);
          if (proc) proc.blocked = null;
          emit(p.step);
        }
      }
    };

    for (const stmt of scenario.statements) {
      if (!isStep(stmt)) continue;
      abort();
      const procName = stmt.process?.value ?? 'main';
      const step: ObservedStep = { line: stmt.line + 1, process: procName, action: stmt.kind, target: targetOf(stmt), outcome: 'ok' };
      observed.push(step);
      const skip = (why: string) => {
        step.outcome = 'skipped';
        step.note = why;
      };
      /** The process's descriptor of a handle; when it holds none, the step is skipped. */
      const fdOf = (proc: Proc, handle: string): number | undefined => {
        const fd = proc.fds.get(handle);
        if (fd === undefined) skip(`${handle} is not open in ${procName}`);
        return fd;
      };
      /** A call that may sleep in the kernel: a `blocks` step is watched until the call returns. */
      const settle = (proc: Proc, reply: Promise<AgentReply>, r: AgentReply | 'blocks', finish: (x: AgentReply) => void) => {
        if (r !== 'blocks') {
          step.outcome = outcomeOf(r);
          finish(r);
          return;
        }
        step.outcome = 'blocks';
        step.completedAt = null;
        step.finalOutcome = null;
        const pending: Pending = { step, reply };
        void reply.then((x) => {
          pending.done = x;
          finish(x);
        });
        proc.blocked = pending;
        blocked.push(pending);
      };

      if (stmt.kind === 'expect') {
        step.outcome = 'unobservable';
        step.note = 'the kernel exports no io-mode state (fuse-kernel-rules.md §7)';
      } else if (stmt.kind === 'backing') {
        const key = stmt.path?.value ?? `\0${stmt.name.value}`;
        let path = backingPaths.get(key);
        if (!path) {
          path = join(backingDir, stmt.path ? stmt.path.value.replace(/[^A-Za-z0-9_.-]/g, '_') : stmt.name.value);
          fs.writeFileSync(path, fileContent(stmt.name.value));
          backingPaths.set(key, path);
        }
        const id = lab.backingOpen(path);
        backings.set(stmt.name.value, id);
        if (id < 0) step.outcome = errnoName(id);
        else step.note = `backing id ${id}`;
      } else if (stmt.kind === 'backing-close') {
        const id = backings.get(stmt.name.value);
        if (id === undefined) skip(`no backing named ${stmt.name.value}`);
        else {
          const r = lab.backingClose(id > 0 ? id : 0);
          if (r < 0) step.outcome = errnoName(r);
        }
      } else if (stmt.kind === 'write-end') {
        // The server answers the held WRITE: not an action of any process, so
        // it happens even while the named process is blocked or gone.
        const w = writes.get(stmt.write.value);
        if (!w) skip(`no write ${stmt.write.value} in flight`);
        else {
          writes.delete(stmt.write.value);
          if (w.unique !== null) lab.releaseWrite(w.unique);
          const r = await observe(w.proc.agent!, w.reply, w.tid);
          if (r !== 'blocks' && !r.ok && r.errno === AGENT_GONE && w.proc.exited) {
            // The process exited meanwhile: its writing thread ends without reporting.
            step.note = `process ${w.proc.name} had exited; the server's reply ended its write`;
            await waitGone(w.proc.agent!.pid, blockTimeoutMs);
          } else step.outcome = r === 'blocks' ? 'blocks' : outcomeOf(r);
        }
      } else {
        const proc = await procOf(procName);
        const agent = proc.agent;
        if (proc.exited || !agent) skip(`process ${procName} has exited`);
        else if (proc.blocked) skip(`process ${procName} is blocked at line ${proc.blocked.step.line}`);
        else
          switch (stmt.kind) {
            case 'open': {
              let backingId = 0;
              if (stmt.backing?.kind === 'id') backingId = stmt.backing.id.value;
              else if (stmt.backing?.kind === 'name') backingId = Math.max(0, backings.get(stmt.backing.name.value) ?? 0);
              let openFlags = 0;
              for (const f of stmt.reply) openFlags |= (FOPEN as Record<string, number>)[f.value] ?? 0;
              lab.planOpen(stmt.file.value, { openFlags, backingId });
              const flags = ACCESS[stmt.access?.value ?? 'rdwr'] | (stmt.oDirect ? O_DIRECT : 0);
              const reply = agent.send(`open ${join(mountpoint, stmt.file.value)} ${flags}`);
              const r = await observe(agent, reply);
              lab.clearOpenPlans();
              handleFile.set(stmt.handle.value, stmt.file.value);
              const finish = (x: AgentReply) => {
                if (x.ok) proc.fds.set(stmt.handle.value, x.value);
              };
              settle(proc, reply, r, finish);
              if (r !== 'blocks' && r.ok) step.note = `fd ${r.value}`;
              break;
            }
            case 'close': {
              const fd = fdOf(proc, stmt.handle.value);
              if (fd === undefined) break;
              proc.fds.delete(stmt.handle.value);
              const r = await observe(agent, agent.send(`close ${fd}`));
              step.outcome = r === 'blocks' ? 'blocks' : outcomeOf(r);
              break;
            }
            case 'dup': {
              const fd = fdOf(proc, stmt.handle.value);
              if (fd === undefined) break;
              const r = await agent.send(`dup ${fd}`);
              step.outcome = outcomeOf(r);
              if (r.ok) {
                proc.fds.set(stmt.as.value, r.value);
                handleFile.set(stmt.as.value, handleFile.get(stmt.handle.value) ?? '');
              }
              break;
            }
            case 'mmap': {
              const fd = fdOf(proc, stmt.handle.value);
              if (fd === undefined) break;
              const reply = agent.send(`mmap ${fd} ${stmt.sharing.value === 'shared' ? 1 : 0} ${stmt.write ? 1 : 0}`);
              const r = await observe(agent, reply);
              const finish = (x: AgentReply) => {
                if (x.ok) proc.maps.set(stmt.as.value, x.value);
              };
              settle(proc, reply, r, finish);
              break;
            }
            case 'munmap': {
              const addr = proc.maps.get(stmt.mapping.value);
              if (addr === undefined) {
                skip(`${stmt.mapping.value} is not mapped in ${procName}`);
                break;
              }
              proc.maps.delete(stmt.mapping.value);
              step.outcome = outcomeOf(await agent.send(`munmap ${addr}`));
              break;
            }
            case 'fork': {
              const child = await agents.fork(agent);
              if ('errno' in child) {
                step.outcome = errnoName(child.errno);
                break;
              }
              procs.set(stmt.as.value, {
                name: stmt.as.value,
                agent: child,
                fds: new Map(proc.fds),
                maps: new Map(proc.maps),
                blocked: null,
                exited: false,
              });
              step.note = `pid ${child.pid}`;
              break;
            }
            case 'exit': {
              proc.exited = true;
              proc.fds.clear();
              proc.maps.clear();
              await agent.exit();
              break;
            }
            case 'read':
            case 'write': {
              const fd = fdOf(proc, stmt.handle.value);
              if (fd === undefined) break;
              const r = await observe(agent, agent.send(`${stmt.kind} ${fd}`));
              step.outcome = r === 'blocks' ? 'blocks' : outcomeOf(r);
              break;
            }
            case 'write-begin': {
              const fd = fdOf(proc, stmt.handle.value);
              if (fd === undefined) break;
              const held = lab.holdNextWrite(handleFile.get(stmt.handle.value) ?? '', agent.pid);
              const bg = await agent.writeInBackground(fd);
              if ('errno' in bg) {
                lab.cancelHolds();
                step.outcome = outcomeOf({ ok: false, errno: bg.errno });
                break;
              }
              const inflight: InFlightWrite = { proc, tid: bg.tid, unique: null, reply: bg.done };
              writes.set(stmt.as.value, inflight);
              // In flight once the server holds it; done at once if it never reaches the server (passthrough).
              const first = await observe(
                agent,
                Promise.race([held.then((h) => ({ held: h.unique })), bg.done.then((x) => ({ reply: x }))]),
                bg.tid,
              );
              if (first !== 'blocks' && 'held' in first) {
                inflight.unique = first.held;
                step.note = `WRITE unique ${first.held} held by the server`;
              } else if (first !== 'blocks') {
                lab.cancelHolds();
                step.outcome = outcomeOf(first.reply);
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
                proc.blocked = pending;
                blocked.push(pending);
              }
              break;
            }
          }
      }
      await settleBlocked(step.line);
      emit(step);
    }
    return observed;
  } finally {
    // Order matters: kill the agents, then end held requests and the
    // connection (which wakes anything sleeping on the mount), then wait.
    const cleanup = async () => {
      await Promise.all([hub?.close(), server?.unmount()]);
    };
    await cleanup().catch(() => undefined);
    watchdog?.stop();
    // Never walk into a mount that is still there: the walk would wait for this very process.
    if (!isMounted(mountpoint)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a path is a mountpoint in this process's namespace (from /proc/self/mountinfo). */
export function isMounted(path: string): boolean {
  const escaped = path.replace(/ /g, '\\040');
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === escaped);
}

export { AbortedError };
