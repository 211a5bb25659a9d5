/**
 * The management API's read models and actions over the running daemon (api/types.ts
 * DaemonView). Off the data path: it formats text and builds objects per row, but only
 * for what a client asked for, and streams lazily so a 1M-route table never sits in
 * memory as JSON.
 *
 * Streams (rib, adjRibIn, fib) walk a Loc-RIB in prefix order: the prefix keys are
 * snapshotted and sorted when the walk starts, then each prefix is looked up again
 * when its row is built, so a table that changes between rows (the server pulls rows
 * over many event-loop turns) only makes a row disappear or show its newer state.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, ErrorCode } from '../api/errors.js';
import { toConfigIssue } from '../api/config-issue.js';
import type {
  AdjRibQuery, AdjRibRoute, AfiName, ApiEvent, AsPathSegment, Capability, ConfigView, DaemonView, FibNexthop, FibQuery, FibRoute,
  FibStats, FibStatus, GlobalInfo, KernelRoute, InstanceSummary, LastError, MessageCounts, NeighborFamily, NeighborInfo, NeighborRef,
  PathAttributesView, PrefixLimitState, RibEntry, RibPath, RibQuery, RowSource, SessionState,
} from '../api/types.js';
import { WELL_KNOWN_COMMUNITIES } from '../config/communities.js';
import { AFI_NUMBER, toPlainJSON } from '../config/model.js';
import type { FibStats as BackendFibStats, FibEvent, KernelRoute as BackendKernelRoute, RouteState } from '../fib/backend.js';
import type { LocRib } from '../rib/loc-rib.js';
import { NEXTHOP_SELF } from '../rib/nexthop.js';
import type { DownReason, FsmStateName } from '../session/fsm.js';
import type { PathAttributes } from '../wire/attrs/types.js';
import { Afi, MsgType } from '../wire/iana.js';
import { describeNotification } from '../wire/notification.js';
import { formatAddress, formatPrefix, formatV4, parseAddress, parsePrefix } from '../wire/nlri/format.js';
import type { AfiSafi, Capabilities } from '../wire/open-types.js';
import type { Daemon } from './daemon.js';
import type { InstanceRuntime, RunningPeer } from './instance.js';
import type { LearnerPeer } from './learner.js';
import { attributesFor } from './originate.js';
import type { Neighbor } from './speaker.js';

const AFI_NAMES: readonly AfiName[] = ['ipv4', 'ipv6'];

/** Per-peer "installed" counts are exact (one FIB lookup per prefix) up to this many candidate prefixes. */
const EXACT_INSTALLED_LIMIT = 10_000;
/** A walk for the installed counts costing more than this is reused for 20 times its cost while the FIB converges. */
const COSTLY_WALK_MS = 5;
/** Decoded attribute views kept per stream (many routes share a set). */
const VIEW_CACHE = 4096;

// ---------------------------------------------------------------------------
// Small pure helpers

const SEGMENT_TYPES = { 1: 'set', 2: 'sequence', 3: 'confed-sequence', 4: 'confed-set' } as const;
const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

/** Well-known community values → names (RFC 1997, 3765, 7611, 7999, 8326), 0:0 left as a number. */
const COMMUNITY_NAMES = new Map<number, string>(
  Object.entries(WELL_KNOWN_COMMUNITIES)
    .filter(([name]) => name !== 'internet')
    .map(([name, value]) => [value, name]),
);

export function communityText(value: number): string {
  return COMMUNITY_NAMES.get(value >>> 0) ?? `${value >>> 16}:${value & 0xffff}`;
}

/** `text` is the next hop already chosen for the family (see nextHopText). */
export function attributesView(a: PathAttributes, nextHop: string): PathAttributesView {
  const asPath: AsPathSegment[] = a.asPath.map((s) => ({ type: SEGMENT_TYPES[s.type], asns: [...s.asns] }));
  const communities: string[] = [];
  if (a.communities) for (const c of a.communities) communities.push(communityText(c));
  const large: string[] = [];
  const l = a.largeCommunities;
  if (l) for (let i = 0; i + 2 < l.length; i += 3) large.push(`${l[i]!}:${l[i + 1]!}:${l[i + 2]!}`);
  return {
    nextHop,
    asPath,
    origin: a.origin === undefined ? 'incomplete' : (ORIGINS[a.origin] ?? 'incomplete'),
    med: a.med ?? null,
    localPref: a.localPref ?? null,
    communities,
    largeCommunities: large,
  };
}

/** Address bytes as text: 4 bytes IPv4, else the first 16 (a link-local may follow: RFC 2545). */
function addressText(b: Uint8Array): string {
  if (b.length === 0) return '';
  return b.length === 4 ? formatAddress(Afi.IPV4, b) : formatAddress(Afi.IPV6, b.subarray(0, 16));
}

/** The next hop of a decoded set for routes of `afi` (IPv4: NEXT_HOP, else the MP one: RFC 8950). */
function nextHopOfAttrs(a: PathAttributes, afi: number): string {
  if (afi === Afi.IPV4 && a.nextHop) return addressText(a.nextHop);
  return a.mpNextHop ? addressText(a.mpNextHop.global) : a.nextHop ? addressText(a.nextHop) : '';
}

function familyText(f: AfiSafi): string {
  if (f.safi === 1 && (f.afi === Afi.IPV4 || f.afi === Afi.IPV6)) return `${f.afi === Afi.IPV4 ? 'ipv4' : 'ipv6'}-unicast`;
  return `afi ${f.afi} safi ${f.safi}`;
}

function hasFamily(list: readonly AfiSafi[] | undefined, f: AfiSafi): boolean {
  return list !== undefined && list.some((g) => g.afi === f.afi && g.safi === f.safi);
}

function unionFamilies(...lists: (readonly AfiSafi[] | undefined)[]): AfiSafi[] {
  const out: AfiSafi[] = [];
  for (const l of lists) for (const f of l ?? []) if (!hasFamily(out, f)) out.push(f);
  return out.sort((a, b) => a.afi - b.afi || a.safi - b.safi);
}

