// tsbgp's speaker against a real FRR (zebra + bgpd): sessions both ways (tsbgp connects
// on IPv4 to a passive FRR, FRR connects to tsbgp's listener on IPv6), IPv4/IPv6 routes
// with their attributes both ways, withdrawals, admin shutdown as FRR records it, an FRR
// restart, and TCP MD5: the right password establishes, a wrong one never does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../lib/root.js';
import { waitFor } from '../lib/proc.js';
import { PEER_TOOLS, startPeer, type PeerHandle } from '../lib/peers/index.js';
import {
  checkAdminShutdown,
  checkEstablished,
  checkPeerRestart,
  checkRoutesBothWays,
  holdsFor,
  pairLab,
  peerPath,
  sessionDirection,
  peerState,
  PEER_AS,
  SHUTDOWN_MESSAGE,
  since,
  SpeakerChild,
  tcpExt,
  TIMERS,
  TSBGP_AS,
  vtysh,
  withLogs,
  type ChildEvent,
  type Scenario,
} from './speaker-lab.js';

const MD5 = 'tsbgp-md5-secret';

interface FrrNeighborJson {
  bgpState?: string;
  lastNotificationReason?: string;
  lastShutdownDescription?: string;
  lastErrorCodeSubcode?: string;
  lastResetDueTo?: string;
  messageStats?: Record<string, number>;
}

