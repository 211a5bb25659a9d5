// Soft reconfiguration inbound in the learner: pre-policy copies of every received
// route (rejected ones included), re-evaluation from them on a policy change (in steps),
// softReconfiguration toggled on and off, and the interplay with graceful restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GracefulOptions, PolicyChange } from '../../src/daemon/learner.js';
import type { Negotiated } from '../../src/session/negotiate.js';
import type { ImportPolicy, ImportRule } from '../../src/config/model.js';
import { NEIGHBOR as neighbor, announceV4, learnerLab, withdrawV4 } from './learner-lab.js';

/** 10.<i>.0.0/24 for i < 100; 172.16.<i-100>.0/24 from 100. */
const pfx = (i: number): number => (i < 100 ? 0x0a000000 + i * 0x10000 : 0xac100000 + (i - 100) * 256) >>> 0;

const announce = (ids: number[], opts: { med?: number; asns?: number[] } = {}): Buffer[] => announceV4(ids.map((i) => pfx(i) | 0), opts);
const withdraw = (ids: number[]): Buffer[] => withdrawV4(ids.map((i) => pfx(i) | 0));

function rule(name: string, cidr: string, action: 'Accept' | 'Reject', localPreference?: number): ImportRule {
  const [ip, len] = cidr.split('/');
  return {
    name,
    match: {
      prefixes: [{ cidr: `${ip}/${len}`, afi: 'ipv4', length: Number(len), ge: Number(len), le: 32 }],
      communities: undefined,
      largeCommunities: undefined,
      asPathContains: undefined,
      asPathOriginatedBy: undefined,
    },
    action,
    set: { localPreference, addCommunities: [], addLargeCommunities: [] },
  };
}

function policy(soft: boolean, rules: ImportRule[], defaultAction: 'Accept' | 'Reject' = 'Reject'): ImportPolicy {
  return { defaultAction, allowDefaultRoute: false, softReconfiguration: soft, rules };
}

/** Accepts 10/8, rejects the rest. */
const ONLY_TEN = (soft: boolean): ImportPolicy => policy(soft, [rule('ten', '10.0.0.0/8', 'Accept')]);
/** Accepts 172.16/12 with LOCAL_PREF 300, rejects 10.0-10.4 (/13 covers 10.0-10.7), accepts the rest. */
const SWAPPED = (soft: boolean): ImportPolicy =>
  policy(soft, [rule('no-low-ten', '10.0.0.0/13', 'Reject'), rule('lab', '172.16.0.0/12', 'Accept', 300)], 'Accept');

function setup(start: ImportPolicy, step = 7, deferred = false) {
  const queue: (() => void)[] = [];
  const graceful: Partial<GracefulOptions> = {
    sweepStep: step,
    defer: deferred ? (fn) => void queue.push(fn) : (fn) => fn(),
    setTimer: () => 0,
    clearTimer: () => undefined,
  };
  const reev: [number, number, number][] = [];
  let changed = 0;
  const { learner, lp, feed } = learnerLab({
    importPolicy: start,
    prefixLimits: new Map([[1, { maxPrefixes: 1000, warningThresholdPercent: 90, restartTimerSeconds: 0 }]]),
    events: { reevaluated: (_p, afi, a, r) => reev.push([afi, a, r]), routesChanged: () => changed++ },
    clock: () => 0,
    graceful,
  });
  const rib = learner.rib.v4;
  const installed = (): number[] => {
    const out: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = rib.v4!.find(pfx(i) | 0, 24);
      if (s >= 0 && rib.best(s) >= 0) out.push(i);
    }
    return out;
  };
  const drain = (): void => {
    while (queue.length > 0) queue.shift()!();
  };
  return { learner, lp, feed, installed, reev, changed: () => changed, queue, drain, rib };
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, i) => a + i);

test('with softReconfiguration every received route keeps a pre-policy copy, rejected ones too; counting is unchanged', () => {
  const { learner, lp, feed, installed } = setup(ONLY_TEN(true));
  feed(announce(range(0, 20)));
  feed(announce(range(100, 130), { med: 5 }));
  const f = lp.family(1)!;
  assert.deepEqual(installed(), range(0, 20));
  assert.equal(f.adjIn.count, 20);
  assert.equal(f.rejected, 30);
  assert.equal(f.total, 50, 'received, before policy');
  assert.equal(learner.prePolicyCount(neighbor, 1), 50, 'a copy per received route');
  assert.equal(f.limiter.count, 50, 'the prefix limit counts what was received, as without copies');
  feed(withdraw([0, 100]));
  assert.equal(learner.prePolicyCount(neighbor, 1), 48, 'a withdrawal removes the copy');
  assert.equal(f.total, 48);
});

