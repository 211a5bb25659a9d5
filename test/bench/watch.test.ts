// The bench's polling (bench/harness/watch.ts) on a fake clock: counts that move along a
// known curve, read by a probe that takes time in proportion to the count (the kernel's
// trie walk) and counts at an unknown moment within each read. Checks the reported
// bracket holds the true moment, how tight it is, that reads stay sparse far from the
// target and under the CPU budget, and that a stall is not polled back to back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_READ_COST_MS, RATE_WINDOW_MS, SPRINT_MS, pollDelay, rateToward, watchCount, type Convergence, type WatchClock, type WatchOptions } from '../../bench/harness/watch.js';

class FakeClock implements WatchClock {
  t = 0;
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    // A timer never fires early, and a 0 ms one still costs a turn of the loop.
    this.t += Math.max(ms, 0.05);
    return Promise.resolve();
  }
}

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Read {
  readonly asked: number;
  readonly answered: number;
  readonly value: number;
}

interface Scenario {
  /** True count at time t. */
  readonly count: (t: number) => number;
  /** Read duration for a trie of this many routes. */
  readonly readMs: (n: number) => number;
  readonly seed: number;
}

/** A probe like the trie walk: takes readMs(count) and returns the count at some moment within the read. */
function fakeProbe(clock: FakeClock, s: Scenario, log: Read[]): () => Promise<number> {
  const r = rng(s.seed);
  return () => {
    const asked = clock.t;
    const d = s.readMs(s.count(asked));
    const value = s.count(asked + r() * d);
    clock.t = asked + d;
    log.push({ asked, answered: clock.t, value });
    return Promise.resolve(value);
  };
}

async function watch(s: Scenario, o: Partial<WatchOptions> & { target: number }): Promise<{ c: Convergence; reads: Read[] }> {
  const clock = new FakeClock();
  const reads: Read[] = [];
  const c = await watchCount({ start: 0, timeoutMs: 60_000, clock, read: fakeProbe(clock, s, reads), ...o });
  return { c, reads };
}

/** As measure.ts watches the kernel's count. */
const FIB = { predict: true, budget: 0.25 } as const;
const M = 1_000_000;
/** ~60 ms per read at 1M routes (the split Main trie on this machine), 1 ms on an empty one. */
const trieMs = (n: number): number => 1 + (60 * n) / M;
/** 0 until t0, then linear to `to` at t1. */
const ramp = (t0: number, t1: number, from: number, to: number) => (t: number) =>
  t <= t0 ? from : t >= t1 ? to : Math.round(from + ((to - from) * (t - t0)) / (t1 - t0));

/** Reads that did not wait: asked within `gap` ms of the answer before. */
function backToBack(reads: readonly Read[], from: number, to: number, gap = 1): number {
  let n = 0;
  for (let i = 1; i < reads.length; i++) {
    const r = reads[i]!;
    if (r.asked >= from && r.asked < to && r.asked - reads[i - 1]!.answered <= gap) n++;
  }
  return n;
}

test('rateToward: direction, window, stall', () => {
  const up = [0, 100, 200, 300].map((mid, i) => ({ mid, value: i * 1000 }));
  assert.equal(rateToward(up, 10_000), 10);
  assert.equal(rateToward(up, 0), 0, 'moving away from the target');
  assert.equal(rateToward(up.slice(0, 1), 10_000), 0, 'one read: no rate');
  // Only the last second counts: a count that stopped 1.2 s ago is stalled.
  const stalled = [
    { mid: 0, value: 0 },
    { mid: 100, value: 5000 },
    { mid: 1300, value: 5000 },
    { mid: 2300, value: 5000 },
  ];
  assert.equal(rateToward(stalled, 10_000), 0);
  // But with sparse reads the one before the last is used, however old.
  assert.equal(rateToward([{ mid: 0, value: 0 }, { mid: 2000, value: 4000 }], 10_000), 2);
  const down = [0, 50, 100].map((mid, i) => ({ mid, value: 900 - i * 300 }));
  assert.equal(rateToward(down, 0), 6);
});

