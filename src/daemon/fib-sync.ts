/**
 * Keeps the kernel FIB equal to the Loc-RIB's best paths: drains the Loc-RIB change
 * queues in time-boxed steps (so BGP sessions keep being served), maps each best path
 * (or ECMP set) to a next-hop set handle, and hands batches to the FIB backend, which
 * writes the kernel asynchronously.
 *
 * Also resolves next hops, once per distinct next hop (never per prefix):
 * - on a connected subnet: installed as is, IGP metric 0;
 * - otherwise through the best kernel route of another owner covering it (longest
 *   prefix, lowest metric; `FibBackend.resolveNextHop`): installed via that route's
 *   gateway and interface, IGP metric = that route's metric (multihop eBGP, iBGP to a
 *   loopback). Our own routes never resolve a next hop;
 * - IPv6 link-local (RFC 2545: a link-local-only next hop, or global + link-local whose
 *   global part is not on a link): the link-local address on the interface of the
 *   session the path came from. A next hop id is shared by every peer that sent the
 *   same bytes, so handles are per (next hop id, peer).
 * A next hop that resolves none of these ways makes its paths ineligible (decision step
 * 0). Link, address and other owners' route changes re-resolve.
 */
import { Afi } from '../wire/iana.js';
import { formatAddress } from '../wire/nlri/format.js';
import type { ChangeQueue, LocRib } from '../rib/loc-rib.js';
import { NEXTHOP_SELF, type NextHopTable } from '../rib/nexthop.js';
import type { Rib } from '../rib/rib.js';
import { FibBatch } from '../fib/batch.js';
import type { FibBackend, GatewayInput } from '../fib/backend.js';

/** ECMP next-hop sets get handles from here up; single next hops below. */
const GROUP_BASE = 1 << 24;
const STEP_MS = 8;
const DRAIN = 4096;
/**
 * Route writes the FIB may hold queued or in flight (~140 ms of the kernel's work at
 * its floor rate; a soft bound: batches in flight count in whole). Feeding only what the
 * kernel can take keeps the writer busy from the first UPDATE while most of the main
 * thread stays on the RIB; changes beyond it wait in the Loc-RIB's change queue, where
 * a flapping prefix coalesces. Measured at 1M routes: 32k and 64k within noise, 16k
 * starves the writer.
 */
export const BACKLOG_HIGH = 65536;
/** How soon to look again when the FIB's backlog is full (ms). */
export const BACKLOG_POLL_MS = 2;

/** How one next hop id resolved. */
interface NhResolution {
  /** The address bytes resolved (ids are reused). */
  readonly addr: Buffer;
  /** The gateway for every path using it; undefined for link-local or unresolved ones. */
  readonly gw: GatewayInput | undefined;
  /** Link-local address text: the gateway depends on the path's session. */
  readonly linkLocal: string | undefined;
  readonly metric: number;
}

/** A single next hop as seen from one peer (link-local ones depend on the session). */
interface PathHandle {
  readonly id: number;
  readonly peer: number;
  readonly addr: Buffer;
}

function isLinkLocal(b: Uint8Array, off: number): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
}

function sameGw(a: GatewayInput | undefined, b: GatewayInput | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.address === b.address && (a.ifindex ?? 0) === (b.ifindex ?? 0));
}

export class FibSync {
  private readonly rib: Rib;
  private readonly fib: FibBackend;
  private readonly maxPaths: number;
  private readonly queues: [LocRib, ChangeQueue][];
  private readonly batch = new FibBatch(DRAIN);
  private readonly slots = new Int32Array(DRAIN);
  private readonly multi: Int32Array;
  private readonly prefixBytes = new Uint8Array(16);
  /** Resolution per next hop id. */
  private readonly res = new Map<number, NhResolution>();
  /** Handles defined in the FIB, with the gateways they were defined with. */
  private readonly defined = new Map<number, GatewayInput[]>();
  /** (next hop id, peer) → handle, and back. */
  private readonly handles = new Map<number, number>();
  private readonly info = new Map<number, PathHandle>();
  private nextHandle = 1;
  private readonly groups = new Map<string, number>();
  private readonly groupMembers = new Map<number, number[]>();
  private nextGroup = GROUP_BASE;
  /** Interface of each peer's session (for link-local next hops); -1 = not computed. */
  private peerIf = new Int32Array(64).fill(-1);
  /**
   * Cache of single() per next hop id: the last peer asking and its handle (a next hop is
   * mostly one peer's). Cleared whenever resolutions or handles may have changed.
   */
  private cachePeer = new Int32Array(64).fill(-1);
  private cacheHandle = new Int32Array(64);
  private scheduled = false;
  private stopped = false;
  private readonly onRoutes = (): void => {
    if (this.resolveNextHops()) this.schedule();
  };
  /** Prefixes handed to the FIB, for stats. */
  written = 0;
  /**
   * The local address of a peer's session (by Loc-RIB peer index), when known: its
   * interface carries the peer's link-local next hops. Without it (or when no interface
   * holds it) the interface of the connected subnet holding the peer's address is used.
   */
  sessionAddress: ((peer: number) => string | undefined) | undefined = undefined;

