import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PrefixBatch } from '../../src/wire/nlri/batch.js';
import { RibChange } from '../../src/rib/adj-rib-in.js';
import { newRib, pa, peer, v4 } from './helpers.js';

function setup(keepPre = false) {
  const rib = newRib();
  const p1 = rib.peers.add(peer(1, true, 65001));
  const p2 = rib.peers.add(peer(2, true, 65002));
  const in1 = rib.adjRibIn(p1, 1, keepPre);
  const in2 = rib.adjRibIn(p2, 1);
  return { rib, loc: rib.v4, store: rib.store, p1, p2, in1, in2 };
}

test('adj-rib-in: add, replace, same, withdraw report what changed', () => {
  const { loc, store, in1 } = setup();
  const a = store.internAttributes(pa({ med: 1 }), 0);
  const b = store.internAttributes(pa({ med: 2 }), 0);
  const pfx = v4('192.168.0.0');
  assert.equal(in1.announceV4(pfx, 16, 0, a), RibChange.ADDED);
  assert.equal(in1.announceV4(pfx, 16, 0, a), RibChange.NONE);
  assert.equal(in1.announceV4(pfx, 16, 0, b), RibChange.REPLACED);
  assert.equal(in1.count, 1);
  const s = loc.v4!.find(pfx, 16);
  assert.equal(in1.lookup(s, 0), b);
  assert.equal(store.refCount(a), 1, 'the replaced set lost the route reference');
  assert.equal(store.refCount(b), 2);
  assert.equal(in1.withdrawV4(pfx, 16, 0), RibChange.REMOVED);
  assert.equal(in1.withdrawV4(pfx, 16, 0), RibChange.NONE);
  assert.equal(in1.withdrawV4(v4('10.0.0.0'), 8, 0), RibChange.NONE);
  assert.equal(in1.count, 0);
  assert.equal(loc.table.size, 0, 'withdrawing unknown prefixes makes no slot');
  assert.equal(store.refCount(b), 1);
});

test('adj-rib-in: ADD-PATH keeps several paths per prefix per peer', () => {
  const { loc, store, p1, in1, in2 } = setup();
  const x = store.internAttributes(pa({ nh: 1 }), 0);
  const y = store.internAttributes(pa({ nh: 2 }), 0);
  const pfx = v4('10.10.0.0');
  in1.announceV4(pfx, 16, 3, x);
  in1.announceV4(pfx, 16, 1, y);
  in1.announceV4(pfx, 16, 2, x);
  in2.announceV4(pfx, 16, 1, x);
  assert.equal(in1.count, 3);
  assert.equal(in2.count, 1);
  const s = loc.v4!.find(pfx, 16);
  assert.deepEqual([in1.lookup(s, 1), in1.lookup(s, 2), in1.lookup(s, 3), in1.lookup(s, 4)], [y, x, x, -1]);
  assert.equal(in2.lookup(s, 1), x);
  assert.equal(in2.lookup(s, 2), -1, 'path ids are per peer');
  // Everything else equal: the lowest router id (peer 1), then the lowest path id.
  const best = loc.best(s);
  assert.equal(loc.pathPeer(best), p1);
  assert.equal(loc.pathId(best), 1);
  assert.equal(in1.withdrawV4(pfx, 16, 1), RibChange.REMOVED);
  assert.equal(loc.pathId(loc.best(s)), 2);
  assert.equal(in1.count, 2);
  const seen: string[] = [];
  assert.equal(in1.walk(0, 1000, (slot, id, attr) => seen.push(`${slot}/${id}/${attr}`)), -1);
  assert.deepEqual(seen.sort(), [`${s}/2/${x}`, `${s}/3/${x}`]);
});

test('adj-rib-in: a policy reject withdraws the older route and leaves no slot', () => {
  const { loc, store, in1 } = setup();
  const a = store.internAttributes(pa(), 0);
  const pfx = v4('10.20.0.0');
  assert.equal(in1.announceV4(pfx, 16, 0, -1, a), RibChange.NONE);
  assert.equal(loc.table.size, 0);
  in1.announceV4(pfx, 16, 0, a);
  assert.equal(in1.announceV4(pfx, 16, 0, -1, a), RibChange.REMOVED);
  assert.equal(in1.count, 0);
  assert.equal(loc.table.size, 0);
  assert.equal(store.refCount(a), 1);
});

test('adj-rib-in: pre-policy copies are kept only when asked, also for rejected routes', () => {
  const { loc, store, in1, in2 } = setup(true);
  const raw = store.internAttributes(pa(), 0);
  const post = store.internModified(raw, { localPref: 10 });
  const pfx = v4('10.30.0.0');
  in1.announceV4(pfx, 16, 0, post, raw);
  in2.announceV4(pfx, 16, 0, raw);
  const s = loc.v4!.find(pfx, 16);
  assert.equal(in1.prePolicy(s, 0), raw);
  assert.equal(in1.lookup(s, 0), post);
  assert.equal(in2.prePolicy(s, 0), -1, 'peer 2 keeps none');
  assert.equal(in1.preCount, 1);
  // Rejected now: the post-policy route goes, the pre-policy copy stays.
  in1.announceV4(pfx, 16, 0, -1, raw);
  assert.equal(in1.lookup(s, 0), -1);
  assert.equal(in1.prePolicy(s, 0), raw);
  assert.equal(in1.count, 0);
  in2.withdrawV4(pfx, 16, 0);
  assert.equal(loc.table.isLive(s), true, 'the pre-policy copy keeps the prefix');
  let visits = 0;
  in1.walk(0, 100, (slot, id, attr) => {
    visits++;
    assert.deepEqual([slot, id, attr], [s, 0, raw]);
  }, true);
  assert.equal(visits, 1);
  in1.withdrawV4(pfx, 16, 0);
  assert.equal(in1.preCount, 0);
  assert.equal(loc.table.size, 0);
  store.unref(post);
  store.unref(raw);
  assert.equal(store.count, 0);
});

