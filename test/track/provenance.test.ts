// The provenance rules, case by case (server/trace/provenance.ts): what a trace
// replay plus /proc proves about an inode's io mode, and what it does not.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InodeReport, OpenSeen } from '../../protocol/trace';
import type { InodeView } from '../../protocol/inspect';
import { clockText, heldModes, matchTraced, provenance } from '../../server/trace/provenance';

// 12:03:01.250 since midnight, as strace -tt stamps it.
const AT = (12 * 3600 + 3 * 60 + 1) * 1e6 + 250_000;

function open(over: Partial<OpenSeen> = {}): OpenSeen {
  return { ts: AT, pid: 9045, comm: 'cat', flags: ['passthrough'], backingId: 3, outcome: 'ok', ...over };
}

function traced(over: Partial<InodeReport> = {}): InodeReport {
  return {
    connection: 41, nodeid: 7, ino: 1234, name: 'a', mode: 'passthrough', iocachectr: -1, backingId: 3, opensSeen: 1, openFiles: 1,
    lastOpenFlags: ['passthrough'], backingPath: '/src/a', lastOpen: open(), ...over,
  };
}

const HELD = { opens: 1, mappings: 0 };

test('proven: nothing was held when tracking began, the traced open accounts for the file', () => {
  const p = provenance({ held: HELD, heldFromBefore: false, traced: { inode: traced(), matchedBy: 'ino' } });
  assert.equal(p.mode, 'passthrough');
  assert.equal(p.basis, 'proven');
  assert.equal(p.text, 'passthrough · backing 3 (/src/a) · since OPEN at 12:03:01 by cat (9045)');
  assert.equal(p.matchedBy, 'ino');
  assert.equal(p.nodeid, 7);
});

test('proven without the decoder\'s backing path and last open: says only what it has', () => {
  const p = provenance({ held: HELD, heldFromBefore: false, traced: { inode: traced({ backingPath: undefined, lastOpen: undefined }), matchedBy: 'ino' } });
  assert.equal(p.text, 'passthrough · backing 3');
  assert.equal(p.backingPath, null);
});

test('proven caching carries no backing', () => {
  const t = traced({ mode: 'caching', iocachectr: 1, backingId: null, backingPath: null, lastOpen: open({ flags: ['keep_cache'], backingId: null }) });
  const p = provenance({ held: HELD, heldFromBefore: false, traced: { inode: t, matchedBy: 'name' } });
  assert.equal(p.text, 'caching · since OPEN at 12:03:01 by cat (9045)');
  assert.equal(p.matchedBy, 'name');
});

test('held before tracking, no open seen: unknown · opened before tracking, never idle', () => {
  const p = provenance({ held: { opens: 1, mappings: 1 }, heldFromBefore: true, traced: null });
  assert.equal(p.mode, 'unknown');
  assert.equal(p.basis, 'unknown');
  assert.equal(p.text, 'unknown · opened before tracking');
  assert.match(p.reasons.join(' '), /1 descriptor and 1 mapping/);
});

test('held before tracking and a passthrough open succeeded since: inferred passthrough, with the reasoning', () => {
  const p = provenance({ held: { opens: 2, mappings: 0 }, heldFromBefore: true, traced: { inode: traced(), matchedBy: 'ino' } });
  assert.equal(p.mode, 'passthrough');
  assert.equal(p.basis, 'inferred');
  assert.equal(p.text, 'passthrough · backing 3 (/src/a) · since OPEN at 12:03:01 by cat (9045)');
  assert.match(p.reasons[0]!, /fuse_inode_uncached_io_start/);
  assert.match(p.reasons[0]!, /descriptor from before tracking/);
});

test('held before tracking and a caching open succeeded since: inferred caching (not passthrough)', () => {
  const t = traced({ mode: 'caching', iocachectr: 1, backingId: null, backingPath: null, lastOpen: open({ flags: [], backingId: null }) });
  const p = provenance({ held: { opens: 2, mappings: 0 }, heldFromBefore: true, traced: { inode: t, matchedBy: 'ino' } });
  assert.equal(p.mode, 'caching');
  assert.equal(p.basis, 'inferred');
  assert.match(p.reasons[0]!, /fuse_file_cached_io_open waits/);
});

test('held before tracking, the traced open was released since: back to unknown', () => {
  const t = traced({ openFiles: 0, mode: 'idle', iocachectr: 0 });
  const p = provenance({ held: HELD, heldFromBefore: true, traced: { inode: t, matchedBy: 'ino' } });
  assert.equal(p.mode, 'unknown');
  assert.equal(p.text, 'unknown · opened before tracking');
  assert.match(p.reasons.join(' '), /released/);
});

test('held before tracking and an open without passthrough was refused: a backing file is bound, passthrough inferred', () => {
  const t = traced({ openFiles: 0, mode: 'idle', iocachectr: 0, backingId: null, backingPath: null, lastOpen: open({ flags: ['keep_cache'], backingId: null, outcome: 'refused' }) });
  const p = provenance({ held: HELD, heldFromBefore: true, traced: { inode: t, matchedBy: 'ino' } });
  assert.equal(p.mode, 'passthrough');
  assert.equal(p.basis, 'inferred');
  assert.equal(p.text, 'passthrough · refused OPEN at 12:03:01 by cat (9045)');
  assert.match(p.reasons[0]!, /fuse_file_io_open refuses a reply without FOPEN_PASSTHROUGH/);
});

test('held before tracking and a passthrough open was refused: caching or another backing, mode not claimed', () => {
  const t = traced({ openFiles: 0, mode: 'idle', iocachectr: 0, lastOpen: open({ outcome: 'refused' }) });
  const p = provenance({ held: HELD, heldFromBefore: true, traced: { inode: t, matchedBy: 'ino' } });
  assert.equal(p.mode, 'unknown');
  assert.equal(p.basis, 'inferred');
  assert.match(p.reasons[0]!, /ETXTBSY.*EBUSY/);
});

