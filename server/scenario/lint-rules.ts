// The scenario's own rules: warnings about the scenario rather than about a
// kernel decision (a backing nobody uses, a step of a sleeping process). Same
// record as the kernel's rules (server/model/rules.ts), each with its page in
// docs/rules/; and the codes of the scenario's other checks, which have no
// page but may have a quick fix.

import type { QuickFixKind, RuleRecord } from '../model/rules';

export const LINT_RULES = {
  'backing-never-used': {
    title: 'A backing file registered and never used by a passthrough open',
    where: 'fuse_backing_open',
    why: 'the backing id is registered but no passthrough open replies it',
    fix: 'reply backing=B with passthrough, or do not register it',
  },
  'step-after-blocked': {
    title: 'A step of a process that is asleep in the kernel',
    where: 'scheduler',
    why: 'the process (or thread) sleeps in the kernel and can do nothing until it wakes; its other threads can',
    fix: 'let another process (or the server) end the wait first, or run this step in another process or thread (`thread T of P`)',
  },
} as const satisfies Record<string, RuleRecord>;

export type LintRuleName = keyof typeof LINT_RULES;

/** Checks of the scenario's own consistency that a quick fix can settle. */
export const CHECK_QUICK_FIXES: Readonly<Record<string, QuickFixKind>> = {
  'outcome-mismatch': 'expect-actual-outcome',
  'unknown-name': 'declare-name',
};
