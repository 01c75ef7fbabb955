// A simulation that an edit re-runs from near the edit, not from the first step
// (issue 14: a 100,000-line scenario re-diagnosed in milliseconds). Every so many
// steps the whole simulator state is copied (object-graph.ts: generically, so state
// that new statements add is covered); after an edit the simulation resumes from
// the last copy before the first changed step, and stops as soon as its state
// equals the old run's at a later copy with every statement from there on as it
// was: the old run's steps and diagnostics from there on are the new run's too.
// The language server's statements carry line ids, not line numbers
// (server/lsp/line-ids.ts), so lines inserted or deleted above a statement leave it,
// and what the simulation made of it, as they were.
// The result is exactly what simulate() gives from scratch
// (test/lsp/resume-property.test.ts).

import type { Statement, StepStatement, SyntaxError } from './ast';
import { ChunkedList } from './chunked-list';
import { DiagnosticList, sortByPosition } from './diagnostic-list';
import { FirstDiagnostics, type FoundPart } from './first-diagnostics';
import { copyGraph, sameGraph } from './object-graph';
import { readFirst } from './parse';
import type { Diagnostic, Severity, SimulationResult, StepResult } from './result';
import { startSimulation, syntaxDiagnostic, type SimulateOptions, type Simulation } from './simulate';
import { isStep } from './syntax';

/**
 * Steps between two copies of the state: an edit re-simulates up to twice this many
 * steps (from the copy before it to the first copy after it where the states meet).
 * A state grows with the names a scenario has used, so copies of one of more than
 * COPY_SIZE values are made proportionally further apart: copying then costs about
 * a tenth of simulating (bench/lsp.bench.ts prints how many copies were made).
 * 500 rather than 1,000: an `expect` edit of 100,000 lines simulates about 500 steps
 * (in process, 8 ms of CPU instead of 12.5), for 8 MB more of copies (bench/README.md).
 */
export const CHECKPOINT_EVERY = 500;
const COPY_SIZE = 10_000;

/**
 * The diagnostics a simulation finds, in the order found (a step's right after it ran), or
 * (`keep` false) only how many: the run again that makes a fresh run's checkpoints throws its
 * findings away, and its checkpoints hold its sink (as a state holds it), so that kept, its
 * 25,000 diagnostics stayed in memory as long as the checkpoints did.
 */
class FoundDiagnostics extends DiagnosticList {
  readonly found: Diagnostic[] = [];
  count = 0;

  constructor(private readonly keep = true) {
    super(Infinity);
  }

  override add(_start: unknown, _severity: unknown, make: () => Diagnostic): void {
    this.count++;
    if (this.keep) this.found.push(make());
  }
}

/** `counts` with the severities of `ds[from, to)` added (`sign` 1) or taken away (-1). */
function counted(counts: Readonly<Record<Severity, number>>, ds: readonly Diagnostic[] | ChunkedList<Diagnostic>, from: number, to: number, sign: 1 | -1): Record<Severity, number> {
  const out = { ...counts };
  const list = ds instanceof ChunkedList ? ds : ChunkedList.of(ds);
  list.forEach((d) => {
    out[d.severity] += sign;
  }, from, to);
  return out;
}

/** What a result holds besides its steps and diagnostics. */
type ResultHead = Pick<SimulationResult, 'kernel' | 'initialInodes' | 'finalInodes'>;

const NO_COUNTS: Readonly<Record<Severity, number>> = { error: 0, warning: 0, information: 0 };

/** The state before a step, and where its simulation sent its findings (not state: swapped on resuming). */
interface Checkpoint {
  state: Simulation;
  found: FoundDiagnostics;
  onStep: (step: StepResult) => void;
  /**
   * How many of the run's `found` were found before the step: a run resumes and meets the old
   * one only at checkpoints, so only there is this needed (an array of one number per step,
   * copied at each version, cost 2-4 ms of an edit's CPU: bench/README.md).
   */
  foundBefore: number;
}

