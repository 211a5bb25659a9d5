/**
 * One running BGP instance (Cilium virtual router / bgpInstance): its speaker, its
 * RIB with import policy and prefix limits (Learner), and its FIB writer. Built from
 * config/model.ts `Instance`, changed in place by `applyPeer` for peer-level changes;
 * an instance-level change (ASN, router ID, listen port, route install) rebuilds it.
 */
import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import { AFI_NUMBER, type Advertisement, type Instance, type Peer as PeerConfig, type PrefixLimit } from '../config/model.js';
import type { ChangeEffect } from '../config/diff.js';
import { ImportGuards } from '../policy/guards.js';
import { bgpIdFromString } from '../wire/open.js';
import { encodeRouteRefresh } from '../wire/route-refresh.js';
import { Afi, CeaseSubcode, Safi } from '../wire/iana.js';
import type { FibBackend } from '../fib/backend.js';
import type { DownReason, FsmStateName } from '../session/fsm.js';
import { Speaker, type LocalRouteSpec, type Neighbor, type NeighborOptions } from './speaker.js';
import { Learner, type LearnerPeer, type StaleEvent } from './learner.js';
import { FibSync } from './fib-sync.js';

export interface InstanceEvents {
  state: [neighbor: Neighbor, to: FsmStateName, from: FsmStateName];
  down: [neighbor: Neighbor, reason: DownReason];
  prefixLimit: [peer: LearnerPeer, afi: number, kind: 'warning' | 'overflow', count: number, max: number];
  /** Graceful restart, helper role: stale routes of a peer marked or removed. */
  stale: [peer: LearnerPeer, afi: number, event: StaleEvent, count: number];
  /**
   * Graceful restart, restarting role: the start-up window is over (every peer sent
   * End-of-RIB, or the restart time passed); adopted kernel routes not re-learned go.
   */
  restartComplete: [reason: 'end-of-rib' | 'timer'];
  /**
   * How an import-policy change (or a soft reset in) reached the routes already
   * received: re-evaluated from the pre-policy copies, a route refresh asked for, the
   * session reset (Cease/Other Configuration Change: no route refresh, no copies), or
   * nothing to do. `why` is for the log.
   */
  inboundPolicy: [neighbor: Neighbor, action: InboundPolicyAction, why: string];
  /** Soft reconfiguration: a re-evaluation from the copies finished for one family. */
  reevaluated: [peer: LearnerPeer, afi: number, accepted: number, rejected: number];
}

export type InboundPolicyAction = 'reevaluated' | 'route-refresh' | 'session-reset' | 'none';

/** Builds the FIB backend for an instance's routeInstall settings (kernel or memory). */
export type FibFactory = (ri: Instance['routeInstall']) => FibBackend;

export interface RunningPeer {
  config: PeerConfig;
  neighbor: Neighbor;
  /** An operator shut it down (`tsbgp neighbor X shutdown`) until `enable`. */
  adminDown: boolean;
  /** performance.now() when it was configured or left Established. */
  since: number;
  lastError: { direction: 'sent' | 'received' | null; code: number | null; subcode: number | null; text: string; at: number } | null;
}

export class InstanceRuntime extends EventEmitter<InstanceEvents> {
  config: Instance;
  readonly speaker: Speaker;
  readonly learner: Learner;
  readonly fib: FibBackend | undefined;
  private fibSync: FibSync | undefined;
  readonly peers = new Map<string, RunningPeer>();
  private readonly guards = new ImportGuards();
  private readonly onFibAddress = (): void => this.refreshConnected();
  /**
   * Restarting speaker (RFC 4724 §4.1): true from start until every peer sent
   * End-of-RIB or the restart time passed. Kernel routes adopted from the previous run
   * are kept meanwhile (the FIB holds them until reconcile()).
   */
  private startup = true;
  /** This start found our routes in the kernel (a restart, not a fresh boot). */
  private restarting = false;
  /** Per peer during the start-up window: families still owing End-of-RIB, and when it came up. */
  private readonly eorPending = new Map<Neighbor, { families: Set<number>; graceful: boolean; at: number }>();
  private startupTimer: NodeJS.Timeout | undefined;
  private startupPoll: NodeJS.Timeout | undefined;
  private startedAt = 0;
  /** Our routes the FIB found in the kernel at start. */
  private adopted = 0;

