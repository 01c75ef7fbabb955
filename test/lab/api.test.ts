// runScenario, the API the editor command uses: progress steps arrive merged
// with the simulation, and an AbortSignal stops the run with everything
// cleaned up. In-process, on the real kernel (root and /dev/fuse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { AbortedError, labAvailability, runScenario, type RunStep } from '../../server/lab/index';

const available = labAvailability();
const skip = available.ok ? false : available.reason;

const labMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(' - fuse.fuselens-lab ') && l.includes(`/fuselens-run-`));

test('runScenario: progress steps carry kernel and simulated outcomes; the result matches them', { skip }, async () => {
  const text = [
    'init passthrough', 'file a', 'process p1', 'backing b1',
    'open a as w reply direct_io parallel_direct_writes', 'write w begin as W',
    'p1: open a as c => blocks', 'write W end', 'open a as pt reply passthrough backing=b1 => EIO', '',
  ].join('\n');
  const progress: RunStep[] = [];
  const before = labMounts().length;
  const result = await runScenario(text, { onProgress: (s) => progress.push(s) });
  assert.equal(result.differences, 0);
  const blocked = progress.filter((s) => s.line === 7);
  assert.deepEqual(blocked.map((s) => [s.outcome, s.simulated, s.completedAt ?? null]), [['blocks', 'blocks', null], ['blocks', 'blocks', 8]]);
  assert.deepEqual(result.steps.find((s) => s.line === 9)?.outcome, 'EIO');
  assert.ok(progress.every((s) => s.differs === false));
  assert.equal(labMounts().length, before);
});

test('runScenario: aborting mid-run rejects with AbortedError after cleaning up', { skip }, async () => {
  const lines = ['init passthrough', 'file a', 'backing b1', 'open a as keep reply passthrough backing=b1'];
  for (let i = 0; i < 2000; i++) lines.push(`open a as h${i} reply passthrough backing=b1`, `close h${i}`);
  const controller = new AbortController();
  let seen = 0;
  const before = labMounts().length;
  await assert.rejects(
    runScenario(lines.join('\n'), {
      signal: controller.signal,
      onProgress: () => {
        if (++seen === 50) controller.abort();
      },
    }),
    AbortedError,
  );
  assert.equal(labMounts().length, before, 'the mount is gone');
});
