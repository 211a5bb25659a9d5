// InstanceRuntime and inbound policy changes, one process, real TCP on loopback, memory
// FIB: soft reconfiguration (re-evaluated from the copies, no ROUTE-REFRESH on the
// wire), route refresh when there are no copies, Cease/6 when the peer cannot refresh;
// plus a connect-retry change reaching the running neighbour, and link-local next hops
// resolved through the session's own interface.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Instance } from '../../src/config/model.js';
import type { SimKernel } from '../../src/fib/memory.js';
import { InstanceRuntime, type InboundPolicyAction } from '../../src/daemon/instance.js';
import type { Neighbor } from '../../src/daemon/speaker.js';
import { acceptRule } from '../lib/cilium-manifest.js';
import { sleep, waitFor } from '../lib/proc.js';
import { NODE_AS_SEEN_BY_ROUTER, labInstance, labManifest, loopback, startInstanceLab } from './instance-lab.js';

interface Opts {
  readonly port: number;
  readonly soft: boolean;
  /** Prefix rules accepted (ge 24); everything else is rejected. */
  readonly accept: readonly string[];
  readonly connectRetry?: number;
  readonly families?: string;
  readonly defaultAction?: 'Accept' | 'Reject';
}

function manifest(o: Opts): string {
  return labManifest([
    {
      port: o.port,
      ...(o.connectRetry !== undefined ? { connectRetry: o.connectRetry } : {}),
      ...(o.families !== undefined ? { families: o.families } : {}),
      defaultAction: o.defaultAction ?? 'Reject',
      softReconfiguration: o.soft,
      rules: o.accept.map((c, i) => acceptRule(`r${i}`, c, { ge: 24 })),
    },
  ]);
}

const instance = (o: Opts): Instance => labInstance(manifest(o));

async function lab(o: Omit<Opts, 'port'>, router: { routeRefresh?: boolean } = {}, seed: (k: SimKernel) => void = loopback) {
  const l = await startInstanceLab((port) => manifest({ ...o, port }), seed);
  const rn = l.router.createNeighbor(NODE_AS_SEEN_BY_ROUTER);
  if (router.routeRefresh === false) {
    // The OPEN is built from this object: a router without RFC 2918 / RFC 7313.
    rn.peer.options.session.capabilities.routeRefresh = false;
    rn.peer.options.session.capabilities.enhancedRouteRefresh = false;
  }
  rn.peer.start();
  const actions: [InboundPolicyAction, string][] = [];
  l.rt.on('inboundPolicy', (_n: Neighbor, a, why) => actions.push([a, why]));
  await l.rt.start();
  const next = (p: Omit<Opts, 'port'>): Instance => instance({ ...p, port: l.port });
  return { ...l, rn, next, actions };
}

const ROUTES = [{ prefix: '192.168.1.0/24' }, { prefix: '192.168.2.0/24' }, { prefix: '172.16.5.0/24' }];

test('softReconfiguration: a policy change is re-evaluated from the copies; no ROUTE-REFRESH, no reset', async () => {
  const l = await lab({ soft: true, accept: ['192.168.1.0/24'] });
  try {
    await waitFor(() => l.rn.peer.state.name === 'Established', 5000);
    l.router.announce(ROUTES);
    await waitFor(async () => (await l.kernelRoutes()).length === 1, 5000);
    await l.rt.settled();
    const n = l.rt.runningPeer('127.0.0.2')!.neighbor;
    assert.equal(l.rt.learner.prePolicyCount(n, 1), 3, 'copies of all three, rejected ones too');
    const rrBefore = l.rn.peer.receivedByType[5]!;
    const ups = l.rn.peer.counters.established;

    l.rt.applyPeer('127.0.0.2', 'soft-reset-in', l.next({ soft: true, accept: ['192.168.2.0/24', '172.16.0.0/16'] }));
    await waitFor(async () => (await l.kernelRoutes()).join() === '172.16.5.0/24,192.168.2.0/24', 5000);
    await sleep(200); // anything on the wire would have arrived
    assert.equal(l.rn.peer.receivedByType[5], rrBefore, 'the router got no ROUTE-REFRESH');
    assert.equal(l.rn.peer.counters.established, ups, 'the session stayed up');
    assert.equal(l.rn.peer.state.name, 'Established');
    assert.equal(l.actions.at(-1)![0], 'reevaluated');

    // `tsbgp neighbor … softreset in` (the API calls refreshIn): local as well.
    assert.equal(l.rt.refreshIn(n), true);
    await sleep(100);
    assert.equal(l.rn.peer.receivedByType[5], rrBefore);
  } finally {
    await l.stop();
  }
});

