// FUSE servers from Debian's packages that nobody here wrote — rclone mount of
// a local directory (Go: 64-bit inode numbers, node ids reused after FORGET),
// fuse-zip (libfuse 2.9: one fh for every open of a file), squashfuse — with
// the workload each is driven by, and a tracefs and a strace capture of the
// same stretch of it. Used by test/real-servers/other-servers.test.ts and by
// test/fixtures/real-servers/other-record.ts, which recorded the other-*
// fixtures the same way.

import { spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listMounts } from '../../server/inspect';
import { startCapture } from '../../server/trace';
import { fuseZip, rcloneMount, scratch, squashfuse, type TestMount } from './fuse-mounts';
import { runWorkload, type WorkloadOptions, type WorkloadResult } from './passthrough-hp';

/** The files each server serves: name → content. */
// Small, so that the strace captures (every READ reply's bytes, four characters each) stay small as fixtures.
export const FILES: Record<string, string> = { a: 'a'.repeat(1000), b: 'b'.repeat(2000), c: 'c'.repeat(300) };

export interface DebianServer {
  name: string;
  /** The binaries it needs (besides root and /dev/fuse). */
  needs: string[];
  mount(): Promise<TestMount>;
  /**
   * The files of FILES the workload opens in each of two phases; between them the kernel evicts
   * every unused inode (forgetUnusedInodes), so each file of the first phase gets a FORGET and a second life.
   */
  phases: [string[], string[]];
  workload: WorkloadOptions;
  /** It hands out inode numbers above 2^53 (a double would round them). */
  bigInodes?: boolean;
  /** It gives a forgotten node id to the next new inode. */
  reusesNodeIds?: boolean;
}

/** The program every server also serves, executable: a process running it from the mount has its exe there. */
export const PROGRAM = 'sleep';

/** `<dir>/src`: FILES, and a copy of sleep(1) as PROGRAM. */
function sourceDir(dir: string): string {
  const source = join(dir, 'src');
  mkdirSync(source);
  for (const [name, content] of Object.entries(FILES)) writeFileSync(join(source, name), content);
  const sleep = spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim();
  copyFileSync(sleep, join(source, PROGRAM));
  chmodSync(join(source, PROGRAM), 0o755);
  return source;
}

export const DEBIAN_SERVERS: DebianServer[] = [
  {
    name: 'rclone',
    needs: ['rclone'],
    mount: () => {
      const { dir, mountpoint } = scratch('fuselens-rclone-');
      // rclone's files are 0666 unless told otherwise: PROGRAM must be executable.
      return rcloneMount(dir, sourceDir(dir), mountpoint, ['--file-perms', '0755']);
    },
    phases: [['a', 'b'], ['c', 'a']],
    workload: { processes: 2, threads: 8, iterations: 20 },
    bigInodes: true,
    reusesNodeIds: true,
  },
  {
    name: 'fuse-zip',
    needs: ['fuse-zip', 'python3'],
    mount: () => {
      const { dir, mountpoint } = scratch('fuselens-fuse-zip-');
      return fuseZip(dir, sourceDir(dir), mountpoint);
    },
    // One file: every open of it gets the same fh, so a RELEASE's fh cannot tell which open it ends.
    phases: [['a'], ['a']],
    workload: { processes: 4, threads: 8, iterations: 25 },
  },
  {
    name: 'squashfuse',
    needs: ['squashfuse', 'mksquashfs'],
    mount: () => {
      const { dir, mountpoint } = scratch('fuselens-squashfuse-');
      return squashfuse(dir, sourceDir(dir), mountpoint);
    },
    phases: [['a', 'b'], ['c', 'a']],
    workload: { processes: 2, threads: 8, iterations: 20 },
  },
];

const has = (binary: string): boolean => spawnSync('sh', ['-c', `command -v ${binary}`]).status === 0;

/** Why `s` cannot run here (not root, no /dev/fuse, a binary missing), or false. */
export function skipReason(s: DebianServer): string | false {
  if (process.getuid?.() !== 0) return `needs root: ${s.name} mounts, tracefs and strace of its daemon`;
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK);
  } catch {
    return 'needs /dev/fuse';
  }
  const missing = [...s.needs, 'strace', 'lsof'].filter((b) => !has(b));
  if (missing.length > 0) return `needs ${missing.join(', ')} (scripts/setup.sh installs them)`;
  return false;
}

/** st_ino as the kernel prints it (`stat -c %i`), exact at 64 bits. */
export const statIno = (path: string): string => spawnSync('stat', ['-c', '%i', path], { encoding: 'utf8' }).stdout.trim();

