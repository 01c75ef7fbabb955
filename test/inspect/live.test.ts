// inspect on real FUSE mounts (bindfs, mergerfs, squashfuse) with a helper
// process that opens, maps, closes and forks through libc
// (test/support/inspect-holder.c). Needs root, /dev/fuse and fusectl
// (scripts/setup.sh). Every mount and process is removed on every exit path.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { abortConnection, exportScenario, inspectMount, listMounts, setConnectionLimit, type Inspection } from '../../server/inspect';
import { simulateScenario } from '../../server/scenario/simulate';
import { bindfs, mergerfs, mountWith, scratch, squashfuse, until, type TestMount } from '../support/fuse-mounts';
import { startHolder, type Holder } from '../support/inspect-holder';
import { inspectCliBundle } from '../support/inspect-cli-bundle';
import { tmpdir } from 'node:os';

const CLI = join(__dirname, '..', 'support', 'inspect-cli.ts');
const ROOT = join(__dirname, '..', '..');

function files(dir: string, names: string[]): void {
  mkdirSync(dir, { recursive: true });
  for (const n of names) writeFileSync(join(dir, n), Buffer.alloc(8192, n));
}

/** What the inspection says about the given pids, as comparable rows. */
function rows(ins: Inspection, pids: number[]): { opens: string[]; maps: string[] } {
  const opens: string[] = [];
  const maps: string[] = [];
  for (const i of ins.inodes) {
    const name = i.path?.slice(ins.mount.mountpoint.length + 1);
    for (const o of i.opens)
      if (pids.includes(o.pid)) opens.push(`${name} pid=${o.pid} fd=${o.fd} ${o.flags.join('|')} pos=${o.pos}${o.sharedWith ? ` shared=${o.sharedWith.join(',')}` : ''}`);
    for (const m of i.mappings)
      if (pids.includes(m.pid)) maps.push(`${name} pid=${m.pid} ${m.start} ${m.perms} ${m.shared ? 'shared' : 'private'}${m.withoutDescriptor ? ' nofd' : ''}`);
  }
  return { opens: opens.sort(), maps: maps.sort() };
}

/** Cleanups run last-registered first (node:test runs t.after hooks in registration order). */
function cleanups(t: { after: (fn: () => Promise<void>) => void }): (fn: () => unknown) => void {
  const stack: Array<() => unknown> = [];
  t.after(async () => {
    for (const fn of stack.reverse()) {
      try {
        await fn();
      } catch {
        // keep cleaning up
      }
    }
  });
  return (fn) => stack.push(fn);
}

/** The processes' ties to the mount as `pid kind path` rows, from an inspection (or its JSON). */
function tieRows(ins: Pick<Inspection, 'ties'>, pids: number[]): string[] {
  return ins.ties.filter((t) => pids.includes(t.pid)).map((t) => `${t.pid} ${t.kind} ${t.path} ino=${t.ino}`).sort();
}

/** lsof's view of a mount (`lsof +f -F pfin`: pid, FD, inode, name per file), cwd/rtd/txt named as the inspection names them. */
function lsofTies(mountpoint: string, pids: number[]): string[] {
  const r = spawnSync('lsof', ['+f', '-F', 'pfin', '--', mountpoint], { encoding: 'utf8', timeout: 20000 });
  const kinds: Record<string, string> = { cwd: 'cwd', rtd: 'root', txt: 'exe' };
  const rows: string[] = [];
  let pid = 0;
  let fd = '';
  let ino = '';
  for (const line of r.stdout.split('\n')) {
    const value = line.slice(1);
    if (line[0] === 'p') pid = Number(value);
    else if (line[0] === 'f') [fd, ino] = [value, ''];
    else if (line[0] === 'i') ino = value;
    else if (line[0] === 'n' && kinds[fd] && pids.includes(pid)) rows.push(`${pid} ${kinds[fd]} ${value} ino=${ino}`);
  }
  return rows.sort();
}

