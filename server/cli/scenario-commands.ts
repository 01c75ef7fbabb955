// `fuselens check FILE...` and `fuselens simulate FILE`: the simulator on the
// command line, with compiler-style human output and the JSON of the contract.

import { readFile } from 'node:fs/promises';
import { parseOptions, UsageError, type CliIo, type Command } from './command';
import { simulateScenario } from '../scenario/simulate';
import type { Diagnostic, SimulationResult } from '../../protocol/scenario';

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

export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} ${d.code}: ${d.message}`;
}

/** A scenario file's text (`-` reads stdin), or null after saying on stderr why it cannot be read. */
export async function readScenario(file: string, io: CliIo): Promise<string | null> {
  try {
    return await readFile(file === '-' ? '/dev/stdin' : file, 'utf8');
  } catch (err) {
    io.stderr(`fuselens: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return null;
  }
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'report what the kernel would deny in scenario files',
  usage: 'fuselens check FILE... [--json] [--kernel VERSION]',
  async run(args, io) {
    const { flags, values, operands } = parseOptions(args, { flags: ['--json'], values: ['--kernel'] });
    if (operands.length === 0) throw new UsageError('no scenario file given');
    const kernel = values.get('--kernel');
    const files: { file: string; diagnostics: ReturnType<typeof diagnosticJson>[] }[] = [];
    let unreadable = false;
    let errors = 0;
    for (const file of operands) {
      const text = await readScenario(file, io);
      if (text === null) {
        unreadable = true;
        continue;
      }
      const result = simulateScenario(text, kernel ? { kernel } : {});
      errors += result.diagnostics.filter((d) => d.severity === 'error').length;
      files.push({ file, diagnostics: result.diagnostics.map(diagnosticJson) });
      if (!flags.has('--json')) for (const d of result.diagnostics) io.stdout(formatDiagnostic(file, d) + '\n');
    }
    if (flags.has('--json')) io.stdout(JSON.stringify({ files }, null, 2) + '\n');
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
      .map(([name, i]) => `${name}=${i.mode}(${i.iocachectr}${i.backing ? `,${i.backing}` : ''})`)
      .join(' ');
    return [String(s.line), s.process, `${s.action} ${s.target}`, outcome, inodes];
  });
  const widths = [0, 1, 2, 3].map((c) => Math.max(0, ...rows.map((r) => r[c]!.length)));
  const header = `kernel ${result.kernel}\n`;
  return header + rows.map((r) => r.map((cell, c) => (c < 4 ? cell.padEnd(widths[c]!) : cell)).join('  ').trimEnd()).join('\n') + '\n';
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
    const result = simulateScenario(text, kernel ? { kernel } : {});
    if (flags.has('--json')) {
      io.stdout(JSON.stringify(simulationJson(result), null, 2) + '\n');
    } else {
      io.stdout(formatSteps(result));
      for (const d of result.diagnostics) io.stderr(formatDiagnostic(file, d) + '\n');
    }
    return 0;
  },
};
