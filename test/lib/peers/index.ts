// A common face for the real BGP speakers the interop/e2e tests run in a lab: BIRD 2,
// FRR and GoBGP. Each driver writes its daemon's config into the lab dir, starts it
// inside a namespace and reads its view back in one normalized shape, so a test can ask
// "what does the peer have?" the same way whichever daemon it is.
//
// The drivers import helpers from this file; this file loads the drivers lazily
// (startPeer), so there is no import cycle.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Lab, Ns, NsRef } from '../netns.js';
import { sleep, waitFor } from '../proc.js';

export type PeerKind = 'bird' | 'frr' | 'gobgp';
export type Afi = 'ipv4' | 'ipv6';
export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export type Origin = 'igp' | 'egp' | 'incomplete';

/** One BGP neighbor of the daemon under our control. */
export interface NeighborSpec {
  /** The neighbor's address (IPv4 or IPv6). */
  readonly address: string;
  /** The neighbor's AS. */
  readonly asn: number;
  /** Our source address for the session. */
  readonly localAddress?: string;
  /** TCP MD5 signature (RFC 2385) password. */
  readonly password?: string;
  /** Wait for the neighbor to connect; never connect out. */
  readonly passive?: boolean;
  /** false: do not announce the 4-octet AS capability (2-octet tests). BIRD: enable as4 off;
   *  FRR: dont-capability-negotiate (no capabilities at all); GoBGP: unsupported. */
  readonly as4?: boolean;
  /** Address families on the session. Default: the family of `address`. */
  readonly families?: readonly Afi[];
  /** Seconds. Defaults: hold 9, keepalive 3, connect retry 1. */
  readonly holdTime?: number;
  readonly keepalive?: number;
  readonly connectRetry?: number;
  /** eBGP multihop TTL. */
  readonly multihop?: number;
  /** The neighbor's TCP port, when it is not 179. */
  readonly port?: number;
  /** Send our own address as next hop even where the daemon would keep it (iBGP). */
  readonly nextHopSelf?: boolean;
}

/** Attributes of a route the daemon originates. */
export interface Announcement {
  readonly nextHop?: string;
  /** 'asn:value' strings. */
  readonly communities?: readonly string[];
  /** 'global:local1:local2' strings. */
  readonly largeCommunities?: readonly string[];
  /** ASes that follow the daemon's own AS in the path it sends (prepended). */
  readonly asPath?: readonly number[];
  readonly med?: number;
  readonly localPref?: number;
  readonly origin?: Origin;
}

export interface PeerConfig {
  readonly asn: number;
  readonly routerId: string;
  readonly neighbors: readonly NeighborSpec[];
  /** Prefixes originated from the start. */
  readonly announce?: ReadonlyArray<{ prefix: string } & Announcement>;
  /** Let the daemon install the best routes it learns into the namespace's kernel table
   *  (a router that forwards). Default false: the kernel table is left alone. */
  readonly kernel?: boolean;
  /** TCP port the daemon listens on (default 179). */
  readonly listenPort?: number;
}

/** A route in the daemon's RIB, the same shape for every daemon. */
export interface PeerRoute {
  readonly prefix: string;
  /** '' for a locally originated route without one. */
  readonly nextHop: string;
  readonly asPath: number[];
  readonly communities: string[];
  readonly largeCommunities: string[];
  readonly localPref?: number;
  readonly med?: number;
  readonly origin?: Origin;
  /** The daemon's best path for the prefix. */
  readonly best: boolean;
  /** Address of the neighbor it came from; absent for a local route. */
  readonly peer?: string;
}

export interface PeerNeighbor {
  readonly address: string;
  readonly state: BgpState;
  readonly asn: number;
}

export interface PeerHandle {
  readonly kind: PeerKind;
  readonly ns: Ns;
  /** The config as it is now (announce/withdraw update it). */
  readonly config: PeerConfig;
  /** Pids of the daemon processes while running. */
  pids(): number[];
  stop(): Promise<void>;
  /** Stop and start again with the current config and announcements. */
  restart(): Promise<void>;
  waitEstablished(peerAddr: string, timeoutMs?: number): Promise<void>;
  neighbors(): Promise<PeerNeighbor[]>;
  routes(afi: Afi): Promise<PeerRoute[]>;
  /** Originate (or replace) a prefix. */
  announce(prefix: string, attrs?: Announcement): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** The daemon's log output, for failure messages. */
  logs(): Promise<string>;
}

export type PeerDriver = (lab: Lab, ns: NsRef, config: PeerConfig) => Promise<PeerHandle>;

/** Executables each driver needs, for needsRoot(...). */
export const PEER_TOOLS: Readonly<Record<PeerKind, readonly string[]>> = {
  bird: ['bird', 'birdc'],
  frr: ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', 'vtysh'],
  gobgp: ['gobgpd', 'gobgp'],
};

/** Starts a daemon of the given kind in `ns` (drivers are loaded on first use). */
export async function startPeer(kind: PeerKind, lab: Lab, ns: NsRef, config: PeerConfig): Promise<PeerHandle> {
  switch (kind) {
    case 'bird':
      return (await import('./bird.js')).startBird(lab, ns, config);
    case 'frr':
      return (await import('./frr.js')).startFrr(lab, ns, config);
    case 'gobgp':
      return (await import('./gobgp.js')).startGobgp(lab, ns, config);
  }
}