/** Spawns a long-running command (killed by the cleanups) and waits until /proc shows its `link` (cwd, exe) at `target`. */
async function standing(later: (fn: () => unknown) => void, command: string, args: string[], cwd: string, link: string, target: string): Promise<number> {
  const child = spawn(command, args, { cwd, stdio: 'ignore' });
  later(() => child.kill('SIGKILL'));
  const pid = child.pid!;
  await until(() => {
    try {
      return readlinkSync(`/proc/${pid}/${link}`) === target;
    } catch {
      return false;
    }
  }, `${command} to have its ${link} at ${target}`);
  return pid;
}

function cli(args: string[], timeoutMs = 20000, env?: NodeJS.ProcessEnv): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: timeoutMs, env: { ...process.env, ...env } });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

test('bindfs: O_DIRECT and plain opens, shared and private maps, a map after close, a fork — reported exactly', async (t) => {
  const later = cleanups(t);
  const { dir, mountpoint } = scratch('fuselens-live-', 'my mnt');
  const src = join(dir, 'src');
  files(src, ['a.txt', 'b.txt', 'c.txt', 'd.txt']);
  const mount: TestMount = await bindfs(dir, src, mountpoint);
  later(() => mount.unmount());
  const M = mountpoint;
  const h: Holder = await startHolder([
    `open:a:rdwr:${M}/a.txt`,
    'mmap:ma:a:shared:rw',
    `open:b:rdonly+direct:${M}/b.txt`,
    `open:c:rdonly:${M}/c.txt`,
    'mmap:mc:c:private:r',
    'close:c',
    `open:d:wronly+append:${M}/d.txt`,
    'fork:child',
  ]);
  later(() => h.stop());
  const child = h.children.child!;
  const P = h.pid;

  const ins = inspectMount(M);
  assert.equal(ins.mount.mountpoint, M);
  assert.equal(ins.mount.daemon?.pid, mount.pid);
  assert.equal(ins.mount.daemon?.source, 'fdinfo');
  assert.equal(ins.mount.connection, Number(ins.mount.device.split(':')[1]));
  assert.ok(ins.mount.connectionStats, ins.mount.connectionStatsMissing);
  const { a, b, d } = h.fds as Record<string, number>;
  assert.deepEqual(rows(ins, [P, child]), {
    opens: [
      `a.txt pid=${P} fd=${a} O_RDWR|O_LARGEFILE pos=0 shared=${child}:${a}`,
      `a.txt pid=${child} fd=${a} O_RDWR|O_LARGEFILE pos=0 shared=${P}:${a}`,
      `b.txt pid=${P} fd=${b} O_RDONLY|O_DIRECT|O_LARGEFILE pos=0 shared=${child}:${b}`,
      `b.txt pid=${child} fd=${b} O_RDONLY|O_DIRECT|O_LARGEFILE pos=0 shared=${P}:${b}`,
      `d.txt pid=${P} fd=${d} O_WRONLY|O_APPEND|O_LARGEFILE pos=0 shared=${child}:${d}`,
      `d.txt pid=${child} fd=${d} O_WRONLY|O_APPEND|O_LARGEFILE pos=0 shared=${P}:${d}`,
    ].sort(),
    maps: [
      `a.txt pid=${P} ${h.maps.ma} rw-s shared`,
      `a.txt pid=${child} ${h.maps.ma} rw-s shared`,
      `c.txt pid=${P} ${h.maps.mc} r--p private nofd`,
      `c.txt pid=${child} ${h.maps.mc} r--p private nofd`,
    ].sort(),
  });
  assert.ok(ins.inodes.every((i) => i.mode === 'unknown'));

  // The scenario export expresses the fork and replays without errors.
  const text = exportScenario(ins);
  assert.match(text, new RegExp(`^p${P}: fork as p${child}`, 'm'));
  assert.match(text, new RegExp(`^p${P}: open b\\.txt as f${P}_${b} rdonly o_direct`, 'm'));
  const sim = simulateScenario(text);
  assert.deepEqual(sim.diagnostics.filter((x) => x.severity === 'error'), []);

  // The CLI prints the same as JSON, and the mount in `mounts --json`.
  const j = cli(['inspect', M, '--json']);
  assert.equal(j.status, 0, j.stderr);
  const doc = JSON.parse(j.stdout);
  assert.deepEqual(Object.keys(doc).slice(0, 3), ['mount', 'inodes', 'warnings']);
  assert.deepEqual(rows(doc, [P, child]), rows(ins, [P, child]));
  // The procfs addon's batched reads (built by npm run build) and koffi's one by one find the same.
  const viaKoffi = cli(['inspect', M, '--json'], 20000, { FUSELENS_PROCFS: 'koffi' });
  assert.equal(viaKoffi.status, 0, viaKoffi.stderr);
  const koffiDoc = JSON.parse(viaKoffi.stdout);
  assert.deepEqual(koffiDoc.inodes, doc.inodes);
  assert.deepEqual({ ...koffiDoc.mount, connectionStats: undefined }, { ...doc.mount, connectionStats: undefined });
  const ms = cli(['mounts', '--json']);
  const mine = JSON.parse(ms.stdout).find((m: { mountpoint: string }) => m.mountpoint === M);
  assert.equal(mine.daemon.pid, mount.pid);
  assert.equal(mine.daemon.comm, 'bindfs');
  const human = cli(['inspect', M]);
  const comm = readFileSync(`/proc/${P}/comm`, 'utf8').trim();
  assert.match(human.stdout, new RegExp(`open  pid ${P} ${comm}  fd ${b}  O_RDONLY\\|O_DIRECT\\|O_LARGEFILE  pos 0  same open file as ${child}:${b}`));
});

