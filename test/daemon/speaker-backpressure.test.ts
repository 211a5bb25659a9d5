// Backpressure towards a peer that stops reading: the speaker stops writing at the
// socket's high-water mark and merges later Adj-RIB-Out changes, so what a stalled peer
// costs does not grow with the number of changes; once it reads again it gets exactly
// the final state. Two Speakers over an in-memory socket pair (test/session/fake-socket.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker } from '../../src/daemon/speaker.js';
import { RouteRecorder } from '../lib/route-recorder.js';
import { waitFor } from '../lib/proc.js';
import { socketPair } from '../session/fake-socket.js';
import { encodeRouteRefresh } from '../../src/wire/route-refresh.js';

const AS = 65001; // iBGP: no TTL to set on the fake sockets

async function pair() {
  const rec = new RouteRecorder();
  const a = new Speaker({ localAs: AS, routerId: '10.0.0.1' });
  const b = new Speaker({ localAs: AS, routerId: '10.0.0.2' }, rec);
  const na = a.addNeighbor({ address: '127.0.0.2', peerAs: AS, passive: true, holdTime: 9, families: [{ afi: 1, safi: 1 }] });
  const nb = b.addNeighbor({ address: '127.0.0.1', peerAs: AS, passive: true, holdTime: 9, families: [{ afi: 1, safi: 1 }] });
  const [sa, sb] = socketPair('127.0.0.1', '127.0.0.2');
  na.peer.acceptIncoming(sa.asSocket);
  nb.peer.acceptIncoming(sb.asSocket);
  await waitFor(() => na.peer.negotiated !== undefined && nb.peer.negotiated !== undefined, { timeoutMs: 3000, label: 'Established' });
  const stop = async (): Promise<void> => {
    await a.stop();
    await b.stop();
  };
  return { a, b, na, nb, sa, sb, table: rec.table('127.0.0.1'), stop };
}

const FIXED = Array.from({ length: 50 }, (_, i) => `10.1.${i}.0/24`);
const uniq = (i: number): string => `10.2.${i >> 8}.${i & 255}/32`;

test('a stalled peer: 1000 advertisement changes keep the queued bytes bounded; after the drain it has exactly the final state', async () => {
  const { a, na, nb, sa, table, stop } = await pair();
  try {
    a.announce(FIXED.map((prefix) => ({ prefix, med: 0 })));
    a.announce([{ prefix: '10.9.0.0/16' }]); // the peer has it before the stall; withdrawn during it
    await waitFor(() => table.size === 51, { timeoutMs: 3000, label: 'initial routes' });

    sa.stalled = true;
    let maxQueued = 0;
    let maxUnsent = 0;
    for (let i = 1; i <= 1000; i++) {
      // Every change re-announces the 50 fixed prefixes with a new MED (≈ 250 bytes of
      // UPDATE each: 250 kB if each change were queued), adds a /32 and drops the previous one.
      a.announce(FIXED.map((prefix) => ({ prefix, med: i })));
      a.announce([{ prefix: uniq(i) }]);
      if (i > 1) a.withdraw([uniq(i - 1)]);
      if (i === 500) a.withdraw(['10.9.0.0/16']);
      maxQueued = Math.max(maxQueued, a.queuedBytes('127.0.0.2'));
      maxUnsent = Math.max(maxUnsent, a.unsentCount('127.0.0.2'));
    }
    const updatesBefore = nb.peer.counters.updatesIn;
    const deliveredBefore = sa.delivered;
    process.stderr.write(`# stalled: max ${maxQueued} bytes queued in the socket, max ${maxUnsent} prefixes unsent, after 1000 changes\n`);
    // One socket buffer (16 KiB high-water mark) plus at most one slice written past it.
    assert.ok(maxQueued > 16 * 1024, `the stall was reached (${maxQueued} bytes queued)`);
    assert.ok(maxQueued < 48 * 1024, `queued bytes bounded: ${maxQueued}`);
    // The 50 fixed prefixes, the /32 of the moment, the one the peer may still have, 10.9/16.
    assert.ok(maxUnsent <= 53, `unsent prefixes bounded by the Adj-RIB-Out: ${maxUnsent}`);
    assert.equal(na.peer.negotiated !== undefined, true, 'still Established (default SendHoldTime is minutes)');

    sa.unstall();
    const want = new Map<string, number | undefined>([...FIXED.map((p) => [p, 1000] as const), [uniq(1000), undefined]]);
    await waitFor(() => a.queuedBytes('127.0.0.2') === 0 && a.unsentCount('127.0.0.2') === 0, { timeoutMs: 5000, label: 'drained' });
    await waitFor(() => table.size === want.size && table.has(uniq(1000)) && table.get(FIXED[0]!)?.attrs.med === 1000, {
      timeoutMs: 5000,
      label: 'final state at the peer',
    });
    const got = new Map([...table.values()].map((r) => [r.prefix, r.attrs.med] as const));
    assert.deepEqual([...got.entries()].sort(), [...want.entries()].sort());
    const updates = nb.peer.counters.updatesIn - updatesBefore;
    const bytes = sa.delivered - deliveredBefore;
    process.stderr.write(`# after the drain: ${updates} UPDATEs, ${bytes} bytes to reach the final state\n`);
    assert.ok(bytes < 64 * 1024, `merged, not one UPDATE per change: ${bytes} bytes after the drain`);
  } finally {
    await stop();
  }
});

test('4500 changes and a route refresh while stalled end in the exact Adj-RIB-Out at the peer', async () => {
  const { a, b, na, sa, table, stop } = await pair();
  try {
    sa.stalled = true;
    for (let i = 0; i < 3000; i++) a.announce([{ prefix: uniq(i), med: i }]);
    for (let i = 0; i < 3000; i += 2) a.withdraw([uniq(i)]);
    assert.ok(a.unsentCount('127.0.0.2') > 0, 'waiting for the drain');
    // The peer asks for everything again while we cannot write.
    b.neighbor('127.0.0.1')!.peer.sendRaw(encodeRouteRefresh(1, 1, 0));
    await new Promise((r) => setTimeout(r, 100));
    sa.unstall();
    await waitFor(() => a.unsentCount('127.0.0.2') === 0 && a.queuedBytes('127.0.0.2') === 0, { timeoutMs: 5000, label: 'drained' });
    await waitFor(() => table.size === 1500, { timeoutMs: 5000, label: '1500 routes at the peer' });
    for (let i = 1; i < 3000; i += 2) assert.equal(table.get(uniq(i))?.attrs.med, i, uniq(i));
    assert.equal(na.advertised.size, 1500);
  } finally {
    await stop();
  }
});
