// The statements of the `.fusesim` language (docs/scenario-language.md,
// "Statements"), in one table read by the parser, completion, semantic tokens,
// the simulator and the lab replay. A new statement is one row here, one case
// in the parser and one method in each of Simulation and Replay.

import { MODELLED_KERNELS } from '../model/kernel-version';
import { INODE_MODES, type AccessMode } from '../model/state';
import type { ExpectedMode, SignalName, Statement, StepStatement, Token } from './ast';

export interface StatementSyntax {
  keyword: string;
  /** The statement's shape, as error messages and docs write it. */
  shape: string;
  /** The shape as a completion snippet. */
  snippet: string;
  doc: string;
  /**
   * `declaration`: read before any step (the connection, the files, the processes);
   * `step`: acts at its point in the scenario, in order.
   */
  role: 'declaration' | 'step';
  /** A system call of a process: takes a `PROC:` prefix. */
  byProcess: boolean;
}

export const STATEMENTS: readonly StatementSyntax[] = [
  { keyword: 'scenario', shape: 'scenario "TITLE"', snippet: 'scenario "${1:title}"', doc: 'The scenario\'s title (optional, once).', role: 'declaration', byProcess: false },
  { keyword: 'kernel', shape: 'kernel VERSION', snippet: `kernel \${1|${[...MODELLED_KERNELS].reverse().join(',')}|}`, doc: 'The kernel version whose rules apply.', role: 'declaration', byProcess: false },
  { keyword: 'init', shape: 'init FLAG... [max_stack_depth=N]', snippet: 'init passthrough max_stack_depth=${1:1}', doc: 'What the server answers to FUSE_INIT.', role: 'declaration', byProcess: false },
  { keyword: 'file', shape: 'file NAME', snippet: 'file ${1:data.db}', doc: 'A regular file (an inode) of the mount.', role: 'declaration', byProcess: false },
  { keyword: 'process', shape: 'process NAME', snippet: 'process ${1:p1}', doc: 'A process (`main` exists without being declared).', role: 'declaration', byProcess: false },
  { keyword: 'thread', shape: 'thread NAME of PROC', snippet: 'thread ${1:t1} of ${2:main}', doc: 'A second thread of process PROC (pthread_create): its steps take `NAME:` as their prefix. It shares the process\'s descriptors and mappings, and sleeps in the kernel on its own: while it waits, the other threads go on. `exit` by any thread ends the whole process (exit_group).', role: 'declaration', byProcess: false },
  { keyword: 'backing', shape: 'backing NAME ["PATH"] [dir|o_path] [stacked] [flags=N] | backing close NAME', snippet: 'backing ${1:b1} "${2:/srv/data.db}"', doc: 'FUSE_DEV_IOC_BACKING_OPEN: register a backing file; the name stands for the id.', role: 'step', byProcess: false },
  { keyword: 'open', shape: 'open FILE as F [rdonly|wronly|rdwr] [o_direct] [o_trunc] [o_append] [reply FLAG... | reply error=ERRNO] [backing=B] [begin as O] | open O end', snippet: 'open ${1:file} as ${2:f1} ${3|rdonly,wronly,rdwr|} reply ${4:passthrough} backing=${5:b1}', doc: 'open(2) of a file of the mount; `reply` lists the FOPEN flags the server answers, or `reply error=ERRNO` the error it answers instead (ENOSYS: no_open from here on). `begin as O`: the server holds the OPEN until `open O end`; the process waits in open(2), and the io mode is decided when the reply comes (fuse_finish_open).', role: 'step', byProcess: true },
  { keyword: 'create', shape: 'create NAME as F [rdonly|wronly|rdwr] [o_excl] [o_direct] [o_trunc] [o_append] [reply FLAG... | reply error=ERRNO | reply error=ENOSYS reply FLAG...] [backing=B]', snippet: 'create ${1:new.db} as ${2:f1} o_excl reply ${3:keep_cache}', doc: 'open(2) with O_CREAT: a name that does not exist yet is made by FUSE_CREATE, whose reply carries the FOPEN flags (also under no_open); an existing name is opened as by `open`, or refused with EEXIST under `o_excl`. `reply error=ENOSYS reply FLAG...`: the server does not implement CREATE, so the kernel makes the name with MKNOD and opens it with an OPEN answered FLAG... — and so for every later create (no_create).', role: 'step', byProcess: true },
  { keyword: 'close', shape: 'close F | close F begin as X | close X end [error=ERRNO]', snippet: 'close ${1:f1}', doc: 'close(2) of this process\'s descriptor (`close F begin as X`: the server holds its FLUSH until `close X end`; the process waits in close meanwhile; `error=ERRNO`: the server answers the FLUSH with it, ENOSYS meaning no FLUSH from then on).', role: 'step', byProcess: true },
  { keyword: 'dup', shape: 'dup F as G', snippet: 'dup ${1:f1} as ${2:f2}', doc: 'dup(2): a second descriptor of the same open file.', role: 'step', byProcess: true },
  { keyword: 'mmap', shape: 'mmap F shared|private [write] as M', snippet: 'mmap ${1:f1} ${2|shared,private|} as ${3:m1}', doc: 'mmap(2) of an open file.', role: 'step', byProcess: true },
  { keyword: 'munmap', shape: 'munmap M [part]', snippet: 'munmap ${1:m1}', doc: 'munmap(2) of a mapping; `part` unmaps its first page only, and the rest still holds the file.', role: 'step', byProcess: true },
  { keyword: 'msync', shape: 'msync M', snippet: 'msync ${1:m1}', doc: 'msync(2) with MS_SYNC: a shared mapping of a FUSE file is fsync\'ed (fuse_fsync, under the inode lock); a private or passthrough mapping does not reach FUSE.', role: 'step', byProcess: true },
  { keyword: 'fork', shape: 'fork as P2', snippet: 'fork as ${1:child}', doc: 'fork(2): the child gets copies of all descriptors and mappings.', role: 'step', byProcess: true },
  { keyword: 'exit', shape: 'exit', snippet: 'exit', doc: 'The process exits: all its descriptors and mappings are dropped.', role: 'step', byProcess: true },
  { keyword: 'read', shape: 'read F | read F begin as R | read R end', snippet: 'read ${1:f1}', doc: 'read(2) through a descriptor (`read F begin as R`: the server holds the READ of a direct-io read until `read R end`; the process waits in read meanwhile).', role: 'step', byProcess: true },
  { keyword: 'release', shape: 'release F begin as R | release R end', snippet: 'release ${1:f1} begin as ${2:r1}', doc: 'The server holds the RELEASE of F\'s open file (sent when its last descriptor, mapping or write goes) until `release R end`. Nobody waits for it: close returns and the io mode is dropped before RELEASE is sent (fuse_file_put).', role: 'step', byProcess: false },
  { keyword: 'write', shape: 'write F | write F begin as W | write W end [error=ERRNO]', snippet: 'write ${1:f1}', doc: 'write(2) through a descriptor (`write F begin as W` keeps a direct-io write in flight; `write W end error=ERRNO`: the server answers it with that errno, such as EINTR after a signal).', role: 'step', byProcess: true },
  { keyword: 'send', shape: 'send F to P [as G]', snippet: 'send ${1:f1} to ${2:p2} as ${3:g1}', doc: 'sendmsg(2) of the descriptor with SCM_RIGHTS over a Unix socket, and recvmsg(2) in process P: P gets a descriptor of the same open file (named G, or F), as dup(2) gives one in the same process.', role: 'step', byProcess: true },
  { keyword: 'fcntl', shape: 'fcntl F setfl [o_direct] [o_append]', snippet: 'fcntl ${1:f1} setfl ${2|o_direct,o_append|}', doc: 'fcntl(F_SETFL): the open file\'s O_DIRECT and O_APPEND become the ones listed (none listed clears both). The io mode stays what the open made it.', role: 'step', byProcess: true },
  { keyword: 'signal', shape: 'signal TASK SIGUSR1|SIGKILL', snippet: 'signal ${1:p1} ${2|SIGUSR1,SIGKILL|}', doc: 'tgkill(2) from outside the scenario\'s processes to TASK: a process (its main thread), a thread, or an in-flight write (the thread that carries it). SIGUSR1 has a handler: a call waiting for a request the server holds sends FUSE_INTERRUPT and still waits for the answer. SIGKILL kills the whole process; a thread waiting for a held request ends only once it is answered.', role: 'step', byProcess: false },
  { keyword: 'abort', shape: 'abort', snippet: 'abort', doc: 'Aborts the connection (1 written to /sys/fs/fuse/connections/N/abort, fuse_abort_conn): requests in flight end with ECONNABORTED, every later request fails with ENOTCONN.', role: 'step', byProcess: false },
  { keyword: 'umount', shape: 'umount [lazy]', snippet: 'umount', doc: 'umount2(2) of the mount (`lazy`: MNT_DETACH). A plain umount of a mount with open files or mappings fails with EBUSY; a lazy one detaches the name at once, and open files keep working until released. Opens by name then fail with ENOENT.', role: 'step', byProcess: false },
  { keyword: 'expect', shape: 'expect FILE MODE | expect FILE iocachectr=N', snippet: 'expect ${1:file} ${2|idle,caching,uncached,passthrough|}', doc: 'Assert an inode\'s state here.', role: 'step', byProcess: false },
];

