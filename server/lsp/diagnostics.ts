// A simulation's findings as LSP diagnostics: the rule name as `code`, its
// page as `codeDescription`, and for a denied step the errno the process sees
// and the errno inside the kernel.

import { DiagnosticSeverity, DiagnosticTag, type Diagnostic as LspDiagnostic } from 'vscode-languageserver';
import type { Diagnostic } from '../scenario/result';
import { allDiagnostics, type Analysis } from './analysis';
import type { RuleDocs } from './rule-docs';

/** More than this many problems in one file are summed up in one last diagnostic. */
export const MAX_DIAGNOSTICS = 1000;

const SEVERITY: Record<Diagnostic['severity'], DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
};

export function toLspDiagnostic(d: Diagnostic, analysis: Analysis, docs: RuleDocs): LspDiagnostic {
  let message = d.message;
  const step = analysis.stepsByLine.get(d.range.start.line);
  // Name the errno and the kernel's inner reason when the engine's message does not already.
  if (step && step.rule === d.code && step.outcome !== 'ok' && step.outcome !== 'skipped') {
    const parts: string[] = [];
    if (!message.includes(step.outcome)) parts.push(step.outcome);
    if (step.reason && !message.includes(step.reason)) parts.push(`inside the kernel: ${step.reason}`);
    if (parts.length > 0) message = `${message} (${parts.join('; ')})`;
  }
  const out: LspDiagnostic = {
    range: d.range,
    severity: SEVERITY[d.severity] ?? DiagnosticSeverity.Error,
    code: d.code,
    source: 'fuselens',
    message,
  };
  const href = docs.href(d.code);
  if (href) out.codeDescription = { href };
  if (d.code === 'backing-never-used') out.tags = [DiagnosticTag.Unnecessary];
  return out;
}

export function lspDiagnostics(analysis: Analysis, docs: RuleDocs): LspDiagnostic[] {
  const all = allDiagnostics(analysis);
  const shown = all.slice(0, MAX_DIAGNOSTICS).map((d) => toLspDiagnostic(d, analysis, docs));
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
