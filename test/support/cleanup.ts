// What a test file starts on the system (mounts, holder processes, ...) is stopped after all its
// tests, last started first, even when an assertion failed half-way.

import { after } from 'node:test';
import { startHolder, type Holder } from './inspect-holder';

export interface Cleanup {
  /** Runs `stop` after the file's tests; its failure does not hide the others'. */
  defer(stop: () => Promise<void>): void;
  /** A holder process (inspect-holder.ts) stopped after the file's tests. */
  hold(steps: string[]): Promise<Holder>;
}

export function cleanupAfterAll(last?: () => void): Cleanup {
  const stops: Array<() => Promise<void>> = [];
  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    last?.();
  });
  return {
    defer: (stop) => void stops.push(stop),
    hold: async (steps) => {
      const h = await startHolder(steps);
      stops.push(() => h.stop());
      return h;
    },
  };
}
