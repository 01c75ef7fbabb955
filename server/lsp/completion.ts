// Completion from the words before the cursor: statement keywords and shapes
// at the start of a line, reply flags after `reply`, init flags after `init`,
// the declared names a word position takes, outcomes after `=>`, kernel
// versions after `kernel`.

import {
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type CompletionItem,
  type Position,
} from 'vscode-languageserver';
import { canonicalFlagName } from '../model/flags';
import { MODELLED_KERNELS, NEWEST_KERNEL } from '../model/kernel-version';
import type { Analysis } from './analysis';
import { effectiveKernel, flagMarkdown } from './hover';
import { DEFAULT_PROCESS, namesVisibleAt, NAME_KIND_LABEL, type NameKind } from './names';
import { ACCESS_MODES, EXPECTED_MODES, OPEN_STATUS_FLAGS, SIGNAL_DOC, SIGNALS, STATEMENTS } from '../scenario/syntax';
import { initFlags, kernelKnows, OUTCOMES, replyFlags } from './vocabulary';
import { wordsBefore, type Lexeme } from '../scenario/lexer';

function keyword(label: string, detail?: string): CompletionItem {
  return { label, kind: CompletionItemKind.Keyword, ...(detail ? { detail } : {}) };
}

/** After a held request's `end`: the server answers it with an errno instead. */
const ERROR_ANSWER: CompletionItem = { label: 'error=', kind: CompletionItemKind.Property, detail: 'the errno the server answers the held request with (EINTR after a signal)' };

function names(analysis: Analysis, kind: NameKind, line: number): CompletionItem[] {
  const items = namesVisibleAt(analysis.names, kind, line).map((d): CompletionItem => ({
    label: d.name,
    kind: kind === 'file' ? CompletionItemKind.File : kind === 'process' || kind === 'thread' ? CompletionItemKind.Module : kind === 'backing' ? CompletionItemKind.Reference : CompletionItemKind.Variable,
    detail: `${NAME_KIND_LABEL[kind]} (line ${d.range.start.line + 1})`,
  }));
  if (kind === 'process' && !items.some((i) => i.label === DEFAULT_PROCESS)) {
    items.unshift({ label: DEFAULT_PROCESS, kind: CompletionItemKind.Module, detail: 'the default process' });
  }
  return items;
}

/** A name not used yet: `f1`, `f2`, ... for a new handle. */
function freshName(analysis: Analysis, kind: NameKind, prefix: string): CompletionItem[] {
  const used = new Set(analysis.names.declarations.filter((d) => d.kind === kind).map((d) => d.name));
  for (let i = 1; i < 1000; i++) {
    if (!used.has(`${prefix}${i}`)) return [{ label: `${prefix}${i}`, kind: CompletionItemKind.Variable, detail: `new ${NAME_KIND_LABEL[kind]} name` }];
  }
  return [];
}

function outcomes(): CompletionItem[] {
  return OUTCOMES.map((o, i) => ({
    label: o.name,
    kind: CompletionItemKind.EnumMember,
    documentation: markdown(o.doc),
    sortText: String(i).padStart(2, '0'),
  }));
}

function flagItems(analysis: Analysis, where: 'reply' | 'init', present: Set<string>): CompletionItem[] {
  const kernel = effectiveKernel(analysis);
  const flags = (where === 'reply' ? replyFlags() : initFlags()).filter((f) => kernelKnows(f, kernel) && !present.has(f.name));
  const items = flags.map((f): CompletionItem => ({
    label: f.name,
    kind: CompletionItemKind.EnumMember,
    detail: f.bit >= 0 ? f.cName : 'server behaviour',
    documentation: { kind: MarkupKind.Markdown, value: flagMarkdown(f, where, kernel) },
  }));
  if (where === 'init' && !present.has('max_stack_depth')) {
    items.unshift({
      label: 'max_stack_depth=',
      kind: CompletionItemKind.Property,
      detail: 'fuse_init_out.max_stack_depth (1..2 for passthrough)',
      insertText: 'max_stack_depth=${1|1,2|}',
      insertTextFormat: InsertTextFormat.Snippet,
    });
  }
  // The flags that matter for io modes first.
  const important = where === 'reply'
    ? ['passthrough', 'direct_io', 'parallel_direct_writes', 'keep_cache', 'noflush']
    : ['passthrough', 'max_stack_depth=', 'direct_io_allow_mmap', 'writeback_cache', 'no_open'];
  for (const item of items) {
    const rank = important.indexOf(item.label);
    item.sortText = rank >= 0 ? `0${rank}` : `1${item.label}`;
  }
  return items;
}

