// Byte-level mutators (libFuzzer's classic set) plus the BGP-aware ones that need to
// know where length fields, TLVs and prefix length octets are: the target supplies that
// as a Layout, found by a lenient walk of the input (see layout.ts).
import type { Rng } from './rng.js';

/** A length field the mutator may rewrite. `fit` is the value that matches what follows. */
export interface LengthField {
  readonly off: number;
  readonly size: 1 | 2;
  readonly fit: number;
}

export interface Span {
  readonly start: number;
  readonly end: number;
}

/** Where the interesting fields of an input are (offsets into it). */
export interface Layout {
  readonly lengths: LengthField[];
  /** Whole TLVs (attributes, capabilities, messages) that may be duplicated or dropped. */
  readonly tlvs: Span[];
  /** NLRI prefix length octets. */
  readonly prefixLens: number[];
}

export const EMPTY_LAYOUT: Layout = { lengths: [], tlvs: [], prefixLens: [] };

const INTERESTING_8 = [0, 1, 2, 3, 4, 0x0f, 0x10, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xe0, 0xfe, 0xff];
const INTERESTING_16 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x3fff, 0x7fff, 0x8000, 0xfff, 0x1000, 0x1001, 0xffef, 0xfffe, 0xffff];
/** Prefix lengths around the family limits and byte boundaries. */
const PREFIX_LENS = [0, 1, 7, 8, 9, 16, 23, 24, 25, 31, 32, 33, 48, 64, 96, 127, 128, 129, 200, 255];

export type RawOp = (b: Buffer, rng: Rng, ctx: MutateContext) => Buffer;

export interface MutateContext {
  readonly maxLen: number;
  /** Another corpus entry for crossover (may be the same as the input). */
  readonly other: Buffer;
  readonly layout: (b: Buffer) => Layout;
}

function u16(b: Buffer, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function copyOf(b: Buffer): Buffer {
  const c = Buffer.allocUnsafe(b.length);
  b.copy(c);
  return c;
}

function clampLen(b: Buffer, max: number): Buffer {
  return b.length > max ? b.subarray(0, max) : b;
}

const flipBit: RawOp = (b, rng) => {
  if (b.length === 0) return b;
  const c = copyOf(b);
  const i = rng.below(c.length);
  c[i] = c[i]! ^ (1 << rng.below(8));
  return c;
};

const setInteresting8: RawOp = (b, rng) => {
  if (b.length === 0) return b;
  const c = copyOf(b);
  c[rng.below(c.length)] = rng.pick(INTERESTING_8);
  return c;
};

const setInteresting16: RawOp = (b, rng) => {
  if (b.length < 2) return b;
  const c = copyOf(b);
  u16(c, rng.below(c.length - 1), rng.pick(INTERESTING_16));
  return c;
};

/** 4-byte values that matter in BGP: AS 0, AS_TRANS, the 2/4-octet AS limits, all ones. */
const INTERESTING_32 = [0, 1, 23456, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

const setInteresting32: RawOp = (b, rng) => {
  if (b.length < 4) return b;
  const c = copyOf(b);
  c.writeUInt32BE(rng.pick(INTERESTING_32), rng.below(c.length - 3));
  return c;
};

const randomByte: RawOp = (b, rng) => {
  if (b.length === 0) return Buffer.of(rng.byte());
  const c = copyOf(b);
  c[rng.below(c.length)] = rng.byte();
  return c;
};

const arith: RawOp = (b, rng) => {
  if (b.length === 0) return b;
  const c = copyOf(b);
  const i = rng.below(c.length);
  const d = rng.range(1, 35) * (rng.oneIn(2) ? 1 : -1);
  if (i + 1 < c.length && rng.oneIn(2)) u16(c, i, (((c[i]! << 8) | c[i + 1]!) + d) & 0xffff);
  else c[i] = (c[i]! + d) & 0xff;
  return c;
};

const insertBytes: RawOp = (b, rng, ctx) => {
  const n = rng.oneIn(8) ? rng.range(17, 300) : rng.range(1, 16);
  const ins = Buffer.allocUnsafe(n);
  if (rng.oneIn(2)) ins.fill(rng.oneIn(2) ? rng.pick(INTERESTING_8) : rng.byte());
  else for (let i = 0; i < n; i++) ins[i] = rng.byte();
  const at = rng.below(b.length + 1);
  return clampLen(Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]), ctx.maxLen);
};

const deleteBytes: RawOp = (b, rng) => {
  if (b.length === 0) return b;
  const n = Math.min(b.length, rng.oneIn(4) ? rng.range(1, Math.max(1, b.length >>> 1)) : rng.range(1, 8));
  const at = rng.below(b.length - n + 1);
  return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
};

