// The one place a diagnostic's words are made: from its facts (DiagnosticData)
// and the rule's record (why, fix, the kernel function). The simulator only
// states facts; the CLI (text and JSON) and the language server show the text
// made here.

import { RULES, type RuleRecord } from '../model/rules';
import { LINT_RULES } from './lint-rules';
import type { DiagnosticData, InodeState, StepFacts } from './result';
import { DEFAULT_PROCESS, NAME_KIND_LABEL } from './syntax';

/** The record of a kernel or lint rule, or undefined for the scenario's other codes. */
export function ruleRecord(code: string): RuleRecord | undefined {
  return (RULES as Record<string, RuleRecord>)[code] ?? (LINT_RULES as Record<string, RuleRecord>)[code];
}

/** "why. Fix: fix." */
export function explain(code: string): string {
  const r = ruleRecord(code);
  return r ? `${r.why}. Fix: ${r.fix}.` : '';
}

/** "writer (line 11), f2 (line 14)": the opens in the way, by their handle and line. */
function holders(f: StepFacts): string {
  return (f.conflicting ?? []).map((c) => `${c.handle} (line ${c.line})`).join(', ');
}

/**
 * The point first, in plain words, for a step refused on an inode's mode:
 * "data.db is in passthrough mode, held by writer (line 11) → EIO: a non-passthrough open of …".
 * The Problems row shows this part even when cut.
 */
function inodeLead(f: StepFacts & { inode: InodeState }): string {
  const held = holders(f);
  const title = ruleRecord(f.rule ?? '')?.title;
  const lead = `${f.inode.name} is in ${f.inode.mode} mode${held ? `, held by ${held}` : ''} → ${f.outcome}`;
  return title ? `${lead}: ${title[0]!.toLowerCase()}${title.slice(1)}` : lead;
}

/** The kernel's side, after the point: the errno inside, the function, the counter, why and the fix. */
function kernelDetail(f: StepFacts & { inode: InodeState }): string {
  const where = ruleRecord(f.rule ?? '')?.where;
  const inside = f.reason && where ? `${f.reason} inside ${where}${f.reason !== f.outcome ? `, turned into ${f.outcome}` : ''}; ` : '';
  return `In the kernel: ${inside}iocachectr=${f.inode.iocachectr}; ${explain(f.rule ?? '')}`.trim();
}

/** What stood behind a step's outcome: the inode and the files in the way, the descriptor, or the rule. */
function stepDetail(f: StepFacts): string {
  const rule = f.rule ?? '';
  if (f.inode) {
    const held = holders(f);
    return `${f.inode.name} is in ${f.inode.mode} mode (iocachectr=${f.inode.iocachectr})${held ? `, held by ${held}` : ''}; ${explain(rule)}`;
  }
  if (f.descriptor) {
    const { handle, access, call } = f.descriptor;
    return call ? `${handle} was opened ${access}, so ${call}() fails. ${explain(rule)}` : `${handle} was opened ${access}. ${explain(rule)}`;
  }
  if (f.missingDescriptor) {
    return `process ${f.missingDescriptor.process} holds no descriptor ${f.missingDescriptor.handle} (closed, or opened by another process)`;
  }
  if (f.outcome === 'blocks') return ruleRecord(rule)?.why ?? '';
  if (f.outcome === 'ok') return '';
  return explain(rule);
}

/** `EIO (ETXTBSY inside fuse_inode_uncached_io_start, turned into EIO)`. */
function outcomeWithReason(f: StepFacts): string {
  const where = ruleRecord(f.rule ?? '')?.where;
  if (!f.reason || !where) return f.outcome;
  return `${f.outcome} (${f.reason} inside ${where}${f.reason !== f.outcome ? `, turned into ${f.outcome})` : ')'}`;
}

function unknownName(d: Extract<DiagnosticData, { what: 'unknown-name' }>): string {
  switch (d.kind) {
    case 'mapping': return `process ${d.process ?? DEFAULT_PROCESS} has no mapping named ${d.name}`;
    case 'file': return `no file named ${d.name}${d.hint ? `: declare it with \`file ${d.name}\`` : ''}`;
    case 'backing': return `no backing named ${d.name}${d.hint ? `: register one with \`backing ${d.name}\`` : ''}`;
    case 'handle': return `no open file named ${d.name}: name one with \`open FILE as ${d.name}\``;
    case 'write': return `no in-flight write named ${d.name}: start one with \`write F begin as ${d.name}\``;
    case 'flush': return `no held FLUSH named ${d.name}: hold one with \`close F begin as ${d.name}\``;
    case 'open': return `no held OPEN named ${d.name}: hold one with \`open FILE as F begin as ${d.name}\``;
    case 'read': return `no held READ named ${d.name}: hold one with \`read F begin as ${d.name}\``;
    case 'release': return `no held RELEASE named ${d.name}: hold one with \`release F begin as ${d.name}\``;
    case 'process':
    case 'thread': return `no ${NAME_KIND_LABEL[d.kind]} named ${d.name}`;
  }
}

function duplicateName(d: Extract<DiagnosticData, { what: 'duplicate-name' }>): string {
  if (d.scope === 'live') return `${d.name} is already a live name in this process`;
  if (d.scope === 'in-flight') return d.kind === 'write' ? `a write named ${d.name} is already in flight` : `${d.name} already names a ${NAME_KIND_LABEL[d.kind]}`;
  if (d.line !== undefined) return `${d.kind} ${d.name} is already declared at line ${d.line}`;
  return d.kind === 'process' || d.kind === 'thread' ? `a ${d.kind} named ${d.name} already exists` : `${d.kind} ${d.name} is already declared`;
}

