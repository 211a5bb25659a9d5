// The route-learning user story, end to end in network namespaces: a node with two NICs
// into two isolated routing domains (BIRD in A, FRR in B, a host behind each) runs
// tsbgpd from a CiliumBGPPeeringPolicy file and must learn each domain's prefixes into
// its kernel, via that domain's router, IPv4 and IPv6, and nothing else:
// default routes only when allowed (flipped by a SIGHUP reload, without flapping the
// other sessions), a withdrawal or a dead peer removes routes, a prefix limit sends
// Cease/1 and the session comes back after its restart timer, a static route of the
// node is never touched (a reported conflict), and tsbgpd restarts (SIGTERM, SIGKILL)
// leave neither orphans nor duplicates. The CLI's JSON is checked against the routers.
// Last, next hops that are not simply on a shared subnet: a multihop eBGP peer behind
// router A (its next hop resolves through a static route of the node: installed via
// router A, gone when the static route goes) and an iBGP peer whose IPv6 next hop is
// only its link-local address (installed `via fe80::… dev <nic>`).
//
// The steps share one lab and run in order; each states what it leaves behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { ConfigView, FibRoute, NeighborInfo, RibEntry } from '../../src/api/types.js';
import { createLab, type Lab } from '../lib/netns.js';
import { check, sleep, waitFor } from '../lib/proc.js';
import { normAddr, PEER_TOOLS, startPeer, tail, type Afi } from '../lib/peers/index.js';
import { needsRoot } from '../lib/root.js';
import {
  addr,
  birdc,
  buildTwoDomainLab,
  linkLocalOf,
  NODE_ASN,
  NODE_POD_CIDRS,
  NODE_ROUTER_ID,
  ping,
  protoRoutes,
  routeGet,
  startNodeDaemon,
  STATIC_PREFIX,
  twoDomainPolicy,
  vtysh,
  type Domain,
  type PolicyOptions,
  type TwoDomainLab,
  type Tsbgpd,
} from './lab.js';

const skip = needsRoot('ping', ...PEER_TOOLS.bird, ...PEER_TOOLS.frr, ...PEER_TOOLS.gobgp);

/** B's IPv4 session: small enough to overflow on purpose, restart after a few seconds. */
const LIMIT = { maxPrefixes: 8, restartTimerSeconds: 4 } as const;

interface State {
  policy: PolicyOptions;
  /** Prefixes a router stopped announcing (by domain key). */
  withdrawn: Map<string, Set<string>>;
  /** Domains whose router is down. */
  down: Set<string>;
  /** Kernel lines of the peers added at the end (multihop, link-local). */
  extra: string[];
}

