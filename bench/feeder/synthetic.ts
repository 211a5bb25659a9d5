// A synthetic Internet-like table, pre-encoded as UPDATE messages.
//
// Shape (deterministic for a seed):
//  - prefix lengths drawn from today's mix: IPv4 led by /24 (~60%), then /22, /23, /21,
//    /20, /19, /16...; IPv6 led by /48, then /32, /40, /44, /29...
//  - every prefix distinct: for each length L, prefixes come from a bijective scramble of
//    the L-bit space walked in order, so the n-th /24 can never repeat an earlier one;
//    reserved and lab ranges (10/8, 127/8, 192.168/16, 2001:db8::/32, ...) are skipped
//  - `sets` distinct attribute sets (default count/5), with a skewed number of prefixes
//    each (most sets carry 1-3 prefixes, a few carry hundreds), AS paths of 1-10 hops
//    starting with the feeder's AS, ORIGIN, sometimes MED, 0-4 communities, next hop =
//    the feeder's address (NEXT_HOP for IPv4, MP_REACH_NLRI for IPv6)
//  - each set's prefixes packed into as few UPDATEs as fit (packUpdates)
// Prefixes are kept in two typed arrays (5 bytes per IPv4 prefix, 17 per IPv6), so
// withdraw-all and flap cycles are built from them without decoding anything.
import { Afi, MAX_MESSAGE_LEN, Origin } from '../../src/wire/iana.js';
import { fnv1a } from '../../src/wire/attrs/hash.js';
import { emptyAttributes, type PathAttributes } from '../../src/wire/attrs/types.js';
import { parseAddress } from '../../src/wire/nlri/format.js';
import {
  encodeAttributes,
  encodeContext,
  type EncodeContext,
  packUpdates,
  packWithdrawals,
  PrefixBatch,
} from '../../src/wire/update-encoder.js';
import { ChunkWriter } from './chunks.js';
import { type Feed, feedOf, type FeedTable, flapPick } from './table.js';

export interface SyntheticOptions {
  /** Number of prefixes. */
  readonly count: number;
  /** 1 = IPv4 (default), 2 = IPv6. */
  readonly afi?: number;
  /** Distinct attribute sets; default count / 5 (today's full table has ~5 prefixes per set). */
  readonly sets?: number;
  readonly seed?: number;
  /** The feeder's AS: the first AS of every path. */
  readonly localAs: number;
  /** IPv4: the NEXT_HOP (the feeder's session address). IPv6: the MP_REACH global next hop. */
  readonly nextHop: string;
  /** 4096 unless the session negotiated extended messages. */
  readonly maxLength?: number;
  /** ASNs never to use after the first hop (the receiver's, so loop detection drops nothing). */
  readonly avoidAs?: readonly number[];
}

/** [prefix length, weight] — IPv4 prefix-length mix of a 2020s full table. */
export const V4_LENGTH_MIX: readonly (readonly [number, number])[] = [
  [24, 0.6],
  [22, 0.1195],
  [23, 0.1],
  [21, 0.055],
  [20, 0.048],
  [19, 0.032],
  [16, 0.015],
  [18, 0.012],
  [17, 0.009],
  [15, 0.0035],
  [14, 0.0025],
  [13, 0.0015],
  [12, 0.001],
  [11, 0.0005],
  [10, 0.0003],
  [9, 0.00015],
  [8, 0.00005],
];

/** IPv6 prefix-length mix: /48 first, then /32, /40, /44, /29. */
export const V6_LENGTH_MIX: readonly (readonly [number, number])[] = [
  [48, 0.49],
  [32, 0.13],
  [40, 0.08],
  [44, 0.075],
  [29, 0.045],
  [36, 0.035],
  [46, 0.025],
  [47, 0.02],
  [42, 0.02],
  [45, 0.015],
  [33, 0.012],
  [34, 0.01],
  [30, 0.008],
  [31, 0.007],
  [35, 0.006],
  [38, 0.006],
  [41, 0.004],
  [43, 0.003],
  [39, 0.003],
  [37, 0.002],
  [28, 0.0015],
  [24, 0.0005],
];

