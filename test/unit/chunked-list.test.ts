// server/scenario/chunked-list.ts against plain arrays: every version made by random
// replacements (inserts, deletions, changes, at the ends and across chunks) reads as
// the array spliced the same way, and still does after later versions were made from
// it — the chunks shared between versions never let one version's edit show in another.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ChunkedList } from '../../server/scenario/chunked-list';

const replacement = fc.record({
  // Fractions of the length, so that edits fall anywhere; `from`: which earlier version is edited.
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  remove: fc.oneof(fc.nat(3), fc.nat(400)),
  insert: fc.oneof(fc.nat(3), fc.nat(300)),
  from: fc.double({ min: 0, max: 1, noNaN: true }),
});

/** Every way the list is read, as arrays. */
function read<T>(list: ChunkedList<T>): { at: T[]; slice: T[]; forEach: T[]; length: number } {
  const at = Array.from({ length: list.length }, (_, i) => list.at(i));
  const forEach: T[] = [];
  list.forEach((x) => forEach.push(x));
  return { at, slice: list.slice(), forEach, length: list.length };
}

test('versions of a ChunkedList read as the arrays spliced alike, each unchanged by the versions made from it', () => {
  fc.assert(fc.property(fc.nat(2000), fc.array(replacement, { minLength: 1, maxLength: 25 }), (n, edits) => {
    let made = 0;
    const arrays: number[][] = [Array.from({ length: n }, () => made++)];
    const lists = [ChunkedList.of(arrays[0]!)];
    for (const e of edits) {
      const k = Math.floor(e.from * (arrays.length - 1));
      const base = arrays[k]!;
      const start = Math.floor(e.at * base.length);
      const end = Math.min(base.length, start + e.remove);
      const middle = Array.from({ length: e.insert }, () => made++);
      const expected = [...base];
      expected.splice(start, end - start, ...middle);
      arrays.push(expected);
      lists.push(lists[k]!.replaced(start, end, middle));
      // `middle` is the caller's: changing it afterwards changes no version.
      middle.fill(-1);
    }
    lists.forEach((list, v) => {
      const expected = arrays[v]!;
      assert.deepEqual(read(list), { at: expected, slice: expected, forEach: expected, length: expected.length }, `version ${v}`);
      const from = Math.floor(expected.length / 3);
      assert.deepEqual(list.slice(from, 2 * from + 1), expected.slice(from, 2 * from + 1));
    });
  }), { numRuns: 200, seed: 11 });
});

test('sameHead and sameTail count what a comparison entry by entry counts, across shared and unshared chunks', () => {
  fc.assert(fc.property(fc.nat(1500), fc.array(replacement, { maxLength: 4 }), fc.array(replacement, { maxLength: 4 }), (n, left, right) => {
    const base = ChunkedList.of(Array.from({ length: n }, (_, i) => i));
    let made = n;
    const edited = (edits: typeof left) => edits.reduce((list, e) => {
      const start = Math.floor(e.at * list.length);
      // Entries put back as they were (equal, not shared) as well as new ones.
      const middle = Array.from({ length: e.insert }, (_, j) => (j % 2 ? start + j : made++));
      return list.replaced(start, Math.min(list.length, start + e.remove), middle);
    }, base);
    const a = edited(left);
    const b = edited(right);
    const x = a.slice();
    const y = b.slice();
    const min = Math.min(x.length, y.length);
    let head = 0;
    while (head < min && x[head] === y[head]) head++;
    let tail = 0;
    while (tail < min && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
    const same = (p: number, q: number) => p === q;
    assert.equal(a.sameHead(b, same), head);
    assert.equal(a.sameTail(b, same), tail);
  }), { numRuns: 300, seed: 12 });
});

test('countWhile finds where an increasing list passes a value, as a search entry by entry does', () => {
  fc.assert(fc.property(fc.nat(1500), fc.array(replacement, { maxLength: 6 }), fc.array(fc.integer({ min: -5, max: 20_000 }), { maxLength: 20 }), (n, edits, probes) => {
    // Even numbers, increasing; the edits put in odd ones between their neighbours.
    let list = ChunkedList.of(Array.from({ length: n }, (_, i) => 8 * i));
    for (const e of edits) {
      const start = Math.floor(e.at * list.length);
      const end = Math.min(list.length, start + e.remove);
      const low = start > 0 ? list.at(start - 1) : -1;
      const high = end < list.length ? list.at(end) : Infinity;
      const room = high === Infinity ? e.insert : Math.min(e.insert, Math.max(0, high - low - 1));
      list = list.replaced(start, end, Array.from({ length: room }, (_, j) => low + 1 + j));
    }
    const items = list.slice();
    for (const p of [...probes, ...items.slice(0, 5), ...items.slice(-5)]) {
      assert.equal(list.countWhile((v) => v < p), items.filter((v) => v < p).length, `below ${p}`);
    }
  }), { numRuns: 300, seed: 13 });
});
