// `fuselens inspect MOUNTPOINT [--json] [--export-scenario] [--trace FILE]`.

import { readFileSync } from 'node:fs';
import { exportScenario, formatInspection, inspectMount, InspectError, type ReconstructedMode } from '../inspect';
import { parseOptions, UsageError, type Command } from './command';
import { rootsFrom } from './mounts';

/**
 * When the capture began, in words, from the trace report's `startedAt` (µs in
 * the source's clock: tracefs since boot, strace -tt since midnight or the
 * epoch, lab-jsonl the epoch).
 */
function captureStart(doc: { format?: unknown; startedAt?: unknown }, path: string): string {
  const us = typeof doc.startedAt === 'number' ? doc.startedAt : undefined;
  if (us === undefined) return `the start of ${path}`;
  const iso = (ms: number): string => new Date(ms).toISOString();
  if (doc.format === 'ftrace') {
    const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return `${iso(Date.now() - uptime * 1000 + us / 1000)} (${(us / 1e6).toFixed(3)} s after boot)`;
  }
  if (us < 86_400e6) {
    const s = us / 1e6;
    const hh = String(Math.floor(s / 3600)).padStart(2, '0');
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
    return `${hh}:${mm}:${(s % 60).toFixed(3).padStart(6, '0')}`;
  }
  return iso(us / 1000);
}

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
  const since = Array.isArray(doc) ? `the start of ${path}` : captureStart(doc as { format?: unknown; startedAt?: unknown }, path);
  return list.map((r: Record<string, unknown>) => {
    const out: ReconstructedMode = { mode: r.mode as ReconstructedMode['mode'], since: typeof r.since === 'string' ? r.since : since };
    if (typeof r.ino === 'number') out.ino = r.ino;
    if (typeof r.nodeid === 'number') out.nodeid = r.nodeid;
    if (typeof r.name === 'string') out.name = r.name;
    if (typeof r.connection === 'number') out.connection = r.connection;
    if (typeof r.iocachectr === 'number') out.iocachectr = r.iocachectr;
    return out;
  });
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
