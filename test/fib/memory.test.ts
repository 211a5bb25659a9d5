// The Fib engine against the in-memory kernel: the same code paths as the
// kernel backend (encoding, sequence mapping, notifications, resync), no root.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { FibEvent } from '../../src/fib/backend.js';
import { FibBatch } from '../../src/fib/batch.js';
import type { Fib } from '../../src/fib/fib.js';
import { formatIp, formatPrefix } from '../../src/fib/ip.js';
import { type SimRoute, SimKernel, createMemoryFib } from '../../src/fib/memory.js';
import { RtProt } from '../../src/fib/netlink/constants.js';
import type { NetlinkError } from '../../src/fib/netlink/socket.js';

const TABLE = 100;
/** A bug here tends to loop rather than throw: fail instead of hanging. */
const T = { timeout: 30_000 };

function lab(): { kernel: SimKernel; eth0: number; eth1: number } {
  const kernel = new SimKernel();
  const eth0 = kernel.addLink('eth0');
  const eth1 = kernel.addLink('eth1');
  kernel.addAddress(eth0, '10.0.0.1/24');
  kernel.addAddress(eth0, '2001:db8::1/64');
  kernel.addAddress(eth1, '10.1.0.1/24');
  return { kernel, eth0, eth1 };
}

async function started(kernel: SimKernel, opts = {}): Promise<{ fib: Fib; events: FibEvent[] }> {
  const { fib } = createMemoryFib({ table: TABLE, retryMs: 0, gcIntervalMs: 0, ...opts }, kernel);
  const events: FibEvent[] = [];
  fib.on('result', (e) => events.push(e));
  await fib.start();
  return { fib, events };
}

/** Waits out debounce timers and resyncs. */
async function settle(fib: Fib): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await sleep(40);
    await fib.flush();
  }
}

const show = (r: SimRoute): string => formatPrefix(r.dst, 0, r.family, r.plen);
const ours = (k: SimKernel): SimRoute[] => k.routes(TABLE, RtProt.BGP);
const byDst = (k: SimKernel): Map<string, SimRoute> => new Map(k.routes(TABLE).map((r) => [show(r), r]));

/** n IPv4 /24s from 11.0.0.0 and n IPv6 /48s from 2001:db8:100::. */
function fill(b: FibBatch, n: number, nh4: (i: number) => number, nh6: (i: number) => number): void {
  const a = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    b.pushV4((0x0b000000 + i * 256) >>> 0, 24, nh4(i));
    a.set([0x20, 0x01, 0x0d, 0xb8, 0x01 + (i >> 8), i & 0xff]);
    b.push(6, a, 0, 48, nh6(i));
  }
}

test('installs IPv4 and IPv6 routes through nexthop objects and ECMP groups', T, async () => {
  const { kernel, eth0 } = lab();
  const { fib, events } = await started(kernel);
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  fib.defineNexthop(2, [{ address: '10.0.0.2' }, { address: '10.0.0.3', weight: 3 }]);
  fib.defineNexthop(3, [{ address: '2001:db8::2' }]);
  const b = new FibBatch();
  fill(b, 1000, (i) => (i % 2 ? 1 : 2), () => 3);
  fib.apply(b);
  await fib.flush();
  assert.deepEqual(events.filter((e) => e.type !== 'resync'), []);
  const routes = ours(kernel);
  assert.equal(routes.length, 2000);
  const nhs = kernel.nexthops();
  const gw2 = nhs.find((n) => n.gateway === '10.0.0.2')!;
  const group = nhs.find((n) => n.group)!;
  assert.equal(gw2.oif, eth0);
  assert.equal(gw2.protocol, RtProt.BGP);
  assert.deepEqual(group.group!.map((m) => m.weight).sort(), [1, 3]);
  const m = byDst(kernel);
  assert.equal(m.get('11.0.1.0/24')!.nhId, gw2.id);
  assert.equal(m.get('11.0.0.0/24')!.nhId, group.id);
  assert.equal(m.get('2001:db8:100::/48')!.nhId, nhs.find((n) => n.gateway === '2001:db8::2')!.id);
  assert.equal(m.get('11.0.0.0/24')!.metric, 20);
  const s = fib.stats();
  assert.equal(s.installed, 2000);
  assert.equal(s.pending, 0);
  assert.ok(s.batches >= 2, 'pipelined in several buffers');
  assert.deepEqual(fib.route('11.0.1.0/24')!.flags, []);
  assert.equal(fib.route('11.0.1.0/24')!.installed, `id:${gw2.id}`);
  await fib.stop();
  assert.equal(ours(kernel).length, 0, 'stop deletes our routes');
  assert.equal(kernel.nexthops().length, 0, 'and our nexthop objects');
});

