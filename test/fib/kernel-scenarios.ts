// Run by kernel.test.ts inside a network namespace (`ip netns exec NS node
// kernel-scenarios.js NAME`): drives the kernel Fib backend and prints one
// JSON line with what it saw. The parent asserts on that and on `ip -j`.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FibEvent } from '../../src/fib/backend.js';
import { FibBatch } from '../../src/fib/batch.js';
import type { Fib } from '../../src/fib/fib.js';
import { createKernelFib } from '../../src/fib/kernel.js';
import { kernelTransport } from '../../src/fib/netlink/addon.js';
import { NlEncoder, gatewayBlock, msgPid, msgType, putRoute } from '../../src/fib/netlink/codec.js';
import { NlmF, RtmGrp, Rtm } from '../../src/fib/netlink/constants.js';
import { NetlinkSocket } from '../../src/fib/netlink/socket.js';

export const TABLE = 100;

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
const ipJson = (...args: string[]): unknown => JSON.parse(ip('-j', ...args) || '[]');
const ifindex = (name: string): number => Number(ip('-j', 'link', 'show', name).match(/"ifindex":(\d+)/)![1]);

async function open(): Promise<{ fib: Fib; events: FibEvent[] }> {
  const fib = createKernelFib({ table: TABLE, retryMs: 0, gcIntervalMs: 0 });
  const events: FibEvent[] = [];
  fib.on('result', (e) => events.push(e));
  await fib.start();
  return { fib, events };
}

async function settle(fib: Fib): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await sleep(60);
    await fib.flush();
  }
}

/** n IPv4 /24s from 11.0.0.0 and n IPv6 /48s from 2001:db8:100::. */
function fill(b: FibBatch, n: number, nh4: (i: number) => number, nh6: (i: number) => number): void {
  const a = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    b.pushV4((0x0b000000 + i * 256) >>> 0, 24, nh4(i));
    a.set([0x20, 0x01, 0x0d, 0xb8, 0x01 + (i >> 8), i & 0xff]);
    b.push(6, a, 0, 48, nh6(i));
  }
}

