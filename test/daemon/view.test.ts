// The API's DaemonView over a real Daemon: a config file with three neighbours, two
// "router" Speakers on 127.0.0.2 and 127.0.0.3 (real TCP on loopback) that announce
// routes, the dry-run (memory) FIB. Every read model is checked against values worked
// out by hand from the announcements, the import policy and RFC 4271 §9.1.2.2, and
// against what the other side (router, simulated kernel) actually has.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../src/api/server.js';
import { connect } from '../../src/api/client.js';
import { ApiError, ErrorCode } from '../../src/api/errors.js';
import type { AdjRibRoute, ApiEvent, FibQuery, FibRoute, NeighborInfo, NeighborRef, RibEntry, RibQuery } from '../../src/api/types.js';
import { Daemon } from '../../src/daemon/daemon.js';
import type { Speaker } from '../../src/daemon/speaker.js';
import { DaemonApiView, attributesView, capabilityList, communityText } from '../../src/daemon/view.js';
import { silentLogger } from '../../src/observability/log.js';
import { emptyAttributes } from '../../src/wire/attrs/types.js';
import { emptyCapabilities } from '../../src/wire/open-types.js';
import { RouteRecorder } from '../lib/route-recorder.js';
import { waitFor } from '../lib/proc.js';
import { NODE_AS_SEEN_BY_ROUTER, labManifest, startRouter } from './instance-lab.js';

const SECRET = 'view-test-md5-secret';
const INSTANCE = 'vr-65001';
const A: NeighborRef = { instance: INSTANCE, address: '127.0.0.2' };
const B: NeighborRef = { instance: INSTANCE, address: '127.0.0.3' };
const C: NeighborRef = { instance: INSTANCE, address: '127.0.0.4' };

function manifest(portA: number, portB: number): string {
  return labManifest(
    [
      { address: '127.0.0.2', port: portA, asn: 65010, prefixLimit: '{maxPrefixes: 4, restartTimerSeconds: 1}' },
      { address: '127.0.0.3', port: portB, asn: 65020 },
      { address: '127.0.0.4', port: 1, asn: 65030, authSecretRef: 'c-auth' },
    ],
    [`apiVersion: v1\nkind: Secret\nmetadata: {name: c-auth, namespace: kube-system}\nstringData: {password: ${SECRET}}`],
  );
}

interface Lab {
  readonly daemon: Daemon;
  readonly view: DaemonApiView;
  readonly routerA: Speaker;
  readonly routerB: Speaker;
  readonly recA: RouteRecorder;
  readonly file: string;
  readonly dir: string;
}

let lab: Lab;

const ribQuery = (over: Partial<RibQuery> = {}): RibQuery => ({ instance: null, afi: null, prefix: null, match: 'exact', ...over });
const ribAll = (over: Partial<RibQuery> = {}): RibEntry[] => [...lab.view.rib(ribQuery(over))];
const neighbor = (address: string): NeighborInfo => {
  const n = lab.view.neighbors().find((x) => x.address === address);
  assert.ok(n, `neighbor ${address} listed`);
  return n;
};
const runtime = () => lab.daemon.instances.get(INSTANCE)!;
/** The fib stream (sync, or async when it reads the kernel) collected. */
const fibAll = async (over: Partial<FibQuery> = {}): Promise<FibRoute[]> => {
  const out: FibRoute[] = [];
  for await (const r of lab.view.fib({ instance: null, afi: null, status: null, kernel: false, ...over })) out.push(r);
  return out;
};
const kernelRoutes = async () => (await runtime().fib!.dump()).filter((r) => r.protocol === 186);

