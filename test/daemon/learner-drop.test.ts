// A session's end drops its routes: a few at once, a full table in steps on later turns
// of the event loop (in one go it held every other session and the API for 330-420 ms
// at 1M routes). The peer must not announce into a half-dropped table: an UPDATE, a
// new session or a job first finishes the drop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announceV4, learnerLab, NEIGHBOR } from './learner-lab.js';

const BIG = 100_000; // above the learner's DROP_AT_ONCE (65,536)
const BASE = 0x14000000; // 20.0.0.0/24 upwards

function prefixes(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => (BASE + (from + i) * 256) >>> 0);
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

function lab() {
  let deferred = 0;
  let changed = 0;
  const l = learnerLab({
    graceful: { defer: (fn: () => void) => void (deferred++, setImmediate(fn)) },
    events: { routesChanged: () => void changed++ },
  });
  return { ...l, deferred: () => deferred, changed: () => changed };
}

test('a full table is dropped in steps on later turns, and nothing of it is left', async () => {
  const { learner, lp, feed, deferred, changed } = lab();
  feed(announceV4(prefixes(BIG)));
  const v4 = learner.rib.v4;
  assert.equal(v4.bestCount, BIG);
  learner.peerDown(NEIGHBOR, false);
  assert.ok(v4.bestCount > 0, 'not all at once');
  assert.ok(lp.dropping > 0);
  let turns = 0;
  while (v4.bestCount > 0 && turns < 10_000) {
    await turn();
    turns++;
  }
  assert.equal(v4.bestCount, 0, 'every route dropped');
  assert.equal(v4.pathCount, 0);
  assert.equal(lp.family(1)!.adjIn.count, 0);
  assert.equal(lp.dropping, 0);
  assert.ok(turns >= 1 && deferred() >= 1, `over several turns (${turns} turns, ${deferred()} steps deferred)`);
  assert.ok(changed() >= 2, 'each step tells the FIB writer');
});

test('a peer back before the drop is done: its UPDATE finishes the drop first, and only the new routes stay', async () => {
  const { learner, lp, feed } = lab();
  feed(announceV4(prefixes(BIG)));
  learner.peerDown(NEIGHBOR, false);
  await turn(); // a second step ran (at most sweepStep slots a step)
  const v4 = learner.rib.v4;
  assert.ok(v4.bestCount > 0 && v4.bestCount < BIG, `mid-drop: ${v4.bestCount}`);
  // The session is back and sends a few routes, some of them ones it had before.
  const again = [...prefixes(5), ...prefixes(5, BIG + 10)];
  feed(announceV4(again));
  assert.equal(lp.dropping, 0, 'the drop was finished before learning');
  assert.equal(v4.bestCount, again.length);
  for (let i = 0; i < 20; i++) await turn();
  assert.equal(v4.bestCount, again.length, 'no cancelled step removes the new routes');
  assert.equal(lp.family(1)!.adjIn.count, again.length);
  for (const p of again) assert.ok(v4.best(v4.v4!.find(p, 24)) >= 0);
});

test('a small table is dropped at once; removing a peer mid-drop finishes it', async () => {
  const small = lab();
  small.feed(announceV4(prefixes(1000)));
  small.learner.peerDown(NEIGHBOR, false);
  assert.equal(small.learner.rib.v4.bestCount, 0);
  assert.equal(small.deferred(), 0);

  const big = lab();
  big.feed(announceV4(prefixes(BIG)));
  big.learner.peerDown(NEIGHBOR, false);
  big.learner.removePeer(NEIGHBOR);
  assert.equal(big.learner.rib.v4.bestCount, 0);
  assert.equal(big.learner.rib.v4.pathCount, 0);
  for (let i = 0; i < 5; i++) await turn(); // the cancelled steps do nothing
  assert.equal(big.learner.rib.v4.pathCount, 0);
});
