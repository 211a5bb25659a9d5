// FibSync over the in-memory kernel: next hops resolve through connected subnets,
// through other owners' kernel routes (recursive, for multihop peers) and, for IPv6
// link-local next hops, through the interface of the session they came from.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { FibSync } from '../../src/daemon/fib-sync.js';
import type { Fib } from '../../src/fib/fib.js';
import { formatIp, formatPrefix } from '../../src/fib/ip.js';
import { type SimRoute, SimKernel, createMemoryFib } from '../../src/fib/memory.js';
import { RtProt, Rtn } from '../../src/fib/netlink/constants.js';
import { Afi } from '../../src/wire/iana.js';
import type { PeerInfo } from '../../src/rib/peers.js';
import type { Rib } from '../../src/rib/rib.js';
import { newRib, pa, peer, v4 } from '../rib/helpers.js';

const T = { timeout: 30_000 };
const TABLE = 100;

interface Lab {
  kernel: SimKernel;
  eth0: number;
  eth1: number;
  fib: Fib;
  rib: Rib;
  sync: FibSync;
}

async function lab(t: { after: (fn: () => Promise<void> | void) => void }, maxPaths = 1): Promise<Lab> {
  const kernel = new SimKernel();
  const eth0 = kernel.addLink('eth0');
  const eth1 = kernel.addLink('eth1');
  kernel.addAddress(eth0, '10.0.0.1/24');
  kernel.addAddress(eth0, '2001:db8::1/64');
  kernel.addAddress(eth1, '10.1.0.1/24');
  // Our routes go to table 100; next hops resolve through it and the main table.
  const { fib } = createMemoryFib({ table: TABLE, retryMs: 0, gcIntervalMs: 0 }, kernel);
  await fib.start();
  const rib = newRib({ maxPaths });
  const sync = new FibSync(rib, fib, maxPaths);
  t.after(async () => {
    sync.stop();
    await fib.stop();
  });
  return { kernel, eth0, eth1, fib, rib, sync };
}

/** Lets route notifications (debounced), FibSync steps and the FIB writer finish. */
async function settle(l: Lab): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await sleep(40);
    l.sync.schedule();
    await sleep(5);
    await l.fib.flush();
  }
}

/** Our route for `dst` in the kernel as "gateway%ifindex" (through its nexthop object), or null. */
function via(k: SimKernel, dst: string): string | null {
  const r = k.routes(TABLE, RtProt.BGP).find((x: SimRoute) => formatPrefix(x.dst, 0, x.family, x.plen) === dst);
  if (!r) return null;
  if (r.nhId) {
    const all = k.nexthops();
    const n = all.find((x) => x.id === r.nhId)!;
    if (n.group) {
      return n.group
        .map((m) => all.find((x) => x.id === m.id)!)
        .map((x) => `${x.gateway}%${x.oif}`)
        .sort()
        .join(',');
    }
    return `${n.gateway}%${n.oif}`;
  }
  const g = r.gws[0]!;
  return `${formatIp(g.addr, 0, g.family)}%${g.oif}`;
}

function announce4(rib: Rib, peerIdx: number, prefix: string, nh: string, localPref?: number): void {
  const [a, len] = prefix.split('/');
  const attrs = pa({ nextHop: Buffer.from(nh.split('.').map(Number)), ...(localPref !== undefined ? { localPref } : {}) });
  const id = rib.store.internAttributes(attrs, 0);
  rib.adjRibIn(peerIdx, Afi.IPV4).announceV4(v4(a!), Number(len), 0, id);
}

function v6words(text: string): [number, number, number, number] {
  const b = Buffer.alloc(16);
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  h.forEach((x, i) => b.writeUInt16BE(parseInt(x, 16), i * 2));
  tl.forEach((x, i) => b.writeUInt16BE(parseInt(x, 16), 16 - (tl.length - i) * 2));
  return [b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)];
}

