// A real multithreaded passthrough server for the tests: libfuse 3.18.2's
// example/passthrough_hp, built once from ../shared/vendor (see its README.md)
// into .cache/, mounted in the foreground through fuse-mounts.ts (so every
// mount is removed on every exit path), plus the C programs that drive it and
// whose own results are the truth: fuse-workload.c (threads × processes of
// open/read/close) and backing-open-shim.c (forces the server's fallback from
// passthrough). The holder that keeps a file open is inspect-holder.ts.

import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { mountWith, scratch, type TestMount } from './fuse-mounts';

const ROOT = join(__dirname, '..', '..');
const CACHE = join(ROOT, '.cache');
const TARBALL = 'libfuse-3.18.2.tar.gz';
const BUILD_TOOLS = ['meson', 'ninja', 'pkg-config', 'g++', 'cc'];

/**
 * ../shared/vendor next to the repo root, or next to the main checkout when this is a
 * `git worktree` of it (a worktree's own parent has no shared/).
 */
function vendorDir(): string | undefined {
  const roots = [ROOT];
  const common = spawnSync('git', ['-C', ROOT, 'rev-parse', '--path-format=absolute', '--git-common-dir'], { encoding: 'utf8' });
  if (common.status === 0) roots.push(dirname(common.stdout.trim()));
  return roots.map((r) => join(r, '..', 'shared', 'vendor')).find((d) => existsSync(join(d, TARBALL)));
}

/**
 * Moves a freshly built `tmp` to `final` unless another process got there first (two test
 * files may build at once; rename(2) is atomic, and the loser's copy is thrown away).
 */
