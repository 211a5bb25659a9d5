import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRib, pa, peer, v4 } from './helpers.js';

function setup() {
  const rib = newRib();
  const p1 = rib.peers.add(peer(1, true, 65001));
  const p2 = rib.peers.add(peer(2, true, 65002));
  const in1 = rib.adjRibIn(p1, 1);
  const in2 = rib.adjRibIn(p2, 1);
  const a = rib.store.internAttributes(pa({ med: 1 }), 0);
  const b = rib.store.internAttributes(pa({ med: 2 }), 0);
  return { rib, loc: rib.v4, in1, in2, a, b };
}

const P = (i: number) => v4(`10.${i >> 8}.${i & 255}.0`);

test('stale: markStale marks only this peer; re-announce (same or new attributes) and withdraw clear the mark', () => {
  const { loc, in1, in2, a, b } = setup();
  for (let i = 0; i < 10; i++) in1.announceV4(P(i), 24, 0, a);
  in2.announceV4(P(0), 24, 0, a);
  in2.announceV4(v4('172.16.0.0'), 16, 0, a);
  assert.equal(in1.markStale(), 10);
  assert.equal(in2.staleCount, 0);
  const slot = (i: number) => loc.v4!.find(P(i), 24);
  assert.ok(in1.isStale(slot(0)) && in1.isStale(slot(9)));
  assert.ok(!in2.isStale(slot(0)), 'marks are per peer');
  in1.announceV4(P(0), 24, 0, a); // same attributes: still a refresh
  in1.announceV4(P(1), 24, 0, b);
  in1.withdrawV4(P(2), 24, 0);
  assert.equal(in1.staleCount, 7);
  assert.ok(!in1.isStale(slot(0)) && !in1.isStale(slot(1)));
  assert.equal(in1.count, 9);
});

test('stale: the sweep removes exactly the stale routes, other peers untouched, in resumable steps', () => {
  const { loc, in1, in2, a, b } = setup();
  for (let i = 0; i < 300; i++) in1.announceV4(P(i), 24, 0, a);
  for (let i = 0; i < 300; i += 2) in2.announceV4(P(i), 24, 0, b);
  in1.markStale();
  for (let i = 0; i < 300; i += 3) in1.announceV4(P(i), 24, 0, a); // 100 re-learned
  assert.equal(in1.staleCount, 200);
  let from = 0;
  let steps = 0;
  while ((from = in1.sweepStale(from, 64)) >= 0) steps++;
  assert.ok(steps >= 4, `ran in steps (${steps})`);
  assert.equal(in1.count, 100);
  assert.equal(in1.staleCount, 0);
  assert.equal(in2.count, 150);
  for (let i = 0; i < 300; i++) {
    const s = loc.v4!.find(P(i), 24);
    const mine = s >= 0 && in1.lookup(s, 0) >= 0;
    assert.equal(mine, i % 3 === 0, `prefix ${i}`);
  }
  // Slots freed by the sweep may be reused by another prefix: that one is not stale.
  in2.announceV4(v4('192.0.2.0'), 24, 0, a);
  assert.equal(in1.staleCount, 0);
  assert.ok(!in1.isStale(loc.v4!.find(v4('192.0.2.0'), 24)));
});

test('stale: a freed slot reused by a new prefix does not inherit a mark', () => {
  const { loc, in1, in2, a } = setup();
  in1.announceV4(P(1), 24, 0, a);
  in1.markStale();
  const s = loc.v4!.find(P(1), 24);
  in1.withdrawV4(P(1), 24, 0); // frees the slot
  assert.equal(in1.staleCount, 0);
  in2.announceV4(P(2), 24, 0, a);
  in1.announceV4(P(3), 24, 0, a);
  for (const x of [P(2), P(3)]) assert.ok(!in1.isStale(loc.v4!.find(x, 24)));
  assert.ok(s >= 0);
  assert.equal(in1.sweepStale(0, 1 << 20), -1);
  assert.equal(in1.count, 1, 'nothing swept');
});

test('stale: clear() forgets marks; a new markStale (consecutive restart) marks re-learned routes again', () => {
  const { in1, a } = setup();
  for (let i = 0; i < 5; i++) in1.announceV4(P(i), 24, 0, a);
  in1.markStale();
  in1.announceV4(P(0), 24, 0, a);
  assert.equal(in1.staleCount, 4);
  assert.equal(in1.markStale(), 5, 'the re-learned route is stale again');
  in1.clear();
  assert.equal(in1.staleCount, 0);
  assert.equal(in1.count, 0);
});

test('stale: ADD-PATH: re-announcing one path id keeps it, the other path id of the prefix is swept', () => {
  const { loc, in1, a, b } = setup();
  in1.announceV4(P(1), 24, 1, a);
  in1.announceV4(P(1), 24, 2, b);
  in1.announceV4(P(2), 24, 1, a);
  in1.markStale();
  in1.announceV4(P(1), 24, 2, b);
  assert.equal(in1.sweepStale(0, 1 << 20), -1);
  const s = loc.v4!.find(P(1), 24);
  assert.equal(in1.lookup(s, 2), b);
  assert.equal(in1.lookup(s, 1), -1);
  assert.equal(loc.v4!.find(P(2), 24), -1);
  assert.equal(in1.count, 1);
});

test('stale: rejected by policy on re-announce (attrId -1) removes the stale route and its mark', () => {
  const { loc, in1, a } = setup();
  in1.announceV4(P(1), 24, 0, a);
  in1.markStale();
  in1.announceV4(P(1), 24, 0, -1);
  assert.equal(in1.staleCount, 0);
  assert.equal(loc.v4!.find(P(1), 24), -1);
});

test('stale: marking 200k routes and sweeping them stays fast', () => {
  const { in1, a } = setup();
  const n = 200_000;
  for (let i = 0; i < n; i++) in1.announceV4((0x0b000000 + i * 256) | 0, 24, 0, a);
  let t = performance.now();
  assert.equal(in1.markStale(), n);
  const mark = performance.now() - t;
  for (let i = 0; i < n; i += 2) in1.announceV4((0x0b000000 + i * 256) | 0, 24, 0, a);
  t = performance.now();
  let from = 0;
  while ((from = in1.sweepStale(from, 65536)) >= 0);
  const sweep = performance.now() - t;
  assert.equal(in1.count, n / 2);
  console.log(`# markStale ${n}: ${mark.toFixed(1)} ms; sweep ${n / 2}: ${sweep.toFixed(1)} ms`);
  assert.ok(mark < 1000 && sweep < 3000);
});
