// The `.fusesim` parser: one statement per line, error tolerant. A line that
// does not parse gives one syntax error with a precise range and what was
// expected, and is left out; every other line still parses.

import { canonicalFlagName, findInitFlag, findOpenFlag, INIT_BEHAVIOURS, INIT_FLAGS, OPEN_FLAGS } from '../model/flags';
import type { AccessMode } from '../model/state';
import {
  FlagToken, Token, type BackingRef, type ExpectedMode, type Range, type Scenario, type SignalName, type Statement, type StepStatement,
  type SyntaxError,
} from './ast';
import { LineLexer, type Lexeme } from './lexer';
import { forEachLineSpan } from './line-spans';
import {
  ACCESS_MODES, ERRNO_PATTERN, EXPECTED_MODES, isName, OPEN_STATUS_FLAGS, OUTCOME_PATTERN, PROCESS_STEPS, SIGNALS, STATEMENT_KEYWORDS,
  isStep, type StatusFlag,
} from './syntax';

/** Raised inside one line's parse; caught per line, never escapes parseScenario. */
class LineError extends Error {
  constructor(readonly start: number, readonly end: number, message: string) {
    super(message);
  }
}

/**
 * One line's parse, over the lexer's words. One parser takes every line in turn (`start`), as
 * one lexer lexes them: an object per line was garbage on each of a million lines.
 */
class LineParser {
  private pos = 0;
  private line = 0;
  /**
   * The statement's words are lexemes[0, count): the line's (the lexer's array holds more, from
   * longer lines before), then those before `=> OUTCOME` once parseLine has found the arrow.
   */
  count = 0;
  private lineLength = 0;

  constructor(private readonly lexemes: readonly Lexeme[]) {}

  /** Starts on a line whose words the lexer has just found. */
  start(line: number, count: number, lineLength: number): void {
    this.pos = 0;
    this.line = line;
    this.count = count;
    this.lineLength = lineLength;
  }

  range(start: number, end: number): Range {
    return { start: { line: this.line, character: start }, end: { line: this.line, character: end } };
  }

  token<T>(lx: Lexeme, value: T): Token<T> {
    return new Token(value, this.line, lx.start, lx.end);
  }

  /** A token of the columns [start, end) of this line. */
  at<T>(value: T, start: number, end: number): Token<T> {
    return new Token(value, this.line, start, end);
  }

  /** A flag's token: its canonical name, and the lexeme's text as spelled. */
  flag(name: string, lx: Lexeme): FlagToken {
    return new FlagToken(name, this.line, lx.start, lx.end, lx.text);
  }

  peek(): Lexeme | undefined {
    return this.pos < this.count ? this.lexemes[this.pos] : undefined;
  }

  atEnd(): boolean {
    return this.pos >= this.count;
  }

  remaining(): number {
    return this.count - this.pos;
  }

  next(): Lexeme | undefined {
    const lx = this.peek();
    this.pos++;
    return lx;
  }

  /** An error at the current word, or just past the last one when the line ended. */
  fail(expected: string): never {
    const lx = this.peek();
    if (lx) throw new LineError(lx.start, lx.end, `expected ${expected}, found '${lx.text}'`);
    const last = this.count > 0 ? this.lexemes[this.count - 1] : undefined;
    const at = last ? last.end : this.lineLength;
    throw new LineError(at, at, `expected ${expected} at the end of the line`);
  }

  isWord(text: string): boolean {
    const lx = this.peek();
    return lx?.kind === 'word' && lx.text === text;
  }

  keyword(text: string, context: string): Lexeme {
    if (!this.isWord(text)) this.fail(`'${text}' ${context}`);
    return this.next()!;
  }

  name(what: string): Token {
    const lx = this.peek();
    if (!lx || lx.kind !== 'word' || !isName(lx.text)) this.fail(`${what} (a name like data.db or f1)`);
    this.pos++;
    return this.token(lx, lx.text);
  }

  stringOrName(what: string): Token {
    const lx = this.peek();
    if (lx?.kind === 'string') {
      this.pos++;
      return this.token(lx, lx.text);
    }
    return this.name(what);
  }

