// Graceful restart, helper role, in the learner: stale marking, End-of-RIB sweep,
// restart and stale-path timers (fake timers), F bit and capability checks on return.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GracefulOptions, StaleEvent } from '../../src/daemon/learner.js';
import type { Negotiated } from '../../src/session/negotiate.js';
import { NEIGHBOR as neighbor, announceV4 as announce, learnerLab, withdrawV4 as withdraw } from './learner-lab.js';

const pfx = (i: number) => (0x0a000000 + i * 256) | 0;

function negotiated(gr: { restartTime: number; f?: boolean; afis?: number[] } | undefined, n = true): Negotiated {
  const families = [
    { afi: 1, safi: 1 },
    { afi: 2, safi: 1 },
  ];
  const cap =
    gr === undefined
      ? undefined
      : {
          restartState: false,
          notification: n,
          restartTime: gr.restartTime,
          families: (gr.afis ?? [1, 2]).map((afi) => ({ afi, safi: 1, forwardingState: gr.f ?? true })),
        };
  return {
    peerAs: 65010,
    peerBgpId: 0x0a000002,
    internal: false,
    holdTime: 9,
    keepaliveTime: 3,
    families,
    fourOctetAs: true,
    extendedMessage: false,
    routeRefresh: true,
    enhancedRouteRefresh: false,
    addPathReceive: [],
    addPathSend: [],
    peerGracefulRestart: cap,
    gracefulRestart: cap !== undefined,
    gracefulNotification: cap !== undefined && n,
    peerCapabilities: {} as Negotiated['peerCapabilities'],
  };
}

/** A fake clock and timer queue. */
function fakeTimers() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const opts: Partial<GracefulOptions> = {
    setTimer: (fn, ms) => {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimer: (h) => void timers.delete(h as number),
    defer: (fn) => fn(),
    sweepStep: 7, // small steps: the sweep's step logic runs
  };
  const advance = (ms: number): void => {
    now += ms;
    for (const [id, t] of [...timers].sort((x, y) => x[1].at - y[1].at)) {
      if (t.at <= now && timers.has(id)) {
        timers.delete(id);
        t.fn();
      }
    }
  };
  return { opts, advance, clock: () => now, pending: () => timers.size };
}

function setup(stalePathTime = 360) {
  const t = fakeTimers();
  const events: [StaleEvent, number, number][] = [];
  let changed = 0;
  const { learner, lp, feed } = learnerLab({
    events: { stale: (_p, afi, e, c) => events.push([e, afi, c]), routesChanged: () => changed++ },
    clock: t.clock,
    graceful: { ...t.opts, stalePathTime },
  });
  const installed = (i: number) => {
    const s = learner.rib.v4.v4!.find(pfx(i), 24);
    return s >= 0 && learner.rib.v4.best(s) >= 0;
  };
  return { learner, lp, feed, installed, events, t, changed: () => changed };
}

test('helper: graceful down keeps routes stale; after return, End-of-RIB sweeps only what was not re-announced', () => {
  const { learner, lp, feed, installed, events, t, changed } = setup();
  learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
  feed(announce(Array.from({ length: 40 }, (_, i) => pfx(i))));
  assert.equal(lp.family(1)!.adjIn.count, 40);

  learner.peerDown(neighbor, true);
  assert.equal(lp.family(1)!.adjIn.count, 40, 'routes kept');
  assert.equal(learner.staleCount(neighbor, 1), 40);
  assert.deepEqual(events, [['marked', 1, 40]]);
  const st = learner.helperStatus(neighbor);
  assert.equal(st.phase, 'restarting');
  assert.equal(st.deadline, 120_000);
  for (let i = 0; i < 40; i++) assert.ok(installed(i), `still best ${i}`);

  t.advance(30_000);
  learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
  assert.equal(learner.helperStatus(neighbor).phase, 'waiting');
  feed(announce(Array.from({ length: 25 }, (_, i) => pfx(i)), { med: 5 })); // 0..24 re-learned, new attributes
  feed(announce([pfx(100)])); // a new one
  feed(withdraw([pfx(24)])); // announced then withdrawn again
  assert.equal(learner.staleCount(neighbor, 1), 15);
  const before = changed();
  learner.endOfRib(neighbor, 1, 1);
  assert.ok(changed() > before, 'the FIB writer is told');
  for (let i = 0; i < 24; i++) assert.ok(installed(i), `re-learned ${i}`);
  for (let i = 24; i < 40; i++) assert.ok(!installed(i), `swept ${i}`);
  assert.ok(installed(100));
  assert.equal(lp.family(1)!.adjIn.count, 25);
  assert.deepEqual(events.at(-1), ['end-of-rib', 1, 15]);
  assert.equal(learner.helperStatus(neighbor).phase, 'none');
  assert.equal(t.pending(), 0, 'no timer left');
});

