// Byte builders for UPDATE tests: every vector is spelled out from RFC 4271 §4.3 layouts.
import { updateContext, type UpdateContext } from '../../src/wire/attrs/context.js';

export type Bytes = readonly number[] | Buffer;

export function b(...parts: Bytes[]): Buffer {
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

/** One attribute TLV; the extended length form when flags has 0x10. */
export function tlv(flags: number, type: number, value: Bytes): Buffer {
  const v = b(value);
  if (flags & 0x10) return b([flags, type, v.length >>> 8, v.length & 0xff], v);
  if (v.length > 255) throw new Error('value too long for a 1-octet length');
  return b([flags, type, v.length], v);
}

/** An UPDATE body: withdrawn length, withdrawn, attribute length, attributes, NLRI. */
export function updateBody(parts: { withdrawn?: Bytes; attrs?: Bytes[]; nlri?: Bytes }): Buffer {
  const w = b(parts.withdrawn ?? []);
  const a = b(...(parts.attrs ?? []));
  const n = b(parts.nlri ?? []);
  return b([w.length >>> 8, w.length & 0xff], w, [a.length >>> 8, a.length & 0xff], a, n);
}

// Well-formed attributes used as a base by many tests.
export const ORIGIN_IGP = tlv(0x40, 1, [0]);
/** AS_PATH AS_SEQUENCE [65001] with 4-byte ASNs. */
export const AS_PATH_4 = tlv(0x40, 2, [2, 1, 0, 0, 0xfd, 0xe9]);
/** AS_PATH AS_SEQUENCE [65001] with 2-byte ASNs. */
export const AS_PATH_2 = tlv(0x40, 2, [2, 1, 0xfd, 0xe9]);
/** NEXT_HOP 192.0.2.1 */
export const NEXT_HOP = tlv(0x40, 3, [192, 0, 2, 1]);
/** NLRI 10.0.0.0/8 and 192.168.1.0/24 */
export const NLRI_2 = [8, 10, 24, 192, 168, 1];

export const CTX4: UpdateContext = updateContext();
export const CTX2: UpdateContext = updateContext({ fourOctetAs: false });
export const CTX_EBGP: UpdateContext = updateContext({ ebgp: true, peerAs: 65001 });

/** A valid IPv4 UPDATE body (4-octet session) with extra attributes appended. */
export function baseV4(extra: Buffer[] = [], nlri: Bytes = NLRI_2): Buffer {
  return updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, ...extra], nlri });
}

/** xorshift32: small, seeded, good enough to pick mutations. */
export { xorshift32 as rng } from '../../bench/lib.js';
