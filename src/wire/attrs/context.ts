// What an attribute decoder needs to know about the session. Decoding depends only on
// the attribute bytes and these values, which is what makes interning by raw bytes safe.

/** One bit per address family we carry; used for per-family switches such as ADD-PATH. */
export const FamilyBit = { IPV4_UNICAST: 1, IPV6_UNICAST: 2 } as const;

/** The FamilyBit of an AFI/SAFI pair, or 0 for a family we do not parse. */
export function familyBit(afi: number, safi: number): number {
  if (safi !== 1) return 0;
  return afi === 1 ? FamilyBit.IPV4_UNICAST : afi === 2 ? FamilyBit.IPV6_UNICAST : 0;
}

/** Negotiated state that changes how an UPDATE is read. Fixed for a session's lifetime. */
export interface UpdateContext {
  /** RFC 6793: both sides announced the 4-octet AS capability, so AS_PATH holds 4-byte ASNs. */
  readonly fourOctetAs: boolean;
  /** RFC 7911: FamilyBit mask of the families in which the peer sends path identifiers. */
  readonly addPathRx: number;
  /** External peer: LOCAL_PREF is discarded and confederation segments are refused. */
  readonly ebgp: boolean;
  /** The peer's (4-octet) AS, used by `enforceFirstAs`. */
  readonly peerAs: number;
  /** RFC 4271 §6.3 optional check: the leftmost AS of an eBGP route must be the peer's. */
  readonly enforceFirstAs: boolean;
}

/** Negotiated state that changes how attributes are written. */
export interface AttrEncodeContext {
  /** False for an OLD (2-octet) peer: AS_PATH uses 2 bytes + AS_TRANS, AS4_* are added. */
  readonly fourOctetAs: boolean;
}

/** A context with defaults (4-octet, iBGP, no ADD-PATH), overridden by `over`. */
export function updateContext(over: Partial<UpdateContext> = {}): UpdateContext {
  return {
    fourOctetAs: over.fourOctetAs ?? true,
    addPathRx: over.addPathRx ?? 0,
    ebgp: over.ebgp ?? false,
    peerAs: over.peerAs ?? 0,
    enforceFirstAs: over.enforceFirstAs ?? false,
  };
}
