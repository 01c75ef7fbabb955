// CPU time as /proc/PID/stat counts it (fs/proc/array.c do_task_stat), for the benchmarks'
// figures that other processes on the machine do not change.

import { readFileSync } from 'node:fs';

/** Linux's clock ticks per second (USER_HZ), the unit of /proc/PID/stat's CPU times. */
const CLOCK_TICKS = 100;

/**
 * User + system CPU in ms (10 ms resolution) of process `pid`: its own (utime, stime), or
 * that of its children it has waited for (cutime, cstime). The name before the fields may
 * hold spaces and ')', so they are counted from its last ')'.
 */
export function procCpuMs(pid: number | 'self', whose: 'own' | 'children' = 'own'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = whose === 'own' ? 11 : 13; // utime is the stat's 14th field, the 12th after the name
  return (Number(fields[at]) + Number(fields[at + 1])) * (1000 / CLOCK_TICKS);
}
