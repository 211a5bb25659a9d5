// OtherRoutes: the routes of other owners next hops resolve through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp, parsePrefix } from '../../src/fib/ip.js';
import { Rtn, Rtm, RtTable } from '../../src/fib/netlink/constants.js';
import { NlEncoder, RouteView, decodeRoute, gatewayBlock, putRoute } from '../../src/fib/netlink/codec.js';
import { OtherRoutes } from '../../src/fib/routes.js';

/** A decoded route message, as a notification or dump would bring it. */
function route(dst: string, o: { gw?: string; oif?: number; metric?: number; table?: number; protocol?: number; type?: number } = {}): RouteView {
  const p = parsePrefix(dst)!;
  let block: Buffer | null = null;
  if (o.gw !== undefined) {
    const g = parseIp(o.gw)!;
    block = gatewayBlock(p.family, [{ family: g.family, addr: g.bytes, oif: o.oif ?? 0, weight: 1 }]);
  } else if (o.oif !== undefined) {
    block = Buffer.alloc(8);
    block.writeUInt16LE(8, 0);
    block.writeUInt16LE(4, 2);
    block.writeUInt32LE(o.oif, 4);
  }
  const enc = new NlEncoder(512);
  putRoute(enc, Rtm.NEWROUTE, 0, 1, p.family, p.bytes, 0, p.plen, o.table ?? RtTable.MAIN, o.protocol ?? 4, o.metric ?? 0, block);
  if (o.type !== undefined) enc.buf[16 + 7] = o.type;
  const b = enc.toBuffer();
  const v = new RouteView();
  assert.ok(decodeRoute(b, 0, b.length, v));
  return v;
}

const up = (): boolean => true;
const ip = (s: string): Uint8Array => parseIp(s)!.bytes;

test('longest prefix wins, then the lowest metric; other tables are not looked at', () => {
  const r = new OtherRoutes([RtTable.MAIN]);
  assert.equal(r.update(route('192.0.2.0/24', { gw: '10.0.0.2', oif: 2, metric: 10 }), true), true);
  r.update(route('192.0.2.0/24', { gw: '10.0.0.3', oif: 2, metric: 5, protocol: 3 }), true);
  r.update(route('192.0.2.0/25', { gw: '10.1.0.2', oif: 3, metric: 50 }), true);
  assert.equal(r.update(route('192.0.2.0/26', { gw: '10.0.0.7', oif: 2, table: 200 }), true), false, 'not a watched table');
  r.update(route('0.0.0.0/0', { gw: '10.0.0.254', oif: 2 }), true);
  assert.equal(r.size, 4);
  assert.deepEqual(r.resolve(4, ip('192.0.2.1'), up), { gateway: '10.1.0.2', ifindex: 3, metric: 50, via: '192.0.2.0/25' });
  assert.deepEqual(r.resolve(4, ip('192.0.2.200'), up), { gateway: '10.0.0.3', ifindex: 2, metric: 5, via: '192.0.2.0/24' });
  assert.deepEqual(r.resolve(4, ip('198.51.100.1'), up), { gateway: '10.0.0.254', ifindex: 2, metric: 0, via: '0.0.0.0/0' });
  // A link that is down does not carry the next hop.
  assert.equal(r.resolve(4, ip('192.0.2.1'), (oif) => oif !== 3), null);
  // Removal is by (table, prefix, metric, protocol): IPv4 keeps several owners on one key.
  assert.equal(r.update(route('192.0.2.0/25', { metric: 50 }), false), true);
  assert.equal(r.update(route('192.0.2.0/25', { metric: 50 }), false), false, 'already gone');
  assert.equal(r.resolve(4, ip('192.0.2.1'), up)!.gateway, '10.0.0.3');
  r.update(route('192.0.2.0/24', { metric: 5, protocol: 3 }), false);
  assert.equal(r.resolve(4, ip('192.0.2.1'), up)!.gateway, '10.0.0.2');
  // An unchanged re-announcement is no change.
  assert.equal(r.update(route('192.0.2.0/24', { gw: '10.0.0.2', oif: 2, metric: 10 }), true), false);
  assert.equal(r.update(route('192.0.2.0/24', { gw: '10.0.0.4', oif: 2, metric: 10 }), true), true);
});

