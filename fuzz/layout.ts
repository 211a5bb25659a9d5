// Lenient walks over BGP bytes that report where the length fields, TLVs and prefix
// length octets are, for the BGP-aware mutators. They never throw and stop at the
// first thing that does not fit: a mutated input is usually half broken.
import type { LengthField, Layout, Span } from './mutate.js';

const HEADER_LEN = 19;

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

interface Acc {
  lengths: LengthField[];
  tlvs: Span[];
  prefixLens: number[];
}

function acc(): Acc {
  return { lengths: [], tlvs: [], prefixLens: [] };
}

/** Prefix length octets of an NLRI field (no ADD-PATH ids assumed, unless `addPath`). */
function walkNlri(b: Uint8Array, start: number, end: number, addPath: boolean, out: Acc): void {
  let p = start;
  while (p < end) {
    if (addPath) p += 4;
    if (p >= end) return;
    out.prefixLens.push(p);
    p += 1 + ((b[p]! + 7) >>> 3);
  }
}

function walkAsPath(b: Uint8Array, start: number, end: number, out: Acc): void {
  let p = start;
  // Segment length octets; assume 4-byte ASNs (the 2-byte case is found by `fit` below).
  while (p + 2 <= end) {
    const n = b[p + 1]!;
    out.lengths.push({ off: p + 1, size: 1, fit: Math.floor((end - p - 2) / 4) });
    p += 2 + n * 4;
  }
}

/** Attribute TLVs of an UPDATE attribute section at [start, end) of `b`. */
function walkAttributes(b: Uint8Array, start: number, end: number, out: Acc): void {
  let p = start;
  while (p + 3 <= end) {
    const flags = b[p]!;
    const type = b[p + 1]!;
    const ext = (flags & 0x10) !== 0;
    if (ext && p + 4 > end) return;
    const len = ext ? u16(b, p + 2) : b[p + 2]!;
    const vs = p + (ext ? 4 : 3);
    const ve = Math.min(vs + len, end);
    out.lengths.push({ off: p + 2, size: ext ? 2 : 1, fit: end - vs });
    out.tlvs.push({ start: p, end: ve });
    if (type === 14 && ve - vs >= 5) {
      const nh = b[vs + 3]!;
      out.lengths.push({ off: vs + 3, size: 1, fit: b[vs + 1] === 2 ? 16 : 4 });
      walkNlri(b, vs + 5 + nh, ve, false, out);
    } else if (type === 15 && ve - vs >= 3) {
      walkNlri(b, vs + 3, ve, false, out);
    } else if (type === 2 || type === 17) {
      walkAsPath(b, vs, ve, out);
    }
    if (vs + len > end) return;
    p = vs + len;
  }
}

function updateInto(b: Uint8Array, base: number, end: number, out: Acc): void {
  if (end - base < 2) return;
  const wlen = u16(b, base);
  out.lengths.push({ off: base, size: 2, fit: 0 });
  const wEnd = Math.min(base + 2 + wlen, end);
  walkNlri(b, base + 2, wEnd, false, out);
  const a = base + 2 + wlen;
  if (a + 2 > end) return;
  const alen = u16(b, a);
  out.lengths.push({ off: a, size: 2, fit: end - a - 2 });
  const aEnd = Math.min(a + 2 + alen, end);
  walkAttributes(b, a + 2, aEnd, out);
  walkNlri(b, aEnd, end, false, out);
}

/** Layout of an UPDATE body (no header). */
export function updateLayout(b: Uint8Array): Layout {
  const out = acc();
  updateInto(b, 0, b.length, out);
  return out;
}

/** Optional parameters and capabilities of an OPEN body starting at `base`. */
function openInto(b: Uint8Array, base: number, end: number, out: Acc): void {
  if (end - base < 10) return;
  const optLen = b[base + 9]!;
  out.lengths.push({ off: base + 9, size: 1, fit: end - base - 10 });
  let p = base + 10;
  const extended = optLen !== 0 && p < end && b[p] === 255;
  let pEnd: number;
  if (extended) {
    if (p + 3 > end) return;
    out.lengths.push({ off: p + 1, size: 2, fit: end - p - 3 });
    pEnd = Math.min(p + 3 + u16(b, p + 1), end);
    p += 3;
  } else {
    pEnd = Math.min(p + optLen, end);
  }
  while (p + (extended ? 3 : 2) <= pEnd) {
    const len = extended ? u16(b, p + 1) : b[p + 1]!;
    const vs = p + (extended ? 3 : 2);
    out.lengths.push({ off: p + 1, size: extended ? 2 : 1, fit: pEnd - vs });
    const ve = Math.min(vs + len, pEnd);
    out.tlvs.push({ start: p, end: ve });
    let q = vs;
    if (b[p] === 2) {
      while (q + 2 <= ve) {
        out.lengths.push({ off: q + 1, size: 1, fit: ve - q - 2 });
        out.tlvs.push({ start: q, end: Math.min(q + 2 + b[q + 1]!, ve) });
        q += 2 + b[q + 1]!;
      }
    }
    p = vs + len;
  }
}

/** Layout of a stream of whole messages (headers included). */
export function streamLayout(b: Uint8Array): Layout {
  const out = acc();
  let p = 0;
  while (p + HEADER_LEN <= b.length) {
    const len = u16(b, p + 16);
    const type = b[p + 18]!;
    const rest = b.length - p;
    out.lengths.push({ off: p + 16, size: 2, fit: Math.min(rest, 0xffff) });
    const end = len >= HEADER_LEN && len <= rest ? p + len : b.length;
    out.tlvs.push({ start: p, end });
    if (type === 2) updateInto(b, p + HEADER_LEN, end, out);
    else if (type === 1) openInto(b, p + HEADER_LEN, end, out);
    if (len < HEADER_LEN) return out;
    p = end;
  }
  return out;
}