test('a possible refusal settles nothing', () => {
  const t = traced({ openFiles: 0, mode: 'idle', iocachectr: 0, lastOpen: open({ flags: [], outcome: 'possibly-refused' }) });
  const p = provenance({ held: HELD, heldFromBefore: true, traced: { inode: t, matchedBy: 'ino' } });
  assert.equal(p.mode, 'unknown');
  assert.equal(p.basis, 'unknown');
});

test('not held before, held now, no open seen: unknown, not idle', () => {
  const p = provenance({ held: HELD, heldFromBefore: false, traced: null });
  assert.equal(p.mode, 'unknown');
  assert.equal(p.text, 'unknown · no OPEN seen since tracking began');
});

test('traced, released, held by nobody: idle is proven', () => {
  const t = traced({ openFiles: 0, mode: 'idle', iocachectr: 0 });
  const p = provenance({ held: { opens: 0, mappings: 0 }, heldFromBefore: false, traced: { inode: t, matchedBy: null } });
  assert.equal(p.mode, 'idle');
  assert.equal(p.basis, 'proven');
});

test('a trace file: a mode open at its end is inferred and says so; idle at its end while held is unknown', () => {
  const live = provenance({ held: HELD, heldFromBefore: null, traced: { inode: traced(), matchedBy: 'ino' }, traceEnded: '12:04:10' });
  assert.equal(live.basis, 'inferred');
  assert.equal(live.text, 'passthrough at the end of the trace · backing 3 (/src/a) · since OPEN at 12:03:01 by cat (9045)');
  const old = provenance({ held: HELD, heldFromBefore: null, traced: { inode: traced({ openFiles: 0, mode: 'idle' }), matchedBy: 'ino' }, traceEnded: '12:04:10' });
  assert.equal(old.mode, 'unknown');
  assert.equal(old.text, 'unknown · opened outside the trace');
  const none = provenance({ held: HELD, heldFromBefore: null, traced: null });
  assert.equal(none.text, 'unknown · opened outside the trace');
});

test('matching: by ino (64-bit exact), else by a unique name without ino, never by node id', () => {
  const big = '5878266001153151637';
  const inodes = [
    traced({ nodeid: 5, ino: big as unknown as number, name: 'x' }),
    traced({ nodeid: 1234, ino: null, name: 'b' }),
    traced({ nodeid: 9, ino: null, name: 'dup' }),
    traced({ nodeid: 10, ino: null, name: 'dup' }),
  ];
  assert.equal(matchTraced(big, '/m/x', 41, inodes)?.inode.nodeid, 5);
  assert.equal(matchTraced('5878266001153151638', '/m/y', 41, inodes), null);
  // ino 1234 equals a node id, not an ino: no match by node id.
  assert.equal(matchTraced(1234, '/m/other', 41, inodes), null);
  assert.equal(matchTraced(77, '/m/b', 41, inodes)?.matchedBy, 'name');
  assert.equal(matchTraced(78, '/m/dup', 41, inodes), null, 'two inodes with the name: cannot tell');
  assert.equal(matchTraced(77, '/m/b', 42, inodes.map((i) => ({ ...i, connection: 41 }))), null, 'another connection');
});

test('clock: strace -tt since midnight and epoch microseconds', () => {
  assert.equal(clockText(AT), '12:03:01');
  assert.equal(clockText(null), 'an unknown time');
  assert.match(clockText(Date.UTC(2026, 0, 1, 12, 3, 1) * 1000), /^\d\d:03:01$/);
});

test('heldModes: an inode opened before tracking (no ino, no name in the trace) is matched by its opener, only when unambiguous', () => {
  const view = (ino: number, path: string, pids: number[]): InodeView => ({
    ino, path, mode: 'unknown', evidence: [], mappings: [],
    opens: pids.map((pid, fd) => ({ pid, comm: 'x', fd: fd + 3, flags: ['O_RDONLY'], rawFlags: '0', pos: 0, path, deleted: false })),
  });
  const reopened = traced({ nodeid: 70, ino: null, name: null, lastOpen: open({ pid: 50 }) });
  const b = traced({ nodeid: 71, ino: 11, name: 'b', lastOpen: open({ pid: 50, backingId: 2 }), backingId: 2 });
  const held = [view(10, '/m/a', [40, 50]), view(11, '/m/b', [50])];
  const modes = heldModes({ held, connection: 41, traced: [reopened, b], heldFromBefore: (v) => v.ino === 10 });
  assert.deepEqual(modes.map((m) => [m.inode.ino, m.inode.provenance.matchedBy, m.inode.provenance.basis, m.inode.provenance.nodeid]), [
    [10, 'opener', 'inferred', 70],
    [11, 'ino', 'proven', 71],
  ]);
  // Pid 50 holds two descriptors no traced inode accounts for: which one it opened cannot be told.
  const twice = heldModes({ held: [view(10, '/m/a', [50]), view(12, '/m/c', [50])], connection: 41, traced: [reopened], heldFromBefore: () => true });
  assert.deepEqual(twice.map((m) => m.inode.provenance.text), ['unknown · opened before tracking', 'unknown · opened before tracking']);
  // A trace file (no snapshot): every holder may predate it.
  const file = heldModes({ held, connection: 41, traced: [b], heldFromBefore: () => null, traceEnded: '12:05:00' });
  assert.equal(file[1]!.inode.provenance.text, 'passthrough at the end of the trace · backing 2 (/src/a) · since OPEN at 12:03:01 by cat (50)');
});