/** Capabilities we announce and the peer announced, by display name, in a fixed order. */
export function capabilityList(adv: Capabilities, rcv: Capabilities | undefined): Capability[] {
  const out: Capability[] = [];
  const add = (name: string, a: boolean, r: boolean): void => {
    if (a || r) out.push({ name, advertised: a, received: r });
  };
  for (const f of unionFamilies(adv.multiprotocol, rcv?.multiprotocol)) {
    add(`multiprotocol ${familyText(f)}`, hasFamily(adv.multiprotocol, f), hasFamily(rcv?.multiprotocol, f));
  }
  add('route-refresh', adv.routeRefresh, rcv?.routeRefresh === true);
  add('enhanced-route-refresh', adv.enhancedRouteRefresh, rcv?.enhancedRouteRefresh === true);
  add('4-octet-as', adv.fourOctetAs !== undefined, rcv !== undefined && rcv.fourOctetAs !== undefined);
  add('extended-message', adv.extendedMessage, rcv?.extendedMessage === true);
  add('graceful-restart', adv.gracefulRestart !== undefined, rcv !== undefined && rcv.gracefulRestart !== undefined);
  for (const f of unionFamilies(adv.addPath, rcv?.addPath)) add(`add-path ${familyText(f)}`, hasFamily(adv.addPath, f), hasFamily(rcv?.addPath, f));
  add('role', adv.role !== undefined, rcv !== undefined && rcv.role !== undefined);
  const codes = new Set<number>([...adv.unknown.map((u) => u.code), ...(rcv?.unknown ?? []).map((u) => u.code)]);
  for (const code of [...codes].sort((a, b) => a - b)) {
    add(`capability ${code}`, adv.unknown.some((u) => u.code === code), (rcv?.unknown ?? []).some((u) => u.code === code));
  }
  return out;
}

function messageCounts(byType: Float64Array, total: number): MessageCounts {
  return {
    open: byType[MsgType.OPEN] ?? 0,
    update: byType[MsgType.UPDATE] ?? 0,
    notification: byType[MsgType.NOTIFICATION] ?? 0,
    keepalive: byType[MsgType.KEEPALIVE] ?? 0,
    routeRefresh: byType[MsgType.ROUTE_REFRESH] ?? 0,
    total,
  };
}

function seconds(ms: number): number {
  return Math.max(0, Math.floor(ms / 1000));
}

function dotted(id: number): string {
  return `${id >>> 24}.${(id >>> 16) & 0xff}.${(id >>> 8) & 0xff}.${id & 0xff}`;
}

/** Sort key of an address: IPv4 before IPv6, then numerically. */
function addressKey(address: string): string {
  try {
    const { afi, bytes } = parseAddress(address);
    return `${afi}${bytes.toString('hex')}`;
  } catch {
    return `9${address}`;
  }
}

function isDown(from: FsmStateName, to: FsmStateName): boolean {
  const up = from === 'OpenSent' || from === 'OpenConfirm' || from === 'Established';
  return up && (to === 'Idle' || to === 'Connect' || to === 'Active');
}

function downText(d: DownReason | undefined): string | null {
  if (d === undefined) return null;
  switch (d.type) {
    case 'NotificationSent':
    case 'NotificationReceived':
      return describeNotification(d.notification);
    case 'ConnectionLost':
      return 'connection lost';
    case 'Stopped':
      return null;
    case 'UnexpectedEvent':
      return `unexpected event ${d.event}`;
  }
}

/** The RFC 9003 message inside a described Cease/Administrative Shutdown or Reset. */
function shutdownMessage(code: number | null, subcode: number | null, text: string): string | null {
  if (code !== 6 || (subcode !== 2 && subcode !== 4)) return null;
  const m = /: ("(?:[^"\\]|\\.)*")$/.exec(text);
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as string;
  } catch {
    return null;
  }
}

const RT_PROTOCOLS: Readonly<Record<number, string>> = {
  2: 'kernel', 3: 'boot', 4: 'static', 9: 'ra', 11: 'zebra', 12: 'bird', 16: 'dhcp', 42: 'babel', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip',
};

function conflictDetail(protocol: number | undefined): string {
  if (protocol === undefined) return 'owned by another protocol';
  return `owned by ${RT_PROTOCOLS[protocol] ?? 'protocol'} (${protocol})`;
}

let versionText: string | undefined;

/** tsbgp's version from the package.json above this file (src/ or dist/src/), read once. */
export function packageVersion(): string {
  if (versionText !== undefined) return versionText;
  versionText = '0.0.0';
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'tsbgp' && typeof pkg.version === 'string') {
        versionText = pkg.version;
        break;
      }
    } catch {
      // not here: look one level up
    }
    dir = dirname(dir);
  }
  return versionText;
}

// ---------------------------------------------------------------------------
// Table walking

/** IPv4 address of a prefix slot, masked to `len` bits. */
function maskV4(addr: number, len: number): number {
  return len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
}

function maskWord(w: number, bitsLeft: number): number {
  if (bitsLeft >= 32) return w >>> 0;
  if (bitsLeft <= 0) return 0;
  return (w & (0xffffffff << (32 - bitsLeft))) >>> 0;
}

/** The slot of a prefix (`match` exact, or longest: the longest prefix in the table containing it) with paths, or -1. */
function findSlot(loc: LocRib, bytes: Buffer, len: number, longest: boolean): number {
  const minLen = longest ? 0 : len;
  for (let l = len; l >= minLen; l--) {
    let s: number;
    if (loc.v4) s = loc.v4.find(maskV4(bytes.readUInt32BE(0), l), l);
    else {
      s = loc.v6!.find(
        maskWord(bytes.readUInt32BE(0), l),
        maskWord(bytes.readUInt32BE(4), l - 32),
        maskWord(bytes.readUInt32BE(8), l - 64),
        maskWord(bytes.readUInt32BE(12), l - 96),
        l,
      );
    }
    if (s >= 0 && loc.firstPath(s) >= 0) return s;
  }
  return -1;
}

/**
 * Live slots in prefix order (address, then length). The keys are taken when the walk
 * starts; each is looked up again when reached, so a prefix removed meanwhile is
 * skipped and a slot freed and reused for another prefix is never misreported.
 */
