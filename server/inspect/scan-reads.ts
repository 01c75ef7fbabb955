// The reads of a /proc scan that decide nothing (processes.ts): the fdinfo text of
// descriptors whose link lies under the mountpoint, and the lines of each process's
// maps on the target devices. The scan's own thread asks for them once it knows
// which, and a second thread (scan-helper.ts) can take a share: on two CPUs they are
// about half of the scan's kernel time (fdinfo is an open, a read and a close, each
// walking procfs), while the listing, the readlinks and kcmp stay in order on the first.

import { join } from 'node:path';
import { procReader, type ProcDir } from './procfs';
import { decodeName } from '../../protocol/byte-names';
import { toU64, type U64 } from '../../protocol/u64';

/** A read's text, or the errno name it failed with. */
export type ReadResult = string | { code: string };

export function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? 'EIO';
}

/**
 * fdinfo of the descriptors `pairs[2i]` (pid) / `pairs[2i+1]` (fd) for i in [from, to); one
 * open of /proc/PID/fdinfo per run of one pid. ASCII fields, so latin1.
 */
export function readFdinfos(procRoot: string, pairs: Int32Array, from: number, to: number): ReadResult[] {
  const out: ReadResult[] = [];
  let dirPid = -1;
  let dir: ProcDir | { code: string } | undefined;
  try {
    for (let i = from; i < to; i++) {
      const pid = pairs[2 * i]!;
      if (pid !== dirPid) {
        if (dir && !('code' in dir)) dir.close();
        dirPid = pid;
        try {
          dir = procReader().openDir(join(procRoot, String(pid), 'fdinfo'));
        } catch (err) {
          dir = { code: errnoOf(err) };
        }
      }
      if ('code' in dir!) out.push(dir);
      else {
        try {
          out.push(dir!.readFile(String(pairs[2 * i + 1]), true).toString('latin1'));
        } catch (err) {
          out.push({ code: errnoOf(err) });
        }
      }
    }
  } finally {
    if (dir && !('code' in dir)) dir.close();
  }
  return out;
}

/** A line of maps on a target device (FoundMapping without the pid). */
export interface MapsMatch {
  device: string;
  ino: U64;
  start: string;
  end: string;
  perms: string;
  offset: string;
  path: string;
}

/**
 * The maps lines of process `pid` on the devices of `spelled` (` 00:28 ` as maps spells a
 * device, latin1 → its mountinfo spelling), or the errno name of a failed read.
 */
export function readMapsMatches(procRoot: string, pid: number, spelled: [string, string][]): MapsMatch[] | { code: string } {
  let bytes: Buffer;
  try {
    bytes = procReader().readFile(join(procRoot, String(pid), 'maps'));
  } catch (err) {
    return { code: errnoOf(err) };
  }
  const found: MapsMatch[] = [];
  let maps: string | undefined;
  for (const [spelling, device] of spelled) {
    // Most processes map nothing from the mount: search the bytes before decoding.
    if (bytes.indexOf(spelling, 0, 'latin1') < 0) continue;
    maps ??= decodeName(bytes); // format fields are ASCII, so decoding the whole text keeps each path's bytes
    for (const line of maps.split('\n')) {
      const m = parseMapsLine(line);
      if (!m || m.device !== spelling.slice(1, -1)) continue;
      found.push({ device, ino: m.ino, start: m.start, end: m.end, perms: m.perms, offset: m.offset, path: m.path });
    }
  }
  return found;
}

/** What d_path appends to the path of an unlinked file (readlink of fd/N, maps). */
export const DELETED = ' (deleted)';

/** One line of /proc/PID/maps (proc(5)); undefined for anonymous or malformed lines' absence of a device. */
export function parseMapsLine(line: string):
  | { start: string; end: string; perms: string; offset: string; device: string; ino: U64; path: string }
  | undefined {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)\s*(.*)$/.exec(line);
  const ino = m ? toU64(m[6]!) : undefined;
  if (!m || ino === undefined) return undefined;
  const rawPath = m[7]!;
  return {
    start: m[1]!,
    end: m[2]!,
    perms: m[3]!,
    offset: m[4]!,
    device: m[5]!,
    ino,
    path: (rawPath.endsWith(DELETED) ? rawPath.slice(0, -DELETED.length) : rawPath).replace(/\\012/g, '\n'),
  };
}
