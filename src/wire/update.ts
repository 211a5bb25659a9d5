// UPDATE message decoding (RFC 4271 §4.3, §6.3; RFC 4760; RFC 7606; RFC 7911; RFC 4724).
//
// Two phases (BIRD's bgp_parse_state):
//   locateUpdate     finds withdrawn routes, the attribute section and the NLRI; walks
//                    the attribute TLVs recording where each one is (first occurrence
//                    only, duplicates caught by a bitmap); reads MP_REACH/MP_UNREACH;
//                    validates every NLRI field; checks the mandatory attributes; and
//                    computes the intern key (`attrKey`, `attrHash`). Per UPDATE, no
//                    allocation beyond a copy of the key when MP attributes are present.
//   decodeAttributes turns the recorded attributes into a PathAttributes through the
//                    descriptor table (attrs/table.ts). Needed once per distinct set.
//
// How the RIB should use it (per received UPDATE):
//   1. locateUpdate(body, ctx, parsed)            // one ParsedUpdate reused per session
//   2. action === SESSION_RESET → send NOTIFICATION(parsed.error) and drop the session.
//   3. action >= TREAT_AS_WITHDRAW → every prefix in the withdrawn field, the NLRI field,
//      MP_UNREACH and MP_REACH is a withdrawal; attributes are not needed, skip 4.
//   4. look up (attrHash, attrKey) in the attribute store; compare the bytes on a hash
//      hit. On a miss: decodeAttributes(parsed, ctx); if parsed.action is now
//      TREAT_AS_WITHDRAW, do as in 3 (and do not intern); otherwise copy attrKey into
//      the store with the decoded set. attrKey is only valid until the next locate.
//   5. walk the ranges with an NlriCursor: withdrawn + mpUnreach → remove; nlri + mpReach
//      → add/replace with the interned set.
// The key is the attribute section without the MP TLVs, plus the MP next hop; decoding
// is a pure function of it and of the UpdateContext. Every check that also depends on
// the NLRI (mandatory attributes, NLRI syntax) or can end the session happens in locate,
// so a cache hit never skips one. If several sessions share one store with different
// contexts (2- vs 4-octet AS, eBGP vs iBGP, enforce-first-as peer AS), the store must
// key on the context too.
import { BgpError, EMPTY, UpdateAction, updateError } from './errors.js';
import { AttrFlag, AttrType, UpdateSubcode } from './iana.js';
import { applyAs4 } from './attrs/as4.js';
import { FamilyBit, type UpdateContext } from './attrs/context.js';
import { copyBytes, type DecodeScratch, u16At } from './attrs/descriptor.js';
import { fnv1a } from './attrs/hash.js';
import { locateMpReach, locateMpUnreach, MpReachInfo, MpUnreachInfo } from './attrs/mp.js';
import { ATTR_TABLE, KNOWN_TYPES } from './attrs/table.js';
import { emptyAttributes, type PathAttributes } from './attrs/types.js';
import { countNlri } from './nlri/prefix.js';

export { MpReachInfo, MpUnreachInfo } from './attrs/mp.js';
export { FamilyBit, familyBit, updateContext, type UpdateContext } from './attrs/context.js';

const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;

export class AfiSafiRef {
  afi = 0;
  safi = 0;
}

/**
 * The result of locating (and optionally decoding) one UPDATE: mostly offsets into
 * `buf`. Reuse one instance per session; every field is overwritten by each locate.
 */
