// Proves the interop harness with the real daemons against each other (no tsbgp code):
// labs of namespaces, veth links and a bridge, BIRD/FRR/GoBGP sessions, announcements,
// withdrawals, MD5, IPv6, a restart, kernel-table side effects, and a cleanup that leaves
// nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createLab, sweepStale, type Lab } from '../lib/netns.js';
import { pidAlive, run, waitFor } from '../lib/proc.js';
import { needsRoot } from '../lib/root.js';
import { PEER_TOOLS, startPeer, withPeerLogs, type Afi, type PeerHandle, type PeerRoute } from '../lib/peers/index.js';

function netnsList(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean);
}

/** Waits until `peer` has a path for `prefix` from `from` and returns it. */
async function pathFrom(peer: PeerHandle, afi: Afi, prefix: string, from: string, timeoutMs = 15_000): Promise<PeerRoute> {
  const routes = await waitFor(() => peer.routes(afi), {
    timeoutMs,
    label: `${peer.kind} in ${peer.ns.name} has ${prefix} from ${from}`,
    until: (rs) => rs.some((r) => r.prefix === prefix && r.peer === from),
  });
  return routes.find((r) => r.prefix === prefix && r.peer === from)!;
}

async function waitGone(peer: PeerHandle, afi: Afi, prefix: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(() => peer.routes(afi), {
    timeoutMs,
    label: `${peer.kind} in ${peer.ns.name} no longer has ${prefix}`,
    until: (rs) => !rs.some((r) => r.prefix === prefix),
  });
}

test('lab: namespaces, veth, bridge, forwarding, exec, routes and cleanup', { skip: needsRoot('ping') }, async () => {
  const lab = createLab('basics');
  let names: string[] = [];
  let sleeper = 0;
  try {
    const a = await lab.addNamespace('a');
    const b = await lab.addNamespace('b', { forwarding: true });
    const c = await lab.addNamespace('c');
    const ab = await lab.link(a, b, { a: '192.0.2.1/30', b: '192.0.2.2/30', a6: '2001:db8:1::1/64', b6: '2001:db8:1::2/64' });
    assert.equal(ab.ipA, '192.0.2.1');
    assert.equal(ab.ip6B, '2001:db8:1::2');
    assert.equal(ab.ifA, 'to-b');
    const lan = await lab.lan('sw', [
      { ns: b, addr: '198.51.100.1/24' },
      { ns: 'c', addr: '198.51.100.2/24' },
    ]);
    assert.equal(lan.members.length, 2);
    assert.ok(a.netns.startsWith(lab.id) && a.netns.includes(String(process.pid)), a.netns);
    // Routed through b, which forwards: proves link, lan, forwarding and exec together.
    await lab.check(a, 'ip', ['route', 'add', '198.51.100.0/24', 'via', '192.0.2.2']);
    await lab.check(c, 'ip', ['route', 'add', '192.0.2.0/30', 'via', '198.51.100.1']);
    const ping = await lab.exec(a, 'ping', ['-c', '1', '-W', '2', '198.51.100.2']);
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    const ping6 = await lab.exec(a, 'ping', ['-6', '-c', '1', '-W', '2', '2001:db8:1::2']);
    assert.equal(ping6.code, 0, ping6.stdout + ping6.stderr);
    const fail = await lab.exec(a, 'false');
    assert.equal(fail.code, 1);
    const kr = await lab.routes(a, 4);
    const via = kr.find((r) => r.prefix === '198.51.100.0/24');
    assert.equal(via?.gateway, '192.0.2.2');
    assert.ok(kr.some((r) => r.prefix === '192.0.2.0/30' && r.protocol === 'kernel'));
    // The root namespace was not touched.
    const root = spawnSync('ip', ['-j', 'route', 'show'], { encoding: 'utf8' });
    assert.ok(!root.stdout.includes('198.51.100.0'));

    const child = lab.spawnIn(c, 'sleep', ['300']);
    sleeper = child.pid!;
    assert.ok(lab.pids().includes(sleeper));
    names = lab.namespaces().map((n) => n.netns);
    assert.deepEqual(
      names.map((n) => n.slice(lab.id.length + 1)),
      ['a', 'b', 'c', 'sw'],
    );
    for (const n of names) assert.ok(netnsList().includes(n), n);
  } finally {
    await lab.cleanup();
  }
  await lab.cleanup(); // a second call is harmless
  const left = netnsList();
  for (const n of names) assert.ok(!left.includes(n), `${n} still exists`);
  assert.equal(pidAlive(sleeper), false, 'the spawned process is gone');
  assert.equal(existsSync(lab.dir), false, 'the lab dir is gone');
  await assert.rejects(lab.addNamespace('late'), /cleaned up/);
});