// ---- helpers shared by the drivers ----

export function isV6(address: string): boolean {
  return address.includes(':');
}

/** Canonical text of an IP address (IPv6 compressed, lower case), so daemons compare equal. */
export function normAddr(address: string): string {
  if (!isV6(address)) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address.toLowerCase();
  }
}

/** The prefix with its address part canonical. */
export function normPrefix(prefix: string): string {
  const [a, len] = prefix.split('/');
  return len === undefined ? normAddr(a ?? prefix) : `${normAddr(a ?? '')}/${len}`;
}

export function familiesOf(n: NeighborSpec): readonly Afi[] {
  return n.families ?? [isV6(n.address) ? 'ipv6' : 'ipv4'];
}

export function afiOf(prefix: string): Afi {
  return isV6(prefix) ? 'ipv6' : 'ipv4';
}

const STATES: Readonly<Record<string, BgpState>> = {
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

/** Maps any daemon's spelling of an FSM state ('ESTABLISHED', 'Openconfirm', 6...) to RFC 4271 names. */
export function normState(s: string | number | undefined): BgpState {
  if (typeof s === 'number') {
    // GoBGP's API enum: 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established.
    return (['Idle', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const)[s] ?? 'Idle';
  }
  const k = (s ?? '').toLowerCase().replace(/^bgp_fsm_/, '').replace(/[^a-z]/g, '');
  return STATES[k] ?? 'Idle';
}

export function normOrigin(s: string | number | undefined): Origin | undefined {
  if (typeof s === 'number') return (['igp', 'egp', 'incomplete'] as const)[s];
  const k = (s ?? '').toLowerCase();
  if (k === 'igp' || k === 'i') return 'igp';
  if (k === 'egp' || k === 'e') return 'egp';
  if (k === 'incomplete' || k === '?') return 'incomplete';
  return undefined;
}

/** A 32-bit community value as 'asn:value'. */
export function communityText(v: number): string {
  return `${Math.floor(v / 65536)}:${v % 65536}`;
}

export function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

export function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Waits until the freshly started daemon answers `probe`; fails at once, with its log,
 * when the process exits first.
 */
export async function waitReady(
  child: ChildProcess,
  probe: () => Promise<boolean>,
  what: string,
  logFile: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) during start:\n${tail(readLog(logFile))}`);
    }
    try {
      if (await probe()) return;
    } catch (e) {
      lastErr = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not ready after ${timeoutMs} ms (${lastErr}):\n${tail(readLog(logFile))}`);
    }
    await sleep(100);
  }
}

/** Shared waitEstablished: polls neighbors() and puts the daemon's log tail in the error. */
export async function waitEstablishedVia(peer: PeerHandle, peerAddr: string, timeoutMs = 30_000): Promise<void> {
  const want = normAddr(peerAddr);
  try {
    await waitFor(() => peer.neighbors(), {
      timeoutMs,
      intervalMs: 250,
      label: `${peer.kind} in ${peer.ns.name}: session with ${peerAddr} Established`,
      until: (ns) => ns.some((n) => n.address === want && n.state === 'Established'),
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- ${peer.kind} ${peer.ns.name} log ---\n${tail(await peer.logs())}`);
  }
}

/** Runs `fn`; if it throws, appends every peer's log tail to the error (for readable failures). */
export async function withPeerLogs<T>(peers: readonly PeerHandle[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const logs = await Promise.all(
      peers.map(async (p) => `--- ${p.kind} ${p.ns.name} log ---\n${tail(await p.logs(), 30)}`),
    );
    if (e instanceof Error) {
      e.message = `${e.message}\n${logs.join('\n')}`;
      throw e;
    }
    throw new Error(`${String(e)}\n${logs.join('\n')}`);
  }
}

/** Keeps announcements in insertion order, keyed by canonical prefix. */
export function announcementMap(config: PeerConfig): Map<string, Announcement> {
  const m = new Map<string, Announcement>();
  for (const a of config.announce ?? []) {
    const { prefix, ...attrs } = a;
    m.set(normPrefix(prefix), attrs);
  }
  return m;
}

/** The config with the current announcements written back into it. */
export function withAnnouncements(config: PeerConfig, anns: ReadonlyMap<string, Announcement>): PeerConfig {
  return { ...config, announce: [...anns].map(([prefix, a]) => ({ prefix, ...a })) };
}

/**
 * The lifecycle every single-process daemon driver shares (BIRD, gobgpd): the child it
 * started, stopped by pid through the lab, restarted by stop + start.
 */
export abstract class SingleProcessPeer {
  protected child: ChildProcess | undefined = undefined;
  protected abstract readonly lab: Lab;
  abstract start(): Promise<void>;
  abstract neighbors(): Promise<PeerNeighbor[]>;

  pids(): number[] {
    const pid = this.child?.pid;
    return pid !== undefined && this.child?.exitCode === null && this.child.signalCode === null ? [pid] : [];
  }

  async stop(): Promise<void> {
    const pid = this.child?.pid;
    this.child = undefined;
    if (pid !== undefined) await this.lab.kill(pid);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  waitEstablished(peerAddr: string, timeoutMs?: number): Promise<void> {
    return waitEstablishedVia(this as unknown as PeerHandle, peerAddr, timeoutMs);
  }
}
