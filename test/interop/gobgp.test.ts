// tsbgp's speaker against a real GoBGP: sessions both ways (GoBGP connects to tsbgp's
// dual-stack listener on IPv4, both connect on IPv6), IPv4/IPv6 routes with their
// attributes both ways, withdrawals, admin shutdown as GoBGP records it, and a GoBGP
// restart. GoBGP 3 connects no more often than every 5 s (its minConnectRetryInterval),
// whatever its config says, so the sessions it opens take several seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../lib/root.js';
import { PEER_TOOLS, startPeer, type PeerHandle } from '../lib/peers/index.js';
import {
  checkAdminShutdown,
  checkEstablished,
  checkPeerRestart,
  checkRoutesBothWays,
  gobgp,
  pairLab,
  PEER_AS,
  SHUTDOWN_MESSAGE,
  since,
  SpeakerChild,
  TIMERS,
  TSBGP_AS,
  withLogs,
  type Scenario,
} from './speaker-lab.js';

interface GobgpNeighborJson {
  state?: { session_state?: number; messages?: { received?: Record<string, number>; sent?: Record<string, number> } };
}

test('tsbgp speaker ↔ GoBGP', { skip: needsRoot(...PEER_TOOLS.gobgp) }, async (t) => {
  const t0 = performance.now();
  const pl = await pairLab('gobgp');
  const { lab } = pl;
  let child: SpeakerChild | undefined;
  const peers: PeerHandle[] = [];
  try {
    const [peer, c] = await Promise.all([
      startPeer('gobgp', lab, pl.peerNs, {
        asn: PEER_AS,
        routerId: '2.2.2.2',
        neighbors: [
          // GoBGP connects to tsbgp's listener (IPv4 on a '::' socket).
          { address: pl.nodeIp, asn: TSBGP_AS },
          // Both sides connect.
          { address: pl.nodeIp6, asn: TSBGP_AS },
        ],
      }),
      SpeakerChild.start(lab, pl.node, { localAs: TSBGP_AS, routerId: '1.1.1.1', listen: { address: '::', port: 179 } }),
    ]);
    child = c;
    peers.push(peer);
    const s: Scenario = { pl, peer, child };
    await child.addNeighbor({ address: pl.peerIp, peerAs: PEER_AS, passive: true, ...TIMERS });
    await child.addNeighbor({ address: pl.peerIp6, peerAs: PEER_AS, ...TIMERS });
    t.diagnostic(`setup ${since(t0)} ms`);

    const step = (name: string, fn: () => Promise<void>) =>
      t.test(name, async (st) => {
        const s0 = performance.now();
        await withLogs(child, peers, fn);
        st.diagnostic(`${since(s0)} ms`);
      });

    await step('sessions reach Established: GoBGP connects (IPv4, tsbgp passive) and both connect (IPv6)', async () => {
      const dir = await checkEstablished(s, { v4: 'incoming' });
      t.diagnostic(`IPv4 session opened ${dir.v4}, IPv6 ${dir.v6} (both connect)`);
    });

    await step('IPv4 and IPv6 routes flow both ways with their attributes; withdrawals reach the other side', async () => {
      const { linkLocal } = await checkRoutesBothWays(s);
      t.diagnostic(`GoBGP's IPv6 next hop: global ${pl.peerIp6}, link-local ${linkLocal ?? 'none'}`);
    });

    await step('admin shutdown: GoBGP counts the NOTIFICATION and logs Cease/2 with the message', async () => {
      const esc = SHUTDOWN_MESSAGE.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const line = new RegExp(`received notification.*Code=6 Communicated-Reason="${esc}".*Key="?2001:db8:12::1"? Subcode=2`);
      let received = 0;
      await checkAdminShutdown(
        s,
        async () => {
          const j = JSON.parse(await gobgp(lab, pl.peerNs, 'neighbor', pl.nodeIp6, '-j')) as GobgpNeighborJson;
          received = j.state?.messages?.received?.['notification'] ?? 0;
          return (await peer.logs()).split('\n').filter((l) => line.test(l)).join('\n');
        },
        line,
        // The IPv6 session, where tsbgp connects: GoBGP would take 5-10 s to come back.
        'v6',
      );
      assert.equal(received, 1, 'exactly one NOTIFICATION');
    });

    await step('GoBGP restarts: tsbgp accepts (IPv4) and reconnects (IPv6), routes come back', () => checkPeerRestart(s));
  } finally {
    await child?.stop().catch(() => undefined);
    await lab.cleanup();
    t.diagnostic(`total ${since(t0)} ms`);
  }
});