  constructor(rib: Rib, fib: FibBackend, maxPaths: number) {
    this.rib = rib;
    this.fib = fib;
    this.maxPaths = Math.max(1, maxPaths);
    this.multi = new Int32Array(this.maxPaths);
    this.queues = [
      [rib.v4, rib.v4.createQueue()],
      [rib.v6, rib.v6.createQueue()],
    ];
    fib.on('routes', this.onRoutes);
  }

  /** Call after RIB changes; the work runs soon, in steps. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  stop(): void {
    this.stopped = true;
    this.fib.off('routes', this.onRoutes);
    for (const [loc, q] of this.queues) loc.removeQueue(q);
  }

  /** True when every change was handed to the FIB. */
  get idle(): boolean {
    return !this.scheduled && this.queues.every(([, q]) => q.size === 0);
  }

  /** How a next hop id resolved (for the CLI and tests); undefined before its first use. */
  resolution(id: number): { gateway?: string; ifindex?: number; linkLocal?: string; metric: number } | undefined {
    const r = this.res.get(id);
    if (!r) return undefined;
    return {
      ...(r.gw ? { gateway: r.gw.address } : {}),
      ...(r.gw?.ifindex ? { ifindex: r.gw.ifindex } : {}),
      ...(r.linkLocal !== undefined ? { linkLocal: r.linkLocal } : {}),
      metric: r.metric,
    };
  }

  /**
   * Re-resolves every next hop (after link, address or route changes), re-runs the
   * decisions whose eligibility or IGP metric changed and redefines the handles whose
   * gateways moved. Returns true when anything changed.
   */
  resolveNextHops(): boolean {
    this.cachePeer.fill(-1);
    const nh = this.rib.store.nextHops;
    let decisions = false;
    let gateways = false;
    const live = new Set<number>();
    for (const id of nh.ids()) {
      live.add(id);
      const before = this.res.get(id);
      const r = this.resolveId(nh, id);
      decisions = this.record(nh, id, r) || decisions;
      if (!before || before.addr !== r.addr || !sameGw(before.gw, r.gw) || before.linkLocal !== r.linkLocal) gateways = true;
    }
    for (const id of this.res.keys()) if (!live.has(id)) this.res.delete(id);
    this.peerIf.fill(-1);
    gateways = this.redefineHandles() || gateways;
    if (decisions) this.reevaluateAll();
    return decisions || gateways;
  }

  private record(nh: NextHopTable, id: number, r: NhResolution): boolean {
    this.res.set(id, r);
    return nh.setResolution(id, r.gw !== undefined || r.linkLocal !== undefined, r.metric);
  }

  private reevaluateAll(): void {
    for (const [loc] of this.queues) {
      let from = 0;
      while (from >= 0) from = loc.reevaluateFrom(from, 1 << 30);
    }
    this.schedule();
  }

  /** New next hops are resolved before their routes are written (not per prefix). */
  private resolveNew(): void {
    const nh = this.rib.store.nextHops;
    let changed = false;
    for (const id of nh.ids()) {
      const r = this.res.get(id);
      if (r && r.addr === nh.address(id)) continue;
      changed = this.record(nh, id, this.resolveId(nh, id)) || changed;
    }
    if (changed) this.reevaluateAll();
  }

  private run(): void {
    this.scheduled = false;
    if (this.stopped) return;
    this.cachePeer.fill(-1);
    this.resolveNew();
    const deadline = performance.now() + STEP_MS;
    let room = BACKLOG_HIGH - this.fib.backlog;
    for (const [loc, q] of this.queues) {
      while (q.size > 0) {
        if (room <= 0) {
          this.scheduled = true;
          setTimeout(() => this.run(), BACKLOG_POLL_MS);
          return;
        }
        const n = q.drain(Math.min(DRAIN, room), this.slots);
        room -= n;
        this.batch.clear();
        for (let i = 0; i < n; i++) this.addSlot(loc, this.slots[i]!);
        q.release();
        if (this.batch.length > 0) {
          this.fib.apply(this.batch);
          this.written += this.batch.length;
        }
        if (performance.now() > deadline) {
          this.schedule();
          return;
        }
      }
    }
  }

