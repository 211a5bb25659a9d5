// The dry-run backend: the same Fib engine over an in-process model of the
// kernel's rtnetlink. SimKernel answers the very messages the engine would
// send to Linux (route, nexthop, link, address dumps; NEWROUTE/DELROUTE with
// the kernel's key, flag and errno rules; NLMSG_ERROR with extended ACK text;
// multicast notifications; ENOBUFS when a socket's queue is full), so the
// engine's semantics are the same whichever backend runs. Its admin methods
// play the part of `ip link/addr/route` for tests.
import { Fib, type FibOptions } from './fib.js';
import { type Family, formatIp, isLinkLocal6, parseIp, parsePrefix, prefixContains } from './ip.js';
import {
  AddrFamily,
  Errno,
  Iff,
  IfOper,
  Ifa,
  Ifla,
  Nha,
  NlMsgType,
  NlmF,
  NlmsgErrAttr,
  RtmGrp,
  RtnlGrp,
  Rtm,
  Rtn,
  RtProt,
  RtScope,
  RtTable,
  SockFlag,
} from './netlink/constants.js';
import {
  type GatewaySpec,
  type GroupMember,
  NlEncoder,
  RouteView,
  afOf,
  checkMsg,
  decodeNexthop,
  decodeRoute,
  gatewayBlock,
  msgFlags,
  msgSeq,
  msgType,
  nhIdBlock,
  putDelNexthop,
  putNexthop,
  putRoute,
} from './netlink/codec.js';
import { NetlinkError, type NlTransport, type RecvHandler, type TransportOptions } from './netlink/socket.js';

interface SimLink {
  index: number;
  name: string;
  up: boolean;
  carrier: boolean;
}

interface SimAddr {
  index: number;
  family: Family;
  local: Uint8Array;
  plen: number;
}

interface SimGw {
  family: Family;
  addr: Uint8Array;
  oif: number;
  weight: number;
}

export interface SimRoute {
  readonly family: Family;
  readonly dst: Uint8Array;
  readonly plen: number;
  readonly table: number;
  readonly metric: number;
  readonly protocol: number;
  readonly type: number;
  /** Nexthop object id, 0 when the route holds its gateways. */
  readonly nhId: number;
  readonly gws: readonly SimGw[];
  /** Device of a route without gateway (0 for blackhole and the like). */
  readonly dev: number;
}

interface SimNexthop {
  id: number;
  family: Family | 0;
  protocol: number;
  gw: Uint8Array | null;
  oif: number;
  group: GroupMember[] | null;
}

const DEFAULT_RCV_LIMIT = 8 * 1024 * 1024;
/** A queued skb costs more than its bytes; like the kernel, count a fixed overhead. */
const SKB_OVERHEAD = 512;

class SimSocket implements NlTransport {
  readonly portId: number;
  groups: number;
  readonly flags: number;
  private queue: Buffer[] = [];
  private queued = 0;
  private overflow = false;
  private scheduled = false;
  closed = false;

  constructor(
    private readonly k: SimKernel,
    port: number,
    opts: TransportOptions,
    private readonly onRecv: RecvHandler | null,
  ) {
    this.portId = port;
    this.groups = opts.groups;
    this.flags = opts.flags;
  }

  send(buf: Buffer, len: number): number {
    if (this.closed) return -Errno.EBADF;
    this.k.process(this, Buffer.from(buf.subarray(0, len)));
    return len;
  }

  sendAsync(buf: Buffer, len: number, cb: (res: number) => void): void {
    const copy = Buffer.from(buf.subarray(0, len));
    // Like the addon, the kernel's work happens off the caller's turn.
    setImmediate(() => {
      if (this.closed) return cb(-Errno.EBADF);
      this.k.process(this, copy);
      cb(len);
    });
  }

  /** Groups joined with NETLINK_ADD_MEMBERSHIP (numbers, like RTNLGRP_NEXTHOP). */
  readonly memberships = new Set<number>();

  addMembership(group: number): number {
    this.memberships.add(group);
    return 0;
  }

  ref(): void {}

  close(): void {
    this.closed = true;
    this.k.detach(this);
  }