test('without softReconfiguration no copy is kept, and a policy change asks for a refresh', () => {
  const { learner, lp, feed, installed, reev } = setup(ONLY_TEN(false));
  feed(announce(range(0, 10)));
  feed(announce(range(100, 110)));
  assert.equal(learner.prePolicyCount(neighbor, 1), 0);
  assert.equal(learner.setImportPolicy(neighbor, SWAPPED(false)), 'refresh-needed' satisfies PolicyChange);
  assert.deepEqual(installed(), range(0, 10), 'nothing changes before the routes come again');
  assert.deepEqual(reev, []);
  assert.equal(learner.reevaluate(neighbor), false, 'soft reset in needs a refresh');
  // The refresh: the peer sends everything again, evaluated under the new policy.
  feed(announce(range(0, 10)));
  feed(announce(range(100, 110)));
  assert.deepEqual(installed(), [...range(8, 10), ...range(100, 110)]);
  assert.equal(lp.family(1)!.total, 20);
});

test('a policy change re-evaluates from the copies: rejected routes enter, accepted ones leave, counts stay', () => {
  const { learner, lp, feed, installed, reev, changed, rib } = setup(ONLY_TEN(true));
  feed(announce(range(0, 20)));
  feed(announce(range(100, 130), { med: 5 }));
  const f = lp.family(1)!;
  const limiterBefore = f.limiter.count;
  const c0 = changed();
  assert.equal(learner.setImportPolicy(neighbor, SWAPPED(true)), 'reevaluated');
  // 10.0-10.7 rejected now; 10.8-10.19 accepted by default; 172.16.x accepted with LOCAL_PREF 300.
  assert.deepEqual(installed(), [...range(8, 20), ...range(100, 130)]);
  assert.equal(f.adjIn.count, 42);
  assert.equal(f.rejected, 8);
  assert.equal(f.total, 50);
  assert.equal(f.limiter.count, limiterBefore);
  assert.deepEqual(reev, [[1, 30, 8], [2, 0, 0]], 'per family: accepted, rejected');
  assert.ok(changed() > c0, 'the FIB writer is told');
  assert.equal(learner.prePolicyCount(neighbor, 1), 50, 'copies stay');
  // The modified set: LOCAL_PREF 300 on the post-policy path, the copy as received.
  const s = rib.v4!.find(pfx(100) | 0, 24);
  const post = f.adjIn.lookup(s, 0);
  const pre = f.adjIn.prePolicy(s, 0);
  assert.notEqual(post, pre);
  assert.equal(learner.rib.store.get(post).localPref, 300);
  assert.equal(learner.rib.store.get(pre).localPref, undefined);
  assert.equal(learner.rib.store.get(pre).med, 5);

  // And back: the same result as the first evaluation.
  assert.equal(learner.setImportPolicy(neighbor, ONLY_TEN(true)), 'reevaluated');
  assert.deepEqual(installed(), range(0, 20));
  assert.equal(f.adjIn.count, 20);
  assert.equal(f.rejected, 30);
  assert.equal(learner.rib.store.refCount(post), 0, 'the modified set was released');
  assert.equal(learner.reevaluate(neighbor), true, 'soft reset in re-evaluates locally');
  assert.deepEqual(installed(), range(0, 20));
});

test('the re-evaluation runs in steps; UPDATEs between steps use the new policy and stay right', () => {
  const { learner, feed, installed, queue, drain, reev } = setup(ONLY_TEN(true), 7, true);
  feed(announce(range(0, 20)));
  feed(announce(range(100, 130)));
  learner.setImportPolicy(neighbor, SWAPPED(true));
  assert.ok(queue.length > 0, 'more steps to come');
  assert.notDeepEqual(installed(), [...range(8, 20), ...range(100, 130)], 'not all done in one step');
  // Meanwhile the peer withdraws one route and announces a new rejected one and a new accepted one.
  feed(withdraw([101]));
  feed(announce([1, 150]));
  drain();
  assert.deepEqual(installed(), [...range(8, 20), 100, ...range(102, 130), 150]);
  assert.equal(reev.length, 2);
  assert.equal(learner.prePolicyCount(neighbor, 1), 50);
});

test('a looped route stays rejected after a re-evaluation', () => {
  const { learner, feed, installed } = setup(ONLY_TEN(true));
  feed(announce([1], { asns: [65010, 65001] }));
  feed(announce([2]));
  assert.deepEqual(installed(), [2]);
  learner.setImportPolicy(neighbor, policy(true, [], 'Accept'));
  assert.deepEqual(installed(), [2]);
  assert.equal(learner.prePolicyCount(neighbor, 1), 2);
});

