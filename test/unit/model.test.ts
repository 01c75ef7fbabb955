// One test per transition of server/model, against the kernel behaviour in
// fuse-kernel-rules.md sections 2-4.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backingClose, backingOpen, cachedIoOpen, cachedIoRelease, canLock, dioWriteEnd, dioWriteStart, EMPTY_BACKINGS,
  fileIoOpen, fileIoRelease, fileMmap, FOPEN, FREE_RWSEM, IDLE_INODE, inodeMode, isIoCacheWait, lock,
  mmapAccessError, parseKernelVersion, passthroughOpen, processInitReply, uncachedIoEnd, uncachedIoStart, unlock,
  writeLockKind, writePath, canonicalFlagName, isModelled, kernelFeatures, lockGrants, writeReachesServer, directIoSharedMmap,
  hasChange, KERNEL_GATES, unknownGates, kernelVersionOfRelease, formatKernelVersion, findOpenFlag, findInitFlag,
  type Connection, type FileIo, type InodeIo,
} from '../../server/model';

const v618 = parseKernelVersion('6.18')!;
const conn = (flags: string[], kernel = v618, maxStackDepth?: number): Connection =>
  processInitReply(kernel, { flags: new Set(flags), maxStackDepth }).conn;
const PT = conn(['passthrough']);
const file = (flags: number, extra: Partial<FileIo> = {}): FileIo => ({ iomode: 'none', openFlags: flags, passthrough: null, hasArgs: true, ...extra });
const registered = (id: number) => id === 1 || id === 2;
const inode = (io: Partial<InodeIo>): InodeIo => ({ ...IDLE_INODE, ...io });

test('processInitReply: passthrough needs 6.9, depth 1..2 and no writeback cache', () => {
  assert.equal(PT.passthrough, true);
  assert.equal(PT.maxStackDepth, 1, 'libfuse default depth');
  assert.equal(processInitReply(v618, { flags: new Set(['passthrough', 'writeback_cache']), maxStackDepth: 1 }).passthroughOff, 'writeback-cache');
  assert.equal(processInitReply(v618, { flags: new Set(['passthrough']), maxStackDepth: 0 }).passthroughOff, 'max-stack-depth');
  assert.equal(processInitReply(v618, { flags: new Set(['passthrough']), maxStackDepth: 3 }).passthroughOff, 'max-stack-depth');
  assert.equal(conn(['passthrough'], v618, 2).passthrough, true);
  assert.equal(processInitReply(parseKernelVersion('6.8')!, { flags: new Set(['passthrough']), maxStackDepth: 1 }).passthroughOff, 'kernel-too-old');
  assert.equal(conn(['direct_io_allow_mmap'], parseKernelVersion('6.1')!).directIoAllowMmap, false, 'unknown before 6.6');
  assert.equal(conn(['no_open']).noOpen, true);
});

test('kernel versions: mainline releases, stable sublevels and feature gates', () => {
  const k = (text: string) => parseKernelVersion(text)!;
  assert.equal(isModelled(k('6.1')), true);
  assert.equal(isModelled(k('7.3')), true);
  assert.equal(isModelled(k('6.19')), true);
  assert.equal(isModelled(k('6.42')), false, 'inside the range, but no such release');
  assert.equal(isModelled(k('7.4')), false);
  assert.equal(isModelled(k('5.15')), false);
  assert.equal(isModelled(k('6.12.70')), true, 'a stable release of a modelled series');
  assert.equal(kernelFeatures(k('6.10')).parallelWritesIgnoreCacheBit, true);
  assert.equal(kernelFeatures(k('6.12')).parallelWritesIgnoreCacheBit, false);
  assert.equal(kernelFeatures(k('6.7')).allowMmapForcesExclusiveDio, true);
  assert.equal(kernelFeatures(k('6.6')).allowMmapForcesExclusiveDio, false, '3f29f1c336c0 is mainline 6.7');
  assert.equal(kernelFeatures(k('6.6.8')).allowMmapForcesExclusiveDio, true, '...and 6.6.8 stable');
  // bd5603eaae0a: mainline 6.19; 6.18.3 and 6.12.64 stable; never 6.13-6.17.
  for (const [v, has] of [['6.12', false], ['6.12.63', false], ['6.12.64', true], ['6.17', false], ['6.17.9', false], ['6.18', false], ['6.18.3', true], ['6.19', true]] as const) {
    assert.equal(kernelFeatures(k(v)).noOpenFilesTakeCachedMode, has, v);
  }
  assert.equal(hasChange(k('6.11.4'), KERNEL_GATES.cacheBitForcesExclusiveDio), undefined, 'backported to 6.11.y at a sublevel not known');
  assert.deepEqual(unknownGates(k('6.11.4')), ['cacheBitForcesExclusiveDio']);
  assert.deepEqual(unknownGates(k('6.11')), []);
  assert.equal(parseKernelVersion('6.18.44')?.minor, 18);
  assert.equal(parseKernelVersion('6.18.44')?.sublevel, 44);
  assert.equal(formatKernelVersion(kernelVersionOfRelease('6.18.44-fc-v657')!), '6.18.44');
  assert.equal(formatKernelVersion(kernelVersionOfRelease('7.3-rc1')!), '7.3');
  assert.equal(parseKernelVersion('six'), undefined);
  // The flags read their first kernel from the gates: FUSE protocol 7.46 is first in 7.3.
  assert.equal(findOpenFlag('io_uring_zero_copy')?.since, '7.3');
  assert.equal(findInitFlag('has_io_uring_bufpool')?.since, '7.3');
});

