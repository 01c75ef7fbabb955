// `fuselens trace FILE|- [--json] [--export perfetto [-o OUT]] [--export-scenario [-o OUT]]`:
// reads a capture (tracefs text, strace of /dev/fuse, libfuse or bazil.org/fuse debug log, lab-jsonl)
// and prints per-opcode counts, errors and latencies, the slowest requests,
// refused opens and the reconstructed io mode of each inode — or the capture as a `.fusesim` scenario.

import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import { parseKernelVersion } from '../model';
import {
  TRACE_FORMATS, TRACE_FORMAT_SOURCES, UnknownFormatError, analyzeTrace, exportPerfetto, exportTraceScenario, openTraceSource, type TraceFormat, type TraceReport, type TraceSource,
} from '../trace';
import { UsageError, parseOptions, type CliIo, type Command } from './command';
import { inputError } from './input-file';
import { jsonText, termSafe, termText } from './terminal-text';
import { columnWidths } from './text-table';

export const traceCommand: Command = {
  name: 'trace',
  summary: 'summarise a FUSE trace (tracefs, strace, libfuse -d, rclone --debug-fuse, lab): latencies, errors, refused opens',
  usage: [
    `fuselens trace FILE|- [--json] [--export perfetto [-o OUT] | --export-scenario [-o OUT]] [--format ${TRACE_FORMATS.join('|')}] [--connection N] [--kernel X.Y]`,
    'formats (detected from the first lines; --format forces one):',
    ...TRACE_FORMATS.map((f) => `  ${f.padEnd(Math.max(...TRACE_FORMATS.map((g) => g.length)))}  ${TRACE_FORMAT_SOURCES[f]}`),
  ].join('\n'),
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, values, operands } = parseOptions(
      args.map((a) => (a === '-o' ? '--output' : a)),
      { flags: ['--json', '--export-scenario'], values: ['--export', '--output', '--format', '--connection', '--kernel'] },
    );
    if (operands.length !== 1) throw new UsageError('give exactly one trace file (or - for stdin)');
    const file = operands[0]!;
    const exportAs = values.get('--export');
    if (exportAs !== undefined && exportAs !== 'perfetto') throw new UsageError(`--export knows only perfetto, not ${exportAs}`);
    const asScenario = flags.has('--export-scenario');
    if (asScenario && (exportAs !== undefined || flags.has('--json'))) throw new UsageError('--export-scenario writes a scenario: not with --export or --json');
    if (values.has('--output') && exportAs === undefined && !asScenario) throw new UsageError('-o goes with --export perfetto or --export-scenario');
    const format = values.get('--format') as TraceFormat | undefined;
    if (format !== undefined && !TRACE_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${TRACE_FORMATS.join(', ')}`);
    const connection = values.has('--connection') ? Number(values.get('--connection')) : undefined;
    if (connection !== undefined && !Number.isInteger(connection)) throw new UsageError('--connection needs a number');
    const kernelText = values.get('--kernel');
    const kernel = kernelText === undefined ? undefined : parseKernelVersion(kernelText);
    if (kernelText !== undefined && !kernel) throw new UsageError(`--kernel wants a version like 6.18, not ${kernelText}`);

    const out = values.get('--output');
    if (exportAs === 'perfetto' && out === undefined && flags.has('--json'))
      throw new UsageError('--export perfetto without -o writes the export to stdout; --json cannot share it');

    // A source that may never end (trace_pipe, a FIFO, a pipe on stdin) is read until Ctrl-C, and
    // Ctrl-C then ends the input rather than the program, so the summary of what was read is printed.
    const stop = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (stop.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143); // a second one: leave now
      io.stderr(`fuselens trace: ${signal}: reading stopped; summarising what was read (again to quit at once)\n`);
      stop.abort();
    };
    let source: TraceSource;
    try {
      source = openTraceSource(file, {
        signal: stop.signal,
        onWaiting: () => io.stderr(`fuselens trace: waiting for more of ${file === '-' ? 'stdin' : termText(file)}; Ctrl-C stops and summarises\n`),
        onProgress: (bytes, total) => showProgress(bytes, total, io),
      });
    } catch (err) {
      io.stderr(`fuselens trace: ${inputError(file, err)}\n`);
      return 2;
    }
    if (source.live) for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, onSignal);
    const options = { ...(format ? { format } : {}), ...(connection !== undefined ? { connection } : {}), ...(kernel ? { kernel } : {}) };
    let report: TraceReport;
    try {
      if (exportAs === 'perfetto') {
        const fd = out === undefined ? 1 : openSync(out, 'w');
        try {
          report = await exportPerfetto(source, (text) => writeAll(fd, text), options);
        } finally {
          if (out !== undefined) closeSync(fd);
        }
        if (out === undefined) return 0;
        io.stderr(`fuselens trace: wrote ${out} (open it in https://ui.perfetto.dev or chrome://tracing)\n`);
      } else if (asScenario) {
        const { text } = await exportTraceScenario(source, { ...options, source: file === '-' ? 'stdin' : basename(file) });
        if (out === undefined) io.stdout(text);
        else {
          writeFileSync(out, text);
          io.stderr(`fuselens trace: wrote ${out} (check it with \`fuselens simulate\`, replay it with \`fuselens run\`)\n`);
        }
        return 0;
      } else report = await analyzeTrace(source, options);
    } catch (err) {
      if (err instanceof UnknownFormatError) {
        io.stderr(`fuselens trace: ${termText(file)}: ${termText(err.message)}\n`); // it quotes the input's first line
        return 2;
      }
      // A source that opened but cannot be read (EIO, a FIFO's other end gone wrong) is a refusal, not a crash.
      if ((err as NodeJS.ErrnoException)?.code) {
        io.stderr(`fuselens trace: ${inputError(file, err)}\n`);
        return 2;
      }
      throw err;
    } finally {
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, onSignal);
    }
    if (flags.has('--json')) io.stdout(jsonText(report));
    else io.stdout(formatReport(report, file));
    return 0;
  },
};

