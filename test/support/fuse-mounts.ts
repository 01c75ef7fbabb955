// Real FUSE mounts for tests: bindfs, mergerfs, squashfuse, run in the
// foreground so the test knows the daemon's pid. Every mount is registered and
// removed on every exit path: the test's own cleanup, process exit, SIGINT/SIGTERM.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestMount {
  mountpoint: string;
  /** The daemon (foreground, so this is the process holding /dev/fuse). */
  daemon: ChildProcess;
  pid: number;
  /** A scratch directory holding the mountpoint and the filesystem's sources. */
  dir: string;
  unmount(): Promise<void>;
}

const live = new Set<TestMount>();

export function mounted(mountpoint: string): boolean {
  // mountinfo writes space, tab, newline and backslash as octal escapes (fs/proc_namespace.c, mangle()).
  const escaped = mountpoint.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === escaped);
}

/** Polls until `check` holds or the deadline passes. */
export async function until(check: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function unmountNow(m: TestMount): void {
  try {
    process.kill(m.pid, 'SIGCONT'); // a test may have stopped it
  } catch {
    // gone already
  }
  if (mounted(m.mountpoint)) {
    const r = spawnSync('umount', [m.mountpoint], { timeout: 5000 });
    if (r.status !== 0 && mounted(m.mountpoint)) spawnSync('umount', ['-l', m.mountpoint], { timeout: 5000 });
  }
}

async function unmount(m: TestMount): Promise<void> {
  if (!live.has(m)) return;
  unmountNow(m);
  await until(() => !alive(m.pid) || m.daemon.exitCode !== null || m.daemon.signalCode !== null, `${m.daemon.spawnfile} to exit`, 5000).catch(() => {
    m.daemon.kill('SIGKILL');
  });
  live.delete(m);
  rmSync(m.dir, { recursive: true, force: true });
}

function cleanupAllSync(): void {
  for (const m of live) {
    unmountNow(m);
    try {
      m.daemon.kill('SIGKILL');
    } catch {
      // gone
    }
    rmSync(m.dir, { recursive: true, force: true });
  }
  live.clear();
}
process.on('exit', cleanupAllSync);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanupAllSync();
    process.kill(process.pid, sig);
  });
}

/** A scratch directory whose mountpoint is `<dir>/mnt` (its name may contain spaces). */
export function scratch(prefix: string, mountName = 'mnt'): { dir: string; mountpoint: string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const mountpoint = join(dir, mountName);
  mkdirSync(mountpoint);
  return { dir, mountpoint };
}

export interface DaemonOptions {
  env?: NodeJS.ProcessEnv;
  /** Write the daemon's stderr to this file (a debug log can be large) instead of keeping it for the error message. */
  stderrFile?: string;
}

/** Starts `command args` (which must end with the mountpoint and stay in the foreground) and waits for the mount. */
export async function mountWith(dir: string, mountpoint: string, command: string, args: string[], options: DaemonOptions = {}): Promise<TestMount> {
  const logFd = options.stderrFile === undefined ? undefined : openSync(options.stderrFile, 'w');
  const daemon = spawn(command, args, { stdio: ['ignore', 'ignore', logFd ?? 'pipe'], env: options.env });
  if (logFd !== undefined) closeSync(logFd);
  let stderr = '';
  daemon.stderr?.on('data', (d) => (stderr += String(d)));
  const m: TestMount = { mountpoint, daemon, pid: daemon.pid!, dir, unmount: () => unmount(m) };
  live.add(m);
  try {
    await until(() => mounted(mountpoint) || daemon.exitCode !== null, `${command} to mount ${mountpoint}`);
    if (!mounted(mountpoint)) {
      const log = options.stderrFile === undefined ? stderr : readFileSync(options.stderrFile, 'utf8');
      throw new Error(`${command} ${args.join(' ')} exited ${daemon.exitCode}: ${log}`);
    }
  } catch (err) {
    await unmount(m);
    throw err;
  }
  return m;
}

