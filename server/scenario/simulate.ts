// Replays a parsed scenario through the kernel model (server/model) and says,
// for every step, what the kernel would do. The bookkeeping here is what the
// VFS does around fs/fuse: descriptors and mappings holding struct files,
// fork copying them, processes sleeping and waking.

import {
  backingClose, backingOpenWith, cachedIoOpen, canLock, dioWriteEnd, dioWriteStart, directIoSharedMmap, EMPTY_BACKINGS, fileIoOpen, fileIoRelease,
  fileMmap, lockGrants, writeReachesServer, FOPEN, FOPEN_PASSTHROUGH_MASK, FREE_RWSEM, IDLE_INODE, inodeMode, lock, mmapAccessError, NEWEST_KERNEL,
  openFlagsValue, parseKernelVersion, processInitReply, unlock, writeLockKind, writePath, findInitFlag, findOpenFlag,
  atLeast, isModelled, formatKernelVersion, KERNEL_GATES, MODELLED_KERNELS, unknownGates, readReachesServer,
  appendingLockKind, flushReachesServer, TRUNCATE_LOCK, FSYNC_LOCK, msyncReachesFuse,
  type AccessMode, type StatusFlags, type BackingTable, type Connection, type FileIo, type InodeIo, type KernelVersion, type LockKind,
  type MmapStep, type RuleName, type RwSem, type Step,
} from '../model';
import { rangeOf, type FlagToken, type Range, type Scenario, type Statement, type StepStatement, type SyntaxError, type Token } from './ast';
import { renderMessage } from './diagnostic-text';
import { parseScenario, scenarioSource, type ScenarioSource } from './parse';
import { actionOf, createAnswer, DEFAULT_PROCESS, processOf, targetOf, type NameKind } from './syntax';
import { DiagnosticList } from './diagnostic-list';
import { DeferredMap, DeferredSet } from './deferred-map';
import { ChurnMap, ChurnSet } from './churn-table';
import type {
  ConflictingFile, Diagnostic, DiagnosticData, InodeSnapshot, InodeState, InodeTable, Severity, SimulationResult, SimulationSummary,
  StepFacts, StepResult,
} from './result';

export interface SimulateOptions {
  /** Kernel version when the scenario has no `kernel` line (default: the newest modelled). */
  kernel?: string;
  /** Keep the first this many diagnostics by position and only count the rest (default: keep all). */
  maxDiagnostics?: number;
}

/** An open file: the kernel's struct file with its fuse_file. */
interface OpenFile {
  handle: string;
  line: number;
  inode: SimInode;
  io: FileIo;
  access: AccessMode;
  /** O_DIRECT and O_APPEND of the struct file: set at open, changed by fcntl(F_SETFL). */
  status: StatusFlags;
  /** Descriptors, mappings and in-flight writes that hold the file. */
  refs: number;
  /** Whether its release sends RELEASE: not for a file opened under no_open (fuse_file_put, ff->args NULL). */
  sendsRelease: boolean;
  /** `release F begin as R`: the name of the RELEASE the server will hold, or null. */
  heldRelease: string | null;
}

interface Mapping {
  /** null for a passthrough mapping, which holds the backing file instead. */
  file: OpenFile | null;
  shared: boolean;
}

interface Waiter {
  step: StepResult;
  statement: StepStatement;
  process: SimProcess;
  /** Runs the rest of the blocked call; returns its final outcome. */
  resume: () => Outcome;
  /**
   * The open file the sleeping call holds until it returns: in a process with
   * threads, fdget() takes a reference, so another thread's close does not release it.
   */
  holds?: OpenFile;
}

/** A task: a process's main thread, or a `thread T of P` (then `fds` and `maps` are P's). */
interface SimProcess {
  name: string;
  fds: ChurnMap<string, OpenFile>;
  maps: ChurnMap<string, Mapping>;
  blockedBy: Waiter | null;
  exitedAt: number | null;
  /** For a thread: the process whose descriptor table and mm it shares (CLONE_FILES, CLONE_VM); null for a main thread. */
  group: SimProcess | null;
  /** For a main thread: its process's other threads, as they come into being. */
  threads: SimProcess[];
}

interface SimInode {
  name: string;
  io: InodeIo;
  sem: RwSem;
  /** Cached openers and shared mmaps asleep on direct_io_waitq. */
  ioWaiters: Waiter[];
  /** Writes waiting for i_rwsem, in queue order; the lock is already theirs when they resume. */
  lockWaiters: { waiter: Waiter; kind: LockKind }[];
  /** Files not yet released, to name the ones that stand in the way. */
  live: ChurnSet<OpenFile>;
  /** The state as of `io`, made when asked for. */
  snapshot: InodeSnapshot | null;
  /** The state the last recorded step left it in (null: not recorded yet). */
  recorded: InodeSnapshot | null;
  /** Whether `changed` lists it for the step being run. */
  changing: boolean;
}

interface InFlightWrite {
  file: OpenFile;
  kind: LockKind | null;
  process: SimProcess;
  /** false while the write itself is blocked on the lock. */
  started: boolean;
  ended: boolean;
  line: number;
}

/** What a step comes to, with the facts its diagnostic states. */
interface Outcome extends StepFacts {
  rule?: RuleName;
}

const OK: Outcome = { outcome: 'ok' };
/** The final outcome of a call whose process was killed while it slept: it never returns to the process. */
const KILLED = 'killed';

/** The `inodes` of a step that changed none, shared (nobody writes to a step's table). */
const NO_CHANGE: InodeTable = Object.freeze({});

/**
 * The descriptors and mappings of an exited process: empty for good, and frozen so that
 * the checkpoints (object-graph.ts) share it as a value, as they share NO_CHANGE.
 */
class ReleasedTable<V> extends ChurnMap<string, V> {
  override set(): this {
    throw new Error('an exited process holds no file (simulate.ts releaseProcess)');
  }
}
function releasedTable<V>(): ChurnMap<string, V> {
  const table = new ReleasedTable<V>();
  Object.freeze(table);
  return table;
}
const RELEASED_FDS = releasedTable<OpenFile>();
const RELEASED_MAPS = releasedTable<Mapping>();

/**
 * The simulation between two steps: every field is state a step reads or changes, save
 * `diagnostics` and `onStep`, where its findings go. The language server copies it
 * whole as checkpoints (resume.ts); a continuation kept in it (a sleeping call's
 * `resume`) makes that step's state uncopyable, so a new field needs nothing more.
 */
export class Simulation {
  private readonly inodes = new Map<string, SimInode>();
  private readonly processes = new Map<string, SimProcess>();
  /** Processes that have not exited: the only ones that can hold files. */
  private readonly liveProcesses = new Set<SimProcess>();
  /** Handles whose open failed or never completed: using them is `skipped`. */
  private readonly failedHandles = new DeferredMap<number>();
  /** Written at every open, read only for a handle the process does not hold: deferred (deferred-map.ts). */
  private readonly knownHandles = new DeferredSet();
  private readonly writes = new ChurnMap<string, InFlightWrite>();
  /** Closes whose FLUSH the server holds (`close F begin as X`), by X. */
  private readonly heldFlushes = new Map<string, Waiter>();
  /** Opens whose OPEN the server holds (`open … begin as O`), by O. */
  private readonly heldOpens = new Map<string, Waiter>();
  /** Reads whose READ the server holds (`read F begin as R`), by R. */
  private readonly heldReads = new Map<string, Waiter>();
  /** RELEASEs the server holds or will hold (`release F begin as R`), by R; `line`: where F was opened. */
  private readonly heldReleases = new Map<string, { sent: boolean; line: number }>();
  /** fc->no_create: the server answered a CREATE with ENOSYS, so new files are made by MKNOD + OPEN. */
  private noCreate = false;
  /** The line of a umount after which the superblock went, and with it the connection (fuse_conn_destroy). */
  private connectionGoneAt: number | null = null;
  private backings: BackingTable = EMPTY_BACKINGS;
  /** Scenario backing name → the id its registration returned (0 when it failed). */
  private readonly backingIds = new Map<string, number>();
  private readonly backingNamesById = new Map<number, string>();
  private readonly backingDecl = new Map<string, Token>();
  private readonly usedBackings = new Set<string>();
  private readonly declaredProcesses = new Set<string>();
  /** `thread T of P`: T → P. */
  private readonly threadOf: ReadonlyMap<string, string>;
  private current: StepStatement | null = null;
  /** The line of the `umount` that took the mount's name away. */
  private unmountedAt: number | null = null;
  /** The line of the connection's `abort`: from then on every request fails (fuse_abort_conn). */
  private abortedAt: number | null = null;
  /** Held WRITEs and FLUSHes the abort ended (or failed to send), by name: answering them is skipped. */
  private readonly abortedRequests = new Set<string>();
  /** Inodes whose pages a cached read brought in: reading them again needs no READ, also after an abort. */
  private readonly pageCached = new Set<SimInode>();
  /** Inodes whose state the current step may have changed (set by setIo and inode creation). */
  private changed: SimInode[] = [];
  /**
   * Steps not yet handed to `onStep`: from the first one still blocked on. A step is
   * handed on once final (its wake-up recorded), in line order; `unsettledFrom` is the
   * index of the first one left in `unsettled`.
   */
  private unsettled: StepResult[] = [];
  private unsettledFrom = 0;
  /** Every inode before the first step. */
  readonly initialInodes: InodeTable;

  /** `conn` is the connection as FUSE_INIT left it; an OPEN answered ENOSYS turns on no_open later. */
  constructor(
    public conn: Connection, files: Token[], processes: Token[], threads: ReadonlyMap<string, string>, readonly diagnostics: DiagnosticList,
    private readonly onStep: (step: StepResult) => void,
  ) {
    this.threadOf = threads;
    for (const f of files) this.inode(f.value);
    for (const p of processes) this.declaredProcesses.add(p.value);
    this.process(DEFAULT_PROCESS);
    this.initialInodes = this.recordChanges();
  }

  // ---- state helpers -------------------------------------------------------

  private inode(name: string): SimInode {
    let inode = this.inodes.get(name);
    if (!inode) {
      inode = { name, io: IDLE_INODE, sem: FREE_RWSEM, ioWaiters: [], lockWaiters: [], live: new ChurnSet(), snapshot: null, recorded: null, changing: true };
      this.inodes.set(name, inode);
      this.changed.push(inode);
    }
    return inode;
  }

  hasInode(name: string): boolean {
    return this.inodes.has(name);
  }

  private setIo(inode: SimInode, io: InodeIo): void {
    if (io !== inode.io) {
      inode.io = io;
      inode.snapshot = null;
      if (!inode.changing) {
        inode.changing = true;
        this.changed.push(inode);
      }
    }
  }

