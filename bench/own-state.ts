// The own state of inspect.bench.ts (200 processes, each opening 20 files of the mount
// itself), started and held by a process of its own: `node --import tsx bench/own-state.ts
// MOUNTPOINT` prints `PID:FD` of every descriptor as one JSON line, and stops the holders
// when its stdin closes. Held from the bench's process, each holder's stdin, stdout and
// stderr were pipes of that process (600), and that process is read whole at each refresh
// it measures (it runs): a cost the language server, which holds no such pipes, never has.

import { startHolder, type Holder } from '../test/support/inspect-holder';

async function main(mountpoint: string): Promise<void> {
  const holders: Holder[] = [];
  for (let p = 0; p < 200; p++)
    holders.push(await startHolder(Array.from({ length: 20 }, (_, i) => `open:f${i}:${i % 2 ? 'rdwr' : 'rdonly'}:${mountpoint}/f${i}`)));
  process.stdout.write(JSON.stringify(holders.flatMap((h) => Object.values(h.fds).map((fd) => `${h.pid}:${fd}`))) + '\n');
  process.stdin.on('end', () => void Promise.all(holders.map((h) => h.stop())).then(() => process.exit(0)));
  process.stdin.resume();
}

void main(process.argv[2]!);
