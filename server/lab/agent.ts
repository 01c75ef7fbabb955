// Scenario processes as real OS processes: compiles the C agent
// (agent-source.ts) once per source version, listens on a Unix socket for
// agents to connect (the first one spawned from here, the others born by
// fork(2) inside an agent), and sends them one command at a time.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AGENT_C_SOURCE } from './agent-source';

/** The errno of a reply that never came: the agent's connection closed (it died). */
export const AGENT_GONE = -1;

/** A reply from an agent: the value (fd, pid, address, byte count) or the errno number (AGENT_GONE if it died). */
export type AgentReply = { ok: true; value: number } | { ok: false; errno: number };

/**
 * Where compiled agents are kept: `$XDG_CACHE_HOME/fuselens` or
 * `~/.cache/fuselens`, if it is ours and nobody else can write it (root runs
 * this binary: a world-writable /tmp would let anyone plant one). Otherwise
 * null: the caller compiles into a private temp dir each time.
 */
export function agentCacheDir(): string | null {
  const dir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fuselens');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = fs.lstatSync(dir);
    if (st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0) return dir;
  } catch {
    // unwritable home: no cache
  }
  return null;
}

/** Compiles the agent into `cacheDir` unless a binary for this source is there; returns its path. */
export function agentBinary(cacheDir: string): string {
  const hash = createHash('sha256').update(AGENT_C_SOURCE).digest('hex').slice(0, 16);
  const bin = join(cacheDir, `fuselens-agent-${hash}`);
  if (fs.existsSync(bin)) return bin;
  const src = `${bin}.${process.pid}.c`;
  fs.writeFileSync(src, AGENT_C_SOURCE);
  try {
    execFileSync('cc', ['-O2', '-pthread', '-o', `${bin}.${process.pid}`, src], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    throw new Error(
      e.code === 'ENOENT'
        ? 'fuselens run needs a C compiler (cc) to build its process agent (fork must be a real fork(2)); install gcc'
        : `compiling the process agent failed: ${e.stderr?.toString() ?? e.message}`,
    );
  } finally {
    fs.rmSync(src, { force: true });
  }
  fs.renameSync(`${bin}.${process.pid}`, bin);
  return bin;
}

export class Agent {
  private readonly waiting: Array<(r: AgentReply) => void> = [];
  private readonly background = new Map<number, (r: AgentReply) => void>();
  private nextWriteId = 1;
  private buffered = '';
  /** Set when the agent's connection closed (it exited or was killed). */
  closed = false;

  constructor(
    readonly pid: number,
    /** The thread that runs this agent's commands, when not the process's main thread (`thread T of P`). */
    readonly tid: number | undefined,
    private readonly socket: Socket,
    initial: string,
  ) {
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w({ ok: false, errno: AGENT_GONE });
      for (const w of this.background.values()) w({ ok: false, errno: AGENT_GONE });
      this.background.clear();
    });
    socket.on('error', () => undefined);
    socket.on('data', (d) => this.onData(d.toString()));
    if (initial) this.onData(initial);
  }

  private onData(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const [status, value, result] = line.split(' ');
      if (status === 'done') {
        const n = Number(result);
        this.background.get(Number(value))?.(n < 0 ? { ok: false, errno: -n } : { ok: true, value: n });
        this.background.delete(Number(value));
        continue;
      }
      const reply: AgentReply = status === 'ok' ? { ok: true, value: Number(value) } : { ok: false, errno: Number(value) };
      this.waiting.shift()?.(reply);
    }
  }

  /** Sends one command; the promise settles when the agent answers (it may never, if blocked). */
  send(command: string): Promise<AgentReply> {
    if (this.closed) return Promise.resolve({ ok: false, errno: AGENT_GONE });
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(command + '\n');
    });
  }

  /**
   * pwrite(2) of 4 KiB at offset 0 on a new thread of the process: resolves
   * with the thread's id once it runs; `done` settles when the write returns.
   */
  async writeInBackground(fd: number): Promise<{ tid: number; done: Promise<AgentReply> } | { errno: number }> {
    const id = this.nextWriteId++;
    const done = new Promise<AgentReply>((resolve) => this.background.set(id, resolve));
    const r = await this.send(`writebg ${fd} ${id}`);
    if (!r.ok) {
      this.background.delete(id);
      return { errno: r.errno };
    }
    return { tid: r.value, done };
  }

  /**
   * Tells the agent to _exit(2) (exit_group, from whichever thread runs it)
   * and resolves once it has exited (waitGone). A thread stuck in a FUSE
   * request (a held write) keeps the process's descriptors until that request
   * is answered, as the kernel does; `closed` then turns true later.
   */
  async exit(timeoutMs = 5000): Promise<void> {
    this.socket.write('exit\n');
    await waitGone(this.pid, timeoutMs);
  }


  kill(): void {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    this.socket.destroy();
  }
}