test('device routes put the address itself on the link; blackholes and unreachables resolve nothing', () => {
  const r = new OtherRoutes([RtTable.MAIN]);
  r.update(route('10.9.0.0/24', { oif: 4, metric: 3 }), true);
  assert.deepEqual(r.resolve(4, ip('10.9.0.5'), up), { gateway: '10.9.0.5', ifindex: 4, metric: 3, via: '10.9.0.0/24' });
  r.update(route('10.9.0.0/28', { type: Rtn.BLACKHOLE }), true);
  assert.equal(r.resolve(4, ip('10.9.0.5'), up), null);
  assert.deepEqual(r.resolve(4, ip('10.9.0.17'), up)?.gateway, '10.9.0.17');
});

test('IPv6 routes via link-local gateways, and routes over other owners\' nexthop objects', () => {
  const r = new OtherRoutes([100, RtTable.MAIN]);
  r.update(route('2001:db8:ff::/64', { gw: 'fe80::99', oif: 5, metric: 7, table: 100 }), true);
  assert.deepEqual(r.resolve(6, ip('2001:db8:ff::1'), up), { gateway: 'fe80::99', ifindex: 5, metric: 7, via: '2001:db8:ff::/64' });
  r.objects.set(42, { id: 42, family: 4, protocol: 11, flags: 0, gateway: ip('10.0.0.9'), oif: 2, blackhole: false });
  const v = route('172.16.0.0/16', { metric: 20, protocol: 11 });
  v.nhId = 42;
  r.update(v, true);
  assert.deepEqual(r.resolve(4, ip('172.16.1.1'), up), { gateway: '10.0.0.9', ifindex: 2, metric: 20, via: '172.16.0.0/16' });
  r.clear();
  assert.equal(r.size, 0);
  assert.equal(r.resolve(6, ip('2001:db8:ff::1'), up), null);
});

test('IPv6 ECMP legs: an append merges, a delete naming one leg keeps the others', () => {
  const r = new OtherRoutes([RtTable.MAIN]);
  const multi = (legs: [string, number][]): RouteView => {
    const p = parsePrefix('2001:db8:fe::/64')!;
    const block = gatewayBlock(6, legs.map(([g, oif]) => ({ family: 6 as const, addr: ip(g), oif, weight: 1 })));
    const enc = new NlEncoder(512);
    putRoute(enc, Rtm.NEWROUTE, 0, 1, 6, p.bytes, 0, p.plen, RtTable.MAIN, 4, 9, block);
    const b = enc.toBuffer();
    const v = new RouteView();
    assert.ok(decodeRoute(b, 0, b.length, v));
    return v;
  };
  r.update(route('2001:db8:fe::/64', { gw: 'fe80::98', oif: 3, metric: 9 }), true);
  // `ip -6 route append`: NLM_F_CREATE|NLM_F_APPEND with the new leg.
  assert.equal(r.update(route('2001:db8:fe::/64', { gw: 'fe80::97', oif: 5, metric: 9 }), true, 0xc00), true);
  assert.equal(r.all()[0]!.legs.length, 2);
  assert.equal(r.update(route('2001:db8:fe::/64', { gw: 'fe80::98', oif: 3, metric: 9 }), false), true);
  assert.deepEqual(r.resolve(6, ip('2001:db8:fe::1'), up), { gateway: 'fe80::97', ifindex: 5, metric: 9, via: '2001:db8:fe::/64' });
  // A whole multipath route replaces what was there; deleting it (all legs) removes it.
  r.update(multi([['fe80::1', 2], ['fe80::2', 3]]), true);
  assert.equal(r.all()[0]!.legs.length, 2);
  assert.deepEqual(r.resolve(6, ip('2001:db8:fe::1'), (oif) => oif === 3)?.gateway, 'fe80::2');
  r.update(multi([['fe80::1', 2], ['fe80::2', 3]]), false);
  assert.equal(r.size, 0);
});