test('withdrawals delete; a changed next hop replaces in place and old objects are collected', T, async () => {
  const { kernel } = lab();
  const { fib } = await started(kernel);
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  const b = new FibBatch();
  fill(b, 100, () => 1, () => -1);
  fib.apply(b);
  await fib.flush();
  b.clear();
  for (let i = 0; i < 50; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, -1);
  b.pushPrefix('99.0.0.0/8', -1); // never installed: nothing to do
  fib.apply(b);
  await fib.flush();
  assert.equal(ours(kernel).length, 50);
  assert.equal(fib.stats().entries, 50, 'withdrawn prefixes are forgotten');
  const before = fib.stats().messages;
  fib.defineNexthop(1, [{ address: '10.1.0.7' }]);
  await settle(fib);
  const nhs = kernel.nexthops();
  assert.equal(nhs.length, 1, 'the 10.0.0.2 object was deleted once unused');
  assert.equal(nhs[0]!.gateway, '10.1.0.7');
  assert.ok(ours(kernel).every((r) => r.nhId === nhs[0]!.id));
  assert.equal(fib.stats().messages - before, 50 + 2, 'one replace per route, one object add and one delete');
  await fib.stop();
});

test('another owner on our key: left untouched and reported; other metrics coexist', T, async () => {
  const { kernel } = lab();
  kernel.addRoute({ dst: '20.0.0.0/24', gateway: '10.1.0.9', table: TABLE, metric: 20, protocol: RtProt.STATIC });
  kernel.addRoute({ dst: '20.0.1.0/24', gateway: '10.1.0.9', table: TABLE, metric: 5, protocol: RtProt.STATIC });
  const { fib, events } = await started(kernel);
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  const b = new FibBatch();
  b.pushPrefix('20.0.0.0/24', 1);
  b.pushPrefix('20.0.1.0/24', 1);
  fib.apply(b);
  await fib.flush();
  assert.deepEqual(
    events.filter((e) => e.type === 'conflict'),
    [{ type: 'conflict', prefix: '20.0.0.0/24' }],
  );
  const r = kernel.routes(TABLE).filter((x) => show(x) === '20.0.0.0/24');
  assert.equal(r.length, 1);
  assert.equal(r[0]!.protocol, RtProt.STATIC, 'the static route is untouched');
  assert.equal(formatIp(r[0]!.gws[0]!.addr, 0, 4), '10.1.0.9');
  assert.equal(kernel.routes(TABLE).filter((x) => show(x) === '20.0.1.0/24').length, 2, 'metric 5 and ours coexist');
  assert.deepEqual(fib.route('20.0.0.0/24')!.flags, ['foreign', 'conflict']);
  // The other owner leaves: we take the prefix.
  kernel.delRoute({ dst: '20.0.0.0/24', table: TABLE, protocol: RtProt.STATIC });
  await settle(fib);
  assert.ok(events.some((e) => e.type === 'conflict-resolved' && e.prefix === '20.0.0.0/24'));
  assert.equal(byDst(kernel).get('20.0.0.0/24')!.protocol, RtProt.BGP);
  // Someone replaces our route by hand: reported, and their route is not deleted when we withdraw.
  kernel.addRoute({ dst: '20.0.0.0/24', gateway: '10.1.0.9', table: TABLE, metric: 20, protocol: RtProt.STATIC, replace: true });
  await settle(fib);
  assert.ok(events.some((e) => e.type === 'conflict' && e.prefix === '20.0.0.0/24' && e.protocol === RtProt.STATIC));
  b.clear();
  b.pushPrefix('20.0.0.0/24', -1);
  fib.apply(b);
  await fib.stop();
  assert.equal(byDst(kernel).get('20.0.0.0/24')!.protocol, RtProt.STATIC);
  assert.equal(kernel.routes(TABLE).length, 2, 'both static routes remain, ours are gone');
});

