import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compare, selectBest, type DecisionOptions, type PathInfo } from '../../src/rib/decision.js';

const ip = (a: number, b: number, c: number, d: number): Uint8Array => Uint8Array.from([a, b, c, d]);

// Every row changes the base path in one attribute (RFC 4271 §9.1.2.2 / RFC 4456 §9 /
// RFC 7911); the expected winner and reason come from the RFC text, not from the code.
const BASE: PathInfo = {
  resolvable: true,
  localPref: 100,
  asPathLength: 2,
  origin: 0,
  med: 50,
  neighborAs: 65001,
  ebgp: false,
  igpMetric: 10,
  routerId: 0x0a000005,
  clusterListLength: 1,
  peerAddress: ip(10, 0, 0, 5),
  pathId: 5,
  nextHop: 1,
};

interface Row {
  readonly name: string;
  readonly change: Partial<PathInfo>;
  /** 'variant': the changed path wins; 'base': the base path wins; 'equal'. */
  readonly winner: 'variant' | 'base' | 'equal';
  readonly reason: string;
  readonly opts?: Partial<DecisionOptions>;
}

const ROWS: Row[] = [
  { name: 'unresolvable next hop loses', change: { resolvable: false }, winner: 'base', reason: 'next-hop-unresolvable' },
  { name: 'higher LOCAL_PREF wins', change: { localPref: 200 }, winner: 'variant', reason: 'local-pref' },
  { name: 'lower LOCAL_PREF loses', change: { localPref: 99 }, winner: 'base', reason: 'local-pref' },
  { name: 'shorter AS_PATH wins', change: { asPathLength: 1 }, winner: 'variant', reason: 'as-path-length' },
  { name: 'longer AS_PATH loses', change: { asPathLength: 3 }, winner: 'base', reason: 'as-path-length' },
  { name: 'ORIGIN EGP loses to IGP', change: { origin: 1 }, winner: 'base', reason: 'origin' },
  { name: 'ORIGIN INCOMPLETE loses to IGP', change: { origin: 2 }, winner: 'base', reason: 'origin' },
  { name: 'lower MED wins (same neighbour AS)', change: { med: 10 }, winner: 'variant', reason: 'med' },
  { name: 'higher MED loses (same neighbour AS)', change: { med: 51 }, winner: 'base', reason: 'med' },
  { name: 'eBGP beats iBGP', change: { ebgp: true }, winner: 'variant', reason: 'ebgp-over-ibgp' },
  { name: 'lower IGP metric wins', change: { igpMetric: 0 }, winner: 'variant', reason: 'igp-metric' },
  { name: 'higher IGP metric loses', change: { igpMetric: 11 }, winner: 'base', reason: 'igp-metric' },
  { name: 'lower BGP Identifier wins', change: { routerId: 0x0a000004 }, winner: 'variant', reason: 'router-id' },
  { name: 'higher BGP Identifier loses', change: { routerId: 0x0b000000 }, winner: 'base', reason: 'router-id' },
  { name: 'shorter CLUSTER_LIST wins', change: { clusterListLength: 0 }, winner: 'variant', reason: 'cluster-list-length' },
  { name: 'longer CLUSTER_LIST loses', change: { clusterListLength: 2 }, winner: 'base', reason: 'cluster-list-length' },
  { name: 'lower peer address wins', change: { peerAddress: ip(10, 0, 0, 4) }, winner: 'variant', reason: 'peer-address' },
  { name: 'higher peer address loses', change: { peerAddress: ip(10, 0, 1, 0) }, winner: 'base', reason: 'peer-address' },
  { name: 'lower path id wins', change: { pathId: 4 }, winner: 'variant', reason: 'path-id' },
  { name: 'higher path id loses', change: { pathId: 6 }, winner: 'base', reason: 'path-id' },
  { name: 'identical paths tie', change: {}, winner: 'equal', reason: 'equal' },
  { name: 'next hop id alone does not decide', change: { nextHop: 2 }, winner: 'equal', reason: 'equal' },
  // MED from another neighbour AS is not compared (the AS differs too: two changes by necessity).
  { name: 'MED ignored across neighbour ASes', change: { med: 10, neighborAs: 65002 }, winner: 'equal', reason: 'equal' },
  {
    name: 'MED compared across ASes with always-compare-med',
    change: { med: 10, neighborAs: 65002 },
    winner: 'variant',
    reason: 'med',
    opts: { alwaysCompareMed: true },
  },
  // Order checks: a better later step never beats a worse earlier one.
  { name: 'LOCAL_PREF before AS_PATH', change: { localPref: 99, asPathLength: 0 }, winner: 'base', reason: 'local-pref' },
  { name: 'AS_PATH before ORIGIN', change: { asPathLength: 3, origin: 0 }, winner: 'base', reason: 'as-path-length' },
  { name: 'ORIGIN before MED', change: { origin: 1, med: 0 }, winner: 'base', reason: 'origin' },
  { name: 'MED before eBGP', change: { med: 60, ebgp: true }, winner: 'base', reason: 'med' },
  { name: 'eBGP before IGP metric', change: { ebgp: true, igpMetric: 1000 }, winner: 'variant', reason: 'ebgp-over-ibgp' },
  { name: 'IGP metric before router id', change: { igpMetric: 11, routerId: 1 }, winner: 'base', reason: 'igp-metric' },
  { name: 'router id before CLUSTER_LIST', change: { routerId: 0x0b000000, clusterListLength: 0 }, winner: 'base', reason: 'router-id' },
  {
    name: 'CLUSTER_LIST before peer address',
    change: { clusterListLength: 2, peerAddress: ip(1, 1, 1, 1) },
    winner: 'base',
    reason: 'cluster-list-length',
  },
  { name: 'peer address before path id', change: { peerAddress: ip(10, 0, 0, 6), pathId: 0 }, winner: 'base', reason: 'peer-address' },
  { name: 'resolvability before LOCAL_PREF', change: { resolvable: false, localPref: 1000 }, winner: 'base', reason: 'next-hop-unresolvable' },
];

