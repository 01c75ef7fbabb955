// Splits one line of a scenario into words (docs/scenario-language.md, "Lexical
// rules"): blanks separate words, `#` starts a comment, "..." is a string,
// `=>` stands alone even when glued to its neighbours.

export type LexKind = 'word' | 'string' | 'arrow';

export interface Lexeme {
  kind: LexKind;
  /** The text; for strings without the quotes (\" and \\ unescaped). */
  text: string;
  start: number;
  end: number;
}

export interface LexedLine {
  lexemes: Lexeme[];
  /** An unterminated string, as a column range. */
  error?: { start: number; end: number; message: string };
}

const isBlank = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v';

export function lexLine(line: string): LexedLine {
  const lexemes: Lexeme[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (isBlank(c)) {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '"') {
      const start = i++;
      let text = '';
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) i++;
        text += line[i++];
      }
      if (i >= line.length) {
        return { lexemes, error: { start, end: line.length, message: 'unterminated string: expected a closing "' } };
      }
      lexemes.push({ kind: 'string', text, start, end: ++i });
    } else if (c === '=' && line[i + 1] === '>') {
      lexemes.push({ kind: 'arrow', text: '=>', start: i, end: i + 2 });
      i += 2;
    } else {
      const start = i;
      while (i < line.length && !isBlank(line[i]!) && line[i] !== '#' && line[i] !== '"' && !(line[i] === '=' && line[i + 1] === '>')) i++;
      lexemes.push({ kind: 'word', text: line.slice(start, i), start, end: i });
    }
  }
  return { lexemes };
}