before(async () => {
  const recA = new RouteRecorder();
  const routerA = await startRouter('127.0.0.2', 65010, '10.0.0.10', recA);
  const routerB = await startRouter('127.0.0.3', 65020, '10.0.0.20', new RouteRecorder());
  for (const r of [routerA, routerB]) r.addNeighbor(NODE_AS_SEEN_BY_ROUTER);
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-view-'));
  const file = join(dir, 'node.yaml');
  writeFileSync(file, manifest(routerA.listenPort!, routerB.listenPort!));
  const daemon = new Daemon({ configPaths: [file], nodeName: 'node1', fib: 'memory', log: silentLogger() });
  assert.equal(await daemon.start(), true, 'the configuration loads');
  lab = { daemon, view: new DaemonApiView(daemon), routerA, routerB, recA, file, dir };
  await waitFor(() => routerA.neighbor('127.0.0.1')!.peer.state.name === 'Established' && routerB.neighbor('127.0.0.1')!.peer.state.name === 'Established', 10_000);
  routerA.announce([
    { prefix: '192.168.1.0/24', communities: [((65010 << 16) | 100) >>> 0, 0xffffff01], largeCommunities: [[65010, 1, 2]] },
    { prefix: '192.168.2.0/24' },
    { prefix: '172.16.0.0/16' }, // no rule matches: rejected, but counted as received
  ]);
  routerB.announce([
    { prefix: '192.168.1.0/24' }, // a second path: loses on router ID (10.0.0.10 < 10.0.0.20)
    { prefix: '192.168.9.0/24', nextHop: '203.0.113.1' }, // next hop on no connected subnet
  ]);
  await waitFor(async () => (await kernelRoutes()).length === 2, 10_000);
  await waitFor(() => ribAll({ prefix: '192.168.1.0/24' })[0]?.paths.length === 2 && ribAll({ prefix: '192.168.9.0/24' }).length === 1, 10_000);
  await runtime().settled();
});

after(async () => {
  await lab.daemon.stop();
  await lab.routerA.stop();
  await lab.routerB.stop();
  rmSync(lab.dir, { recursive: true, force: true });
});

test('global: node, version, instance summary with per-family counts, FIB totals', () => {
  const g = lab.view.global();
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(g.nodeName, 'node1');
  assert.equal(g.version, pkg.version);
  assert.equal(g.pid, process.pid);
  assert.ok(g.uptime >= 0 && g.uptime < 120);
  assert.equal(g.instances.length, 1);
  const i = g.instances[0]!;
  assert.equal(i.name, INSTANCE);
  assert.equal(i.localAs, 65001);
  assert.equal(i.routerId, '10.0.0.1');
  assert.equal(i.listenPort, null, 'v1 without local-port: connects out only');
  assert.equal(i.neighbors, 3);
  assert.equal(i.established, 2);
  assert.deepEqual(i.families, [
    // Best paths: 192.168.1.0/24 and .2.0/24 (.9.0/24 has no resolvable next hop); paths: A 2 + B 2.
    { afi: 'ipv4', safi: 'unicast', prefixes: 2, paths: 4, installed: 2, originated: 1 },
    { afi: 'ipv6', safi: 'unicast', prefixes: 0, paths: 0, installed: 0, originated: 0 },
  ]);
  assert.deepEqual(i.routeInstall, { enabled: true, table: 254, metric: 20, protocol: 186, maxPaths: 1 });
  assert.equal(g.fib.installed, 2);
  assert.equal(g.fib.pending, 0);
  assert.equal(g.fib.conflicts, 0);
  assert.equal(g.fib.errors, 0);
  assert.equal(g.fib.kernel, false, 'memory FIB: a dry run');
  // Kernel writes by kind come from the FIB backend's counters (one add per installed route).
  assert.deepEqual(g.fib.operations, runtime().fib!.stats().operations);
  assert.ok(g.fib.operations.add >= 2, `adds: ${JSON.stringify(g.fib.operations)}`);
});