  /** The task of a name: a process's main thread, or a declared thread, which comes into being with its process's first use. */
  private process(name: string): SimProcess {
    return this.processes.get(name) ?? this.newTask(name);
  }

  /** The task of a name not used before (fork makes its child here: one look-up less in a table of every process ever forked). */
  private newTask(name: string): SimProcess {
    let p: SimProcess;
    const of = this.threadOf.get(name);
    if (of !== undefined) {
      const group = this.process(of);
      p = { name, fds: group.fds, maps: group.maps, blockedBy: null, exitedAt: group.exitedAt, group, threads: [] };
      group.threads.push(p);
    } else {
      p = { name, fds: new ChurnMap(), maps: new ChurnMap(), blockedBy: null, exitedAt: null, group: null, threads: [] };
      this.liveProcesses.add(p);
    }
    this.processes.set(name, p);
    return p;
  }

  /** The process a task belongs to (its main thread's task). */
  private groupOf(p: SimProcess): SimProcess {
    return p.group ?? p;
  }

  private snapshot(inode: SimInode): InodeSnapshot {
    return (inode.snapshot ??= {
      mode: inodeMode(inode.io),
      iocachectr: inode.io.iocachectr,
      backing: inode.io.fb === null ? null : (this.backingNamesById.get(inode.io.fb) ?? String(inode.io.fb)),
    });
  }

  /**
   * The inodes whose state differs from what the last recorded step left (new inodes
   * included), with their state now: a step's `inodes`. Only what changed is kept, so
   * a million steps over a hundred files cost a million small tables, not a hundred
   * million cells (issue 14).
   */
  private recordChanges(): InodeTable {
    if (this.changed.length === 0) return NO_CHANGE;
    let out: Record<string, InodeSnapshot> | null = null;
    for (const inode of this.changed) {
      inode.changing = false;
      const now = this.snapshot(inode);
      const was = inode.recorded;
      if (was && was.mode === now.mode && was.iocachectr === now.iocachectr && was.backing === now.backing) continue;
      inode.recorded = now;
      (out ??= {})[inode.name] = now;
    }
    this.changed = [];
    return out ?? NO_CHANGE;
  }

  /** Every inode as it is now. */
  inodeTable(): InodeTable {
    const out: Record<string, InodeSnapshot> = {};
    for (const inode of this.inodes.values()) out[inode.name] = this.snapshot(inode);
    return out;
  }

  /** Queues a step and hands on, in line order, those that are final. */
  private record(step: StepResult): void {
    if (this.unsettled.length === 0 && !(step.outcome === 'blocks' && step.completedAt === null)) this.onStep(step);
    else this.unsettled.push(step);
  }

  private settle(): void {
    const q = this.unsettled;
    while (this.unsettledFrom < q.length) {
      const step = q[this.unsettledFrom]!;
      if (step.outcome === 'blocks' && step.completedAt === null) break;
      this.unsettledFrom++;
      this.onStep(step);
    }
    if (this.unsettledFrom === q.length) {
      q.length = 0;
      this.unsettledFrom = 0;
    }
  }

  private isRegistered(id: number): boolean {
    return this.backings.ids.has(id);
  }

  /** `data` may be given as the function that builds it: built only if the diagnostic is kept (DiagnosticList.add). */
  diagnose(range: Range, severity: Severity, code: string, data: DiagnosticData | (() => DiagnosticData)): void {
    this.diagnostics.add(range.start, severity, () => diagnostic(range, severity, code, typeof data === 'function' ? data() : data));
  }

  /** The open files on an inode that hold it in the mode that refused a step. */
  private conflicting(inode: SimInode, mode: 'cached' | 'uncached'): ConflictingFile[] {
    const out: ConflictingFile[] = [];
    for (const file of inode.live) {
      if (file.io.iomode !== mode) continue;
      const descriptors: ConflictingFile['descriptors'] = [];
      const mappings: ConflictingFile['mappings'] = [];
      for (const p of this.liveProcesses) {
        for (const [name, f] of p.fds) if (f === file) descriptors.push({ process: p.name, name });
        for (const [name, m] of p.maps) if (m.file === file) mappings.push({ process: p.name, name });
      }
      out.push({ handle: file.handle, line: file.line + 1, descriptors, mappings });
    }
    return out;
  }

  // ---- release and wake-ups ------------------------------------------------

  /** fput(): the last reference gone releases the file (fuse_file_io_release). */
  private put(file: OpenFile): void {
    if (--file.refs > 0) return;
    const inode = file.inode;
    inode.live.delete(file);
    const released = fileIoRelease(inode.io, file.io);
    file.io = released.file;
    this.setIo(inode, released.inode);
    if (released.wake) this.wakeIoWaiters(inode);
    // fuse_file_put() sends RELEASE after the io mode is gone: a held one changes nothing above.
    if (file.heldRelease !== null) {
      const held = this.heldReleases.get(file.heldRelease);
      if (held) held.sent = true;
    }
    if (this.unmountedAt !== null && this.connectionGoneAt === null && !this.mountInUse()) this.endConnection(this.current?.line ?? this.unmountedAt);
  }

  /** wake_up(&fi->direct_io_waitq): every sleeper re-checks its condition. */
  private wakeIoWaiters(inode: SimInode): void {
    const sleepers = inode.ioWaiters;
    inode.ioWaiters = [];
    for (const w of sleepers) this.complete(w, w.resume());
  }

  /**
   * Hands the released i_rwsem to the waiters rwsem_mark_wake() picks: the
   * lock is counted for all of them before any runs, as the kernel adds the
   * readers' bias before waking them.
   */
  private wakeLockWaiters(inode: SimInode): void {
    const picked = new Set(lockGrants(inode.sem, inode.lockWaiters.map((w) => w.kind)));
    if (picked.size === 0) return;
    const granted = inode.lockWaiters.filter((_, i) => picked.has(i));
    inode.lockWaiters = inode.lockWaiters.filter((_, i) => !picked.has(i));
    for (const g of granted) inode.sem = lock(inode.sem, g.kind);
    for (const g of granted) this.complete(g.waiter, g.waiter.resume());
  }

  /** `answered`: the outcome is the server's answer the scenario states (`close X end error=E`). */
  private complete(w: Waiter, result: Outcome, answered = false): void {
    if (result.outcome === 'blocks') return; // went back to sleep (re-queued by resume)
    w.process.blockedBy = null;
    if (w.holds) {
      const file = w.holds;
      delete w.holds;
      this.put(file);
    }
    w.step.completedAt = this.current ? this.current.line + 1 : null;
    const group = this.groupOf(w.process);
    if (group.exitedAt !== null) {
      // Killed while it waited: the call returns into a dying thread, and its process goes with it.
      w.step.finalOutcome = KILLED;
      if (!this.inKernel(group)) this.releaseProcess(group);
      this.settle();
      return;
    }
    w.step.finalOutcome = result.outcome;
    if (result.reason) w.step.reason = result.reason;
    if (result.rule && result.outcome !== 'ok') w.step.rule = result.rule;
    // A held OPEN's line may state what the call ends with (judge); one failed by the scenario's own
    // `abort`, or answered by `end error=E`, is what the author asked for.
    const stated = answerStated(w.statement);
    if (result.outcome !== 'ok' && !answered) {
      const severity = result.rule === 'connection-aborted' || stated === result.outcome ? 'information' : 'error';
      this.diagnose(rangeOf(w.statement), severity, result.rule ?? 'blocked',
        { what: 'wakes-failing', wokeAt: this.current ? this.current.line + 1 : null, ...result });
    }
    if (stated !== undefined && stated !== result.outcome) {
      this.diagnose(w.statement.outcome!.range, 'error', 'outcome-mismatch', () => ({ what: 'outcome-mismatch', stated, ...result }));
    }
    this.settle();
  }

  private block(p: SimProcess, step: StepResult, statement: StepStatement, rule: RuleName, resume: () => Outcome): { waiter: Waiter; outcome: Outcome } {
    const waiter: Waiter = { step, statement, process: p, resume };
    p.blockedBy = waiter;
    return { waiter, outcome: { outcome: 'blocks', rule } };
  }

  // ---- steps ---------------------------------------------------------------

  run(statement: StepStatement): void {
    this.current = statement;
    const processName = processOf(statement);
    const step: StepResult = {
      line: statement.line + 1,
      process: processName,
      action: actionOf(statement),
      target: targetOf(statement),
      outcome: 'ok',
      inodes: NO_CHANGE,
    };
    const result = this.dispatch(statement, step);
    step.outcome = result.outcome;
    if (result.reason) step.reason = result.reason;
    if (result.rule && result.outcome !== 'ok') step.rule = result.rule;
    if (result.outcome === 'blocks') {
      step.completedAt = null;
      step.finalOutcome = null;
    }
    step.inodes = this.recordChanges();
    this.judge(statement, result);
    this.record(step);
  }

  /** Compares the result with the stated outcome and reports it. */
  private judge(statement: StepStatement, result: Outcome): void {
    const stated = statement.outcome?.value;
    if (result.outcome === 'skipped') return;
    // `open … begin as O => E`: E is what the open ends with once answered (complete).
    if (result.outcome === 'blocks' && answerStated(statement) !== undefined) return;
    if (stated !== undefined && stated !== result.outcome) {
      this.diagnose(statement.outcome!.range, 'error', 'outcome-mismatch', () => ({ what: 'outcome-mismatch', stated, ...result }));
      return;
    }
    if (result.outcome === 'ok' || !result.rule) return;
    if (result.outcome === 'blocks') {
      this.diagnose(rangeOf(statement), stated ? 'information' : 'warning', result.rule, () => ({ what: 'blocks', stated: stated !== undefined, ...result }));
      return;
    }
    this.diagnose(rangeOf(statement), stated ? 'information' : 'error', result.rule, () => ({ what: 'denied', stated: stated !== undefined, ...result }));
  }

