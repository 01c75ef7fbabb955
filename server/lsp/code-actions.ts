// Quick fixes: edits that make a denied step pass or a flag warning go away.
// Each fix is proposed from what the rule says can change (add passthrough to
// the reply, enable direct_io_allow_mmap, close or unmap the files in the way,
// drop a flag the kernel rejects, ...) and then checked: the edited scenario is
// simulated again and the fix is offered only if its diagnostic is gone and no
// new error appeared. A fix the simulator does not confirm is never shown.

import { CodeActionKind, type CodeAction, type Diagnostic as LspDiagnostic, type Range, type TextEdit } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { FOPEN_PASSTHROUGH_MASK, FOPEN } from '../model/flags';
import type { QuickFixKind } from '../model/rules';
import type { FlagToken, InitStatement, OpenStatement, Statement } from '../scenario/ast';
import { ruleRecord } from '../scenario/diagnostic-text';
import { CHECK_QUICK_FIXES } from '../scenario/lint-rules';
import type { ConflictingFile, Diagnostic } from '../scenario/result';
import { allDiagnostics, analyze, type Analysis } from './analysis';
import { DEFAULT_PROCESS, namesVisibleAt, occurrenceAt } from './names';

interface Candidate {
  title: string;
  edits: TextEdit[];
}

/** At most this many diagnostics are fixed per request, and candidates tried per diagnostic. */
const MAX_DIAGNOSTICS = 8;
const MAX_CANDIDATES = 12;
/**
 * Checking a fix simulates the whole scenario again (a few ms for 1,000 lines,
 * half a second for 20,000): past this budget a request offers what it has.
 */
const BUDGET_MS = 750;

const pos = (line: number, character: number) => ({ line, character });
const insertAt = (line: number, character: number, newText: string): TextEdit => ({ range: { start: pos(line, character), end: pos(line, character) }, newText });

function overlaps(a: Range, b: Range): boolean {
  const before = (p: { line: number; character: number }, q: { line: number; character: number }) =>
    p.line < q.line || (p.line === q.line && p.character < q.character);
  return !before(a.end, b.start) && !before(b.end, a.start);
}

/** Removes a word and the blanks before it. */
function removeWord(lineText: string, range: Range): TextEdit {
  let start = range.start.character;
  while (start > 0 && (lineText[start - 1] === ' ' || lineText[start - 1] === '\t')) start--;
  return { range: { start: pos(range.start.line, start), end: range.end }, newText: '' };
}

/** The column at which a statement's `=> OUTCOME` starts (or its end). */
function beforeOutcome(s: Statement, lineText: string): number {
  if (!s.outcome) return s.end;
  const arrow = lineText.lastIndexOf('=>', s.outcome.range.start.character);
  let at = arrow >= 0 ? arrow : s.outcome.range.start.character;
  while (at > 0 && lineText[at - 1] === ' ') at--;
  return at;
}

/** Where `reply ...` goes in an open that has none: after the handle, access mode and open flags. */
function replyInsertColumn(s: OpenStatement): number {
  return Math.max(s.handle.range.end.character, s.access?.range.end.character ?? 0, s.oDirect?.range.end.character ?? 0,
    s.oTrunc?.range.end.character ?? 0, s.oAppend?.range.end.character ?? 0);
}

/** Edits that make an open's reply carry `add` and lose `drop`. */
function editReply(s: OpenStatement, lineText: string, add: string[], drop: FlagToken[]): TextEdit[] {
  const remaining = s.reply.filter((f) => !drop.includes(f));
  const toAdd = add.filter((a) => !remaining.some((f) => f.value === a));
  const last = s.reply[s.reply.length - 1];
  if (drop.length === 0 || !s.replyKeyword || !last) {
    if (toAdd.length === 0) return [];
    if (s.replyKeyword) return [insertAt(s.line, (last ?? { range: s.replyKeyword }).range.end.character, ` ${toAdd.join(' ')}`)];
    return [insertAt(s.line, replyInsertColumn(s), ` reply ${toAdd.join(' ')}`)];
  }
  // Reply flags stand together after `reply`: rewrite that run in one edit.
  const words = [...remaining.map((f) => f.text), ...toAdd];
  const run: Range = { start: s.replyKeyword.start, end: last.range.end };
  if (words.length === 0) return [removeWord(lineText, run)];
  return [{ range: run, newText: `reply ${words.join(' ')}` }];
}

