/**
 * The BGP speaker: one local AS and router ID, an optional listener, and a set of
 * neighbours (session/peer.ts). It originates the node's own routes (pod CIDRs,
 * service IPs) to every neighbour and hands every received UPDATE to a RouteSink
 * (the RIB). A node agent never re-advertises what it learns, so the Adj-RIB-Out is
 * just the originated routes, rendered per session (eBGP prepends our AS, iBGP carries
 * LOCAL_PREF).
 *
 * Backpressure: every Adj-RIB-Out change of an Established neighbour is noted in its
 * OutQueue (prefix → what the peer was last sent) and sent from there in slices. When
 * the socket is over its high-water mark (Peer.sendUpdate returns false) nothing more is
 * written until 'drain'; changes made meanwhile merge into the same entries, so a peer
 * that stops reading costs one socket buffer plus a map no larger than its Adj-RIB-Out
 * (before and after), however many reloads happen.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { buildCapabilities } from '../wire/capabilities.js';
import { BgpError, UpdateAction } from '../wire/errors.js';
import { Afi, RouteRefreshSubtype, Safi } from '../wire/iana.js';
import { encodeRouteRefresh, type RouteRefreshMessage } from '../wire/route-refresh.js';
import { bgpIdFromString } from '../wire/open.js';
import type { AfiSafi, GracefulRestartCapability } from '../wire/open-types.js';
import type { PathAttributes } from '../wire/attrs/types.js';
import { familyBit, locateUpdate, ParsedUpdate, updateContext, type UpdateContext } from '../wire/update.js';
import { encodeContext, encodeEndOfRib, packUpdates, packWithdrawals, PrefixBatch } from '../wire/update-encoder.js';
import type { Negotiated, DownReason, FsmStateName } from '../session/fsm.js';
import { DEFAULT_TIMERS } from '../session/fsm.js';
import { Peer, type PeerOptions } from '../session/peer.js';
import { BgpListener, normaliseAddress, ipFamily } from '../session/transport.js';
import { attributesFor, canonicalPrefix, LocalRoute, type LocalRouteSpec } from './originate.js';

export { LocalRoute, type LocalRouteSpec } from './originate.js';

export interface SpeakerOptions {
  readonly localAs: number;
  /** Dotted quad. */
  readonly routerId: string;
  /** Where to accept connections; undefined = do not listen (Cilium's localPort unset). */
  readonly listen?: { readonly address: string; readonly port: number };
}

export interface NeighborOptions {
  readonly address: string;
  readonly port?: number;
  /** 0 = accept whatever AS the peer's OPEN announces. */
  readonly peerAs: number;
  readonly localAddress?: string;
  readonly md5Password?: string;
  /** eBGP TTL (default 1: directly connected); ignored for iBGP (255). */
  readonly ebgpMultihopTtl?: number;
  /** GTSM (RFC 5082): expect packets with TTL ≥ 255 - hops + 1. */
  readonly ttlSecurityHops?: number;
  readonly holdTime?: number;
  readonly keepaliveTime?: number;
  readonly connectRetryTime?: number;
  readonly passive?: boolean;
  /** Default IPv4 and IPv6 unicast. */
  readonly families?: readonly AfiSafi[];
  /** Families in which we accept ADD-PATH (several paths per prefix). */
  readonly addPathReceive?: readonly AfiSafi[];
  /** Announce RFC 8654 extended messages. Default true. */
  readonly extendedMessage?: boolean;
  /**
   * Graceful restart capability to announce (RFC 4724, with the RFC 8538 N bit).
   * `restarting` sets the Restart State bit; `forwarding` the F bit per AFI (default
   * all set). Both can change later with Speaker.setRestartState.
   */
  readonly gracefulRestart?: {
    readonly restartTime: number;
    readonly restarting?: boolean;
    readonly forwarding?: (afi: number) => boolean;
  };
  /** Next hops for a family the session's own address cannot serve (IPv6 over IPv4). */
  readonly nextHop4?: string;
  readonly nextHop6?: string;
  /**
   * RFC 9687 SendHoldTime, seconds (0 = none). Default: the TSBGP_SEND_HOLD_TIME
   * environment variable (a test hook), else max(480, 2 × the negotiated hold time).
   */
  readonly sendHoldTime?: number;
}

