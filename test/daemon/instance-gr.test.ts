// Graceful restart in one InstanceRuntime (memory FIB, real TCP on loopback): as the
// restarting speaker (routes of a "previous run" in the kernel) and as helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimKernel } from '../../src/fib/memory.js';
import type { DownReason } from '../../src/session/fsm.js';
import { waitFor } from '../lib/proc.js';
import { NODE_AS_SEEN_BY_ROUTER, labManifest, labRule, loopback, startInstanceLab } from './instance-lab.js';

/** The router's side: graceful restart with a 60 s Restart Time. */
const ROUTER_SIDE = { ...NODE_AS_SEEN_BY_ROUTER, gracefulRestart: { restartTime: 60 } };

/** The lab with graceful restart on (Restart Time 30 s); `seed` fills the kernel before the start. */
function lab(seed: (k: SimKernel) => void) {
  return startInstanceLab(
    (port) => labManifest([{ port, gracefulRestart: '{enabled: true, restartTimeSeconds: 30}', rules: [labRule('lab')] }]),
    (k) => {
      loopback(k);
      seed(k);
    },
  );
}

test('restarting speaker: adopted kernel routes are kept, R bit sent, End-of-RIB from every peer sweeps the rest', async () => {
  const l = await lab((k) => {
    // Our routes from the previous run (protocol bgp 186, metric 20).
    for (const dst of ['192.168.1.0/24', '192.168.9.0/24']) k.addRoute({ dst, gateway: '127.0.0.2', protocol: 186, metric: 20 });
  });
  l.router.addNeighbor(ROUTER_SIDE);
  // The router re-announces one of the two; its End-of-RIB follows its initial dump.
  l.router.announce([{ prefix: '192.168.1.0/24' }, { prefix: '192.168.2.0/24' }]);
  let complete: string | undefined;
  l.rt.on('restartComplete', (r) => (complete = r));
  const samples: string[][] = [];
  let sampling = true;
  let sampler: Promise<void> = Promise.resolve();
  try {
    await l.rt.start();
    sampler = (async () => {
      while (sampling) {
        samples.push(await l.kernelRoutes());
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    assert.equal(l.rt.restartInProgress, true);
    const n = l.router.neighbor('127.0.0.1')!;
    await waitFor(() => n.peer.state.name === 'Established', 5000);
    const cap = n.peer.negotiated!.peerGracefulRestart!;
    assert.equal(cap.restartState, true, 'R bit: we restarted');
    assert.equal(cap.families[0]!.forwardingState, true, 'F bit: forwarding state kept');
    assert.equal(cap.restartTime, 30);
    await waitFor(() => complete !== undefined, 5000);
    assert.equal(complete, 'end-of-rib', 'long before the 30 s restart time');
    await l.rt.settled();
    await waitFor(async () => (await l.kernelRoutes()).join() === '192.168.1.0/24,192.168.2.0/24', 3000);
    assert.equal(l.rt.restartInProgress, false);
    sampling = false;
    await sampler;
    assert.ok(samples.length > 3);
    for (const s of samples) assert.ok(s.includes('192.168.1.0/24'), 'the re-learned route never left the kernel');
    // A new session after the restart announces R = 0.
    n.peer.reset();
    await waitFor(() => n.peer.state.name === 'Established' && n.peer.negotiated?.peerGracefulRestart?.restartState === false, 10000);
  } finally {
    sampling = false;
    await sampler;
    await l.rt.stop();
    await l.router.stop();
  }
});

test('a start without our routes in the kernel is no restart: R = 0, F = 0 until the start-up window ends', async () => {
  const l = await lab(() => undefined);
  l.router.addNeighbor(ROUTER_SIDE);
  try {
    await l.rt.start();
    assert.equal(l.rt.restartInProgress, false);
    const n = l.router.neighbor('127.0.0.1')!;
    await waitFor(() => n.peer.state.name === 'Established', 5000);
    const cap = n.peer.negotiated!.peerGracefulRestart!;
    assert.equal(cap.restartState, false);
    assert.equal(cap.families[0]!.forwardingState, false);
  } finally {
    await l.rt.stop();
    await l.router.stop();
  }
});

test('stop(keepRoutes) with graceful restart: kernel routes stay, the peer sees a graceful (non Hard Reset) Cease', async () => {
  const l = await lab(() => undefined);
  l.router.addNeighbor(ROUTER_SIDE);
  l.router.announce([{ prefix: '192.168.1.0/24' }]);
  const downs: { reason: DownReason; graceful: boolean }[] = [];
  try {
    await l.rt.start();
    const n = l.router.neighbor('127.0.0.1')!;
    n.peer.on('down', (reason, graceful) => downs.push({ reason, graceful }));
    await waitFor(async () => (await l.kernelRoutes()).includes('192.168.1.0/24'), 5000);
    await waitFor(() => l.rec.table('127.0.0.1').has('10.244.1.0/24'), 5000);
    await l.rt.stop(true);
    await waitFor(() => downs.length === 1, 5000);
    assert.equal(downs[0]!.graceful, true, 'the router keeps our routes (helper)');
    assert.ok(downs[0]!.reason.type === 'NotificationReceived' && downs[0]!.reason.notification.subcode === 4);
    // The memory kernel outlives the FIB: the learned route is still there.
    assert.equal(l.kernel().routes(254, 186).length, 1);
  } finally {
    await l.router.stop();
  }
});
