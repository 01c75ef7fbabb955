// server/scenario/deferred-map.ts against Map and Set: the same answers after any
// sequence of updates and reads (updates to one key in a row, deletes of keys never
// set, reads between any two updates).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeferredMap, DeferredSet } from '../../server/scenario/deferred-map';

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
  for (let i = 0; i < 20_000; i++) {
    const key = `h${next(50)}`;
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