/**
 * Evicts every unused inode (`echo 2 > /proc/sys/vm/drop_caches`: dentries and inodes, not the page
 * cache), so the kernel sends FORGET for each (fuse_evict_inode), then gives the daemon time to read them.
 */
export async function forgetUnusedInodes(): Promise<void> {
  writeFileSync('/proc/sys/vm/drop_caches', '2');
  await new Promise((r) => setTimeout(r, 300));
}

export function connectionOf(m: TestMount): number {
  const found = listMounts().mounts.find((x) => x.mountpoint === m.mountpoint);
  if (!found) throw new Error(`${m.mountpoint} is not listed by fuselens mounts`);
  return found.connection;
}

let primes = 0;

export interface BothCaptures<T> {
  /** `fuselens capture --connection N` (tracefs). */
  tracefsFile: string;
  /** `fuselens capture --connection N --daemon` (strace). */
  straceFile: string;
  /** The LOOKUPs of missing names the test made after both captures began. */
  primed: number;
  result: T;
}

/**
 * A tracefs capture and a strace capture of the same stretch, written to `<prefix>.tracefs` and
 * `<prefix>.strace`: first `stat`s of names that do not exist, one after another (LOOKUPs, so that a
 * request strace loses as it attaches — a daemon thread blocked in read() then may get its next
 * request unprinted — is one of these, not an OPEN), then `work`.
 */
export async function captureBoth<T>(m: TestMount, prefix: string, work: () => Promise<T>): Promise<BothCaptures<T>> {
  const connection = connectionOf(m);
  const tracefsFile = `${prefix}.tracefs`;
  const straceFile = `${prefix}.strace`;
  const tracefs = await startCapture({ connection, output: tracefsFile });
  let result: T;
  let primed = 0;
  try {
    const strace = await startCapture({ connection, output: straceFile, daemon: m.pid });
    try {
      const threads = readdirSync(`/proc/${m.pid}/task`).length;
      for (; primed < 2 * threads; primed++) spawnSync('stat', [join(m.mountpoint, `.fuselens-prime-${primes++}`)]);
      result = await work();
      // RELEASE is asynchronous (fuse_file_put): let the last ones be answered before the captures end.
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      await strace.stop();
    }
  } finally {
    await tracefs.stop();
  }
  return { tracefsFile, straceFile, primed, result };
}

/** One recorded run (`<prefix>.run.json`): what the workload did — the truth — beside its two captures. */
export interface RecordedRun {
  server: string;
  mountpoint: string;
  /** Bytes of each file. */
  sizes: Record<string, number>;
  phases: [string[], string[]];
  /** fuse-workload.c's own results, per phase. */
  results: [WorkloadResult, WorkloadResult];
  /** st_ino of each file (`stat -c %i`) after each phase it was opened in: a new life may have a new number. */
  inos: Record<string, string[]>;
  primed: number;
  bigInodes: boolean;
  reusesNodeIds: boolean;
}

/**
 * Records one run of `s` on its mount `m`: every unused inode evicted, then under both captures
 * (captureBoth) the first phase of the workload, an eviction (each file of the first phase gets a
 * FORGET), the second phase. Writes `<prefix>.tracefs`, `<prefix>.strace` and `<prefix>.run.json`.
 */
export async function recordRun(s: DebianServer, m: TestMount, prefix: string, workload: WorkloadOptions = s.workload): Promise<RecordedRun> {
  await forgetUnusedInodes(); // so that each file's LOOKUP, and its inode number, is in the capture
  const inos: Record<string, string[]> = {};
  const phase = async (files: string[]): Promise<WorkloadResult> => {
    const r = await runWorkload(files.map((n) => join(m.mountpoint, n)), workload);
    for (const n of files) inos[n] = [...new Set([...(inos[n] ?? []), statIno(join(m.mountpoint, n))])];
    return r;
  };
  const { primed, result } = await captureBoth(m, prefix, async (): Promise<RecordedRun['results']> => {
    const first = await phase(s.phases[0]);
    await forgetUnusedInodes();
    return [first, await phase(s.phases[1])];
  });
  const run: RecordedRun = {
    server: s.name,
    mountpoint: m.mountpoint,
    sizes: Object.fromEntries(Object.entries(FILES).map(([n, c]) => [n, c.length])),
    phases: s.phases,
    results: result,
    inos,
    primed,
    bigInodes: s.bigInodes ?? false,
    reusesNodeIds: s.reusesNodeIds ?? false,
  };
  writeFileSync(`${prefix}.run.json`, JSON.stringify(run, null, 1) + '\n');
  return run;
}