/** Where received UPDATEs go: the RIB. Called synchronously per UPDATE. */
export interface RouteSink {
  /** `p` was located; attributes are decoded on demand by the sink (interning first). */
  update(neighbor: Neighbor, p: ParsedUpdate, ctx: UpdateContext): void;
  /** The session reached Established (before our routes go out and the peer's come in). */
  peerUp?(neighbor: Neighbor, negotiated: Negotiated): void;
  /** The session left Established: drop (or, when graceful, mark stale) its routes. */
  peerDown(neighbor: Neighbor, graceful: boolean): void;
  endOfRib(neighbor: Neighbor, afi: number, safi: number): void;
}

/** A neighbour as the rest of the daemon sees it. */
export interface Neighbor {
  readonly address: string;
  readonly options: NeighborOptions;
  readonly peer: Peer;
  /** Small integer, stable for the neighbour's lifetime. */
  readonly index: number;
  /** Adj-RIB-Out: the originated routes this neighbour gets, by canonical prefix. */
  readonly advertised: Map<string, LocalRoute>;
}

export interface SpeakerEvents {
  state: [neighbor: Neighbor, state: FsmStateName, previous: FsmStateName];
  established: [neighbor: Neighbor, negotiated: Negotiated];
  down: [neighbor: Neighbor, reason: DownReason];
  /** RFC 7606 treat-as-withdraw / attribute discard, for logs and counters. */
  updateError: [neighbor: Neighbor, action: number, reason: string];
  /** An UPDATE went to the sink (best paths may have changed). */
  updateProcessed: [neighbor: Neighbor];
  /** The peer sent End-of-RIB for a family (after the sink saw it). */
  endOfRib: [neighbor: Neighbor, afi: number, safi: number];
}

/** Prefixes per round of the out queue: what one write past the high-water mark can add. */
const SLICE = 1024;

/** What an Established neighbour has not been sent yet (RFC 4271 §9.2: changes may be merged). */
class OutQueue {
  /** Prefix → the route the peer was last sent (null: none); in order of first change. */
  readonly unsent = new Map<string, LocalRoute | null>();
  /** The socket is over its high-water mark: wait for 'drain'. */
  blocked = false;
  /** Messages that go once `unsent` is empty: End-of-RIB, End-of-Route-Refresh. */
  trailer: Buffer[] = [];

  clear(): void {
    this.unsent.clear();
    this.blocked = false;
    this.trailer = [];
  }

  /** The peer's route for `prefix` is about to change from `before`. */
  changed(prefix: string, before: LocalRoute | undefined): void {
    if (!this.unsent.has(prefix)) this.unsent.set(prefix, before ?? null);
  }

  /** `prefix` (the peer's route was `before`) left the Adj-RIB-Out. */
  removed(prefix: string, before: LocalRoute): void {
    if (!this.unsent.has(prefix)) this.unsent.set(prefix, before);
    else if (this.unsent.get(prefix) === null) this.unsent.delete(prefix); // the peer never had it
  }

  addTrailer(msg: Buffer): void {
    if (!this.trailer.some((m) => m.equals(msg))) this.trailer.push(msg);
  }
}