test('no copies, route refresh negotiated: the policy change sends ROUTE-REFRESH and the resent routes use the new policy', async () => {
  const l = await lab({ soft: false, accept: ['192.168.1.0/24'] });
  try {
    await waitFor(() => l.rn.peer.state.name === 'Established', 5000);
    l.router.announce(ROUTES);
    await waitFor(async () => (await l.kernelRoutes()).length === 1, 5000);
    const rrBefore = l.rn.peer.receivedByType[5]!;
    l.rt.applyPeer('127.0.0.2', 'soft-reset-in', l.next({ soft: false, accept: ['192.168.2.0/24'] }));
    await waitFor(async () => (await l.kernelRoutes()).join() === '192.168.2.0/24', 5000);
    assert.ok(l.rn.peer.receivedByType[5]! > rrBefore, 'ROUTE-REFRESH sent');
    assert.equal(l.actions.at(-1)![0], 'route-refresh');
    assert.equal(l.rn.peer.counters.established, 1, 'no reset');
  } finally {
    await l.stop();
  }
});

test('no copies and no route refresh: the session is reset with Cease/6 and the new policy applies after it', async () => {
  const l = await lab({ soft: false, accept: ['192.168.1.0/24'] }, { routeRefresh: false });
  try {
    await waitFor(() => l.rn.peer.state.name === 'Established', 5000);
    const n = l.rt.runningPeer('127.0.0.2')!.neighbor;
    assert.equal(n.peer.negotiated?.routeRefresh, false);
    l.router.announce(ROUTES);
    await waitFor(async () => (await l.kernelRoutes()).length === 1, 5000);
    let got = '';
    l.rn.peer.on('notificationReceived', (x, text) => (got = `${x.code}/${x.subcode} ${text}`));
    l.rt.applyPeer('127.0.0.2', 'soft-reset-in', l.next({ soft: false, accept: ['192.168.2.0/24'] }));
    await waitFor(() => got !== '', 5000);
    assert.match(got, /^6\/6 /, 'Cease / Other Configuration Change');
    assert.equal(l.actions.at(-1)![0], 'session-reset');
    assert.match(l.actions.at(-1)![1], /route refresh/);
    await waitFor(async () => (await l.kernelRoutes()).join() === '192.168.2.0/24', 10_000);
    assert.equal(l.rn.peer.state.name, 'Established');
    assert.equal(l.rn.peer.counters.established, 2, 'one reset');
    assert.equal(l.rt.refreshIn(n), false, 'soft reset in: neither copies nor route refresh');
  } finally {
    await l.stop();
  }
});

