// The open documents, kept as lines from the editor's incremental changes (LSP
// didChange ranges). vscode-languageserver-textdocument keeps the whole text and
// makes it anew at each change: 10-15 ms of CPU for one keystroke in a
// 100,000-line scenario, and the server then split it into lines again (issue
// 14). Here a change replaces the lines it touched; the others stay the same
// strings, which the incremental parse (incremental-parse.ts) recognises by
// identity. The lines are chunked (server/scenario/chunked-list.ts): a change
// makes a version that shares every chunk it did not touch with the one before,
// where a copy of 100,000 lines cost milliseconds at each keystroke. The whole
// text is made only when asked for.

import type { TextDocumentContentChangeEvent, TextDocumentsConfiguration } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Position, Range } from '../scenario/ast';
import type { ScenarioText } from './input-limits';
import { ChunkedList } from '../scenario/chunked-list';
import { spliced } from '../scenario/spliced';

const LINE_END = /\r\n|\r|\n/g;

/**
 * What ends each line (`\n`, `\r\n`, `\r`; '' after the last): one string when every line
 * but the last ends alike (the usual text: nothing to copy per line at each change).
 */
type LineEnds = string | readonly string[];

function endOf(ends: LineEnds, line: number, lineCount: number): string {
  return typeof ends === 'string' ? (line < lineCount - 1 ? ends : '') : ends[line]!;
}

/** A text's lines and their ends, as splitLines splits it. */
function splitWithEnds(text: string): { lines: string[]; ends: string | string[] } {
  // Lines ended by \n alone (most texts): split natively, without a match object and an end per
  // line (60 ms of a 100,000-line scenario's first open in the profile, bench/README.md).
  if (!text.includes('\r')) return { lines: text.split('\n'), ends: '\n' };
  const lines: string[] = [];
  const ends: string[] = [];
  let from = 0;
  for (const m of text.matchAll(LINE_END)) {
    lines.push(text.slice(from, m.index));
    ends.push(m[0]);
    from = m.index + m[0].length;
  }
  lines.push(text.slice(from));
  ends.push('');
  return { lines, ends: ends.length === 1 ? '\n' : ends.every((e, i) => e === ends[0] || i === ends.length - 1) ? ends[0]! : ends };
}

function joined(chunked: ChunkedList<string>, ends: LineEnds): string {
  const lines = chunked.slice();
  return typeof ends === 'string' ? lines.join(ends) : lines.map((l, i) => l + ends[i]!).join('');
}

/** A TextDocument made of lines. */
export class LinesDocument implements TextDocument {
  private text: string | undefined;
  /** The library's document of the whole text, for positions and offsets (made when asked for). */
  private whole: TextDocument | undefined;

  constructor(
    readonly uri: string, readonly languageId: string, public version: number,
    /** Each version's (the analyses keep them). */
    public lines: ChunkedList<string>, private ends: LineEnds, private length: number,
  ) {}

  static create(uri: string, languageId: string, version: number, content: string): LinesDocument {
    const { lines, ends } = splitWithEnds(content);
    const document = new LinesDocument(uri, languageId, version, ChunkedList.of(lines), ends, content.length);
    document.text = content;
    return document;
  }

  get lineCount(): number {
    return this.lines.length;
  }

  /** The number of characters of the text. */
  get textLength(): number {
    return this.length;
  }

  /** This version's text, for an analysis: its lines, and the text made only if asked for. */
  snapshot(): ScenarioText {
    const { lines, ends, length } = this;
    let text = this.text;
    const whole = () => (text ??= joined(lines, ends));
    return {
      lines,
      length,
      head(n) {
        if (text !== undefined) return text.slice(0, n);
        let out = '';
        for (let i = 0; i < lines.length && out.length < n; i++) out += lines.at(i) + endOf(ends, i, lines.length);
        return out.slice(0, n);
      },
      text: whole,
    };
  }