/** Total AS path length (feeder AS included) 1..10. */
const PATH_LENGTH_MIX = [0.02, 0.12, 0.28, 0.27, 0.15, 0.08, 0.04, 0.02, 0.01, 0.01] as const;
const COMMUNITY_COUNT_MIX = [0.25, 0.25, 0.2, 0.17, 0.13] as const;
const MED_SHARE = 0.3;
const PREPEND_SHARE = 0.1;

/** Transit networks for the middle of paths (public ASNs, a plausible backbone). */
const TRANSIT = [
  174, 209, 701, 1239, 1273, 1299, 2497, 2516, 2914, 3257, 3320, 3356, 3491, 3549, 3786, 4134, 4637, 4766, 4809, 4826,
  5511, 6453, 6461, 6762, 6830, 6939, 7018, 7473, 7922, 8220, 9002, 9498, 9929, 12956, 13030, 20485, 31133, 37100,
  58453, 262589,
] as const;

/** Reserved or lab ranges no generated IPv4 prefix starts in: [network, mask]. */
const V4_SKIP: readonly (readonly [number, number])[] = [
  [0x00000000, 0xff000000], // 0/8
  [0x0a000000, 0xff000000], // 10/8
  [0x64400000, 0xffc00000], // 100.64/10
  [0x7f000000, 0xff000000], // 127/8
  [0xa9fe0000, 0xffff0000], // 169.254/16
  [0xac100000, 0xfff00000], // 172.16/12
  [0xc0000000, 0xffffff00], // 192.0.0/24
  [0xc0000200, 0xffffff00], // 192.0.2/24
  [0xc0a80000, 0xffff0000], // 192.168/16
  [0xc6120000, 0xfffe0000], // 198.18/15
  [0xc6336400, 0xffffff00], // 198.51.100/24
  [0xcb007100, 0xffffff00], // 203.0.113/24
  [0xe0000000, 0xe0000000], // 224/3: multicast and class E
];

/** The skip list flattened, and the first octets that any range touches (a fast pre-check). */
const SKIP_FLAT = Uint32Array.from(V4_SKIP.flat());
const SKIP_OCTET = new Uint8Array(256);
for (const [net, mask] of V4_SKIP) {
  for (let o = 0; o < 256; o++) if ((((o << 24) & mask) >>> 0) === ((net & mask & 0xff000000) >>> 0)) SKIP_OCTET[o] = 1;
}

/** True when an IPv4 network address lies in a reserved or lab range. */
export function isReservedV4(addr: number): boolean {
  if (SKIP_OCTET[addr >>> 24] === 0) return false;
  for (let i = 0; i < SKIP_FLAT.length; i += 2) if (((addr & SKIP_FLAT[i + 1]!) >>> 0) === SKIP_FLAT[i]) return true;
  return false;
}

/** True when an IPv6 prefix's first word lies in 2001:db8::/32 or 2002::/16 (6to4). */
function isReservedV6(w0: number): boolean {
  return w0 === 0x20010db8 || w0 >>> 16 === 0x2002;
}

/** A small fast PRNG (mulberry32), reseedable so any set's attributes can be rebuilt alone. */
class Rng {
  private s = 0;
  constructor(seed: number) {
    this.seed(seed);
  }
  seed(seed: number): void {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  float(): number {
    return this.u32() / 0x100000000;
  }
  /** An index into a weight table (weights need not sum to 1). */
  pick(cum: Float64Array): number {
    const x = this.float() * cum[cum.length - 1]!;
    let i = 0;
    while (cum[i]! <= x) i++;
    return i;
  }
}

function mix(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16) ^ b, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae3d);
  return (h ^ (h >>> 16)) >>> 0;
}

function cumulative(weights: readonly number[]): Float64Array {
  const c = new Float64Array(weights.length);
  let s = 0;
  weights.forEach((w, i) => (c[i] = s += w));
  return c;
}

