// protocol/u64.ts: 64-bit values exact in JSON — a number while it is a safe integer, its
// decimal string above — and ordered exactly.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareU64, toU64 } from '../../protocol/u64';

test('toU64: a number up to 2^53 - 1, the decimal string above, undefined for what is no u64', () => {
  assert.equal(toU64('4242'), 4242);
  assert.equal(toU64('9007199254740991'), 9007199254740991);
  assert.equal(toU64('9007199254740992'), '9007199254740992');
  assert.equal(toU64('5878266001153151637'), '5878266001153151637');
  assert.equal(toU64(5878266001153151637n), '5878266001153151637');
  assert.equal(toU64(7n), 7);
  assert.equal(toU64('0007'), 7, 'one form per value, whatever the spelling');
  assert.equal(toU64('18446744073709551615'), '18446744073709551615');
  for (const bad of ['18446744073709551616', '-1', '1.5', '', 'abc', ' 1']) assert.equal(toU64(bad), undefined, bad);
  assert.equal(toU64(-1n), undefined);
  assert.equal(toU64(12), 12);
  assert.equal(toU64(2 ** 53), undefined, 'a number past 2^53 - 1 may already be rounded');
  assert.equal(toU64(1.5), undefined);
});

test('compareU64 orders exactly where doubles are equal', () => {
  const a = toU64('5878266001153151637')!;
  const b = toU64('5878266001153151638')!;
  assert.equal(Number(a), Number(b), 'the two are one double');
  assert.ok(compareU64(a, b) < 0 && compareU64(b, a) > 0);
  assert.equal(compareU64(a, '5878266001153151637'), 0);
  assert.ok(compareU64(9007199254740991, '9007199254740992') < 0);
  assert.ok(compareU64(3, 12) < 0);
  assert.deepEqual(['18446744073709551615', 5, '9007199254740993', 40].sort(compareU64), [5, 40, '9007199254740993', '18446744073709551615']);
});
