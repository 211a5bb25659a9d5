import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../src/fib/ip.js';
import { Iff } from '../../src/fib/netlink/constants.js';
import type { AddrMsg, LinkMsg } from '../../src/fib/netlink/codec.js';
import { Nexthops, ObjState } from '../../src/fib/nexthops.js';

const link = (index: number, up = true): LinkMsg => ({
  index,
  name: `eth${index}`,
  flags: up ? Iff.UP | Iff.LOWER_UP : 0,
  up,
  lowerUp: up,
  operstate: up ? 6 : 2,
  mtu: 1500,
  master: 0,
});

const addr = (index: number, cidr: string, flags = 0): AddrMsg => {
  const [a, l] = cidr.split('/');
  const ip = parseIp(a!)!;
  return { family: ip.family, index, plen: Number(l), address: ip.bytes, local: ip.bytes, flags, scope: 0 };
};

function setup(useObjects = true): Nexthops {
  const n = new Nexthops({ protocol: 186, idBase: 1000, useObjects });
  n.resetLinks([link(2), link(3)], [addr(2, '10.0.0.1/24'), addr(3, '10.0.0.129/25'), addr(3, '2001:db8::1/64')]);
  return n;
}

test('a connected gateway gets a nexthop object on the longest matching subnet', () => {
  const n = setup();
  n.define(1, [{ address: '10.0.0.130' }]);
  const form = n.formOf(1, 4);
  assert.match(n.describeForm(form), /^id:\d+$/);
  const objs = n.objects();
  assert.equal(objs.length, 1);
  assert.equal(objs[0]!.oif, 3, '/25 on eth3 beats /24 on eth2');
  assert.equal(n.connectedVia('10.0.0.5'), 2);
  assert.equal(n.connectedVia('10.0.0.1'), 0, 'our own address is no gateway');
  assert.equal(n.connectedVia('192.0.2.1'), 0);
  const creates = n.takeCreates();
  assert.deepEqual(creates.map((o) => o.state), [ObjState.PENDING]);
  assert.equal(n.takeCreates().length, 0);
});

test('ECMP sets share gateway objects and get one group; groups are created after members', () => {
  const n = setup();
  n.define(1, [{ address: '10.0.0.2' }, { address: '10.0.0.3', weight: 2 }]);
  n.define(2, [{ address: '10.0.0.3', weight: 2 }, { address: '10.0.0.2' }]);
  n.define(3, [{ address: '10.0.0.2' }]);
  assert.equal(n.formOf(1, 4), n.formOf(2, 4), 'same gateways in another order: same group');
  assert.notEqual(n.formOf(1, 4), n.formOf(3, 4));
  const creates = n.takeCreates();
  assert.deepEqual(creates.map((o) => (o.members ? 'group' : 'gw')), ['gw', 'gw', 'group']);
  const group = creates[2]!;
  assert.deepEqual(
    group.members!.map((m) => m.weight).sort(),
    [1, 2],
  );
});

test('an unconnected gateway falls back to RTA_GATEWAY; IPv6 routes never use IPv4 objects', () => {
  const n = setup();
  n.define(1, [{ address: '192.0.2.1' }]);
  assert.match(n.describeForm(n.formOf(1, 4)), /^gw4:c0000201%0\*1$/);
  assert.equal(n.objects().length, 0);
  n.define(2, [{ address: '10.0.0.2' }]);
  assert.match(n.describeForm(n.formOf(2, 4)), /^id:/);
  assert.match(n.describeForm(n.formOf(2, 6)), /^gw6:/);
  n.define(3, [{ address: '2001:db8::2' }]);
  assert.equal(n.formOf(3, 6), n.formOf(3, 4), 'an IPv6 next hop serves both families');
  assert.throws(() => n.define(4, [{ address: 'nope' }]), /invalid address/);
});

test('link-local gateways need their interface', () => {
  const n = setup();
  n.define(1, [{ address: 'fe80::1' }]);
  assert.match(n.describeForm(n.formOf(1, 6)), /^gw6:/);
  n.define(2, [{ address: 'fe80::1', ifindex: 3 }]);
  assert.match(n.describeForm(n.formOf(2, 6)), /^id:/);
  assert.equal(n.objects().find((o) => o.family === 6)!.oif, 3);
});

