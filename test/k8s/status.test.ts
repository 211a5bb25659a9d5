// BGPNodeStatus and Events written to FakeApiServer (an HTTP server in the test, on
// 127.0.0.1; no API server can run here): the status content, rate limiting (no write
// per UPDATE), condition transitions, and event de-duplication and rate limits.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApiEvent, ConfigView, NeighborInfo } from '../../src/api/types.js';
import { EventRecorder, toEventSpec } from '../../src/k8s/events.js';
import { apiRequester } from '../../src/k8s/http.js';
import { buildNodeStatus, STATUS_BASE, StatusWriter } from '../../src/k8s/status.js';
import type { NodeStatus } from '../../src/k8s/status.js';
import { family, neighbor } from '../api/fake-view.js';
import { FakeApiServer } from './fake-apiserver.js';

const OK_CONFIG: ConfigView = {
  files: [], applied: {}, appliedAge: 1,
  lastReload: { age: 1, ok: true, trigger: 'start', errors: [], warnings: [], changes: [] },
};
const BAD_CONFIG: ConfigView = {
  ...OK_CONFIG,
  lastReload: {
    age: 0, ok: false, trigger: 'kubernetes', warnings: [], changes: [],
    errors: [{ severity: 'error', code: 'InvalidValue', message: 'expected a TTL from 1 to 255, found "three"', file: null, document: null, object: 'CiliumBGPPeerConfig/upstream', path: 'spec.ebgpMultihop', line: null, column: null }],
  },
};