test('softReconfiguration turned on without route refresh: reset once so every route gets a copy; then local', async () => {
  const l = await lab({ soft: false, accept: ['192.168.1.0/24'] }, { routeRefresh: false });
  try {
    await waitFor(() => l.rn.peer.state.name === 'Established', 5000);
    l.router.announce(ROUTES);
    await waitFor(async () => (await l.kernelRoutes()).length === 1, 5000);
    l.rt.applyPeer('127.0.0.2', 'soft-reset-in', l.next({ soft: true, accept: ['192.168.1.0/24'] }));
    assert.equal(l.actions.at(-1)![0], 'session-reset');
    const n = l.rt.runningPeer('127.0.0.2')!.neighbor;
    await waitFor(() => l.rn.peer.counters.established === 2 && l.rt.learner.prePolicyCount(n, 1) === 3, 10_000);
    l.rt.applyPeer('127.0.0.2', 'soft-reset-in', l.next({ soft: true, accept: ['172.16.0.0/16'] }));
    await waitFor(async () => (await l.kernelRoutes()).join() === '172.16.5.0/24', 5000);
    assert.equal(l.actions.at(-1)![0], 'reevaluated');
    assert.equal(l.rn.peer.counters.established, 2, 'no second reset');
    // Off again: the copies go, nothing is asked of the peer.
    l.rt.applyPeer('127.0.0.2', 'soft-reset-in', l.next({ soft: false, accept: ['172.16.0.0/16'] }));
    await waitFor(() => l.rt.learner.prePolicyCount(n, 1) === 0, 5000);
    assert.equal(l.actions.at(-1)![0], 'none');
    assert.equal(l.rn.peer.counters.established, 2);
  } finally {
    await l.stop();
  }
});

test('a connectRetryTimeSeconds change reaches the running neighbour (hot): the next attempt comes with the new time', async () => {
  // A port nobody listens on: every attempt is refused at once, then the retry timer runs.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.2', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const rt = new InstanceRuntime(instance({ port, soft: false, accept: [], connectRetry: 60 }), undefined);
  try {
    let connects = 0;
    rt.on('state', (_n, to) => {
      if (to === 'Connect') connects++;
    });
    await rt.start();
    await waitFor(() => connects >= 1 && rt.runningPeer('127.0.0.2')!.neighbor.peer.state.name === 'Active', 5000);
    await sleep(1500);
    assert.equal(connects, 1, 'with 60 s, no second attempt yet');
    const next = instance({ port, soft: false, accept: [], connectRetry: 1 });
    rt.applyPeer('127.0.0.2', 'hot', next);
    assert.equal(rt.runningPeer('127.0.0.2')!.config.timers.connectRetry, 1);
    await waitFor(() => connects >= 3, 5000); // two more attempts, 0.75–1 s apart
    assert.equal(rt.runningPeer('127.0.0.2')!.neighbor.peer.state.config.connectRetryTime, 1);
  } finally {
    await rt.stop();
  }
});

test('an IPv6 link-local next hop resolves through the interface holding the session\'s local address', async () => {
  let llIf = 0;
  let kernel: SimKernel | undefined;
  const l = await lab(
    { soft: false, accept: [], defaultAction: 'Accept', families: '[{afi: ipv4, safi: unicast}, {afi: ipv6, safi: unicast}]' },
    {},
    (k) => {
      // The session's address on its own /32: no connected subnet holds the peer (127.0.0.2),
      // so only the session's local address tells which interface the peer is on.
      kernel = k;
      llIf = k.addLink('eth-ll');
      k.addAddress(llIf, '127.0.0.1/32');
      k.addAddress(1, '10.99.0.1/24');
    },
  );
  try {
    let resolves = 0;
    await waitFor(() => l.rt.fibWriter !== undefined, 5000);
    const fs = l.rt.fibWriter!;
    const orig = fs.resolveNextHops.bind(fs);
    fs.resolveNextHops = () => {
      resolves++;
      return orig();
    };
    await waitFor(() => l.rn.peer.state.name === 'Established', 5000);
    assert.ok(resolves >= 1, 'next hops re-resolved when the session came up');
    l.router.announce([{ prefix: '2001:db8:5::/48', nextHop: 'fe80::2' }]);
    await waitFor(async () => (await l.kernelRoutes()).includes('2001:db8:5::/48'), 5000);
    const r = (await l.routes()).find((x) => x.dst === '2001:db8:5::/48')!;
    // Installed over a nexthop object (or inline): either way via fe80::2 on the session's NIC.
    const nh = r.nhId !== 0 ? kernel!.nexthops().find((x) => x.id === r.nhId) : r.nexthops[0];
    assert.ok(nh, `next hop of ${JSON.stringify(r)}`);
    assert.equal(nh.gateway, 'fe80::2');
    assert.equal(nh.oif, llIf, 'the interface of the session');
  } finally {
    await l.stop();
  }
});
