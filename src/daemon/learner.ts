/**
 * Route learning for one BGP instance: the RouteSink the speaker feeds. Per UPDATE:
 * withdrawals, then (unless RFC 7606 says treat-as-withdraw) intern the attribute set
 * once, run the import policy per prefix, and set the path in the peer's Adj-RIB-In
 * view of the Loc-RIB. Prefix limits count every prefix received before policy.
 * Best-path changes leave through a Loc-RIB change queue towards the FIB (fib-sync.ts).
 *
 * Graceful restart, helper role (RFC 4724 §4.2, RFC 8538): when a session ends
 * gracefully the peer's routes stay in the RIB (and so in the kernel), marked stale
 * per family (a bitmap over Loc-RIB slots, adj-rib-in.ts). A re-announced route is
 * fresh again; End-of-RIB for a family sweeps what is still stale. The restart timer
 * (the Restart Time the peer advertised) drops everything when the peer does not come
 * back; the stale-path timer (360 s from re-establishment, like FRR's stalepath-time)
 * bounds the wait for End-of-RIB. A peer that returns without the capability, or
 * without the F bit or the family, loses that family's stale routes at once.
 *
 * Soft reconfiguration inbound (`importPolicy.softReconfiguration`): the pre-policy
 * attribute set of every received route is kept as well (rejected ones included), so a
 * policy change is re-evaluated from those copies, in time-boxed steps, without asking
 * the peer for anything. Without copies the caller asks for a route refresh.
 *
 * Hot path: no object per prefix; one closure per learner for decoding on a miss.
 */
import { Afi, Safi } from '../wire/iana.js';
import { DecisionFields, readDecisionFields } from '../wire/attrs/fields.js';
import { UpdateAction } from '../wire/errors.js';
import { emptyAttributes, type PathAttributes } from '../wire/attrs/types.js';
import { NlriCursor } from '../wire/nlri/prefix.js';
import { decodeAttributes, type ParsedUpdate, type UpdateContext } from '../wire/update.js';
import { isDeepStrictEqual } from 'node:util';
import { parseAddress } from '../wire/nlri/format.js';
import { RibChange, type AdjRibIn } from '../rib/adj-rib-in.js';
import { PrefixTableV4, PrefixTableV6 } from '../rib/prefix-table.js';
import { Rib } from '../rib/rib.js';
import type { LocRibOptions } from '../rib/loc-rib.js';
import { compileImportPolicy, type ImportFilter } from '../policy/import.js';
import type { ImportGuards } from '../policy/guards.js';
import { maxPrefixNotification, PrefixLimiter } from '../policy/prefix-limit.js';
import type { ImportPolicy, PrefixLimit } from '../config/model.js';
import type { Negotiated } from '../session/negotiate.js';
import type { GracefulRestartCapability } from '../wire/open-types.js';
import type { Neighbor, RouteSink } from './speaker.js';

export interface LearnerPeerConfig {
  readonly importPolicy: ImportPolicy | undefined;
  /** Effective limit per family (AFI number → limit). */
  readonly prefixLimits: ReadonlyMap<number, PrefixLimit>;
}

/** What happens per family of one neighbour. */
class FamilyState {
  readonly afi: number;
  readonly adjIn: AdjRibIn;
  /** Prefixes the import policy rejected: kept as keys only, so the limit counts them. */
  readonly rejectedV4: PrefixTableV4 | null;
  readonly rejectedV6: PrefixTableV6 | null;
  limiter: PrefixLimiter;
  /** Prefixes accepted (post-policy) and counted for the CLI. */
  received = 0;
  /** Bumped to cancel a stale sweep running in steps. */
  sweepToken = 0;
  /** Bumped to cancel a re-evaluation / copy drop running in steps. */
  jobToken = 0;
  /** Slot a route drop running in steps goes on from, -1 when none runs. */
  dropFrom = -1;
  /** Bumped to cancel the steps of a route drop (finishDrop ran the rest). */
  dropToken = 0;

  constructor(afi: number, adjIn: AdjRibIn, limit: PrefixLimit | undefined, clock: () => number) {
    this.afi = afi;
    this.adjIn = adjIn;
    this.rejectedV4 = afi === Afi.IPV4 ? new PrefixTableV4(64) : null;
    this.rejectedV6 = afi === Afi.IPV6 ? new PrefixTableV6(64) : null;
    this.limiter = new PrefixLimiter(limit, clock);
  }

  get rejected(): number {
    return (this.rejectedV4 ?? this.rejectedV6)!.size;
  }

  /** Everything received and still announced, accepted or not. */
  get total(): number {
    return this.adjIn.count + this.rejected;
  }

  clearRejected(): void {
    (this.rejectedV4 ?? this.rejectedV6)!.clear();
  }
}