  /** Queues a datagram for JS; `limited` ones are dropped (ENOBUFS) when the queue is full. */
  push(b: Buffer, limited: boolean): void {
    if (this.closed || !this.onRecv) return;
    const cost = b.length + SKB_OVERHEAD;
    if (limited && this.queued + cost > this.k.rcvLimit) {
      this.overflow = true;
    } else {
      this.queue.push(b);
      this.queued += cost;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.deliver());
    }
  }

  private deliver(): void {
    this.scheduled = false;
    if (this.closed || !this.onRecv) return;
    const bufs = this.queue;
    const err = this.overflow ? Errno.ENOBUFS : 0;
    this.queue = [];
    this.queued = 0;
    this.overflow = false;
    this.onRecv(bufs.length > 0 ? Buffer.concat(bufs) : null, err);
  }
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

function routeKey(table: number, family: Family, dst: Uint8Array, plen: number, metric: number): string {
  return `${table}|${family}|${hex(dst)}/${plen}|${metric}`;
}

class SimError extends Error {
  constructor(
    readonly errno: number,
    readonly text?: string,
  ) {
    super(text ?? `errno ${errno}`);
  }
}

export class SimKernel {
  /** Bytes (plus a per-message overhead) a socket may have queued before ENOBUFS. */
  rcvLimit = DEFAULT_RCV_LIMIT;
  /** false: writes are refused with EPERM, like a process without CAP_NET_ADMIN. */
  privileged = true;
  private readonly sockets = new Set<SimSocket>();
  private nextPort = 1000;
  private nextIndex = 2;
  readonly linkMap = new Map<number, SimLink>();
  private addrs: SimAddr[] = [];
  private readonly routeMap = new Map<string, SimRoute>();
  private readonly nhMap = new Map<number, SimNexthop>();
  private readonly admin: SimSocket;
  private readonly view = new RouteView();

  constructor() {
    this.linkMap.set(1, { index: 1, name: 'lo', up: true, carrier: true });
    this.admin = new SimSocket(this, 1, { groups: 0, rcvbuf: 0, sndbuf: 0, flags: 0 }, null);
  }

  /** A TransportFactory for Fib / NetlinkSocket. */
  readonly transport = (opts: TransportOptions, onRecv: RecvHandler): NlTransport => {
    const s = new SimSocket(this, this.nextPort++, opts, onRecv);
    this.sockets.add(s);
    return s;
  };

  detach(s: SimSocket): void {
    this.sockets.delete(s);
  }

  // ------------------------------------------------------------ admin (the `ip` command)

  addLink(name: string, up = true): number {
    const index = this.nextIndex++;
    const l = { index, name, up, carrier: true };
    this.linkMap.set(index, l);
    this.notifyLink(Rtm.NEWLINK, l);
    return index;
  }

  /** `ip link set dev up|down`: going down flushes its nexthops and routes, and its IPv6 addresses. */
  setLinkUp(index: number, up: boolean): void {
    const l = this.linkMap.get(index);
    if (!l || l.up === up) return;
    l.up = up;
    if (!up) this.linkGone(index, false);
    this.notifyLink(Rtm.NEWLINK, l);
  }

  delLink(index: number): void {
    const l = this.linkMap.get(index);
    if (!l) return;
    this.linkGone(index, true);
    this.linkMap.delete(index);
    this.notifyLink(Rtm.DELLINK, l);
  }

  addAddress(index: number, cidr: string): void {
    const slash = cidr.indexOf('/');
    const a = parseIp(slash < 0 ? cidr : cidr.slice(0, slash));
    if (!a || !this.linkMap.has(index)) throw new Error(`bad address ${cidr} on ${index}`);
    const plen = slash < 0 ? (a.family === 4 ? 32 : 128) : Number(cidr.slice(slash + 1));
    const x: SimAddr = { index, family: a.family, local: a.bytes, plen };
    this.addrs.push(x);
    this.notifyAddr(Rtm.NEWADDR, x);
  }

  delAddress(index: number, cidr: string): void {
    const slash = cidr.indexOf('/');
    const a = parseIp(slash < 0 ? cidr : cidr.slice(0, slash));
    if (!a) return;
    const i = this.addrs.findIndex((x) => x.index === index && Buffer.compare(x.local, a.bytes) === 0);
    if (i < 0) return;
    const [x] = this.addrs.splice(i, 1);
    this.notifyAddr(Rtm.DELADDR, x!);
  }