  end(shape: string): void {
    if (!this.atEnd()) this.fail(`the end of the statement (${shape})`);
  }

  /** `error=ERRNO` closing a held request's `end`, if there; the errno's token. */
  endError(shape: string): Token | undefined {
    const lx = this.peek();
    if (lx?.kind !== 'word' || !lx.text.startsWith('error=')) {
      this.end(shape);
      return undefined;
    }
    const errno = lx.text.slice('error='.length);
    if (!ERRNO_PATTERN.test(errno)) throw new LineError(lx.start + 6, lx.end, 'expected an errno name after error=, such as EINTR or EIO');
    this.next();
    this.end(shape);
    return this.at(errno, lx.start + 6, lx.end);
  }
}

function integer(text: string): number | undefined {
  return /^-?\d+$/.test(text) ? Number(text) : undefined;
}

/** `o_direct` for `o_direct` or `O_DIRECT` (pasted from C). */
function statusFlag(text: string): StatusFlag | undefined {
  // A word whose first character cannot lower-case to a flag's first one is not lower-cased:
  // most words of an `open` line are not flags, and a long scenario has a million such lines.
  const c = text.charCodeAt(0);
  if (c < 0x80 && !statusFlagInitials.has(c >= 0x41 && c <= 0x5a ? c + 0x20 : c)) return undefined;
  return statusFlagWords.get(text.toLowerCase());
}
const statusFlagWords = new Map<string, StatusFlag>(OPEN_STATUS_FLAGS.map((f) => [f.word, f.word]));
const statusFlagInitials = new Set(OPEN_STATUS_FLAGS.map((f) => f.word.charCodeAt(0)));
const openOptionList = `rdonly, wronly, rdwr, ${OPEN_STATUS_FLAGS.filter((f) => !f.createOnly).map((f) => f.word).join(', ')}, reply FLAG..., backing=B or begin as O`;
const setflList = OPEN_STATUS_FLAGS.filter((f) => f.setfl).map((f) => f.word);

const replyFlagList = OPEN_FLAGS.map((f) => f.name).join(', ');
/** Spelled once: a reply's flags are read at each of a million opens. */
const replyFlagExpected = `a reply flag (${replyFlagList}) or error=ERRNO`;
const isOpenFlag = (name: string) => findOpenFlag(name) !== undefined;
const initFlagList = [...INIT_BEHAVIOURS, ...INIT_FLAGS].map((f) => f.name).filter((n) => n !== 'init_ext');

function flagToken(p: LineParser, lx: Lexeme, known: (name: string) => boolean, expected: string): FlagToken {
  const name = canonicalFlagName(lx.text);
  if (lx.kind !== 'word' || !known(name)) throw new LineError(lx.start, lx.end, `unknown flag '${lx.text}': expected ${expected}`);
  return p.flag(name, lx);
}

/**
 * What the held forms of one verb expect, spelled once: the parse of every `close` and
 * `write` line of a million-line scenario comes through heldForm, and made its messages
 * on each line even when nothing was wrong.
 */
interface HeldFormText {
  /** Whether the server's answer may be an error (`VERB NAME end error=ERRNO`). */
  answers: boolean;
  beginAs: string;
  heldName: string;
  begun: string;
  ended: string;
  plain: string;
}

function heldFormText(verb: string, handle: string, name: string, what: string, answers: boolean): HeldFormText {
  return {
    answers,
    beginAs: `in \`${verb} ${handle} begin as ${name}\``,
    heldName: what === 'in-flight write' ? `a name for the ${what}` : `a name for the held ${what}`,
    begun: `${verb} ${handle} begin as ${name}`,
    ended: answers ? `${verb} ${name} end [error=ERRNO]` : `${verb} ${name} end`,
    plain: `${verb} ${handle}, ${verb} ${handle} begin as ${name}, or ${verb} ${name} end`,
  };
}

