// rtnetlink message codec. Pure: Buffers in, Buffers out.
//
// Encoding writes whole messages into one preallocated Buffer at increasing
// offsets (NlEncoder); route writers take the prefix as bytes + offset + length
// and a prebuilt nexthop attribute block shared by every route using the same
// next hop, so the write path allocates nothing per route. Decoding of routes
// fills a reusable RouteView with offsets into the received Buffer; links,
// addresses, nexthops and errors are rare and decode to small objects.
import { type Family, formatIp, formatPrefix } from '../ip.js';
import {
  AddrFamily,
  Ifa,
  Iff,
  Ifla,
  IFADDRMSG_LEN,
  IFINFOMSG_LEN,
  NHMSG_LEN,
  NH_GRP_LEN,
  NLA_HDRLEN,
  NLMSG_HDRLEN,
  Nha,
  NlMsgType,
  NlmF,
  NlmsgErrAttr,
  Rta,
  RTMSG_LEN,
  RTNH_LEN,
  Rtm,
  Rtn,
  RtScope,
  RtTable,
} from './constants.js';

export const align4 = (n: number): number => (n + 3) & ~3;

export function afOf(family: Family): number {
  return family === 4 ? AddrFamily.INET : AddrFamily.INET6;
}

/** 4 or 6 for AF_INET / AF_INET6, 0 for anything else. */
export function familyOfAf(af: number): Family | 0 {
  return af === AddrFamily.INET ? 4 : af === AddrFamily.INET6 ? 6 : 0;
}

