// Writes `.fusesim` text (docs/scenario-language.md): the one printer of the
// exports — a live mount's snapshot (server/inspect/export-scenario.ts) and a
// capture's protocol stream (server/trace/export-scenario.ts). Names are made
// to match the parser's NAME_PATTERN, strings to read back through the lexer,
// and every line is kept to one line whatever a path or process name holds.

import type { AccessMode } from '../model/state';
import { NAME_PATTERN } from './syntax';

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
    if (!NAME_PATTERN.test(name)) name = `_${name}`;
    if (!NAME_PATTERN.test(name) || name === '_') name = fallback;
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
const STATED_OPEN_FLAGS = new Set(['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_DIRECT']);
/** Flags that change nothing FUSE Lens models or replays: not worth a comment. */
const SILENT_OPEN_FLAGS = new Set(['O_LARGEFILE', 'O_CLOEXEC']);

/** How an open(2) with these flags is written: its access mode, o_direct, and the flags the statement cannot state. */
export function openMode(flagNames: readonly string[]): { access: AccessMode; oDirect: boolean; unstated: string[] } {
  return {
    access: flagNames.includes('O_RDWR') ? 'rdwr' : flagNames.includes('O_WRONLY') ? 'wronly' : 'rdonly',
    oDirect: flagNames.includes('O_DIRECT'),
    unstated: flagNames.filter((f) => !STATED_OPEN_FLAGS.has(f) && !SILENT_OPEN_FLAGS.has(f)),
  };
}

export interface OpenStatementText {
  process: string;
  file: string;
  handle: string;
  access: AccessMode;
  oDirect?: boolean;
  /** FOPEN_* names of the server's reply (scenario spelling). */
  reply?: readonly string[];
  /** A declared backing's name. */
  backing?: string;
  /** `ok`, `blocks` or an errno name: the outcome the statement states. */
  outcome?: string;
}

/** `PROC: open FILE as F ACCESS [o_direct] [reply ...] [backing=B] [=> OUTCOME]` */
export function openStatement(o: OpenStatementText): string {
  const words = [`${o.process}: open ${o.file} as ${o.handle} ${o.access}`];
  if (o.oDirect) words.push('o_direct');
  if (o.reply && o.reply.length > 0) words.push(`reply ${o.reply.join(' ')}`);
  if (o.backing) words.push(`backing=${o.backing}`);
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