test('helper: the restart timer (the peer\'s Restart Time) drops everything when the peer does not return', () => {
  const { learner, lp, feed, events, t } = setup();
  learner.peerUp(neighbor, negotiated({ restartTime: 30 }));
  feed(announce([pfx(1), pfx(2)]));
  learner.peerDown(neighbor, true);
  t.advance(29_999);
  assert.equal(lp.family(1)!.adjIn.count, 2);
  t.advance(1);
  assert.equal(lp.family(1)!.adjIn.count, 0);
  assert.deepEqual(events.at(-1), ['restart-timer', 1, 2]);
  assert.equal(learner.helperStatus(neighbor).phase, 'none');
});

test('helper: returning without the capability, without the F bit, or without the family drops that family at once', () => {
  for (const [name, back] of [
    ['no capability', negotiated(undefined)],
    ['F bit clear', negotiated({ restartTime: 120, f: false })],
    ['IPv4 not in the capability', negotiated({ restartTime: 120, afis: [2] })],
  ] as const) {
    const { learner, lp, feed, events } = setup();
    learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
    feed(announce([pfx(1), pfx(2)]));
    learner.peerDown(neighbor, true);
    learner.peerUp(neighbor, back);
    assert.equal(lp.family(1)!.adjIn.count, 0, name);
    assert.deepEqual(events.at(-1), ['not-preserved', 1, 2], name);
  }
});

test('helper: a family not in the peer\'s capability is dropped at the down; non-graceful down drops everything', () => {
  {
    const { learner, lp, feed } = setup();
    learner.peerUp(neighbor, negotiated({ restartTime: 120, afis: [2] }));
    feed(announce([pfx(1)]));
    learner.peerDown(neighbor, true);
    assert.equal(lp.family(1)!.adjIn.count, 0);
  }
  {
    const { learner, lp, feed, t } = setup();
    learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
    feed(announce([pfx(1)]));
    learner.peerDown(neighbor, false);
    assert.equal(lp.family(1)!.adjIn.count, 0);
    assert.equal(t.pending(), 0);
  }
  {
    // Restart Time 0: nothing to wait for.
    const { learner, lp, feed } = setup();
    learner.peerUp(neighbor, negotiated({ restartTime: 0 }));
    feed(announce([pfx(1)]));
    learner.peerDown(neighbor, true);
    assert.equal(lp.family(1)!.adjIn.count, 0);
  }
});

test('helper: the stale-path timer sweeps when End-of-RIB never comes', () => {
  const { learner, lp, feed, events, t } = setup(60);
  learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
  feed(announce([pfx(1), pfx(2), pfx(3)]));
  learner.peerDown(neighbor, true);
  t.advance(10_000);
  learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
  assert.equal(learner.helperStatus(neighbor).deadline, 70_000);
  feed(announce([pfx(1)]));
  t.advance(59_999);
  assert.equal(lp.family(1)!.adjIn.count, 3);
  t.advance(1);
  assert.equal(lp.family(1)!.adjIn.count, 1);
  assert.deepEqual(events.at(-1), ['stale-timer', 1, 2]);
});

test('helper: consecutive restarts (RFC 4724 §4.2): routes re-learned in the short session are stale again', () => {
  const { learner, lp, feed, t } = setup();
  learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
  feed(announce([pfx(1), pfx(2), pfx(3)]));
  learner.peerDown(neighbor, true);
  learner.peerUp(neighbor, negotiated({ restartTime: 50 }));
  feed(announce([pfx(1)]));
  learner.peerDown(neighbor, true); // down again before End-of-RIB
  assert.equal(learner.staleCount(neighbor, 1), 3);
  assert.equal(learner.helperStatus(neighbor).deadline, 50_000, 'the Restart Time of the latest session');
  learner.peerUp(neighbor, negotiated({ restartTime: 50 }));
  feed(announce([pfx(2)]));
  learner.endOfRib(neighbor, 1, 1);
  const s = (i: number) => learner.rib.v4.v4!.find(pfx(i), 24);
  assert.equal(s(1), -1);
  assert.ok(s(2) >= 0);
  assert.equal(s(3), -1);
  assert.equal(lp.family(1)!.adjIn.count, 1);
  assert.equal(t.pending(), 0);
});

test('helper: End-of-RIB for the other family sweeps nothing here; removePeer and close cancel the timers', () => {
  const { learner, feed, t } = setup();
  learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
  feed(announce([pfx(1)]));
  learner.peerDown(neighbor, true);
  learner.peerUp(neighbor, negotiated({ restartTime: 120 }));
  learner.endOfRib(neighbor, 2, 1);
  assert.equal(learner.staleCount(neighbor, 1), 1);
  assert.equal(learner.helperStatus(neighbor).phase, 'waiting');
  learner.close();
  assert.equal(t.pending(), 0);
  learner.removePeer(neighbor);
  assert.equal(learner.rib.v4.table.size, 0);
});