test('pollDelay: sparse far away, moved up, back to back when due, budget holds', () => {
  // 4 s into the phase, reads of 50 ms, 500 ms spent reading (12.5%), budget 25%:
  // sparse = 11 reads (a third of the budget); the saved 1000-500 ms pay for 667 ms back
  // to back, half of it (333 ms) is the horizon for the best rate.
  const base = { start: 0, now: 4000, mid: 3975, readMs: 50, busyMs: 500, target: M, predict: true, budget: 0.25 } as const;
  const far = pollDelay({ ...base, count: M - 500_000, rate: 250 });
  assert.deepEqual(far, { waitMs: 550, sprint: false, sparseMs: 550, eta: 5975 });
  // Due in 775 ms: moved up to when the best rate's moment (= the expected one here) enters the horizon.
  const near = pollDelay({ ...base, count: M - 200_000, rate: 250 });
  assert.equal(near.sprint, false);
  assert.ok(Math.abs(near.waitMs - (775 - 1000 / 3)) < 1e-9, `${near.waitMs}`);
  // A receiver that once went 4× faster could be done in 175 ms: back to back now...
  assert.deepEqual(pollDelay({ ...base, count: M - 200_000, rate: 250, peakRate: 1000 }), { waitMs: 0, sprint: true, sparseMs: 550, eta: 4775 });
  // ...but not for more than SPRINT_MS on that ground: then two reads + 30% before the expected moment.
  const tired = pollDelay({ ...base, count: M - 200_000, rate: 250, peakRate: 1000, sprintMs: SPRINT_MS });
  assert.deepEqual([tired.waitMs, tired.sprint], [775 - 100 - 0.3 * 775, false]);
  // Due within two reads at the current rate: back to back, whatever the sprint lasted.
  assert.deepEqual(pollDelay({ ...base, count: M - 20_000, rate: 250, sprintMs: 5000 }).sprint, true);
  // No rate (stalled, or one read so far), or no prediction: sparse.
  assert.equal(pollDelay({ ...base, count: M - 1, rate: 0 }).waitMs, 550);
  assert.equal(pollDelay({ ...base, predict: false, count: M - 1, rate: 250 }).waitMs, 550);
  // At 25% spent, the next 50 ms read fits at (1000+50)/0.25-50 = 4150 ms.
  const held = pollDelay({ ...base, busyMs: 1000, count: M - 20_000, rate: 250 });
  assert.deepEqual([held.waitMs, held.sprint], [150, true]);
  // Deeper in debt a read waits as long as a sparse one, no longer.
  assert.equal(pollDelay({ ...base, busyMs: 1200, count: M - 20_000, rate: 250 }).waitMs, 550);
  // Without a budget: the cost factor makes reads sparse, the horizon is SPRINT_MS.
  const { budget: _unused, ...unbudgeted } = base;
  const free = { ...unbudgeted, costFactor: 4 } as const;
  assert.equal(pollDelay({ ...free, count: M - 500_000, rate: 250 }).waitMs, 200);
  assert.equal(pollDelay({ ...free, count: M - 200_000, rate: 250 }).sprint, true);
  // An O(1) probe is charged MIN_READ_COST_MS: (100 + 1) / 0.25 - 1 - 399 = 4 ms.
  const cheap = pollDelay({ ...base, now: 399, mid: 399, readMs: 0.01, busyMs: 100, count: M - 1, rate: 250 });
  assert.deepEqual([cheap.waitMs, cheap.sprint], [(100 + MIN_READ_COST_MS) / 0.25 - MIN_READ_COST_MS - 399, true]);
});

test('watchCount: a linear ingest of 1M routes is bracketed within two reads, sparse far away, under budget', async () => {
  const errs: number[] = [];
  for (let seed = 1; seed <= 40; seed++) {
    // Each seed: another start and length of the ramp and other moments of counting within the reads.
    const r = rng(seed * 7919);
    const t0 = 200 + 800 * r();
    const done = t0 + 2000 + 4000 * r();
    const s: Scenario = { count: ramp(t0, done, 0, M), readMs: trieMs, seed };
    const { c, reads } = await watch(s, { target: M, ...FIB });
    const who = `seed ${seed}: done ${done.toFixed(0)} lowAt ${c.lowAt.toFixed(0)} at ${c.at?.toFixed(0)}`;
    assert.ok(c.at !== null, who);
    assert.equal(c.count, M);
    // The true moment is in (lowAt, at], and the bracket is about two reads wide.
    assert.ok(c.lowAt < done && done <= c.at, who);
    assert.ok(c.at - c.lowAt <= 2 * trieMs(M) + 5, `${who}: bracket ${(c.at - c.lowAt).toFixed(1)} ms`);
    errs.push(c.at - done);
    // Over the phase the reads took at most a quarter of a core.
    assert.ok(c.busyMs <= 0.25 * c.at + trieMs(M), `${who}: busy ${c.busyMs.toFixed(0)} ms`);
    // Far from the target (more than 1 s before), no read went back to back.
    assert.equal(backToBack(reads, 0, done - 1000), 0, who);
    // Near it, they did.
    assert.ok(backToBack(reads, done - 300, done + 200) >= 1, who);
  }
  const mean = errs.reduce((a, b) => a + b, 0) / errs.length;
  assert.ok(mean < trieMs(M) * 1.2, `mean error ${mean.toFixed(1)} ms`);
});

