// The informer layer (src/k8s/informer.ts) against FakeApiServer: an HTTP server
// written in the test, on 127.0.0.1, implementing the Kubernetes list/watch protocol
// (resourceVersion, paged lists, chunked watch streams, bookmarks, 410 Gone). No real
// API server can run on this machine, so this is the closest honest stand-in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiRequester } from '../../src/k8s/http.js';
import { ResourceInformer } from '../../src/k8s/informer.js';
import type { ResourceDef } from '../../src/k8s/resources.js';
import { FakeApiServer } from './fake-apiserver.js';

const SERVICES: ResourceDef = { kind: 'Service', apiVersion: 'v1', path: '/api/v1/services', fieldSelector: undefined, optional: false };
const NODES: ResourceDef = { kind: 'Node', apiVersion: 'v1', path: '/api/v1/nodes', fieldSelector: 'metadata.name=n1', optional: false };
const PEERCONFIGS: ResourceDef = { kind: 'CiliumBGPPeerConfig', apiVersion: 'cilium.io/v2', path: '/apis/cilium.io/v2/ciliumbgppeerconfigs', fieldSelector: undefined, optional: true };

const svc = (name: string, ip = '10.96.0.1') => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: ip } });

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: FakeApiServer;
const informers: ResourceInformer[] = [];

function informer(def: ResourceDef, opts: { pageSize?: number; absentRetryMs?: number } = {}) {
  const changes: string[] = [];
  const errors: { status: unknown; retryInMs: number }[] = [];
  const kc = server.kubeConfig();
  const inf = new ResourceInformer(
    kc,
    apiRequester(kc),
    def,
    {
      change: (d) => changes.push(d.kind),
      error: (_d, err, retryInMs) => errors.push({ status: (err as { statusCode?: number }).statusCode, retryInMs }),
    },
    { backoffMinMs: 50, backoffMaxMs: 400, watchTimeoutSeconds: 60, ...opts },
  );
  informers.push(inf);
  return { inf, changes, errors };
}

const names = (inf: ResourceInformer) => inf.objects().map((o) => o.metadata?.name).sort();

before(async () => {
  server = new FakeApiServer();
  await server.start();
});

after(async () => {
  for (const i of informers) await i.stop();
  await server.stop();
});

test('paged list, then watch events; items get apiVersion/kind; bookmarks and a timeout are requested', async () => {
  for (let i = 0; i < 5; i++) server.put(svc(`s${i}`));
  const { inf, changes } = informer(SERVICES, { pageSize: 2 });
  inf.start();
  await inf.waitSynced();
  assert.deepEqual(names(inf), ['s0', 's1', 's2', 's3', 's4']);
  // 5 items in pages of 2: three list requests, the later ones with a continue token.
  const lists = server.listRequests(SERVICES.path);
  assert.equal(lists.length, 3);
  assert.equal(lists[0]!.query['limit'], '2');
  // The first page from the watch cache (resourceVersion=0); later pages by continue token only.
  assert.equal(lists[0]!.query['resourceVersion'], '0');
  assert.ok(lists[1]!.query['continue']);
  assert.equal(lists[1]!.query['resourceVersion'], undefined);
  // List items of core kinds come without apiVersion/kind; the informer restores them.
  assert.ok(inf.objects().every((o) => o.apiVersion === 'v1' && o.kind === 'Service'));
  await waitFor('watch', () => server.openWatches === 1);
  const w = server.watchRequests(SERVICES.path)[0]!;
  assert.equal(w.query['allowWatchBookmarks'], 'true');
  assert.equal(w.query['resourceVersion'], String(server.resourceVersion));
  const t = Number(w.query['timeoutSeconds']);
  assert.ok(t >= 60 && t <= 120, `jittered timeout ${t}`);
  changes.length = 0;
  server.put(svc('s5'));
  server.put(svc('s0', '10.96.0.99'));
  server.delete(svc('s1'));
  await waitFor('events', () => names(inf).join() === 's0,s2,s3,s4,s5' && inf.objects().some((o) => (o as { spec?: { clusterIP?: string } }).spec?.clusterIP === '10.96.0.99'));
  assert.ok(changes.length >= 3);
  await inf.stop();
});