class View {
  neighborsList: NeighborInfo[] = [];
  configView: ConfigView = OK_CONFIG;
  readonly listeners = new Set<(e: ApiEvent) => void>();
  neighbors(): NeighborInfo[] {
    return this.neighborsList;
  }
  config(): ConfigView {
    return this.configView;
  }
  subscribe(l: (e: ApiEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  emit(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }
}

let server: FakeApiServer;
before(async () => {
  server = new FakeApiServer();
  await server.start();
});
after(async () => {
  await server.stop();
});

const limited = family('ipv4', 120, 100, 90, 3, { prefixLimit: { max: 100, warningThresholdPercent: 75, warning: true, overflow: true, restartIn: 30 } });

test('buildNodeStatus: Cilium-shaped peers with accepted/installed counts, prefix-limit state and conditions', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  const s = buildNodeStatus(
    [
      neighbor({ address: '10.0.0.1', name: 'tor', uptime: 60, families: [family('ipv4', 10, 8, 7, 2)] }),
      neighbor({ address: '10.0.0.2', state: 'Idle', uptime: null, timers: { holdTime: 90, keepalive: 30, connectRetry: 120, negotiatedHoldTime: null, negotiatedKeepalive: null }, families: [limited] }),
    ],
    OK_CONFIG,
    now,
  );
  const [tor, idle] = s.bgpInstances[0]!.peers;
  assert.deepEqual(tor, {
    name: 'tor', peerAddress: '10.0.0.1', peerASN: 65000, peeringState: 'established', adminDown: false,
    establishedTime: '2026-01-01T11:59:00.000Z',
    timers: { appliedHoldTimeSeconds: 90, appliedKeepaliveSeconds: 30 },
    routeCount: [{ afi: 'ipv4', safi: 'unicast', received: 10, accepted: 8, installed: 7, advertised: 2 }],
  });
  assert.equal(idle!.peeringState, 'idle');
  assert.equal(idle!.establishedTime, undefined);
  assert.deepEqual(idle!.routeCount[0]!.prefixLimit, { maxPrefixes: 100, warning: true, exceeded: true, restartInSeconds: 30 });
  const cond = Object.fromEntries(s.conditions.map((c) => [c.type, c]));
  assert.equal(cond['ConfigApplied']!.status, 'True');
  assert.equal(cond['SessionsEstablished']!.status, 'False');
  assert.equal(cond['SessionsEstablished']!.message, '1/2 sessions established');
  assert.equal(cond['PrefixLimitExceeded']!.status, 'True');
  // A refused config: the condition says so and names the object; its transition time moves only on change.
  const later = new Date('2026-01-01T12:05:00Z');
  const s2 = buildNodeStatus([], BAD_CONFIG, later, s);
  const c2 = s2.conditions.find((c) => c.type === 'ConfigApplied')!;
  assert.equal(c2.status, 'False');
  assert.equal(c2.reason, 'ConfigRejected');
  assert.match(c2.message, /CiliumBGPPeerConfig\/upstream spec\.ebgpMultihop: expected a TTL/);
  assert.equal(c2.lastTransitionTime, later.toISOString());
  const s3 = buildNodeStatus([], BAD_CONFIG, new Date('2026-01-01T12:09:00Z'), s2);
  assert.equal(s3.conditions.find((c) => c.type === 'ConfigApplied')!.lastTransitionTime, later.toISOString());
});

test('StatusWriter: creates the object owned by the Node, patches /status; counter churn is rate limited', async () => {
  const view = new View();
  view.neighborsList = [neighbor({ address: '10.0.0.1', families: [family('ipv4', 1, 1, 1, 0)] })];
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const w = new StatusWriter(view, apiRequester(server.kubeConfig()), {
    nodeName: 'node-a', nodeUid: () => 'uid-node-a', minGapMs: 1000, countsMs: 60_000, now: () => new Date(clock),
  });
  assert.equal(await w.flush(), true);
  const created = server.requests.find((r) => r.method === 'POST' && r.path === STATUS_BASE)!;
  assert.deepEqual((created.body as { metadata: unknown }).metadata, { name: 'node-a', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node-a', uid: 'uid-node-a' }] });
  const statusPath = `${STATUS_BASE}/node-a/status`;
  const patch = server.requests.find((r) => r.method === 'PATCH' && r.path === statusPath)!;
  assert.equal(patch.contentType, 'application/merge-patch+json');
  // 1000 UPDATEs: the received count changes every time, yet no write until countsMs passed.
  const start = clock;
  const up = () => 341 + Math.floor((clock - start) / 1000); // the session's uptime grows with the clock
  for (let i = 2; i <= 1000; i++) {
    clock += 50;
    view.neighborsList = [neighbor({ address: '10.0.0.1', uptime: up(), families: [family('ipv4', i, i, i, 0)] })];
    await w.flush();
  }
  assert.equal(w.writes, 1, 'counters alone: no write within 60 s');
  clock += 10_000; // 60 s since the first write
  assert.equal(await w.flush(), true);
  assert.equal(w.writes, 2);
  const written = (server.object(`${STATUS_BASE}/node-a`) as { status: NodeStatus }).status;
  assert.equal(written.bgpInstances[0]!.peers[0]!.routeCount[0]!.received, 1000);
  // A session going down is significant: written after minGapMs, not countsMs.
  view.neighborsList = [neighbor({ address: '10.0.0.1', state: 'Active', uptime: null, families: [family('ipv4', 0, 0, 0, 0)] })];
  clock += 200;
  assert.equal(await w.flush(), false, 'within the minimum gap');
  clock += 1000;
  assert.equal(await w.flush(), true);
  assert.equal((server.object(`${STATUS_BASE}/node-a`) as { status: NodeStatus }).status.bgpInstances[0]!.peers[0]!.peeringState, 'active');
  // Nothing changed: nothing written, however long.
  clock += 600_000;
  assert.equal(await w.flush(), false);
  assert.equal(w.writes, 3);
  // One POST in all: the object is created once.
  assert.equal(server.requests.filter((r) => r.method === 'POST' && r.path === STATUS_BASE).length, 1);
  w.stop();
});

test('toEventSpec: up, down, prefix-limit teardown and refused configs become Events; the rest does not', () => {
  const t = '2026-01-01T00:00:00Z';
  assert.equal(toEventSpec({ type: 'peer-state', time: t, instance: 'i', neighbor: 'n', from: 'OpenConfirm', to: 'Established', reason: null })?.reason, 'BGPSessionEstablished');
  const down = toEventSpec({ type: 'peer-state', time: t, instance: 'i', neighbor: 'n', from: 'Established', to: 'Idle', reason: 'Hold Timer Expired' });
  assert.equal(down?.type, 'Warning');
  assert.match(down!.message, /Hold Timer Expired/);
  assert.equal(toEventSpec({ type: 'peer-state', time: t, instance: 'i', neighbor: 'n', from: 'Active', to: 'Connect', reason: null }), undefined);
  assert.equal(toEventSpec({ type: 'prefix-limit', time: t, instance: 'i', neighbor: 'n', afi: 'ipv4', safi: 'unicast', kind: 'overflow', count: 101, max: 100 })?.reason, 'BGPPrefixLimitExceeded');
  assert.equal(toEventSpec({ type: 'prefix-limit', time: t, instance: 'i', neighbor: 'n', afi: 'ipv4', safi: 'unicast', kind: 'warning', count: 80, max: 100 }), undefined);
  assert.equal(toEventSpec({ type: 'config-reload', time: t, ok: false, trigger: 'kubernetes', errors: [], changes: [] })?.reason, 'BGPConfigRejected');
});

test('EventRecorder: events on the Node; a flapping session bumps one Event\'s count; the token bucket caps writes', async () => {
  let clock = 1_000_000;
  const view = new View();
  const rec = new EventRecorder(apiRequester(server.kubeConfig()), { nodeName: 'node-b', nodeUid: () => 'uid-b', burst: 4, refillMs: 10_000, now: () => clock });
  rec.attach(view);
  const t = new Date(clock).toISOString();
  view.emit({ type: 'peer-state', time: t, instance: 'i', neighbor: '10.0.0.1', from: 'OpenConfirm', to: 'Established', reason: null });
  await rec.record({ type: 'Normal', reason: 'Flush', message: 'x', key: 'k' }); // waits for the queue
  const post = server.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/default/events')!;
  const body = post.body as { involvedObject: unknown; reason: string; type: string; source: unknown };
  assert.deepEqual(body.involvedObject, { apiVersion: 'v1', kind: 'Node', name: 'node-b', uid: 'uid-b' });
  assert.equal(body.reason, 'BGPSessionEstablished');
  assert.equal(rec.created, 2);
  // The same event again, soon: a PATCH of the count, no new Event.
  clock += 1000;
  view.emit({ type: 'peer-state', time: t, instance: 'i', neighbor: '10.0.0.1', from: 'OpenConfirm', to: 'Established', reason: null });
  await rec.record({ type: 'Normal', reason: 'Flush2', message: 'y', key: 'k' }); // the burst of 4 is now used up
  assert.equal(rec.patched, 1);
  const patch = server.requests.filter((r) => r.method === 'PATCH' && r.path.startsWith('/api/v1/namespaces/default/events/')).at(-1)!;
  assert.equal((patch.body as { count: number }).count, 2);
  // Bucket empty: dropped until a token comes back.
  await rec.record({ type: 'Warning', reason: 'Storm', message: 'z', key: 'k' });
  assert.equal(rec.dropped, 1);
  clock += 10_000;
  await rec.record({ type: 'Warning', reason: 'Storm', message: 'z', key: 'k' });
  assert.equal(rec.created, 4);
  rec.detach();
});