const scenarios: Record<string, () => Promise<unknown>> = {
  /** 1000 IPv4 + 1000 IPv6 routes over nexthop objects, ECMP groups and a link-local gateway; kept. */
  async install() {
    const { fib, events } = await open();
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    fib.defineNexthop(2, [{ address: '10.0.0.2' }, { address: '10.0.0.3', weight: 2 }]);
    fib.defineNexthop(3, [{ address: '2001:db8::2' }]);
    fib.defineNexthop(4, [{ address: '2001:db8::2' }, { address: '2001:db8::3' }]);
    fib.defineNexthop(5, [{ address: 'fe80::1', ifindex: ifindex('v0') }]);
    const b = new FibBatch();
    fill(b, 1000, (i) => (i % 2 ? 1 : 2), (i) => (i < 10 ? 5 : i % 2 ? 3 : 4));
    const t0 = performance.now();
    fib.apply(b);
    await fib.flush();
    const ms = performance.now() - t0;
    const dump = await fib.dump();
    const stats = fib.stats();
    await fib.stop({ keep: true });
    return {
      events,
      stats,
      ms,
      dump: dump.filter((d) => d.protocol === 186).map((d) => ({ dst: d.dst, nhId: d.nhId, metric: d.metric })),
    };
  },

  /** After `install`: adopt, keep equal routes, replace changed ones, delete the rest on reconcile; then stop. */
  async adopt() {
    const { fib, events } = await open();
    const adopted = fib.stats().adopted;
    fib.defineNexthop(7, [{ address: '10.0.0.2' }]);
    fib.defineNexthop(8, [{ address: '10.0.0.4' }]);
    const b = new FibBatch();
    // Odd /24s used 10.0.0.2 alone: 300 of them stay equal; 100 even ones move to 10.0.0.4.
    for (let i = 1; i < 600; i += 2) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, 7);
    for (let i = 0; i < 200; i += 2) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, 8);
    fib.apply(b);
    await fib.flush();
    const beforeReconcile = { messages: fib.stats().messages, routes: (ipJson('route', 'show', 'table', String(TABLE), 'proto', '186') as unknown[]).length };
    fib.reconcile();
    await settle(fib);
    const after = ipJson('route', 'show', 'table', String(TABLE), 'proto', '186');
    const after6 = ipJson('-6', 'route', 'show', 'table', String(TABLE), 'proto', '186');
    const nexthops = ipJson('nexthop', 'show');
    const stats = fib.stats();
    await fib.stop();
    return { adopted, events, beforeReconcile, after, after6, nexthops, stats };
  },

  /** Static routes of another owner on our key (left alone, reported) and on another metric (coexist). */
  async conflict() {
    ip('route', 'add', '20.0.0.0/24', 'via', '10.1.0.9', 'proto', 'static', 'table', String(TABLE), 'metric', '20');
    ip('route', 'add', '20.0.1.0/24', 'via', '10.1.0.9', 'proto', 'static', 'table', String(TABLE), 'metric', '5');
    const { fib, events } = await open();
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    const b = new FibBatch();
    b.pushPrefix('20.0.0.0/24', 1);
    b.pushPrefix('20.0.1.0/24', 1);
    fib.apply(b);
    await settle(fib);
    const during = ipJson('route', 'show', 'table', String(TABLE));
    const state = fib.route('20.0.0.0/24');
    ip('route', 'del', '20.0.0.0/24', 'proto', 'static', 'table', String(TABLE), 'metric', '20');
    await settle(fib);
    const afterDel = ipJson('route', 'show', 'table', String(TABLE));
    await fib.stop();
    const afterStop = ipJson('route', 'show', 'table', String(TABLE));
    return { events, during, state, afterDel, afterStop };
  },

  /**
   * Another owner adds a route beside ours on our key (`ip route append` puts it
   * after ours, `prepend` before: both leave ours in place), then removes it.
   */
  async beside() {
    const { fib, events } = await open();
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    const b = new FibBatch();
    b.pushPrefix('20.0.0.0/24', 1);
    b.pushPrefix('20.0.1.0/24', 1);
    fib.apply(b);
    await settle(fib);
    const other = (verb: string, dst: string): string =>
      ip('route', verb, dst, 'via', '10.1.0.9', 'proto', 'static', 'table', String(TABLE), 'metric', '20');
    other('append', '20.0.0.0/24');
    other('prepend', '20.0.1.0/24');
    await settle(fib);
    const during = ipJson('route', 'show', 'table', String(TABLE));
    const stateDuring = fib.route('20.0.0.0/24');
    ip('route', 'del', '20.0.0.0/24', 'proto', 'static', 'table', String(TABLE), 'metric', '20');
    ip('route', 'del', '20.0.1.0/24', 'proto', 'static', 'table', String(TABLE), 'metric', '20');
    await settle(fib);
    const stateAfter = [fib.route('20.0.0.0/24'), fib.route('20.0.1.0/24')];
    // Ours again: a new next hop reaches the kernel.
    fib.defineNexthop(1, [{ address: '10.0.0.3' }]);
    await settle(fib);
    const moved = ipJson('route', 'show', 'table', String(TABLE));
    const nexthops = ipJson('nexthop', 'show');
    await fib.stop();
    const afterStop = ipJson('route', 'show', 'table', String(TABLE));
    return { events, during, stateDuring, stateAfter, moved, nexthops, afterStop };
  },

  /**
   * Another owner prepends a route on our key (theirs first), then `ip route replace`s
   * it: IPv4 replaces the first route on the key (theirs) and ours stays. Then they
   * delete theirs: we must end up installed, without a stuck conflict.
   */
  async replaced() {
    const { fib, events } = await open();
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    const b = new FibBatch();
    b.pushPrefix('20.0.0.0/24', 1);
    fib.apply(b);
    await settle(fib);
    const other = (verb: string, gw: string): string =>
      ip('route', verb, '20.0.0.0/24', 'via', gw, 'proto', 'static', 'table', String(TABLE), 'metric', '20');
    other('prepend', '10.1.0.9');
    await settle(fib);
    other('replace', '10.1.0.8');
    await settle(fib);
    const during = ipJson('route', 'show', 'table', String(TABLE));
    const stateDuring = fib.route('20.0.0.0/24');
    ip('route', 'del', '20.0.0.0/24', 'proto', 'static', 'table', String(TABLE), 'metric', '20');
    await settle(fib);
    const after = ipJson('route', 'show', 'table', String(TABLE));
    const stateAfter = fib.route('20.0.0.0/24');
    const stats = fib.stats();
    await fib.stop();
    return { events, during, stateDuring, after, stateAfter, stats };
  },

  /** Next hops resolve through other owners' routes in the main table, following their changes. */
  async recursive() {
    const { fib, events } = await open();
    let changes = 0;
    fib.on('routes', () => changes++);
    const seen: Record<string, unknown> = {};
    const look = (tag: string): void => {
      seen[tag] = {
        v4: fib.resolveNextHop('192.0.2.1'),
        v6: fib.resolveNextHop('2001:db8:ff::1'),
        connected: fib.resolveNextHop('10.0.0.2'),
        object: fib.resolveNextHop('198.51.100.1'),
        ecmp6: fib.resolveNextHop('2001:db8:fe::1'),
      };
    };
    look('none');
    ip('route', 'add', '192.0.2.0/24', 'via', '10.0.0.2', 'metric', '10');
    ip('-6', 'route', 'add', '2001:db8:ff::/64', 'via', 'fe80::99', 'dev', 'v0', 'metric', '7');
    // Our own protocol never resolves a next hop.
    ip('route', 'add', '192.0.2.1/32', 'via', '10.0.0.9', 'proto', '186');
    // FRR's zebra installs its routes over nexthop objects: created after our start.
    ip('nexthop', 'add', 'id', '500', 'via', '10.1.0.2', 'dev', 'w0', 'proto', 'zebra');
    ip('route', 'add', '198.51.100.0/24', 'nhid', '500', 'proto', 'zebra', 'metric', '30');
    await settle(fib);
    look('static');
    ip('route', 'add', '192.0.2.0/25', 'via', '10.1.0.2', 'metric', '50');
    // IPv6 ECMP legs come and go one by one.
    ip('-6', 'route', 'add', '2001:db8:fe::/64', 'via', 'fe80::98', 'dev', 'v0', 'metric', '9');
    ip('-6', 'route', 'append', '2001:db8:fe::/64', 'via', 'fe80::97', 'dev', 'w0', 'metric', '9');
    await settle(fib);
    look('longer');
    ip('-6', 'route', 'del', '2001:db8:fe::/64', 'via', 'fe80::98', 'dev', 'v0', 'metric', '9');
    await settle(fib);
    look('leg');
    ip('route', 'del', '192.0.2.0/25', 'metric', '50');
    ip('route', 'del', '192.0.2.0/24', 'metric', '10');
    ip('-6', 'route', 'del', '2001:db8:ff::/64', 'metric', '7');
    ip('nexthop', 'del', 'id', '500');
    await settle(fib);
    look('gone');
    await fib.stop();
    return { events, changes, seen, v0: ifindex('v0'), w0: ifindex('w0') };
  },

  /** One route through a gateway that is not connected, among 100 good ones. */
  async errors() {
    const { fib, events } = await open();
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    fib.defineNexthop(2, [{ address: '192.0.2.1' }]);
    const b = new FibBatch();
    for (let i = 0; i < 50; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, 1);
    b.pushPrefix('40.0.0.0/16', 2);
    for (let i = 50; i < 100; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, 1);
    fib.apply(b);
    await fib.flush();
    const routes = ipJson('route', 'show', 'table', String(TABLE), 'proto', '186');
    const state = fib.route('40.0.0.0/16');
    await fib.stop();
    return { events, routes, state };
  },

  /** v0 goes down (its subnet with it) and comes back. */
  async linkdown() {
    const { fib, events } = await open();
    const links: [string, boolean][] = [];
    fib.on('link', (l) => links.push([l.name, l.up]));
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    fib.defineNexthop(2, [{ address: '10.1.0.2' }]);
    const b = new FibBatch();
    for (let i = 0; i < 50; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, i < 40 ? 1 : 2);
    fib.apply(b);
    await fib.flush();
    const v0 = ifindex('v0');
    const viaBefore = fib.connectedVia('10.0.0.2');
    ip('link', 'set', 'v0', 'down');
    await settle(fib);
    const viaDown = fib.connectedVia('10.0.0.2');
    const routesDown = (ipJson('route', 'show', 'table', String(TABLE), 'proto', '186') as unknown[]).length;
    const statsDown = fib.stats();
    ip('link', 'set', 'v0', 'up');
    await settle(fib);
    const routesUp = (ipJson('route', 'show', 'table', String(TABLE), 'proto', '186') as unknown[]).length;
    const statsUp = fib.stats();
    await fib.stop();
    return { v0, viaBefore, viaDown, links, events, routesDown, statsDown, routesUp, statsUp };
  },
};