  getText(range?: Range): string {
    // One line's part (completion reads the line under the cursor) without making the text:
    // TextDocument.offsetAt keeps a position on a line before its line end.
    if (range && range.start.line === range.end.line && range.start.line >= 0 && range.start.line < this.lines.length) {
      const line = this.lines.at(range.start.line);
      const at = (character: number) => Math.min(Math.max(0, character), line.length);
      return line.substring(at(range.start.character), at(range.end.character));
    }
    this.text ??= joined(this.lines, this.ends);
    return range ? this.text.substring(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
  }

  private wholeDocument(): TextDocument {
    return (this.whole ??= TextDocument.create(this.uri, this.languageId, this.version, this.getText()));
  }

  positionAt(offset: number): Position {
    return this.wholeDocument().positionAt(offset);
  }

  offsetAt(position: Position): number {
    return this.wholeDocument().offsetAt(position);
  }

  getLineRange(line: number): Range {
    return this.wholeDocument().getLineRange(line);
  }

  getEOLCharacters(line: number): string {
    return this.wholeDocument().getEOLCharacters(line);
  }

  /** The document with `changes` made (each on the text the ones before it left), as TextDocument.update makes them. */
  update(changes: readonly TextDocumentContentChangeEvent[], version: number): void {
    let lines = this.lines;
    let ends = this.ends;
    for (const c of changes) {
      const made = this.applied(lines, ends, c);
      if (made) ({ lines, ends } = made);
      else {
        // A change the lines alone do not tell the result of: made on the whole text by the library.
        this.lines = lines;
        this.ends = ends;
        this.text = undefined;
        this.whole = undefined;
        const text = TextDocument.update(TextDocument.create(this.uri, this.languageId, 0, this.getText()), [c], 1).getText();
        const split = splitWithEnds(text);
        lines = ChunkedList.of(split.lines);
        ends = split.ends;
        this.length = text.length;
      }
    }
    this.lines = lines;
    this.ends = ends;
    this.version = version;
    this.text = undefined;
    this.whole = undefined;
  }

  /**
   * The lines and ends after change `c` (new arrays: the old ones are a version's), or undefined
   * when the lines alone do not tell: a whole new text, a position outside the lines or past a
   * line's end (TextDocument counts it into the line break), or a `\r` the change puts next to a
   * `\n` (one line end of two).
   */
  private applied(lines: ChunkedList<string>, ends: LineEnds, c: TextDocumentContentChangeEvent): { lines: ChunkedList<string>; ends: LineEnds } | undefined {
    if (!('range' in c)) return undefined;
    const { start, end } = c.range;
    const n = lines.length;
    if (start.line < 0 || end.line < 0 || start.line >= n || end.line >= n || start.character < 0 || end.character < 0) return undefined;
    const first = lines.at(start.line);
    const last = lines.at(end.line);
    if (start.character > first.length || end.character > last.length) return undefined;
    if (end.line < start.line || (end.line === start.line && end.character < start.character)) return undefined;
    const before = first.slice(0, start.character);
    const after = last.slice(end.character);
    const endAfter = endOf(ends, end.line, n);
    if (after === '' && c.text.endsWith('\r') && endAfter.startsWith('\n')) return undefined;
    if (before === '' && c.text.startsWith('\n') && start.line > 0 && endOf(ends, start.line - 1, n) === '\r') return undefined;
    let removed = end.character - start.character;
    for (let i = start.line; i < end.line; i++) removed += lines.at(i).length + endOf(ends, i, n).length;
    const made = splitWithEnds(before + c.text + after);
    this.length += c.text.length - removed;
    const newLines = lines.replaced(start.line, end.line + 1, made.lines);
    // Still one end for all: the new line breaks are that one, and so is the last line's unless it moved.
    const madeEnds = typeof made.ends === 'string' ? made.lines.map((_, i) => (i < made.lines.length - 1 ? made.ends as string : '')) : [...made.ends];
    madeEnds[madeEnds.length - 1] = endAfter;
    if (typeof ends === 'string' && madeEnds.every((e, i) => e === ends || (e === '' && end.line === n - 1 && i === madeEnds.length - 1))) return { lines: newLines, ends };
    const all = typeof ends === 'string' ? Array.from({ length: n }, (_, i) => endOf(ends, i, n)) : ends;
    return { lines: newLines, ends: spliced(all, start.line, end.line + 1, madeEnds) };
  }
}

/** The TextDocuments manager's factory: the open documents as LinesDocuments. */
export const linesDocuments: TextDocumentsConfiguration<LinesDocument> = {
  create: (uri, languageId, version, content) => LinesDocument.create(uri, languageId, version, content),
  update(document, changes, version) {
    document.update(changes, version);
    return document;
  },
};