export class ParsedUpdate {
  /** The UPDATE body (after the 19-byte header) all offsets refer to. */
  buf: Buffer = EMPTY;
  withdrawnStart = 0;
  withdrawnEnd = 0;
  withdrawnCount = 0;
  attrStart = 0;
  attrEnd = 0;
  nlriStart = 0;
  nlriEnd = 0;
  nlriCount = 0;
  /** The classic withdrawn/NLRI fields carry ADD-PATH identifiers (IPv4 unicast negotiated). */
  classicAddPath = false;
  mpReach: MpReachInfo | null = null;
  mpUnreach: MpUnreachInfo | null = null;
  /** Set when the UPDATE is an End-of-RIB marker (RFC 4724 §2). */
  endOfRib: AfiSafiRef | null = null;
  /** Strongest RFC 7606 action found so far. */
  action: UpdateAction = UpdateAction.NONE;
  /** Why `action` was chosen, for logs ('' when NONE). */
  reason = '';
  /** The NOTIFICATION to send when action is SESSION_RESET. */
  error: BgpError | null = null;
  /** Filled by decodeAttributes. */
  attrs: PathAttributes | null = null;
  /** Bytes identifying the attribute set (see the header comment); EMPTY when action >= TREAT_AS_WITHDRAW. */
  attrKey: Buffer = EMPTY;
  attrHash = 0;
  /** False when the attribute walk stopped early (RFC 7606 §4). */
  attrsComplete = true;
  /** Repeated attributes that were ignored (RFC 7606 §3.g). */
  duplicates = 0;
  /** Recorded attribute types in wire order (first occurrences only). */
  readonly types = new Uint8Array(256);
  typeCount = 0;
  readonly flagsOf = new Uint8Array(256);
  readonly tlvStart = new Int32Array(256);
  readonly valueStart = new Int32Array(256);
  readonly valueEnd = new Int32Array(256);
  /** Bitmap of recorded types. */
  readonly seen = new Uint32Array(8);
  private readonly reachInfo = new MpReachInfo();
  private readonly unreachInfo = new MpUnreachInfo();
  private readonly eor = new AfiSafiRef();
  private keyBuf: Buffer = Buffer.allocUnsafe(256);

  has(type: number): boolean {
    return (this.seen[type >>> 5]! & (1 << (type & 31))) !== 0;
  }

  /** The whole TLV of a recorded attribute (a view into buf), for logs and tests. */
  attribute(type: number): Buffer | undefined {
    return this.has(type) ? this.buf.subarray(this.tlvStart[type]!, this.valueEnd[type]!) : undefined;
  }

  /** Prefixes announced (classic NLRI + supported MP_REACH). */
  get announcedCount(): number {
    return this.nlriCount + (this.mpReach?.count ?? 0);
  }

  /** Prefixes withdrawn (classic + supported MP_UNREACH), not counting treat-as-withdraw. */
  get withdrawnTotal(): number {
    return this.withdrawnCount + (this.mpUnreach?.count ?? 0);
  }

  /** @internal */
  begin(body: Buffer): void {
    this.buf = body;
    this.withdrawnStart = this.withdrawnEnd = this.withdrawnCount = 0;
    this.attrStart = this.attrEnd = 0;
    this.nlriStart = this.nlriEnd = this.nlriCount = 0;
    this.classicAddPath = false;
    this.mpReach = null;
    this.mpUnreach = null;
    this.endOfRib = null;
    this.action = UpdateAction.NONE;
    this.reason = '';
    this.error = null;
    this.attrs = null;
    this.attrKey = EMPTY;
    this.attrHash = 0;
    this.attrsComplete = true;
    this.duplicates = 0;
    this.typeCount = 0;
    this.seen.fill(0);
  }

  /** @internal */
  note(action: UpdateAction, reason: string): void {
    if (action > this.action) {
      this.action = action;
      this.reason = reason;
    }
  }

  /** @internal */
  fail(err: BgpError): this {
    this.action = UpdateAction.SESSION_RESET;
    this.reason = err.message;
    this.error = err;
    this.attrKey = EMPTY;
    this.attrHash = 0;
    return this;
  }

  /** @internal */
  reach(): MpReachInfo {
    return this.reachInfo;
  }

  /** @internal */
  unreach(): MpUnreachInfo {
    return this.unreachInfo;
  }

  /** @internal */
  eorRef(afi: number, safi: number): AfiSafiRef {
    this.eor.afi = afi;
    this.eor.safi = safi;
    return this.eor;
  }

  /** @internal */
  keyScratch(size: number): Buffer {
    if (this.keyBuf.length < size) this.keyBuf = Buffer.allocUnsafe(Math.max(size, this.keyBuf.length * 2));
    return this.keyBuf;
  }
}

function malformedList(why: string): BgpError {
  return updateError(UpdateSubcode.MALFORMED_ATTRIBUTE_LIST, EMPTY, why);
}

/**
 * Phase 1. Never throws for any input: errors end up in `out.action` / `out.error`.
 * See the header comment for what it checks and how to use the result.
 */