export class LearnerPeer {
  readonly neighbor: Neighbor;
  readonly index: number;
  filter: ImportFilter;
  readonly families: Map<number, FamilyState>;
  /** Set when a prefix limit tore the session down, for display. */
  overflow: { afi: number; limit: number; at: number } | undefined = undefined;
  /** The peer's Graceful Restart capability in the last session that negotiated it. */
  grCap: GracefulRestartCapability | undefined = undefined;
  /** AFIs (unicast) of the last session. */
  grFamilies: number[] = [];
  /** Restart timer: runs while the session is down with stale routes kept. */
  restartTimer: unknown = undefined;
  /** clock() when the restart timer expires. */
  restartDeadline: number | undefined = undefined;
  /** Stale-path timer: bounds the wait for End-of-RIB after the session returned. */
  staleTimer: unknown = undefined;
  staleDeadline: number | undefined = undefined;
  /** The import policy in force (to tell a rule change from a softReconfiguration toggle). */
  policy: ImportPolicy | undefined;
  /** Pre-policy copies are kept (soft reconfiguration inbound). */
  softIn: boolean;
  /** Families whose routes are still being dropped in steps (see Learner.dropRoutes). */
  dropping = 0;

  constructor(neighbor: Neighbor, index: number, filter: ImportFilter, families: Map<number, FamilyState>, policy: ImportPolicy | undefined) {
    this.neighbor = neighbor;
    this.index = index;
    this.filter = filter;
    this.families = families;
    this.policy = policy;
    this.softIn = policy?.softReconfiguration === true;
  }

  family(afi: number): FamilyState | undefined {
    return this.families.get(afi);
  }
}

/** Why stale routes changed: marked on a graceful down, or removed for one of the other reasons. */
export type StaleEvent = 'marked' | 'end-of-rib' | 'restart-timer' | 'stale-timer' | 'not-preserved';

export interface LearnerEvents {
  prefixLimitWarning(peer: LearnerPeer, afi: number, count: number, max: number): void;
  prefixLimitExceeded(peer: LearnerPeer, afi: number, count: number, max: number): void;
  /** Graceful restart (helper): `count` routes were marked stale, or stale routes removed. */
  stale(peer: LearnerPeer, afi: number, event: StaleEvent, count: number): void;
  /** Routes changed outside an UPDATE (a stale sweep step): the FIB writer should run. */
  routesChanged(): void;
  /**
   * Soft reconfiguration: the stored pre-policy routes of one family were re-evaluated
   * under the current policy; `accepted` entered the Loc-RIB, `rejected` left it.
   */
  reevaluated(peer: LearnerPeer, afi: number, accepted: number, rejected: number): void;
}

/** What an import-policy change needs from the caller (InstanceRuntime). */
export type PolicyChange =
  /** Nothing received changes (or the copies were dropped). */
  | 'none'
  /** Re-evaluated from the pre-policy copies: nothing to ask the peer. */
  | 'reevaluated'
  /** No copies (or they just started): the routes must come again (route refresh or reset). */
  | 'refresh-needed';

/** Milliseconds of re-evaluation per event-loop turn. */
const JOB_STEP_MS = 8;
/**
 * Routes a session's end drops at once; more go in steps of JOB_STEP_MS (a full table
 * took 330-420 ms in one go, holding every other session and the API meanwhile).
 */
const DROP_AT_ONCE = 65536;
/** Slots per clearFrom call of a stepped drop (the deadline is checked between calls; at most sweepStep slots a step). */
const DROP_CHUNK = 4096;
/** Slots between two clock reads inside a step. */
const JOB_CHUNK = 256;

/** Timers and pacing of the helper role; injected by tests. */
export interface GracefulOptions {
  /** Seconds to wait for End-of-RIB after a restarted peer's session came back. */
  readonly stalePathTime: number;
  /** Slots swept per step (a step runs, then the event loop gets a turn). */
  readonly sweepStep: number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Runs the next sweep step later (setImmediate). */
  defer(fn: () => void): void;
}

/** FRR's default stalepath-time. */
export const STALE_PATH_TIME = 360;

const GRACEFUL_DEFAULTS: GracefulOptions = {
  stalePathTime: STALE_PATH_TIME,
  sweepStep: 16384,
  setTimer: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  defer: (fn) => void setImmediate(fn),
};

/** The helper state of one neighbour, for the API. */
export interface HelperStatus {
  /** restarting: session down, stale routes kept; waiting: session back, End-of-RIB awaited. */
  readonly phase: 'none' | 'restarting' | 'waiting';
  /** clock() when the restart timer (restarting) or the stale-path timer (waiting) fires. */
  readonly deadline: number | undefined;
  /** Stale prefixes per AFI. */
  readonly stale: { readonly afi: number; readonly count: number }[];
}

