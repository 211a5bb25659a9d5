// Builders shared by the RIB tests.
import { emptyAttributes, type PathAttributes } from '../../src/wire/attrs/types.js';
import { Rib } from '../../src/rib/rib.js';
import type { LocRibOptions } from '../../src/rib/loc-rib.js';
import type { PeerInfo } from '../../src/rib/peers.js';

export const LOCAL: PeerInfo = { address: Uint8Array.from([10, 0, 0, 100]), bgpId: 0x0a000064, asn: 65000, ebgp: false, localAs: 65000 };

export function peer(n: number, ebgp: boolean, asn = 65000 + n): PeerInfo {
  return { address: Uint8Array.from([10, 0, 0, n]), bgpId: 0x0a000000 + n, asn, ebgp, localAs: 65000 };
}

export function pa(over: Partial<PathAttributes> & { path?: number[]; nh?: number } = {}): PathAttributes {
  const { path, nh, ...rest } = over;
  return {
    ...emptyAttributes(),
    origin: 0,
    asPath: [{ type: 2, asns: path ?? [65001] }],
    nextHop: Buffer.from([192, 0, 2, nh ?? 1]),
    ...rest,
  };
}

export function newRib(opts: Partial<LocRibOptions> = {}): Rib {
  return new Rib(LOCAL, opts);
}

/** "a.b.c.d" → u32 */
export function v4(s: string): number {
  return s.split('.').reduce((acc, x) => acc * 256 + Number(x), 0) >>> 0;
}