function* slotsInOrder(loc: LocRib): Generator<number, void, undefined> {
  if (loc.v4) {
    const t = loc.v4;
    const keys = new Float64Array(t.size);
    let n = 0;
    for (let s = t.nextLive(0); s >= 0 && n < keys.length; s = t.nextLive(s + 1)) keys[n++] = t.addrOf(s) * 64 + t.prefixLength(s);
    const sorted = keys.subarray(0, n).sort();
    for (let i = 0; i < n; i++) {
      const k = sorted[i]!;
      const len = k % 64;
      const s = t.find((k - len) / 64, len);
      if (s >= 0) yield s;
    }
    return;
  }
  const t = loc.v6!;
  const words = new Uint32Array(t.size * 5);
  let n = 0;
  for (let s = t.nextLive(0); s >= 0 && n < t.size; s = t.nextLive(s + 1)) {
    const o = n * 5;
    for (let i = 0; i < 4; i++) words[o + i] = t.word(s, i);
    words[o + 4] = t.prefixLength(s);
    n++;
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const oa = a * 5;
    const ob = b * 5;
    for (let i = 0; i < 5; i++) {
      const d = words[oa + i]! - words[ob + i]!;
      if (d !== 0) return d;
    }
    return 0;
  });
  for (let i = 0; i < n; i++) {
    const o = order[i]! * 5;
    const s = t.find(words[o]!, words[o + 1]!, words[o + 2]!, words[o + 3]!, words[o + 4]!);
    if (s >= 0) yield s;
  }
}

const scratch16 = new Uint8Array(16);

function prefixText(loc: LocRib, slot: number): string {
  const len = loc.table.prefixLength(slot);
  if (loc.v4) return formatV4(loc.v4.addrOf(slot), len);
  loc.v6!.addrBytes(slot, scratch16, 0);
  return formatPrefix(Afi.IPV6, scratch16, len);
}

/** Next hop text of an attribute set in a Loc-RIB (what the decision and the FIB use). */
function nextHopText(loc: LocRib, attrId: number): string {
  const id = loc.nextHopOf(attrId);
  return id === NEXTHOP_SELF ? '' : addressText(loc.store.nextHops.address(id));
}

interface PeerRef {
  readonly address: string | null;
  /** Seconds since the session came up (the best available age of its routes). */
  readonly age: number;
}

interface InstalledCounts {
  readonly at: number;
  /** The FIB and RIB state they were counted at: unchanged, they are still exact. */
  readonly state: string;
  /** How long the walk took; a costly one is reused for a while even if the state moved. */
  walkMs: number;
  /** Learner peer index → AFI number → count. */
  readonly peer: Map<number, Map<number, number>>;
}

// ---------------------------------------------------------------------------

export class DaemonApiView implements DaemonView {
  private readonly daemon: Daemon;
  private readonly adminListeners = new Set<(e: ApiEvent) => void>();
  private readonly installed = new WeakMap<InstanceRuntime, InstalledCounts>();

  constructor(daemon: Daemon) {
    this.daemon = daemon;
  }

  // ---------------------------------------------------------------------------
  // Global

  global(): GlobalInfo {
    const d = this.daemon;
    const instances: InstanceSummary[] = [];
    let installed = 0;
    let pending = 0;
    let conflicts = 0;
    let errors = 0;
    let failures = 0;
    const operations = { add: 0, replace: 0, delete: 0 };
    for (const rt of this.runtimes(null)) {
      // O(1) (running counts in the FIB): this is polled often, also during a full-table load.
      const s = rt.fib?.stats();
      instances.push(this.instanceSummary(rt, s));
      if (s) {
        installed += s.installed;
        pending += s.pending;
        conflicts += s.conflicts;
        errors += s.failed;
        failures += s.errors;
        // Counters of this instance's FIB: they restart at 0 when the instance is rebuilt.
        operations.add += s.operations.add;
        operations.replace += s.operations.replace;
        operations.delete += s.operations.delete;
      }
    }
    const fib: FibStats = {
      installed,
      pending,
      conflicts,
      errors,
      operations,
      failures,
      kernel: d.options.fib !== 'memory',
    };
    return {
      nodeName: d.options.nodeName,
      version: packageVersion(),
      uptime: seconds(Date.now() - d.startedAt),
      pid: process.pid,
      instances,
      fib,
    };
  }

  /** `stats`: the instance's FIB stats (undefined without a FIB). */
  private instanceSummary(rt: InstanceRuntime, stats: BackendFibStats | undefined): InstanceSummary {
    const c = rt.config;
    let established = 0;
    for (const rp of rt.peers.values()) if (rp.neighbor.peer.state.name === 'Established') established++;
    const families = AFI_NAMES.map((afi) => {
      const loc = rt.learner.rib.family(AFI_NUMBER[afi]);
      const originated = new Set(c.advertisements.filter((a) => a.afi === afi).map((a) => a.prefix)).size;
      // The FIB's own count per family, not a walk of the Loc-RIB (see installedCounts).
      const installed = stats ? stats.installedByFamily[afi === 'ipv4' ? 4 : 6] : 0;
      return { afi, safi: 'unicast' as const, prefixes: loc.bestCount, paths: loc.pathCount, installed, originated };
    });
    const ri = c.routeInstall;
    return {
      name: c.name,
      localAs: c.localAsn,
      routerId: c.routerId,
      listenPort: c.listenPort === undefined ? null : (rt.speaker.listenPort ?? c.listenPort),
      neighbors: rt.peers.size,
      established,
      families,
      routeInstall: { enabled: ri.enabled && rt.fib !== undefined, table: ri.table, metric: ri.metric, protocol: ri.protocol, maxPaths: ri.maxPaths },
    };
  }

