// The syntax tree of a `.fusesim` scenario (see docs/scenario-language.md).
// Positions are 0-based, as in LSP; the CLI and JSON add 1 to lines and columns.

import type { Position, Range } from '../../protocol/scenario';

export type { Position, Range };

/**
 * A word of the source with where it stands: its line and columns [start, end), made into an
 * LSP `Range` only when asked (a diagnostic, a hover, an edit). A parse of a million lines
 * makes millions of tokens, and a `Range` of two `Position`s made for each was three objects
 * more per word, most never read.
 */
export class Token<T = string> implements Span {
  constructor(readonly value: T, readonly line: number, readonly start: number, readonly end: number) {}

  /** A new Range each time: the caller may keep or change it. */
  get range(): Range {
    return rangeOf(this);
  }
}

/** Where a token or statement stands: its line and its columns [start, end). */
export interface Span {
  readonly line: number;
  readonly start: number;
  readonly end: number;
}

/** A span as an LSP Range (a new one: the caller may keep or change it). */
export function rangeOf(s: Span): Range {
  return { start: { line: s.line, character: s.start }, end: { line: s.line, character: s.end } };
}

import type { AccessMode, InodeMode } from '../model/state';

export type { AccessMode };

/** What a statement states it expects: `ok`, `blocks` or an errno name. */
export type Outcome = string;

/** A statement spans its line's columns [start, end), comment excluded (rangeOf makes its Range). */
interface StatementBase extends Span {
  /** 0-based line of the statement. */
  line: number;
  start: number;
  end: number;
  /** `PROC:` prefix; absent means the default process `main`. */
  process?: Token;
  /** `=> OUTCOME` */
  outcome?: Token<Outcome>;
}

