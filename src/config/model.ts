// The one internal, normalised configuration of "this node": what the daemon runs.
// Both Cilium APIs (v1 CiliumBGPPeeringPolicy, v2 CiliumBGPClusterConfig & co.)
// resolve to it. Every field is present (`| undefined` where optional) and lists are
// sorted, so two configs compare with a plain deep-equal and diff field by field.
import type { LargeCommunity } from './communities.js';
import type { AfiName } from './net.js';

export type { AfiName } from './net.js';
export type { LargeCommunity } from './communities.js';
export type SafiName = 'unicast';

/** Numbers for the wire (IANA AFI/SAFI), kept here so config/ imports nothing below it. */
export const AFI_NUMBER = { ipv4: 1, ipv6: 2 } as const;
export const SAFI_NUMBER = { unicast: 1 } as const;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const REDACTED = '<redacted>';

/**
 * A secret string (TCP-MD5 password). JSON.stringify, util.inspect, template strings
 * and console.log all print `<redacted>`; only `reveal()` gives the value.
 */
export class SecretValue {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  equals(other: SecretValue | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }
  toJSON(): string {
    return REDACTED;
  }
  toString(): string {
    return REDACTED;
  }
  [INSPECT](): string {
    return REDACTED;
  }
}

export interface PrefixLimit {
  /** Counted on every prefix received, before import policy. */
  readonly maxPrefixes: number;
  readonly warningThresholdPercent: number;
  /** 0 = stay down until an operator resets the peer. */
  readonly restartTimerSeconds: number;
}

export interface Family {
  readonly afi: AfiName;
  readonly safi: SafiName;
  /** The effective limit for this family: its own `prefixLimit`, else the peer's. */
  readonly prefixLimit: PrefixLimit | undefined;
}

export interface PrefixMatch {
  /** Canonical CIDR text. */
  readonly cidr: string;
  readonly afi: AfiName;
  readonly length: number;
  /** Matching lengths, inclusive; both equal `length` for an exact match. */
  readonly ge: number;
  readonly le: number;
}

/** All present conditions must hold (AND); inside one list any element may match (OR). */
export interface RuleMatch {
  readonly prefixes: readonly PrefixMatch[] | undefined;
  /** Standard communities (RFC 1997) as 32-bit values; well-known names resolved. */
  readonly communities: readonly number[] | undefined;
  readonly largeCommunities: readonly LargeCommunity[] | undefined;
  /** The AS_PATH contains any of these ASNs. */
  readonly asPathContains: readonly number[] | undefined;
  /** The route originated in (last ASN of the AS_PATH is) any of these ASNs. */
  readonly asPathOriginatedBy: readonly number[] | undefined;
}

export interface RuleSet {
  readonly localPreference: number | undefined;
  readonly addCommunities: readonly number[];
  readonly addLargeCommunities: readonly LargeCommunity[];
}

export type PolicyAction = 'Accept' | 'Reject';

export interface ImportRule {
  /** The operator's name, else `rule-<index>`. */
  readonly name: string;
  readonly match: RuleMatch;
  readonly action: PolicyAction;
  readonly set: RuleSet;
}

export interface ImportPolicy {
  readonly defaultAction: PolicyAction;
  /** 0.0.0.0/0 and ::/0 are rejected before any rule unless this is true. */
  readonly allowDefaultRoute: boolean;
  /**
   * Keep a pre-policy copy of every received route (soft reconfiguration inbound): a
   * policy change is then re-evaluated from the copies, without a route refresh. Costs
   * one path entry per received route; off by default so a full table is not held twice.
   */
  readonly softReconfiguration?: boolean;
  /** Evaluated in order; the first matching rule decides. */
  readonly rules: readonly ImportRule[];
}

export interface RouteInstall {
  readonly enabled: boolean;
  /** Kernel routing table id (254 = main). */
  readonly table: number;
  readonly metric: number;
  /** rtnetlink protocol tag; tsbgp only touches routes carrying it (186 = bgp). */
  readonly protocol: number;
  /** ECMP width: up to this many equal paths become one multipath route. */
  readonly maxPaths: number;
}

