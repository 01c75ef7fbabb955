// FUSE Lens lab: replays a `.fusesim` scenario on the running kernel and sets
// the kernel's outcome of every step beside the simulator's.
//
// API (used by `fuselens run` and the "FUSE Lens: Run Scenario on This
// Kernel" command):
//
//   labAvailability(): { ok: true } | { ok: false; reason }
//       root (CAP_SYS_ADMIN) and /dev/fuse are needed; `reason` is a sentence
//       to show the user.
//
//   runScenario(text, { onProgress?, signal?, log?, blockTimeoutMs?, settleMs? }): Promise<RunResult>
//       Mounts the lab's own FUSE server in a temp dir, plays the scenario's
//       processes as real processes, unmounts and cleans up (also on abort
//       through `signal`, on error and when an agent dies), then resolves with
//       the simulator's result in which each step's `outcome`, `completedAt`
//       and `finalOutcome` are the KERNEL's, `simulated*` the simulator's,
//       `differs` marks disagreement. `onProgress(step: RunStep)` is called
//       as each step is played, already merged with the simulated step (and
//       again when a blocked step wakes).
//       Rejects with LabUnavailableError (no root / no /dev/fuse),
//       AbortedError (signal), AgentDiedError (a scenario process was killed
//       from outside), or an Error (mount failure, no C compiler); cleanup is
//       done before it settles; if this process dies first (even by
//       SIGKILL), the run's guardian does it (guardian.ts). Runs may overlap: each has its own mount,
//       agents and temp dir (at most 3 at once per process: each holds a
//       libuv pool thread for its /dev/fuse reads).
//       The host process must never touch the lab's mount synchronously.
//       Ask the user before calling it (it mounts as root); never in an
//       untrusted workspace.
//
//   The simulation uses the scenario's `kernel` line, or the running kernel's
//   version when there is none (`simulateScenario(text, { kernel })`).

import * as fs from 'node:fs';
import { release } from 'node:os';
import { formatKernelVersion, kernelVersionOfRelease } from '../model/kernel-version';
import { parseScenario } from '../scenario/parse';
import type { RunResult, RunStep, SimulationResult, StepResult } from '../../protocol/scenario';
import { simulate } from '../scenario/simulate';
import { AbortedError, AgentDiedError, replayScenario, type ObservedStep, type ReplayOptions } from './replay';

export { AbortedError, AgentDiedError, type ObservedStep };
export type { LabEvent } from './log';
/** What a run answers: the shape of `fuselens run --json` and of fuselens/runScenario. */
export type { RunResult, RunStep };
export { formatLabEvent } from './log';

export interface RunScenarioOptions extends Pick<ReplayOptions, 'signal' | 'blockTimeoutMs' | 'settleMs' | 'log'> {
  /** Each step as the kernel plays it, already set beside the simulator's (again when a blocked step wakes). */
  onProgress?: (step: RunStep) => void;
}

export class LabUnavailableError extends Error {}

/** Whether this process may mount FUSE file systems (root and /dev/fuse). */
export function labAvailability(): { ok: true } | { ok: false; reason: string } {
  if (process.platform !== 'linux') return { ok: false, reason: 'running scenarios needs Linux' };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'running a scenario on the kernel mounts a FUSE file system and registers backing files: it needs root (CAP_SYS_ADMIN)' };
  try {
    fs.accessSync('/dev/fuse', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return { ok: false, reason: '/dev/fuse is missing or not accessible (modprobe fuse?)' };
  }
  return { ok: true };
}

/** `6.18` for `6.18.44-fc-v657`. */
export function runningKernelVersion(): string {
  const v = kernelVersionOfRelease(release());
  return v ? formatKernelVersion(v) : release();
}

export async function runScenario(text: string, options: RunScenarioOptions = {}): Promise<RunResult> {
  const available = labAvailability();
  if (!available.ok) throw new LabUnavailableError(available.reason);
  const scenario = parseScenario(text);
  const simulation = simulate(scenario, { kernel: runningKernelVersion() });
  const simByLine = new Map(simulation.steps.map((s) => [s.line, s]));
  const { onProgress, ...replayOptions } = options;
  const observed = await replayScenario(scenario, {
    ...replayOptions,
    ...(onProgress && {
      onStep: (seen: ObservedStep) => {
        const sim = simByLine.get(seen.line);
        // A step still blocked has not woken *yet*: only its outcome can be compared now.
        const stillBlocked = seen.outcome === 'blocks' && seen.completedAt == null;
        onProgress(sim ? mergeStep(sim, seen, stillBlocked) : unsimulatedStep(seen));
      },
    }),
  });
  return compare(simulation, observed);
}

/** The simulator's step with the kernel's observation in `outcome` (and the simulator's in `simulated`). */
export function mergeStep(sim: StepResult, seen: ObservedStep | undefined, stillBlocked = false): RunStep {
  const step: RunStep = { ...sim, simulated: sim.outcome, differs: false };
  if (sim.outcome === 'blocks') {
    step.simulatedCompletedAt = sim.completedAt ?? null;
    step.simulatedFinalOutcome = sim.finalOutcome ?? null;
  }
  if (!seen) {
    step.outcome = 'skipped';
    step.note = 'not played on the kernel';
    step.differs = sim.outcome !== 'skipped';
    return step;
  }
  if (seen.note) step.note = seen.note;
  if (seen.outcome === 'unobservable') return step; // expect: only the simulator can tell
  step.outcome = seen.outcome;
  delete step.completedAt;
  delete step.finalOutcome;
  if (seen.outcome === 'blocks') {
    step.completedAt = seen.completedAt ?? null;
    step.finalOutcome = seen.finalOutcome ?? null;
  }
  step.differs =
    step.outcome !== sim.outcome ||
    (sim.outcome === 'blocks' &&
      !stillBlocked &&
      ((sim.completedAt ?? null) !== (step.completedAt ?? null) || (sim.finalOutcome ?? null) !== (step.finalOutcome ?? null)));
  return step;
}

/** A step the kernel played that the simulator has no step for. */
function unsimulatedStep(seen: ObservedStep): RunStep {
  return { ...seen, inodes: {}, simulated: 'none', differs: true };
}

/** Sets the kernel's observations beside the simulation, step by step (matched by line). */
export function compare(simulation: SimulationResult, observed: ObservedStep[]): RunResult {
  const byLine = new Map(observed.map((o) => [o.line, o]));
  const steps = simulation.steps.map((sim) => {
    const seen = byLine.get(sim.line);
    byLine.delete(sim.line);
    return mergeStep(sim, seen);
  });
  for (const seen of byLine.values()) steps.push(unsimulatedStep(seen));
  steps.sort((a, b) => a.line - b.line);
  return { ...simulation, steps, kernelRelease: release(), differences: steps.filter((s) => s.differs).length };
}
