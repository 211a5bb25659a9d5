// The feeder: a minimal BGP speaker that brings up one session to a receiver and
// sends pre-encoded tables as fast as TCP takes them.
//
// Session: OPEN with 4-octet AS, multiprotocol IPv4+IPv6 unicast and route refresh;
// wait for the receiver's OPEN and KEEPALIVE; answer with KEEPALIVEs every hold/3;
// end with a Cease NOTIFICATION. No FSM beyond that: this is a load generator.
// Sending: whole tables are encoded before the clock starts, then written in 1 MiB
// chunks; when write() returns false we wait for 'drain' (the kernel's send buffer and
// the receiver's reading set the pace). A phase ends when the last chunk has been
// handed to the kernel (its write callback).
// Timestamps are epoch milliseconds with sub-millisecond precision
// (performance.timeOrigin + performance.now()), comparable across processes.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { buildCapabilities } from '../../src/wire/capabilities.js';
import { BgpError } from '../../src/wire/errors.js';
import { Framer } from '../../src/wire/framer.js';
import { Afi, CeaseSubcode, ErrorCode, FsmSubcode, MsgType, OpenSubcode, Safi } from '../../src/wire/iana.js';
import { KEEPALIVE } from '../../src/wire/keepalive.js';
import { decodeNotification, describeNotification, encodeNotification, shutdownNotification } from '../../src/wire/notification.js';
import { bgpIdFromString, bgpIdToString, buildOpen, decodeOpen, encodeOpen } from '../../src/wire/open.js';
import { type AfiSafi, type OpenMessage, peerAsOf } from '../../src/wire/open-types.js';
import { encodeEndOfRib } from '../../src/wire/update-encoder.js';
import { announcedFamilies, commonFamilies, keepaliveFor, negotiateHoldTime } from '../../src/session/negotiate.js';
import { ipFamily, normaliseAddress } from '../../src/session/transport.js';
import { ChunkWriter } from './chunks.js';
import { loadMrtTable, type MrtPeerFilter } from './mrt-replay.js';
import { SyntheticTable } from './synthetic.js';
import { concatFeeds, type Feed, feedOf, type FeedTable } from './table.js';

export interface SyntheticSource {
  readonly type: 'synthetic';
  readonly count: number;
  /** Distinct attribute sets; default count / 5. */
  readonly sets?: number;
  /** 1 = IPv4 (default), 2 = IPv6. */
  readonly afi?: number;
  readonly seed?: number;
}

export interface MrtSource {
  readonly type: 'mrt';
  readonly file: string;
  /** Default: the collector peer with the most routes. */
  readonly peer?: MrtPeerFilter;
  /** Send recorded UPDATE bodies unchanged (BGP4MP, 4-octet AS); the feeder's AS should be the recorded peer's. */
  readonly raw?: boolean;
  readonly asPath?: 'prepend' | 'replace' | 'keep';
  readonly nextHop?: 'self' | 'keep';
  readonly afis?: readonly number[];
}

export type FeedSource = SyntheticSource | MrtSource;

export interface TableOptions {
  readonly localAs: number;
  readonly nextHop4?: string | undefined;
  readonly nextHop6?: string | undefined;
  /** ASNs the synthetic paths must not contain (the receiver's). */
  readonly avoidAs?: readonly number[];
  readonly maxLength?: number;
}

/** Encodes the tables of the given sources (do this once and reuse for several receivers). */
export async function buildTables(sources: readonly FeedSource[], o: TableOptions): Promise<FeedTable[]> {
  const out: FeedTable[] = [];
  for (const s of sources) {
    if (s.type === 'synthetic') {
      const afi = s.afi ?? Afi.IPV4;
      const nextHop = afi === Afi.IPV6 ? o.nextHop6 : o.nextHop4;
      if (nextHop === undefined) throw new Error(`a synthetic IPv${afi === Afi.IPV6 ? 6 : 4} table needs nextHop${afi === Afi.IPV6 ? 6 : 4}`);
      out.push(
        new SyntheticTable({
          count: s.count,
          afi,
          localAs: o.localAs,
          nextHop,
          ...(s.sets !== undefined ? { sets: s.sets } : {}),
          ...(s.seed !== undefined ? { seed: s.seed } : {}),
          ...(o.avoidAs !== undefined ? { avoidAs: o.avoidAs } : {}),
          ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
        }),
      );
    } else {
      out.push(
        await loadMrtTable({
          file: s.file,
          localAs: o.localAs,
          ...(s.peer !== undefined ? { peer: s.peer } : {}),
          ...(s.raw !== undefined ? { raw: s.raw } : {}),
          ...(s.asPath !== undefined ? { asPath: s.asPath } : {}),
          ...(s.nextHop !== undefined ? { nextHop: s.nextHop } : {}),
          ...(s.afis !== undefined ? { afis: s.afis } : {}),
          ...(o.nextHop4 !== undefined ? { nextHop4: o.nextHop4 } : {}),
          ...(o.nextHop6 !== undefined ? { nextHop6: o.nextHop6 } : {}),
          ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}),
        }),
      );
    }
  }
  return out;
}

