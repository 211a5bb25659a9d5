// Routes of other owners (static, IGP, the kernel's own subnet routes) in the
// tables our next hops resolve through. A next hop that is not on a connected
// subnet (a multihop peer, iBGP to a loopback) resolves through the best of
// these covering it: longest prefix, then lowest metric. Routes of our own
// protocol are never kept, so a BGP route never resolves another (no
// recursion through ourselves). Kept from the start dump and route
// notifications; few on a node (tens to thousands), so plain objects, looked
// up per prefix length through a Map.
import { type Family, formatIp, formatPrefix, isLinkLocal6, parseIp, prefixContains } from './ip.js';
import { NlmF, RtnhF, Rtn } from './netlink/constants.js';
import { type NexthopMsg, type RouteView, routeDst, routeNexthops } from './netlink/codec.js';

export interface OtherLeg {
  /** Gateway address, null for a device route (the destination is on the link). */
  readonly gateway: Uint8Array | null;
  readonly gatewayFamily: Family;
  readonly oif: number;
  /** RTNH_F_* (ONLINK: the gateway needs no connected subnet). */
  readonly flags: number;
}

export interface OtherRoute {
  readonly family: Family;
  /** Prefix bytes (4 or 16), host bits zero. */
  readonly addr: Uint8Array;
  readonly plen: number;
  readonly table: number;
  readonly metric: number;
  readonly protocol: number;
  /** RTN_* (only unicast ones resolve; blackhole/unreachable make the next hop unresolvable). */
  readonly type: number;
  /** Another owner's nexthop object (its legs come from the objects we know). */
  readonly nhId: number;
  readonly legs: readonly OtherLeg[];
  /** "10.0.0.0/24", for the CLI. */
  readonly dst: string;
}

/** How the kernel reaches a next hop. */
export interface Resolution {
  /** The gateway to install with: the next hop itself when it is on a link, else the covering route's gateway. */
  readonly gateway: string;
  readonly ifindex: number;
  /** IGP metric: 0 for a connected next hop, else the covering route's metric. */
  readonly metric: number;
  /** The covering route ("10.9.0.0/24"), null when directly connected. */
  readonly via: string | null;
}

function hex(b: Uint8Array, n: number): string {
  return Buffer.from(b.buffer, b.byteOffset, n).toString('hex');
}

