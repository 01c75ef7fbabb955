// Parser for /proc/PID/mountinfo (proc(5)) and the FUSE connection number a
// mount's device stands for (shared/fuse-kernel-rules.md §7).

import { readFileSync } from 'node:fs';
import { decodeName, encodeName } from '../../protocol/byte-names';
import type { MountInfoEntry } from './types';

/**
 * Undoes the kernel's octal escapes (`\040` space, `\011` tab, `\012` newline,
 * `\134` backslash, `\054` comma in super options): seq_path/mangle and seq_escape
 * in fs/proc_namespace.c write any of those bytes as a backslash and three octal digits.
 */
export function unescapeMountField(field: string): string {
  if (!field.includes('\\')) return field;
  const bytes: number[] = [];
  const raw = encodeName(field); // a byte that was not UTF-8 is a U+DC80–DCFF here (decodeName)
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x5c && i + 3 < raw.length && isOctal(raw[i + 1]) && isOctal(raw[i + 2]) && isOctal(raw[i + 3])) {
      bytes.push(((raw[i + 1]! - 48) << 6) | ((raw[i + 2]! - 48) << 3) | (raw[i + 3]! - 48));
      i += 3;
    } else bytes.push(b);
  }
  return decodeName(Uint8Array.from(bytes));
}

function isOctal(b: number | undefined): boolean {
  return b !== undefined && b >= 48 && b <= 55;
}

/** `fuse`, `fuseblk` and `fuse.<subtype>` / `fuseblk.<subtype>`; not `fusectl`. */
export function isFuseFsType(fstype: string): boolean {
  return fstype === 'fuse' || fstype === 'fuseblk' || fstype.startsWith('fuse.') || fstype.startsWith('fuseblk.');
}

/**
 * The N of /sys/fs/fuse/connections/N: the connection's dev_t as the kernel
 * encodes it internally (MKDEV: major<<20 | minor). For `fuse` mounts the
 * major is 0, so N is the minor; for `fuseblk` it is the block device's dev_t.
 */
export function connectionFromDevice(major: number, minor: number): number {
  return major * 2 ** 20 + minor;
}

function parseSuperOptions(text: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const part of text.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) out[unescapeMountField(part)] = true;
    else out[unescapeMountField(part.slice(0, eq))] = unescapeMountField(part.slice(eq + 1));
  }
  return out;
}

/** Parses one mountinfo line; undefined for a line that does not have the documented shape. */
export function parseMountInfoLine(line: string): MountInfoEntry | undefined {
  const fields = line.split(' ');
  const sep = fields.indexOf('-', 6);
  if (fields.length < 10 || sep < 0 || fields.length < sep + 4) return undefined;
  const [id, parent, device, root, mountpoint, options] = fields as [string, string, string, string, string, string];
  const dev = /^(\d+):(\d+)$/.exec(device);
  if (!dev || !/^\d+$/.test(id) || !/^\d+$/.test(parent)) return undefined;
  return {
    mountId: Number(id),
    parentId: Number(parent),
    device,
    major: Number(dev[1]),
    minor: Number(dev[2]),
    root: unescapeMountField(root),
    mountpoint: unescapeMountField(mountpoint),
    mountOptions: options.split(','),
    optionalFields: fields.slice(6, sep),
    fstype: unescapeMountField(fields[sep + 1]!),
    source: unescapeMountField(fields[sep + 2]!),
    superOptions: parseSuperOptions(fields.slice(sep + 3).join(' ')),
  };
}

/** Reads a mountinfo file: its names are bytes (decodeName), the rest ASCII. */
export function readMountInfoFile(path: string): string {
  return decodeName(readFileSync(path));
}

/** Parses a whole mountinfo file; malformed lines are returned in `bad` (1-based line numbers). */
export function parseMountInfo(text: string): { entries: MountInfoEntry[]; bad: number[] } {
  const entries: MountInfoEntry[] = [];
  const bad: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const entry = parseMountInfoLine(line);
    if (entry) entries.push(entry);
    else bad.push(i + 1);
  }
  return { entries, bad };
}
