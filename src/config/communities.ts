// BGP community text forms as Cilium accepts them (RFC 1997 standard, RFC 8092 large).

/** Well-known community names Cilium's CRDs accept, with their 32-bit values. */
export const WELL_KNOWN_COMMUNITIES = {
  internet: 0x00000000,
  'planned-shut': 0xffff0000,
  'accept-own': 0xffff0001,
  'route-filter-translated-v4': 0xffff0002,
  'route-filter-v4': 0xffff0003,
  'route-filter-translated-v6': 0xffff0004,
  'route-filter-v6': 0xffff0005,
  'llgr-stale': 0xffff0006,
  'no-llgr': 0xffff0007,
  blackhole: 0xffff029a,
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'no-peer': 0xffffff04,
} as const;
export type WellKnownCommunity = keyof typeof WELL_KNOWN_COMMUNITIES;

/** RFC 8092 large community: global administrator, local data 1, local data 2. */
export type LargeCommunity = readonly [number, number, number];

const DEC = /^(0|[1-9][0-9]{0,9})$/;

function u32(text: string): number | undefined {
  if (!DEC.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffffffff ? n : undefined;
}

function u16(text: string): number | undefined {
  const n = u32(text);
  return n !== undefined && n <= 0xffff ? n : undefined;
}

/** "65000:100" or a 32-bit decimal ("4259840100"), as Cilium's `standard` list. */
export function parseStandardCommunity(text: string): number | undefined {
  const parts = text.split(':');
  if (parts.length === 1) return u32(parts[0]!);
  if (parts.length !== 2) return undefined;
  const hi = u16(parts[0]!);
  const lo = u16(parts[1]!);
  return hi === undefined || lo === undefined ? undefined : ((hi << 16) | lo) >>> 0;
}

export function parseWellKnownCommunity(text: string): number | undefined {
  return Object.hasOwn(WELL_KNOWN_COMMUNITIES, text)
    ? WELL_KNOWN_COMMUNITIES[text as WellKnownCommunity]
    : undefined;
}

/** Standard syntax or a well-known name (the import-policy match and set lists take both). */
export function parseAnyCommunity(text: string): number | undefined {
  return parseWellKnownCommunity(text) ?? parseStandardCommunity(text);
}

export function parseLargeCommunity(text: string): LargeCommunity | undefined {
  const parts = text.split(':');
  if (parts.length !== 3) return undefined;
  const a = u32(parts[0]!);
  const b = u32(parts[1]!);
  const c = u32(parts[2]!);
  return a === undefined || b === undefined || c === undefined ? undefined : [a, b, c];
}

export function formatCommunity(value: number): string {
  return `${value >>> 16}:${value & 0xffff}`;
}

export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c[0]}:${c[1]}:${c[2]}`;
}

export function compareLarge(a: LargeCommunity, b: LargeCommunity): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Sorted, duplicate-free copy (attribute sets compare equal whatever the source order). */
export function normaliseCommunities(values: Iterable<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

export function normaliseLarge(values: Iterable<LargeCommunity>): LargeCommunity[] {
  const seen = new Map<string, LargeCommunity>();
  for (const v of values) seen.set(formatLargeCommunity(v), v);
  return [...seen.values()].sort(compareLarge);
}