test('start adopts our routes from the last run: equal kept without writes, changed replaced, stale deleted', T, async () => {
  const { kernel } = lab();
  const first = await started(kernel);
  first.fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  first.fib.defineNexthop(2, [{ address: '10.0.0.3' }]);
  const b = new FibBatch();
  fill(b, 300, () => 1, () => -1);
  first.fib.apply(b);
  await first.fib.flush();
  await first.fib.stop({ keep: true }); // graceful restart: leave them
  assert.equal(ours(kernel).length, 300);
  const objId = kernel.nexthops()[0]!.id;
  // An old route of ours with another metric (the metric was reconfigured).
  kernel.addRoute({ dst: '30.0.0.0/8', gateway: '10.0.0.2', table: TABLE, metric: 99, protocol: RtProt.BGP });

  const { fib, events } = await started(kernel);
  assert.ok(events.some((e) => e.type === 'resync' && e.reason === 'start'));
  assert.equal(fib.stats().adopted, 300);
  fib.defineNexthop(7, [{ address: '10.0.0.2' }]); // same gateway under another handle
  fib.defineNexthop(8, [{ address: '10.0.0.3' }]);
  b.clear();
  fill(b, 200, (i) => (i < 150 ? 7 : 8), () => -1); // 150 equal, 50 changed, 100 not desired
  fib.apply(b);
  await fib.flush();
  assert.equal(ours(kernel).length, 300, 'not desired ones are held until reconcile');
  assert.ok(!byDst(kernel).has('30.0.0.0/8'), 'the stale-metric route is deleted at once');
  // Both objects of the last run are adopted (10.0.0.3 was made for the unused set 2):
  // 50 replaces and 1 stale delete; the 150 equal routes cost nothing.
  assert.equal(fib.stats().messages, 51);
  fib.reconcile();
  await settle(fib);
  const m = byDst(kernel);
  assert.equal(ours(kernel).length, 200);
  assert.equal(m.get('11.0.0.0/24')!.nhId, objId, 'the adopted object is reused');
  assert.notEqual(m.get('11.0.199.0/24')!.nhId, objId);
  assert.ok(!m.has('11.0.250.0/24'));
  assert.equal(fib.stats().adopted, 0);
  await fib.stop();
  assert.equal(kernel.nexthops().length, 0);
});

test('errors map back to the route that caused them; the rest of the batch lands', T, async () => {
  const { kernel } = lab();
  const { fib, events } = await started(kernel);
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  fib.defineNexthop(2, [{ address: '192.0.2.1' }]); // not connected: needs the kernel to resolve it
  fib.defineNexthop(3, [{ address: 'fe80::1' }]); // link-local without interface
  const b = new FibBatch();
  fill(b, 200, () => 1, () => -1);
  b.pushPrefix('40.0.0.0/16', 2);
  b.pushPrefix('2001:db8:40::/48', 3);
  fib.apply(b);
  await fib.flush();
  const errs = events.filter((e) => e.type === 'error');
  assert.equal(errs.length, 2);
  assert.deepEqual(
    errs.map((e) => e.type === 'error' && [e.prefix, e.op, e.code, e.gateways.join()]),
    [
      ['40.0.0.0/16', 'add', 'ENETUNREACH', '192.0.2.1'],
      ['2001:db8:40::/48', 'add', 'EINVAL', 'fe80::1'],
    ],
  );
  assert.equal(errs[0]!.type === 'error' && errs[0]!.message, 'Nexthop has invalid gateway');
  assert.equal(ours(kernel).length, 200);
  assert.equal(fib.stats().failed, 2);
  assert.equal(fib.route('40.0.0.0/16')!.error, 'ENETUNREACH');
  // The gateway becomes connected: the failed route is retried and lands.
  kernel.addAddress(2, '192.0.2.100/24');
  await settle(fib);
  assert.ok(byDst(kernel).has('40.0.0.0/16'));
  assert.equal(fib.stats().failed, 1);
  await fib.stop();
});