/** Markdown the editor renders (the syntax table's docs quote words in backticks). */
function markdown(value: string): { kind: typeof MarkupKind.Markdown; value: string } {
  return { kind: MarkupKind.Markdown, value };
}

/**
 * One item per keyword (the word alone), and the statement's shape as its own snippet item,
 * labelled by that shape: `open` and `open FILE as F …` read as two different things.
 */
function statementItems(withPrefix: boolean, analysis: Analysis, line: number): CompletionItem[] {
  const items: CompletionItem[] = [];
  for (const s of STATEMENTS) {
    if (withPrefix && !s.byProcess) continue;
    items.push({
      label: s.keyword,
      kind: CompletionItemKind.Keyword,
      detail: s.shape,
      documentation: markdown(s.doc),
      sortText: `0${s.keyword}`,
    });
    if (s.snippet !== s.keyword) {
      items.push({
        label: `${s.keyword} …`,
        labelDetails: { description: 'statement with placeholders' },
        filterText: s.keyword,
        kind: CompletionItemKind.Snippet,
        detail: s.snippet.replace(/\$\{\d+\|([^,|]*)[^}]*\}/g, '$1').replace(/\$\{\d+:([^}]*)\}/g, '$1'),
        documentation: markdown(`\`${s.shape}\`\n\n${s.doc}`),
        insertText: s.snippet,
        insertTextFormat: InsertTextFormat.Snippet,
        sortText: `1${s.keyword}`,
      });
    }
  }
  if (!withPrefix) {
    for (const p of names(analysis, 'process', line)) {
      items.push({ ...p, label: `${p.label}:`, detail: `a step of process ${p.label}`, sortText: `2${p.label}` });
    }
    for (const t of names(analysis, 'thread', line)) {
      items.push({ ...t, label: `${t.label}:`, detail: `a step of thread ${t.label}`, sortText: `2${t.label}` });
    }
  }
  return items;
}

/**
 * What may follow in `VERB F`, `VERB F begin as NAME` and `VERB NAME end` (a request the server
 * holds): a handle or a held name first, then `begin` (and `=>`, unless `VERB F` alone is no
 * statement) after a handle, `end` after a held name.
 */
function heldItems(
  analysis: Analysis, line: number, args: string[],
  held: { kind: NameKind; prefix: string; begin: string; end: string; noPlainCall?: boolean; errorAnswer?: boolean },
): CompletionItem[] {
  const n = args.length;
  if (n === 0) return [...names(analysis, 'handle', line), ...names(analysis, held.kind, line)];
  if (n === 1) {
    if (namesVisibleAt(analysis.names, held.kind, line).some((d) => d.name === args[0])) return [keyword('end', held.end)];
    return [keyword('begin', held.begin), ...(held.noPlainCall ? [] : [{ label: '=>', kind: CompletionItemKind.Operator }])];
  }
  if (args[1] === 'begin') return n === 2 ? [keyword('as')] : n === 3 ? freshName(analysis, held.kind, held.prefix) : [];
  return n === 2 && held.errorAnswer ? [ERROR_ANSWER] : [];
}