/**
 * A simulation kept for resuming: its result and what the next version's run reuses. Its
 * lists are chunked (chunked-list.ts): a version shares with the one it resumed from every
 * chunk of steps, step results and diagnostics that its run did not change.
 */
export interface ResumableSimulation {
  /** As simulate() gives it: made (its arrays copied, its diagnostics sorted) when first asked for. */
  readonly result: SimulationResult;
  /** The first `max` of result.diagnostics, without sorting them all (the language server publishes 1,001 of 25,000). */
  firstDiagnostics(max: number): Diagnostic[];
  /** How many result.diagnostics has. */
  readonly diagnosticCount: number;
  /** Each step's result. */
  readonly stepResults: ChunkedList<StepResult>;
  /** The rest of the result. */
  readonly resultHead: ResultHead;
  /** The set-up: the kernel asked for and the statements read before the steps. Another set-up is simulated afresh. */
  readonly setup: string;
  readonly kernelAsked: string | null;
  /** The scenario's statements, and those of them that are steps. */
  readonly statements: ChunkedList<Statement>;
  readonly steps: ChunkedList<StepStatement>;
  /** Diagnostics in the order found: the set-up's (`setupFound` of them), each step's, the end's; syntax errors aside. */
  readonly found: ChunkedList<Diagnostic>;
  /** How many of `found` are of each severity (kept, not counted again: counting 25,000 diagnostics reads each one). */
  readonly foundCounts: Readonly<Record<Severity, number>>;
  readonly setupFound: number;
  /** The first diagnostics picked, shared by the versions resumed from this one (first-diagnostics.ts). */
  readonly picked: FirstDiagnostics;
  /** How many steps this version simulated (the others were reused). */
  readonly simulated: number;
  /** The state before step i, for some i (of a fresh run's, those made so far: see checkpointsUntil). */
  readonly checkpoints: ReadonlyMap<number, Checkpoint>;
  /**
   * Makes the checkpoints a fresh run left for later until `deadline` (a performance.now()
   * time): true once all are made. A fresh run with `deferCheckpoints` copies no state: its
   * diagnostics come first (issue 14: the first diagnostics of 100,000 lines within a
   * second, of which the copies were a third), and the copies are made by simulating the
   * same steps again, in slices after the diagnostics are published or before the next
   * version resumes from them.
   */
  checkpointsUntil(deadline: number): boolean;
}

/**
 * A parse as the language server keeps it from version to version (server/lsp/incremental-parse.ts):
 * its statements chunked, so that a version shares the chunks of the unchanged lines' statements.
 */
export interface ChunkedScenario {
  statements: ChunkedList<Statement>;
  errors: ChunkedList<SyntaxError>;
  lineCount: number;
}

/** Whether two statements are the same, lines included (the incremental parse keeps unchanged ones as they were). */
function sameStatement(a: StepStatement, b: StepStatement): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Simulates `scenario` as simulate() does, from `previous` (the run of an earlier
 * version of the same document) where it can.
 */
export function simulateResumable(
  scenario: ChunkedScenario, options: SimulateOptions, previous?: ResumableSimulation, checkpointEvery = CHECKPOINT_EVERY, deferCheckpoints = false,
): ResumableSimulation {
  return startResumable(scenario, options, previous, checkpointEvery, deferCheckpoints).runUntil(Infinity)!;
}

/** A simulation under way, run in slices so that a long one leaves the server free in between. */
export interface SimulationJob {
  /** Runs steps until `deadline` (a performance.now() time) or the end: the simulation when done. */
  runUntil(deadline: number): ResumableSimulation | undefined;
}

/**
 * simulateResumable, to be run in slices. `checkpointEvery`: the least number of steps between two copies of the state;
 * `deferCheckpoints`: a fresh run makes them later (ResumableSimulation.checkpointsUntil).
 * Only statements that are the same, lines included, are reused.
 */
