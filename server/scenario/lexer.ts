// Splits one line of a scenario into words (docs/scenario-language.md, "Lexical
// rules"): blanks separate words, `#` starts a comment, "..." is a string,
// `=>` stands alone even when glued to its neighbours. The parser and the
// editor features (completion, semantic tokens) read lines through this one
// lexer, so a word is the same word for all of them.

export type LexKind = 'word' | 'string' | 'arrow' | 'comment';

export interface Lexeme {
  kind: LexKind;
  /** The text; for strings without the quotes (\" and \\ unescaped); for a comment from `#` on. */
  text: string;
  /** 0-based columns [start, end). */
  start: number;
  end: number;
}

export interface LexedLine {
  lexemes: Lexeme[];
  /** An unterminated string, as a column range (the lexemes before it are kept). */
  error?: { start: number; end: number; message: string };
}

export interface LexOptions {
  /** Keep the comment as a last `comment` lexeme (the editor colours it; the parser drops it). */
  keepComments?: boolean;
}

/** Lines longer than this are not lexed by the editor features (a scenario line is a few dozen characters). */
export const MAX_LEXED_LINE = 10_000;

// Character codes: the lexer reads a million-line scenario (the CLI), so it compares numbers, not one-character strings.
const SPACE = 0x20, TAB = 0x09, CR = 0x0d, FF = 0x0c, VT = 0x0b, HASH = 0x23, QUOTE = 0x22, EQUALS = 0x3d, GREATER = 0x3e;

const isBlank = (c: number) => c === SPACE || c === TAB || c === CR || c === FF || c === VT;

/**
 * The characters that may end a word, by code: a blank, `#`, `"`, and `=` (which ends one only
 * before `>`). One table look-up per character instead of eight comparisons: most characters of
 * a scenario are inside words.
 */
const MAY_END_WORD = new Uint8Array(128);
for (const c of [SPACE, TAB, CR, FF, VT, HASH, QUOTE, EQUALS]) MAY_END_WORD[c] = 1;

/** Whether a word ends before the character at `i`: a blank, `#`, `"` or `=>`. */
function endsWord(line: string, i: number): boolean {
  const c = line.charCodeAt(i);
  return c < 128 && MAY_END_WORD[c] === 1 && (c !== EQUALS || line.charCodeAt(i + 1) === GREATER);
}

/**
 * A lexer that keeps its lexemes from line to line: the parser reads a million lines
 * (the CLI) through one, and a new array and object per word were a good part of the
 * garbage each line left. After `lex`, `lexemes[0, count)` are the line's, valid until
 * the next `lex`.
 */
export class LineLexer {
  readonly lexemes: Lexeme[] = [];
  count = 0;
  /** An unterminated string (the lexemes before it are kept). */
  error: LexedLine['error'] = undefined;

  lex(line: string, keepComments = false): void {
    this.count = 0;
    this.error = undefined;
    let i = 0;
    while (i < line.length) {
      const c = line.charCodeAt(i);
      if (isBlank(c)) {
        i++;
      } else if (c === HASH) {
        if (keepComments) this.push('comment', line.slice(i), i, line.length);
        break;
      } else if (c === QUOTE) {
        const start = i++;
        let text = '';
        while (i < line.length && line[i] !== '"') {
          if (line[i] === '\\' && i + 1 < line.length) i++;
          text += line[i++];
        }
        if (i >= line.length) {
          this.error = { start, end: line.length, message: 'unterminated string: expected a closing "' };
          return;
        }
        this.push('string', text, start, ++i);
      } else if (c === EQUALS && line.charCodeAt(i + 1) === GREATER) {
        this.push('arrow', '=>', i, i + 2);
        i += 2;
      } else {
        const start = i;
        while (i < line.length && !endsWord(line, i)) i++;
        this.push('word', line.slice(start, i), start, i);
      }
    }
  }

  private push(kind: LexKind, text: string, start: number, end: number): void {
    const lx = this.lexemes[this.count];
    if (lx) {
      lx.kind = kind;
      lx.text = text;
      lx.start = start;
      lx.end = end;
    } else {
      this.lexemes.push({ kind, text, start, end });
    }
    this.count++;
  }
}

/** A line's lexemes, each a new object of the caller's. */
export function lexLine(line: string, options?: LexOptions): LexedLine {
  const lexer = new LineLexer();
  lexer.lex(line, options?.keepComments);
  return lexer.error ? { lexemes: lexer.lexemes, error: lexer.error } : { lexemes: lexer.lexemes };
}

/** The words of a line before the cursor, and the word being typed (possibly empty). */
export function wordsBefore(line: string, character: number): { before: Lexeme[]; typing: Lexeme | undefined; inComment: boolean; inString: boolean } {
  const { lexemes, error } = lexLine(line.slice(0, character), { keepComments: true });
  if (error) return { before: lexemes, typing: undefined, inComment: false, inString: true };
  const last = lexemes[lexemes.length - 1];
  if (last?.kind === 'comment') return { before: lexemes, typing: undefined, inComment: true, inString: false };
  if (last && last.end === character) return { before: lexemes.slice(0, -1), typing: last, inComment: false, inString: false };
  return { before: lexemes, typing: undefined, inComment: false, inString: false };
}