  /** One method per statement, named for it; server/lab/replay.ts has the same ones on the real kernel. */
  private dispatch(s: StepStatement, step: StepResult): Outcome {
    // Not a system call of a process: the server (backing ioctls, a held write's reply) or the author (expect).
    switch (s.kind) {
      case 'backing': return this.backing(s);
      case 'backing-close': return this.backingClose(s);
      case 'expect': return this.expect(s);
      case 'write-end': return this.writeEnd(s);
      case 'close-end': return this.closeEnd(s);
      case 'open-end': return this.answerHeld(this.heldOpens, s.open, 'open');
      case 'read-end': return this.answerHeld(this.heldReads, s.read, 'read');
      case 'release-begin': return this.releaseBegin(s);
      case 'release-end': return this.releaseEnd(s);
      case 'abort': return this.abort(s);
      case 'umount': return this.umount(s);
      case 'signal': return this.signal(s);
    }
    const p = this.process(processOf(s));
    if (p.exitedAt !== null) {
      this.diagnose(rangeOf(s), 'error', 'process-exited', { what: 'process-exited', process: this.groupOf(p).name, line: p.exitedAt + 1 });
      return { outcome: 'skipped' };
    }
    if (p.blockedBy) {
      this.diagnose(rangeOf(s), 'warning', 'step-after-blocked',
        { what: 'step-after-blocked', process: p.name, line: p.blockedBy.statement.line + 1, ...(p.group && { thread: true }) });
      return { outcome: 'skipped' };
    }
    const mmapLockHeld = this.siblingHoldsMmapLock(p, s);
    if (mmapLockHeld) return mmapLockHeld;
    if (s.kind === 'open' && this.unmountedAt !== null) return this.openAfterUmount(p, s);
    const afterAbort = this.abortedAt === null ? null : this.onDeadConnection(p, s);
    if (afterAbort) return afterAbort;
    switch (s.kind) {
      case 'open': return this.open(p, s, step);
      case 'close': return this.close(p, s);
      case 'dup': return this.dup(p, s);
      case 'mmap': return this.mmap(p, s, step);
      case 'munmap': return this.munmap(p, s);
      case 'fork': return this.fork(p, s);
      case 'exit': return this.exit(p, s);
      case 'read': return this.readThroughCache(p, s);
      case 'write': return this.write(p, s, step);
      case 'write-begin': return this.writeBegin(p, s, step);
      case 'fcntl': return this.fcntl(p, s);
      case 'send': return this.send(p, s);
      case 'msync': return this.msync(p, s, step);
      case 'close-begin': return this.closeBegin(p, s, step);
      case 'read-begin': return this.readBegin(p, s, step);
    }
  }

  /**
   * A thread asleep in mmap (a direct-io shared mmap waiting in
   * fuse_file_cached_io_open) holds its process's mmap_lock for writing
   * (vm_mmap_pgoff → do_mmap): a sibling's mmap, munmap, msync or fork would
   * sleep on that lock, which the model does not follow.
   */
  private siblingHoldsMmapLock(p: SimProcess, s: StepStatement): Outcome | null {
    if (s.kind !== 'mmap' && s.kind !== 'munmap' && s.kind !== 'msync' && s.kind !== 'fork') return null;
    const group = this.groupOf(p);
    const inMmap = [group, ...group.threads].find((t) => t.blockedBy?.statement.kind === 'mmap');
    if (!inMmap) return null;
    this.diagnose(rangeOf(s), 'warning', 'not-modelled', { what: 'not-modelled', construct: `${actionOf(s)} while thread ${inMmap.name} sleeps in mmap`,
      because: `thread ${inMmap.name} holds the process's mmap_lock, which this call waits for` });
    return { outcome: 'skipped' };
  }