test('canonicalFlagName accepts C spellings', () => {
  assert.equal(canonicalFlagName('FOPEN_DIRECT_IO'), 'direct_io');
  assert.equal(canonicalFlagName('FUSE_PASSTHROUGH'), 'passthrough');
  assert.equal(canonicalFlagName('DIRECT_IO_RELAX'), 'direct_io_allow_mmap');
});

test('uncachedIoStart: EBUSY for another backing, ETXTBSY with caching users, binds the first backing', () => {
  assert.deepEqual(uncachedIoStart(inode({ iocachectr: -1, fb: 1 }), 2), { ok: false, errno: 'EBUSY' });
  assert.deepEqual(uncachedIoStart(inode({ iocachectr: 1 }), 1), { ok: false, errno: 'ETXTBSY' });
  assert.deepEqual(uncachedIoStart(IDLE_INODE, 1), { ok: true, inode: { iocachectr: -1, cacheIoMode: false, fb: 1 } });
  assert.deepEqual(uncachedIoStart(inode({ iocachectr: -1, fb: 1 }), null), { ok: true, inode: { iocachectr: -2, cacheIoMode: false, fb: 1 } });
});

test('uncachedIoEnd: wakes and drops the backing only at zero', () => {
  assert.deepEqual(uncachedIoEnd(inode({ iocachectr: -2, fb: 1 })), { inode: inode({ iocachectr: -1, fb: 1 }), wake: false });
  assert.deepEqual(uncachedIoEnd(inode({ iocachectr: -1, fb: 1 })), { inode: IDLE_INODE, wake: true });
});

test('cachedIoOpen: waits while uncached without backing, ETXTBSY with backing, counts a file once', () => {
  const waiting = cachedIoOpen(inode({ iocachectr: -1 }), file(0), 'cached-open-waits-for-parallel-writes');
  assert.equal(waiting.kind, 'wait');
  assert.equal(waiting.inode.cacheIoMode, true, 'sets FUSE_I_CACHE_IO_MODE before sleeping');
  assert.equal(isIoCacheWait(inode({ iocachectr: -1, fb: 1 })), false);
  const refused = cachedIoOpen(inode({ iocachectr: -1, fb: 1, cacheIoMode: true }), file(0), 'cached-open-waits-for-parallel-writes');
  assert.equal(refused.kind === 'error' && refused.errno, 'ETXTBSY');
  assert.equal(refused.inode.cacheIoMode, false);
  const opened = cachedIoOpen(IDLE_INODE, file(0), 'cached-open-waits-for-parallel-writes');
  assert.ok(opened.kind === 'ok');
  assert.deepEqual(opened.inode, { iocachectr: 1, cacheIoMode: true, fb: null });
  assert.equal(opened.file.iomode, 'cached');
  const again = cachedIoOpen(opened.inode, opened.file, 'cached-open-waits-for-parallel-writes');
  assert.ok(again.kind === 'ok');
  assert.equal(again.inode.iocachectr, 1, 'idempotent per file');
  const noArgs = cachedIoOpen(inode({ iocachectr: -1 }), file(0, { hasArgs: false }), 'cached-open-waits-for-parallel-writes');
  assert.equal(noArgs.kind, 'ok');
});

