// A simulation's findings as LSP diagnostics: the rule name as `code`, its
// page as `codeDescription`, the text the simulation rendered from its facts
// (server/scenario/diagnostic-text.ts), and the opens that stand in the way as
// `relatedInformation`. The facts themselves stay in the server: quick fixes
// read them from the document's analysis (code-actions.ts finds a diagnostic
// there by its code and position), so they are not sent as `data` — a quarter
// of the 900 KB that 1,000 diagnostics of a long scenario are at every version,
// encoded by the server and parsed by the client (bench/README.md).

import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic, type DiagnosticRelatedInformation } from 'vscode-languageserver';
import type { ConflictingFile, Diagnostic } from '../scenario/result';
import type { Analysis } from './analysis';
import type { RuleDocs } from './rule-docs';
// More than this many problems in one file are summed up in one last diagnostic, as `fuselens check` does.
import { MAX_DIAGNOSTICS } from '../scenario/diagnostic-list';


const SEVERITY: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

function conflictingOf(d: Diagnostic): ConflictingFile[] {
  const data = d.data;
  return data && 'conflicting' in data && data.conflicting ? data.conflicting : [];
}

/**
 * The opens in the way of a refused or blocked step (the facts' `conflicting`), as related
 * locations: the editor links each to its `open` line.
 */
function heldBy(d: Diagnostic, uri: string, lineAt: (line: number) => string | undefined): DiagnosticRelatedInformation[] {
  return conflictingOf(d).map((c) => {
    const line = c.line - 1;
    return {
      location: { uri, range: { start: { line, character: 0 }, end: { line, character: lineAt(line)?.length ?? 0 } } },
      message: `${c.handle} is held open here (line ${c.line})`,
    };
  });
}

/** `uri`: the document's, for related locations (none without it); `lineAt`: its lines. */
export function toLspDiagnostic(d: Diagnostic, docs: RuleDocs, uri?: string, lineAt: (line: number) => string | undefined = () => undefined): LspDiagnostic {
  const out: LspDiagnostic = {
    range: d.range,
    severity: SEVERITY[d.severity] ?? DiagnosticSeverity.Error,
    code: d.code,
    source: 'fuselens',
    message: d.message,
  };
  const href = docs.href(d.code);
  if (href) out.codeDescription = { href };
  if (d.code === 'backing-never-used') out.tags = [DiagnosticTag.Unnecessary];
  const related = uri ? heldBy(d, uri, lineAt) : [];
  if (related.length > 0) out.relatedInformation = related;
  return out;
}

/**
 * The LSP diagnostics last made of a diagnostic with lines, and of a list of them (analysis.ts
 * keeps both from version to version), with what else they were made from: the lengths of the
 * lines their related locations span. Frozen, so that the stdio encoder may keep their bytes
 * (reused-buffer-encoder.ts); what they refer to (ranges, facts) is never changed either. A
 * long scenario's 1,001 diagnostics are mostly the last version's, and made and stringified
 * again they were most of what an edit cost the server (bench/README.md).
 */
interface Made<T> {
  lsp: T;
  docs: RuleDocs;
  uri: string | undefined;
  relatedLengths: number[];
}

const madeOne = new WeakMap<Diagnostic, Made<LspDiagnostic>>();
const madeList = new WeakMap<readonly Diagnostic[], Made<LspDiagnostic[]>>();

/** The lengths of the lines that the related locations of the first `count` of `ds` span. */
function relatedLengths(ds: readonly Diagnostic[], count: number, uri: string | undefined, lineAt: (line: number) => string | undefined): number[] {
  const out: number[] = [];
  if (uri) for (let i = 0; i < count; i++) for (const c of conflictingOf(ds[i]!)) out.push(lineAt(c.line - 1)?.length ?? 0);
  return out;
}

function stillHolds<T>(made: Made<T> | undefined, docs: RuleDocs, uri: string | undefined, lengths: number[]): made is Made<T> {
  return made !== undefined && made.docs === docs && made.uri === uri && made.relatedLengths.length === lengths.length &&
    made.relatedLengths.every((n, i) => n === lengths[i]);
}

/** toLspDiagnostic, the same object as last time when nothing it is made from changed. */
function lspDiagnosticOf(d: Diagnostic, docs: RuleDocs, uri: string | undefined, lineAt: (line: number) => string | undefined): LspDiagnostic {
  const last = madeOne.get(d);
  const lengths = relatedLengths([d], 1, uri, lineAt);
  if (stillHolds(last, docs, uri, lengths)) return last.lsp;
  const lsp = Object.freeze(toLspDiagnostic(d, docs, uri, lineAt));
  madeOne.set(d, { lsp, docs, uri, relatedLengths: lengths });
  return lsp;
}

export function lspDiagnostics(analysis: Analysis, docs: RuleDocs, uri?: string): LspDiagnostic[] {
  // The lines of only those shown are made (analysis.ts): the next one's range places the summary.
  const { first, total } = analysis.firstDiagnostics(MAX_DIAGNOSTICS + 1);
  const count = Math.min(first.length, MAX_DIAGNOSTICS);
  const lengths = relatedLengths(first, count, uri, analysis.line);
  let list = madeList.get(first);
  if (!stillHolds(list, docs, uri, lengths)) {
    const lsp: LspDiagnostic[] = [];
    for (let i = 0; i < count; i++) lsp.push(lspDiagnosticOf(first[i]!, docs, uri, analysis.line));
    madeList.set(first, (list = { lsp, docs, uri, relatedLengths: lengths }));
  }
  const shown = list.lsp.slice();
  if (total > MAX_DIAGNOSTICS) {
    const last = first[MAX_DIAGNOSTICS]!;
    shown.push({
      range: last.range,
      severity: DiagnosticSeverity.Warning,
      code: 'too-many-problems',
      source: 'fuselens',
      message: `${total - MAX_DIAGNOSTICS} more problems are not shown; run \`fuselens check FILE\` to see them all.`,
    });
  }
  return shown;
}
