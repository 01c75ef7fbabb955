// `fuselens ARGS` run in-process through the CLI's main, its output collected.

import { main } from '../../server/cli/main';

export async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}