function publish(tmp: string, final: string): void {
  try {
    renameSync(tmp, final);
  } catch (err) {
    if (!existsSync(final)) throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
}

function contentKey(...parts: Array<string | Buffer>): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

export type Availability = { binary: string; skip?: undefined } | { binary?: undefined; skip: string };

let built: Availability | undefined;

/**
 * The passthrough_hp binary, built on first use (~17 s on 2 cores), or why the tests that
 * need it skip: no ../shared/vendor (a user's clone), or not root (FUSE_DEV_IOC_BACKING_OPEN
 * needs CAP_SYS_ADMIN, fs/fuse/backing.c). Where the tarball is there (CI) a missing build
 * tool is an error, not a skip: scripts/setup.sh installs them.
 */
export function passthroughHp(): Availability {
  if (built) return built;
  const vendor = vendorDir();
  if (!vendor) return (built = { skip: `needs libfuse's passthrough_hp: ../shared/vendor/${TARBALL} is not next to this checkout (it is in CI)` });
  if (process.getuid?.() !== 0) return (built = { skip: 'needs root: passthrough_hp mounts, and FUSE_DEV_IOC_BACKING_OPEN needs CAP_SYS_ADMIN' });
  const missing = BUILD_TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length > 0) throw new Error(`building passthrough_hp needs ${missing.join(', ')}: run scripts/setup.sh`);

  const tarball = join(vendor, TARBALL);
  const final = join(CACHE, `passthrough-hp-${contentKey(readFileSync(tarball))}`);
  // The build's RUNPATH is $ORIGIN/../lib, so the whole build tree moves as one.
  const binary = join(final, 'libfuse-3.18.2', 'build', 'example', 'passthrough_hp');
  if (!existsSync(binary)) {
    const tmp = `${final}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const src = join(tmp, 'libfuse-3.18.2');
    const run = (cmd: string, args: string[]): void => {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    };
    try {
      run('tar', ['xzf', tarball, '-C', tmp]);
      run('meson', ['setup', join(src, 'build'), src, '-Dutils=false', '-Dtests=false', '-Denable-io-uring=false', '-Dexamples=true']);
      run('ninja', ['-C', join(src, 'build'), 'example/passthrough_hp']);
    } catch (err) {
      rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
    publish(tmp, final);
  }
  return (built = { binary });
}

/** Compiles a C file of test/support into .cache/ once per content. */
function compiled(source: string, args: string[]): string {
  const text = readFileSync(join(__dirname, source));
  const out = join(CACHE, 'c-helpers', `${source.replace(/\.c$/, '')}-${contentKey(text, args.join(' '))}${args.includes('-shared') ? '.so' : ''}`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    execFileSync('cc', ['-O2', '-Wall', '-o', tmp, join(__dirname, source), ...args]);
    publish(tmp, out);
  }
  return out;
}

export const workloadBinary = (): string => compiled('fuse-workload.c', ['-pthread']);
export const backingOpenShim = (): string => compiled('backing-open-shim.c', ['-shared', '-fPIC', '-ldl']);

export interface PassthroughHpOptions {
  /** false: --nopassthrough. */
  passthrough?: boolean;
  /** false: --nosplice (READ replies by write(2), not splice(2) from a pipe). */
  splice?: boolean;
  directIo?: boolean;
  /** --single: one thread reads /dev/fuse. */
  single?: boolean;
  /** --debug (passthrough_hp's own lines, e.g. "setup shared backing file N for inode ...") */
  debug?: boolean;
  /** --debug-fuse (libfuse's request/reply lines) */
  debugFuse?: boolean;
  /** Files of the source directory: name → content. */
  files?: Record<string, string | Buffer>;
  /** A file of `files` whose FUSE_DEV_IOC_BACKING_OPEN fails (EINVAL) through backing-open-shim.c. */
  failBackingOpen?: string;
}

export interface PassthroughHpMount extends TestMount {
  /** The source directory passthrough_hp serves. */
  source: string;
  /** The daemon's stderr (always written; with debug options it is the debug log). Inside `dir`: read it before unmount(). */
  stderrFile: string;
  stderr(): string;
  /** `name` on the mount. */
  path(name: string): string;
}

export function passthroughHpArgs(options: PassthroughHpOptions): string[] {
  return [
    '--foreground',
    ...(options.passthrough === false ? ['--nopassthrough'] : []),
    ...(options.splice === false ? ['--nosplice'] : []),
    ...(options.directIo ? ['--direct-io'] : []),
    ...(options.single ? ['--single'] : []),
    ...(options.debug ? ['--debug'] : []),
    ...(options.debugFuse ? ['--debug-fuse'] : []),
  ];
}

/** Mounts passthrough_hp over a fresh source directory holding `options.files`; waits until the mount is in mountinfo. */
export async function mountPassthroughHp(binary: string, options: PassthroughHpOptions = {}): Promise<PassthroughHpMount> {
  const { dir, mountpoint } = scratch('fuselens-passthrough-hp-');
  const source = join(dir, 'src');
  mkdirSync(source);
  for (const [name, content] of Object.entries(options.files ?? {})) writeFileSync(join(source, name), content);
  const env = { ...process.env };
  if (options.failBackingOpen !== undefined) {
    env.LD_PRELOAD = backingOpenShim();
    env.FUSELENS_FAIL_BACKING_OPEN = join(source, options.failBackingOpen);
  }
  const stderrFile = join(dir, 'daemon.stderr');
  const mount = await mountWith(dir, mountpoint, binary, [...passthroughHpArgs(options), source, mountpoint], { env, stderrFile });
  return Object.assign(mount, {
    source,
    stderrFile,
    stderr: () => readFileSync(stderrFile, 'utf8'),
    path: (name: string) => join(mountpoint, name),
  });
}

export interface FileResult {
  attempted: number;
  opened: number;
  bytes: number;
  /** errno name → count */
  openErrors: Record<string, number>;
  readErrors: Record<string, number>;
}

export interface WorkloadResult {
  threads: number;
  iterations: number;
  processes: number;
  ms: number;
  /** By path as given. */
  files: Record<string, FileResult>;
}

export interface WorkloadOptions {
  threads?: number;
  iterations?: number;
  processes?: number;
  /** Open O_RDWR instead of O_RDONLY. */
  write?: boolean;
  /** Each thread waits this long after its last close before it ends (see fuse-workload.c -l). */
  lingerMs?: number;
}

/** The workload's counts for one of its files. */
export function resultFor(r: WorkloadResult, path: string): FileResult {
  const f = r.files[path];
  if (!f) throw new Error(`the workload reports no ${path} (it has ${Object.keys(r.files).join(', ')})`);
  return f;
}

/** Runs fuse-workload.c on `files` (distinct paths) and returns what the kernel answered it. */
export async function runWorkload(files: string[], options: WorkloadOptions = {}): Promise<WorkloadResult> {
  const args = [
    '-t', String(options.threads ?? 8),
    '-i', String(options.iterations ?? 100),
    '-p', String(options.processes ?? 1),
    ...(options.write ? ['-w'] : []),
    ...(options.lingerMs ? ['-l', String(options.lingerMs)] : []),
    ...files,
  ];
  const { stdout } = await promisify(execFile)(workloadBinary(), args, { maxBuffer: 1 << 20 });
  return JSON.parse(stdout) as WorkloadResult;
}
