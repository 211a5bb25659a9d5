// Graceful restart on the speaker: the capability we announce (R and F bits, changed
// at run time), and how a graceful stop ends sessions (RFC 4724 §4, RFC 8538 §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker, type Neighbor, type NeighborOptions } from '../../src/daemon/speaker.js';
import type { DownReason, Negotiated } from '../../src/session/fsm.js';
import { RouteRecorder } from '../lib/route-recorder.js';
import { waitFor } from '../lib/proc.js';

class Sink extends RouteRecorder {
  readonly ups: Negotiated[] = [];
  readonly downs: boolean[] = [];
  peerUp(_n: Neighbor, neg: Negotiated): void {
    this.ups.push(neg);
  }
  override peerDown(n: Neighbor, graceful = false): void {
    this.downs.push(graceful);
    super.peerDown(n);
  }
}

type GR = NeighborOptions['gracefulRestart'];

async function pair(grA: GR, grB: GR, beforeStartB?: (n: Neighbor) => void) {
  const recA = new Sink();
  const recB = new Sink();
  const a = new Speaker({ localAs: 65001, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port: 0 } }, recA);
  await a.start();
  const b = new Speaker({ localAs: 65002, routerId: '10.0.0.2' }, recB);
  const na = a.addNeighbor({
    address: '127.0.0.2',
    peerAs: 65002,
    passive: true,
    holdTime: 9,
    ebgpMultihopTtl: 2,
    ...(grA ? { gracefulRestart: grA } : {}),
  });
  const nb = b.createNeighbor({
    address: '127.0.0.1',
    port: a.listenPort!,
    localAddress: '127.0.0.2',
    peerAs: 65001,
    holdTime: 9,
    connectRetryTime: 1,
    ebgpMultihopTtl: 2,
    ...(grB ? { gracefulRestart: grB } : {}),
  });
  beforeStartB?.(nb);
  nb.peer.start();
  const downs: { reason: DownReason; graceful: boolean }[] = [];
  na.peer.on('down', (reason, graceful) => downs.push({ reason, graceful }));
  await waitFor(() => na.peer.state.name === 'Established', 5000);
  return { a, b, na, nb, recA, recB, downs };
}

test('the OPEN carries R and F bits as configured; setRestartState changes later OPENs', async () => {
  const { a, b, na, nb, recA } = await pair({ restartTime: 90 }, { restartTime: 33, restarting: true, forwarding: (afi) => afi === 1 });
  try {
    const cap = na.peer.negotiated!.peerGracefulRestart!;
    assert.equal(cap.restartState, true);
    assert.equal(cap.notification, true);
    assert.equal(cap.restartTime, 33);
    assert.deepEqual(
      cap.families.map((f) => [f.afi, f.forwardingState]),
      [
        [1, true],
        [2, false],
      ],
    );
    assert.equal(recA.ups.length, 1, 'the sink heard peerUp');
    assert.equal(recA.ups[0]!.gracefulRestart, true);
    assert.equal(recA.ups[0]!.gracefulNotification, true);
    b.setRestartState(false, () => true);
    nb.peer.reset('again');
    await waitFor(() => recA.ups.length === 2 && na.peer.state.name === 'Established', 10000);
    const again = na.peer.negotiated!.peerGracefulRestart!;
    assert.equal(again.restartState, false);
    assert.ok(again.families.every((f) => f.forwardingState));
  } finally {
    await b.stop();
    await a.stop();
  }
});

test('graceful stop with the N bit: Cease/Administrative Reset, the peer keeps our routes (graceful down)', async () => {
  const { a, b, downs, recA } = await pair({ restartTime: 90 }, { restartTime: 90 });
  try {
    await b.stop('upgrade', true);
    await waitFor(() => downs.length === 1, 5000);
    const d = downs[0]!;
    assert.equal(d.graceful, true);
    assert.equal(d.reason.type, 'NotificationReceived');
    if (d.reason.type === 'NotificationReceived') {
      assert.equal(d.reason.notification.code, 6);
      assert.equal(d.reason.notification.subcode, 4, 'Administrative Reset, not Hard Reset (9)');
    }
    assert.deepEqual(recA.downs, [true]);
  } finally {
    await a.stop();
  }
});

test('graceful stop without the N bit: no NOTIFICATION, the connection just closes (graceful down)', async () => {
  const { a, b, downs } = await pair({ restartTime: 90 }, { restartTime: 90 }, (nb) => {
    const caps = nb.peer.options.session.capabilities;
    caps.gracefulRestart = { ...caps.gracefulRestart!, notification: false };
  });
  try {
    await b.stop('upgrade', true);
    await waitFor(() => downs.length === 1, 5000);
    assert.equal(downs[0]!.reason.type, 'ConnectionLost');
    assert.equal(downs[0]!.graceful, true);
  } finally {
    await a.stop();
  }
});

test('graceful stop towards a peer without graceful restart: Cease/Administrative Shutdown, routes dropped', async () => {
  const { a, b, downs, recA } = await pair(undefined, { restartTime: 90 });
  try {
    await b.stop('upgrade', true);
    await waitFor(() => downs.length === 1, 5000);
    const d = downs[0]!;
    assert.equal(d.graceful, false);
    assert.ok(d.reason.type === 'NotificationReceived' && d.reason.notification.subcode === 2);
    assert.deepEqual(recA.downs, [false]);
  } finally {
    await a.stop();
  }
});

test('a plain stop with the N bit is a Hard Reset: the peer drops our routes', async () => {
  const { a, b, downs } = await pair({ restartTime: 90 }, { restartTime: 90 });
  try {
    await b.stop('bye');
    await waitFor(() => downs.length === 1, 5000);
    assert.equal(downs[0]!.graceful, false);
    assert.ok(downs[0]!.reason.type === 'NotificationReceived' && downs[0]!.reason.notification.subcode === 9);
  } finally {
    await a.stop();
  }
});
