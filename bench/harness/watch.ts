// Polls a count until it reaches its target and says when that happened, to within the
// reads around the moment: the true moment lies in (lowAt, at], where `at` is when the
// first read at the target answered and `lowAt` when the last read below it was asked.
//
// Why those ends of the reads: a read does not count at one moment. The kernel's trie
// walk counts each route when it passes the route's key, somewhere between the start
// and the end of the read (a control socket's answer is likewise a snapshot taken at
// some moment in between). A read at the target proves every change came before its end;
// a read below it proves one came after its start. The start or middle of the first read
// at the target can precede the last change (its key lay late in the walk), so neither
// is a bound; the middle is what a read is worth on average (keys spread over the walk),
// so middles are used to estimate the rate, never to stamp the result.
//
// Schedule, by default: interval = elapsed / 40, between 10 and 250 ms (the timing error
// stays near 2.5% of the measured time while a slow receiver is not polled hundreds of
// times a second), and for a costly probe at least `costFactor` times the last read.
//
// With `predict` and a `budget` (a share of one core the reads may take, averaged over
// the phase), for the kernel's count, whose reads cost ~60 ms at 1M routes:
// - far from the target, reads are sparse: sparse reads use a third of the budget at
//   most (at 25%: wait 11 times the last read);
// - the rate toward the target over the last second of reads (RATE_WINDOW_MS) says when
//   it is due; reads are moved up to answer two reads plus 30% of the time left ahead
//   of that, and from there go back to back;
// - they go back to back earlier when the target could be reached at the best rate seen
//   so far within half of what the saved budget pays for (1 s at most, SPRINT_MS): a
//   receiver that speeds up at the end is caught;
// - back-to-back reads stop when the target is reached, when the count has not moved
//   toward it for a second (a stall: back to sparse), or when the budget is spent (a
//   read held back by the budget waits no longer than a sparse one).
// The result's bracket is then about two reads wide. Pure: time comes through `clock`.
import { epochNow } from '../feeder/feeder.js';

export interface Convergence {
  /** Epoch ms when the first read at the target answered (null: not reached). */
  readonly at: number | null;
  /** Epoch ms when the last read below the target was asked (a lower bound for the moment). */
  readonly lowAt: number;
  /** The last value read, and the target. */
  readonly count: number;
  readonly target: number;
  readonly polls: number;
  /** The slowest answer (ms): a busy receiver answers its control socket late. */
  readonly maxReadMs: number;
  /** Milliseconds spent in reads (the probe's cost), over the whole watch. */
  readonly busyMs: number;
  /** Reached by settling: the count stopped short of the target and stayed (see `settleMs`). */
  readonly settled: boolean;
  /** Why it stopped without reaching the target. */
  readonly error?: string;
}

export interface WatchClock {
  /** Epoch ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: WatchClock = {
  now: epochNow,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export interface WatchOptions {
  /** Epoch ms the backoff (and the budget) counts from. */
  readonly start: number;
  readonly timeoutMs: number;
  readonly target: number;
  readonly read: () => Promise<number> | number;
  /** A reason to stop now (session gone, process died), or undefined. */
  readonly abort?: () => string | undefined;
  /**
   * Accept a count that stays unchanged this long within `tolerance` of the target once
   * `settleAllowed()` holds (the whole feed was sent): receivers disagree on a handful of
   * odd routes in real tables (AS 0 paths, martians). 0 = never.
   */
  readonly settleMs?: number;
  readonly tolerance?: number;
  readonly settleAllowed?: () => boolean;
  readonly minIntervalMs?: number;
  readonly maxIntervalMs?: number;
  /**
   * For a probe that costs the machine what it takes to answer (the kernel's trie walk):
   * wait at least this many times the last answer's duration while the target is not
   * due, so sparse polling never takes more than 1/(1+factor) of a core.
   */
  readonly costFactor?: number;
  /** Move reads up to the expected moment and read back to back around it (see the file comment). */
  readonly predict?: boolean;
  /** Share of one core the reads may take, averaged from `start` (e.g. 0.25); none if absent. */
  readonly budget?: number;
  readonly clock?: WatchClock;
}

/** A read: its middle (epoch ms) and the value. */
export interface Sample {
  readonly mid: number;
  readonly value: number;
}

