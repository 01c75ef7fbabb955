// `fuselens check FILE...` and `fuselens simulate FILE`: the simulator on the
// command line, with compiler-style human output and the JSON of the contract.
// Both read the scenario as they go (parse.ts streamScenario) and write each
// step as it is final, so a million-step scenario takes the memory of its names
// and of the diagnostics kept, not of its steps (issue 14).

import { parseOptions, UsageError, type CliIo, type Command } from './command';
import { simulateSource, type SimulateOptions } from '../scenario/simulate';
import { streamScenario } from '../scenario/parse';
import { MAX_DIAGNOSTICS } from '../scenario/diagnostic-list';
import type { SimulationSummary } from '../scenario/result';
import type { Diagnostic } from '../../protocol/scenario';
import { readScenarioText } from './input-file';
import { jsonInert, jsonText, termText } from './terminal-text';
import { ChunkedOutput } from './chunked-output';
import { stepWriter, type StepFormat } from './step-output';

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
    const format: StepFormat = flags.has('--json') ? 'json' : 'table';
    const out = new ChunkedOutput(sink, format === 'json' ? jsonInert : undefined);
    const result = writeSimulation(text, options, format, out);
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
 * `simulate`'s output as it goes: the head (`kernel VERSION`, or the --json document's),
 * each step as it is final, then the end of the --json document, which only the end of
 * the simulation knows. The JSON's
 * values are each one line of JSON.stringify's text (out.writeJson, step-output.ts), its
 * C1 and bidi controls left to the output's chunks (jsonInert).
 */
function writeSimulation(text: string, options: SimulateOptions, format: StepFormat, out: ChunkedOutput): SimulationSummary {
  const steps = stepWriter(format, out);
  let count = 0;
  const result = simulateSource(streamScenario(text), options, {
    start: (head) => {
      if (format === 'table') out.write(`kernel ${head.kernel}\n`);
      else {
        out.append(`{"version":${SIMULATE_JSON_VERSION},"kernel":`);
        out.writeJson(head.kernel);
        out.append(',\n"initialInodes":');
        out.writeJson(head.initialInodes);
        out.append(',\n"steps":[');
      }
    },
    step: (step) => {
      count++;
      steps.add(step);
    },
  });
  steps.end();
  if (format === 'table') return result;
  out.append(`${count > 0 ? '\n' : ''}],\n"finalInodes":`);
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
