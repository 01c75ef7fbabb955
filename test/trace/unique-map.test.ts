// UniqueMap (the analyzer's requests in flight) against a Map, on random
// operations over keys that collide and wrap around the table.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UniqueMap } from '../../server/trace/unique-map';

// One key space per run, so each kind of clash gets whole runs to itself.
const keySpaces = [
  fc.constantFrom(28, 30, 31, 0, 1, 2), // runs that wrap from the last slots to the first (few enough keys for the 16-slot table to stay)
  fc.integer({ min: 0, max: 200 }), // many collisions, and growth
  fc.integer({ min: 0, max: 50 }).map((k) => k * 64 + 1), // one home slot for all at every size up to 64
  fc.integer({ min: 2 ** 32, max: 2 ** 32 + 100 }), // folded modulo 2^32 onto the small ones
];
const ops = fc.integer({ min: 0, max: keySpaces.length - 1 }).chain((space) => {
  const key = keySpaces[space]!;
  return fc.array(
    fc.oneof(
      fc.tuple(fc.constant('set' as const), key, fc.integer()),
      fc.tuple(fc.constant('delete' as const), key, fc.constant(0)),
      fc.tuple(fc.constant('get' as const), key, fc.constant(0)),
      fc.tuple(fc.constant('take' as const), key, fc.constant(0)),
    ),
    { maxLength: 400 },
  );
});

test('UniqueMap behaves as a Map under any sequence of set, get, delete and take (get + delete)', () => {
  fc.assert(
    fc.property(ops, (list) => {
      const want = new Map<number, number>();
      const got = new UniqueMap<number>(4);
      for (const [kind, k, v] of list) {
        if (kind === 'set') {
          want.set(k, v);
          got.set(k, v);
        } else if (kind === 'delete') assert.equal(got.delete(k), want.delete(k));
        else if (kind === 'take') {
          assert.equal(got.take(k), want.get(k));
          want.delete(k);
        }
        assert.equal(got.get(k), want.get(k));
        assert.equal(got.size, want.size);
      }
      for (const [k, v] of want) assert.equal(got.get(k), v, `key ${k} still found after the deletions around it`);
      assert.deepEqual([...got.entries()].sort((a, b) => a[0] - b[0]), [...want.entries()].sort((a, b) => a[0] - b[0]));
      assert.deepEqual([...got.values()].sort(), [...want.values()].sort());
    }),
    { numRuns: 500 },
  );
});
