// Polls a count until it reaches its target, with a backoff tied to the time already
// spent (interval = elapsed / 40, between 10 and 250 ms): the timing error stays near
// 2.5% of the measured time while a slow receiver is not polled hundreds of times a
// second. Reports when the target was first seen and the last time it was not (the
// true moment lies between), so a reader knows the resolution.
import { epochNow } from '../feeder/feeder.js';

export interface Convergence {
  /** Epoch ms of the first answer at the target (null: not reached). */
  readonly at: number | null;
  /** Epoch ms of the last answer before that (a lower bound for the moment). */
  readonly lowAt: number;
  /** The last value read, and the target. */
  readonly count: number;
  readonly target: number;
  readonly polls: number;
  /** The slowest answer (ms): a busy receiver answers its control socket late. */
  readonly maxReadMs: number;
  /** Reached by settling: the count stopped short of the target and stayed (see `settleMs`). */
  readonly settled: boolean;
  /** Why it stopped without reaching the target. */
  readonly error?: string;
}

export interface WatchOptions {
  /** Epoch ms the backoff counts from. */
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
   * wait at least this many times the last answer's duration, so polling never takes
   * more than 1/(1+factor) of a core.
   */
  readonly costFactor?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function backoff(elapsedMs: number, min = 10, max = 250): number {
  return Math.min(max, Math.max(min, elapsedMs / 40));
}

export async function watchCount(o: WatchOptions): Promise<Convergence> {
  let lowAt = o.start;
  let count = -1;
  let polls = 0;
  let maxReadMs = 0;
  let changedAt = o.start;
  let changedLow = o.start;
  let error: string | undefined;
  const deadline = o.start + o.timeoutMs;
  for (;;) {
    const why = o.abort?.();
    if (why !== undefined) {
      error = why;
      break;
    }
    let v: number;
    const asked = epochNow();
    try {
      v = await o.read();
    } catch (e) {
      error = `read failed: ${(e as Error).message}`;
      break;
    }
    const t = epochNow();
    polls++;
    maxReadMs = Math.max(maxReadMs, t - asked);
    if (v !== count) {
      count = v;
      changedAt = t;
      changedLow = lowAt;
    }
    if (v === o.target) return { at: t, lowAt, count: v, target: o.target, polls, maxReadMs, settled: false };
    const settle = o.settleMs ?? 0;
    if (
      settle > 0 &&
      t - changedAt >= settle &&
      Math.abs(o.target - v) <= (o.tolerance ?? 0) &&
      (o.settleAllowed?.() ?? true)
    ) {
      // The count has not moved since changedAt: that is when it got there.
      return { at: changedAt, lowAt: changedLow, count: v, target: o.target, polls, maxReadMs, settled: true };
    }
    if (t >= deadline) {
      error = `timed out after ${(o.timeoutMs / 1000).toFixed(0)} s at ${v} of ${o.target}`;
      break;
    }
    lowAt = t;
    await sleep(Math.max(backoff(t - o.start, o.minIntervalMs, o.maxIntervalMs), (o.costFactor ?? 0) * (t - asked)));
  }
  return { at: null, lowAt, count, target: o.target, polls, maxReadMs, settled: false, ...(error !== undefined ? { error } : {}) };
}
