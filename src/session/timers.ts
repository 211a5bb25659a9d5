// Timer arithmetic for the session FSM: RFC 4271 §10 jitter and the idle hold-down
// backoff (RFC 4271 §8.1.1 DampPeerOscillations, done as exponential backoff).
// Pure: randomness and elapsed times are the caller's inputs.

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

/** RFC 4271 §10: timers are multiplied by a random factor in [0.75, 1.0]. */
export const JITTER_MIN = 0.75;
export const JITTER_MAX = 1.0;

/** `seconds` scaled by a factor in [0.75, 1.0) drawn from `random`. */
export function jitter(seconds: number, random: Random): number {
  let r = random();
  // A bad source must not stretch a timer beyond its nominal value or below 0.75 of it.
  if (!(r >= 0)) r = 0;
  else if (r >= 1) r = 1;
  return seconds * (JITTER_MIN + (JITTER_MAX - JITTER_MIN) * r);
}

/** RFC 9687 §3: the suggested SendHoldTime, 8 minutes (or twice the hold time when larger). */
export const DEFAULT_SEND_HOLD_TIME = 480;

/**
 * RFC 9687 SendHoldTime in seconds for a session with negotiated `holdTime`: `configured`
 * when given, else max(8 minutes, 2 × holdTime); 0 (no timer) when the hold time is 0
 * (such a session has no liveness checks at all) or `configured` is 0.
 */
export function sendHoldTime(holdTime: number, configured?: number): number {
  if (holdTime <= 0) return 0;
  if (configured !== undefined) return Math.max(0, configured);
  return Math.max(DEFAULT_SEND_HOLD_TIME, 2 * holdTime);
}

export interface BackoffOptions {
  /** Idle hold after the first failure, seconds. */
  readonly initial: number;
  /** The longest idle hold, seconds. */
  readonly max: number;
  /** Growth per further consecutive failure. */
  readonly multiplier: number;
  /** A session that stayed Established this many seconds starts the count again. */
  readonly stableAfter: number;
}

/**
 * 1, 2, 4, … 64, 120 s: a peer that keeps refusing us is retried about every two
 * minutes (the usual ConnectRetryTime), while one transient error costs a second.
 */
export const DEFAULT_BACKOFF: BackoffOptions = { initial: 1, max: 120, multiplier: 2, stableAfter: 120 };

/**
 * Idle hold before the next automatic start, after `failures` consecutive failures
 * (0 or 1 → `initial`, then multiplied per failure, capped at `max`).
 */
export function idleHoldTime(failures: number, opts: BackoffOptions = DEFAULT_BACKOFF): number {
  const n = Math.max(0, Math.floor(failures) - 1);
  // Stop multiplying once past the cap so huge counts cannot overflow to Infinity/NaN.
  let t = opts.initial;
  for (let i = 0; i < n && t < opts.max; i++) t *= opts.multiplier;
  return Math.min(t, opts.max);
}

/**
 * The failure count to carry on when a session goes down after `establishedFor`
 * seconds in Established: a stable session forgets earlier failures.
 */
export function failuresAfterEstablished(
  failures: number,
  establishedFor: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
): number {
  return establishedFor >= opts.stableAfter ? 0 : failures;
}

/**
 * A small deterministic generator (the public-domain mulberry32) for tests and simulations, so
 * jittered schedules can be replayed. Not for anything security related.
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