  private addSlot(loc: LocRib, slot: number): void {
    const v4 = loc.afi === Afi.IPV4;
    const len = loc.table.prefixLength(slot);
    const family = v4 ? 4 : 6;
    if (v4) {
      const a = loc.v4!.addrOf(slot);
      const b = this.prefixBytes;
      b[0] = a >>> 24;
      b[1] = (a >>> 16) & 0xff;
      b[2] = (a >>> 8) & 0xff;
      b[3] = a & 0xff;
    } else {
      loc.v6!.addrBytes(slot, this.prefixBytes, 0);
    }
    this.batch.push(family, this.prefixBytes, 0, len, this.handleFor(loc, slot));
  }

  /** The next-hop set handle of a slot's best path(s), or -1 to withdraw. */
  private handleFor(loc: LocRib, slot: number): number {
    const best = loc.best(slot);
    if (best < 0) return -1;
    const nh = this.rib.store.nextHops;
    if (this.maxPaths === 1 || loc.multipathCount(slot) <= 1) {
      return this.single(nh, loc.nextHopOf(loc.pathAttr(best)), loc.pathPeer(best));
    }
    const k = loc.multipath(slot, this.multi);
    const hs: number[] = [];
    for (let i = 0; i < k; i++) {
      const p = this.multi[i]!;
      const h = this.single(nh, loc.nextHopOf(loc.pathAttr(p)), loc.pathPeer(p));
      if (h >= 0 && !hs.includes(h)) hs.push(h);
    }
    if (hs.length === 0) return -1;
    if (hs.length === 1) return hs[0]!;
    hs.sort((a, b) => a - b);
    const key = hs.join(',');
    let h = this.groups.get(key);
    if (h === undefined) {
      h = this.nextGroup++;
      this.groups.set(key, h);
      this.groupMembers.set(h, hs);
    }
    if (!this.defined.has(h)) {
      const gws = this.groupGateways(hs);
      if (gws.length === 0) return -1;
      this.define(h, gws);
    }
    return h;
  }

  /**
   * The handle of one path's next hop as seen from `peer`, or -1 when it has no gateway.
   * Handles are per (next hop id, peer) and stable while the id lives: when a next hop
   * resolves differently the handle is redefined in place and the FIB rewrites its
   * routes, whatever the decision does.
   */
  private single(nh: NextHopTable, id: number, peer: number): number {
    if (id === NEXTHOP_SELF) return -1; // our own routes are not installed
    if (id < this.cachePeer.length && this.cachePeer[id] === peer) return this.cacheHandle[id]!;
    const h = this.singleSlow(nh, id, peer);
    if (id >= this.cachePeer.length) {
      const n = Math.max(id + 1, this.cachePeer.length * 2);
      const p = new Int32Array(n).fill(-1);
      p.set(this.cachePeer);
      const c = new Int32Array(n);
      c.set(this.cacheHandle);
      this.cachePeer = p;
      this.cacheHandle = c;
    }
    this.cachePeer[id] = peer;
    this.cacheHandle[id] = h;
    return h;
  }

  private singleSlow(nh: NextHopTable, id: number, peer: number): number {
    const key = id * 0x10000 + peer;
    const r = this.res.get(id);
    if (!r || r.addr !== nh.address(id)) return -1; // resolved before the next step
    let h = this.handles.get(key);
    if (h === undefined || this.info.get(h)!.addr !== r.addr) {
      if (h !== undefined) this.dropHandle(h);
      h = this.nextHandle++;
      this.handles.set(key, h);
      this.info.set(h, { id, peer, addr: r.addr });
    }
    if (!this.defined.has(h)) {
      const gw = this.gatewayOfHandle(h);
      if (gw === undefined) return -1;
      this.define(h, [gw]);
    }
    return h;
  }

  /** The interface a peer's session runs on, 0 if unknown (cached until the next re-resolution). */
  private sessionInterface(peer: number): number {
    if (peer >= this.peerIf.length) {
      const a = new Int32Array(Math.max(peer + 1, this.peerIf.length * 2)).fill(-1);
      a.set(this.peerIf);
      this.peerIf = a;
    }
    let ifx = this.peerIf[peer]!;
    if (ifx >= 0) return ifx;
    ifx = 0;
    const local = this.sessionAddress?.(peer);
    if (local !== undefined) {
      const plain = local.replace(/^::ffff:(?=\d+\.)/, '');
      ifx = this.fib.addresses().find((a) => a.local === plain)?.index ?? 0;
    }
    if (ifx === 0) {
      try {
        const addr = this.rib.peers.get(peer).address;
        ifx = this.fib.connectedVia(formatAddress(addr.length === 4 ? Afi.IPV4 : Afi.IPV6, addr));
      } catch {
        ifx = 0; // a peer removed meanwhile
      }
    }
    this.peerIf[peer] = ifx;
    return ifx;
  }