export const STATEMENT_KEYWORDS: readonly string[] = STATEMENTS.map((s) => s.keyword);
/** The statements that take a `PROC:` prefix. */
export const PROCESS_STEPS: ReadonlySet<string> = new Set(STATEMENTS.filter((s) => s.byProcess).map((s) => s.keyword));
const DECLARATIONS: ReadonlySet<string> = new Set(STATEMENTS.filter((s) => s.role === 'declaration').map((s) => s.keyword));

export const ACCESS_MODES: readonly AccessMode[] = ['rdonly', 'wronly', 'rdwr'];

/** The signals `signal` sends, with what each does. */
export const SIGNALS: readonly SignalName[] = ['SIGUSR1', 'SIGKILL'];
export const SIGNAL_DOC: Record<SignalName, string> = {
  SIGUSR1: 'a signal the process handles: a request in flight gets FUSE_INTERRUPT, the call still waits for the answer',
  SIGKILL: 'kills the process (every thread); a request the server holds is still waited for',
};

/** The open(2) flags a scenario can pass besides the access mode, and the ones fcntl(F_SETFL) can change. */
export type StatusFlag = 'o_direct' | 'o_trunc' | 'o_append' | 'o_excl';
export const OPEN_STATUS_FLAGS: readonly { word: StatusFlag; doc: string; setfl: boolean; createOnly?: true }[] = [
  { word: 'o_direct', doc: 'the process opens with O_DIRECT', setfl: true },
  { word: 'o_trunc', doc: 'O_TRUNC: the open truncates the file, holding the inode lock (do_truncate)', setfl: false },
  { word: 'o_append', doc: 'O_APPEND: every write appends, and takes the inode lock exclusively', setfl: true },
  { word: 'o_excl', doc: 'O_EXCL: the name must not exist yet (EEXIST otherwise)', setfl: false, createOnly: true },
];
export const EXPECTED_MODES: readonly ExpectedMode[] = INODE_MODES;