/** An edit that makes the open reply `backing=name`. */
function setBacking(s: OpenStatement, lineText: string, name: string): TextEdit {
  if (s.backing) {
    const r = s.backing.kind === 'name' ? s.backing.name.range : s.backing.id.range;
    return { range: r, newText: name };
  }
  return insertAt(s.line, beforeOutcome(s, lineText), ` backing=${name}`);
}

function findInit(a: Analysis): InitStatement | undefined {
  return a.scenario.statements.find((s): s is InitStatement => s.kind === 'init');
}

/** The line before which a new declaration goes: after the leading statements of kinds `after` (below a header comment). */
function declarationLine(a: Analysis, after: Array<Statement['kind']>): number {
  let line = a.scenario.statements[0]?.line ?? 0;
  for (const s of a.scenario.statements) {
    if (after.includes(s.kind)) line = s.line + 1;
    else break;
  }
  return line;
}

/** Edits that make FUSE_INIT carry `flags` (and max_stack_depth=1 for passthrough). */
function enableInit(a: Analysis, flags: string[]): TextEdit[] {
  const init = findInit(a);
  const words = [...flags];
  if (flags.includes('passthrough') && !init?.maxStackDepth) words.push('max_stack_depth=1');
  if (!init) return [insertAt(declarationLine(a, ['scenario', 'kernel']), 0, `init ${words.join(' ')}\n`)];
  const missing = words.filter((w) => !init.flags.some((f) => f.value === w));
  if (missing.length === 0) return [];
  return [insertAt(init.line, init.end, ` ${missing.join(' ')}`)];
}

function prefix(process: string): string {
  return process === DEFAULT_PROCESS ? '' : `${process}: `;
}