test('lab: namespaces of a dead run are swept', { skip: needsRoot() }, async () => {
  // A pid that surely is not running node: a process that has exited.
  const gone = spawn('true');
  await new Promise((r) => gone.on('exit', r));
  const stale = `tsb-${gone.pid}-1-crashed-x`;
  assert.equal((await run('ip', ['netns', 'add', stale])).code, 0);
  const orphan = spawn('ip', ['netns', 'exec', stale, 'sleep', '300'], { stdio: 'ignore' });
  await waitFor(() => spawnSync('ip', ['netns', 'pids', stale], { encoding: 'utf8' }).stdout.trim() !== '', 5000);
  const removed = sweepStale();
  assert.ok(removed.includes(stale), `swept: ${removed.join(', ')}`);
  assert.ok(!netnsList().includes(stale));
  await waitFor(() => orphan.exitCode !== null || orphan.signalCode !== null, 5000);
});

const ALL_TOOLS = [...PEER_TOOLS.bird, ...PEER_TOOLS.frr, ...PEER_TOOLS.gobgp, 'ss'];

test('harness: BIRD, FRR and GoBGP peer with each other', { skip: needsRoot(...ALL_TOOLS) }, async (t) => {
  const lab: Lab = createLab('harness');
  const peers: PeerHandle[] = [];
  let pids: number[] = [];
  let names: string[] = [];
  try {
    const r1 = await lab.addNamespace('r1', { forwarding: true });
    const r2 = await lab.addNamespace('r2');
    const r3 = await lab.addNamespace('r3');
    const l12 = await lab.link(r1, r2, { a: '192.0.2.1/30', b: '192.0.2.2/30', a6: '2001:db8:12::1/64', b6: '2001:db8:12::2/64' });
    const l23 = await lab.link(r2, r3, { a: '192.0.2.5/30', b: '192.0.2.6/30' });
    const l13 = await lab.link(r1, r3, { a: '192.0.2.9/30', b: '192.0.2.10/30' });
    const md5 = 'tsbgp-md5-secret';

    const [bird, frr, gobgp] = await Promise.all([
      startPeer('bird', lab, r1, {
        asn: 65001,
        routerId: '1.1.1.1',
        kernel: true,
        neighbors: [
          { address: l12.ipB!, asn: 65002, password: md5 },
          { address: l12.ip6B!, asn: 65002 },
          { address: l13.ipB!, asn: 65003 },
        ],
        announce: [
          { prefix: '203.0.113.0/24', communities: ['65001:100'], largeCommunities: ['65001:7:8'], asPath: [64512] },
          { prefix: '2001:db8:100::/48' },
        ],
      }),
      startPeer('frr', lab, r2, {
        asn: 65002,
        routerId: '2.2.2.2',
        neighbors: [
          { address: l12.ipA!, asn: 65001, password: md5 },
          { address: l12.ip6A!, asn: 65001 },
          { address: l23.ipB!, asn: 65003 },
        ],
      }),
      startPeer('gobgp', lab, r3, {
        asn: 65003,
        routerId: '3.3.3.3',
        neighbors: [
          { address: l23.ipA!, asn: 65002 },
          { address: l13.ipA!, asn: 65001, passive: true },
        ],
      }),
    ]);
    peers.push(bird, frr, gobgp);

    // Each step's failure message ends with the daemons' log tails.
    const step = (name: string, fn: () => Promise<void>) => t.test(name, () => withPeerLogs(peers, fn));
    await step('every session reaches Established', async () => {
      await Promise.all([
        bird.waitEstablished(l12.ipB!),
        bird.waitEstablished(l12.ip6B!),
        bird.waitEstablished(l13.ipB!),
        frr.waitEstablished(l12.ipA!),
        frr.waitEstablished(l12.ip6A!),
        frr.waitEstablished(l23.ipB!),
        gobgp.waitEstablished(l23.ipA!),
        gobgp.waitEstablished(l13.ipA!),
      ]);
      const fn = await frr.neighbors();
      assert.deepEqual(
        fn.map((n) => [n.address, n.asn, n.state]).sort(),
        [
          ['192.0.2.1', 65001, 'Established'],
          ['192.0.2.6', 65003, 'Established'],
          ['2001:db8:12::1', 65001, 'Established'],
        ],
      );
      const gn = await gobgp.neighbors();
      assert.deepEqual(
        gn.map((n) => [n.address, n.asn, n.state]).sort(),
        [
          ['192.0.2.5', 65002, 'Established'],
          ['192.0.2.9', 65001, 'Established'],
        ],
      );
      const bn = await bird.neighbors();
      assert.deepEqual(
        bn.map((n) => [n.address, n.asn, n.state]),
        [
          ['192.0.2.2', 65002, 'Established'],
          ['2001:db8:12::2', 65002, 'Established'],
          ['192.0.2.10', 65003, 'Established'],
        ],
      );
    });

    await step('the MD5-signed session really carries a TCP MD5 key', async () => {
      // ss -e shows "md5keys:..." for a socket with TCP_MD5SIG keys (needs CAP_NET_ADMIN).
      const ss = await lab.check(r2, 'ss', ['-tnie', 'state', 'established', 'dst', l12.ipA!]);
      assert.match(ss.stdout, /md5/i, ss.stdout);
      const plain = await lab.check(r2, 'ss', ['-tnie', 'state', 'established', 'dst', l23.ipB!]);
      assert.doesNotMatch(plain.stdout, /md5/i, plain.stdout);
      assert.match(plain.stdout, /192\.0\.2\.6:/);
    });

    await step('a BIRD prefix reaches FRR and GoBGP with its next hop, AS path and communities', async () => {
      const p = '203.0.113.0/24';
      const atFrr = await pathFrom(frr, 'ipv4', p, l12.ipA!);
      assert.equal(atFrr.nextHop, l12.ipA);
      assert.deepEqual(atFrr.asPath, [65001, 64512]);
      assert.deepEqual(atFrr.communities, ['65001:100']);
      assert.deepEqual(atFrr.largeCommunities, ['65001:7:8']);
      assert.equal(atFrr.origin, 'igp');
      const direct = await pathFrom(gobgp, 'ipv4', p, l13.ipA!);
      assert.equal(direct.nextHop, l13.ipA);
      assert.deepEqual(direct.asPath, [65001, 64512]);
      assert.deepEqual(direct.communities, ['65001:100']);
      assert.equal(direct.best, true, 'the shorter path is best');
      const viaFrr = await pathFrom(gobgp, 'ipv4', p, l23.ipA!);
      assert.equal(viaFrr.nextHop, l23.ipA);
      assert.deepEqual(viaFrr.asPath, [65002, 65001, 64512]);
      assert.equal(viaFrr.best, false);
    });

    await step('FRR and GoBGP announcements reach the others; BIRD installs them in its kernel', async () => {
      await frr.announce('198.51.100.0/25', { med: 50, communities: ['65002:1', '65002:2'], origin: 'incomplete' });
      await gobgp.announce('198.51.100.128/25', { largeCommunities: ['65003:1:1'], asPath: [64513, 64514] });
      const a = await pathFrom(bird, 'ipv4', '198.51.100.0/25', l12.ipB!);
      assert.equal(a.nextHop, l12.ipB);
      assert.deepEqual(a.asPath, [65002]);
      assert.equal(a.med, 50);
      assert.deepEqual(a.communities, ['65002:1', '65002:2']);
      assert.equal(a.origin, 'incomplete');
      const b = await pathFrom(gobgp, 'ipv4', '198.51.100.0/25', l23.ipA!);
      assert.equal(b.med, 50);
      const c = await pathFrom(frr, 'ipv4', '198.51.100.128/25', l23.ipB!);
      assert.equal(c.nextHop, l23.ipB);
      assert.deepEqual(c.asPath, [65003, 64513, 64514]);
      assert.deepEqual(c.largeCommunities, ['65003:1:1']);
      const d = await pathFrom(bird, 'ipv4', '198.51.100.128/25', l13.ipB!);
      assert.equal(d.nextHop, l13.ipB);
      assert.deepEqual(d.asPath, [65003, 64513, 64514]);
      // kernel: true: BIRD's best route is in r1's table; FRR (-n) and GoBGP left theirs alone.
      const k1 = await waitFor(() => lab.routes(r1, 4), {
        label: 'r1 kernel has 198.51.100.0/25',
        until: (rs) => rs.some((r) => r.prefix === '198.51.100.0/25'),
      });
      const k = k1.find((r) => r.prefix === '198.51.100.0/25')!;
      assert.equal(k.gateway, l12.ipB);
      assert.equal(k.protocol, 'bird');
      for (const ns of [r2, r3]) {
        const kr = await lab.routes(ns, 4);
        assert.ok(kr.every((r) => r.protocol === 'kernel'), `${ns.name}: ${JSON.stringify(kr)}`);
      }
    });

    await step('a withdrawal disappears everywhere', async () => {
      await bird.withdraw('203.0.113.0/24');
      await Promise.all([waitGone(frr, 'ipv4', '203.0.113.0/24'), waitGone(gobgp, 'ipv4', '203.0.113.0/24')]);
      await frr.withdraw('198.51.100.0/25');
      await Promise.all([waitGone(bird, 'ipv4', '198.51.100.0/25'), waitGone(gobgp, 'ipv4', '198.51.100.0/25')]);
      await waitFor(() => lab.routes(r1, 4), {
        label: 'r1 kernel route withdrawn',
        until: (rs) => !rs.some((r) => r.prefix === '198.51.100.0/25'),
      });
      // The other announcement is untouched.
      await pathFrom(bird, 'ipv4', '198.51.100.128/25', l13.ipB!);
    });

    await step('the IPv6 session carries IPv6 prefixes both ways', async () => {
      const a = await pathFrom(frr, 'ipv6', '2001:db8:100::/48', l12.ip6A!);
      assert.equal(a.nextHop, l12.ip6A);
      assert.deepEqual(a.asPath, [65001]);
      await frr.announce('2001:db8:200::/48', { communities: ['65002:6'] });
      const b = await pathFrom(bird, 'ipv6', '2001:db8:200::/48', l12.ip6B!);
      assert.equal(b.nextHop, l12.ip6B);
      assert.deepEqual(b.asPath, [65002]);
      assert.deepEqual(b.communities, ['65002:6']);
      // IPv6 stayed off the IPv4 sessions.
      const g6 = await gobgp.routes('ipv6');
      assert.deepEqual(g6, []);
    });

    await step('a restarted GoBGP comes back with its announcement', async () => {
      const before = gobgp.pids();
      assert.equal(before.length, 1);
      await gobgp.restart();
      assert.notDeepEqual(gobgp.pids(), before);
      assert.equal(pidAlive(before[0]!), false);
      await Promise.all([gobgp.waitEstablished(l23.ipA!), gobgp.waitEstablished(l13.ipA!)]);
      await pathFrom(frr, 'ipv4', '198.51.100.128/25', l23.ipB!);
    });
    pids = [...peers.flatMap((p) => p.pids()), ...lab.pids()];
    names = lab.namespaces().map((n) => n.netns);
    assert.ok(pids.length >= 4, `daemons running: ${pids.join(',')}`);
  } finally {
    await lab.cleanup();
  }
  await t.test('cleanup leaves no namespace and no process', () => {
    const left = netnsList();
    for (const n of names) assert.ok(!left.includes(n), `${n} still exists`);
    for (const pid of pids) assert.equal(pidAlive(pid), false, `pid ${pid} still runs`);
    assert.equal(existsSync(lab.dir), false);
  });
});
