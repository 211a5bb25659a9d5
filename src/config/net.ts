// IP address and CIDR parsing for configuration values. Strict on purpose: a config
// typo must be an error, not a silently different prefix. Not used on the data path.

export type AfiName = 'ipv4' | 'ipv6';

export interface ParsedIp {
  readonly afi: AfiName;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface ParsedCidr extends ParsedIp {
  readonly length: number;
}

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;

export function parseIPv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    // Leading zeros are refused: "010" means 8 to some parsers and 10 to others.
    if (!IPV4_PART.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length > 45) return undefined;
  let head = text;
  let tail4: Uint8Array | undefined;
  // An embedded IPv4 suffix (e.g. ::ffff:10.0.0.1) takes the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    tail4 = parseIPv4(text.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" keeps its "::"; "::ffff:1.2.3.4" drops the separator colon.
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const maxGroups = tail4 === undefined ? 8 : 6;
  const dbl = head.indexOf('::');
  if (dbl !== head.lastIndexOf('::') && dbl >= 0) return undefined;
  const groups: number[] = [];
  const parseGroups = (s: string): number[] | undefined => {
    if (s.length === 0) return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!HEX_GROUP.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (left === undefined || right === undefined) return undefined;
    const fill = maxGroups - left.length - right.length;
    if (fill < 1) return undefined;
    groups.push(...left, ...new Array<number>(fill).fill(0), ...right);
  } else {
    const all = parseGroups(head);
    if (all === undefined || all.length !== maxGroups) return undefined;
    groups.push(...all);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < groups.length; i++) {
    out[i * 2] = groups[i]! >>> 8;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  if (tail4 !== undefined) out.set(tail4, 12);
  return out;
}

/** Parses a bare IPv4 or IPv6 address (no prefix length, no zone). */
export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) {
    const b = parseIPv6(text);
    return b === undefined ? undefined : { afi: 'ipv6', bytes: b };
  }
  const b = parseIPv4(text);
  return b === undefined ? undefined : { afi: 'ipv4', bytes: b };
}

export function maxLength(afi: AfiName): number {
  return afi === 'ipv4' ? 32 : 128;
}

/** Parses "addr/len". Host bits are NOT checked here: see hostBitsZero. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (ip === undefined || !/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return undefined;
  const length = Number(lenText);
  if (length > maxLength(ip.afi)) return undefined;
  return { afi: ip.afi, bytes: ip.bytes, length };
}

/** Copy of bytes with every bit after `length` cleared. */
export function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, length - i * 8));
    out[i] = out[i]! & ((0xff << (8 - bitsHere)) & 0xff);
  }
  return out;
}

export function hostBitsZero(c: ParsedCidr): boolean {
  const m = maskBytes(c.bytes, c.length);
  for (let i = 0; i < m.length; i++) if (m[i] !== c.bytes[i]) return false;
  return true;
}

export function formatIp(afi: AfiName, bytes: Uint8Array): string {
  if (afi === 'ipv4') return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted quad.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export function formatCidr(c: ParsedCidr): string {
  return `${formatIp(c.afi, c.bytes)}/${c.length}`;
}

/** Canonical text of a bare address, or undefined when it does not parse. */
export function canonicalIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip === undefined ? undefined : formatIp(ip.afi, ip.bytes);
}

/** The address masked to `length`, as canonical CIDR text (aggregation of service IPs). */
export function prefixOf(ip: ParsedIp, length: number): string {
  return formatCidr({ afi: ip.afi, bytes: maskBytes(ip.bytes, length), length });
}

/** True when `inner` lies within `outer` (same family, outer length <= inner length). */
export function cidrContains(outer: ParsedCidr, inner: ParsedCidr): boolean {
  if (outer.afi !== inner.afi || outer.length > inner.length) return false;
  const a = maskBytes(outer.bytes, outer.length);
  const b = maskBytes(inner.bytes, outer.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Compares two addresses of the same family as unsigned big-endian numbers. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

export function ipv4ToNumber(text: string): number | undefined {
  const b = parseIPv4(text);
  return b === undefined ? undefined : ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
