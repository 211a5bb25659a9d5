// The small fixed-size attributes: ORIGIN (1), NEXT_HOP (3), MULTI_EXIT_DISC (4),
// LOCAL_PREF (5) from RFC 4271 §5.1, and ORIGINATOR_ID (9), CLUSTER_LIST (10) from
// RFC 4456. RFC 7606 §7.1-7.5, §7.9-7.10: each malformed one means treat-as-withdraw.
import { UpdateAction } from '../errors.js';
import { AttrFlag, AttrType, Origin } from '../iana.js';
import { type AttrDescriptor, copyBytes, u32At, writeAttrHeader } from './descriptor.js';

export const ORIGIN: AttrDescriptor = {
  type: AttrType.ORIGIN,
  name: 'ORIGIN',
  flags: AttrFlag.TRANSITIVE,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    if (end - start !== 1) return UpdateAction.TREAT_AS_WITHDRAW;
    const v = buf[start]!;
    if (v > Origin.INCOMPLETE) return UpdateAction.TREAT_AS_WITHDRAW;
    out.origin = v as Origin;
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    if (attrs.origin === undefined) return;
    writeAttrHeader(w, AttrFlag.TRANSITIVE, AttrType.ORIGIN, 1);
    w.u8(attrs.origin);
  },
};

export const NEXT_HOP: AttrDescriptor = {
  type: AttrType.NEXT_HOP,
  name: 'NEXT_HOP',
  flags: AttrFlag.TRANSITIVE,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    // Syntax only; whether the address is usable (not ours, not martian) is the RIB's call.
    if (end - start !== 4) return UpdateAction.TREAT_AS_WITHDRAW;
    out.nextHop = copyBytes(buf, start, end);
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    const nh = attrs.nextHop;
    if (nh === undefined) return;
    if (nh.length !== 4) throw new RangeError('NEXT_HOP must be 4 bytes');
    writeAttrHeader(w, AttrFlag.TRANSITIVE, AttrType.NEXT_HOP, 4);
    w.bytes(nh);
  },
};

export const MULTI_EXIT_DISC: AttrDescriptor = {
  type: AttrType.MULTI_EXIT_DISC,
  name: 'MULTI_EXIT_DISC',
  flags: AttrFlag.OPTIONAL,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    if (end - start !== 4) return UpdateAction.TREAT_AS_WITHDRAW;
    out.med = u32At(buf, start);
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    if (attrs.med === undefined) return;
    writeAttrHeader(w, AttrFlag.OPTIONAL, AttrType.MULTI_EXIT_DISC, 4);
    w.u32(attrs.med);
  },
};

export const LOCAL_PREF: AttrDescriptor = {
  type: AttrType.LOCAL_PREF,
  name: 'LOCAL_PREF',
  flags: AttrFlag.TRANSITIVE,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, ctx, out) {
    // RFC 7606 §7.5: from an external peer it is discarded whatever its shape.
    if (ctx.ebgp) return UpdateAction.ATTRIBUTE_DISCARD;
    if (end - start !== 4) return UpdateAction.TREAT_AS_WITHDRAW;
    out.localPref = u32At(buf, start);
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    if (attrs.localPref === undefined) return;
    writeAttrHeader(w, AttrFlag.TRANSITIVE, AttrType.LOCAL_PREF, 4);
    w.u32(attrs.localPref);
  },
};

export const ORIGINATOR_ID: AttrDescriptor = {
  type: AttrType.ORIGINATOR_ID,
  name: 'ORIGINATOR_ID',
  flags: AttrFlag.OPTIONAL,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    if (end - start !== 4) return UpdateAction.TREAT_AS_WITHDRAW;
    out.originatorId = u32At(buf, start);
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    if (attrs.originatorId === undefined) return;
    writeAttrHeader(w, AttrFlag.OPTIONAL, AttrType.ORIGINATOR_ID, 4);
    w.u32(attrs.originatorId);
  },
};

export const CLUSTER_LIST: AttrDescriptor = {
  type: AttrType.CLUSTER_LIST,
  name: 'CLUSTER_LIST',
  flags: AttrFlag.OPTIONAL,
  onError: UpdateAction.TREAT_AS_WITHDRAW,
  decode(buf, start, end, _ctx, out) {
    const len = end - start;
    if (len === 0 || len % 4 !== 0) return UpdateAction.TREAT_AS_WITHDRAW;
    const ids = new Uint32Array(len >>> 2);
    for (let i = 0; i < ids.length; i++) ids[i] = u32At(buf, start + i * 4);
    out.clusterList = ids;
    return UpdateAction.NONE;
  },
  encode(attrs, _ctx, w) {
    const c = attrs.clusterList;
    if (c === undefined || c.length === 0) return;
    writeAttrHeader(w, AttrFlag.OPTIONAL, AttrType.CLUSTER_LIST, c.length * 4);
    for (const v of c) w.u32(v);
  },
};
