// `fuselens run FILE [--json] [--trace OUT.jsonl]`: replays a scenario on the
// running kernel through the lab's own FUSE server and shows, step by step,
// the kernel's outcome beside the simulator's. Exit 0 when they agree, 1 on
// any difference, 2 for bad usage, unreadable input or a machine that cannot
// run it (not root, no /dev/fuse); 130/143 when interrupted (after cleanup).
// Killed by any signal, its guardian removes the mount and temp dir
// (server/lab/guardian.ts); leftovers of earlier runs are removed on start.

import * as fs from 'node:fs';
import { parseOptions, UsageError, type Command } from './command';
import { diagnosticJson, readScenario } from './scenario-commands';
import { cleanLabLeftovers, removedText } from './clean';
import { termText } from './terminal-text';
import { columnWidths } from './text-table';
import { AbortedError, formatLabEvent, labAvailability, runningKernelVersion, runScenario, type RunResult, type RunStep } from '../lab/index';
import { sameRules } from '../model/kernel-version';

function outcomeText(outcome: string, completedAt: number | null | undefined, finalOutcome: string | null | undefined): string {
  if (outcome !== 'blocks') return outcome;
  return finalOutcome ? `blocks → ${finalOutcome} at line ${completedAt}` : 'blocks (never wakes)';
}

/** Table: LINE PROCESS STEP KERNEL SIMULATED, `<<` on differing rows. */
export function formatRun(file: string, r: RunResult): string {
  const rows = r.steps.map((s: RunStep) => [
    String(s.line),
    termText(s.process),
    `${s.action} ${termText(s.target)}`,
    outcomeText(s.outcome, s.completedAt, s.finalOutcome),
    outcomeText(s.simulated, s.simulatedCompletedAt, s.simulatedFinalOutcome),
    s.differs ? '<< differs' : s.action === 'expect' ? '(simulated only)' : '',
  ]);
  const head = ['line', 'process', 'step', 'kernel', 'simulated', ''];
  const widths = columnWidths([head, ...rows], head.length);
  const fmt = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const running = runningKernelVersion();
  return [
    `${termText(file)}: Linux ${r.kernelRelease}, simulated with kernel ${r.kernel} rules`,
    ...(!sameRules(r.kernel, running)
      ? [`note: the scenario's \`kernel ${r.kernel}\` line differs from this kernel (${running}): differences may be between versions, not errors`]
      : []),
    fmt(head),
    ...rows.map(fmt),
    r.differences === 0 ? 'kernel and simulator agree on every step' : `${r.differences} step${r.differences === 1 ? '' : 's'} differ`,
  ].join('\n');
}

export const runCommand: Command = {
  name: 'run',
  summary: 'replay a scenario on this kernel (root) and compare with the simulation',
  usage: 'fuselens run FILE [--json] [--trace OUT.jsonl]',
  async run(args, io) {
    const { flags, values, operands } = parseOptions(args, { flags: ['--json'], values: ['--trace'] });
    if (operands.length !== 1) throw new UsageError('give exactly one scenario file');
    const file = operands[0]!;
    const text = await readScenario(file, io);
    if (text === null) return 2;
    const available = labAvailability();
    if (!available.ok) {
      io.stderr(`fuselens run: ${available.reason}\n`);
      return 2;
    }
    // What runs killed together with their guardian left (docs/cleanup.md) goes first.
    try {
      for (const r of cleanLabLeftovers()) io.stderr(`fuselens run: ${removedText(r)}\n`);
    } catch (err) {
      io.stderr(`fuselens run: could not look for leftovers of earlier runs: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    let traceFd: number | undefined;
    const tracePath = values.get('--trace');
    if (tracePath !== undefined) {
      try {
        traceFd = fs.openSync(tracePath, 'w');
      } catch (err) {
        io.stderr(`fuselens run: cannot write ${termText(tracePath)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
        return 2;
      }
    }
    // SIGINT/SIGTERM abort the run; the replay cleans up before it settles.
    const controller = new AbortController();
    let signalled: NodeJS.Signals | null = null;
    const onSignal = (sig: NodeJS.Signals) => {
      signalled = sig;
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      const result = await runScenario(text, {
        signal: controller.signal,
        ...(traceFd !== undefined && { log: (e) => fs.writeSync(traceFd!, formatLabEvent(e)) }),
      });
      if (flags.has('--json'))
        io.stdout(JSON.stringify({ ...result, diagnostics: result.diagnostics.map(diagnosticJson) }, null, 2) + '\n');
      else io.stdout(formatRun(file, result) + '\n');
      return result.differences > 0 ? 1 : 0;
    } catch (err) {
      if (err instanceof AbortedError || signalled) {
        io.stderr(`fuselens run: interrupted by ${signalled ?? 'abort'}; unmounted and cleaned up\n`);
        return signalled === 'SIGINT' ? 130 : 143;
      }
      io.stderr(`fuselens run: ${termText(err instanceof Error ? err.message : String(err))}\n`);
      return 2;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (traceFd !== undefined) fs.closeSync(traceFd);
    }
  },
};
