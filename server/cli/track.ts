// `fuselens track MOUNT [--seconds S] [--json]`: follows a mount's io modes live
// (server/trace/track.ts: strace on its daemon, replayed through the model) and
// prints one line per change — JSON lines with --json (protocol/track.ts's
// TrackLine). Ctrl-C or SIGTERM stops it and strace detaches; on SIGKILL strace
// dies with this process, and the daemon runs on untraced either way.

import { resolve } from 'node:path';
import type { TrackLine, TrackedInode } from '../../protocol/track';
import { startTracking, TrackError } from '../trace/track';
import { CaptureError } from '../trace';
import { UsageError, parseOptions, type CliIo, type Command } from './command';
import { jsonText, termSafe, termText } from './terminal-text';

export const trackCommand: Command = {
  name: 'track',
  summary: "follow a mount's per-inode io modes live, with what proves each (strace of its daemon)",
  usage: 'fuselens track MOUNTPOINT [--seconds S] [--json]',
  async run(args: string[], io: CliIo): Promise<number> {
    const { flags, values, operands } = parseOptions(args, { flags: ['--json'], values: ['--seconds'] });
    if (operands.length !== 1) throw new UsageError('one MOUNTPOINT is required');
    const seconds = values.has('--seconds') ? Number(values.get('--seconds')) : undefined;
    if (seconds !== undefined && !(seconds > 0)) throw new UsageError('--seconds needs a positive number');
    const json = flags.has('--json');
    // Paths and comm names are the system's: escaped for the terminal, JSON lines kept exact.
    const print = (line: TrackLine) => io.stdout(json ? jsonText(line, 0) : lineText(termSafe(line)));

    let session;
    try {
      session = await startTracking({ mountpoint: resolve(operands[0]!), onChange: (lines) => lines.forEach(print) });
    } catch (err) {
      if (err instanceof TrackError || err instanceof CaptureError) {
        io.stderr(`fuselens track: ${termText(err.message)}\n`);
        return 2;
      }
      throw err;
    }
    const s = session.source;
    if (!json) io.stderr(`tracking ${termText(s.mountpoint)}: strace on ${termText(s.daemon.comm)} (${s.daemon.pid}) slows it down; Ctrl-C stops\n`);
    const stop = () => void session.stop();
    // Before the start line: whoever reads it may signal at once (a race the track test lost under load).
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    print({ type: 'start', source: s, inodes: session.inodes() });
    const timer = seconds !== undefined ? setTimeout(stop, seconds * 1000) : undefined;
    try {
      const result = await session.done;
      print({ type: 'stop', time: new Date().toISOString(), ...result });
      return 0;
    } finally {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

function lineText(line: TrackLine): string {
  switch (line.type) {
    case 'start':
      return [
        `tracking ${line.source.mountpoint} (connection ${line.source.connection}), daemon ${line.source.daemon.comm} (${line.source.daemon.pid}) since ${new Date(line.source.since).toLocaleString("sv")}`,
        ...line.inodes.map((i) => inodeText(line.source.since, i)),
      ].join('\n') + '\n';
    case 'inode':
      return inodeText(line.time, line.inode) + '\n';
    case 'released':
      return `${clock(line.time)}  ${name(line.ino, line.path)}  released\n`;
    case 'stop':
      return `${clock(line.time)}  stopped (${line.stoppedBy}) after ${line.requests} requests${line.warnings.map((w) => `\nwarning: ${w}`).join('')}\n`;
  }
}

function inodeText(time: string, i: TrackedInode): string {
  return `${clock(time)}  ${name(i.ino, i.path, i.provenance.nodeid)}  ${i.provenance.text}  [${i.provenance.basis}]`;
}

/** A file by what is known of it: path and inode number, else the trace's node id (its LOOKUP came before tracking). */
function name(ino: TrackedInode['ino'], path: string | null, nodeid: TrackedInode['provenance']['nodeid'] = null): string {
  if (path !== null) return ino !== null ? `${path} (ino ${ino})` : path;
  if (ino !== null) return `ino ${ino}`;
  return nodeid !== null ? `node ${nodeid} (looked up before tracking: its file is not known)` : 'a file the trace cannot name';
}

/** Local wall-clock time, as the provenance's "since OPEN at" says it. */
function clock(iso: string): string {
  return new Date(iso).toTimeString().slice(0, 8);
}
