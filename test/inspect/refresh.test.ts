// An incremental refresh (server/inspect/scan-cache.ts: a process that did not run since
// the last scan is not read again whole) reports what a full scan reports, after each
// change a process can make while another sleeps: a descriptor opened or closed by a
// second thread while the first sleeps, a rename on the mount by another process, a
// fork, and the flags and position of an open file changed by the forked child while
// the parent sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inspectMount, SidebarScans, type Inspection } from '../../server/inspect';
import { bindfsOfFiles } from '../support/fuse-mounts';

function holderBinary(): string {
  const source = join(__dirname, 'refresh-holder.c');
  const bin = join(tmpdir(), `fuselens-refresh-holder-${createHash('sha256').update(readFileSync(source)).digest('hex').slice(0, 16)}`);
  if (!existsSync(bin)) {
    execFileSync('cc', ['-O2', '-Wall', '-pthread', '-o', `${bin}.${process.pid}`, source]);
    renameSync(`${bin}.${process.pid}`, bin);
  }
  return bin;
}

/** What an inspection says of the mount, without the moment it was made. */
function seen(ins: Inspection): unknown {
  return { inodes: ins.inodes, ties: ins.ties, mount: { ...ins.mount, connectionStats: null } };
}

test('an incremental refresh reports what a full scan does: thread open/close, rename, fork, a shared open file changed by another process', async (t) => {
  const M = await bindfsOfFiles(t, 'fuselens-refresh-', ['a', 'b'], 10);

  const holder = spawn(holderBinary(), [], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => holder.kill('SIGKILL'));
  const lines = createInterface({ input: holder.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => (await lines.next()).value as string;
  const say = async (command: string): Promise<string> => {
    holder.stdin!.write(command + '\n');
    return next();
  };
  const pid = Number((await next()).split(' ')[1]);

  const sidebar = new SidebarScans();
  const refresh = (): Inspection => {
    sidebar.list();
    return sidebar.inspect(M);
  };
  /** A refresh, checked against a full scan; `kept`: the holder must be among the processes not read again (asked a few times: its command thread may still be running). */
  const check = async (what: string, kept?: number): Promise<Inspection> => {
    for (let attempt = 0; ; attempt++) {
      const got = refresh();
      assert.deepEqual(seen(got), seen(inspectMount(M)), what);
      if (kept === undefined || sidebar.cache.lastKept.has(kept)) return got;
      assert.ok(attempt < 20, `${what}: pid ${kept} is never kept`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const opensOf = (ins: Inspection, p: number) =>
    ins.inodes.flatMap((i) => i.opens).filter((o) => o.pid === p).map((o) => `${o.fd} ${o.path} ${o.flags.filter((f) => f !== 'O_LARGEFILE').join('|')} pos=${o.pos}`);

  const fdA = Number((await say(`open ${M}/a`)).split(' ')[1]);
  await check('first scans');
  let ins = await check('the holder asleep', pid);
  // The kernel threads (sharing kthreadd's table and fs_struct, no address space) are taken from kthreadd's read, not read each.
  assert.ok(sidebar.cache.lastLikeKthreadd.size > 0, 'kernel threads taken from kthreadd');
  assert.deepEqual(opensOf(ins, pid), [`${fdA} ${M}/a O_RDONLY pos=0`]);

  // A second thread opens while the first sleeps: the process ran, it is read again.
  const fdB = Number((await say(`open ${M}/b`)).split(' ')[1]);
  ins = await check('opened by the second thread');
  assert.deepEqual(opensOf(ins, pid), [`${fdA} ${M}/a O_RDONLY pos=0`, `${fdB} ${M}/b O_RDONLY pos=0`]);
  await check('asleep again', pid);

  // Renamed by another process (this one, through the mount): the holder's path follows.
  renameSync(join(M, 'a'), join(M, 'a2'));
  ins = await check('renamed while the holder sleeps', pid);
  assert.deepEqual(opensOf(ins, pid)[0], `${fdA} ${M}/a2 O_RDONLY pos=0`);

  assert.equal(await say(`close ${fdB}`), 'ok');
  ins = await check('closed by the second thread');
  assert.deepEqual(opensOf(ins, pid), [`${fdA} ${M}/a2 O_RDONLY pos=0`]);

  // A fork: the child shares the open file of a2 and takes the commands; the parent sleeps.
  const child = Number((await say('fork')).split(' ')[1]);
  ins = await check('forked');
  assert.deepEqual(opensOf(ins, child), [`${fdA} ${M}/a2 O_RDONLY pos=0`]);
  await check('the parent asleep after the fork', pid);
  assert.equal(await say(`setfl ${fdA}`), 'ok');
  assert.equal(await say(`seek ${fdA} 3`), 'ok');
  ins = await check("the child changed the shared open file's flags and position", pid);
  assert.deepEqual(opensOf(ins, pid), [`${fdA} ${M}/a2 O_RDONLY|O_APPEND pos=3`]);
  assert.deepEqual(opensOf(ins, child), [`${fdA} ${M}/a2 O_RDONLY|O_APPEND pos=3`]);

  // What the cache keeps open (each marked thread's schedstat, a kept process's /proc/PID, fd/, fdinfo/N, stat) is closed with it.
  const procFiles = (): number =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return /^\/proc\/\d+(\/|$)/.test(readlinkSync(`/proc/self/fd/${fd}`));
      } catch {
        return false;
      }
    }).length;
  assert.ok(procFiles() > 0);
  sidebar.cache.clear();
  assert.equal(procFiles(), 0);
});