export function bindfs(dir: string, source: string, mountpoint: string): Promise<TestMount> {
  return mountWith(dir, mountpoint, 'bindfs', ['-f', source, mountpoint]);
}

/**
 * A bindfs mount of a fresh scratch folder holding `names`, each file its name repeated
 * `size` times, unmounted when the test ends; its mountpoint.
 */
export async function bindfsOfFiles(t: { after(fn: () => unknown): void }, prefix: string, names: string[], size: number): Promise<string> {
  const { dir, mountpoint } = scratch(prefix);
  const src = join(dir, 'src');
  mkdirSync(src);
  for (const f of names) writeFileSync(join(src, f), f.repeat(size));
  const mount = await bindfs(dir, src, mountpoint);
  t.after(() => mount.unmount());
  return mountpoint;
}

/**
 * The project's examples on a bindfs mount, with `tail -f held.txt` holding one of its
 * files open: the mount the editor tests show in the sidebar and ask the server about.
 */
export async function examplesWithHeldFile(prefix: string): Promise<{ mount: TestMount; holder: ChildProcess }> {
  const s = scratch(prefix);
  const source = join(s.dir, 'src');
  cpSync(join(__dirname, '..', '..', 'examples'), source, { recursive: true });
  writeFileSync(join(source, 'held.txt'), 'held open by tail\n');
  const mount = await bindfs(s.dir, source, s.mountpoint);
  const holder = spawn('tail', ['-f', join(s.mountpoint, 'held.txt')], { stdio: 'ignore' });
  const pid = holder.pid!;
  try {
    await until(() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('held.txt');
      } catch {
        return false;
      }
    }, 'tail to open held.txt');
  } catch (err) {
    holder.kill('SIGKILL');
    throw err;
  }
  return { mount, holder };
}

export function mergerfs(dir: string, branches: string[], mountpoint: string): Promise<TestMount> {
  return mountWith(dir, mountpoint, 'mergerfs', ['-f', branches.join(':'), mountpoint]);
}

/** Builds a squashfs image of `source` and mounts it with squashfuse. */
export function squashfuse(dir: string, source: string, mountpoint: string): Promise<TestMount> {
  const image = join(dir, 'image.squashfs');
  const r = spawnSync('mksquashfs', [source, image, '-quiet', '-noappend', '-no-progress'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mksquashfs failed: ${r.stderr}`);
  return mountWith(dir, mountpoint, 'squashfuse', ['-f', image, mountpoint]);
}

/** `rclone mount` of a local directory (Go, go-fuse: 64-bit inode numbers, node ids reused after FORGET); offline, no config. */
export function rcloneMount(dir: string, source: string, mountpoint: string, options: string[] = []): Promise<TestMount> {
  return mountWith(dir, mountpoint, 'rclone', ['mount', source, mountpoint, '--config', '/dev/null', ...options]);
}

// Each file's Unix mode in its entry (external_attr): fuse-zip answers EIO for a file without one.
const MAKE_ZIP = `import os, sys, zipfile
source, out = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(out, "w")
for name in sorted(os.listdir(source)):
    path = os.path.join(source, name)
    i = zipfile.ZipInfo(name)
    i.create_system = 3
    i.external_attr = os.stat(path).st_mode << 16
    with open(path, "rb") as f:
        z.writestr(i, f.read())
z.close()`;

/** A zip of the files of `source` (with their modes, made with python3's zipfile) mounted read-only with fuse-zip (libfuse 2.9: one fh for every open of a file). */
export function fuseZip(dir: string, source: string, mountpoint: string): Promise<TestMount> {
  const zip = join(dir, 'files.zip');
  const r = spawnSync('python3', ['-c', MAKE_ZIP, source, zip], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`making ${zip} failed: ${r.stderr}`);
  return mountWith(dir, mountpoint, 'fuse-zip', ['-f', '-r', zip, mountpoint]);
}
