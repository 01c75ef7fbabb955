// The steps of `fuselens simulate` as text: its table's rows, or the step lines of its
// `--json` document (docs/cli-json.md). Written into a ChunkedOutput.

import type { InodeSnapshot, StepResult } from '../scenario/result';
import { termText } from './terminal-text';
import { ChunkedOutput, decimalLength } from './chunked-output';

/** Where `simulate` writes each step as it is final. */
export interface StepWriter {
  add(step: StepResult): void;
  /** After the last step: writes what is still held. */
  end(): void;
}

/** The two forms of `simulate`'s steps. */
export type StepFormat = 'table' | 'json';

export function stepWriter(format: StepFormat, out: ChunkedOutput): StepWriter {
  return format === 'json' ? new JsonSteps(out) : new StepTable(out);
}

/** `--json`'s steps array, one step a line, without its brackets (the command writes those and knows whether any step came). */
class JsonSteps implements StepWriter {
  private first = true;

  constructor(private readonly out: ChunkedOutput) {}

  add(step: StepResult): void {
    this.out.append(this.first ? '\n' : ',\n');
    this.first = false;
    writeStepJson(this.out, step);
  }

  end(): void {}
}

/** The fields a step may lack, in no particular order: when one is set, the step goes to writeJson, which keeps the order the step has them in. */
const OPTIONAL_STEP_FIELDS = ['reason', 'rule', 'completedAt', 'finalOutcome'] as const;
type OptionalStepField = (typeof OPTIONAL_STEP_FIELDS)[number];

/** Whether a step has any of its optional fields (tested by name: most steps have none). */
function hasOptionalField(s: StepResult): boolean {
  return s.reason !== undefined || s.rule !== undefined || s.completedAt !== undefined || s.finalOutcome !== undefined;
}

/**
 * The ASCII bytes of a step's JSON keys, made once (ChunkedOutput.literal: no check per character): one for each
 * other field of a step and each field of an inode's state. A field added to either type and in neither list does
 * not compile here, rather than being left out of --json.
 */
const key = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const STEP_KEYS = {
  line: key('{"line":'), process: key(',"process":'), action: key(',"action":'), target: key(',"target":'), outcome: key(',"outcome":'),
  inodes: key(',"inodes":{'), mode: key(':{"mode":'), iocachectr: key(',"iocachectr":'), backing: key(',"backing":'),
} satisfies Record<Exclude<keyof StepResult, OptionalStepField> | keyof InodeSnapshot, Uint8Array>;

/**
 * A step's JSON, byte for byte what out.writeJson(step) writes: the six fields every step has,
 * read by name, their keys copied as bytes made once (writeJson's for…in, keyed loads and keys
 * checked for escapes took 497 ms of CPU for a million steps, this 464). A step with an optional field
 * (a denial's reason and rule, a wake-up) goes through writeJson, whose for…in keeps the order
 * in which the simulator added them.
 */
function writeStepJson(out: ChunkedOutput, s: StepResult): void {
  if (hasOptionalField(s)) return out.writeJson(s);
  const k = STEP_KEYS;
  out.literal(k.line);
  out.jsonNumber(s.line);
  out.literal(k.process);
  out.jsonString(s.process);
  out.literal(k.action);
  out.jsonString(s.action);
  out.literal(k.target);
  out.jsonString(s.target);
  out.literal(k.outcome);
  out.jsonString(s.outcome);
  out.literal(k.inodes);
  let first = true;
  for (const name in s.inodes) {
    const i = s.inodes[name]!;
    if (!first) out.append(',');
    first = false;
    out.jsonString(name);
    out.literal(k.mode);
    out.jsonString(i.mode);
    out.literal(k.iocachectr);
    out.jsonNumber(i.iocachectr);
    out.literal(k.backing);
    if (i.backing === null) out.append('null');
    else out.jsonString(i.backing);
    out.append('}');
  }
  out.write('}}');
}

/** The OUTCOME cell: the outcome itself, but for a blocked step and one whose kernel errno differs. */
function outcomeCell(s: StepResult): string {
  return s.outcome === 'blocks'
    ? `blocks → ${s.finalOutcome ?? 'never wakes'}${s.completedAt ? ` at line ${s.completedAt}` : ''}`
    : s.reason && s.reason !== s.outcome ? `${s.outcome} (${s.reason})` : s.outcome;
}

/** The rows that set the table's column widths; later rows are written in those widths (a wider cell pushes the rest of its row). */
const WIDTH_ROWS = 1000;

/**
 * `simulate`'s table as the steps come: a row per step, LINE, PROCESS, ACTION TARGET and
 * OUTCOME, then the inodes the step changed, as `name=mode(ctr[,backing])` each. The first
 * WIDTH_ROWS steps are held to measure the columns (a shorter scenario's table is aligned
 * throughout), later ones written at once, so a million steps take the memory of a thousand
 * (a step handed on is final: holding it changes nothing of its row). A row is written piece
 * by piece into the output, straight from its step: no row object, and no cell joined into a
 * string of its own (the last column is not padded, and the others' widths are the sums of
 * their pieces).
 */
class StepTable implements StepWriter {
  private held: StepResult[] | null = [];
  private lineWidth = 0;
  private processWidth = 0;
  private actionWidth = 0;
  private outcomeWidth = 0;

  constructor(private readonly out: ChunkedOutput) {}

  add(step: StepResult): void {
    if (!this.held) return this.write(step);
    this.held.push(step);
    if (this.held.length >= WIDTH_ROWS) this.end();
  }

  /** Writes the steps still held. */
  end(): void {
    if (!this.held) return;
    for (const s of this.held) {
      this.lineWidth = Math.max(this.lineWidth, decimalLength(s.line));
      this.processWidth = Math.max(this.processWidth, termText(s.process).length);
      this.actionWidth = Math.max(this.actionWidth, s.action.length + 1 + termText(s.target).length);
      this.outcomeWidth = Math.max(this.outcomeWidth, outcomeCell(s).length);
    }
    const steps = this.held;
    this.held = null;
    for (const s of steps) this.write(s);
  }

  /** The step's row padded to the widths, two spaces between columns, no blanks at its end (as trimEnd). */
  private write(s: StepResult): void {
    const out = this.out;
    const start = out.position;
    const process = termText(s.process);
    const target = termText(s.target);
    const outcome = outcomeCell(s);
    out.number(s.line);
    out.spaces(Math.max(0, this.lineWidth - decimalLength(s.line)) + 2);
    out.append(process);
    out.spaces(Math.max(0, this.processWidth - process.length) + 2);
    out.append(s.action);
    out.append(' ');
    out.append(target);
    out.spaces(Math.max(0, this.actionWidth - (s.action.length + 1 + target.length)) + 2);
    out.append(outcome);
    let first = true;
    for (const name in s.inodes) {
      const i = s.inodes[name]!;
      // The padding only before the inodes: trimEnd would take it off a row without them.
      if (first) out.spaces(Math.max(0, this.outcomeWidth - outcome.length) + 2);
      else out.append(' ');
      first = false;
      out.append(termText(name));
      out.append('=');
      out.append(i.mode);
      out.append('(');
      out.number(i.iocachectr);
      if (i.backing) {
        out.append(',');
        out.append(termText(i.backing));
      }
      out.append(')');
    }
    // A row that ends in `)` has no blanks at its end; one without inodes may (a cell's own).
    if (first) out.trimEnd(start);
    out.write('\n');
  }
}

