// Structure-aware mutation of UPDATE bodies: parse into withdrawn / attributes / NLRI,
// change one thing, write back with every length consistent. Consistent lengths get
// mutants past locateUpdate's framing checks into the attribute decoders and the
// RFC 7606 logic; the raw mutators cover the inconsistent cases.
import type { Rng } from '../rng.js';
import { mutateRaw } from '../mutate.js';
import { updateLayout } from '../layout.js';

export interface AttrTlv {
  flags: number;
  type: number;
  value: Buffer;
}

export interface UpdateModel {
  withdrawn: Buffer;
  attrs: AttrTlv[];
  nlri: Buffer;
}

/** Largest UPDATE body (65535-byte extended message minus the header). */
export const MAX_UPDATE_BODY = 65535 - 19;

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** Parses a body whose lengths are all consistent; undefined otherwise. */
export function parseUpdateModel(b: Buffer): UpdateModel | undefined {
  if (b.length < 4) return undefined;
  const wlen = u16(b, 0);
  if (4 + wlen > b.length) return undefined;
  const alen = u16(b, 2 + wlen);
  const aStart = 4 + wlen;
  const aEnd = aStart + alen;
  if (aEnd > b.length) return undefined;
  const attrs: AttrTlv[] = [];
  let p = aStart;
  while (p < aEnd) {
    if (p + 3 > aEnd) return undefined;
    const flags = b[p]!;
    const ext = (flags & 0x10) !== 0;
    if (ext && p + 4 > aEnd) return undefined;
    const len = ext ? u16(b, p + 2) : b[p + 2]!;
    const vs = p + (ext ? 4 : 3);
    if (vs + len > aEnd) return undefined;
    attrs.push({ flags, type: b[p + 1]!, value: b.subarray(vs, vs + len) });
    p = vs + len;
  }
  return { withdrawn: b.subarray(2, 2 + wlen), attrs, nlri: b.subarray(aEnd) };
}

export function attrBytes(a: AttrTlv): Buffer {
  const len = a.value.length;
  // A value too long for one octet forces the Extended Length bit.
  const ext = (a.flags & 0x10) !== 0 || len > 255;
  const flags = ext ? a.flags | 0x10 : a.flags;
  const head = ext ? Buffer.of(flags, a.type, len >>> 8, len & 0xff) : Buffer.of(flags, a.type, len);
  return Buffer.concat([head, a.value]);
}

export function serializeUpdate(m: UpdateModel): Buffer {
  const attrs = Buffer.concat(m.attrs.map(attrBytes));
  const w = m.withdrawn.subarray(0, 0xffff);
  const a = attrs.subarray(0, 0xffff);
  const out = Buffer.concat([Buffer.of(w.length >>> 8, w.length & 0xff), w, Buffer.of(a.length >>> 8, a.length & 0xff), a, m.nlri]);
  return out.length > MAX_UPDATE_BODY ? out.subarray(0, MAX_UPDATE_BODY) : out;
}

// ---------------------------------------------------------------------------
// Building blocks.

/** One NLRI entry with a random (mostly valid) prefix. */
export function randomPrefix(rng: Rng, v6: boolean, addPath: boolean): Buffer {
  const max = v6 ? 128 : 32;
  const len = rng.oneIn(8) ? rng.range(max - 2, max + 2) : rng.below(max + 1);
  const nb = (len + 7) >>> 3;
  const out = Buffer.allocUnsafe((addPath ? 4 : 0) + 1 + nb);
  let p = 0;
  if (addPath) {
    out.writeUInt32BE(rng.oneIn(2) ? rng.below(4) : rng.u32(), 0);
    p = 4;
  }
  out[p++] = len;
  for (let i = 0; i < nb; i++) out[p + i] = rng.byte();
  return out;
}

export function randomNlri(rng: Rng, v6: boolean, addPath: boolean, max = 6): Buffer {
  const parts: Buffer[] = [];
  const n = rng.below(max + 1);
  for (let i = 0; i < n; i++) parts.push(randomPrefix(rng, v6, addPath));
  return Buffer.concat(parts);
}

