// The fields best-path selection needs, read straight from an UPDATE's attribute
// section: no PathAttributes object, no arrays, no Buffers. A full table brings ~200k
// distinct attribute sets; decoding each into objects (AS_PATH segments, community
// arrays, next-hop Buffers) only to copy a few numbers into the RIB's typed arrays
// made ~1 KB of garbage per set.
//
// It vouches only for the common case and says no otherwise: every attribute is one
// of those below, with the right flags and a well-formed value, the session uses
// 4-octet AS numbers, and nothing calls for an RFC 7606 action. Then decodeAttributes
// would return action NONE and the same fields (a property test holds the two
// together); in every other case the caller takes the full decoder, which owns the
// error handling.
import { AsPathSegment as SegType, AttrFlag, AttrType, Origin } from '../iana.js';
import type { UpdateContext } from './context.js';
import type { ParsedUpdate } from '../update.js';

const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;

/** Decision fields of one attribute set (reused: one per reader). */
export class DecisionFields {
  origin: number = Origin.INCOMPLETE;
  hasMed = false;
  med = 0;
  hasLocalPref = false;
  localPref = 0;
  hasOriginatorId = false;
  originatorId = 0;
  clusterLen = 0;
  /** AS_PATH length for best path: AS_SET counts 1, confederation segments 0. */
  asPathLen = 0;
  /** First AS of the first AS_SEQUENCE outside confederation segments (0: none). */
  neighborAs = 0;
  /** The AS_PATH holds `ownAs` (a loop, RFC 4271 §9.1.2). */
  loop = false;
  /** NEXT_HOP value offset in the UPDATE's buffer, -1 when absent. */
  nextHopAt = -1;
  /** MP_REACH next hop (global, then link-local when 32 bytes) offset and length; length 0 when absent. */
  mpNextHopAt = 0;
  mpNextHopLen = 0;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** The flag bits each known attribute must carry (Optional | Transitive), by type. */
const FLAGS: Int16Array = (() => {
  const f = new Int16Array(256).fill(-1);
  f[AttrType.ORIGIN] = AttrFlag.TRANSITIVE;
  f[AttrType.AS_PATH] = AttrFlag.TRANSITIVE;
  f[AttrType.NEXT_HOP] = AttrFlag.TRANSITIVE;
  f[AttrType.MULTI_EXIT_DISC] = AttrFlag.OPTIONAL;
  f[AttrType.LOCAL_PREF] = AttrFlag.TRANSITIVE;
  f[AttrType.ATOMIC_AGGREGATE] = AttrFlag.TRANSITIVE;
  f[AttrType.AGGREGATOR] = OPT_TRANS;
  f[AttrType.COMMUNITIES] = OPT_TRANS;
  f[AttrType.ORIGINATOR_ID] = AttrFlag.OPTIONAL;
  f[AttrType.CLUSTER_LIST] = AttrFlag.OPTIONAL;
  f[AttrType.MP_REACH_NLRI] = AttrFlag.OPTIONAL;
  f[AttrType.MP_UNREACH_NLRI] = AttrFlag.OPTIONAL;
  f[AttrType.EXTENDED_COMMUNITIES] = OPT_TRANS;
  f[AttrType.LARGE_COMMUNITY] = OPT_TRANS;
  return f;
})();

/**
 * Fills `out` from the attributes located in `p` and returns true, or returns false
 * when the full decoder must handle this UPDATE (anything unusual, any error).
 */
export function readDecisionFields(p: ParsedUpdate, ctx: UpdateContext, ownAs: number, out: DecisionFields): boolean {
  if (p.error !== null || p.action !== 0 || p.duplicates !== 0 || !ctx.fourOctetAs) return false;
  const buf = p.buf;
  out.origin = Origin.INCOMPLETE;
  out.hasMed = out.hasLocalPref = out.hasOriginatorId = out.loop = false;
  out.med = out.localPref = out.originatorId = out.clusterLen = out.asPathLen = out.neighborAs = 0;
  out.nextHopAt = -1;
  out.mpNextHopAt = out.mpNextHopLen = 0;
  let asPath = false;
  for (let i = 0; i < p.typeCount; i++) {
    const type = p.types[i]!;
    if ((p.flagsOf[type]! & OPT_TRANS) !== FLAGS[type]) return false; // unknown type or wrong flags
    const s = p.valueStart[type]!;
    const e = p.valueEnd[type]!;
    const len = e - s;
    switch (type) {
      case AttrType.ORIGIN:
        if (len !== 1 || buf[s]! > Origin.INCOMPLETE) return false;
        out.origin = buf[s]!;
        break;
      case AttrType.AS_PATH:
        if (!readAsPath(buf, s, e, ctx, ownAs, out)) return false;
        asPath = true;
        break;
      case AttrType.NEXT_HOP:
        if (len !== 4) return false;
        out.nextHopAt = s;
        break;
      case AttrType.MULTI_EXIT_DISC:
        if (len !== 4) return false;
        out.hasMed = true;
        out.med = u32(buf, s);
        break;
      case AttrType.LOCAL_PREF:
        if (ctx.ebgp || len !== 4) return false; // from an external peer: discarded (full decoder)
        out.hasLocalPref = true;
        out.localPref = u32(buf, s);
        break;
      case AttrType.ATOMIC_AGGREGATE:
        if (len !== 0) return false;
        break;
      case AttrType.AGGREGATOR:
        if (len !== 8 || u32(buf, s) === 0) return false;
        break;
      case AttrType.COMMUNITIES:
      case AttrType.CLUSTER_LIST:
        if (len === 0 || len % 4 !== 0) return false;
        if (type === AttrType.CLUSTER_LIST) out.clusterLen = len >>> 2;
        break;
      case AttrType.ORIGINATOR_ID:
        if (len !== 4) return false;
        out.hasOriginatorId = true;
        out.originatorId = u32(buf, s);
        break;
      case AttrType.EXTENDED_COMMUNITIES:
        if (len === 0 || len % 8 !== 0) return false;
        break;
      case AttrType.LARGE_COMMUNITY:
        if (len === 0 || len % 12 !== 0) return false;
        break;
      case AttrType.MP_REACH_NLRI:
      case AttrType.MP_UNREACH_NLRI:
        break; // checked by locateUpdate
      default:
        return false;
    }
  }
  if (asPath && ctx.ebgp && ctx.enforceFirstAs && out.neighborAs !== ctx.peerAs) return false;
  const reach = p.mpReach;
  if (reach !== null && reach.supported) {
    out.mpNextHopAt = reach.nextHopStart;
    out.mpNextHopLen = reach.nextHopLen;
  }
  return true;
}

/** Walks AS_PATH segments (4-octet): well-formed, no AS 0 (RFC 7607), no confederation from eBGP. */
function readAsPath(buf: Uint8Array, start: number, end: number, ctx: UpdateContext, ownAs: number, out: DecisionFields): boolean {
  let p = start;
  let count = 0;
  let neighbor = -1;
  let loop = false;
  while (p < end) {
    if (p + 2 > end) return false;
    const type = buf[p]!;
    const n = buf[p + 1]!;
    if (type < SegType.AS_SET || type > SegType.AS_CONFED_SET || n === 0) return false;
    p += 2;
    if (p + n * 4 > end) return false;
    const confed = type === SegType.AS_CONFED_SEQUENCE || type === SegType.AS_CONFED_SET;
    if (confed && ctx.ebgp) return false;
    if (neighbor < 0 && !confed) neighbor = type === SegType.AS_SEQUENCE ? u32(buf, p) : 0;
    if (type === SegType.AS_SEQUENCE) count += n;
    else if (type === SegType.AS_SET) count += 1;
    for (let i = 0; i < n; i++, p += 4) {
      const asn = u32(buf, p);
      if (asn === 0) return false;
      if (asn === ownAs) loop = true;
    }
  }
  out.asPathLen = count;
  out.neighborAs = neighbor < 0 ? 0 : neighbor;
  out.loop = loop;
  return true;
}
