import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { selectBest, type PathInfo } from '../../src/rib/decision.js';
import type { ChangeQueue, LocRib } from '../../src/rib/loc-rib.js';
import { newRib, pa, peer, v4 } from './helpers.js';

function drainAll(q: ChangeQueue): number[] {
  const out = new Int32Array(1024);
  const n = q.drain(out.length, out);
  return Array.from(out.subarray(0, n)).sort((a, b) => a - b);
}

function setup(opts: Parameters<typeof newRib>[0] = {}) {
  const rib = newRib(opts);
  const p1 = rib.peers.add(peer(1, true, 65001));
  const p2 = rib.peers.add(peer(2, true, 65002));
  const p3 = rib.peers.add(peer(3, false, 65000));
  const loc = rib.v4;
  const q = loc.createQueue();
  const in1 = rib.adjRibIn(p1, 1);
  const in2 = rib.adjRibIn(p2, 1);
  const in3 = rib.adjRibIn(p3, 1);
  return { rib, loc, q, p1, p2, p3, in1, in2, in3, store: rib.store };
}

test('loc-rib: best changes produce exactly the expected dirty prefixes', () => {
  const { loc, q, p1, p2, in1, in2, store } = setup();
  const short = store.internAttributes(pa({ path: [65001] }), 0);
  const long = store.internAttributes(pa({ path: [65002, 7, 8], nh: 2 }), 0);
  const longer = store.internAttributes(pa({ path: [65002, 7, 8, 9], nh: 2 }), 0);
  const a = v4('10.1.0.0');
  const b = v4('10.2.0.0');
  const c = v4('10.3.0.0');

  in1.announceV4(a, 16, 0, short);
  in1.announceV4(b, 16, 0, short);
  const sa = loc.v4!.find(a, 16);
  const sb = loc.v4!.find(b, 16);
  assert.deepEqual(drainAll(q), [sa, sb].sort((x, y) => x - y));
  assert.equal(loc.pathPeer(loc.best(sa)), p1);
  assert.equal(loc.bestCount, 2);

  // Same route again: nothing.
  assert.equal(in1.announceV4(a, 16, 0, short), 0);
  // A worse path from p2: the best does not change.
  in2.announceV4(a, 16, 0, long);
  assert.deepEqual(drainAll(q), []);
  // p2 improves its (still worse) path: still nothing.
  in2.announceV4(a, 16, 0, longer);
  assert.deepEqual(drainAll(q), []);
  // p2 wins for c (only path) and p1's path for b changes attributes: b and c dirty.
  in2.announceV4(c, 16, 0, long);
  in1.announceV4(b, 16, 0, longer);
  const sc = loc.v4!.find(c, 16);
  assert.deepEqual(drainAll(q), [sb, sc].sort((x, y) => x - y));
  assert.equal(loc.bestAttr(sb), longer);
  // Withdraw the best of a: p2 takes over; a is dirty once however many changes.
  in1.withdrawV4(a, 16, 0);
  in2.announceV4(a, 16, 0, long);
  in2.announceV4(a, 16, 0, longer);
  assert.deepEqual(drainAll(q), [sa]);
  assert.equal(loc.pathPeer(loc.best(sa)), p2);
  assert.equal(loc.bestAttr(sa), longer);
  // Withdrawing a non-best path of nobody: nothing.
  assert.equal(in1.withdrawV4(a, 16, 0), 0);
  assert.deepEqual(drainAll(q), []);
  for (const id of [short, long, longer]) store.unref(id);
});

test('loc-rib: a withdrawn prefix stays readable until its queue releases it', () => {
  const { loc, q, in1, store } = setup();
  const id = store.internAttributes(pa(), 0);
  in1.announceV4(v4('10.9.0.0'), 16, 0, id);
  drainAll(q);
  const s = loc.v4!.find(v4('10.9.0.0'), 16);
  in1.withdrawV4(v4('10.9.0.0'), 16, 0);
  assert.equal(loc.table.isLive(s), true, 'held by the queue');
  const out = new Int32Array(8);
  assert.equal(q.drain(8, out), 1);
  assert.equal(out[0], s);
  assert.equal(loc.best(s), -1);
  assert.equal(loc.v4!.addrOf(s), v4('10.9.0.0'), 'still readable after drain');
  assert.equal(q.drain(8, out), 0); // releases the batch
  assert.equal(loc.table.isLive(s), false);
  assert.equal(loc.table.size, 0);
  store.unref(id);
  assert.equal(store.count, 0, 'every reference returned');
});