  /**
   * Prefixes in the kernel per neighbour (whose path is the best or in the multipath
   * set), for neighbors(); the per-family totals come from the FIB's running counts.
   * One walk over the Loc-RIBs, reused while nothing changed. Exact up to
   * EXACT_INSTALLED_LIMIT prefixes; above, exact when the FIB has nothing pending,
   * failed or in conflict, else scaled by the FIB's installed share (converging).
   */
  private installedCounts(rt: InstanceRuntime): InstalledCounts {
    const now = performance.now();
    const fib = rt.fib;
    const stats = fib?.stats();
    const rib = rt.learner.rib;
    // Any kernel write or RIB size change moves this (a best path moving to another peer
    // rewrites the route: a replace).
    const ops = stats ? stats.operations.add + stats.operations.replace + stats.operations.delete : 0;
    const state = stats
      ? `${ops}/${stats.installed}/${stats.pending}/${stats.failed}/${stats.conflicts}/${rib.v4.bestCount}/${rib.v6.bestCount}/${rib.v4.pathCount}/${rib.v6.pathCount}`
      : '';
    const cached = this.installed.get(rt);
    // Unchanged state: still exact. A full table's walk costs tens of ms: while it
    // converges, reuse it for 20 times its cost (under ~5 % of the time).
    if (cached && (cached.state === state || (cached.walkMs > COSTLY_WALK_MS && now - cached.at < 20 * cached.walkMs))) return cached;
    const peer = new Map<number, Map<number, number>>();
    const result: InstalledCounts = { at: now, state, walkMs: 0, peer };
    this.installed.set(rt, result);
    if (!fib || !stats) return result;
    // Clean: every best-path change was handed over and answered, none refused.
    const clean = stats.pending === 0 && stats.failed === 0 && stats.conflicts === 0 && (rt.fibWriter?.idle ?? true);
    let candidates = 0;
    for (const loc of [rib.v4, rib.v6]) candidates += loc.bestCount;
    const exact = candidates <= EXACT_INSTALLED_LIMIT;
    const share = exact || clean || candidates === 0 ? 1 : Math.min(1, stats.installed / candidates);
    // Counters in a typed array indexed by peer (a full table walks 1M slots here).
    let perPeer = new Int32Array(64);
    for (const loc of [rib.v4, rib.v6]) {
      const t = loc.table;
      perPeer.fill(0);
      for (let s = t.nextLive(0); s >= 0; s = t.nextLive(s + 1)) {
        const k = loc.multipathCount(s);
        if (k === 0) continue;
        if (loc.nextHopOf(loc.bestAttr(s)) === NEXTHOP_SELF) continue; // our own routes are not installed
        if (exact && !clean) {
          const rs = fib.route(prefixText(loc, s));
          if (!rs || rs.installed === null || rs.flags.includes('conflict')) continue;
        }
        let p = loc.firstPath(s);
        for (let i = 0; i < k && p >= 0; i++, p = loc.nextPath(p)) {
          const idx = loc.pathPeer(p);
          if (idx >= perPeer.length) {
            const grown = new Int32Array(Math.max(idx + 1, perPeer.length * 2));
            grown.set(perPeer);
            perPeer = grown;
          }
          perPeer[idx]!++;
        }
      }
      for (let idx = 0; idx < perPeer.length; idx++) {
        if (perPeer[idx] === 0) continue;
        let m = peer.get(idx);
        if (!m) peer.set(idx, (m = new Map()));
        m.set(loc.afi, perPeer[idx]!);
      }
    }
    result.walkMs = performance.now() - now;
    if (share < 1) {
      for (const m of peer.values()) for (const [k, v] of m) m.set(k, Math.round(v * share));
    }
    return result;
  }

  // ---------------------------------------------------------------------------
  // Neighbours

  neighbors(): NeighborInfo[] {
    const out: NeighborInfo[] = [];
    for (const rt of this.runtimes(null)) {
      const list: NeighborInfo[] = [];
      for (const rp of rt.peers.values()) list.push(this.neighborInfo(rt, rp));
      list.sort((a, b) => (addressKey(a.address) < addressKey(b.address) ? -1 : addressKey(a.address) > addressKey(b.address) ? 1 : 0));
      out.push(...list);
    }
    return out;
  }

  private neighborInfo(rt: InstanceRuntime, rp: RunningPeer): NeighborInfo {
    const n = rp.neighbor;
    const peer = n.peer;
    const state = peer.state;
    const neg = state.negotiated;
    const established = state.name === 'Established';
    const now = performance.now();
    const cfg = rp.config;
    const lp = rt.learner.peer(n);
    const counts = this.installedCounts(rt);
    const gr = rt.learner.helperStatus(n);
    const families: NeighborFamily[] = cfg.families
      .map((f) => {
        const afi = AFI_NUMBER[f.afi];
        const fs = lp?.family(afi);
        let advertised = 0;
        for (const r of n.advertised.values()) if (r.afi === afi) advertised++;
        let prefixLimit: PrefixLimitState | null = null;
        if (fs && (f.prefixLimit !== undefined || fs.limiter.state === 'overflow')) {
          const l = fs.limiter;
          const st = l.state;
          const restartAt = st === 'overflow' ? l.restartAt : undefined;
          prefixLimit = {
            max: l.maxPrefixes ?? f.prefixLimit?.maxPrefixes ?? 0,
            warningThresholdPercent: f.prefixLimit?.warningThresholdPercent ?? 0,
            warning: st === 'warning',
            overflow: st === 'overflow',
            restartIn: restartAt === undefined ? null : Math.max(0, Math.ceil((restartAt - Date.now()) / 1000)),
          };
        }
        return {
          afi: f.afi,
          safi: 'unicast' as const,
          negotiated: established && neg !== undefined && hasFamily(neg.families, { afi, safi: 1 }),
          received: fs?.total ?? 0,
          accepted: fs?.adjIn.count ?? 0,
          installed: lp ? (counts.peer.get(lp.index)?.get(afi) ?? 0) : 0,
          advertised,
          stale: gr.stale.find((x) => x.afi === afi)?.count ?? 0,
          prefixLimit,
        };
      })
      .sort((a, b) => AFI_NUMBER[a.afi] - AFI_NUMBER[b.afi]);
    return {
      instance: rt.config.name,
      name: cfg.name,
      address: n.address,
      port: cfg.port,
      peerAs: cfg.peerAsn,
      remoteAs: neg?.peerAs ?? null,
      localAs: rt.config.localAsn,
      localAddress: peer.localAddress ?? cfg.localAddress ?? null,
      routerId: neg === undefined ? null : dotted(neg.peerBgpId),
      state: state.name as SessionState,
      adminDown: rp.adminDown,
      uptime: established ? seconds(now - rp.since) : null,
      downtime: established ? null : seconds(now - rp.since),
      establishedCount: peer.counters.established,
      lastError: this.lastError(rp, now),
      timers: {
        holdTime: cfg.timers.holdTime,
        keepalive: cfg.timers.keepalive,
        connectRetry: cfg.timers.connectRetry,
        negotiatedHoldTime: established && neg ? neg.holdTime : null,
        negotiatedKeepalive: established && neg ? neg.keepaliveTime : null,
      },
      capabilities: capabilityList(peer.options.session.capabilities, neg?.peerCapabilities),
      families,
      outQueue: { bytes: rt.speaker.queuedBytes(n.address), prefixes: rt.speaker.unsentCount(n.address) },
      gracefulRestart: {
        phase: gr.phase,
        expiresIn: gr.deadline === undefined ? null : Math.max(0, Math.ceil((gr.deadline - Date.now()) / 1000)),
      },
      messages: {
        sent: messageCounts(peer.sentByType, peer.counters.messagesOut),
        received: messageCounts(peer.receivedByType, peer.counters.messagesIn),
      },
    };
  }

