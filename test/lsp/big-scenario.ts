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