test('a link going down takes its connected subnets; routes come back with it', T, async () => {
  const { kernel, eth0 } = lab();
  const { fib, events } = await started(kernel);
  const links: [string, boolean][] = [];
  fib.on('link', (l) => links.push([l.name, l.up]));
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  fib.defineNexthop(2, [{ address: '10.1.0.2' }]);
  const b = new FibBatch();
  fill(b, 50, (i) => (i < 40 ? 1 : 2), () => -1);
  fib.apply(b);
  await fib.flush();
  assert.equal(fib.connectedVia('10.0.0.2'), eth0);
  kernel.setLinkUp(eth0, false);
  await settle(fib);
  assert.deepEqual(links, [['eth0', false]]);
  assert.ok(events.some((e) => e.type === 'resync' && e.reason === 'link eth0 down'));
  assert.equal(fib.connectedVia('10.0.0.2'), 0);
  assert.ok(!fib.addresses().some((a) => a.subnet === '2001:db8::/64'), 'IPv6 addresses went with the link');
  const errs = events.filter((e) => e.type === 'error');
  assert.equal(errs.length, 40, 'each route through eth0 is reported unreachable');
  assert.ok(errs.every((e) => e.type === 'error' && e.code === 'ENETUNREACH'));
  assert.equal(ours(kernel).length, 10, 'the routes through eth1 stay');
  assert.equal(fib.stats().installed, 10);
  kernel.setLinkUp(eth0, true);
  await settle(fib);
  assert.equal(ours(kernel).length, 50);
  assert.equal(fib.stats().failed, 0);
  await fib.stop();
});

test('ENOBUFS on either socket triggers a resync that restores a consistent view', T, async () => {
  const { kernel } = lab();
  kernel.rcvLimit = 64 * 1024; // tiny: our own notifications overrun the monitor socket
  const { fib, events } = await started(kernel, { batchBytes: 256 * 1024 });
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  fib.defineNexthop(2, [{ address: '192.0.2.1' }]); // every route fails: answers overrun the writer
  const b = new FibBatch();
  fill(b, 3000, () => 1, (i) => (i < 1500 ? 2 : -1));
  fib.apply(b);
  await settle(fib);
  const s = fib.stats();
  assert.ok(s.overflows > 0, 'the kernel dropped messages');
  assert.ok(events.filter((e) => e.type === 'resync').length > 1);
  assert.equal(ours(kernel).length, 3000);
  assert.equal(s.installed, 3000);
  assert.equal(s.pending, 0);
  // IPv6 routes via an IPv4 gateway that is not connected: all failed, none lost track of.
  assert.equal(s.failed, 1500);
  kernel.rcvLimit = 8 << 20;
  await fib.stop();
});

test('without nexthop objects routes carry their gateways (RTA_MULTIPATH for ECMP)', T, async () => {
  const { kernel, eth0 } = lab();
  const { fib } = await started(kernel, { useNexthopObjects: false });
  fib.defineNexthop(1, [{ address: '10.0.0.2' }, { address: '10.0.0.3', weight: 2 }]);
  const b = new FibBatch();
  b.pushPrefix('50.0.0.0/16', 1);
  fib.apply(b);
  await fib.flush();
  const r = byDst(kernel).get('50.0.0.0/16')!;
  assert.equal(r.nhId, 0);
  assert.deepEqual(
    r.gws.map((g) => [formatIp(g.addr, 0, 4), g.oif, g.weight]),
    [
      ['10.0.0.2', eth0, 1],
      ['10.0.0.3', eth0, 2],
    ],
  );
  assert.equal(kernel.nexthops().length, 0);
  const dump = await fib.dump();
  assert.deepEqual(dump.map((d) => [d.dst, d.protocol, d.nexthops.length]), [['50.0.0.0/16', RtProt.BGP, 2]]);
  await fib.stop();
});

