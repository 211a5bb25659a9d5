// tsbgp's speaker against a real BIRD 2: sessions both ways (tsbgp connects on IPv4,
// BIRD connects to tsbgp's listener on IPv6), IPv4/IPv6 routes with their attributes
// both ways, withdrawals, admin shutdown as BIRD records it, a BIRD restart, and a
// 2-octet-AS BIRD (`enable as4 off`) against tsbgp's 4-octet AS (AS_TRANS, AS4_PATH).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../lib/root.js';
import type { Lab, Ns } from '../lib/netns.js';
import { parseBirdProtocols, parseBirdRoutes } from '../lib/peers/bird.js';
import {
  normState,
  PEER_TOOLS,
  readLog,
  startPeer,
  waitEstablishedVia,
  type PeerHandle,
} from '../lib/peers/index.js';
import {
  birdc,
  checkAdminShutdown,
  checkEstablished,
  checkPeerRestart,
  checkRoutesBothWays,
  community,
  pairLab,
  peerPath,
  PEER_AS,
  SHUTDOWN_MESSAGE,
  since,
  SpeakerChild,
  startRawBird,
  TIMERS,
  TSBGP_AS,
  withLogs,
  type ChildEvent,
  type Scenario,
} from './speaker-lab.js';

/**
 * A BIRD with `enable as4 off` towards tsbgp. The driver cannot write this config: with
 * AS4 off BIRD refuses a 4-octet `neighbor ... as N`, yet it still checks the AS from
 * our 4-octet AS capability (so `as 23456` fails with Bad Peer AS); `neighbor X
 * external` accepts any AS but its own.
 */
async function startOldBird(
  lab: Lab,
  ns: Ns,
  o: {
    routerId: string;
    localAs: number;
    neighbor: string;
    routes: Array<{ prefix: string; prepend?: number[]; communities?: string[] }>;
  },
): Promise<PeerHandle & { birdc(...args: string[]): Promise<string> }> {
  const L = ['log stderr all;', `router id ${o.routerId};`, 'protocol device { scan time 10; }', 'protocol static s4 {', '  ipv4;'];
  for (const r of o.routes) L.push(`  route ${r.prefix} blackhole;`);
  L.push('}', 'filter old_out {');
  for (const r of o.routes) {
    const st: string[] = [];
    for (const asn of [...(r.prepend ?? [])].reverse()) st.push(`bgp_path.prepend(${asn});`);
    for (const c of r.communities ?? []) st.push(`bgp_community.add((${c.replace(':', ',')}));`);
    if (st.length) L.push(`  if net = ${r.prefix} then { ${st.join(' ')} }`);
  }
  L.push('  accept;', '}');
  L.push(
    'protocol bgp old {',
    `  local as ${o.localAs};`,
    `  neighbor ${o.neighbor} external;`,
    '  enable as4 off;',
    '  hold time 9; keepalive time 3; connect retry time 1; connect delay time 1; error wait time 1, 4;',
    '  ipv4 { import all; export filter old_out; };',
    '}',
  );
  const bird = await startRawBird(lab, ns, 'oldbird', `${L.join('\n')}\n`);
  const birdcRun = bird.birdc;
  const handle: PeerHandle & { birdc(...args: string[]): Promise<string> } = {
    kind: 'bird',
    ns,
    config: { asn: o.localAs, routerId: o.routerId, neighbors: [{ address: o.neighbor, asn: 0, as4: false }] },
    birdc: birdcRun,
    pids: () => [bird.pid],
    stop: () => bird.stop(),
    restart: () => Promise.reject(new Error('not supported')),
    waitEstablished: (addr, ms) => waitEstablishedVia(handle, addr, ms),
    neighbors: async () =>
      parseBirdProtocols(await birdcRun('show', 'protocols', 'all')).map((p) => ({
        address: p.address,
        state: normState(p.state),
        asn: p.asn,
      })),
    routes: async (afi) =>
      parseBirdRoutes(await birdcRun('show', 'route', 'all', 'table', afi === 'ipv4' ? 'master4' : 'master6'), (proto) =>
        proto === 'old' ? o.neighbor : undefined,
      ),
    announce: () => Promise.reject(new Error('not supported')),
    withdraw: () => Promise.reject(new Error('not supported')),
    logs: async () => readLog(bird.logFile),
  };
  return handle;
}