function v6bytes(text: string): Buffer {
  const w = v6words(text);
  const b = Buffer.alloc(16);
  w.forEach((x, i) => b.writeUInt32BE(x, i * 4));
  return b;
}

function announce6(rib: Rib, peerIdx: number, prefix: string, global: string, linkLocal?: string): void {
  const [a, len] = prefix.split('/');
  const attrs = pa({ mpNextHop: { global: v6bytes(global), linkLocal: linkLocal !== undefined ? v6bytes(linkLocal) : undefined } });
  const id = rib.store.internAttributes(attrs, 0);
  const [w0, w1, w2, w3] = v6words(a!);
  rib.adjRibIn(peerIdx, Afi.IPV6).announceV6(w0, w1, w2, w3, Number(len), 0, id);
}

test('a next hop off every connected subnet resolves through the longest-match route of another owner, never ours', T, async (t) => {
  const l = await lab(t);
  const { kernel, eth0, eth1, rib } = l;
  kernel.addRoute({ dst: '192.0.2.0/24', gateway: '10.0.0.2', metric: 10 });
  kernel.addRoute({ dst: '192.0.2.0/25', gateway: '10.1.0.2', metric: 50 });
  // A BGP route (our protocol) that matches even longer: never used to resolve.
  kernel.addRoute({ dst: '192.0.2.1/32', gateway: '10.0.0.9', protocol: RtProt.BGP, metric: 20 });
  // Another owner's route in another table: not one we resolve through.
  kernel.addRoute({ dst: '192.0.2.0/26', gateway: '10.0.0.7', table: 200 });
  await settle(l);
  assert.deepEqual(l.fib.resolveNextHop('192.0.2.1'), { gateway: '10.1.0.2', ifindex: eth1, metric: 50, via: '192.0.2.0/25' });
  assert.deepEqual(l.fib.resolveNextHop('10.0.0.2'), { gateway: '10.0.0.2', ifindex: eth0, metric: 0, via: null });
  assert.equal(l.fib.resolveNextHop('198.18.0.1'), null);

  const p1 = rib.peers.add(peer(1, false));
  announce4(rib, p1, '203.0.113.0/24', '192.0.2.1');
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.1.0.2%${eth1}`, 'installed via the resolved gateway and interface');
  const nhId = rib.store.nextHops.lookup(Buffer.from([192, 0, 2, 1]));
  assert.equal(rib.store.nextHops.metric[nhId], 50, 'IGP metric from the covering route');
  assert.deepEqual(l.sync.resolution(nhId), { gateway: '10.1.0.2', ifindex: eth1, metric: 50 });
});

test('the IGP metric of the resolving route decides between otherwise equal paths', T, async (t) => {
  const l = await lab(t);
  const { kernel, eth0, rib } = l;
  kernel.addRoute({ dst: '192.0.2.0/24', gateway: '10.1.0.2', metric: 50 });
  kernel.addRoute({ dst: '198.51.100.0/24', gateway: '10.0.0.3', metric: 5 });
  // Peer 1 has the lower router ID: it would win if the metric were not compared.
  const p1 = rib.peers.add(peer(1, false, 65000));
  const p2 = rib.peers.add(peer(2, false, 65000));
  announce4(rib, p1, '203.0.113.0/24', '192.0.2.1');
  announce4(rib, p2, '203.0.113.0/24', '198.51.100.1');
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.0.0.3%${eth0}`, 'the path with IGP metric 5 wins over metric 50');
  // The IGP metric grows past the other path's: the other path wins and the kernel route moves.
  kernel.addRoute({ dst: '198.51.100.0/24', gateway: '10.0.0.3', metric: 80 });
  kernel.delRoute({ dst: '198.51.100.0/24', metric: 5 });
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.1.0.2%${l.eth1}`);
  assert.equal(rib.v4.pathPeer(rib.v4.best(rib.v4.v4!.find(v4('203.0.113.0'), 24))), p1);
});

test('a route change re-resolves: the kernel route moves with it, and leaves when nothing resolves', T, async (t) => {
  const l = await lab(t);
  const { kernel, eth0, eth1, rib } = l;
  kernel.addRoute({ dst: '192.0.2.0/24', gateway: '10.0.0.2', metric: 10 });
  kernel.addRoute({ dst: '192.0.2.0/25', gateway: '10.1.0.2', metric: 50 });
  const p1 = rib.peers.add(peer(1, true));
  announce4(rib, p1, '203.0.113.0/24', '192.0.2.1');
  announce4(rib, p1, '203.0.114.0/24', '192.0.2.1');
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.1.0.2%${eth1}`);
  const nhId = rib.store.nextHops.lookup(Buffer.from([192, 0, 2, 1]));

  kernel.delRoute({ dst: '192.0.2.0/25', metric: 50 });
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.0.0.2%${eth0}`, 'moved to the /24 once the /25 left');
  assert.equal(via(kernel, '203.0.114.0/24'), `10.0.0.2%${eth0}`);
  assert.equal(rib.store.nextHops.metric[nhId], 10);

  // A blackhole covering the next hop is no way to reach it.
  kernel.addRoute({ dst: '192.0.2.0/28', type: Rtn.BLACKHOLE, metric: 1 });
  await settle(l);
  assert.equal(rib.store.nextHops.resolvable[nhId], 0);
  assert.equal(via(kernel, '203.0.113.0/24'), null, 'an unresolvable next hop takes its routes out of the kernel');
  assert.equal(rib.v4.bestCount, 0);

  kernel.delRoute({ dst: '192.0.2.0/28', metric: 1 });
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.0.0.2%${eth0}`, 'back once it resolves again');

  // A device route puts the next hop itself on a link.
  kernel.addRoute({ dst: '192.0.2.0/30', oif: eth1, metric: 3 });
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `192.0.2.1%${eth1}`);
  assert.equal(rib.store.nextHops.metric[nhId], 3);

  kernel.delRoute({ dst: '192.0.2.0/30', metric: 3 });
  kernel.delRoute({ dst: '192.0.2.0/24', metric: 10 });
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), null);
  assert.equal(via(kernel, '203.0.114.0/24'), null);
  assert.equal(kernel.routes(TABLE, RtProt.BGP).length, 0);
});

