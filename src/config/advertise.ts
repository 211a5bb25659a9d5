// Advertisements: which prefixes go to which peer with which attributes.
// Contributions are merged per (peer, prefix) the way Cilium merges overlapping
// advertisements (communities: union; LOCAL_PREF: the highest), then peers that get
// the same prefix with the same attributes share one Advertisement entry.
import { compareLarge, formatLargeCommunity, normaliseCommunities, normaliseLarge } from './communities.js';
import type { LargeCommunity } from './communities.js';
import type { Advertisement, AdvertisementSource } from './model.js';
import { compareBytes, maxLength, parseCidr, prefixOf } from './net.js';
import type { AfiName, ParsedIp } from './net.js';
import type { IpValue } from './schema/common.js';
import type { ServiceAddressType } from './schema/bgp-common.js';
import type { ServiceObject } from './schema/core.js';
import { DEFAULTS } from './model.js';
import { parseIp } from './net.js';

export interface PathAttributeSet {
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunity[];
  readonly localPreference: number | undefined;
}

export const NO_ATTRIBUTES: PathAttributeSet = { communities: [], largeCommunities: [], localPreference: undefined };

export interface Contribution extends PathAttributeSet {
  readonly prefix: string;
  readonly afi: AfiName;
  readonly source: AdvertisementSource;
  readonly origin: string;
}

/** Union of communities, highest LOCAL_PREF (Cilium's overlap rule). */
export function mergeAttributes(sets: readonly PathAttributeSet[]): PathAttributeSet {
  let lp: number | undefined;
  for (const s of sets) if (s.localPreference !== undefined && (lp === undefined || s.localPreference > lp)) lp = s.localPreference;
  return {
    communities: normaliseCommunities(sets.flatMap((s) => s.communities)),
    largeCommunities: normaliseLarge(sets.flatMap((s) => s.largeCommunities)),
    localPreference: lp,
  };
}

interface Merged {
  prefix: string;
  afi: AfiName;
  sources: Set<AdvertisementSource>;
  origins: Set<string>;
  parts: PathAttributeSet[];
}

const SOURCE_ORDER: readonly AdvertisementSource[] = ['PodCIDR', 'Service', 'PodIPPool'];

function attrKey(a: PathAttributeSet): string {
  return `${a.communities.join(',')}|${a.largeCommunities.map(formatLargeCommunity).join(',')}|${a.localPreference ?? ''}`;
}

export function comparePrefixes(a: string, b: string): number {
  const pa = parseCidr(a);
  const pb = parseCidr(b);
  if (pa === undefined || pb === undefined) return a < b ? -1 : a > b ? 1 : 0;
  if (pa.afi !== pb.afi) return pa.afi === 'ipv4' ? -1 : 1;
  return compareBytes(pa.bytes, pb.bytes) || pa.length - pb.length;
}

function compareAttrs(a: PathAttributeSet, b: PathAttributeSet): number {
  const n = Math.min(a.communities.length, b.communities.length);
  for (let i = 0; i < n; i++) if (a.communities[i] !== b.communities[i]) return a.communities[i]! - b.communities[i]!;
  if (a.communities.length !== b.communities.length) return a.communities.length - b.communities.length;
  const m = Math.min(a.largeCommunities.length, b.largeCommunities.length);
  for (let i = 0; i < m; i++) {
    const c = compareLarge(a.largeCommunities[i]!, b.largeCommunities[i]!);
    if (c !== 0) return c;
  }
  if (a.largeCommunities.length !== b.largeCommunities.length) return a.largeCommunities.length - b.largeCommunities.length;
  return (a.localPreference ?? -1) - (b.localPreference ?? -1);
}

export class AdvertisementCollector {
  readonly #perPeer = new Map<string, Map<string, Merged>>();

  add(peer: string, c: Contribution): void {
    let prefixes = this.#perPeer.get(peer);
    if (prefixes === undefined) this.#perPeer.set(peer, (prefixes = new Map()));
    let m = prefixes.get(c.prefix);
    if (m === undefined) {
      prefixes.set(c.prefix, (m = { prefix: c.prefix, afi: c.afi, sources: new Set(), origins: new Set(), parts: [] }));
    }
    m.sources.add(c.source);
    m.origins.add(c.origin);
    m.parts.push(c);
  }

  build(): Advertisement[] {
    const groups = new Map<string, { merged: Merged; attrs: PathAttributeSet; peers: Set<string>; origins: Set<string>; sources: Set<AdvertisementSource> }>();
    for (const [peer, prefixes] of this.#perPeer) {
      for (const m of prefixes.values()) {
        const attrs = mergeAttributes(m.parts);
        const key = `${m.prefix}#${attrKey(attrs)}`;
        let g = groups.get(key);
        if (g === undefined) groups.set(key, (g = { merged: m, attrs, peers: new Set(), origins: new Set(), sources: new Set() }));
        g.peers.add(peer);
        for (const o of m.origins) g.origins.add(o);
        for (const s of m.sources) g.sources.add(s);
      }
    }
    const out: Advertisement[] = [];
    for (const g of groups.values()) {
      out.push({
        prefix: g.merged.prefix,
        afi: g.merged.afi,
        safi: 'unicast',
        source: SOURCE_ORDER.find((s) => g.sources.has(s)) ?? 'Service',
        origins: [...g.origins].sort(),
        communities: g.attrs.communities,
        largeCommunities: g.attrs.largeCommunities,
        localPreference: g.attrs.localPreference,
        peers: [...g.peers].sort(),
      });
    }
    return out.sort((a, b) => comparePrefixes(a.prefix, b.prefix) || compareAttrs(a, b));
  }
}

/** Labels a Service selector sees: the object's labels plus Cilium's name/namespace keys. */
export function serviceSelectorLabels(svc: ServiceObject, namespace: string): Record<string, string> {
  return {
    ...(svc.metadata.labels ?? {}),
    'io.kubernetes.service.name': svc.metadata.name,
    'io.kubernetes.service.namespace': namespace,
  };
}

/**
 * The addresses of one type a Service exposes. LoadBalancer ingress IPs count only for
 * type LoadBalancer whose loadBalancerClass is unset or Cilium's BGP class.
 */
export function serviceAddresses(svc: ServiceObject, type: ServiceAddressType): IpValue[] {
  const out = new Map<string, IpValue>();
  const add = (ip: IpValue | null | undefined) => {
    if (ip !== null && ip !== undefined) out.set(ip.address, ip);
  };
  const spec = svc.spec;
  switch (type) {
    case 'LoadBalancerIP': {
      if (spec.type !== 'LoadBalancer') break;
      if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== DEFAULTS.loadBalancerClass) break;
      for (const ing of svc.status?.loadBalancer?.ingress ?? []) add(ing.ip);
      break;
    }
    case 'ClusterIP':
      add(spec.clusterIP);
      for (const ip of spec.clusterIPs ?? []) add(ip);
      break;
    case 'ExternalIP':
      for (const ip of spec.externalIPs ?? []) add(ip);
      break;
  }
  return [...out.values()];
}

/** A host route (/32, /128), or the covering prefix of `aggregateTo` bits. */
export function routePrefix(ip: IpValue, aggregateTo: number | undefined): string {
  const parsed: ParsedIp | undefined = parseIp(ip.address);
  if (parsed === undefined) throw new Error(`unparsable address ${ip.address}`);
  return prefixOf(parsed, aggregateTo ?? maxLength(ip.afi));
}