test('a field selector scopes the list and the watch to this node', async () => {
  server.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { a: 'b' } } });
  server.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
  const { inf } = informer(NODES);
  inf.start();
  await inf.waitSynced();
  assert.deepEqual(names(inf), ['n1']);
  assert.equal(server.listRequests(NODES.path).at(-1)!.query['fieldSelector'], 'metadata.name=n1');
  await waitFor('watch', () => server.watchRequests(NODES.path).length === 1);
  server.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2', labels: { x: 'y' } } });
  server.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { a: 'c' } } });
  await waitFor('n1 update', () => (inf.objects()[0]?.metadata?.labels?.['a'] ?? '') === 'c');
  assert.deepEqual(names(inf), ['n1']);
  await inf.stop();
});

test('bookmarks advance the resourceVersion; a closed watch resumes from it without a re-list', async () => {
  const { inf } = informer(SERVICES);
  inf.start();
  await inf.waitSynced();
  await waitFor('watch', () => server.openWatches === 1);
  // Objects elsewhere change the global resourceVersion; only a bookmark tells this watch.
  server.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n3' } });
  server.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n4' } });
  const rv = String(server.resourceVersion);
  assert.notEqual(inf.latestResourceVersion(), rv);
  server.bookmark();
  await waitFor('bookmark', () => inf.latestResourceVersion() === rv);
  const listsBefore = server.listRequests(SERVICES.path).length;
  const watchesBefore = server.watchRequests(SERVICES.path).length;
  server.closeWatches();
  await waitFor('re-watch', () => server.watchRequests(SERVICES.path).length === watchesBefore + 1);
  assert.equal(server.watchRequests(SERVICES.path).at(-1)!.query['resourceVersion'], rv);
  assert.equal(server.listRequests(SERVICES.path).length, listsBefore, 'no re-list after a normal close');
  await inf.stop();
});

test('410 Gone (history compacted while disconnected): re-list, and changes made meanwhile (deletes too) are seen', async () => {
  const { inf } = informer(SERVICES);
  inf.start();
  await inf.waitSynced();
  await waitFor('watch', () => server.openWatches === 1);
  const listsBefore = inf.lists;
  const expiredBefore = server.expiredServed;
  // Outage: the watch is cut, changes happen, the history is compacted.
  server.setDown(true);
  server.put(svc('gap-added'));
  server.delete(svc('s2'));
  server.compact();
  server.setDown(false);
  await waitFor('re-list after 410', () => inf.lists === listsBefore + 1 && names(inf).includes('gap-added'), 8000);
  // A re-list asks for the latest state, not the (possibly older) watch cache.
  assert.equal(server.listRequests(SERVICES.path).at(-1)!.query['resourceVersion'], undefined);
  assert.ok(!names(inf).includes('s2'), 'an object deleted during the gap is dropped by the re-list');
  // The re-watch from the old resourceVersion got an ERROR event with code 410 (not an HTTP error).
  assert.equal(server.expiredServed, expiredBefore + 1);
  await waitFor('new watch', () => server.openWatches === 1);
  assert.equal(server.watchRequests(SERVICES.path).at(-1)!.query['resourceVersion'], String(server.resourceVersion));
  await inf.stop();
});

test('API outage: errors with growing backoff, the cache is kept, recovery picks up changes', async () => {
  const { inf, errors } = informer(SERVICES);
  inf.start();
  await inf.waitSynced();
  await waitFor('watch', () => server.openWatches === 1);
  const before = names(inf);
  server.setDown(true);
  await waitFor('three failures', () => errors.length >= 3, 8000);
  assert.equal(errors[1]!.status, 503);
  // Exponential: each retry waits about twice the previous one (±20 % jitter), capped.
  assert.ok(errors[2]!.retryInMs > errors[0]!.retryInMs, JSON.stringify(errors));
  assert.ok(errors.every((e) => e.retryInMs <= 400 * 1.2));
  assert.deepEqual(names(inf), before, 'the last good objects stay while the API is down');
  server.put(svc('after-outage'));
  server.setDown(false);
  await waitFor('recovered', () => names(inf).includes('after-outage'), 8000);
  await inf.stop();
});