test('loc-rib: a prefix re-announced before the drain keeps its slot and is reported once', () => {
  const { loc, q, in1, store } = setup();
  const id = store.internAttributes(pa(), 0);
  in1.announceV4(v4('10.9.0.0'), 16, 0, id);
  const s = loc.v4!.find(v4('10.9.0.0'), 16);
  in1.withdrawV4(v4('10.9.0.0'), 16, 0);
  in1.announceV4(v4('10.9.0.0'), 16, 0, id);
  assert.equal(loc.v4!.find(v4('10.9.0.0'), 16), s);
  assert.deepEqual(drainAll(q), [s]);
  assert.equal(loc.bestAttr(s), id);
  store.unref(id);
});

test('loc-rib: every queue sees every change, at its own pace', () => {
  const { loc, q, in1, store } = setup();
  const q2 = loc.createQueue();
  const id = store.internAttributes(pa(), 0);
  for (let i = 0; i < 10; i++) in1.announceV4(v4(`10.${i}.0.0`), 16, 0, id);
  const out = new Int32Array(4);
  assert.equal(q.drain(4, out), 4);
  assert.equal(q.size, 6);
  assert.equal(q2.size, 10);
  assert.equal(drainAll(q2).length, 10);
  assert.equal(drainAll(q).length, 6);
  // Withdraw all: slots are freed only after both queues released them.
  for (let i = 0; i < 10; i++) in1.withdrawV4(v4(`10.${i}.0.0`), 16, 0);
  assert.equal(drainAll(q).length, 10);
  q.release();
  assert.equal(loc.table.size, 10);
  assert.equal(drainAll(q2).length, 10);
  q2.release();
  assert.equal(loc.table.size, 0);
  q2.close();
  store.unref(id);
});

test('loc-rib: no queue means empty slots are freed at once', () => {
  const { loc, q, in1, store } = setup();
  q.close();
  const id = store.internAttributes(pa(), 0);
  in1.announceV4(v4('10.0.0.0'), 8, 0, id);
  in1.withdrawV4(v4('10.0.0.0'), 8, 0);
  assert.equal(loc.table.size, 0);
  store.unref(id);
});

test('loc-rib: ECMP set changes are reported and readable', () => {
  const { loc, q, p1, p2, in1, in2, store } = setup({ maxPaths: 4, multipathRelax: true });
  const a1 = store.internAttributes(pa({ path: [65001, 9], nh: 1 }), 0);
  const a2 = store.internAttributes(pa({ path: [65002, 9], nh: 2 }), 0);
  const a3 = store.internAttributes(pa({ path: [65002, 9, 9], nh: 2 }), 0);
  in1.announceV4(v4('10.0.0.0'), 8, 0, a1);
  const s = loc.v4!.find(v4('10.0.0.0'), 8);
  assert.deepEqual(drainAll(q), [s]);
  in2.announceV4(v4('10.0.0.0'), 8, 0, a2);
  assert.deepEqual(drainAll(q), [s], 'a second equal path joins the multipath set');
  assert.equal(loc.multipathCount(s), 2);
  const mp = new Int32Array(4);
  assert.equal(loc.multipath(s, mp), 2);
  assert.deepEqual([loc.pathPeer(mp[0]!), loc.pathPeer(mp[1]!)], [p1, p2], 'best first: lower router id');
  assert.notEqual(loc.nextHopOf(loc.pathAttr(mp[0]!)), loc.nextHopOf(loc.pathAttr(mp[1]!)));
  in2.announceV4(v4('10.0.0.0'), 8, 0, a3);
  assert.deepEqual(drainAll(q), [s], 'it leaves the set');
  assert.equal(loc.multipathCount(s), 1);
  for (const id of [a1, a2, a3]) store.unref(id);
});

