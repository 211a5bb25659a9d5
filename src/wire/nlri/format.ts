// Text forms of addresses and prefixes, for tests, logs and the CLI only: these
// allocate strings and must stay off the per-prefix data path.
import { Afi } from '../iana.js';
import { maskBits } from './prefix.js';

export interface ParsedPrefix {
  readonly afi: Afi;
  /** 4 or 16 bytes, host bits cleared. */
  readonly bytes: Buffer;
  readonly len: number;
}

/** Formats 4 bytes as dotted quad or 16 bytes as RFC 5952 IPv6 text. */
export function formatAddress(afi: number, bytes: Uint8Array): string {
  if (afi === Afi.IPV4) {
    return `${bytes[0] ?? 0}.${bytes[1] ?? 0}.${bytes[2] ?? 0}.${bytes[3] ?? 0}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952 §4.2: shorten the longest run of two or more zero groups (the first on a tie).
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestAt < 0) return hex(groups);
  return `${hex(groups.slice(0, bestAt))}::${hex(groups.slice(bestAt + bestLen))}`;
}

/** "10.0.0.0/8" or "2001:db8::/32" from address bytes and a length. */
export function formatPrefix(afi: number, bytes: Uint8Array, len: number): string {
  return `${formatAddress(afi, bytes)}/${len}`;
}

/** Formats an IPv4 prefix held as an unsigned 32-bit number. */
export function formatV4(addr: number, len: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}/${len}`;
}

function parseV4(s: string): Buffer | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = Buffer.alloc(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseV6(s: string): Buffer | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i]!;
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseV4(g); // trailing dotted quad, e.g. ::ffff:192.0.2.1
        if (v4 === undefined) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const groups = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

/** Parses an IPv4 or IPv6 address; throws on anything else. */
export function parseAddress(s: string): { afi: Afi; bytes: Buffer } {
  const v4 = s.includes(':') ? undefined : parseV4(s);
  if (v4 !== undefined) return { afi: Afi.IPV4, bytes: v4 };
  const v6 = s.includes(':') ? parseV6(s) : undefined;
  if (v6 !== undefined) return { afi: Afi.IPV6, bytes: v6 };
  throw new Error(`not an IP address: ${JSON.stringify(s)}`);
}

/**
 * Parses "10.0.0.0/8" or "2001:db8::/32" (a bare address means a host prefix).
 * Host bits are cleared. Throws on bad input.
 */
export function parsePrefix(s: string): ParsedPrefix {
  const slash = s.indexOf('/');
  const { afi, bytes } = parseAddress(slash < 0 ? s : s.slice(0, slash));
  const max = afi === Afi.IPV4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const t = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(t) || Number(t) > max) throw new Error(`bad prefix length in ${JSON.stringify(s)}`);
    len = Number(t);
  }
  for (let w = 0; w < bytes.length; w += 4) {
    bytes.writeUInt32BE((bytes.readUInt32BE(w) & maskBits(len - w * 8)) >>> 0, w);
  }
  return { afi, bytes, len };
}