/**
 * Polls /proc until the process has exited: gone, or its main thread a zombie with no other
 * thread left but those asleep in a FUSE request the server holds (they keep the descriptor
 * table until answered, as the kernel does). A zombie main thread alone is not enough: in
 * exit_group it turns zombie while the other threads still exit, and the last of them puts
 * the descriptor table and releases the files (a passthrough open just after was refused
 * now and then while a thread still held the caching file).
 */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const state = processState(pid);
    if (state === null || ((state === 'Z' || state === 'X') && !threadsExiting(pid))) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}

/** Whether a thread of `pid` other than its main one is still there and not asleep in a FUSE request. */
function threadsExiting(pid: number): boolean {
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false; // reaped meanwhile
  }
  return tids.some((tid) => Number(tid) !== pid && !isServerWait(processWchan(pid, Number(tid))));
}

/** Whether a wchan is the wait of a FUSE request for the server's answer (fs/fuse/dev.c request_wait_answer). */
export function isServerWait(wchan: string): boolean {
  return /request_wait_answer/.test(wchan);
}

/** The state letter of /proc/PID/stat (R, S, D, Z, ...), or null if the process is gone. */
export function processState(pid: number, tid?: number): string | null {
  try {
    const stat = fs.readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

/** /proc/PID/wchan: the kernel function a sleeping process waits in ('' if unknown). */
export function processWchan(pid: number, tid?: number): string {
  try {
    return fs.readFileSync(tid === undefined ? `/proc/${pid}/wchan` : `/proc/${pid}/task/${tid}/wchan`, 'utf8').trim();
  } catch {
    return '';
  }
}

export class AgentHub {
  private readonly server: Server;
  private readonly agents = new Map<number, Agent>();
  private readonly expected = new Map<number, (a: Agent) => void>();
  private readonly children: ChildProcess[] = [];

  private constructor(
    private readonly binary: string,
    private readonly socketPath: string,
  ) {
    this.server = createServer((socket) => this.onConnection(socket));
  }

  /** Listens in `dir` for agents of `binary` (agentBinary). */
  static async start(dir: string, binary: string): Promise<AgentHub> {
    const hub = new AgentHub(binary, join(dir, 'agents.sock'));
    await new Promise<void>((resolve, reject) => {
      hub.server.once('error', reject);
      hub.server.listen(hub.socketPath, resolve);
    });
    return hub;
  }

  private onConnection(socket: Socket): void {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      socket.off('data', onData);
      const [, pid, tid] = (/^hello (\d+) (\d+)$/.exec(text.slice(0, nl)) ?? []).map(Number);
      const agent = new Agent(pid!, tid === pid ? undefined : tid, socket, text.slice(nl + 1));
      // Known by the thread that serves it: the process's pid for its main thread.
      this.agents.set(tid!, agent);
      this.expected.get(tid!)?.(agent);
      this.expected.delete(tid!);
    };
    socket.on('data', onData);
  }

  /** The agent served by thread `tid` (a pid for a process's main thread), once it has connected. */
  private agentFor(tid: number): Promise<Agent> {
    const known = this.agents.get(tid);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`agent ${tid} did not connect`)), 5000);
      this.expected.set(tid, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
    });
  }

  /** Starts a fresh agent process. */
  async spawn(): Promise<Agent> {
    const child = spawn(this.binary, [this.socketPath], { stdio: ['ignore', 'ignore', 'inherit'] });
    this.children.push(child);
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not start the process agent');
    return this.agentFor(pid);
  }

  /** fork(2) inside `parent`; resolves with the child's agent. */
  async fork(parent: Agent): Promise<Agent | { errno: number }> {
    const r = await parent.send('fork');
    if (!r.ok) return { errno: r.errno };
    return this.agentFor(r.value);
  }

  /** pthread_create(3) inside `parent`'s process: resolves with the new thread's agent. */
  async thread(parent: Agent): Promise<Agent | { errno: number }> {
    const r = await parent.send('thread');
    if (!r.ok) return { errno: r.errno };
    return this.agentFor(r.value);
  }

  /** Kills every agent and stops listening. */
  async close(): Promise<void> {
    for (const a of this.agents.values()) a.kill();
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    await Promise.all([...this.agents.values()].map((a) => waitGone(a.pid, 2000)));
    await new Promise<void>((r) => this.server.close(() => r()));
    fs.rmSync(this.socketPath, { force: true });
  }
}
