// Which word of a scenario declares a name and which words refer to it: the
// index behind hover-on-name, go to definition, find references, rename and
// document symbols. A name may be declared again later (`open a as f` after
// `close f`); a reference belongs to the nearest declaration above it.

import type { Range, Scenario, Statement, Token } from '../scenario/ast';
import type { NameKind } from '../scenario/syntax';

export { DEFAULT_PROCESS, NAME_KIND_LABEL, type NameKind } from '../scenario/syntax';

export interface NameOccurrence {
  kind: NameKind;
  name: string;
  range: Range;
  declaration: boolean;
  statement: Statement;
}

export interface Declaration extends NameOccurrence {
  declaration: true;
  /** Index in `NameIndex.declarations`. */
  id: number;
}

export interface NameIndex {
  occurrences: NameOccurrence[];
  declarations: Declaration[];
  /** Declaration each occurrence resolves to (same order as occurrences); undefined when none. */
  resolved: (Declaration | undefined)[];
  /** Occurrences by line, for position lookups. */
  byLine: Map<number, NameOccurrence[]>;
}

/**
 * `declaredFiles`: the names of `file` lines; a `create` of any other name declares it.
 * `threads`: the names of `thread` lines, which a `T:` prefix refers to as threads.
 */
function occurrencesOf(
  s: Statement, declaredFiles: ReadonlySet<string>, threads: ReadonlySet<string>, writes: ReadonlySet<string>,
): Array<[NameKind, Token, boolean]> {
  const out: Array<[NameKind, Token, boolean]> = [];
  const actor = (t: Token): NameKind => (threads.has(t.value) ? 'thread' : 'process');
  if (s.process) out.push([actor(s.process), s.process, false]);
  switch (s.kind) {
    case 'file':
      out.push(['file', s.name, true]);
      break;
    case 'process':
      out.push(['process', s.name, true]);
      break;
    case 'thread':
      out.push(['thread', s.name, true], ['process', s.of, false]);
      break;
    case 'backing':
      out.push(['backing', s.name, true]);
      break;
    case 'backing-close':
      out.push(['backing', s.name, false]);
      break;
    case 'open':
      out.push(['file', s.file, s.create !== undefined && !declaredFiles.has(s.file.value)], ['handle', s.handle, true]);
      if (s.backing?.kind === 'name') out.push(['backing', s.backing.name, false]);
      if (s.hold) out.push(['open', s.hold, true]);
      break;
    case 'open-end':
      out.push(['open', s.open, false]);
      break;
    case 'read-begin':
      out.push(['handle', s.handle, false], ['read', s.as, true]);
      break;
    case 'read-end':
      out.push(['read', s.read, false]);
      break;
    case 'release-begin':
      out.push(['handle', s.handle, false], ['release', s.as, true]);
      break;
    case 'release-end':
      out.push(['release', s.release, false]);
      break;
    case 'close':
    case 'read':
    case 'write':
    case 'fcntl':
      out.push(['handle', s.handle, false]);
      break;
    case 'dup':
      out.push(['handle', s.handle, false], ['handle', s.as, true]);
      break;
    case 'send':
      out.push(['handle', s.handle, false], [actor(s.to), s.to, false]);
      if (s.as) out.push(['handle', s.as, true]);
      break;
    case 'mmap':
      out.push(['handle', s.handle, false], ['mapping', s.as, true]);
      break;
    case 'munmap':
    case 'msync':
      out.push(['mapping', s.mapping, false]);
      break;
    case 'fork':
      out.push(['process', s.as, true]);
      break;
    case 'write-begin':
      out.push(['handle', s.handle, false], ['write', s.as, true]);
      break;
    case 'close-begin':
      out.push(['handle', s.handle, false], ['flush', s.as, true]);
      break;
    case 'close-end':
      out.push(['flush', s.flush, false]);
      break;
    case 'write-end':
      out.push(['write', s.write, false]);
      break;
    case 'expect':
      out.push(['file', s.file, false]);
      break;
    case 'signal':
      // `signal W …` signals the thread of an in-flight write.
      out.push([writes.has(s.task.value) ? 'write' : actor(s.task), s.task, false]);
      break;
    case 'scenario':
    case 'kernel':
    case 'init':
    case 'exit':
      break;
  }
  // A parser may leave a token empty where the word was missing.
  return out.filter(([, t]) => typeof t?.value === 'string' && t.value.length > 0);
}

