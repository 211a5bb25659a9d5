/**
 * One running BGP instance (Cilium virtual router / bgpInstance): its speaker, its
 * RIB with import policy and prefix limits (Learner), and its FIB writer. Built from
 * config/model.ts `Instance`, changed in place by `applyPeer` for peer-level changes;
 * an instance-level change (ASN, router ID, listen port, route install) rebuilds it.
 */
import { EventEmitter } from 'node:events';
import { AFI_NUMBER, type Advertisement, type Instance, type Peer as PeerConfig, type PrefixLimit } from '../config/model.js';
import type { ChangeEffect } from '../config/diff.js';
import { ImportGuards } from '../policy/guards.js';
import { bgpIdFromString } from '../wire/open.js';
import { encodeRouteRefresh } from '../wire/route-refresh.js';
import { Afi, Safi } from '../wire/iana.js';
import type { FibBackend } from '../fib/backend.js';
import type { DownReason, FsmStateName } from '../session/fsm.js';
import { Speaker, type LocalRouteSpec, type Neighbor, type NeighborOptions } from './speaker.js';
import { Learner, type LearnerPeer } from './learner.js';
import { FibSync } from './fib-sync.js';

export interface InstanceEvents {
  state: [neighbor: Neighbor, to: FsmStateName, from: FsmStateName];
  down: [neighbor: Neighbor, reason: DownReason];
  prefixLimit: [peer: LearnerPeer, afi: number, kind: 'warning' | 'overflow', count: number, max: number];
}

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
    if (config.routeInstall.enabled && fibFactory) this.fib = fibFactory(config.routeInstall);
  }

  async start(): Promise<void> {
    if (this.fib) {
      await this.fib.start();
      this.fibSync = new FibSync(this.learner.rib, this.fib, this.config.routeInstall.maxPaths);
      this.fib.on('address', this.onFibAddress);
      this.fib.on('link', this.onFibAddress);
    }
    this.refreshConnected();
    this.guards.setOwn(this.config.advertisements.map((a) => a.prefix));
    await this.speaker.start();
    for (const p of this.config.peers) this.addPeer(p);
    // Adopted routes of a previous run are deleted once the sessions had a chance to
    // bring them back (the FIB keeps them meanwhile, so a restart does not blackhole).
    if (this.fib) setTimeout(() => this.fib?.reconcile(), 1000 * this.reconcileDelay()).unref();
  }

  async stop(keepRoutes = false): Promise<void> {
    await this.speaker.stop();
    this.fibSync?.stop();
    if (this.fib) {
      this.fib.off('address', this.onFibAddress);
      this.fib.off('link', this.onFibAddress);
      await this.fib.stop({ keep: keepRoutes });
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
      case 'soft-reset-in':
        before.config = cfg;
        this.learner.setImportPolicy(before.neighbor, cfg.importPolicy);
        this.refreshIn(before.neighbor);
        return;
      case 'soft-reset-out':
      case 'hot':
        before.config = cfg;
        for (const f of cfg.families) this.learner.setPrefixLimit(before.neighbor, AFI_NUMBER[f.afi], f.prefixLimit);
        this.advertise(before);
        return;
    }
  }

  /** Asks the peer to send its routes again (RFC 2918), e.g. after an import policy change. */
  refreshIn(n: Neighbor): boolean {
    const neg = n.peer.negotiated;
    if (!neg || !neg.routeRefresh) return false;
    for (const f of neg.families) n.peer.sendRaw(encodeRouteRefresh(f.afi, f.safi));
    return true;
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
      families,
      ...(cfg.localAddress !== undefined ? { localAddress: cfg.localAddress } : {}),
      ...(cfg.md5Password !== undefined ? { md5Password: cfg.md5Password.reveal() } : {}),
      ...(cfg.gracefulRestart.enabled ? { gracefulRestart: { restartTime: cfg.gracefulRestart.restartTime } } : {}),
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
