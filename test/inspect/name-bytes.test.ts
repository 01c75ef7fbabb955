// Names from /proc and mountinfo are bytes (issue 15): a file name, a mapping's path
// and a process name with a byte that is not UTF-8 (0xff) come out of the inspection
// as decodeName of those bytes (U+DCFF for 0xff), exact through --json, and as `\xff`
// in the CLI's text — never as U+FFFD, which would lose which byte it was.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeName, encodeName } from '../../protocol/byte-names';
import { inspectMount, listMounts } from '../../server/inspect';
import { bindfs, scratch } from '../support/fuse-mounts';
import { holderBinary } from '../support/inspect-holder';

const root = join(__dirname, '..', '..');
const FF = Buffer.from([0xff]);

test('a file and a process name with byte 0xff: inspectMount, --json and text keep the byte', async (t) => {
  const { dir, mountpoint } = scratch('fuselens-bytes-');
  const src = join(dir, 'src');
  mkdirSync(src);
  const name = Buffer.concat([Buffer.from('bad'), FF, Buffer.from('name')]);
  writeFileSync(Buffer.concat([Buffer.from(src + '/'), name]), 'x'.repeat(4096));
  const mount = await bindfs(dir, src, mountpoint);
  t.after(() => mount.unmount());
  // Arguments are UTF-8 strings, so the holder opens the file through a symlink whose
  // name is plain; /proc names the file it reached (d_path), 0xff and all.
  const link = join(dir, 'link');
  symlinkSync(Buffer.concat([Buffer.from(mountpoint + '/'), name]), link);
  // The process is named at exec from the basename of the path it was run by
  // (begin_new_exec; /proc/PID/comm is writable only from inside): the holder, run
  // through a symlink whose name has the byte, which only a shell's printf can spell.
  const comm = Buffer.concat([Buffer.from('hold'), FF, Buffer.from('er')]);
  symlinkSync(holderBinary(), Buffer.concat([Buffer.from(dir + '/'), comm]));
  const holder = spawn('sh', ['-c', 'exec "$(printf "%s/hold\\377er" "$0")" "$@"', dir, `open:f:rdonly:${link}`, 'mmap:m:f:shared:r'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => {
    holder.stdin!.end();
    return new Promise((r) => holder.once('exit', r));
  });
  const h = JSON.parse(await new Promise<string>((r) => createInterface({ input: holder.stdout! }).once('line', r))) as { pid: number; fds: { f: number } };
  assert.deepEqual(readFileSync(`/proc/${h.pid}/comm`), Buffer.concat([comm, Buffer.from('\n')]));

  const path = decodeName(Buffer.concat([Buffer.from(mountpoint + '/'), name]));
  assert.ok(path.includes('\udcff'));
  const ins = inspectMount(mountpoint);
  const inode = ins.inodes.find((i) => i.opens.some((o) => o.pid === h.pid));
  assert.ok(inode, JSON.stringify(ins.inodes));
  assert.equal(inode.path, path);
  assert.deepEqual(
    inode.opens.map((o) => [o.pid, o.fd, o.path, o.comm]),
    [[h.pid, h.fds.f, path, decodeName(comm)]],
  );
  assert.deepEqual(
    inode.mappings.map((m) => [m.pid, m.path, m.comm]),
    [[h.pid, path, decodeName(comm)]],
  );

  // --json: the same strings back (JSON carries the lone surrogate as \udcff).
  const json = spawnSync(join(root, 'bin', 'fuselens'), ['inspect', mountpoint, '--json'], { encoding: 'utf8' });
  assert.equal(json.status, 0, json.stderr);
  assert.ok(json.stdout.includes('\\udcff'), 'JSON escapes the byte');
  const doc = JSON.parse(json.stdout) as typeof ins;
  assert.deepEqual(
    doc.inodes.find((i) => i.path === path)?.opens.map((o) => [o.pid, o.comm]),
    [[h.pid, decodeName(comm)]],
  );

  // Text: the byte as \xff, never U+FFFD or the raw byte.
  const text = spawnSync(join(root, 'bin', 'fuselens'), ['inspect', mountpoint], { encoding: 'buffer' });
  assert.equal(text.status, 0, text.stderr.toString());
  const out = text.stdout.toString('latin1');
  assert.ok(out.includes('bad\\xffname'), out);
  assert.ok(out.includes('hold\\xffer'), out);
  assert.ok(!text.stdout.includes(FF) && !text.stdout.toString('utf8').includes('\ufffd'), out);
});

test('a mountpoint with byte 0xff in mountinfo: listMounts names it by its bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-bytes-mi-'));
  try {
    mkdirSync(join(dir, 'proc', 'self'), { recursive: true });
    // The kernel writes such a byte raw (only space, tab, newline and backslash are escaped).
    const line = Buffer.concat([
      Buffer.from('22 1 254:1 / / rw - ext4 /dev/vda1 rw\n40 22 0:52 / /mnt/a'),
      FF,
      Buffer.from('\\040b rw,nosuid - fuse.x s'),
      FF,
      Buffer.from(' rw,user_id=0\n'),
    ]);
    writeFileSync(join(dir, 'proc', 'self', 'mountinfo'), line);
    const { mounts } = listMounts({ proc: join(dir, 'proc'), sys: join(dir, 'sys') });
    assert.deepEqual(
      mounts.map((m) => [m.mountpoint, m.source]),
      [[decodeName(Buffer.concat([Buffer.from('/mnt/a'), FF, Buffer.from(' b')])), decodeName(Buffer.concat([Buffer.from('s'), FF]))]],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encodeName gives back the bytes decodeName read, valid UTF-8 or not', () => {
  for (const bytes of [
    Buffer.from('plain/é/✓/🙂'),
    Buffer.concat([Buffer.from('/mnt/a'), FF, Buffer.from(' b')]),
    Buffer.from([0x2f, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x99]), // overlong, surrogate, truncated sequences
  ])
    assert.deepEqual(Buffer.from(encodeName(decodeName(bytes))), bytes);
});