export function buildNameIndex(scenario: Scenario): NameIndex {
  const occurrences: NameOccurrence[] = [];
  const declarations: Declaration[] = [];
  const resolved: (Declaration | undefined)[] = [];
  const byLine = new Map<number, NameOccurrence[]>();
  // The declaration in effect for each kind:name while walking down the file.
  const current = new Map<string, Declaration>();
  const pending: number[] = [];
  const declaredFiles = new Set(scenario.statements.flatMap((s) => (s.kind === 'file' ? [s.name.value] : [])));
  const threads = new Set(scenario.statements.flatMap((s) => (s.kind === 'thread' ? [s.name.value] : [])));
  const writes = new Set(scenario.statements.flatMap((s) => (s.kind === 'write-begin' ? [s.as.value] : [])));
  for (const statement of scenario.statements) {
    for (const [kind, token, isDecl] of occurrencesOf(statement, declaredFiles, threads, writes)) {
      const key = `${kind}:${token.value}`;
      let occ: NameOccurrence;
      if (isDecl) {
        const d: Declaration = { kind, name: token.value, range: token.range, declaration: true, statement, id: declarations.length };
        declarations.push(d);
        occ = d;
      } else {
        occ = { kind, name: token.value, range: token.range, declaration: false, statement };
      }
      occurrences.push(occ);
      if (isDecl) {
        resolved.push(occ as Declaration);
        current.set(key, occ as Declaration);
      } else {
        const d = current.get(key);
        resolved.push(d);
        if (!d) pending.push(occurrences.length - 1);
      }
      const list = byLine.get(token.range.start.line);
      if (list) list.push(occ);
      else byLine.set(token.range.start.line, [occ]);
    }
  }
  // A use above every declaration (a typo'd order) still finds the first declaration below.
  for (const i of pending) {
    const o = occurrences[i]!;
    resolved[i] = declarations.find((d) => d.kind === o.kind && d.name === o.name);
  }
  return { occurrences, declarations, resolved, byLine };
}

function contains(r: Range, line: number, character: number): boolean {
  return r.start.line === line && r.start.character <= character && character <= r.end.character;
}

export function occurrenceAt(index: NameIndex, line: number, character: number): { occurrence: NameOccurrence; declaration: Declaration | undefined } | undefined {
  const list = index.byLine.get(line);
  if (!list) return undefined;
  const occurrence = list.find((o) => contains(o.range, line, character));
  if (!occurrence) return undefined;
  const i = index.occurrences.indexOf(occurrence);
  return { occurrence, declaration: index.resolved[i] };
}

/** Every occurrence tied to the same declaration (or, for an undeclared name, the same kind and spelling). */
export function occurrencesLinked(index: NameIndex, occurrence: NameOccurrence, declaration: Declaration | undefined): NameOccurrence[] {
  return index.occurrences.filter((o, i) =>
    declaration ? index.resolved[i] === declaration : o.kind === occurrence.kind && o.name === occurrence.name && !index.resolved[i],
  );
}

/** The names declared by the line before `line` (for completion), newest last, without repeats. */
export function namesVisibleAt(index: NameIndex, kind: NameKind, line: number): Declaration[] {
  const seen = new Map<string, Declaration>();
  for (const d of index.declarations) {
    if (d.kind === kind && d.range.start.line < line) seen.set(d.name, d);
  }
  return [...seen.values()];
}