test('IPv6 link-local next hops are installed on the interface of the session they came from', T, async (t) => {
  const l = await lab(t);
  const { kernel, eth0, eth1, rib } = l;
  const a: PeerInfo = { address: v6bytes('2001:db8::2'), bgpId: 0x0a000002, asn: 65002, ebgp: true, localAs: 65000 };
  const pA = rib.peers.add(a); // on eth0's subnet
  const pB = rib.peers.add({ ...peer(7, true), address: Uint8Array.from([10, 1, 0, 2]) }); // IPv6 over an IPv4 session on eth1
  // Global part off-link + link-local: the link-local one is used, on eth0.
  announce6(rib, pA, '2001:db8:100::/48', '2001:db8:ff::1', 'fe80::2');
  // A global next hop on the link wins over its link-local companion.
  announce6(rib, pA, '2001:db8:101::/48', '2001:db8::3', 'fe80::3');
  // The same link-local-only next hop from two peers on two links: two gateways.
  announce6(rib, pA, '2001:db8:102::/48', 'fe80::5');
  announce6(rib, pB, '2001:db8:103::/48', 'fe80::5');
  await settle(l);
  assert.equal(via(kernel, '2001:db8:100::/48'), `fe80::2%${eth0}`);
  assert.equal(via(kernel, '2001:db8:101::/48'), `2001:db8::3%${eth0}`);
  assert.equal(via(kernel, '2001:db8:102::/48'), `fe80::5%${eth0}`);
  assert.equal(via(kernel, '2001:db8:103::/48'), `fe80::5%${eth1}`);

  // The session's local address, when the daemon gives it, names the interface.
  kernel.addAddress(eth1, '2001:db8:1::1/64');
  await settle(l);
  l.sync.sessionAddress = (p) => (p === pA ? '2001:db8:1::1' : undefined);
  l.sync.resolveNextHops();
  await settle(l);
  assert.equal(via(kernel, '2001:db8:102::/48'), `fe80::5%${eth1}`, 'moved to the interface holding the local address');
});

