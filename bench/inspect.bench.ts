// Inspection speed, on one machine state (issue 3):
//  1. 200 processes hold 20 descriptors each on one FUSE mount (bindfs);
//     `fuselens inspect MOUNT --json` against `lsof +f -- MOUNT`, each run
//     several times in turn, medians and their ratio printed; every
//     descriptor must be found (exit 1 otherwise, or below the 3× target).
//  2. Parsing a 1,000-mount mountinfo, and listMounts over it: time printed.
// Needs root, bindfs and lsof (scripts/setup.sh) and the built CLI (npm run bench builds).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectMount, listMounts, parseMountInfo } from '../server/inspect';
import { bindfs, scratch } from '../test/support/fuse-mounts';
import { startHolder, type Holder } from '../test/support/inspect-holder';

const PROCESSES = 200;
const PER_PROCESS = 20;
const RUNS = 5;
const TARGET = 3;
const CLI = join(__dirname, '..', 'bin', 'fuselens');

function timed(cmd: string, args: string[]): { ms: number; stdout: string; status: number | null } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, stdout: r.stdout, status: r.status };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function descriptors(): Promise<boolean> {
  if (!existsSync(join(__dirname, '..', 'dist', 'cli.js'))) throw new Error('dist/cli.js missing: run npm run build first');
  const { dir, mountpoint } = scratch('fuselens-bench-');
  const src = join(dir, 'src');
  mkdirSync(src);
  for (let i = 0; i < PER_PROCESS; i++) writeFileSync(join(src, `f${i}`), 'x');
  const mount = await bindfs(dir, src, mountpoint);
  const holders: Holder[] = [];
  try {
    for (let p = 0; p < PROCESSES; p++) {
      holders.push(await startHolder(Array.from({ length: PER_PROCESS }, (_, i) => `open:f${i}:${i % 2 ? 'rdwr' : 'rdonly'}:${mountpoint}/f${i}`)));
    }
    const expected = new Set(holders.flatMap((h) => Object.values(h.fds).map((fd) => `${h.pid}:${fd}`)));
    const startup: number[] = [];
    const inProcess: number[] = [];
    const ours: number[] = [];
    const theirs: number[] = [];
    let found = 0;
    let lsofFound = 0;
    for (let run = 0; run < RUNS; run++) {
      startup.push(timed(process.execPath, [CLI, '--version']).ms);
      const t0 = process.hrtime.bigint();
      inspectMount(mountpoint);
      inProcess.push(Number(process.hrtime.bigint() - t0) / 1e6);
      const a = timed(process.execPath, [CLI, 'inspect', mountpoint, '--json']);
      ours.push(a.ms);
      const doc = JSON.parse(a.stdout) as { inodes: { opens: { pid: number; fd: number }[] }[] };
      found = doc.inodes.flatMap((i) => i.opens).filter((o) => expected.has(`${o.pid}:${o.fd}`)).length;
      const b = timed('lsof', ['+f', '--', mountpoint]);
      theirs.push(b.ms);
      lsofFound = b.stdout.split('\n').filter((l) => {
        const f = l.split(/\s+/);
        return expected.has(`${f[1]}:${parseInt(f[3] ?? '', 10)}`);
      }).length;
    }
    const ratio = median(theirs) / median(ours);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`${PROCESSES} processes x ${PER_PROCESS} descriptors on one bindfs mount (${expected.size} descriptors), median of ${RUNS} runs, load average ${load}:`);
    console.log(`  fuselens inspect --json  ${median(ours).toFixed(1)} ms  (found ${found}/${expected.size})`);
    console.log(`  (node + CLI bundle start-up alone, fuselens --version: ${median(startup).toFixed(1)} ms; inspectMount() in process: ${median(inProcess).toFixed(1)} ms)`);
    console.log(`  lsof +f -- MOUNT         ${median(theirs).toFixed(1)} ms  (found ${lsofFound}/${expected.size})`);
    console.log(`  ratio lsof / fuselens    ${ratio.toFixed(2)}x  (target >= ${TARGET}x)`);
    const ok = found === expected.size && ratio >= TARGET;
    if (!ok) console.log('  FAILED: ' + (found !== expected.size ? 'descriptors missing' : `below ${TARGET}x`));
    return ok;
  } finally {
    await Promise.all(holders.map((h) => h.stop()));
    await mount.unmount();
  }
}

function mountinfo1000(): void {
  const lines = ['22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw'];
  for (let i = 0; i < 1000; i++)
    lines.push(`${100 + i} 22 0:${300 + i} / /mnt/fuse\\040${i} rw,nosuid,nodev,relatime shared:${i + 2} - fuse.bench${i} src${i} rw,user_id=0,group_id=0,allow_other`);
  const text = lines.join('\n') + '\n';
  parseMountInfo(text); // warm up
  const N = 50;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) parseMountInfo(text);
  const parseMs = Number(process.hrtime.bigint() - t0) / 1e6 / N;
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-bench-mi-'));
  try {
    mkdirSync(join(dir, 'proc', 'self'), { recursive: true });
    writeFileSync(join(dir, 'proc', 'self', 'mountinfo'), text);
    const t1 = process.hrtime.bigint();
    const { mounts } = listMounts({ proc: join(dir, 'proc'), sys: join(dir, 'sys') });
    const listMs = Number(process.hrtime.bigint() - t1) / 1e6;
    console.log(`1,000-mount mountinfo (${text.length} bytes): parse ${parseMs.toFixed(2)} ms, listMounts ${listMs.toFixed(1)} ms (${mounts.length} FUSE mounts)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

descriptors().then(
  (ok) => {
    mountinfo1000();
    process.exit(ok ? 0 : 1);
  },
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