test('loc-rib: next-hop resolution changes are picked up by reevaluation', () => {
  const { loc, q, p1, p2, in1, in2, store } = setup();
  const a1 = store.internAttributes(pa({ nh: 1 }), 0);
  const a2 = store.internAttributes(pa({ path: [65002, 5], nh: 2 }), 0);
  in1.announceV4(v4('10.0.0.0'), 8, 0, a1);
  in2.announceV4(v4('10.0.0.0'), 8, 0, a2);
  const s = loc.v4!.find(v4('10.0.0.0'), 8);
  drainAll(q);
  assert.equal(loc.pathPeer(loc.best(s)), p1);
  store.nextHops.setResolution(store.nextHop4[a1]!, false, 0);
  let at = 0;
  while (at >= 0) at = loc.reevaluateFrom(at, 1);
  assert.deepEqual(drainAll(q), [s]);
  assert.equal(loc.pathPeer(loc.best(s)), p2);
  store.nextHops.setResolution(store.nextHop4[a2]!, false, 0);
  assert.equal(loc.reevaluate(s), true);
  assert.equal(loc.best(s), -1);
  assert.equal(loc.bestCount, 0);
  // A single path whose next hop does not resolve is not a best path either.
  in1.withdrawV4(v4('10.0.0.0'), 8, 0);
  assert.equal(loc.best(s), -1);
  for (const id of [a1, a2]) store.unref(id);
});

test('loc-rib: eBGP paths without LOCAL_PREF get the default; policy may set it', () => {
  const { loc, p1, p3, in1, in3, store } = setup({ defaultLocalPref: 50 });
  // p3 is iBGP with LOCAL_PREF 100 and a longer path; p1 is eBGP with no LOCAL_PREF.
  const ext = store.internAttributes(pa({ path: [65001] }), 1);
  const int = store.internAttributes(pa({ path: [65009, 1, 2], localPref: 100, nh: 3 }), 0);
  in1.announceV4(v4('10.0.0.0'), 8, 0, ext);
  in3.announceV4(v4('10.0.0.0'), 8, 0, int);
  const s = loc.v4!.find(v4('10.0.0.0'), 8);
  assert.equal(loc.pathPeer(loc.best(s)), p3, 'default 50 < 100');
  const raised = store.internModified(ext, { localPref: 200 });
  in1.announceV4(v4('10.0.0.0'), 8, 0, raised, ext);
  assert.equal(loc.pathPeer(loc.best(s)), p1, 'policy-set 200 > 100');
  for (const id of [ext, int, raised]) store.unref(id);
});

test('loc-rib: a missing MED is 0 by default and worst with medMissingAsWorst', () => {
  for (const worst of [false, true]) {
    const { loc, p1, p2, in1, in2, store } = setup({ medMissingAsWorst: worst });
    // Same neighbour AS 65005 so MEDs compare; p2 has a lower router id... no: p1 does (10.0.0.1).
    const noMed = store.internAttributes(pa({ path: [65005] }), 0);
    const med5 = store.internAttributes(pa({ path: [65005], med: 5, nh: 2 }), 0);
    in1.announceV4(v4('10.0.0.0'), 8, 0, med5);
    in2.announceV4(v4('10.0.0.0'), 8, 0, noMed);
    const s = loc.v4!.find(v4('10.0.0.0'), 8);
    assert.equal(loc.pathPeer(loc.best(s)), worst ? p1 : p2);
    for (const id of [noMed, med5]) store.unref(id);
  }
});

// ---- Model check: random operations against selectBest over a plain list ----

interface RefPath {
  peer: number;
  pathId: number;
  attr: number;
}