  private groupGateways(members: readonly number[]): GatewayInput[] {
    const out: GatewayInput[] = [];
    for (const m of members) {
      const g = this.gatewayOfHandle(m);
      if (g !== undefined && !out.some((x) => sameGw(x, g))) out.push(g);
    }
    return out;
  }

  /** The gateway a single handle should have now; undefined when it has none. */
  private gatewayOfHandle(h: number): GatewayInput | undefined {
    const info = this.info.get(h);
    if (!info) return undefined;
    const r = this.res.get(info.id);
    if (!r || r.addr !== info.addr) return undefined;
    if (r.gw !== undefined) return r.gw;
    if (r.linkLocal === undefined) return undefined;
    const ifindex = this.sessionInterface(info.peer);
    return ifindex > 0 ? { address: r.linkLocal, ifindex } : undefined;
  }

  private define(handle: number, gws: GatewayInput[]): void {
    this.fib.defineNexthop(handle, gws);
    this.defined.set(handle, gws);
  }

  private dropHandle(h: number): void {
    this.cachePeer.fill(-1);
    if (this.defined.delete(h)) this.fib.removeNexthop(h);
    const info = this.info.get(h);
    if (!info) return;
    this.info.delete(h);
    const key = info.id * 0x10000 + info.peer;
    if (this.handles.get(key) === h) this.handles.delete(key);
  }

  /**
   * After a resolution change each handle gets its current gateways, in place (the FIB
   * rewrites the routes using it). A handle left without gateways is removed from the
   * FIB (its routes leave the kernel; the decision re-runs for the paths concerned) and
   * defined again when it has gateways again. Handles of freed next hops are dropped.
   */
  private redefineHandles(): boolean {
    let changed = false;
    const nh = this.rib.store.nextHops;
    for (const [h, info] of [...this.info]) {
      let live: Buffer | undefined;
      try {
        live = nh.address(info.id);
      } catch {
        live = undefined;
      }
      if (live !== info.addr) {
        this.dropHandle(h);
        continue;
      }
      const g = this.gatewayOfHandle(h);
      const old = this.defined.get(h);
      if (old !== undefined && sameGw(old[0], g)) continue;
      if (g !== undefined) this.define(h, [g]);
      else if (old !== undefined) {
        this.defined.delete(h);
        this.fib.removeNexthop(h);
      }
      changed = true;
    }
    for (const [h, old] of [...this.defined]) {
      if (h < GROUP_BASE) continue;
      const gws = this.groupGateways(this.groupMembers.get(h) ?? []);
      if (gws.length === old.length && gws.every((g, i) => sameGw(g, old[i]))) continue;
      changed = true;
      if (gws.length > 0) this.define(h, gws);
      else {
        this.defined.delete(h);
        this.fib.removeNexthop(h);
      }
    }
    return changed;
  }

  /** How next hop `id` is reached now (see the file comment). */
  private resolveId(nh: NextHopTable, id: number): NhResolution {
    const b = nh.address(id);
    const none = { addr: b, gw: undefined, linkLocal: undefined, metric: 0 };
    if (b.length === 4) {
      const r = this.fib.resolveNextHop(formatAddress(Afi.IPV4, b));
      return r ? { ...none, gw: this.gatewayInput(r), metric: r.metric } : none;
    }
    if (b.length !== 16 && b.length !== 32) return none;
    const global = formatAddress(Afi.IPV6, b.subarray(0, 16));
    const globalLl = isLinkLocal(b, 0);
    if (!globalLl) {
      const via = this.fib.connectedVia(global);
      if (via > 0) return { ...none, gw: { address: global } };
    }
    // RFC 2545: a link-local next hop is on the session's link.
    if (b.length === 32 && isLinkLocal(b, 16)) return { ...none, linkLocal: formatAddress(Afi.IPV6, b.subarray(16, 32)) };
    if (globalLl) return { ...none, linkLocal: global };
    const r = this.fib.resolveNextHop(global);
    return r ? { ...none, gw: this.gatewayInput(r), metric: r.metric } : none;
  }

  private gatewayInput(r: { gateway: string; ifindex: number; via: string | null }): GatewayInput {
    // Directly connected: the FIB finds the interface itself (and follows it).
    return r.via === null ? { address: r.gateway } : { address: r.gateway, ifindex: r.ifindex };
  }
}