const CLOSE_FORM = heldFormText('close', 'F', 'X', 'FLUSH', true);
const READ_FORM = heldFormText('read', 'F', 'R', 'READ', false);
const WRITE_FORM = heldFormText('write', 'F', 'W', 'in-flight write', true);

/**
 * The rest of `VERB F`, `VERB F begin as NAME` or `VERB NAME end` (a request the server holds):
 * the new name after `begin as`, `end`, or null for the plain call.
 */
function heldForm(p: LineParser, form: HeldFormText): Token | { ended: true; error?: Token } | null {
  if (p.isWord('begin')) {
    p.next();
    p.keyword('as', form.beginAs);
    const as = p.name(form.heldName);
    p.end(form.begun);
    return as;
  }
  if (p.isWord('end')) {
    p.next();
    // `error=ERRNO`: the server answers the held request with that errno (EINTR after a signal).
    if (!form.answers) {
      p.end(form.ended);
      return { ended: true };
    }
    const error = p.endError(form.ended);
    return error ? { ended: true, error } : { ended: true };
  }
  p.end(form.plain);
  return null;
}

/** A statement without what parseLine adds around it (Omit distributed over the union). */
type Body = DistributiveOmit<Statement>;
type DistributiveOmit<T> = T extends unknown ? Omit<T, 'line' | 'start' | 'end' | 'process' | 'outcome'> : never;

