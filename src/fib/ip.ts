// Text <-> bytes for IP addresses and prefixes. Used at the edges (config, events,
// CLI), never per route on the write path.

export type Family = 4 | 6;

export interface IpAddr {
  readonly family: Family;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface IpPrefix extends IpAddr {
  readonly plen: number;
}

export function addrLen(family: Family): 4 | 16 {
  return family === 4 ? 4 : 16;
}

function parseV4(s: string, out: Uint8Array, at: number): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return false;
    const v = Number(p);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

function parseV6(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return null;
  const head = dbl < 0 ? s : s.slice(0, dbl);
  const tail = dbl < 0 ? '' : s.slice(dbl + 2);
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const h = groups(head);
  const t = groups(tail);
  // An embedded IPv4 address takes the place of the last two groups.
  const words: number[] = [];
  const all = [...h, ...(dbl < 0 ? [] : ['*']), ...t];
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (g === '*') {
      words.push(-1);
      continue;
    }
    if (i === all.length - 1 && g.includes('.')) {
      const v4 = new Uint8Array(4);
      if (!parseV4(g, v4, 0)) return null;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    words.push(parseInt(g, 16));
  }
  const fill = 8 - (words.length - (dbl < 0 ? 0 : 1));
  if (dbl < 0 ? words.length !== 8 : fill < 1) return null;
  let w = 0;
  for (const v of words) {
    if (v === -1) {
      w += fill;
      continue;
    }
    out[w * 2] = v >> 8;
    out[w * 2 + 1] = v & 0xff;
    w++;
  }
  return out;
}

/** Parses an IPv4 or IPv6 address (a `%zone` suffix is ignored); null if invalid. */
export function parseIp(text: string): IpAddr | null {
  const s = text.includes('%') ? text.slice(0, text.indexOf('%')) : text;
  if (s.includes(':')) {
    const b = parseV6(s);
    return b ? { family: 6, bytes: b } : null;
  }
  const b = new Uint8Array(4);
  return parseV4(s, b, 0) ? { family: 4, bytes: b } : null;
}

/** Parses `addr/len` (host bits must be zero); a bare address is a host prefix. */
export function parsePrefix(text: string): IpPrefix | null {
  const slash = text.indexOf('/');
  const a = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (!a) return null;
  const max = a.family === 4 ? 32 : 128;
  let plen = max;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(l)) return null;
    plen = Number(l);
    if (plen > max) return null;
  }
  if (!hostBitsZero(a.bytes, 0, a.bytes.length, plen)) return null;
  return { family: a.family, bytes: a.bytes, plen };
}

export function hostBitsZero(b: Uint8Array, off: number, len: number, plen: number): boolean {
  for (let i = 0; i < len; i++) {
    const keep = Math.max(0, Math.min(8, plen - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    if ((b[off + i]! & ~mask & 0xff) !== 0) return false;
  }
  return true;
}

/** True when `addr` lies inside `net/plen` (both of the same length). */
export function prefixContains(
  net: Uint8Array,
  netOff: number,
  plen: number,
  addr: Uint8Array,
  addrOff: number,
): boolean {
  const full = plen >> 3;
  for (let i = 0; i < full; i++) if (net[netOff + i] !== addr[addrOff + i]) return false;
  const rest = plen & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (net[netOff + full]! & mask) === (addr[addrOff + full]! & mask);
}

export function formatIp(b: Uint8Array, off: number, family: Family): string {
  if (family === 4) return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + i * 2]! << 8) | b[off + i * 2 + 1]!);
  // RFC 5952: compress the longest run (>= 2) of zero groups, the first on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

export function formatPrefix(b: Uint8Array, off: number, family: Family, plen: number): string {
  return `${formatIp(b, off, family)}/${plen}`;
}

/** fe80::/10 */
export function isLinkLocal6(b: Uint8Array, off = 0): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
}