test('after fork the parent closes one file and opens another: reported per process, exported as open + fork', async (t) => {
  const later = cleanups(t);
  const { dir, mountpoint: M } = scratch('fuselens-fork-');
  files(join(dir, 'src'), ['a.txt', 'b.txt']);
  const mount = await bindfs(dir, join(dir, 'src'), M);
  later(() => mount.unmount());
  const h = await startHolder([`open:x:rdwr:${M}/a.txt`, `open:keep:rdonly:${M}/a.txt`, 'fork:kid', 'close:x', `open:y:rdonly:${M}/b.txt`]);
  later(() => h.stop());
  const P = h.pid;
  const K = h.children.kid!;
  const { x, keep, y } = h.fds as Record<string, number>;
  const ins = inspectMount(M);
  assert.deepEqual(rows(ins, [P, K]).opens, [
    `a.txt pid=${P} fd=${keep} O_RDONLY|O_LARGEFILE pos=0 shared=${K}:${keep}`,
    `a.txt pid=${K} fd=${keep} O_RDONLY|O_LARGEFILE pos=0 shared=${P}:${keep}`,
    `a.txt pid=${K} fd=${x} O_RDWR|O_LARGEFILE pos=0`,
    `b.txt pid=${P} fd=${y} O_RDONLY|O_LARGEFILE pos=0`,
  ].sort());
  const text = exportScenario(ins);
  assert.match(text, new RegExp(`^p${P}: open a\\.txt as f${P}_${keep} rdonly .*\\np${P}: fork as p${K} .*\\np${K}: open a\\.txt as f${K}_${x} rdwr .*\\np${P}: open b\\.txt as f${P}_${y} rdonly`, 'm'));
  const sim = simulateScenario(text);
  assert.deepEqual(sim.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(sim.steps.map((s) => s.outcome), ['ok', 'ok', 'ok', 'ok']);
});

test('cwd, root and executable on the mount: listed per process as lsof +f lists them (cwd, rtd, txt); a mount nested inside is not the mount', async (t) => {
  const later = cleanups(t);
  const { dir, mountpoint: M } = scratch('fuselens-ties-');
  const src = join(dir, 'src');
  mkdirSync(join(src, 'sub', 'nested'), { recursive: true });
  // A static binary: it runs chroot'ed into the mount, where there is no libc.
  writeFileSync(join(dir, 'pause.c'), '#include <unistd.h>\nint main(void) { pause(); return 0; }\n');
  const cc = spawnSync('cc', ['-static', '-O2', '-o', join(src, 'pause'), join(dir, 'pause.c')], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const mount = await bindfs(dir, src, M);
  later(() => mount.unmount());
  assert.equal(spawnSync('mount', ['-t', 'tmpfs', 'nested', join(M, 'sub', 'nested')]).status, 0);
  later(() => spawnSync('umount', [join(M, 'sub', 'nested')]));

  const inSub = await standing(later, 'sleep', ['600'], join(M, 'sub'), 'cwd', join(M, 'sub'));
  const chrooted = await standing(later, 'chroot', [M, '/pause'], dir, 'exe', join(M, 'pause'));
  const fromMount = await standing(later, join(M, 'pause'), [], dir, 'exe', join(M, 'pause'));
  const inNested = await standing(later, 'sleep', ['600'], join(M, 'sub', 'nested'), 'cwd', join(M, 'sub', 'nested'));
  const pids = [inSub, chrooted, fromMount, inNested];

  const ins = inspectMount(M);
  const ino = (path: string): string => spawnSync('stat', ['-c', '%i', path], { encoding: 'utf8' }).stdout.trim();
  assert.deepEqual(tieRows(ins, pids), [
    `${inSub} cwd ${M}/sub ino=${ino(join(M, 'sub'))}`,
    `${chrooted} cwd ${M} ino=${ino(M)}`,
    `${chrooted} root ${M} ino=${ino(M)}`,
    `${chrooted} exe ${M}/pause ino=${ino(join(M, 'pause'))}`,
    `${fromMount} exe ${M}/pause ino=${ino(join(M, 'pause'))}`,
  ].sort());
  assert.deepEqual(tieRows(ins, pids), lsofTies(M, pids));
  assert.deepEqual(
    ins.ties.filter((t) => t.pid === chrooted).map((t) => t.kind),
    ['cwd', 'root', 'exe'],
    'by pid, then cwd, root, exe',
  );
  assert.equal(ins.ties.find((t) => t.pid === inSub)?.comm, 'sleep');

  const text = cli(['inspect', M]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`^  root  pid ${chrooted} pause  ${M}  inode ${ino(M)}$`, 'm'));
  assert.match(text.stdout, new RegExp(`^  cwd   pid ${inSub} sleep  ${M}/sub  inode `, 'm'));
  const doc = JSON.parse(cli(['inspect', M, '--json']).stdout) as Inspection;
  assert.deepEqual(tieRows(doc, pids), tieRows(ins, pids));
});

test('rclone (64-bit inode numbers): inode numbers and ties exact, as stat and lsof +f show them', async (t) => {
  if (!existsSync('/usr/bin/rclone')) {
    t.skip('rclone is not installed (apt-get install rclone)');
    return;
  }
  const later = cleanups(t);
  const { dir, mountpoint: M } = scratch('fuselens-rclone-');
  const src = join(dir, 'src');
  files(src, ['a.txt', 'b.txt']);
  mkdirSync(join(src, 'sub'));
  // A local directory as the remote, no config file: works offline.
  const mount = await mountWith(dir, M, 'rclone', ['mount', src, M, '--config', '/dev/null']);
  later(() => mount.unmount());
  const h = await startHolder([`open:a:rdonly:${M}/a.txt`, `open:b:rdwr:${M}/b.txt`, 'mmap:mb:b:shared:r']);
  later(() => h.stop());
  const inSub = await standing(later, 'sleep', ['600'], join(M, 'sub'), 'cwd', join(M, 'sub'));

  const stat = (path: string): string => spawnSync('stat', ['-c', '%i', path], { encoding: 'utf8' }).stdout.trim();
  const want = { a: stat(join(M, 'a.txt')), b: stat(join(M, 'b.txt')), sub: stat(join(M, 'sub')) };
  // rclone's numbers are 64-bit hashes: past 2^53 but for one in 2,048.
  assert.ok(Object.values(want).some((n) => BigInt(n) > BigInt(Number.MAX_SAFE_INTEGER)), JSON.stringify(want));
  const doc = JSON.parse(cli(['inspect', M, '--json']).stdout) as Inspection;
  const byName = new Map(doc.inodes.map((i) => [i.path, i]));
  assert.equal(String(byName.get(`${M}/a.txt`)?.ino), want.a);
  assert.equal(String(byName.get(`${M}/b.txt`)?.ino), want.b);
  assert.equal(byName.get(`${M}/b.txt`)?.mappings.length, 1);
  assert.deepEqual(tieRows(doc, [inSub]), [`${inSub} cwd ${M}/sub ino=${want.sub}`]);
  assert.deepEqual(tieRows(doc, [inSub]), lsofTies(M, [inSub]));
  // lsof's NODE column for the descriptors is the same exact number.
  const lsof = spawnSync('lsof', ['+f', '-F', 'pfi', '--', M], { encoding: 'utf8', timeout: 20000 }).stdout;
  assert.match(lsof, new RegExp(`^p${h.pid}$[\\s\\S]*^f${h.fds.a}\\n(?:[a-z].*\\n)*?i${want.a}$`, 'm'));
  const text = cli(['inspect', M]).stdout;
  assert.match(text, new RegExp(`^${M}/a\\.txt  inode ${want.a}  io mode: unknown$`, 'm'));
});

test('mergerfs and squashfuse: fstype, daemon, opens and maps', async (t) => {
  const later = cleanups(t);
  const { dir, mountpoint } = scratch('fuselens-merger-');
  files(join(dir, 'br1'), ['one.txt']);
  files(join(dir, 'br2'), ['two.txt']);
  const merged = await mergerfs(dir, [join(dir, 'br1'), join(dir, 'br2')], mountpoint);
  later(() => merged.unmount());
  const sq = scratch('fuselens-squash-');
  files(join(sq.dir, 'content'), ['img.bin']);
  const squash = await squashfuse(sq.dir, join(sq.dir, 'content'), sq.mountpoint);
  later(() => squash.unmount());

  const h = await startHolder([
    `open:two:rdwr:${mountpoint}/two.txt`,
    'mmap:m2:two:shared:rw',
    `open:img:rdonly:${sq.mountpoint}/img.bin`,
    'mmap:mi:img:shared:r',
    'mmap:mp:img:private:r',
  ]);
  later(() => h.stop());

  const { mounts } = listMounts();
  const m1 = mounts.find((m) => m.mountpoint === mountpoint)!;
  const m2 = mounts.find((m) => m.mountpoint === sq.mountpoint)!;
  assert.equal(m1.fstype, 'fuse.mergerfs');
  assert.equal(m1.daemon?.pid, merged.pid);
  assert.equal(m2.fstype, 'fuse.squashfuse');
  assert.equal(m2.daemon?.pid, squash.pid);

  const a = inspectMount(mountpoint);
  assert.deepEqual(rows(a, [h.pid]), {
    opens: [`two.txt pid=${h.pid} fd=${h.fds.two} O_RDWR|O_LARGEFILE pos=0`],
    maps: [`two.txt pid=${h.pid} ${h.maps.m2} rw-s shared`],
  });
  const b = inspectMount(sq.mountpoint);
  assert.deepEqual(rows(b, [h.pid]), {
    opens: [`img.bin pid=${h.pid} fd=${h.fds.img} O_RDONLY|O_LARGEFILE pos=0`],
    maps: [`img.bin pid=${h.pid} ${h.maps.mi} r--s shared`, `img.bin pid=${h.pid} ${h.maps.mp} r--p private`].sort(),
  });
});

/** States of a process's threads (`R`, `S`, `D`, ...) from /proc/PID/task/TID/stat. */
function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  });
}