function parseStep(p: LineParser, keyword: Lexeme): Body {
  switch (keyword.text) {
    case 'scenario': {
      const title = p.peek()?.kind === 'string' ? p.stringOrName('') : undefined;
      if (!title) p.fail('a quoted title, as in scenario "two opens of one file"');
      p.end('scenario "TITLE"');
      return { kind: 'scenario', title };
    }
    case 'kernel': {
      const lx = p.peek();
      if (!lx || lx.kind !== 'word' || !/^\d+\.\d+(\.\d+)?$/.test(lx.text)) p.fail('a kernel version such as 6.18');
      p.next();
      p.end('kernel VERSION');
      return { kind: 'kernel', version: p.token(lx, lx.text) };
    }
    case 'init': {
      const flags: FlagToken[] = [];
      let maxStackDepth: Token<number> | undefined;
      while (!p.atEnd()) {
        const lx = p.next()!;
        const eq = lx.text.indexOf('=');
        if (lx.kind === 'word' && eq > 0 && canonicalFlagName(lx.text.slice(0, eq)) === 'max_stack_depth') {
          const n = integer(lx.text.slice(eq + 1));
          if (n === undefined) throw new LineError(lx.start + eq + 1, lx.end, 'expected a number after max_stack_depth=');
          maxStackDepth = p.token(lx, n);
        } else {
          flags.push(flagToken(p, lx, (n) => findInitFlag(n) !== undefined, `an init flag (${initFlagList.slice(0, 6).join(', ')}, ...) or max_stack_depth=N`));
        }
      }
      return maxStackDepth ? { kind: 'init', flags, maxStackDepth } : { kind: 'init', flags };
    }
    case 'file':
    case 'process': {
      const name = p.name(`a ${keyword.text} name`);
      p.end(`${keyword.text} NAME`);
      return { kind: keyword.text, name };
    }
    case 'thread': {
      const name = p.name('a thread name');
      p.keyword('of', 'in `thread NAME of PROC`');
      const of = p.name('the process the thread belongs to');
      p.end('thread NAME of PROC');
      return { kind: 'thread', name, of };
    }
    case 'backing': {
      // `backing close` alone declares a backing named "close"; `backing close B` closes B.
      if (p.isWord('close') && p.remaining() > 1) {
        p.next();
        const name = p.name('the backing to close');
        p.end('backing close NAME');
        return { kind: 'backing-close', name };
      }
      const name = p.name('a backing name');
      const backing: Body & { kind: 'backing' } = { kind: 'backing', name };
      if (p.peek()?.kind === 'string') backing.path = p.stringOrName('');
      while (!p.atEnd()) {
        const lx = p.next()!;
        if (lx.kind === 'word' && (lx.text === 'dir' || lx.text === 'o_path') && !backing.fd) {
          backing.fd = p.token(lx, lx.text);
        } else if (lx.kind === 'word' && lx.text === 'stacked' && !backing.stacked) {
          backing.stacked = p.token(lx, 'stacked');
        } else if (lx.kind === 'word' && lx.text.startsWith('flags=') && !backing.flags) {
          const n = integer(lx.text.slice('flags='.length));
          if (n === undefined || n < 0 || n > 0xffffffff) throw new LineError(lx.start + 6, lx.end, 'expected a whole number (the u32 flags of struct fuse_backing_map) after flags=');
          backing.flags = p.token(lx, n);
        } else {
          throw new LineError(lx.start, lx.end, `unexpected '${lx.text}': expected the end of the statement (backing NAME ["PATH"] [dir|o_path] [stacked] [flags=N]), each option once`);
        }
      }
      return backing;
    }
    case 'open':
      return parseOpen(p, null);
    case 'create':
      return parseOpen(p, p.range(keyword.start, keyword.end));
    case 'close': {
      const handle = p.name('an open file (the name given by `open ... as F`), or a held FLUSH before `end`');
      const held = heldForm(p, CLOSE_FORM);
      if (held && 'ended' in held) return held.error ? { kind: 'close-end', flush: handle, error: held.error } : { kind: 'close-end', flush: handle };
      if (held) return { kind: 'close-begin', handle, as: held };
      return { kind: 'close', handle };
    }
    case 'read': {
      const handle = p.name('an open file (the name given by `open ... as F`), or a held READ before `end`');
      const held = heldForm(p, READ_FORM);
      if (held && 'ended' in held) return { kind: 'read-end', read: handle };
      if (held) return { kind: 'read-begin', handle, as: held };
      return { kind: 'read', handle };
    }
    case 'release': {
      const handle = p.name('an open file (the name given by `open ... as F`), or a held RELEASE before `end`');
      if (p.isWord('end')) {
        p.next();
        p.end('release R end');
        return { kind: 'release-end', release: handle };
      }
      p.keyword('begin', 'or \'end\' in `release F begin as R` or `release R end`');
      p.keyword('as', 'in `release F begin as R`');
      const as = p.name('a name for the held RELEASE');
      p.end('release F begin as R');
      return { kind: 'release-begin', handle, as };
    }
    case 'dup': {
      const handle = p.name('the open file to duplicate');
      p.keyword('as', 'in `dup F as G`');
      const as = p.name('a name for the new descriptor');
      p.end('dup F as G');
      return { kind: 'dup', handle, as };
    }
    case 'mmap': {
      const handle = p.name('the open file to map');
      const lx = p.peek();
      if (!lx || (lx.text !== 'shared' && lx.text !== 'private')) p.fail("'shared' or 'private'");
      p.next();
      const sharing = p.token(lx, lx.text as 'shared' | 'private');
      const write = p.isWord('write') ? p.token(p.next()!, 'write') : undefined;
      p.keyword('as', 'in `mmap F shared|private [write] as M`');
      const as = p.name('a name for the mapping');
      p.end('mmap F shared|private [write] as M');
      return write ? { kind: 'mmap', handle, sharing, write, as } : { kind: 'mmap', handle, sharing, as };
    }
    case 'munmap': {
      const mapping = p.name('a mapping (the name given by `mmap ... as M`)');
      const part = p.isWord('part') ? p.token(p.next()!, 'part') : undefined;
      p.end('munmap M [part]');
      return part ? { kind: 'munmap', mapping, part } : { kind: 'munmap', mapping };
    }
    case 'msync': {
      const mapping = p.name('a mapping (the name given by `mmap ... as M`)');
      p.end('msync M');
      return { kind: 'msync', mapping };
    }
    case 'fork': {
      p.keyword('as', 'in `fork as P2`');
      const as = p.name('a name for the child process');
      p.end('fork as P2');
      return { kind: 'fork', as };
    }
    case 'exit':
      p.end('exit');
      return { kind: 'exit' };
    case 'signal': {
      const task = p.name('a process, thread or in-flight write to signal');
      const lx = p.peek();
      if (!lx || lx.kind !== 'word' || !SIGNALS.includes(lx.text.toUpperCase() as SignalName)) p.fail(`a signal (${SIGNALS.join(' or ')})`);
      p.next();
      p.end('signal TASK SIG');
      return { kind: 'signal', task, signal: p.token(lx, lx.text.toUpperCase() as SignalName) };
    }
    case 'abort':
      p.end('abort');
      return { kind: 'abort' };
    case 'umount': {
      const lazy = p.isWord('lazy') ? p.token(p.next()!, 'lazy') : undefined;
      p.end('umount [lazy]');
      return lazy ? { kind: 'umount', lazy } : { kind: 'umount' };
    }
    case 'write': {
      const handle = p.name('an open file, or an in-flight write before `end`');
      const held = heldForm(p, WRITE_FORM);
      if (held && 'ended' in held) return held.error ? { kind: 'write-end', write: handle, error: held.error } : { kind: 'write-end', write: handle };
      if (held) return { kind: 'write-begin', handle, as: held };
      return { kind: 'write', handle };
    }
    case 'send': {
      const handle = p.name('the open file to send');
      p.keyword('to', 'in `send F to P [as G]`');
      const to = p.name('the process that receives it');
      if (p.atEnd()) return { kind: 'send', handle, to };
      p.keyword('as', 'or the end of the statement in `send F to P [as G]`');
      const as = p.name('the name the receiving process gives it');
      p.end('send F to P [as G]');
      return { kind: 'send', handle, to, as };
    }
    case 'fcntl': {
      const handle = p.name('an open file (the name given by `open ... as F`)');
      p.keyword('setfl', 'in `fcntl F setfl [o_direct] [o_append]` (only F_SETFL is in the language)');
      const setfl: Token<'o_direct' | 'o_append'>[] = [];
      while (!p.atEnd()) {
        const lx = p.next()!;
        const flag = statusFlag(lx.text);
        if (lx.kind !== 'word' || !flag || !setflList.includes(flag)) {
          throw new LineError(lx.start, lx.end, `unexpected '${lx.text}': expected a flag F_SETFL changes (${setflList.join(', ')})`);
        }
        if (setfl.some((f) => f.value === flag)) throw new LineError(lx.start, lx.end, `'${flag}' given twice`);
        setfl.push(p.token(lx, flag as 'o_direct' | 'o_append'));
      }
      return { kind: 'fcntl', handle, setfl };
    }
    case 'expect': {
      const file = p.name('a file');
      const lx = p.peek();
      if (lx?.kind === 'word' && lx.text.startsWith('iocachectr=')) {
        const n = integer(lx.text.slice('iocachectr='.length));
        if (n === undefined) throw new LineError(lx.start + 11, lx.end, 'expected a whole number after iocachectr=');
        p.next();
        p.end('expect FILE iocachectr=N');
        return { kind: 'expect', file, iocachectr: p.token(lx, n) };
      }
      if (!lx || !EXPECTED_MODES.includes(lx.text as ExpectedMode)) p.fail(`a mode (${EXPECTED_MODES.join(', ')}) or iocachectr=N`);
      p.next();
      p.end('expect FILE MODE');
      return { kind: 'expect', file, mode: p.token(lx, lx.text as ExpectedMode) };
    }
    default:
      throw new LineError(keyword.start, keyword.end, `unknown statement '${keyword.text}': expected one of ${STATEMENT_KEYWORDS.join(', ')}`);
  }
}