  /**
   * tgkill(2) from outside the scenario's processes (fs/fuse/dev.c,
   * request_wait_answer). A signal wakes the interruptible wait of a call
   * whose request the server has read: FR_INTERRUPTED is set and, the
   * request being FR_SENT, queue_interrupt() sends FUSE_INTERRUPT. Then a
   * FLUSH (args.force, FR_FORCE) waits uninterruptibly and a WRITE killably,
   * both until the server answers: the call returns the answer (`end
   * error=EINTR`, or a normal one). The inode lock and the io-mode waits
   * are uninterruptible: the signal waits for them to return. A thread not
   * in the kernel runs the agent's handler, and nothing else happens.
   */
  private signal(s: Extract<StepStatement, { kind: 'signal' }>): Outcome {
    const name = s.task.value;
    const write = this.writes.get(name);
    if (!write && !this.isTask(name)) {
      this.diagnose(s.task.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'process', name, hint: false });
      return { outcome: 'skipped' };
    }
    // A held write runs on its own thread of the process that began it.
    const task = write ? write.process : this.process(name);
    if (task.exitedAt !== null) {
      this.diagnose(rangeOf(s), 'error', 'process-exited', { what: 'process-exited', process: this.groupOf(task).name, line: task.exitedAt + 1 });
      return { outcome: 'skipped' };
    }
    if (s.signal.value === 'SIGKILL') return this.exitGroup(task, s, 'SIGKILL');
    const request = write ? (write.started && !write.ended ? `WRITE ${name}` : null) : this.heldFlushOf(task);
    if (request) this.diagnose(rangeOf(s), 'information', 'request-interrupted', { what: 'request-interrupted', request, fatal: false });
    return OK;
  }

  /**
   * exit_group(), by `exit` in any thread or by SIGKILL: every thread of the
   * process dies. A thread whose request the server has read is not taken off
   * the queue (fuse_remove_pending_req removes only FR_PENDING ones): after the
   * FUSE_INTERRUPT it waits for the answer, holding its file and the process's
   * descriptor table and mm, which are released when its last thread is gone.
   * A thread asleep on the inode lock or in an io-mode wait wakes into a call
   * whose request races the server's read: outside the model.
   */
  private exitGroup(task: SimProcess, s: StepStatement, cause: 'exit' | 'SIGKILL'): Outcome {
    const p = this.groupOf(task);
    const tasks = [p, ...p.threads];
    const asleep = tasks.find((t) => t.blockedBy && !this.heldFlushOf(t));
    if (asleep) {
      this.diagnose(rangeOf(s), 'warning', 'not-modelled', { what: 'not-modelled', construct: `${cause} while thread ${asleep.name} sleeps in the kernel`, line: asleep.blockedBy!.statement.line + 1,
        because: 'the woken call goes on in a dying thread, and its requests may or may not reach the server first' });
      return { outcome: 'skipped' };
    }
    for (const t of tasks) {
      const flush = this.heldFlushOf(t);
      if (flush) this.diagnose(rangeOf(s), 'information', 'request-interrupted', { what: 'request-interrupted', request: flush, fatal: true });
    }
    for (const [name, w] of this.writes) {
      if (this.groupOf(w.process) === p && w.started && !w.ended) {
        this.diagnose(rangeOf(s), 'information', 'request-interrupted', { what: 'request-interrupted', request: `WRITE ${name}`, fatal: true });
      }
    }
    for (const t of tasks) t.exitedAt = s.line;
    if (!this.inKernel(p)) this.releaseProcess(p);
    return OK;
  }

  /** `FLUSH X` when the task waits in a close whose FLUSH X the server holds. */
  private heldFlushOf(task: SimProcess): string | null {
    for (const [name, waiter] of this.heldFlushes) if (waiter.process === task) return `FLUSH ${name}`;
    return null;
  }

  /** A name a signal can reach: `main`, a declared process or thread, or a process that appeared. */
  private isTask(name: string): boolean {
    return name === DEFAULT_PROCESS || this.processes.has(name) || this.declaredProcesses.has(name) || this.threadOf.has(name);
  }

  /**
   * SCM_RIGHTS: the message holds a reference to the struct file
   * (scm_fp_copy → get_file) until recvmsg installs it as a new descriptor
   * of the receiver (receive_fd); sent and received in one step here, so it
   * is dup(2) into another process: the same open file, its io mode unchanged.
   */
  private send(p: SimProcess, s: Extract<StepStatement, { kind: 'send' }>): Outcome {
    return this.withFd(p, s.handle, (file) => {
      const to = this.process(s.to.value);
      if (to.exitedAt !== null) {
        this.diagnose(s.to.range, 'error', 'process-exited', { what: 'process-exited', process: to.name, line: to.exitedAt + 1 });
        return { outcome: 'skipped' };
      }
      if (to.blockedBy) {
        this.diagnose(s.to.range, 'warning', 'step-after-blocked',
          { what: 'step-after-blocked', process: to.name, line: to.blockedBy.statement.line + 1, ...(to.group && { thread: true }) });
        return { outcome: 'skipped' };
      }
      const name = s.as ?? s.handle;
      if (!this.freshName(to.fds, name, 'handle')) return { outcome: 'skipped' };
      file.refs++;
      to.fds.set(name.value, file);
      this.knownHandles.add(name.value);
      return OK;
    });
  }

  /**
   * close(2) whose FLUSH the server holds: the descriptor is gone at once,
   * but the process waits in fuse_flush() and the file is released (fput)
   * only after the reply (server/model/flush.ts).
   */
  private closeBegin(p: SimProcess, s: Extract<StepStatement, { kind: 'close-begin' }>, step: StepResult): Outcome {
    return this.withFd(p, s.handle, (file) => {
      if (this.heldFlushes.has(s.as.value)) {
        this.diagnose(s.as.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind: 'flush', name: s.as.value, scope: 'in-flight' });
        return { outcome: 'skipped' };
      }
      p.fds.delete(s.handle.value);
      const released = (): Outcome => {
        this.put(file);
        return OK;
      };
      if (!flushReachesServer(this.conn, file.io)) {
        this.diagnose(s.as.range, 'warning', 'flush-not-held', { what: 'flush-not-held', reason: this.conn.noFlush ? 'no_flush' : 'noflush' });
        return released();
      }
      const { waiter, outcome } = this.block(p, step, s, 'close-waits-for-flush', released);
      this.heldFlushes.set(s.as.value, waiter);
      return outcome;
    });
  }

  /** The server answers a held FLUSH: an action of the server, like `write W end`. */
  private closeEnd(s: Extract<StepStatement, { kind: 'close-end' }>): Outcome {
    return this.answerHeld(this.heldFlushes, s.flush, 'flush', s.error);
  }

  /**
   * The server answers a request it holds (FLUSH, OPEN, READ): the call waiting for it goes on,
   * or returns `error` (`close X end error=E`).
   */
  private answerHeld(held: Map<string, Waiter>, name: Token, kind: NameKind, error?: Token): Outcome {
    const waiter = held.get(name.value);
    if (!waiter) {
      const aborted = this.endedByAbort(name);
      if (aborted) return aborted;
      this.diagnose(name.range, 'error', 'unknown-name', { what: 'unknown-name', kind, name: name.value, hint: true });
      return { outcome: 'skipped' };
    }
    held.delete(name.value);
    const resumed = waiter.resume();
    const errno = error?.value;
    // fuse_flush(): ENOSYS is no error to close(), and no FLUSH is sent again (fc->no_flush).
    const noFlush = kind === 'flush' && errno === 'ENOSYS';
    if (noFlush) this.conn = { ...this.conn, noFlush: true };
    this.complete(waiter, errno && !noFlush ? { outcome: errno } : resumed, errno !== undefined);
    return OK;
  }

  /**
   * `read F begin as R`: a read whose READ the server holds. A direct-io read
   * (FOPEN_DIRECT_IO, or O_DIRECT: fuse_direct_IO) always sends READ and waits
   * for it, taking no inode lock; a passthrough read goes to the backing file
   * (fuse_passthrough_read_iter); a cached read sends READ only for pages not
   * in the page cache, which the model does not follow.
   */
  private readBegin(p: SimProcess, s: Extract<StepStatement, { kind: 'read-begin' }>, step: StepResult): Outcome {
    return this.withFd(p, s.handle, (file) => {
      if (this.heldReads.has(s.as.value)) {
        this.diagnose(s.as.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind: 'read', name: s.as.value, scope: 'in-flight' });
        return { outcome: 'skipped' };
      }
      if (file.access === 'wronly') return this.badAccess('read', file);
      const reaches = readReachesServer(file.io, file.status.oDirect);
      if (reaches === 'never') {
        this.diagnose(s.as.range, 'warning', 'request-not-held',
          { what: 'request-not-held', request: 'READ', because: 'a passthrough read goes to the backing file (fuse_passthrough_read_iter)' });
        return OK;
      }
      if (reaches === 'if-not-cached') {
        this.diagnose(s.as.range, 'warning', 'not-modelled', { what: 'not-modelled', construct: 'a held READ of a caching file',
          because: 'a cached read sends READ only for pages not in the page cache, which the model does not follow' });
        return { outcome: 'skipped' };
      }
      const { waiter, outcome } = this.block(p, step, s, 'read-waits-for-reply', () => OK);
      this.heldReads.set(s.as.value, waiter);
      return outcome;
    });
  }

  /**
   * `release F begin as R`: the server will hold the RELEASE of F's open file.
   * fuse_file_put() drops the io mode (fuse_file_io_release) and
   * fuse_prepare_release() the file's backing before RELEASE is sent in the
   * background (fuse_simple_background): nobody waits for its reply, and the
   * inode is free for any open meanwhile. Checked on 6.18.44
   * (test/scenarios/release-held.fusesim).
   */
  private releaseBegin(s: Extract<StepStatement, { kind: 'release-begin' }>): Outcome {
    let file: OpenFile | undefined;
    for (const p of this.liveProcesses) file ??= p.fds.get(s.handle.value);
    if (!file) {
      const failedAt = this.failedHandles.get(s.handle.value);
      if (failedAt !== undefined) {
        this.diagnose(s.handle.range, 'warning', 'handle-not-open', { what: 'handle-not-open', handle: s.handle.value, line: failedAt + 1 });
      } else {
        this.diagnose(s.handle.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'handle', name: s.handle.value, hint: true });
      }
      return { outcome: 'skipped' };
    }
    if (this.heldReleases.has(s.as.value)) {
      this.diagnose(s.as.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind: 'release', name: s.as.value, scope: 'in-flight' });
      return { outcome: 'skipped' };
    }
    if (!file.sendsRelease) {
      this.diagnose(s.as.range, 'warning', 'request-not-held',
        { what: 'request-not-held', request: 'RELEASE', because: 'the file was opened under no_open, and the kernel sends no RELEASE for it (fuse_file_put)' });
      return OK;
    }
    file.heldRelease = s.as.value;
    this.heldReleases.set(s.as.value, { sent: false, line: file.line });
    return OK;
  }

  /** The server answers a held RELEASE: nothing waits for it, so nothing changes. */
  private releaseEnd(s: Extract<StepStatement, { kind: 'release-end' }>): Outcome {
    const held = this.heldReleases.get(s.release.value);
    if (!held) {
      const aborted = this.endedByAbort(s.release);
      if (aborted) return aborted;
      this.diagnose(s.release.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'release', name: s.release.value, hint: true });
      return { outcome: 'skipped' };
    }
    if (!held.sent) {
      this.diagnose(s.release.range, 'warning', 'request-not-sent', { what: 'request-not-sent', name: s.release.value, line: held.line + 1 });
      return { outcome: 'skipped' };
    }
    this.heldReleases.delete(s.release.value);
    return OK;
  }

  /**
   * fuse_abort_conn(): fc->connected = 0 and every request sent or queued
   * ends with ECONNABORTED (end_requests) — a held FLUSH's close returns it,
   * a held WRITE ends and lets go of the inode lock. Checked on 6.18.44
   * (test/scenarios/abort-connection.fusesim).
   */
  private abort(s: Extract<StepStatement, { kind: 'abort' }>): Outcome {
    if (this.abortedAt !== null) return OK;
    this.abortedAt = s.line;
    const ended: Outcome = { outcome: 'ECONNABORTED', rule: 'connection-aborted' };
    for (const [name, waiter] of this.heldFlushes) {
      this.abortedRequests.add(name);
      waiter.resume();
      this.complete(waiter, ended);
    }
    this.heldFlushes.clear();
    for (const [name, waiter] of this.heldOpens) {
      this.abortedRequests.add(name);
      this.failHandle(waiter.statement as Extract<StepStatement, { kind: 'open' }>, ended);
      this.complete(waiter, ended);
    }
    this.heldOpens.clear();
    for (const [name, waiter] of this.heldReads) {
      this.abortedRequests.add(name);
      this.complete(waiter, ended);
    }
    this.heldReads.clear();
    this.endHeldReleases();
    for (const [name, w] of this.writes) {
      if (!w.started || w.ended) continue;
      this.abortedRequests.add(name);
      this.writes.delete(name);
      this.endWrite(w);
      this.put(w.file);
      if (w.process.exitedAt !== null && !this.hasWriteInFlight(w.process)) this.releaseProcess(w.process);
    }
    return OK;
  }

  /**
   * A step after the abort that needs the server: fuse_get_req() finds
   * !fc->connected and the call fails with ENOTCONN (seen on 6.18.44). A
   * close still drops its descriptor (filp_flush's error is only reported).
   * Null: the step does not reach the server (passthrough io, mmap, dup, ...)
   * and runs as before.
   */
  private onDeadConnection(p: SimProcess, s: StepStatement): Outcome | null {
    const dead: Outcome = { outcome: 'ENOTCONN', rule: 'connection-aborted' };
    switch (s.kind) {
      case 'read-begin': {
        const file = p.fds.get(s.handle.value);
        if (!file || file.access === 'wronly' || readReachesServer(file.io, file.status.oDirect) !== 'always') return null;
        this.abortedRequests.add(s.as.value);
        return dead;
      }
      case 'open': {
        // Under no_open an open of a known name sends nothing (the dentry is cached), so it still succeeds.
        const sendsRequest = !this.conn.noOpen || (s.create !== undefined && !this.hasInode(s.file.value));
        return p.fds.has(s.handle.value) || !sendsRequest ? null : this.failHandle(s, dead);
      }
      case 'read': {
        const file = p.fds.get(s.handle.value);
        if (!file || file.access === 'wronly' || file.io.passthrough !== null) return null;
        const direct = writePath(file.io) === 'direct' || file.status.oDirect;
        return direct || !this.pageCached.has(file.inode) ? dead : null;
      }
      case 'write':
      case 'write-begin': {
        const file = p.fds.get(s.handle.value);
        if (!file || file.access === 'rdonly' || !writeReachesServer(this.conn, file.io, file.status.oDirect)) return null;
        if (s.kind === 'write-begin') this.abortedRequests.add(s.as.value);
        return dead;
      }
      case 'close':
      case 'close-begin': {
        const file = p.fds.get(s.handle.value);
        if (!file || !flushReachesServer(this.conn, file.io)) return null;
        if (s.kind === 'close-begin') this.abortedRequests.add(s.as.value);
        p.fds.delete(s.handle.value);
        this.put(file);
        return dead;
      }
      case 'msync': {
        const m = p.maps.get(s.mapping.value);
        return m?.file && msyncReachesFuse(m.shared, false) ? dead : null;
      }
      default:
        return null;
    }
  }

  /** A write that got the inode lock after the abort: it lets go of the lock and fails. */
  private failAfterAbort(inode: SimInode, kind: LockKind, w: InFlightWrite, name: Token | null): Outcome {
    inode.sem = unlock(inode.sem, kind);
    this.wakeLockWaiters(inode);
    if (name) {
      this.writes.delete(name.value);
      this.abortedRequests.add(name.value);
      this.put(w.file);
    }
    return { outcome: 'ENOTCONN', rule: 'connection-aborted' };
  }

  /**
   * umount2(2): do_umount() refuses a plain umount while the mount is
   * busy — any file of it not yet released (descriptors, mappings, a write
   * or FLUSH in flight), or a passthrough mapping (seen on 6.18.44) — with
   * EBUSY; MNT_DETACH takes the name away at once and the superblock lives
   * on until the last file goes. A mount already gone is EINVAL (not a
   * mount point). Checked on 6.18.44 (test/scenarios/umount.fusesim).
   */
  private umount(s: Extract<StepStatement, { kind: 'umount' }>): Outcome {
    if (this.unmountedAt !== null) return { outcome: 'EINVAL' };
    if (!s.lazy && this.mountInUse()) return { outcome: 'EBUSY', rule: 'umount-busy' };
    this.unmountedAt = s.line;
    if (!this.mountInUse()) this.endConnection(s.line);
    return OK;
  }

  /**
   * Whether the mount is in use: any file of it not yet released, a
   * passthrough mapping (it holds the backing file, whose user path —
   * backing_file_user_path — pins this mount), or an open waiting for its
   * OPEN (its struct file holds the path already: do_dentry_open).
   */
  private mountInUse(): boolean {
    if (this.heldOpens.size > 0) return true;
    for (const inode of this.inodes.values()) if (inode.live.size > 0) return true;
    for (const p of this.processes.values()) for (const m of p.maps.values()) if (m.file === null) return true;
    return false;
  }

  /**
   * The unmounted superblock goes once nothing uses it: fuse_conn_destroy()
   * aborts the connection (fuse_abort_conn), so RELEASEs the server still
   * holds end, and answering them later finds nothing.
   */
  private endConnection(line: number): void {
    this.connectionGoneAt = line;
    this.endHeldReleases();
  }

  /** The connection ended: held RELEASEs end, and a RELEASE not yet sent will never be (fuse_simple_background fails). */
  private endHeldReleases(): void {
    for (const name of this.heldReleases.keys()) this.abortedRequests.add(name);
    this.heldReleases.clear();
  }

  /** After the umount the name resolves in the directory below the mount: no FUSE file is there. */
  private openAfterUmount(p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>): Outcome {
    if (!this.freshName(p.fds, s.handle, 'handle')) return { outcome: 'skipped' };
    if (s.create) {
      this.diagnose(rangeOf(s), 'warning', 'not-modelled', { what: 'not-modelled', construct: 'a create after umount',
        because: 'it makes a file in the directory the mount covered, outside FUSE' });
      return this.failHandle(s, { outcome: 'skipped' });
    }
    return this.failHandle(s, { outcome: 'ENOENT' });
  }

  /** `write W end` / `close X end` of a request the abort ended: nothing left to answer. */
  private endedByAbort(name: Token): Outcome | null {
    if (!this.abortedRequests.has(name.value)) return null;
    this.diagnose(name.range, 'warning', 'request-aborted', { what: 'request-aborted', name: name.value, line: (this.abortedAt ?? this.connectionGoneAt)! + 1 });
    return { outcome: 'skipped' };
  }

  /** setfl(): the flags are replaced; nothing else changes (server/model/status-flags.ts). */
  private fcntl(p: SimProcess, s: Extract<StepStatement, { kind: 'fcntl' }>): Outcome {
    return this.withFd(p, s.handle, (file) => {
      const set = new Set(s.setfl.map((f) => f.value));
      file.status = { oDirect: set.has('o_direct'), append: set.has('o_append') };
      return OK;
    });
  }

  private close(p: SimProcess, s: Extract<StepStatement, { kind: 'close' }>): Outcome {
    return this.withFd(p, s.handle, (file) => {
      p.fds.delete(s.handle.value);
      this.put(file);
      return OK;
    });
  }

  private dup(p: SimProcess, s: Extract<StepStatement, { kind: 'dup' }>): Outcome {
    return this.withFd(p, s.handle, (file) => {
      if (!this.freshName(p.fds, s.as, 'handle')) return { outcome: 'skipped' };
      file.refs++;
      p.fds.set(s.as.value, file);
      this.knownHandles.add(s.as.value);
      return OK;
    });
  }

  private munmap(p: SimProcess, s: Extract<StepStatement, { kind: 'munmap' }>): Outcome {
    const m = this.mappingOf(p, s.mapping);
    if (!m) return { outcome: 'skipped' };
    // A partial munmap splits the vma (__split_vma): both parts hold the file, and the
    // unmapped one drops only its own reference, so nothing is released.
    if (s.part) return OK;
    p.maps.delete(s.mapping.value);
    if (m.file) this.put(m.file);
    return OK;
  }

  /** The process's mapping of a name, or an `unknown-name` error. */
  private mappingOf(p: SimProcess, name: Token): Mapping | undefined {
    const m = p.maps.get(name.value);
    if (!m) this.diagnose(name.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'mapping', name: name.value, hint: false, process: p.name });
    return m;
  }

  /** msync(MS_SYNC): fuse_fsync() under the inode lock (server/model/msync.ts). */
  private msync(p: SimProcess, s: Extract<StepStatement, { kind: 'msync' }>, step: StepResult): Outcome {
    const m = this.mappingOf(p, s.mapping);
    if (!m) return { outcome: 'skipped' };
    if (!msyncReachesFuse(m.shared, m.file === null) || !m.file) return OK;
    // msync() takes its own reference of the mapped file (get_file) for the fsync.
    return this.holdWhileAsleep(p, m.file, this.waitForLock(p, s, step, m.file.inode, FSYNC_LOCK, 'msync-waits-for-inode-lock'));
  }

  /**
   * A call that takes i_rwsem and drops it again before returning (a
   * truncation, an fsync): ok when the lock is free and nobody queues for
   * it, otherwise asleep in the lock's queue until it is handed the lock.
   */
  private waitForLock(p: SimProcess, s: StepStatement, step: StepResult, inode: SimInode, kind: LockKind, rule: RuleName): Outcome {
    return this.lockInode(p, s, step, inode, kind, rule, this.dropLock(inode, kind));
  }

  /** The rest of such a call once it holds the lock: it lets go at once, and the next waiters get it. */
  private dropLock(inode: SimInode, kind: LockKind, onAbort?: () => void): () => Outcome {
    return () => {
      inode.sem = unlock(inode.sem, kind);
      this.wakeLockWaiters(inode);
      // Woken after an abort: its FSYNC or SETATTR cannot be sent (seen on 6.18.44).
      if (this.abortedAt === null) return OK;
      onAbort?.();
      return { outcome: 'ENOTCONN', rule: 'connection-aborted' };
    };
  }


  /** fork(2) copies the calling thread only: the child has just its main thread, and the threads declared `of` it. */
  private fork(p: SimProcess, s: Extract<StepStatement, { kind: 'fork' }>): Outcome {
    if (this.processes.has(s.as.value) || this.threadOf.has(s.as.value)) {
      this.diagnose(s.as.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind: 'process', name: s.as.value, scope: 'declared' });
      return { outcome: 'skipped' };
    }
    const child = this.newTask(s.as.value);
    for (const [name, file] of p.fds) {
      file.refs++;
      child.fds.set(name, file);
    }
    for (const [name, m] of p.maps) {
      if (m.file) m.file.refs++;
      child.maps.set(name, m);
    }
    return OK;
  }

  /** exit(2) in any thread is exit_group(): every thread of the process ends. */
  private exit(task: SimProcess, s: Extract<StepStatement, { kind: 'exit' }>): Outcome {
    return this.exitGroup(task, s, 'exit');
  }

  private read(p: SimProcess, s: Extract<StepStatement, { kind: 'read' }>): Outcome {
    return this.withFd(p, s.handle, (file) => (file.access === 'wronly' ? this.badAccess('read', file) : OK));
  }

  /** A read through the page cache leaves the file's pages there (the lab reads the first 4 KiB). */
  private readThroughCache(p: SimProcess, s: Extract<StepStatement, { kind: 'read' }>): Outcome {
    const result = this.read(p, s);
    const file = p.fds.get(s.handle.value);
    if (result.outcome === 'ok' && file && file.io.passthrough === null && writePath(file.io) === 'cached' && !file.status.oDirect) this.pageCached.add(file.inode);
    return result;
  }

  private write(p: SimProcess, s: Extract<StepStatement, { kind: 'write' }>, step: StepResult): Outcome {
    return this.withFd(p, s.handle, (file) => this.holdWhileAsleep(p, file, this.startWrite(p, s, step, file, null)));
  }

  /** A call that went to sleep keeps its file until it returns (Waiter.holds). */
  private holdWhileAsleep(p: SimProcess, file: OpenFile, r: Outcome): Outcome {
    if (r.outcome === 'blocks' && p.blockedBy && !p.blockedBy.holds) {
      p.blockedBy.holds = file;
      file.refs++;
    }
    return r;
  }

  private writeBegin(p: SimProcess, s: Extract<StepStatement, { kind: 'write-begin' }>, step: StepResult): Outcome {
    return this.withFd(p, s.handle, (file) => {
      if (this.writes.has(s.as.value) && !this.writes.get(s.as.value)!.ended) {
        this.diagnose(s.as.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind: 'write', name: s.as.value, scope: 'in-flight' });
        return { outcome: 'skipped' };
      }
      return this.startWrite(p, s, step, file, s.as);
    });
  }

  private freshName(map: ChurnMap<string, unknown>, name: Token, kind: 'handle' | 'mapping'): boolean {
    if (!map.has(name.value)) return true;
    this.diagnose(name.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind, name: name.value, scope: 'live' });
    return false;
  }

  private badAccess(what: 'read' | 'write', file: OpenFile): Outcome {
    return { outcome: 'EBADF', rule: 'bad-file-descriptor', descriptor: { handle: file.handle, access: file.access, call: what } };
  }

  /** Resolves the process's descriptor of a handle, or says why there is none. */
  private withFd(p: SimProcess, handle: Token, act: (file: OpenFile) => Outcome): Outcome {
    const file = p.fds.get(handle.value);
    if (file) return act(file);
    const failedAt = this.failedHandles.get(handle.value);
    if (failedAt !== undefined && !this.knownHandles.has(handle.value)) {
      this.diagnose(handle.range, 'warning', 'handle-not-open', { what: 'handle-not-open', handle: handle.value, line: failedAt + 1 });
      return { outcome: 'skipped' };
    }
    if (!this.knownHandles.has(handle.value)) {
      this.diagnose(handle.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'handle', name: handle.value, hint: true });
      return { outcome: 'skipped' };
    }
    return { outcome: 'EBADF', rule: 'bad-file-descriptor', missingDescriptor: { process: p.name, handle: handle.value } };
  }

  private open(p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, step: StepResult): Outcome {
    if (!this.freshName(p.fds, s.handle, 'handle')) return { outcome: 'skipped' };
    // O_CREAT of a name that does not exist: FUSE_CREATE, whose reply carries the open flags
    // (fuse_create_open(), with its own fuse_file args: no_open does not apply).
    const creates = s.create !== undefined && !this.hasInode(s.file.value);
    if (s.create && !creates && s.oExcl) return this.refuseExistingName(s);
    if (!s.create && !this.hasInode(s.file.value)) {
      this.diagnose(s.file.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'file', name: s.file.value, hint: true });
    }
    if (s.hold) return this.holdOpen(p, s, step, s.hold);
    return this.answerOpen(p, s, step, creates);
  }

  /**
   * `open … begin as O`: fuse_file_open() sends OPEN and the process waits in
   * open(2) until `open O end`; nothing of the io mode happens before the
   * reply (fuse_finish_open → fuse_file_io_open), so the inode as it is then
   * decides. Checked on 6.18.44 (test/scenarios/open-held.fusesim).
   */
  private holdOpen(p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, step: StepResult, name: Token): Outcome {
    if (this.heldOpens.has(name.value)) {
      this.diagnose(name.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind: 'open', name: name.value, scope: 'in-flight' });
      return { outcome: 'skipped' };
    }
    if (this.conn.noOpen) {
      this.diagnose(name.range, 'warning', 'request-not-held',
        { what: 'request-not-held', request: 'OPEN', because: 'under no_open the kernel sends no OPEN (fuse_file_open)' });
      return this.answerOpen(p, s, step, false);
    }
    if (s.oTrunc && this.conn.writebackCache) {
      this.diagnose(name.range, 'warning', 'not-modelled', { what: 'not-modelled', construct: 'a held OPEN with O_TRUNC under writeback_cache',
        because: 'with atomic_o_trunc, fuse_open() holds the inode lock across the OPEN' });
      return this.failHandle(s, { outcome: 'skipped' });
    }
    const { waiter, outcome } = this.block(p, step, s, 'open-waits-for-reply', () => {
      // The reply's open may sleep again (its io mode, an O_TRUNC's lock) under a waiter of its own.
      p.blockedBy = null;
      return this.answerOpen(p, s, step, false);
    });
    this.heldOpens.set(name.value, waiter);
    return outcome;
  }

  /** The server's answer to the OPEN (or CREATE) and what the kernel does with it. */
  private answerOpen(p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, step: StepResult, creates: boolean): Outcome {
    // fuse_atomic_open(): a CREATE answered ENOSYS sets fc->no_create, and this create and every
    // later one make the name with MKNOD and open it with an OPEN, whose reply is the one that counts.
    const { createRefused, replyError } = createAnswer(s, creates && !this.noCreate);
    if (createRefused) {
      this.noCreate = true;
      this.diagnose((s.createReply ?? s.replyError)!.range, 'information', 'create-falls-back-to-mknod', { what: 'create-falls-back-to-mknod' });
    }
    const viaCreate = creates && !this.noCreate;
    // `reply error=E`, when the server is asked at all (no OPEN is sent under no_open).
    const refusal = replyError && (viaCreate || !this.conn.noOpen) ? replyError : null;
    if (refusal && refusal.value !== 'ENOSYS') {
      // Made by MKNOD before its OPEN failed, the name stays.
      if (creates && !viaCreate) this.inode(s.file.value);
      return this.failHandle(s, { outcome: refusal.value });
    }
    this.knownHandles.add(s.handle.value);
    const inode = this.inode(s.file.value);
    const replyNames = s.reply.map((f) => f.value);
    this.warnReplyFlags(s, viaCreate, replyError);
    // fuse_file_open(): an OPEN answered ENOSYS sets fc->no_open, and this open goes on as one of those.
    if (refusal) this.conn = { ...this.conn, noOpen: true };
    let io: FileIo;
    const noOpen = this.conn.noOpen && !viaCreate;
    if (noOpen) {
      // fuse_do_open() with fc->no_open: no OPEN is sent, open_flags = FOPEN_KEEP_CACHE.
      io = { iomode: 'none', openFlags: FOPEN.keep_cache!, passthrough: null, hasArgs: this.conn.features.noOpenFilesTakeCachedMode };
    } else {
      io = { iomode: 'none', openFlags: openFlagsValue(replyNames), passthrough: null, hasArgs: true };
    }
    const backingId = this.replyBackingId(s);
    const status = { oDirect: s.oDirect !== undefined, append: s.oAppend !== undefined };
    const file: OpenFile = {
      handle: s.handle.value, line: s.line, inode, io, access: s.access?.value ?? 'rdwr', status, refs: 0, sendsRelease: !noOpen, heldRelease: null,
    };
    // do_open() drops O_TRUNC for a file it created (FMODE_CREATED), by CREATE or by MKNOD.
    const truncates = s.oTrunc !== undefined && !creates;
    if (!this.conn.features.ioModes) return this.truncateOnOpen(p, s, step, this.installOpen(p, s, file), truncates, null);
    // The closures of a sleeping open are made only when it sleeps (sleepForCachedOpen): an open that
    // does not sleep allocates none (they, and their context, were a third of what an open allocated).
    const first = this.settleOpen(p, s, step, file, this.ioOpen(inode, file.io, backingId), truncates, null);
    // Blocked with a waiter already: the truncation's lock wait. Without one: the io mode's wait.
    if (first.outcome !== 'blocks' || p.blockedBy) return first;
    return this.sleepForCachedOpen(p, s, step, file, truncates);
  }

  /** fuse_file_io_open() on the reply; a passthrough reply asks whether its backing id is registered. */
  private ioOpen(inode: SimInode, io: FileIo, backingId: number): Step {
    return fileIoOpen(this.conn, inode.io, io, backingId, (id) => this.isRegistered(id));
  }

  /** The io mode's step applied, then the O_TRUNC's lock; `sleeper` is the open's waiter if it slept for its io mode. */
  private settleOpen(
    p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, step: StepResult, file: OpenFile, r: Step, truncates: boolean, sleeper: Waiter | null,
  ): Outcome {
    const opened = this.applyOpenStep(p, s, file, r);
    return opened.outcome === 'blocks' ? opened : this.truncateOnOpen(p, s, step, opened, truncates, sleeper);
  }

  /** fuse_file_cached_io_open() waits for parallel direct writes; each wake-up tries again as the open's waiter. */
  private sleepForCachedOpen(p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, step: StepResult, file: OpenFile, truncates: boolean): Outcome {
    let sleeper: Waiter | null = null;
    const slept = this.sleepOnIo(p, file.inode, step, s, 'cached-open-waits-for-parallel-writes',
      () => this.settleOpen(p, s, step, file, cachedIoOpen(file.inode.io, file.io, 'cached-open-waits-for-parallel-writes'), truncates, sleeper));
    sleeper = p.blockedBy;
    return slept;
  }

  /**
   * O_TRUNC after a successful open: do_truncate() takes i_rwsem exclusively
   * (status-flags.ts) and drops it again at once, so only waiting is visible.
   * `truncates` is false for a file the open created (do_open() drops O_TRUNC
   * for FMODE_CREATED). `sleeper` is the open's waiter when it already slept
   * for its io mode: it queues for the lock as it is.
   */
  private truncateOnOpen(
    p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, step: StepResult, opened: Outcome, truncates: boolean, sleeper: Waiter | null,
  ): Outcome {
    if (!truncates || opened.outcome !== 'ok') return opened;
    const inode = p.fds.get(s.handle.value)!.inode;
    // A truncation that fails ends the open: its descriptor is never installed.
    const dropHandle = () => {
      const file = p.fds.get(s.handle.value);
      if (file) this.put(file);
      p.fds.delete(s.handle.value);
      this.failHandle(s, OK);
    };
    if (!sleeper) return this.lockInode(p, s, step, inode, TRUNCATE_LOCK, 'truncate-waits-for-inode-lock', this.dropLock(inode, TRUNCATE_LOCK, dropHandle));
    if (canLock(inode.sem, TRUNCATE_LOCK, inode.lockWaiters.length > 0)) return OK;
    sleeper.resume = this.dropLock(inode, TRUNCATE_LOCK, dropHandle);
    inode.lockWaiters.push({ waiter: sleeper, kind: TRUNCATE_LOCK });
    return { outcome: 'blocks', rule: 'truncate-waits-for-inode-lock' };
  }

  /** `create … o_excl` of a name that exists: do_open() refuses before any OPEN. */
  private refuseExistingName(s: Extract<StepStatement, { kind: 'open' }>): Outcome {
    return this.failHandle(s, { outcome: 'EEXIST', rule: 'create-exclusive-name-exists', inode: this.inodeState(this.inode(s.file.value)) });
  }

  /** An open that fails before its file exists: later steps on the handle are skipped. */
  private failHandle(s: Extract<StepStatement, { kind: 'open' }>, outcome: Outcome): Outcome {
    this.failedHandles.set(s.handle.value, s.line);
    this.knownHandles.delete(s.handle.value);
    return outcome;
  }

  /** Sleeps on direct_io_waitq; each wake-up runs `resume` (the rest of fuse_file_cached_io_open), which may sleep again. */
  private sleepOnIo(p: SimProcess, inode: SimInode, step: StepResult, s: StepStatement, rule: RuleName, resume: () => Outcome): Outcome {
    const again = (): Outcome => {
      const r = resume();
      // Back to sleep here, unless the call went on to another wait (an O_TRUNC open's lock).
      if (r.outcome === 'blocks' && waiter.resume === again) inode.ioWaiters.push(waiter);
      return r;
    };
    const { waiter, outcome } = this.block(p, step, s, rule, again);
    inode.ioWaiters.push(waiter);
    return outcome;
  }

  /** Applies a model step's result to the inode; open() turns every error of fuse_file_io_open() into EIO. */
  private applyOpenStep(p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, file: OpenFile, r: Step): Outcome {
    this.setIo(file.inode, r.inode);
    if (r.kind === 'wait') {
      file.io = r.file;
      return { outcome: 'blocks', rule: r.rule };
    }
    if (r.kind === 'error') {
      this.failedHandles.set(s.handle.value, s.line);
      this.knownHandles.delete(s.handle.value);
      return { ...this.openDenial(file.inode, r.rule, s.reply), outcome: 'EIO', reason: r.errno };
    }
    file.io = r.file;
    return this.installOpen(p, s, file);
  }

  private installOpen(p: SimProcess, s: Extract<StepStatement, { kind: 'open' }>, file: OpenFile): Outcome {
    file.refs = 1;
    file.inode.live.add(file);
    p.fds.set(s.handle.value, file);
    this.knownHandles.add(s.handle.value);
    this.failedHandles.delete(s.handle.value);
    return OK;
  }

  /** `reply`: the open's reply flags, of which the denial names those outside FOPEN_PASSTHROUGH_MASK. */
  private openDenial(inode: SimInode, rule: RuleName, reply: readonly FlagToken[] = []): Outcome {
    const conflicting =
      rule === 'passthrough-open-on-caching-inode' ? this.conflicting(inode, 'cached')
      : rule === 'cached-open-on-passthrough-inode' || rule === 'passthrough-conflicting-backing' || rule === 'mmap-on-passthrough-inode'
        ? this.conflicting(inode, 'uncached') : [];
    const flags = rule === 'passthrough-flag-combination'
      ? reply.filter((f) => ((FOPEN[f.value] ?? 0) & ~FOPEN_PASSTHROUGH_MASK) !== 0).map((f) => f.value) : [];
    return {
      outcome: 'EIO', rule, inode: this.inodeState(inode),
      ...(conflicting.length > 0 && { conflicting }),
      ...(flags.length > 0 && { flags }),
    };
  }

  private inodeState(inode: SimInode): InodeState {
    return { name: inode.name, ...this.snapshot(inode) };
  }

  private replyBackingId(s: Extract<StepStatement, { kind: 'open' }>): number {
    const ref = s.backing;
    if (!ref) return 0;
    if (ref.kind === 'id') return ref.id.value;
    const name = ref.name.value;
    if (replyFlag(s.reply, 'passthrough')) this.usedBackings.add(name);
    if (!this.backingDecl.has(name)) {
      this.diagnose(ref.name.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'backing', name, hint: true });
      return 0;
    }
    // A registration that failed (or has not happened yet) leaves the server no id to send.
    return this.backingIds.get(name) ?? 0;
  }

  /** `creates`: the reply is FUSE_CREATE's, which the kernel reads also under no_open; `replyError`: the error the OPEN or CREATE is answered with. */
  private warnReplyFlags(s: Extract<StepStatement, { kind: 'open' }>, creates: boolean, replyError: Token | undefined): void {
    if (this.conn.noOpen && !creates && (s.reply.length > 0 || replyError)) {
      this.diagnose(s.replyKeyword ?? s.reply[0]!.range, 'warning', 'reply-ignored-under-no-open', { what: 'reply-ignored-under-no-open' });
      return;
    }
    this.warnUnknownFlags(s.reply, findOpenFlag);
    const parallel = replyFlag(s.reply, 'parallel_direct_writes');
    if (parallel && !replyFlag(s.reply, 'direct_io')) {
      this.diagnose(parallel.range, 'warning', 'parallel-writes-need-direct-io', { what: 'parallel-writes-need-direct-io' });
    }
    if (s.backing && !replyFlag(s.reply, 'passthrough')) {
      const range = s.backing.kind === 'name' ? s.backing.name.range : s.backing.id.range;
      this.diagnose(range, 'warning', 'backing-without-passthrough', { what: 'backing-without-passthrough' });
    }
  }

  warnUnknownFlags(flags: readonly FlagToken[], find: typeof findOpenFlag): void {
    for (const flag of flags) {
      const since = find(flag.value)?.since;
      if (since && !atLeast(this.conn.kernel, since)) {
        this.diagnose(flag.range, 'warning', 'flag-unknown-to-kernel',
          { what: 'flag-unknown-to-kernel', flag: flag.text, kernel: formatKernelVersion(this.conn.kernel), since });
      }
    }
  }

  private mmap(p: SimProcess, s: Extract<StepStatement, { kind: 'mmap' }>, step: StepResult): Outcome {
    return this.withFd(p, s.handle, (file) => this.mapFile(p, s, step, file));
  }

  private mapFile(p: SimProcess, s: Extract<StepStatement, { kind: 'mmap' }>, step: StepResult, file: OpenFile): Outcome {
    if (!this.freshName(p.maps, s.as, 'mapping')) return { outcome: 'skipped' };
    const shared = s.sharing.value === 'shared';
    const accessRule = mmapAccessError(file.access, shared, s.write !== undefined);
    if (accessRule) {
      return { outcome: 'EACCES', rule: accessRule, descriptor: { handle: file.handle, access: file.access } };
    }
    const apply = (r: MmapStep): Outcome => {
      this.setIo(file.inode, r.inode);
      if (r.kind === 'wait') return { outcome: 'blocks', rule: r.rule };
      if (r.kind === 'error') {
        const denial = r.rule === 'mmap-on-passthrough-inode' || r.rule === 'passthrough-open-on-caching-inode'
          ? this.openDenial(file.inode, r.rule) : { outcome: r.errno, rule: r.rule };
        return { ...denial, outcome: r.errno };
      }
      if (r.kind === 'ok') throw new Error('fileMmap returns mapped, not ok');
      if (file.io.iomode === 'none' && r.file.iomode === 'cached') {
        this.diagnose(rangeOf(s), 'information', 'direct-io-shared-mmap-taints-file', { what: 'direct-io-shared-mmap-taints-file', handle: file.handle });
      }
      file.io = r.file;
      if (r.holdsFile) file.refs++;
      p.maps.set(s.as.value, { file: r.holdsFile ? file : null, shared });
      return OK;
    };
    const first = apply(fileMmap(this.conn, file.inode.io, file.io, shared));
    if (first.outcome !== 'blocks') return first;
    return this.sleepOnIo(p, file.inode, step, s, 'direct-io-shared-mmap-waits', () => apply(directIoSharedMmap(file.inode.io, file.io)));
  }

  /** `write F` (name null) or `write F begin as W`. */
  private startWrite(p: SimProcess, s: StepStatement, step: StepResult, file: OpenFile, name: Token | null): Outcome {
    if (file.access === 'rdonly') return this.badAccess('write', file);
    const inode = file.inode;
    // A write that never reaches the server (passthrough, or buffered under writeback_cache) cannot be held in flight.
    const reachesServer = writeReachesServer(this.conn, file.io, file.status.oDirect);
    if (name && !reachesServer) {
      this.diagnose(name.range, 'warning', 'write-not-held', { what: 'write-not-held', path: writePath(file.io) === 'passthrough' ? 'passthrough' : 'cached' });
    }
    const w: InFlightWrite = { file, kind: null, process: p, started: false, ended: false, line: s.line };
    if (name) {
      this.writes.set(name.value, w);
      file.refs++;
    }
    /** The write holds the inode lock `kind`: fuse_dio_lock() may trade a shared lock for the exclusive one. */
    const locked = (kind: LockKind): Outcome => {
      // Woken after an abort (the held write before it ended): its WRITE cannot be sent.
      if (this.abortedAt !== null && reachesServer) return this.failAfterAbort(inode, kind, w, name);
      const started = dioWriteStart(this.conn, inode.io, kind);
      this.setIo(inode, started.inode);
      if (started.kind !== kind) {
        inode.sem = unlock(inode.sem, kind);
        this.wakeLockWaiters(inode);
        return this.lockInode(p, s, step, inode, started.kind, 'write-waits-for-inode-lock', locked);
      }
      w.kind = kind;
      w.started = true;
      if (!name || !reachesServer) this.endWrite(w);
      return OK;
    };
    return this.lockInode(p, s, step, inode, appendingLockKind(writeLockKind(this.conn, inode.io, file.io), file.status.append),
      'write-waits-for-inode-lock', locked);
  }

  /**
   * inode_lock() / inode_lock_shared(): at once when free and nobody waits, else asleep (`rule`)
   * in the queue until rwsem_mark_wake() grants it (wakeLockWaiters).
   */
  private lockInode(
    p: SimProcess, s: StepStatement, step: StepResult, inode: SimInode, kind: LockKind, rule: RuleName, locked: (kind: LockKind) => Outcome,
  ): Outcome {
    if (canLock(inode.sem, kind, inode.lockWaiters.length > 0)) {
      inode.sem = lock(inode.sem, kind);
      return locked(kind);
    }
    const { waiter, outcome } = this.block(p, step, s, rule, () => locked(kind));
    inode.lockWaiters.push({ waiter, kind });
    return outcome;
  }

  /** Whether a thread of p's process is still in the kernel: a write in flight, or a thread asleep. */
  private inKernel(p: SimProcess): boolean {
    const group = this.groupOf(p);
    return this.hasWriteInFlight(group) || [group, ...group.threads].some((t) => t.blockedBy !== null);
  }

  /** Whether any thread of p's process has a write in flight. */
  private hasWriteInFlight(p: SimProcess): boolean {
    const group = this.groupOf(p);
    for (const w of this.writes.values()) if (this.groupOf(w.process) === group && w.started && !w.ended) return true;
    return false;
  }

  /** The last thread of an exited process is gone: its descriptors and mappings go too. */
  private releaseProcess(task: SimProcess): void {
    const p = this.groupOf(task);
    for (const file of p.fds.values()) this.put(file);
    for (const m of p.maps.values()) if (m.file) this.put(m.file);
    // An exited process never holds a file again (dispatch refuses its steps) but stays known
    // by its name: its tasks share one empty table, not two each of their own (a million-step
    // scenario forks and exits 59,000 processes: 22 MB, a tenth of the page faults of `check`).
    for (const t of [p, ...p.threads]) {
      t.fds = RELEASED_FDS;
      t.maps = RELEASED_MAPS;
    }
    this.liveProcesses.delete(p);
  }

  private endWrite(w: InFlightWrite): void {
    const inode = w.file.inode;
    w.ended = true;
    const ended = dioWriteEnd(this.conn, inode.io, w.kind!);
    this.setIo(inode, ended.inode);
    if (ended.wake) this.wakeIoWaiters(inode);
    inode.sem = unlock(inode.sem, w.kind!);
    this.wakeLockWaiters(inode);
  }

  private writeEnd(s: Extract<StepStatement, { kind: 'write-end' }>): Outcome {
    const w = this.writes.get(s.write.value);
    if (!w) {
      const aborted = this.endedByAbort(s.write);
      if (aborted) return aborted;
      this.diagnose(s.write.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'write', name: s.write.value, hint: true });
      return { outcome: 'skipped' };
    }
    if (!w.started) {
      this.diagnose(s.write.range, 'error', 'write-not-started', { what: 'write-not-started', write: s.write.value, line: w.line + 1 });
      return { outcome: 'skipped' };
    }
    this.writes.delete(s.write.value);
    if (!w.ended) this.endWrite(w);
    this.put(w.file);
    if (w.process.exitedAt !== null) {
      if (!this.inKernel(w.process)) this.releaseProcess(w.process);
      return OK; // the writing thread returns into an exited process: nobody sees the result
    }
    // The step's outcome is what the write returns: the server's answer (EINTR, EIO, ...) or its byte count.
    return s.error ? { outcome: s.error.value } : OK;
  }

  private backing(s: Extract<StepStatement, { kind: 'backing' }>): Outcome {
    const r = backingOpenWith(this.conn, this.backings, s.name.value, { flags: s.flags?.value ?? 0, fd: s.fd?.value ?? 'file', stackDepth: s.stacked ? 1 : 0 });
    if (!r.ok) {
      this.backingIds.set(s.name.value, 0);
      return { outcome: r.errno, rule: r.rule };
    }
    this.backings = r.table;
    this.backingIds.set(s.name.value, r.id);
    this.backingNamesById.set(r.id, s.name.value);
    return OK;
  }

  private backingClose(s: Extract<StepStatement, { kind: 'backing-close' }>): Outcome {
    if (!this.backingDecl.has(s.name.value)) {
      this.diagnose(s.name.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'backing', name: s.name.value, hint: false });
      return { outcome: 'skipped' };
    }
    const r = backingClose(this.conn, this.backings, this.backingIds.get(s.name.value) ?? 0);
    if (!r.ok) return { outcome: r.errno, rule: r.rule };
    this.backings = r.table;
    return OK;
  }

  private expect(s: Extract<StepStatement, { kind: 'expect' }>): Outcome {
    if (!this.hasInode(s.file.value)) {
      this.diagnose(s.file.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'file', name: s.file.value, hint: false });
      return { outcome: 'skipped' };
    }
    const actual = this.inodeState(this.inode(s.file.value));
    if (s.mode && s.mode.value !== actual.mode) {
      this.diagnose(s.mode.range, 'error', 'expect-mismatch', { what: 'expect-mismatch', file: s.file.value, actual, mode: s.mode.value });
    }
    if (s.iocachectr && s.iocachectr.value !== actual.iocachectr) {
      this.diagnose(s.iocachectr.range, 'error', 'expect-mismatch', { what: 'expect-mismatch', file: s.file.value, actual, iocachectr: s.iocachectr.value });
    }
    return OK;
  }

  declareBacking(name: Token): boolean {
    if (this.backingDecl.has(name.value)) return false;
    this.backingDecl.set(name.value, name);
    return true;
  }

  finish(): void {
    this.current = null;
    for (const [name, token] of this.backingDecl) {
      if ((this.backingIds.get(name) ?? 0) > 0 && !this.usedBackings.has(name)) {
        this.diagnose(token.range, 'warning', 'backing-never-used', { what: 'backing-never-used', backing: name });
      }
    }
    // The steps still asleep are the unsettled ones: each one final now as it is.
    for (let i = this.unsettledFrom; i < this.unsettled.length; i++) {
      const step = this.unsettled[i]!;
      if (step.outcome === 'blocks' && step.completedAt === null) {
        const at = { line: step.line - 1, character: 0 };
        this.diagnose({ start: at, end: at }, 'warning', 'never-wakes', { what: 'never-wakes', line: step.line });
      }
      this.onStep(step);
    }
    this.unsettled = [];
    this.unsettledFrom = 0;
  }
}