  private lastError(rp: RunningPeer, now: number): LastError | null {
    const e = rp.lastError;
    if (e) {
      return { direction: e.direction, code: e.code, subcode: e.subcode, text: e.text, message: shutdownMessage(e.code, e.subcode, e.text), age: seconds(now - e.at) };
    }
    // A session lost without any NOTIFICATION leaves no lastError: say so once it had been up.
    const peer = rp.neighbor.peer;
    if (peer.counters.flaps > 0 && peer.state.name !== 'Established' && peer.state.lastDown?.type === 'ConnectionLost') {
      return { direction: null, code: null, subcode: null, text: 'connection lost', message: null, age: seconds(now - rp.since) };
    }
    return null;
  }

  // ---------------------------------------------------------------------------
  // Routes

  *rib(q: RibQuery): Generator<RibEntry, void, undefined> {
    const parsed = q.prefix === null ? null : parsePrefix(q.prefix);
    for (const rt of this.runtimes(q.instance)) {
      const peers = this.peerRefs(rt);
      for (const afiName of AFI_NAMES) {
        if (q.afi !== null && q.afi !== afiName) continue;
        const afi = AFI_NUMBER[afiName];
        if (parsed && parsed.afi !== afi) continue;
        const loc = rt.learner.rib.family(afi);
        const views = new Map<number, PathAttributesView>();
        if (parsed) {
          const s = findSlot(loc, parsed.bytes, parsed.len, q.match === 'longest');
          if (s >= 0) yield this.ribEntry(rt, loc, s, afiName, peers, views);
          continue;
        }
        for (const s of slotsInOrder(loc)) {
          if (loc.firstPath(s) < 0) continue; // no path left (withdrawn, waiting for the FIB)
          yield this.ribEntry(rt, loc, s, afiName, peers, views);
        }
      }
    }
  }

  private ribEntry(rt: InstanceRuntime, loc: LocRib, slot: number, afi: AfiName, peers: Map<number, PeerRef>, views: Map<number, PathAttributesView>): RibEntry {
    const k = loc.multipathCount(slot);
    let count = 0;
    for (let p = loc.firstPath(slot); p >= 0; p = loc.nextPath(p)) count++;
    let reasons: Map<number, string> | null = null;
    if (count > 1) {
      const ex = loc.explain(slot);
      reasons = new Map();
      for (let i = 0; i < ex.paths.length; i++) reasons.set(ex.paths[i]!, ex.reasons[i]!);
    }
    const paths: RibPath[] = [];
    let i = 0;
    for (let p = loc.firstPath(slot); p >= 0; p = loc.nextPath(p), i++) {
      const best = i === 0 && k > 0;
      const ref = this.peerRef(rt, peers, loc.pathPeer(p));
      const v = this.attrView(loc, loc.pathAttr(p), views);
      // Fields spelled out (no spread): this runs once per path of a full-table dump.
      paths.push({
        neighbor: ref.address,
        pathId: loc.pathId(p) === 0 ? null : loc.pathId(p),
        nextHop: v.nextHop,
        asPath: v.asPath,
        origin: v.origin,
        med: v.med,
        localPref: v.localPref,
        communities: v.communities,
        largeCommunities: v.largeCommunities,
        age: ref.age,
        best,
        multipath: i > 0 && i < k,
        stale: false,
        reason: best ? null : (reasons?.get(p) ?? 'next-hop-unresolvable'),
      });
    }
    return { instance: rt.config.name, afi, safi: 'unicast', prefix: prefixText(loc, slot), paths };
  }

  private attrView(loc: LocRib, attrId: number, views: Map<number, PathAttributesView>): PathAttributesView {
    let v = views.get(attrId);
    if (v === undefined) {
      if (views.size >= VIEW_CACHE) views.clear();
      v = attributesView(loc.store.get(attrId), nextHopText(loc, attrId));
      views.set(attrId, v);
    }
    return v;
  }

  /** Learner peer index → neighbour address and route age (index 0: this node). */
  private peerRefs(rt: InstanceRuntime): Map<number, PeerRef> {
    const now = performance.now();
    const m = new Map<number, PeerRef>();
    const applied = this.daemon.appliedAt;
    m.set(0, { address: null, age: applied === undefined ? 0 : seconds(Date.now() - applied) });
    for (const lp of rt.learner.allPeers()) {
      const rp = rt.runningPeer(lp.neighbor.address);
      const up = rp !== undefined && lp.neighbor.peer.state.name === 'Established';
      m.set(lp.index, { address: lp.neighbor.address, age: up ? seconds(now - rp.since) : 0 });
    }
    return m;
  }

  private peerRef(rt: InstanceRuntime, peers: Map<number, PeerRef>, index: number): PeerRef {
    let r = peers.get(index);
    if (r === undefined) {
      // A neighbour added while the stream runs.
      for (const [k, v] of this.peerRefs(rt)) peers.set(k, v);
      r = peers.get(index) ?? { address: null, age: 0 };
    }
    return r;
  }

  *adjRibIn(q: AdjRibQuery): Generator<AdjRibRoute, void, undefined> {
    const { rt, rp } = this.resolve(q.neighbor);
    const n = rp.neighbor;
    const lp = rt.learner.peer(n);
    if (!lp) return;
    const up = n.peer.state.name === 'Established';
    const age = up ? seconds(performance.now() - rp.since) : 0;
    const rows: { pathId: number; attrId: number }[] = [];
    const visit = (_slot: number, pathId: number, attrId: number): void => {
      rows.push({ pathId, attrId });
    };
    for (const afiName of AFI_NAMES) {
      if (q.afi !== null && q.afi !== afiName) continue;
      const fs = lp.family(AFI_NUMBER[afiName]);
      if (!fs) continue;
      const adj = fs.adjIn;
      const loc = adj.rib;
      const views = new Map<number, PathAttributesView>();
      for (const s of slotsInOrder(loc)) {
        // The neighbour was removed (or replaced) while the stream ran: its index may be reused.
        if (rt.learner.peer(n) !== lp) return;
        rows.length = 0;
        adj.walk(s, 1, visit);
        if (rows.length === 0) continue;
        const prefix = prefixText(loc, s);
        const built: AdjRibRoute[] = rows.map((r) => ({
          instance: rt.config.name,
          neighbor: n.address,
          afi: afiName,
          safi: 'unicast',
          prefix,
          pathId: r.pathId === 0 ? null : r.pathId,
          ...this.attrView(loc, r.attrId, views),
          age,
          accepted: true,
          reason: null,
        }));
        yield* built;
      }
    }
  }

