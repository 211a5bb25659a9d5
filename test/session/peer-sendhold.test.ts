// RFC 9687 Send Hold Timer in the Peer shell, over an in-memory socket pair whose one
// direction can be stalled (the peer keeps sending but stops reading).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Peer, type PeerOptions } from '../../src/session/peer.js';
import type { DownReason, Notification } from '../../src/session/fsm.js';
import { buildCapabilities } from '../../src/wire/capabilities.js';
import { encodeEndOfRib } from '../../src/wire/update-encoder.js';
import { sleep, waitFor } from '../lib/proc.js';
import { socketPair } from './fake-socket.js';

const AS = 65001;

function options(address: string, routerId: number, sendHoldTime?: number): PeerOptions {
  return {
    address,
    port: 179,
    session: {
      localAs: AS,
      peerAs: AS,
      routerId,
      // No KEEPALIVE during a test (≥ 22.5 s): the tests decide exactly what is queued.
      holdTime: 90,
      keepaliveTime: 30,
      connectRetryTime: 120,
      passive: true,
      capabilities: buildCapabilities({ asn: AS }),
      ...(sendHoldTime !== undefined ? { sendHoldTime } : {}),
    },
  };
}

/** A (under test, send hold `sendHold` s) and B, Established over a fake socket pair. */
async function established(sendHold?: number) {
  const a = new Peer(options('127.0.0.2', 0x0a000001, sendHold), { update: () => undefined });
  const b = new Peer(options('127.0.0.1', 0x0a000002), { update: () => undefined });
  const downs: DownReason[] = [];
  const sent: Array<{ n: Notification; text: string }> = [];
  a.on('down', (r) => downs.push(r));
  a.on('notificationSent', (n, text) => sent.push({ n, text }));
  a.start();
  b.start();
  const [sa, sb] = socketPair('127.0.0.1', '127.0.0.2');
  a.acceptIncoming(sa.asSocket);
  b.acceptIncoming(sb.asSocket);
  await waitFor(() => a.state.name === 'Established' && b.state.name === 'Established', { timeoutMs: 3000, label: 'Established' });
  return { a, b, sa, sb, downs, sent, close: () => [a, b].forEach((p) => p.destroy()) };
}

test('RFC 9687: a peer that stops reading while we have data queued is dropped with Send Hold Timer Expired after SendHoldTime', async () => {
  const { a, sa, downs, sent, close } = await established(1);
  try {
    // Flowing traffic for longer than SendHoldTime: no expiry.
    for (let i = 0; i < 3; i++) {
      a.sendUpdate(encodeEndOfRib(1, 1));
      await sleep(500);
    }
    assert.equal(a.state.name, 'Established');
    // The peer stops reading but nothing is queued: nothing is stuck, no expiry.
    sa.stalled = true;
    await sleep(1200);
    assert.equal(a.state.name, 'Established', 'stalled with an empty queue is no stall');
    // Now data is queued and cannot leave.
    const t0 = performance.now();
    a.sendUpdate(encodeEndOfRib(1, 1));
    assert.ok(a.queuedBytes > 0, `queued ${a.queuedBytes} bytes`);
    await waitFor(() => a.state.name !== 'Established', { timeoutMs: 4000, label: 'send hold expiry' });
    const ms = performance.now() - t0;
    assert.ok(ms >= 950 && ms < 2500, `dropped ${ms.toFixed(0)} ms after the data got stuck (SendHoldTime 1 s)`);
    assert.equal(a.state.name, 'Idle');
    assert.deepEqual(
      sent.map((s) => [s.n.code, s.n.subcode, s.text]),
      [[8, 0, 'Send Hold Timer Expired']],
    );
    assert.deepEqual(downs, [{ type: 'NotificationSent', notification: { code: 8, subcode: 0, data: Buffer.alloc(0) } }]);
    assert.equal(a.counters.flaps, 1);
    assert.equal(a.state.failures, 1, 'counted as a failure (idle hold backoff)');
  } finally {
    close();
  }
});

test('RFC 9687: slow progress is progress; a peer that reads again in time keeps the session', async () => {
  const { a, sa, downs, close } = await established(1);
  try {
    sa.stalled = true;
    a.sendUpdate(encodeEndOfRib(1, 1));
    a.sendUpdate(encodeEndOfRib(1, 1));
    // Let one chunk through every 600 ms: each completed write restarts the timer.
    for (let i = 0; i < 4; i++) {
      await sleep(600);
      sa.unstall();
      sa.stalled = true;
      a.sendUpdate(encodeEndOfRib(1, 1));
    }
    assert.equal(a.state.name, 'Established');
    sa.unstall();
    await sleep(1300);
    assert.equal(a.state.name, 'Established');
    assert.deepEqual(downs, []);
  } finally {
    close();
  }
});

test('RFC 9687: the default SendHoldTime is 8 minutes, and a stalled peer is not dropped before it', async () => {
  const { a, sa, downs, close } = await established();
  try {
    sa.stalled = true;
    a.sendUpdate(encodeEndOfRib(1, 1));
    await sleep(1500);
    assert.equal(a.state.name, 'Established');
    assert.deepEqual(downs, []);
    assert.equal(a.state.timers.sendHold, true);
  } finally {
    close();
  }
});