/**
 * The kernel the scenario asks for, with a diagnostic when it is not one the
 * model covers, or names a stable release whose backports are not known.
 */
function chooseKernel(declarations: readonly Statement[], options: SimulateOptions, diagnostics: Diagnostic[]): KernelVersion {
  const newest = parseKernelVersion(NEWEST_KERNEL)!;
  const given = options.kernel === undefined ? undefined : parseKernelVersion(options.kernel);
  const fallback = given && isModelled(given) ? given : newest;
  const line = declarations.find((s) => s.kind === 'kernel');
  if (!line || line.kind !== 'kernel') return fallback;
  const v = parseKernelVersion(line.version.value);
  if (!v || !isModelled(v)) {
    diagnostics.push(diagnostic(line.version.range, 'error', 'unknown-kernel',
      { what: 'unknown-kernel', kernel: line.version.value, modelled: [...MODELLED_KERNELS], fallback: formatKernelVersion(fallback) }));
    return fallback;
  }
  for (const name of unknownGates(v)) {
    const gate = KERNEL_GATES[name];
    diagnostics.push(diagnostic(line.version.range, 'warning', 'kernel-backport-unknown',
      { what: 'kernel-backport-unknown', kernel: formatKernelVersion(v), commit: gate.commit ?? name, summary: gate.summary, mainline: gate.mainline }));
  }
  return v;
}