const NO_ATTRS: PathAttributes = emptyAttributes();

export class Learner implements RouteSink {
  readonly rib: Rib;
  readonly guards: ImportGuards;
  private readonly peers = new Map<Neighbor, LearnerPeer>();
  private readonly clock: () => number;
  private readonly events: Partial<LearnerEvents>;
  private readonly cursor = new NlriCursor();
  // Per-UPDATE state read by the decode closure (one closure for the learner's life).
  private cur: ParsedUpdate | null = null;
  private curCtx: UpdateContext | null = null;
  private fresh: PathAttributes | null = null;
  private readonly decode = (): PathAttributes | null => {
    const a = decodeAttributes(this.cur!, this.curCtx!);
    this.fresh = a;
    return a !== null && this.cur!.action < UpdateAction.TREAT_AS_WITHDRAW ? a : null;
  };
  /** Decision fields read from the wire for a new set (store.internFields), and whether they were just read. */
  private readonly fields = new DecisionFields();
  private freshFields = false;
  private readonly readFields = (): DecisionFields | null => {
    if (!readDecisionFields(this.cur!, this.curCtx!, this.localAs, this.fields)) return null;
    this.freshFields = true;
    return this.fields;
  };
  private readonly localAs: number;
  /**
   * Per attribute set id: 1 when its AS_PATH holds our own AS (RFC 4271 §9.1.2: such
   * a route is a loop and never used). Written when a set is first decoded; ids are
   * reused only through a new intern miss, which writes the flag again.
   */
  private loops = new Uint8Array(1024);
  /** Modified set per rule for the current UPDATE (ids to unref afterwards). */
  private readonly modIds = new Int32Array(256);
  private modUsed: number[] = [];
  /** A prefix limit ended the session while this UPDATE was processed. */
  private tornDown = false;
  private readonly gr: GracefulOptions;

  constructor(
    local: { asn: number; routerId: number; address?: string },
    guards: ImportGuards,
    opts: Partial<LocRibOptions> = {},
    events: Partial<LearnerEvents> = {},
    clock: () => number = Date.now,
    graceful: Partial<GracefulOptions> = {},
  ) {
    const address = local.address !== undefined ? parseAddress(local.address).bytes : Buffer.from([0, 0, 0, 0]);
    this.rib = new Rib({ address, bgpId: local.routerId, asn: local.asn, ebgp: false, localAs: local.asn }, opts);
    this.localAs = local.asn;
    this.guards = guards;
    this.events = events;
    this.clock = clock;
    this.gr = { ...GRACEFUL_DEFAULTS, ...graceful };
    this.modIds.fill(-1);
  }

  /** Registers a configured neighbour (before its session can come up). */
  addPeer(n: Neighbor, cfg: LearnerPeerConfig, localAs: number): LearnerPeer {
    const address = parseAddress(n.address).bytes;
    const index = this.rib.peers.add({
      address,
      bgpId: 0,
      asn: n.options.peerAs,
      ebgp: n.options.peerAs !== localAs,
      localAs,
    });
    const keep = cfg.importPolicy?.softReconfiguration === true;
    const fams = new Map<number, FamilyState>();
    for (const afi of [Afi.IPV4, Afi.IPV6]) {
      fams.set(afi, new FamilyState(afi, this.rib.adjRibIn(index, afi, keep), cfg.prefixLimits.get(afi), this.clock));
    }
    const p = new LearnerPeer(n, index, compileImportPolicy(cfg.importPolicy, this.guards), fams, cfg.importPolicy);
    this.peers.set(n, p);
    return p;
  }

  peer(n: Neighbor): LearnerPeer | undefined {
    return this.peers.get(n);
  }

  /** The neighbour with Loc-RIB peer index `index`. */
  peerAt(index: number): LearnerPeer | undefined {
    for (const p of this.peers.values()) if (p.index === index) return p;
    return undefined;
  }

  allPeers(): LearnerPeer[] {
    return [...this.peers.values()];
  }

  /** Forgets a neighbour (deconfigured): its routes leave the Loc-RIB. */
  removePeer(n: Neighbor): void {
    const p = this.peers.get(n);
    if (!p) return;
    this.stopTimers(p);
    this.dropRoutes(p);
    this.finishDrops(p); // the index goes away with the peer
    this.rib.peers.remove(p.index);
    this.peers.delete(n);
  }

