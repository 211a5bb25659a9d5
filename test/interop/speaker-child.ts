// A tsbgp Speaker in its own process, so it can run inside a network namespace:
//   ip netns exec <ns> node dist/test/interop/speaker-child.js
// started with an IPC channel (stdio [.., 'ipc']; `ip netns exec` execs node, so the
// channel's fd survives). The parent sends { id, cmd, args } and gets { id, ok, result }
// or { id, ok: false, error }; unsolicited { event } messages report state changes and
// NOTIFICATIONs. The process exits when the channel closes (the parent died).
//
// Sinks: 'recorder' keeps every route with decoded attributes (a few thousand routes);
// 'counter' only counts NLRI per neighbour and marks IPv4 /24s in a bitmap (load tests).
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Speaker, type Neighbor, type NeighborOptions, type RouteSink, type SpeakerOptions } from '../../src/daemon/speaker.js';
import type { LocalRouteSpec } from '../../src/daemon/originate.js';
import type { Negotiated, DownReason } from '../../src/session/fsm.js';
import type { ParsedUpdate } from '../../src/wire/update.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { formatAddress } from '../../src/wire/nlri/format.js';
import { describeNotification } from '../../src/wire/notification.js';
import { Afi } from '../../src/wire/iana.js';
import { UpdateAction } from '../../src/wire/errors.js';
import { RouteRecorder } from '../lib/route-recorder.js';

export type SinkKind = 'recorder' | 'counter';

/** A received route as plain JSON. */
export interface RouteView {
  /** Flattened AS numbers of every segment, in order. */
  readonly asPath: number[];
  readonly asPathSegments: Array<{ type: number; asns: number[] }>;
  readonly origin: 'igp' | 'egp' | 'incomplete' | undefined;
  /** NEXT_HOP (IPv4 routes). */
  readonly nextHop: string | undefined;
  /** MP_REACH next hop (IPv6 routes). */
  readonly mpNextHop: { global: string; linkLocal: string | undefined } | undefined;
  readonly med: number | undefined;
  readonly localPref: number | undefined;
  /** 'asn:value' */
  readonly communities: string[];
  /** 'global:data1:data2' */
  readonly largeCommunities: string[];
}

export interface NegotiatedView {
  readonly peerAs: number;
  readonly peerBgpId: string;
  readonly internal: boolean;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** 'afi/safi' */
  readonly families: string[];
  readonly fourOctetAs: boolean;
  readonly extendedMessage: boolean;
}

export interface NeighborView {
  readonly address: string;
  readonly state: string;
  readonly localAddress: string | undefined;
  readonly negotiated: NegotiatedView | undefined;
  readonly counters: Record<string, number>;
  readonly lastDown: string | undefined;
}

export interface CountView {
  readonly updates: number;
  readonly announced: number;
  readonly withdrawn: number;
  /** Distinct IPv4 /24s seen announced (and not withdrawn since). */
  readonly unique24: number;
  /** performance.now() (ms, child clock) of the first and the latest UPDATE. */
  readonly firstAt: number;
  readonly lastAt: number;
  readonly endOfRib: string[];
}

export interface LagView {
  /** Event-loop delay in ms since the last reset. */
  readonly max: number;
  readonly p99: number;
  readonly mean: number;
  /** Child clock now (ms), to relate firstAt/lastAt. */
  readonly now: number;
  readonly rssMb: number;
}

export type ChildEvent =
  | { type: 'state'; address: string; state: string; previous: string; at: number }
  | { type: 'established'; address: string; negotiated: NegotiatedView; at: number }
  | { type: 'down'; address: string; reason: string; at: number }
  | { type: 'notificationSent'; address: string; code: number; subcode: number; text: string; at: number }
  | { type: 'notificationReceived'; address: string; code: number; subcode: number; text: string; at: number }
  | { type: 'updateError'; address: string; action: number; reason: string; at: number };