/** What may follow in an `open` (or `create`) statement after `open FILE as F`. */
function openOptions(analysis: Analysis, line: number, args: string[], create: boolean): CompletionItem[] {
  const items: CompletionItem[] = [];
  const has = (w: string) => args.includes(w);
  if (!ACCESS_MODES.some(has)) items.push(...ACCESS_MODES.map((m) => keyword(m, 'access mode (O_RDONLY, O_WRONLY, O_RDWR)')));
  for (const f of OPEN_STATUS_FLAGS) if (!has(f.word) && (create || !f.createOnly)) items.push(keyword(f.word, f.doc));
  if (!has('reply')) items.push(keyword('reply', 'FOPEN flags the server answers'));
  if (!create) items.push(keyword('begin', 'the server holds this OPEN until `open O end`'));
  if (!args.some((a) => a.startsWith('backing='))) {
    items.push(...names(analysis, 'backing', line).map((b) => ({ ...b, label: `backing=${b.label}` })));
    items.push({ label: 'backing=', kind: CompletionItemKind.Property, detail: 'the backing id the reply carries' });
  }
  items.push({ label: '=>', kind: CompletionItemKind.Operator, detail: 'the outcome this step should have' });
  return items;
}

export function complete(analysis: Analysis, lineText: string, p: Position): CompletionItem[] {
  const { typing } = wordsBefore(lineText, p.character);
  // Each item replaces the whole word being typed (`backing=b` → `backing=b1`), whatever the editor counts as a word.
  // A `=>` just typed is not replaced: the outcome goes after it.
  const from = typing && typing.kind !== 'arrow' ? typing.start : p.character;
  const range = { start: { line: p.line, character: from }, end: p };
  return itemsAt(analysis, lineText, p).map((item) => {
    const { insertText, ...rest } = item;
    return { ...rest, textEdit: { range, newText: insertText ?? item.label } };
  });
}

