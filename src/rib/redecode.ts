// Decodes an attribute set again from its intern key, so the attribute store need not
// keep a decoded object per set (a decoded PathAttributes costs ~650 bytes of heap;
// 200k of them alone would break the 150 bytes-a-prefix budget).
//
// The key format is the UPDATE decoder's (update.ts, buildKey): the attribute TLVs
// without MP_REACH/MP_UNREACH, then, when the UPDATE had MP_REACH, a synthetic
// MP_REACH TLV whose value is only AFI(2) SAFI(1) next-hop-length(1) next-hop. We
// rebuild an UPDATE body with the plain TLVs and no NLRI, run the same decoder with
// the same context, and put the MP next hop back. Tests check the round trip.
import { AttrFlag, AttrType } from '../wire/iana.js';
import type { UpdateContext } from '../wire/attrs/context.js';
import type { PathAttributes } from '../wire/attrs/types.js';
import { decodeAttributes, locateUpdate, ParsedUpdate } from '../wire/update.js';

export class KeyDecoder {
  private readonly parsed = new ParsedUpdate();
  private body = Buffer.allocUnsafe(4096);

  /** The attributes the key was made from, decoded under `ctx`; null if it does not decode. */
  decode(key: Uint8Array, ctx: UpdateContext): PathAttributes | null {
    const n = key.length;
    if (this.body.length < n + 4) this.body = Buffer.allocUnsafe(Math.max(n + 4, this.body.length * 2));
    const body = this.body;
    let w = 4;
    let p = 0;
    let nhStart = -1;
    let nhLen = 0;
    while (p < n) {
      if (p + 3 > n) return null;
      const flags = key[p]!;
      const type = key[p + 1]!;
      const ext = (flags & AttrFlag.EXTENDED_LENGTH) !== 0;
      if (ext && p + 4 > n) return null;
      const len = ext ? (key[p + 2]! << 8) | key[p + 3]! : key[p + 2]!;
      const v = p + (ext ? 4 : 3);
      if (v + len > n) return null;
      if (type === AttrType.MP_REACH_NLRI) {
        // The synthetic TLV: AFI, SAFI, next-hop length, next hop.
        if (len < 4) return null;
        nhLen = key[v + 3]!;
        nhStart = v + 4;
        if (nhStart + nhLen > v + len) return null;
      } else {
        body.set(key.subarray(p, v + len), w);
        w += v + len - p;
      }
      p = v + len;
    }
    const alen = w - 4;
    body[0] = 0;
    body[1] = 0;
    body[2] = alen >>> 8;
    body[3] = alen & 0xff;
    const view = body.subarray(0, w);
    const parsed = this.parsed;
    locateUpdate(view, ctx, parsed);
    const attrs = decodeAttributes(parsed, ctx);
    if (attrs === null) return null;
    if (nhStart >= 0) {
      const globalLen = nhLen === 32 ? 16 : nhLen;
      attrs.mpNextHop = {
        global: Buffer.from(key.subarray(nhStart, nhStart + globalLen)),
        linkLocal: nhLen === 32 ? Buffer.from(key.subarray(nhStart + 16, nhStart + 32)) : undefined,
      };
    }
    return attrs;
  }
}