export interface ScenarioStatement extends StatementBase { kind: 'scenario'; title: Token }
export interface KernelStatement extends StatementBase { kind: 'kernel'; version: Token }
/** A flag as written, with the canonical (lower-case, unprefixed) name. */
export class FlagToken extends Token {
  constructor(value: string, line: number, start: number, end: number, /** The flag as the user spelled it. */ readonly text: string) {
    super(value, line, start, end);
  }
}
export interface InitStatement extends StatementBase {
  kind: 'init';
  flags: FlagToken[];
  maxStackDepth?: Token<number>;
}
export interface FileStatement extends StatementBase { kind: 'file'; name: Token }
export interface ProcessStatement extends StatementBase { kind: 'process'; name: Token }
/** `thread T of P`: a second thread of process P, sharing its descriptors and mappings. */
export interface ThreadStatement extends StatementBase { kind: 'thread'; name: Token; of: Token }
/** `dir` / `o_path`: what the server passes instead of a plain descriptor; `flags=N`: the map's flags. */
export interface BackingStatement extends StatementBase {
  kind: 'backing';
  name: Token;
  path?: Token;
  fd?: Token<'dir' | 'o_path'>;
  flags?: Token<number>;
  /** The backing file lives on an overlayfs (s_stack_depth 1). */
  stacked?: Token;
}
export interface BackingCloseStatement extends StatementBase { kind: 'backing-close'; name: Token }
/** `backing=B` names a declared backing; a number stands for a raw (bad) id. */
export type BackingRef = { kind: 'name'; name: Token } | { kind: 'id'; id: Token<number> };
/** `open`, or `create` (open with O_CREAT): the same system call, so one statement kind. */
export interface OpenStatement extends StatementBase {
  kind: 'open';
  /** The `create` keyword: O_CREAT. */
  create?: Range;
  oExcl?: Token;
  file: Token;
  handle: Token;
  access?: Token<AccessMode>;
  oDirect?: Token;
  oTrunc?: Token;
  oAppend?: Token;
  reply: FlagToken[];
  /** `reply error=ENAME`: the server answers the OPEN (or CREATE) with this errno instead of flags. */
  replyError?: Token;
  /** Range of the `reply` keyword, if present. */
  replyKeyword?: Range;
  backing?: BackingRef;
  /**
   * `create … reply error=ENOSYS reply …`: the CREATE's own answer, ENOSYS, after which the
   * kernel makes the name with MKNOD and opens it with an OPEN (fc->no_create); `reply`,
   * `replyError` and `backing` are then that OPEN's answer.
   */
  createReply?: Token;
  /** `begin as O`: the server holds the OPEN until `open O end`. */
  hold?: Token;
}
/** `open O end`: the server answers the OPEN it holds as O. */
export interface OpenEndStatement extends StatementBase { kind: 'open-end'; open: Token }
/** `read F begin as R`: the server holds the READ until `read R end`. */
export interface ReadBeginStatement extends StatementBase { kind: 'read-begin'; handle: Token; as: Token }
export interface ReadEndStatement extends StatementBase { kind: 'read-end'; read: Token }
/** `release F begin as R`: the server will hold the RELEASE of F's open file until `release R end`. */
export interface ReleaseBeginStatement extends StatementBase { kind: 'release-begin'; handle: Token; as: Token }
export interface ReleaseEndStatement extends StatementBase { kind: 'release-end'; release: Token }
/** `fcntl F setfl FLAG...`: the status flags F_SETFL leaves set (o_direct, o_append). */
export interface FcntlStatement extends StatementBase { kind: 'fcntl'; handle: Token; setfl: Token<'o_direct' | 'o_append'>[] }
/** `send F to P [as G]`: SCM_RIGHTS; `as` absent means P names it F too. */
export interface SendStatement extends StatementBase { kind: 'send'; handle: Token; to: Token; as?: Token }
export interface CloseStatement extends StatementBase { kind: 'close'; handle: Token }
export interface DupStatement extends StatementBase { kind: 'dup'; handle: Token; as: Token }
export interface MmapStatement extends StatementBase {
  kind: 'mmap';
  handle: Token;
  sharing: Token<'shared' | 'private'>;
  write?: Token;
  as: Token;
}
/** `part`: only the first page of the mapping goes. */
export interface MunmapStatement extends StatementBase { kind: 'munmap'; mapping: Token; part?: Token }
export interface MsyncStatement extends StatementBase { kind: 'msync'; mapping: Token }
export interface ForkStatement extends StatementBase { kind: 'fork'; as: Token }
export interface ExitStatement extends StatementBase { kind: 'exit' }
/** `abort`: 1 written to /sys/fs/fuse/connections/N/abort (fuse_abort_conn). */
export interface AbortStatement extends StatementBase { kind: 'abort' }
/** `umount [lazy]`: umount2(2) of the mount, with MNT_DETACH when lazy. */
export interface UmountStatement extends StatementBase { kind: 'umount'; lazy?: Token }
export interface ReadStatement extends StatementBase { kind: 'read'; handle: Token }
export interface WriteStatement extends StatementBase { kind: 'write'; handle: Token }
export interface WriteBeginStatement extends StatementBase { kind: 'write-begin'; handle: Token; as: Token }
/** `error=ERRNO`: the server answers the held request with this errno. */
export interface WriteEndStatement extends StatementBase { kind: 'write-end'; write: Token; error?: Token }
/** `close F begin as X`: the server holds the FLUSH of this close until `close X end`. */
export interface CloseBeginStatement extends StatementBase { kind: 'close-begin'; handle: Token; as: Token }
export interface CloseEndStatement extends StatementBase { kind: 'close-end'; flush: Token; error?: Token }
/** The signals the language sends: one the agent handles (SIGUSR1), and SIGKILL. */
export type SignalName = 'SIGUSR1' | 'SIGKILL';
/** `signal TASK SIG`: tgkill(2) of a process's main thread, a thread, or the thread of an in-flight write. */
export interface SignalStatement extends StatementBase { kind: 'signal'; task: Token; signal: Token<SignalName> }
/** `expect FILE MODE` names an inode mode of the model. */
export type ExpectedMode = InodeMode;
export interface ExpectStatement extends StatementBase {
  kind: 'expect';
  file: Token;
  mode?: Token<ExpectedMode>;
  iocachectr?: Token<number>;
}

export type Statement =
  | ScenarioStatement
  | KernelStatement
  | InitStatement
  | FileStatement
  | ProcessStatement
  | ThreadStatement
  | BackingStatement
  | BackingCloseStatement
  | OpenStatement
  | CloseStatement
  | DupStatement
  | MmapStatement
  | MunmapStatement
  | ForkStatement
  | ExitStatement
  | ReadStatement
  | WriteStatement
  | WriteBeginStatement
  | WriteEndStatement
  | ExpectStatement
  | FcntlStatement
  | SendStatement
  | MsyncStatement
  | CloseBeginStatement
  | CloseEndStatement
  | AbortStatement
  | UmountStatement
  | OpenEndStatement
  | ReadBeginStatement
  | ReadEndStatement
  | ReleaseBeginStatement
  | ReleaseEndStatement
  | SignalStatement;

/** Statements that act at a point in time (everything but declarations). */
export type StepStatement = Exclude<
  Statement,
  ScenarioStatement | KernelStatement | InitStatement | FileStatement | ProcessStatement | ThreadStatement
>;

export interface SyntaxError {
  range: Range;
  message: string;
}

export interface Scenario {
  statements: Statement[];
  errors: SyntaxError[];
  /** Number of lines of the source, to keep every range inside it. */
  lineCount: number;
}