  *adjRibOut(q: AdjRibQuery): Generator<AdjRibRoute, void, undefined> {
    const { rt, rp } = this.resolve(q.neighbor);
    const n = rp.neighbor;
    const neg = n.peer.negotiated;
    const age = neg ? seconds(performance.now() - rp.since) : 0;
    const session = {
      localAs: rt.config.localAsn,
      internal: neg ? neg.internal : n.options.peerAs === rt.config.localAsn,
      sessionLocal: n.peer.localAddress,
      nextHop4: n.options.nextHop4,
      nextHop6: n.options.nextHop6,
    };
    const routes = [...n.advertised.values()].sort((a, b) => a.afi - b.afi || compareCidr(a.prefix, b.prefix));
    for (const r of routes) {
      const afiName: AfiName = r.afi === Afi.IPV4 ? 'ipv4' : 'ipv6';
      if (q.afi !== null && q.afi !== afiName) continue;
      // Without a session address there is no next hop yet: shown empty until the session is up.
      let attrs = attributesFor(r, session);
      let nextHop: string | undefined;
      if (!attrs) {
        attrs = attributesFor(r, { ...session, sessionLocal: r.afi === Afi.IPV4 ? '0.0.0.0' : '::' });
        nextHop = '';
      }
      if (!attrs) continue;
      yield {
        instance: rt.config.name,
        neighbor: n.address,
        afi: afiName,
        safi: 'unicast',
        prefix: r.prefix,
        pathId: null,
        ...attributesView(attrs, nextHop ?? nextHopOfAttrs(attrs, r.afi)),
        age,
        accepted: true,
        reason: null,
      };
    }
  }

  // ---------------------------------------------------------------------------
  // FIB

  /**
   * What tsbgp wants in each instance's table and how far the kernel has it. With
   * `kernel` the table is dumped once per instance and compared: the kernel's own route
   * for each prefix, `missing` where a route tsbgp wrote is gone, `stale` rows for
   * routes with tsbgp's protocol and metric that nothing wants.
   */
  fib(q: FibQuery): RowSource<FibRoute> {
    return q.kernel ? this.fibAgainstKernel(q) : this.fibRows(q);
  }

  private async *fibAgainstKernel(q: FibQuery): AsyncGenerator<FibRoute, void, undefined> {
    for (const rt of this.runtimes(q.instance)) {
      if (!rt.fib) continue;
      const byPrefix = new Map<string, BackendKernelRoute[]>();
      for (const k of await rt.fib.dump()) {
        if (k.type !== 1) continue; // unicast only: local, broadcast, blackhole are not ours to compare
        const key = canonicalPrefix(k.dst);
        const list = byPrefix.get(key);
        if (list) list.push(k);
        else byPrefix.set(key, [k]);
      }
      // The instance may have been rebuilt while the kernel was read: it then has no rows.
      if (this.daemon.instances.get(rt.config.name) !== rt) continue;
      yield* this.instanceFibRows(rt, q, byPrefix);
    }
  }

  private *fibRows(q: FibQuery): Generator<FibRoute, void, undefined> {
    for (const rt of this.runtimes(q.instance)) yield* this.instanceFibRows(rt, q, null);
  }

