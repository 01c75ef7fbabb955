// `fuselens inspect MOUNTPOINT [--json] [--export-scenario] [--trace FILE]`.
// With --trace, each held inode's mode is given with its provenance
// (server/trace/provenance.ts): a trace file has no snapshot of what was held
// before it began, so a descriptor /proc shows may predate it — never "idle".

import type { Inspection } from '../../protocol/inspect';
import type { TrackedInode } from '../../protocol/track';
import { exportScenario, formatInspection, inspectMount, InspectError } from '../inspect';
import { captureStartText, reconstructedModes, type CaptureClock, type InodeReport } from '../trace';
import { clockText, heldModes } from '../trace/provenance';
import { parseOptions, UsageError, type Command } from './command';
import { rootsFrom } from './mounts';
import { jsonText, termSafe, termText } from './terminal-text';

interface TraceDoc {
  path: string;
  inodes: InodeReport[];
  /** When its capture began, in words. */
  since: string;
  /** When it ended, in words. */
  ended: string;
}

/** Reads the `inodes` of `fuselens trace --json` output (or a bare array of them). */
async function readTrace(path: string): Promise<TraceDoc> {
  // Imported here: it loads node:fs/promises (and with it readline and fs watchers: ~6 ms of
  // CPU at start-up), which an inspect without --trace never uses.
  const { MAX_TRACE_JSON_BYTES, readInputBytes } = require('./input-file') as typeof import('./input-file');
  const read = await readInputBytes(path, MAX_TRACE_JSON_BYTES);
  if ('problem' in read) throw new UsageError(`--trace ${read.problem}`);
  let doc: unknown;
  try {
    doc = JSON.parse(read.bytes.toString('utf8'));
  } catch (err) {
    throw new UsageError(`--trace ${path}: not JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { inodes?: unknown })?.inodes;
  if (!Array.isArray(list))
    throw new UsageError(`--trace ${path}: expected \`fuselens trace --json\` output with an "inodes" array (a capture that carries OPEN replies)`);
  const since = Array.isArray(doc) ? `the start of ${path}` : captureStartText(doc as CaptureClock, path);
  const endedAt = Array.isArray(doc) ? null : (doc as { endedAt?: unknown }).endedAt;
  return { path, inodes: list as InodeReport[], since, ended: typeof endedAt === 'number' ? clockText(endedAt) : `the end of ${path}` };
}

/** Each held inode with its mode's provenance from the trace. */
function tracedModes(inspection: Inspection, trace: TraceDoc): TrackedInode[] {
  return heldModes({
    held: inspection.inodes, connection: inspection.mount.connection, traced: trace.inodes, heldFromBefore: () => null, traceEnded: trace.ended,
  }).map((m) => m.inode);
}

/** Paths, comm names and the trace's words, escaped by the caller (termSafe). */
function formatModes(trace: TraceDoc, modes: TrackedInode[]): string {
  const lines = [`Modes from the trace ${trace.path} (capture began ${trace.since}, ended ${trace.ended}):`];
  for (const i of modes) {
    lines.push(`  ${i.path ?? '(no path)'}  inode ${i.ino}  ${i.provenance.text}  [${i.provenance.basis}]`);
    for (const r of i.provenance.reasons) lines.push(`    ${r}`);
  }
  return lines.join('\n') + '\n';
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
    const tracePath = values.get('--trace');
    const trace = tracePath !== undefined ? await readTrace(tracePath) : undefined;
    // `reconstructed` (the trace's raw replay) is JSON's contract; in text the provenance says what it proves.
    const reconstructed = trace && flags.has('--json') ? reconstructedModes(trace.inodes, trace.since) : undefined;
    let inspection;
    try {
      inspection = inspectMount(operands[0]!, rootsFrom(values), reconstructed ? { reconstructed } : {});
    } catch (err) {
      if (err instanceof InspectError) {
        io.stderr(`fuselens inspect: ${termText(err.message)}\n`); // it names the path given
        return 2;
      }
      throw err;
    }
    const modes = trace ? tracedModes(inspection, trace) : undefined;
    if (flags.has('--json')) {
      // `reconstructed` stays the trace's raw replay; `provenance` is what it proves about the inode now.
      const out = modes ? { ...inspection, inodes: inspection.inodes.map((v, n) => ({ ...v, provenance: modes[n]!.provenance })) } : inspection;
      io.stdout(jsonText(out));
    } else {
      // Every string of an inspection is the system's or the trace's: paths, comm names, options.
      const safe = termSafe(inspection);
      for (const w of safe.warnings) io.stderr(`warning: ${w}\n`); // diagnostics go to stderr, as with every command
      if (flags.has('--export-scenario')) io.stdout(exportScenario(safe));
      else {
        io.stdout(formatInspection(safe));
        if (trace && modes) io.stdout('\n' + formatModes(termSafe(trace), termSafe(modes)));
      }
    }
    return 0;
  },
};