test('softReconfiguration turned on: copies from now on, and the routes must come again', () => {
  const { learner, lp, feed, installed } = setup(ONLY_TEN(false));
  feed(announce(range(0, 5)));
  feed(announce(range(100, 105)));
  assert.equal(learner.setImportPolicy(neighbor, ONLY_TEN(true)), 'refresh-needed');
  assert.equal(learner.softReconfiguration(neighbor), true);
  assert.equal(learner.prePolicyCount(neighbor, 1), 0);
  // The route refresh brings everything again: every route gets its copy.
  feed(announce(range(0, 5)));
  feed(announce(range(100, 105)));
  assert.equal(learner.prePolicyCount(neighbor, 1), 10);
  assert.equal(lp.family(1)!.total, 10);
  assert.equal(learner.setImportPolicy(neighbor, SWAPPED(true)), 'reevaluated');
  assert.deepEqual(installed(), range(100, 105));
});

test('softReconfiguration turned off: the copies go and their memory with them (slots and attribute sets)', () => {
  const { learner, lp, feed, installed, rib, queue, drain } = setup(ONLY_TEN(true), 7, true);
  const store = learner.rib.store;
  const setsBefore = store.count;
  feed(announce(range(0, 10)));
  feed(announce(range(100, 140), { med: 9 })); // a set only rejected routes use
  assert.equal(rib.table.size, 50);
  assert.equal(store.count, setsBefore + 2);
  assert.equal(learner.setImportPolicy(neighbor, ONLY_TEN(false)), 'none');
  assert.ok(queue.length > 0, 'dropped in steps');
  drain();
  assert.equal(learner.prePolicyCount(neighbor, 1), 0);
  assert.equal(lp.family(1)!.adjIn.preCount, 0);
  assert.equal(rib.table.size, 10, 'slots held only by a rejected copy are freed');
  assert.equal(store.count, setsBefore + 1, 'the set only the copies held is freed');
  assert.deepEqual(installed(), range(0, 10), 'accepted routes stay');
  assert.equal(lp.family(1)!.total, 50, 'still counted as received');
  feed(announce([100]));
  assert.equal(learner.prePolicyCount(neighbor, 1), 0, 'no new copies');
});

test('softReconfiguration turned off together with a rule change: re-evaluated from the copies first, then dropped', () => {
  const { learner, feed, installed } = setup(ONLY_TEN(true));
  feed(announce(range(0, 10)));
  feed(announce(range(100, 110)));
  assert.equal(learner.setImportPolicy(neighbor, SWAPPED(false)), 'reevaluated');
  assert.deepEqual(installed(), [8, 9, ...range(100, 110)]);
  assert.equal(learner.prePolicyCount(neighbor, 1), 0);
});

test('graceful restart: a stale route the new policy rejects keeps its mark and is swept, copy included', () => {
  const { learner, lp, feed, installed, rib } = setup(ONLY_TEN(true));
  const neg = {
    peerAs: 65010, peerBgpId: 0x0a000002, internal: false, holdTime: 9, keepaliveTime: 3,
    families: [{ afi: 1, safi: 1 }], fourOctetAs: true, extendedMessage: false, routeRefresh: false, enhancedRouteRefresh: false,
    addPathReceive: [], addPathSend: [],
    peerGracefulRestart: { restartState: false, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
    gracefulRestart: true, gracefulNotification: true, peerCapabilities: {},
  } as unknown as Negotiated;
  learner.peerUp(neighbor, neg);
  feed(announce(range(0, 10)));
  feed(announce(range(100, 105)));
  learner.peerDown(neighbor, true);
  const f = lp.family(1)!;
  assert.equal(f.adjIn.staleCount, 15, 'rejected routes with a copy are stale too');
  learner.setImportPolicy(neighbor, SWAPPED(true));
  assert.deepEqual(installed(), [8, 9, ...range(100, 105)]);
  assert.equal(f.adjIn.staleCount, 15, 're-evaluation does not refresh');
  learner.peerUp(neighbor, neg);
  feed(announce([9, 100]));
  learner.endOfRib(neighbor, 1, 1);
  assert.deepEqual(installed(), [9, 100]);
  assert.equal(learner.prePolicyCount(neighbor, 1), 2);
  assert.equal(f.adjIn.staleCount, 0);
  assert.equal(rib.table.size, 2, 'swept slots are freed');
});