  constructor(config: Instance, fibFactory: FibFactory | undefined) {
    super();
    this.config = config;
    const routerId = bgpIdFromString(config.routerId) ?? 0;
    this.learner = new Learner(
      { asn: config.localAsn, routerId },
      this.guards,
      { maxPaths: config.routeInstall.maxPaths, alwaysCompareMed: config.alwaysCompareMed },
      {
        prefixLimitWarning: (p, afi, count, max) => this.emit('prefixLimit', p, afi, 'warning', count, max),
        prefixLimitExceeded: (p, afi, count, max) => this.emit('prefixLimit', p, afi, 'overflow', count, max),
        stale: (p, afi, event, count) => this.emit('stale', p, afi, event, count),
        routesChanged: () => this.fibSync?.schedule(),
        reevaluated: (p, afi, accepted, rejected) => this.emit('reevaluated', p, afi, accepted, rejected),
      },
    );
    this.speaker = new Speaker(
      {
        localAs: config.localAsn,
        routerId: config.routerId,
        ...(config.listenPort !== undefined ? { listen: { address: '::', port: config.listenPort } } : {}),
      },
      this.learner,
    );
    // Each UPDATE may change best paths: let the FIB writer catch up soon after.
    this.speaker.on('updateProcessed', () => this.fibSync?.schedule());
    this.speaker.on('state', (n, to, from) => this.onState(n, to, from));
    this.speaker.on('down', (n, reason) => {
      this.fibSync?.schedule();
      this.emit('down', n, reason);
    });
    this.speaker.on('established', (n, neg) => {
      // The session's local address is known now: link-local next hops of this peer
      // resolve through its interface.
      if (this.fibSync?.resolveNextHops()) this.fibSync.schedule();
      if (this.startup) {
        this.eorPending.set(n, { families: new Set(neg.families.map((f) => f.afi)), graceful: neg.gracefulRestart, at: performance.now() });
      }
    });
    this.speaker.on('endOfRib', (n, afi) => this.onEndOfRib(n, afi));
    if (config.routeInstall.enabled && fibFactory) this.fib = fibFactory(config.routeInstall);
  }

  async start(): Promise<void> {
    if (this.fib) {
      await this.fib.start();
      this.fibSync = new FibSync(this.learner.rib, this.fib, this.config.routeInstall.maxPaths);
      this.fibSync.sessionAddress = (index) => this.learner.peerAt(index)?.neighbor.peer.localAddress;
      this.fib.on('address', this.onFibAddress);
      this.fib.on('link', this.onFibAddress);
    }
    this.refreshConnected();
    this.guards.setOwn(this.config.advertisements.map((a) => a.prefix));
    // Our routes found in the kernel mean a restart (upgrade, crash) rather than a boot:
    // announce the Restart State bit while the start-up window lasts.
    this.adopted = this.fib?.stats().adopted ?? 0;
    this.restarting = this.adopted > 0 && this.gracefulRestartEnabled;
    await this.speaker.start();
    for (const p of this.config.peers) this.addPeer(p);
    // Adopted routes of a previous run are deleted once the sessions had a chance to
    // bring them back (the FIB keeps them meanwhile, so a restart does not blackhole):
    // when every peer sent End-of-RIB, at the latest after the restart time.
    this.startedAt = performance.now();
    this.startupTimer = setTimeout(() => this.finishStartup('timer'), 1000 * this.reconcileDelay());
    this.startupTimer.unref();
    // Peers without graceful restart may never send End-of-RIB: re-check now and then.
    this.startupPoll = setInterval(() => this.checkStartup(), 500);
    this.startupPoll.unref();
  }

  /** Some peer has graceful restart enabled. */
  get gracefulRestartEnabled(): boolean {
    return this.config.peers.some((p) => p.gracefulRestart.enabled);
  }

  /** In the start-up window, and this start is a restart (R bit announced). */
  get restartInProgress(): boolean {
    return this.startup && this.restarting;
  }

  /**
   * Stops the instance. `keep` keeps our kernel routes, and with graceful
   * restart enabled closes the sessions so that the peers keep our routes too
   * (Speaker.stop graceful): tsbgpd is restarting (upgrade) and the next start adopts
   * the routes. Without it (reload removing the instance): Cease, routes deleted.
   */
  async stop(keep = false): Promise<void> {
    if (this.startupTimer) clearTimeout(this.startupTimer);
    if (this.startupPoll) clearInterval(this.startupPoll);
    this.startup = false;
    // Route drops caused by closing the sessions must not reach the kernel.
    if (keep) this.fibSync?.stop();
    await this.speaker.stop(keep ? 'tsbgp restarting' : undefined, keep && this.gracefulRestartEnabled);
    this.learner.close();
    this.fibSync?.stop();
    if (this.fib) {
      this.fib.off('address', this.onFibAddress);
      this.fib.off('link', this.onFibAddress);
      await this.fib.stop({ keep });
    }
  }

