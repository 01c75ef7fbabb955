// server/scenario/deferred-map.ts against Map and Set: the same answers after any
// sequence of updates and reads (updates to one key in a row, deletes of keys never
// set, reads between any two updates).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeferredMap, DeferredSet } from '../../server/scenario/deferred-map';
import { copyGraph, sameGraph } from '../../server/scenario/object-graph';

test('DeferredMap and DeferredSet answer as Map and Set after seeded random updates and reads', () => {
  let a = 42;
  const next = (n: number) => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return a % n;
  };
  const map = new Map<string, number>();
  const deferredMap = new DeferredMap<number>();
  const set = new Set<string>();
  const deferredSet = new DeferredSet();
  for (let i = 0; i < 60_000; i++) {
    // Now and then a key of thousands: enough of them for the applied updates to form levels and merge them.
    const key = next(3) === 0 ? `k${next(5000)}` : `h${next(50)}`;
    switch (next(5)) {
      case 0: map.set(key, i); deferredMap.set(key, i); set.add(key); deferredSet.add(key); break;
      case 1: map.delete(key); deferredMap.delete(key); set.delete(key); deferredSet.delete(key); break;
      case 2: map.set(key, -i); deferredMap.set(key, -i); break;
      case 3: if (next(20) === 0) {
        for (let k = 0; k < 50; k++) {
          assert.equal(deferredMap.get(`h${k}`), map.get(`h${k}`));
          assert.equal(deferredSet.has(`h${k}`), set.has(`h${k}`));
        }
      } break;
      default: assert.equal(deferredMap.has(key), map.has(key)); assert.equal(deferredSet.has(key), set.has(key));
    }
  }
});

test('a copy of a DeferredMap (as a checkpoint copies the state) shares its frozen levels, answers as the original and compares equal to it', () => {
  const original = new DeferredMap<number>();
  const map = new Map<string, number>();
  const keys = 4999;
  for (let i = 0; i < 30_000; i++) {
    const key = `h${(i * 7919) % keys}`;
    if (i % 3 === 2) {
      original.delete(key);
      map.delete(key);
    } else {
      original.set(key, i);
      map.set(key, i);
    }
    // Read now and then: the updates are applied, and levels made and merged, as they come.
    if (i % 700 === 0) assert.equal(original.get(key), map.get(key));
  }
  const copied = copyGraph(original, new Map())!;
  assert.ok(copied.size < 2 * 2 * 4096 + 2 * 1024 + 100, `the frozen levels are shared, not copied (${copied.size} values copied)`);
  assert.ok(sameGraph(original, copied.copy, new Map()));
  for (let k = 0; k < keys; k++) assert.equal(copied.copy.get(`h${k}`), map.get(`h${k}`));
  for (let k = 0; k < keys; k++) assert.equal(original.has(`h${k}`), map.has(`h${k}`));
  copied.copy.set('h1', -1);
  assert.equal(copied.copy.get('h1'), -1);
  assert.equal(original.get('h1'), map.get('h1'), 'the copy\'s updates are its own');
  assert.ok(!sameGraph(original, copied.copy, new Map()));
});
