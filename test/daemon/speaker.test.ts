import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker } from '../../src/daemon/speaker.js';
import { RouteRecorder } from '../lib/route-recorder.js';
import { waitFor } from '../lib/proc.js';

// Two speakers on loopback (127.0.0.1 ↔ 127.0.0.2): real TCP, no namespaces needed.
async function pair(opts: { asA: number; asB: number }) {
  const recA = new RouteRecorder();
  const recB = new RouteRecorder();
  const a = new Speaker({ localAs: opts.asA, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port: 0 } }, recA);
  await a.start();
  const b = new Speaker({ localAs: opts.asB, routerId: '10.0.0.2' }, recB);
  a.addNeighbor({ address: '127.0.0.2', peerAs: opts.asB, passive: true, holdTime: 9, ebgpMultihopTtl: 2 });
  b.addNeighbor({
    address: '127.0.0.1',
    port: a.listenPort!,
    localAddress: '127.0.0.2',
    peerAs: opts.asA,
    holdTime: 9,
    connectRetryTime: 1,
    ebgpMultihopTtl: 2,
    nextHop6: '2001:db8::2',
  });
  return { a, b, recA, recB };
}

test('two speakers establish over loopback and exchange IPv4 and IPv6 routes (eBGP)', async () => {
  const { a, b, recA } = await pair({ asA: 65001, asB: 4200000002 });
  try {
    b.announce([
      { prefix: '10.244.1.0/24', communities: [65000 * 65536 + 100], largeCommunities: [[4200000002, 1, 2]] },
      { prefix: '10.244.2.0/24', communities: [65000 * 65536 + 100], largeCommunities: [[4200000002, 1, 2]] },
      { prefix: '2001:db8:1::/48', med: 7 },
    ]);
    await waitFor(() => recA.table('127.0.0.2').size === 3, 5000);
    const t = recA.table('127.0.0.2');
    const r4 = t.get('10.244.1.0/24')!;
    assert.deepEqual(r4.attrs.asPath, [{ type: 2, asns: [4200000002] }]);
    assert.deepEqual([...r4.attrs.nextHop!], [127, 0, 0, 2]);
    assert.deepEqual([...r4.attrs.communities!], [65000 * 65536 + 100]);
    assert.deepEqual([...r4.attrs.largeCommunities!], [4200000002, 1, 2]);
    assert.equal(r4.attrs.localPref, undefined, 'no LOCAL_PREF to an eBGP peer');
    const r6 = t.get('2001:db8:1::/48')!;
    assert.equal(r6.attrs.med, 7);
    assert.equal(r6.attrs.mpNextHop!.global.toString('hex'), '20010db8000000000000000000000002');
    assert.ok(recA.endOfRibs.includes('127.0.0.2 1/1') && recA.endOfRibs.includes('127.0.0.2 2/1'));

    b.withdraw(['10.244.2.0/24']);
    await waitFor(() => !t.has('10.244.2.0/24'), 5000);
    assert.ok(t.has('10.244.1.0/24'));
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('admin shutdown sends Cease/2 with the message and the session stays down', async () => {
  const { a, b } = await pair({ asA: 65001, asB: 65001 });
  try {
    const nA = a.neighbor('127.0.0.2')!;
    await waitFor(() => nA.peer.state.name === 'Established', 5000);
    let seen = '';
    nA.peer.on('notificationReceived', (_n, text) => (seen = text));
    b.neighbor('127.0.0.1')!.peer.stop('maintenance window');
    await waitFor(() => seen !== '', 5000);
    assert.match(seen, /Cease\/Administrative Shutdown.*maintenance window/);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(b.neighbor('127.0.0.1')!.peer.state.name, 'Idle');
  } finally {
    await b.stop();
    await a.stop();
  }
});