  /**
   * A new import policy: later UPDATEs use it at once. With pre-policy copies the routes
   * received so far are re-evaluated from them, in steps ('reevaluated'); without, the
   * caller must have them sent again ('refresh-needed'). softReconfiguration turned on:
   * copies are kept from now on, and the routes must come again so the older ones get a
   * copy too; turned off: the copies are dropped (after a re-evaluation from them when
   * the rules changed as well).
   */
  setImportPolicy(n: Neighbor, policy: ImportPolicy | undefined): PolicyChange {
    const p = this.peers.get(n);
    if (!p) return 'none';
    const rulesChanged = !isDeepStrictEqual(withoutSoft(p.policy), withoutSoft(policy));
    const was = p.softIn;
    const now = policy?.softReconfiguration === true;
    p.policy = policy;
    p.filter = compileImportPolicy(policy, this.guards);
    p.softIn = now;
    if (was) {
      for (const f of p.families.values()) {
        if (now) {
          if (rulesChanged) this.startJob(p, f, 'reevaluate');
        } else this.startJob(p, f, rulesChanged ? 'reevaluate-drop' : 'drop');
      }
      return rulesChanged ? 'reevaluated' : 'none';
    }
    if (now) {
      for (const f of p.families.values()) {
        f.jobToken++; // a drop still running must not remove the new copies
        f.adjIn.keepPrePolicy = true;
      }
      return 'refresh-needed';
    }
    return rulesChanged ? 'refresh-needed' : 'none';
  }

  /**
   * Re-evaluates a neighbour's routes from its pre-policy copies under the current
   * policy (soft reset in without a route refresh). False when it keeps no copies.
   */
  reevaluate(n: Neighbor): boolean {
    const p = this.peers.get(n);
    if (!p || !p.softIn) return false;
    for (const f of p.families.values()) this.startJob(p, f, 'reevaluate');
    return true;
  }

  /** Whether the neighbour keeps pre-policy copies (soft reconfiguration inbound). */
  softReconfiguration(n: Neighbor): boolean {
    return this.peers.get(n)?.softIn === true;
  }

  /** Pre-policy copies held for a neighbour in one family. */
  prePolicyCount(n: Neighbor, afi: number): number {
    return this.peers.get(n)?.family(afi)?.adjIn.preCount ?? 0;
  }

  /** A new limit clears an overflow (the operator edited it) and re-checks the count. */
  setPrefixLimit(n: Neighbor, afi: number, limit: PrefixLimit | undefined): void {
    const f = this.peers.get(n)?.family(afi);
    if (!f) return;
    f.limiter.reconfigure(limit);
    this.peers.get(n)!.overflow = undefined;
  }

  /** May the session of `n` start (false while a prefix-limit overflow holds it down)? */
  canStart(n: Neighbor): boolean {
    const p = this.peers.get(n);
    if (!p) return true;
    for (const f of p.families.values()) if (!f.limiter.canStart(this.clock())) return false;
    return true;
  }

  // ---------------------------------------------------------------------------
  // RouteSink

  update(n: Neighbor, p: ParsedUpdate, ctx: UpdateContext): void {
    const peer = this.peers.get(n);
    if (!peer) return;
    if (peer.dropping > 0) this.finishDrops(peer); // the old routes go before new ones come
    this.tornDown = false;
    this.refreshPeerInfo(peer);
    const c = this.cursor;
    // Withdrawals first (RFC 4271 §9: an UPDATE withdraws, then announces).
    if (p.withdrawnEnd > p.withdrawnStart) this.withdrawRange(peer, Afi.IPV4, p.buf, p.withdrawnStart, p.withdrawnEnd, p.classicAddPath);
    const un = p.mpUnreach;
    if (un !== null && un.supported) this.withdrawRange(peer, un.afi, p.buf, un.nlriStart, un.nlriEnd, un.addPath);

    const reach = p.mpReach;
    const hasNlri = p.nlriEnd > p.nlriStart || (reach !== null && reach.supported && reach.count > 0);
    if (!hasNlri) return;
    if (p.action >= UpdateAction.TREAT_AS_WITHDRAW) {
      // RFC 7606 treat-as-withdraw: every announced prefix of this UPDATE is withdrawn.
      this.withdrawRange(peer, Afi.IPV4, p.buf, p.nlriStart, p.nlriEnd, p.classicAddPath);
      if (reach !== null && reach.supported) this.withdrawRange(peer, reach.afi, p.buf, reach.nlriStart, reach.nlriEnd, reach.addPath);
      return;
    }
    const store = this.rib.store;
    this.cur = p;
    this.curCtx = ctx;
    this.fresh = null;
    // A policy that reads attributes needs the decoded set: decode it now, once.
    const id = peer.filter.usesAttributes
      ? store.intern(p.attrKey, p.attrHash, this.decode, store.contextTag(ctx))
      : store.internFields(p.attrKey, p.attrHash, store.contextTag(ctx), this.readFields, p.buf, this.decode);
    this.cur = null;
    if (id < 0) {
      // Decoding found treat-as-withdraw.
      this.withdrawRange(peer, Afi.IPV4, p.buf, p.nlriStart, p.nlriEnd, p.classicAddPath);
      if (reach !== null && reach.supported) this.withdrawRange(peer, reach.afi, p.buf, reach.nlriStart, reach.nlriEnd, reach.addPath);
      return;
    }
    if (this.fresh !== null) this.noteLoop(id, this.fresh);
    else if (this.freshFields) this.setLoop(id, this.fields.loop ? 1 : 0);
    this.freshFields = false;
    const loop = this.loops[id] === 1;
    const attrs = peer.filter.usesAttributes && !loop ? (this.fresh ?? store.get(id)) : NO_ATTRS;
    this.fresh = null;
    if (p.nlriEnd > p.nlriStart) {
      this.announceRange(peer, Afi.IPV4, c.reset(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, p.classicAddPath), id, attrs, loop);
    }
    // A prefix limit may have torn the session down: learn nothing more from it.
    if (reach !== null && reach.supported && reach.count > 0 && !this.tornDown) {
      this.announceRange(peer, reach.afi, c.reset(p.buf, reach.nlriStart, reach.nlriEnd, reach.afi, reach.addPath), id, attrs, loop);
    }
    store.unref(id);
    for (const rule of this.modUsed) {
      store.unref(this.modIds[rule]!);
      this.modIds[rule] = -1;
    }
    this.modUsed.length = 0;
  }

