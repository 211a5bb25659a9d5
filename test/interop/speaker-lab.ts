// Shared setup for the interop tests of tsbgp's speaker against real daemons: a lab of
// two namespaces ("node" runs tsbgp, "peer" runs BIRD/FRR/GoBGP) joined by one veth
// with an IPv4 /30 and an IPv6 /126, the tsbgp speaker as a child process inside "node"
// (speaker-child.ts, driven over IPC), and small waits on both sides.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { SpeakerOptions } from '../../src/daemon/speaker.js';
import type { LocalRouteSpec } from '../../src/daemon/originate.js';
import { createLab, type Lab, type LinkInfo, type Ns } from '../lib/netns.js';
import { IpcChild } from '../lib/ipc-child.js';
import { run, terminate, waitFor } from '../lib/proc.js';
import { normAddr, tail, waitReady, type Afi, type PeerHandle, type PeerRoute } from '../lib/peers/index.js';
import type {
  ChildEvent,
  Command,
  CountView,
  LagView,
  NeighborArgs,
  NeighborView,
  RangeArgs,
  RouteView,
  SinkKind,
} from './speaker-child.js';

export type { ChildEvent, CountView, LagView, NeighborView, RouteView } from './speaker-child.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./speaker-child.js', import.meta.url));

/** Our AS: 4-octet on purpose, so AS_TRANS / AS4_PATH matter towards 2-octet peers. */
export const TSBGP_AS = 4200000001;
export const PEER_AS = 65002;

/** A 32-bit community from 'asn:value'. */
export function community(text: string): number {
  const [hi, lo] = text.split(':').map(Number);
  return (hi! * 65536 + lo!) >>> 0;
}

/** The tsbgp speaker running in a namespace, driven over IPC. */
export class SpeakerChild extends IpcChild<Command, ChildEvent> {
  /**
   * Starts the child inside `ns`, then starts its Speaker. The child dies with its
   * namespace on lab.cleanup(), and by itself when the IPC channel closes.
   */
  static async start(
    lab: Lab,
    ns: Ns,
    speaker: SpeakerOptions,
    sink: SinkKind = 'recorder',
    nodeArgs: readonly string[] = [],
  ): Promise<SpeakerChild> {
    const sc = new SpeakerChild({ lab, ns, script: CHILD_SCRIPT, logFile: join(lab.dir, `${ns.name}-tsbgp-${Date.now()}.log`), nodeArgs }, 'speaker-child', 40);
    await sc.ready();
    await sc.call({ cmd: 'start', args: { speaker, sink } });
    return sc;
  }

  addNeighbor(n: NeighborArgs): Promise<NeighborView> {
    return this.call({ cmd: 'addNeighbor', args: n });
  }
  announce(specs: LocalRouteSpec[]): Promise<number> {
    return this.call({ cmd: 'announce', args: specs });
  }
  announceRange(r: RangeArgs): Promise<{ count: number; ms: number }> {
    return this.call({ cmd: 'announceRange', args: r });
  }
  withdraw(prefixes: string[]): Promise<number> {
    return this.call({ cmd: 'withdraw', args: prefixes });
  }
  peer(address: string, op: 'stop' | 'start' | 'reset', message?: string): Promise<NeighborView> {
    return this.call({ cmd: 'peer', args: { address, op, ...(message !== undefined ? { message } : {}) } });
  }
  state(): Promise<NeighborView[]> {
    return this.call({ cmd: 'getState' });
  }
  async neighbor(address: string): Promise<NeighborView> {
    const want = normAddr(address);
    const n = (await this.state()).find((x) => normAddr(x.address) === want);
    if (!n) throw new Error(`tsbgp has no neighbor ${address}`);
    return n;
  }
  routes(address: string): Promise<Record<string, RouteView>> {
    return this.call({ cmd: 'getRoutes', args: { address } });
  }
  counts(address: string): Promise<CountView> {
    return this.call({ cmd: 'getCounts', args: { address } });
  }
  lag(reset = false): Promise<LagView> {
    return this.call({ cmd: 'getLag', args: { reset } });
  }

