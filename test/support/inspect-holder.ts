// Compiles test/support/inspect-holder.c (once per content) and runs it; see that file for the steps.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const SOURCE = join(__dirname, 'inspect-holder.c');

export function holderBinary(): string {
  const hash = createHash('sha256').update(readFileSync(SOURCE)).digest('hex').slice(0, 16);
  const bin = join(tmpdir(), `fuselens-inspect-holder-${hash}`);
  if (!existsSync(bin)) {
    execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', `${bin}.${process.pid}`, SOURCE]);
    renameSync(`${bin}.${process.pid}`, bin);
  }
  return bin;
}

export interface Holder {
  pid: number;
  fds: Record<string, number>;
  maps: Record<string, string>;
  children: Record<string, number>;
  process: ChildProcess;
  /** Sends a command (`touch NAME`, `mmap`) and waits until its thread has started. */
  command(line: string): Promise<void>;
  /** Closes its stdin (it exits; its children die with it) and waits. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

export async function startHolder(steps: string[]): Promise<Holder> {
  const child = spawn(holderBinary(), steps, { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const rl = createInterface({ input: child.stdout! });
  const lines: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  rl.on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  const nextLine = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) return resolve(l);
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`inspect-holder exited ${code}: ${stderr}`)));
    });
  const report = JSON.parse(await nextLine()) as Omit<Holder, 'process' | 'stop' | 'command'>;
  return {
    ...report,
    process: child,
    command: async (line) => {
      child.stdin!.write(line + '\n');
      const reply = await nextLine();
      if (reply !== 'started') throw new Error(`inspect-holder: ${line}: ${reply} ${stderr}`);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.stdin!.end();
        await gone;
      }
      running.delete(child);
    },
  };
}