export function startResumable(
  scenario: ChunkedScenario, options: SimulateOptions, previous?: ResumableSimulation, checkpointEvery = CHECKPOINT_EVERY, deferCheckpoints = false,
): SimulationJob {
  const kernelAsked = options.kernel ?? null;
  const split = (previous && previous.kernelAsked === kernelAsked && splitFrom(previous, scenario.statements)) || splitAfresh(scenario.statements, kernelAsked);
  const syntax = scenario.errors.slice().map(syntaxDiagnostic);
  const head = { setup: split.setup, kernelAsked, statements: scenario.statements, checkpointEvery };
  const fresh = () => new Run(split.steps, syntax, { ...head, kernel: '' }, {
    declarations: split.declarations ?? splitAfresh(scenario.statements, kernelAsked).declarations!, options, deferCheckpoints,
  });
  if (previous?.setup !== split.setup) return fresh();
  // The run resumes from previous's checkpoints: those it left for later are made first.
  let job: SimulationJob | undefined;
  return {
    runUntil(deadline) {
      if (!job && !previous.checkpointsUntil(deadline)) return undefined;
      job ??= resumed(previous, split.steps, syntax, head) ?? fresh();
      return job.runUntil(deadline);
    },
  };
}

/** A run of `steps` resumed from `previous`'s last checkpoint before the first changed step (undefined: none). */
function resumed(
  previous: ResumableSimulation, steps: ChunkedList<StepStatement>, syntax: Diagnostic[],
  head: { setup: string; kernelAsked: string | null; statements: ChunkedList<Statement>; checkpointEvery: number },
): Run | undefined {
  const n1 = steps.length;
  const same = previous.steps.sameHead(steps, sameStatement);
  const tail = previous.steps.sameTail(steps, sameStatement);
  // The latest copy before the first changed step.
  let from = -1;
  for (const i of previous.checkpoints.keys()) if (i <= same && i > from) from = i;
  if (from >= 0) {
    const cp = previous.checkpoints.get(from)!;
    const found = new FoundDiagnostics();
    const results: StepResult[] = [];
    const onStep = (step: StepResult): void => {
      results.push(step);
    };
    const copied = copyGraph(cp.state, new Map<unknown, unknown>([[cp.found, found], [cp.onStep, onStep]]));
    // Checkpoints are only made of states that can be copied.
    if (copied) return new Run(steps, syntax, { ...head, kernel: previous.resultHead.kernel }, { previous, from, sameFrom: n1 - tail, sim: copied.copy, found, results, onStep });
  }
  return undefined;
}

interface Split {
  steps: ChunkedList<StepStatement>;
  /** The kernel asked for and the statements read before the steps: what the set-up depends on. */
  setup: string;
  /** Undefined when taken from the previous run (the same as its). */
  declarations?: Statement[];
}

/** scenarioSource's split of the statements into declarations and steps, in one pass. */
function splitAfresh(statements: ChunkedList<Statement>, kernelAsked: string | null): Split {
  const declarations: Statement[] = [];
  const steps: StepStatement[] = [];
  statements.forEach((s) => {
    if (isStep(s)) steps.push(s);
    if (readFirst(s)) declarations.push(s);
  });
  return { steps: ChunkedList.of(steps), declarations, setup: JSON.stringify([kernelAsked, declarations]) };
}

/**
 * The split of `statements` from the previous run's, when only statements that are
 * neither declarations nor read first changed: the unchanged ones at both ends are the
 * same objects (the incremental parse keeps them), so only those between are looked at.
 * Undefined when the set-up may have changed.
 */
