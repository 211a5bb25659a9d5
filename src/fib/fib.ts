// The FIB engine: desired state in, batched rtnetlink out.
//
// apply() records what the daemon wants and queues the prefix (starting the
// writer at once if the kernel's thread is idle); a writer loop turns queued
// prefixes into route messages (decide() in diff.ts), packs
// hundreds of them into one buffer without per-route ACKs, ends the buffer with
// a NOOP that asks for an ACK, and sends it off the event loop. Errors come
// back as NLMSG_ERROR carrying the sequence number of the failed message,
// which maps to the prefix; the marker's ACK closes the batch and everything
// without an error counts as installed. A bounded number of batches is in
// flight so answers never overrun the socket's receive buffer; if they do
// (ENOBUFS), or a link carrying our nexthop objects goes down (the kernel then
// flushes them with their routes, without telling), we reread the kernel.
//
// Two sockets: `ctl` is subscribed to link, address and route notifications
// and serves dumps; `wr` only writes, so notifications of our own writes (one
// per route) never sit in front of the answers the writer waits for. A socket
// filter on ctl drops those echoes (by wr's port id) in the kernel.
import { EventEmitter } from 'node:events';
import type { AddressInfo, FibBackend, FibEvent, FibOp, FibStats, KernelRoute, LinkInfo, RouteState } from './backend.js';
import type { FibBatch } from './batch.js';
import { Action, type Ownership, RouteClass, classifyKernelRoute, decide } from './diff.js';
import { type Family, formatIp, formatPrefix, isLinkLocal6, parseIp, parsePrefix } from './ip.js';
import { type GatewayInput, type NhOp, Nexthops } from './nexthops.js';
import {
  Errno,
  NlmF,
  RtProt,
  RtTable,
  RtmGrp,
  RtnlGrp,
  Rtm,
  SockFlag,
  errnoName,
} from './netlink/constants.js';
import {
  type AddrMsg,
  type LinkMsg,
  type NexthopMsg,
  ROUTE_MSG_BASE,
  RouteView,
  decodeAddr,
  decodeLink,
  decodeNexthop,
  decodeRoute,
  msgFlags,
  msgPid,
  msgType,
  putDelNexthop,
  putDumpAddrs,
  putDumpLinks,
  putDumpNexthops,
  putDumpRoutes,
  putNexthop,
  putNexthopGroup,
  putNoopAck,
  putRoute,
  routeDst,
  routeNexthops,
} from './netlink/codec.js';
import { addrInfo, linkInfo } from './info.js';
import { NetlinkError, NetlinkSocket, type TransportFactory } from './netlink/socket.js';
import { OtherRoutes, type OtherRoute, type Resolution } from './routes.js';
import { EntryFlag, FibTable, IdQueue, KEY_WORDS } from './table.js';
import { type BatchOwner, Kind, type StaleRoute, WriteBatch } from './write-batch.js';

export interface FibOptions {
  /** Routing table (default 254, main). */
  readonly table?: number;
  /** rtm_protocol of our routes (default 186, RTPROT_BGP). */
  readonly protocol?: number;
  /** RTA_PRIORITY of our routes (default 20); part of the kernel's route key. */
  readonly metric?: number;
  /** First id of our nexthop objects (default 0x7b000000). */
  readonly nexthopIdBase?: number;
  /** Use nexthop objects (kernel >= 5.3; default true). */
  readonly useNexthopObjects?: boolean;
  /** Bytes per send (default 64 KiB). */
  readonly batchBytes?: number;
  /** Batches sent but not yet answered (default 16). */
  readonly maxInflight?: number;
  /** Retry failed routes this often (ms; default 30 s; 0 = only on link/address changes). */
  readonly retryMs?: number;
  /** Least time between scans for unused nexthop objects (ms; default 1000). */
  readonly gcIntervalMs?: number;
  /** Track other owners' routes through notifications (default true). */
  readonly watchRoutes?: boolean;
  /** Receive buffer of the notification socket (default 32 MiB; root can exceed rmem_max). */
  readonly rcvbuf?: number;
}

/** Prefixes of a batch touched ahead of their lookups (Fib.apply). */
const TOUCH_AHEAD = 64;
/** Below this many entries the table stays in the caches: no touching. */
const TOUCH_MIN_SIZE = 65536;

const OP_NAMES: Readonly<Record<number, FibOp>> = { 1: 'add', 2: 'replace', 3: 'delete' };

const DEFAULTS = {
  table: RtTable.MAIN as number,
  protocol: RtProt.BGP as number,
  metric: 20,
  nexthopIdBase: 0x7b000000,
  useNexthopObjects: true,
  // 1 MiB queued for the kernel: the addon's worker always has the next batch
  // when a send returns, even while the event loop is busy with the RIB.
  batchBytes: 64 * 1024,
  maxInflight: 16,
  retryMs: 30_000,
  gcIntervalMs: 1000,
  watchRoutes: true,
  rcvbuf: 32 * 1024 * 1024,
};

export class Fib extends EventEmitter implements FibBackend, BatchOwner {
  private readonly o: typeof DEFAULTS;
  private readonly own: Ownership;
  private readonly table = new FibTable(4096);
  private readonly nh: Nexthops;
  private readonly dirty = new IdQueue();
  private carry = -1;
  private ctl: NetlinkSocket | null = null;
  private wr: NetlinkSocket | null = null;
  private started = false;
  private stopped = false;
  private resyncing = false;
  private resyncWanted: string | null = null;
  private resyncAtIdle: string | null = null;
  private holdAdopted = true;
  private readonly free: WriteBatch[] = [];
  /** Batches sent and not yet answered (their marker ACK) or lost. */
  private inflight = 0;
  /** Batches whose send has not returned: their buffers are still being read. */
  private sending = 0;
  private pumpScheduled = false;
  /** Inside pump(): a listener of an event it emits must not start another fill. */
  private pumping = false;
  private topoTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private gcWanted = false;
  private gcTimer: NodeJS.Timeout | null = null;
  private lastGc = 0;
  private anyUnresolved = false;
  private nhDeletes: NhOp[] = [];
  private stale: StaleRoute[] = [];
  private flushWaiters: (() => void)[] = [];
  private readonly scratch = new Uint8Array(16);
  private readonly view = new RouteView();
  private readonly maxOps: number;
  /**
   * Messages per batch now. Every message may come back as an error, so a
   * batch's answers must fit the writer's receive buffer: halved when answers
   * were dropped (ENOBUFS), grown back slowly while batches succeed.
   */
  private opCap: number;
  private counters = { batches: 0, messages: 0, errors: 0, resyncs: 0 };
  /** Route writes sent, by kind (stale deletes and probes count as deletes). */
  private ops = { add: 0, replace: 0, delete: 0 };
  /** Other owners' routes our next hops resolve through. */
  private readonly others: OtherRoutes;
  private routesTimer: NodeJS.Timeout | null = null;
  private readonly otherView = new RouteView();