test('ECMP over recursive next hops: a group of the resolved gateways while their IGP metrics are equal', T, async (t) => {
  const l = await lab(t, 2);
  const { kernel, eth0, eth1, rib } = l;
  kernel.addRoute({ dst: '192.0.2.0/24', gateway: '10.0.0.2', metric: 10 });
  kernel.addRoute({ dst: '198.51.100.0/24', gateway: '10.1.0.2', metric: 10 });
  const p1 = rib.peers.add(peer(1, false, 65000));
  const p2 = rib.peers.add(peer(2, false, 65000));
  announce4(rib, p1, '203.0.113.0/24', '192.0.2.1');
  announce4(rib, p2, '203.0.113.0/24', '198.51.100.1');
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.0.0.2%${eth0},10.1.0.2%${eth1}`);
  // Unequal IGP metrics: the lower one alone.
  kernel.addRoute({ dst: '198.51.100.0/24', gateway: '10.1.0.2', metric: 30 });
  kernel.delRoute({ dst: '198.51.100.0/24', metric: 10 });
  await settle(l);
  assert.equal(via(kernel, '203.0.113.0/24'), `10.0.0.2%${eth0}`);
});

test('a link-local next hop follows its session\'s interface: gone with the subnet, back with it', T, async (t) => {
  const l = await lab(t);
  const { kernel, eth0, rib } = l;
  const pA = rib.peers.add({ address: v6bytes('2001:db8::2'), bgpId: 0x0a000002, asn: 65002, ebgp: true, localAs: 65000 });
  announce6(rib, pA, '2001:db8:100::/48', 'fe80::2');
  await settle(l);
  assert.equal(via(kernel, '2001:db8:100::/48'), `fe80::2%${eth0}`);
  assert.deepEqual(l.fib.route('2001:db8:100::/48')!.ifindexes, [eth0]);
  kernel.delAddress(eth0, '2001:db8::1/64');
  await settle(l);
  l.sync.resolveNextHops(); // the daemon calls it on address events
  await settle(l);
  assert.equal(via(kernel, '2001:db8:100::/48'), null, 'no interface for the session: not installed');
  kernel.addAddress(eth0, '2001:db8::1/64');
  await settle(l);
  l.sync.resolveNextHops();
  await settle(l);
  assert.equal(via(kernel, '2001:db8:100::/48'), `fe80::2%${eth0}`);
});

test('routes of another owner over its nexthop objects (FRR\'s zebra) resolve, and stop resolving when the object goes', T, async (t) => {
  const l = await lab(t);
  const { kernel, eth1, rib } = l;
  const ZEBRA = 11;
  kernel.addNexthop({ id: 500, gateway: '10.1.0.2', oif: eth1, protocol: ZEBRA });
  kernel.addRoute({ dst: '192.0.2.0/24', nhId: 500, metric: 20, protocol: ZEBRA });
  const p1 = rib.peers.add(peer(1, false));
  announce4(rib, p1, '203.0.113.0/24', '192.0.2.1');
  await settle(l);
  assert.deepEqual(l.fib.resolveNextHop('192.0.2.1'), { gateway: '10.1.0.2', ifindex: eth1, metric: 20, via: '192.0.2.0/24' });
  assert.equal(via(kernel, '203.0.113.0/24'), `10.1.0.2%${eth1}`);
  // The object goes (and with it, silently, the IPv4 route using it).
  kernel.delNexthop(500);
  await settle(l);
  assert.equal(l.fib.resolveNextHop('192.0.2.1'), null);
  assert.equal(via(kernel, '203.0.113.0/24'), null);
});