/** `open …`, or `create …` when `create` (the keyword's range) is given. */
function parseOpen(p: LineParser, create: Range | null): Body {
  const file = p.name(create ? 'a name to create' : 'a file to open, or a held OPEN before `end`');
  if (!create && p.isWord('end')) {
    p.next();
    p.end('open O end');
    return { kind: 'open-end', open: file };
  }
  p.keyword('as', create ? 'in `create FILE as F`' : 'in `open FILE as F`');
  const handle = p.name('a name for the open file');
  let access: Token<AccessMode> | undefined;
  // A plain record, not a Map: one per `open` line of a million-line scenario.
  const status: Partial<Record<StatusFlag, Token>> = {};
  let replyError: Token | undefined;
  let backing: BackingRef | undefined;
  let replyKeyword: Range | undefined;
  const reply: FlagToken[] = [];
  let inReply = false;
  let createReply: Token | undefined;
  let hold: Token | undefined;
  while (!p.atEnd()) {
    const lx = p.next()!;
    if (lx.kind === 'word' && lx.text === 'begin') {
      if (create) throw new LineError(lx.start, lx.end, '`begin as O` holds an OPEN: it goes on `open`, not on `create`');
      p.keyword('as', 'in `open FILE as F ... begin as O`');
      hold = p.name('a name for the held OPEN');
      p.end('open FILE as F ... begin as O (`begin as O` comes last)');
      break;
    }
    if (lx.kind === 'word' && lx.text === 'reply' && replyKeyword) {
      // A second reply: the OPEN that follows a CREATE answered ENOSYS (fuse_atomic_open → mknod).
      if (!create || replyError?.value !== 'ENOSYS' || reply.length > 0 || backing || createReply) {
        throw new LineError(lx.start, lx.end, 'a second `reply` only follows `create … reply error=ENOSYS`: it answers the OPEN the kernel sends after MKNOD');
      }
      createReply = replyError;
      replyError = undefined;
      inReply = true;
      continue;
    }
    if (lx.kind !== 'word') throw new LineError(lx.start, lx.end, `expected an open option (${openOptionList})`);
    const flag = statusFlag(lx.text);
    if (ACCESS_MODES.includes(lx.text as AccessMode)) {
      if (access) throw new LineError(lx.start, lx.end, `access mode given twice (already '${access.value}')`);
      access = p.token(lx, lx.text as AccessMode);
      inReply = false;
    } else if (flag) {
      if (flag === 'o_excl' && !create) throw new LineError(lx.start, lx.end, "'o_excl' needs O_CREAT: write `create FILE as F o_excl`");
      if (status[flag]) throw new LineError(lx.start, lx.end, `'${flag}' given twice`);
      status[flag] = p.token(lx, flag);
      inReply = false;
    } else if (lx.text === 'reply') {
      replyKeyword = p.range(lx.start, lx.end);
      inReply = true;
    } else if (lx.text.startsWith('backing=')) {
      const value = lx.text.slice('backing='.length);
      const id = integer(value);
      if (id !== undefined) backing = { kind: 'id', id: p.at(id, lx.start + 8, lx.end) };
      else if (isName(value)) backing = { kind: 'name', name: p.at(value, lx.start + 8, lx.end) };
      else throw new LineError(lx.start + 8, lx.end, 'expected a backing name or a number after backing=');
      inReply = false;
    } else if (inReply && lx.text.startsWith('error=')) {
      const errno = lx.text.slice('error='.length);
      if (!ERRNO_PATTERN.test(errno)) throw new LineError(lx.start + 6, lx.end, 'expected an errno name after error=, such as ENOSYS or EIO');
      if (replyError) throw new LineError(lx.start, lx.end, 'a reply has one error');
      replyError = p.at(errno, lx.start + 6, lx.end);
    } else if (inReply) {
      reply.push(flagToken(p, lx, isOpenFlag, replyFlagExpected));
    } else {
      const canon = canonicalFlagName(lx.text);
      const hint = findOpenFlag(canon) ? ` (reply flags go after 'reply': reply ${canon})` : '';
      throw new LineError(lx.start, lx.end, `unexpected '${lx.text}': expected ${openOptionList}${hint}`);
    }
  }
  if (replyError && (reply.length > 0 || backing)) {
    throw new LineError(replyError.start - 6, replyError.end, '`reply error=ERRNO` is the whole answer: an error carries no open flags and no backing id');
  }
  const open: Body & { kind: 'open' } = { kind: 'open', file, handle, reply };
  if (createReply) open.createReply = createReply;
  if (hold) open.hold = hold;
  if (replyError) open.replyError = replyError;
  if (create) open.create = create;
  const oExcl = status.o_excl;
  if (oExcl) open.oExcl = oExcl;
  if (access) open.access = access;
  const oDirect = status.o_direct;
  const oTrunc = status.o_trunc;
  const oAppend = status.o_append;
  if (oDirect) open.oDirect = oDirect;
  if (oTrunc) open.oTrunc = oTrunc;
  if (oAppend) open.oAppend = oAppend;
  if (backing) open.backing = backing;
  if (replyKeyword) open.replyKeyword = replyKeyword;
  return open;
}