/** JSON forms of the speaker's inputs (largeCommunities as arrays). */
export type NeighborArgs = NeighborOptions;
export type AnnounceArgs = LocalRouteSpec[];

/** `count` consecutive IPv4 prefixes of length `len` from `base` (for big announcements). */
export interface RangeArgs {
  readonly base: string;
  readonly len: number;
  readonly count: number;
  readonly communities?: number[];
  readonly med?: number;
}

export type Command =
  | { cmd: 'start'; args: { speaker: SpeakerOptions; sink: SinkKind } }
  | { cmd: 'addNeighbor'; args: NeighborArgs }
  | { cmd: 'announce'; args: AnnounceArgs }
  | { cmd: 'announceRange'; args: RangeArgs }
  | { cmd: 'withdraw'; args: string[] }
  | { cmd: 'peer'; args: { address: string; op: 'stop' | 'start' | 'reset'; message?: string } }
  | { cmd: 'getState'; args?: undefined }
  | { cmd: 'getRoutes'; args: { address: string } }
  | { cmd: 'getCounts'; args: { address: string } }
  | { cmd: 'getLag'; args: { reset?: boolean } }
  | { cmd: 'stop'; args?: { message?: string } };

// ---------------------------------------------------------------------------
// Views

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

function negotiatedView(n: Negotiated): NegotiatedView {
  const id = n.peerBgpId >>> 0;
  return {
    peerAs: n.peerAs,
    peerBgpId: `${id >>> 24}.${(id >>> 16) & 255}.${(id >>> 8) & 255}.${id & 255}`,
    internal: n.internal,
    holdTime: n.holdTime,
    keepaliveTime: n.keepaliveTime,
    families: n.families.map((f) => `${f.afi}/${f.safi}`),
    fourOctetAs: n.fourOctetAs,
    extendedMessage: n.extendedMessage,
  };
}

function downText(r: DownReason | undefined): string | undefined {
  if (r === undefined) return undefined;
  switch (r.type) {
    case 'NotificationSent':
      return `sent ${describeNotification(r.notification)}`;
    case 'NotificationReceived':
      return `received ${describeNotification(r.notification)}`;
    case 'UnexpectedEvent':
      return `unexpected event ${r.event}`;
    default:
      return r.type;
  }
}

function neighborView(n: Neighbor): NeighborView {
  const neg = n.peer.state.negotiated;
  return {
    address: n.address,
    state: n.peer.state.name,
    localAddress: n.peer.localAddress,
    negotiated: neg && n.peer.state.name === 'Established' ? negotiatedView(neg) : undefined,
    counters: { ...n.peer.counters },
    lastDown: downText(n.peer.state.lastDown),
  };
}

function routeViews(rec: RouteRecorder, address: string): Record<string, RouteView> {
  const out: Record<string, RouteView> = {};
  for (const [prefix, r] of rec.table(address)) {
    const a = r.attrs;
    const comms = a.communities ?? new Uint32Array(0);
    const large = a.largeCommunities ?? new Uint32Array(0);
    const lc: string[] = [];
    for (let i = 0; i + 2 < large.length; i += 3) lc.push(`${large[i]}:${large[i + 1]}:${large[i + 2]}`);
    out[prefix] = {
      asPath: a.asPath.flatMap((s) => [...s.asns]),
      asPathSegments: a.asPath.map((s) => ({ type: s.type, asns: [...s.asns] })),
      origin: a.origin === undefined ? undefined : ORIGINS[a.origin],
      nextHop: a.nextHop ? formatAddress(Afi.IPV4, a.nextHop) : undefined,
      mpNextHop: a.mpNextHop
        ? {
            global: formatAddress(a.mpNextHop.global.length === 4 ? Afi.IPV4 : Afi.IPV6, a.mpNextHop.global),
            linkLocal: a.mpNextHop.linkLocal ? formatAddress(Afi.IPV6, a.mpNextHop.linkLocal) : undefined,
          }
        : undefined,
      med: a.med,
      localPref: a.localPref,
      communities: [...comms].map((c) => `${c >>> 16}:${c & 0xffff}`),
      largeCommunities: lc,
    };
  }
  return out;
}