/**
 * A bijection of the k-bit integers (1 <= k <= 32): multiply by an odd constant and
 * xor-shift right, twice. Each step is invertible modulo 2^k, so distinct inputs give
 * distinct outputs, which is what makes the generated prefixes unique.
 */
class Scramble {
  readonly bits: number;
  /** 2^bits: how many values there are. */
  readonly size: number;
  private readonly mask: number;
  private readonly shift: number;
  private readonly a1: number;
  private readonly a2: number;
  private readonly c1: number;
  private readonly c2: number;

  constructor(bits: number, seed: number) {
    this.bits = bits;
    this.size = 2 ** bits;
    this.mask = bits === 32 ? 0xffffffff : 2 ** bits - 1;
    this.shift = Math.max(1, bits >>> 1);
    this.a1 = (mix(seed, bits, 1) | 1) >>> 0;
    this.a2 = (mix(seed, bits, 2) | 1) >>> 0;
    this.c1 = mix(seed, bits, 3);
    this.c2 = mix(seed, bits, 4);
  }

  apply(x: number): number {
    const m = this.mask;
    let v = ((Math.imul(x, this.a1) + this.c1) & m) >>> 0;
    v = (v ^ (v >>> this.shift)) >>> 0;
    v = ((Math.imul(v, this.a2) + this.c2) & m) >>> 0;
    return (v ^ (v >>> this.shift)) >>> 0;
  }
}

/**
 * The power-law index a for which sum_{x=1..cap} x^-a (the mean of min(cap, X) when
 * P(X >= x) = x^-a) equals `mean`; found by bisection (the sum falls as a grows).
 */