/** Writes netlink messages back to back into one Buffer. */
export class NlEncoder {
  readonly buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }

  get room(): number {
    return this.buf.length - this.pos;
  }

  reset(): void {
    this.pos = 0;
  }

  /** Writes an nlmsghdr with a zero length; returns its offset for end(). */
  begin(type: number, flags: number, seq: number): number {
    const at = this.pos;
    const b = this.buf;
    b.writeUInt32LE(0, at);
    b.writeUInt16LE(type, at + 4);
    b.writeUInt16LE(flags, at + 6);
    b.writeUInt32LE(seq >>> 0, at + 8);
    b.writeUInt32LE(0, at + 12); // pid 0: the kernel fills in our port
    this.pos = at + NLMSG_HDRLEN;
    return at;
  }

  end(at: number): void {
    this.buf.writeUInt32LE(this.pos - at, at);
    this.pad();
  }

  pad(): void {
    while (this.pos & 3) this.buf[this.pos++] = 0;
  }

  u8(v: number): void {
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.buf.writeUInt16LE(v & 0xffff, this.pos);
    this.pos += 2;
  }

  u32(v: number): void {
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  zero(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  raw(src: Uint8Array): void {
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  attrBytes(type: number, src: Uint8Array, off: number, len: number): void {
    const b = this.buf;
    b.writeUInt16LE(NLA_HDRLEN + len, this.pos);
    b.writeUInt16LE(type, this.pos + 2);
    this.pos += NLA_HDRLEN;
    for (let i = 0; i < len; i++) b[this.pos + i] = src[off + i]!;
    this.pos += len;
    this.pad();
  }

  attrU32(type: number, v: number): void {
    const b = this.buf;
    b.writeUInt16LE(8, this.pos);
    b.writeUInt16LE(type, this.pos + 2);
    b.writeUInt32LE(v >>> 0, this.pos + 4);
    this.pos += 8;
  }

  attrU16(type: number, v: number): void {
    const b = this.buf;
    b.writeUInt16LE(6, this.pos);
    b.writeUInt16LE(type, this.pos + 2);
    b.writeUInt16LE(v & 0xffff, this.pos + 4);
    this.pos += 6;
    this.pad();
  }

  attrFlag(type: number): void {
    this.buf.writeUInt16LE(NLA_HDRLEN, this.pos);
    this.buf.writeUInt16LE(type, this.pos + 2);
    this.pos += NLA_HDRLEN;
  }

  nestBegin(type: number): number {
    const at = this.pos;
    this.buf.writeUInt16LE(0, at);
    this.buf.writeUInt16LE(type, at + 2);
    this.pos += NLA_HDRLEN;
    return at;
  }

  nestEnd(at: number): void {
    this.buf.writeUInt16LE(this.pos - at, at);
  }

  /** A copy of what was written. */
  toBuffer(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}

// ---------------------------------------------------------------- routes

/** Largest route message without its nexthop block: header, rtmsg, dst v6, table, priority. */
export const ROUTE_MSG_BASE = NLMSG_HDRLEN + RTMSG_LEN + NLA_HDRLEN + 16 + 8 + 8;

/**
 * Writes one RTM_NEWROUTE or RTM_DELROUTE. `nh` is a prebuilt attribute block
 * (nhIdBlock / gatewayBlock) or null (deletes need none). A table above 255
 * goes in RTA_TABLE with rtm_table = RT_TABLE_UNSPEC; we always send RTA_TABLE.
 * Returns false, writing nothing, when the message does not fit.
 */
export function putRoute(
  enc: NlEncoder,
  type: number,
  flags: number,
  seq: number,
  family: Family,
  addr: Uint8Array,
  addrOff: number,
  plen: number,
  table: number,
  protocol: number,
  metric: number,
  nh: Uint8Array | null,
): boolean {
  const alen = family === 4 ? 4 : 16;
  const need = NLMSG_HDRLEN + RTMSG_LEN + NLA_HDRLEN + alen + 16 + (nh ? nh.length : 0);
  if (enc.room < need) return false;
  const at = enc.begin(type, flags, seq);
  const isDel = type === Rtm.DELROUTE;
  enc.u8(afOf(family));
  enc.u8(plen);
  enc.u8(0); // src_len
  enc.u8(0); // tos
  enc.u8(table < 256 ? table : RtTable.UNSPEC);
  enc.u8(protocol);
  // A delete with scope NOWHERE and type UNSPEC matches any scope and type.
  enc.u8(isDel ? RtScope.NOWHERE : RtScope.UNIVERSE);
  enc.u8(isDel ? Rtn.UNSPEC : Rtn.UNICAST);
  enc.u32(0); // rtm_flags
  enc.attrBytes(Rta.DST, addr, addrOff, alen);
  enc.attrU32(Rta.TABLE, table);
  enc.attrU32(Rta.PRIORITY, metric);
  if (nh) enc.raw(nh);
  enc.end(at);
  return true;
}

const bswap32 = (v: number): number => ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);

/**
 * The writer's hot path: route messages written as 32-bit words into an
 * encoder's buffer (netlink messages are 4-byte aligned and the host is
 * little-endian), the prefix taken as big-endian int32 words (FibTable keys).
 * Same bytes as putRoute, a fraction of its cost per route.
 */
export class RouteWords {
  private readonly w: Int32Array;
  /** rtmsg's second word (table, protocol, scope, type) for adds and deletes. */
  private readonly rtAdd: number;
  private readonly rtDel: number;

  constructor(
    private readonly enc: NlEncoder,
    private readonly table: number,
    protocol: number,
    private readonly metric: number,
  ) {
    const b = enc.buf;
    if (b.byteOffset & 3) throw new Error('encoder buffer not 4-byte aligned');
    this.w = new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
    const t = table < 256 ? table : RtTable.UNSPEC;
    this.rtAdd = t | (protocol << 8) | (RtScope.UNIVERSE << 16) | (Rtn.UNICAST << 24);
    this.rtDel = t | (protocol << 8) | (RtScope.NOWHERE << 16) | (Rtn.UNSPEC << 24);
  }

  /**
   * One RTM_NEWROUTE (`nh` given) or RTM_DELROUTE (`nh` null) for the prefix in
   * `words[k..]` (1 word for IPv4, 4 for IPv6). The caller checked the room.
   */
  put(type: number, flags: number, seq: number, family: Family, words: Int32Array, k: number, plen: number, nh: Uint8Array | null): void {
    const enc = this.enc;
    const w = this.w;
    const at = enc.pos;
    let i = at >> 2;
    const start = i;
    i++; // length, below
    w[i++] = type | (flags << 16);
    w[i++] = seq | 0;
    w[i++] = 0;
    w[i++] = (family === 4 ? AddrFamily.INET : AddrFamily.INET6) | (plen << 8);
    w[i++] = nh ? this.rtAdd : this.rtDel;
    w[i++] = 0;
    if (family === 4) {
      w[i++] = (NLA_HDRLEN + 4) | (Rta.DST << 16);
      w[i++] = bswap32(words[k]!);
    } else {
      w[i++] = (NLA_HDRLEN + 16) | (Rta.DST << 16);
      w[i++] = bswap32(words[k]!);
      w[i++] = bswap32(words[k + 1]!);
      w[i++] = bswap32(words[k + 2]!);
      w[i++] = bswap32(words[k + 3]!);
    }
    w[i++] = 8 | (Rta.TABLE << 16);
    w[i++] = this.table;
    w[i++] = 8 | (Rta.PRIORITY << 16);
    w[i++] = this.metric;
    let end = i << 2;
    if (nh) {
      const n = nh.length;
      if (n === 8) {
        w[i++] = nh[0]! | (nh[1]! << 8) | (nh[2]! << 16) | (nh[3]! << 24);
        w[i++] = nh[4]! | (nh[5]! << 8) | (nh[6]! << 16) | (nh[7]! << 24);
        end = i << 2;
      } else {
        const b = enc.buf;
        b.set(nh, end);
        end += n;
        while (end & 3) b[end++] = 0;
      }
    }
    w[start] = end - at;
    enc.pos = end;
  }
}

/** RTA_NH_ID: the route uses nexthop object `id` (kernel >= 5.3). */
export function nhIdBlock(id: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(8, 0);
  b.writeUInt16LE(Rta.NH_ID, 2);
  b.writeUInt32LE(id >>> 0, 4);
  return b;
}

export interface GatewaySpec {
  readonly family: Family;
  /** 4 or 16 bytes. */
  readonly addr: Uint8Array;
  /** 0: let the kernel find the interface. */
  readonly oif: number;
  /** 1..256 */
  readonly weight: number;
}

function putGateway(enc: NlEncoder, routeFamily: Family, g: GatewaySpec): void {
  if (g.family === routeFamily) {
    enc.attrBytes(Rta.GATEWAY, g.addr, 0, g.addr.length);
  } else {
    // RFC 8950 style: an IPv4 route through an IPv6 next hop needs RTA_VIA.
    const v = Buffer.alloc(2 + g.addr.length);
    v.writeUInt16LE(afOf(g.family), 0);
    v.set(g.addr, 2);
    enc.attrBytes(Rta.VIA, v, 0, v.length);
  }
}

/**
 * The nexthop attributes of a route without nexthop objects: RTA_GATEWAY (+ RTA_OIF)
 * for one gateway, RTA_MULTIPATH with one rtnexthop per gateway for ECMP.
 */
export function gatewayBlock(routeFamily: Family, gws: readonly GatewaySpec[]): Buffer {
  const enc = new NlEncoder(64 + gws.length * 40);
  if (gws.length === 1) {
    const g = gws[0]!;
    putGateway(enc, routeFamily, g);
    if (g.oif > 0) enc.attrU32(Rta.OIF, g.oif);
  } else {
    const nest = enc.nestBegin(Rta.MULTIPATH);
    for (const g of gws) {
      const at = enc.pos;
      enc.u16(0); // rtnh_len, patched below
      enc.u8(0); // rtnh_flags
      enc.u8(Math.max(0, Math.min(255, g.weight - 1))); // rtnh_hops holds weight - 1
      enc.u32(g.oif);
      putGateway(enc, routeFamily, g);
      enc.buf.writeUInt16LE(enc.pos - at, at);
    }
    enc.nestEnd(nest);
  }
  return enc.toBuffer();
}

// ---------------------------------------------------------------- nexthop objects

function putNhmsg(enc: NlEncoder, af: number, protocol: number): void {
  enc.u8(af);
  enc.u8(0); // scope
  enc.u8(protocol);
  enc.u8(0); // resvd
  enc.u32(0); // nh_flags
}

/** RTM_NEWNEXTHOP for a single gateway through interface `oif`. */
export function putNexthop(
  enc: NlEncoder,
  flags: number,
  seq: number,
  id: number,
  family: Family,
  gw: Uint8Array,
  gwOff: number,
  oif: number,
  protocol: number,
): boolean {
  const alen = family === 4 ? 4 : 16;
  if (enc.room < NLMSG_HDRLEN + NHMSG_LEN + 8 + NLA_HDRLEN + alen + 8) return false;
  const at = enc.begin(Rtm.NEWNEXTHOP, flags, seq);
  putNhmsg(enc, afOf(family), protocol);
  enc.attrU32(Nha.ID, id);
  enc.attrBytes(Nha.GATEWAY, gw, gwOff, alen);
  enc.attrU32(Nha.OIF, oif);
  enc.end(at);
  return true;
}

export interface GroupMember {
  readonly id: number;
  /** 1..256 */
  readonly weight: number;
}

/** RTM_NEWNEXTHOP for an ECMP group (type mpath) of existing nexthop ids. */
export function putNexthopGroup(
  enc: NlEncoder,
  flags: number,
  seq: number,
  id: number,
  members: readonly GroupMember[],
  protocol: number,
): boolean {
  if (enc.room < NLMSG_HDRLEN + NHMSG_LEN + 8 + NLA_HDRLEN + members.length * NH_GRP_LEN + 8) return false;
  const at = enc.begin(Rtm.NEWNEXTHOP, flags, seq);
  putNhmsg(enc, AddrFamily.UNSPEC, protocol);
  enc.attrU32(Nha.ID, id);
  const nest = enc.nestBegin(Nha.GROUP); // not a real nest: an array of nexthop_grp
  for (const m of members) {
    enc.u32(m.id);
    enc.u8(Math.max(0, Math.min(255, m.weight - 1)));
    enc.u8(0);
    enc.u16(0);
  }
  enc.nestEnd(nest);
  enc.attrU16(Nha.GROUP_TYPE, 0); // NEXTHOP_GRP_TYPE_MPATH
  enc.end(at);
  return true;
}

export function putDelNexthop(enc: NlEncoder, flags: number, seq: number, id: number): boolean {
  if (enc.room < NLMSG_HDRLEN + NHMSG_LEN + 8) return false;
  const at = enc.begin(Rtm.DELNEXTHOP, flags, seq);
  putNhmsg(enc, AddrFamily.UNSPEC, 0);
  enc.attrU32(Nha.ID, id);
  enc.end(at);
  return true;
}

// ---------------------------------------------------------------- requests

/** NLMSG_NOOP with NLM_F_ACK: its ACK tells that every message before it was handled. */
export function putNoopAck(enc: NlEncoder, seq: number): boolean {
  if (enc.room < NLMSG_HDRLEN) return false;
  enc.end(enc.begin(NlMsgType.NOOP, NlmF.REQUEST | NlmF.ACK, seq));
  return true;
}

export function putDumpLinks(enc: NlEncoder, seq: number): void {
  const at = enc.begin(Rtm.GETLINK, NlmF.REQUEST | NlmF.DUMP, seq);
  enc.zero(IFINFOMSG_LEN);
  enc.end(at);
}

export function putDumpAddrs(enc: NlEncoder, seq: number, family: Family | 0): void {
  const at = enc.begin(Rtm.GETADDR, NlmF.REQUEST | NlmF.DUMP, seq);
  enc.u8(family === 0 ? AddrFamily.UNSPEC : afOf(family));
  enc.zero(IFADDRMSG_LEN - 1);
  enc.end(at);
}

/**
 * RTM_GETROUTE dump of one family. With NETLINK_GET_STRICT_CHK the kernel
 * filters by table (and protocol when non-zero) itself; without it, the
 * caller filters.
 */
export function putDumpRoutes(enc: NlEncoder, seq: number, family: Family, table: number, protocol = 0): void {
  const at = enc.begin(Rtm.GETROUTE, NlmF.REQUEST | NlmF.DUMP, seq);
  enc.u8(afOf(family));
  enc.u8(0);
  enc.u8(0);
  enc.u8(0);
  enc.u8(table > 0 && table < 256 ? table : RtTable.UNSPEC);
  enc.u8(protocol);
  enc.u8(0);
  enc.u8(0);
  enc.u32(0);
  if (table > 0) enc.attrU32(Rta.TABLE, table);
  enc.end(at);
}

export function putDumpNexthops(enc: NlEncoder, seq: number): void {
  const at = enc.begin(Rtm.GETNEXTHOP, NlmF.REQUEST | NlmF.DUMP, seq);
  putNhmsg(enc, AddrFamily.UNSPEC, 0);
  enc.end(at);
}

// ---------------------------------------------------------------- decoding

export function msgLen(b: Buffer, off: number): number {
  return b.readUInt32LE(off);
}
export function msgType(b: Buffer, off: number): number {
  return b.readUInt16LE(off + 4);
}
export function msgFlags(b: Buffer, off: number): number {
  return b.readUInt16LE(off + 6);
}
export function msgSeq(b: Buffer, off: number): number {
  return b.readUInt32LE(off + 8);
}
export function msgPid(b: Buffer, off: number): number {
  return b.readUInt32LE(off + 12);
}

/**
 * Length of the message at `off` if it is whole and sane within `end`, else 0
 * (the caller stops: the rest of the datagram cannot be trusted).
 */
export function checkMsg(b: Buffer, off: number, end: number): number {
  if (off + NLMSG_HDRLEN > end) return 0;
  const len = b.readUInt32LE(off);
  return len >= NLMSG_HDRLEN && off + len <= end ? len : 0;
}

export interface NlError {
  /** Positive errno, 0 for an ACK. */
  readonly errno: number;
  /** Header fields of the request this answers. */
  readonly reqType: number;
  readonly reqSeq: number;
  /** NLMSGERR_ATTR_MSG: the kernel's extended ack text, when it sent one. */
  readonly message?: string;
  /** NLMSGERR_ATTR_OFFS: offset of the offending attribute in the request. */
  readonly badAttrOffset?: number;
}

/** Decodes NLMSG_ERROR (an error, or an ACK when errno is 0). Null if malformed. */
export function decodeError(b: Buffer, off: number, len: number): NlError | null {
  const p = off + NLMSG_HDRLEN;
  const end = off + len;
  if (p + 4 + NLMSG_HDRLEN > end) return null;
  const err = b.readInt32LE(p);
  const reqLen = b.readUInt32LE(p + 4);
  const reqType = b.readUInt16LE(p + 8);
  const reqSeq = b.readUInt32LE(p + 12);
  const flags = b.readUInt16LE(off + 6);
  let message: string | undefined;
  let badAttrOffset: number | undefined;
  if (flags & NlmF.ACK_TLVS) {
    // The request comes back whole unless NETLINK_CAP_ACK trimmed it (NLM_F_CAPPED)
    // or this is an ACK (errno 0), which never carries the payload.
    let a = p + 4 + (flags & NlmF.CAPPED || err === 0 ? NLMSG_HDRLEN : align4(reqLen));
    while (a + NLA_HDRLEN <= end) {
      const alen = b.readUInt16LE(a);
      const atype = b.readUInt16LE(a + 2) & 0x3fff;
      if (alen < NLA_HDRLEN || a + alen > end) break;
      if (atype === NlmsgErrAttr.MSG) {
        let z = a + NLA_HDRLEN;
        while (z < a + alen && b[z] !== 0) z++;
        message = b.toString('utf8', a + NLA_HDRLEN, z);
      } else if (atype === NlmsgErrAttr.OFFS && alen >= 8) {
        badAttrOffset = b.readUInt32LE(a + NLA_HDRLEN);
      }
      a += align4(alen);
    }
  }
  return {
    errno: err === 0 ? 0 : -err,
    reqType,
    reqSeq,
    ...(message !== undefined ? { message } : {}),
    ...(badAttrOffset !== undefined ? { badAttrOffset } : {}),
  };
}

/** One route message, as offsets into `buf`. Reused for every message of a dump. */
export class RouteView {
  buf: Buffer = Buffer.alloc(0);
  family: Family | 0 = 0;
  dstLen = 0;
  tos = 0;
  table = 0;
  protocol = 0;
  scope = 0;
  type = 0;
  flags = 0;
  /** RTA_PRIORITY, 0 when absent. */
  metric = 0;
  /** Offset of the RTA_DST bytes, -1 when absent (a default route). */
  dstOff = -1;
  /** Offset of the RTA_GATEWAY / RTA_VIA address bytes, -1 when absent. */
  gwOff = -1;
  gwFamily: Family | 0 = 0;
  oif = 0;
  nhId = 0;
  /** Offset and length of the RTA_MULTIPATH payload, -1 when absent. */
  mpOff = -1;
  mpLen = 0;

  reset(buf: Buffer): void {
    this.buf = buf;
    this.family = 0;
    this.dstLen = this.tos = this.table = this.protocol = this.scope = this.type = this.flags = 0;
    this.metric = 0;
    this.dstOff = this.gwOff = this.mpOff = -1;
    this.gwFamily = 0;
    this.oif = this.nhId = this.mpLen = 0;
  }
}

/**
 * Fills `v` from the RTM_NEWROUTE/RTM_DELROUTE message at `off`. Returns false
 * for a malformed message or one that is not IPv4/IPv6.
 */
export function decodeRoute(b: Buffer, off: number, len: number, v: RouteView): boolean {
  v.reset(b);
  const p = off + NLMSG_HDRLEN;
  const end = off + len;
  if (p + RTMSG_LEN > end) return false;
  const fam = familyOfAf(b[p]!);
  if (fam === 0) return false;
  v.family = fam;
  v.dstLen = b[p + 1]!;
  v.tos = b[p + 3]!;
  v.table = b[p + 4]!;
  v.protocol = b[p + 5]!;
  v.scope = b[p + 6]!;
  v.type = b[p + 7]!;
  v.flags = b.readUInt32LE(p + 8);
  const alen = fam === 4 ? 4 : 16;
  let a = p + RTMSG_LEN;
  while (a + NLA_HDRLEN <= end) {
    const l = b.readUInt16LE(a);
    const t = b.readUInt16LE(a + 2) & 0x3fff;
    if (l < NLA_HDRLEN || a + l > end) return false;
    const d = a + NLA_HDRLEN;
    const dl = l - NLA_HDRLEN;
    switch (t) {
      case Rta.DST:
        if (dl !== alen) return false;
        v.dstOff = d;
        break;
      case Rta.GATEWAY:
        if (dl !== alen) return false;
        v.gwOff = d;
        v.gwFamily = fam;
        break;
      case Rta.VIA: {
        if (dl < 2) return false;
        const vf = familyOfAf(b.readUInt16LE(d));
        if (vf === 0 || dl !== 2 + (vf === 4 ? 4 : 16)) return false;
        v.gwOff = d + 2;
        v.gwFamily = vf;
        break;
      }
      case Rta.OIF:
        if (dl >= 4) v.oif = b.readUInt32LE(d);
        break;
      case Rta.PRIORITY:
        if (dl >= 4) v.metric = b.readUInt32LE(d);
        break;
      case Rta.TABLE:
        if (dl >= 4) v.table = b.readUInt32LE(d);
        break;
      case Rta.NH_ID:
        if (dl >= 4) v.nhId = b.readUInt32LE(d);
        break;
      case Rta.MULTIPATH:
        v.mpOff = d;
        v.mpLen = dl;
        break;
    }
    a += align4(l);
  }
  return true;
}

export interface RouteNexthop {
  readonly gateway?: string;
  readonly oif: number;
  readonly weight: number;
  readonly flags: number;
}

/** The ECMP legs of a decoded route (RTA_MULTIPATH), or its single gateway/oif. */
export function routeNexthops(v: RouteView): RouteNexthop[] {
  const b = v.buf;
  if (v.mpOff < 0) {
    if (v.gwOff < 0 && v.oif === 0) return [];
    const gw = v.gwOff >= 0 && v.gwFamily !== 0 ? formatIp(b, v.gwOff, v.gwFamily) : undefined;
    return [{ ...(gw !== undefined ? { gateway: gw } : {}), oif: v.oif, weight: 1, flags: 0 }];
  }
  const out: RouteNexthop[] = [];
  const end = v.mpOff + v.mpLen;
  let p = v.mpOff;
  while (p + RTNH_LEN <= end) {
    const l = b.readUInt16LE(p);
    if (l < RTNH_LEN || p + l > end) break;
    const flags = b[p + 2]!;
    const weight = b[p + 3]! + 1;
    const oif = b.readUInt32LE(p + 4);
    let gateway: string | undefined;
    let a = p + RTNH_LEN;
    while (a + NLA_HDRLEN <= p + l) {
      const al = b.readUInt16LE(a);
      const at = b.readUInt16LE(a + 2) & 0x3fff;
      if (al < NLA_HDRLEN || a + al > p + l) break;
      if (at === Rta.GATEWAY && v.family !== 0 && al - NLA_HDRLEN === (v.family === 4 ? 4 : 16)) {
        gateway = formatIp(b, a + NLA_HDRLEN, v.family);
      } else if (at === Rta.VIA && al >= NLA_HDRLEN + 2) {
        const vf = familyOfAf(b.readUInt16LE(a + NLA_HDRLEN));
        if (vf !== 0 && al - NLA_HDRLEN - 2 === (vf === 4 ? 4 : 16)) gateway = formatIp(b, a + NLA_HDRLEN + 2, vf);
      }
      a += align4(al);
    }
    out.push({ ...(gateway !== undefined ? { gateway } : {}), oif, weight, flags });
    p += align4(l);
  }
  return out;
}

const ZERO16 = new Uint8Array(16);

/** "10.0.0.0/24" for the decoded route (a missing RTA_DST is the default route). */
export function routeDst(v: RouteView): string {
  if (v.family === 0) return '';
  return v.dstOff >= 0
    ? formatPrefix(v.buf, v.dstOff, v.family, v.dstLen)
    : formatPrefix(ZERO16, 0, v.family, v.dstLen);
}

export interface LinkMsg {
  readonly index: number;
  readonly name: string;
  readonly flags: number;
  /** IFF_UP: administratively up. */
  readonly up: boolean;
  /** IFF_LOWER_UP: carrier. */
  readonly lowerUp: boolean;
  /** IF_OPER_* (RFC 2863 operstate), 0 (unknown) when absent. */
  readonly operstate: number;
  readonly mtu: number;
  readonly master: number;
}

export function decodeLink(b: Buffer, off: number, len: number): LinkMsg | null {
  const p = off + NLMSG_HDRLEN;
  const end = off + len;
  if (p + IFINFOMSG_LEN > end) return null;
  const index = b.readInt32LE(p + 4);
  const flags = b.readUInt32LE(p + 8);
  let name = '';
  let operstate = 0;
  let mtu = 0;
  let master = 0;
  let a = p + IFINFOMSG_LEN;
  while (a + NLA_HDRLEN <= end) {
    const l = b.readUInt16LE(a);
    const t = b.readUInt16LE(a + 2) & 0x3fff;
    if (l < NLA_HDRLEN || a + l > end) return null;
    const d = a + NLA_HDRLEN;
    if (t === Ifla.IFNAME) {
      let z = d;
      while (z < a + l && b[z] !== 0) z++;
      name = b.toString('utf8', d, z);
    } else if (t === Ifla.OPERSTATE && l > NLA_HDRLEN) operstate = b[d]!;
    else if (t === Ifla.MTU && l >= 8) mtu = b.readUInt32LE(d);
    else if (t === Ifla.MASTER && l >= 8) master = b.readUInt32LE(d);
    a += align4(l);
  }
  return {
    index,
    name,
    flags,
    up: (flags & Iff.UP) !== 0,
    lowerUp: (flags & Iff.LOWER_UP) !== 0,
    operstate,
    mtu,
    master,
  };
}

export interface AddrMsg {
  readonly family: Family;
  readonly index: number;
  readonly plen: number;
  /** IFA_ADDRESS (the peer on point-to-point links), else IFA_LOCAL. */
  readonly address: Uint8Array;
  /** IFA_LOCAL when present, else IFA_ADDRESS. */
  readonly local: Uint8Array;
  /** IFA_FLAGS when present (it holds the bits above 8), else ifa_flags. */
  readonly flags: number;
  readonly scope: number;
}

export function decodeAddr(b: Buffer, off: number, len: number): AddrMsg | null {
  const p = off + NLMSG_HDRLEN;
  const end = off + len;
  if (p + IFADDRMSG_LEN > end) return null;
  const family = familyOfAf(b[p]!);
  if (family === 0) return null;
  const alen = family === 4 ? 4 : 16;
  const plen = b[p + 1]!;
  let flags = b[p + 2]!;
  const scope = b[p + 3]!;
  const index = b.readUInt32LE(p + 4);
  let address: Uint8Array | undefined;
  let local: Uint8Array | undefined;
  let a = p + IFADDRMSG_LEN;
  while (a + NLA_HDRLEN <= end) {
    const l = b.readUInt16LE(a);
    const t = b.readUInt16LE(a + 2) & 0x3fff;
    if (l < NLA_HDRLEN || a + l > end) return null;
    const d = a + NLA_HDRLEN;
    if (t === Ifa.ADDRESS && l - NLA_HDRLEN === alen) address = Uint8Array.from(b.subarray(d, d + alen));
    else if (t === Ifa.LOCAL && l - NLA_HDRLEN === alen) local = Uint8Array.from(b.subarray(d, d + alen));
    else if (t === Ifa.FLAGS && l >= 8) flags = b.readUInt32LE(d);
    a += align4(l);
  }
  const addr = address ?? local;
  if (!addr) return null;
  return { family, index, plen, address: addr, local: local ?? addr, flags, scope };
}

export interface NexthopMsg {
  readonly id: number;
  /** 0 for groups and blackholes. */
  readonly family: Family | 0;
  readonly protocol: number;
  readonly flags: number;
  readonly gateway?: Uint8Array;
  readonly oif: number;
  readonly group?: readonly GroupMember[];
  readonly blackhole: boolean;
}

export function decodeNexthop(b: Buffer, off: number, len: number): NexthopMsg | null {
  const p = off + NLMSG_HDRLEN;
  const end = off + len;
  if (p + NHMSG_LEN > end) return null;
  const family = familyOfAf(b[p]!);
  const protocol = b[p + 2]!;
  const flags = b.readUInt32LE(p + 4);
  let id = 0;
  let oif = 0;
  let gateway: Uint8Array | undefined;
  let group: GroupMember[] | undefined;
  let blackhole = false;
  let a = p + NHMSG_LEN;
  while (a + NLA_HDRLEN <= end) {
    const l = b.readUInt16LE(a);
    const t = b.readUInt16LE(a + 2) & 0x3fff;
    if (l < NLA_HDRLEN || a + l > end) return null;
    const d = a + NLA_HDRLEN;
    const dl = l - NLA_HDRLEN;
    if (t === Nha.ID && dl >= 4) id = b.readUInt32LE(d);
    else if (t === Nha.OIF && dl >= 4) oif = b.readUInt32LE(d);
    else if (t === Nha.GATEWAY && (dl === 4 || dl === 16)) gateway = Uint8Array.from(b.subarray(d, d + dl));
    else if (t === Nha.BLACKHOLE) blackhole = true;
    else if (t === Nha.GROUP) {
      group = [];
      for (let g = d; g + NH_GRP_LEN <= d + dl; g += NH_GRP_LEN) {
        group.push({ id: b.readUInt32LE(g), weight: b[g + 4]! + 1 });
      }
    }
    a += align4(l);
  }
  if (id === 0) return null;
  return {
    id,
    family,
    protocol,
    flags,
    ...(gateway ? { gateway } : {}),
    oif,
    ...(group ? { group } : {}),
    blackhole,
  };
}