/** Every word that is a keyword somewhere in a statement. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  ...STATEMENT_KEYWORDS,
  ...ACCESS_MODES,
  ...OPEN_STATUS_FLAGS.map((f) => f.word),
  'as', 'reply', 'shared', 'private', 'begin', 'end', 'close', 'setfl', 'to', 'part', 'dir', 'o_path', 'stacked', 'lazy', 'of', ...SIGNALS,
]);

/** The kinds of names a scenario declares, and how a sentence calls each. */
export type NameKind = 'file' | 'process' | 'thread' | 'backing' | 'handle' | 'mapping' | 'write' | 'flush' | 'open' | 'read' | 'release';
export const NAME_KIND_LABEL: Record<NameKind, string> = {
  file: 'file',
  process: 'process',
  thread: 'thread',
  backing: 'backing',
  handle: 'open file',
  mapping: 'mapping',
  write: 'in-flight write',
  flush: 'held FLUSH',
  open: 'held OPEN',
  read: 'held READ',
  release: 'held RELEASE',
};

/** The process every scenario has without declaring it. */
export const DEFAULT_PROCESS = 'main';

/** By character code: 2 for what may start a name (a letter, `_`), 1 for what may only follow (a digit, `.`, `-`). */
const NAME_CHARS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_]/.test(ch)) NAME_CHARS[c] = 2;
  else if (/[0-9.-]/.test(ch)) NAME_CHARS[c] = 1;
}