test('cachedIoRelease: clears the bit with the last caching user', () => {
  const one = cachedIoRelease(inode({ iocachectr: 2, cacheIoMode: true }), file(0, { iomode: 'cached' }));
  assert.deepEqual(one.inode, { iocachectr: 1, cacheIoMode: true, fb: null });
  assert.deepEqual(cachedIoRelease(one.inode, file(0, { iomode: 'cached' })).inode, IDLE_INODE);
});

test('passthroughOpen: negotiation, mask, id checks, then binding', () => {
  const pt = FOPEN.passthrough!;
  const rule = (r: ReturnType<typeof passthroughOpen>) => (r.kind === 'error' ? `${r.errno}/${r.rule}` : r.kind);
  assert.equal(rule(passthroughOpen(conn([]), IDLE_INODE, file(pt), 1, registered)), 'EINVAL/passthrough-not-negotiated');
  assert.equal(rule(passthroughOpen(PT, IDLE_INODE, file(pt | FOPEN.keep_cache!), 1, registered)), 'EINVAL/passthrough-flag-combination');
  assert.equal(rule(passthroughOpen(PT, IDLE_INODE, file(pt | FOPEN.io_uring_zero_copy!), 1, registered)), 'EINVAL/passthrough-flag-combination');
  assert.equal(rule(passthroughOpen(PT, IDLE_INODE, file(pt), 0, registered)), 'EINVAL/passthrough-bad-backing-id');
  assert.equal(rule(passthroughOpen(PT, IDLE_INODE, file(pt), 7, registered)), 'ENOENT/passthrough-unknown-backing-id');
  assert.equal(rule(passthroughOpen(PT, inode({ iocachectr: -1, fb: 1 }), file(pt), 2, registered)), 'EBUSY/passthrough-conflicting-backing');
  assert.equal(rule(passthroughOpen(PT, inode({ iocachectr: 1 }), file(pt), 1, registered)), 'ETXTBSY/passthrough-open-on-caching-inode');
  const ok = passthroughOpen(PT, IDLE_INODE, file(pt | FOPEN.direct_io! | FOPEN.parallel_direct_writes! | FOPEN.noflush!), 1, registered);
  assert.ok(ok.kind === 'ok');
  assert.deepEqual([ok.inode.fb, ok.inode.iocachectr, ok.file.iomode, ok.file.passthrough], [1, -1, 'uncached', 1]);
});

test('fileIoOpen: the order of checks of fuse_file_io_open', () => {
  const bound = inode({ iocachectr: -1, fb: 1 });
  const r1 = fileIoOpen(PT, bound, file(FOPEN.direct_io!), 0, registered);
  assert.equal(r1.kind === 'error' && r1.rule, 'cached-open-on-passthrough-inode', 'fb check comes before the direct_io shortcut');
  const dio = fileIoOpen(PT, IDLE_INODE, file(FOPEN.direct_io! | FOPEN.parallel_direct_writes!), 0, registered);
  assert.ok(dio.kind === 'ok');
  assert.equal(dio.file.iomode, 'none', 'direct_io alone is neutral');
  assert.equal(dio.file.openFlags & FOPEN.parallel_direct_writes!, FOPEN.parallel_direct_writes!);
  const pdw = fileIoOpen(PT, IDLE_INODE, file(FOPEN.parallel_direct_writes!), 0, registered);
  assert.ok(pdw.kind === 'ok');
  assert.equal(pdw.file.openFlags, 0, 'PARALLEL_DIRECT_WRITES stripped without DIRECT_IO');
  assert.equal(pdw.file.iomode, 'cached');
  const noArgs = fileIoOpen(PT, bound, file(FOPEN.keep_cache!, { hasArgs: false }), 0, registered);
  assert.equal(noArgs.kind, 'ok', 'no io modes without args (no_open before bd5603eaae0a)');
  const ptPdw = fileIoOpen(PT, IDLE_INODE, file(FOPEN.passthrough! | FOPEN.parallel_direct_writes!), 1, registered);
  assert.ok(ptPdw.kind === 'ok');
  assert.equal(ptPdw.file.openFlags, FOPEN.passthrough!, 'PT|PDW: PDW stripped, plain passthrough');
});