test('loc-rib agrees with a reference model under random operations', () => {
  const peerInfos = [peer(1, true, 65001), peer(2, true, 65002), peer(3, false, 65000)];
  const attrSpecs = [
    pa({ path: [65001], nh: 1 }),
    pa({ path: [65001], med: 10, nh: 2 }),
    pa({ path: [65002, 1], nh: 3 }),
    pa({ path: [65002], localPref: 150, nh: 4 }),
    pa({ path: [65003], med: 3, origin: 2, nh: 1 }),
  ];
  const op = fc.record({
    peer: fc.integer({ min: 0, max: 2 }),
    prefix: fc.integer({ min: 0, max: 3 }),
    pathId: fc.integer({ min: 0, max: 1 }),
    attr: fc.integer({ min: -1, max: attrSpecs.length - 1 }), // -1: withdraw
    drain: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 1, max: 3 }), (ops, maxPaths) => {
      const rib = newRib({ maxPaths, multipathRelax: true });
      const store = rib.store;
      const loc: LocRib = rib.v4;
      const q = loc.createQueue();
      const peers = peerInfos.map((p) => rib.peers.add(p));
      const ins = peers.map((p) => rib.adjRibIn(p, 1));
      const ids = attrSpecs.map((a) => store.internAttributes(a, 0));
      const ref = new Map<number, RefPath[]>();
      const before = new Map<number, string>(); // prefix → selection after the previous step
      const info = (r: RefPath): PathInfo => {
        const pi = peerInfos[r.peer]!;
        const a = r.attr;
        return {
          localPref: store.hasLocalPref(a) ? store.localPref[a]! : 100,
          asPathLength: store.asPathLen[a]!,
          origin: store.origin[a] as 0 | 1 | 2,
          med: store.med[a]!,
          neighborAs: store.neighborAs[a]!,
          ebgp: pi.ebgp,
          routerId: pi.bgpId,
          peerAddress: pi.address,
          pathId: r.pathId,
          nextHop: store.nextHop4[a]!,
        };
      };
      const expected = (prefix: number): string => {
        const list = ref.get(prefix) ?? [];
        const sel = selectBest(list.map(info), { maxPaths, multipathRelax: true });
        return sel.multipath.map((i) => `${list[i]!.peer}:${list[i]!.pathId}:${list[i]!.attr}`).join(',');
      };
      const actual = (prefix: number): string => {
        const s = loc.v4!.find(prefix << 24, 8);
        if (s < 0) return '';
        const out = new Int32Array(8);
        const n = loc.multipath(s, out);
        return Array.from(out.subarray(0, n))
          .map((p) => `${loc.pathPeer(p) - 1}:${loc.pathId(p)}:${loc.pathAttr(p)}`)
          .join(',');
      };
      // A queue holds exactly the prefixes whose selection changed at some step since
      // the last drain (a change that was undone before the drain is still reported).
      const touched = new Set<number>();
      const drain = (): void => {
        const out = new Int32Array(16);
        const n = q.drain(16, out);
        const got = new Set<number>();
        for (let i = 0; i < n; i++) got.add(loc.v4!.addrOf(out[i]!) >>> 24);
        assert.deepEqual([...got].sort(), [...touched].sort());
        touched.clear();
      };
      for (const o of ops) {
        const list = ref.get(o.prefix) ?? [];
        const at = list.findIndex((r) => r.peer === o.peer && r.pathId === o.pathId);
        if (o.attr < 0) {
          ins[o.peer]!.withdrawV4(o.prefix << 24, 8, o.pathId);
          if (at >= 0) list.splice(at, 1);
        } else {
          ins[o.peer]!.announceV4(o.prefix << 24, 8, o.pathId, ids[o.attr]!);
          if (at >= 0) list[at]!.attr = ids[o.attr]!;
          else list.push({ peer: o.peer, pathId: o.pathId, attr: ids[o.attr]! });
        }
        ref.set(o.prefix, list);
        for (let pfx = 0; pfx < 4; pfx++) {
          const now = expected(pfx);
          assert.equal(actual(pfx), now, `prefix ${pfx}`);
          if (now !== (before.get(pfx) ?? '')) touched.add(pfx);
          before.set(pfx, now);
        }
        if (o.drain) drain();
      }
      drain();
      for (let i = 0; i < ins.length; i++) {
        assert.equal(ins[i]!.count, [...ref.values()].flat().filter((r) => r.peer === i).length);
      }
      assert.equal(loc.pathCount, [...ref.values()].flat().length);
      // Tear down: all references come back.
      for (const i of ins) i.clear();
      ref.clear();
      for (let pfx = 0; pfx < 4; pfx++) if ((before.get(pfx) ?? '') !== '') touched.add(pfx);
      drain();
      q.release();
      assert.equal(loc.table.size, 0);
      for (const id of ids) store.unref(id);
      assert.equal(store.count, 0);
    }),
    { numRuns: 150 },
  );
});