/** Adds 30.0.<n>.0/24 via 10.0.0.2 dev v0, protocol 186, in TABLE from socket `s` (ACKed). */
async function rawAdd(s: NetlinkSocket, n: number): Promise<void> {
  const gw = gatewayBlock(4, [{ family: 4, addr: Uint8Array.of(10, 0, 0, 2), oif: ifindex('v0'), weight: 1 }]);
  await s.request((enc: NlEncoder, seq: number) => {
    putRoute(enc, Rtm.NEWROUTE, NlmF.REQUEST | NlmF.ACK | NlmF.CREATE | NlmF.EXCL, seq, 4, Uint8Array.of(30, 0, n, 0), 0, 24, TABLE, 186, 20, gw);
  });
}

Object.assign(scenarios, {
  /**
   * The socket filter of the notification socket: a writer's own route echoes are
   * dropped in the kernel, another socket's changes to routes of the same protocol
   * still arrive; then the Fib sees another process delete one of its routes.
   */
  async echoes() {
    const seen = (label: string[], pids: number[]) => (b: Buffer, off: number): void => {
      if (msgType(b, off) === Rtm.NEWROUTE || msgType(b, off) === Rtm.DELROUTE) {
        label.push(`${msgType(b, off) === Rtm.NEWROUTE ? 'new' : 'del'}`);
        pids.push(msgPid(b, off));
      }
    };
    const opts = { groups: 0, rcvbuf: 1 << 20, sndbuf: 1 << 20, flags: 3 };
    const fTypes: string[] = [];
    const fPids: number[] = [];
    const pTypes: string[] = [];
    const pPids: number[] = [];
    const filtered = new NetlinkSocket(kernelTransport, { ...opts, groups: RtmGrp.IPV4_ROUTE, onNotify: seen(fTypes, fPids) });
    const plain = new NetlinkSocket(kernelTransport, { ...opts, groups: RtmGrp.IPV4_ROUTE, onNotify: seen(pTypes, pPids) });
    const writer = new NetlinkSocket(kernelTransport, opts);
    const other = new NetlinkSocket(kernelTransport, opts);
    const attach = filtered.transport.dropEchoes?.(writer.transport.portId);
    await rawAdd(writer, 0);
    await rawAdd(other, 1);
    await rawAdd(writer, 2);
    await sleep(100);
    const raw = { attach, writer: writer.transport.portId, other: other.transport.portId, fTypes, fPids, pTypes, pPids };
    for (const s of [filtered, plain, writer, other]) s.close();
    ip('route', 'flush', 'table', String(TABLE));

    const { fib, events } = await open();
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    const b = new FibBatch();
    for (let i = 0; i < 3000; i++) b.pushV4((0x0b000000 + i * 256) >>> 0, 24, 1);
    fib.apply(b);
    await fib.flush();
    const installed = fib.stats().installed;
    // Another process removes one of ours: the Fib must notice and put it back.
    ip('route', 'del', '11.0.5.0/24', 'table', String(TABLE), 'proto', '186', 'metric', '20');
    await settle(fib);
    const back = (ipJson('route', 'show', 'table', String(TABLE), '11.0.5.0/24') as unknown[]).length;
    const stats = fib.stats();
    await fib.stop();
    return { raw, installed, back, stats, events: events.filter((e) => e.type !== 'resync') };
  },
});

const name = process.argv[2] ?? '';
const run = scenarios[name];
if (!run) {
  console.error(`unknown scenario ${name}`);
  process.exit(2);
}
run().then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(0);
  },
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
