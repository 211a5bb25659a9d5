import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_BACKOFF,
  DEFAULT_SEND_HOLD_TIME,
  sendHoldTime,
  failuresAfterEstablished,
  idleHoldTime,
  jitter,
  seededRandom,
} from '../../src/session/timers.js';

test('jitter stays within [0.75, 1.0] of the nominal value and covers the range', () => {
  const rnd = seededRandom(42);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < 10_000; i++) {
    const v = jitter(120, rnd);
    assert.ok(v >= 90 && v <= 120, `jittered ${v}`);
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  // 10k uniform draws: both ends are reached within 0.1 s.
  assert.ok(min < 90.1, `min ${min}`);
  assert.ok(max > 119.9, `max ${max}`);
});

test('jitter at the ends of the random source and with a broken source', () => {
  assert.equal(jitter(30, () => 0), 22.5);
  assert.equal(jitter(30, () => 0.5), 26.25);
  assert.equal(jitter(30, () => 1), 30);
  assert.equal(jitter(30, () => 7), 30);
  assert.equal(jitter(30, () => -3), 22.5);
  assert.equal(jitter(30, () => NaN), 22.5);
  assert.equal(jitter(0, () => 0.3), 0);
});

test('seededRandom replays the same sequence for the same seed', () => {
  const a = seededRandom(7);
  const b = seededRandom(7);
  const c = seededRandom(8);
  const sa = Array.from({ length: 50 }, a);
  const sb = Array.from({ length: 50 }, b);
  const sc = Array.from({ length: 50 }, c);
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  for (const v of sa) assert.ok(v >= 0 && v < 1);
  assert.ok(new Set(sa).size === 50);
});

test('idle hold backoff: 1 s, doubling per failure, capped at 120 s', () => {
  const seq = Array.from({ length: 11 }, (_, n) => idleHoldTime(n));
  assert.deepEqual(seq, [1, 1, 2, 4, 8, 16, 32, 64, 120, 120, 120]);
  assert.equal(idleHoldTime(1_000_000), 120);
  assert.equal(idleHoldTime(Number.MAX_SAFE_INTEGER), 120);
  assert.equal(idleHoldTime(-5), 1);
  const custom = { initial: 5, max: 60, multiplier: 3, stableAfter: 30 };
  assert.deepEqual([1, 2, 3, 4].map((n) => idleHoldTime(n, custom)), [5, 15, 45, 60]);
});

test('a session up for stableAfter seconds forgets its failures', () => {
  assert.equal(DEFAULT_BACKOFF.stableAfter, 120);
  assert.equal(failuresAfterEstablished(6, 119.9), 6);
  assert.equal(failuresAfterEstablished(6, 120), 0);
  assert.equal(failuresAfterEstablished(6, 5, { ...DEFAULT_BACKOFF, stableAfter: 5 }), 0);
});

test('RFC 9687 SendHoldTime: max(8 minutes, 2 × hold time), the configured value, none with hold time 0', () => {
  assert.equal(DEFAULT_SEND_HOLD_TIME, 480);
  assert.equal(sendHoldTime(90), 480);
  assert.equal(sendHoldTime(3), 480);
  assert.equal(sendHoldTime(240), 480);
  assert.equal(sendHoldTime(241), 482);
  assert.equal(sendHoldTime(65535), 131070);
  assert.equal(sendHoldTime(90, 5), 5);
  assert.equal(sendHoldTime(90, 0), 0);
  assert.equal(sendHoldTime(0), 0);
  assert.equal(sendHoldTime(0, 5), 0);
});
