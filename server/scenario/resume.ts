// A simulation that an edit re-runs from near the edit, not from the first step
// (issue 14: a 100,000-line scenario re-diagnosed in milliseconds). Every so many
// steps the whole simulator state is copied (object-graph.ts: generically, so state
// that new statements add is covered); after an edit the simulation resumes from
// the last copy before the first changed step, and stops as soon as its state
// equals the old run's at a later copy with every statement from there on as it
// was: the old run's steps and diagnostics from there on are the new run's too.
// The result is exactly what simulate() gives from scratch
// (test/lsp/resume-property.test.ts).

import type { Scenario, Statement, StepStatement } from './ast';
import { DiagnosticList } from './diagnostic-list';
import { copyGraph, sameGraph } from './object-graph';
import { readFirst } from './parse';
import type { Diagnostic, SimulationResult, StepResult } from './result';
import { startSimulation, syntaxDiagnostic, type SimulateOptions, type Simulation } from './simulate';
import { isStep } from './syntax';

/**
 * Steps between two copies of the state: an edit re-simulates up to twice this many
 * steps (from the copy before it to the first copy after it where the states meet).
 * A state grows with the names a scenario has used, so copies of a big one are made
 * further apart: copying costs at most about a tenth of simulating.
 */
export const CHECKPOINT_EVERY = 1000;
const STEPS_PER_COPIED_VALUE = 0.1;
/** A state that could not be copied (a call asleep holds its continuation) is tried again this many steps later, then twice as many... */
const FIRST_RETRY = 16;

/** The diagnostics a simulation finds, in the order found (a step's right after it ran). */
class FoundDiagnostics extends DiagnosticList {
  readonly found: Diagnostic[] = [];

  constructor() {
    super(Infinity);
  }

  override add(_start: unknown, _severity: unknown, make: () => Diagnostic): void {
    this.found.push(make());
  }
}

/** The state before a step, and where its simulation sent its findings (not state: swapped on resuming). */
interface Checkpoint {
  state: Simulation;
  found: FoundDiagnostics;
  onStep: (step: StepResult) => void;
}

/** A simulation kept for resuming: its result and what the next version's run reuses. */
export interface ResumableSimulation {
  readonly result: SimulationResult;
  /** The set-up: the kernel asked for and the statements read before the steps. Another set-up is simulated afresh. */
  readonly setup: string;
  readonly steps: readonly StepStatement[];
  /** Diagnostics in the order found: the set-up's (`setupFound` of them), each step's, the end's; syntax errors aside. */
  readonly found: readonly Diagnostic[];
  readonly setupFound: number;
  /** For each step, how many of `found` were found before it ran; last, before the end. */
  readonly foundBefore: readonly number[];
  /** The state before step i, for some i. */
  readonly checkpoints: ReadonlyMap<number, Checkpoint>;
}

/** Whether two statements are the same, lines included (the incremental parse keeps unchanged ones as they were). */
function sameStatement(a: StepStatement, b: StepStatement): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Simulates `scenario` as simulate() does, from `previous` (the run of an earlier
 * version of the same document) where it can.
 */
export function simulateResumable(scenario: Scenario, options: SimulateOptions, previous?: ResumableSimulation): ResumableSimulation {
  // scenarioSource's split, in one pass over the statements.
  const declarations: Statement[] = [];
  const steps: StepStatement[] = [];
  for (const s of scenario.statements) {
    if (isStep(s)) steps.push(s);
    if (readFirst(s)) declarations.push(s);
  }
  const setup = JSON.stringify([options.kernel ?? null, declarations]);
  const syntax = scenario.errors.map(syntaxDiagnostic);
  const run = new Run(steps, syntax);
  if (previous?.setup === setup) {
    const n0 = previous.steps.length;
    const n1 = steps.length;
    const min = Math.min(n0, n1);
    let head = 0;
    while (head < min && sameStatement(previous.steps[head]!, steps[head]!)) head++;
    let tail = 0;
    while (tail < min - head && sameStatement(previous.steps[n0 - 1 - tail]!, steps[n1 - 1 - tail]!)) tail++;
    let from = -1;
    for (const i of previous.checkpoints.keys()) if (i <= head && i > from) from = i;
    if (from >= 0) return run.resume(previous, from, n1 - tail);
  }
  const { sim, kernel } = startSimulation(declarations, options, run.found, run.onStep);
  return run.simulate(sim, 0, { setup, kernel }, undefined);
}

/** One simulation being made: its findings so far, then its steps from some step on. */
class Run {
  readonly found = new FoundDiagnostics();
  private readonly results: StepResult[] = [];
  readonly onStep = (step: StepResult): void => {
    this.results.push(step);
  };

  constructor(private readonly steps: readonly StepStatement[], private readonly syntax: Diagnostic[]) {}