for (const row of ROWS) {
  test(`decision: ${row.name}`, () => {
    const variant: PathInfo = { ...BASE, ...row.change };
    const expectFor = (variantFirst: boolean): number =>
      row.winner === 'equal' ? -1 : (row.winner === 'variant') === variantFirst ? 0 : 1;
    const r1 = compare(variant, BASE, row.opts);
    assert.deepEqual(r1, { winner: expectFor(true), reason: row.reason });
    const r2 = compare(BASE, variant, row.opts);
    assert.deepEqual(r2, { winner: expectFor(false), reason: row.reason }, 'symmetric');
    if (row.winner !== 'equal') {
      const sel = selectBest([BASE, variant], row.opts);
      const winIdx = row.winner === 'variant' ? 1 : 0;
      assert.equal(sel.best, winIdx);
      assert.equal(sel.reasons[1 - winIdx], row.reason);
      assert.equal(sel.reasons[winIdx], 'best');
    }
  });
}

test('decision: an IPv6 peer address orders above IPv4-mapped ones', () => {
  const v6 = new Uint8Array(16);
  v6[0] = 0x20;
  assert.deepEqual(compare({ ...BASE, peerAddress: v6 }, BASE), { winner: 1, reason: 'peer-address' });
});

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [xs.slice()];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

test('decision: MED grouping (deterministic MED) picks the same best in every arrival order', () => {
  // Pairwise these form a cycle: A beats B (router id, MED not comparable across ASes),
  // B beats C (router id), C beats A (MED, same AS 65001). RFC 4271 §9.1.2.2 (c)
  // removes A (worse MED than C within AS 65001); B then beats C on router id.
  const A: PathInfo = { ...BASE, neighborAs: 65001, med: 20, routerId: 1, nextHop: 1 };
  const B: PathInfo = { ...BASE, neighborAs: 65002, med: 10, routerId: 2, nextHop: 2 };
  const C: PathInfo = { ...BASE, neighborAs: 65001, med: 10, routerId: 3, nextHop: 3 };
  assert.equal(compare(A, B).winner, 0);
  assert.equal(compare(B, C).winner, 0);
  assert.equal(compare(C, A).winner, 0);
  const named = { A, B, C };
  for (const order of permutations(['A', 'B', 'C'] as const)) {
    const sel = selectBest(order.map((k) => named[k]));
    assert.equal(order[sel.best], 'B', `order ${order.join('')}`);
    const why = Object.fromEntries(order.map((k, i) => [k, sel.reasons[i]]));
    assert.deepEqual(why, { A: 'med', B: 'best', C: 'router-id' });
    assert.equal(order[sel.lostTo[order.indexOf('A')]!], 'C', 'A lost to C within its AS');
    assert.equal(order[sel.lostTo[order.indexOf('C')]!], 'B');
  }
  // With always-compare-med the MED order is global: B and C tie on MED 10, B wins on router id; A loses on MED.
  const acm = selectBest([A, B, C], { alwaysCompareMed: true });
  assert.equal(acm.best, 1);
  assert.deepEqual(acm.reasons, ['med', 'best', 'router-id']);
});