export function locateUpdate(body: Buffer, ctx: UpdateContext, out: ParsedUpdate = new ParsedUpdate()): ParsedUpdate {
  out.begin(body);
  const n = body.length;
  // RFC 4271 §6.3 / RFC 7606 §4: the two length fields must fit the message.
  if (n < 4) return out.fail(malformedList('UPDATE shorter than its length fields'));
  const wlen = u16At(body, 0);
  if (4 + wlen > n) return out.fail(malformedList('withdrawn routes length overruns the message'));
  const alen = u16At(body, 2 + wlen);
  const aStart = 4 + wlen;
  const aEnd = aStart + alen;
  if (aEnd > n) return out.fail(malformedList('total attribute length overruns the message'));
  out.withdrawnStart = 2;
  out.withdrawnEnd = 2 + wlen;
  out.attrStart = aStart;
  out.attrEnd = aEnd;
  out.nlriStart = aEnd;
  out.nlriEnd = n;
  const v4AddPath = (ctx.addPathRx & FamilyBit.IPV4_UNICAST) !== 0;
  out.classicAddPath = v4AddPath;

  // RFC 7606 §5.3: an NLRI field that cannot be parsed ends the session.
  const wc = countNlri(body, 2, 2 + wlen, 32, v4AddPath);
  if (wc < 0) return out.fail(updateError(UpdateSubcode.INVALID_NETWORK_FIELD, EMPTY, 'malformed withdrawn routes'));
  out.withdrawnCount = wc;

  if (!walkAttributes(body, aStart, aEnd, ctx, out)) return out;

  const nc = countNlri(body, aEnd, n, 32, v4AddPath);
  if (nc < 0) return out.fail(updateError(UpdateSubcode.INVALID_NETWORK_FIELD, EMPTY, 'malformed NLRI'));
  out.nlriCount = nc;

  // RFC 7606 §3.d: missing well-known mandatory attributes make the UPDATE a withdrawal.
  // NEXT_HOP is only mandatory with classic NLRI (RFC 4760 §3).
  const reach = out.mpReach;
  const announces = nc > 0 || (reach !== null && (reach.count > 0 || !reach.supported));
  if (announces) {
    if (!out.has(AttrType.ORIGIN)) out.note(UpdateAction.TREAT_AS_WITHDRAW, 'missing ORIGIN');
    if (!out.has(AttrType.AS_PATH)) out.note(UpdateAction.TREAT_AS_WITHDRAW, 'missing AS_PATH');
    if (nc > 0 && !out.has(AttrType.NEXT_HOP)) out.note(UpdateAction.TREAT_AS_WITHDRAW, 'missing NEXT_HOP');
  }

  // RFC 4724 §2: End-of-RIB.
  if (wlen === 0 && nc === 0) {
    if (alen === 0) out.endOfRib = out.eorRef(1, 1);
    else {
      const un = out.mpUnreach;
      if (un !== null && out.typeCount === 1 && out.duplicates === 0 && out.attrsComplete && un.nlriStart === un.nlriEnd) {
        out.endOfRib = out.eorRef(un.afi, un.safi);
      }
    }
  }

  if (out.action < UpdateAction.TREAT_AS_WITHDRAW) buildKey(out);
  return out;
}