test('watch events split across chunks are reassembled', async () => {
  const split = new FakeApiServer({ splitEvents: true });
  await split.start();
  try {
    const kc = split.kubeConfig();
    const inf = new ResourceInformer(kc, apiRequester(kc), SERVICES, { change: () => {}, error: () => {} });
    inf.start();
    await inf.waitSynced();
    await waitFor('watch', () => split.openWatches === 1);
    split.put(svc('chunky'));
    await waitFor('split event', () => names(inf).includes('chunky'));
    await inf.stop();
  } finally {
    await split.stop();
  }
});

test('a CRD that is not installed (404) is an empty, synced collection, picked up once it appears', async () => {
  server.missing.add(PEERCONFIGS.path);
  const { inf, changes } = informer(PEERCONFIGS, { absentRetryMs: 100 });
  inf.start();
  await inf.waitSynced();
  assert.equal(inf.absent, true);
  assert.deepEqual(names(inf), []);
  server.missing.delete(PEERCONFIGS.path);
  server.put({ apiVersion: 'cilium.io/v2', kind: 'CiliumBGPPeerConfig', metadata: { name: 'pc' }, spec: {} });
  await waitFor('CRD installed', () => names(inf).join() === 'pc');
  assert.equal(inf.absent, false);
  assert.ok(changes.length >= 2, 'a change when found absent and when it appeared');
  await inf.stop();
});

test('a label selector on Services: only labelled Services are listed and watched', async () => {
  const labelled: ResourceDef = { ...SERVICES, labelSelector: 'bgp=yes' };
  server.put({ ...svc('lab-1'), metadata: { name: 'lab-1', namespace: 'default', labels: { bgp: 'yes' } } });
  const { inf } = informer(labelled);
  inf.start();
  await inf.waitSynced();
  assert.deepEqual(names(inf), ['lab-1']);
  assert.equal(server.listRequests(SERVICES.path).at(-1)!.query['labelSelector'], 'bgp=yes');
  await waitFor('watch', () => server.watchRequests(SERVICES.path).some((r) => r.query['labelSelector'] === 'bgp=yes'));
  server.put(svc('unlabelled-2'));
  server.put({ ...svc('lab-2'), metadata: { name: 'lab-2', namespace: 'default', labels: { bgp: 'yes' } } });
  await waitFor('labelled event', () => names(inf).includes('lab-2'));
  assert.deepEqual(names(inf), ['lab-1', 'lab-2']);
  await inf.stop();
});

test('a hung watch (open past its server-side timeout, no events) is aborted and the informer keeps up', async () => {
  const kc = server.kubeConfig();
  const changes: string[] = [];
  const inf = new ResourceInformer(kc, apiRequester(kc), SERVICES, { change: (d) => changes.push(d.kind), error: () => undefined }, {
    backoffMinMs: 50,
    backoffMaxMs: 400,
    watchTimeoutSeconds: 1,
    watchGraceMs: 200,
  });
  informers.push(inf);
  inf.start();
  await inf.waitSynced();
  const first = server.watchRequests(SERVICES.path).length;
  // The fake server ignores timeoutSeconds: its watch stays open and silent, like a
  // connection to a server that vanished. The watchdog must give up on it (1–2 s + 0.2 s).
  await waitFor('the hung watch replaced', () => server.watchRequests(SERVICES.path).length > first, 4000);
  await waitFor('the old stream closed', () => server.openWatches <= 1, 2000);
  server.put(svc('after-hang', '10.96.0.77'));
  await waitFor('a change after the abort', () => names(inf).includes('after-hang'), 3000);
  await inf.stop();
  server.delete(svc('after-hang'));
});
