// The lines of each open document, kept from the editor's incremental changes
// (LSP didChange ranges) rather than split from its whole text at every version:
// splitting 100,000 lines costs more than re-checking the edit (issue 14). The
// lines a change did not touch stay the same strings, which the incremental
// parse (incremental-parse.ts) recognises by identity.

import type { TextDocumentContentChangeEvent, TextDocumentsConfiguration } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { splitLines } from './input-limits';

interface Kept {
  /** The lines of the document at `version`; undefined: split its text when asked. */
  lines: string[] | undefined;
  version: number;
  /** The changes made since, in order. */
  changes: TextDocumentContentChangeEvent[];
  /**
   * The text has (or had) a lone `\r` ending a line: a change next to one can join it to
   * a `\n` (one line end of two), so its lines are split from the text.
   */
  loneCr: boolean;
}

const LONE_CR = /\r(?!\n)/;

/** More changes than this waiting (nobody asked for the lines meanwhile): the text is split instead. */
const MAX_WAITING_CHANGES = 1000;

/** The TextDocuments manager's factory (it makes and updates the documents) that also keeps their lines. */
export class DocumentLines implements TextDocumentsConfiguration<TextDocument> {
  private readonly kept = new WeakMap<TextDocument, Kept>();

  create(uri: string, languageId: string, version: number, content: string): TextDocument {
    const document = TextDocument.create(uri, languageId, version, content);
    this.kept.set(document, { lines: undefined, version, changes: [], loneCr: LONE_CR.test(content) });
    return document;
  }

  update(document: TextDocument, changes: TextDocumentContentChangeEvent[], version: number): TextDocument {
    const updated = TextDocument.update(document, changes, version);
    const kept = this.kept.get(document);
    if (kept) {
      kept.changes.push(...changes);
      if (changes.some((c) => LONE_CR.test(c.text))) kept.loneCr = true;
      if (kept.changes.length > MAX_WAITING_CHANGES) {
        kept.lines = undefined;
        kept.changes = [];
      }
      this.kept.set(updated, kept);
    }
    return updated;
  }

  /** The document's lines (split as splitLines splits its text). Not to be changed: the next version's are made from them. */
  of(document: TextDocument): string[] {
    let kept = this.kept.get(document);
    if (!kept) {
      kept = { lines: undefined, version: document.version, changes: [], loneCr: true };
      this.kept.set(document, kept);
    }
    if (kept.version !== document.version || kept.changes.length > 0 || !kept.lines) {
      kept.lines = (kept.lines && !kept.loneCr && applied(kept.lines, kept.changes)) || splitLines(document.getText());
      kept.version = document.version;
      kept.changes = [];
    }
    return kept.lines;
  }
}

/**
 * `lines` (of a text without a lone `\r`) with `changes` made, or undefined when a change
 * cannot be made on lines alone: a whole new text, or a range outside the lines.
 */
function applied(lines: readonly string[], changes: readonly TextDocumentContentChangeEvent[]): string[] | undefined {
  const out = lines.slice();
  for (const c of changes) {
    if (!('range' in c)) return undefined;
    const { start, end } = c.range;
    const first = out[start.line];
    const last = out[end.line];
    // Past a line's end, TextDocument counts into the line break (and the next line): not a line's edit.
    if (first === undefined || last === undefined || start.character > first.length || end.character > last.length) return undefined;
    if (end.line < start.line || (end.line === start.line && end.character < start.character)) return undefined;
    const made = splitLines(first.slice(0, start.character) + c.text + last.slice(end.character));
    if (made.length === 1 && start.line === end.line) out[start.line] = made[0]!;
    else out.splice(start.line, end.line - start.line + 1, ...made);
  }
  return out;
}