test('fileIoRelease: gives the mode back; the last uncached release wakes', () => {
  const cached = fileIoRelease(inode({ iocachectr: 1, cacheIoMode: true }), file(0, { iomode: 'cached' }));
  assert.deepEqual([cached.inode, cached.wake], [IDLE_INODE, false]);
  const pt = fileIoRelease(inode({ iocachectr: -1, fb: 1 }), file(FOPEN.passthrough!, { iomode: 'uncached', passthrough: 1 }));
  assert.deepEqual([pt.inode, pt.wake, pt.file.passthrough], [IDLE_INODE, true, null]);
  const none = fileIoRelease(inode({ iocachectr: 2 }), file(FOPEN.direct_io!));
  assert.equal(none.inode.iocachectr, 2);
});

test('fileMmap: the order of fuse_file_mmap', () => {
  const allow = conn(['passthrough', 'direct_io_allow_mmap']);
  const ptFile = file(FOPEN.passthrough!, { iomode: 'uncached', passthrough: 1 });
  const bound = inode({ iocachectr: -1, fb: 1 });
  const m1 = fileMmap(PT, bound, ptFile, true);
  assert.ok(m1.kind === 'mapped' && !m1.holdsFile, 'passthrough maps the backing file');
  const m2 = fileMmap(allow, bound, file(FOPEN.direct_io!), false);
  assert.equal(m2.kind === 'error' && `${m2.errno}/${m2.rule}`, 'ENODEV/mmap-on-passthrough-inode');
  const m3 = fileMmap(PT, IDLE_INODE, file(FOPEN.direct_io!), true);
  assert.equal(m3.kind === 'error' && m3.errno, 'ENODEV');
  const m4 = fileMmap(PT, IDLE_INODE, file(FOPEN.direct_io!), false);
  assert.ok(m4.kind === 'mapped' && m4.file.iomode === 'none', 'private map: no mode change');
  const m5 = fileMmap(allow, IDLE_INODE, file(FOPEN.direct_io!), true);
  assert.ok(m5.kind === 'mapped' && m5.file.iomode === 'cached' && m5.inode.iocachectr === 1, 'shared map taints');
  const m6 = fileMmap(allow, inode({ iocachectr: -1 }), file(FOPEN.direct_io!), true);
  assert.equal(m6.kind, 'wait');
  const old = conn(['direct_io_allow_mmap'], parseKernelVersion('6.6')!);
  const m7 = fileMmap(old, IDLE_INODE, file(FOPEN.direct_io!), true);
  assert.ok(m7.kind === 'mapped' && m7.inode.iocachectr === 0, '6.6: allowed, no modes');
});

test('mmapAccessError: do_mmap access checks', () => {
  assert.equal(mmapAccessError('wronly', false, false), 'mmap-access-mode');
  assert.equal(mmapAccessError('rdonly', true, true), 'mmap-access-mode');
  assert.equal(mmapAccessError('rdonly', false, true), null, 'private writable map of a read-only fd is allowed');
  assert.equal(mmapAccessError('rdwr', true, true), null);
});

test('writeLockKind and writePath: who may share the inode lock', () => {
  const dioPdw = file(FOPEN.direct_io! | FOPEN.parallel_direct_writes!);
  assert.equal(writePath(file(FOPEN.passthrough! | FOPEN.direct_io!, { passthrough: 1 })), 'direct', 'DIRECT_IO overrides PASSTHROUGH');
  assert.equal(writePath(file(FOPEN.passthrough!, { passthrough: 1 })), 'passthrough');
  assert.equal(writeLockKind(PT, IDLE_INODE, dioPdw), 'shared');
  assert.equal(writeLockKind(PT, IDLE_INODE, file(FOPEN.direct_io!)), 'exclusive');
  assert.equal(writeLockKind(PT, inode({ iocachectr: -1, cacheIoMode: true }), dioPdw), 'exclusive', '6.12+: the bit forces exclusive');
  assert.equal(writeLockKind(conn(['passthrough'], parseKernelVersion('6.10')!), inode({ iocachectr: -1, cacheIoMode: true }), dioPdw), 'shared', '6.9-6.11 bug');
  assert.equal(writeLockKind(conn(['direct_io_allow_mmap'], parseKernelVersion('6.7')!), IDLE_INODE, dioPdw), 'exclusive', '6.7 fix');
  assert.equal(writeLockKind(conn([], parseKernelVersion('6.1')!), IDLE_INODE, dioPdw), 'shared');
});