describe('route learning: a node in two routing domains (BIRD + FRR, IPv4 + IPv6)', { skip }, () => {
  let lab: Lab;
  let t: TwoDomainLab;
  let daemon: Tsbgpd;
  let policyFile: string;
  const st: State = { policy: { prefixLimitB4: LIMIT }, withdrawn: new Map(), down: new Set(), extra: [] };
  const started = Date.now();

  const writeConfig = (): void => writeFileSync(policyFile, twoDomainPolicy([t.a.spec, t.b.spec], st.policy));

  /** A gateway as the domain it belongs to (IPv6: global or link-local), for readable diffs. */
  const gwName = (gw: string | undefined): string => {
    if (gw === undefined) return '-';
    for (const d of t.domains) {
      if ([addr(d.spec.router4), normAddr(addr(d.spec.router6)), d.routerLinkLocal].includes(normAddr(gw))) return `router-${d.spec.key}`;
    }
    return gw;
  };

  /** Every proto-186 route of the node as 'dst via router-x dev eth-x metric m', sorted (duplicates kept). */
  const kernel = async (): Promise<string[]> => {
    const all = [...(await protoRoutes(lab, t.node, 4)), ...(await protoRoutes(lab, t.node, 6))];
    return all.map((r) => `${r.dst} via ${gwName(r.gateway)} dev ${r.dev ?? '-'} metric ${r.metric ?? 0}`).sort();
  };

  const allowDefault = (d: Domain): boolean => (d.spec.key === 'a' ? st.policy.allowDefaultA : st.policy.allowDefaultB) === true;

  /** What the node's kernel must hold now, from the model. */
  const expected = (): string[] => {
    const out: string[] = [];
    for (const d of t.domains) {
      if (st.down.has(d.spec.key)) continue;
      const gone = st.withdrawn.get(d.spec.key) ?? new Set<string>();
      const learned = [...d.spec.accepted4, ...d.spec.accepted6];
      if (allowDefault(d)) learned.push('0.0.0.0/0', '::/0');
      for (const p of learned) {
        if (gone.has(p) || p === STATIC_PREFIX) continue; // the static route keeps its place
        out.push(`${p} via router-${d.spec.key} dev ${d.nodeIf} metric 20`);
      }
    }
    out.push(...st.extra);
    return out.sort();
  };

  const waitKernel = async (label: string, timeoutMs = 15_000): Promise<void> => {
    const want = expected();
    try {
      await waitFor(kernel, { timeoutMs, intervalMs: 200, label, until: (have) => JSON.stringify(have) === JSON.stringify(want) });
    } catch (e) {
      assert.deepEqual(await kernel(), want, `${(e as Error).message}\n--- tsbgpd log ---\n${daemon.logTail(25)}`);
    }
  };

  const neighbors = (): Promise<NeighborInfo[]> => daemon.json<NeighborInfo[]>(['neighbor']);
  const neighbor = async (address: string): Promise<NeighborInfo> => {
    const n = (await neighbors()).find((x) => x.address === normAddr(address));
    assert.ok(n, `tsbgp neighbor lists ${address}`);
    return n;
  };
  const allEstablished = async (timeoutMs = 20_000): Promise<NeighborInfo[]> =>
    waitFor(neighbors, {
      timeoutMs,
      intervalMs: 200,
      label: 'all four sessions Established in tsbgp',
      until: (ns) => ns.length === 4 && ns.every((n) => n.state === 'Established'),
    });

  const frrNeighbor = async (d: Domain, nodeAddr: string): Promise<Record<string, unknown>> => {
    const doc = JSON.parse(await vtysh(lab, d.routerNs, `show bgp neighbors ${nodeAddr} json`)) as Record<string, Record<string, unknown>>;
    const n = doc[nodeAddr];
    assert.ok(n, `FRR knows neighbor ${nodeAddr}`);
    return n;
  };

  /** How many prefixes the router sends the node on one session (its Adj-RIB-Out). */
  const routerAdvertised = async (d: Domain, afi: Afi): Promise<number> => {
    const nodeAddr = addr(afi === 'ipv4' ? d.spec.node4 : d.spec.node6);
    if (d.spec.kind === 'bird') {
      // Protocol n0 is the IPv4 neighbour, n1 the IPv6 one (the driver's order).
      const out = await birdc(lab, d.routerNs, 'show', 'route', 'export', afi === 'ipv4' ? 'n0' : 'n1', 'count');
      const m = /(\d+) of \d+ routes/.exec(out);
      assert.ok(m, `birdc export count: ${out}`);
      return Number(m[1]);
    }
    const doc = JSON.parse(await vtysh(lab, d.routerNs, `show bgp ${afi} unicast neighbors ${nodeAddr} advertised-routes json`)) as {
      totalPrefixCounter?: number;
    };
    return doc.totalPrefixCounter ?? -1;
  };

  before(async () => {
    lab = createLab('nh-learn');
    t = await buildTwoDomainLab(lab);
    policyFile = `${t.dir}/policy.yaml`;
    writeConfig();
    daemon = await startNodeDaemon(t, policyFile);
  });

  after(async () => {
    const log = daemon?.logTail(60) ?? '';
    try {
      if (daemon?.alive) await daemon.stop('SIGTERM');
    } finally {
      await lab?.cleanup();
    }
    process.stderr.write(`# route-learning e2e: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (process.env.E2E_LOGS === '1') process.stderr.write(`${log}\n`);
  });

  it('brings up the four sessions, seen the same way by tsbgp and by both routers', async () => {
    const ns = await allEstablished();
    for (const d of t.domains) {
      await d.router.waitEstablished(addr(d.spec.node4));
      await d.router.waitEstablished(addr(d.spec.node6));
      const seen = await d.router.neighbors();
      for (const [node, router] of [
        [addr(d.spec.node4), addr(d.spec.router4)],
        [normAddr(addr(d.spec.node6)), normAddr(addr(d.spec.router6))],
      ] as const) {
        assert.deepEqual(
          seen.find((x) => x.address === node),
          { address: node, state: 'Established', asn: NODE_ASN },
          `${d.spec.kind} sees the node's session from ${node}`,
        );
        const n = ns.find((x) => x.address === router);
        assert.ok(n, `tsbgp lists ${router}`);
        assert.equal(n.remoteAs, d.spec.asn);
        assert.equal(n.peerAs, d.spec.asn);
        assert.equal(n.localAs, NODE_ASN);
        assert.equal(n.routerId, d.spec.routerId, "the router's BGP identifier from its OPEN");
        assert.equal(n.localAddress, node, 'the session leaves from the NIC into this domain');
        assert.equal(n.timers.negotiatedHoldTime, 9);
      }
    }
  });

  it('installs each domain\'s prefixes via that domain\'s router, IPv4 and IPv6, and nothing the policy rejects', async () => {
    await waitKernel('node kernel = accepted prefixes of both domains');
    const have = await kernel();
    // Spelled out once, so the model above is checked by hand too.
    assert.ok(have.includes('192.168.10.0/24 via router-a dev eth-a metric 20'));
    assert.ok(have.includes('192.168.20.0/24 via router-b dev eth-b metric 20'));
    assert.ok(have.includes('fd00:10::/64 via router-a dev eth-a metric 20'));
    assert.ok(have.includes('fd00:20::/64 via router-b dev eth-b metric 20'));
    for (const p of ['0.0.0.0/0', '::/0', '10.99.0.0/16', '10.98.0.0/16']) {
      assert.ok(!have.some((l) => l.startsWith(`${p} `)), `${p} is not installed`);
    }
    // The Adj-RIB-In (post-policy) of each session holds exactly what its policy accepts.
    for (const d of t.domains) {
      for (const [router, accepted] of [
        [addr(d.spec.router4), d.spec.accepted4],
        [addr(d.spec.router6), d.spec.accepted6],
      ] as const) {
        const adj = await daemon.json<Array<{ prefix: string; accepted: boolean }>>(['neighbor', router, 'adj-in']);
        assert.deepEqual(adj.filter((r) => r.accepted).map((r) => r.prefix).sort(), [...accepted].sort(), `adj-in of ${router}`);
      }
    }
    // The IPv6 next hop sits on the link to the router (global address or its link-local).
    const v6 = await protoRoutes(lab, t.node, 6);
    const r = v6.find((x) => x.dst === 'fd00:10::/64');
    assert.ok(r && [normAddr(addr(t.a.spec.router6)), t.a.routerLinkLocal].includes(normAddr(r.gateway ?? '')), JSON.stringify(r));
  });

  it('tsbgp neighbor and global rib (-o json) agree with the routers', async () => {
    const ns = await neighbors();
    for (const d of t.domains) {
      for (const afi of ['ipv4', 'ipv6'] as const) {
        const routerAddr = normAddr(addr(afi === 'ipv4' ? d.spec.router4 : d.spec.router6));
        const nodeAddr = normAddr(addr(afi === 'ipv4' ? d.spec.node4 : d.spec.node6));
        const n = ns.find((x) => x.address === routerAddr)!;
        assert.equal(n.families.length, 1);
        const f = n.families[0]!;
        assert.equal(f.afi, afi);
        assert.equal(f.negotiated, true);
        assert.equal(f.received, await routerAdvertised(d, afi), `received from ${routerAddr} = what ${d.spec.kind} advertises to the node`);
        const accepted = afi === 'ipv4' ? d.spec.accepted4 : d.spec.accepted6;
        assert.equal(f.accepted, accepted.length, `accepted from ${routerAddr}`);
        assert.equal(f.installed, accepted.filter((p) => p !== STATIC_PREFIX).length, `installed from ${routerAddr}`);
        assert.equal(f.advertised, 1, 'the node advertises its pod CIDR of this family');
        // ... and the router has it, from the node, with the node's AS.
        const pod = afi === 'ipv4' ? NODE_POD_CIDRS[0] : NODE_POD_CIDRS[1];
        const routes = await waitFor(() => d.router.routes(afi), {
          timeoutMs: 10_000,
          label: `${d.spec.kind} has ${pod} from the node`,
          until: (rs) => rs.some((x) => x.prefix === pod && x.peer === nodeAddr),
        });
        assert.deepEqual(routes.find((x) => x.prefix === pod && x.peer === nodeAddr)!.asPath, [NODE_ASN]);
      }
    }

    const rib = await daemon.json<RibEntry[]>(['global', 'rib']);
    const learned = rib.filter((e) => e.paths.some((p) => p.neighbor !== null));
    const want = t.domains.flatMap((d) => [...d.spec.accepted4, ...d.spec.accepted6]).sort();
    assert.deepEqual(learned.map((e) => e.prefix).sort(), want, 'the Loc-RIB holds exactly the accepted prefixes');
    for (const d of t.domains) {
      const local = new Set([
        ...(await d.router.routes('ipv4')).filter((r) => r.peer === undefined).map((r) => r.prefix),
        ...(await d.router.routes('ipv6')).filter((r) => r.peer === undefined).map((r) => r.prefix),
      ]);
      for (const p of [...d.spec.accepted4, ...d.spec.accepted6]) {
        assert.ok(local.has(p), `${d.spec.kind} originates ${p}`);
        const e = learned.find((x) => x.prefix === p)!;
        assert.equal(e.paths.length, 1);
        const best = e.paths[0]!;
        const v6 = p.includes(':');
        assert.equal(best.best, true);
        assert.equal(best.neighbor, normAddr(addr(v6 ? d.spec.router6 : d.spec.router4)));
        assert.equal(best.nextHop, normAddr(addr(v6 ? d.spec.router6 : d.spec.router4)), `next hop of ${p}`);
        assert.deepEqual(best.asPath, [{ type: 'sequence', asns: [d.spec.asn] }]);
        assert.equal(best.origin, 'igp');
      }
    }
    const g = await daemon.json<{ nodeName: string; instances: Array<{ localAs: number; routerId: string; established: number }> }>(['global']);
    assert.equal(g.instances[0]!.localAs, NODE_ASN);
    assert.equal(g.instances[0]!.routerId, NODE_ROUTER_ID);
    assert.equal(g.instances[0]!.established, 4);
  });

  it('never touches the static route the node already had, and reports the prefix as a conflict', async () => {
    const r = JSON.parse((await check('ip', ['-n', t.node.netns, '-j', 'route', 'show', 'table', 'main', STATIC_PREFIX])).stdout) as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(
      r.map((x) => ({ dst: x.dst, gateway: x.gateway, dev: x.dev, protocol: x.protocol, metric: x.metric })),
      [{ dst: STATIC_PREFIX, gateway: addr(t.b.spec.router4), dev: t.b.nodeIf, protocol: 'static', metric: 20 }],
      'only the static route, as it was',
    );
    const fib = await daemon.json<FibRoute[]>(['fib']);
    const c = fib.find((x) => x.prefix === STATIC_PREFIX);
    assert.ok(c, 'tsbgp fib lists the prefix it wanted');
    assert.equal(c.status, 'conflict');
    assert.match(c.detail ?? '', /another protocol|static/, `conflict detail: ${c.detail}`);
    assert.deepEqual(c.nexthops.map((h) => [h.gateway, h.dev]), [[addr(t.b.spec.router4), t.b.nodeIf]], 'what tsbgp would have installed');
    assert.deepEqual(
      fib.filter((x) => x.status !== 'installed').map((x) => x.prefix),
      [STATIC_PREFIX],
      'every other route is installed',
    );
  });

  it('pings the host in each domain through that domain\'s NIC', async () => {
    for (const d of t.domains) {
      for (const host of [addr(d.spec.host4), addr(d.spec.host6)]) {
        const via = await routeGet(lab, t.node, host);
        assert.equal(via.dev, d.nodeIf, `ip route get ${host}: leaves by ${d.nodeIf}`);
        assert.equal(gwName(via.gateway), `router-${d.spec.key}`, `ip route get ${host}: via domain ${d.spec.key}'s router`);
        const p = await ping(lab, t.node, host);
        assert.ok(p.ok, `ping ${host}:\n${p.output}`);
      }
    }
    // Without a default route, anything else is unreachable.
    const r = await lab.exec(t.node, 'ip', ['route', 'get', '203.0.113.1']);
    assert.notEqual(r.code, 0, `no route to 203.0.113.1 yet: ${r.stdout}`);
  });

  it('installs domain A\'s default route after allowDefaultRoute is turned on by a SIGHUP reload, with no session flapping', async () => {
    const before = await neighbors();
    const frrBefore = await frrNeighbor(t.b, addr(t.b.spec.node4));
    st.policy = { ...st.policy, allowDefaultA: true };
    writeConfig();
    daemon.signal('SIGHUP');
    await waitKernel("A's default routes installed");
    const via = await routeGet(lab, t.node, '203.0.113.1');
    assert.equal(via.dev, t.a.nodeIf);
    assert.equal(gwName(via.gateway), 'router-a');

    const cfg = await daemon.json<ConfigView>(['config']);
    assert.equal(cfg.lastReload?.ok, true);
    assert.equal(cfg.lastReload?.trigger, 'SIGHUP');
    assert.ok(
      cfg.lastReload!.changes.some((c) => c.includes('10.10.0.1') && c.includes('soft-reset-in')),
      `A's IPv4 peer is soft-reset inbound: ${JSON.stringify(cfg.lastReload?.changes)}`,
    );
    assert.ok(!cfg.lastReload!.changes.some((c) => c.includes('10.20.0.1') || c.includes('fd00:b::1')), 'B is not touched');

    const afterNs = await neighbors();
    for (const b of before) {
      const a = afterNs.find((x) => x.address === b.address)!;
      assert.equal(a.state, 'Established', `${b.address} still Established`);
      assert.equal(a.establishedCount, b.establishedCount, `${b.address} did not flap`);
    }
    // A got a ROUTE-REFRESH (the policy change re-evaluated its routes), B did not.
    const rr = (a: string, ns: NeighborInfo[]): number => ns.find((x) => x.address === a)!.messages.sent.routeRefresh;
    assert.ok(rr('10.10.0.1', afterNs) > rr('10.10.0.1', before), 'route refresh sent to BIRD');
    assert.equal(rr('10.20.0.1', afterNs), rr('10.20.0.1', before), 'nothing sent to FRR');
    const frrAfter = await frrNeighbor(t.b, addr(t.b.spec.node4));
    assert.equal(frrAfter.bgpState, 'Established');
    assert.equal(frrAfter.connectionsEstablished, frrBefore.connectionsEstablished, 'FRR saw no new connection');
    assert.equal(frrAfter.connectionsDropped, frrBefore.connectionsDropped, 'FRR saw no drop');
  });

  it('removes a kernel route when its router withdraws the prefix', async () => {
    await t.a.router.withdraw('172.16.10.0/24');
    await t.b.router.withdraw('fd00:2:20::/48');
    st.withdrawn.set('a', new Set(['172.16.10.0/24']));
    st.withdrawn.set('b', new Set(['fd00:2:20::/48']));
    await waitKernel('withdrawn prefixes gone, the rest kept', 10_000);
  });

  it('exceeding the prefix limit sends Cease/1 (seen by FRR), drops B\'s IPv4 routes, and restarts after restartTimerSeconds', async () => {
    const b4 = addr(t.b.spec.router4);
    const nodeB4 = addr(t.b.spec.node4);
    const now = await neighbor(b4);
    const received = now.families[0]!.received;
    assert.equal(now.families[0]!.prefixLimit?.max, LIMIT.maxPrefixes);
    assert.ok(received <= LIMIT.maxPrefixes, `starts within the limit (${received})`);
    const extra = Array.from({ length: LIMIT.maxPrefixes - received + 1 }, (_, i) => `172.16.${30 + i}.0/24`);
    for (const p of extra) await t.b.router.announce(p);

    const over = await waitFor(() => neighbor(b4), {
      timeoutMs: 10_000,
      intervalMs: 100,
      label: 'tsbgp: prefix limit overflow on B/IPv4',
      until: (n) => n.families[0]?.prefixLimit?.overflow === true,
    });
    const overAt = Date.now();
    assert.notEqual(over.state, 'Established');
    assert.deepEqual([over.lastError?.direction, over.lastError?.code, over.lastError?.subcode], ['sent', 6, 1]);
    assert.ok(over.families[0]!.prefixLimit!.restartIn !== null, 'a restart is scheduled');

    // FRR's side of the story: the NOTIFICATION it received.
    const frr = await frrNeighbor(t.b, nodeB4);
    assert.notEqual(frr.bgpState, 'Established');
    assert.equal(frr.lastErrorCodeSubcode, '0601', 'Cease (6) / Maximum Number of Prefixes Reached (1)');
    assert.match(String(frr.lastNotificationReason), /Cease\/Maximum Number of Prefixes Reached/);

    // B's IPv4 routes are dropped; A's and B's IPv6 routes stay.
    const withoutB4 = expected().filter((l) => !(l.includes('router-b') && !l.includes(':')));
    await waitFor(kernel, { timeoutMs: 5000, label: "B's IPv4 routes dropped", until: (h) => JSON.stringify(h) === JSON.stringify(withoutB4) });

    // The router fixes its side meanwhile; the session must stay down until the timer.
    for (const p of extra) await t.b.router.withdraw(p);
    const back = await waitFor(() => neighbor(b4), {
      timeoutMs: (LIMIT.restartTimerSeconds + 15) * 1000,
      intervalMs: 100,
      label: 'tsbgp: B/IPv4 Established again',
      until: (n) => n.state === 'Established',
    });
    const downFor = Date.now() - overAt;
    assert.ok(downFor >= LIMIT.restartTimerSeconds * 1000 - 600, `held down ${downFor} ms, restart timer ${LIMIT.restartTimerSeconds} s`);
    assert.equal(back.establishedCount, over.establishedCount + 1);
    await waitKernel("B's IPv4 routes back", 15_000);
    assert.equal((await neighbor(b4)).families[0]!.prefixLimit?.overflow, false);
  });

  it('removes a peer\'s routes promptly when the peer goes down, and learns them again when it returns', async () => {
    await t.a.router.stop();
    const stoppedAt = Date.now();
    st.down.add('a');
    await waitKernel("BIRD stopped: domain A's routes (with its default) gone", 8000);
    assert.ok(Date.now() - stoppedAt < 9000, 'faster than the hold time');
    assert.ok(!(await kernel()).some((l) => l.includes('router-a')));
    await t.a.router.restart();
    st.down.delete('a');
    await waitKernel("BIRD back: domain A's routes again", 20_000);
  });

  it('SIGTERM removes every route tsbgpd installed (and nothing else); a new tsbgpd installs them again', async () => {
    const full = await kernel();
    const status = await daemon.stop('SIGTERM');
    assert.deepEqual(status, { code: 0, signal: null }, `clean exit:\n${daemon.logTail()}`);
    assert.deepEqual(await kernel(), [], 'no proto 186 route left');
    const r = JSON.parse((await check('ip', ['-n', t.node.netns, '-j', 'route', 'show', STATIC_PREFIX])).stdout) as Array<{ protocol?: string }>;
    assert.deepEqual(r.map((x) => x.protocol), ['static'], 'the static route stays');

    daemon = await startNodeDaemon(t, policyFile, 'tsbgpd-2.log');
    await allEstablished();
    await waitKernel('the same routes after a restart');
    assert.deepEqual(await kernel(), full);
  });

  it('after SIGKILL the next tsbgpd adopts the routes it finds, removes orphans, and leaves no duplicates', async () => {
    const status = await daemon.stop('SIGKILL');
    assert.equal(status.signal, 'SIGKILL');
    assert.deepEqual(await kernel(), expected(), 'a crash leaves the routes in place');
    // While no tsbgpd runs, BIRD withdraws a prefix: its kernel route is now an orphan.
    await t.a.router.withdraw('192.168.11.0/24');
    st.withdrawn.get('a')!.add('192.168.11.0/24');
    const orphan = '192.168.11.0/24 via router-a dev eth-a metric 20';
    assert.ok((await kernel()).includes(orphan));

    daemon = await startNodeDaemon(t, policyFile, 'tsbgpd-3.log');
    // Adopted, not flushed: the routes still wanted never disappear during the restart.
    for (let i = 0; i < 5; i++) {
      assert.ok((await kernel()).includes('192.168.10.0/24 via router-a dev eth-a metric 20'), 'kept across the restart');
      await sleep(200);
    }
    await allEstablished();
    // The orphan goes once the new instance has reconciled (a few seconds after start).
    await waitKernel('converged: orphan removed, every route once', 25_000);
    const fib = await daemon.json<FibRoute[]>(['fib']);
    assert.deepEqual(
      fib.filter((x) => x.status !== 'installed').map((x) => `${x.prefix} ${x.status}`),
      [`${STATIC_PREFIX} conflict`],
    );
    assert.ok(!daemon.log().includes('"level":"error"'), `no errors logged:\n${tail(daemon.log(), 20)}`);
  });
  it('a multihop peer behind router A resolves through the node\'s static route; an iBGP peer\'s link-local-only IPv6 next hop goes on its NIC', async () => {
    // Multihop: GoBGP (AS 65030) two hops away, behind router A, reached through a static route.
    const mh = await lab.addNamespace('mh');
    await lab.link(t.a.routerNs, mh, { ifA: 'eth-mh', ifB: 'eth0', a: '10.30.0.1/24', b: '10.30.0.2/24' });
    await lab.check(mh, 'ip', ['route', 'add', 'default', 'via', '10.30.0.1']);
    await lab.check(mh, 'ip', ['addr', 'add', '192.168.40.1/24', 'dev', 'lo']);
    await lab.check(t.a.routerNs, 'ip', ['route', 'add', '192.168.40.0/24', 'via', '10.30.0.2']);
    await lab.check(t.node, 'ip', ['route', 'add', '10.30.0.0/24', 'via', addr(t.a.spec.router4), 'dev', t.a.nodeIf, 'proto', 'static', 'metric', '7']);
    // Link-local: GoBGP on a third NIC of the node, iBGP (next hop unchanged), IPv6 only.
    const ll = await lab.addNamespace('nbr');
    await lab.link(t.node, ll, { ifA: 'eth-c', ifB: 'eth0', a6: 'fd00:c::1/64', b6: 'fd00:c::2/64' });
    await lab.check(ll, 'ip', ['-6', 'addr', 'add', 'fd00:41::1/64', 'dev', 'lo']);
    const nbrLl = await linkLocalOf(lab, ll, 'eth0');
    await Promise.all([
      startPeer('gobgp', lab, mh, {
        asn: 65030,
        routerId: '10.30.0.2',
        neighbors: [{ address: addr(t.a.spec.node4), asn: NODE_ASN, multihop: 3, families: ['ipv4'] }],
        announce: [{ prefix: '192.168.40.0/24' }],
      }),
      startPeer('gobgp', lab, ll, {
        asn: NODE_ASN,
        routerId: '10.40.0.2',
        neighbors: [{ address: 'fd00:c::1', asn: NODE_ASN, families: ['ipv6'] }],
        announce: [{ prefix: 'fd00:41::/64', nextHop: nbrLl }],
      }),
    ]);
    st.policy = {
      ...st.policy,
      extraNeighbors: [
        { peer: '10.30.0.2/32', asn: 65030, lines: ['eBGPMultihopTTL: 3', 'families: [{afi: ipv4, safi: unicast}]'] },
        { peer: 'fd00:c::2/128', asn: NODE_ASN, lines: ['families: [{afi: ipv6, safi: unicast}]'] },
      ],
    };
    writeConfig();
    daemon.signal('SIGHUP');
    st.extra = [`192.168.40.0/24 via router-a dev ${t.a.nodeIf} metric 20`, `fd00:41::/64 via ${nbrLl} dev eth-c metric 20`];
    await waitKernel('multihop route via router A, link-local route on eth-c', 20_000);

    const rib = await daemon.json<RibEntry[]>(['global', 'rib']);
    assert.equal(rib.find((e) => e.prefix === '192.168.40.0/24')?.paths[0]?.nextHop, '10.30.0.2', 'the BGP next hop is the far peer');
    const fib = await daemon.json<FibRoute[]>(['fib']);
    const mhRoute = fib.find((x) => x.prefix === '192.168.40.0/24');
    assert.equal(mhRoute?.status, 'installed');
    assert.deepEqual(mhRoute?.nexthops.map((h) => h.gateway), ['10.30.0.2'], 'tsbgp fib: the BGP next hop');
    assert.deepEqual(
      mhRoute?.kernel?.nexthops.map((h) => [h.gateway, h.dev]),
      [[addr(t.a.spec.router4), t.a.nodeIf]],
      'tsbgp fib: installed via the resolved gateway',
    );
    const via6 = await routeGet(lab, t.node, 'fd00:41::1');
    assert.deepEqual([via6.gateway, via6.dev], [nbrLl, 'eth-c']);
    for (const host of ['192.168.40.1', 'fd00:41::1']) {
      const p = await ping(lab, t.node, host);
      assert.ok(p.ok, `ping ${host}:\n${p.output}`);
    }

    // The static route goes: the multihop next hop no longer resolves, its route leaves at once.
    const t0 = Date.now();
    await lab.check(t.node, 'ip', ['route', 'del', '10.30.0.0/24']);
    st.extra = st.extra.filter((l) => !l.startsWith('192.168.40.0/24'));
    await waitKernel('the multihop route left with the static route', 4000);
    assert.ok(Date.now() - t0 < 4000, 'before any hold timer');
  });
});
