// The readers on fixture trees (test/fixtures/inspect/*/README.md says where each came from)
// and on trees the tests generate (1,000 mounts, unreadable processes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, closeSync, cpSync, mkdtempSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import {
  abortConnection,
  connectionFromDevice,
  ConnectionControlError,
  decodeOpenFlags,
  exportScenario,
  inspectMount,
  InspectError,
  listMounts,
  parseMountInfo,
  parseMountInfoLine,
  setConnectionLimit,
  unescapeMountField,
} from '../../server/inspect';
import { parseMapsLine } from '../../server/inspect/maps';
import { LinkFilter, nodeReader, parseRereads, procReader, readerOf, type FdLink, type ProcReader } from '../../server/inspect/procfs';
import { procfsAddon } from '../../server/inspect/procfs-addon';
import { simulateScenario } from '../../server/scenario/simulate';
import { inspectCommand } from '../../server/cli/inspect';
import { mountsCommand } from '../../server/cli/mounts';
import { UsageError } from '../../server/cli/command';
import { inspectCliBundle } from '../support/inspect-cli-bundle';
import { until } from '../support/fuse-mounts';

const FIX = join(__dirname, '..', 'fixtures', 'inspect');
const roots = (name: string) => ({ proc: join(FIX, name, 'proc'), sys: join(FIX, name, 'sys') });
const NTFS = roots('ntfs-sshfs');
const RCLONE = roots('rclone-u64');

test('mountinfo: octal escapes, optional fields, mount and super options', () => {
  assert.equal(unescapeMountField('/home/ana/My\\040Drive'), '/home/ana/My Drive');
  assert.equal(unescapeMountField('a\\011b\\012c\\134d'), 'a\tb\nc\\d');
  assert.equal(unescapeMountField('caf\\303\\251'), 'café');
  const e = parseMountInfoLine(
    '62 22 0:52 / /home/ana/My\\040Drive rw,nosuid shared:41 master:7 - fuse.sshfs ana@host:/srv/a\\040b rw,user_id=1000,group_id=1000,default_permissions,max_read=65536',
  )!;
  assert.equal(e.mountpoint, '/home/ana/My Drive');
  assert.equal(e.source, 'ana@host:/srv/a b');
  assert.deepEqual(e.optionalFields, ['shared:41', 'master:7']);
  assert.deepEqual(e.mountOptions, ['rw', 'nosuid']);
  assert.deepEqual(e.superOptions, { rw: true, user_id: '1000', group_id: '1000', default_permissions: true, max_read: '65536' });
  assert.equal(e.fstype, 'fuse.sshfs');
  const bare = parseMountInfoLine('44 27 0:40 / /tmp/m rw,relatime - fuse /src rw,user_id=0,group_id=0')!;
  assert.deepEqual(bare.optionalFields, []);
  assert.equal(parseMountInfoLine('garbage'), undefined);
  assert.deepEqual(parseMountInfo('garbage\n44 27 0:40 / /m rw - fuse s rw\n').bad, [1]);
});

test('connection number: minor for fuse, major<<20|minor for fuseblk (rules §7)', () => {
  assert.equal(connectionFromDevice(0, 40), 40);
  assert.equal(connectionFromDevice(8, 17), 8388625);
  assert.equal(connectionFromDevice(259, 3), (259 << 20) | 3);
});

test('fdinfo flags: access mode first, O_SYNC vs O_DSYNC, arm64 values', () => {
  assert.deepEqual(decodeOpenFlags('0102002', 'x64'), ['O_RDWR', 'O_APPEND', 'O_LARGEFILE']);
  assert.deepEqual(decodeOpenFlags('02140000', 'x64'), ['O_RDONLY', 'O_DIRECT', 'O_LARGEFILE', 'O_CLOEXEC']);
  assert.deepEqual(decodeOpenFlags('04010001', 'x64'), ['O_WRONLY', 'O_SYNC']);
  assert.deepEqual(decodeOpenFlags('010001', 'x64'), ['O_WRONLY', 'O_DSYNC']);
  assert.deepEqual(decodeOpenFlags('0200000', 'arm64'), ['O_RDONLY', 'O_DIRECT']);
  assert.deepEqual(decodeOpenFlags('0200000', 'x64'), ['O_RDONLY', 'O_DIRECTORY']);
});

