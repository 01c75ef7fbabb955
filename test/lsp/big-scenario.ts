// A long, realistic scenario for the performance test and the benchmark:
// declarations, then rounds of opens, mappings, forks and closes over many
// files, with a few denied steps, about `lines` lines in all.

export function bigScenario(lines = 1000): string {
  const out = ['scenario "big"', 'kernel 6.18', 'init passthrough max_stack_depth=1 direct_io_allow_mmap'];
  const files = 40;
  for (let i = 0; i < files; i++) out.push(`file data${i}.db`);
  for (let i = 0; i < files; i++) out.push(`backing b${i} "/srv/data${i}.db"`);
  out.push('process p1');
  let round = 0;
  while (out.length < lines - 12) {
    const f = `data${round % files}.db`;
    const b = `b${round % files}`;
    const r = round++;
    out.push(
      `open ${f} as c${r} rdwr reply keep_cache`,
      `mmap c${r} shared as m${r}`,
      `open ${f} as x${r} reply passthrough backing=${b}   # denied: caching users`,
      `munmap m${r}`,
      `close c${r}`,
      `p1: open ${f} as p${r} reply passthrough backing=${b}`,
      `p1: read p${r}`,
      `open ${f} as d${r} reply direct_io`,
      `expect ${f} passthrough`,
      `p1: close p${r}`,
      `close d${r}`,
      `expect ${f} idle`,
    );
  }
  while (out.length < lines) out.push('# end');
  return out.join('\n') + '\n';
}

/**
 * A scenario of exactly `steps` steps that exercises every kind of step: opens and
 * denials, shared mmaps, forks and exits, blocking writes woken by their end
 * (the performance issue's million-step scenario, and its test).
 */
export function stepScenario(steps: number): string {
  const out = ['kernel 6.18', 'init passthrough direct_io_allow_mmap'];
  for (let i = 0; i < 8; i++) out.push(`file f${i}`, `backing b${i}`);
  out.push('process w', 'process r');
  // The 8 backing lines are steps too.
  let left = steps - 8;
  for (let i = 0; left > 0; i++) {
    const k = i % 8;
    const block = [
      `open f${k} as c${i}`,
      `open f${k} as p${i} reply passthrough backing=b${k}`,
      `mmap c${i} shared as m${i}`,
      `close c${i}`,
      `munmap m${i}`,
      `open f${k} as q${i} reply passthrough backing=b${k}`,
      `mmap q${i} shared as n${i}`,
      `fork as k${i}`,
      `k${i}: exit`,
      `close q${i}`,
      `w: open f${k} as d${i} reply direct_io parallel_direct_writes`,
      `w: write d${i} begin as x${i}`,
      `r: open f${k} as e${i}`,
      `write x${i} end`,
      `r: close e${i}`,
      `w: close d${i}`,
      `munmap n${i}`,
    ];
    for (const line of block.slice(0, left)) out.push(line);
    left -= block.length;
  }
  return out.join('\n') + '\n';
}
