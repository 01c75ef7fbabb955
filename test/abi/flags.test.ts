// The model's flag table (names, meanings, kernels) and the ABI's bits are one
// set of flags: every flag a scenario can name is a bit of the wire, and every
// bit of the wire a server can set is a flag a scenario can name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as abi from '../../server/abi';
import { FOPEN_PASSTHROUGH_MASK, INIT_BEHAVIOURS, INIT_FLAGS, OPEN_FLAGS, openFlagsValue } from '../../server/model';

test('every FOPEN_* of the ABI is an open flag of the model, with the same bit, and back', () => {
  assert.deepEqual(
    OPEN_FLAGS.map((f) => [f.name, f.bit]),
    Object.entries(abi.FOPEN_BITS),
  );
  for (const f of OPEN_FLAGS) assert.equal(f.cName, `FOPEN_${f.name.toUpperCase()}`);
  assert.equal(openFlagsValue(['passthrough', 'keep_cache']), 0x82);
  // fs/fuse/iomode.c: FOPEN_PASSTHROUGH | FOPEN_DIRECT_IO | FOPEN_PARALLEL_DIRECT_WRITES | FOPEN_NOFLUSH
  assert.equal(FOPEN_PASSTHROUGH_MASK, 0x80 | 0x1 | 0x40 | 0x20);
});

test('every INIT flag of the ABI a server sets is an init flag of the model, with the same bit, and back', () => {
  // init_reserved (bit 31) is no flag: the uapi header reserves it (FUSE_INIT_RESERVED).
  const wire = Object.entries(abi.INIT_FLAG_BITS).filter(([name]) => name !== 'init_reserved');
  assert.deepEqual(INIT_FLAGS.map((f) => [f.name, f.bit]), wire);
  for (const f of INIT_FLAGS) {
    assert.equal(f.cName, `FUSE_${f.name.toUpperCase()}`);
    assert.equal(abi.initFlag(f.name as abi.InitFlagName), 1n << BigInt(f.bit));
  }
  // Scenario-only words are behaviours of the server, not bits of the wire.
  for (const b of INIT_BEHAVIOURS) {
    assert.equal(b.bit, -1);
    assert.ok(!(b.name in abi.INIT_FLAG_BITS), b.name);
  }
});