  /** Waits until our session with `address` is in `state` and returns its view. */
  waitState(address: string, state = 'Established', timeoutMs = 20_000): Promise<NeighborView> {
    return waitFor(() => this.neighbor(address), {
      timeoutMs,
      intervalMs: 100,
      label: `tsbgp: session with ${address} ${state}`,
      until: (n) => n.state === state,
    });
  }

  /** Waits until our table from `address` satisfies `until` and returns it. */
  waitRoutes(
    address: string,
    until: (t: Record<string, RouteView>) => boolean,
    label: string,
    timeoutMs = 15_000,
  ): Promise<Record<string, RouteView>> {
    return waitFor(() => this.routes(address), { timeoutMs, intervalMs: 100, label: `tsbgp: ${label}`, until });
  }

  /** The first event at index ≥ `from` matching `pred`, waiting for it. */
  waitEvent<E extends ChildEvent>(
    pred: (e: ChildEvent) => e is E,
    label: string,
    from = 0,
    timeoutMs = 15_000,
  ): Promise<E> {
    return waitFor(() => this.events.slice(from).find(pred), {
      timeoutMs,
      intervalMs: 50,
      label: `tsbgp event: ${label}`,
    }) as Promise<E>;
  }

  /** Asks the speaker to stop (Cease to every peer), then makes sure the process is gone. */
  async stop(): Promise<void> {
    if (this.exited === undefined) {
      await Promise.race([this.call({ cmd: 'stop' }).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    }
    await terminate(this.pid, 2000);
  }
}

// ---------------------------------------------------------------------------
// The lab

export interface PairLab {
  readonly lab: Lab;
  /** Where tsbgp runs. */
  readonly node: Ns;
  /** Where the real daemon runs. */
  readonly peerNs: Ns;
  readonly link: LinkInfo;
  readonly nodeIp: string;
  readonly peerIp: string;
  readonly nodeIp6: string;
  readonly peerIp6: string;
}

/** Two namespaces joined by a veth: node 192.0.2.1/30 + 2001:db8:12::1/126, peer .2 / ::2. */
export async function pairLab(name: string): Promise<PairLab> {
  const lab = createLab(name);
  try {
    const node = await lab.addNamespace('node');
    const peerNs = await lab.addNamespace('peer');
    const link = await lab.link(node, peerNs, {
      a: '192.0.2.1/30',
      b: '192.0.2.2/30',
      a6: '2001:db8:12::1/126',
      b6: '2001:db8:12::2/126',
    });
    return { lab, node, peerNs, link, nodeIp: link.ipA!, peerIp: link.ipB!, nodeIp6: link.ip6A!, peerIp6: link.ip6B! };
  } catch (e) {
    await lab.cleanup();
    throw e;
  }
}

/** Milliseconds since `t0` (performance.now()), rounded, for timing reports. */
export function since(t0: number): number {
  return Math.round(performance.now() - t0);
}

// ---------------------------------------------------------------------------
// The real peer's view

/** Waits until `peer` has a path for `prefix` learnt from `from` and returns it. */
export async function peerPath(
  peer: PeerHandle,
  afi: Afi,
  prefix: string,
  from: string,
  timeoutMs = 15_000,
): Promise<PeerRoute> {
  const want = normAddr(from);
  const routes = await waitFor(() => peer.routes(afi), {
    timeoutMs,
    intervalMs: 150,
    label: `${peer.kind} has ${prefix} from ${from}`,
    until: (rs) => rs.some((r) => r.prefix === prefix && r.peer === want),
  });
  return routes.find((r) => r.prefix === prefix && r.peer === want)!;
}

export async function peerGone(peer: PeerHandle, afi: Afi, prefix: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => peer.routes(afi), {
    timeoutMs,
    intervalMs: 150,
    label: `${peer.kind} no longer has ${prefix}`,
    until: (rs) => !rs.some((r) => r.prefix === prefix),
  });
}

/** The peer's neighbor state for `address` ('Idle' when it does not list it). */
export async function peerState(peer: PeerHandle, address: string): Promise<string> {
  const want = normAddr(address);
  return (await peer.neighbors()).find((n) => n.address === want)?.state ?? 'Idle';
}

/** Polls `fn` for `ms` and fails if `bad` ever holds (e.g. a session that must stay down). */
export async function holdsFor<T>(fn: () => Promise<T>, bad: (v: T) => boolean, ms: number, label: string): Promise<T> {
  const end = Date.now() + ms;
  let last: T;
  do {
    last = await fn();
    if (bad(last)) throw new Error(`${label}: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 250));
  } while (Date.now() < end);
  return last;
}

export { birdc, driverDir, gobgp, vtysh } from '../lib/peers/control.js';

/** Runs `fn`; on failure appends the tsbgp child's log and the peers' log tails to the error. */
export async function withLogs<T>(child: SpeakerChild | undefined, peers: readonly PeerHandle[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const parts: string[] = [];
    if (child) {
      parts.push(`--- tsbgp log ---\n${child.log()}`);
      const recent = child.events.slice(-15).map((x) => JSON.stringify(x));
      parts.push(`--- tsbgp events (last 15) ---\n${recent.join('\n')}`);
    }
    for (const p of peers) parts.push(`--- ${p.kind} log ---\n${tail(await p.logs().catch(() => ''), 25)}`);
    if (e instanceof Error) {
      e.message = `${e.message}\n${parts.join('\n')}`;
      throw e;
    }
    throw new Error(`${String(e)}\n${parts.join('\n')}`);
  }
}

// ---------------------------------------------------------------------------
// The common scenario: one tsbgp node and one real peer, an IPv4 and an IPv6 session.

/** Routes tsbgp originates in the scenario. */
export const OURS = {
  v4: {
    prefix: '198.51.100.0/24',
    communities: [community('65001:100'), community('65001:200')],
    largeCommunities: [[TSBGP_AS, 1, 2]] as [number, number, number][],
    med: 50,
  },
  /** Stays announced through the whole scenario (restart checks). */
  v4Stable: { prefix: '10.244.1.0/24', communities: [community('65001:300')] },
  v6: {
    prefix: '2001:db8:100::/48',
    communities: [community('65001:600')],
    largeCommunities: [[TSBGP_AS, 6, 6]] as [number, number, number][],
    med: 60,
  },
  v6Stable: { prefix: '2001:db8:101::/48' },
} as const satisfies Record<string, LocalRouteSpec>;

/** Routes the real peer originates in the scenario. */
export const THEIRS = {
  v4: {
    prefix: '203.0.113.0/24',
    communities: ['65002:1', '65002:2'],
    largeCommunities: ['65002:3:4'],
    med: 70,
    asPath: [64512, 64513],
    origin: 'incomplete' as const,
  },
  // GoBGP's CLI defaults to ORIGIN incomplete: say igp where the test expects it.
  v4Stable: { prefix: '203.0.113.128/25', origin: 'igp' as const },
  v6: { prefix: '2001:db8:200::/48', communities: ['65002:6'], med: 80, asPath: [64514], origin: 'igp' as const },
  v6Stable: { prefix: '2001:db8:201::/48', origin: 'igp' as const },
} as const;

export interface Scenario {
  readonly pl: PairLab;
  readonly peer: PeerHandle;
  readonly child: SpeakerChild;
}

/** Hold 9 s, keepalive 3 s, connect retry 1 s: short timers for every session. */
export const TIMERS = { holdTime: 9, keepaliveTime: 3, connectRetryTime: 1 } as const;

export type Direction = 'incoming' | 'outgoing';

/**
 * Who opened the established BGP connection with `peerAddr`, seen from tsbgp's
 * namespace: our local port 179 means the peer connected to our listener.
 */
export async function sessionDirection(lab: Lab, ns: Ns, peerAddr: string): Promise<Direction | undefined> {
  const r = await lab.check(ns, 'ss', ['-tnH', 'state', 'established']);
  const want = normAddr(peerAddr);
  for (const line of r.stdout.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const split = (ep: string): [string, number] => {
      const i = ep.lastIndexOf(':');
      const host = ep.slice(0, i).replace(/^\[|\]$/g, '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
      return [normAddr(host), Number(ep.slice(i + 1))];
    };
    const [, lport] = split(cols[2]!);
    const [peer, pport] = split(cols[3]!);
    if (peer !== want || (lport !== 179 && pport !== 179)) continue;
    return lport === 179 ? 'incoming' : 'outgoing';
  }
  return undefined;
}

/**
 * Both sides Established on both sessions, with the negotiated values checked on ours.
 * `expect` gives the connection direction where only one side connects; returns what
 * was seen (where both connect, the collision decides).
 */
export async function checkEstablished(
  s: Scenario,
  expect: { v4?: Direction; v6?: Direction } = {},
): Promise<{ v4: Direction | undefined; v6: Direction | undefined }> {
  const { pl, peer, child } = s;
  await Promise.all([
    child.waitState(pl.peerIp),
    child.waitState(pl.peerIp6),
    peer.waitEstablished(pl.nodeIp, 20_000),
    peer.waitEstablished(pl.nodeIp6, 20_000),
  ]);
  const v4 = await child.neighbor(pl.peerIp);
  const v6 = await child.neighbor(pl.peerIp6);
  for (const [n, fam, local] of [
    [v4, '1/1', pl.nodeIp],
    [v6, '2/1', pl.nodeIp6],
  ] as const) {
    assert.equal(n.state, 'Established');
    // For an accepted IPv4 connection on the dual-stack listener too (not ::ffff:a.b.c.d).
    assert.equal(n.localAddress, local);
    assert.equal(n.negotiated?.peerAs, PEER_AS);
    assert.equal(n.negotiated?.peerBgpId, s.peer.config.routerId);
    assert.equal(n.negotiated?.internal, false);
    assert.equal(n.negotiated?.holdTime, 9);
    assert.ok((n.negotiated?.keepaliveTime ?? 0) >= 1 && (n.negotiated?.keepaliveTime ?? 9) <= 3);
    assert.equal(n.negotiated?.fourOctetAs, true);
    // The peer is configured for one family per session; tsbgp offers both.
    assert.deepEqual(n.negotiated?.families, [fam]);
  }
  assert.equal(await peerState(peer, pl.nodeIp), 'Established');
  assert.equal(await peerState(peer, pl.nodeIp6), 'Established');
  const seen = {
    v4: await sessionDirection(pl.lab, pl.node, pl.peerIp),
    v6: await sessionDirection(pl.lab, pl.node, pl.peerIp6),
  };
  if (expect.v4) assert.equal(seen.v4, expect.v4, 'who opened the IPv4 session');
  if (expect.v6) assert.equal(seen.v6, expect.v6, 'who opened the IPv6 session');
  return seen;
}

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/**
 * tsbgp → peer and peer → tsbgp, IPv4 and IPv6, attributes intact, then withdrawals.
 * Returns the link-local next hop the peer added to its IPv6 routes, if any.
 */
export async function checkRoutesBothWays(s: Scenario): Promise<{ linkLocal: string | undefined }> {
  const { pl, peer, child } = s;
  await child.announce([OURS.v4, OURS.v4Stable, OURS.v6, OURS.v6Stable]);
  const { prefix: _p4, ...theirs4 } = THEIRS.v4;
  const { prefix: _p6, ...theirs6 } = THEIRS.v6;
  await peer.announce(THEIRS.v4.prefix, theirs4);
  await peer.announce(THEIRS.v4Stable.prefix, { origin: THEIRS.v4Stable.origin });
  await peer.announce(THEIRS.v6.prefix, theirs6);
  await peer.announce(THEIRS.v6Stable.prefix, { origin: THEIRS.v6Stable.origin });

  // At the peer.
  const a4 = await peerPath(peer, 'ipv4', OURS.v4.prefix, pl.nodeIp);
  assert.equal(a4.nextHop, pl.nodeIp);
  assert.deepEqual(a4.asPath, [TSBGP_AS]);
  assert.deepEqual(sorted(a4.communities), ['65001:100', '65001:200']);
  assert.deepEqual(a4.largeCommunities, [`${TSBGP_AS}:1:2`]);
  assert.equal(a4.med, 50);
  assert.equal(a4.origin, 'igp');
  const b4 = await peerPath(peer, 'ipv4', OURS.v4Stable.prefix, pl.nodeIp);
  assert.deepEqual(b4.communities, ['65001:300']);
  assert.equal(b4.med ?? 0, 0, 'no MED was announced');
  assert.deepEqual(b4.largeCommunities, []);
  const a6 = await peerPath(peer, 'ipv6', OURS.v6.prefix, pl.nodeIp6);
  assert.equal(a6.nextHop, pl.nodeIp6, 'the global IPv6 next hop is our session address');
  assert.deepEqual(a6.asPath, [TSBGP_AS]);
  assert.deepEqual(a6.communities, ['65001:600']);
  assert.deepEqual(a6.largeCommunities, [`${TSBGP_AS}:6:6`]);
  assert.equal(a6.med, 60);
  assert.equal(a6.origin, 'igp');
  await peerPath(peer, 'ipv6', OURS.v6Stable.prefix, pl.nodeIp6);
  // IPv6 stayed off the IPv4 session and IPv4 off the IPv6 one.
  const v6routes = await peer.routes('ipv6');
  assert.ok(!v6routes.some((r) => r.peer === pl.nodeIp), 'no IPv6 route over the IPv4 session');
  const v4routes = await peer.routes('ipv4');
  assert.ok(!v4routes.some((r) => r.peer === pl.nodeIp6), 'no IPv4 route over the IPv6 session');

  // At tsbgp.
  const t4 = await child.waitRoutes(
    pl.peerIp,
    (t) => THEIRS.v4.prefix in t && THEIRS.v4Stable.prefix in t,
    `${THEIRS.v4.prefix} and ${THEIRS.v4Stable.prefix} from ${pl.peerIp}`,
  );
  const r4 = t4[THEIRS.v4.prefix]!;
  assert.deepEqual(r4.asPath, [PEER_AS, ...THEIRS.v4.asPath]);
  assert.deepEqual(r4.asPathSegments, [{ type: 2, asns: [PEER_AS, ...THEIRS.v4.asPath] }]);
  assert.equal(r4.nextHop, pl.peerIp);
  assert.equal(r4.mpNextHop, undefined);
  assert.deepEqual(sorted(r4.communities), sorted(THEIRS.v4.communities));
  assert.deepEqual(r4.largeCommunities, THEIRS.v4.largeCommunities);
  assert.equal(r4.med, 70);
  assert.equal(r4.origin, 'incomplete');
  assert.equal(r4.localPref, undefined, 'no LOCAL_PREF over eBGP');
  const s4 = t4[THEIRS.v4Stable.prefix]!;
  assert.deepEqual(s4.asPath, [PEER_AS]);
  assert.equal(s4.origin, 'igp');
  assert.deepEqual(s4.communities, []);

  const t6 = await child.waitRoutes(
    pl.peerIp6,
    (t) => THEIRS.v6.prefix in t && THEIRS.v6Stable.prefix in t,
    `${THEIRS.v6.prefix} and ${THEIRS.v6Stable.prefix} from ${pl.peerIp6}`,
  );
  const r6 = t6[THEIRS.v6.prefix]!;
  assert.deepEqual(r6.asPath, [PEER_AS, ...THEIRS.v6.asPath]);
  assert.equal(r6.nextHop, undefined, 'IPv6 routes carry their next hop in MP_REACH_NLRI');
  assert.equal(r6.mpNextHop?.global, pl.peerIp6);
  // BIRD and FRR add the link-local address of their interface (RFC 2545); accept it.
  const ll = r6.mpNextHop?.linkLocal;
  assert.ok(ll === undefined || ll.startsWith('fe80:'), `link-local next hop ${ll}`);
  assert.deepEqual(r6.communities, ['65002:6']);
  assert.equal(r6.med, 80);
  assert.equal(r6.origin, 'igp');
  // Nothing of the wrong family on either session.
  assert.ok(Object.keys(t4).every((p) => !p.includes(':')), `IPv4 session table: ${Object.keys(t4).join(' ')}`);
  assert.ok(Object.keys(t6).every((p) => p.includes(':')), `IPv6 session table: ${Object.keys(t6).join(' ')}`);

  // Announcing a prefix again with other attributes replaces the route (implicit withdraw).
  const pathOf = async (): Promise<PeerRoute | undefined> =>
    (await peer.routes('ipv4')).find((r) => r.prefix === OURS.v4Stable.prefix && r.peer === pl.nodeIp);
  await child.announce([{ ...OURS.v4Stable, communities: [community('65001:301')], med: 9 }]);
  await waitFor(pathOf, {
    label: `${peer.kind} replaced ${OURS.v4Stable.prefix}`,
    until: (r) => r?.med === 9 && r.communities.join() === '65001:301',
  });
  await child.announce([OURS.v4Stable]);
  await waitFor(pathOf, {
    label: `${peer.kind} has ${OURS.v4Stable.prefix} as before`,
    until: (r) => (r?.med ?? 0) === 0 && r?.communities.join() === '65001:300',
  });

  // Withdrawals, both ways.
  await child.withdraw([OURS.v4.prefix, OURS.v6.prefix]);
  await Promise.all([peerGone(peer, 'ipv4', OURS.v4.prefix), peerGone(peer, 'ipv6', OURS.v6.prefix)]);
  await peer.withdraw(THEIRS.v4.prefix);
  await peer.withdraw(THEIRS.v6.prefix);
  await child.waitRoutes(pl.peerIp, (t) => !(THEIRS.v4.prefix in t), `${THEIRS.v4.prefix} withdrawn`);
  await child.waitRoutes(pl.peerIp6, (t) => !(THEIRS.v6.prefix in t), `${THEIRS.v6.prefix} withdrawn`);
  // The others stayed.
  await peerPath(peer, 'ipv4', OURS.v4Stable.prefix, pl.nodeIp, 1000);
  await peerPath(peer, 'ipv6', OURS.v6Stable.prefix, pl.nodeIp6, 1000);
  const after4 = await child.routes(pl.peerIp);
  assert.ok(THEIRS.v4Stable.prefix in after4);
  const after6 = await child.routes(pl.peerIp6);
  assert.ok(THEIRS.v6Stable.prefix in after6);
  return { linkLocal: ll };
}

export const SHUTDOWN_MESSAGE = 'tsbgp interop: maintenance window 42';

/**
 * Admin shutdown of one session (IPv4 unless `session` says v6) from tsbgp: Cease/Administrative Shutdown with an
 * RFC 9003 message goes out, our side stays Idle, the peer leaves Established, and
 * `peerSaw` returns what the peer recorded about it (the caller asserts on that text).
 * Then the session is started again.
 */
export async function checkAdminShutdown(
  s: Scenario,
  peerSaw: () => Promise<string>,
  expect: RegExp,
  session: 'v4' | 'v6' = 'v4',
): Promise<string> {
  const { pl, peer, child } = s;
  const six = session === 'v6';
  const theirs = six ? pl.peerIp6 : pl.peerIp;
  const ours = six ? pl.nodeIp6 : pl.nodeIp;
  const other = six ? pl.peerIp : pl.peerIp6;
  const stable = six ? OURS.v6Stable.prefix : OURS.v4Stable.prefix;
  const afi: Afi = six ? 'ipv6' : 'ipv4';
  const from = child.events.length;
  await child.peer(theirs, 'stop', SHUTDOWN_MESSAGE);
  const sent = await child.waitEvent(
    (e): e is Extract<ChildEvent, { type: 'notificationSent' }> => e.type === 'notificationSent' && e.address === theirs,
    'Cease sent',
    from,
  );
  assert.equal(sent.code, 6);
  assert.equal(sent.subcode, 2);
  assert.match(sent.text, /maintenance window 42/);
  await waitFor(() => peerState(peer, ours), {
    timeoutMs: 10_000,
    label: `${peer.kind} leaves Established with ${ours}`,
    until: (st) => st !== 'Established',
  });
  const seen = await waitFor(peerSaw, {
    timeoutMs: 10_000,
    intervalMs: 200,
    label: `${peer.kind} shows ${expect}`,
    until: (t) => expect.test(t),
  });
  // Stopped means stopped: no reconnection, whoever tries, for a few seconds.
  await holdsFor(() => child.neighbor(theirs), (n) => n.state !== 'Idle', 2500, 'tsbgp left Idle while stopped');
  assert.notEqual(await peerState(peer, ours), 'Established');
  await peerGone(peer, afi, stable, 5000);
  // The other session was not touched.
  assert.equal((await child.neighbor(other)).state, 'Established');

  await child.peer(theirs, 'start');
  await child.waitState(theirs);
  await peer.waitEstablished(ours, 20_000);
  await peerPath(peer, afi, stable, ours);
  return seen;
}

/** The peer restarts: both sessions come back (tsbgp reconnects / accepts) and routes return both ways. */
export async function checkPeerRestart(s: Scenario): Promise<void> {
  const { pl, peer, child } = s;
  const from = child.events.length;
  await peer.restart();
  for (const addr of [pl.peerIp, pl.peerIp6]) {
    const down = await child.waitEvent(
      (e): e is Extract<ChildEvent, { type: 'down' }> => e.type === 'down' && e.address === addr,
      `session with ${addr} went down`,
      from,
    );
    await child.waitEvent(
      (e): e is Extract<ChildEvent, { type: 'established' }> => e.type === 'established' && e.address === addr && e.at > down.at,
      `session with ${addr} re-established`,
      from,
      30_000,
    );
  }
  await Promise.all([peer.waitEstablished(pl.nodeIp, 20_000), peer.waitEstablished(pl.nodeIp6, 20_000)]);
  // Our routes are back at the restarted peer, and its routes back at ours (the
  // recorder dropped them when the sessions went down).
  await peerPath(peer, 'ipv4', OURS.v4Stable.prefix, pl.nodeIp);
  await peerPath(peer, 'ipv6', OURS.v6Stable.prefix, pl.nodeIp6);
  const t4 = await child.waitRoutes(pl.peerIp, (t) => THEIRS.v4Stable.prefix in t, 'IPv4 routes back after restart');
  const t6 = await child.waitRoutes(pl.peerIp6, (t) => THEIRS.v6Stable.prefix in t, 'IPv6 routes back after restart');
  assert.ok(!(THEIRS.v4.prefix in t4), 'a withdrawn route did not come back');
  assert.ok(!(THEIRS.v6.prefix in t6));
  assert.deepEqual(t4[THEIRS.v4Stable.prefix]!.asPath, [PEER_AS]);
}

/** The namespace's TcpExt counters from /proc/net/netstat (TCPMD5Failure, TCPMD5NotFound...). */
export async function tcpExt(lab: Lab, ns: Ns): Promise<Record<string, number>> {
  const r = await lab.check(ns, 'cat', ['/proc/net/netstat']);
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const keys = (lines[0] ?? '').split(/\s+/).slice(1);
  const vals = (lines[1] ?? '').split(/\s+/).slice(1);
  const out: Record<string, number> = {};
  keys.forEach((k, i) => (out[k] = Number(vals[i] ?? 0)));
  return out;
}

export interface RawBird {
  readonly pid: number;
  readonly logFile: string;
  birdc(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * BIRD with a config the driver cannot write (a 2-octet session to a 4-octet AS, a
 * generated table). `conf` is the whole bird.conf; the dir is `<ns>-<name>` in the lab.
 */
export async function startRawBird(lab: Lab, ns: Ns, name: string, conf: string): Promise<RawBird> {
  const dir = lab.mkdir(`${ns.name}-${name}`);
  const file = join(dir, 'bird.conf');
  const sock = join(dir, 'bird.ctl');
  const logFile = join(dir, 'bird.log');
  writeFileSync(file, conf);
  const child = lab.spawnIn(ns, 'bird', ['-f', '-c', file, '-s', sock], { logFile });
  const birdcRun = async (...args: string[]): Promise<string> => {
    const r = await run('birdc', ['-s', sock, ...args], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`birdc ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  await waitReady(child, async () => /Daemon is up/.test(await birdcRun('show', 'status')), `bird ${name}`, logFile, 30_000);
  return {
    pid: child.pid!,
    logFile,
    birdc: birdcRun,
    stop: async () => void (await lab.kill(child.pid!)),
  };
}
