// `fuselens check FILE...` and `fuselens simulate FILE`: the simulator on the
// command line, with compiler-style human output and the JSON of the contract.
// Both read the scenario as they go (parse.ts streamScenario) and write each
// step as it is final, so a million-step scenario takes the memory of its names
// and of the diagnostics kept, not of its steps (issue 14).

import { parseOptions, UsageError, type CliIo, type Command } from './command';
import { simulateSource, type SimulateOptions } from '../scenario/simulate';
import { streamScenario } from '../scenario/parse';
import { MAX_DIAGNOSTICS } from '../scenario/diagnostic-list';
import type { InodeSnapshot, SimulationSummary, StepResult } from '../scenario/result';
import type { Diagnostic } from '../../protocol/scenario';
import { readScenarioText } from './input-file';
import { jsonInert, jsonText, termText } from './terminal-text';
import { ChunkedOutput, decimalLength } from './chunked-output';

/** Diagnostics as `check --json` and `simulate --json` print them: 1-based line and column. */
export function diagnosticJson(d: Diagnostic) {
  return {
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    endLine: d.range.end.line + 1,
    endColumn: d.range.end.character + 1,
    severity: d.severity,
    code: d.code,
    message: d.message,
  };
}

/** `FILE:LINE:COL: severity code: message`; the message quotes scenario text, so both are escaped. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${termText(file)}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} ${d.code}: ${termText(d.message)}`;
}

/** A scenario file's text (`-` reads stdin), or null after saying on stderr why it cannot be read. */
export async function readScenario(file: string, io: CliIo): Promise<string | null> {
  const read = await readScenarioText(file);
  if ('text' in read) return read.text;
  io.stderr(`fuselens: ${read.problem}\n`);
  return null;
}

const MAX_DIAGNOSTICS_USAGE = `[--max-diagnostics N (default ${MAX_DIAGNOSTICS}, 0 all)]`;

/** `--max-diagnostics N` (0: all), default MAX_DIAGNOSTICS. */
function maxDiagnostics(values: Map<string, string>): number {
  const given = values.get('--max-diagnostics');
  if (given === undefined) return MAX_DIAGNOSTICS;
  const n = Number(given);
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(n)) throw new UsageError(`--max-diagnostics wants a count (0 for all), not ${given}`);
  return n === 0 ? Infinity : n;
}

/** How many diagnostics the simulation found and did not keep. */
function omittedCount(result: SimulationSummary): number {
  const c = result.diagnosticCounts;
  return c.error + c.warning + c.information - result.diagnostics.length;
}

/** The last line of a file's diagnostics when some were not kept. */
function omittedText(file: string, omitted: number): string {
  return `${termText(file)}: ${omitted} more diagnostics not shown (--max-diagnostics N shows N, 0 all)`;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'report what the kernel would deny in scenario files',
  usage: `fuselens check FILE... [--json] [--kernel VERSION] ${MAX_DIAGNOSTICS_USAGE}`,
  async run(args, io) {
    const { flags, values, operands } = parseOptions(args, { flags: ['--json'], values: ['--kernel', '--max-diagnostics'] });
    if (operands.length === 0) throw new UsageError('no scenario file given');
    const kernel = values.get('--kernel');
    const max = maxDiagnostics(values);
    const files: { file: string; diagnostics: ReturnType<typeof diagnosticJson>[]; omittedDiagnostics?: number }[] = [];
    let unreadable = false;
    let errors = 0;
    for (const file of operands) {
      const text = await readScenario(file, io);
      if (text === null) {
        unreadable = true;
        continue;
      }
      const result = simulateSource(streamScenario(text), { ...(kernel ? { kernel } : {}), maxDiagnostics: max }, { step: () => {} });
      errors += result.diagnosticCounts.error;
      const omitted = omittedCount(result);
      files.push({ file, diagnostics: result.diagnostics.map(diagnosticJson), ...(omitted > 0 ? { omittedDiagnostics: omitted } : {}) });
      if (!flags.has('--json')) {
        io.stdout(result.diagnostics.map((d) => formatDiagnostic(file, d) + '\n').join(''));
        if (omitted > 0) io.stdout(omittedText(file, omitted) + '\n');
      }
    }
    if (flags.has('--json')) io.stdout(jsonText({ files }));
    else if (errors === 0 && !unreadable) io.stderr(`${files.length} file${files.length === 1 ? '' : 's'} checked, no errors\n`);
    if (unreadable) return 2;
    return errors > 0 ? 1 : 0;
  },
};