/** The lexer of every line parsed: a statement keeps no lexeme, only their text and columns. */
const lexer = new LineLexer();
const parser = new LineParser(lexer.lexemes);

/** One line's statement or syntax error (neither for a blank or comment line). */
export function parseLine(text: string, line: number): { statement?: Statement; error?: SyntaxError } {
  lexer.lex(text);
  const { lexemes, count, error } = lexer;
  const p = parser;
  p.start(line, count, text.length);
  if (error) return { error: { range: p.range(error.start, error.end), message: error.message } };
  if (count === 0) return {};
  try {
    // `=> OUTCOME` closes the statement.
    let outcome: Token | undefined;
    let arrowAt = 0;
    while (arrowAt < count && lexemes[arrowAt]!.kind !== 'arrow') arrowAt++;
    const hasArrow = arrowAt < count;
    if (hasArrow) {
      const arrow = lexemes[arrowAt]!;
      const value = arrowAt + 1 < count ? lexemes[arrowAt + 1] : undefined;
      if (!value || value.kind !== 'word' || !OUTCOME_PATTERN.test(value.text)) {
        const at = value ?? arrow;
        throw new LineError(value ? at.start : arrow.end, value ? at.end : arrow.end,
          `expected an outcome after '=>': ok, blocks or an errno name such as EIO`);
      }
      const extra = arrowAt + 2 < count ? lexemes[arrowAt + 2] : undefined;
      if (extra) throw new LineError(extra.start, extra.end, `expected the end of the line after '=> ${value.text}'`);
      outcome = p.token(value, value.text);
      p.count = arrowAt;
    }
    let process: Token | undefined;
    const first = p.peek();
    if (!first) throw new LineError(0, 0, 'expected a statement before =>');
    if (first.kind === 'word' && first.text.endsWith(':')) {
      const name = first.text.slice(0, -1);
      if (!isName(name)) throw new LineError(first.start, first.end, `expected a process name before ':'`);
      process = p.at(name, first.start, first.end - 1);
      p.next();
    }
    const keyword = p.next();
    if (!keyword || keyword.kind !== 'word') throw new LineError(first.start, first.end, 'expected a statement keyword');
    if (process && !PROCESS_STEPS.has(keyword.text)) {
      throw new LineError(first.start, first.end, `'${keyword.text}' is not a process step; only ${[...PROCESS_STEPS].join(', ')} take a 'PROC:' prefix`);
    }
    // The body is a fresh object: complete it in place (spreading it costs a copy per line).
    const statement = parseStep(p, keyword) as Statement;
    const last = lexemes[arrowAt - 1]!;
    statement.line = line;
    statement.start = lexemes[0]!.start;
    statement.end = outcome ? outcome.end : last.end;
    if (process) statement.process = process;
    if (outcome) statement.outcome = outcome;
    return { statement };
  } catch (err) {
    if (err instanceof LineError) return { error: { range: p.range(err.start, err.end), message: err.message } };
    throw err;
  }
}

