// Hover: on a flag its C name, value, meaning and first kernel; on a name
// where it is declared; on a declaration's keyword its shape and meaning (the
// syntax table); anywhere else on a step the state of every inode after it.

import { MarkupKind, type Hover, type Position } from 'vscode-languageserver';
import { rangeOf, type FlagToken, type Range, type Statement } from '../scenario/ast';
import type { InodeTable, StepResult } from '../scenario/result';
import { inodeTableAfter } from '../../protocol/scenario';
import { findInitFlag, findOpenFlag, type FlagInfo } from '../model/flags';
import { hasChange, KERNEL_GATES, parseKernelVersion, NEWEST_KERNEL, OLDEST_KERNEL, type GateName, type VersionGate } from '../model/kernel-version';
import type { Analysis } from './analysis';
import type { RuleDocs } from './rule-docs';
import { NAME_KIND_LABEL, occurrenceAt, DEFAULT_PROCESS } from './names';
import { ruleRecord } from '../scenario/diagnostic-text';
import { STATEMENTS } from '../scenario/syntax';
import { kernelKnows, OUTCOMES } from './vocabulary';

function inside(r: Range, p: Position): boolean {
  return r.start.line === p.line && r.start.character <= p.character && p.character <= r.end.character;
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

/** The kernel the simulation ran with. */
export function effectiveKernel(analysis: Analysis): string | undefined {
  return analysis.result?.kernel ?? analysis.defaultKernel;
}

export function flagMarkdown(flag: FlagInfo, where: 'reply' | 'init', kernel: string | undefined, written?: string): string {
  const lines: string[] = [];
  if (flag.bit < 0) {
    lines.push(`**${flag.name}** — ${flag.cName}`);
  } else {
    const word = where === 'reply' ? 'fuse_open_out.open_flags' : flag.bit >= 32 ? 'fuse_init_out.flags2' : 'fuse_init_out.flags';
    const value = where === 'init' && flag.bit >= 32 ? `1<<${flag.bit - 32} = ${hex(2 ** (flag.bit - 32))} in flags2 (bit ${flag.bit})` : `1<<${flag.bit} = ${hex(2 ** flag.bit)}`;
    lines.push(`**${flag.cName}** — \`${value}\` in \`${word}\``);
  }
  lines.push('', flag.meaning, '');
  lines.push(flag.since ? `Introduced in Linux ${flag.since}.` : `Known to every modelled kernel (${OLDEST_KERNEL} and later).`);
  if (kernel && !kernelKnows(flag, kernel)) lines.push('', `⚠ Linux ${kernel} (this scenario's kernel) does not know it and ignores it.`);
  if (written && written !== flag.name) lines.push('', `Written \`${written}\`; the scenario name is \`${flag.name}\`.`);
  return lines.join('\n');
}

function flagHover(analysis: Analysis, statement: Statement, p: Position): Hover | undefined {
  let flags: FlagToken[] = [];
  let where: 'reply' | 'init' = 'reply';
  if (statement.kind === 'init') {
    flags = statement.flags;
    where = 'init';
    const depth = statement.maxStackDepth;
    if (depth && inside(depth.range, p)) {
      return {
        range: depth.range,
        contents: {
          kind: MarkupKind.Markdown,
          value: '**max_stack_depth** — `fuse_init_out.max_stack_depth` (u32 at offset 36, proto 7.40, Linux 6.9)\n\n' +
            'How deep backing files may be stacked. Passthrough is enabled only with 1 ≤ max_stack_depth ≤ 2 ' +
            '(1 lets overlayfs stack over the mount; 2 lets backing files live on a stacked fs). ' +
            'libfuse sends `max_backing_stack_depth + 1`.',
        },
      };
    }
  } else if (statement.kind === 'open') {
    flags = statement.reply;
  }
  const token = flags.find((f) => inside(f.range, p));
  if (!token) return undefined;
  const info = where === 'reply' ? findOpenFlag(token.value) : findInitFlag(token.value);
  const value = info
    ? flagMarkdown(info, where, effectiveKernel(analysis), token.text)
    : `**${token.text}** — not a ${where === 'reply' ? 'FOPEN_* flag' : 'FUSE_INIT flag'} FUSE Lens knows.`;
  return { range: token.range, contents: { kind: MarkupKind.Markdown, value } };
}

function declarationLine(analysis: Analysis, line: number): string {
  const s = analysis.statementsByLine.get(line);
  if (!s) return '';
  const text = analysis.lines[line] ?? '';
  return text.slice(s.start, s.end).trim();
}

function nameHover(analysis: Analysis, p: Position): Hover | undefined {
  const found = occurrenceAt(analysis.names, p.line, p.character);
  if (!found) return undefined;
  const { occurrence, declaration } = found;
  const label = NAME_KIND_LABEL[occurrence.kind];
  let value: string;
  if (declaration) {
    const line = declaration.range.start.line;
    value = `${label} **${occurrence.name}** — declared on line ${line + 1}:\n\n\`\`\`fusesim\n${declarationLine(analysis, line)}\n\`\`\``;
  } else if (occurrence.kind === 'process' && occurrence.name === DEFAULT_PROCESS) {
    value = `process **${DEFAULT_PROCESS}** — the default process every scenario has.`;
  } else {
    value = `${label} **${occurrence.name}** — not declared.`;
  }
  if (occurrence.kind === 'file') {
    const last = lastStepAtOrBefore(analysis, p.line);
    const inode = last && tableAfter(analysis, last)[occurrence.name];
    if (inode) value += `\n\nAfter line ${last.line}: ${inodeState(inode.mode, inode.iocachectr, inode.backing)}.`;
  }
  return { range: occurrence.range, contents: { kind: MarkupKind.Markdown, value } };
}

function lastStepAtOrBefore(analysis: Analysis, line: number): StepResult | undefined {
  let best: StepResult | undefined;
  for (const step of analysis.result?.steps ?? []) {
    if (step.line - 1 <= line) best = step;
    else break;
  }
  return best;
}

/** Every inode after `step` (a step carries only the inodes it changed). */
function tableAfter(analysis: Analysis, step: StepResult): InodeTable {
  const result = analysis.result!;
  return inodeTableAfter(result, result.steps.indexOf(step) + 1);
}

function inodeState(mode: string, ctr: number, backing: string | null): string {
  return `${mode}, iocachectr ${ctr}${backing ? `, backing ${backing}` : ''}`;
}

/**
 * A step's hover: its outcome and why, and `inodes`, every inode after it. On a refused or
 * blocked step the editor shows the diagnostic above it, so the inode table comes first and
 * the outcome follows in one line, without the errno's page.
 */
export function stepMarkdown(step: StepResult, inodes: InodeTable, docs?: RuleDocs): string {
  const who = step.process === DEFAULT_PROCESS ? '' : ` by \`${step.process}\``;
  let outcome = `**${step.outcome}**`;
  if (step.reason) outcome += ` (inside the kernel: ${step.reason})`;
  const head = [`**${step.action}** \`${step.target}\`${who} → ${outcome}`];
  if (step.outcome === 'blocks') {
    head.push('', step.completedAt != null
      ? `Wakes at line ${step.completedAt} and completes with **${step.finalOutcome ?? '?'}**.`
      : 'Never wakes in this scenario.');
  }
  if (step.rule) {
    const title = ruleRecord(step.rule)?.title;
    // The rule's page (a file: URI of the installation; VS Code's client opens it rendered).
    const href = docs?.href(step.rule);
    head.push('', `Rule: \`${step.rule}\`${title ? ` — ${title}` : ''}${href ? ` ([the rule's page](${href}))` : ''}`);
  }
  const table: string[] = [];
  const rows = Object.entries(inodes);
  if (rows.length > 0) {
    table.push('Inodes after this step (* changed by it):', '', '| inode | mode | iocachectr | backing |', '|---|---|---:|---|');
    for (const [name, s] of rows) table.push(`| ${name}${name in step.inodes ? ' *' : ''} | ${s.mode} | ${s.iocachectr} | ${s.backing ?? '—'} |`);
  }
  const hasDiagnostic = step.outcome !== 'ok' && step.rule !== undefined;
  if (hasDiagnostic) return [...table, ...(table.length > 0 ? [''] : []), ...head].join('\n');
  const errno = OUTCOMES.find((o) => o.name === step.outcome && o.name !== 'ok');
  return [...head, ...(errno ? ['', errno.doc] : []), ...(table.length > 0 ? ['', ...table] : [])].join('\n');
}

function kernelHover(statement: Statement, p: Position): Hover | undefined {
  if (statement.kind !== 'kernel' || !inside(statement.version.range, p)) return undefined;
  const v = parseKernelVersion(statement.version.value);
  if (!v) return undefined;
  const gates = (Object.keys(KERNEL_GATES) as GateName[]).map((name) => {
    const g: VersionGate = KERNEL_GATES[name];
    const has = hasChange(v, g);
    const backports = Object.entries(g.stable).map(([series, first]) => `${series}.${first ?? '?'}`);
    const since = `${g.mainline}${backports.length > 0 ? `; ${backports.join(', ')}` : ''}${g.commit ? `, ${g.commit}` : ''}`;
    return `- ${has === undefined ? 'not known' : has ? 'yes' : 'no'}: ${g.summary} (${since})`;
  });
  const value = [
    `**Linux ${statement.version.value}** (the model covers the mainline releases ${OLDEST_KERNEL} to ${NEWEST_KERNEL})`,
    '',
    ...gates,
  ].join('\n');
  return { range: statement.version.range, contents: { kind: MarkupKind.Markdown, value } };
}

/** A declaration's keyword (`file`, `init`, ...): its shape and meaning. Steps show their result instead. */
function keywordHover(statement: Statement, p: Position): Hover | undefined {
  const syntax = STATEMENTS.find((s) => s.keyword === statement.kind && s.role === 'declaration');
  if (!syntax) return undefined;
  const range = { start: { line: statement.line, character: statement.start }, end: { line: statement.line, character: statement.start + syntax.keyword.length } };
  if (!inside(range, p)) return undefined;
  return { range, contents: { kind: MarkupKind.Markdown, value: `\`${syntax.shape}\`\n\n${syntax.doc}` } };
}

/** `docs`: where rule pages live, to link the rule of a refused step. */
export function hover(analysis: Analysis, p: Position, docs?: RuleDocs): Hover | undefined {
  if (!analysis.analyzed) return undefined;
  const statement = analysis.statementsByLine.get(p.line);
  if (statement) {
    const h = flagHover(analysis, statement, p) ?? kernelHover(statement, p) ?? keywordHover(statement, p);
    if (h) return h;
  }
  const n = nameHover(analysis, p);
  if (n) return n;
  const step = analysis.stepsByLine.get(p.line);
  if (step && statement && inside(rangeOf(statement), p)) {
    return { range: rangeOf(statement), contents: { kind: MarkupKind.Markdown, value: stepMarkdown(step, tableAfter(analysis, step), docs) } };
  }
  return undefined;
}