test('maps lines: hex device, spaces in paths, (deleted)', () => {
  const m = parseMapsLine('7f1c2a000000-7f1c2a010000 rw-s 00000000 08:11 4242                       /mnt/win/My Documents/report.docx')!;
  assert.deepEqual([m.device, m.ino, m.perms, m.path], ['08:11', 4242, 'rw-s', '/mnt/win/My Documents/report.docx']);
  assert.equal(parseMapsLine('7f1c2a200000-7f1c2a201000 r--p 00001000 08:11 4243   /mnt/win/tmp.bin (deleted)')!.path, '/mnt/win/tmp.bin');
  assert.equal(parseMapsLine('7f00-7f01 rw-p 00000000 00:00 0 ')!.path, '');
});

test('maps lines: inode numbers up to 2^64 - 1 exact, beyond it not a maps line', () => {
  const line = (ino: string) => `7f3a10200000-7f3a10201000 r--p 00000000 00:29 ${ino}       /tmp/rc-mnt/last`;
  assert.equal(parseMapsLine(line('18446744073709551615'))!.ino, '18446744073709551615');
  assert.equal(parseMapsLine(line('5878266001153151637'))!.ino, '5878266001153151637');
  assert.equal(parseMapsLine(line('18446744073709551616')), undefined);
});

test('64-bit inode numbers (rclone): exact in the inspection, its JSON, its text and the scenario export', async () => {
  const ins = inspectMount('/tmp/rc-mnt', RCLONE);
  assert.equal(ins.mount.daemon?.pid, 500);
  assert.deepEqual(
    ins.inodes.map((i) => [i.path, i.ino, i.opens.map((o) => o.fd), i.mappings.map((m) => m.perms)]),
    [
      // 5878266001153151637 and ...638 are one double: read through Number() they were one inode.
      ['/tmp/rc-mnt/a.txt', '5878266001153151637', [3], []],
      ['/tmp/rc-mnt/b.txt', '5878266001153151638', [4], ['r--s']],
      ['/tmp/rc-mnt/last', '18446744073709551615', [], ['r--p']],
      ['/tmp/rc-mnt/small', 9007199254740991, [5], []],
    ],
  );
  assert.equal(ins.inodes[1]!.mappings[0]!.withoutDescriptor, false, 'the mapping is matched to its descriptor by the exact number');
  assert.equal(ins.inodes[2]!.mappings[0]!.withoutDescriptor, true);

  const json = await runCli(inspectCommand, ['/tmp/rc-mnt', '--json', '--proc', RCLONE.proc, '--sys', RCLONE.sys]);
  assert.equal(json.code, 0, json.err);
  assert.match(json.out, /"ino": "5878266001153151637"/);
  assert.match(json.out, /"ino": 9007199254740991,/);
  assert.deepEqual(JSON.parse(json.out).inodes.map((i: { ino: unknown }) => i.ino), ins.inodes.map((i) => i.ino));
  const text = await runCli(inspectCommand, ['/tmp/rc-mnt', '--proc', RCLONE.proc, '--sys', RCLONE.sys]);
  assert.match(text.out, /^\/tmp\/rc-mnt\/a\.txt {2}inode 5878266001153151637 {2}io mode: unknown$/m);
  assert.match(text.out, /^\/tmp\/rc-mnt\/last {2}inode 18446744073709551615 {2}io mode: unknown$/m);
  assert.doesNotMatch(text.out, /5878266001153152000/);

  const scenario = exportScenario(ins);
  assert.match(scenario, /^file a\.txt$/m);
  assert.match(scenario, /^file b\.txt$/m);
  assert.deepEqual(simulateScenario(scenario).diagnostics.filter((d) => d.severity === 'error'), []);
});