test('decision: no eligible path gives no best', () => {
  const sel = selectBest([{ ...BASE, resolvable: false }, { ...BASE, resolvable: false, routerId: 1 }]);
  assert.equal(sel.best, -1);
  assert.deepEqual(sel.multipath, []);
  assert.deepEqual(sel.reasons, ['next-hop-unresolvable', 'next-hop-unresolvable']);
  assert.equal(selectBest([]).best, -1);
});

// ---- ECMP ----

const P1: PathInfo = { ...BASE, routerId: 1, nextHop: 1, peerAddress: ip(10, 0, 0, 1) };
const P2: PathInfo = { ...BASE, routerId: 2, nextHop: 2, peerAddress: ip(10, 0, 0, 2) };
const P3: PathInfo = { ...BASE, routerId: 3, nextHop: 3, peerAddress: ip(10, 0, 0, 3) };

test('ecmp: maxPaths 1 selects only the best', () => {
  const sel = selectBest([P3, P1, P2]);
  assert.equal(sel.best, 1);
  assert.deepEqual(sel.multipath, [1]);
  assert.deepEqual(sel.reasons, ['router-id', 'best', 'router-id']);
});

test('ecmp: paths tied through the IGP metric are multipath, ordered by the later steps', () => {
  const sel = selectBest([P3, P1, P2], { maxPaths: 4 });
  assert.equal(sel.best, 1);
  assert.deepEqual(sel.multipath, [1, 2, 0]);
  assert.deepEqual(sel.reasons, ['multipath', 'best', 'multipath']);
});

test('ecmp: maxPaths caps the set', () => {
  assert.deepEqual(selectBest([P3, P1, P2], { maxPaths: 2 }).multipath, [1, 2]);
});

test('ecmp: a path with the same next hop as a chosen one is left out', () => {
  const sel = selectBest([P1, { ...P2, nextHop: 1 }, P3], { maxPaths: 4 });
  assert.deepEqual(sel.multipath, [0, 2]);
  assert.equal(sel.reasons[1], 'router-id');
});

for (const [name, change] of [
  ['IGP metric', { igpMetric: 11 }],
  ['LOCAL_PREF', { localPref: 90 }],
  ['AS_PATH length', { asPathLength: 3 }],
  ['ORIGIN', { origin: 2 }],
  ['MED (same AS)', { med: 51 }],
  ['eBGP vs iBGP', { ebgp: true }],
  ['resolvability', { resolvable: false }],
] as const) {
  test(`ecmp: a path differing in ${name} is not multipath`, () => {
    const sel = selectBest([P1, { ...P2, ...change }], { maxPaths: 4 });
    assert.equal(sel.multipath.length, 1, JSON.stringify(sel));
  });
}

test('ecmp: paths from another neighbour AS need multipathRelax', () => {
  const other = { ...P2, neighborAs: 65009, med: 0 };
  assert.deepEqual(selectBest([P1, other], { maxPaths: 4 }).multipath, [0]);
  assert.deepEqual(selectBest([P1, other], { maxPaths: 4, multipathRelax: true }).multipath, [0, 1]);
});

test('ecmp: router id, cluster list and peer address differences still allow multipath', () => {
  const sel = selectBest([P1, { ...P2, clusterListLength: 5 }, { ...P3, routerId: 1, peerAddress: ip(9, 9, 9, 9) }], {
    maxPaths: 8,
  });
  assert.equal(sel.multipath.length, 3);
  // P3' ties P1 on router id and wins on peer address: it is the best.
  assert.equal(sel.best, 2);
  assert.deepEqual(sel.multipath, [2, 0, 1]);
});
