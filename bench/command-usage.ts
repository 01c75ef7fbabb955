// What a `fuselens` command costs as a child process: wall time, CPU time and
// peak RSS as /usr/bin/time measures them, its output kept in a file (a
// million steps are more output than a pipe buffer should hold).

import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const fuselens = join(__dirname, '..', 'bin', 'fuselens');

export interface CommandUsage {
  status: number | null;
  wallS: number;
  cpuS: number;
  peakMiB: number;
  outputBytes: number;
}

/** Runs `command args` with stdout into `outFile`. */
export function commandUsage(command: string, args: string[], outFile: string): CommandUsage {
  const fd = openSync(outFile, 'w');
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', command, ...args], { stdio: ['ignore', fd, 'pipe'], maxBuffer: 1 << 28 });
    const [wall, user, sys, peakKb] = r.stderr.toString().trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number, number];
    return { status: r.status, wallS: wall, cpuS: user + sys, peakMiB: peakKb / 1024, outputBytes: statSync(outFile).size };
  } finally {
    closeSync(fd);
  }
}

/** `1.2 3.4 5.6` of /proc/loadavg: other work on the machine slows every wall-clock figure. */
export function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