export interface SessionOptions {
  /** The receiver's address; in listen mode, the only address accepted. */
  readonly peer: string;
  /** The receiver's port (connect) or ours (listen). Default 179; 0 in listen mode = any. */
  readonly port?: number;
  /** Wait for the receiver to connect instead of connecting. */
  readonly listen?: boolean;
  /** Source address (connect) or bind address (listen). */
  readonly localAddress?: string;
  readonly localAs: number;
  /** Expected receiver AS; undefined or 0 = accept any. */
  readonly peerAs?: number;
  /** Dotted quad; default: our IPv4 session address, else 10.255.255.254. */
  readonly routerId?: string;
  /** Default 90 s. */
  readonly holdTime?: number;
  /** TCP connect / accept plus OPEN exchange. Default 30 s. */
  readonly timeoutMs?: number;
  /** Called with the bound port in listen mode (useful with port 0). */
  readonly onListening?: (port: number) => void;
  readonly log?: (line: string) => void;
}

export interface FeederOptions extends SessionOptions {
  /** What to send; ignored when `tables` is given. */
  readonly source?: FeedSource | readonly FeedSource[];
  /** Tables already built (buildTables) with the right next hops. */
  readonly tables?: readonly FeedTable[];
  /** Default: our session address when it is IPv4. */
  readonly nextHop4?: string;
  /** Default: our session address when it is IPv6. */
  readonly nextHop6?: string;
  /** After the announce (and flaps): withdraw everything. */
  readonly withdraw?: boolean;
  /** Flap cycles after the announce: withdraw a fraction, announce it again. */
  readonly flap?: number;
  /** Share of the table each flap cycle moves (default 0.1). */
  readonly flapFraction?: number;
  /** Pause between phases (ms), e.g. to let the receiver settle. Default 0. */
  readonly pauseMs?: number;
}

/** One timed send. */
export interface PhaseResult {
  readonly name: string;
  /** Epoch ms of the first write and of the last byte handed to the kernel. */
  readonly start: number;
  readonly end: number;
  readonly ms: number;
  readonly messages: number;
  readonly prefixes: number;
  readonly bytes: number;
  /** Prefixes per second (of the send alone; the receiver may still be processing). */
  readonly rate: number;
}

export interface PeerInfo {
  readonly asn: number;
  readonly routerId: string;
  readonly holdTime: number;
  readonly families: readonly string[];
}

export interface FeederResult {
  /** Epoch ms at which the session became Established. */
  readonly established: number;
  readonly peer: PeerInfo;
  /** Negotiated hold time (s). */
  readonly holdTime: number;
  /** The whole table plus End-of-RIB. */
  readonly announce: PhaseResult;
  /** Per flap cycle: its withdraw, then its announce. */
  readonly flaps: readonly PhaseResult[];
  readonly withdraw: PhaseResult | undefined;
  /** The live session: call withdrawAll(), announce(), flap() or close() on it. */
  readonly feeder: Feeder;
}

export interface RxGaps {
  /** Longest time without a KEEPALIVE from the receiver (until now, if none since). */
  readonly maxKeepaliveGapMs: number;
  /** Longest time without any message from the receiver. */
  readonly maxRxGapMs: number;
}

export interface FeederEvents {
  established: [];
  /** The session is gone; `reason` says why (NOTIFICATION text, socket error, close()). */
  closed: [reason: string];
}

export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