function asPathValue(rng: Rng, asn4: boolean): Buffer {
  const parts: Buffer[] = [];
  const segs = rng.range(0, 3);
  for (let s = 0; s < segs; s++) {
    const type = rng.oneIn(5) ? rng.pick([0, 1, 3, 4, 5]) : 2;
    const n = rng.oneIn(10) ? rng.pick([0, 255]) : rng.range(1, 6);
    const seg = Buffer.alloc(2 + n * (asn4 ? 4 : 2));
    seg[0] = type;
    seg[1] = n;
    for (let i = 0; i < n; i++) {
      const asn = rng.oneIn(6) ? rng.pick([0, 23456, 65535, 65536, 4294967295]) : rng.range(1, 70000);
      if (asn4) seg.writeUInt32BE(asn >>> 0, 2 + i * 4);
      else seg.writeUInt16BE(asn & 0xffff, 2 + i * 2);
    }
    parts.push(seg);
  }
  return Buffer.concat(parts);
}

function words(rng: Rng, n: number): Buffer {
  const b = Buffer.allocUnsafe(n * 4);
  for (let i = 0; i < n; i++) b.writeUInt32BE(rng.u32(), i * 4);
  return b;
}

/** MP_REACH_NLRI value: AFI SAFI nhLen nh reserved NLRI. */
export function mpReachValue(rng: Rng): Buffer {
  const [afi, safi] = rng.pick([
    [2, 1],
    [2, 1],
    [1, 1],
    [2, 2],
    [1, 128],
    [25, 70],
    [0, 0],
  ] as const);
  const nhLen = rng.oneIn(4) ? rng.pick([0, 1, 4, 12, 15, 16, 17, 24, 32, 33, 255]) : afi === 2 ? rng.pick([16, 32]) : 4;
  const nh = Buffer.allocUnsafe(nhLen);
  for (let i = 0; i < nhLen; i++) nh[i] = rng.byte();
  const nlri = randomNlri(rng, afi === 2, rng.oneIn(4));
  return Buffer.concat([Buffer.of(afi >>> 8, afi & 0xff, safi, nhLen), nh, Buffer.of(0), nlri]);
}

export function mpUnreachValue(rng: Rng): Buffer {
  const [afi, safi] = rng.pick([
    [2, 1],
    [1, 1],
    [2, 2],
    [3, 1],
  ] as const);
  return Buffer.concat([Buffer.of(afi >>> 8, afi & 0xff, safi), randomNlri(rng, afi === 2, rng.oneIn(4))]);
}