/** Walks the attribute TLVs; returns false when the session must be reset. */
function walkAttributes(body: Buffer, start: number, end: number, ctx: UpdateContext, out: ParsedUpdate): boolean {
  let p = start;
  while (p < end) {
    const tlv = p;
    // RFC 7606 §4: too few octets for an attribute header, or a value that overruns
    // the section: treat-as-withdraw, trusting Total Attribute Length for the NLRI.
    if (end - p < 3) {
      out.note(UpdateAction.TREAT_AS_WITHDRAW, 'attribute section ends inside an attribute header');
      out.attrsComplete = false;
      break;
    }
    const flags = body[p]!;
    const type = body[p + 1]!;
    let vs: number;
    let len: number;
    if ((flags & AttrFlag.EXTENDED_LENGTH) !== 0) {
      if (end - p < 4) {
        out.note(UpdateAction.TREAT_AS_WITHDRAW, 'attribute section ends inside an attribute header');
        out.attrsComplete = false;
        break;
      }
      len = u16At(body, p + 2);
      vs = p + 4;
    } else {
      len = body[p + 2]!;
      vs = p + 3;
    }
    const ve = vs + len;
    if (ve > end) {
      // Treat-as-withdraw needs every NLRI; an MP attribute we cannot read hides some
      // (RFC 7606 §5), so that case ends the session.
      if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
        out.fail(malformedList('MP attribute overruns the attribute section'));
        return false;
      }
      out.note(UpdateAction.TREAT_AS_WITHDRAW, 'attribute length overruns the attribute section');
      out.attrsComplete = false;
      break;
    }
    p = ve;
    const word = type >>> 5;
    const bit = 1 << (type & 31);
    if ((out.seen[word]! & bit) !== 0) {
      // RFC 7606 §3.g: repeated MP attributes end the session, others are ignored.
      if (type === AttrType.MP_REACH_NLRI || type === AttrType.MP_UNREACH_NLRI) {
        out.fail(malformedList('MP attribute appears twice'));
        return false;
      }
      out.duplicates++;
      continue;
    }
    out.seen[word] = out.seen[word]! | bit;
    out.types[out.typeCount++] = type;
    out.flagsOf[type] = flags;
    out.tlvStart[type] = tlv;
    out.valueStart[type] = vs;
    out.valueEnd[type] = ve;
    if (KNOWN_TYPES[type] === 0) {
      // RFC 4271 §6.3: an unrecognised well-known attribute ends the session.
      if ((flags & AttrFlag.OPTIONAL) === 0) {
        out.fail(
          updateError(
            UpdateSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
            copyBytes(body, tlv, ve),
            `unrecognised well-known attribute ${type}`,
          ),
        );
        return false;
      }
      continue;
    }
    if (type === AttrType.MP_REACH_NLRI) {
      const info = out.reach();
      const err = locateMpReach(body, flags, tlv, vs, ve, ctx, info);
      if (err !== null) {
        out.fail(err);
        return false;
      }
      out.mpReach = info;
    } else if (type === AttrType.MP_UNREACH_NLRI) {
      const info = out.unreach();
      const err = locateMpUnreach(body, flags, tlv, vs, ve, ctx, info);
      if (err !== null) {
        out.fail(err);
        return false;
      }
      out.mpUnreach = info;
    }
  }
  return true;
}

/**
 * attrKey = the attribute section without MP TLVs, followed (when MP_REACH is present)
 * by a synthetic MP_REACH TLV holding only AFI, SAFI and the next hop. The synthetic TLV
 * keeps keys unambiguous: a real type-14 TLV is never left in the copied part.
 */
function buildKey(out: ParsedUpdate): void {
  const b = out.buf;
  const reach = out.mpReach;
  const unreach = out.mpUnreach;
  if (reach === null && unreach === null) {
    out.attrKey = b.subarray(out.attrStart, out.attrEnd);
    out.attrHash = fnv1a(b, out.attrStart, out.attrEnd);
    return;
  }
  const nhLen = reach === null ? 0 : reach.nextHopLen;
  const key = out.keyScratch(out.attrEnd - out.attrStart + 8 + nhLen);
  // Cut at most two ranges out of the section, in wire order.
  let cut1s = -1;
  let cut1e = -1;
  let cut2s = -1;
  let cut2e = -1;
  if (reach !== null) {
    cut1s = out.tlvStart[AttrType.MP_REACH_NLRI]!;
    cut1e = out.valueEnd[AttrType.MP_REACH_NLRI]!;
  }
  if (unreach !== null) {
    const s = out.tlvStart[AttrType.MP_UNREACH_NLRI]!;
    const e = out.valueEnd[AttrType.MP_UNREACH_NLRI]!;
    if (cut1s < 0) {
      cut1s = s;
      cut1e = e;
    } else if (s < cut1s) {
      cut2s = cut1s;
      cut2e = cut1e;
      cut1s = s;
      cut1e = e;
    } else {
      cut2s = s;
      cut2e = e;
    }
  }
  let k = b.copy(key, 0, out.attrStart, cut1s);
  if (cut2s < 0) {
    k += b.copy(key, k, cut1e, out.attrEnd);
  } else {
    k += b.copy(key, k, cut1e, cut2s);
    k += b.copy(key, k, cut2e, out.attrEnd);
  }
  if (reach !== null) {
    const len = 4 + nhLen;
    key[k++] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
    key[k++] = AttrType.MP_REACH_NLRI;
    key[k++] = len >>> 8;
    key[k++] = len & 0xff;
    key[k++] = reach.afi >>> 8;
    key[k++] = reach.afi & 0xff;
    key[k++] = reach.safi;
    key[k++] = nhLen;
    k += b.copy(key, k, reach.nextHopStart, reach.nextHopStart + nhLen);
  }
  out.attrKey = key.subarray(0, k);
  out.attrHash = fnv1a(key, 0, k);
}

