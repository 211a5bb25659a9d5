// ATOMIC_AGGREGATE (6), AGGREGATOR (7) (RFC 4271 §5.1.6-7) and AS4_AGGREGATOR (18, RFC 6793).
// RFC 7606 §7.6/§7.7: a malformed one of these is discarded, the route kept.
import { UpdateAction } from '../errors.js';
import { AS_TRANS, AttrFlag, AttrType } from '../iana.js';
import { type AttrDescriptor, u16At, u32At, writeAttrHeader } from './descriptor.js';

const OPT_TRANS = AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE;

export const ATOMIC_AGGREGATE: AttrDescriptor = {
  type: AttrType.ATOMIC_AGGREGATE,
  name: 'ATOMIC_AGGREGATE',
  flags: AttrFlag.TRANSITIVE,
  onError: UpdateAction.ATTRIBUTE_DISCARD,
  decode(_buf, start, end, _ctx, out) {
    if (end !== start) return UpdateAction.ATTRIBUTE_DISCARD;
    out.atomicAggregate = true;
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    if (attrs.atomicAggregate) writeAttrHeader(w, AttrFlag.TRANSITIVE, AttrType.ATOMIC_AGGREGATE, 0);
  },
};

export const AGGREGATOR: AttrDescriptor = {
  type: AttrType.AGGREGATOR,
  name: 'AGGREGATOR',
  flags: OPT_TRANS,
  onError: UpdateAction.ATTRIBUTE_DISCARD,
  decode(buf, start, end, ctx, out) {
    // 2-octet AS + address from an OLD peer, 4-octet AS + address otherwise (RFC 6793 §3).
    const asnSize = ctx.fourOctetAs ? 4 : 2;
    if (end - start !== asnSize + 4) return UpdateAction.ATTRIBUTE_DISCARD;
    const asn = asnSize === 4 ? u32At(buf, start) : u16At(buf, start);
    if (asn === 0) return UpdateAction.ATTRIBUTE_DISCARD; // RFC 7607
    out.aggregator = { asn, address: u32At(buf, start + asnSize) };
    return UpdateAction.NONE;
  },
  encode(attrs, ctx, w) {
    const agg = attrs.aggregator;
    if (agg === undefined) return;
    if (ctx.fourOctetAs) {
      writeAttrHeader(w, OPT_TRANS, AttrType.AGGREGATOR, 8);
      w.u32(agg.asn);
    } else {
      writeAttrHeader(w, OPT_TRANS, AttrType.AGGREGATOR, 6);
      w.u16(agg.asn > 0xffff ? AS_TRANS : agg.asn);
    }
    w.u32(agg.address);
  },
};

export const AS4_AGGREGATOR: AttrDescriptor = {
  type: AttrType.AS4_AGGREGATOR,
  name: 'AS4_AGGREGATOR',
  flags: OPT_TRANS,
  onError: UpdateAction.ATTRIBUTE_DISCARD,
  decode(buf, start, end, ctx, _out, scratch) {
    if (ctx.fourOctetAs) return UpdateAction.NONE; // RFC 6793 §4.1: ignored between NEW speakers
    if (end - start !== 8) return UpdateAction.ATTRIBUTE_DISCARD;
    const asn = u32At(buf, start);
    if (asn === 0) return UpdateAction.ATTRIBUTE_DISCARD; // RFC 7607
    scratch.as4Aggregator = { asn, address: u32At(buf, start + 4) };
    return UpdateAction.NONE;
  },
  encode(attrs, ctx, w) {
    const agg = attrs.aggregator;
    // RFC 6793 §4.2.2: only to an OLD speaker and only when the AS does not fit 2 octets.
    if (ctx.fourOctetAs || agg === undefined || agg.asn <= 0xffff) return;
    writeAttrHeader(w, OPT_TRANS, AttrType.AS4_AGGREGATOR, 8);
    w.u32(agg.asn).u32(agg.address);
  },
};