/** Files this big take a second or more: on a terminal, a line on stderr says how far the reading is. */
const PROGRESS_FROM_BYTES = 64 * 1024 * 1024;

function showProgress(bytes: number, total: number, io: CliIo): void {
  if (!process.stderr.isTTY || total < PROGRESS_FROM_BYTES) return;
  const mb = (n: number) => (n / 1e6).toFixed(0);
  io.stderr(bytes < total ? `\rfuselens trace: read ${mb(bytes)} of ${mb(total)} MB (${Math.floor((bytes / total) * 100)}%)` : '\r\x1b[K');
}

function writeAll(fd: number, text: string): void {
  const b = Buffer.from(text);
  let off = 0;
  while (off < b.length) off += writeSync(fd, b, off);
}

const us = (n: number | string | null | undefined): string => (n === null || n === undefined ? '-' : String(n));

/** The human form of a report; every field of it came from the trace, so all are escaped first. */
export function formatReport(report: TraceReport, traceFile: string): string {
  const r = termSafe(report);
  const file = termText(traceFile);
  const out: string[] = [];
  // Denials and inodes have a row each, too many to spread into push().
  const add = (lines: string[]) => {
    for (const line of lines) out.push(line);
  };
  const span = r.startedAt !== null && r.endedAt !== null ? `, ${((r.endedAt - r.startedAt) / 1e6).toFixed(3)} s` : '';
  out.push(
    `${file === '-' ? 'stdin' : file}: ${r.format}, ${r.events} events, ${r.requests} requests${span}; ` +
      `sent ${r.sent} + ${r.noReply} that get no reply (FORGET, INTERRUPT)`,
  );
  out.push(
    `unmatched ${r.unmatched} (in flight ${r.inFlightCount}, replies without request ${r.orphanReplies}), lost ${r.lost}, ` +
      `out of order ${r.outOfOrder}, unreadable lines ${r.badLines}`,
  );
  if (r.connections.length > 0) out.push(`connections: ${r.connections.join(', ')}`);
  out.push('');
  const rows = r.opcodes.map((o) => [
    o.opcode, String(o.count), String(o.sent),
    o.errors === 0 ? '0' : `${o.errors} (${Object.entries(o.errnos).map(([n, c]) => `${n} ${c}`).join(', ')})`,
    us(o.latencyUs?.p50), us(o.latencyUs?.p90), us(o.latencyUs?.p99), us(o.latencyUs?.max),
  ]);
  out.push(...table(['opcode', 'count', 'sent', 'errors', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs'], rows));
  if (r.processes.length > 0) {
    out.push('', 'by requesting process:');
    out.push(...table(['pid', 'comm', 'requests', 'errors'], r.processes.slice(0, 15).map((p) => [String(p.pid), p.comm ?? '', String(p.requests), String(p.errors)])));
  }
  if (r.slowest.length > 0 && r.slowest[0]!.latencyUs !== null) {
    out.push('', 'slowest:');
    out.push(...table(['µs', 'opcode', 'unique', 'pid', 'nodeid', 'error'], r.slowest.slice(0, 10).map((s) => [us(s.latencyUs), s.opcode, String(s.unique), us(s.pid), us(s.nodeid), String(s.error)])));
  }
  if (r.inFlightCount > 0) {
    out.push('', `still in flight at the end (${r.inFlightCount}):`);
    for (const s of r.inFlight.slice(0, 10)) out.push(`  ${s.opcode} unique ${s.unique} pid ${us(s.pid)} nodeid ${us(s.nodeid)}`);
  }
  // A cause is said once for the refusals that follow it.
  let lastCause: string | null = null;
  const denial = (d: TraceReport['denials'][number]): string[] => {
    const cause = d.cause !== null && d.cause !== lastCause ? [`    after: ${d.cause}`] : [];
    lastCause = d.cause;
    return [
      `  ${d.name ?? (d.nodeid === null ? 'inode ?' : `nodeid ${d.nodeid}`)} pid ${us(d.pid)} OPEN unique ${d.unique}` +
        `${d.releaseUnique !== null ? ` (RELEASE ${d.releaseUnique})` : ''}: ${d.why}`,
      ...(d.note ? [`    but: ${d.note}`] : []),
      ...cause,
    ];
  };
  const proven = r.denials.filter((d) => d.certainty === 'proven');
  const possible = r.denials.filter((d) => d.certainty === 'possible');
  if (proven.length > 0) add(['', `refused opens (${proven.length}):`, ...proven.flatMap(denial)]);
  if (possible.length > 0) add(['', `possible refused opens (${possible.length}, the evidence allows another reading):`, ...possible.flatMap(denial)]);
  if (r.denialsCount > r.denials.length) out.push('', `${r.denialsCount} refused or possibly refused opens in all: the first ${r.denials.length} are listed above`);
  if (r.xattrs && r.xattrs.length > 0) {
    out.push('', 'GETXATTR by name:');
    out.push(...table(['name', 'count', 'errors'], r.xattrs.slice(0, 10).map((x) => [
      x.name, String(x.count), x.errors === 0 ? '0' : `${x.errors} (${Object.entries(x.errnos).map(([n, c]) => `${n} ${c}`).join(', ')})`,
    ])));
  }
  for (const i of r.inits)
    out.push('', `FUSE_INIT reply: ${i.major}.${i.minor}, flags ${i.flags.join(' ') || 'none'}${i.maxStackDepth ? `, max_stack_depth ${i.maxStackDepth}` : ''}; passthrough ${i.passthrough ? 'on' : 'off'}`);
  if (r.inodes && r.inodes.length > 0) {
    out.push('', 'io modes replayed from the OPEN replies and RELEASEs since the capture began:');
    add(table(['nodeid', 'name', 'mode', 'iocachectr', 'backing', 'backing file', 'opens', 'open now', 'last OPEN reply', 'last open'], r.inodes.map((i) => [
      String(i.nodeid), i.name ?? '', i.mode, String(i.iocachectr), us(i.backingId), i.backingPath ?? '', String(i.opensSeen), String(i.openFiles),
      i.lastOpenFlags.join('|') || '0', i.lastOpen ? `${i.lastOpen.outcome} (pid ${us(i.lastOpen.pid)})` : '',
    ])));
  }
  if (r.bad.length > 0) {
    out.push('', 'unreadable lines:');
    for (const b of r.bad.slice(0, 5)) out.push(`  line ${b.line}: ${b.why}: ${b.text.slice(0, 100)}`);
  }
  if (r.warnings.length > 0) {
    out.push('');
    for (const w of r.warnings) out.push(`warning: ${w}`);
  }
  return out.join('\n') + '\n';
}

/** Columns whose cells all start with a number ("12", "-2", "1 (ENOENT 1)", "-") are right-aligned, headers included. */
function table(head: string[], rows: string[][]): string[] {
  const widths = columnWidths([head, ...rows], head.length);
  const numeric = head.map((_, i) => rows.every((r) => /^(-?\d|-$)/.test(r[i] ?? '-')));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}