/** The reply's flag of a name: by a loop, neither a Set nor a callback per search, at each of a million opens. */
function replyFlag(reply: readonly FlagToken[], name: string): FlagToken | undefined {
  for (const f of reply) if (f.value === name) return f;
  return undefined;
}

/**
 * The outcome a held OPEN's line states for the open once the server answers
 * it (`open … begin as O => EIO`); `=> blocks` states the wait itself.
 */
function answerStated(s: StepStatement): string | undefined {
  const stated = s.outcome?.value;
  return s.kind === 'open' && s.hold && stated !== 'blocks' ? stated : undefined;
}

/** Simulates a parsed scenario, keeping every step (the language server's, the lab's). */
export function simulate(scenario: Scenario, options: SimulateOptions = {}): SimulationResult {
  const steps: StepResult[] = [];
  return { ...simulateSource(scenarioSource(scenario), options, { step: (step) => steps.push(step) }), steps };
}

/** Where simulateSource hands what it finds, as it finds it. */
export interface SimulationSink {
  /** Before the first step: the kernel whose rules apply and every inode. */
  start?(head: Pick<SimulationSummary, 'kernel' | 'initialInodes'>): void;
  /** Each step once final, in line order. */
  step(step: StepResult): void;
}

/**
 * Simulates a scenario's statements, handing each step to `sink` once it is final (a
 * step that blocks, and the steps after it, wait until it wakes or the scenario ends),
 * in line order. Keeps none of them: with streamScenario, the CLI runs a million-step
 * scenario in the memory of its declarations, its live names and the kept diagnostics.
 */
