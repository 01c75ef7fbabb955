// Writes `.fusesim` text (docs/scenario-language.md): the one printer of the
// exports — a live mount's snapshot (server/inspect/export-scenario.ts) and a
// capture's protocol stream (server/trace/export-scenario.ts). Names are made
// to match the parser's isName, strings to read back through the lexer,
// and every line is kept to one line whatever a path or process name holds.

import type { AccessMode } from '../model/state';
import { isName } from './syntax';

/** Scenario names of one kind (files, processes, ...), each unique, each one the parser reads as a name. */
export class ScenarioNames {
  private readonly taken: Set<string>;

  constructor(reserved: Iterable<string> = []) {
    this.taken = new Set(reserved);
  }

  /**
   * `wanted` made a valid name (other characters become `_`); `fallback` (itself a valid name) when
   * nothing usable is left, and `wanted_fallback` when the name is taken.
   */
  take(wanted: string, fallback: string): string {
    let name = wanted.replace(/[^A-Za-z0-9_.-]/g, '_');
    if (!isName(name)) name = `_${name}`;
    if (!isName(name) || name === '_') name = fallback;
    if (this.taken.has(name)) name = `${name}_${fallback}`;
    for (let n = 2; this.taken.has(name); n++) name = `${fallback}_${n}`;
    this.taken.add(name);
    return name;
  }
}

/** A `"..."` string of the language: the lexer unescapes `\"` and `\\`. */
export function scenarioString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A statement with its `# comment`, or the comment alone when `statement` is empty. */
export function withComment(statement: string, comment?: string | null): string {
  if (!comment) return statement;
  return statement ? `${statement}   # ${comment}` : `# ${comment}`;
}

/** The O_* names (server/inspect/open-flags.ts spelling) that an `open` statement states; others go into a comment. */
const STATED_OPEN_FLAGS = new Set(['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_DIRECT', 'O_TRUNC', 'O_APPEND']);
/** What `create` states besides: O_CREAT is the statement itself, O_EXCL its `o_excl`. */
const STATED_CREATE_FLAGS = new Set(['O_CREAT', 'O_EXCL']);
/** Flags that change nothing FUSE Lens models or replays: not worth a comment. */
const SILENT_OPEN_FLAGS = new Set(['O_LARGEFILE', 'O_CLOEXEC']);

/** How an open(2) is written: its access mode, the status flags the language has, and the flags it cannot state. */
export interface OpenMode {
  access: AccessMode;
  oExcl: boolean;
  oDirect: boolean;
  oTrunc: boolean;
  oAppend: boolean;
  unstated: string[];
}

/** The mode of an open(2) with these flags; `create` when it is written as `create` (O_CREAT, O_EXCL stated). */
export function openMode(flagNames: readonly string[], create = false): OpenMode {
  const stated = (f: string) => STATED_OPEN_FLAGS.has(f) || (create && STATED_CREATE_FLAGS.has(f)) || SILENT_OPEN_FLAGS.has(f);
  return {
    access: flagNames.includes('O_RDWR') ? 'rdwr' : flagNames.includes('O_WRONLY') ? 'wronly' : 'rdonly',
    oExcl: create && flagNames.includes('O_EXCL'),
    oDirect: flagNames.includes('O_DIRECT'),
    oTrunc: flagNames.includes('O_TRUNC'),
    oAppend: flagNames.includes('O_APPEND'),
    unstated: flagNames.filter((f) => !stated(f)),
  };
}

export interface OpenStatementText {
  process: string;
  file: string;
  handle: string;
  access: AccessMode;
  /** Written as `create` (open(2) with O_CREAT). */
  create?: boolean;
  /** Only with `create`. */
  oExcl?: boolean;
  oDirect?: boolean;
  oTrunc?: boolean;
  oAppend?: boolean;
  /** FOPEN_* names of the server's reply (scenario spelling). */
  reply?: readonly string[];
  /** The errno name the server answers instead (`reply error=ERRNO`); not with `reply` or `backing`. */
  replyError?: string;
  /** A declared backing's name. */
  backing?: string;
  /** `ok`, `blocks` or an errno name: the outcome the statement states. */
  outcome?: string;
}

/** `PROC: open|create FILE as F ACCESS [o_excl] [o_direct] [o_trunc] [o_append] [reply ... | reply error=ERRNO] [backing=B] [=> OUTCOME]` */
export function openStatement(o: OpenStatementText): string {
  const words = [`${o.process}: ${o.create ? 'create' : 'open'} ${o.file} as ${o.handle} ${o.access}`];
  if (o.create && o.oExcl) words.push('o_excl');
  if (o.oDirect) words.push('o_direct');
  if (o.oTrunc) words.push('o_trunc');
  if (o.oAppend) words.push('o_append');
  if (o.replyError) words.push(`reply error=${o.replyError}`);
  else if (o.reply && o.reply.length > 0) words.push(`reply ${o.reply.join(' ')}`);
  if (o.backing && !o.replyError) words.push(`backing=${o.backing}`);
  if (o.outcome) words.push(`=> ${o.outcome}`);
  return words.join(' ');
}

/** `init FLAG... [max_stack_depth=N]` */
export function initStatement(flags: readonly string[], maxStackDepth?: number): string {
  return ['init', ...flags, ...(maxStackDepth !== undefined ? [`max_stack_depth=${maxStackDepth}`] : [])].join(' ');
}

/**
 * One line of scenario text. Our own words hold no control character, so any here came from a path,
 * a mountpoint, a file or process name (chosen by whoever made them): written out as `\n`, `\x1b`, …
 * so that a newline cannot end a `#` comment and add a statement of its own.
 */
export function scenarioLine(line: string): string {
  return line.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** The lines as a scenario file's text. */
export function scenarioText(lines: readonly string[]): string {
  return lines.map(scenarioLine).join('\n') + '\n';
}