function masked(b: Uint8Array, off: number, n: number, plen: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const keep = Math.max(0, Math.min(8, plen - i * 8));
    out[i] = keep === 0 ? 0 : b[off + i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

export class OtherRoutes {
  /** family|plen → prefix hex → routes on that prefix (several tables, metrics, owners). */
  private readonly byLen = new Map<number, Map<string, OtherRoute[]>>();
  /** Other owners' nexthop objects, by id. */
  readonly objects = new Map<number, NexthopMsg>();
  size = 0;

  constructor(private readonly tables: readonly number[]) {}

  /** True for a table whose routes resolve next hops. */
  watches(table: number): boolean {
    return this.tables.includes(table);
  }

  clear(): void {
    this.byLen.clear();
    this.size = 0;
  }

  /**
   * Records (NEWROUTE) or forgets (DELROUTE) the decoded route `v`. Returns true when
   * the set of routes changed. A route's key is (table, prefix, tos, metric,
   * protocol): IPv4 keeps several owners on one (table, prefix, metric). IPv6 ECMP
   * legs may come and go one by one (`append` = NLM_F_APPEND in `nlFlags`; a delete
   * naming some of the legs): merged into / removed from the route.
   */
  update(v: RouteView, add: boolean, nlFlags = 0): boolean {
    if (v.family === 0 || v.tos !== 0 || !this.watches(v.table)) return false;
    const n = v.family === 4 ? 4 : 16;
    const addr = v.dstOff >= 0 ? masked(v.buf, v.dstOff, n, v.dstLen) : new Uint8Array(n);
    const lk = v.family * 256 + v.dstLen;
    let m = this.byLen.get(lk);
    const pk = hex(addr, n);
    const list = m?.get(pk);
    const same = (r: OtherRoute): boolean => r.table === v.table && r.metric === v.metric && r.protocol === v.protocol;
    const at = list ? list.findIndex(same) : -1;
    const legs = this.legsOfView(v);
    if (!add) {
      if (!list || at < 0) return false;
      const old = list[at]!;
      if (v.family === 6 && legs.length > 0 && legs.length < old.legs.length) {
        const rest = old.legs.filter((l) => !legs.some((x) => sameLeg(l, x)));
        if (rest.length > 0 && rest.length < old.legs.length) {
          list[at] = { ...old, legs: rest };
          return true;
        }
      }
      list.splice(at, 1);
      if (list.length === 0) m!.delete(pk);
      this.size--;
      return true;
    }
    const old = list && at >= 0 ? list[at]! : null;
    if (old && v.family === 6 && nlFlags & NlmF.APPEND) {
      legs.unshift(...old.legs.filter((l) => !legs.some((x) => sameLeg(l, x))));
    }
    const r: OtherRoute = {
      family: v.family,
      addr,
      plen: v.dstLen,
      table: v.table,
      metric: v.metric,
      protocol: v.protocol,
      type: v.type,
      nhId: v.nhId,
      legs,
      dst: routeDst(v),
    };
    if (!m) {
      m = new Map();
      this.byLen.set(lk, m);
    }
    if (!list) m.set(pk, [r]);
    else if (at >= 0) {
      const old = list[at]!;
      list[at] = r;
      return !sameRoute(old, r);
    } else list.push(r);
    this.size++;
    return true;
  }

  private legsOfView(v: RouteView): OtherLeg[] {
    const fam: Family = v.family === 6 ? 6 : 4;
    const legs: OtherLeg[] = [];
    for (const l of routeNexthops(v)) {
      const g = l.gateway !== undefined ? parseIp(l.gateway) : null;
      // A single next hop keeps its flags in rtm_flags.
      const flags = v.mpOff >= 0 ? l.flags : v.flags & 0xff;
      legs.push({ gateway: g ? g.bytes : null, gatewayFamily: g ? g.family : fam, oif: l.oif, flags });
    }
    return legs;
  }

  /** The best route covering `addr`: longest prefix, then lowest metric; null if none. */
  lookup(family: Family, addr: Uint8Array): OtherRoute | null {
    const n = family === 4 ? 4 : 16;
    for (let plen = n * 8; plen >= 0; plen--) {
      const m = this.byLen.get(family * 256 + plen);
      if (!m) continue;
      const list = m.get(hex(masked(addr, 0, n, plen), n));
      if (!list || list.length === 0) continue;
      let best = list[0]!;
      for (const r of list) if (r.metric < best.metric) best = r;
      return best;
    }
    return null;
  }

  /**
   * How `addr` resolves through these routes: the best covering route's first
   * usable leg. A device route puts `addr` itself on that link. Null when no
   * route covers it, the best one is not unicast (blackhole, unreachable), or
   * none of its legs is usable: link down, or a gateway no longer on a subnet of
   * that link (`onLink`; the kernel flushes such IPv4 routes without telling).
   */
  resolve(
    family: Family,
    addr: Uint8Array,
    usable: (oif: number) => boolean,
    onLink: (family: Family, gateway: Uint8Array, oif: number) => boolean = () => true,
  ): Resolution | null {
    const r = this.lookup(family, addr);
    if (!r || r.type !== Rtn.UNICAST) return null;
    const via = formatPrefix(r.addr, 0, r.family, r.plen);
    for (const l of this.legsOf(r)) {
      // Link state comes from `usable`: the flags we hold may predate the last link change.
      if (!usable(l.oif)) continue;
      if (l.gateway === null) return { gateway: formatIp(addr, 0, family), ifindex: l.oif, metric: r.metric, via };
      // The route's own gateway is no way to reach itself.
      if (l.gatewayFamily === family && prefixContains(l.gateway, 0, family === 4 ? 32 : 128, addr, 0)) continue;
      if (!(l.flags & RtnhF.ONLINK) && !isLinkLocal6Gw(l) && !onLink(l.gatewayFamily, l.gateway, l.oif)) continue;
      return { gateway: formatIp(l.gateway, 0, l.gatewayFamily), ifindex: l.oif, metric: r.metric, via };
    }
    return null;
  }

  private legsOf(r: OtherRoute): readonly OtherLeg[] {
    if (r.nhId === 0) return r.legs;
    const o = this.objects.get(r.nhId);
    if (!o) return [];
    const members = o.group ? o.group.map((g) => this.objects.get(g.id)).filter((x): x is NexthopMsg => x !== undefined) : [o];
    return members
      .filter((x) => x.oif > 0 && x.family !== 0)
      .map((x) => ({ gateway: x.gateway ?? null, gatewayFamily: x.family === 0 ? 4 : x.family, oif: x.oif, flags: x.flags & 0xff }));
  }

  /** All routes, for the CLI and tests. */
  all(): OtherRoute[] {
    const out: OtherRoute[] = [];
    for (const m of this.byLen.values()) for (const list of m.values()) out.push(...list);
    return out;
  }
}

function sameLeg(a: OtherLeg, b: OtherLeg): boolean {
  if (a.oif !== b.oif || (a.gateway === null) !== (b.gateway === null)) return false;
  return a.gateway === null || Buffer.compare(a.gateway, b.gateway!) === 0;
}

function isLinkLocal6Gw(l: OtherLeg): boolean {
  return l.gatewayFamily === 6 && l.gateway !== null && isLinkLocal6(l.gateway);
}

function sameRoute(a: OtherRoute, b: OtherRoute): boolean {
  if (a.type !== b.type || a.nhId !== b.nhId || a.legs.length !== b.legs.length) return false;
  return a.legs.every((l, i) => {
    const o = b.legs[i]!;
    if (l.oif !== o.oif || l.flags !== o.flags || (l.gateway === null) !== (o.gateway === null)) return false;
    return l.gateway === null || Buffer.compare(l.gateway, o.gateway!) === 0;
  });
}
