// The kernel backend against Linux, each test in its own network namespace
// (root only). The Fib runs in a child process inside the namespace
// (kernel-scenarios.ts); we check what it reports and what `ip -j` shows.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { netlinkUnavailable } from '../../src/fib/kernel.js';

const SCRIPT = fileURLToPath(new URL('./kernel-scenarios.js', import.meta.url));
const TABLE = '100';

function why(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns unavailable: ${r.stderr || r.error?.message}`;
  return netlinkUnavailable();
}
const skip = why();
if (skip) console.log(`# kernel FIB tests skipped: ${skip}`);

let seq = 0;

function ip(...args: string[]): string {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A namespace with v0 (10.0.0.1/24, 2001:db8::1/64) and w0 (10.1.0.1/24), removed when the test ends. */
function namespace(t: { after: (fn: () => void) => void }): { ns: string; ipj: (...a: string[]) => unknown[] } {
  const ns = `nh-fib-${process.pid}-${++seq}`;
  ip('netns', 'add', ns);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });
  const n = (...a: string[]): string => ip('-n', ns, ...a);
  n('link', 'set', 'lo', 'up');
  n('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  n('link', 'add', 'w0', 'type', 'veth', 'peer', 'name', 'w1');
  for (const l of ['v0', 'v1', 'w0', 'w1']) n('link', 'set', l, 'up');
  n('addr', 'add', '10.0.0.1/24', 'dev', 'v0');
  n('-6', 'addr', 'add', '2001:db8::1/64', 'dev', 'v0', 'nodad');
  n('addr', 'add', '10.1.0.1/24', 'dev', 'w0');
  return { ns, ipj: (...a: string[]) => JSON.parse(n('-j', ...a) || '[]') as unknown[] };
}

// Loosely typed views of `ip -j` output and of the child's report.
/* eslint-disable @typescript-eslint/no-explicit-any */
type J = any;

function scenario(ns: string, name: string): J {
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, SCRIPT, name], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`scenario ${name} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

test('kernel: installs via nexthop objects and ECMP, reads back like `ip -j route`, adopts on restart', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const { ns, ipj } = namespace(t);
  const r = scenario(ns, 'install');
  assert.deepEqual(r.events.filter((e: J) => e.type !== 'resync'), []);
  assert.equal(r.stats.installed, 2000);
  const v4: J[] = ipj('route', 'show', 'table', TABLE, 'proto', '186');
  const v6: J[] = ipj('-6', 'route', 'show', 'table', TABLE, 'proto', '186');
  assert.equal(v4.length, 1000);
  assert.equal(v6.length, 1000);
  const nexthops: J[] = ipj('nexthop', 'show');
  const byId = new Map(nexthops.map((n) => [n.id, n]));
  const gw = (a: string): J => nexthops.find((n) => n.gateway === a && !n.group);
  assert.equal(gw('10.0.0.2').dev, 'v0');
  const group4 = nexthops.find((n) => n.group && n.group.some((m: J) => m.id === gw('10.0.0.3').id));
  assert.ok(group4, 'an ECMP group holds 10.0.0.3');
  assert.deepEqual(
    group4.group.map((m: J) => [byId.get(m.id).gateway, m.weight ?? 1]).sort(),
    [
      ['10.0.0.2', 1],
      ['10.0.0.3', 2],
    ],
  );
  // What our decoder read from the kernel agrees with iproute2, route by route.
  const ours = new Map<string, J>(r.dump.map((d: J) => [d.dst, d]));
  for (const x of [...v4, ...v6]) {
    const dst = x.dst.includes('/') ? x.dst : `${x.dst}/${x.dst.includes(':') ? 128 : 32}`;
    assert.equal(ours.get(dst)?.nhId, x.nhid, dst);
    assert.equal(x.metric ?? 0, 20);
  }
  assert.equal(v4.find((x) => x.dst === '11.0.1.0/24').nhid, gw('10.0.0.2').id);
  assert.equal(v4.find((x) => x.dst === '11.0.0.0/24').nhid, group4.id);
  const ll = v6.find((x) => x.dst === '2001:db8:100::/48');
  assert.equal(byId.get(ll.nhid).gateway, 'fe80::1');
  assert.equal(byId.get(ll.nhid).dev, 'v0');

  const a = scenario(ns, 'adopt');
  assert.equal(a.adopted, 2000);
  assert.equal(a.beforeReconcile.routes, 1000, 'nothing deleted before reconcile');
  // 100 replaces + the object for 10.0.0.4; the 300 equal routes were not rewritten.
  assert.equal(a.beforeReconcile.messages, 101);
  assert.equal(a.after.length, 400);
  assert.equal(a.after6.length, 0);
  const moved = a.after.find((x: J) => x.dst === '11.0.0.0/24');
  assert.equal(a.nexthops.find((n: J) => n.id === moved.nhid).gateway, '10.0.0.4');
  assert.equal(a.after.find((x: J) => x.dst === '11.0.1.0/24').nhid, gw('10.0.0.2').id, 'kept on the adopted object');
  assert.equal(a.stats.adopted, 0);
  assert.deepEqual(ipj('route', 'show', 'table', TABLE), [], 'stop deleted our routes');
  assert.deepEqual(ipj('nexthop', 'show'), [], 'and our nexthop objects');
});

test('kernel: another owner on our key is left untouched and reported', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const { ns } = namespace(t);
  const r = scenario(ns, 'conflict');
  assert.deepEqual(
    r.events.filter((e: J) => e.type === 'conflict' || e.type === 'conflict-resolved').map((e: J) => [e.type, e.prefix]),
    [
      ['conflict', '20.0.0.0/24'],
      ['conflict-resolved', '20.0.0.0/24'],
    ],
  );
  const at = (routes: J[], dst: string): J[] => routes.filter((x) => x.dst === dst);
  const held = at(r.during, '20.0.0.0/24');
  assert.equal(held.length, 1);
  assert.equal(held[0].protocol, 'static');
  assert.equal(held[0].gateway, '10.1.0.9');
  assert.deepEqual(r.state.flags, ['foreign', 'conflict']);
  assert.deepEqual(at(r.during, '20.0.1.0/24').map((x) => [x.protocol, x.metric]).sort(), [
    ['bgp', 20],
    ['static', 5],
  ]);
  assert.equal(at(r.afterDel, '20.0.0.0/24')[0].protocol, 'bgp', 'ours once the other owner left');
  assert.deepEqual(r.afterStop.map((x: J) => [x.dst, x.protocol]), [['20.0.1.0/24', 'static']]);
});

test('kernel: a route another owner adds beside ours (append, prepend) leaves ours managed; its removal is no new conflict', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const { ns } = namespace(t);
  const r = scenario(ns, 'beside');
  const at = (routes: J[], dst: string): J[] => routes.filter((x) => x.dst === dst).map((x) => [x.protocol, x.gateway]);
  // The kernel keeps both, in the order append/prepend put them.
  assert.deepEqual(at(r.during, '20.0.0.0/24'), [
    ['bgp', '10.0.0.2'],
    ['static', '10.1.0.9'],
  ]);
  assert.deepEqual(at(r.during, '20.0.1.0/24'), [
    ['static', '10.1.0.9'],
    ['bgp', '10.0.0.2'],
  ]);
  assert.deepEqual(r.stateDuring.flags, ['foreign', 'conflict']);
  assert.notEqual(r.stateDuring.installed, null, 'ours is still in the kernel');
  // One conflict while the other route is there, resolved when it goes: no EEXIST on our
  // own route afterwards (which reported a second, false conflict and stuck there).
  for (const p of ['20.0.0.0/24', '20.0.1.0/24']) {
    assert.deepEqual(
      r.events.filter((e: J) => e.prefix === p).map((e: J) => e.type),
      ['conflict', 'conflict-resolved'],
      p,
    );
  }
  assert.ok(!r.events.some((e: J) => e.type === 'error'), JSON.stringify(r.events));
  for (const s of r.stateAfter) {
    assert.deepEqual(s.flags, [], s.prefix);
    assert.equal(s.installed, s.wanted, s.prefix);
  }
  const gw3 = r.nexthops.find((n: J) => n.gateway === '10.0.0.3');
  assert.ok(gw3, 'an object for the new next hop');
  for (const dst of ['20.0.0.0/24', '20.0.1.0/24']) {
    const mine = r.moved.filter((x: J) => x.dst === dst);
    assert.deepEqual(mine.map((x: J) => [x.protocol, x.nhid]), [['bgp', gw3.id]], `${dst} follows the next hop change`);
  }
  assert.deepEqual(r.afterStop, [], 'stop removed ours');
});

test('kernel: an unreachable gateway fails only its own route, with the kernel reason', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const { ns } = namespace(t);
  const r = scenario(ns, 'errors');
  const errs = r.events.filter((e: J) => e.type === 'error');
  assert.deepEqual(
    errs.map((e: J) => [e.prefix, e.op, e.code, e.gateways]),
    [['40.0.0.0/16', 'add', 'ENETUNREACH', ['192.0.2.1']]],
  );
  assert.equal(errs[0].message, 'Nexthop has invalid gateway');
  assert.equal(r.routes.length, 100);
  assert.equal(r.state.error, 'ENETUNREACH');
  assert.deepEqual(r.state.flags, ['failed']);
});

test('kernel: link down removes its subnet (notification); routes return with the link', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const { ns } = namespace(t);
  const r = scenario(ns, 'linkdown');
  assert.equal(r.viaBefore, r.v0);
  assert.equal(r.viaDown, 0, 'the subnet of v0 no longer resolves next hops');
  assert.deepEqual(r.links.filter((l: J) => l[0] === 'v0').slice(0, 2), [
    ['v0', false],
    ['v0', true],
  ]);
  assert.ok(r.events.some((e: J) => e.type === 'resync' && e.reason === 'link v0 down'));
  const errs = r.events.filter((e: J) => e.type === 'error');
  assert.equal(errs.length, 40);
  assert.ok(errs.every((e: J) => e.code === 'ENETUNREACH'));
  assert.equal(r.routesDown, 10, 'routes through w0 stay');
  assert.equal(r.statsDown.installed, 10);
  assert.equal(r.statsDown.failed, 40);
  assert.equal(r.routesUp, 50);
  assert.equal(r.statsUp.failed, 0);
});

test('kernel: another owner replacing its route in front of ours leaves no stuck conflict (probe on EEXIST/replace)', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const { ns } = namespace(t);
  const r = scenario(ns, 'replaced');
  const at = (routes: J[]): J[] => routes.filter((x) => x.dst === '20.0.0.0/24').map((x) => [x.protocol, x.gateway]);
  // Theirs (replaced in place) holds the key; ours was taken out by the probe.
  assert.deepEqual(at(r.during), [['static', '10.1.0.8']]);
  assert.deepEqual(r.stateDuring.flags, ['foreign', 'conflict']);
  assert.equal(r.stateDuring.installed, null);
  // They leave: ours comes back, no conflict left.
  assert.deepEqual(at(r.after), [['bgp', '10.0.0.2']]);
  assert.deepEqual(r.stateAfter.flags, []);
  assert.equal(r.stateAfter.installed, r.stateAfter.wanted);
  assert.deepEqual(
    r.events.filter((e: J) => e.prefix === '20.0.0.0/24').map((e: J) => e.type),
    ['conflict', 'conflict-resolved'],
  );
  assert.ok(!r.events.some((e: J) => e.type === 'error'), JSON.stringify(r.events));
  assert.ok(r.stats.operations.add >= 2 && r.stats.operations.delete >= 1, JSON.stringify(r.stats.operations));
});

test('kernel: next hops resolve through other owners\' routes (longest match, never ours) and follow their changes', { skip: skip ?? false, timeout: 120_000 }, (t) => {
  const { ns } = namespace(t);
  const r = scenario(ns, 'recursive');
  const { v0, w0 } = r;
  assert.deepEqual(r.seen.none, { v4: null, v6: null, connected: { gateway: '10.0.0.2', ifindex: v0, metric: 0, via: null }, object: null, ecmp6: null });
  assert.deepEqual(r.seen.static.v4, { gateway: '10.0.0.2', ifindex: v0, metric: 10, via: '192.0.2.0/24' });
  assert.deepEqual(r.seen.static.v6, { gateway: 'fe80::99', ifindex: v0, metric: 7, via: '2001:db8:ff::/64' });
  assert.deepEqual(r.seen.static.object, { gateway: '10.1.0.2', ifindex: w0, metric: 30, via: '198.51.100.0/24' }, 'through a nexthop object of zebra');
  assert.deepEqual(r.seen.longer.v4, { gateway: '10.1.0.2', ifindex: w0, metric: 50, via: '192.0.2.0/25' });
  // Either leg of the ECMP route will do; the one left after the other's removal must.
  assert.ok(['fe80::98', 'fe80::97'].includes(r.seen.longer.ecmp6?.gateway), JSON.stringify(r.seen.longer.ecmp6));
  assert.deepEqual(r.seen.leg.ecmp6, { gateway: 'fe80::97', ifindex: w0, metric: 9, via: '2001:db8:fe::/64' }, 'the leg left resolves');
  assert.equal(r.seen.gone.v4, null);
  assert.equal(r.seen.gone.v6, null);
  assert.equal(r.seen.gone.object, null);
  assert.ok(r.changes >= 3, `route changes announced (${r.changes})`);
});