test('tsbgp speaker ↔ BIRD 2', { skip: needsRoot(...PEER_TOOLS.bird) }, async (t) => {
  const t0 = performance.now();
  const pl = await pairLab('bird');
  const { lab } = pl;
  let child: SpeakerChild | undefined;
  const peers: PeerHandle[] = [];
  try {
    // A second BIRD, 2-octet only, in its own namespace.
    const oldNs = await lab.addNamespace('old');
    const l2 = await lab.link(pl.node, oldNs, { a: '192.0.2.5/30', b: '192.0.2.6/30' });
    const [peer, c] = await Promise.all([
      startPeer('bird', lab, pl.peerNs, {
        asn: PEER_AS,
        routerId: '2.2.2.2',
        neighbors: [
          // Both sides connect: whichever connection wins the collision must carry on.
          { address: pl.nodeIp, asn: TSBGP_AS },
          // BIRD connects; tsbgp only listens.
          { address: pl.nodeIp6, asn: TSBGP_AS },
        ],
      }),
      SpeakerChild.start(lab, pl.node, { localAs: TSBGP_AS, routerId: '1.1.1.1', listen: { address: '::', port: 179 } }),
    ]);
    child = c;
    peers.push(peer);
    const s: Scenario = { pl, peer, child };
    await child.addNeighbor({ address: pl.peerIp, peerAs: PEER_AS, ...TIMERS });
    await child.addNeighbor({ address: pl.peerIp6, peerAs: PEER_AS, passive: true, ...TIMERS });
    t.diagnostic(`setup ${since(t0)} ms`);

    const step = (name: string, fn: () => Promise<void>) =>
      t.test(name, async (st) => {
        const s0 = performance.now();
        await withLogs(child, peers, fn);
        st.diagnostic(`${since(s0)} ms`);
      });

    await step('sessions reach Established: tsbgp connects (IPv4, both active) and BIRD connects (IPv6, tsbgp passive)', async () => {
      const dir = await checkEstablished(s, { v6: 'incoming' });
      t.diagnostic(`IPv4 session opened ${dir.v4} (both connect), IPv6 ${dir.v6}`);
    });

    await step('IPv4 and IPv6 routes flow both ways with their attributes; withdrawals reach the other side', async () => {
      const { linkLocal } = await checkRoutesBothWays(s);
      t.diagnostic(`BIRD's IPv6 next hop: global ${pl.peerIp6}, link-local ${linkLocal ?? 'none'}`);
    });

    await step('admin shutdown: BIRD records the Cease/Administrative Shutdown and its message', async () => {
      const text = await checkAdminShutdown(
        s,
        () => birdc(lab, pl.peerNs, 'show', 'protocols', 'all', 'n0'),
        /Received: Administrative shutdown/,
      );
      t.diagnostic(`BIRD: ${(/Last error:.*/.exec(text) ?? [''])[0]}`);
      // BIRD prints the RFC 9003 shutdown communication after the error.
      assert.match(text, new RegExp(SHUTDOWN_MESSAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), text);
    });

    await step('BIRD restarts: tsbgp reconnects (IPv4) and accepts (IPv6), routes come back', () => checkPeerRestart(s));

    await step('hold timer: a frozen BIRD is detected within the 9 s hold time, and the sessions recover', async () => {
      const pid = peer.pids()[0]!;
      const from = child!.events.length;
      const frozenAt = performance.now();
      process.kill(pid, 'SIGSTOP');
      try {
        for (const addr of [pl.peerIp, pl.peerIp6]) {
          const sent = await child!.waitEvent(
            (e): e is Extract<ChildEvent, { type: 'notificationSent' }> => e.type === 'notificationSent' && e.address === addr,
            `Hold Timer Expired sent to ${addr}`,
            from,
            15_000,
          );
          assert.equal(sent.code, 4, sent.text);
        }
        const afterMs = since(frozenAt);
        // BIRD's last KEEPALIVE came at most 3 s before the freeze: expiry 6–9 s after it.
        assert.ok(afterMs >= 5000 && afterMs <= 11_000, `hold timer expired after ${afterMs} ms`);
        t.diagnostic(`hold timer expired ${afterMs} ms after BIRD froze`);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await Promise.all([child!.waitState(pl.peerIp), child!.waitState(pl.peerIp6)]);
      await Promise.all([peer.waitEstablished(pl.nodeIp, 20_000), peer.waitEstablished(pl.nodeIp6, 20_000)]);
      await peerPath(peer, 'ipv4', '10.244.1.0/24', pl.nodeIp);
    });

    await step('a 2-octet-AS BIRD (enable as4 off): AS_TRANS in OPEN, AS4_PATH both ways', async () => {
      const old = await startOldBird(lab, oldNs, {
        routerId: '3.3.3.3',
        localAs: PEER_AS,
        neighbor: l2.ipA!,
        routes: [
          // 2-octet path only.
          { prefix: '198.18.2.0/24' },
          // A 4-octet AS in the path: BIRD must send AS_TRANS in AS_PATH and the real path in AS4_PATH.
          { prefix: '198.18.1.0/24', prepend: [4200000099, 64512], communities: ['65002:9'] },
        ],
      });
      peers.push(old);
      await child!.addNeighbor({ address: l2.ipB!, peerAs: PEER_AS, ...TIMERS });
      await child!.waitState(l2.ipB!);
      await old.waitEstablished(l2.ipA!, 20_000);
      const n = await child!.neighbor(l2.ipB!);
      assert.equal(n.negotiated?.fourOctetAs, false, 'BIRD did not announce the 4-octet AS capability');
      assert.equal(n.negotiated?.peerAs, PEER_AS);
      const proto = await old.birdc('show', 'protocols', 'all', 'old');
      assert.match(proto, /BGP state:\s+Established/);
      assert.match(proto, /Neighbor AS:\s+4200000001/, 'BIRD learnt our real AS from the capability');

      // tsbgp → BIRD: AS_PATH [AS_TRANS] plus AS4_PATH [our AS]; BIRD merges them (RFC 6793 §4.2.3).
      // Had tsbgp sent a 4-octet AS_PATH, BIRD would read 0xFA56EA01 as two ASes 64086 59905.
      await child!.announce([{ prefix: '198.18.0.0/24', communities: [community('65001:42')], med: 5 }]);
      const r = await peerPath(old, 'ipv4', '198.18.0.0/24', l2.ipA!);
      assert.deepEqual(r.asPath, [TSBGP_AS], 'BIRD rebuilt the 4-octet AS from AS4_PATH');
      assert.equal(r.nextHop, l2.ipA);
      assert.deepEqual(r.communities, ['65001:42']);
      assert.equal(r.med, 5);
      // The other routes (from the first BIRD session) went to the old BIRD as well, path intact.
      const stable = await peerPath(old, 'ipv4', '10.244.1.0/24', l2.ipA!);
      assert.deepEqual(stable.asPath, [TSBGP_AS]);

      // BIRD → tsbgp: tsbgp's decoder merges AS_PATH and AS4_PATH back.
      const t2 = await child!.waitRoutes(
        l2.ipB!,
        (tb) => '198.18.1.0/24' in tb && '198.18.2.0/24' in tb,
        'routes over the 2-octet session',
      );
      assert.deepEqual(t2['198.18.1.0/24']!.asPath, [PEER_AS, 4200000099, 64512]);
      assert.equal(t2['198.18.1.0/24']!.nextHop, l2.ipB);
      assert.deepEqual(t2['198.18.1.0/24']!.communities, ['65002:9']);
      assert.equal(t2['198.18.1.0/24']!.origin, 'igp');
      assert.deepEqual(t2['198.18.2.0/24']!.asPath, [PEER_AS]);
    });
  } finally {
    await child?.stop().catch(() => undefined);
    await lab.cleanup();
    t.diagnostic(`total ${since(t0)} ms`);
  }
});
