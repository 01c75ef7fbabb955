// What a command says when an input it was given cannot be read: the errno
// name kept (style: errors from the kernel keep their name) and what it means
// for that kind of input, so no input kind ends in an internal error. The
// scenario commands read their file here; `trace` opens its own sources
// (server/trace/source.ts) and words its refusals with inputError.

import { open } from 'node:fs/promises';
import { termText } from './terminal-text';

/** A scenario is hand-written text: far below this. /dev/zero or a mistaken image file stops here. */
export const MAX_SCENARIO_BYTES = 64 * 1024 * 1024;

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
 * A scenario's text (`-` is stdin), or the reason it is not one: unreadable, too big,
 * empty or binary. A FIFO is read to its end (`check <(generate)`); a device such as
 * /dev/zero is cut off at MAX_SCENARIO_BYTES.
 */
export async function readScenarioText(file: string): Promise<{ text: string } | { problem: string }> {
  let handle;
  try {
    handle = await open(file === '-' ? '/dev/stdin' : file, 'r');
  } catch (err) {
    return { problem: inputError(file, err) };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    if ((await handle.stat()).isDirectory()) return { problem: inputError(file, { code: 'EISDIR' }) };
    for (;;) {
      const chunk = Buffer.allocUnsafe(1 << 20);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      size += bytesRead;
      if (size > MAX_SCENARIO_BYTES) return { problem: `${termText(file)} is larger than ${MAX_SCENARIO_BYTES / (1024 * 1024)} MB: not a scenario` };
    }
  } catch (err) {
    return { problem: inputError(file, err) };
  } finally {
    await handle.close();
  }
  const bytes = Buffer.concat(chunks, size);
  const name = termText(file === '-' ? 'stdin' : file);
  if (size === 0) return { problem: `${name} is empty: no scenario in it` };
  if (bytes.includes(0)) return { problem: `${name} is not a text scenario (it contains NUL bytes)` };
  return { text: bytes.toString('utf8') };
}