  private *instanceFibRows(rt: InstanceRuntime, q: FibQuery, kernel: Map<string, BackendKernelRoute[]> | null): Generator<FibRoute, void, undefined> {
    const fib = rt.fib;
    if (!fib) return;
    const ri = rt.config.routeInstall;
    const links = new Map<number, string>();
    const devOf = (index: number): string | null => {
      if (index <= 0) return null;
      if (!links.has(index)) for (const l of fib.links()) links.set(l.index, l.name);
      return links.get(index) ?? null;
    };
    /** What we install: the resolved gateways (link-local, or a multihop next hop's gateway) with their interfaces. */
    const installedHops = (rs: RouteState): FibNexthop[] => rs.gateways.map((gw, i) => ({ gateway: gw, dev: devOf(rs.ifindexes[i] ?? 0), weight: 1 }));
    /** BGP next hops with the interface the kernel reaches them through (null: unresolved). */
    const bgpHops = (gateways: readonly string[], rs: RouteState | null): FibNexthop[] =>
      gateways.map((gw) => {
        let index = fib.resolveNextHop(gw)?.ifindex ?? 0;
        if (index === 0 && rs !== null) {
          // Link-local next hops resolve per session: the FIB knows their interface.
          const j = rs.gateways.indexOf(gw);
          if (j >= 0) index = rs.ifindexes[j] ?? 0;
        }
        return { gateway: gw, dev: devOf(index), weight: 1 };
      });
    /** The kernel's route as the API shows it; next hops of a nexthop object we created are the ones we gave it. */
    const kernelView = (k: BackendKernelRoute, rs: RouteState | null): KernelRoute => {
      let nexthops: FibNexthop[] = k.nexthops.map((h) => ({ gateway: h.gateway ?? null, dev: devOf(h.oif), weight: h.weight }));
      if (nexthops.length === 0 && k.nhId !== 0 && rs !== null && rs.installed === `id:${k.nhId}`) nexthops = installedHops(rs);
      return { protocol: k.protocol, metric: k.metric, nexthops, nexthopId: k.nhId === 0 ? null : k.nhId };
    };
    const ours = (k: BackendKernelRoute): boolean => k.protocol === ri.protocol && k.metric === ri.metric;
    const base = { instance: rt.config.name, table: ri.table, metric: ri.metric, protocol: ri.protocol };
    const multi = new Int32Array(Math.max(1, ri.maxPaths));
    for (const afiName of AFI_NAMES) {
      if (q.afi !== null && q.afi !== afiName) continue;
      const loc = rt.learner.rib.family(AFI_NUMBER[afiName]);
      for (const s of slotsInOrder(loc)) {
        const bestAttr = loc.bestAttr(s);
        let k: number;
        if (bestAttr < 0) {
          // Paths but no best: none is eligible, their next hops do not resolve (decision step 0).
          k = 0;
          for (let p = loc.firstPath(s); p >= 0 && k < multi.length; p = loc.nextPath(p)) multi[k++] = p;
          if (k === 0) continue;
        } else {
          if (loc.nextHopOf(bestAttr) === NEXTHOP_SELF) continue;
          k = ri.maxPaths > 1 ? loc.multipath(s, multi) : 1;
          if (k === 1) multi[0] = loc.best(s);
        }
        const gateways: string[] = [];
        for (let i = 0; i < k; i++) {
          const gw = nextHopText(loc, loc.pathAttr(multi[i]!));
          if (gw !== '' && !gateways.includes(gw)) gateways.push(gw);
        }
        const prefix = prefixText(loc, s);
        const rs = fib.route(prefix);
        const nexthops = bgpHops(gateways, rs);
        let status: FibStatus;
        let detail: string | null = null;
        const resolved = (rs !== null && rs.wanted !== null) || nexthops.some((h) => h.dev !== null);
        if (rs === null) status = resolved ? 'pending' : 'unresolved-nexthop';
        else if (rs.flags.includes('conflict')) {
          status = 'conflict';
          detail = conflictDetail(undefined);
        } else if (rs.flags.includes('failed')) {
          status = 'error';
          detail = rs.error === '' ? 'the kernel refused the route' : rs.error;
        } else if (rs.flags.includes('dirty') || rs.flags.includes('inflight')) status = 'pending';
        else if (rs.wanted === null) status = resolved ? 'pending' : 'unresolved-nexthop';
        else if (rs.installed !== null && rs.installed === rs.wanted) status = 'installed';
        else status = 'pending';
        let kroute: KernelRoute | null;
        if (kernel !== null) {
          const list = kernel.get(prefix) ?? [];
          kernel.delete(prefix);
          const mine = list.find(ours);
          const other = list.find((x) => x.metric === ri.metric && x.protocol !== ri.protocol);
          const shown = mine ?? other;
          kroute = shown === undefined ? null : kernelView(shown, rs);
          if (status === 'conflict' && other !== undefined) detail = conflictDetail(other.protocol);
          if (status === 'installed' && mine === undefined) {
            status = 'missing';
            detail = 'tsbgp wrote it, the kernel no longer has it';
          }
        } else {
          // What the kernel holds is known without asking it when our write succeeded.
          kroute = status === 'installed' ? { protocol: ri.protocol, metric: ri.metric, nexthops: rs === null ? [] : installedHops(rs), nexthopId: null } : null;
        }
        if (q.status !== null && q.status !== status) continue;
        yield { ...base, afi: afiName, prefix, nexthops, status, detail, kernel: kroute };
      }
      if (kernel === null || (q.status !== null && q.status !== 'stale')) continue;
      // Kernel routes of ours that nothing wants, in prefix order.
      const afiNumber = AFI_NUMBER[afiName];
      const stale: [string, BackendKernelRoute][] = [];
      for (const [prefix, list] of kernel) {
        for (const kr of list) if (kr.family === (afiNumber === Afi.IPV4 ? 4 : 6) && ours(kr)) stale.push([prefix, kr]);
      }
      stale.sort((a, b) => compareCidr(a[0], b[0]));
      for (const [prefix, kr] of stale) {
        yield {
          ...base,
          afi: afiName,
          prefix,
          nexthops: [],
          status: 'stale',
          detail: 'has tsbgp\'s protocol and metric but is not wanted (adopted from a previous run until reconciled, or written by someone else)',
          kernel: kernelView(kr, fib.route(prefix)),
        };
      }
    }
  }

  // ---------------------------------------------------------------------------
  // Configuration

  config(): ConfigView {
    const d = this.daemon;
    const r = d.lastReload;
    return {
      files: [...d.options.configPaths],
      applied: d.config === undefined ? null : toPlainJSON(d.config),
      appliedAge: d.appliedAt === undefined ? null : seconds(Date.now() - d.appliedAt),
      lastReload:
        r === undefined
          ? null
          : {
              age: seconds(Date.now() - r.at),
              ok: r.ok,
              trigger: r.trigger,
              errors: r.errors.map(toConfigIssue),
              warnings: r.warnings.map(toConfigIssue),
              changes: [...r.changes],
            },
    };
  }

  // ---------------------------------------------------------------------------
  // Events

