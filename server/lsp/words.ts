// A line of a scenario cut into words, the way the language's lexical rules
// read it (scenario-language.md "Lexical rules"): blanks separate words, `#`
// starts a comment, `"..."` is one word. Completion and semantic tokens need
// the words around the cursor even where the line does not parse.

export interface Word {
  text: string;
  /** 0-based columns [start, end). */
  start: number;
  end: number;
  kind: 'word' | 'string' | 'comment';
}

/** Lines longer than this are not lexed (a scenario line is a few dozen characters). */
export const MAX_LEXED_LINE = 10_000;

export function lexLine(line: string): Word[] {
  const words: Word[] = [];
  const n = Math.min(line.length, MAX_LEXED_LINE);
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 35 /* # */) {
      words.push({ text: line.slice(i, n), start: i, end: n, kind: 'comment' });
      break;
    }
    if (c === 34 /* " */) {
      const close = line.indexOf('"', i + 1);
      const end = close < 0 || close >= n ? n : close + 1;
      words.push({ text: line.slice(i, end), start: i, end, kind: 'string' });
      i = end;
      continue;
    }
    let j = i;
    while (j < n) {
      const d = line.charCodeAt(j);
      if (d === 32 || d === 9 || d === 13 || d === 35 || d === 34) break;
      j++;
    }
    words.push({ text: line.slice(i, j), start: i, end: j, kind: 'word' });
    i = j;
  }
  return words;
}

/** The words of a line before the cursor, and the word being typed (possibly empty). */
export function wordsBefore(line: string, character: number): { before: Word[]; typing: Word | undefined; inComment: boolean; inString: boolean } {
  const words = lexLine(line.slice(0, character));
  const last = words[words.length - 1];
  if (last?.kind === 'comment') return { before: words, typing: undefined, inComment: true, inString: false };
  if (last?.kind === 'string' && (last.text.length === 1 || !last.text.endsWith('"')) && last.end === character) {
    return { before: words.slice(0, -1), typing: last, inComment: false, inString: true };
  }
  if (last && last.end === character) return { before: words.slice(0, -1), typing: last, inComment: false, inString: false };
  return { before: words, typing: undefined, inComment: false, inString: false };
}
