// Names as the editor navigates them: go to definition, find references,
// highlights, rename, and the outline (document symbols).

import {
  DocumentHighlightKind,
  ResponseError,
  ErrorCodes,
  SymbolKind,
  type DocumentHighlight,
  type DocumentSymbol,
  type Location,
  type Position,
  type Range,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver';
import type { Analysis } from './analysis';
import { DEFAULT_PROCESS, NAME_KIND_LABEL, occurrenceAt, occurrencesLinked, type Declaration, type NameKind } from './names';
import { KEYWORDS, isName } from '../scenario/syntax';
import { rangeOf } from '../scenario/ast';

export function definition(analysis: Analysis, uri: string, p: Position): Location | undefined {
  const found = occurrenceAt(analysis.names, p.line, p.character);
  if (!found?.declaration) return undefined;
  return { uri, range: found.declaration.range };
}

export function references(analysis: Analysis, uri: string, p: Position, includeDeclaration: boolean): Location[] {
  const found = occurrenceAt(analysis.names, p.line, p.character);
  if (!found) return [];
  return occurrencesLinked(analysis.names, found.occurrence, found.declaration)
    .filter((o) => includeDeclaration || !o.declaration)
    .map((o) => ({ uri, range: o.range }));
}

export function highlights(analysis: Analysis, p: Position): DocumentHighlight[] {
  const found = occurrenceAt(analysis.names, p.line, p.character);
  if (!found) return [];
  return occurrencesLinked(analysis.names, found.occurrence, found.declaration).map((o) => ({
    range: o.range,
    kind: o.declaration ? DocumentHighlightKind.Write : DocumentHighlightKind.Read,
  }));
}

export function prepareRename(analysis: Analysis, p: Position): { range: Range; placeholder: string } | undefined {
  const found = occurrenceAt(analysis.names, p.line, p.character);
  if (!found) return undefined;
  if (!found.declaration) {
    const why = found.occurrence.kind === 'process' && found.occurrence.name === DEFAULT_PROCESS
      ? `'${DEFAULT_PROCESS}' is the default process; it has no declaration to rename.`
      : `'${found.occurrence.name}' is not declared; declare it before renaming it.`;
    throw new ResponseError(ErrorCodes.InvalidRequest, why);
  }
  return { range: found.occurrence.range, placeholder: found.occurrence.name };
}

export function rename(analysis: Analysis, uri: string, p: Position, newName: string): WorkspaceEdit | undefined {
  const target = prepareRename(analysis, p);
  if (!target) return undefined;
  const found = occurrenceAt(analysis.names, p.line, p.character)!;
  const decl = found.declaration!;
  if (!isName(newName) || KEYWORDS.has(newName.toLowerCase())) {
    throw new ResponseError(ErrorCodes.InvalidParams, `'${newName}' is not a valid name: a name matches [A-Za-z_][A-Za-z0-9_.-]* and is not a keyword.`);
  }
  if (decl.kind === 'process' && newName === DEFAULT_PROCESS) {
    throw new ResponseError(ErrorCodes.InvalidParams, `'${DEFAULT_PROCESS}' is the default process's name.`);
  }
  const clash = analysis.names.declarations.find((d) => d.kind === decl.kind && d.name === newName);
  if (clash && newName !== decl.name) {
    throw new ResponseError(ErrorCodes.InvalidParams, `A ${NAME_KIND_LABEL[decl.kind]} named '${newName}' is already declared on line ${clash.range.start.line + 1}.`);
  }
  const edits: TextEdit[] = occurrencesLinked(analysis.names, found.occurrence, decl).map((o) => ({ range: o.range, newText: newName }));
  return { changes: { [uri]: edits } };
}

const SYMBOL_KIND: Record<NameKind, SymbolKind> = {
  file: SymbolKind.File,
  process: SymbolKind.Module,
  thread: SymbolKind.Module,
  backing: SymbolKind.Struct,
  handle: SymbolKind.Variable,
  mapping: SymbolKind.Array,
  write: SymbolKind.Event,
  flush: SymbolKind.Event,
  open: SymbolKind.Event,
  read: SymbolKind.Event,
  release: SymbolKind.Event,
};

function statementText(d: Declaration, lines: string[]): string {
  const s = d.statement;
  return (lines[s.line] ?? '').slice(s.start, s.end).trim();
}

/**
 * The outline: the title, files, backings, and each process with the open
 * files, mappings and in-flight writes its steps create.
 */
export function documentSymbols(analysis: Analysis): DocumentSymbol[] {
  if (!analysis.analyzed) return [];
  const lines = analysis.lines;
  const out: DocumentSymbol[] = [];
  const processes = new Map<string, DocumentSymbol>();
  const symbol = (d: Declaration): DocumentSymbol => ({
    name: d.name,
    detail: statementText(d, lines),
    kind: SYMBOL_KIND[d.kind],
    range: rangeOf(d.statement),
    selectionRange: d.range,
  });
  for (const s of analysis.scenario.statements) {
    if (s.kind === 'scenario' && s.title.value) {
      out.push({ name: s.title.value, detail: 'scenario', kind: SymbolKind.Namespace, range: rangeOf(s), selectionRange: s.title.range });
    }
  }
  // `main` is never declared: its symbol spans the steps that declare its names.
  const mainProcess = (first: Declaration): DocumentSymbol => {
    let p = processes.get(DEFAULT_PROCESS);
    if (!p) {
      const range = rangeOf(first.statement);
      p = { name: DEFAULT_PROCESS, detail: 'default process', kind: SymbolKind.Module, range, selectionRange: range, children: [] };
      processes.set(DEFAULT_PROCESS, p);
      out.push(p);
    }
    return p;
  };
  for (const d of analysis.names.declarations) {
    const sym = symbol(d);
    if (d.kind === 'file' || d.kind === 'backing') {
      out.push(sym);
    } else if (d.kind === 'process' || d.kind === 'thread') {
      if (!processes.has(d.name)) {
        sym.children = [];
        processes.set(d.name, sym);
        out.push(sym);
      }
    } else {
      const owner = d.statement.process?.value ?? DEFAULT_PROCESS;
      const parent = owner === DEFAULT_PROCESS ? mainProcess(d) : processes.get(owner);
      if (parent) {
        parent.children!.push(sym);
        // A process symbol's range must contain its children's.
        if (sym.range.end.line > parent.range.end.line) parent.range = { start: parent.range.start, end: sym.range.end };
        if (sym.range.start.line < parent.range.start.line) parent.range = { start: sym.range.start, end: parent.range.end };
      } else out.push(sym);
    }
  }
  return out;
}