/** Rates are measured over the reads of this last stretch: a count that has not moved toward the target within it is stalled. */
export const RATE_WINDOW_MS = 1000;
/** A read is charged at least this much against the budget (an O(1) probe still costs the event loop). */
export const MIN_READ_COST_MS = 1;
const KEEP_SAMPLES = 64;
/** Share of the time still ahead of the expected moment kept as margin. */
const MARGIN = 0.3;
/** Share of the budget sparse reads may use: the rest is saved for the sprint. */
const SPARSE_SHARE = 1 / 3;
/** The longest stretch read back to back on the ground of the best rate seen (not the current one). */
export const SPRINT_MS = 1000;

export function backoff(elapsedMs: number, min = 10, max = 250): number {
  return Math.min(max, Math.max(min, elapsedMs / 40));
}

/**
 * Count per ms toward `target` between the oldest read within `windowMs` of the last
 * one (at least the one before it) and the last one; 0 when not moving toward it.
 */
export function rateToward(samples: readonly Sample[], target: number, windowMs = RATE_WINDOW_MS): number {
  const n = samples.length;
  if (n < 2) return 0;
  const last = samples[n - 1]!;
  let j = n - 2;
  while (j > 0 && last.mid - samples[j - 1]!.mid <= windowMs) j--;
  const first = samples[j]!;
  const dt = last.mid - first.mid;
  if (dt <= 0) return 0;
  const toward = Math.sign(target - last.value) * (last.value - first.value);
  return toward > 0 ? toward / dt : 0;
}

export interface PollPlan {
  readonly start: number;
  /** When the last read answered, and how long it took. */
  readonly now: number;
  readonly readMs: number;
  /** Cost of all reads so far (ms, each at least MIN_READ_COST_MS). */
  readonly busyMs: number;
  /** The last read's middle and value. */
  readonly mid: number;
  readonly count: number;
  readonly target: number;
  /** From rateToward (count per ms toward the target), and the highest it has been in the phase. */
  readonly rate: number;
  readonly peakRate?: number;
  /** How long the reads have been going back to back or moved up since they were last sparse (0: they are sparse). */
  readonly sprintMs?: number;
  readonly minIntervalMs?: number;
  readonly maxIntervalMs?: number;
  readonly costFactor?: number;
  readonly predict?: boolean;
  readonly budget?: number;
}

export interface PollDelay {
  readonly waitMs: number;
  /** Reading back to back (the budget may still hold a read back). */
  readonly sprint: boolean;
  /** The wait of a sparse read, for comparison. */
  readonly sparseMs: number;
  /** Predicted epoch ms of the target, or null. */
  readonly eta: number | null;
}

/** How long to wait before the next read. */
export function pollDelay(p: PollPlan): PollDelay {
  const d = Math.max(p.readMs, 0);
  const budget = p.budget !== undefined && p.budget > 0 ? p.budget : undefined;
  const elapsed = p.now - p.start;
  // Sparse: the backoff, the cost wait, and with a budget a third of it at most.
  const sparse = Math.max(backoff(elapsed, p.minIntervalMs, p.maxIntervalMs), (p.costFactor ?? 0) * d, budget === undefined ? 0 : (1 / (SPARSE_SHARE * budget) - 1) * d);
  let wait = sparse;
  let sprint = false;
  let eta: number | null = null;
  if (p.predict === true && p.rate > 0) {
    const left = Math.abs(p.target - p.count);
    eta = p.mid + left / p.rate;
    const ahead = eta - p.now;
    // The earliest it could be done, should the receiver go back to its best rate.
    const soonest = p.mid + left / Math.max(p.peakRate ?? 0, p.rate) - p.now;
    // Back to back once that is within half of what the budget saved can pay for (the
    // other half for the moment coming later than that), for SPRINT_MS at most: a
    // receiver that slowed down for good is then left to the expected moment.
    const saved = budget === undefined ? Infinity : (budget * elapsed - p.busyMs) / (1 - budget);
    const horizon = Math.max(2 * d, Math.min(SPRINT_MS, saved / 2));
    const byPeak = (p.sprintMs ?? 0) < SPRINT_MS;
    // Or once the expected moment is two reads plus a margin away; the margin grows with
    // the distance, since the rate of a receiver drifts (batches, GC, contention).
    const early = ahead - 2 * d - MARGIN * Math.max(0, ahead);
    if (early <= 0 || (byPeak && soonest <= horizon)) {
      wait = 0;
      sprint = true;
    } else {
      wait = Math.min(wait, early, byPeak ? soonest - horizon : Infinity);
    }
  }
  if (budget !== undefined && wait < sparse) {
    // A read moved up must keep the average at or under the budget (busy + d <= budget *
    // (elapsed + wait + d)); when it cannot, it waits for that, never longer than sparse.
    const cost = Math.max(d, MIN_READ_COST_MS);
    wait = Math.min(sparse, Math.max(wait, (p.busyMs + cost) / budget - cost - elapsed));
  }
  return { waitMs: wait, sprint, sparseMs: sparse, eta };
}

