import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_REFRESH_WAIT_MS, REFRESH_CPU_SHARE, RefreshPacer, refreshWait } from '../../extension/refresh-pacer';

test('a cheap refresh keeps the configured interval', () => {
  assert.equal(refreshWait(20, 5000), 5000); // 20 ms every 5 s: 0.4 % of a core
  assert.equal(refreshWait(0, 2000), 2000);
});

test('a costly refresh is spaced so that it takes at most 1 % of a core', () => {
  const wait = refreshWait(2000, 5000); // a 100,000-descriptor scan
  assert.equal(wait, 200_000);
  assert.ok(2000 / wait <= REFRESH_CPU_SHARE);
  assert.equal(refreshWait(80, 5000), 8000); // just over the share at 5 s
});

test('the wait has a ceiling, but a longer configured interval is kept', () => {
  assert.equal(refreshWait(60_000, 5000), MAX_REFRESH_WAIT_MS);
  assert.equal(refreshWait(60_000, MAX_REFRESH_WAIT_MS * 2), MAX_REFRESH_WAIT_MS * 2);
});

test('the pacer sums the requests of one refresh and starts afresh at the next', () => {
  const pacer = new RefreshPacer();
  assert.equal(pacer.next(5000), 5000); // nothing measured yet
  pacer.spent(400); // listMounts
  pacer.spent(600); // one expanded mount's inspection
  assert.equal(pacer.next(5000), 100_000);
  // The view stayed quiet since: back to the interval.
  assert.equal(pacer.next(5000), 5000);
});
