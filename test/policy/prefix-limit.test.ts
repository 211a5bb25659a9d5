import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PrefixLimit } from '../../src/config/model.js';
import { maxPrefixNotification, PrefixLimiter } from '../../src/policy/prefix-limit.js';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const limit = (maxPrefixes: number, warningThresholdPercent = 75, restartTimerSeconds = 30): PrefixLimit => ({
  maxPrefixes,
  warningThresholdPercent,
  restartTimerSeconds,
});

test('warning once at the threshold, re-armed below it', () => {
  const c = clock();
  const l = new PrefixLimiter(limit(100, 75), c.now);
  assert.equal(l.state, 'normal');
  assert.equal(l.received(74), 'none');
  assert.equal(l.received(1), 'warning'); // 75 = 75% of 100
  assert.equal(l.state, 'warning');
  assert.equal(l.received(10), 'none');
  assert.equal(l.received(-11), 'none'); // 74: under again, re-armed
  assert.equal(l.state, 'normal');
  assert.equal(l.received(1), 'warning');
  assert.equal(l.warningsTotal, 2);
  assert.equal(l.count, 75);
});

test('threshold without rounding: 75% of 10 is 7.5, so 8 warns', () => {
  const l = new PrefixLimiter(limit(10, 75), clock().now);
  assert.equal(l.set(7), 'none');
  assert.equal(l.set(8), 'warning');
});

test('100%: warning when reaching the limit, exceeded above it', () => {
  const l = new PrefixLimiter(limit(10, 100), clock().now);
  assert.equal(l.set(9), 'none');
  assert.equal(l.set(10), 'warning');
  assert.equal(l.received(1), 'exceeded');
});

test('exceeded, stays down, restarts after the timer', () => {
  const c = clock();
  const l = new PrefixLimiter(limit(100, 90, 30), c.now);
  assert.equal(l.received(100), 'warning');
  assert.equal(l.canStart(), true);
  assert.equal(l.received(1), 'exceeded');
  assert.equal(l.state, 'overflow');
  assert.equal(l.overflowCount, 101);
  assert.equal(l.exceededTotal, 1);
  assert.equal(l.exceededAt, 1_000_000);
  assert.equal(l.restartAt, 1_000_000 + 30_000);
  assert.equal(l.count, 0);
  assert.equal(l.canStart(), false);
  // Late UPDATEs while the session is torn down count nothing.
  assert.equal(l.received(500), 'none');
  assert.equal(l.count, 0);
  c.advance(29_999);
  assert.equal(l.canStart(), false);
  assert.equal(l.canStart(c.now() + 1), true);
  c.advance(1);
  assert.equal(l.canStart(), true);
  assert.equal(l.state, 'normal');
  assert.equal(l.restartAt, 1_030_000); // still shown until the next session counts
  // The new session counts from zero.
  assert.equal(l.received(50), 'none');
  assert.equal(l.restartAt, undefined);
  assert.equal(l.count, 50);
  assert.equal(l.received(60), 'exceeded');
  assert.equal(l.restartAt, 1_030_000 + 30_000);
  assert.equal(l.exceededTotal, 2);
});

test('exceeded in one step from zero reports exceeded, not warning', () => {
  const l = new PrefixLimiter(limit(10), clock().now);
  assert.equal(l.received(11), 'exceeded');
  assert.equal(l.warningsTotal, 0);
});

test('restart timer 0 = down until an operator clears it', () => {
  const c = clock();
  const l = new PrefixLimiter(limit(5, 80, 0), c.now);
  assert.equal(l.set(6), 'exceeded');
  assert.equal(l.restartAt, undefined);
  c.advance(365 * 24 * 3600 * 1000);
  assert.equal(l.canStart(), false);
  assert.equal(l.state, 'overflow');
  assert.equal(l.received(1), 'none');
  l.clear();
  assert.equal(l.canStart(), true);
  assert.equal(l.count, 0);
  assert.equal(l.received(4), 'warning');
});

test('reconfigure clears the overflow and re-evaluates', () => {
  const c = clock();
  const l = new PrefixLimiter(limit(5, 80, 0), c.now);
  assert.equal(l.set(6), 'exceeded');
  assert.equal(l.canStart(), false);
  assert.equal(l.reconfigure(limit(1000, 80, 0)), 'none');
  assert.equal(l.canStart(), true);
  assert.equal(l.state, 'normal');
  assert.equal(l.received(700), 'none');
  // Lowering the limit under the current count: exceeded at once.
  assert.equal(l.reconfigure(limit(600, 80, 10)), 'exceeded');
  assert.equal(l.restartAt, c.now() + 10_000);
  // Raising it to where the count sits above the threshold: warning again.
  assert.equal(l.reconfigure(limit(100, 50, 10)), 'none'); // overflow cleared, count 0
  assert.equal(l.received(60), 'warning');
  assert.equal(l.reconfigure(limit(110, 50, 10)), 'warning');
  assert.equal(l.reconfigure(limit(1000, 50, 10)), 'none');
  assert.equal(l.state, 'normal');
});

test('no limit: counts, never fires; reset drops the count but keeps an overflow', () => {
  const c = clock();
  const l = new PrefixLimiter(undefined, c.now);
  assert.equal(l.state, 'disabled');
  assert.equal(l.received(5_000_000), 'none');
  assert.equal(l.count, 5_000_000);
  assert.equal(l.maxPrefixes, undefined);
  l.reset();
  assert.equal(l.count, 0);
  assert.equal(l.received(-3), 'none');
  assert.equal(l.count, 0, 'never negative');
  assert.equal(l.reconfigure(limit(2)), 'none');
  assert.equal(l.set(3), 'exceeded');
  l.reset();
  assert.equal(l.canStart(), false);
});

test('Cease / Maximum Number of Prefixes Reached (RFC 4486) data: AFI SAFI limit', () => {
  const n = maxPrefixNotification(2, 1, 0x01020304);
  assert.equal(n.code, 6);
  assert.equal(n.subcode, 1);
  assert.equal(n.data.toString('hex'), '0002' + '01' + '01020304');
  assert.equal(maxPrefixNotification(1, 1, 4294967295).data.toString('hex'), '000101ffffffff');
});
