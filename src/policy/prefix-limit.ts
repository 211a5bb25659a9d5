// Prefix limit of one peer in one address family: a pure state machine with an
// injected clock (milliseconds). The speaker reports what it received; the limiter
// answers with an event the speaker acts on:
//   'warning'  count reached warningThresholdPercent of maxPrefixes: log, metric, event.
//              Once; re-armed when the count falls back under the threshold.
//   'exceeded' count > maxPrefixes: send maxPrefixNotification(...) (Cease/1), drop
//              the peer's routes, close the session. The limiter is then in overflow:
//              canStart() is false until restartTimerSeconds have passed (0 = until
//              clear()); nothing is counted meanwhile.
//
// What is counted: every path received before import policy, as GoBGP and BIRD's
// "receive limit" do (the limit protects memory, and rejected routes cost memory too
// when pre-policy copies are kept). With ADD-PATH each (prefix, path id) is one path:
// the caller reports +1 for a new (prefix, path id) and -1 for its withdrawal, never
// for a replacement of an existing one.
import type { PrefixLimit } from '../config/model.js';
import { CeaseSubcode, ErrorCode } from '../wire/iana.js';

export const LimitEvent = { NONE: 'none', WARNING: 'warning', EXCEEDED: 'exceeded' } as const;
export type LimitEvent = (typeof LimitEvent)[keyof typeof LimitEvent];

export type LimitState = 'disabled' | 'normal' | 'warning' | 'overflow';

/** Milliseconds since some epoch (Date.now, performance.now, a fake). */
export type Clock = () => number;

export class PrefixLimiter {
  private limit: PrefixLimit | undefined;
  private readonly clock: Clock;
  private n = 0;
  private warned = false;
  private overflow = false;
  /** Infinity when only clear() ends the overflow. */
  private until = 0;

  /** Warnings raised since creation (counter for metrics). */
  warningsTotal = 0;
  /** Times the limit was exceeded since creation (counter for metrics). */
  exceededTotal = 0;
  /** The count that tripped the last overflow (for display), 0 before any. */
  overflowCount = 0;
  /** Clock time of the last overflow, or undefined. */
  exceededAt: number | undefined = undefined;

  constructor(limit: PrefixLimit | undefined, clock: Clock) {
    this.limit = limit;
    this.clock = clock;
  }

  /** Paths currently counted. */
  get count(): number {
    return this.n;
  }

  get maxPrefixes(): number | undefined {
    return this.limit?.maxPrefixes;
  }

  /** Current state; an overflow whose restart time has passed reads as 'normal'. */
  get state(): LimitState {
    if (this.inOverflow(this.clock())) return 'overflow';
    if (this.limit === undefined) return 'disabled';
    return this.atWarning() ? 'warning' : 'normal';
  }

  /** When the session may start again (clock ms); undefined when not in overflow or when only clear() ends it. */
  get restartAt(): number | undefined {
    return this.overflow && Number.isFinite(this.until) ? this.until : undefined;
  }

  /** False while the session must stay down after an overflow. */
  canStart(now: number = this.clock()): boolean {
    return !this.inOverflow(now);
  }

  /** `delta` paths added (positive) or withdrawn (negative). */
  received(delta: number): LimitEvent {
    if (!this.leaveOverflow()) return LimitEvent.NONE;
    this.n = Math.max(0, this.n + delta);
    return this.check();
  }

  /** The count is now `count` (e.g. after a resynchronisation). */
  set(count: number): LimitEvent {
    if (!this.leaveOverflow()) return LimitEvent.NONE;
    this.n = Math.max(0, count);
    return this.check();
  }

  /** The session went down and its routes were dropped: count 0, no event; an overflow stays. */
  reset(): void {
    this.n = 0;
    this.warned = false;
  }

  /** Operator reset: ends an overflow at once. */
  clear(): void {
    if (this.overflow) {
      this.overflow = false;
      this.n = 0;
    }
    this.warned = this.limit !== undefined && this.atWarning();
  }

  /**
   * New limit (undefined = none). Ends any overflow (editing the limit clears it) and
   * re-evaluates the current count under the new limit, re-arming the warning.
   */
  reconfigure(limit: PrefixLimit | undefined): LimitEvent {
    this.limit = limit;
    if (this.overflow) {
      this.overflow = false;
      this.n = 0;
    }
    this.warned = false;
    return this.check();
  }

  private inOverflow(now: number): boolean {
    return this.overflow && now < this.until;
  }

  /** False while in overflow; ends an overflow whose timer has run out. */
  private leaveOverflow(): boolean {
    if (!this.overflow) return true;
    if (this.clock() < this.until) return false;
    this.overflow = false;
    this.n = 0;
    this.warned = false;
    return true;
  }

  /** count >= warningThresholdPercent of maxPrefixes (integer arithmetic, no rounding). */
  private atWarning(): boolean {
    const l = this.limit!;
    return this.n * 100 >= l.maxPrefixes * l.warningThresholdPercent;
  }

  private check(): LimitEvent {
    const l = this.limit;
    if (l === undefined) return LimitEvent.NONE;
    if (this.n > l.maxPrefixes) {
      const now = this.clock();
      this.overflow = true;
      this.until = l.restartTimerSeconds > 0 ? now + l.restartTimerSeconds * 1000 : Infinity;
      this.overflowCount = this.n;
      this.exceededAt = now;
      this.exceededTotal++;
      // The caller drops this peer's routes: nothing stays counted.
      this.n = 0;
      this.warned = false;
      return LimitEvent.EXCEEDED;
    }
    if (this.atWarning()) {
      if (this.warned) return LimitEvent.NONE;
      this.warned = true;
      this.warningsTotal++;
      return LimitEvent.WARNING;
    }
    this.warned = false;
    return LimitEvent.NONE;
  }
}

export interface CeaseNotification {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

/** NOTIFICATION Cease / Maximum Number of Prefixes Reached (RFC 4486 §4: data = AFI(2) SAFI(1) limit(4)). */
export function maxPrefixNotification(afi: number, safi: number, limit: number): CeaseNotification {
  const data = Buffer.alloc(7);
  data.writeUInt16BE(afi, 0);
  data.writeUInt8(safi, 2);
  data.writeUInt32BE(limit >>> 0, 3);
  return { code: ErrorCode.CEASE, subcode: CeaseSubcode.MAX_PREFIXES, data };
}
