// `fuselens check FILE...` and `fuselens simulate FILE`: the simulator on the
// command line, with compiler-style human output and the JSON of the contract.

import { parseOptions, UsageError, type CliIo, type Command } from './command';
import { simulateScenario } from '../scenario/simulate';
import { MAX_DIAGNOSTICS } from '../scenario/diagnostic-list';
import type { SimulationResult } from '../scenario/result';
import type { Diagnostic } from '../../protocol/scenario';
import { readScenarioText } from './input-file';
import { jsonText, termText } from './terminal-text';
import { columnWidths } from './text-table';

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

/** `--max-diagnostics N` (0: all), default MAX_DIAGNOSTICS. */
function maxDiagnostics(values: Map<string, string>): number {
  const given = values.get('--max-diagnostics');
  if (given === undefined) return MAX_DIAGNOSTICS;
  const n = Number(given);
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(n)) throw new UsageError(`--max-diagnostics wants a count (0 for all), not ${given}`);
  return n === 0 ? Infinity : n;
}

/** The last line of a file's diagnostics when some were not kept. */
function omittedText(file: string, result: SimulationResult): string | null {
  const c = result.diagnosticCounts;
  const omitted = c.error + c.warning + c.information - result.diagnostics.length;
  return omitted > 0 ? `${termText(file)}: ${omitted} more diagnostics not shown (--max-diagnostics N shows N, 0 all)` : null;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'report what the kernel would deny in scenario files',
  usage: `fuselens check FILE... [--json] [--kernel VERSION] [--max-diagnostics N (default ${MAX_DIAGNOSTICS}, 0 all)]`,
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
      const result = simulateScenario(text, { ...(kernel ? { kernel } : {}), maxDiagnostics: max });
      errors += result.diagnosticCounts.error;
      const omitted = omittedText(file, result);
      const all = result.diagnosticCounts.error + result.diagnosticCounts.warning + result.diagnosticCounts.information;
      files.push({ file, diagnostics: result.diagnostics.map(diagnosticJson), ...(omitted ? { omittedDiagnostics: all - result.diagnostics.length } : {}) });
      if (!flags.has('--json')) {
        io.stdout(result.diagnostics.map((d) => formatDiagnostic(file, d) + '\n').join(''));
        if (omitted) io.stdout(omitted + '\n');
      }
    }
    if (flags.has('--json')) io.stdout(jsonText({ files }));
    else if (errors === 0 && !unreadable) io.stderr(`${files.length} file${files.length === 1 ? '' : 's'} checked, no errors\n`);
    if (unreadable) return 2;
    return errors > 0 ? 1 : 0;
  },
};

export function simulationJson(result: SimulationResult) {
  return { kernel: result.kernel, steps: result.steps, diagnostics: result.diagnostics.map(diagnosticJson) };
}

/** One line per step: `LINE  PROCESS  ACTION TARGET  OUTCOME  inode=mode(ctr)...`. */
export function formatSteps(result: SimulationResult): string {
  const rows = result.steps.map((s) => {
    const outcome = s.outcome === 'blocks'
      ? `blocks → ${s.finalOutcome ?? 'never wakes'}${s.completedAt ? ` at line ${s.completedAt}` : ''}`
      : s.outcome + (s.reason && s.reason !== s.outcome ? ` (${s.reason})` : '');
    const inodes = Object.entries(s.inodes)
      .map(([name, i]) => `${termText(name)}=${i.mode}(${i.iocachectr}${i.backing ? `,${termText(i.backing)}` : ''})`)
      .join(' ');
    return [String(s.line), termText(s.process), `${s.action} ${termText(s.target)}`, outcome, inodes];
  });
  const widths = columnWidths(rows, 4);
  const header = `kernel ${result.kernel}\n`;
  return header + rows.map((r) => r.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]!) : cell)).join('  ').trimEnd() + '\n').join('');
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'show, step by step, what the kernel would do with a scenario',
  usage: 'fuselens simulate FILE [--json] [--kernel VERSION]',
  async run(args, io) {
    const { flags, values, operands } = parseOptions(args, { flags: ['--json'], values: ['--kernel'] });
    if (operands.length !== 1) throw new UsageError('give exactly one scenario file');
    const file = operands[0]!;
    const text = await readScenario(file, io);
    if (text === null) return 2;
    const kernel = values.get('--kernel');
    const json = flags.has('--json');
    // The JSON carries every diagnostic (docs/cli-json.md); the text on stderr the first MAX_DIAGNOSTICS.
    const result = simulateScenario(text, { ...(kernel ? { kernel } : {}), ...(json ? {} : { maxDiagnostics: MAX_DIAGNOSTICS }) });
    if (json) {
      io.stdout(jsonText(simulationJson(result)));
    } else {
      io.stdout(formatSteps(result));
      io.stderr(result.diagnostics.map((d) => formatDiagnostic(file, d) + '\n').join(''));
      const omitted = omittedText(file, result);
      if (omitted) io.stderr(omitted + '\n');
    }
    return 0;
  },
};
