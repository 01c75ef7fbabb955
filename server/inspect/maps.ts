// The lines of /proc/PID/maps on the target's devices, as each process of a scan
// (scan-block.ts) reads them: most processes map nothing from the mount, so the
// bytes are searched for the device before anything is decoded.

import { errnoOf, type ProcDir } from './procfs';
import { decodeName } from '../../protocol/byte-names';
import { toU64, type U64 } from '../../protocol/u64';

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
 * The maps lines of the process of `pidDir` (/proc/PID) on the devices of `spelled` (` 00:28 ` as maps spells a
 * device, latin1 → its mountinfo spelling), or the errno name of a failed read.
 */
export function readMapsMatches(pidDir: ProcDir, spelled: [string, string][]): MapsMatch[] | { code: string } {
  let bytes: Buffer;
  try {
    bytes = pidDir.readFile('maps');
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