test('adj-rib-in: clear removes only this peer, returns its prefixes and releases references', () => {
  const { loc, store, p2, in1, in2 } = setup(true);
  const q = loc.createQueue();
  const a = store.internAttributes(pa({ nh: 1 }), 0);
  const b = store.internAttributes(pa({ path: [65002, 1], nh: 2 }), 0);
  for (let i = 0; i < 50; i++) {
    in1.announceV4(v4(`10.${i}.0.0`), 16, i % 3, a);
    if (i % 2 === 0) in2.announceV4(v4(`10.${i}.0.0`), 16, 0, b);
  }
  assert.equal(store.refCount(a), 1 + 50 + 50, 'caller + routes + pre-policy copies');
  const out = new Int32Array(100);
  assert.equal(q.drain(100, out), 50);
  const gone = in1.clear();
  assert.equal(gone.count, 50);
  const got = new Set<string>();
  for (let i = 0; i < gone.count; i++) got.add(`${gone.words[i]}/${gone.lens[i]}/${gone.pathIds[i]}`);
  for (let i = 0; i < 50; i++) assert.ok(got.has(`${v4(`10.${i}.0.0`)}/16/${i % 3}`));
  assert.equal(in1.count, 0);
  assert.equal(in1.preCount, 0);
  assert.equal(store.refCount(a), 1);
  assert.equal(in2.count, 25);
  // All 50 prefixes changed: 25 lost their only path, 25 moved to peer 2.
  assert.equal(q.drain(100, out), 50);
  let withBest = 0;
  for (let i = 0; i < 50; i++) {
    const s = out[i]!;
    if (loc.best(s) >= 0) {
      withBest++;
      assert.equal(loc.pathPeer(loc.best(s)), p2);
    }
  }
  assert.equal(withBest, 25);
  q.release();
  assert.equal(loc.table.size, 25);
  in2.clear();
  store.unref(a);
  store.unref(b);
  assert.equal(store.count, 0);
  assert.equal(loc.pathCount, 0);
});

test('adj-rib-in: IPv6 announce and withdraw', () => {
  const { rib, store, p1 } = setup();
  const in6 = rib.adjRibIn(p1, 2);
  const g = Buffer.alloc(16, 0);
  g[0] = 0xfe;
  const a = store.internAttributes(pa({ nextHop: undefined, mpNextHop: { global: g, linkLocal: undefined } }), 0);
  assert.equal(in6.announceV6(0x20010db8, 0, 0, 0, 32, 0, a), RibChange.ADDED);
  const s = rib.v6.v6!.find(0x20010db8, 0, 0, 0, 32);
  assert.ok(s >= 0);
  assert.equal(rib.v6.bestAttr(s), a);
  assert.equal(rib.v6.nextHopOf(a), store.nextHop6[a]);
  const gone = in6.clear();
  assert.equal(gone.count, 1);
  assert.deepEqual([gone.words[0], gone.words[1], gone.lens[0]], [0x20010db8, 0, 32]);
  assert.equal(in6.announceV6(0x20010db8, 0, 0, 0, 32, 0, a), RibChange.ADDED);
  assert.equal(in6.withdrawV6(0x20010db8, 0, 0, 0, 32, 0), RibChange.REMOVED);
  assert.equal(rib.v6.table.size, 0);
  assert.equal(rib.v4.table.size, 0);
});

test('adj-rib-in: unknown peers are refused', () => {
  const { rib } = setup();
  assert.throws(() => rib.adjRibIn(42, 1), RangeError);
  assert.throws(() => rib.family(3), RangeError);
});

test('adj-rib-in: clearFrom removes the routes in steps, with the same result as clear', () => {
  const { loc, store, in1, in2 } = setup(true);
  const a = store.internAttributes(pa({ nh: 1 }), 0);
  for (let i = 0; i < 100; i++) {
    in1.announceV4(v4(`10.${i}.0.0`), 16, 0, a);
    if (i % 4 === 0) in2.announceV4(v4(`10.${i}.0.0`), 16, 0, a);
  }
  const out = new PrefixBatch(1, 4);
  let at = 0;
  let steps = 0;
  while (at >= 0) {
    at = in1.clearFrom(at, 7, out);
    steps++;
    assert.ok(in1.count >= 0);
  }
  assert.equal(steps, Math.ceil(100 / 7));
  assert.equal(out.count, 100);
  assert.equal(in1.count, 0);
  assert.equal(in1.preCount, 0);
  assert.equal(in2.count, 25);
  assert.equal(loc.table.size, 25, 'no change queue: the other prefixes are freed');
  assert.equal(store.refCount(a), 1 + 25);
  in2.clear();
  store.unref(a);
  assert.equal(store.count, 0);
});