test('watchCount: without prediction the same ingest is reported much later (the cost wait)', async () => {
  let withP = 0;
  let without = 0;
  for (let seed = 1; seed <= 20; seed++) {
    const s: Scenario = { count: ramp(500, 4300 + seed * 37, 0, M), readMs: trieMs, seed };
    const a = await watch(s, { target: M, ...FIB });
    const b = await watch(s, { target: M, costFactor: 4 }); // the harness before prediction
    withP += a.c.at! - a.c.lowAt;
    without += b.c.at! - b.c.lowAt;
  }
  assert.ok(without > 2 * withP, `bracket with prediction ${withP / 20} ms, without ${without / 20} ms`);
});

test('watchCount: withdraw-all (counting down to 0, reads getting cheaper)', async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const done = 1500 + seed * 53;
    const s: Scenario = { count: ramp(5, done, M, 0), readMs: trieMs, seed };
    const { c, reads } = await watch(s, { target: 0, ...FIB });
    const who = `seed ${seed}: done ${done} lowAt ${c.lowAt.toFixed(1)} at ${c.at?.toFixed(1)}`;
    assert.ok(c.at !== null && c.lowAt < done && done <= c.at, who);
    // At the end the trie is small, so reads are short and the bracket is tight.
    assert.ok(c.at - c.lowAt <= 2 * trieMs(M / 10) + 5, `${who}: bracket ${(c.at - c.lowAt).toFixed(1)}`);
    assert.ok(c.busyMs <= 0.25 * c.at + trieMs(M), `${who}: busy ${c.busyMs.toFixed(0)}`);
    assert.equal(backToBack(reads, 0, done - 800), 0, who);
  }
});

test('watchCount: a count that stalls short of the target is not polled back to back', async () => {
  // 99% in 3 s, then nothing until the 60 s timeout (a daemon stuck on its last routes).
  const s: Scenario = { count: ramp(200, 3000, 0, 990_000), readMs: trieMs, seed: 3 };
  const { c, reads } = await watch(s, { target: M, ...FIB });
  assert.equal(c.at, null);
  assert.match(c.error ?? '', /timed out after 60 s at 990000 of 1000000/);
  // Back to back at most through the rate window after the stall, sparse afterwards.
  const lastQuick = reads.filter((r, i) => i > 0 && r.asked - reads[i - 1]!.answered <= 1).pop();
  assert.ok(lastQuick === undefined || lastQuick.asked <= 3000 + RATE_WINDOW_MS + 2 * trieMs(M), `back to back until ${lastQuick?.asked}`);
  assert.equal(backToBack(reads, 5000, 60_000), 0);
  // Sparse from then on: one read per 8 read durations (half the budget).
  const late = reads.filter((r) => r.asked >= 5000).length;
  assert.ok(late <= 55_000 / (8 * trieMs(990_000)) + 2, `${late} reads in the last 55 s`);
  assert.ok(c.busyMs <= 0.25 * 60_000, `busy ${c.busyMs}`);
});

test('watchCount: a receiver that slows down just before the end: the budget holds the sprint back', async () => {
  // 95% in 2 s, the last 5% over 10 s more: the prediction says "due" for a while before the rate catches up.
  const fast = ramp(300, 2300, 0, 950_000);
  const slow = ramp(2300, 12_300, 950_000, M);
  const s: Scenario = { count: (t) => (t < 2300 ? fast(t) : slow(t)), readMs: trieMs, seed: 4 };
  const { c, reads } = await watch(s, { target: M, ...FIB });
  assert.ok(c.at !== null && c.lowAt < 12_300 && 12_300 <= c.at);
  // At every read from 1 s on, the reads so far took at most a quarter of the time (plus the read in flight).
  let busy = 0;
  for (const r of reads) {
    busy += Math.max(r.answered - r.asked, MIN_READ_COST_MS);
    if (r.answered >= 1000) assert.ok(busy <= 0.25 * r.answered + trieMs(M), `busy ${busy.toFixed(0)} ms at ${r.answered.toFixed(0)}`);
  }
});

