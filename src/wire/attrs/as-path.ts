// AS_PATH (type 2, RFC 4271 §4.3 / §5.1.2) and AS4_PATH (type 17, RFC 6793).
import { UpdateAction } from '../errors.js';
import { AS_TRANS, AsPathSegment as SegType, AttrFlag, AttrType } from '../iana.js';
import type { Writer } from '../writer.js';
import type { AttrDescriptor } from './descriptor.js';
import { writeAttrHeader } from './descriptor.js';
import type { AsPathSegment } from './types.js';

const MAX_SEGMENT = 255; // the segment length field is one octet

/**
 * Parses path segments with `asnSize`-byte AS numbers. Returns null when malformed
 * (RFC 7606 §7.2: unknown segment type, zero-length segment, overrun, a lone trailing
 * octet) or when an AS number is 0 (RFC 7607).
 */
export function parseSegments(buf: Uint8Array, start: number, end: number, asnSize: 2 | 4): AsPathSegment[] | null {
  const segs: AsPathSegment[] = [];
  let p = start;
  while (p < end) {
    if (p + 2 > end) return null;
    const type = buf[p]!;
    const n = buf[p + 1]!;
    if (type < SegType.AS_SET || type > SegType.AS_CONFED_SET || n === 0) return null;
    p += 2;
    if (p + n * asnSize > end) return null;
    const asns = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const asn =
        asnSize === 4
          ? ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0
          : (buf[p]! << 8) | buf[p + 1]!;
      if (asn === 0) return null;
      asns[i] = asn;
      p += asnSize;
    }
    segs.push({ type: type as AsPathSegment['type'], asns });
  }
  return segs;
}

/** Path length for best-path and the RFC 6793 merge: AS_SET counts 1, confederation segments 0. */
export function asPathCount(segs: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segs) {
    if (s.type === SegType.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === SegType.AS_SET) n += 1;
  }
  return n;
}

export function isConfedSegment(s: AsPathSegment): boolean {
  return s.type === SegType.AS_CONFED_SEQUENCE || s.type === SegType.AS_CONFED_SET;
}

/** Encoded size of the segments; segments longer than 255 ASNs are split in pieces. */
export function segmentsLength(segs: readonly AsPathSegment[], asnSize: 2 | 4): number {
  let len = 0;
  for (const s of segs) {
    const n = s.asns.length;
    if (n === 0) continue;
    len += 2 * Math.ceil(n / MAX_SEGMENT) + n * asnSize;
  }
  return len;
}

/** Writes segments; with 2-byte ASNs, numbers that do not fit become AS_TRANS (RFC 6793 §4.2.2). */
export function writeSegments(w: Writer, segs: readonly AsPathSegment[], asnSize: 2 | 4): void {
  for (const s of segs) {
    const asns = s.asns;
    for (let from = 0; from < asns.length; from += MAX_SEGMENT) {
      const to = Math.min(asns.length, from + MAX_SEGMENT);
      w.u8(s.type).u8(to - from);
      for (let i = from; i < to; i++) {
        const asn = asns[i]!;
        if (asnSize === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

function hasWideAsn(segs: readonly AsPathSegment[]): boolean {
  for (const s of segs) for (const a of s.asns) if (a > 0xffff) return true;
  return false;
}

export const AS_PATH: AttrDescriptor = {
  type: AttrType.AS_PATH,
  name: 'AS_PATH',
  flags: AttrFlag.TRANSITIVE,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, ctx, out) {
    const segs = parseSegments(buf, start, end, ctx.fourOctetAs ? 4 : 2);
    if (segs === null) return UpdateAction.TREAT_AS_WITHDRAW;
    // We run no confederation: such segments may not come from an external peer (RFC 5065 §5).
    if (ctx.ebgp && segs.some(isConfedSegment)) return UpdateAction.TREAT_AS_WITHDRAW;
    out.asPath = segs;
    return UpdateAction.NONE;
  },
  encode(attrs, ctx, w) {
    // Well-known mandatory: written even when empty (a locally originated iBGP route).
    const size = ctx.fourOctetAs ? 4 : 2;
    writeAttrHeader(w, AttrFlag.TRANSITIVE, AttrType.AS_PATH, segmentsLength(attrs.asPath, size));
    writeSegments(w, attrs.asPath, size);
  },
};

export const AS4_PATH: AttrDescriptor = {
  type: AttrType.AS4_PATH,
  name: 'AS4_PATH',
  flags: AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE,
  onError: UpdateAction.ATTRIBUTE_DISCARD,
  decode(buf, start, end, ctx, _out, scratch) {
    // RFC 6793 §4.1: between NEW speakers the attribute has no business here; ignore it.
    if (ctx.fourOctetAs) return UpdateAction.NONE;
    const segs = parseSegments(buf, start, end, 4);
    if (segs === null) return UpdateAction.ATTRIBUTE_DISCARD;
    // RFC 6793 §6: confederation segments in AS4_PATH are dropped, the rest is used.
    scratch.as4Path = segs.some(isConfedSegment) ? segs.filter((s) => !isConfedSegment(s)) : segs;
    return UpdateAction.NONE;
  },
  encode(attrs, ctx, w) {
    // RFC 6793 §4.2.2: only towards an OLD speaker, only when some ASN needs 4 octets,
    // and never with confederation segments.
    if (ctx.fourOctetAs) return;
    const segs = attrs.asPath.filter((s) => !isConfedSegment(s));
    if (!hasWideAsn(segs)) return;
    writeAttrHeader(w, AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE, AttrType.AS4_PATH, segmentsLength(segs, 4));
    writeSegments(w, segs, 4);
  },
};