/** TSBGP_SEND_HOLD_TIME (seconds): operators and tests may shorten (or, with 0, turn off) RFC 9687 send hold time; documented in docs/operations.md. */
function envSendHoldTime(): number | undefined {
  const v = process.env['TSBGP_SEND_HOLD_TIME'];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

const DEFAULT_FAMILIES: readonly AfiSafi[] = [
  { afi: Afi.IPV4, safi: Safi.UNICAST },
  { afi: Afi.IPV6, safi: Safi.UNICAST },
];

export class Speaker extends EventEmitter<SpeakerEvents> {
  readonly options: SpeakerOptions;
  readonly routerId: number;
  private readonly neighbors = new Map<string, Neighbor>();
  private readonly local = new Map<string, LocalRoute>();
  private listener: BgpListener | undefined;
  private sink: RouteSink;
  private nextIndex = 1;
  private readonly parsed = new ParsedUpdate();
  private readonly queues = new WeakMap<Neighbor, OutQueue>();

  constructor(options: SpeakerOptions, sink: RouteSink = NULL_SINK) {
    super();
    const id = bgpIdFromString(options.routerId);
    if (id === undefined || id === 0) throw new Error(`invalid router ID ${JSON.stringify(options.routerId)}`);
    this.options = options;
    this.routerId = id;
    this.sink = sink;
  }

  setSink(sink: RouteSink): void {
    this.sink = sink;
  }

  async start(): Promise<void> {
    const l = this.options.listen;
    if (!l) return;
    const listener = new BgpListener();
    for (const n of this.neighbors.values()) {
      if (n.options.md5Password !== undefined) listener.setPeerKey(n.address, n.options.md5Password);
    }
    this.applyListenerTtl(listener);
    listener.on('connection', (socket: Socket, remote: string) => this.onIncoming(socket, remote));
    listener.on('error', () => undefined);
    await listener.listen({ address: l.address, port: l.port });
    this.listener = listener;
  }

  /**
   * GTSM on the listen socket. Its TTL (the SYN-ACK's) is 255 when any neighbour uses
   * GTSM. Its minimum TTL drops SYNs before any socket exists, but it holds for every
   * peer alike, so it is set only when every neighbour uses GTSM (the most hops any of
   * them allows); otherwise each accepted socket gets its own minimum TTL after accept.
   */
  private applyListenerTtl(listener: BgpListener): void {
    const hops = [...this.neighbors.values()].map((n) => n.options.ttlSecurityHops);
    listener.setTtl(hops.some((h) => h !== undefined) ? 255 : undefined);
    const all = hops.length > 0 && hops.every((h) => h !== undefined);
    listener.setMinTtl(all ? 256 - Math.max(...(hops as number[])) : undefined);
  }

  /** The bound listen port (useful with port 0 in tests). */
  get listenPort(): number | undefined {
    const a = this.listener?.address();
    return a ? a.port : undefined;
  }

  /**
   * Closes every session. `graceful` (tsbgpd stops to restart, routes kept): sessions
   * that negotiated Graceful Restart end so that the peer keeps our routes (helper
   * mode): with the N bit, Cease/Administrative Reset (not a Hard Reset, RFC 8538 §4);
   * without it, the TCP connection is closed with no NOTIFICATION (RFC 4724 §4). Other
   * sessions get Cease/Administrative Shutdown as usual.
   */
  async stop(message = 'tsbgp shutting down', graceful = false): Promise<void> {
    for (const n of this.neighbors.values()) {
      if (graceful) n.peer.gracefulStop(message);
      else n.peer.stop(message);
    }
    // Give NOTIFICATIONs a moment to leave, then close everything.
    await new Promise((r) => setTimeout(r, 50));
    for (const n of this.neighbors.values()) n.peer.destroy();
    await this.listener?.close();
    this.listener = undefined;
  }

  neighbor(address: string): Neighbor | undefined {
    return this.neighbors.get(normaliseAddress(address));
  }

  allNeighbors(): Neighbor[] {
    return [...this.neighbors.values()];
  }

  /** Adds a neighbour and starts its session. */
  addNeighbor(opts: NeighborOptions): Neighbor {
    const n = this.createNeighbor(opts);
    n.peer.start();
    return n;
  }

  /** Adds a neighbour without starting it (call `neighbor.peer.start()`). */
  createNeighbor(opts: NeighborOptions): Neighbor {
    const address = normaliseAddress(opts.address);
    ipFamily(address); // throws on a malformed address
    if (this.neighbors.has(address)) throw new Error(`neighbor ${address} already exists`);
    const ebgp = opts.peerAs !== this.options.localAs;
    const families = opts.families ?? DEFAULT_FAMILIES;
    const gr = opts.gracefulRestart;
    const caps = buildCapabilities({
      asn: this.options.localAs,
      families,
      routeRefresh: true,
      enhancedRouteRefresh: true,
      extendedMessage: opts.extendedMessage ?? true,
      addPath: (opts.addPathReceive ?? []).map((f) => ({ afi: f.afi, safi: f.safi, mode: 1 as const })),
      ...(gr ? { gracefulRestart: grCapability(gr.restartTime, families, gr.restarting ?? false, gr.forwarding) } : {}),
    });
    const peerOptions: PeerOptions = {
      address,
      port: opts.port ?? 179,
      session: {
        localAs: this.options.localAs,
        routerId: this.routerId,
        peerAs: opts.peerAs,
        holdTime: opts.holdTime ?? DEFAULT_TIMERS.holdTime,
        keepaliveTime: opts.keepaliveTime ?? DEFAULT_TIMERS.keepaliveTime,
        connectRetryTime: opts.connectRetryTime ?? DEFAULT_TIMERS.connectRetryTime,
        passive: opts.passive ?? false,
        capabilities: caps,
        ...sendHoldOption(opts),
      },
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.md5Password !== undefined ? { md5Password: opts.md5Password } : {}),
      ...ttlOptions(opts, ebgp),
    };
    const index = this.nextIndex++;
    // The peer's update handler needs the neighbour, which needs the peer: close the loop
    // through a holder filled right after.
    const holder: { n?: Neighbor } = {};
    const peer = new Peer(peerOptions, { update: (body, neg) => this.onUpdate(holder.n!, body, neg) });
    const neighbor: Neighbor = { address, options: opts, peer, index, advertised: new Map(this.local) };
    holder.n = neighbor;
    const queue = new OutQueue();
    this.queues.set(neighbor, queue);
    peer.on('state', (s, prev) => this.emit('state', neighbor, s, prev));
    peer.on('drain', () => {
      if (!queue.blocked) return;
      queue.blocked = false;
      this.flush(neighbor);
    });
    peer.on('established', (n) => {
      this.sink.peerUp?.(neighbor, n);
      this.emit('established', neighbor, n);
      this.advertiseAll(neighbor, n);
    });
    peer.on('down', (reason, graceful) => {
      queue.clear();
      this.sink.peerDown(neighbor, graceful);
      this.emit('down', neighbor, reason);
    });
    peer.on('routeRefresh', (m) => this.onRouteRefresh(neighbor, m));
    this.neighbors.set(address, neighbor);
    if (opts.md5Password !== undefined) this.listener?.setPeerKey(address, opts.md5Password);
    if (this.listener) this.applyListenerTtl(this.listener);
    return neighbor;
  }

  /**
   * Changes the Restart State bit and the F bits announced in later OPENs (the
   * restarting speaker clears R once its restart is over).
   */
  setRestartState(restarting: boolean, forwarding?: (afi: number) => boolean): void {
    for (const n of this.neighbors.values()) {
      const gr = n.options.gracefulRestart;
      if (!gr) continue;
      const families = n.options.families ?? DEFAULT_FAMILIES;
      // The FSMs hold this Capabilities object: the next OPEN carries the new value.
      n.peer.options.session.capabilities.gracefulRestart = grCapability(gr.restartTime, families, restarting, forwarding ?? gr.forwarding);
    }
  }

  removeNeighbor(address: string, message = 'neighbor deconfigured'): void {
    const n = this.neighbor(address);
    if (!n) return;
    n.peer.stop(message);
    setTimeout(() => n.peer.destroy(), 50).unref();
    this.neighbors.delete(n.address);
    if (n.options.md5Password !== undefined) this.listener?.setPeerKey(n.address, undefined);
    if (this.listener) this.applyListenerTtl(this.listener);
    this.sink.peerDown(n, false);
  }

  // ---------------------------------------------------------------------------
  // Originated routes (Adj-RIB-Out)

  /** Adds or replaces originated routes for every neighbour (and those added later). */
  announce(specs: readonly LocalRouteSpec[]): void {
    const routes = specs.map((s) => new LocalRoute(s));
    for (const r of routes) this.local.set(r.prefix, r);
    for (const n of this.neighbors.values()) {
      const q = this.liveQueue(n);
      for (const r of routes) {
        q?.changed(r.prefix, n.advertised.get(r.prefix));
        n.advertised.set(r.prefix, r);
      }
      this.flush(n);
    }
  }

  /** Withdraws originated routes from every neighbour. */
  withdraw(prefixes: readonly string[]): void {
    const keys = prefixes.map(canonicalPrefix);
    for (const k of keys) this.local.delete(k);
    for (const n of this.neighbors.values()) {
      const q = this.liveQueue(n);
      for (const k of keys) {
        const old = n.advertised.get(k);
        if (old === undefined) continue;
        n.advertised.delete(k);
        q?.removed(k, old);
      }
      this.flush(n);
    }
  }

  /**
   * Sets the whole Adj-RIB-Out of one neighbour: sends what is new or changed and
   * withdraws what is gone; `resend` sends everything again (soft reset out).
   */
  setAdvertised(address: string, specs: readonly LocalRouteSpec[], resend = false): void {
    const n = this.neighbor(address);
    if (!n) return;
    const next = new Map<string, LocalRoute>();
    for (const s of specs) {
      const r = new LocalRoute(s);
      next.set(r.prefix, r);
    }
    const q = this.liveQueue(n);
    if (q) {
      for (const r of next.values()) {
        const old = n.advertised.get(r.prefix);
        if (resend || !old || old.key !== r.key) q.changed(r.prefix, old);
      }
      for (const [k, old] of n.advertised) if (!next.has(k)) q.removed(k, old);
    }
    n.advertised.clear();
    for (const [k, r] of next) n.advertised.set(k, r);
    this.flush(n);
  }

  /** Bytes this neighbour's socket holds that the kernel has not taken (backpressure). */
  queuedBytes(address: string): number {
    return this.neighbor(address)?.peer.queuedBytes ?? 0;
  }

  /** Adj-RIB-Out changes not yet written to this neighbour (waiting for the socket to drain). */
  unsentCount(address: string): number {
    const n = this.neighbor(address);
    return n ? (this.queues.get(n)?.unsent.size ?? 0) : 0;
  }

  localRoutes(): LocalRoute[] {
    return [...this.local.values()];
  }

  /** The neighbour's queue while it is Established (changes before that go out on Established). */
  private liveQueue(n: Neighbor): OutQueue | undefined {
    return n.peer.negotiated ? this.queues.get(n) : undefined;
  }

  private advertiseAll(n: Neighbor, neg: Negotiated): void {
    const q = this.queues.get(n)!;
    q.clear();
    for (const k of n.advertised.keys()) q.unsent.set(k, null);
    for (const f of neg.families) q.addTrailer(encodeEndOfRib(f.afi, f.safi));
    this.flush(n);
  }

  /**
   * Writes what the neighbour has not been sent, a slice at a time, until the socket
   * is over its high-water mark ('drain' calls again) or nothing is left; then the
   * trailer. Each prefix goes out in its current state: announced, or withdrawn when
   * the peer had it and it is gone.
   */
  private flush(n: Neighbor): void {
    const neg = n.peer.negotiated;
    const q = this.queues.get(n);
    if (!neg || !q) return;
    const announce: LocalRoute[] = [];
    const withdraw: LocalRoute[] = [];
    while (!q.blocked && q.unsent.size > 0) {
      announce.length = 0;
      withdraw.length = 0;
      let k = 0;
      for (const [p, had] of q.unsent) {
        q.unsent.delete(p);
        const now = n.advertised.get(p);
        if (now !== undefined) announce.push(now);
        else if (had !== null) withdraw.push(had);
        if (++k === SLICE) break;
      }
      if (!this.sendWithdrawals(n, neg, withdraw)) q.blocked = true;
      if (!this.sendRoutes(n, neg, announce)) q.blocked = true;
    }
    if (q.unsent.size === 0 && q.trailer.length > 0) {
      const trailer = q.trailer;
      q.trailer = [];
      for (const m of trailer) if (!n.peer.sendRaw(m)) q.blocked = true;
    }
  }

  /**
   * The peer asks for our routes of one family again (RFC 2918). With enhanced route
   * refresh (RFC 7313) they go between Beginning- and End-of-Route-Refresh markers.
   * The markers the peer sends around its own refresh need nothing here.
   */
  private onRouteRefresh(n: Neighbor, m: RouteRefreshMessage): void {
    const neg = n.peer.negotiated;
    if (!neg || m.subtype !== RouteRefreshSubtype.NORMAL || m.safi !== Safi.UNICAST || !hasFamily(neg.families, m.afi)) return;
    const q = this.queues.get(n)!;
    const enhanced = neg.enhancedRouteRefresh;
    // Whatever is still unsent goes out after BoRR too, so it is inside the refresh.
    if (enhanced && !n.peer.sendRaw(encodeRouteRefresh(m.afi, m.safi, RouteRefreshSubtype.BORR))) q.blocked = true;
    for (const r of n.advertised.values()) if (r.afi === m.afi) q.changed(r.prefix, r);
    if (enhanced) q.addTrailer(encodeRouteRefresh(m.afi, m.safi, RouteRefreshSubtype.EORR));
    this.flush(n);
  }

  /** False when the socket went over its high-water mark. */
  private sendWithdrawals(n: Neighbor, neg: Negotiated, gone: readonly LocalRoute[]): boolean {
    let ok = true;
    if (gone.length === 0) return ok;
    for (const afi of [Afi.IPV4, Afi.IPV6]) {
      if (!hasFamily(neg.families, afi)) continue;
      const batch = new PrefixBatch(afi);
      for (const r of gone) if (r.afi === afi) r.addTo(batch);
      for (const m of packWithdrawals(batch, sendContext(neg))) ok = n.peer.sendUpdate(m) && ok;
    }
    return ok;
  }

  /** False when the socket went over its high-water mark. */
  private sendRoutes(n: Neighbor, neg: Negotiated, routes: readonly LocalRoute[]): boolean {
    let ok = true;
    if (routes.length === 0) return ok;
    const ctx = sendContext(neg);
    const view = {
      localAs: this.options.localAs,
      internal: neg.internal,
      sessionLocal: n.peer.localAddress,
      nextHop4: n.options.nextHop4,
      nextHop6: n.options.nextHop6,
    };
    // Group by attribute set so each UPDATE carries as many prefixes as fit.
    const groups = new Map<string, { attrs: PathAttributes | undefined; batch: PrefixBatch }>();
    for (const r of routes) {
      if (!hasFamily(neg.families, r.afi)) continue;
      let g = groups.get(r.key);
      if (!g) groups.set(r.key, (g = { attrs: attributesFor(r, view), batch: new PrefixBatch(r.afi) }));
      if (g.attrs) r.addTo(g.batch); // no usable next hop for this family on this session
    }
    for (const g of groups.values()) {
      if (g.attrs) for (const m of packUpdates(g.attrs, g.batch, ctx)) ok = n.peer.sendUpdate(m) && ok;
    }
    return ok;
  }

  // ---------------------------------------------------------------------------
  // Received

  private onIncoming(socket: Socket, remote: string): void {
    const n = this.neighbors.get(normaliseAddress(remote));
    if (!n) {
      // RFC 4271 §8: connections from unconfigured addresses are not ours to take.
      socket.destroy();
      return;
    }
    n.peer.acceptIncoming(socket);
  }

  private onUpdate(n: Neighbor, body: Buffer, neg: Negotiated): BgpError | undefined {
    const ctx = contextFor(neg);
    const p = locateUpdate(body, ctx, this.parsed);
    if (p.error) return p.error;
    if (p.endOfRib) {
      this.sink.endOfRib(n, p.endOfRib.afi, p.endOfRib.safi);
      this.emit('endOfRib', n, p.endOfRib.afi, p.endOfRib.safi);
      return undefined;
    }
    this.sink.update(n, p, ctx);
    if (p.action !== UpdateAction.NONE) this.emit('updateError', n, p.action, p.reason);
    this.emit('updateProcessed', n);
    return p.error ?? undefined;
  }
}