export async function watchCount(o: WatchOptions): Promise<Convergence> {
  const clock = o.clock ?? realClock;
  let lowAt = o.start;
  let count = -1;
  let polls = 0;
  let maxReadMs = 0;
  let busyMs = 0;
  let changedAt = o.start;
  let changedLow = o.start;
  let error: string | undefined;
  const samples: Sample[] = [];
  let peakRate = 0;
  let sprintFrom: number | null = null;
  const deadline = o.start + o.timeoutMs;
  const done = (at: number, low: number, settled: boolean): Convergence => ({ at, lowAt: low, count, target: o.target, polls, maxReadMs, busyMs, settled });
  for (;;) {
    const why = o.abort?.();
    if (why !== undefined) {
      error = why;
      break;
    }
    let v: number;
    const asked = clock.now();
    try {
      v = await o.read();
    } catch (e) {
      error = `read failed: ${(e as Error).message}`;
      break;
    }
    const t = clock.now();
    const readMs = t - asked;
    polls++;
    maxReadMs = Math.max(maxReadMs, readMs);
    busyMs += Math.max(readMs, MIN_READ_COST_MS);
    if (v !== count) {
      count = v;
      changedAt = t;
      changedLow = lowAt;
    }
    if (v === o.target) return done(t, lowAt, false);
    const settle = o.settleMs ?? 0;
    if (
      settle > 0 &&
      t - changedAt >= settle &&
      Math.abs(o.target - v) <= (o.tolerance ?? 0) &&
      (o.settleAllowed?.() ?? true)
    ) {
      // The count has not moved since changedAt: that is when it got there.
      return done(changedAt, changedLow, true);
    }
    if (t >= deadline) {
      error = `timed out after ${(o.timeoutMs / 1000).toFixed(0)} s at ${v} of ${o.target}`;
      break;
    }
    lowAt = asked;
    samples.push({ mid: (asked + t) / 2, value: v });
    if (samples.length > KEEP_SAMPLES) samples.splice(0, samples.length - KEEP_SAMPLES);
    const rate = o.predict === true ? rateToward(samples, o.target) : 0;
    const sprintMs = sprintFrom === null ? 0 : t - sprintFrom;
    // The best rate has had its SPRINT_MS and the receiver did not get back to it: forget it.
    peakRate = sprintMs >= SPRINT_MS ? rate : Math.max(peakRate, rate);
    const { waitMs, sprint, sparseMs } = pollDelay({
      start: o.start,
      now: t,
      readMs,
      busyMs,
      mid: (asked + t) / 2,
      count: v,
      target: o.target,
      rate,
      peakRate,
      sprintMs,
      ...(o.minIntervalMs !== undefined ? { minIntervalMs: o.minIntervalMs } : {}),
      ...(o.maxIntervalMs !== undefined ? { maxIntervalMs: o.maxIntervalMs } : {}),
      ...(o.costFactor !== undefined ? { costFactor: o.costFactor } : {}),
      ...(o.predict !== undefined ? { predict: o.predict } : {}),
      ...(o.budget !== undefined ? { budget: o.budget } : {}),
    });
    // A stretch of back-to-back or moved-up reads lasts until reads are sparse again.
    sprintFrom = sprint ? (sprintFrom ?? t) : waitMs >= sparseMs ? null : sprintFrom;
    await clock.sleep(Math.min(waitMs, Math.max(0, deadline - t)));
  }
  return { at: null, lowAt, count, target: o.target, polls, maxReadMs, busyMs, settled: false, ...(error !== undefined ? { error } : {}) };
}