test('watchCount: a receiver that slows down for good near the end is not read back to back for long', async () => {
  // FRR-like: 98% at ~17 routes/ms over a minute, the last 2% at 2 routes/ms over 10 s.
  const fast = ramp(1000, 60_000, 0, 980_000);
  const slow = ramp(60_000, 70_000, 980_000, M);
  const s: Scenario = { count: (t) => (t < 60_000 ? fast(t) : slow(t)), readMs: trieMs, seed: 6 };
  const { c, reads } = await watch(s, { target: M, ...FIB, timeoutMs: 120_000 });
  assert.ok(c.at !== null && c.lowAt < 70_000 && 70_000 <= c.at);
  assert.ok(c.at - c.lowAt <= 2 * trieMs(M) + 5, `bracket ${c.at - c.lowAt}`);
  // Back to back: SPRINT_MS on the best rate's word when the slowdown begins, then
  // nothing until the last SPRINT_MS before the expected end.
  let quick = 0;
  for (let i = 1; i < reads.length; i++) if (reads[i]!.asked - reads[i - 1]!.answered <= 1) quick += reads[i]!.answered - reads[i]!.asked;
  assert.ok(quick <= 2 * SPRINT_MS + 4 * trieMs(M), `${quick.toFixed(0)} ms of back-to-back reads`);
  assert.equal(backToBack(reads, 60_000 + SPRINT_MS + 2000, 70_000 - SPRINT_MS - 200), 0);
});

test('watchCount: a slow receiver (minutes) is polled back to back only at its end', async () => {
  // FRR-like: 1M routes over 3 minutes.
  const done = 180_000;
  const s: Scenario = { count: ramp(1000, done, 0, M), readMs: trieMs, seed: 5 };
  const { c, reads } = await watch(s, { target: M, ...FIB, timeoutMs: 300_000 });
  assert.ok(c.at !== null && c.lowAt < done && done <= c.at);
  assert.ok(c.at - c.lowAt <= 2 * trieMs(M) + 5, `bracket ${c.at - c.lowAt}`);
  assert.equal(backToBack(reads, 0, done - 2000), 0);
  // Sparse polling: half the budget (7 × ~60 ms) or the 250 ms backoff cap, whichever is longer.
  assert.ok(reads.length < done / 250, `${reads.length} reads`);
  assert.ok(c.busyMs < 0.15 * c.at, `busy ${c.busyMs}`);
});

test('watchCount: an O(1) probe (rt6_stats) sprints briefly, charged at least 1 ms a read', async () => {
  const done = 2345;
  const s: Scenario = { count: ramp(100, done, 0, 230_000), readMs: () => 0.02, seed: 9 };
  const { c, reads } = await watch(s, { target: 230_000, ...FIB });
  assert.ok(c.at !== null && c.lowAt < done && done <= c.at);
  assert.ok(c.at - done <= 5, `late by ${c.at - done}`);
  assert.ok(reads.length * MIN_READ_COST_MS <= 0.25 * c.at + 1, `${reads.length} reads`);
});

test('watchCount: settles on a count that stops within tolerance, stamped when it got there', async () => {
  const s: Scenario = { count: ramp(100, 2000, 0, 99_990), readMs: trieMs, seed: 2 };
  let sent = false;
  const { c } = await watch(s, {
    target: 100_000,
    ...FIB,
    settleMs: 10_000,
    tolerance: 10,
    settleAllowed: () => (sent ||= true),
  });
  assert.equal(c.settled, true);
  assert.equal(c.count, 99_990);
  assert.ok(c.at !== null && c.lowAt < 2000 && 2000 <= c.at, `lowAt ${c.lowAt} at ${c.at}`);
  assert.ok(c.at - c.lowAt <= 2 * trieMs(M) + 5, `bracket ${c.at - c.lowAt}`);
});