  /** Waits until every best-path change has been written to the kernel. */
  async settled(): Promise<void> {
    while (this.fibSync && !this.fibSync.idle) await new Promise((r) => setTimeout(r, 5));
    await this.fib?.flush();
  }

  // ---------------------------------------------------------------------------
  // Configuration changes

  /** Applies one planned peer change; `next` is the new instance config. */
  applyPeer(name: string, effect: ChangeEffect, next: Instance): void {
    const before = this.peers.get(name);
    const cfg = next.peers.find((p) => p.name === name);
    this.config = next;
    this.guards.setOwn(next.advertisements.map((a) => a.prefix));
    if (!cfg) {
      if (before) this.removePeer(name);
      return;
    }
    if (!before) {
      this.addPeer(cfg);
      return;
    }
    switch (effect) {
      case 'session-reset':
      case 'instance-restart':
        this.removePeer(name);
        this.addPeer(cfg);
        return;
      case 'soft-reset-in': {
        const prev = before.config;
        before.config = cfg;
        this.applyConnectRetry(before, prev);
        if (!isDeepStrictEqual(prev.importPolicy, cfg.importPolicy)) this.applyImportPolicy(before, prev);
        // Changes of lower rank folded into this one (planChanges keeps the highest).
        for (const f of cfg.families) {
          const old = prev.families.find((g) => g.afi === f.afi)?.prefixLimit;
          if (!isDeepStrictEqual(old, f.prefixLimit)) this.learner.setPrefixLimit(before.neighbor, AFI_NUMBER[f.afi], f.prefixLimit);
        }
        this.advertise(before);
        return;
      }
      case 'soft-reset-out':
      case 'hot': {
        const prev = before.config;
        before.config = cfg;
        this.applyConnectRetry(before, prev);
        // soft-reset-in has the same rank as soft-reset-out: an import-policy change may ride here.
        if (!isDeepStrictEqual(prev.importPolicy, cfg.importPolicy)) this.applyImportPolicy(before, prev);
        for (const f of cfg.families) this.learner.setPrefixLimit(before.neighbor, AFI_NUMBER[f.afi], f.prefixLimit);
        this.advertise(before);
        return;
      }
    }
  }

  /**
   * Soft reset in (the API's `softReset`): re-evaluates the received routes from their
   * pre-policy copies when the neighbour keeps them (no message to the peer), else asks
   * the peer to send them again (RFC 2918). False when neither is possible.
   */
  refreshIn(n: Neighbor): boolean {
    if (this.learner.reevaluate(n)) {
      this.emit('inboundPolicy', n, 'reevaluated', 'soft reset in: re-evaluated from the pre-policy copies');
      return true;
    }
    return this.sendRouteRefresh(n);
  }

  /** Sends ROUTE-REFRESH for every negotiated family; false when the session did not negotiate it. */
  private sendRouteRefresh(n: Neighbor): boolean {
    const neg = n.peer.negotiated;
    if (!neg || !neg.routeRefresh) return false;
    for (const f of neg.families) n.peer.sendRaw(encodeRouteRefresh(f.afi, f.safi));
    return true;
  }

  /** The running neighbour uses a changed ConnectRetryTime at once (not only after a reset). */
  private applyConnectRetry(rp: RunningPeer, prev: PeerConfig): void {
    if (prev.timers.connectRetry === rp.config.timers.connectRetry) return;
    rp.neighbor.peer.setConnectRetryTime(Math.min(rp.config.timers.connectRetry, 2_000_000));
  }

