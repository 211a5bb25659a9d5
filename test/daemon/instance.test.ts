// Route learning end to end in one process: a "router" Speaker on 127.0.0.2 announces
// routes to an InstanceRuntime built from a real CiliumBGPPeeringPolicy manifest; the
// instance's FIB is the in-memory kernel model (the real netlink backend is tested in
// namespaces in test/fib and test/e2e). Real TCP on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/proc.js';
import { NODE_AS_SEEN_BY_ROUTER, labManifest, startInstanceLab } from './instance-lab.js';

async function lab(maxPrefixes: number) {
  const l = await startInstanceLab((port) => labManifest([{ port, prefixLimit: `{maxPrefixes: ${maxPrefixes}, restartTimerSeconds: 1}` }]));
  l.router.addNeighbor(NODE_AS_SEEN_BY_ROUTER);
  await l.rt.start();
  return l;
}

test('learned routes pass the import policy into the Loc-RIB and the FIB; withdrawals and peer loss remove them', async () => {
  const l = await lab(100);
  try {
    await waitFor(() => l.router.neighbor('127.0.0.1')!.peer.state.name === 'Established', 5000);
    // The node advertises its pod CIDR to the router.
    await waitFor(() => l.rec.table('127.0.0.1').has('10.244.1.0/24'), 5000);
    l.router.announce([
      { prefix: '192.168.1.0/24' },
      { prefix: '192.168.2.0/24' },
      { prefix: '192.168.0.0/16' }, // shorter than ge 24: rejected
      { prefix: '172.16.0.0/16' }, // no rule matches: default action Reject
      { prefix: '0.0.0.0/0' }, // default route: rejected unless allowDefaultRoute
      { prefix: '10.244.1.0/24' }, // our own pod CIDR: always rejected
    ]);
    await waitFor(async () => (await l.kernelRoutes()).length === 2, 5000);
    await l.rt.settled();
    assert.deepEqual(await l.kernelRoutes(), ['192.168.1.0/24', '192.168.2.0/24']);
    const lp = l.rt.learner.allPeers()[0]!;
    assert.equal(lp.family(1)!.adjIn.count, 2, 'accepted');
    assert.equal(lp.family(1)!.total, 6, 'received (counted before policy)');

    l.router.withdraw(['192.168.2.0/24']);
    await waitFor(async () => (await l.kernelRoutes()).length === 1, 5000);
    assert.deepEqual(await l.kernelRoutes(), ['192.168.1.0/24']);

    l.router.neighbor('127.0.0.1')!.peer.stop('bye');
    await waitFor(async () => (await l.kernelRoutes()).length === 0, 5000);
  } finally {
    await l.stop();
  }
});

test('exceeding the prefix limit sends Cease/1 with AFI/SAFI/limit, drops the routes, and restarts after the timer', async () => {
  const l = await lab(3);
  try {
    const rn = l.router.neighbor('127.0.0.1')!;
    await waitFor(() => rn.peer.state.name === 'Established', 5000);
    let got = '';
    rn.peer.on('notificationReceived', (_n, text) => (got = text));
    l.router.announce([{ prefix: '192.168.1.0/24' }, { prefix: '192.168.2.0/24' }]);
    await waitFor(async () => (await l.kernelRoutes()).length === 2, 5000);
    l.router.announce([{ prefix: '192.168.3.0/24' }, { prefix: '192.168.4.0/24' }]);
    await waitFor(() => got !== '', 5000);
    assert.match(got, /Cease\/Maximum Number of Prefixes Reached \(AFI 1 SAFI 1, limit 3\)/);
    await waitFor(async () => (await l.kernelRoutes()).length === 0, 5000);
    assert.ok(l.rt.learner.allPeers()[0]!.overflow, 'overflow recorded');
    // The router fixes its side; restartTimerSeconds: 1 → the node reconnects on its own
    // and learns the routes again, now within the limit.
    l.router.withdraw(['192.168.3.0/24', '192.168.4.0/24']);
    await waitFor(async () => (await l.kernelRoutes()).length === 2, 10000);
    assert.equal(rn.peer.state.name, 'Established');
  } finally {
    await l.stop();
  }
});