  constructor(
    private readonly transport: TransportFactory,
    opts: FibOptions = {},
  ) {
    super();
    this.o = { ...DEFAULTS, ...opts };
    if (this.o.metric < 1) throw new RangeError('metric must be >= 1 (IPv6 turns 0 into 1024)');
    if (this.o.table < 1 || this.o.table === RtTable.LOCAL) throw new RangeError(`bad table ${this.o.table}`);
    this.own = { table: this.o.table, protocol: this.o.protocol, metric: this.o.metric };
    this.others = new OtherRoutes(this.o.table === RtTable.MAIN ? [RtTable.MAIN] : [this.o.table, RtTable.MAIN]);
    this.nh = new Nexthops({
      protocol: this.o.protocol,
      idBase: this.o.nexthopIdBase,
      useObjects: this.o.useNexthopObjects,
    });
    // The smallest message is an IPv4 delete: 16 + 12 + 8 + 8 + 8 bytes.
    this.maxOps = Math.ceil(this.o.batchBytes / 52) + 8;
    this.opCap = this.maxOps;
    for (let i = 0; i < this.o.maxInflight + 1; i++) this.free.push(new WriteBatch(this, this.o.batchBytes, this.maxOps, this.own));
  }

  // ------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.started || this.ctl) throw new Error('fib already started');
    const groups =
      RtmGrp.LINK |
      RtmGrp.IPV4_IFADDR |
      RtmGrp.IPV6_IFADDR |
      (this.o.watchRoutes ? RtmGrp.IPV4_ROUTE | RtmGrp.IPV6_ROUTE : 0);
    const flags = SockFlag.EXT_ACK | SockFlag.CAP_ACK | SockFlag.STRICT_CHK;
    this.ctl = new NetlinkSocket(this.transport, {
      groups,
      rcvbuf: this.o.rcvbuf,
      sndbuf: 1 << 20,
      flags,
      onNotify: (b, off, len) => this.notify(b, off, len),
      // Mostly echoes of our own writes were dropped: reread once the writer is idle.
      onOverflow: () => {
        this.resyncAtIdle = this.resyncAtIdle ?? 'enobufs (notifications)';
        this.schedulePump();
      },
    });
    // Other owners' nexthop objects (FRR's routes use them): next hops resolve through them.
    // Kernels without nexthop objects refuse the group: routes then carry their gateways.
    if (this.o.watchRoutes) this.ctl.transport.addMembership(RtnlGrp.NEXTHOP);
    this.wr = new NetlinkSocket(this.transport, {
      groups: 0,
      // Room for an error answer (~1 KiB of skb each) to every message in flight.
      // (beyond 64 MiB, ENOBUFS halves the batches: see opCap).
      rcvbuf: Math.min(64 << 20, Math.max(16 << 20, this.o.maxInflight * this.maxOps * 1024)),
      sndbuf: Math.max(4 << 20, this.o.batchBytes * 2),
      flags: SockFlag.EXT_ACK | SockFlag.CAP_ACK,
      onOverflow: () => this.requestResync('enobufs (answers)'),
    });
    // One notification per route we write comes back to ctl: have the kernel drop
    // them (a socket filter on the writer's port id) instead of queueing and
    // copying them to us only to be skipped; they also overflowed ctl's buffer.
    // Other writers' changes to our routes carry their own port id and still come.
    this.ctl.transport.dropEchoes?.(this.wr.transport.portId);
    try {
      await this.checkPrivilege();
      await this.resync('start', true);
    } catch (e) {
      this.closeSockets();
      throw e;
    }
    this.started = true;
    if (this.o.retryMs > 0) {
      this.retryTimer = setInterval(() => this.retryFailed(), this.o.retryMs);
      this.retryTimer.unref();
    }
    this.schedulePump();
  }

  /**
   * Without CAP_NET_ADMIN the kernel answers every write with EPERM, one per
   * route: fail once, here. A nexthop delete without an id is refused after the
   * capability check (EINVAL), so it changes nothing either way.
   */
  private async checkPrivilege(): Promise<void> {
    try {
      await this.wr!.request((enc, seq) => {
        const at = enc.begin(Rtm.DELNEXTHOP, NlmF.REQUEST | NlmF.ACK, seq);
        enc.zero(8);
        enc.end(at);
      }, 'privilege check');
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === Errno.EPERM) {
        throw new NetlinkError(Errno.EPERM, 'programming routes needs CAP_NET_ADMIN (use the memory backend for a dry run)');
      }
      // EINVAL, ENOENT, EOPNOTSUPP: we may write.
    }
  }

  async stop(opts: { readonly keep?: boolean | undefined } = {}): Promise<void> {
    if (this.stopped) return;
    if (this.started && !opts.keep) {
      const t = this.table;
      this.holdAdopted = false;
      this.lastGc = 0;
      for (let id = 0; id < t.hwm; id++) {
        if (!t.live(id)) continue;
        t.setDesired(id, -1);
        t.clearFlags(id, EntryFlag.ADOPTED | EntryFlag.FAILED);
        this.markDirty(id);
      }
      this.nh.clearSets();
      await this.flush();
      this.nhDeletes.push(...this.nh.collect(this.installedForms()));
      this.schedulePump();
      await this.flush();
    }
    this.stopped = true;
    if (this.retryTimer) clearInterval(this.retryTimer);
    if (this.topoTimer) clearTimeout(this.topoTimer);
    if (this.gcTimer) clearTimeout(this.gcTimer);
    if (this.routesTimer) clearTimeout(this.routesTimer);
    this.closeSockets();
    for (const w of this.flushWaiters.splice(0)) w();
  }

  private closeSockets(): void {
    this.ctl?.close();
    this.wr?.close();
  }

  // ------------------------------------------------------------ daemon API

  defineNexthop(handle: number, gateways: readonly GatewayInput[]): void {
    const existed = this.nh.has(handle);
    const changed = this.nh.define(handle, gateways);
    if (changed && (existed || this.anyUnresolved)) this.requeueUsers(new Set([handle]));
    this.gcWanted = true;
    this.schedulePump();
  }

  removeNexthop(handle: number): void {
    if (!this.nh.has(handle)) return;
    this.nh.remove(handle);
    this.requeueUsers(new Set([handle]));
    this.gcWanted = true;
  }

  apply(batch: FibBatch): void {
    const t = this.table;
    const n = batch.length;
    for (let lo = 0; lo < n; lo += TOUCH_AHEAD) {
      const hi = Math.min(n, lo + TOUCH_AHEAD);
      // A full table does not fit the caches: touching a stretch of prefixes first
      // lets their cache misses overlap (fib/table.ts touch).
      if (t.size >= TOUCH_MIN_SIZE) for (let i = lo; i < hi; i++) t.touch(batch.family[i] === 6 ? 6 : 4, batch.addr, i * 16, batch.plen[i]!);
      for (let i = lo; i < hi; i++) {
        const fam: Family = batch.family[i] === 6 ? 6 : 4;
        const nh = batch.nh[i]!;
        if (batch.plen[i]! > (fam === 4 ? 32 : 128)) continue;
        let id: number;
        if (nh < 0) {
          id = t.find(fam, batch.addr, i * 16, batch.plen[i]!);
          if (id < 0) continue;
        } else {
          id = t.insert(fam, batch.addr, i * 16, batch.plen[i]!);
        }
        t.setDesired(id, nh);
        // A withdrawn or re-announced prefix is no longer just adopted; a new
        // next hop deserves a new attempt.
        t.clearFlags(id, EntryFlag.ADOPTED | EntryFlag.FAILED);
        this.markDirty(id);
      }
    }
    // Start writing now rather than after the event loop's next turn, which may
    // hold a long stretch of RIB work: the kernel's thread would wait idle.
    if (this.sending === 0) this.pump();
  }

  reconcile(): void {
    this.holdAdopted = false;
    const t = this.table;
    for (let id = 0; id < t.hwm; id++) if (t.live(id) && t.flags[id]! & EntryFlag.ADOPTED) this.markDirty(id);
    this.gcWanted = true;
    this.schedulePump();
  }

  flush(): Promise<void> {
    if (this.stopped || (this.started && this.isIdle())) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  async dump(): Promise<KernelRoute[]> {
    const ctl = this.ctl;
    if (!ctl) throw new Error('fib not started');
    const out: KernelRoute[] = [];
    const v = new RouteView();
    for (const fam of [4, 6] as const) {
      await this.dumpRoutes(fam, (b, off, len) => {
        if (msgType(b, off) !== Rtm.NEWROUTE || !decodeRoute(b, off, len, v) || v.table !== this.own.table) return;
        out.push({
          family: v.family || fam,
          dst: routeDst(v),
          table: v.table,
          protocol: v.protocol,
          metric: v.metric,
          type: v.type,
          scope: v.scope,
          nhId: v.nhId,
          nexthops: routeNexthops(v).map((n) => ({
            ...(n.gateway !== undefined ? { gateway: n.gateway } : {}),
            oif: n.oif,
            weight: n.weight,
          })),
        });
      });
    }
    return out;
  }

  /** Dumps our table; a table that does not exist yet (ENOENT under strict checking) is empty. */
  private dumpRoutes(fam: Family, onMsg: (b: Buffer, off: number, len: number) => void): Promise<void> {
    return this.dumpTable(fam, this.own.table, onMsg);
  }

  private async dumpTable(fam: Family, table: number, onMsg: (b: Buffer, off: number, len: number) => void): Promise<void> {
    try {
      await this.ctl!.dump((enc, seq) => putDumpRoutes(enc, seq, fam, table), onMsg);
    } catch (e) {
      if (!(e instanceof NetlinkError) || e.errno !== Errno.ENOENT) throw e;
    }
  }

  links(): LinkInfo[] {
    return [...this.nh.links.values()].map(linkInfo);
  }

  addresses(): AddressInfo[] {
    const out: AddressInfo[] = [];
    for (const list of this.nh.addrs.values()) for (const a of list) out.push(addrInfo(a));
    return out;
  }

  connectedVia(address: string): number {
    return this.nh.connectedVia(address);
  }

  resolveNextHop(address: string): Resolution | null {
    const a = parseIp(address);
    if (!a || (a.family === 6 && isLinkLocal6(a.bytes))) return null;
    const dev = this.nh.connectedVia(address);
    if (dev > 0) return { gateway: address, ifindex: dev, metric: 0, via: null };
    return this.others.resolve(
      a.family,
      a.bytes,
      (oif) => this.nh.usable(oif),
      (fam, gw, oif) => this.nh.connectedVia(formatIp(gw, 0, fam)) === oif,
    );
  }

  otherRoutes(): OtherRoute[] {
    return this.others.all();
  }

  route(prefix: string): RouteState | null {
    const p = parsePrefix(prefix);
    if (!p) return null;
    const t = this.table;
    const id = t.find(p.family, p.bytes, 0, p.plen);
    if (id < 0) return null;
    const d = t.desired[id]!;
    const f = t.flags[id]!;
    const wanted = d >= 0 ? this.nh.formOf(d, p.family) : -1;
    const inst = t.installed[id]!;
    const names = Object.entries(EntryFlag)
      .filter(([k, bit]) => k !== 'LIVE' && f & bit)
      .map(([k]) => k.toLowerCase());
    return {
      prefix: formatPrefix(p.bytes, 0, p.family, p.plen),
      nexthop: d >= 0 ? d : null,
      gateways: d >= 0 ? this.nh.gatewaysOf(d) : [],
      ifindexes: d >= 0 ? this.nh.ifindexesOf(d) : [],
      installed: inst >= 0 ? this.nh.describeForm(inst) : null,
      wanted: wanted >= 0 ? this.nh.describeForm(wanted) : null,
      flags: names,
      error: t.errno[id] ? errnoName(t.errno[id]!) : '',
    };
  }

  get backlog(): number {
    return this.dirty.length + (this.carry >= 0 ? 1 : 0) + this.inflight * this.maxOps;
  }

  /**
   * Makes room for `n` prefixes in all (not n more) before a table of that size
   * arrives (a full table from a peer, a restart), so the per-prefix state is sized
   * once instead of doubling and rehashing on the way. Optional: it only saves time.
   * Never shrinks; calling it again with a rising count is cheap (geometric growth).
   */
  reserve(n: number): void {
    this.table.reserve(n);
  }

  /** O(1): the table keeps running counts (fib/table.ts). */
  stats(): FibStats {
    const t = this.table;
    const c = t.counts();
    return {
      entries: t.size,
      desired: c.desired,
      installed: c.installed4 + c.installed6,
      installedByFamily: { 4: c.installed4, 6: c.installed6 },
      pending: c.pending,
      failed: c.failed,
      conflicts: c.conflicts,
      adopted: c.adopted,
      nexthopObjects: this.nh.objectCount,
      batches: this.counters.batches,
      messages: this.counters.messages,
      errors: this.counters.errors,
      resyncs: this.counters.resyncs,
      overflows: (this.ctl?.overflows ?? 0) + (this.wr?.overflows ?? 0),
      operations: { ...this.ops },
    };
  }

  // ------------------------------------------------------------ queueing

  private markDirty(id: number): void {
    const t = this.table;
    if (t.flags[id]! & EntryFlag.DIRTY) return;
    t.addFlags(id, EntryFlag.DIRTY);
    this.dirty.push(id);
    this.schedulePump();
  }

  /** Queues every prefix whose next-hop set is in `handles` (their encoding changed). */
  private requeueUsers(handles: ReadonlySet<number>): void {
    if (handles.size === 0) return;
    const t = this.table;
    for (let id = 0; id < t.hwm; id++) {
      if (!t.live(id) || !handles.has(t.desired[id]!)) continue;
      t.clearFlags(id, EntryFlag.FAILED);
      this.markDirty(id);
    }
  }

  private retryFailed(): void {
    const t = this.table;
    for (let id = 0; id < t.hwm; id++) {
      if (t.live(id) && t.flags[id]! & EntryFlag.FAILED) {
        t.clearFlags(id, EntryFlag.FAILED);
        this.markDirty(id);
      }
    }
    if (this.nh.retryFailed()) this.requeueUsers(new Set(this.nh.resolveAll()));
    this.schedulePump();
  }

  private installedForms(): Set<number> {
    return this.table.installedForms();
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private hasWork(): boolean {
    return (
      this.dirty.length > 0 ||
      this.carry >= 0 ||
      this.nh.pendingCreates > 0 ||
      this.nhDeletes.length > 0 ||
      this.stale.length > 0
    );
  }

  private isIdle(): boolean {
    return !this.resyncing && !this.resyncWanted && this.sending === 0 && this.inflight === 0 && !this.hasWork();
  }

  private pump(): void {
    if (this.pumping) {
      this.schedulePump();
      return;
    }
    this.pumping = true;
    try {
      this.pumpNow();
    } finally {
      this.pumping = false;
    }
  }

  private pumpNow(): void {
    this.pumpScheduled = false;
    if (!this.started || this.stopped || this.resyncing) return;
    if (this.resyncWanted) {
      // Let what is in flight finish, then reread the kernel.
      if (this.sending === 0 && this.inflight === 0) void this.runResync();
      return;
    }
    // Keep up to maxInflight batches queued in the addon: its worker sends them
    // back to back while we encode the next and read the answers.
    while (this.inflight < this.o.maxInflight && this.wr && this.hasWork()) {
      const b = this.free.pop();
      if (!b) break;
      this.fill(b);
      if (b.count === 0) {
        this.free.push(b);
        break;
      }
      this.inflight++;
      this.sending++;
      b.sent = false;
      b.answered = false;
      const gen = ++b.gen;
      this.counters.batches++;
      this.counters.messages += b.count;
      this.wr.sendBatch(b.enc.buf, b.enc.pos, b, () => {
        this.sending--;
        // The marker's answer may have freed (and reused) the buffer already.
        if (b.gen === gen && !b.sent) {
          b.sent = true;
          if (b.answered) this.free.push(b);
        }
        this.schedulePump();
      });
    }
    if (this.isIdle()) this.onIdle();
  }

  private onIdle(): void {
    if (this.resyncAtIdle) {
      this.requestResync(this.resyncAtIdle);
      this.resyncAtIdle = null;
      return;
    }
    if (this.gcWanted) {
      // Collecting scans the table: not too often.
      const wait = this.lastGc + this.o.gcIntervalMs - Date.now();
      if (wait > 0) {
        if (!this.gcTimer) {
          this.gcTimer = setTimeout(() => {
            this.gcTimer = null;
            this.schedulePump();
          }, wait);
          this.gcTimer.unref();
        }
      } else {
        this.lastGc = Date.now();
        this.gcWanted = false;
        this.nhDeletes.push(...this.nh.collect(this.installedForms()));
        if (this.nhDeletes.length > 0) {
          this.schedulePump();
          return;
        }
      }
    }
    for (const w of this.flushWaiters.splice(0)) w();
    this.emit('idle');
  }

  /** Packs queued work into `b`: nexthop objects first, then stale deletes, then routes. */
  private fill(b: WriteBatch): void {
    const wr = this.wr!;
    b.reset(wr.nextSeq(b.maxOps + 1));
    const enc = b.enc;
    const limit = Math.min(b.maxOps, this.opCap);
    const proto = this.own.protocol;
    const req = NlmF.REQUEST;
    const room = 512; // the largest nexthop/group message we write, and the marker

    for (const o of this.nh.takeCreates()) {
      const seq = b.firstSeq + b.count;
      const ok = o.members
        ? putNexthopGroup(enc, req | NlmF.CREATE | NlmF.EXCL, seq, o.id, o.members, proto)
        : putNexthop(enc, req | NlmF.CREATE | NlmF.EXCL, seq, o.id, o.family || 4, o.addr!, 0, o.oif, proto);
      if (!ok || b.count >= limit - 1) {
        this.nh.opLost({ kind: 'add', obj: o }); // back to NEW: next batch
        continue;
      }
      b.kind[b.count] = Kind.NH_ADD;
      b.entry[b.count] = -1;
      b.err[b.count] = 0;
      b.extra.set(b.count, { kind: 'add', obj: o });
      b.count++;
    }
    while (this.nhDeletes.length > 0 && enc.room > room && b.count < limit - 1) {
      const op = this.nhDeletes.shift()!;
      putDelNexthop(enc, req, b.firstSeq + b.count, op.obj.id);
      b.kind[b.count] = Kind.NH_DEL;
      b.entry[b.count] = -1;
      b.err[b.count] = 0;
      b.extra.set(b.count, op);
      b.count++;
    }
    while (this.stale.length > 0 && enc.room > room && b.count < limit - 1) {
      const s = this.stale.shift()!;
      putRoute(enc, Rtm.DELROUTE, req, b.firstSeq + b.count, s.family, s.addr, 0, s.plen, this.own.table, proto, s.metric, null);
      b.kind[b.count] = Kind.STALE_DEL;
      this.ops.delete++;
      b.entry[b.count] = -1;
      b.err[b.count] = 0;
      b.extra.set(b.count, s);
      b.count++;
    }

    const t = this.table;
    const rw = b.routes;
    while (b.count < limit - 1) {
      const id = this.carry >= 0 ? this.carry : this.dirty.shift();
      this.carry = -1;
      if (id < 0) break;
      if (!t.live(id)) continue;
      const f = t.flags[id]!;
      if (!(f & EntryFlag.DIRTY)) continue;
      const fam = t.family(id);
      const dh = t.desired[id]!;
      const df = dh >= 0 ? this.nh.formOf(dh, fam) : -1;
      if (dh >= 0 && df < 0) this.anyUnresolved = true;
      const inst = t.installed[id]!;
      const act = decide(df, inst, f, this.holdAdopted);
      if (act === Action.ADD || act === Action.REPLACE || act === Action.DELETE || act === Action.PROBE) {
        const del = act === Action.DELETE || act === Action.PROBE;
        const block = del ? null : this.nh.formBlocks[df]!;
        if (enc.room < ROUTE_MSG_BASE + (block ? block.length : 0) + room) {
          this.carry = id;
          break;
        }
        const seq = b.firstSeq + b.count;
        if (del) {
          rw.put(Rtm.DELROUTE, req, seq, fam, t.keys, id * KEY_WORDS, t.plen(id), null);
        } else {
          const fl = req | NlmF.CREATE | (act === Action.ADD ? NlmF.EXCL : NlmF.REPLACE);
          rw.put(Rtm.NEWROUTE, fl, seq, fam, t.keys, id * KEY_WORDS, t.plen(id), block);
        }
        b.entry[b.count] = id;
        const kind = act === Action.ADD ? Kind.ADD : act === Action.REPLACE ? Kind.REPLACE : act === Action.PROBE ? Kind.PROBE : Kind.DELETE;
        b.kind[b.count] = kind;
        if (kind === Kind.ADD) this.ops.add++;
        else if (kind === Kind.REPLACE) this.ops.replace++;
        else this.ops.delete++;
        b.form[b.count] = df;
        b.err[b.count] = 0;
        b.count++;
        t.setFlags(id, (f & ~EntryFlag.DIRTY) | EntryFlag.INFLIGHT);
        continue;
      }
      t.setFlags(id, f & ~EntryFlag.DIRTY);
      if (act === Action.CONFLICT) {
        if (!(f & EntryFlag.CONFLICT)) {
          t.addFlags(id, EntryFlag.CONFLICT);
          this.report({ type: 'conflict', prefix: this.prefixOf(id) });
        }
      } else if (act === Action.NONE) {
        this.maybeFree(id);
      }
    }
    if (b.count === 0) return;
    b.lastSeq = b.firstSeq + b.count - 1;
    b.markerSeq = b.firstSeq + b.count;
    putNoopAck(enc, b.markerSeq);
  }

  private maybeFree(id: number): void {
    const t = this.table;
    const f = t.flags[id]!;
    if (t.desired[id]! < 0 && t.installed[id]! < 0 && !(f & (EntryFlag.FOREIGN | EntryFlag.DIRTY | EntryFlag.INFLIGHT))) {
      t.remove(id);
    }
  }

  private prefixOf(id: number): string {
    const t = this.table;
    t.addr(id, this.scratch, 0);
    return formatPrefix(this.scratch, 0, t.family(id), t.plen(id));
  }

  private report(e: FibEvent): void {
    if (e.type === 'error' || e.type === 'nexthop-error' || e.type === 'send-error') this.counters.errors++;
    this.emit('result', e);
  }

  // ------------------------------------------------------------ answers

  /** Called by a WriteBatch when the kernel ACKed its marker. */
  batchDone(b: WriteBatch): void {
    const t = this.table;
    let topo = false;
    let changed: number[] = [];
    let deleted = false;
    for (let i = 0; i < b.count; i++) {
      const k = b.kind[i]!;
      const err = b.err[i]!;
      if (topo && k !== Kind.NH_ADD && k !== Kind.NH_DEL) {
        // Object ops come first in a batch: settle the sets before judging the
        // routes that used a failed object, so those are retried, not reported.
        topo = false;
        changed = changed.concat(this.nh.resolveAll());
      }
      if (k === Kind.DELETE || k === Kind.REPLACE || k === Kind.PROBE) deleted = true;
      if (k === Kind.NH_ADD || k === Kind.NH_DEL) {
        const op = b.extra.get(i) as NhOp;
        if (err !== 0 && k === Kind.NH_ADD) {
          this.report({
            type: 'nexthop-error',
            id: op.obj.id,
            ...(op.obj.addr && op.obj.family ? { gateway: formatIp(op.obj.addr, 0, op.obj.family) } : {}),
            oif: op.obj.oif,
            errno: err,
            code: errnoName(err),
            ...(b.msgs.has(i) ? { message: b.msgs.get(i)! } : {}),
          });
        }
        if (this.nh.opDone(op, err)) topo = true;
        continue;
      }
      if (k === Kind.STALE_DEL) continue; // gone or never there: either way not ours any more
      const id = b.entry[i]!;
      if (!t.live(id)) continue;
      t.clearFlags(id, EntryFlag.INFLIGHT);
      if (k === Kind.PROBE) {
        this.probeDone(id, err);
      } else if (err === 0) {
        t.setInstalled(id, k === Kind.DELETE ? -1 : b.form[i]!);
        t.errno[id] = 0;
        t.clearFlags(id, EntryFlag.ADOPTED | EntryFlag.CONFLICT);
      } else {
        this.routeError(b, i, id, err);
      }
      this.afterAnswer(id);
    }
    if (topo) changed = changed.concat(this.nh.resolveAll());
    // Full batches that were answered in full: grow back, slowly (additive).
    if (b.count >= this.opCap - 1) this.opCap = Math.min(this.maxOps, this.opCap + 16);
    // The kernel copies a send's whole buffer before handling its first message,
    // so the marker's answer proves the buffer free: reuse it now, not when the
    // addon reports the send (it does so only once its queue of sends ran dry).
    b.sent = true;
    this.release(b);
    this.requeueUsers(new Set(changed));
    if (deleted) this.gcWanted = true;
  }

  /**
   * The answer to a probe (a delete of our route, qualified by protocol and
   * metric): either way ours is gone now. If it was not there, another owner
   * holds the key we were refused (EEXIST): a conflict.
   */
  private probeDone(id: number, err: number): void {
    const t = this.table;
    if (err !== 0 && err !== Errno.ESRCH && err !== Errno.ENOENT) {
      t.addFlags(id, EntryFlag.FAILED); // retried later, probe included
      t.errno[id] = err;
      return;
    }
    t.clearFlags(id, EntryFlag.PROBE);
    t.setInstalled(id, -1);
    if (err !== 0 && !(t.flags[id]! & EntryFlag.FOREIGN)) {
      t.addFlags(id, EntryFlag.FOREIGN);
      if (!(t.flags[id]! & EntryFlag.CONFLICT) && t.desired[id]! >= 0) {
        t.addFlags(id, EntryFlag.CONFLICT);
        this.report({ type: 'conflict', prefix: this.prefixOf(id) });
      }
    }
  }

  /** The kernel refused op `i` of `b` (entry `id`) with `err`. */
  private routeError(b: WriteBatch, i: number, id: number, err: number): void {
    const t = this.table;
    const k = b.kind[i]!;
    if (k === Kind.DELETE && (err === Errno.ESRCH || err === Errno.ENOENT)) {
      t.setInstalled(id, -1); // already gone: what we wanted
      return;
    }
    if (k === Kind.ADD && err === Errno.EEXIST) {
      // Someone holds the key though our view had nobody: another owner, or our
      // own route we lost track of (an IPv4 replace by another owner can take
      // theirs and leave ours). A probe asks the kernel which (probeDone).
      t.addFlags(id, EntryFlag.PROBE);
      return;
    }
    const fam = t.family(id);
    const dh = t.desired[id]!;
    const now = dh >= 0 ? this.nh.formOf(dh, fam) : -1;
    // Only a failure of what we still want counts; otherwise just try again.
    if (now !== (k === Kind.DELETE ? -1 : b.form[i]!)) return;
    t.addFlags(id, EntryFlag.FAILED);
    // A retry failing the same way is not news.
    const repeat = t.errno[id] === err;
    t.errno[id] = err;
    if (repeat) return;
    this.report({
      type: 'error',
      prefix: this.prefixOf(id),
      op: OP_NAMES[k]!,
      errno: err,
      code: errnoName(err),
      ...(b.msgs.has(i) ? { message: b.msgs.get(i)! } : {}),
      gateways: dh >= 0 ? this.nh.gatewaysOf(dh) : [],
    });
  }

  /** Re-queues an answered prefix if it still differs from what we want, or frees it. */
  private afterAnswer(id: number): void {
    const t = this.table;
    const fam = t.family(id);
    const dh = t.desired[id]!;
    const df = dh >= 0 ? this.nh.formOf(dh, fam) : -1;
    const act = decide(df, t.installed[id]!, t.flags[id]!, this.holdAdopted);
    if (act === Action.ADD || act === Action.REPLACE || act === Action.DELETE || act === Action.CONFLICT || act === Action.PROBE) {
      this.markDirty(id);
    }
    else if (act === Action.NONE) this.maybeFree(id);
  }

  /** Called by a WriteBatch whose send failed or whose answers were lost. */
  batchLost(b: WriteBatch, errno: number): void {
    const t = this.table;
    const sendFailed = errno !== Errno.ENOBUFS && errno !== Errno.EBADF;
    let routes = 0;
    let topo = false;
    for (let i = 0; i < b.count; i++) {
      const k = b.kind[i]!;
      if (k === Kind.NH_ADD || k === Kind.NH_DEL) {
        const op = b.extra.get(i) as NhOp;
        if (sendFailed) topo = this.nh.opDone(op, errno) || topo;
        else this.nh.opLost(op);
        continue;
      }
      if (k === Kind.STALE_DEL) continue;
      const id = b.entry[i]!;
      if (!t.live(id)) continue;
      t.clearFlags(id, EntryFlag.INFLIGHT);
      if (sendFailed) {
        t.addFlags(id, EntryFlag.FAILED);
        t.errno[id] = errno;
        routes++;
      } else if (b.err[i] !== 0) {
        // Answers are delivered in order: errors read before the drop are real.
        // Recording them guarantees progress when failures flood the socket.
        if (k === Kind.PROBE) this.probeDone(id, b.err[i]!);
        else this.routeError(b, i, id, b.err[i]!);
      }
    }
    this.release(b);
    if (sendFailed) {
      this.report({ type: 'send-error', errno, code: errnoName(errno), routes });
      if (topo) this.requeueUsers(new Set(this.nh.resolveAll()));
    } else if (errno === Errno.ENOBUFS) {
      this.opCap = Math.max(16, this.opCap >> 1);
      this.requestResync('enobufs (answers)');
    }
  }

  /** The batch is answered (or given up); its buffer is reused once the kernel is done reading it. */
  private release(b: WriteBatch): void {
    this.inflight--;
    b.answered = true;
    if (b.sent) this.free.push(b);
    this.schedulePump();
  }

  // ------------------------------------------------------------ notifications

  private notify(b: Buffer, off: number, len: number): void {
    const type = msgType(b, off);
    if (type === Rtm.NEWROUTE || type === Rtm.DELROUTE) {
      // Echoes of our own writes are the bulk: skip them before decoding.
      if (!this.o.watchRoutes || (this.wr && msgPid(b, off) === this.wr.transport.portId)) return;
      // Other owners' routes resolve our next hops (rtm_protocol, read in place).
      if (len >= 28 && b[off + 21] !== this.own.protocol) this.otherRoute(type, b, off, len);
      this.routeNotification(type, b, off, len);
    } else if (type === Rtm.NEWLINK || type === Rtm.DELLINK) {
      const l = decodeLink(b, off, len);
      if (!l) return;
      const removed = type === Rtm.DELLINK;
      const used = this.nh.linkUsed(l.index);
      const changed = removed ? this.nh.delLink(l.index) : this.nh.setLink(l);
      this.emit('link', linkInfo(l), removed);
      if (!changed) return;
      // The kernel flushes nexthop objects and routes of a link going down,
      // without notifications for IPv4: reread the table if we used the link.
      if (used && (removed || !l.up)) this.requestResync(`link ${l.name || l.index} down`);
      this.topologyChanged();
    } else if (type === Rtm.NEWNEXTHOP || type === Rtm.DELNEXTHOP) {
      if (this.wr && msgPid(b, off) === this.wr.transport.portId) return;
      const n = decodeNexthop(b, off, len);
      if (!n) return;
      if (n.protocol === this.own.protocol) {
        // One of our objects deleted by another process (`ip nexthop del`; port id not 0,
        // which is the kernel's own flush on link down, handled with the link): the kernel
        // drops the routes using it without IPv4 route notifications. Re-read and rewrite.
        if (type === Rtm.DELNEXTHOP && msgPid(b, off) !== 0) this.requestResync(`nexthop object ${n.id} deleted by another process`);
        return;
      }
      if (type === Rtm.NEWNEXTHOP) this.others.objects.set(n.id, n);
      else if (!this.others.objects.delete(n.id)) return;
      if (this.others.size > 0) this.routesChanged();
    } else if (type === Rtm.NEWADDR || type === Rtm.DELADDR) {
      const a = decodeAddr(b, off, len);
      if (!a) return;
      const removed = type === Rtm.DELADDR;
      const changed = removed ? this.nh.delAddr(a) : this.nh.addAddr(a);
      this.emit('address', addrInfo(a), removed);
      if (changed) this.topologyChanged();
    }
  }

  private routeNotification(type: number, b: Buffer, off: number, len: number): void {
    const v = this.view;
    if (!decodeRoute(b, off, len, v) || v.family === 0) return;
    const cls = classifyKernelRoute(this.own, v.table, v.protocol, v.metric, v.tos, v.type);
    if (cls !== RouteClass.OURS && cls !== RouteClass.FOREIGN) return;
    const t = this.table;
    const dst = v.dstOff >= 0 ? v.buf : this.scratch.fill(0);
    const dstOff = v.dstOff >= 0 ? v.dstOff : 0;
    const add = type === Rtm.NEWROUTE;
    const id = add ? t.insert(v.family, dst, dstOff, v.dstLen) : t.find(v.family, dst, dstOff, v.dstLen);
    if (id < 0) return;
    if (cls === RouteClass.OURS) {
      // Someone else wrote or removed a route under our protocol (or the kernel did).
      if (t.flags[id]! & EntryFlag.INFLIGHT) return; // our answer settles it
      t.setInstalled(id, add ? this.nh.kernelForm(v) : -1);
    } else if (add) {
      t.addFlags(id, EntryFlag.FOREIGN);
      // Only a replace (NLM_F_REPLACE) can take our route's place. A create
      // (`ip route append`/`prepend`, IPv4 and IPv6) puts theirs beside ours:
      // forgetting ours would make us ADD it again once they leave (EEXIST, a
      // false conflict) and leave it unmanaged meanwhile. A replace takes the
      // first route on the key, which may be theirs: whether ours is still
      // there is unknown, so a probe removes it if it is (the key is theirs).
      if (msgFlags(b, off) & NlmF.REPLACE && t.installed[id]! >= 0) {
        t.addFlags(id, EntryFlag.PROBE);
        this.markDirty(id);
      }
      if (t.flags[id]! & EntryFlag.CONFLICT) return;
      if (t.desired[id]! >= 0) {
        t.addFlags(id, EntryFlag.CONFLICT);
        this.report({ type: 'conflict', prefix: this.prefixOf(id), protocol: v.protocol });
      }
    } else {
      t.clearFlags(id, EntryFlag.FOREIGN);
      if (t.flags[id]! & EntryFlag.CONFLICT) {
        t.clearFlags(id, EntryFlag.CONFLICT);
        this.report({ type: 'conflict-resolved', prefix: this.prefixOf(id) });
      }
    }
    this.markDirty(id);
  }

  /** Another owner's route came or went: next hops may resolve differently ('routes', a moment later). */
  private otherRoute(type: number, b: Buffer, off: number, len: number): void {
    const v = this.otherView;
    if (!decodeRoute(b, off, len, v)) return;
    if (this.others.update(v, type === Rtm.NEWROUTE, msgFlags(b, off))) this.routesChanged();
  }

  private routesChanged(): void {
    if (this.routesTimer || this.stopped) return;
    this.routesTimer = setTimeout(() => {
      this.routesTimer = null;
      if (!this.stopped) this.emit('routes');
    }, 20);
  }

  /** Links or addresses changed: re-resolve next hops a moment later (events come in bursts). */
  private topologyChanged(): void {
    if (this.topoTimer) return;
    this.topoTimer = setTimeout(() => {
      this.topoTimer = null;
      this.retryFailed();
      this.requeueUsers(new Set(this.nh.resolveAll()));
      this.gcWanted = true;
      this.schedulePump();
    }, 20);
  }

  // ------------------------------------------------------------ resync

  private requestResync(reason: string): void {
    if (this.stopped) return;
    this.resyncWanted = this.resyncWanted ?? reason;
    this.schedulePump();
  }

  private async runResync(): Promise<void> {
    const reason = this.resyncWanted ?? 'resync';
    this.resyncWanted = null;
    try {
      await this.resync(reason, false);
    } catch (e) {
      // The socket is gone or the kernel refuses dumps: try again later.
      this.resyncing = false;
      if (!this.stopped) setTimeout(() => this.requestResync(`${reason} (retry: ${(e as Error).message})`), 1000).unref();
    }
    this.schedulePump();
  }

  /** Rereads links, addresses, nexthop objects and our table from the kernel. */
  private async resync(reason: string, initial: boolean): Promise<void> {
    this.resyncing = true;
    this.resyncAtIdle = null;
    this.counters.resyncs++;
    this.report({ type: 'resync', reason });
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await this.load(initial);
          break;
        } catch (e) {
          if (!(e instanceof NetlinkError) || e.errno !== Errno.EINTR || attempt >= 4) throw e;
        }
      }
    } finally {
      this.resyncing = false;
    }
  }

  private async load(initial: boolean): Promise<void> {
    const ctl = this.ctl!;
    const links: LinkMsg[] = [];
    const addrs: AddrMsg[] = [];
    await ctl.dump(putDumpLinks, (b, off, len) => {
      const l = msgType(b, off) === Rtm.NEWLINK ? decodeLink(b, off, len) : null;
      if (l) links.push(l);
    });
    await ctl.dump(
      (enc, seq) => putDumpAddrs(enc, seq, 0),
      (b, off, len) => {
        const a = msgType(b, off) === Rtm.NEWADDR ? decodeAddr(b, off, len) : null;
        if (a) addrs.push(a);
      },
    );
    this.nh.resetLinks(links, addrs);
    if (this.nh.useObjects) {
      const nhs: NexthopMsg[] = [];
      try {
        await ctl.dump(putDumpNexthops, (b, off, len) => {
          const n = msgType(b, off) === Rtm.NEWNEXTHOP ? decodeNexthop(b, off, len) : null;
          if (n) nhs.push(n);
        });
        this.nh.syncObjects(nhs);
        this.others.objects.clear();
        for (const n of nhs) if (n.protocol !== this.own.protocol) this.others.objects.set(n.id, n);
      } catch (e) {
        // Kernels before 5.3 have no nexthop objects: routes carry their gateways.
        if (!(e instanceof NetlinkError) || e.errno === Errno.EINTR || e.errno === Errno.EBADF) throw e;
        this.nh.disableObjects();
      }
    }
    this.nh.resolveAll();

    const t = this.table;
    // FAILED stays: failures are retried on link, address or next-hop changes
    // and by the retry timer, not by rereading (which may be what failures cause).
    for (let id = 0; id < t.hwm; id++) {
      if (!t.live(id)) continue;
      t.setInstalled(id, -1);
      t.clearFlags(id, EntryFlag.FOREIGN | EntryFlag.INFLIGHT | EntryFlag.PROBE);
    }
    const stale: StaleRoute[] = [];
    const v = this.view;
    const zero = new Uint8Array(16);
    const othersBefore = this.others.size;
    this.others.clear();
    for (const fam of [4, 6] as const) {
      await this.dumpRoutes(fam, (b, off, len) => {
        if (msgType(b, off) !== Rtm.NEWROUTE || !decodeRoute(b, off, len, v) || v.family === 0) return;
        if (v.protocol !== this.own.protocol) this.others.update(v, true);
        const cls = classifyKernelRoute(this.own, v.table, v.protocol, v.metric, v.tos, v.type);
        if (cls === RouteClass.IGNORE) return;
        const dst = v.dstOff >= 0 ? b : zero;
        const dstOff = v.dstOff >= 0 ? v.dstOff : 0;
        if (cls === RouteClass.OURS_STALE) {
          const alen = v.family === 4 ? 4 : 16;
          stale.push({ family: v.family, addr: Uint8Array.from(dst.subarray(dstOff, dstOff + alen)), plen: v.dstLen, metric: v.metric });
          return;
        }
        const id = t.insert(v.family, dst, dstOff, v.dstLen);
        if (cls === RouteClass.FOREIGN) {
          t.addFlags(id, EntryFlag.FOREIGN);
          return;
        }
        t.setInstalled(id, this.nh.kernelForm(v));
        if (initial && t.desired[id]! < 0) t.addFlags(id, EntryFlag.ADOPTED);
      });
    }
    this.stale = stale;
    // Next hops also resolve through the main table when ours is another one.
    if (this.own.table !== RtTable.MAIN) {
      for (const fam of [4, 6] as const) {
        await this.dumpTable(fam, RtTable.MAIN, (b, off, len) => {
          if (msgType(b, off) !== Rtm.NEWROUTE || !decodeRoute(b, off, len, v) || v.family === 0) return;
          if (v.protocol !== this.own.protocol) this.others.update(v, true);
        });
      }
    }
    if (othersBefore > 0 || this.others.size > 0) this.routesChanged();
    // Everything is decided again from the fresh view.
    this.dirty.clear();
    this.carry = -1;
    for (let id = 0; id < t.hwm; id++) {
      if (!t.live(id)) continue;
      const f = t.flags[id]! & ~EntryFlag.DIRTY;
      t.setFlags(id, f);
      if (f & EntryFlag.CONFLICT && !(f & EntryFlag.FOREIGN)) {
        t.setFlags(id, f & ~EntryFlag.CONFLICT);
        this.report({ type: 'conflict-resolved', prefix: this.prefixOf(id) });
      }
      if (t.desired[id]! < 0 && t.installed[id]! < 0 && !(f & EntryFlag.FOREIGN)) t.remove(id);
      else this.markDirty(id);
    }
    this.gcWanted = true;
  }
}