test('tsbgp speaker ↔ FRR', { skip: needsRoot(...PEER_TOOLS.frr, 'ss') }, async (t) => {
  const t0 = performance.now();
  const pl = await pairLab('frr');
  const { lab } = pl;
  let child: SpeakerChild | undefined;
  const peers: PeerHandle[] = [];
  const frrNeighbor = async (addr: string): Promise<FrrNeighborJson> => {
    const doc = JSON.parse(await vtysh(lab, pl.peerNs, `show bgp neighbors ${addr} json`)) as Record<string, FrrNeighborJson>;
    return doc[addr] ?? {};
  };
  try {
    // More links for the MD5 sessions (a key belongs to a peer address).
    const goodIn = await lab.link(pl.node, pl.peerNs, { a: '192.0.2.5/30', b: '192.0.2.6/30' });
    const goodOut = await lab.link(pl.node, pl.peerNs, { a: '192.0.2.13/30', b: '192.0.2.14/30' });
    const bad = await lab.link(pl.node, pl.peerNs, { a: '192.0.2.9/30', b: '192.0.2.10/30' });
    const [peer, c] = await Promise.all([
      startPeer('frr', lab, pl.peerNs, {
        asn: PEER_AS,
        routerId: '2.2.2.2',
        neighbors: [
          // FRR waits; tsbgp connects.
          { address: pl.nodeIp, asn: TSBGP_AS, passive: true },
          // FRR connects to tsbgp's listener.
          { address: pl.nodeIp6, asn: TSBGP_AS },
          // MD5 into tsbgp's listener (tsbgp passive), out of tsbgp (FRR passive), and a
          // wrong password with both sides connecting.
          { address: goodIn.ipA!, asn: TSBGP_AS, password: MD5 },
          { address: goodOut.ipA!, asn: TSBGP_AS, password: MD5, passive: true },
          { address: bad.ipA!, asn: TSBGP_AS, password: MD5 },
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

    await step('sessions reach Established: tsbgp connects (IPv4, FRR passive) and FRR connects (IPv6, tsbgp passive)', async () => {
      await checkEstablished(s, { v4: 'outgoing', v6: 'incoming' });
      const v4 = await frrNeighbor(pl.nodeIp);
      assert.equal(v4.bgpState, 'Established');
    });

    await step('IPv4 and IPv6 routes flow both ways with their attributes; withdrawals reach the other side', async () => {
      const { linkLocal } = await checkRoutesBothWays(s);
      t.diagnostic(`FRR's IPv6 next hop: global ${pl.peerIp6}, link-local ${linkLocal ?? 'none'}`);
    });

    await step('admin shutdown: FRR records Cease/Administrative Shutdown and the RFC 9003 message', async () => {
      let last: FrrNeighborJson = {};
      await checkAdminShutdown(
        s,
        async () => JSON.stringify((last = await frrNeighbor(pl.nodeIp))),
        /Cease\/Administrative Shutdown/,
      );
      assert.equal(last.lastNotificationReason, 'Cease/Administrative Shutdown');
      assert.equal(last.lastErrorCodeSubcode, '0602');
      assert.equal(last.lastShutdownDescription, SHUTDOWN_MESSAGE);
      assert.match(last.lastResetDueTo ?? '', /Notification received/i);
    });

    await step('admin reset: FRR records Cease/Administrative Reset and the session comes back by itself', async () => {
      const from = child!.events.length;
      await child!.peer(pl.peerIp, 'reset', 'tsbgp interop: reset');
      const sent = await child!.waitEvent(
        (e): e is Extract<ChildEvent, { type: 'notificationSent' }> => e.type === 'notificationSent' && e.address === pl.peerIp,
        'Cease/4 sent',
        from,
      );
      assert.equal(sent.code, 6);
      assert.equal(sent.subcode, 4);
      const n = await waitFor(() => frrNeighbor(pl.nodeIp), {
        timeoutMs: 10_000,
        label: 'FRR shows the reset',
        until: (x) => x.lastNotificationReason === 'Cease/Administrative Reset',
      });
      assert.equal(n.lastErrorCodeSubcode, '0604');
      assert.equal(n.lastShutdownDescription, 'tsbgp interop: reset');
      await child!.waitEvent(
        (e): e is Extract<ChildEvent, { type: 'established' }> => e.type === 'established' && e.address === pl.peerIp,
        're-established without a start',
        from,
      );
      await peer.waitEstablished(pl.nodeIp, 20_000);
      await peerPath(peer, 'ipv4', '10.244.1.0/24', pl.nodeIp);
    });

    await step('FRR restarts: tsbgp reconnects (IPv4) and accepts (IPv6), routes come back', () => checkPeerRestart(s));

    await step('TCP MD5 with the same password on both sides reaches Established, accepted and connecting', async () => {
      // The listener learns the key when the neighbor is added (it is already listening).
      await child!.addNeighbor({ address: goodIn.ipB!, peerAs: PEER_AS, md5Password: MD5, passive: true, ...TIMERS });
      await child!.addNeighbor({ address: goodOut.ipB!, peerAs: PEER_AS, md5Password: MD5, ...TIMERS });
      for (const [l, dir] of [
        [goodIn, 'incoming'],
        [goodOut, 'outgoing'],
      ] as const) {
        await child!.waitState(l.ipB!);
        await peer.waitEstablished(l.ipA!, 20_000);
        assert.equal(await sessionDirection(lab, pl.node, l.ipB!), dir);
        // The kernel really signs this session (ss -e lists md5keys).
        const ss = await lab.check(pl.node, 'ss', ['-tnie', 'state', 'established', 'dst', l.ipB!]);
        assert.match(ss.stdout, /md5/i, ss.stdout);
        // Routes flow over it like over any other session.
        await peerPath(peer, 'ipv4', '10.244.1.0/24', l.ipA!);
      }
      const plain = await lab.check(pl.node, 'ss', ['-tnie', 'state', 'established', 'dst', pl.peerIp]);
      assert.match(plain.stdout, /192\.0\.2\.2:179/);
      assert.doesNotMatch(plain.stdout, /md5/i, 'the plain session is not signed');
    });

    await step('TCP MD5 with a wrong password never reaches Established', async () => {
      const before = await tcpExt(lab, pl.node);
      const beforePeer = await tcpExt(lab, pl.peerNs);
      await child!.addNeighbor({ address: bad.ipB!, peerAs: PEER_AS, md5Password: 'not-the-password', ...TIMERS });
      await holdsFor(
        async () => ({ ours: (await child!.neighbor(bad.ipB!)).state, theirs: await peerState(peer, bad.ipA!) }),
        (v) => v.ours === 'Established' || v.theirs === 'Established' || v.ours === 'OpenSent' || v.ours === 'OpenConfirm',
        4000,
        'a session with a wrong MD5 password got further than TCP',
      );
      // SYNs arrived both ways and were dropped for their signature: FRR's at tsbgp's
      // listener (it holds the wrong key for FRR), tsbgp's at FRR.
      const grew = (b: Record<string, number>) => (x: Record<string, number>) =>
        (x['TCPMD5Failure'] ?? 0) > (b['TCPMD5Failure'] ?? 0);
      const after = await waitFor(() => tcpExt(lab, pl.node), { timeoutMs: 5000, label: 'TCPMD5Failure grows at tsbgp', until: grew(before) });
      const afterPeer = await waitFor(() => tcpExt(lab, pl.peerNs), { timeoutMs: 5000, label: 'TCPMD5Failure grows at FRR', until: grew(beforePeer) });
      t.diagnostic(
        `TCPMD5Failure at tsbgp ${before['TCPMD5Failure']} → ${after['TCPMD5Failure']}, at FRR ${beforePeer['TCPMD5Failure']} → ${afterPeer['TCPMD5Failure']}`,
      );
      const n = await child!.neighbor(bad.ipB!);
      assert.equal(n.counters['messagesIn'], 0, 'not one BGP message got through');
      // The good MD5 sessions are unaffected.
      assert.equal((await child!.neighbor(goodIn.ipB!)).state, 'Established');
      assert.equal((await child!.neighbor(goodOut.ipB!)).state, 'Established');
    });
  } finally {
    await child?.stop().catch(() => undefined);
    await lab.cleanup();
    t.diagnostic(`total ${since(t0)} ms`);
  }
});