test('a SIGSTOPped daemon: mounts and inspect still answer promptly, and show the waiting requests', async (t) => {
  const later = cleanups(t);
  const { dir, mountpoint } = scratch('fuselens-stop-');
  const src = join(dir, 'src');
  files(src, ['held.txt', 'fresh.bin']);
  mkdirSync(join(src, 'sub'));
  const mount = await bindfs(dir, src, mountpoint);
  later(() => mount.unmount());
  const h = await startHolder([`open:x:rdonly:${mountpoint}/held.txt`, `open:y:rdonly:${mountpoint}/fresh.bin`, 'mmap:my:y:shared:r']);
  later(() => h.stop());
  const inSub = await standing(later, 'sleep', ['600'], join(mountpoint, 'sub'), 'cwd', join(mountpoint, 'sub'));
  const subIno = Number(spawnSync('stat', ['-c', '%i', join(mountpoint, 'sub')], { encoding: 'utf8' }).stdout);

  process.kill(mount.pid, 'SIGSTOP');
  later(() => process.kill(mount.pid, 'SIGCONT'));
  // A process that now asks the stopped daemon something waits for it ...
  const blocked = spawn('stat', [join(mountpoint, 'never-looked-up')], { stdio: 'ignore' });
  later(() => blocked.kill('SIGKILL'));
  // ... and so does a thread of the holder that faults on its mapping (the page was never read),
  // while another thread maps memory (the mmap lock for writing): reading the holder's maps must not wait.
  await h.command('touch my');
  await until(() => threadStates(h.pid).includes('D'), 'the holder thread to wait in its page fault');
  await h.command('mmap');
  const conn = inspectMount(mountpoint).mount.connection;
  await until(() => Number(readFileSync(`/sys/fs/fuse/connections/${conn}/waiting`, 'utf8')) >= 2, 'two requests to wait on the stopped daemon');

  // A read that waited on the daemon would wait until SIGCONT: the timeout (wall clock, generous for a
  // busy machine) tells a wait from a slow answer, and kills the command.
  const mounts = cli(['mounts', '--json'], 30000);
  assert.equal(mounts.status, 0, `mounts: exit ${mounts.status} (signal ${mounts.signal}) after ${mounts.ms} ms\n${mounts.stderr}`);
  const listed = JSON.parse(mounts.stdout).find((m: { mountpoint: string }) => m.mountpoint === mountpoint);
  assert.ok(listed.connectionStats.waiting >= 2);
  const ins = cli(['inspect', mountpoint, '--json'], 30000);
  assert.equal(ins.status, 0, `inspect: exit ${ins.status} (signal ${ins.signal}) after ${ins.ms} ms\n${ins.stderr}`);
  const doc = JSON.parse(ins.stdout);
  assert.deepEqual(rows(doc, [h.pid]), {
    opens: [
      `fresh.bin pid=${h.pid} fd=${h.fds.y} O_RDONLY|O_LARGEFILE pos=0`,
      `held.txt pid=${h.pid} fd=${h.fds.x} O_RDONLY|O_LARGEFILE pos=0`,
    ],
    maps: [`fresh.bin pid=${h.pid} ${h.maps.my} r--s shared`],
  });
  assert.deepEqual(tieRows(doc, [inSub]), [`${inSub} cwd ${mountpoint}/sub ino=${subIno}`]);
  assert.equal(doc.mount.daemon.pid, mount.pid);

  process.kill(mount.pid, 'SIGCONT');
  await new Promise((r) => (blocked.exitCode !== null ? r(null) : blocked.once('exit', r)));
  await until(() => !threadStates(h.pid).includes('D'), 'the page fault to complete');
});