// ---------------------------------------------------------------------------
// The counting sink: no per-prefix allocation, so it keeps up with a full table.

class NeighborCount {
  updates = 0;
  announced = 0;
  withdrawn = 0;
  unique24 = 0;
  firstAt = 0;
  lastAt = 0;
  endOfRib: string[] = [];
  /** One byte per IPv4 /24 (16 MiB, allocated on the first IPv4 /24). */
  seen: Uint8Array | undefined = undefined;
}

export class CountingSink implements RouteSink {
  readonly byNeighbor = new Map<string, NeighborCount>();
  private readonly cursor = new NlriCursor();

  get(address: string): NeighborCount {
    let c = this.byNeighbor.get(address);
    if (!c) this.byNeighbor.set(address, (c = new NeighborCount()));
    return c;
  }

  update(n: Neighbor, p: ParsedUpdate): void {
    const c = this.get(n.address);
    const t = performance.now();
    if (c.updates++ === 0) c.firstAt = t;
    c.lastAt = t;
    c.announced += p.announcedCount;
    c.withdrawn += p.withdrawnTotal;
    // Treat-as-withdraw UPDATEs withdraw their NLRI (RFC 7606).
    const withdrawAll = p.action >= UpdateAction.TREAT_AS_WITHDRAW;
    this.mark(c, p.buf, p.withdrawnStart, p.withdrawnEnd, p.classicAddPath, false);
    this.mark(c, p.buf, p.nlriStart, p.nlriEnd, p.classicAddPath, !withdrawAll);
  }

  private mark(c: NeighborCount, buf: Buffer, start: number, end: number, addPath: boolean, on: boolean): void {
    if (start >= end) return;
    const cur = this.cursor.reset(buf, start, end, Afi.IPV4, addPath);
    while (cur.next()) {
      if (cur.length !== 24) continue;
      const seen = (c.seen ??= new Uint8Array(1 << 24));
      const i = cur.addr >>> 8;
      if (on && seen[i] === 0) {
        seen[i] = 1;
        c.unique24++;
      } else if (!on && seen[i] === 1) {
        seen[i] = 0;
        c.unique24--;
      }
    }
  }

  peerDown(n: Neighbor): void {
    const c = this.byNeighbor.get(n.address);
    if (!c) return;
    c.seen?.fill(0);
    c.unique24 = 0;
  }

  endOfRib(n: Neighbor, afi: number, safi: number): void {
    this.get(n.address).endOfRib.push(`${afi}/${safi}`);
  }

  view(address: string): CountView {
    const c = this.get(address);
    return {
      updates: c.updates,
      announced: c.announced,
      withdrawn: c.withdrawn,
      unique24: c.unique24,
      firstAt: c.firstAt,
      lastAt: c.lastAt,
      endOfRib: [...c.endOfRib],
    };
  }
}

// ---------------------------------------------------------------------------
// The process