const FAMILIES: readonly AfiSafi[] = [
  { afi: Afi.IPV4, safi: Safi.UNICAST },
  { afi: Afi.IPV6, safi: Safi.UNICAST },
];

function familyName(f: AfiSafi): string {
  return `${f.afi === Afi.IPV4 ? 'ipv4' : f.afi === Afi.IPV6 ? 'ipv6' : `afi${f.afi}`}/${f.safi === 1 ? 'unicast' : `safi${f.safi}`}`;
}

type State = 'OpenSent' | 'OpenConfirm' | 'Established' | 'Closed';

export class Feeder extends EventEmitter<FeederEvents> {
  readonly socket: net.Socket;
  readonly localAddress: string;
  tables: readonly FeedTable[] = [];
  /** Epoch ms of Established (0 before). */
  established = 0;
  peerOpen: OpenMessage | undefined;
  holdTime = 0;
  families: readonly AfiSafi[] = [];
  /** What the receiver sent us. */
  readonly received = { keepalives: 0, updates: 0, routeRefresh: 0 };
  /** Set once the session is gone. */
  closedReason: string | undefined;
  private state: State = 'OpenSent';
  private readonly framer = new Framer();
  private readonly opts: SessionOptions;
  private timer: NodeJS.Timeout | undefined;
  private lastRx = 0;
  private lastKeepalive = 0;
  private maxRxGap = 0;
  private maxKeepaliveGap = 0;
  private readonly log: (line: string) => void;

  private constructor(socket: net.Socket, opts: SessionOptions) {
    super();
    this.socket = socket;
    this.opts = opts;
    this.localAddress = normaliseAddress(socket.localAddress ?? '');
    this.log = opts.log ?? (() => undefined);
    // From here on a socket error can never be unhandled, even while tables are built.
    socket.on('error', (e) => this.shut(`socket error: ${e.message}`));
    socket.on('close', () => this.shut('connection closed by the receiver'));
  }