export interface Timers {
  readonly connectRetry: number;
  /** 0 = no hold timer and no keepalives (RFC 4271 §4.2). */
  readonly holdTime: number;
  readonly keepalive: number;
}

export interface GracefulRestart {
  readonly enabled: boolean;
  readonly restartTime: number;
}

export interface Peer {
  /** Unique within its instance: v2 `peers[].name`; v1 the peer address. */
  readonly name: string;
  /** Canonical IP address, without prefix length. */
  readonly address: string;
  readonly afi: AfiName;
  readonly port: number;
  /** 0 = accept whatever AS the peer's OPEN announces. */
  readonly peerAsn: number;
  readonly localAddress: string | undefined;
  /** The Secret's name, for status and messages (the password itself is `md5Password`). */
  readonly authSecretRef: string | undefined;
  readonly md5Password: SecretValue | undefined;
  /** IP TTL for eBGP sessions (1 = directly connected); ignored for iBGP. */
  readonly ebgpMultihopTtl: number;
  /** GTSM (RFC 5082): TTL 255 out, at most this many hops in; undefined = off. */
  readonly ttlSecurityHops?: number;
  readonly timers: Timers;
  readonly gracefulRestart: GracefulRestart;
  readonly families: readonly Family[];
  /** Absent = learn nothing from this peer (Cilium's behaviour). */
  readonly importPolicy: ImportPolicy | undefined;
  /** The peer-level limit as written; `families[].prefixLimit` holds the effective one. */
  readonly prefixLimit: PrefixLimit | undefined;
}

export type AdvertisementSource = 'PodCIDR' | 'Service' | 'PodIPPool';

export interface Advertisement {
  /** Canonical CIDR text. */
  readonly prefix: string;
  readonly afi: AfiName;
  readonly safi: SafiName;
  readonly source: AdvertisementSource;
  /** What produced it, for explanations: `Node/n1 podCIDR`, `Service/default/web LoadBalancerIP`. */
  readonly origins: readonly string[];
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunity[];
  /** Sent to iBGP peers only; undefined = the default (100). */
  readonly localPreference: number | undefined;
  /** Names of the peers that get this prefix with exactly these attributes. */
  readonly peers: readonly string[];
}

export interface Instance {
  /** v2 `bgpInstances[].name`; v1 `vr-<localASN>`. */
  readonly name: string;
  readonly localAsn: number;
  /** Dotted IPv4 BGP identifier. */
  readonly routerId: string;
  /** Undefined = do not listen, only connect out (Cilium's default for both APIs). */
  readonly listenPort: number | undefined;
  readonly routeInstall: RouteInstall;
  readonly alwaysCompareMed: boolean;
  /** Sorted by name. */
  readonly peers: readonly Peer[];
  /** Sorted by prefix, then by attributes. */
  readonly advertisements: readonly Advertisement[];
  /** `CiliumBGPPeeringPolicy/<name>` or `CiliumBGPClusterConfig/<name>`. */
  readonly origin: string;
}

export interface NodeConfig {
  readonly nodeName: string;
  /** Which Cilium API configured this node (none when nothing selects it). */
  readonly api: 'v1' | 'v2' | 'none';
  /** Sorted by name. */
  readonly instances: readonly Instance[];
}

// Defaults, shared by the schemas and the docs.
export const DEFAULTS = {
  peerPort: 179,
  ebgpMultihopTtl: 1,
  connectRetryTimeSeconds: 120,
  holdTimeSeconds: 90,
  keepAliveTimeSeconds: 30,
  gracefulRestartTimeSeconds: 120,
  localPreference: 100,
  warningThresholdPercent: 75,
  restartTimerSeconds: 0,
  routeInstall: { enabled: true, table: 254, metric: 20, protocol: 186, maxPaths: 1 },
  secretNamespace: 'kube-system',
  loadBalancerClass: 'io.cilium/bgp-control-plane',
} as const;

/** A plain JSON-safe copy of the config (passwords shown as `<redacted>`). */
export function toPlainJSON(config: NodeConfig): unknown {
  return JSON.parse(JSON.stringify(config)) as unknown;
}