test('set max_background / congestion_threshold and abort a real connection', async (t) => {
  const later = cleanups(t);
  const { dir, mountpoint } = scratch('fuselens-ctl-');
  files(join(dir, 'src'), ['f']);
  const mount = await bindfs(dir, join(dir, 'src'), mountpoint);
  later(() => mount.unmount());
  const conn = inspectMount(mountpoint).mount.connection;
  setConnectionLimit(conn, 'max_background', 33);
  setConnectionLimit(conn, 'congestion_threshold', 21);
  const stats = listMounts().mounts.find((m) => m.mountpoint === mountpoint)!.connectionStats!;
  assert.deepEqual([stats.maxBackground, stats.congestionThreshold], [33, 21]);
  abortConnection(conn);
  const r = spawnSync('stat', [join(mountpoint, 'f')], { encoding: 'utf8', timeout: 5000 });
  assert.match(r.stderr, /Transport endpoint is not connected/);
  // Still listed (and not hanging) until unmounted.
  assert.ok(listMounts().mounts.some((m) => m.mountpoint === mountpoint));
});

test('fusectl missing: mounted when root, explained when not; the daemon is a labelled guess when not root', async (t) => {
  const later = cleanups(t);
  const { dir, mountpoint } = scratch('fuselens-fusectl-');
  files(join(dir, 'src'), ['f']);
  const mount = await bindfs(dir, join(dir, 'src'), mountpoint);
  later(() => mount.unmount());
  // unshare gives the shell its own copy of the mount table: unmounting fusectl there leaves the machine's alone.
  type Listed = { connectionStats: unknown; connectionStatsMissing?: string; daemon: { pid: number; source: string; state?: string } | null; daemonNote?: string };
  const inNamespace = (asNobody: boolean): { mine: Listed; after: string } => {
    const run = `${asNobody ? 'setpriv --reuid=65534 --regid=65534 --clear-groups ' : ''}${JSON.stringify(process.execPath)} ${JSON.stringify(inspectCliBundle())} mounts --json`;
    const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `(umount /sys/fs/fuse/connections 2>/dev/null || true) && ${run} && echo '---' && grep -c ' - fusectl ' /proc/self/mountinfo || true`], {
      encoding: 'utf8',
      cwd: tmpdir(),
      timeout: 30000,
    });
    assert.equal(r.status, 0, r.stderr);
    const [json, after] = r.stdout.split('---\n') as [string, string];
    return { mine: JSON.parse(json).find((m: { mountpoint: string }) => m.mountpoint === mountpoint), after: after.trim() };
  };
  const hadFusectl = / - fusectl /.test(readFileSync('/proc/self/mountinfo', 'utf8'));
  const root = inNamespace(false);
  assert.ok(root.mine.connectionStats, root.mine.connectionStatsMissing);
  assert.equal(root.after, '1');
  const nobody = inNamespace(true);
  assert.equal(nobody.mine.connectionStats, null);
  assert.match(nobody.mine.connectionStatsMissing!, /^fusectl is not mounted at \/sys\/fs\/fuse\/connections; as root: mount -t fusectl/);
  assert.equal(nobody.after, '0');
  // Not root: /dev/fuse holders cannot be read, so the daemon is a labelled guess from its command line.
  assert.equal(root.mine.daemon?.source, 'fdinfo');
  const { state, ...guessed } = nobody.mine.daemon!;
  assert.deepEqual(guessed, { pid: mount.pid, comm: 'bindfs', source: 'guess-from-cmdline' });
  assert.match(state ?? '', /^[RS]$/, 'a serving daemon runs or sleeps');
  assert.match(nobody.mine.daemonNote!, /^GUESS: \d+ process\(es\) could not be read \(not root\)/);
  if (hadFusectl) assert.match(readFileSync('/proc/self/mountinfo', 'utf8'), / - fusectl /, 'the machine keeps its fusectl');
});