export function renderMessage(d: DiagnosticData): string {
  switch (d.what) {
    case 'denied': {
      const { inode } = d;
      const text = inode ? `${inodeLead({ ...d, inode })}. ${kernelDetail({ ...d, inode })}` : `${outcomeWithReason(d)}: ${stepDetail(d)}`;
      return d.stated ? `denied, as expected — ${text}` : text;
    }
    case 'blocks': return `${d.stated ? 'blocks, as expected' : 'blocks'}: ${stepDetail(d)}`;
    case 'wakes-failing':
      return `wakes at ${d.wokeAt === null ? 'the end' : `line ${d.wokeAt}`} and fails with ${outcomeWithReason(d)}: ${stepDetail(d)}`.trim();
    case 'outcome-mismatch': {
      const why = stepDetail(d);
      return `expected ${d.stated}, but the kernel gives ${d.outcome}${why ? `: ${why}` : ''}`;
    }
    case 'process-exited': return `process ${d.process} exited at line ${d.line}`;
    case 'step-after-blocked': return `${d.thread ? 'thread' : 'process'} ${d.process} is asleep since line ${d.line} and cannot run this step: ${explain(d.what)}`;
    case 'never-wakes': return `line ${d.line} blocks and never wakes before the scenario ends`;
    case 'unknown-name': return unknownName(d);
    case 'duplicate-name': return duplicateName(d);
    case 'handle-not-open': return `${d.handle} was never opened: its open at line ${d.line} did not succeed, so this step is skipped`;
    case 'flush-not-held': return `the FLUSH is not held: ${d.reason === 'noflush' ? 'the file was opened with FOPEN_NOFLUSH, so close sends no FLUSH (fuse_flush)' : 'the server answered a FLUSH with ENOSYS, so no close sends one any more (fc->no_flush)'}; the close completes at once`;
    case 'write-not-held':
      return `this write never reaches the server (${d.path === 'passthrough' ? 'passthrough writes go to the backing file' : 'writeback cache'}), so it cannot stay in flight; it completes at once`;
    case 'request-aborted': return `${d.name} ended when the connection was aborted at line ${d.line} (fuse_abort_conn); the server has nothing left to answer, so this step is skipped`;
    case 'write-not-started': return `${d.write} has not started: it is still waiting for the inode lock (line ${d.line})`;
    case 'expect-mismatch':
      return 'mode' in d
        ? `expected ${d.file} to be ${d.mode}, but it is ${d.actual.mode} (iocachectr=${d.actual.iocachectr})`
        : `expected iocachectr=${d.iocachectr} on ${d.file}, but it is ${d.actual.iocachectr}`;
    case 'reply-ignored-under-no-open':
    case 'backing-without-passthrough':
      return `ignored: ${explain(d.what)}`;
    case 'parallel-writes-need-direct-io': return `parallel_direct_writes has no effect: ${explain(d.what)}`;
    case 'passthrough-disabled-by-writeback-cache': return `passthrough is off: ${explain(d.what)}`;
    case 'flag-unknown-to-kernel':
      return `${d.flag} is unknown to Linux ${d.kernel} (new in ${d.since}); that kernel gives it no meaning (a passthrough reply carrying it is still refused, as a bit outside the passthrough mask). ${explain(d.what)}`;
    case 'direct-io-shared-mmap-taints-file':
      return `${d.handle} is now a caching file until it is released (closed and unmapped everywhere), not until munmap: ${explain(d.what)}`;
    case 'passthrough-bad-max-stack-depth':
      return d.passthrough ? `passthrough is off: max_stack_depth=${d.maxStackDepth}; ${explain(d.what)}` : 'max_stack_depth only matters with passthrough';
    case 'backing-never-used': return `backing ${d.backing} is registered but never used: ${explain(d.what)}`;
    case 'unknown-kernel':
      return `kernel ${d.kernel} is not modelled: the model covers the mainline releases ${d.modelled.join(', ')} ` +
        `(and their stable releases, e.g. ${d.modelled.at(-1)}.1); simulating with ${d.fallback}`;
    case 'kernel-backport-unknown':
      return `${d.kernel}: whether this stable release has ${d.commit} (mainline ${d.mainline}: ${d.summary}) is not known; ` +
        `simulated without it. Name the mainline release, or a sublevel the docs list (docs/fuse-kernel-rules.md section 4)`;
    case 'duplicate-statement': return `a second \`${d.keyword}\` line; the first is at line ${d.line} and this one is ignored`;
    case 'syntax': return d.message;
    case 'request-not-held': return `the ${d.request} is not held: ${d.because}; the step goes on as without \`begin\``;
    case 'request-not-sent': return `${d.name} has not been sent: the open file of line ${d.line} is not released yet (a descriptor, mapping or write still holds it), so the server has no RELEASE to answer; the step is skipped`;
    case 'create-falls-back-to-mknod': return `the server does not implement CREATE: ${explain(d.what)}`;
    case 'request-interrupted':
      return `the kernel sends FUSE_INTERRUPT for the held ${d.request} (request_wait_answer): the server has read it, so the call still waits for its answer${d.fatal ? ', and its thread dies after it' : ' (such as `error=EINTR`)'}`;
    case 'not-modelled': return `${d.construct}${d.line === undefined ? '' : ` (line ${d.line})`} is outside what the language models (${d.because}); the step is skipped`;
  }
}