test('writeReachesServer: passthrough never; buffered writes under writeback_cache only with O_DIRECT', () => {
  const wb = conn(['writeback_cache']);
  assert.equal(writeReachesServer(wb, file(0), false), false, 'page cache');
  assert.equal(writeReachesServer(wb, file(0), true), true, 'generic_file_direct_write → fuse_direct_IO');
  assert.equal(writeReachesServer(wb, file(FOPEN.direct_io!), false), true);
  assert.equal(writeReachesServer(conn([]), file(0), false), true, 'written through without writeback_cache');
  assert.equal(writeReachesServer(PT, file(FOPEN.passthrough!, { passthrough: 1 }), true), false);
});

test('lockGrants: rwsem_mark_wake gives a released lock to the head writer alone, or to every queued reader', () => {
  assert.deepEqual(lockGrants(FREE_RWSEM, ['shared', 'exclusive', 'shared']), [0, 2], 'readers behind a writer too');
  assert.deepEqual(lockGrants(FREE_RWSEM, ['exclusive', 'shared', 'shared']), [0]);
  assert.deepEqual(lockGrants(lock(FREE_RWSEM, 'shared'), ['exclusive']), [], 'still read-held');
  assert.deepEqual(lockGrants(lock(FREE_RWSEM, 'exclusive'), ['shared']), []);
  assert.deepEqual(lockGrants(FREE_RWSEM, []), []);
});

test('a woken DIO shared mmap goes on in fuse_file_cached_io_open', () => {
  const dio = file(FOPEN.direct_io!);
  const asleep = fileMmap(conn(['passthrough', 'direct_io_allow_mmap']), inode({ iocachectr: -1 }), dio, true);
  assert.equal(asleep.kind, 'wait');
  const woken = directIoSharedMmap(IDLE_INODE, dio);
  assert.ok(woken.kind === 'mapped' && woken.inode.iocachectr === 1 && woken.file.iomode === 'cached');
});

test('rwsem and dio write start/end', () => {
  assert.equal(canLock(FREE_RWSEM, 'exclusive', false), true);
  assert.equal(canLock(lock(FREE_RWSEM, 'shared'), 'shared', false), true);
  assert.equal(canLock(lock(FREE_RWSEM, 'shared'), 'exclusive', false), false);
  assert.equal(canLock(FREE_RWSEM, 'shared', true), false, 'queued waiters go first');
  assert.deepEqual(unlock(lock(FREE_RWSEM, 'exclusive'), 'exclusive'), FREE_RWSEM);
  const started = dioWriteStart(PT, IDLE_INODE, 'shared');
  assert.deepEqual(started, { inode: inode({ iocachectr: -1 }), kind: 'shared' });
  assert.deepEqual(dioWriteStart(PT, inode({ iocachectr: 1 }), 'shared').kind, 'exclusive', 'falls back, never an error');
  assert.deepEqual(dioWriteEnd(PT, started.inode, 'shared'), { inode: IDLE_INODE, wake: true });
  assert.deepEqual(dioWriteStart(conn([], parseKernelVersion('6.1')!), IDLE_INODE, 'shared').inode, IDLE_INODE, 'no counter before 6.9');
});

test('backing ids: ENOTTY before 6.9, EPERM without passthrough, cyclic ids, close checks', () => {
  const old = backingOpen(conn([], parseKernelVersion('6.8')!), EMPTY_BACKINGS, 'b');
  assert.equal(!old.ok && old.errno, 'ENOTTY');
  const off = backingOpen(conn([]), EMPTY_BACKINGS, 'b');
  assert.equal(!off.ok && off.errno, 'EPERM');
  const a = backingOpen(PT, EMPTY_BACKINGS, 'a');
  assert.ok(a.ok && a.id === 1);
  const b = backingOpen(PT, a.table, 'b');
  assert.ok(b.ok && b.id === 2);
  const closed = backingClose(PT, b.table, 1);
  assert.ok(closed.ok);
  const again = backingClose(PT, closed.table, 1);
  assert.equal(!again.ok && again.errno, 'ENOENT');
  const zero = backingClose(PT, closed.table, 0);
  assert.equal(!zero.ok && zero.errno, 'EINVAL');
  const c = backingOpen(PT, closed.table, 'c');
  assert.ok(c.ok && c.id === 3, 'ids are not reused');
});

test('inodeMode: passthrough while bound, else by the counter', () => {
  assert.equal(inodeMode(inode({ iocachectr: -1, fb: 3 })), 'passthrough');
  assert.equal(inodeMode(inode({ iocachectr: 2 })), 'caching');
  assert.equal(inodeMode(inode({ iocachectr: -2 })), 'uncached');
  assert.equal(inodeMode(IDLE_INODE), 'idle');
});
