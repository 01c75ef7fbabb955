// Semantic tokens: what each word is, from the parse (names, flags, outcome)
// and the vocabulary (keywords), so that colouring follows meaning — a file
// name and a handle name look different, a flag the reply carries is a macro
// like its C spelling.

import { SemanticTokensBuilder, type SemanticTokens, type SemanticTokensLegend, type Range } from 'vscode-languageserver';
import type { Analysis } from './analysis';
import type { NameKind } from './names';
import { lexLine, MAX_LEXED_LINE, type Lexeme } from '../scenario/lexer';
import { KEYWORDS } from '../scenario/syntax';

const TYPES = ['keyword', 'macro', 'enumMember', 'class', 'variable', 'namespace', 'struct', 'event', 'string', 'number', 'comment', 'operator'] as const;
type TokenType = (typeof TYPES)[number];
const MODIFIERS = ['declaration'] as const;

export const SEMANTIC_TOKENS_LEGEND: SemanticTokensLegend = { tokenTypes: [...TYPES], tokenModifiers: [...MODIFIERS] };

const NAME_TYPE: Record<NameKind, TokenType> = {
  file: 'class',
  process: 'namespace',
  thread: 'namespace',
  backing: 'struct',
  handle: 'variable',
  mapping: 'variable',
  write: 'event',
  flush: 'event',
  open: 'event',
  read: 'event',
  release: 'event',
};

interface Classified {
  line: number;
  start: number;
  length: number;
  type: TokenType;
  declaration: boolean;
}

export function semanticTokens(analysis: Analysis, range?: Range): SemanticTokens {
  const builder = new SemanticTokensBuilder();
  if (!analysis.analyzed) return builder.build();
  const first = range?.start.line ?? 0;
  const last = range?.end.line ?? Number.MAX_SAFE_INTEGER;
  // What the parse knows, by line: name occurrences, flags, outcome.
  const known = new Map<string, Classified>();
  const key = (line: number, start: number) => `${line}:${start}`;
  for (const o of analysis.names.occurrences) {
    const r = o.range;
    if (r.start.line < first || r.start.line > last) continue;
    known.set(key(r.start.line, r.start.character), {
      line: r.start.line, start: r.start.character, length: r.end.character - r.start.character,
      type: NAME_TYPE[o.kind], declaration: o.declaration,
    });
  }
  for (const s of analysis.scenario.statements) {
    if (s.line < first || s.line > last) continue;
    const flags = s.kind === 'init' ? s.flags : s.kind === 'open' ? s.reply : [];
    for (const f of flags) {
      known.set(key(f.range.start.line, f.range.start.character), {
        line: f.range.start.line, start: f.range.start.character, length: f.range.end.character - f.range.start.character,
        type: 'macro', declaration: false,
      });
    }
    if (s.outcome) {
      const r = s.outcome.range;
      known.set(key(r.start.line, r.start.character), { line: r.start.line, start: r.start.character, length: r.end.character - r.start.character, type: 'enumMember', declaration: false });
    }
    if (s.kind === 'expect' && s.mode) {
      const r = s.mode.range;
      known.set(key(r.start.line, r.start.character), { line: r.start.line, start: r.start.character, length: r.end.character - r.start.character, type: 'enumMember', declaration: false });
    }
  }
  const lines = analysis.lines;
  const end = Math.min(last, lines.length - 1);
  for (let line = first; line <= end; line++) {
    const { lexemes, error } = lexLine(lines[line]!.slice(0, MAX_LEXED_LINE), { keepComments: true });
    // An unterminated string still reads as a string up to the end of the line.
    const words: Lexeme[] = error ? [...lexemes, { kind: 'string', text: '', start: error.start, end: error.end }] : lexemes;
    for (const w of words) {
      const k = known.get(key(line, w.start));
      if (k && k.length > 0) {
        // A process prefix `p1:` is a name token that stops before the colon.
        builder.push(line, k.start, k.length, TYPES.indexOf(k.type), k.declaration ? 1 : 0);
        continue;
      }
      let type: TokenType | undefined;
      if (w.kind === 'comment') type = 'comment';
      else if (w.kind === 'string') type = 'string';
      else if (w.kind === 'arrow') type = 'operator';
      else if (KEYWORDS.has(w.text.toLowerCase())) type = 'keyword';
      else if (/^-?\d+(\.\d+)*$/.test(w.text)) type = 'number';
      else if (w.text.includes('=')) {
        // `backing=b1`, `max_stack_depth=1`, `iocachectr=2`: key, then the value.
        const eq = w.text.indexOf('=');
        builder.push(line, w.start, eq, TYPES.indexOf('keyword'), 0);
        const valueStart = w.start + eq + 1;
        const v = known.get(key(line, valueStart));
        if (v && v.length > 0) builder.push(line, valueStart, v.length, TYPES.indexOf(v.type), v.declaration ? 1 : 0);
        else if (w.end > valueStart) builder.push(line, valueStart, w.end - valueStart, TYPES.indexOf('number'), 0);
        continue;
      }
      if (type) builder.push(line, w.start, w.end - w.start, TYPES.indexOf(type), 0);
    }
  }
  return builder.build();
}