  /** Connects (or accepts), builds the tables, and brings the session to Established. */
  static async open(opts: FeederOptions): Promise<Feeder> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const socket = opts.listen === true ? await accept(opts, timeoutMs) : await connect(opts, timeoutMs);
    const f = new Feeder(socket, opts);
    try {
      if (opts.tables !== undefined) f.tables = opts.tables;
      else {
        const sources = opts.source === undefined ? [] : Array.isArray(opts.source) ? opts.source : [opts.source as FeedSource];
        const v6 = ipFamily(f.localAddress) === 6;
        const t0 = epochNow();
        f.tables = await buildTables(sources, {
          localAs: opts.localAs,
          nextHop4: opts.nextHop4 ?? (v6 ? undefined : f.localAddress),
          nextHop6: opts.nextHop6 ?? (v6 ? f.localAddress : undefined),
          ...(opts.peerAs ? { avoidAs: [opts.peerAs] } : {}),
        });
        f.log(`tables built in ${(epochNow() - t0).toFixed(0)} ms: ${f.tables.map((t) => t.name).join('; ')}`);
      }
      await f.handshake(timeoutMs);
    } catch (e) {
      f.shut(`setup failed: ${(e as Error).message}`);
      throw e;
    }
    return f;
  }

  private handshake(timeoutMs: number): Promise<void> {
    const o = this.opts;
    const routerId = o.routerId ?? (ipFamily(this.localAddress) === 4 ? this.localAddress : '10.255.255.254');
    const id = bgpIdFromString(routerId);
    if (id === undefined || id === 0) throw new Error(`bad router ID ${routerId}`);
    const caps = buildCapabilities({ asn: o.localAs, families: FAMILIES, routeRefresh: true });
    const open = buildOpen(o.localAs, o.holdTime ?? 90, id, caps);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no Established within ${timeoutMs} ms`)), timeoutMs);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        this.removeListener('established', ok);
        this.removeListener('closed', closed);
        reject(e);
      };
      const ok = (): void => {
        clearTimeout(timer);
        this.removeListener('closed', closed);
        resolve();
      };
      const closed = (reason: string): void => fail(new Error(`session closed before Established: ${reason}`));
      if (this.state === 'Closed') {
        closed(this.closedReason ?? 'closed');
        return;
      }
      this.once('established', ok);
      this.once('closed', closed);
      this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
      this.socket.resume(); // accepted sockets start paused
      this.lastRx = epochNow();
      this.socket.write(encodeOpen(open));
    });
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'Closed') return;
    try {
      this.framer.push(chunk);
      for (let f = this.framer.next(); f !== undefined; f = this.framer.next()) {
        this.onMessage(f.type, f.body);
        if (this.closedReason !== undefined) return;
      }
    } catch (e) {
      if (e instanceof BgpError) this.notifyAndClose(e.code, e.subcode, e.data, e.message);
      else this.shut(`internal error: ${(e as Error).message}`);
    }
  }

  private onMessage(type: number, body: Buffer): void {
    const now = epochNow();
    if (this.state === 'Established') this.maxRxGap = Math.max(this.maxRxGap, now - this.lastRx);
    this.lastRx = now;
    switch (type) {
      case MsgType.OPEN:
        if (this.state !== 'OpenSent') throw new BgpError(ErrorCode.FSM, FsmSubcode.UNSPECIFIED, undefined, 'unexpected OPEN');
        this.onOpen(decodeOpen(body));
        return;
      case MsgType.KEEPALIVE:
        if (this.state === 'OpenConfirm') {
          this.state = 'Established';
          this.established = now;
          this.lastKeepalive = now;
          this.startTimers();
          this.log(`established with AS${peerAsOf(this.peerOpen!)}, hold time ${this.holdTime} s`);
          this.emit('established');
          return;
        }
        if (this.state !== 'Established') throw new BgpError(ErrorCode.FSM, FsmSubcode.UNEXPECTED_IN_OPENSENT, undefined, 'unexpected KEEPALIVE');
        this.maxKeepaliveGap = Math.max(this.maxKeepaliveGap, now - this.lastKeepalive);
        this.lastKeepalive = now;
        this.received.keepalives++;
        return;
      case MsgType.NOTIFICATION:
        this.shut(`NOTIFICATION from the receiver: ${describeNotification(decodeNotification(body))}`);
        return;
      case MsgType.UPDATE:
        if (this.state !== 'Established') throw new BgpError(ErrorCode.FSM, FsmSubcode.UNSPECIFIED, undefined, 'UPDATE before Established');
        this.received.updates++;
        return;
      default:
        this.received.routeRefresh++; // we do not resend on ROUTE-REFRESH: a feed is one-way
    }
  }

  private onOpen(open: OpenMessage): void {
    const o = this.opts;
    const asn = peerAsOf(open);
    if (o.peerAs !== undefined && o.peerAs !== 0 && asn !== o.peerAs) {
      throw new BgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.BAD_PEER_AS, undefined, `receiver is AS${asn}, expected AS${o.peerAs}`);
    }
    if (open.capabilities.fourOctetAs === undefined) {
      // Every table here is encoded with 4-byte AS_PATHs.
      throw new BgpError(ErrorCode.OPEN_MESSAGE, OpenSubcode.UNSUPPORTED_CAPABILITY, undefined, 'receiver lacks the 4-octet AS capability');
    }
    if (asn === o.localAs) this.log('warning: iBGP session (the receiver is in our AS): paths that start with our AS look like loops to it');
    this.peerOpen = open;
    this.holdTime = negotiateHoldTime(o.holdTime ?? 90, open.holdTime);
    this.families = commonFamilies(FAMILIES, announcedFamilies(open.capabilities));
    this.state = 'OpenConfirm';
    this.socket.write(KEEPALIVE);
  }

  private startTimers(): void {
    const ka = keepaliveFor(this.holdTime, 0);
    if (ka === 0) return;
    this.timer = setInterval(() => {
      if (this.state !== 'Established') return;
      if (epochNow() - this.lastRx > this.holdTime * 1000) {
        this.notifyAndClose(ErrorCode.HOLD_TIMER_EXPIRED, 0, undefined, 'hold timer expired');
        return;
      }
      this.socket.write(KEEPALIVE);
    }, ka * 1000);
  }

  /** Information about the receiver, once Established. */
  peerInfo(): PeerInfo {
    const open = this.peerOpen;
    if (!open) throw new Error('not established');
    return { asn: peerAsOf(open), routerId: bgpIdToString(open.bgpId), holdTime: open.holdTime, families: this.families.map(familyName) };
  }

  /** Longest silences of the receiver since the last reset (or Established). */
  rxGaps(): RxGaps {
    const now = epochNow();
    return {
      maxKeepaliveGapMs: Math.max(this.maxKeepaliveGap, this.state === 'Established' ? now - this.lastKeepalive : 0),
      maxRxGapMs: Math.max(this.maxRxGap, this.state === 'Established' ? now - this.lastRx : 0),
    };
  }

  resetRxGaps(): void {
    const now = epochNow();
    this.maxKeepaliveGap = 0;
    this.maxRxGap = 0;
    this.lastKeepalive = Math.max(this.lastKeepalive, now);
    this.lastRx = Math.max(this.lastRx, now);
  }

  /** Families of the tables, checked against what the receiver negotiated. */
  private checkFamilies(): void {
    for (const t of this.tables) {
      for (const afi of t.afis) {
        if (!this.families.some((f) => f.afi === afi && f.safi === Safi.UNICAST)) {
          throw new Error(`${t.name}: the receiver did not negotiate ${afi === Afi.IPV4 ? 'IPv4' : 'IPv6'} unicast`);
        }
      }
    }
  }

  /** Sends every table, then End-of-RIB for each negotiated family. */
  announce(): Promise<PhaseResult> {
    this.checkFamilies();
    const eor = new ChunkWriter(64);
    for (const f of this.families) eor.add(encodeEndOfRib(f.afi, f.safi));
    return this.send('announce', concatFeeds([...this.tables.map((t) => t.announce()), feedOf(eor, 0)]));
  }

  /** Withdraws every prefix of every table. */
  withdrawAll(): Promise<PhaseResult> {
    return this.send('withdraw', concatFeeds(this.tables.map((t) => t.withdrawAll())));
  }

  /** `cycles` flap cycles: withdraw about `fraction` of each table, then announce it again. */
  async flap(cycles: number, fraction = 0.1, pauseMs = 0): Promise<PhaseResult[]> {
    const out: PhaseResult[] = [];
    for (let c = 0; c < cycles; c++) {
      const wd = concatFeeds(this.tables.map((t) => t.flapWithdraw(c, fraction)));
      out.push(await this.send(`flap ${c + 1} withdraw`, wd));
      if (pauseMs > 0) await sleep(pauseMs);
      const an = concatFeeds(this.tables.map((t) => t.flapAnnounce(c, fraction)));
      out.push(await this.send(`flap ${c + 1} announce`, an));
      if (pauseMs > 0) await sleep(pauseMs);
    }
    return out;
  }

  /** Writes a feed, respecting backpressure; resolves when its last byte is in the kernel. */
  async send(name: string, feed: Feed): Promise<PhaseResult> {
    if (this.state !== 'Established') throw new Error(`cannot send ${name}: session ${this.closedReason ?? this.state}`);
    const s = this.socket;
    const chunks = feed.chunks;
    const start = epochNow();
    let flushed: Promise<void> = Promise.resolve();
    for (let i = 0; i < chunks.length; i++) {
      if (this.state !== 'Established') throw new Error(`${name} interrupted: ${this.closedReason ?? this.state}`);
      let ok: boolean;
      if (i === chunks.length - 1) {
        let ok2 = true;
        flushed = new Promise<void>((resolve, reject) => {
          ok2 = s.write(chunks[i]!, (err) => (err ? reject(err) : resolve()));
        });
        ok = ok2;
      } else {
        ok = s.write(chunks[i]!);
      }
      if (!ok) await this.drained();
    }
    try {
      await flushed;
    } catch (e) {
      throw new Error(`${name} interrupted: ${this.closedReason ?? (e as Error).message}`);
    }
    const end = epochNow();
    const ms = end - start;
    const r: PhaseResult = {
      name,
      start,
      end,
      ms,
      messages: feed.messages,
      prefixes: feed.prefixes,
      bytes: feed.bytes,
      rate: ms > 0 ? Math.round((feed.prefixes / ms) * 1000) : 0,
    };
    this.log(`${name}: ${r.prefixes} prefixes in ${r.messages} messages (${(r.bytes / 1e6).toFixed(1)} MB) written in ${ms.toFixed(0)} ms`);
    return r;
  }

  private drained(): Promise<void> {
    const s = this.socket;
    return new Promise<void>((resolve, reject) => {
      const done = (): void => {
        s.removeListener('drain', done);
        this.removeListener('closed', gone);
        resolve();
      };
      const gone = (reason: string): void => {
        s.removeListener('drain', done);
        reject(new Error(`session closed while sending: ${reason}`));
      };
      s.once('drain', done);
      this.once('closed', gone);
    });
  }

  private notifyAndClose(code: number, subcode: number, data: Buffer | undefined, why: string): void {
    if (this.state === 'Closed') return;
    this.socket.write(encodeNotification({ code, subcode, ...(data !== undefined ? { data } : {}) }));
    this.socket.end();
    this.shut(`sent NOTIFICATION ${code}/${subcode}: ${why}`);
  }

  /** Marks the session closed (once) and tells listeners; the socket is ended or destroyed. */
  private shut(reason: string): void {
    if (this.state === 'Closed') return;
    this.state = 'Closed';
    this.closedReason = reason;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!this.socket.writableEnded) this.socket.destroy();
    else setTimeout(() => this.socket.destroy(), 1000).unref();
    this.log(`session closed: ${reason}`);
    this.emit('closed', reason);
  }

  /** Ends the session with Cease / Administrative Shutdown and waits for the socket to close. */
  async close(message = 'feeder done'): Promise<void> {
    if (this.state === 'Closed') return;
    const n = shutdownNotification(CeaseSubcode.ADMIN_SHUTDOWN, message);
    const closed = new Promise<void>((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.once('close', () => resolve());
    });
    this.socket.write(encodeNotification(n));
    this.socket.end();
    this.shut(`closed by the feeder: ${message}`);
    await Promise.race([closed, sleep(2000)]);
    this.socket.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function connect(o: SessionOptions, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({
      host: o.peer,
      port: o.port ?? 179,
      ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
      noDelay: true,
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect to ${o.peer}:${o.port ?? 179} timed out`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      s.on('error', () => undefined); // until the Feeder takes over (same tick)
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`connect to ${o.peer}:${o.port ?? 179}: ${e.message}`));
    });
  });
}

