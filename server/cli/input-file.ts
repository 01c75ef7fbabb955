// What a command says when an input it was given cannot be read: the errno
// name kept (style: errors from the kernel keep their name) and what it means
// for that kind of input, so no input kind ends in an internal error. The
// scenario commands read their file here; `trace` opens its own sources
// (server/trace/source.ts) and words its refusals with inputError.

import { open } from 'node:fs/promises';
import { termText } from './terminal-text';

/** A scenario is hand-written text: far below this. /dev/zero or a mistaken image file stops here. */
export const MAX_SCENARIO_BYTES = 64 * 1024 * 1024;
/** `fuselens trace --json` of a long capture is large, but a JS string holds at most ~512 M characters. */
export const MAX_TRACE_JSON_BYTES = 256 * 1024 * 1024;

const MEANING: Record<string, string> = {
  EISDIR: 'it is a directory',
  ENXIO: 'it is a socket or a device nobody serves',
  ELOOP: 'too many levels of symbolic links',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'no such file',
  ENOTDIR: 'a component of the path is not a directory',
  ENAMETOOLONG: 'the name is too long',
};

/** `cannot read FILE: CODE (meaning)`, the file's name escaped for the terminal. */
export function inputError(file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  const what = code ? `${code}${MEANING[code] ? ` (${MEANING[code]})` : ''}` : err instanceof Error ? err.message : String(err);
  return `cannot read ${termText(file === '-' ? 'stdin' : file)}: ${termText(what)}`;
}

/**
 * The bytes of `file` (`-` is stdin), or why they cannot be had: unreadable, a directory,
 * more than `max` bytes. A FIFO is read to its end (`check <(generate)`); a device such as
 * /dev/zero is cut off at `max`.
 */
export async function readInputBytes(file: string, max: number): Promise<{ bytes: Buffer } | { problem: string }> {
  let handle;
  try {
    handle = await open(file === '-' ? '/dev/stdin' : file, 'r');
  } catch (err) {
    return { problem: inputError(file, err) };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) return { problem: inputError(file, { code: 'EISDIR' }) };
    // A regular file's first chunk is its size (and a byte to see the end), so it is read into
    // one buffer: read in 1 MiB chunks and joined, a 23 MB scenario took twice its size in fresh
    // memory. A pipe, a device or a file that says it is empty (/proc) is read in 1 MiB chunks.
    let next = stat.isFile() && stat.size > 0 && stat.size < max ? stat.size + 1 : 1 << 20;
    for (;;) {
      const chunk = Buffer.allocUnsafe(next);
      next = 1 << 20;
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      size += bytesRead;
      if (size > max) return { problem: `${termText(file === '-' ? 'stdin' : file)} is larger than ${max / (1024 * 1024)} MB` };
    }
  } catch (err) {
    return { problem: inputError(file, err) };
  } finally {
    await handle.close();
  }
  return { bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) };
}

/** A scenario's text, or the reason it is not one: unreadable, too big, empty or binary. */
export async function readScenarioText(file: string): Promise<{ text: string } | { problem: string }> {
  const read = await readInputBytes(file, MAX_SCENARIO_BYTES);
  if ('problem' in read) return read;
  const name = termText(file === '-' ? 'stdin' : file);
  if (read.bytes.length === 0) return { problem: `${name} is empty: no scenario in it` };
  if (read.bytes.includes(0)) return { problem: `${name} is not a text scenario (it contains NUL bytes)` };
  return { text: read.bytes.toString('utf8') };
}