  /**
   * A new import policy for a running neighbour. With pre-policy copies the learner
   * re-evaluates them; otherwise the routes must come again: a route refresh when the
   * session negotiated it, else a session reset (Cease/6, RFC 4486), the only way to get
   * them under the new policy.
   */
  private applyImportPolicy(rp: RunningPeer, prev: PeerConfig): void {
    const n = rp.neighbor;
    const r = this.learner.setImportPolicy(n, rp.config.importPolicy);
    if (r === 'reevaluated') {
      this.emit('inboundPolicy', n, 'reevaluated', 'import policy changed: re-evaluated from the pre-policy copies');
      return;
    }
    if (r === 'none') {
      this.emit('inboundPolicy', n, 'none', 'soft reconfiguration turned off: pre-policy copies dropped');
      return;
    }
    const turnedOn = prev.importPolicy?.softReconfiguration !== true && rp.config.importPolicy?.softReconfiguration === true;
    const why = turnedOn ? 'soft reconfiguration turned on (routes received before have no pre-policy copy)' : 'import policy changed, no pre-policy copies';
    if (this.sendRouteRefresh(n)) {
      this.emit('inboundPolicy', n, 'route-refresh', `${why}: route refresh sent`);
      return;
    }
    if (n.peer.negotiated === undefined) {
      this.emit('inboundPolicy', n, 'none', `${why}; session not established: its routes will arrive under the new policy`);
      return;
    }
    n.peer.automaticStop(CeaseSubcode.OTHER_CONFIG_CHANGE, Buffer.alloc(0), 1);
    this.emit(
      'inboundPolicy',
      n,
      'session-reset',
      `${why}; the peer did not announce route refresh (RFC 2918): session reset with Cease/Other Configuration Change so the routes come again`,
    );
  }

  /** Sends our routes again (the Adj-RIB-Out) to a peer. */
  refreshOut(n: Neighbor): void {
    const rp = [...this.peers.values()].find((p) => p.neighbor === n);
    if (rp) this.speaker.setAdvertised(n.address, this.advertisementsFor(rp.config), true);
  }

  private addPeer(cfg: PeerConfig): void {
    const families = cfg.families.map((f) => ({ afi: AFI_NUMBER[f.afi], safi: Safi.UNICAST }));
    const opts: NeighborOptions = {
      address: cfg.address,
      port: cfg.port,
      peerAs: cfg.peerAsn,
      holdTime: cfg.timers.holdTime,
      keepaliveTime: cfg.timers.keepalive,
      connectRetryTime: Math.min(cfg.timers.connectRetry, 2_000_000),
      ebgpMultihopTtl: cfg.ebgpMultihopTtl,
      ...(cfg.ttlSecurityHops !== undefined ? { ttlSecurityHops: cfg.ttlSecurityHops } : {}),
      families,
      ...(cfg.localAddress !== undefined ? { localAddress: cfg.localAddress } : {}),
      ...(cfg.md5Password !== undefined ? { md5Password: cfg.md5Password.reveal() } : {}),
      ...(cfg.gracefulRestart.enabled
        ? {
            gracefulRestart: {
              restartTime: cfg.gracefulRestart.restartTime,
              restarting: this.restartInProgress,
              forwarding: () => this.forwardingPreserved,
            },
          }
        : {}),
    };
    const neighbor = this.speaker.createNeighbor(opts);
    const limits = new Map<number, PrefixLimit>();
    for (const f of cfg.families) if (f.prefixLimit) limits.set(AFI_NUMBER[f.afi], f.prefixLimit);
    this.learner.addPeer(neighbor, { importPolicy: cfg.importPolicy, prefixLimits: limits }, this.config.localAsn);
    const rp: RunningPeer = { config: cfg, neighbor, adminDown: false, since: performance.now(), lastError: null };
    this.peers.set(cfg.name, rp);
    neighbor.peer.on('notificationSent', (n, text) => {
      rp.lastError = { direction: 'sent', code: n.code, subcode: n.subcode, text, at: performance.now() };
    });
    neighbor.peer.on('notificationReceived', (n, text) => {
      rp.lastError = { direction: 'received', code: n.code, subcode: n.subcode, text, at: performance.now() };
    });
    this.speaker.setAdvertised(neighbor.address, this.advertisementsFor(cfg));
    neighbor.peer.start();
  }

  private removePeer(name: string): void {
    const rp = this.peers.get(name);
    if (!rp) return;
    this.peers.delete(name);
    this.speaker.removeNeighbor(rp.neighbor.address);
    this.learner.removePeer(rp.neighbor);
    this.fibSync?.schedule();
  }

  private advertise(rp: RunningPeer): void {
    this.speaker.setAdvertised(rp.neighbor.address, this.advertisementsFor(rp.config));
  }

  private advertisementsFor(peer: PeerConfig): LocalRouteSpec[] {
    return this.config.advertisements.filter((a) => a.peers.includes(peer.name)).map(toSpec);
  }

