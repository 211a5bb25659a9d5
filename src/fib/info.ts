// Kernel messages as the daemon and CLI see them.
import type { AddressInfo, LinkInfo } from './backend.js';
import { formatIp, formatPrefix } from './ip.js';
import { IFOPER_NAMES } from './netlink/constants.js';
import type { AddrMsg, LinkMsg } from './netlink/codec.js';

export function linkInfo(l: LinkMsg): LinkInfo {
  return {
    index: l.index,
    name: l.name,
    up: l.up,
    lowerUp: l.lowerUp,
    operstate: IFOPER_NAMES[l.operstate] ?? String(l.operstate),
  };
}

export function addrInfo(a: AddrMsg): AddressInfo {
  return {
    index: a.index,
    family: a.family,
    local: formatIp(a.local, 0, a.family),
    subnet: formatPrefix(maskBytes(a.address, a.plen), 0, a.family, a.plen),
  };
}

export function maskBytes(b: Uint8Array, plen: number): Uint8Array {
  const out = Uint8Array.from(b);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, plen - i * 8));
    out[i]! &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return out;
}
