// What the server refuses to analyze, and says so, so that no input can make
// it crash or stall the editor: a binary file renamed `.fusesim`, a scenario
// of tens of megabytes, a line of a megabyte. Invalid UTF-8 arrives as U+FFFD
// (the client or the JSON-RPC reader decoded it); it is pointed out and the
// rest of the file is still checked.

import type { Diagnostic } from '../scenario/result';
import { ChunkedList } from '../scenario/chunked-list';
import { MAX_LEXED_LINE } from '../scenario/lexer';

/**
 * Above these sizes a document is not simulated, so that the server's memory stays
 * bounded: a hand-written scenario has tens to hundreds of lines, one exported from a
 * capture 100,000 or more (issue 14); 200,000 dense lines (6 MB) take about 180 MB to
 * parse and 140 MB to keep simulated with their checkpoints, and a second or two
 * (bench/lsp.bench.ts). Characters count less: over-long lines are blanked before parsing.
 */
export const MAX_ANALYSED_CHARS = 8 * 1024 * 1024;
export const MAX_ANALYSED_LINES = 150_000;
/**
 * Above this many lines, hovers and completions answer from a document's last check
 * rather than wait for the check of its newest version (made in slices meanwhile).
 */
export const ANSWER_FROM_LAST_CHECK_LINES = 5_000;
/** A line longer than this is left out of the analysis. */
export const MAX_LINE_CHARS = MAX_LEXED_LINE;
const BINARY_SAMPLE = 8192;

/** A text to analyze with its lines: split here from a string, or kept from the editor's changes (document-lines.ts). */
export interface ScenarioText {
  /** Its lines, split as splitLines splits it (chunked: a document's versions share the unchanged ones, document-lines.ts). */
  readonly lines: ChunkedList<string>;
  /** How many characters it has. */
  readonly length: number;
  /** Its first `n` characters. */
  head(n: number): string;
  /** The whole text (a document of lines makes it when first asked for). */
  text(): string;
}

/** A string as a ScenarioText. */
export function scenarioText(text: string): ScenarioText {
  const lines = ChunkedList.of(splitLines(text));
  return { lines, length: text.length, head: (n) => text.slice(0, n), text: () => text };
}

export interface ScreenedText {
  /** The lines to parse: over-long lines blanked (line numbers kept); none when refused. */
  lines: ChunkedList<string>;
  /** Whether the document is analyzed at all. */
  analyzed: boolean;
  /** Problems of the input itself. */
  diagnostics: Diagnostic[];
}

/** NULs, or many control characters or undecodable bytes, in the first 8 kB (`text`: at least that much of the text). */
function looksBinary(text: string): boolean {
  const n = Math.min(text.length, BINARY_SAMPLE);
  let control = 0;
  let replaced = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return true;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) control++;
    else if (c === 0xfffd) replaced++;
  }
  // Random bytes decode to many U+FFFD; a text with a stray bad byte has few.
  return n > 0 && (control / n > 0.05 || replaced / n > 0.1);
}

function wholeFirstLine(lines: ChunkedList<string>) {
  return { start: { line: 0, character: 0 }, end: { line: 0, character: Math.min(lines.length > 0 ? lines.at(0).length : 0, 200) } };
}

/**
 * The chunks of lines (chunked-list.ts) with no line too long and no U+FFFD: each is looked at
 * once, not at every version of the document that shares it (2 ms a version at 100,000 lines).
 */
const plainChunks = new WeakSet<readonly string[]>();

function isPlain(chunk: readonly string[]): boolean {
  if (plainChunks.has(chunk)) return true;
  for (const line of chunk) if (line.length > MAX_LINE_CHARS || line.includes('\uFFFD')) return false;
  plainChunks.add(chunk);
  return true;
}

/** Splits a text into lines as LSP and the parser count them: \n, \r\n and a lone \r all end a line. */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** Checks a text before analysis. */
export function screenText(text: ScenarioText): ScreenedText {
  const all = text.lines;
  if (text.length > MAX_ANALYSED_CHARS || all.length > MAX_ANALYSED_LINES) {
    const size = text.length > MAX_ANALYSED_CHARS
      ? `${(text.length / (1024 * 1024)).toFixed(1)} M characters`
      : `more than ${MAX_ANALYSED_LINES.toLocaleString('en')} lines`;
    return {
      lines: ChunkedList.of([]),
      analyzed: false,
      diagnostics: [{
        range: wholeFirstLine(all),
        severity: 'warning',
        code: 'file-too-large',
        message: `This scenario has ${size}; the editor checks scenarios up to ${MAX_ANALYSED_CHARS / (1024 * 1024)} M characters ` +
          `and ${MAX_ANALYSED_LINES.toLocaleString('en')} lines. Run \`fuselens check FILE\` on the command line to check it.`,
      }],
    };
  }
  if (looksBinary(text.head(BINARY_SAMPLE))) {
    return {
      lines: ChunkedList.of([]),
      analyzed: false,
      diagnostics: [{
        range: wholeFirstLine(all),
        severity: 'error',
        code: 'binary-file',
        message: 'This file is not a text scenario (it contains NUL or other control bytes); nothing was checked.',
      }],
    };
  }
  const diagnostics: Diagnostic[] = [];
  const blanked: number[] = [];
  let badUtf8Lines = 0;
  const look = (content: string, line: number): void => {
    if (content.length > MAX_LINE_CHARS) {
      blanked.push(line);
      diagnostics.push({
        range: { start: { line, character: 0 }, end: { line, character: Math.min(content.length, 200) } },
        severity: 'error',
        code: 'line-too-long',
        message: `Line of ${content.length} characters (at most ${MAX_LINE_CHARS}); it is left out of the check.`,
      });
      return;
    }
    const bad = content.indexOf('\uFFFD');
    if (bad >= 0 && badUtf8Lines++ < 100) {
      diagnostics.push({
        range: { start: { line, character: bad }, end: { line, character: bad + 1 } },
        severity: 'warning',
        code: 'invalid-utf8',
        message: 'Bytes that are not valid UTF-8 (shown as U+FFFD); scenario files are UTF-8 text.',
      });
    }
  };
  let at = 0;
  all.forEachChunk((chunk, from, to) => {
    if (!isPlain(chunk)) for (let i = from; i < to; i++) look(chunk[i]!, at + i - from);
    at += to - from;
  });
  let lines = all;
  for (const line of blanked) lines = lines.replaced(line, line + 1, ['']);
  return { lines, analyzed: true, diagnostics };
}