test('loc-rib: explain names why each path lost', () => {
  const { loc, p1, p2, p3, in1, in2, in3, store } = setup({ maxPaths: 2 });
  // p1 and p2 (eBGP, neighbour AS 65005) tie through the IGP step: multipath. p3 is
  // iBGP with the same attributes: it loses on eBGP over iBGP.
  const x1 = store.internAttributes(pa({ path: [65005, 1], nh: 1 }), 0);
  const x2 = store.internAttributes(pa({ path: [65005, 2], nh: 2 }), 0);
  const x3 = store.internAttributes(pa({ path: [65005, 3], nh: 3, localPref: 100 }), 0);
  in3.announceV4(v4('10.0.0.0'), 8, 0, x3);
  in2.announceV4(v4('10.0.0.0'), 8, 0, x2);
  in1.announceV4(v4('10.0.0.0'), 8, 0, x1);
  const s = loc.v4!.find(v4('10.0.0.0'), 8);
  const e = loc.explain(s);
  const byPeer = (peerIdx: number): number => e.paths.findIndex((p) => loc.pathPeer(p) === peerIdx);
  assert.equal(loc.pathPeer(e.best), p1);
  assert.deepEqual(e.multipath.map((p) => loc.pathPeer(p)), [p1, p2]);
  assert.equal(e.reasons[byPeer(p1)], 'equal');
  assert.equal(e.reasons[byPeer(p2)], 'router-id');
  assert.equal(e.reasons[byPeer(p3)], 'ebgp-over-ibgp');
  assert.equal(loc.pathPeer(e.lostTo[byPeer(p3)]!), p1);
  // The list order puts the selection first.
  assert.equal(loc.firstPath(s), e.best);
  for (const id of [x1, x2, x3]) store.unref(id);
});

test('loc-rib: ADD-PATH ids arrive after thousands of id-0 paths (lazy id array) and survive pool growth', () => {
  const { loc, p1, p2, in1, in2, store } = setup();
  const a1 = store.internAttributes(pa({ path: [65001] }), 0);
  const a2 = store.internAttributes(pa({ path: [65002, 7], nh: 2 }), 0);
  const before = loc.byteSize;
  for (let i = 0; i < 3000; i++) in1.announceV4(v4('10.0.0.0') + i * 256, 24, 0, a1);
  const noIds = loc.byteSize - before;
  // Now a peer with ids 7 and 9 on the first 3000 prefixes; the pool grows past 3000 paths.
  for (let i = 0; i < 3000; i++) {
    in2.announceV4(v4('10.0.0.0') + i * 256, 24, 7, a2);
    in2.announceV4(v4('10.0.0.0') + i * 256, 24, 9, a2);
  }
  for (let i = 0; i < 3000; i += 97) {
    const s = loc.v4!.find(v4('10.0.0.0') + i * 256, 24);
    assert.equal(loc.pathId(loc.findPath(s, p1, 0)), 0);
    assert.equal(loc.pathId(loc.findPath(s, p2, 7)), 7);
    assert.equal(loc.pathId(loc.findPath(s, p2, 9)), 9);
    assert.equal(loc.findPath(s, p2, 0), -1, 'id 0 of p2 was never announced');
    assert.equal(loc.pathPeer(loc.best(s)), p1, 'the shorter AS path stays best');
  }
  assert.equal(loc.pathCount, 9000);
  // Withdrawing id 7 leaves 9; a freed entry reused for an id-0 path reads 0.
  in2.withdrawV4(v4('10.0.0.0'), 24, 7);
  const s0 = loc.v4!.find(v4('10.0.0.0'), 24);
  assert.equal(loc.findPath(s0, p2, 7), -1);
  assert.equal(loc.pathId(loc.findPath(s0, p2, 9)), 9);
  in1.announceV4(v4('11.0.0.0'), 24, 0, a1);
  const s1 = loc.v4!.find(v4('11.0.0.0'), 24);
  assert.equal(loc.pathId(loc.findPath(s1, p1, 0)), 0);
  // Without ADD-PATH the pool costs 10 bytes a path: no id array was made.
  assert.ok(noIds < 3000 * 14 + 64 * 1024, `id-0 paths cost ${noIds} bytes`);
});