test('a link going down moves its sets to another path or to RTA_GATEWAY', () => {
  const n = setup();
  n.define(1, [{ address: '10.0.0.130' }]);
  n.define(2, [{ address: '10.0.0.2' }]);
  const before = n.formOf(1, 4);
  assert.ok(n.linkUsed(3));
  assert.ok(n.setLink(link(3, false)));
  assert.deepEqual(n.resolveAll(), [1], 'now reached through eth2 /24');
  assert.notEqual(n.formOf(1, 4), before);
  assert.equal(n.objects().find((o) => o.id === n.formObj[n.formOf(1, 4)])!.oif, 2);
  assert.ok(n.setLink(link(2, false)));
  assert.deepEqual(n.resolveAll().sort(), [1, 2]);
  assert.match(n.describeForm(n.formOf(2, 4)), /^gw4:/);
});

test('a failed object sends its sets to RTA_GATEWAY until retried', () => {
  const n = setup();
  n.define(1, [{ address: '10.0.0.2' }]);
  const [o] = n.takeCreates();
  assert.ok(n.opDone({ kind: 'add', obj: o! }, 101));
  assert.deepEqual(n.resolveAll(), [1]);
  assert.match(n.describeForm(n.formOf(1, 4)), /^gw4:/);
  assert.ok(n.retryFailed());
  assert.deepEqual(n.resolveAll(), [1]);
  assert.match(n.describeForm(n.formOf(1, 4)), /^id:/);
});

test('EEXIST moves our object to a free id', () => {
  const n = setup();
  n.define(1, [{ address: '10.0.0.2' }]);
  const [o] = n.takeCreates();
  const old = o!.id;
  assert.ok(n.opDone({ kind: 'add', obj: o! }, 17));
  n.resolveAll();
  assert.notEqual(o!.id, old);
  assert.equal(n.describeForm(n.formOf(1, 4)), `id:${o!.id}`);
});

test('syncObjects adopts our objects from a dump and avoids the ids of others', () => {
  const n = setup();
  const gw = parseIp('10.0.0.2')!.bytes;
  n.syncObjects([
    { id: 1000, family: 4, protocol: 4, flags: 0, gateway: gw, oif: 2, blackhole: false }, // someone else's
    { id: 1005, family: 4, protocol: 186, flags: 0, gateway: gw, oif: 2, blackhole: false }, // ours, last run
  ]);
  n.define(1, [{ address: '10.0.0.2' }]);
  assert.equal(n.describeForm(n.formOf(1, 4)), 'id:1005', 'reuses the adopted object');
  assert.equal(n.takeCreates().length, 0);
  n.define(2, [{ address: '10.0.0.3' }]);
  assert.equal(n.describeForm(n.formOf(2, 4)), 'id:1001', '1000 is taken by another owner');
});

test('collect deletes objects nobody uses, keeping those routes still hold', () => {
  const n = setup();
  n.define(1, [{ address: '10.0.0.2' }, { address: '10.0.0.3' }]);
  const groupForm = n.formOf(1, 4);
  for (const o of n.takeCreates()) n.opDone({ kind: 'add', obj: o }, 0);
  n.define(1, [{ address: '10.0.0.4' }]);
  // The kernel still has routes on the group: it and its members stay.
  assert.deepEqual(n.collect(new Set([groupForm])), []);
  const ops = n.collect(new Set());
  assert.deepEqual(ops.map((o) => (o.obj.members ? 'group' : 'gw')), ['group', 'gw', 'gw'], 'groups go first');
  assert.equal(n.objects().length, 1, 'the object of 10.0.0.4 stays');
});

test('without nexthop objects every set is written as gateways', () => {
  const n = setup(false);
  n.define(1, [{ address: '10.0.0.2' }, { address: '10.0.0.3' }]);
  assert.match(n.describeForm(n.formOf(1, 4)), /^gw4:0a000002%0\*1,0a000003%0\*1$/);
  assert.equal(n.objects().length, 0);
});