  /**
   * `ip route add`: throws NetlinkError like the kernel would answer. Without a
   * gateway, `oif` makes a device route (`dev X`); `type` another RTN_* (blackhole).
   */
  addRoute(r: {
    readonly dst: string;
    readonly gateway?: string;
    readonly oif?: number;
    readonly table?: number;
    readonly protocol?: number;
    readonly metric?: number;
    readonly replace?: boolean;
    readonly type?: number;
    /** Through a nexthop object (`ip route add X nhid N`). */
    readonly nhId?: number;
  }): void {
    const p = parsePrefix(r.dst);
    if (!p) throw new Error(`bad prefix ${r.dst}`);
    let block: Buffer | null = null;
    if (r.gateway) {
      const g = parseIp(r.gateway)!;
      block = gatewayBlock(p.family, [{ family: g.family, addr: g.bytes, oif: r.oif ?? 0, weight: 1 }]);
    } else if (r.nhId) {
      block = nhIdBlock(r.nhId);
    } else if (r.oif) {
      block = Buffer.alloc(8);
      block.writeUInt16LE(8, 0);
      block.writeUInt16LE(4, 2); // RTA_OIF
      block.writeUInt32LE(r.oif, 4);
    }
    const enc = new NlEncoder(512);
    const flags = NlmF.REQUEST | NlmF.CREATE | (r.replace ? NlmF.REPLACE : NlmF.EXCL);
    putRoute(enc, Rtm.NEWROUTE, flags, 1, p.family, p.bytes, 0, p.plen, r.table ?? RtTable.MAIN, r.protocol ?? RtProt.STATIC, r.metric ?? 0, block);
    if (r.type !== undefined) enc.buf[16 + 7] = r.type;
    this.adminDo(enc);
  }

  /** `ip nexthop add id N via G dev D proto P`: throws NetlinkError like the kernel would answer. */
  addNexthop(n: { readonly id: number; readonly gateway: string; readonly oif: number; readonly protocol?: number }): void {
    const g = parseIp(n.gateway);
    if (!g) throw new Error(`bad gateway ${n.gateway}`);
    const enc = new NlEncoder(512);
    putNexthop(enc, NlmF.REQUEST | NlmF.CREATE | NlmF.EXCL, 1, n.id, g.family, g.bytes, 0, n.oif, n.protocol ?? RtProt.STATIC);
    this.adminDo(enc);
  }

  /** `ip nexthop del id N`. */
  delNexthop(id: number): void {
    const enc = new NlEncoder(64);
    putDelNexthop(enc, NlmF.REQUEST, 1, id);
    this.adminDo(enc);
  }

  /** `ip route del`: throws NetlinkError like the kernel would answer. */
  delRoute(r: { readonly dst: string; readonly table?: number; readonly protocol?: number; readonly metric?: number }): void {
    const p = parsePrefix(r.dst);
    if (!p) throw new Error(`bad prefix ${r.dst}`);
    const enc = new NlEncoder(512);
    putRoute(enc, Rtm.DELROUTE, NlmF.REQUEST, 1, p.family, p.bytes, 0, p.plen, r.table ?? RtTable.MAIN, r.protocol ?? 0, r.metric ?? 0, null);
    this.adminDo(enc);
  }

  private adminDo(enc: NlEncoder): void {
    const b = enc.toBuffer();
    try {
      this.handle(this.admin, b, 0, b.length);
    } catch (e) {
      if (e instanceof SimError) throw new NetlinkError(e.errno, 'ip route', e.text);
      throw e;
    }
  }

  /** The routes of a table, like `ip route show table T` (both families). */
  routes(table: number = RtTable.MAIN, protocol = 0): SimRoute[] {
    return [...this.routeMap.values()].filter((r) => r.table === table && (protocol === 0 || r.protocol === protocol));
  }

  nexthops(): { id: number; protocol: number; gateway?: string; oif: number; group?: GroupMember[] }[] {
    return [...this.nhMap.values()].map((n) => ({
      id: n.id,
      protocol: n.protocol,
      ...(n.gw && n.family ? { gateway: formatIp(n.gw, 0, n.family) } : {}),
      oif: n.oif,
      ...(n.group ? { group: n.group } : {}),
    }));
  }

  // ------------------------------------------------------------ message processing

