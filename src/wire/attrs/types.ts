import type { Origin } from '../iana.js';

/** One AS_PATH segment (RFC 4271 §4.3, RFC 5065 confederation types 3 and 4). */
export interface AsPathSegment {
  readonly type: 1 | 2 | 3 | 4;
  readonly asns: readonly number[];
}

/** An unrecognised optional transitive attribute, carried on with the Partial bit. */
export interface UnknownAttribute {
  readonly flags: number;
  readonly type: number;
  readonly value: Buffer;
}

export interface MpNextHop {
  /** 4 bytes (IPv4) or 16 bytes (IPv6 global). */
  readonly global: Buffer;
  /** IPv6 link-local next hop when the peer sent 32 bytes (RFC 2545). */
  readonly linkLocal: Buffer | undefined;
}

/**
 * The decoded attributes of one UPDATE. Decoded once per distinct attribute set
 * (the RIB interns by raw bytes first), never per prefix.
 * AS_PATH is already merged with AS4_PATH for 2-octet peers (RFC 6793 §4.2.3).
 */
export interface PathAttributes {
  origin: Origin | undefined;
  asPath: AsPathSegment[];
  nextHop: Buffer | undefined; // NEXT_HOP (type 3), 4 bytes
  med: number | undefined;
  localPref: number | undefined;
  atomicAggregate: boolean;
  aggregator: { asn: number; address: number } | undefined;
  communities: Uint32Array | undefined;
  originatorId: number | undefined;
  clusterList: Uint32Array | undefined;
  extendedCommunities: Buffer | undefined; // n * 8 bytes
  largeCommunities: Uint32Array | undefined; // n * 3 words
  mpNextHop: MpNextHop | undefined; // from MP_REACH_NLRI
  unknown: UnknownAttribute[];
}

export function emptyAttributes(): PathAttributes {
  return {
    origin: undefined,
    asPath: [],
    nextHop: undefined,
    med: undefined,
    localPref: undefined,
    atomicAggregate: false,
    aggregator: undefined,
    communities: undefined,
    originatorId: undefined,
    clusterList: undefined,
    extendedCommunities: undefined,
    largeCommunities: undefined,
    mpNextHop: undefined,
    unknown: [],
  };
}