  peerUp(n: Neighbor, neg: Negotiated): void {
    const p = this.peers.get(n);
    if (!p) return;
    this.finishDrops(p);
    this.clearRestartTimer(p);
    const cap = neg.gracefulRestart ? neg.peerGracefulRestart : undefined;
    const afis = neg.families.filter((f) => f.safi === Safi.UNICAST).map((f) => f.afi);
    p.grCap = cap;
    p.grFamilies = afis;
    let waiting = false;
    for (const f of p.families.values()) {
      if (f.adjIn.staleCount === 0) continue;
      // RFC 4724 §4.2: stale routes survive only with the capability, the family in it
      // and its F bit (forwarding state preserved) in the new session.
      const kept = cap !== undefined && afis.includes(f.afi) && cap.families.some((g) => g.afi === f.afi && g.safi === Safi.UNICAST && g.forwardingState);
      if (kept) waiting = true;
      else this.sweep(p, f, 'not-preserved');
    }
    if (waiting && p.staleTimer === undefined) {
      p.staleDeadline = this.clock() + this.gr.stalePathTime * 1000;
      p.staleTimer = this.gr.setTimer(() => this.staleTimerExpired(p), this.gr.stalePathTime * 1000);
    }
  }

  peerDown(n: Neighbor, graceful: boolean): void {
    const p = this.peers.get(n);
    if (!p) return;
    for (const f of p.families.values()) f.limiter.reset();
    this.finishDrops(p);
    const cap = p.grCap;
    // Graceful restart (helper) keeps the routes of the families in the peer's
    // capability, stale, until End-of-RIB or a timer. Without it, drop them now.
    if (!graceful || cap === undefined || cap.restartTime === 0) {
      this.stopTimers(p);
      this.dropRoutes(p);
      return;
    }
    this.clearStaleTimer(p);
    for (const f of p.families.values()) {
      f.sweepToken++; // a sweep still running belongs to the last round
      const kept = p.grFamilies.includes(f.afi) && cap.families.some((g) => g.afi === f.afi && g.safi === Safi.UNICAST);
      f.clearRejected();
      if (!kept) {
        f.adjIn.clear();
        continue;
      }
      // Consecutive restarts: routes re-learned since the last down are stale again.
      const marked = f.adjIn.markStale();
      if (marked > 0) this.events.stale?.(p, f.afi, 'marked', marked);
    }
    this.clearRestartTimer(p);
    p.restartDeadline = this.clock() + cap.restartTime * 1000;
    p.restartTimer = this.gr.setTimer(() => this.restartTimerExpired(p), cap.restartTime * 1000);
  }

  endOfRib(n: Neighbor, afi: number, safi: number): void {
    const p = this.peers.get(n);
    const f = p?.family(afi);
    if (!p || !f || safi !== Safi.UNICAST) return;
    if (f.adjIn.staleCount > 0) this.sweep(p, f, 'end-of-rib');
    this.maybeDone(p);
  }

  /** The helper state of a neighbour (graceful restart), for the API. */
  helperStatus(n: Neighbor): HelperStatus {
    const p = this.peers.get(n);
    if (!p) return { phase: 'none', deadline: undefined, stale: [] };
    const stale = [...p.families.values()].map((f) => ({ afi: f.afi, count: f.adjIn.staleCount }));
    if (p.restartTimer !== undefined) return { phase: 'restarting', deadline: p.restartDeadline, stale };
    if (p.staleTimer !== undefined) return { phase: 'waiting', deadline: p.staleDeadline, stale };
    return { phase: 'none', deadline: undefined, stale };
  }