  private onState(n: Neighbor, to: FsmStateName, from: FsmStateName): void {
    const rp = [...this.peers.values()].find((p) => p.neighbor === n);
    if (rp && (from === 'Established' || to === 'Established')) rp.since = performance.now();
    if (rp && from === 'Established' && to !== 'Established' && (rp.lastError === null || performance.now() - rp.lastError.at > 1000)) {
      rp.lastError = { direction: null, code: null, subcode: null, text: 'connection lost', at: performance.now() };
    }
    this.emit('state', n, to, from);
  }

  /** Connected subnets are never learned (a route to the peer via the peer would loop). */
  private refreshConnected(): void {
    if (this.fib) this.guards.setConnected(this.fib.addresses().map((a) => a.subnet));
    if (this.fibSync?.resolveNextHops()) this.fibSync.schedule();
  }

  /**
   * The F bit (RFC 4724 §3): the forwarding state of every family survived the
   * restart. What we advertise (the node's own prefixes) is forwarded by the node
   * whether tsbgpd runs or not; what we learned is in the kernel only if the FIB
   * adopted it. So: false only during the start-up window of a start that found none
   * of our routes in the kernel (a boot, or the last run removed them), so that a
   * helper does not keep stale routes from an earlier incarnation. Per family would
   * need a per-family adopted count from the FIB; one count stands for both.
   */
  private get forwardingPreserved(): boolean {
    return !(this.startup && this.fib !== undefined && this.adopted === 0);
  }

  private onEndOfRib(n: Neighbor, afi: number): void {
    const pending = this.eorPending.get(n);
    if (!this.startup || !pending) return;
    pending.families.delete(afi);
    if (pending.families.size === 0) this.checkStartup();
  }

  /**
   * The start-up window ends early once every peer is done: a session with graceful
   * restart when it sent End-of-RIB for all its families (RFC 4724 §4.1; such a peer
   * not up yet is waited for until the restart time); any other peer when it sent
   * End-of-RIB, or 3 s after coming up (it may never send one), or, still down, 5 s
   * after our start (the delay tsbgp always gave sessions to bring routes back).
   */
  private checkStartup(): void {
    if (!this.startup) return;
    const now = performance.now();
    for (const rp of this.peers.values()) {
      if (rp.adminDown) continue;
      const p = this.eorPending.get(rp.neighbor);
      if (p === undefined) {
        if (rp.config.gracefulRestart.enabled || now - this.startedAt < 5000) return;
        continue;
      }
      if (p.families.size === 0) continue;
      if (p.graceful || now - p.at < 3000) return;
    }
    this.finishStartup('end-of-rib');
  }

  /** End of the start-up window: clear the R bit, then sweep unwanted adopted routes. */
  private finishStartup(reason: 'end-of-rib' | 'timer'): void {
    if (!this.startup) return;
    this.startup = false;
    if (this.startupTimer) clearTimeout(this.startupTimer);
    if (this.startupPoll) clearInterval(this.startupPoll);
    this.eorPending.clear();
    if (this.gracefulRestartEnabled) this.speaker.setRestartState(false, () => true);
    // Re-learned routes must reach the FIB (clearing their adopted mark) first, or the
    // reconcile would delete routes about to be written again.
    const reconcile = (): void => {
      if (this.fibSync && !this.fibSync.idle) {
        setTimeout(reconcile, 5).unref();
        return;
      }
      this.fib?.reconcile();
      this.emit('restartComplete', reason);
    };
    reconcile();
  }

  private reconcileDelay(): number {
    let max = 0;
    for (const p of this.config.peers) if (p.gracefulRestart.enabled) max = Math.max(max, p.gracefulRestart.restartTime);
    return Math.max(5, Math.min(max, 120));
  }

  // ---------------------------------------------------------------------------
  // Read access for the API

  runningPeer(address: string): RunningPeer | undefined {
    for (const p of this.peers.values()) if (p.neighbor.address === address) return p;
    return undefined;
  }

  get fibWriter(): FibSync | undefined {
    return this.fibSync;
  }
}

function toSpec(a: Advertisement): LocalRouteSpec {
  return {
    prefix: a.prefix,
    ...(a.communities.length ? { communities: a.communities } : {}),
    ...(a.largeCommunities.length ? { largeCommunities: a.largeCommunities.map((l) => [l[0], l[1], l[2]] as const) } : {}),
    ...(a.localPreference !== undefined ? { localPreference: a.localPreference } : {}),
  };
}

export const FAMILY_AFIS = [Afi.IPV4, Afi.IPV6] as const;