test('neighbors: sorted, states, counts per family, timers, capabilities, messages', async () => {
  const list = lab.view.neighbors();
  assert.deepEqual(list.map((n) => n.address), ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
  const a = list[0]!;
  assert.equal(a.instance, INSTANCE);
  assert.equal(a.name, '127.0.0.2');
  assert.equal(a.port, lab.routerA.listenPort);
  assert.equal(a.peerAs, 65010);
  assert.equal(a.remoteAs, 65010);
  assert.equal(a.localAs, 65001);
  assert.equal(a.localAddress, '127.0.0.1');
  assert.equal(a.routerId, '10.0.0.10');
  assert.equal(a.state, 'Established');
  assert.equal(a.adminDown, false);
  assert.equal(typeof a.uptime, 'number');
  assert.equal(a.downtime, null);
  assert.equal(a.establishedCount, 1);
  assert.equal(a.lastError, null);
  assert.deepEqual(a.gracefulRestart, { phase: 'none', expiresIn: null });
  assert.deepEqual(a.outQueue, { bytes: 0, prefixes: 0 }, 'a reading peer has nothing waiting');
  // keepalive: min(configured 3, hold/3 = 3) (RFC 4271 §10).
  assert.deepEqual(a.timers, { holdTime: 9, keepalive: 3, connectRetry: 1, negotiatedHoldTime: 9, negotiatedKeepalive: 3 });
  assert.deepEqual(a.families, [
    {
      afi: 'ipv4',
      safi: 'unicast',
      negotiated: true,
      received: 3, // 172.16.0.0/16 counts before policy
      accepted: 2,
      installed: 2,
      advertised: 1, // the pod CIDR
      stale: 0,
      // 3 received ≥ 75 % of 4: the warning holds.
      prefixLimit: { max: 4, warningThresholdPercent: 75, warning: true, overflow: false, restartIn: null },
    },
  ]);
  const cap = (n: NeighborInfo, name: string) => n.capabilities.find((c) => c.name === name);
  assert.deepEqual(cap(a, 'route-refresh'), { name: 'route-refresh', advertised: true, received: true });
  assert.deepEqual(cap(a, 'multiprotocol ipv4-unicast'), { name: 'multiprotocol ipv4-unicast', advertised: true, received: true });
  // The router announces both families by default; we configured ipv4 only.
  assert.deepEqual(cap(a, 'multiprotocol ipv6-unicast'), { name: 'multiprotocol ipv6-unicast', advertised: false, received: true });
  assert.deepEqual(cap(a, '4-octet-as'), { name: '4-octet-as', advertised: true, received: true });
  assert.equal(cap(a, 'graceful-restart'), undefined, 'neither side announced it');

  // Messages: exactly one OPEN each way; the per-type counts add up to the totals, and
  // what we sent is what the router received (the session is quiet between reads).
  const peerA = lab.routerA.neighbor('127.0.0.1')!.peer;
  const m = a.messages;
  assert.equal(m.sent.open, 1);
  assert.equal(m.received.open, 1);
  assert.ok(m.received.update >= 2, 'the routes and End-of-RIB');
  for (const c of [m.sent, m.received]) assert.equal(c.open + c.update + c.notification + c.keepalive + c.routeRefresh, c.total);
  assert.equal(m.sent.update, peerA.counters.updatesIn, 'UPDATEs we sent = UPDATEs the router read');

  const b = list[1]!;
  assert.equal(b.state, 'Established');
  assert.equal(b.families[0]!.received, 2);
  assert.equal(b.families[0]!.accepted, 2);
  assert.equal(b.families[0]!.installed, 0, 'its 192.168.1.0/24 path is not the best, .9.0/24 is unresolved');
  assert.equal(b.families[0]!.prefixLimit, null);

  const c = list[2]!;
  assert.notEqual(c.state, 'Established');
  assert.equal(c.uptime, null);
  assert.equal(typeof c.downtime, 'number');
  assert.equal(c.remoteAs, null);
  assert.equal(c.routerId, null);
  assert.equal(c.establishedCount, 0);
  assert.equal(c.timers.negotiatedHoldTime, null);
  assert.equal(c.families[0]!.negotiated, false);
  assert.equal(c.families[0]!.received, 0);
});

test('rib: paths best first with the decision step the others lost on; prefix filters', () => {
  const all = ribAll();
  assert.deepEqual(all.map((e) => e.prefix), ['192.168.1.0/24', '192.168.2.0/24', '192.168.9.0/24'], 'prefix order');
  const e = all[0]!;
  assert.equal(e.instance, INSTANCE);
  assert.equal(e.afi, 'ipv4');
  assert.equal(e.paths.length, 2);
  const [best, other] = e.paths as [RibEntry['paths'][0], RibEntry['paths'][0]];
  assert.equal(best.neighbor, '127.0.0.2');
  assert.equal(best.best, true);
  assert.equal(best.reason, null);
  assert.equal(best.nextHop, '127.0.0.2');
  assert.deepEqual(best.asPath, [{ type: 'sequence', asns: [65010] }]);
  assert.equal(best.origin, 'igp');
  assert.equal(best.localPref, null, 'eBGP: no LOCAL_PREF on the wire');
  assert.equal(best.med, null);
  assert.deepEqual(best.communities, ['65010:100', 'no-export']);
  assert.deepEqual(best.largeCommunities, ['65010:1:2']);
  assert.equal(best.pathId, null);
  assert.equal(best.stale, false);
  // Equal LOCAL_PREF, AS_PATH length, ORIGIN; MED not compared (different neighbour AS);
  // both eBGP, same IGP cost: the lower BGP Identifier wins (RFC 4271 §9.1.2.2 f).
  assert.equal(other.neighbor, '127.0.0.3');
  assert.equal(other.best, false);
  assert.equal(other.multipath, false);
  assert.equal(other.reason, 'router-id');
  assert.deepEqual(other.asPath, [{ type: 'sequence', asns: [65020] }]);

  const unresolved = all[2]!.paths;
  assert.equal(unresolved.length, 1);
  assert.equal(unresolved[0]!.best, false);
  assert.equal(unresolved[0]!.nextHop, '203.0.113.1');
  assert.equal(unresolved[0]!.reason, 'next-hop-unresolvable');

  assert.deepEqual(ribAll({ prefix: '192.168.2.0/24' }).map((x) => x.prefix), ['192.168.2.0/24']);
  assert.deepEqual(ribAll({ prefix: '192.168.2.0/25' }), [], 'exact: no such prefix');
  assert.deepEqual(ribAll({ prefix: '192.168.2.77/32', match: 'longest' }).map((x) => x.prefix), ['192.168.2.0/24']);
  assert.deepEqual(ribAll({ prefix: '10.9.9.9/32', match: 'longest' }), []);
  assert.deepEqual(ribAll({ afi: 'ipv6' }), []);
  assert.deepEqual(ribAll({ instance: 'vr-other' }), []);
  assert.equal(ribAll({ instance: INSTANCE, afi: 'ipv4' }).length, 3);
});

test('adjRibIn: the neighbour\'s accepted routes; adjRibOut: what we send it, as the router received it', () => {
  const inA: AdjRibRoute[] = [...lab.view.adjRibIn({ neighbor: A, afi: null })];
  assert.deepEqual(inA.map((r) => r.prefix), ['192.168.1.0/24', '192.168.2.0/24']);
  for (const r of inA) {
    assert.equal(r.neighbor, '127.0.0.2');
    assert.equal(r.accepted, true);
    assert.equal(r.reason, null);
    assert.equal(r.nextHop, '127.0.0.2');
  }
  assert.deepEqual(inA[0]!.communities, ['65010:100', 'no-export']);
  assert.deepEqual([...lab.view.adjRibIn({ neighbor: A, afi: 'ipv6' })], []);
  assert.deepEqual([...lab.view.adjRibIn({ neighbor: B, afi: null })].map((r) => r.prefix), ['192.168.1.0/24', '192.168.9.0/24']);
  assert.deepEqual([...lab.view.adjRibIn({ neighbor: C, afi: null })], []);

  const out = [...lab.view.adjRibOut({ neighbor: A, afi: null })];
  assert.equal(out.length, 1);
  const o = out[0]!;
  assert.equal(o.prefix, '10.244.1.0/24');
  assert.equal(o.accepted, true);
  const got = lab.recA.table('127.0.0.1').get('10.244.1.0/24');
  assert.ok(got, 'the router has our pod CIDR');
  // eBGP: our AS prepended; next hop our address on the session (RFC 4271 §5.1.2, 5.1.3).
  assert.deepEqual(o.asPath, [{ type: 'sequence', asns: [65001] }]);
  assert.deepEqual(o.asPath, got.attrs.asPath.map((s) => ({ type: s.type === 2 ? 'sequence' : 'set', asns: [...s.asns] })));
  assert.equal(o.nextHop, '127.0.0.1');
  assert.equal(o.nextHop, [...got.attrs.nextHop!].join('.'));
  assert.equal(o.origin, 'igp');
  assert.equal(o.localPref, null);
  // Not established: the route is in its Adj-RIB-Out, the next hop is not known yet.
  const outC = [...lab.view.adjRibOut({ neighbor: C, afi: null })];
  assert.deepEqual(outC.map((r) => [r.prefix, r.nextHop]), [['10.244.1.0/24', '']]);
  assert.deepEqual([...lab.view.adjRibOut({ neighbor: A, afi: 'ipv6' })], []);
});

test('fib: best paths with their next hops and status, as the (simulated) kernel has them', async () => {
  const all: FibRoute[] = await fibAll();
  assert.deepEqual(all.map((r) => [r.prefix, r.status]), [
    ['192.168.1.0/24', 'installed'],
    ['192.168.2.0/24', 'installed'],
    ['192.168.9.0/24', 'unresolved-nexthop'],
  ]);
  // A prefix whose only path is not eligible is listed, with the next hop that does not resolve.
  const unresolved = all[2]!;
  assert.deepEqual(unresolved.nexthops, [{ gateway: '203.0.113.1', dev: null, weight: 1 }]);
  assert.equal(unresolved.kernel, null);
  assert.deepEqual((await fibAll({ status: 'unresolved-nexthop' })).map((r) => r.prefix), ['192.168.9.0/24']);
  const routes = all.slice(0, 2);
  const kernel = await kernelRoutes();
  for (const r of routes) {
    assert.equal(r.instance, INSTANCE);
    assert.equal(r.afi, 'ipv4');
    assert.equal(r.table, 254);
    assert.equal(r.metric, 20);
    assert.equal(r.protocol, 186);
    assert.deepEqual(r.nexthops, [{ gateway: '127.0.0.2', dev: 'lo', weight: 1 }]);
    assert.equal(r.detail, null);
    const k = kernel.find((x) => x.dst === r.prefix);
    assert.ok(k, `${r.prefix} is in the kernel`);
    // Routes point at a nexthop object: the FIB's own record of it names the gateway.
    const rs = runtime().fib!.route(r.prefix)!;
    assert.equal(rs.installed, k.nhId > 0 ? `id:${k.nhId}` : rs.installed);
    assert.deepEqual(k.nhId > 0 ? rs.gateways : k.nexthops.map((h) => h.gateway), ['127.0.0.2']);
    assert.deepEqual(r.kernel, { protocol: k.protocol, metric: k.metric, nexthops: [{ gateway: '127.0.0.2', dev: 'lo', weight: 1 }], nexthopId: null });
  }
  assert.deepEqual(await fibAll({ status: 'pending' }), []);
  assert.equal((await fibAll({ instance: INSTANCE, afi: 'ipv4', status: 'installed' })).length, 2);
  assert.deepEqual(await fibAll({ afi: 'ipv6' }), []);

  // Compared with the kernel's table (a dump): the same rows, the kernel side read from it.
  const compared = await fibAll({ kernel: true });
  assert.deepEqual(compared.map((r) => [r.prefix, r.status]), all.map((r) => [r.prefix, r.status]));
  for (const r of compared.slice(0, 2)) {
    const k = kernel.find((x) => x.dst === r.prefix)!;
    assert.deepEqual(r.kernel, {
      protocol: 186,
      metric: 20,
      // A nexthop object tsbgp created: its next hops are the ones tsbgp gave it.
      nexthops: [{ gateway: '127.0.0.2', dev: 'lo', weight: 1 }],
      nexthopId: k.nhId > 0 ? k.nhId : null,
    });
  }
  assert.deepEqual(await fibAll({ kernel: true, status: 'stale' }), [], 'nothing of ours that is not wanted');
  assert.deepEqual(await fibAll({ kernel: true, status: 'missing' }), []);
});

test('config: files, the applied configuration with the password redacted, the last reload', () => {
  const c = lab.view.config();
  assert.deepEqual(c.files, [lab.file]);
  const text = JSON.stringify(c);
  assert.ok(!text.includes(SECRET), 'the MD5 password never leaves the daemon');
  const applied = c.applied as { nodeName: string; instances: { name: string; peers: { address: string; md5Password?: string; authSecretRef?: string }[] }[] };
  assert.equal(applied.nodeName, 'node1');
  const peerC = applied.instances[0]!.peers.find((p) => p.address === '127.0.0.4')!;
  assert.equal(peerC.md5Password, '<redacted>');
  assert.equal(peerC.authSecretRef, 'c-auth');
  assert.equal(typeof c.appliedAge, 'number');
  assert.ok(c.lastReload);
  assert.equal(c.lastReload.ok, true);
  assert.equal(c.lastReload.trigger, 'start');
  assert.deepEqual(c.lastReload.errors, []);
  assert.deepEqual(c.lastReload.changes, [`instance ${INSTANCE} started`]);
});

test('the real ApiServer and ApiClient over a Unix socket serve the view', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-view-api-'));
  const server = new ApiServer(lab.view, { socketPath: join(dir, 'tsbgpd.sock') });
  await server.listen();
  const client = await connect({ socketPath: server.socketPath });
  try {
    const list = await client.call('neighbors');
    assert.deepEqual(list.map((n) => [n.instance, n.address, n.state]), [
      [INSTANCE, '127.0.0.2', 'Established'],
      [INSTANCE, '127.0.0.3', 'Established'],
      [INSTANCE, '127.0.0.4', neighbor('127.0.0.4').state],
    ]);
    const one = await client.call('neighbors', { address: '127.0.0.3' });
    assert.deepEqual(one.map((n) => n.routerId), ['10.0.0.20']);
    const rows: RibEntry[] = [];
    for await (const e of client.stream('rib', { prefix: '192.168.1.0/24' })) rows.push(e);
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.paths.map((p) => [p.neighbor, p.best, p.reason]), [
      ['127.0.0.2', true, null],
      ['127.0.0.3', false, 'router-id'],
    ]);
    const all: RibEntry[] = [];
    const stream = client.stream('rib', { afi: 'ipv4', limit: 2 });
    for await (const e of stream) all.push(e);
    assert.deepEqual(all.map((e) => e.prefix), ['192.168.1.0/24', '192.168.2.0/24']);
    assert.equal((await stream.summary).limited, true);
    const adj: AdjRibRoute[] = [];
    for await (const r of client.stream('adjRibIn', { address: '127.0.0.2' })) adj.push(r);
    assert.equal(adj.length, 2);
    const cfg = await client.call('config');
    assert.ok(!JSON.stringify(cfg).includes(SECRET));
  } finally {
    client.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('softReset: in sends ROUTE-REFRESH, out re-sends the Adj-RIB-Out; refused when not established', async () => {
  const routerPeer = lab.routerA.neighbor('127.0.0.1')!.peer;
  const refreshes: { afi: number; safi: number }[] = [];
  const onRefresh = (m: { afi: number; safi: number }) => refreshes.push({ afi: m.afi, safi: m.safi });
  routerPeer.on('routeRefresh', onRefresh);
  try {
    const before = neighbor('127.0.0.2').messages.sent.routeRefresh;
    lab.view.softReset(A, 'in');
    await waitFor(() => refreshes.length === 1, 5000);
    assert.deepEqual(refreshes, [{ afi: 1, safi: 1 }], 'one per negotiated family: IPv4 unicast');
    assert.equal(neighbor('127.0.0.2').messages.sent.routeRefresh, before + 1);

    const updatesBefore = routerPeer.counters.updatesIn;
    lab.view.softReset(A, 'out');
    await waitFor(() => routerPeer.counters.updatesIn > updatesBefore, 5000);

    assert.throws(() => lab.view.softReset(C, 'in'), (e: unknown) => e instanceof ApiError && e.code === ErrorCode.NOT_POSSIBLE);
    assert.throws(() => lab.view.softReset(C, 'out'), (e: unknown) => e instanceof ApiError && e.code === ErrorCode.NOT_POSSIBLE);
  } finally {
    routerPeer.off('routeRefresh', onRefresh);
  }
});

test('events: shutdown and enable give admin and peer-state events; the RIB and FIB follow; unsubscribe stops them', async () => {
  const events: ApiEvent[] = [];
  const unsubscribe = lab.view.subscribe((e) => events.push(e));
  const ofA = () => events.filter((e) => 'neighbor' in e && e.neighbor === '127.0.0.2');
  try {
    lab.view.shutdown(A, 'maintenance');
    await waitFor(() => ofA().some((e) => e.type === 'peer-state' && e.from === 'Established'), 5000);
    const admin = ofA().find((e) => e.type === 'admin');
    assert.deepEqual(admin && { ...admin, time: 'x' }, { type: 'admin', time: 'x', instance: INSTANCE, neighbor: '127.0.0.2', action: 'shutdown', message: 'maintenance' });
    const down = ofA().find((e) => e.type === 'peer-state' && e.from === 'Established');
    assert.ok(down && down.type === 'peer-state');
    assert.equal(down.to, 'Idle');
    assert.equal(down.reason, 'Cease/Administrative Shutdown: "maintenance"');
    assert.ok(!Number.isNaN(Date.parse(down.time)));

    const a = neighbor('127.0.0.2');
    assert.equal(a.state, 'Idle');
    assert.equal(a.adminDown, true);
    assert.equal(a.uptime, null);
    assert.equal(typeof a.downtime, 'number');
    assert.deepEqual(a.lastError && { ...a.lastError, age: 0 }, {
      direction: 'sent', code: 6, subcode: 2, text: 'Cease/Administrative Shutdown: "maintenance"', message: 'maintenance', age: 0,
    });
    assert.equal(a.messages.sent.notification, 1);
    assert.throws(() => lab.view.reset(A), (e: unknown) => e instanceof ApiError && e.code === ErrorCode.NOT_POSSIBLE, 'reset does not override a shutdown');

    // A's routes are gone: B's path is now the best, and the kernel follows.
    await waitFor(() => ribAll({ prefix: '192.168.1.0/24' })[0]?.paths.length === 1, 5000);
    assert.deepEqual(ribAll().map((e) => e.prefix), ['192.168.1.0/24', '192.168.9.0/24']);
    const only = ribAll({ prefix: '192.168.1.0/24' })[0]!.paths[0]!;
    assert.equal(only.neighbor, '127.0.0.3');
    assert.equal(only.best, true);
    await runtime().settled();
    await waitFor(async () => {
      const f = (await fibAll()).filter((r) => r.status !== 'unresolved-nexthop');
      return f.length === 1 && f[0]!.nexthops[0]!.gateway === '127.0.0.3' && f[0]!.status === 'installed';
    }, 5000);
    assert.equal(neighbor('127.0.0.2').families[0]!.accepted, 0);
    // Still down a moment later: an operator shutdown does not restart by itself.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(neighbor('127.0.0.2').state, 'Idle');

    lab.view.enable(A);
    assert.ok(ofA().some((e) => e.type === 'admin' && e.action === 'enable' && e.message === null));
    await waitFor(() => neighbor('127.0.0.2').state === 'Established', 15_000);
    const up = ofA().filter((e) => e.type === 'peer-state' && e.to === 'Established');
    assert.equal(up.length, 1);
    assert.equal(up[0]!.type === 'peer-state' && up[0]!.reason, null);
    const a2 = neighbor('127.0.0.2');
    assert.equal(a2.adminDown, false);
    assert.equal(a2.establishedCount, 2);
    await waitFor(() => ribAll({ prefix: '192.168.1.0/24' })[0]?.paths.length === 2, 5000);
  } finally {
    unsubscribe();
  }
  const seen = events.length;
  lab.view.softReset(A, 'out');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(events.length, seen, 'nothing after unsubscribe');
});

test('a rib stream stays valid while the table changes under it', async () => {
  const it = lab.view.rib(ribQuery({ afi: 'ipv4' }))[Symbol.iterator]();
  const first = it.next();
  assert.equal(!first.done && first.value.prefix, '192.168.1.0/24');
  lab.routerA.withdraw(['192.168.2.0/24']);
  await waitFor(() => ribAll({ prefix: '192.168.2.0/24' }).length === 0, 5000);
  const rest: string[] = [];
  for (let r = it.next(); !r.done; r = it.next()) rest.push(r.value.prefix);
  assert.deepEqual(rest, ['192.168.9.0/24'], 'the withdrawn prefix is skipped, the walk goes on');
});

test('prefix limit: overflow and automatic restart show in events and in the neighbour', async () => {
  const events: ApiEvent[] = [];
  const unsubscribe = lab.view.subscribe((e) => events.push(e));
  try {
    assert.equal(neighbor('127.0.0.2').families[0]!.received, 2, '192.168.2.0/24 was withdrawn');
    lab.routerA.announce([{ prefix: '192.168.3.0/24' }, { prefix: '192.168.4.0/24' }, { prefix: '192.168.5.0/24' }]);
    await waitFor(() => events.some((e) => e.type === 'prefix-limit' && e.kind === 'overflow'), 5000);
    const over = events.find((e) => e.type === 'prefix-limit' && e.kind === 'overflow');
    assert.deepEqual(over && { ...over, time: 'x' }, {
      type: 'prefix-limit', time: 'x', instance: INSTANCE, neighbor: '127.0.0.2', afi: 'ipv4', safi: 'unicast', kind: 'overflow', count: 5, max: 4,
    });
    const text = 'Cease/Maximum Number of Prefixes Reached (AFI 1 SAFI 1, limit 4)';
    await waitFor(() => events.some((e) => e.type === 'peer-state' && e.neighbor === '127.0.0.2' && e.from === 'Established'), 5000);
    const down = events.find((e) => e.type === 'peer-state' && e.neighbor === '127.0.0.2' && e.from === 'Established');
    assert.equal(down?.type === 'peer-state' && down.reason, text);
    const a = neighbor('127.0.0.2');
    assert.notEqual(a.state, 'Established');
    assert.equal(a.adminDown, false);
    assert.deepEqual(a.lastError && [a.lastError.direction, a.lastError.code, a.lastError.subcode, a.lastError.text, a.lastError.message], ['sent', 6, 1, text, null]);
    const limit = a.families[0]!.prefixLimit;
    assert.ok(limit);
    assert.equal(limit.overflow, true);
    assert.ok(limit.restartIn !== null && limit.restartIn >= 0 && limit.restartIn <= 1, `restart within the 1 s timer (${limit.restartIn})`);
    assert.equal(a.families[0]!.accepted, 0, 'routes dropped');
    // The router fixes its side; the restart timer brings the session back.
    lab.routerA.withdraw(['192.168.3.0/24', '192.168.4.0/24', '192.168.5.0/24']);
    await waitFor(() => neighbor('127.0.0.2').state === 'Established', 15_000);
    const restart = events.filter((e) => e.type === 'prefix-limit' && e.kind === 'restart');
    assert.equal(restart.length, 1);
    assert.deepEqual(restart[0] && { ...restart[0], time: 'x' }, {
      type: 'prefix-limit', time: 'x', instance: INSTANCE, neighbor: '127.0.0.2', afi: 'ipv4', safi: 'unicast', kind: 'restart', count: 0, max: 4,
    });
    await waitFor(() => neighbor('127.0.0.2').families[0]!.accepted === 1, 5000);
    assert.equal(neighbor('127.0.0.2').families[0]!.prefixLimit?.overflow, false);
  } finally {
    unsubscribe();
  }
});

test('pure helpers: community names, attribute views, capability lists', () => {
  assert.equal(communityText(0xffffff01), 'no-export');
  assert.equal(communityText(0xffff029a), 'blackhole');
  assert.equal(communityText(((65000 << 16) | 7) >>> 0), '65000:7');
  assert.equal(communityText(0), '0:0');
  const a = emptyAttributes();
  a.origin = 2;
  a.asPath = [{ type: 2, asns: [1, 2] }, { type: 1, asns: [3, 4] }, { type: 3, asns: [5] }, { type: 4, asns: [6] }];
  a.med = 0;
  a.localPref = 200;
  a.largeCommunities = Uint32Array.from([4200000000, 1, 2, 7, 8, 9]);
  assert.deepEqual(attributesView(a, '2001:db8::1'), {
    nextHop: '2001:db8::1',
    asPath: [
      { type: 'sequence', asns: [1, 2] },
      { type: 'set', asns: [3, 4] },
      { type: 'confed-sequence', asns: [5] },
      { type: 'confed-set', asns: [6] },
    ],
    origin: 'incomplete',
    med: 0,
    localPref: 200,
    communities: [],
    largeCommunities: ['4200000000:1:2', '7:8:9'],
  });
  const ours = emptyCapabilities();
  ours.multiprotocol = [{ afi: 1, safi: 1 }];
  ours.routeRefresh = true;
  ours.fourOctetAs = 65001;
  assert.deepEqual(capabilityList(ours, undefined), [
    { name: 'multiprotocol ipv4-unicast', advertised: true, received: false },
    { name: 'route-refresh', advertised: true, received: false },
    { name: '4-octet-as', advertised: true, received: false },
  ]);
  const theirs = emptyCapabilities();
  theirs.multiprotocol = [{ afi: 2, safi: 1 }];
  theirs.gracefulRestart = { restartState: false, notification: false, restartTime: 120, families: [] };
  theirs.unknown = [{ code: 70, value: Buffer.alloc(0) }];
  assert.deepEqual(capabilityList(ours, theirs), [
    { name: 'multiprotocol ipv4-unicast', advertised: true, received: false },
    { name: 'multiprotocol ipv6-unicast', advertised: false, received: true },
    { name: 'route-refresh', advertised: true, received: false },
    { name: '4-octet-as', advertised: true, received: false },
    { name: 'graceful-restart', advertised: false, received: true },
    { name: 'capability 70', advertised: false, received: true },
  ]);
});