  subscribe(listener: (event: ApiEvent) => void): () => void {
    const removers: (() => void)[] = [];
    const send = (e: ApiEvent): void => {
      try {
        listener(e);
      } catch {
        // A subscriber's failure must never reach the daemon's emitters.
      }
    };
    const d = this.daemon;
    const onReload = (r: NonNullable<Daemon['lastReload']>): void =>
      send({ type: 'config-reload', time: new Date().toISOString(), ok: r.ok, trigger: r.trigger, errors: r.errors.map(toConfigIssue), changes: [...r.changes] });
    d.on('reload', onReload);
    removers.push(() => d.off('reload', onReload));
    const watched = new Set<InstanceRuntime>();
    // Prefix-limit overflows whose automatic restart was reported (one event each).
    const restarted = new WeakSet<object>();
    const watch = (rt: InstanceRuntime): void => {
      if (watched.has(rt)) return;
      watched.add(rt);
      const name = rt.config.name;
      const onState = (n: Neighbor, to: FsmStateName, from: FsmStateName): void => {
        const rp = rt.runningPeer(n.address);
        send({
          type: 'peer-state',
          time: new Date().toISOString(),
          instance: name,
          neighbor: n.address,
          from: from as SessionState,
          to: to as SessionState,
          reason: isDown(from, to) ? this.downReason(rp, n) : null,
        });
        // Leaving Idle while a prefix-limit overflow is recorded: its restart timer fired
        // (an operator's reset or enable clears the overflow first).
        const over = from === 'Idle' && to !== 'Idle' ? rt.learner.peer(n)?.overflow : undefined;
        if (over && !restarted.has(over) && rp?.adminDown !== true) {
          restarted.add(over);
          send({
            type: 'prefix-limit',
            time: new Date().toISOString(),
            instance: name,
            neighbor: n.address,
            afi: over.afi === Afi.IPV4 ? 'ipv4' : 'ipv6',
            safi: 'unicast',
            kind: 'restart',
            count: 0,
            max: over.limit,
          });
        }
      };
      const onLimit = (p: LearnerPeer, afi: number, kind: 'warning' | 'overflow', count: number, max: number): void =>
        send({
          type: 'prefix-limit',
          time: new Date().toISOString(),
          instance: name,
          neighbor: p.neighbor.address,
          afi: afi === Afi.IPV4 ? 'ipv4' : 'ipv6',
          safi: 'unicast',
          kind,
          count,
          max,
        });
      rt.on('state', onState);
      rt.on('prefixLimit', onLimit);
      removers.push(() => {
        rt.off('state', onState);
        rt.off('prefixLimit', onLimit);
      });
      const fib = rt.fib;
      if (fib) {
        const table = rt.config.routeInstall.table;
        const onResult = (e: FibEvent): void => {
          const base = { type: 'fib' as const, time: new Date().toISOString(), instance: name, table };
          if (e.type === 'error') send({ ...base, prefix: e.prefix, status: 'error', detail: e.message ?? e.code });
          else if (e.type === 'conflict') send({ ...base, prefix: e.prefix, status: 'conflict', detail: conflictDetail(e.protocol) });
          else if (e.type === 'conflict-resolved') send({ ...base, prefix: e.prefix, status: 'resolved', detail: null });
        };
        fib.on('result', onResult);
        removers.push(() => fib.off('result', onResult));
      }
    };
    for (const rt of d.instances.values()) watch(rt);
    const onInstance = (rt: InstanceRuntime, added: boolean): void => {
      if (added) watch(rt);
    };
    d.on('instance', onInstance);
    removers.push(() => d.off('instance', onInstance));
    this.adminListeners.add(send);
    removers.push(() => this.adminListeners.delete(send));
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const r of removers) r();
    };
  }

  /** Why a session just went down: its fresh NOTIFICATION, else what the FSM recorded. */
  private downReason(rp: RunningPeer | undefined, n: Neighbor): string | null {
    const e = rp?.lastError;
    if (e && performance.now() - e.at < 2000) return e.text;
    return downText(n.peer.state.lastDown) ?? e?.text ?? null;
  }

  // ---------------------------------------------------------------------------
  // Actions

  reset(ref: NeighborRef): void {
    const { rt, rp } = this.resolve(ref);
    if (rp.adminDown) throw new ApiError(ErrorCode.NOT_POSSIBLE, `neighbor ${ref.address} is shut down by an operator; use enable`);
    this.clearOverflow(rt, rp);
    rp.neighbor.peer.reset();
    this.admin(ref, 'reset', null);
  }

  softReset(ref: NeighborRef, direction: 'in' | 'out'): void {
    const { rt, rp } = this.resolve(ref);
    const n = rp.neighbor;
    const neg = n.peer.negotiated;
    if (!neg) throw new ApiError(ErrorCode.NOT_POSSIBLE, `neighbor ${ref.address} is ${n.peer.state.name}, not Established: nothing to refresh`);
    if (direction === 'in') {
      // Re-evaluated locally from pre-policy copies when kept, else a ROUTE-REFRESH.
      if (!rt.refreshIn(n)) {
        throw new ApiError(
          ErrorCode.NOT_POSSIBLE,
          `neighbor ${ref.address} did not announce route refresh (RFC 2918) and keeps no pre-policy copies (importPolicy.softReconfiguration); use reset`,
        );
      }
      this.admin(ref, 'soft-reset-in', null);
    } else {
      rt.refreshOut(n);
      this.admin(ref, 'soft-reset-out', null);
    }
  }

  shutdown(ref: NeighborRef, message: string | null): void {
    const { rp } = this.resolve(ref);
    rp.adminDown = true;
    if (message === null) rp.neighbor.peer.stop();
    else rp.neighbor.peer.stop(message);
    this.admin(ref, 'shutdown', message);
  }

  enable(ref: NeighborRef): void {
    const { rt, rp } = this.resolve(ref);
    rp.adminDown = false;
    // A manual start also ends a prefix-limit hold-down (the operator decided).
    this.clearOverflow(rt, rp);
    rp.neighbor.peer.start();
    this.admin(ref, 'enable', null);
  }

  private clearOverflow(rt: InstanceRuntime, rp: RunningPeer): void {
    const lp = rt.learner.peer(rp.neighbor);
    if (!lp) return;
    for (const f of lp.families.values()) f.limiter.clear();
    lp.overflow = undefined;
  }

  private admin(ref: NeighborRef, action: 'reset' | 'soft-reset-in' | 'soft-reset-out' | 'shutdown' | 'enable', message: string | null): void {
    const e: ApiEvent = { type: 'admin', time: new Date().toISOString(), instance: ref.instance, neighbor: ref.address, action, message };
    for (const l of [...this.adminListeners]) l(e);
  }

  // ---------------------------------------------------------------------------

  /** Running instances, sorted by name (one when `name` is given). */
  private runtimes(name: string | null): InstanceRuntime[] {
    const d = this.daemon;
    if (name !== null) {
      const rt = d.instances.get(name);
      return rt ? [rt] : [];
    }
    return [...d.instances.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, rt]) => rt);
  }

  private resolve(ref: NeighborRef): { rt: InstanceRuntime; rp: RunningPeer } {
    const rt = this.daemon.instances.get(ref.instance);
    if (!rt) throw new ApiError(ErrorCode.NO_INSTANCE, `no instance ${JSON.stringify(ref.instance)}`);
    const rp = rt.runningPeer(ref.address);
    if (!rp) throw new ApiError(ErrorCode.NO_NEIGHBOR, `no neighbor ${ref.address} in instance ${ref.instance}`);
    return { rt, rp };
  }
}

/** A prefix as prefixText() writes it (the kernel dump may spell IPv6 differently). */
function canonicalPrefix(text: string): string {
  try {
    const p = parsePrefix(text);
    return formatPrefix(p.afi, p.bytes, p.len);
  } catch {
    return text;
  }
}

function compareCidr(a: string, b: string): number {
  const pa = parsePrefix(a);
  const pb = parsePrefix(b);
  return Buffer.compare(pa.bytes, pb.bytes) || pa.len - pb.len;
}