  /** Resumes `previous` from its checkpoint before step `from`; the steps from `sameFrom` on are previous's last ones. */
  resume(previous: ResumableSimulation, from: number, sameFrom: number): ResumableSimulation {
    const cp = previous.checkpoints.get(from)!;
    const sim = copyGraph(cp.state, new Map<unknown, unknown>([[cp.found, this.found], [cp.onStep, this.onStep]]))!.copy;
    return this.simulate(sim, from, { setup: previous.setup, kernel: previous.result.kernel }, { previous, sameFrom });
  }

  /** Runs the steps from `from` to the end, or until the state meets previous's where the rest is the same. */
  simulate(
    sim: Simulation, from: number, { setup, kernel }: { setup: string; kernel: string }, reuse: { previous: ResumableSimulation; sameFrom: number } | undefined,
  ): ResumableSimulation {
    const { steps, found } = this;
    const previous = reuse?.previous;
    // What came before `from` is previous's.
    const kept = previous ? previous.foundBefore[from]! : 0;
    const setupFound = previous ? previous.setupFound : found.found.length;
    const foundBefore: number[] = previous ? previous.foundBefore.slice(0, from) : [];
    const checkpoints = new Map<number, Checkpoint>();
    if (previous) for (const [i, cp] of previous.checkpoints) if (i <= from) checkpoints.set(i, cp);
    let nextCopy = from + CHECKPOINT_EVERY;
    let retry = FIRST_RETRY;
    const shift = previous ? steps.length - previous.steps.length : 0;
    for (let i = from; i < steps.length; i++) {
      if (reuse && i >= reuse.sameFrom) {
        const old = reuse.previous.checkpoints.get(i - shift);
        if (old && sameGraph(sim, old.state, new Map<unknown, unknown>([[found, old.found], [this.onStep, old.onStep]]))) {
          return this.joined(reuse.previous, from, i, setup, foundBefore, checkpoints);
        }
      }
      if (i >= nextCopy) {
        const made = copyGraph(sim, new Map<unknown, unknown>([[found, found], [this.onStep, this.onStep]]));
        if (made) {
          checkpoints.set(i, { state: made.copy, found, onStep: this.onStep });
          nextCopy = i + Math.max(CHECKPOINT_EVERY, Math.ceil(made.size * STEPS_PER_COPIED_VALUE));
          retry = FIRST_RETRY;
        } else {
          nextCopy = i + retry;
          retry = Math.min(2 * retry, CHECKPOINT_EVERY);
        }
      }
      foundBefore.push(kept + found.found.length);
      sim.run(steps[i]!);
    }
    foundBefore.push(kept + found.found.length);
    sim.finish();
    const all = previous ? previous.found.slice(0, kept).concat(found.found) : found.found;
    const stepResults = previous ? previous.result.steps.slice(0, from).concat(this.results) : this.results;
    return {
      result: this.result({ kernel, initialInodes: sim.initialInodes, finalInodes: sim.inodeTable() }, all, setupFound, stepResults),
      setup, steps, found: all, setupFound, foundBefore, checkpoints,
    };
  }

  /**
   * The run once its state before step `at` equals previous's before step `at - shift`
   * and every step from there on is the same: previous's steps, diagnostics and
   * checkpoints from there on, moved along by the steps added or removed before.
   */
  private joined(
    previous: ResumableSimulation, from: number, at: number, setup: string, foundBefore: number[], checkpoints: Map<number, Checkpoint>,
  ): ResumableSimulation {
    const shift = this.steps.length - previous.steps.length;
    const kept = previous.foundBefore[from]!;
    const oldAt = at - shift;
    const resumeFound = previous.foundBefore[oldAt]!;
    const all = previous.found.slice(0, kept).concat(this.found.found, previous.found.slice(resumeFound));
    const moved = kept + this.found.found.length - resumeFound;
    for (let i = oldAt; i < previous.foundBefore.length; i++) foundBefore.push(previous.foundBefore[i]! + moved);
    for (const [i, cp] of previous.checkpoints) if (i >= oldAt) checkpoints.set(i + shift, cp);
    const steps = previous.result.steps.slice(0, from).concat(this.results, previous.result.steps.slice(oldAt));
    return {
      result: this.result(previous.result, all, previous.setupFound, steps),
      setup, steps: this.steps, found: all, setupFound: previous.setupFound, foundBefore, checkpoints,
    };
  }

  /** The result as simulate() gives it: every diagnostic, the syntax errors after the set-up's, in position order. */
  private result(
    base: Pick<SimulationResult, 'kernel' | 'initialInodes' | 'finalInodes'>, all: readonly Diagnostic[], setupFound: number, steps: StepResult[],
  ): SimulationResult {
    const list = new DiagnosticList(Infinity);
    for (let i = 0; i < setupFound; i++) list.push(all[i]!);
    for (const d of this.syntax) list.push(d);
    for (let i = setupFound; i < all.length; i++) list.push(all[i]!);
    return {
      kernel: base.kernel, initialInodes: base.initialInodes, finalInodes: base.finalInodes,
      diagnostics: list.sorted(), diagnosticCounts: list.counts, steps,
    };
  }
}