function splitFrom(previous: ResumableSimulation, statements: ChunkedList<Statement>): Split | undefined {
  const old = previous.statements;
  const identical = (a: Statement, b: Statement) => a === b;
  const head = old.sameHead(statements, identical);
  const tail = Math.min(old.sameTail(statements, identical), Math.min(old.length, statements.length) - head);
  const changedOld = old.slice(head, old.length - tail);
  const changedNew = statements.slice(head, statements.length - tail);
  if (changedOld.some(readFirst) || changedNew.some(readFirst)) return undefined;
  // The steps are in line order: those of the unchanged ends found by their lines.
  const before = head < old.length ? onLinesBefore(previous.steps, old.at(head).line) : previous.steps.length;
  const after = tail > 0 ? onLinesBefore(previous.steps, old.at(old.length - tail).line) : previous.steps.length;
  const steps = previous.steps.replaced(before, after, changedNew.filter(isStep));
  return { steps, setup: previous.setup };
}

/** How many of `statements` (in line order) are on lines before `line`. */
function onLinesBefore(statements: ChunkedList<Statement>, line: number): number {
  let lo = 0;
  let hi = statements.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (statements.at(mid).line < line) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A resumed run's start: the copy of a previous checkpoint, and where its steps and diagnostics go. */
interface Resumed {
  previous: ResumableSimulation;
  from: number;
  sameFrom: number;
  sim: Simulation;
  found: FoundDiagnostics;
  results: StepResult[];
  onStep: (step: StepResult) => void;
}

/** A fresh run's start: the set-up, and whether its checkpoints are made later (or into whose map, when this run makes them). */
interface Fresh {
  declarations: Statement[];
  options: SimulateOptions;
  deferCheckpoints?: boolean;
  into?: Map<number, Checkpoint>;
}

/** One simulation being made: from the first step, or resumed from a checkpoint of an earlier run. */
class Run implements SimulationJob {
  private readonly found: FoundDiagnostics;
  private readonly results: StepResult[];
  private readonly onStep: (step: StepResult) => void;
  private readonly sim: Simulation;
  private readonly setup: string;
  private readonly kernelAsked: string | null;
  private readonly statements: ChunkedList<Statement>;
  private readonly kernel: string;
  /** How many diagnostics the set-up found. */
  private readonly setupFound: number;
  private readonly previous: ResumableSimulation | undefined;
  /** The step resumed from: what came before it is previous's. */
  private readonly from: number;
  /** From this step on, every step is previous's (moved by `shift`). */
  private readonly sameFrom: number;
  private readonly shift: number;
  /** How many of previous's diagnostics came before `from`. */
  private readonly kept: number;
  private readonly checkpoints: Map<number, Checkpoint>;
  /** A fresh run that copies no state: the run again that makes its checkpoints. */
  private readonly again: (() => Run) | undefined;
  private readonly every: number;
  private next: number;
  private nextCopy: number;
  private retry = 1;
  private simulated = 0;
  /** The step before which the state met previous's, once it has. */
  private met: number | undefined;
  private done: ResumableSimulation | undefined;

  constructor(
    private readonly steps: ChunkedList<StepStatement>, private readonly syntax: Diagnostic[],
    head: { setup: string; kernelAsked: string | null; statements: ChunkedList<Statement>; kernel: string; checkpointEvery: number },
    start: Resumed | Fresh,
  ) {
    this.setup = head.setup;
    this.checkpoints = ('into' in start && start.into) || new Map();
    this.kernelAsked = head.kernelAsked;
    this.statements = head.statements;
    if ('previous' in start) {
      const { previous, from } = start;
      this.found = start.found;
      this.results = start.results;
      this.onStep = start.onStep;
      this.sim = start.sim;
      this.kernel = head.kernel;
      this.previous = previous;
      this.from = from;
      this.sameFrom = start.sameFrom;
      this.shift = steps.length - previous.steps.length;
      this.kept = previous.checkpoints.get(from)!.foundBefore;
      this.setupFound = previous.setupFound;
      for (const [i, c] of previous.checkpoints) if (i <= from) this.checkpoints.set(i, c);
    } else {
      // A run that only makes checkpoints (`into`) keeps neither its diagnostics nor its steps' results (as FoundDiagnostics says).
      const keep = !('into' in start && start.into);
      this.found = new FoundDiagnostics(keep);
      const results: StepResult[] = [];
      this.results = results;
      this.onStep = (step) => {
        if (keep) results.push(step);
      };
      const started = startSimulation(start.declarations, start.options, this.found, this.onStep);
      this.sim = started.sim;
      this.kernel = started.kernel;
      this.previous = undefined;
      this.from = 0;
      this.sameFrom = Infinity;
      this.shift = 0;
      this.kept = 0;
      this.setupFound = this.found.found.length;
      const checkpoints = this.checkpoints;
      if (start.deferCheckpoints) this.again = () => new Run(steps, syntax, head, { declarations: start.declarations, options: start.options, into: checkpoints });
    }
    this.every = head.checkpointEvery;
    this.next = this.from;
    // A fresh run copies its state before the first step too, so that an edit anywhere can resume
    // (unless it leaves its copies to a run again). A resumed one first where the old run made its
    // next copy (moved by the steps added or removed): there it may meet the old run, and a copy
    // made before would cost as much as the steps simulated (copies of a large state are far apart).
    this.nextCopy = this.again ? Infinity : 0;
    if (this.previous) {
      let oldNext = Infinity;
      for (const k of this.previous.checkpoints.keys()) if (k > this.from && k < oldNext) oldNext = k;
      this.nextCopy = oldNext === Infinity ? this.from + this.every : Math.max(this.from + 1, oldNext + this.shift);
    }
  }

  /** Runs the steps to the end, or until the state meets previous's where the rest is the same. */
  runUntil(deadline: number): ResumableSimulation | undefined {
    return (this.done ??= this.run(deadline));
  }

  /** Runs steps until `deadline`: true once all have run, or the state met previous's (before step `met`). */
  private stepsUntil(deadline: number): boolean {
    const { steps, found, sim, previous } = this;
    for (let i = this.next; i < steps.length; i++) {
      if ((i & 255) === 0 && i > this.next && performance.now() > deadline) {
        this.next = i;
        return false;
      }
      if (previous && i >= this.sameFrom) {
        const old = previous.checkpoints.get(i - this.shift);
        if (old && sameGraph(sim, old.state, new Map<unknown, unknown>([[found, old.found], [this.onStep, old.onStep]]))) {
          this.met = i;
          return true;
        }
      }
      if (i >= this.nextCopy) this.checkpoint(i);
      sim.run(steps.at(i));
      this.simulated++;
    }
    this.next = steps.length;
    return true;
  }

  private run(deadline: number): ResumableSimulation | undefined {
    if (!this.stepsUntil(deadline)) return undefined;
    const { found, sim, previous } = this;
    if (previous && this.met !== undefined) return this.joined(previous, this.met);
    sim.finish();
    const all = previous ? previous.found.replaced(this.kept, previous.found.length, found.found) : ChunkedList.of(found.found);
    const stepResults = previous ? previous.stepResults.replaced(this.from, previous.stepResults.length, this.results) : ChunkedList.of(this.results);
    const counts = previous
      ? counted(counted(previous.foundCounts, previous.found, this.kept, previous.found.length, -1), found.found, 0, found.found.length, 1)
      : counted(NO_COUNTS, found.found, 0, found.found.length, 1);
    return this.made({ kernel: this.kernel, initialInodes: sim.initialInodes, finalInodes: sim.inodeTable() }, all, counts, stepResults);
  }

  /**
   * Copies the state before step `i`. One that cannot be copied now (a call asleep holds
   * its continuation) is tried again 1, 2, 4... steps later, up to the spacing.
   */
  private checkpoint(i: number): void {
    const made = copyGraph(this.sim, new Map<unknown, unknown>([[this.found, this.found], [this.onStep, this.onStep]]));
    if (made) {
      this.checkpoints.set(i, { state: made.copy, found: this.found, onStep: this.onStep, foundBefore: this.kept + this.found.count });
      this.nextCopy = i + Math.ceil(this.every * Math.max(1, made.size / COPY_SIZE));
      this.retry = 1;
    } else {
      this.nextCopy = i + this.retry;
      this.retry = Math.min(2 * this.retry, this.every);
    }
  }

  /**
   * The run once its state before step `at` equals previous's before step `at - shift`
   * and every step from there on is the same: previous's steps, diagnostics and
   * checkpoints from there on, moved along by the steps added or removed before.
   */
  private joined(previous: ResumableSimulation, at: number): ResumableSimulation {
    const oldAt = at - this.shift;
    const resumeFound = previous.checkpoints.get(oldAt)!.foundBefore;
    const all = previous.found.replaced(this.kept, resumeFound, this.found.found);
    const counts = counted(counted(previous.foundCounts, previous.found, this.kept, resumeFound, -1), this.found.found, 0, this.found.found.length, 1);
    const moved = this.kept + this.found.found.length - resumeFound;
    for (const [i, cp] of previous.checkpoints) if (i >= oldAt) this.checkpoints.set(i + this.shift, moved === 0 ? cp : { ...cp, foundBefore: cp.foundBefore + moved });
    this.next = this.steps.length;
    return this.made(previous.resultHead, all, counts, previous.stepResults.replaced(this.from, oldAt, this.results));
  }

  /** checkpointsUntil: the run again that makes the checkpoints, dropped once they are made. */
  private checkpointsLater(): (deadline: number) => boolean {
    let again = this.again;
    if (!again) return () => true;
    let run: Run | undefined;
    return (deadline) => {
      if (!again) return true;
      run ??= again();
      if (!run.stepsUntil(deadline)) return false;
      again = undefined;
      run = undefined;
      return true;
    };
  }

  private made(
    base: ResultHead, all: ChunkedList<Diagnostic>, foundCounts: Record<Severity, number>, stepResults: ChunkedList<StepResult>,
  ): ResumableSimulation {
    const { setupFound, syntax } = this;
    const picked = this.previous?.picked ?? new FirstDiagnostics();
    /** Every diagnostic in the order found, the syntax errors after the set-up's (as simulate() gathers them). */
    const eachFound = (f: (d: Diagnostic) => void): void => {
      all.forEach(f, 0, setupFound);
      for (const d of syntax) f(d);
      all.forEach(f, setupFound);
    };
    let result: SimulationResult | undefined;
    return {
      get result() {
        if (result) return result;
        const diagnostics: Diagnostic[] = [];
        eachFound((d) => diagnostics.push(d));
        // DiagnosticList's order without its bookkeeping: nothing is dropped here, and the order found is nearly sorted.
        sortByPosition(diagnostics);
        const counts = counted(foundCounts, syntax, 0, syntax.length, 1);
        return (result = { ...base, diagnostics, diagnosticCounts: counts, steps: stepResults.slice() });
      },
      firstDiagnostics(max) {
        if (result) return result.diagnostics.slice(0, max);
        // The same order as the sort of all of them (DiagnosticList keeps the first `max` of a stable sort).
        const parts: FoundPart[] = [];
        const part = (chunk: readonly Diagnostic[], from: number, to: number) => {
          parts.push([chunk, from, to]);
        };
        all.forEachChunk(part, 0, setupFound);
        if (syntax.length > 0) part(syntax, 0, syntax.length);
        all.forEachChunk(part, setupFound);
        return picked.of(max, parts);
      },
      diagnosticCount: all.length + syntax.length,
      resultHead: base, stepResults,
      setup: this.setup, kernelAsked: this.kernelAsked, statements: this.statements, steps: this.steps, found: all, foundCounts, setupFound, picked,
      simulated: this.simulated, checkpoints: this.checkpoints, checkpointsUntil: this.checkpointsLater(),
    };
  }
}
