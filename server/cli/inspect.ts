// `fuselens inspect MOUNTPOINT [--json] [--export-scenario] [--trace FILE]`.

import { readFileSync } from 'node:fs';
import { exportScenario, formatInspection, inspectMount, InspectError, type ReconstructedMode } from '../inspect';
import { captureStartText, reconstructedModes, type CaptureClock, type InodeReport } from '../trace';
import { parseOptions, UsageError, type Command } from './command';
import { rootsFrom } from './mounts';

/** Reads the `inodes` of `fuselens trace --json` output (or a bare array of them). */
function readReconstructed(path: string): ReconstructedMode[] {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path === '-' ? 0 : path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--trace ${path}: ${(err as Error).message}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { inodes?: unknown })?.inodes;
  if (!Array.isArray(list))
    throw new UsageError(`--trace ${path}: expected \`fuselens trace --json\` output with an "inodes" array (a capture that carries OPEN replies)`);
  const since = Array.isArray(doc) ? `the start of ${path}` : captureStartText(doc as CaptureClock, path);
  return reconstructedModes(list as InodeReport[], since);
}

export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'open files, mappings and daemon of one FUSE mount, now',
  usage: 'fuselens inspect MOUNTPOINT [--json | --export-scenario] [--trace TRACE.json] [--proc DIR] [--sys DIR]',
  async run(args, io) {
    const { flags, values, operands } = parseOptions(args, {
      flags: ['--json', '--export-scenario'],
      values: ['--proc', '--sys', '--trace'],
    });
    if (operands.length !== 1) throw new UsageError('give exactly one MOUNTPOINT');
    if (flags.has('--json') && flags.has('--export-scenario')) throw new UsageError('--json and --export-scenario print different documents; pick one');
    const trace = values.get('--trace');
    const reconstructed = trace !== undefined ? readReconstructed(trace) : undefined;
    let inspection;
    try {
      inspection = inspectMount(operands[0]!, rootsFrom(values), reconstructed ? { reconstructed } : {});
    } catch (err) {
      if (err instanceof InspectError) {
        io.stderr(`fuselens inspect: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    if (flags.has('--json')) io.stdout(JSON.stringify(inspection, null, 2) + '\n');
    else {
      for (const w of inspection.warnings) io.stderr(`warning: ${w}\n`); // diagnostics go to stderr, as with every command
      io.stdout(flags.has('--export-scenario') ? exportScenario(inspection) : formatInspection(inspection));
    }
    return 0;
  },
};