  process(from: SimSocket, b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      const len = checkMsg(b, off, b.length);
      if (len === 0) break;
      const flags = msgFlags(b, off);
      let errno = 0;
      let text: string | undefined;
      let dumped = false;
      try {
        dumped = this.handle(from, b, off, len);
      } catch (e) {
        if (!(e instanceof SimError)) throw e;
        errno = e.errno;
        text = e.text;
      }
      if (!dumped && (errno !== 0 || flags & NlmF.ACK)) this.reply(from, b, off, len, errno, text);
      off += (len + 3) & ~3;
    }
  }

  /** Handles one request; returns true for dumps (they answer with NLMSG_DONE, not an ACK). */
  private handle(from: SimSocket, b: Buffer, off: number, len: number): boolean {
    const type = msgType(b, off);
    const seq = msgSeq(b, off);
    const write = type === Rtm.NEWROUTE || type === Rtm.DELROUTE || type === Rtm.NEWNEXTHOP || type === Rtm.DELNEXTHOP;
    if (write && !this.privileged && from !== this.admin) throw new SimError(Errno.EPERM);
    switch (type) {
      case NlMsgType.NOOP:
        return false;
      case Rtm.NEWROUTE:
        this.newRoute(from, b, off, len);
        return false;
      case Rtm.DELROUTE:
        this.delRouteMsg(from, b, off, len);
        return false;
      case Rtm.NEWNEXTHOP:
        this.newNexthop(from, b, off, len);
        return false;
      case Rtm.DELNEXTHOP: {
        const n = decodeNexthop(b, off, len);
        if (!n) throw new SimError(Errno.EINVAL);
        if (!this.nhMap.has(n.id)) throw new SimError(Errno.ENOENT);
        this.removeNexthop(n.id, from.portId);
        return false;
      }
      case Rtm.GETLINK:
        this.dump(from, seq, (enc, push) => {
          for (const l of this.linkMap.values()) push(this.encodeLink(enc, Rtm.NEWLINK, NlmF.MULTI, seq, from.portId, l));
        });
        return true;
      case Rtm.GETADDR: {
        const fam = b[off + 16];
        this.dump(from, seq, (enc, push) => {
          for (const a of this.addrs) {
            if (fam && afOf(a.family) !== fam) continue;
            push(this.encodeAddr(enc, Rtm.NEWADDR, NlmF.MULTI, seq, from.portId, a));
          }
        });
        return true;
      }
      case Rtm.GETROUTE: {
        const v = this.view;
        if (!decodeRoute(b, off, len, v)) throw new SimError(Errno.EINVAL);
        const strict = (from.flags & SockFlag.STRICT_CHK) !== 0;
        const fam = v.family;
        const table = strict ? v.table : 0;
        const proto = strict ? v.protocol : 0;
        this.dump(from, seq, (enc, push) => {
          for (const r of this.routeMap.values()) {
            if (fam && r.family !== fam) continue;
            if (table && r.table !== table) continue;
            if (proto && r.protocol !== proto) continue;
            push(this.encodeRoute(enc, Rtm.NEWROUTE, NlmF.MULTI, seq, from.portId, r));
          }
        });
        return true;
      }
      case Rtm.GETNEXTHOP:
        this.dump(from, seq, (enc, push) => {
          for (const n of this.nhMap.values()) push(this.encodeNexthop(enc, NlmF.MULTI, seq, from.portId, n));
        });
        return true;
      default:
        throw new SimError(Errno.EOPNOTSUPP);
    }
  }

  private dump(to: SimSocket, seq: number, each: (enc: NlEncoder, push: (at: number) => void) => void): void {
    const enc = new NlEncoder(64 * 1024);
    const flushAt = 32 * 1024;
    const push = (): void => {
      if (enc.pos >= flushAt) {
        to.push(enc.toBuffer(), false);
        enc.reset();
      }
    };
    each(enc, push);
    const at = enc.begin(NlMsgType.DONE, NlmF.MULTI, seq);
    enc.u32(0);
    enc.end(at);
    enc.buf.writeUInt32LE(to.portId, at + 12);
    to.push(enc.toBuffer(), false);
  }

  private reply(to: SimSocket, req: Buffer, off: number, len: number, errno: number, text?: string): void {
    const capped = (to.flags & SockFlag.CAP_ACK) !== 0 || errno === 0;
    const payload = capped ? 16 : len;
    const enc = new NlEncoder(64 + payload + (text ? text.length + 8 : 0));
    let flags = capped ? NlmF.CAPPED : 0;
    const tlv = text !== undefined && (to.flags & SockFlag.EXT_ACK) !== 0;
    if (tlv) flags |= NlmF.ACK_TLVS;
    const at = enc.begin(NlMsgType.ERROR, flags, msgSeq(req, off));
    enc.buf.writeInt32LE(-errno, enc.pos);
    enc.pos += 4;
    enc.raw(req.subarray(off, off + payload));
    if (!capped) enc.buf.writeUInt32LE(len, at + 20);
    enc.pad();
    if (tlv) {
      const s = Buffer.from(`${text}\0`);
      enc.attrBytes(NlmsgErrAttr.MSG, s, 0, s.length);
    }
    enc.end(at);
    enc.buf.writeUInt32LE(to.portId, at + 12);
    to.push(enc.toBuffer(), true);
  }

  private multicast(group: number, b: Buffer): void {
    for (const s of this.sockets) if (s.groups & group) s.push(b, true);
  }

  // ------------------------------------------------------------ routes

  private usable(index: number): boolean {
    return this.linkMap.get(index)?.up === true;
  }

  /**
   * The up link whose connected subnet holds `addr` (restricted to `oif` when given),
   * 0 if none. Like the kernel, a device route in the main table (`ip route add
   * X dev Y`, scope link) also puts its addresses on that link.
   */
  private connected(family: Family, addr: Uint8Array, oif: number): number {
    let best = 0;
    let bestLen = -1;
    for (const a of this.addrs) {
      if (a.family !== family || !this.usable(a.index) || (oif && a.index !== oif)) continue;
      if (Buffer.compare(a.local, addr) === 0) return 0;
      if (a.plen > bestLen && prefixContains(a.local, 0, a.plen, addr, 0)) {
        best = a.index;
        bestLen = a.plen;
      }
    }
    for (const r of this.routeMap.values()) {
      if (r.family !== family || r.table !== RtTable.MAIN || !r.dev || r.gws.length > 0 || !this.usable(r.dev)) continue;
      if ((oif && r.dev !== oif) || r.plen <= bestLen) continue;
      if (prefixContains(r.dst, 0, r.plen, addr, 0)) {
        best = r.dev;
        bestLen = r.plen;
      }
    }
    return best;
  }

  private checkGateway(routeFamily: Family, g: SimGw): SimGw {
    if (g.oif) {
      if (!this.linkMap.has(g.oif)) throw new SimError(Errno.ENODEV);
      if (!this.usable(g.oif)) throw new SimError(Errno.ENETDOWN, 'Nexthop device is not up');
    }
    if (g.family === 6 && isLinkLocal6(g.addr)) {
      if (!g.oif) throw new SimError(Errno.EINVAL, 'Egress device not specified');
      return g;
    }
    const oif = this.connected(g.family, g.addr, g.oif);
    if (!oif) {
      if (routeFamily === 6) throw new SimError(Errno.EHOSTUNREACH);
      throw new SimError(Errno.ENETUNREACH, 'Nexthop has invalid gateway');
    }
    return { ...g, oif };
  }

  private newRoute(from: SimSocket, b: Buffer, off: number, len: number): void {
    const v = this.view;
    if (!decodeRoute(b, off, len, v) || v.family === 0) throw new SimError(Errno.EINVAL);
    const family = v.family;
    const flags = msgFlags(b, off);
    const table = v.table || RtTable.MAIN;
    const metric = v.metric || (family === 6 ? 1024 : 0);
    const alen = family === 4 ? 4 : 16;
    const dst = v.dstOff >= 0 ? Uint8Array.from(b.subarray(v.dstOff, v.dstOff + alen)) : new Uint8Array(alen);
    let gws: SimGw[] = [];
    if (v.nhId) {
      const n = this.nhMap.get(v.nhId);
      if (!n) throw new SimError(Errno.EINVAL, 'Nexthop id does not exist');
      if (family === 6 && this.nexthopHasV4(n)) throw new SimError(Errno.EINVAL, 'IPv6 routes can not use an IPv4 nexthop');
    } else if (v.type === Rtn.UNICAST) {
      gws = this.routeGateways(v);
      gws = gws.map((g) => this.checkGateway(family, g));
      if (gws.length === 0 && !v.oif) throw new SimError(Errno.EINVAL, 'Nexthop device required');
    }
    const key = routeKey(table, family, dst, v.dstLen, metric);
    const old = this.routeMap.get(key);
    if (old) {
      if (flags & NlmF.EXCL || !(flags & NlmF.REPLACE)) throw new SimError(Errno.EEXIST);
    } else if (!(flags & NlmF.CREATE)) {
      throw new SimError(Errno.ENOENT);
    }
    const r: SimRoute = {
      family,
      dst,
      plen: v.dstLen,
      table,
      metric,
      protocol: v.protocol,
      type: v.type,
      nhId: v.nhId,
      gws,
      dev: gws.length === 0 && !v.nhId ? v.oif : 0,
    };
    this.routeMap.set(key, r);
    // The kernel's notification says whether the route took another's place.
    this.notifyRoute(Rtm.NEWROUTE, r, from.portId, msgSeq(b, off), old ? NlmF.REPLACE : NlmF.CREATE | NlmF.EXCL);
  }

  private routeGateways(v: RouteView): SimGw[] {
    const out: SimGw[] = [];
    if (v.mpOff >= 0) {
      const b = v.buf;
      for (let p = v.mpOff; p + 8 <= v.mpOff + v.mpLen; ) {
        const l = b.readUInt16LE(p);
        if (l < 8) break;
        const weight = b[p + 3]! + 1;
        const oif = b.readUInt32LE(p + 4);
        for (let a = p + 8; a + 4 <= p + l; ) {
          const al = b.readUInt16LE(a);
          const at = b.readUInt16LE(a + 2);
          if (al < 4) break;
          if (at === 5 /* RTA_GATEWAY */ && v.family !== 0) {
            out.push({ family: v.family, addr: Uint8Array.from(b.subarray(a + 4, a + al)), oif, weight });
          } else if (at === 18 /* RTA_VIA */) {
            const f: Family = b.readUInt16LE(a + 4) === AddrFamily.INET ? 4 : 6;
            out.push({ family: f, addr: Uint8Array.from(b.subarray(a + 6, a + al)), oif, weight });
          }
          a += (al + 3) & ~3;
        }
        p += (l + 3) & ~3;
      }
      return out;
    }
    if (v.gwOff >= 0 && v.gwFamily !== 0) {
      const n = v.gwFamily === 4 ? 4 : 16;
      out.push({ family: v.gwFamily, addr: Uint8Array.from(v.buf.subarray(v.gwOff, v.gwOff + n)), oif: v.oif, weight: 1 });
    }
    return out;
  }

  private nexthopHasV4(n: SimNexthop): boolean {
    if (n.group) return n.group.some((m) => this.nhMap.get(m.id)?.family === 4);
    return n.family === 4;
  }

  private delRouteMsg(from: SimSocket, b: Buffer, off: number, len: number): void {
    const v = this.view;
    if (!decodeRoute(b, off, len, v) || v.family === 0) throw new SimError(Errno.EINVAL);
    const table = v.table || RtTable.MAIN;
    const alen = v.family === 4 ? 4 : 16;
    const dst = v.dstOff >= 0 ? b.subarray(v.dstOff, v.dstOff + alen) : new Uint8Array(alen);
    if (v.metric) {
      const key = routeKey(table, v.family, dst, v.dstLen, v.metric);
      const r = this.routeMap.get(key);
      if (!r || (v.protocol && r.protocol !== v.protocol)) throw new SimError(Errno.ESRCH);
      this.routeMap.delete(key);
      this.notifyRoute(Rtm.DELROUTE, r, from.portId, msgSeq(b, off));
      return;
    }
    for (const [key, r] of this.routeMap) {
      if (r.table !== table || r.family !== v.family || r.plen !== v.dstLen) continue;
      if (Buffer.compare(r.dst, dst) !== 0) continue;
      if (v.metric && r.metric !== v.metric) continue;
      if (v.protocol && r.protocol !== v.protocol) continue;
      this.routeMap.delete(key);
      this.notifyRoute(Rtm.DELROUTE, r, from.portId, msgSeq(b, off));
      return;
    }
    throw new SimError(Errno.ESRCH);
  }

  /** Removes routes matching `pred`: IPv4 ones silently (like fib_sync_down_dev), IPv6 with a notification. */
  private flushRoutes(pred: (r: SimRoute) => boolean): void {
    for (const [key, r] of this.routeMap) {
      if (!pred(r)) continue;
      this.routeMap.delete(key);
      if (r.family === 6) this.notifyRoute(Rtm.DELROUTE, r, 0, 0);
    }
  }

  private newNexthop(from: SimSocket, b: Buffer, off: number, len: number): void {
    const n = decodeNexthop(b, off, len);
    if (!n) throw new SimError(Errno.EINVAL);
    const flags = msgFlags(b, off);
    if (n.group) {
      for (const m of n.group) {
        const x = this.nhMap.get(m.id);
        if (!x || x.group) throw new SimError(Errno.EINVAL, 'Invalid nexthop id');
      }
    } else if (!n.blackhole) {
      if (!n.oif) throw new SimError(Errno.EINVAL, 'Device attribute required for non-blackhole and non-fdb nexthops');
      if (!this.linkMap.has(n.oif)) throw new SimError(Errno.EINVAL, 'Invalid device index');
      if (!this.usable(n.oif)) throw new SimError(Errno.ENETDOWN, 'Nexthop device is not up');
      if (n.gateway && n.family !== 0 && !(n.family === 6 && isLinkLocal6(n.gateway))) {
        if (!this.connected(n.family, n.gateway, n.oif)) throw new SimError(Errno.ENETUNREACH, 'Nexthop has invalid gateway');
      }
    }
    if (this.nhMap.has(n.id)) {
      if (flags & NlmF.EXCL || !(flags & NlmF.REPLACE)) throw new SimError(Errno.EEXIST);
    } else if (!(flags & NlmF.CREATE)) {
      throw new SimError(Errno.ENOENT);
    }
    const x: SimNexthop = {
      id: n.id,
      family: n.family,
      protocol: n.protocol,
      gw: n.gateway ?? null,
      oif: n.oif,
      group: n.group ? [...n.group] : null,
    };
    this.nhMap.set(n.id, x);
    this.notifyNexthop(Rtm.NEWNEXTHOP, x, from.portId);
  }

  /** Deletes a nexthop, the routes using it, and its place in groups (empty groups go too). */
  private removeNexthop(id: number, pid = 0): void {
    const gone = this.nhMap.get(id);
    this.nhMap.delete(id);
    if (gone) this.notifyNexthop(Rtm.DELNEXTHOP, gone, pid);
    this.flushRoutes((r) => r.nhId === id);
    for (const g of [...this.nhMap.values()]) {
      if (!g.group?.some((m) => m.id === id)) continue;
      g.group = g.group.filter((m) => m.id !== id);
      if (g.group.length === 0) this.removeNexthop(g.id);
    }
  }

  private linkGone(index: number, deleted: boolean): void {
    for (const n of [...this.nhMap.values()]) if (n.oif === index && this.nhMap.has(n.id)) this.removeNexthop(n.id);
    this.flushRoutes((r) => r.dev === index || r.gws.some((g) => g.oif === index));
    // IPv6 addresses go with the link; IPv4 ones stay unless the link is deleted.
    for (const a of [...this.addrs]) {
      if (a.index !== index || (a.family === 4 && !deleted)) continue;
      this.addrs.splice(this.addrs.indexOf(a), 1);
      this.notifyAddr(Rtm.DELADDR, a);
    }
  }

  // ------------------------------------------------------------ encoding of answers

  private encodeRoute(enc: NlEncoder, type: number, flags: number, seq: number, pid: number, r: SimRoute): number {
    const at = enc.pos;
    let block: Buffer | null = null;
    if (r.nhId) block = nhIdBlock(r.nhId);
    else if (r.gws.length > 0) {
      const specs: GatewaySpec[] = r.gws.map((g) => ({ family: g.family, addr: g.addr, oif: g.oif, weight: g.weight }));
      block = gatewayBlock(r.family, specs);
    } else if (r.dev) {
      block = Buffer.alloc(8);
      block.writeUInt16LE(8, 0);
      block.writeUInt16LE(4, 2); // RTA_OIF
      block.writeUInt32LE(r.dev, 4);
    }
    putRoute(enc, type, flags, seq, r.family, r.dst, 0, r.plen, r.table, r.protocol, r.metric, block);
    enc.buf.writeUInt32LE(pid, at + 12);
    enc.buf[at + 16 + 6] = r.gws.length > 0 || r.nhId ? RtScope.UNIVERSE : RtScope.LINK;
    enc.buf[at + 16 + 7] = r.type;
    return at;
  }

  private encodeLink(enc: NlEncoder, type: number, flags: number, seq: number, pid: number, l: SimLink): number {
    const at = enc.begin(type, flags, seq);
    enc.buf.writeUInt32LE(pid, at + 12);
    enc.u8(AddrFamily.UNSPEC);
    enc.u8(0);
    enc.u16(1); // ARPHRD_ETHER
    enc.u32(l.index);
    let f = l.up ? Iff.UP : 0;
    if (l.up && l.carrier) f |= Iff.RUNNING | Iff.LOWER_UP;
    if (l.index === 1) f |= Iff.LOOPBACK;
    enc.u32(f);
    enc.u32(0xffffffff);
    const name = Buffer.from(`${l.name}\0`);
    enc.attrBytes(Ifla.IFNAME, name, 0, name.length);
    enc.attrU32(Ifla.MTU, 1500);
    enc.attrBytes(Ifla.OPERSTATE, Uint8Array.of(l.up ? (l.carrier ? IfOper.UP : IfOper.LOWERLAYERDOWN) : IfOper.DOWN), 0, 1);
    enc.end(at);
    return at;
  }

  private encodeAddr(enc: NlEncoder, type: number, flags: number, seq: number, pid: number, a: SimAddr): number {
    const at = enc.begin(type, flags, seq);
    enc.buf.writeUInt32LE(pid, at + 12);
    enc.u8(afOf(a.family));
    enc.u8(a.plen);
    enc.u8(0);
    enc.u8(a.family === 6 && isLinkLocal6(a.local) ? RtScope.LINK : RtScope.UNIVERSE);
    enc.u32(a.index);
    enc.attrBytes(Ifa.ADDRESS, a.local, 0, a.local.length);
    enc.attrBytes(Ifa.LOCAL, a.local, 0, a.local.length);
    enc.attrU32(Ifa.FLAGS, 0);
    enc.end(at);
    return at;
  }

  private encodeNexthop(enc: NlEncoder, flags: number, seq: number, pid: number, n: SimNexthop): number {
    const at = enc.begin(Rtm.NEWNEXTHOP, flags, seq);
    enc.buf.writeUInt32LE(pid, at + 12);
    enc.u8(n.family ? afOf(n.family) : AddrFamily.UNSPEC);
    enc.u8(0);
    enc.u8(n.protocol);
    enc.u8(0);
    enc.u32(0);
    enc.attrU32(Nha.ID, n.id);
    if (n.group) {
      const g = Buffer.alloc(n.group.length * 8);
      n.group.forEach((m, i) => {
        g.writeUInt32LE(m.id, i * 8);
        g[i * 8 + 4] = m.weight - 1;
      });
      enc.attrBytes(Nha.GROUP, g, 0, g.length);
    } else {
      if (n.gw) enc.attrBytes(Nha.GATEWAY, n.gw, 0, n.gw.length);
      enc.attrU32(Nha.OIF, n.oif);
    }
    enc.end(at);
    return at;
  }

  private notifyRoute(type: number, r: SimRoute, pid: number, seq: number, flags = 0): void {
    const enc = new NlEncoder(1024);
    this.encodeRoute(enc, type, flags, seq, pid, r);
    this.multicast(r.family === 4 ? RtmGrp.IPV4_ROUTE : RtmGrp.IPV6_ROUTE, enc.toBuffer());
  }

  private notifyNexthop(type: number, n: SimNexthop, pid: number): void {
    const enc = new NlEncoder(512);
    const at = this.encodeNexthop(enc, 0, 0, pid, n);
    enc.buf.writeUInt16LE(type, at + 4);
    const b = enc.toBuffer();
    for (const s of this.sockets) if (s.memberships.has(RtnlGrp.NEXTHOP)) s.push(b, true);
  }

  private notifyLink(type: number, l: SimLink): void {
    const enc = new NlEncoder(512);
    this.encodeLink(enc, type, 0, 0, 0, l);
    this.multicast(RtmGrp.LINK, enc.toBuffer());
  }

  private notifyAddr(type: number, a: SimAddr): void {
    const enc = new NlEncoder(512);
    this.encodeAddr(enc, type, 0, 0, 0, a);
    this.multicast(a.family === 4 ? RtmGrp.IPV4_IFADDR : RtmGrp.IPV6_IFADDR, enc.toBuffer());
  }
}

/** A Fib over a fresh SimKernel (lo only; add links and addresses through `kernel`). */
export function createMemoryFib(opts: FibOptions = {}, kernel = new SimKernel()): { fib: Fib; kernel: SimKernel } {
  return { fib: new Fib(kernel.transport, opts), kernel };
}