export function simulateSource(source: ScenarioSource, options: SimulateOptions, sink: SimulationSink): SimulationSummary {
  const { sim, kernel } = startSimulation(source.declarations, options, new DiagnosticList(options.maxDiagnostics ?? Infinity), (step) => sink.step(step));
  sink.start?.({ kernel, initialInodes: sim.initialInodes });
  source.forEachStep((s) => sim.run(s), (e) => sim.diagnostics.push(syntaxDiagnostic(e)));
  sim.finish();
  return {
    kernel,
    initialInodes: sim.initialInodes,
    finalInodes: sim.inodeTable(),
    diagnostics: sim.diagnostics.sorted(),
    diagnosticCounts: sim.diagnostics.counts,
  };
}

/** A simulation set up from a scenario's declarations, before its first step (simulateSource, resume.ts). */
export function startSimulation(
  declarations: readonly Statement[], options: SimulateOptions, diagnosticList: DiagnosticList, onStep: (step: StepResult) => void,
): { sim: Simulation; kernel: string } {
  const diagnostics: Diagnostic[] = [];
  const once = new Map<string, Statement>();
  for (const s of declarations) {
    if (s.kind !== 'scenario' && s.kind !== 'kernel' && s.kind !== 'init') continue;
    const first = once.get(s.kind);
    if (first) {
      diagnostics.push(diagnostic(rangeOf(s), 'error', 'duplicate-statement', { what: 'duplicate-statement', keyword: s.kind, line: first.line + 1 }));
    } else once.set(s.kind, s);
  }
  const kernel = chooseKernel(declarations, options, diagnostics);
  const init = once.get('init');
  const initFlags = init?.kind === 'init' ? init.flags : [];
  const { conn, passthroughOff } = processInitReply(kernel, {
    flags: new Set(initFlags.map((f) => f.value)),
    maxStackDepth: init?.kind === 'init' ? init.maxStackDepth?.value : undefined,
  });

  const files: Token[] = [];
  const processes: Token[] = [];
  const seen = new Map<string, Token>();
  for (const s of declarations) {
    if (s.kind !== 'file' && s.kind !== 'process') continue;
    const prior = seen.get(`${s.kind}:${s.name.value}`);
    if (prior) {
      diagnostics.push(diagnostic(s.name.range, 'error', 'duplicate-name',
        { what: 'duplicate-name', kind: s.kind, name: s.name.value, scope: 'declared', line: prior.range.start.line + 1 }));
      continue;
    }
    seen.set(`${s.kind}:${s.name.value}`, s.name);
    (s.kind === 'file' ? files : processes).push(s.name);
  }
  const threads = threadDeclarations(declarations, processes, diagnostics);

  const sim = new Simulation(conn, files, processes, threads, diagnosticList, onStep);
  for (const d of diagnostics) sim.diagnostics.push(d);
  if (init?.kind === 'init') warnInit(sim, init, passthroughOff);
  for (const s of declarations) {
    if (s.kind === 'backing' && !sim.declareBacking(s.name)) {
      sim.diagnose(s.name.range, 'error', 'duplicate-name', { what: 'duplicate-name', kind: 'backing', name: s.name.value, scope: 'declared' });
    }
  }
  return { sim, kernel: formatKernelVersion(kernel) };
}

