/**
 * Routes the node originates (pod CIDRs, service IPs) and the attributes each session
 * gets for them (RFC 4271 §5.1): ORIGIN IGP; AS_PATH empty to iBGP peers and our AS
 * to eBGP peers; NEXT_HOP our address on that session unless configured; LOCAL_PREF
 * only to iBGP peers (default 100); communities as configured. Pure.
 */
import { Afi, Origin } from '../wire/iana.js';
import { emptyAttributes, type PathAttributes } from '../wire/attrs/types.js';
import { formatPrefix, parseAddress, parsePrefix } from '../wire/nlri/format.js';
import type { PrefixBatch } from '../wire/nlri/batch.js';

export interface LocalRouteSpec {
  /** "10.244.1.0/24" or "2001:db8::/64". */
  readonly prefix: string;
  /** Next hop to announce; default our address on each session (same family). */
  readonly nextHop?: string;
  /** "65000:100" or well-known names are resolved by the config layer to numbers. */
  readonly communities?: readonly number[];
  /** [global, data1, data2] triples. */
  readonly largeCommunities?: readonly (readonly [number, number, number])[];
  /** iBGP only (Cilium's rule); default 100 there. */
  readonly localPreference?: number;
  readonly med?: number;
}

export class LocalRoute {
  readonly prefix: string;
  readonly afi: number;
  readonly spec: LocalRouteSpec;
  private readonly parsed: ReturnType<typeof parsePrefix>;

  constructor(spec: LocalRouteSpec) {
    this.parsed = parsePrefix(spec.prefix);
    if (spec.nextHop !== undefined && parseAddress(spec.nextHop).afi !== this.parsed.afi) {
      throw new Error(`next hop ${spec.nextHop} is not in the address family of ${spec.prefix}`);
    }
    this.afi = this.parsed.afi;
    this.prefix = formatPrefix(this.parsed.afi, this.parsed.bytes, this.parsed.len);
    this.spec = spec;
    this.key = JSON.stringify([this.afi, spec.nextHop, spec.communities, spec.largeCommunities, spec.localPreference, spec.med]);
  }

  /** Routes with equal keys share one attribute set, so they pack into the same UPDATEs. */
  readonly key: string;

  addTo(batch: PrefixBatch): void {
    const b = this.parsed.bytes;
    if (this.afi === Afi.IPV4) batch.addV4(b.readUInt32BE(0), this.parsed.len);
    else batch.addV6(b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12), this.parsed.len);
  }
}

export interface SessionView {
  readonly localAs: number;
  readonly internal: boolean;
  /** Our address on this session's TCP connection. */
  readonly sessionLocal: string | undefined;
  /** Configured next hops for families the session's own address cannot serve. */
  readonly nextHop4?: string | undefined;
  readonly nextHop6?: string | undefined;
}

/** The attributes of `r` towards one session, or undefined when it has no usable next hop. */
export function attributesFor(r: LocalRoute, s: SessionView): PathAttributes | undefined {
  const nextHop = r.spec.nextHop ?? sessionNextHop(r.afi, s);
  if (nextHop === undefined) return undefined;
  const a = emptyAttributes();
  a.origin = Origin.IGP;
  a.asPath = s.internal ? [] : [{ type: 2, asns: [s.localAs] }];
  const nh = parseAddress(nextHop).bytes;
  if (r.afi === Afi.IPV4) a.nextHop = nh;
  else a.mpNextHop = { global: nh, linkLocal: undefined };
  if (s.internal) a.localPref = r.spec.localPreference ?? 100;
  if (r.spec.med !== undefined) a.med = r.spec.med;
  if (r.spec.communities?.length) a.communities = Uint32Array.from(r.spec.communities);
  if (r.spec.largeCommunities?.length) a.largeCommunities = Uint32Array.from(r.spec.largeCommunities.flat());
  return a;
}

function sessionNextHop(afi: number, s: SessionView): string | undefined {
  const own = s.sessionLocal;
  if (own !== undefined && parseAddress(own).afi === afi) {
    // An IPv6 link-local session address is no global next hop (RFC 2545).
    if (afi === Afi.IPV6 && own.toLowerCase().startsWith('fe80:')) return s.nextHop6;
    return own;
  }
  return afi === Afi.IPV4 ? s.nextHop4 : s.nextHop6;
}

/** "10.1.2.3/24" → "10.1.2.0/24": one spelling per prefix for the originated-route map. */
export function canonicalPrefix(text: string): string {
  const p = parsePrefix(text);
  return formatPrefix(p.afi, p.bytes, p.len);
}