/** Splits on \n, \r\n and lone \r, as editors count lines. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/**
 * Calls `visit` with each line of `text` (split as splitLines splits) and its 0-based number,
 * without an array of them all: a million-line scenario is read in the memory of one line.
 * Returns the number of lines.
 */
export function forEachLine(text: string, visit: (line: string, n: number) => void): number {
  return forEachLineSpan(text, (from, to, n) => visit(text.slice(from, to), n));
}

/** Parses a whole scenario. Never throws. */
export function parseScenario(text: string): Scenario {
  const statements: Statement[] = [];
  const errors: SyntaxError[] = [];
  const lineCount = forEachLine(text, (lineText, line) => {
    const { statement, error } = parseLine(lineText, line);
    if (statement) statements.push(statement);
    if (error) errors.push(error);
  });
  return { statements, errors, lineCount };
}

/**
 * What the simulator reads of a scenario: the statements it reads before any step
 * (declarations, and `backing` lines, whose names are known from the start), then the
 * steps in order. A parsed Scenario is one; streamScenario reads a text as one
 * without ever holding its syntax tree.
 */
export interface ScenarioSource {
  /** Declarations and `backing`/`backing close` statements, in line order. */
  declarations: readonly Statement[];
  /** Calls `step` with each step in line order (the `backing` ones included) and `error` with each syntax error. */
  forEachStep(step: (s: StepStatement) => void, error: (e: SyntaxError) => void): void;
}

