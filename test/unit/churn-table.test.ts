// server/scenario/churn-table.ts against Map and Set: the same answers and order after
// seeded random updates that often empty the table (where ChurnMap starts a new one),
// and a copy of it (object-graph.ts, the editor's checkpoints) equal to it and apart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChurnMap, ChurnSet } from '../../server/scenario/churn-table';
import { copyGraph, sameGraph } from '../../server/scenario/object-graph';

test('ChurnMap and ChurnSet answer as Map and Set, in the same order, after seeded random updates', () => {
  let a = 7;
  const next = (n: number) => {
    a = (a * 1103515245 + 12345) % 2 ** 31;
    return (a >>> 16) % n; // the high bits: the low ones of this generator repeat with a short period
  };
  const map = new Map<string, number>();
  const churnMap = new ChurnMap<string, number>();
  const set = new Set<string>();
  const churnSet = new ChurnSet<string>();
  let emptied = 0;
  for (let i = 0; i < 20_000; i++) {
    // Few keys, so that the tables go empty again and again, as a process's descriptors do.
    const key = `h${next(4)}`;
    if (next(2) === 0) {
      map.set(key, i);
      churnMap.set(key, i);
      set.add(key);
      churnSet.add(key);
    } else {
      const size = map.size;
      assert.equal(churnMap.delete(key), map.delete(key));
      assert.equal(churnSet.delete(key), set.delete(key));
      if (size === 1 && map.size === 0) emptied++;
    }
    assert.equal(churnMap.size, map.size);
    assert.equal(churnSet.size, set.size);
    assert.equal(churnMap.get(key), map.get(key));
    assert.equal(churnMap.has(key), map.has(key));
    assert.equal(churnSet.has(key), set.has(key));
    assert.deepEqual([...churnMap], [...map]);
    assert.deepEqual([...churnMap.keys()], [...map.keys()]);
    assert.deepEqual([...churnMap.values()], [...map.values()]);
    assert.deepEqual([...churnSet], [...set]);
  }
  assert.ok(emptied > 500, `the tables went empty ${emptied} times`);
});

test('a copy of a ChurnMap is equal to it and apart from it', () => {
  const table = new ChurnMap<string, { n: number }>();
  table.set('a', { n: 1 }).set('b', { n: 2 });
  const copied = copyGraph(table, new Map())!;
  assert.ok(sameGraph(table, copied.copy, new Map()));
  copied.copy.delete('a');
  copied.copy.delete('b');
  copied.copy.set('c', { n: 3 });
  assert.deepEqual([...table.keys()], ['a', 'b']);
  assert.deepEqual([...copied.copy.keys()], ['c']);
  assert.ok(!sameGraph(table, copied.copy, new Map()));
});
