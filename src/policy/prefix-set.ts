// A small immutable set of prefixes answering one question fast, per route:
// "is this prefix equal to or inside one of the set?" (the import guards: the node's
// own prefixes and its connected subnets).
//
// Layout: per family, entries grouped by prefix length (ascending), addresses masked
// and sorted inside each group. A lookup masks the route to each group length that is
// not longer than the route and binary-searches that group: O(groups · log n) with no
// allocation. A node has few distinct lengths (/24 subnets, /32 service IPs, ...).
import { parseCidr, type AfiName } from '../config/net.js';

/** A prefix as bytes (network order); host bits may be set (an interface address). */
export interface PrefixInput {
  readonly afi: AfiName;
  readonly bytes: Uint8Array;
  readonly length: number;
}

/** CIDR text ("10.0.0.0/24", "fd00::5/64") or bytes. */
export type PrefixLike = string | PrefixInput;

/** Network mask of the first `len` bits of a 32-bit word (len clamped to 0..32). */
export function mask32(len: number): number {
  if (len <= 0) return 0;
  if (len >= 32) return 0xffffffff;
  return (0xffffffff << (32 - len)) >>> 0;
}

/** Big-endian 32-bit word `i` of `bytes` (missing bytes read as 0). */
function word(bytes: Uint8Array, i: number): number {
  const p = i * 4;
  return ((bytes[p] ?? 0) * 0x1000000 + (((bytes[p + 1] ?? 0) << 16) | ((bytes[p + 2] ?? 0) << 8) | (bytes[p + 3] ?? 0))) >>> 0;
}

/** Parses a PrefixLike into (afi, masked words, length); throws RangeError on bad input. */
export function prefixWords(p: PrefixLike): { afi: AfiName; words: number[]; length: number } {
  let input: PrefixInput | undefined;
  if (typeof p === 'string') {
    input = parseCidr(p);
    if (input === undefined) throw new RangeError(`not a CIDR prefix: ${JSON.stringify(p)}`);
  } else {
    input = p;
  }
  const max = input.afi === 'ipv4' ? 32 : 128;
  const n = max / 32;
  if (!Number.isInteger(input.length) || input.length < 0 || input.length > max || input.bytes.length !== n * 4) {
    throw new RangeError(`bad ${input.afi} prefix: ${input.bytes.length} bytes, length ${input.length}`);
  }
  const words: number[] = [];
  for (let i = 0; i < n; i++) words.push((word(input.bytes, i) & mask32(input.length - 32 * i)) >>> 0);
  return { afi: input.afi, words, length: input.length };
}

interface Grouped {
  lens: Uint8Array;
  /** starts[g]..starts[g+1] is group g (in entries). */
  starts: Uint32Array;
  /** `stride` words per entry. */
  addrs: Uint32Array;
}

function group(entries: { words: number[]; length: number }[], stride: number): Grouped {
  entries.sort((a, b) => {
    if (a.length !== b.length) return a.length - b.length;
    for (let i = 0; i < stride; i++) if (a.words[i] !== b.words[i]) return a.words[i]! - b.words[i]!;
    return 0;
  });
  // Drop duplicates so binary search sees a strict order.
  const uniq = entries.filter((e, i) => {
    const prev = entries[i - 1];
    return prev === undefined || prev.length !== e.length || prev.words.some((w, k) => w !== e.words[k]);
  });
  const lens: number[] = [];
  const starts: number[] = [];
  uniq.forEach((e, i) => {
    if (lens.length === 0 || lens[lens.length - 1] !== e.length) {
      lens.push(e.length);
      starts.push(i);
    }
  });
  starts.push(uniq.length);
  const addrs = new Uint32Array(uniq.length * stride);
  uniq.forEach((e, i) => addrs.set(e.words, i * stride));
  return { lens: Uint8Array.from(lens), starts: Uint32Array.from(starts), addrs };
}

export class PrefixSet {
  readonly size: number;
  private readonly v4: Grouped;
  private readonly v6: Grouped;

  constructor(list: readonly PrefixLike[] = []) {
    const v4: { words: number[]; length: number }[] = [];
    const v6: { words: number[]; length: number }[] = [];
    for (const p of list) {
      const w = prefixWords(p);
      (w.afi === 'ipv4' ? v4 : v6).push(w);
    }
    this.v4 = group(v4, 1);
    this.v6 = group(v6, 4);
    this.size = this.v4.addrs.length + this.v6.addrs.length / 4;
  }

  /** True when addr/len is equal to or inside an IPv4 entry. */
  containsV4(addr: number, len: number): boolean {
    const { lens, starts, addrs } = this.v4;
    for (let g = 0; g < lens.length; g++) {
      const gl = lens[g]!;
      if (gl > len) return false;
      const key = (addr & mask32(gl)) >>> 0;
      let lo = starts[g]!;
      let hi = starts[g + 1]! - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const v = addrs[mid]!;
        if (v === key) return true;
        if (v < key) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return false;
  }

  /** True when w0..w3/len is equal to or inside an IPv6 entry. */
  containsV6(w0: number, w1: number, w2: number, w3: number, len: number): boolean {
    const { lens, starts, addrs } = this.v6;
    for (let g = 0; g < lens.length; g++) {
      const gl = lens[g]!;
      if (gl > len) return false;
      const k0 = (w0 & mask32(gl)) >>> 0;
      const k1 = (w1 & mask32(gl - 32)) >>> 0;
      const k2 = (w2 & mask32(gl - 64)) >>> 0;
      const k3 = (w3 & mask32(gl - 96)) >>> 0;
      let lo = starts[g]!;
      let hi = starts[g + 1]! - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const p = mid * 4;
        let c = addrs[p]! - k0;
        if (c === 0) c = addrs[p + 1]! - k1;
        if (c === 0) c = addrs[p + 2]! - k2;
        if (c === 0) c = addrs[p + 3]! - k3;
        if (c === 0) return true;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return false;
  }
}