function ipv4ToNumber(s: string): number {
  const p = s.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad IPv4 address ${s}`);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

function rangeSpecs(r: RangeArgs): LocalRouteSpec[] {
  const step = 2 ** (32 - r.len);
  const base = ipv4ToNumber(r.base);
  const out: LocalRouteSpec[] = new Array<LocalRouteSpec>(r.count);
  for (let i = 0; i < r.count; i++) {
    const a = (base + i * step) >>> 0;
    const prefix = `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${r.len}`;
    out[i] = {
      prefix,
      ...(r.communities !== undefined ? { communities: r.communities } : {}),
      ...(r.med !== undefined ? { med: r.med } : {}),
    };
  }
  return out;
}

function main(): void {
  if (!process.send) {
    process.stderr.write('speaker-child: start me with an IPC channel\n');
    process.exit(2);
  }
  const send = (m: unknown): void => {
    if (process.connected) process.send!(m);
  };
  const emit = (e: ChildEvent): void => send({ event: e });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  let speaker: Speaker | undefined;
  let recorder: RouteRecorder | undefined;
  let counter: CountingSink | undefined;

  const need = (): Speaker => {
    if (!speaker) throw new Error('speaker not started');
    return speaker;
  };
  const neighbor = (address: string): Neighbor => {
    const n = need().neighbor(address);
    if (!n) throw new Error(`no neighbor ${address}`);
    return n;
  };

  const handle = async (c: Command): Promise<unknown> => {
    switch (c.cmd) {
      case 'start': {
        if (speaker) throw new Error('speaker already started');
        if (c.args.sink === 'counter') counter = new CountingSink();
        else recorder = new RouteRecorder();
        const s = new Speaker(c.args.speaker, counter ?? recorder);
        s.on('state', (n, state, previous) =>
          emit({ type: 'state', address: n.address, state, previous, at: performance.now() }),
        );
        s.on('established', (n, neg) =>
          emit({ type: 'established', address: n.address, negotiated: negotiatedView(neg), at: performance.now() }),
        );
        s.on('down', (n, reason) =>
          emit({ type: 'down', address: n.address, reason: downText(reason) ?? '', at: performance.now() }),
        );
        s.on('updateError', (n, action, reason) =>
          emit({ type: 'updateError', address: n.address, action, reason, at: performance.now() }),
        );
        await s.start();
        speaker = s;
        return { listenPort: s.listenPort };
      }
      case 'addNeighbor': {
        const n = need().addNeighbor(c.args);
        n.peer.on('notificationSent', (x, text) =>
          emit({ type: 'notificationSent', address: n.address, code: x.code, subcode: x.subcode, text, at: performance.now() }),
        );
        n.peer.on('notificationReceived', (x, text) =>
          emit({
            type: 'notificationReceived',
            address: n.address,
            code: x.code,
            subcode: x.subcode,
            text,
            at: performance.now(),
          }),
        );
        return neighborView(n);
      }
      case 'announce':
        need().announce(c.args);
        return c.args.length;
      case 'announceRange': {
        const t0 = performance.now();
        const specs = rangeSpecs(c.args);
        need().announce(specs);
        return { count: specs.length, ms: performance.now() - t0 };
      }
      case 'withdraw':
        need().withdraw(c.args);
        return c.args.length;
      case 'peer': {
        const n = neighbor(c.args.address);
        if (c.args.op === 'stop') n.peer.stop(c.args.message);
        else if (c.args.op === 'reset') n.peer.reset(c.args.message);
        else n.peer.start();
        return neighborView(n);
      }
      case 'getState':
        return need().allNeighbors().map(neighborView);
      case 'getRoutes':
        if (!recorder) throw new Error('getRoutes needs the recorder sink');
        return routeViews(recorder, c.args.address);
      case 'getCounts':
        if (!counter) throw new Error('getCounts needs the counter sink');
        return counter.view(c.args.address);
      case 'getLag': {
        const v: LagView = {
          max: lag.max / 1e6,
          p99: lag.percentile(99) / 1e6,
          mean: lag.mean / 1e6,
          now: performance.now(),
          rssMb: process.memoryUsage().rss / 2 ** 20,
        };
        if (c.args.reset) lag.reset();
        return v;
      }
      case 'stop':
        await speaker?.stop(c.args?.message);
        setTimeout(() => process.exit(0), 20);
        return true;
    }
  };

  process.on('message', (raw: unknown) => {
    const m = raw as { id: number } & Command;
    handle(m).then(
      (result) => send({ id: m.id, ok: true, result }),
      (e: unknown) => send({ id: m.id, ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
    );
  });
  // The parent is gone (or closed the channel): nothing may outlive the test.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true, pid: process.pid });
}

main();