/**
 * Phase 2. Decodes the attributes recorded by locateUpdate into a new PathAttributes
 * (also stored in `p.attrs`), raising `p.action` per RFC 7606. Returns null when the
 * session is being reset. Never throws. AS4_PATH/AS4_AGGREGATOR are merged for OLD
 * peers (RFC 6793 §4.2.3) and ignored otherwise.
 */
export function decodeAttributes(p: ParsedUpdate, ctx: UpdateContext): PathAttributes | null {
  if (p.error !== null) return null;
  const out = emptyAttributes();
  const scratch: DecodeScratch = { as4Path: undefined, as4Aggregator: undefined };
  const buf = p.buf;
  let asPathValid = true;
  for (let i = 0; i < p.typeCount; i++) {
    const type = p.types[i]!;
    const flags = p.flagsOf[type]!;
    const vs = p.valueStart[type]!;
    const ve = p.valueEnd[type]!;
    const d = ATTR_TABLE[type];
    if (d === undefined) {
      // Unrecognised optional: transitive ones travel on with Partial set (RFC 4271 §5),
      // non-transitive ones are dropped. Well-known ones never get here (locate).
      if ((flags & OPT_TRANS) === OPT_TRANS) {
        out.unknown.push({ flags: (flags | AttrFlag.PARTIAL) & 0xe0, type, value: copyBytes(buf, vs, ve) });
      }
      continue;
    }
    // RFC 7606 §3.c: wrong Optional/Transitive bits make the attribute malformed, handled
    // as that attribute's own error.
    const wrongFlags = (flags & OPT_TRANS) !== d.flags;
    const act = wrongFlags ? d.onError : d.decode(buf, vs, ve, ctx, out, scratch);
    if (act !== UpdateAction.NONE) {
      if (type === AttrType.AS_PATH) asPathValid = false;
      if (act > p.action) p.note(act, wrongFlags ? `${d.name} has wrong flags` : `${d.name} malformed`);
    }
  }
  if (!ctx.fourOctetAs) applyAs4(out, scratch, asPathValid);
  if (asPathValid && ctx.ebgp && ctx.enforceFirstAs && p.has(AttrType.AS_PATH)) {
    const first = out.asPath[0];
    if (first === undefined || first.type !== 2 || first.asns[0] !== ctx.peerAs) {
      p.note(UpdateAction.TREAT_AS_WITHDRAW, 'AS_PATH does not start with the peer AS');
    }
  }
  const reach = p.mpReach;
  if (reach !== null && reach.supported) {
    const s = reach.nextHopStart;
    const globalLen = reach.nextHopLen === 32 ? 16 : reach.nextHopLen;
    out.mpNextHop = {
      global: copyBytes(buf, s, s + globalLen),
      linkLocal: reach.nextHopLen === 32 ? copyBytes(buf, s + 16, s + 32) : undefined,
    };
  }
  p.attrs = out;
  return out;
}

/** locateUpdate + decodeAttributes (unless the session is being reset). For tests and tools. */
export function parseUpdate(body: Buffer, ctx: UpdateContext, out: ParsedUpdate = new ParsedUpdate()): ParsedUpdate {
  locateUpdate(body, ctx, out);
  decodeAttributes(out, ctx);
  return out;
}

/** Throws the session-ending error of a parse result, if any (for callers that prefer exceptions). */
export function throwIfReset(p: ParsedUpdate): void {
  if (p.error !== null) throw p.error;
}