test('routes applied before start are written once the kernel was read', T, async () => {
  const { kernel } = lab();
  const { fib } = createMemoryFib({ table: TABLE, retryMs: 0 }, kernel);
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  const b = new FibBatch();
  b.pushPrefix('60.0.0.0/8', 1);
  fib.apply(b);
  await fib.start();
  await fib.flush();
  assert.ok(byDst(kernel).has('60.0.0.0/8'));
  await fib.stop({ keep: true });
  assert.ok(byDst(kernel).has('60.0.0.0/8'), 'keep leaves routes for a graceful restart');
  assert.throws(
    () => kernel.addRoute({ dst: '60.0.0.0/8', gateway: '10.0.0.2', table: TABLE, metric: 20 }),
    (e: NetlinkError) => e.code === 'EEXIST',
  );
});

test('start refuses to run without the privilege to write routes', T, async () => {
  const { kernel } = lab();
  kernel.privileged = false;
  const { fib } = createMemoryFib({ table: TABLE }, kernel);
  await assert.rejects(fib.start(), (e: NetlinkError) => e.code === 'EPERM' && /CAP_NET_ADMIN/.test(e.message));
});

test('EEXIST on add asks the kernel whose route holds the key (a probe) before calling it a conflict', T, async () => {
  const { kernel } = lab();
  // Without route notifications the FIB cannot know about routes added behind its back.
  const { fib, events } = await started(kernel, { watchRoutes: false });
  kernel.addRoute({ dst: '20.0.0.0/24', gateway: '10.1.0.9', table: TABLE, metric: 20, protocol: RtProt.STATIC });
  // One of ours we lost track of (a previous writer, a missed notification).
  kernel.addRoute({ dst: '20.0.1.0/24', gateway: '10.1.0.9', table: TABLE, metric: 20, protocol: RtProt.BGP });
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  const b = new FibBatch();
  b.pushPrefix('20.0.0.0/24', 1);
  b.pushPrefix('20.0.1.0/24', 1);
  fib.apply(b);
  await settle(fib);
  assert.deepEqual(
    events.filter((e) => e.type === 'conflict'),
    [{ type: 'conflict', prefix: '20.0.0.0/24' }],
    'only the key held by another owner is a conflict',
  );
  assert.equal(byDst(kernel).get('20.0.0.0/24')!.protocol, RtProt.STATIC, 'the other owner is untouched');
  const mine = byDst(kernel).get('20.0.1.0/24')!;
  assert.equal(mine.protocol, RtProt.BGP);
  assert.ok(mine.nhId > 0, 'our stale copy was replaced by what we want');
  assert.deepEqual(fib.route('20.0.1.0/24')!.flags, []);
  assert.deepEqual(fib.route('20.0.0.0/24')!.flags, ['foreign', 'conflict']);
  // Two adds refused, two probes (deletes), one add again.
  assert.deepEqual(fib.stats().operations, { add: 3, replace: 0, delete: 2 });
  await fib.stop();
});

test('stats count route writes by kind', T, async () => {
  const { kernel } = lab();
  const { fib } = await started(kernel);
  fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
  fib.defineNexthop(2, [{ address: '10.0.0.3' }]);
  const b = new FibBatch();
  for (let i = 0; i < 10; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, 1);
  fib.apply(b);
  await fib.flush();
  b.clear();
  for (let i = 0; i < 4; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, 2);
  for (let i = 4; i < 7; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, -1);
  fib.apply(b);
  await fib.flush();
  assert.deepEqual(fib.stats().operations, { add: 10, replace: 4, delete: 3 });
  assert.equal(ours(kernel).length, 7);
  await fib.stop();
});