function itemsAt(analysis: Analysis, lineText: string, p: Position): CompletionItem[] {
  const { before, typing, inComment, inString } = wordsBefore(lineText, p.character);
  if (inComment || inString) return [];
  const words: Lexeme[] = before.filter((w) => w.kind !== 'comment');
  const texts = words.map((w) => w.text);
  const line = p.line;
  // After `=>` only an outcome fits.
  if (typing?.kind === 'arrow' || texts[texts.length - 1] === '=>') return outcomes();
  if (texts.includes('=>')) return [];
  let i = 0;
  const hasPrefix = texts[0]?.endsWith(':') ?? false;
  if (hasPrefix) i = 1;
  if (texts.length === i) {
    // Typing the first word: a statement, or a process prefix.
    if (typing?.text.endsWith(':')) return [];
    return statementItems(hasPrefix, analysis, line);
  }
  const kw = texts[i]!.toLowerCase();
  const args = texts.slice(i + 1);
  const n = args.length; // index of the argument being typed
  const typed = typing?.text ?? '';
  switch (kw) {
    case 'kernel':
      if (n > 0) return [];
      return MODELLED_KERNELS.map((v, k) => ({
        label: v,
        kind: CompletionItemKind.Value,
        detail: v === NEWEST_KERNEL ? 'newest modelled kernel (default)' : 'modelled kernel',
        sortText: String(MODELLED_KERNELS.length - k).padStart(2, '0'),
      }));
    case 'init':
      return flagItems(analysis, 'init', new Set(args.map((a) => (a.startsWith('max_stack_depth') ? 'max_stack_depth' : canonicalFlagName(a)))));
    case 'backing':
      if (n === 0) return [keyword('close', 'FUSE_DEV_IOC_BACKING_CLOSE')];
      if (args[0] === 'close') return n === 1 ? names(analysis, 'backing', line) : [{ label: '=>', kind: CompletionItemKind.Operator }];
      return [{ label: '=>', kind: CompletionItemKind.Operator, detail: 'the outcome this step should have' }];
    case 'open':
    case 'create': {
      if (n === 0) return kw === 'create' ? freshName(analysis, 'file', 'new') : [...names(analysis, 'file', line), ...names(analysis, 'open', line)];
      if (n === 1) {
        const isOpen = kw === 'open' && namesVisibleAt(analysis.names, 'open', line).some((d) => d.name === args[0]);
        return isOpen ? [keyword('end', 'the server answers the held OPEN')] : [keyword('as')];
      }
      if (n === 2) return freshName(analysis, 'handle', 'f');
      const beginAt = args.indexOf('begin');
      if (beginAt >= 0) return n === beginAt + 1 ? [keyword('as')] : n === beginAt + 2 ? freshName(analysis, 'open', 'o') : [];
      if (typed.startsWith('backing=')) {
        return names(analysis, 'backing', line).map((b) => ({ ...b, label: `backing=${b.label}` }));
      }
      const replyAt = args.indexOf('reply');
      if (replyAt >= 0 && !args.slice(replyAt + 1).some((a) => a.startsWith('backing='))) {
        const present = new Set(args.slice(replyAt + 1).map(canonicalFlagName));
        return [...flagItems(analysis, 'reply', present), ...openOptions(analysis, line, args, kw === 'create')];
      }
      return openOptions(analysis, line, args, kw === 'create');
    }
    case 'send':
      if (n === 0) return names(analysis, 'handle', line);
      if (n === 1) return [keyword('to')];
      if (n === 2) return [...names(analysis, 'process', line), ...names(analysis, 'thread', line)];
      return n === 3 ? [keyword('as'), { label: '=>', kind: CompletionItemKind.Operator }] : n === 4 ? freshName(analysis, 'handle', 'f') : [];
    case 'fcntl':
      if (n === 0) return names(analysis, 'handle', line);
      if (n === 1) return [keyword('setfl', 'F_SETFL: the O_DIRECT and O_APPEND the file keeps')];
      return [
        ...OPEN_STATUS_FLAGS.filter((f) => f.setfl && !args.includes(f.word)).map((f) => keyword(f.word, f.doc)),
        { label: '=>', kind: CompletionItemKind.Operator },
      ];
    case 'close':
      return heldItems(analysis, line, args, { kind: 'flush', prefix: 'x', begin: 'the server holds this close\'s FLUSH', end: 'the server answers the held FLUSH', errorAnswer: true });
    case 'read':
      return heldItems(analysis, line, args, { kind: 'read', prefix: 'r', begin: 'the server holds this read\'s READ', end: 'the server answers the held READ' });
    case 'release':
      return heldItems(analysis, line, args, {
        kind: 'release', prefix: 'r', begin: 'the server will hold the RELEASE of this open file', end: 'the server answers the held RELEASE', noPlainCall: true,
      });
    case 'write':
      return heldItems(analysis, line, args, { kind: 'write', prefix: 'w', begin: 'a direct-io write that stays in flight', end: 'the in-flight write completes', errorAnswer: true });
    case 'dup':
      return n === 0 ? names(analysis, 'handle', line) : n === 1 ? [keyword('as')] : n === 2 ? freshName(analysis, 'handle', 'f') : [];
    case 'mmap':
      if (n === 0) return names(analysis, 'handle', line);
      if (n === 1) return [keyword('shared', 'MAP_SHARED'), keyword('private', 'MAP_PRIVATE')];
      if (args[n - 1] === 'as') return freshName(analysis, 'mapping', 'm');
      if (args.includes('as')) return [{ label: '=>', kind: CompletionItemKind.Operator }];
      return [...(args.includes('write') ? [] : [keyword('write', 'PROT_WRITE')]), keyword('as')];
    case 'munmap':
      return n === 0 ? names(analysis, 'mapping', line) : n === 1 ? [keyword('part', 'only the first page: the rest still holds the file')] : [];
    case 'msync':
      return n === 0 ? names(analysis, 'mapping', line) : [];
    case 'signal':
      if (n === 0) return [...names(analysis, 'process', line), ...names(analysis, 'thread', line), ...names(analysis, 'write', line)];
      return n === 1 ? SIGNALS.map((sig) => keyword(sig, SIGNAL_DOC[sig])) : [];
    case 'thread':
      return n === 0 ? freshName(analysis, 'thread', 't') : n === 1 ? [keyword('of', 'the process whose thread it is')] : n === 2 ? names(analysis, 'process', line) : [];
    case 'fork':
      return n === 0 ? [keyword('as')] : n === 1 ? freshName(analysis, 'process', 'p') : [];
    case 'expect':
      if (n === 0) return names(analysis, 'file', line);
      if (n === 1) {
        return [
          ...EXPECTED_MODES.map((m) => ({ label: m, kind: CompletionItemKind.EnumMember, detail: 'inode io mode' })),
          { label: 'iocachectr=', kind: CompletionItemKind.Property, detail: 'the inode\'s counter' },
        ];
      }
      return [];
    default:
      return [];
  }
}
