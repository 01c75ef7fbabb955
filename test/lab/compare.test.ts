// Setting the kernel's observations beside the simulation (pure, no kernel needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, mergeStep } from '../../server/lab/index';
import type { StepResult } from '../../server/scenario/result';

const sim = (line: number, outcome: string, extra: Partial<StepResult> = {}): StepResult =>
  ({ line, process: 'main', action: 'open', target: `h${line}`, outcome, inodes: {}, ...extra });
const seen = (line: number, outcome: string, extra: object = {}) => ({ line, process: 'main', action: 'open', target: `h${line}`, outcome, ...extra });

test('outcomes are the kernel\'s, the simulator\'s go to "simulated"; differences are counted', () => {
  const r = compare(
    { kernel: '6.18', initialInodes: {}, finalInodes: {}, diagnostics: [], steps: [sim(3, 'ok'), sim(4, 'EIO', { reason: 'EINVAL' }), sim(5, 'ok')] },
    [seen(3, 'ok', { note: 'fd 3' }), seen(4, 'ok'), seen(5, 'ok')],
  );
  assert.equal(r.differences, 1);
  assert.deepEqual(r.steps.map((s) => [s.line, s.outcome, s.simulated, s.differs]), [[3, 'ok', 'ok', false], [4, 'ok', 'EIO', true], [5, 'ok', 'ok', false]]);
  assert.equal(r.steps[0]!.note, 'fd 3');
  assert.equal(r.kernel, '6.18');
});

test('a blocked step differs when it wakes elsewhere or with another outcome', () => {
  const s = sim(7, 'blocks', { completedAt: 9, finalOutcome: 'ok' });
  assert.equal(mergeStep(s, seen(7, 'blocks', { completedAt: 9, finalOutcome: 'ok' })).differs, false);
  assert.equal(mergeStep(s, seen(7, 'blocks', { completedAt: 10, finalOutcome: 'ok' })).differs, true);
  assert.equal(mergeStep(s, seen(7, 'blocks', { completedAt: 9, finalOutcome: 'EIO' })).differs, true);
  assert.equal(mergeStep(s, seen(7, 'blocks', { completedAt: null, finalOutcome: null })).differs, true, 'never woke');
  assert.equal(mergeStep(s, seen(7, 'blocks', { completedAt: null, finalOutcome: null }), true).differs, false, 'not yet woken (progress)');
  const m = mergeStep(s, seen(7, 'blocks', { completedAt: 10, finalOutcome: 'ok' }));
  assert.deepEqual([m.completedAt, m.simulatedCompletedAt, m.finalOutcome, m.simulatedFinalOutcome], [10, 9, 'ok', 'ok']);
});

test('expect steps are the simulator\'s alone; steps the kernel did not play are skipped', () => {
  const r = compare(
    { kernel: '6.18', initialInodes: {}, finalInodes: {}, diagnostics: [], steps: [sim(3, 'ok', { action: 'expect' }), sim(4, 'ok')] },
    [seen(3, 'unobservable')],
  );
  assert.deepEqual(r.steps.map((s) => [s.outcome, s.differs]), [['ok', false], ['skipped', true]]);
});
