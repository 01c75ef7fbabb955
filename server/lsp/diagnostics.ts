// A simulation's findings as LSP diagnostics: the rule name as `code`, its
// page as `codeDescription`, the text the simulation rendered from its facts
// (server/scenario/diagnostic-text.ts), and the facts themselves as `data`.

import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { Diagnostic } from '../scenario/result';
import { allDiagnostics, type Analysis } from './analysis';
import type { RuleDocs } from './rule-docs';
// More than this many problems in one file are summed up in one last diagnostic, as `fuselens check` does.
import { MAX_DIAGNOSTICS } from '../scenario/diagnostic-list';


const SEVERITY: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export function toLspDiagnostic(d: Diagnostic, docs: RuleDocs): LspDiagnostic {
  const out: LspDiagnostic = {
    range: d.range,
    severity: SEVERITY[d.severity] ?? DiagnosticSeverity.Error,
    code: d.code,
    source: 'fuselens',
    message: d.message,
  };
  if (d.data) out.data = d.data;
  const href = docs.href(d.code);
  if (href) out.codeDescription = { href };
  if (d.code === 'backing-never-used') out.tags = [DiagnosticTag.Unnecessary];
  return out;
}

export function lspDiagnostics(analysis: Analysis, docs: RuleDocs): LspDiagnostic[] {
  const all = allDiagnostics(analysis);
  const shown = all.slice(0, MAX_DIAGNOSTICS).map((d) => toLspDiagnostic(d, docs));
  if (all.length > MAX_DIAGNOSTICS) {
    const last = all[MAX_DIAGNOSTICS]!;
    shown.push({
      range: last.range,
      severity: DiagnosticSeverity.Warning,
      code: 'too-many-problems',
      source: 'fuselens',
      message: `${all.length - MAX_DIAGNOSTICS} more problems are not shown; run \`fuselens check FILE\` to see them all.`,
    });
  }
  return shown;
}