const duplicateChunk: RawOp = (b, rng, ctx) => {
  if (b.length === 0) return b;
  const s = rng.below(b.length);
  const e = s + 1 + rng.below(Math.min(64, b.length - s));
  const at = rng.below(b.length + 1);
  return clampLen(Buffer.concat([b.subarray(0, at), b.subarray(s, e), b.subarray(at)]), ctx.maxLen);
};

const overwriteChunk: RawOp = (b, rng) => {
  if (b.length < 2) return b;
  const c = copyOf(b);
  const n = 1 + rng.below(Math.min(16, c.length - 1));
  const from = rng.below(c.length - n + 1);
  const to = rng.below(c.length - n + 1);
  b.copy(c, to, from, from + n);
  return c;
};

const splice: RawOp = (b, rng, ctx) => {
  const o = ctx.other;
  if (o.length === 0) return b;
  if (rng.oneIn(2)) {
    // Head of this input, tail of the other one.
    const i = rng.below(b.length + 1);
    const j = rng.below(o.length + 1);
    return clampLen(Buffer.concat([b.subarray(0, i), o.subarray(j)]), ctx.maxLen);
  }
  // A chunk of the other one inserted here.
  const s = rng.below(o.length);
  const e = s + 1 + rng.below(Math.min(128, o.length - s));
  const at = rng.below(b.length + 1);
  return clampLen(Buffer.concat([b.subarray(0, at), o.subarray(s, e), b.subarray(at)]), ctx.maxLen);
};

const truncate: RawOp = (b, rng) => (b.length === 0 ? b : b.subarray(0, rng.below(b.length)));

/** Rewrites a length field: the fitting value, off by one, zero, the maximum, or random. */
const lengthField: RawOp = (b, rng, ctx) => {
  const fields = ctx.layout(b).lengths;
  if (fields.length === 0) return setInteresting16(b, rng, ctx);
  const f = rng.pick(fields);
  const max = f.size === 1 ? 0xff : 0xffff;
  const choices = [f.fit, f.fit + 1, f.fit - 1, 0, max, f.fit * 2, f.fit >>> 1, rng.below(max + 1), 4096 - 19, 4096, 4097];
  const v = rng.pick(choices) & max;
  const c = copyOf(b);
  if (f.off + f.size > c.length) return b;
  if (f.size === 1) c[f.off] = v;
  else u16(c, f.off, v);
  return c;
};

const prefixLen: RawOp = (b, rng, ctx) => {
  const lens = ctx.layout(b).prefixLens;
  if (lens.length === 0) return setInteresting8(b, rng, ctx);
  const at = rng.pick(lens);
  if (at >= b.length) return b;
  const c = copyOf(b);
  c[at] = rng.oneIn(4) ? (c[at]! + (rng.oneIn(2) ? 1 : -1)) & 0xff : rng.pick(PREFIX_LENS);
  return c;
};

/** Duplicates a TLV in place (right after itself) or moves a copy to the end of the input. */
const duplicateTlv: RawOp = (b, rng, ctx) => {
  const tlvs = ctx.layout(b).tlvs;
  if (tlvs.length === 0) return duplicateChunk(b, rng, ctx);
  const t = rng.pick(tlvs);
  const at = rng.oneIn(2) ? t.end : rng.pick(tlvs).start;
  return clampLen(Buffer.concat([b.subarray(0, at), b.subarray(t.start, t.end), b.subarray(at)]), ctx.maxLen);
};

const dropTlv: RawOp = (b, rng, ctx) => {
  const tlvs = ctx.layout(b).tlvs;
  if (tlvs.length === 0) return deleteBytes(b, rng, ctx);
  const t = rng.pick(tlvs);
  return Buffer.concat([b.subarray(0, t.start), b.subarray(t.end)]);
};

/** Weighted list: BGP-aware operators get a larger share than single bit flips. */
export const RAW_OPS: readonly (readonly [RawOp, number])[] = [
  [flipBit, 3],
  [setInteresting8, 3],
  [setInteresting16, 2],
  [setInteresting32, 2],
  [randomByte, 2],
  [arith, 2],
  [insertBytes, 2],
  [deleteBytes, 2],
  [duplicateChunk, 1],
  [overwriteChunk, 1],
  [splice, 2],
  [truncate, 1],
  [lengthField, 5],
  [prefixLen, 3],
  [duplicateTlv, 3],
  [dropTlv, 2],
];

const TOTAL_WEIGHT = RAW_OPS.reduce((s, [, w]) => s + w, 0);

export function pickRawOp(rng: Rng): RawOp {
  let r = rng.below(TOTAL_WEIGHT);
  for (const [op, w] of RAW_OPS) {
    if (r < w) return op;
    r -= w;
  }
  return flipBit;
}

/** Applies 1..4 stacked raw operators. */
export function mutateRaw(b: Buffer, rng: Rng, ctx: MutateContext): Buffer {
  let out = b;
  const n = 1 + rng.below(4);
  for (let i = 0; i < n; i++) out = pickRawOp(rng)(out, rng, ctx);
  return out;
}
