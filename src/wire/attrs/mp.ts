// MP_REACH_NLRI (14) and MP_UNREACH_NLRI (15), RFC 4760 §3-4, IPv6 next hops per RFC 2545.
// They are read in the locate phase (they carry NLRI, whose validity decides between a
// clean parse and a session reset), so their decoders in the table do nothing.
//
// RFC 7606 §7.11-7.12 allow "AFI/SAFI disable" for a malformed MP attribute; we do not
// implement per-family disabling, so we reset the session with the NOTIFICATION that
// RFC 4760 §7 names: UPDATE Message Error / Optional Attribute Error, data = the attribute.
import { type BgpError, UpdateAction, updateError } from '../errors.js';
import { Afi, AttrFlag, AttrType, UpdateSubcode } from '../iana.js';
import { countNlri } from '../nlri/prefix.js';
import { familyBit, type UpdateContext } from './context.js';
import { type AttrDescriptor, copyBytes, u16At } from './descriptor.js';

/** Where the parts of an MP_REACH_NLRI attribute lie in the UPDATE body. */
export class MpReachInfo {
  afi = 0;
  safi = 0;
  nextHopStart = 0;
  nextHopLen = 0;
  nlriStart = 0;
  nlriEnd = 0;
  /** Number of NLRI entries (0 when the family is not supported). */
  count = 0;
  /** True for IPv4/IPv6 unicast: the NLRI was validated and can be iterated. */
  supported = false;
  /** The NLRI carries ADD-PATH identifiers. */
  addPath = false;
}

/** Where the withdrawn NLRI of an MP_UNREACH_NLRI attribute lie. */
export class MpUnreachInfo {
  afi = 0;
  safi = 0;
  nlriStart = 0;
  nlriEnd = 0;
  count = 0;
  supported = false;
  addPath = false;
}

function optionalAttributeError(buf: Buffer, tlvStart: number, end: number, why: string): BgpError {
  return updateError(UpdateSubcode.OPTIONAL_ATTRIBUTE_ERROR, copyBytes(buf, tlvStart, end), why);
}

function checkFlags(buf: Buffer, flags: number, tlvStart: number, end: number, name: string): BgpError | null {
  if ((flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE)) === AttrFlag.OPTIONAL) return null;
  return updateError(UpdateSubcode.ATTRIBUTE_FLAGS_ERROR, copyBytes(buf, tlvStart, end), `${name} has wrong flags`);
}

/** Expected next hop lengths: IPv4 4; IPv6 16 (global) or 32 (global + link-local). */
function nextHopLengthOk(afi: number, len: number): boolean {
  return afi === Afi.IPV4 ? len === 4 : len === 16 || len === 32;
}

/**
 * Reads an MP_REACH_NLRI value buf[vs, ve) into `out`. Returns null, or the BgpError
 * that ends the session. A family we do not parse is recorded with supported = false
 * and its NLRI left unread (the RIB ignores it).
 */
export function locateMpReach(
  buf: Buffer,
  flags: number,
  tlvStart: number,
  vs: number,
  ve: number,
  ctx: UpdateContext,
  out: MpReachInfo,
): BgpError | null {
  const bad = checkFlags(buf, flags, tlvStart, ve, 'MP_REACH_NLRI');
  if (bad !== null) return bad;
  if (ve - vs < 5) return optionalAttributeError(buf, tlvStart, ve, 'MP_REACH_NLRI too short');
  const afi = u16At(buf, vs);
  const safi = buf[vs + 2]!;
  const nhLen = buf[vs + 3]!;
  const nhStart = vs + 4;
  // Next hop, then the reserved octet (RFC 4760: ignored on receipt).
  if (nhStart + nhLen + 1 > ve) return optionalAttributeError(buf, tlvStart, ve, 'MP_REACH_NLRI next hop overruns');
  out.afi = afi;
  out.safi = safi;
  out.nextHopStart = nhStart;
  out.nextHopLen = nhLen;
  out.nlriStart = nhStart + nhLen + 1;
  out.nlriEnd = ve;
  const fb = familyBit(afi, safi);
  out.supported = fb !== 0;
  out.addPath = (ctx.addPathRx & fb) !== 0;
  out.count = 0;
  if (fb === 0) return null;
  if (!nextHopLengthOk(afi, nhLen)) {
    return optionalAttributeError(buf, tlvStart, ve, `MP_REACH_NLRI next hop length ${nhLen} for AFI ${afi}`);
  }
  const n = countNlri(buf, out.nlriStart, ve, afi === Afi.IPV6 ? 128 : 32, out.addPath);
  if (n < 0) return optionalAttributeError(buf, tlvStart, ve, 'MP_REACH_NLRI has malformed NLRI');
  out.count = n;
  return null;
}

/** Reads an MP_UNREACH_NLRI value buf[vs, ve) into `out`; like locateMpReach. */
export function locateMpUnreach(
  buf: Buffer,
  flags: number,
  tlvStart: number,
  vs: number,
  ve: number,
  ctx: UpdateContext,
  out: MpUnreachInfo,
): BgpError | null {
  const bad = checkFlags(buf, flags, tlvStart, ve, 'MP_UNREACH_NLRI');
  if (bad !== null) return bad;
  if (ve - vs < 3) return optionalAttributeError(buf, tlvStart, ve, 'MP_UNREACH_NLRI too short');
  const afi = u16At(buf, vs);
  const safi = buf[vs + 2]!;
  out.afi = afi;
  out.safi = safi;
  out.nlriStart = vs + 3;
  out.nlriEnd = ve;
  const fb = familyBit(afi, safi);
  out.supported = fb !== 0;
  out.addPath = (ctx.addPathRx & fb) !== 0;
  out.count = 0;
  if (fb === 0) return null;
  const n = countNlri(buf, out.nlriStart, ve, afi === Afi.IPV6 ? 128 : 32, out.addPath);
  if (n < 0) return optionalAttributeError(buf, tlvStart, ve, 'MP_UNREACH_NLRI has malformed NLRI');
  out.count = n;
  return null;
}

const none = (): UpdateAction => UpdateAction.NONE;

export const MP_REACH_NLRI: AttrDescriptor = {
  type: AttrType.MP_REACH_NLRI,
  name: 'MP_REACH_NLRI',
  flags: AttrFlag.OPTIONAL,
  onError: UpdateAction.SESSION_RESET,
  decode: none,
  encode: undefined,
};

export const MP_UNREACH_NLRI: AttrDescriptor = {
  type: AttrType.MP_UNREACH_NLRI,
  name: 'MP_UNREACH_NLRI',
  flags: AttrFlag.OPTIONAL,
  onError: UpdateAction.SESSION_RESET,
  decode: none,
  encode: undefined,
};