/**
 * Whether `text` is a name: a letter or `_`, then letters, digits, `_`, `.` and `-`
 * ([A-Za-z_][A-Za-z0-9_.-]*). By a table, not a regular expression: the parser tests a
 * name or two on each line of a million-line scenario, and a call of RegExp#test cost
 * more than the loop over a few characters.
 */
export function isName(text: string): boolean {
  const first = text.charCodeAt(0);
  if (!(first < 128 && NAME_CHARS[first] === 2)) return false; // NaN for '': not a name
  for (let i = 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!(c < 128 && NAME_CHARS[c] !== 0)) return false;
  }
  return true;
}
export const OUTCOME_PATTERN = /^(ok|blocks|E[A-Z0-9]+)$/;
/** An errno name, as `reply error=ERRNO` takes it. */
export const ERRNO_PATTERN = /^E[A-Z0-9]+$/;

/** Whether a statement acts at a point in time (everything but declarations). */
export function isStep(s: Statement): s is StepStatement {
  return !DECLARATIONS.has(s.kind);
}

/** The process that does a step: its `PROC:` prefix, or the default process. */
export function processOf(s: StepStatement): string {
  return s.process?.value ?? DEFAULT_PROCESS;
}

/**
 * How the server answers an `open`/`create` whose FUSE_CREATE is sent while the connection still
 * has CREATE (`sendsCreate`): `createRefused` when it answers ENOSYS (`create … reply error=ENOSYS`,
 * with or without the second `reply` for the OPEN after MKNOD: fuse_atomic_open), and the error the
 * open then gets — none for a bare `reply error=ENOSYS` to a CREATE, which only turns on no_create.
 */
export function createAnswer(s: Extract<StepStatement, { kind: 'open' }>, sendsCreate: boolean): { createRefused: boolean; replyError: Token | undefined } {
  const createRefused = sendsCreate && (s.createReply !== undefined || s.replyError?.value === 'ENOSYS');
  return { createRefused, replyError: createRefused && !s.createReply ? undefined : s.replyError };
}

/** What a step does, as results name it: `create` is an open with O_CREAT. */
export function actionOf(s: StepStatement): string {
  return s.kind === 'open' && s.create ? 'create' : s.kind;
}

/** The name a step acts on: the handle, mapping, process, write, backing or file (the `target` of a step result). */
export function targetOf(s: StepStatement): string {
  switch (s.kind) {
    case 'open': case 'close': case 'read': case 'write': case 'fcntl': return s.handle.value;
    case 'dup': case 'fork': case 'write-begin': case 'mmap': return s.as.value;
    case 'send': return (s.as ?? s.handle).value;
    case 'munmap': case 'msync': return s.mapping.value;
    case 'write-end': return s.write.value;
    case 'close-begin': return s.as.value;
    case 'close-end': return s.flush.value;
    case 'open-end': return s.open.value;
    case 'read-begin': case 'release-begin': return s.as.value;
    case 'read-end': return s.read.value;
    case 'release-end': return s.release.value;
    case 'backing': case 'backing-close': return s.name.value;
    case 'expect': return s.file.value;
    case 'exit': return processOf(s);
    case 'signal': return s.task.value;
    case 'abort': return 'connection';
    case 'umount': return 'mount';
  }
}