function quote(names: string[]): string {
  return names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** What every fixer reads: the diagnostic, its facts, and the statement it stands on. */
interface FixContext {
  a: Analysis;
  d: Diagnostic;
  line: number;
  s: Statement | undefined;
  lineText: string;
  open: OpenStatement | undefined;
  init: InitStatement | undefined;
  /** The files in the way (from the diagnostic's data). */
  conflicting: ConflictingFile[];
  /** The backings declared by this line. */
  backings: string[];
}

const outsidePassthroughMask = (flags: readonly FlagToken[]) => flags.filter((f) => ((FOPEN[f.value] ?? 0) & ~FOPEN_PASSTHROUGH_MASK) !== 0);

/** Close or unmap the files in the way first (the simulator names them). */
function closeFirst(c: FixContext, files: ConflictingFile[]): Candidate[] {
  const lines: string[] = [];
  for (const f of files) {
    for (const m of f.mappings) lines.push(`${prefix(m.process)}munmap ${m.name}`);
    for (const fd of f.descriptors) lines.push(`${prefix(fd.process)}close ${fd.name}`);
  }
  if (lines.length === 0) return [];
  const what = files.map((f) => `${f.handle} (line ${f.line})`);
  const verb = files.some((f) => f.mappings.length > 0) ? 'Close and unmap' : 'Close';
  return [{ title: `${verb} ${quote(what)} first`, edits: [insertAt(c.line, 0, lines.map((l) => `${l}\n`).join(''))] }];
}

/** The backing the inode was bound to when the kernel refused the step (from the diagnostic's facts). */
function boundBacking(c: FixContext): string | undefined {
  const d = c.d.data;
  return (d && 'inode' in d && d.inode?.backing) || undefined;
}

/** Each closeable holder alone, then all of them. */
function closeHolders(c: FixContext): Candidate[] {
  const out = c.conflicting.flatMap((f) => closeFirst(c, [f]));
  if (c.conflicting.length > 1) out.push(...closeFirst(c, c.conflicting));
  return out;
}

const FIXERS: Record<QuickFixKind, (c: FixContext) => Candidate[]> = {
  'expect-actual-outcome': (c) => {
    const d = c.d.data;
    if (!c.s?.outcome || d?.what !== 'outcome-mismatch') return [];
    return [{ title: `Expect ${d.outcome} (what the kernel gives)`, edits: [{ range: c.s.outcome.range, newText: d.outcome }] }];
  },

  'reply-passthrough': (c) => {
    const out: Candidate[] = [];
    if (c.open) {
      const bound = boundBacking(c);
      const edits = editReply(c.open, c.lineText, ['passthrough'], outsidePassthroughMask(c.open.reply));
      for (const b of bound ? [bound] : c.backings) {
        out.push({ title: `Reply passthrough with backing ${b}`, edits: [...edits, setBacking(c.open, c.lineText, b)] });
      }
    }
    return [...out, ...closeFirst(c, c.conflicting)];
  },

  'close-holders': closeHolders,

  /** Close the caching opens, or make them passthrough too, with this open's backing. */
  'close-or-convert-holders': (c) => {
    const out = closeHolders(c);
    const backing = c.open?.backing?.kind === 'name' ? c.open.backing.name.value : undefined;
    if (!backing) return out;
    const edits: TextEdit[] = [];
    for (const f of c.conflicting) {
      const other = c.a.statementsByLine.get(f.line - 1);
      if (other?.kind !== 'open') continue;
      const otherText = c.a.lines[other.line] ?? '';
      edits.push(...editReply(other, otherText, ['passthrough'], outsidePassthroughMask(other.reply)), setBacking(other, otherText, backing));
    }
    if (edits.length > 0) {
      out.push({ title: `Reply passthrough with backing ${backing} to ${quote(c.conflicting.map((f) => `${f.handle} (line ${f.line})`))} as well`, edits });
    }
    return out;
  },

  'reply-bound-backing': (c) => {
    const bound = boundBacking(c);
    const out: Candidate[] = c.open && bound
      ? [{ title: `Reply backing=${bound} (the backing the inode is bound to)`, edits: [setBacking(c.open, c.lineText, bound)] }] : [];
    return [...out, ...closeFirst(c, c.conflicting)];
  },

  'enable-passthrough': (c) => {
    const out: Candidate[] = [];
    const edits = enableInit(c.a, ['passthrough']);
    const wb = c.init?.flags.find((f) => f.value === 'writeback_cache');
    if (c.init && wb) edits.push(removeWord(c.a.lines[c.init.line] ?? '', wb.range));
    if (edits.length > 0) out.push({ title: 'Enable passthrough in FUSE_INIT', edits });
    const pt = c.open?.reply.find((f) => f.value === 'passthrough');
    if (c.open && pt) out.push({ title: 'Drop passthrough from the reply', edits: editReply(c.open, c.lineText, [], [pt]) });
    return out;
  },

  'drop-masked-flags': (c) => {
    const refused = c.d.data && 'flags' in c.d.data ? (c.d.data.flags ?? []) : [];
    const bad = c.open ? c.open.reply.filter((f) => refused.includes(f.value)) : [];
    if (!c.open || bad.length === 0) return [];
    return [{ title: `Drop ${quote(bad.map((f) => f.text))} from the reply (not allowed with passthrough)`, edits: editReply(c.open, c.lineText, [], bad) }];
  },

  'reply-registered-backing': (c) => {
    const open = c.open;
    if (!open) return [];
    const out = c.backings.map((b): Candidate => ({ title: `Reply backing=${b}`, edits: [setBacking(open, c.lineText, b)] }));
    let fresh = 1;
    while (c.a.names.declarations.some((x) => x.kind === 'backing' && x.name === `b${fresh}`)) fresh++;
    out.push({
      title: `Register a backing file (backing b${fresh}) and reply its id`,
      edits: [insertAt(c.line, 0, `backing b${fresh}\n`), setBacking(open, c.lineText, `b${fresh}`)],
    });
    return out;
  },

  'allow-shared-mmap': (c) => {
    const out: Candidate[] = [];
    const edits = enableInit(c.a, ['direct_io_allow_mmap']);
    if (edits.length > 0) out.push({ title: 'Enable direct_io_allow_mmap in FUSE_INIT', edits });
    if (c.s?.kind === 'mmap' && !c.s.write) out.push({ title: 'Map it private', edits: [{ range: c.s.sharing.range, newText: 'private' }] });
    return out;
  },

  'add-direct-io': (c) => {
    if (!c.open) return [];
    const out: Candidate[] = [{ title: 'Add direct_io to the reply', edits: editReply(c.open, c.lineText, ['direct_io'], []) }];
    const pdw = c.open.reply.find((f) => f.value === 'parallel_direct_writes');
    if (pdw) out.push({ title: 'Drop parallel_direct_writes', edits: editReply(c.open, c.lineText, [], [pdw]) });
    return out;
  },

  'drop-writeback-cache': (c) => {
    const wb = c.init?.flags.find((f) => f.value === 'writeback_cache');
    if (!c.init || !wb) return [];
    return [{ title: 'Drop writeback_cache (it turns passthrough off)', edits: [removeWord(c.a.lines[c.init.line] ?? '', wb.range)] }];
  },

  'fix-max-stack-depth': (c) => {
    const init = c.init;
    if (!init) return [];
    if (!init.maxStackDepth) return [{ title: 'Add max_stack_depth=1', edits: [insertAt(init.line, init.end, ' max_stack_depth=1')] }];
    const depth = init.maxStackDepth;
    if (init.flags.some((f) => f.value === 'passthrough')) return [{ title: 'Set max_stack_depth=1', edits: [{ range: depth.range, newText: 'max_stack_depth=1' }] }];
    return [{ title: 'Drop max_stack_depth (it only matters with passthrough)', edits: [removeWord(c.a.lines[init.line] ?? '', depth.range)] }];
  },

  'drop-unknown-flag': (c) => {
    const flags = c.s?.kind === 'init' ? c.s.flags : c.open ? c.open.reply : [];
    const f = flags.find((x) => overlaps(x.range, c.d.range));
    if (!f || !c.s) return [];
    const title = `Drop ${f.text} (this kernel does not know it)`;
    return [{ title, edits: c.open ? editReply(c.open, c.lineText, [], [f]) : [removeWord(c.lineText, f.range)] }];
  },

  'pair-backing-with-passthrough': (c) => {
    const backing = c.open?.backing;
    if (!c.open || !backing) return [];
    const r = backing.kind === 'name' ? backing.name.range : backing.id.range;
    return [
      { title: 'Add passthrough to the reply', edits: editReply(c.open, c.lineText, ['passthrough'], []) },
      { title: 'Drop the backing id', edits: [removeWord(c.lineText, { start: pos(c.line, r.start.character - 'backing='.length), end: r.end })] },
    ];
  },

  /** Open the descriptor for what the step does (rdwr), or ask less of the mapping. */
  'open-rdwr': (c) => {
    const out: Candidate[] = [];
    const s = c.s;
    const handle = s?.kind === 'mmap' || s?.kind === 'read' || s?.kind === 'write' || s?.kind === 'write-begin' ? s.handle : undefined;
    const found = handle && occurrenceAt(c.a.names, handle.range.start.line, handle.range.start.character);
    const opened = found && found.declaration?.statement.kind === 'open' ? found.declaration.statement : undefined;
    if (opened) {
      const edit = opened.access
        ? { range: opened.access.range, newText: 'rdwr' }
        : insertAt(opened.line, opened.handle.range.end.character, ' rdwr');
      out.push({ title: `Open ${opened.handle.value} rdwr (line ${opened.line + 1})`, edits: [edit] });
    }
    if (s?.kind === 'mmap' && s.write) out.push({ title: 'Map it without write', edits: [removeWord(c.lineText, s.write.range)] });
    return out;
  },

  'drop-reply': (c) => (c.open ? [{ title: 'Drop the reply (a no_open server sends none)', edits: editReply(c.open, c.lineText, [], c.open.reply) }] : []),

  'declare-name': (c) => {
    const d = c.d.data;
    if (d?.what !== 'unknown-name') return [];
    if (d.kind === 'file') {
      return [{ title: `Declare file ${d.name}`, edits: [insertAt(declarationLine(c.a, ['scenario', 'kernel', 'init', 'file']), 0, `file ${d.name}\n`)] }];
    }
    if (d.kind === 'backing' && c.open) return [{ title: `Register backing ${d.name} here`, edits: [insertAt(c.line, 0, `backing ${d.name}\n`)] }];
    return [];
  },
};

/** Candidate fixes for one diagnostic, most fitting first: the fixer its rule's record names. */
function candidates(a: Analysis, d: Diagnostic): Candidate[] {
  const kind = ruleRecord(d.code)?.quickFix ?? CHECK_QUICK_FIXES[d.code];
  if (!kind) return [];
  const line = d.range.start.line;
  const s = a.statementsByLine.get(line);
  const context: FixContext = {
    a, d, line, s,
    lineText: a.lines[line] ?? '',
    open: s?.kind === 'open' ? s : undefined,
    init: findInit(a),
    conflicting: d.data && 'conflicting' in d.data ? (d.data.conflicting ?? []) : [],
    backings: namesVisibleAt(a.names, 'backing', line).map((b) => b.name),
  };
  return FIXERS[kind](context).slice(0, MAX_CANDIDATES);
}

/** Where line `line` of the old text lands after `edits` (which only insert whole lines above it or change lines in place). */
function mapLine(line: number, edits: TextEdit[]): number {
  let shift = 0;
  for (const e of edits) {
    const inserted = (e.newText.match(/\n/g) ?? []).length - (e.range.end.line - e.range.start.line);
    if (e.range.start.line < line || (e.range.start.line === line && e.range.start.character === 0 && e.newText.endsWith('\n'))) shift += inserted;
  }
  return line + shift;
}

const errorCount = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error').length;

/** Whether the fix removes the diagnostic (now on `line`) without adding an error anywhere. */
function confirms(before: Analysis, target: Diagnostic, after: Analysis, line: number): boolean {
  if (!after.analyzed) return false;
  const afterDiags = allDiagnostics(after);
  const onLine = afterDiags.filter((d) => d.range.start.line === line);
  if (onLine.some((d) => d.code === target.code)) return false;
  if (target.severity === 'error' && onLine.some((d) => d.severity === 'error')) return false;
  const beforeErrors = errorCount(allDiagnostics(before));
  const afterErrors = errorCount(afterDiags);
  return target.severity === 'error' ? afterErrors < beforeErrors : afterErrors <= beforeErrors;
}

/** The changed part of one line, as an edit. */
function lineEdit(line: number, from: string, to: string): TextEdit {
  let start = 0;
  while (start < from.length && start < to.length && from[start] === to[start]) start++;
  let end = 0;
  while (end < from.length - start && end < to.length - start && from[from.length - 1 - end] === to[to.length - 1 - end]) end++;
  return { range: { start: pos(line, start), end: pos(line, from.length - end) }, newText: to.slice(start, to.length - end) };
}

/**
 * Edits that turn `from` into `to`, one per changed place (lines compared; a
 * changed line gets an in-line edit). Fixes change a few lines, so a short
 * look-ahead finds where the texts agree again.
 */
export function textDiff(from: string, to: string): TextEdit[] {
  const a = from.split('\n');
  const b = to.split('\n');
  const edits: TextEdit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    let di = a.length - i;
    let dj = b.length - j;
    search: for (let step = 1; step <= 16; step++) {
      for (let x = 0; x <= step; x++) {
        const y = step - x;
        if (i + x < a.length && j + y < b.length && a[i + x] === b[j + y]) {
          di = x;
          dj = y;
          break search;
        }
      }
    }
    const added = b.slice(j, j + dj);
    if (di === 1 && dj === 1) edits.push(lineEdit(i, a[i]!, b[j]!));
    else if (i + di < a.length) edits.push({ range: { start: pos(i, 0), end: pos(i + di, 0) }, newText: added.map((l) => `${l}\n`).join('') });
    else if (i > 0 && (di > 0 || dj > 0)) {
      // Up to the end of the text: take the line break before it along.
      const last = a.length - 1;
      edits.push({ range: { start: pos(i - 1, a[i - 1]!.length), end: pos(last, a[last]!.length) }, newText: added.map((l) => `\n${l}`).join('') });
    } else edits.push({ range: { start: pos(0, 0), end: pos(a.length - 1, a[a.length - 1]!.length) }, newText: added.join('\n') });
    i += di;
    j += dj;
  }
  return edits;
}