export function tailIndex(mean: number, cap: number): number {
  const meanOf = (a: number): number => {
    let m = 0;
    for (let x = 1; x <= cap; x++) m += x ** -a;
    return m;
  };
  let lo = 0.01;
  let hi = 60;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (meanOf(mid) > mean) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Writes `n` (1..32) bits of `v` at bit offset `off` (from the most significant bit) into words. */
function putBits(words: Uint32Array, base: number, off: number, n: number, v: number): void {
  for (let i = 0; i < n; i++) {
    const bit = (v >>> (n - 1 - i)) & 1;
    if (bit === 0) continue;
    const at = off + i;
    const w = base + (at >>> 5);
    words[w] = (words[w]! | (1 << (31 - (at & 31)))) >>> 0;
  }
}

export class SyntheticTable implements FeedTable {
  readonly name: string;
  readonly afi: number;
  readonly afis: readonly number[];
  readonly count: number;
  readonly sets: number;
  readonly seed: number;
  /** Prefix addresses, `stride` words each, grouped by attribute set. */
  readonly words: Uint32Array;
  readonly lens: Uint8Array;
  readonly stride: number;
  /** Set s owns prefixes [setStart[s], setStart[s + 1]). */
  readonly setStart: Uint32Array;
  private readonly redraws: Uint8Array;
  private readonly localAs: number;
  private readonly nextHop: Buffer;
  private readonly avoid: ReadonlySet<number>;
  private readonly ctx: EncodeContext;
  private readonly rng = new Rng(0);
  private readonly pathCum = cumulative(PATH_LENGTH_MIX);
  private readonly communityCum = cumulative(COMMUNITY_COUNT_MIX);
  private maxSetSize = 1;

  constructor(opts: SyntheticOptions) {
    const afi = opts.afi ?? Afi.IPV4;
    if (afi !== Afi.IPV4 && afi !== Afi.IPV6) throw new RangeError(`unsupported AFI ${afi}`);
    if (!Number.isInteger(opts.count) || opts.count < 1) throw new RangeError(`bad prefix count ${opts.count}`);
    const sets = opts.sets ?? Math.max(1, Math.floor(opts.count / 5));
    if (!Number.isInteger(sets) || sets < 1 || sets > opts.count) {
      throw new RangeError(`attribute sets must be 1..${opts.count}, got ${sets}`);
    }
    const nh = parseAddress(opts.nextHop);
    if (nh.afi !== afi) throw new RangeError(`next hop ${opts.nextHop} is not an ${afi === 1 ? 'IPv4' : 'IPv6'} address`);
    this.afi = afi;
    this.afis = [afi];
    this.count = opts.count;
    this.sets = sets;
    this.seed = (opts.seed ?? 1) >>> 0;
    this.localAs = opts.localAs;
    this.nextHop = nh.bytes;
    this.avoid = new Set([...(opts.avoidAs ?? []), opts.localAs, 23456]);
    this.ctx = encodeContext({ maxLength: opts.maxLength ?? MAX_MESSAGE_LEN });
    this.name = `synthetic ${afi === 1 ? 'IPv4' : 'IPv6'} ${opts.count} prefixes / ${sets} sets, seed ${this.seed}`;
    this.stride = afi === Afi.IPV6 ? 4 : 1;
    this.words = new Uint32Array(opts.count * this.stride);
    this.lens = new Uint8Array(opts.count);
    this.setStart = this.layoutSets();
    this.generatePrefixes();
    this.redraws = this.chooseAttributeSets();
  }

  /**
   * How many prefixes each set gets: a truncated discrete power law, P(size >= x) = x^-a,
   * with `a` solved so the mean is count/sets (a ≈ 1.13 for 5 per set: half the sets carry
   * one prefix, 90% at most 8, a few hundreds — the shape of the 2015 table in shared/data),
   * then nudged, in proportion to size, to add up to `count` exactly.
   */
  private layoutSets(): Uint32Array {
    const n = this.sets;
    const mean = this.count / n;
    const cap = Math.max(1000, Math.ceil(20 * mean));
    const a = tailIndex(mean, cap);
    const rng = new Rng(mix(this.seed, 0x5e75, 0));
    const sizes = new Uint32Array(n);
    let total = 0;
    for (let s = 0; s < n; s++) {
      const u = 1 - rng.float(); // (0, 1]
      const x = Math.min(cap, Math.floor(u ** (-1 / a)));
      sizes[s] = x;
      total += x;
    }
    // Cumulative sizes: picking a set with probability proportional to its size.
    const cum = new Float64Array(n);
    let acc = 0;
    for (let s = 0; s < n; s++) cum[s] = acc += sizes[s]!;
    const pickBySize = (): number => {
      const x = rng.float() * acc;
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cum[mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    for (; total < this.count; total++) {
      const s = pickBySize();
      sizes[s] = sizes[s]! + 1;
    }
    for (let tries = 0; total > this.count && tries < 50 * n; tries++) {
      const s = pickBySize();
      if (sizes[s]! > 1) {
        sizes[s] = sizes[s]! - 1;
        total--;
      }
    }
    for (let s = 0; total > this.count; s = (s + 1) % n) {
      if (sizes[s]! > 1) {
        sizes[s] = sizes[s]! - 1;
        total--;
      }
    }
    const start = new Uint32Array(n + 1);
    for (let s = 0; s < n; s++) {
      start[s + 1] = start[s]! + sizes[s]!;
      if (sizes[s]! > this.maxSetSize) this.maxSetSize = sizes[s]!;
    }
    return start;
  }

  private generatePrefixes(): void {
    const v6 = this.afi === Afi.IPV6;
    const mixTable = v6 ? V6_LENGTH_MIX : V4_LENGTH_MIX;
    const lengths = mixTable.map(([l]) => l);
    const cum = cumulative(mixTable.map(([, w]) => w));
    const fallback = lengths[0]!;
    // Per length: the scramble of its space, and how far along it we are.
    const scrambles: Scramble[] = [];
    const next = new Float64Array(129);
    for (const l of lengths) scrambles[l] = new Scramble(v6 ? Math.min(l - 3, 32) : l, mix(this.seed, l, v6 ? 6 : 4));
    const rng = new Rng(mix(this.seed, 0x1e9, v6 ? 6 : 4));
    const words = this.words;
    for (let i = 0; i < this.count; i++) {
      let len = lengths[rng.pick(cum)]!;
      let sc = scrambles[len]!;
      for (;;) {
        const idx = next[len]!;
        if (idx >= sc.size) {
          // This length's space is used up (only for huge counts): use the main length.
          if (len === fallback) throw new RangeError(`cannot make ${this.count} distinct prefixes`);
          len = fallback;
          sc = scrambles[len]!;
          continue;
        }
        next[len] = idx + 1;
        const p = sc.apply(idx);
        if (!v6) {
          const addr = len === 32 ? p : (p * 2 ** (32 - len)) >>> 0;
          if (isReservedV4(addr)) continue;
          words[i] = addr;
          break;
        }
        // 2000::/3, then the scrambled bits, then (for lengths beyond 35) filler bits.
        const o = i * 4;
        words[o] = 0x20000000;
        words[o + 1] = words[o + 2] = words[o + 3] = 0;
        putBits(words, o, 3, sc.bits, p);
        const rest = len - 3 - sc.bits;
        if (rest > 0) putBits(words, o, 3 + sc.bits, rest, mix(idx, len, this.seed) >>> (32 - rest));
        if (isReservedV6(words[o]!)) continue;
        break;
      }
      this.lens[i] = len;
    }
  }

  /**
   * Decides, per set, how many times its attributes were redrawn so that no two sets
   * encode to the same bytes (duplicates are found by hash; an equal hash with different
   * bytes only costs a needless redraw). Kept so any set can be rebuilt on its own.
   */
  private chooseAttributeSets(): Uint8Array {
    const redraws = new Uint8Array(this.sets);
    const seen = new Set<number>();
    const withNextHop = this.afi === Afi.IPV4;
    for (let s = 0; s < this.sets; s++) {
      for (let r = 0; ; r++) {
        if (r > 255) throw new RangeError('cannot make that many distinct attribute sets');
        const bytes = encodeAttributes(this.attributesFor(s, r), this.ctx, withNextHop);
        const h = fnv1a(bytes) | 0;
        if (seen.has(h)) continue;
        seen.add(h);
        redraws[s] = r;
        break;
      }
    }
    return redraws;
  }

  /** The attributes of set `s` (a new object: per set, never per prefix). */
  attributes(s: number): PathAttributes {
    return this.attributesFor(s, this.redraws[s]!);
  }

  private attributesFor(s: number, redraw: number): PathAttributes {
    const rng = this.rng;
    rng.seed(mix(this.seed, s, redraw + 0x100));
    const hops = rng.pick(this.pathCum) + 1;
    const asns: number[] = [this.localAs];
    if (hops >= 2) {
      const origin = this.originAs(rng);
      const middle = hops - 2;
      let prepends = 0;
      if (middle >= 1 && rng.float() < PREPEND_SHARE) prepends = 1 + (rng.u32() % Math.min(3, middle));
      for (let i = 0; i < middle - prepends; i++) asns.push(this.transitAs(rng, asns, origin));
      for (let i = 0; i <= prepends; i++) asns.push(origin);
    }
    const o = rng.float();
    const origin = o < 0.85 ? Origin.IGP : o < 0.98 ? Origin.INCOMPLETE : Origin.EGP;
    const med = rng.float() < MED_SHARE ? (rng.u32() % 8 === 0 ? 0 : rng.u32() % 1000) : undefined;
    const nc = rng.pick(this.communityCum);
    let communities: Uint32Array | undefined;
    if (nc > 0) {
      communities = new Uint32Array(nc);
      for (let i = 0; i < nc; i++) {
        const asn = asns[rng.u32() % asns.length]!;
        const high = asn <= 0xffff ? asn : 65000;
        communities[i] = ((high << 16) | (rng.u32() & 0xffff)) >>> 0;
      }
    }
    const attrs = emptyAttributes();
    attrs.origin = origin;
    attrs.asPath = [{ type: 2, asns }];
    attrs.med = med;
    attrs.communities = communities;
    if (this.afi === Afi.IPV4) attrs.nextHop = this.nextHop;
    else attrs.mpNextHop = { global: this.nextHop, linkLocal: undefined };
    return attrs;
  }

  /** An origin AS from the public 2- and 4-octet ranges (1..64495, 131072..399999). */
  private originAs(rng: Rng): number {
    const span2 = 64495;
    const span = span2 + (400000 - 131072);
    for (let idx = rng.u32() % span; ; idx = (idx + 1) % span) {
      const asn = idx < span2 ? idx + 1 : 131072 + (idx - span2);
      if (!this.avoid.has(asn)) return asn;
    }
  }

  private transitAs(rng: Rng, path: readonly number[], origin: number): number {
    for (let start = rng.u32() % TRANSIT.length, i = 0; i < TRANSIT.length; i++) {
      const asn = TRANSIT[(start + i) % TRANSIT.length]!;
      if (asn !== origin && !this.avoid.has(asn) && !path.includes(asn)) return asn;
    }
    return origin; // every transit AS excluded: prepend the origin instead
  }

  /** A batch holding the prefixes [from, to) (host bits are already clear). */
  private fill(batch: PrefixBatch, from: number, to: number): void {
    const st = this.stride;
    batch.count = 0;
    batch.words.set(this.words.subarray(from * st, to * st), 0);
    batch.lens.set(this.lens.subarray(from, to), 0);
    batch.count = to - from;
  }

  /** Every set's prefixes, packed per set, in set order. */
  announce(): Feed {
    return this.announceSets(() => true);
  }

  withdrawAll(): Feed {
    const batch = new PrefixBatch(this.afi, this.count);
    this.fill(batch, 0, this.count);
    const w = new ChunkWriter();
    w.addAll(packWithdrawals(batch, this.ctx));
    return feedOf(w, this.count);
  }

  /** Withdraws every prefix of about `fraction` of the sets (chosen per cycle). */
  flapWithdraw(cycle: number, fraction: number): Feed {
    let n = 0;
    for (let s = 0; s < this.sets; s++) if (flapPick(this.seed, cycle, s, fraction)) n += this.setStart[s + 1]! - this.setStart[s]!;
    const batch = new PrefixBatch(this.afi, Math.max(1, n));
    const st = this.stride;
    let k = 0;
    for (let s = 0; s < this.sets; s++) {
      if (!flapPick(this.seed, cycle, s, fraction)) continue;
      const a = this.setStart[s]!;
      const b = this.setStart[s + 1]!;
      batch.words.set(this.words.subarray(a * st, b * st), k * st);
      batch.lens.set(this.lens.subarray(a, b), k);
      k += b - a;
    }
    batch.count = k;
    const w = new ChunkWriter();
    w.addAll(packWithdrawals(batch, this.ctx));
    return feedOf(w, k);
  }

  /** Announces again the sets `flapWithdraw` took away in the same cycle. */
  flapAnnounce(cycle: number, fraction: number): Feed {
    return this.announceSets((s) => flapPick(this.seed, cycle, s, fraction));
  }

  private announceSets(want: (s: number) => boolean): Feed {
    const w = new ChunkWriter();
    const batch = new PrefixBatch(this.afi, this.maxSetSize);
    const out: Buffer[] = [];
    let n = 0;
    for (let s = 0; s < this.sets; s++) {
      if (!want(s)) continue;
      const a = this.setStart[s]!;
      const b = this.setStart[s + 1]!;
      this.fill(batch, a, b);
      packUpdates(this.attributes(s), batch, this.ctx, out);
      w.addAll(out);
      out.length = 0;
      n += b - a;
    }
    return feedOf(w, n);
  }

  /** Prefix count per length (index = length). */
  lengthHistogram(): Uint32Array {
    const h = new Uint32Array(129);
    for (let i = 0; i < this.count; i++) {
      const l = this.lens[i]!;
      h[l] = h[l]! + 1;
    }
    return h;
  }
}