/** Decode contexts depend only on the negotiated session: cache one per Negotiated. */
const contexts = new WeakMap<Negotiated, UpdateContext>();
function contextFor(neg: Negotiated): UpdateContext {
  let ctx = contexts.get(neg);
  if (!ctx) {
    let addPathRx = 0;
    for (const f of neg.addPathReceive) addPathRx |= familyBit(f.afi, f.safi);
    ctx = updateContext({ fourOctetAs: neg.fourOctetAs, addPathRx, ebgp: !neg.internal, peerAs: neg.peerAs });
    contexts.set(neg, ctx);
  }
  return ctx;
}

function sendContext(neg: Negotiated) {
  return encodeContext({ fourOctetAs: neg.fourOctetAs, maxLength: neg.extendedMessage ? 65535 : 4096 });
}

function hasFamily(families: readonly AfiSafi[], afi: number): boolean {
  return families.some((f) => f.afi === afi && f.safi === Safi.UNICAST);
}

function grCapability(
  restartTime: number,
  families: readonly AfiSafi[],
  restarting: boolean,
  forwarding: ((afi: number) => boolean) | undefined,
): GracefulRestartCapability {
  return {
    restartState: restarting,
    notification: true,
    restartTime: Math.max(0, Math.min(4095, Math.round(restartTime))),
    families: families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: forwarding ? forwarding(f.afi) : true })),
  };
}

function sendHoldOption(opts: NeighborOptions): { sendHoldTime?: number } {
  const t = opts.sendHoldTime ?? envSendHoldTime();
  return t === undefined ? {} : { sendHoldTime: t };
}

function ttlOptions(opts: NeighborOptions, ebgp: boolean): { ttl?: number; minTtl?: number } {
  if (opts.ttlSecurityHops !== undefined) return { ttl: 255, minTtl: 256 - opts.ttlSecurityHops };
  if (!ebgp) return {};
  return { ttl: opts.ebgpMultihopTtl ?? 1 };
}

const NULL_SINK: RouteSink = { update: () => undefined, peerDown: () => undefined, endOfRib: () => undefined };