export interface FixCheck {
  candidate: Candidate;
  after: Analysis;
  confirmed: boolean;
}

function apply(a: Analysis, edits: TextEdit[]): Analysis {
  const doc = TextDocument.create('untitled:fix', 'fusesim', 0, a.text);
  return analyze(TextDocument.applyEdits(doc, edits), { defaultKernel: a.defaultKernel, previous: a });
}

/**
 * Every candidate for a diagnostic with the simulation of the edited text
 * (exported for tests). A candidate that removes its diagnostic but meets
 * another error on the same step (enable passthrough, and then the reply's
 * keep_cache is refused) is tried once more with that error's own fixes.
 */
export function checkFixes(a: Analysis, d: Diagnostic, depth = 1, deadline = Infinity): FixCheck[] {
  const out: FixCheck[] = [];
  for (const candidate of candidates(a, d)) {
    if (candidate.edits.length === 0) continue;
    if (performance.now() > deadline) break;
    const after = apply(a, candidate.edits);
    const line = mapLine(d.range.start.line, candidate.edits);
    if (confirms(a, d, after, line)) {
      out.push({ candidate, after, confirmed: true });
      continue;
    }
    const next = depth > 0 && after.result && !allDiagnostics(after).some((x) => x.range.start.line === line && x.code === d.code)
      ? after.result.diagnostics.find((x) => x.range.start.line === line && x.severity === 'error')
      : undefined;
    let chained = false;
    if (next) {
      for (const second of checkFixes(after, next, depth - 1, deadline)) {
        const finalLine = mapLine(line, second.candidate.edits);
        if (!second.confirmed || !confirms(a, d, second.after, finalLine)) continue;
        const combined: Candidate = {
          title: `${candidate.title}, and ${second.candidate.title.charAt(0).toLowerCase()}${second.candidate.title.slice(1)}`,
          edits: textDiff(a.text, second.after.text),
        };
        out.push({ candidate: combined, after: second.after, confirmed: true });
        chained = true;
        break;
      }
    }
    if (!chained) out.push({ candidate, after, confirmed: false });
  }
  return out;
}