/** The version of the `simulate --json` shape (docs/cli-json.md): 2 since a step carries only the inodes it changed. */
export const SIMULATE_JSON_VERSION = 2;

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'show, step by step, what the kernel would do with a scenario',
  usage: `fuselens simulate FILE [--json] [--kernel VERSION] ${MAX_DIAGNOSTICS_USAGE}`,
  async run(args, io) {
    const { flags, values, operands } = parseOptions(args, { flags: ['--json'], values: ['--kernel', '--max-diagnostics'] });
    if (operands.length !== 1) throw new UsageError('give exactly one scenario file');
    const file = operands[0]!;
    const max = maxDiagnostics(values);
    const text = await readScenario(file, io);
    if (text === null) return 2;
    const kernel = values.get('--kernel');
    const options: SimulateOptions = { ...(kernel ? { kernel } : {}), maxDiagnostics: max };
    const sink = io.stdoutBytes ?? ((bytes: Uint8Array) => io.stdout(new TextDecoder().decode(bytes)));
    const out = new ChunkedOutput(sink, flags.has('--json') ? jsonInert : undefined);
    const result = flags.has('--json') ? writeJson(text, options, out) : writeTable(text, options, out);
    out.flush();
    if (!flags.has('--json')) {
      io.stderr(result.diagnostics.map((d) => formatDiagnostic(file, d) + '\n').join(''));
      const omitted = omittedCount(result);
      if (omitted > 0) io.stderr(omittedText(file, omitted) + '\n');
    }
    return 0;
  },
};

/**
 * `simulate --json`: one document, written as it goes (docs/cli-json.md): the head, one
 * step per line as each is final, then what only the end knows. Each value is one line of
 * JSON.stringify's text (out.writeJson), its C1 and bidi controls left to the output's
 * chunks (jsonInert).
 */
function writeJson(text: string, options: SimulateOptions, out: ChunkedOutput): SimulationSummary {
  let steps = 0;
  const result = simulateSource(streamScenario(text), options, {
    start: (head) => {
      out.append(`{"version":${SIMULATE_JSON_VERSION},"kernel":`);
      out.writeJson(head.kernel);
      out.append(',\n"initialInodes":');
      out.writeJson(head.initialInodes);
      out.append(',\n"steps":[');
    },
    step: (step) => {
      out.append(steps++ === 0 ? '\n' : ',\n');
      writeStepJson(out, step);
    },
  });
  out.append(`${steps > 0 ? '\n' : ''}],\n"finalInodes":`);
  out.writeJson(result.finalInodes);
  out.append(',\n"diagnostics":[');
  result.diagnostics.forEach((d, i) => {
    out.append(i === 0 ? '\n' : ',\n');
    out.writeJson(diagnosticJson(d));
  });
  const omitted = omittedCount(result);
  out.write(`${result.diagnostics.length > 0 ? '\n' : ''}]${omitted > 0 ? `,\n"omittedDiagnostics":${omitted}` : ''}}\n`);
  return result;
}

/** A step's fields that, when set, send it to writeJson (writeStepJson tests each). */
type OptionalStepField = 'reason' | 'rule' | 'completedAt' | 'finalOutcome';

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
  if (s.reason !== undefined || s.rule !== undefined || s.completedAt !== undefined || s.finalOutcome !== undefined) return out.writeJson(s);
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
class StepTable {
  private held: StepResult[] | null = [];
  private lineWidth = 0;
  private processWidth = 0;
  private actionWidth = 0;
  private outcomeWidth = 0;

  constructor(private readonly out: ChunkedOutput) {}

  add(step: StepResult): void {
    if (!this.held) return this.write(step);
    this.held.push(step);
    if (this.held.length >= WIDTH_ROWS) this.flush();
  }

  /** Writes the steps still held. */
  flush(): void {
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

/** `simulate`: `kernel VERSION`, then one row per step as each is final. */
function writeTable(text: string, options: SimulateOptions, out: ChunkedOutput): SimulationSummary {
  const table = new StepTable(out);
  const result = simulateSource(streamScenario(text), options, {
    start: (head) => out.write(`kernel ${head.kernel}\n`),
    step: (step) => table.add(step),
  });
  table.flush();
  return result;
}