  /** Stale prefixes of a neighbour in one family (0 when none). */
  staleCount(n: Neighbor, afi: number): number {
    return this.peers.get(n)?.family(afi)?.adjIn.staleCount ?? 0;
  }

  /** Cancels every timer (the instance is stopping). */
  close(): void {
    for (const p of this.peers.values()) {
      this.stopTimers(p);
      for (const f of p.families.values()) {
        f.sweepToken++;
        f.jobToken++;
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Soft reconfiguration inbound

  /**
   * Walks one family's slots in time-boxed steps: re-evaluates the peer's pre-policy
   * copies, or drops them, or both (re-evaluate, then drop). A new job cancels the last.
   */
  private startJob(p: LearnerPeer, f: FamilyState, mode: 'reevaluate' | 'drop' | 'reevaluate-drop'): void {
    this.finishDrops(p);
    const token = ++f.jobToken;
    const reeval = mode !== 'drop';
    // Copies stay current while they are read; dropping starts with no new copies.
    f.adjIn.keepPrePolicy = reeval;
    const counts = { accepted: 0, rejected: 0 };
    const step = (from: number): void => {
      if (f.jobToken !== token) return;
      const deadline = performance.now() + JOB_STEP_MS;
      const last = from + this.gr.sweepStep;
      let s = from;
      while (s >= 0 && s < last) {
        const n = Math.min(JOB_CHUNK, last - s);
        s = reeval ? this.reevaluateFrom(p, f, s, n, counts) : f.adjIn.dropPrePolicyFrom(s, n);
        if (performance.now() >= deadline) break;
      }
      // Counts (received, before policy) do not move: the prefix limit has nothing to see.
      if (reeval) this.events.routesChanged?.();
      if (s >= 0) {
        this.gr.defer(() => step(s));
        return;
      }
      if (reeval) this.events.reevaluated?.(p, f.afi, counts.accepted, counts.rejected);
      if (mode === 'reevaluate-drop') this.startJob(p, f, 'drop');
    };
    step(0);
  }

  /** Re-evaluates the peer's copies in up to `max` slots from `from`; returns where to go on, or -1. */
  private reevaluateFrom(p: LearnerPeer, f: FamilyState, from: number, max: number, counts: { accepted: number; rejected: number }): number {
    const adj = f.adjIn;
    const rib = adj.rib;
    const store = this.rib.store;
    const filter = p.filter;
    const peer = p.index;
    const v4 = rib.v4;
    const v6 = rib.v6;
    const limit = rib.table.slotLimit;
    const end = Math.min(limit, from + max);
    for (let s = from; s < end; s++) {
      for (let e = rib.firstPrePolicy(s); e >= 0; e = rib.nextPath(e)) {
        if (rib.pathPeer(e) !== peer) continue;
        const raw = rib.pathAttr(e);
        const pathId = rib.pathId(e);
        const loop = raw < this.loops.length && this.loops[raw] === 1;
        const attrs = filter.usesAttributes && !loop ? store.get(raw) : NO_ATTRS;
        let post = -1;
        let mod = -1;
        if (v4 !== null) {
          const addr = v4.addrOf(s);
          const len = v4.prefixLength(s);
          const v = loop ? null : filter.evaluate(Afi.IPV4, addr, 0, 0, 0, len, attrs, raw);
          if (v !== null && v.accepted) {
            post = raw;
            mod = v.modId;
            if (f.rejectedV4!.size > 0) f.rejectedV4!.delete(addr, len);
          } else f.rejectedV4!.insert(addr, len);
        } else {
          const w0 = v6!.word(s, 0);
          const w1 = v6!.word(s, 1);
          const w2 = v6!.word(s, 2);
          const w3 = v6!.word(s, 3);
          const len = v6!.prefixLength(s);
          const v = loop ? null : filter.evaluate(Afi.IPV6, w0, w1, w2, w3, len, attrs, raw);
          if (v !== null && v.accepted) {
            post = raw;
            mod = v.modId;
            if (f.rejectedV6!.size > 0) f.rejectedV6!.delete(w0, w1, w2, w3, len);
          } else f.rejectedV6!.insert(w0, w1, w2, w3, len);
        }
        // A modified set is interned per route here (no per-UPDATE sharing); the path holds it.
        if (mod >= 0) post = store.internModified(raw, filter.modification(mod));
        const c = adj.reapply(s, pathId, post);
        if (mod >= 0) store.unref(post);
        if (c === RibChange.ADDED) counts.accepted++;
        else if (c === RibChange.REMOVED) counts.rejected++;
      }
    }
    return end >= limit ? -1 : end;
  }

  // ---------------------------------------------------------------------------
  // Graceful restart (helper)

  private restartTimerExpired(p: LearnerPeer): void {
    p.restartTimer = undefined;
    p.restartDeadline = undefined;
    // The peer did not come back in time: everything kept is stale, and goes.
    for (const f of p.families.values()) if (f.adjIn.staleCount > 0) this.sweep(p, f, 'restart-timer');
  }

  private staleTimerExpired(p: LearnerPeer): void {
    p.staleTimer = undefined;
    p.staleDeadline = undefined;
    for (const f of p.families.values()) if (f.adjIn.staleCount > 0) this.sweep(p, f, 'stale-timer');
  }

  /** Removes what is still stale in one family, in steps of `sweepStep` slots. */
  private sweep(p: LearnerPeer, f: FamilyState, why: StaleEvent): void {
    const token = ++f.sweepToken;
    const before = f.adjIn.count;
    const step = (from: number): void => {
      if (f.sweepToken !== token) return;
      const next = f.adjIn.sweepStale(from, this.gr.sweepStep);
      f.limiter.set(f.total);
      this.events.routesChanged?.();
      if (next >= 0) {
        this.gr.defer(() => step(next));
        return;
      }
      this.events.stale?.(p, f.afi, why, before - f.adjIn.count);
      this.maybeDone(p);
    };
    step(0);
  }

  /** Nothing stale left: the stale-path timer has nothing to bound. */
  private maybeDone(p: LearnerPeer): void {
    for (const f of p.families.values()) if (f.adjIn.staleCount > 0) return;
    this.clearStaleTimer(p);
  }

  private clearRestartTimer(p: LearnerPeer): void {
    if (p.restartTimer !== undefined) this.gr.clearTimer(p.restartTimer);
    p.restartTimer = undefined;
    p.restartDeadline = undefined;
  }

  private clearStaleTimer(p: LearnerPeer): void {
    if (p.staleTimer !== undefined) this.gr.clearTimer(p.staleTimer);
    p.staleTimer = undefined;
    p.staleDeadline = undefined;
  }

  private stopTimers(p: LearnerPeer): void {
    this.clearRestartTimer(p);
    this.clearStaleTimer(p);
  }

  // ---------------------------------------------------------------------------

  private refreshPeerInfo(peer: LearnerPeer): void {
    const neg = peer.neighbor.peer.negotiated;
    if (!neg) return;
    const info = this.rib.peers.get(peer.index);
    if (info.bgpId === neg.peerBgpId && info.asn === neg.peerAs) return;
    this.rib.peers.set(peer.index, { ...info, bgpId: neg.peerBgpId, asn: neg.peerAs, ebgp: !neg.internal });
  }

  /**
   * Drops every route of the peer: at once when there are few, else in steps on later
   * turns of the event loop. Until a stepped drop is done the peer must not announce
   * again under its index: update(), peerUp() and the jobs finish it first.
   */
  private dropRoutes(p: LearnerPeer): void {
    for (const f of p.families.values()) {
      f.sweepToken++;
      // Nothing is left to re-evaluate or drop; a cancelled re-evaluate-then-drop must
      // not leave copies switched on.
      f.jobToken++;
      f.adjIn.keepPrePolicy = p.softIn;
      f.clearRejected();
      if (f.dropFrom >= 0) continue; // a stepped drop already runs, and covers everything
      if (f.adjIn.count + f.adjIn.preCount <= DROP_AT_ONCE) {
        f.adjIn.clearFrom(0, Infinity);
        continue;
      }
      f.dropFrom = 0;
      p.dropping++;
      this.dropStep(p, f, ++f.dropToken);
    }
  }

  private dropStep(p: LearnerPeer, f: FamilyState, token: number): void {
    if (f.dropToken !== token) return;
    const deadline = performance.now() + JOB_STEP_MS;
    const last = f.dropFrom + this.gr.sweepStep;
    let s = f.dropFrom;
    while (s >= 0 && s < last && performance.now() < deadline) s = f.adjIn.clearFrom(s, Math.min(DROP_CHUNK, last - s));
    f.dropFrom = s;
    if (s < 0) p.dropping--;
    this.events.routesChanged?.();
    if (s >= 0) this.gr.defer(() => this.dropStep(p, f, token));
  }

  /** Runs what is left of a stepped drop at once (its later steps are cancelled). */
  private finishDrop(p: LearnerPeer, f: FamilyState): void {
    if (f.dropFrom < 0) return;
    f.dropToken++;
    f.adjIn.clearFrom(f.dropFrom, Infinity);
    f.dropFrom = -1;
    p.dropping--;
    this.events.routesChanged?.();
  }

  private finishDrops(p: LearnerPeer): void {
    if (p.dropping === 0) return;
    for (const f of p.families.values()) this.finishDrop(p, f);
  }

  private noteLoop(id: number, a: PathAttributes): void {
    let loop = 0;
    for (const seg of a.asPath) if (seg.asns.includes(this.localAs)) loop = 1;
    this.setLoop(id, loop);
  }

  private setLoop(id: number, loop: number): void {
    if (id >= this.loops.length) {
      const grown = new Uint8Array(Math.max(id + 1, this.loops.length * 2));
      grown.set(this.loops);
      this.loops = grown;
    }
    this.loops[id] = loop;
  }

  /** Received and counted, but never used: policy rejects it, or (`loop`) our own AS is in its path. */
  private announceRange(peer: LearnerPeer, afi: number, c: NlriCursor, id: number, attrs: PathAttributes, loop: boolean): void {
    const f = peer.family(afi);
    if (!f) return;
    const filter = peer.filter;
    const before = f.total;
    if (afi === Afi.IPV4) {
      const rej = f.rejectedV4!;
      while (c.next()) {
        const v = loop ? null : filter.evaluate(afi, c.addr, 0, 0, 0, c.length, attrs, id);
        if (v !== null && v.accepted) {
          if (rej.size > 0) rej.delete(c.addr, c.length);
          f.adjIn.announceV4(c.addr, c.length, c.pathId, v.modId < 0 ? id : this.modified(id, peer, v.modId), id);
        } else {
          f.adjIn.announceV4(c.addr, c.length, c.pathId, -1, id);
          rej.insert(c.addr, c.length);
        }
      }
    } else {
      const rej = f.rejectedV6!;
      while (c.next()) {
        const v = loop ? null : filter.evaluate(afi, c.w0, c.w1, c.w2, c.w3, c.length, attrs, id);
        if (v !== null && v.accepted) {
          if (rej.size > 0) rej.delete(c.w0, c.w1, c.w2, c.w3, c.length);
          f.adjIn.announceV6(c.w0, c.w1, c.w2, c.w3, c.length, c.pathId, v.modId < 0 ? id : this.modified(id, peer, v.modId), id);
        } else {
          f.adjIn.announceV6(c.w0, c.w1, c.w2, c.w3, c.length, c.pathId, -1, id);
          rej.insert(c.w0, c.w1, c.w2, c.w3, c.length);
        }
      }
    }
    if (f.total !== before) this.checkLimit(peer, f);
  }

  private withdrawRange(peer: LearnerPeer, afi: number, buf: Buffer, start: number, end: number, addPath: boolean): void {
    const f = peer.family(afi);
    if (!f || end <= start) return;
    const c = this.cursor.reset(buf, start, end, afi, addPath);
    if (afi === Afi.IPV4) {
      const rej = f.rejectedV4!;
      while (c.next()) {
        f.adjIn.withdrawV4(c.addr, c.length, c.pathId);
        if (rej.size > 0) rej.delete(c.addr, c.length);
      }
    } else {
      const rej = f.rejectedV6!;
      while (c.next()) {
        f.adjIn.withdrawV6(c.w0, c.w1, c.w2, c.w3, c.length, c.pathId);
        if (rej.size > 0) rej.delete(c.w0, c.w1, c.w2, c.w3, c.length);
      }
    }
    f.limiter.set(f.total);
  }

  /** The policy-modified set for (id, rule), interned once per UPDATE. */
  private modified(id: number, peer: LearnerPeer, rule: number): number {
    let m = this.modIds[rule]!;
    if (m < 0) {
      m = this.rib.store.internModified(id, peer.filter.modification(rule));
      this.modIds[rule] = m;
      this.modUsed.push(rule);
    }
    return m;
  }

  private checkLimit(peer: LearnerPeer, f: FamilyState): void {
    const count = f.total;
    const r = f.limiter.set(count);
    if (r === 'none') return;
    const max = f.limiter.maxPrefixes ?? 0;
    if (r === 'warning') {
      this.events.prefixLimitWarning?.(peer, f.afi, count, max);
      return;
    }
    // Exceeded: Cease/1 with AFI/SAFI/limit (RFC 4486), routes dropped, the session
    // held down until the restart timer (or an operator) lets it start again.
    peer.overflow = { afi: f.afi, limit: max, at: this.clock() };
    this.tornDown = true;
    this.events.prefixLimitExceeded?.(peer, f.afi, count, max);
    const n = maxPrefixNotification(f.afi, 1, max);
    const restartAfter = f.limiter.restartAt === undefined ? undefined : Math.max(1, (f.limiter.restartAt - this.clock()) / 1000);
    peer.neighbor.peer.automaticStop(n.subcode, n.data, restartAfter);
    this.dropRoutes(peer);
  }
}

/** The policy without its softReconfiguration flag: what decides the verdicts. */
function withoutSoft(p: ImportPolicy | undefined): unknown {
  if (p === undefined) return undefined;
  const { softReconfiguration: _ignored, ...rest } = p;
  return rest;
}