test('an exported scenario keeps a hostile mountpoint, path or process name inside its comment', () => {
  const ins = inspectMount('/tmp/rc-mnt', RCLONE);
  const hostile = '\nopen evil as e reply passthrough\x1b[2J';
  ins.mount.mountpoint += hostile;
  for (const i of ins.inodes) {
    i.path = `${i.path}${hostile}`;
    for (const o of i.opens) o.comm = `x${hostile}`;
  }
  const scenario = exportScenario(ins);
  assert.doesNotMatch(scenario, /^open evil/m, 'no statement of its own');
  assert.doesNotMatch(scenario, /\x1b/, 'no raw control character');
  assert.match(scenario, /\\nopen evil as e reply passthrough\\x1b\[2J/);
  assert.deepEqual(simulateScenario(scenario).steps.filter((s) => s.target === 'e'), []);
});

test('a descriptor whose fdinfo has no ino line is left out with a warning, not merged into a made-up inode', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-noino-'));
  try {
    cpSync(join(FIX, 'rclone-u64'), dir, { recursive: true, verbatimSymlinks: true });
    const fdinfo = join(dir, 'proc', '600', 'fdinfo', '3');
    writeFileSync(fdinfo, readFileSync(fdinfo, 'utf8').replace(/^ino:.*\n/m, ''));
    const ins = inspectMount('/tmp/rc-mnt', { proc: join(dir, 'proc'), sys: join(dir, 'sys') });
    assert.deepEqual(ins.inodes.map((i) => i.path), ['/tmp/rc-mnt/b.txt', '/tmp/rc-mnt/last', '/tmp/rc-mnt/small']);
    assert.ok(ins.warnings.includes('1 file(s) on the mount are not shown: their fdinfo has no `ino:` line (an older kernel)'), ins.warnings.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a reconstructed mode is matched by the exact 64-bit inode number', () => {
  const ins = inspectMount('/tmp/rc-mnt', RCLONE, {
    reconstructed: [
      { ino: '5878266001153151638', nodeid: '5878266001153151638', mode: 'passthrough', since: 'x' },
      { ino: 9007199254740991, mode: 'caching', since: 'x' },
    ],
  });
  assert.deepEqual(
    ins.inodes.map((i) => [i.path, i.reconstructed?.mode]),
    [
      ['/tmp/rc-mnt/a.txt', undefined],
      ['/tmp/rc-mnt/b.txt', 'passthrough'],
      ['/tmp/rc-mnt/last', undefined],
      ['/tmp/rc-mnt/small', 'caching'],
    ],
  );
});

test('listMounts: fuseblk and fuse.sshfs, fusectl numbers, daemons from fdinfo, vanished pid', () => {
  const { mounts, warnings } = listMounts(NTFS);
  assert.deepEqual(
    mounts.map((m) => [m.mountpoint, m.fstype, m.connection]),
    [
      ['/mnt/win', 'fuseblk', 8388625],
      ['/home/ana/My Drive', 'fuse.sshfs', 52],
    ],
  );
  const [ntfs, sshfs] = mounts as [(typeof mounts)[0], (typeof mounts)[0]];
  assert.deepEqual(ntfs.connectionStats, { waiting: 3, maxBackground: 12, congestionThreshold: 9 });
  assert.equal(ntfs.superOptions.blksize, '4096');
  assert.deepEqual(ntfs.daemon, { pid: 100, comm: 'ntfs-3g', source: 'fdinfo', fd: 3, state: 'S' });
  assert.equal(sshfs.source, 'ana@host:/srv/a b');
  assert.equal(sshfs.connectionStats, null);
  assert.match(sshfs.connectionStatsMissing!, /connections\/52 does not exist/);
  assert.equal(sshfs.daemon?.pid, 101);
  assert.deepEqual(warnings, [`pid 300 vanished during the scan (${NTFS.proc}/300/fd: ENOENT)`]);
});

test('inspectMount on fuseblk: opens with flags and pos, shared mapping, mapping without descriptor', () => {
  const ins = inspectMount('/mnt/win', NTFS);
  assert.equal(ins.mount.connection, 8388625);
  assert.deepEqual(
    ins.inodes.map((i) => [i.ino, i.path, i.mode]),
    [
      [4242, '/mnt/win/My Documents/report.docx', 'unknown'],
      [4243, '/mnt/win/tmp.bin', 'unknown'],
    ],
  );
  const [report, tmp] = ins.inodes as [(typeof ins.inodes)[0], (typeof ins.inodes)[0]];
  assert.deepEqual(
    report.opens.map((o) => [o.pid, o.comm, o.fd, o.flags, o.pos]),
    [[200, 'soffice', 3, ['O_RDWR', 'O_APPEND', 'O_LARGEFILE'], 17]],
  );
  assert.deepEqual(report.mappings.map((m) => [m.pid, m.perms, m.shared, m.withoutDescriptor]), [[200, 'rw-s', true, false]]);
  assert.deepEqual(tmp.opens, []);
  assert.deepEqual(tmp.mappings.map((m) => [m.perms, m.shared, m.withoutDescriptor]), [['r--p', false, true]]);
  assert.match(tmp.evidence.join('\n'), /no descriptor left/);
  assert.match(report.evidence[0]!, /exports no io mode/);
  assert.ok(ins.warnings.some((w) => w.startsWith('pid 300 vanished')));
});

test('inspectMount on an escaped mountpoint excludes a mount nested inside it; a path inside resolves to the mount', () => {
  const ins = inspectMount('/home/ana/My Drive', NTFS);
  assert.deepEqual(ins.inodes.map((i) => i.path), ['/home/ana/My Drive/notes.txt']);
  assert.deepEqual(
    ins.inodes[0]!.opens.map((o) => [o.pid, o.fd, o.flags, o.pos]),
    [
      [200, 4, ['O_RDONLY', 'O_LARGEFILE'], 0],
      [201, 6, ['O_RDONLY', 'O_DIRECT', 'O_LARGEFILE'], 1024],
    ],
  );
  assert.deepEqual(ins.inodes[0]!.mappings.map((m) => [m.pid, m.perms]), [[201, 'r--s']]);
  const inside = inspectMount('/home/ana/My Drive/sub/dir', NTFS);
  assert.equal(inside.mount.mountpoint, '/home/ana/My Drive');
  assert.ok(inside.warnings.some((w) => /lies inside the FUSE mount/.test(w)));
  assert.equal(inspectMount('ignored', NTFS, { mountId: 61 }).mount.mountpoint, '/mnt/win');
  assert.throws(() => inspectMount('/mnt/win', NTFS, { mountId: 9999 }), (e: unknown) => e instanceof InspectError && /mount id 9999 .* is gone/.test(e.message));
  assert.throws(() => inspectMount('/srv', NTFS), (e: unknown) => e instanceof InspectError && e.code === 'NOTFUSE' && /FUSE mounts: \/mnt\/win/.test(e.message));
});

test('before 6.18 the daemon is a labelled guess; missing fusectl is explained', () => {
  const { mounts } = listMounts(roots('old-kernel'));
  assert.equal(mounts.length, 1);
  assert.deepEqual(mounts[0]!.daemon, { pid: 50, comm: 'myfs', source: 'guess-from-cmdline', state: 'S' });
  assert.match(mounts[0]!.daemonNote!, /^GUESS: .*no fuse_connection line; pid 50/);
  assert.equal(mounts[0]!.connectionStats, null);
  assert.match(mounts[0]!.connectionStatsMissing!, /connections does not exist/);
});

test('a reconstructed mode is shown beside unknown, never as the mode', () => {
  const ins = inspectMount('/home/ana/My Drive', NTFS, {
    reconstructed: [{ name: 'notes.txt', mode: 'caching', iocachectr: 2, since: '2026-11-25T10:00:00Z' }],
  });
  const inode = ins.inodes[0]!;
  assert.equal(inode.mode, 'unknown');
  assert.deepEqual(inode.reconstructed, { name: 'notes.txt', mode: 'caching', iocachectr: 2, since: '2026-11-25T10:00:00Z', matchedBy: 'name' });
  assert.match(inode.evidence.at(-1)!, /^since capture started at 2026-11-25T10:00:00Z, the trace shows caching \(iocachectr 2\)/);
  const asked: number[] = [];
  const byIno = inspectMount('/mnt/win', NTFS, {
    reconstructed: (conn) => (asked.push(conn), [{ ino: 4243, mode: 'passthrough', since: 'x' }]),
  });
  assert.deepEqual(asked, [8388625]);
  assert.equal(byIno.inodes[1]!.reconstructed?.matchedBy, 'ino');
  assert.equal(byIno.inodes[0]!.reconstructed, undefined);
});

test('export as scenario: the simulator accepts it and replays every step', () => {
  const text = exportScenario(inspectMount('/mnt/win', NTFS));
  assert.match(text, /^file My_Documents_report\.docx {3}# \/mnt\/win\/My Documents\/report\.docx$/m);
  // fdinfo's O_APPEND is the language's o_append.
  assert.match(text, /^p200: open My_Documents_report\.docx as f200_3 rdwr o_append {3}# fd 3; reply flags unknown$/m);
  assert.match(text, /^p200: mmap f200_3 shared write as m200_1/m);
  assert.match(text, /^p200: open tmp\.bin as t200_2 rdonly .*\np200: mmap t200_2 private as m200_2 .*\np200: close t200_2$/m);
  const result = simulateScenario(text);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
  assert.deepEqual(result.steps.map((s) => s.outcome), ['ok', 'ok', 'ok', 'ok', 'ok']);
});

test('1,000 FUSE mounts: every one listed with its connection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-1000-'));
  try {
    mkdirSync(join(dir, 'proc', 'self'), { recursive: true });
    const lines = ['22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw'];
    for (let i = 0; i < 1000; i++) lines.push(`${100 + i} 22 0:${300 + i} / /mnt/f\\040${i} rw,nosuid,nodev - fuse.t${i} src${i} rw,user_id=0,group_id=0`);
    writeFileSync(join(dir, 'proc', 'self', 'mountinfo'), lines.join('\n') + '\n');
    const { mounts } = listMounts({ proc: join(dir, 'proc'), sys: join(dir, 'sys') });
    assert.equal(mounts.length, 1000);
    assert.deepEqual([mounts[999]!.mountpoint, mounts[999]!.connection, mounts[999]!.fstype], ['/mnt/f 999', 1299, 'fuse.t999']);
    assert.ok(mounts.every((m) => m.connectionStats === null && m.daemon === null));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// EACCES cannot be produced as root on a fixture: copy it, make one process's
// fd directory root-only (as /proc/PID/fd is, mode 0500 of the owner), and run
// the real CLI as nobody (uid 65534).
test('unreadable processes become one warning; the CLI still answers (run as nobody)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-eacces-'));
  try {
    chmodSync(dir, 0o755);
    cpSync(join(FIX, 'ntfs-sshfs'), join(dir, 't'), { recursive: true, verbatimSymlinks: true });
    chmodSync(join(dir, 't', 'proc', '201', 'fd'), 0o500);
    const r = spawnSync(process.execPath, [inspectCliBundle(), 'inspect', '/home/ana/My Drive', '--json', '--proc', join(dir, 't', 'proc'), '--sys', join(dir, 't', 'sys')], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      cwd: tmpdir(),
      timeout: 30000,
    });
    assert.equal(r.status, 0, r.stderr);
    const ins = JSON.parse(r.stdout);
    assert.deepEqual(ins.inodes[0].opens.map((o: { pid: number }) => o.pid), [200]);
    assert.ok(
      ins.warnings.some((w: string) => /^1 process could not be read \(EACCES on \/proc\/PID\/fd\).*: pid 201$/.test(w)),
      ins.warnings.join('\n'),
    );
    // fusectl writes as nobody: EACCES, named.
    const w = spawnSync(process.execPath, [inspectCliBundle(), 'limit', '8388625', 'max_background', '20', join(dir, 't', 'sys')], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      cwd: tmpdir(),
      timeout: 30000,
    });
    assert.match(w.stdout, /^EACCES cannot set max_background of connection 8388625 to 20 .*permission denied/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('setConnectionLimit / abortConnection write fusectl files and name errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-ctl-'));
  try {
    cpSync(join(FIX, 'ntfs-sshfs', 'sys'), join(dir, 'sys'), { recursive: true });
    const sys = join(dir, 'sys');
    setConnectionLimit(8388625, 'congestion_threshold', 7, sys);
    assert.equal(readFileSync(join(sys, 'fs/fuse/connections/8388625/congestion_threshold'), 'utf8'), '7\n');
    abortConnection(8388625, sys);
    assert.equal(readFileSync(join(sys, 'fs/fuse/connections/8388625/abort'), 'utf8'), '1\n');
    assert.throws(() => setConnectionLimit(8388625, 'max_background', 0, sys), (e: unknown) => e instanceof ConnectionControlError && e.code === 'EINVAL');
    assert.throws(() => abortConnection(77, sys), (e: unknown) => e instanceof ConnectionControlError && e.code === 'ENOENT' && /no such connection/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function runCli(command: typeof inspectCommand, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await command.run(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

test('CLI: human output, --trace from `fuselens trace --json`, --export-scenario, errors', async () => {
  const where = ['--proc', NTFS.proc, '--sys', NTFS.sys];
  const dir = mkdtempSync(join(tmpdir(), 'fuselens-trace-'));
  try {
    const trace = join(dir, 'trace.json');
    // Shaped as server/trace's TraceReport: strace -tt clock (µs since midnight), one inode per connection.
    writeFileSync(
      trace,
      JSON.stringify({
        format: 'strace',
        startedAt: 36_000_500_000,
        inodes: [
          { connection: 52, nodeid: 5, name: 'notes.txt', mode: 'passthrough', iocachectr: -1, backingId: 1, opensSeen: 2, openFiles: 1, lastOpenFlags: ['passthrough'] },
          { connection: 99, nodeid: 6, name: 'notes.txt', mode: 'caching', iocachectr: 1, backingId: null, opensSeen: 1 },
        ],
      }),
    );
    const human = await runCli(inspectCommand, ['/home/ana/My Drive', '--trace', trace, ...where]);
    assert.equal(human.code, 0);
    assert.match(human.out, /^\/home\/ana\/My Drive\/notes\.txt {2}inode 7 {2}io mode: unknown$/m);
    // The trace's replay with its provenance: a trace file cannot tell its opens from older descriptors (server/trace/provenance.ts).
    assert.match(human.out, /^Modes from the trace .*trace\.json \(capture began 10:00:00\.500, ended the end of .*\):$/m);
    assert.match(human.out, /^ {2}\/home\/ana\/My Drive\/notes\.txt {2}inode 7 {2}passthrough at the end of the trace · backing 1 {2}\[inferred\]$/m);
    assert.doesNotMatch(human.out, /since capture started/, 'the raw replay is not shown as the mode');
    const json = JSON.parse((await runCli(inspectCommand, ['/home/ana/My Drive', '--json', '--trace', trace, ...where])).out) as { inodes: Array<{ provenance: { matchedBy: string; basis: string } }> };
    assert.deepEqual(json.inodes.map((i) => [i.provenance.matchedBy, i.provenance.basis]), [['name', 'inferred']]);
    assert.match(human.out, /open {2}pid 201 vim {2}fd 6 {2}O_RDONLY\|O_DIRECT\|O_LARGEFILE {2}pos 1024/);
    const sim = await runCli(inspectCommand, ['/mnt/win', '--export-scenario', ...where]);
    assert.match(sim.out, /^scenario "live state of \/mnt\/win"$/m);
    assert.match(sim.err, /warning: pid 300 vanished/);
    const notFuse = await runCli(inspectCommand, ['/srv', ...where]);
    assert.equal(notFuse.code, 2);
    assert.match(notFuse.err, /\/srv is not a FUSE mountpoint/);
    await assert.rejects(runCli(inspectCommand, ['/mnt/win', '--json', '--export-scenario', ...where]), UsageError);
    const list = await runCli(mountsCommand, where);
    assert.match(list.out, /^\/mnt\/win {2}fuseblk {2}source \/dev\/sdb1\n {2}connection 8388625 \(device 8:17, mount id 61\): waiting 3, max_background 12, congestion_threshold 9\n {2}daemon: pid 100 ntfs-3g/m);
    mkdirSync(join(dir, 'empty', 'proc', 'self'), { recursive: true });
    writeFileSync(join(dir, 'empty', 'proc', 'self', 'mountinfo'), '22 1 254:1 / / rw - ext4 /dev/vda1 rw\n');
    const none = await runCli(mountsCommand, ['--proc', join(dir, 'empty', 'proc'), '--sys', join(dir, 'empty', 'sys')]);
    assert.match(none.out, /^No FUSE mounts\. Make one, e\.g\.: /);
    const noneJson = await runCli(mountsCommand, ['--json', '--proc', join(dir, 'empty', 'proc'), '--sys', join(dir, 'empty', 'sys')]);
    assert.deepEqual(JSON.parse(noneJson.out), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** ProcDir.links of these descriptors of this process, as plain data (the links' bytes are valid until the next read). */
function linksOf(reader: ProcReader, fds: number[], filter: LinkFilter): { fd: number; raw: string; info?: string; infoCode?: string }[] {
  const dir = `/proc/${process.pid}`;
  const [pidDir, fdDir] = [reader.openDir(dir), reader.openDir(`${dir}/fd`)];
  try {
    return fdDir.links(fds, filter, pidDir).map((l: FdLink) => ({ ...l, raw: typeof l.raw === 'string' ? l.raw : l.raw.toString('latin1') }));
  } finally {
    fdDir.close();
    pidDir.close();
  }
}

test('procfs addon: built by npm run build, and its batched reads are what koffi and node:fs read one by one', () => {
  assert.ok(procfsAddon(), 'dist/procfs.node is built by `npm run build` (scripts/build.mjs) where a C compiler is');
  const addon = readerOf('addon')!;
  assert.equal(procReader(), addon, 'the scan reads through the addon when it is there');
  const node = readerOf('node')!;
  const koffi = readerOf('koffi')!;
  const dir = `/proc/${process.pid}`;
  assert.deepEqual(addon.listNumbers(`${dir}/fd`), node.listNumbers(`${dir}/fd`));
  assert.deepEqual(addon.listNumbers(`${dir}/task`), koffi.listNumbers(`${dir}/task`));
  // A file under a prefix, /dev/fuse (the FUSE device: its fdinfo), and every absolute path.
  const scratchDir = mkdtempSync(join(tmpdir(), 'fuselens-links-'));
  const held = [openSync(join(scratchDir, 'a'), 'w'), openSync('/dev/fuse', 'r')];
  // The standard three, the two above, and one never open (it fails as a descriptor closed while the scan looked does).
  const fds = [0, 1, 2, ...held, 99999];
  try {
    for (const filter of [new LinkFilter([Buffer.from(scratchDir)]), new LinkFilter([], true), new LinkFilter([Buffer.from('/nowhere')])]) {
      const viaAddon = linksOf(addon, fds, filter);
      assert.deepEqual(viaAddon, linksOf(koffi, fds, filter));
      assert.deepEqual(viaAddon, linksOf(node, fds, filter));
      assert.deepEqual(viaAddon.at(-1), { fd: 99999, raw: 'ENOENT' });
      const fuse = viaAddon.find((l) => l.fd === held[1]);
      assert.match(fuse?.info ?? '', /^pos:\t0\nflags:\t\d+\nmnt_id:\t\d+\n/, '/dev/fuse is always wanted, with its fdinfo');
    }
    assert.ok(linksOf(addon, fds, new LinkFilter([Buffer.from(scratchDir)])).some((l) => l.fd === held[0] && l.raw === join(scratchDir, 'a') && /\nino:\t\d+\n/.test(l.info ?? '')));
  } finally {
    for (const fd of held) closeSync(fd);
    rmSync(scratchDir, { recursive: true, force: true });
  }
});

/** ProcReader.reread of a process's descriptors and stat, the fdinfo of the first descriptor and the stat through kept files (as a refresh keeps them), as a copy. */
function rereadOf(reader: ProcReader, pid: number, fds: number[]): Buffer {
  const dir = `/proc/${pid}`;
  const [pidDir, fdDir] = [reader.openDir(dir), reader.openDir(`${dir}/fd`)];
  const kept = [reader.openKept(`${dir}/fdinfo/${fds[0]}`), reader.openKept(`${dir}/stat`)];
  try {
    return Buffer.from(reader.reread(fdDir, pidDir, Int32Array.from(fds), Int32Array.from(fds, (_, i) => (i === 0 ? kept[0]! : -1)), kept[1]!));
  } finally {
    for (const fd of kept) reader.closeKept(fd);
    fdDir.close();
    pidDir.close();
  }
}

test("procfs addon: a refresh's reads of a process in one call are what koffi and node:fs read one by one", async (t) => {
  // A sleeping process: its stat says the same from one read to the next.
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => sleeper.kill());
  await new Promise((r) => sleeper.once('spawn', r));
  const pid = sleeper.pid!;
  const stat = (): string => readFileSync(`/proc/${pid}/stat`, 'latin1');
  await until(() => {
    const before = stat();
    return / S /.test(before) && readlinkSync(`/proc/${pid}/exe`).endsWith('/sleep') && stat() === before;
  }, 'sleep to be asleep');
  const viaAddon = rereadOf(readerOf('addon')!, pid, [0, 1, 2]);
  assert.deepEqual(viaAddon, rereadOf(readerOf('koffi')!, pid, [0, 1, 2]));
  assert.deepEqual(viaAddon, rereadOf(readerOf('node')!, pid, [0, 1, 2]));
  const reads = parseRereads(viaAddon, 3)!;
  assert.deepEqual(reads.links.map((l) => l.toString()), ['/dev/null', '/dev/null', '/dev/null']);
  assert.match(reads.infos[0]!, /^pos:\t0\nflags:\t\d+\nmnt_id:\t\d+\nino:\t\d+\n/);
  assert.match(reads.stat.toString(), new RegExp(`^${pid} \\(sleep\\) S `));
  // A descriptor closed meanwhile: its failures are in the record (the same through each reader), which then says nothing.
  const withClosed = rereadOf(readerOf('addon')!, pid, [0, 99999]);
  assert.deepEqual(withClosed, rereadOf(readerOf('node')!, pid, [0, 99999]));
  assert.equal(parseRereads(withClosed, 2), undefined);
});

test('procfs readers: libc through koffi and node:fs agree', () => {
  const fast = readerOf('koffi')!;
  assert.ok(fast, 'koffi is a dependency, so the libc reader should load');
  const dir = `/proc/${process.pid}`;
  assert.deepEqual(fast.listNumbers(`${dir}/fd`), nodeReader.listNumbers(`${dir}/fd`));
  assert.equal(fast.readlink(`${dir}/exe`).toString(), nodeReader.readlink(`${dir}/exe`).toString());
  assert.equal(fast.readFile(`${dir}/fdinfo/0`, true).toString(), nodeReader.readFile(`${dir}/fdinfo/0`, true).toString());
  const maps = fast.readFile(`${dir}/maps`).toString();
  assert.ok(maps.length > 300 * 1024 || maps.split('\n').length > 20, 'maps read whole');
  assert.equal(maps.split('\n')[0], nodeReader.readFile(`${dir}/maps`).toString().split('\n')[0]);
  // An O_PATH descriptor's own fdinfo: the mount and inode of a cwd, root or executable.
  const [a, b] = [fast.openDir(dir), nodeReader.openDir(dir)];
  try {
    const cwd = a.pathFdinfo('cwd').toString();
    assert.match(cwd, /^pos:\t0\nflags:\t012000000\nmnt_id:\t\d+\nino:\t\d+\n/, 'O_PATH|O_CLOEXEC');
    assert.equal(b.pathFdinfo('cwd').toString(), cwd);
    assert.throws(() => a.pathFdinfo('no-such-link'), { code: 'ENOENT' });
  } finally {
    a.close();
    b.close();
  }
  assert.throws(() => fast.readlink('/proc/no-such-pid/exe'), { code: 'ENOENT' });
  assert.throws(() => fast.listNumbers('/no/such/dir'), { code: 'ENOENT' });
});
