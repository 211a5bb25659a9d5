// COMMUNITIES (8, RFC 1997), EXTENDED_COMMUNITIES (16, RFC 4360), LARGE_COMMUNITY (32, RFC 8092).
// RFC 7606 §7.8/§7.14, RFC 8092 §6: a length that is not a non-zero multiple of the
// element size makes the route a withdrawal.
import { UpdateAction } from '../errors.js';
import { AttrFlag, AttrType } from '../iana.js';
import { type AttrDescriptor, copyBytes, u32At, writeAttrHeader } from './descriptor.js';

const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;

function readWords(buf: Buffer, start: number, end: number): Uint32Array {
  const n = (end - start) >>> 2;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = u32At(buf, start + i * 4);
  return out;
}

export const COMMUNITIES: AttrDescriptor = {
  type: AttrType.COMMUNITIES,
  name: 'COMMUNITIES',
  flags: OPT_TRANS,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    const len = end - start;
    if (len === 0 || len % 4 !== 0) return UpdateAction.TREAT_AS_WITHDRAW;
    out.communities = readWords(buf, start, end);
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    const c = attrs.communities;
    if (c === undefined || c.length === 0) return;
    writeAttrHeader(w, OPT_TRANS, AttrType.COMMUNITIES, c.length * 4);
    for (const v of c) w.u32(v);
  },
};

export const EXTENDED_COMMUNITIES: AttrDescriptor = {
  type: AttrType.EXTENDED_COMMUNITIES,
  name: 'EXTENDED_COMMUNITIES',
  flags: OPT_TRANS,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    const len = end - start;
    if (len === 0 || len % 8 !== 0) return UpdateAction.TREAT_AS_WITHDRAW;
    out.extendedCommunities = copyBytes(buf, start, end);
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    const c = attrs.extendedCommunities;
    if (c === undefined || c.length === 0) return;
    if (c.length % 8 !== 0) throw new RangeError('extended communities must be a multiple of 8 bytes');
    writeAttrHeader(w, OPT_TRANS, AttrType.EXTENDED_COMMUNITIES, c.length);
    w.bytes(c);
  },
};

export const LARGE_COMMUNITY: AttrDescriptor = {
  type: AttrType.LARGE_COMMUNITY,
  name: 'LARGE_COMMUNITY',
  flags: OPT_TRANS,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    const len = end - start;
    if (len === 0 || len % 12 !== 0) return UpdateAction.TREAT_AS_WITHDRAW;
    out.largeCommunities = readWords(buf, start, end);
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    const c = attrs.largeCommunities;
    if (c === undefined || c.length === 0) return;
    if (c.length % 3 !== 0) throw new RangeError('large communities must be a multiple of 3 words');
    writeAttrHeader(w, OPT_TRANS, AttrType.LARGE_COMMUNITY, c.length * 4);
    for (const v of c) w.u32(v);
  },
};