/** A fresh attribute of a random known (or unknown) type, usually with sane flags and size. */
export function randomAttr(rng: Rng): AttrTlv {
  const type = rng.oneIn(10)
    ? rng.pick([0, 11, 12, 13, 19, 20, 22, 25, 26, 28, 29, 33, 35, 40, 128, 255])
    : rng.pick([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);
  const wellKnown = [1, 2, 3, 5, 6].includes(type);
  const optTrans = [7, 8, 16, 17, 18, 32].includes(type);
  let flags = wellKnown ? 0x40 : optTrans ? 0xc0 : 0x80;
  if (rng.oneIn(8)) flags ^= rng.pick([0x80, 0x40, 0x20, 0x10]);
  const asn4 = rng.oneIn(2);
  let value: Buffer;
  switch (type) {
    case 1:
      value = Buffer.of(rng.oneIn(6) ? rng.byte() : rng.below(3));
      break;
    case 2:
    case 17:
      value = asPathValue(rng, type === 17 || asn4);
      break;
    case 3:
    case 4:
    case 5:
    case 9:
      value = words(rng, 1);
      break;
    case 6:
      value = Buffer.alloc(0);
      break;
    case 7:
    case 18: {
      // AS (AS 0, AS_TRANS and the 2-octet limit are the interesting ones) + address
      const asn = rng.oneIn(2) ? rng.pick([0, 1, 23456, 65535, 65536, 4200000001]) : rng.u32();
      const wide = type === 18 || asn4;
      value = Buffer.alloc(wide ? 8 : 6);
      if (wide) value.writeUInt32BE(asn >>> 0, 0);
      else value.writeUInt16BE(asn & 0xffff, 0);
      value.writeUInt32BE(rng.u32(), wide ? 4 : 2);
      break;
    }
    case 8:
    case 10:
      value = words(rng, rng.range(1, 8));
      break;
    case 16:
      value = words(rng, 2 * rng.range(1, 4));
      break;
    case 32:
      value = words(rng, 3 * rng.range(1, 3));
      break;
    case 14:
      value = mpReachValue(rng);
      break;
    case 15:
      value = mpUnreachValue(rng);
      break;
    default:
      value = words(rng, rng.below(4));
  }
  // Sometimes the wrong size.
  if (rng.oneIn(6)) value = rng.oneIn(2) ? value.subarray(0, rng.below(value.length + 1)) : Buffer.concat([value, Buffer.of(rng.byte())]);
  return { flags, type, value };
}

// ---------------------------------------------------------------------------
// The mutation.

const MAX_ATTRS = 64;

/** One structural change; undefined when `body` does not parse. */
export function mutateUpdate(body: Buffer, rng: Rng, other: Buffer): Buffer | undefined {
  const m = parseUpdateModel(body);
  if (m === undefined) return undefined;
  const n = 1 + (rng.oneIn(3) ? rng.below(3) : 0);
  for (let i = 0; i < n; i++) mutateModel(m, rng, other);
  return serializeUpdate(m);
}

function valueCtx(other: Buffer): { maxLen: number; other: Buffer; layout: typeof noLayout } {
  return { maxLen: 4096, other, layout: noLayout };
}

function noLayout(): { lengths: []; tlvs: []; prefixLens: [] } {
  return { lengths: [], tlvs: [], prefixLens: [] };
}

export function mutateModel(m: UpdateModel, rng: Rng, other: Buffer): void {
  const attrs = m.attrs;
  switch (rng.below(14)) {
    case 0: // mutate an attribute value's bytes
    case 1: {
      if (attrs.length === 0) break;
      const a = rng.pick(attrs);
      a.value = mutateRaw(a.value, rng, valueCtx(a.value));
      break;
    }
    case 2: // flags
      if (attrs.length > 0) rng.pick(attrs).flags ^= rng.pick([0x80, 0x40, 0x20, 0x10, 0x08, 0x01]);
      break;
    case 3: // type
      if (attrs.length > 0) rng.pick(attrs).type = rng.oneIn(2) ? rng.byte() : rng.pick([1, 2, 3, 5, 14, 15, 17, 18]);
      break;
    case 4: // duplicate an attribute
      if (attrs.length > 0 && attrs.length < MAX_ATTRS) {
        const a = rng.pick(attrs);
        attrs.splice(rng.below(attrs.length + 1), 0, { ...a });
      }
      break;
    case 5: // remove one
      if (attrs.length > 0) attrs.splice(rng.below(attrs.length), 1);
      break;
    case 6: {
      // swap two
      if (attrs.length < 2) break;
      const i = rng.below(attrs.length);
      const j = rng.below(attrs.length);
      [attrs[i], attrs[j]] = [attrs[j]!, attrs[i]!];
      break;
    }
    case 7: // add a fresh attribute
      if (attrs.length < MAX_ATTRS) attrs.splice(rng.below(attrs.length + 1), 0, randomAttr(rng));
      break;
    case 8: {
      // take an attribute from the other input
      const o = parseUpdateModel(other);
      if (o === undefined || o.attrs.length === 0 || attrs.length >= MAX_ATTRS) break;
      const a = rng.pick(o.attrs);
      const same = attrs.findIndex((x) => x.type === a.type);
      if (same >= 0 && rng.oneIn(2)) attrs[same] = { ...a };
      else attrs.splice(rng.below(attrs.length + 1), 0, { ...a });
      break;
    }
    case 9: // withdrawn routes
      m.withdrawn = rng.oneIn(3) ? Buffer.alloc(0) : Buffer.concat([m.withdrawn, randomNlri(rng, false, rng.oneIn(4), 3)]);
      break;
    case 10: // NLRI
      m.nlri = rng.oneIn(3) ? Buffer.alloc(0) : Buffer.concat([m.nlri, randomNlri(rng, false, rng.oneIn(4), 3)]);
      break;
    case 11: {
      // grow: repeat an attribute's value (long AS_PATH, many communities, extended length)
      if (attrs.length === 0) break;
      const a = rng.pick(attrs);
      if (a.value.length === 0) break;
      const times = rng.pick([2, 4, 16, 64, 300]);
      const parts: Buffer[] = [];
      for (let t = 0; t < times && parts.length * a.value.length < 20000; t++) parts.push(a.value);
      a.value = Buffer.concat(parts);
      break;
    }
    case 12: // ADD-PATH-ify or strip the NLRI fields (4 bytes in front of each entry)
      m.nlri = Buffer.concat([Buffer.of(0, 0, 0, rng.below(3)), m.nlri]);
      break;
    default: {
      // raw mutation of the body with its length fields walked
      const raw = mutateRaw(serializeUpdate(m), rng, { maxLen: MAX_UPDATE_BODY, other, layout: updateLayout });
      const again = parseUpdateModel(raw);
      if (again !== undefined) {
        m.withdrawn = again.withdrawn;
        m.attrs = again.attrs;
        m.nlri = again.nlri;
      }
    }
  }
}