/** A line that did not parse, as the simulation reports it (before its steps). */
export function syntaxDiagnostic(e: SyntaxError): Diagnostic {
  return diagnostic(e.range, 'error', 'syntax', { what: 'syntax', message: e.message });
}

/**
 * `thread T of P` lines as T → P. A thread's name is one no process has (nor
 * `main`), and its process is not a thread: the others are errors and left out.
 */
export function threadDeclarations(declarations: readonly Statement[], processes: readonly Token[], diagnostics: Diagnostic[]): Map<string, string> {
  const threads = new Map<string, string>();
  const lines = new Map<string, number>();
  const processNames = new Map(processes.map((p) => [p.value, p.range.start.line + 1]));
  const declared = declarations.filter((s) => s.kind === 'thread');
  const threadNames = new Set(declared.map((s) => s.name.value));
  for (const s of declared) {
    const name = s.name.value;
    const clash = lines.get(name) ?? processNames.get(name) ?? (name === DEFAULT_PROCESS ? 0 : undefined);
    if (clash !== undefined) {
      diagnostics.push(diagnostic(s.name.range, 'error', 'duplicate-name',
        { what: 'duplicate-name', kind: lines.has(name) ? 'thread' : 'process', name, scope: 'declared', ...(clash > 0 && { line: clash }) }));
      continue;
    }
    lines.set(name, s.line + 1);
    if (threadNames.has(s.of.value)) {
      diagnostics.push(diagnostic(s.of.range, 'error', 'unknown-name', { what: 'unknown-name', kind: 'process', name: s.of.value, hint: false }));
      continue;
    }
    threads.set(name, s.of.value);
  }
  return threads;
}

/** A diagnostic with its facts, and its text made from them (server/scenario/diagnostic-text.ts). */
function diagnostic(range: Range, severity: Severity, code: string, data: DiagnosticData): Diagnostic {
  return { range, severity, code, message: renderMessage(data), data };
}

function warnInit(sim: Simulation, init: Extract<Statement, { kind: 'init' }>, off: ReturnType<typeof processInitReply>['passthroughOff']): void {
  sim.warnUnknownFlags(init.flags, findInitFlag);
  const pt = init.flags.find((f) => f.value === 'passthrough');
  if (off === 'writeback-cache' && pt) {
    const wb = init.flags.find((f) => f.value === 'writeback_cache')!;
    sim.diagnose(wb.range, 'warning', 'passthrough-disabled-by-writeback-cache', { what: 'passthrough-disabled-by-writeback-cache' });
  }
  if (off === 'max-stack-depth') {
    sim.diagnose(init.maxStackDepth?.range ?? pt!.range, 'warning', 'passthrough-bad-max-stack-depth',
      { what: 'passthrough-bad-max-stack-depth', maxStackDepth: init.maxStackDepth?.value ?? 0, passthrough: true });
  }
  if (init.maxStackDepth && !pt) {
    sim.diagnose(init.maxStackDepth.range, 'warning', 'passthrough-bad-max-stack-depth',
      { what: 'passthrough-bad-max-stack-depth', maxStackDepth: init.maxStackDepth.value, passthrough: false });
  }
}

export function simulateScenario(text: string, options: SimulateOptions = {}): SimulationResult {
  return simulate(parseScenario(text), options);
}