/** Listens and takes the first connection from `o.peer`; others are refused. */
function accept(o: SessionOptions, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const want = normaliseAddress(o.peer);
    const server = net.createServer({ noDelay: true, pauseOnConnect: true });
    const timer = setTimeout(() => {
      server.close();
      reject(new Error(`no connection from ${o.peer} within ${timeoutMs} ms`));
    }, timeoutMs);
    server.on('connection', (s) => {
      if (normaliseAddress(s.remoteAddress ?? '') !== want) {
        s.destroy();
        return;
      }
      clearTimeout(timer);
      server.close();
      s.on('error', () => undefined); // until the Feeder takes over (same tick)
      resolve(s);
    });
    server.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`listen: ${e.message}`));
    });
    server.listen({ port: o.port ?? 179, ...(o.localAddress !== undefined ? { host: o.localAddress } : {}) }, () => {
      const a = server.address();
      if (a !== null && typeof a === 'object') o.onListening?.(a.port);
    });
  });
}

/**
 * The whole run: session up, announce (+ End-of-RIB), optional flap cycles, optional
 * withdraw-all. The session stays up: use `result.feeder` for more, and close() it.
 */
export async function runFeeder(opts: FeederOptions): Promise<FeederResult> {
  const feeder = await Feeder.open(opts);
  try {
    const pause = opts.pauseMs ?? 0;
    const announce = await feeder.announce();
    let flaps: PhaseResult[] = [];
    if ((opts.flap ?? 0) > 0) {
      if (pause > 0) await sleep(pause);
      flaps = await feeder.flap(opts.flap!, opts.flapFraction ?? 0.1, pause);
    }
    let withdraw: PhaseResult | undefined;
    if (opts.withdraw === true) {
      if (pause > 0) await sleep(pause);
      withdraw = await feeder.withdrawAll();
    }
    return {
      established: feeder.established,
      peer: feeder.peerInfo(),
      holdTime: feeder.holdTime,
      announce,
      flaps,
      withdraw,
      feeder,
    };
  } catch (e) {
    await feeder.close('feeder error');
    throw e;
  }
}