/** Statements the simulator reads before the steps (syntax.ts roles; a backing declares its name too). */
export function readFirst(s: Statement): boolean {
  return !isStep(s) || s.kind === 'backing' || s.kind === 'backing-close';
}

export function scenarioSource(scenario: Scenario): ScenarioSource {
  return {
    declarations: scenario.statements.filter(readFirst),
    forEachStep(step, error) {
      for (const e of scenario.errors) error(e);
      for (const s of scenario.statements) if (isStep(s)) step(s);
    },
  };
}

/**
 * The lines that can parse to a statement readFirst keeps: the first word (lexer.ts:
 * a word ends at a blank, `#`, `"` or `=>`) is one of these keywords. A `PROC:` prefix
 * makes any of them a syntax error, so a prefixed line is never one. Matched in place
 * (sticky, from the line's start) so that the lines are not cut out of the text to be
 * tested: the line's end is the \n or \r after it, or the end of the text.
 */
const READ_FIRST_LINE = /[ \t\r\f\v]*(?:scenario|kernel|init|file|process|thread|backing)(?:[ \t\r\f\v#"\n]|=>|$)/y;

/**
 * Whether the line [from, to) of `text` is read first. A match that ends past the
 * line's terminator (to + 1) took blanks across a line end: a later line's keyword.
 */
function readFirstLine(text: string, from: number, to: number): boolean {
  READ_FIRST_LINE.lastIndex = from;
  return READ_FIRST_LINE.test(text) && READ_FIRST_LINE.lastIndex <= to + 1;
}

/**
 * A scenario text read in two passes, for the CLI on scenarios of millions of lines:
 * the declarations at once, then each step parsed as the simulator asks for it and
 * dropped after it, so neither the lines nor the syntax tree are ever all in memory.
 * The statements and errors are those parseScenario finds.
 */
export function streamScenario(text: string): ScenarioSource {
  const declarations: Statement[] = [];
  const errors: SyntaxError[] = [];
  forEachLineSpan(text, (from, to, line) => {
    if (!readFirstLine(text, from, to)) return;
    const { statement, error } = parseLine(text.slice(from, to), line);
    if (statement) declarations.push(statement);
    if (error) errors.push(error);
  });
  return {
    declarations,
    forEachStep(step, error) {
      for (const e of errors) error(e);
      // The backing lines were parsed in the first pass: taken from there, in order.
      const backings = declarations.filter(isStep);
      let next = 0;
      forEachLineSpan(text, (from, to, line) => {
        if (readFirstLine(text, from, to)) {
          if (backings[next]?.line === line) step(backings[next++]!);
          return;
        }
        const { statement, error: e } = parseLine(text.slice(from, to), line);
        if (statement && isStep(statement)) step(statement);
        else if (statement) throw new Error(`line ${line + 1} declares outside the first pass (parse.ts READ_FIRST_LINE)`);
        if (e) error(e);
      });
    },
  };
}
