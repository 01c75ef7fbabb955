// `fuselens mounts [--json]`: the FUSE mounts of this machine.

import { formatMounts, listMounts, InspectError, type InspectRoots } from '../inspect';
import { parseOptions, type Command } from './command';
import { jsonText, termSafe, termText } from './terminal-text';

/** `--proc DIR` / `--sys DIR`: read another procfs/sysfs (a container's, a fixture tree). */
export function rootsFrom(values: Map<string, string>): InspectRoots {
  return { proc: values.get('--proc') ?? '/proc', sys: values.get('--sys') ?? '/sys' };
}

export const mountsCommand: Command = {
  name: 'mounts',
  summary: 'list FUSE mounts: connection, fusectl numbers, daemon',
  usage: 'fuselens mounts [--json] [--proc DIR] [--sys DIR]',
  async run(args, io) {
    const { flags, values } = parseOptions(args, { flags: ['--json'], values: ['--proc', '--sys'] });
    let result;
    try {
      result = listMounts(rootsFrom(values));
    } catch (err) {
      if (err instanceof InspectError) {
        io.stderr(`fuselens mounts: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
    for (const w of result.warnings) io.stderr(`warning: ${termText(w)}\n`);
    io.stdout(flags.has('--json') ? jsonText(result.mounts) : formatMounts(termSafe(result.mounts)));
    return 0;
  },
};