function sameDiagnostic(l: LspDiagnostic, d: Diagnostic): boolean {
  return l.code === d.code && l.range.start.line === d.range.start.line && l.range.start.character === d.range.start.character;
}

export function codeActions(
  a: Analysis,
  document: { uri: string },
  context: LspDiagnostic[],
  range: Range,
  only?: string[],
): CodeAction[] {
  if (!a.analyzed || !a.result) return [];
  if (only && !only.some((k) => k === CodeActionKind.QuickFix || CodeActionKind.QuickFix.startsWith(`${k}.`) || k === CodeActionKind.Empty)) return [];
  // The diagnostics the editor asks about (those under the cursor) first.
  const targets = a.result.diagnostics
    .filter((d) => d.severity !== 'information' && overlaps(d.range, range))
    .sort((x, y) => Number(context.some((l) => sameDiagnostic(l, y))) - Number(context.some((l) => sameDiagnostic(l, x))))
    .slice(0, MAX_DIAGNOSTICS);
  const actions: CodeAction[] = [];
  const deadline = performance.now() + BUDGET_MS;
  for (const d of targets) {
    const lsp = context.find((l) => sameDiagnostic(l, d));
    let preferred = false;
    for (const { candidate, confirmed } of checkFixes(a, d, 1, deadline)) {
      if (!confirmed) continue;
      actions.push({
        title: candidate.title,
        kind: CodeActionKind.QuickFix,
        ...(lsp ? { diagnostics: [lsp] } : {}),
        isPreferred: !preferred,
        edit: { changes: { [document.uri]: candidate.edits } },
      });
      preferred = true;
    }
  }
  return actions;
}

