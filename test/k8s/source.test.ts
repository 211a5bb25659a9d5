// The API-server configuration source against FakeApiServer (an HTTP server written
// in the test, on 127.0.0.1, speaking the list/watch protocol; no API server can run
// here). The key property: the manifests the file-mode tests use, loaded into the
// "cluster", resolve to the same NodeConfig as the FileSource reads from disk.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { FileSource } from '../../src/config/file-source.js';
import { readConfigInputs } from '../../src/config/load.js';
import type { NodeConfig } from '../../src/config/model.js';
import { KubernetesSource } from '../../src/k8s/source.js';
import { FakeApiServer } from './fake-apiserver.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../test/fixtures/config');

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every object of the fixture files (List items flattened), as a client would apply them. */
async function manifests(dir: string): Promise<Record<string, unknown>[]> {
  const read = await readConfigInputs([join(FIXTURES, dir)]);
  const out: Record<string, unknown>[] = [];
  const add = (v: unknown) => {
    const o = v as Record<string, unknown>;
    if (o['kind'] === 'List' || (typeof o['kind'] === 'string' && o['kind'].endsWith('List') && Array.isArray(o['items']))) (o['items'] as unknown[]).forEach(add);
    else out.push(structuredClone(o));
  };
  for (const i of read.inputs) add(i.value);
  return out;
}

const passwords = (cfg: NodeConfig | undefined) => cfg?.instances.flatMap((i) => i.peers.map((p) => p.md5Password?.reveal()));

const sources: KubernetesSource[] = [];
const servers: FakeApiServer[] = [];

async function cluster(objects: readonly Record<string, unknown>[]): Promise<FakeApiServer> {
  const s = new FakeApiServer();
  await s.start();
  servers.push(s);
  for (const o of objects) {
    // The API server only stores kinds it serves: a ConfigMap in the dump is not watched by tsbgp.
    s.put(o);
  }
  return s;
}

function source(s: FakeApiServer, nodeName: string, secretNamespace = 'kube-system', v2: 'v2' | 'v2alpha1' = 'v2') {
  const src = new KubernetesSource(s.kubeConfig(), { nodeName, secretNamespace, ciliumV2Version: v2, debounceMs: 30, backoffMinMs: 50, backoffMaxMs: 200 });
  sources.push(src);
  return src;
}

after(async () => {
  for (const s of sources) await s.close();
  for (const s of servers) await s.stop();
});

before(() => undefined);

test('both sources, same manifests: the file mode fixtures resolve to the same NodeConfig from the API server', async () => {
  for (const [dir, nodeName, v2] of [
    ['bgpv2', 'worker-1', 'v2'],
    ['cilium-demo', 'cilium-bgp-cluster-worker', 'v2'],
    ['route-learning', 'edge-1', 'v2'],
  ] as const) {
    const objs = await manifests(dir);
    // Put every object under the apiVersion its manifest names (v2alpha1 objects served as v2alpha1).
    const s = await cluster(objs);
    const versions = new Set(objs.filter((o) => String(o['apiVersion']).startsWith('cilium.io/') && o['kind'] !== 'CiliumBGPPeeringPolicy').map((o) => String(o['apiVersion']).split('/')[1]));
    const version = versions.size === 1 ? ([...versions][0] as 'v2' | 'v2alpha1') : v2;
    const fromFiles = await new FileSource([join(FIXTURES, dir)], nodeName).load();
    const fromApi = await source(s, nodeName, 'kube-system', version).load();
    assert.ok(fromFiles.config !== undefined, `${dir}: the fixture is valid`);
    assert.deepEqual(fromApi.errors, [], dir);
    assert.deepEqual(fromApi.config, fromFiles.config, dir);
    assert.deepEqual(passwords(fromApi.config), passwords(fromFiles.config), dir);
    // Same warnings (by code and object); the API ones carry no file.
    const key = (w: { code: string; object: string | undefined; path: string | undefined }) => `${w.code} ${w.object ?? ''} ${w.path ?? ''}`;
    const fileWarnings = fromFiles.warnings.filter((w) => w.code !== 'UnknownKind').map(key).sort();
    assert.deepEqual(fromApi.warnings.map(key).sort(), fileWarnings, dir);
    assert.ok(fromApi.warnings.every((w) => w.file === undefined));
  }
});

test('changes to this node\'s inputs are announced once; unrelated churn is not', async () => {
  const objs = await manifests('bgpv2');
  const s = await cluster(objs);
  const src = source(s, 'worker-1');
  const first = await src.load();
  assert.ok(first.config);
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  // A Service nothing selects, and a Node status heartbeat of another node: no change.
  s.put({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'unrelated', namespace: 'other' }, spec: { type: 'ClusterIP', clusterIP: '10.96.9.9' } });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(triggers, []);
  // The peer config's hold time: this node's config changes.
  const pc = objs.find((o) => o['kind'] === 'CiliumBGPPeerConfig')!;
  const changed = structuredClone(pc) as { spec: { timers?: Record<string, number> } };
  changed.spec.timers = { ...changed.spec.timers, holdTimeSeconds: 33, keepAliveTimeSeconds: 11 };
  s.put(changed);
  await waitFor('change announced', () => triggers.length === 1);
  const next = await src.load();
  assert.equal(next.config?.instances[0]?.peers[0]?.timers.holdTime, 33);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(triggers.length, 1, 'one announcement for one change');
});

test('invalid API objects: the diagnostics name the object (kind/name), not a file, and no config is given', async () => {
  const objs = await manifests('bgpv2');
  const s = await cluster(objs);
  const src = source(s, 'worker-1');
  assert.ok((await src.load()).config);
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  const pc = structuredClone(objs.find((o) => o['kind'] === 'CiliumBGPPeerConfig')!) as { metadata: { name: string }; spec: Record<string, unknown> };
  pc.spec['ebgpMultihop'] = 'three';
  s.put(pc);
  await waitFor('change', () => triggers.length === 1);
  const r = await src.load();
  assert.equal(r.config, undefined);
  const e = r.errors.find((d) => d.path === 'spec.ebgpMultihop');
  assert.ok(e, JSON.stringify(r.errors));
  assert.equal(e.object, `CiliumBGPPeerConfig/${pc.metadata.name}`);
  assert.equal(e.file, undefined);
});

test('API outage: load() keeps answering from the last good objects; recovery brings the changes', async () => {
  const objs = await manifests('bgpv2');
  const s = await cluster(objs);
  const errors: string[] = [];
  const src = new KubernetesSource(s.kubeConfig(), {
    nodeName: 'worker-1', secretNamespace: 'kube-system', debounceMs: 30, backoffMinMs: 50, backoffMaxMs: 200,
    onError: (kind) => errors.push(kind),
  });
  sources.push(src);
  const good = await src.load();
  const triggers: string[] = [];
  src.watch((t) => triggers.push(t));
  s.setDown(true);
  await waitFor('errors reported', () => errors.length >= 3);
  const during = await src.load();
  assert.deepEqual(during.config, good.config);
  const node = structuredClone(objs.find((o) => o['kind'] === 'Node' && (o['metadata'] as { name: string }).name === 'worker-1')!) as { spec: { podCIDRs?: string[]; podCIDR?: string } };
  node.spec = { ...node.spec, podCIDR: '10.244.99.0/24', podCIDRs: ['10.244.99.0/24'] };
  s.put(node);
  s.compact();
  s.setDown(false);
  await waitFor('change after recovery', () => triggers.length >= 1, 8000);
  const after = await src.load();
  assert.ok(JSON.stringify(after.config).includes('10.244.99.0/24'));
});

test('secrets are read from the secret namespace only (one namespaced watch)', async () => {
  const s = await cluster(await manifests('route-learning'));
  const src = source(s, 'edge-1', 'kube-system');
  await src.load();
  const secretPaths = [...new Set(s.requests.filter((r) => r.path.includes('/secrets')).map((r) => r.path))];
  assert.deepEqual(secretPaths, ['/api/v1/namespaces/kube-system/secrets']);
  assert.ok(src.describe().some((d) => d.endsWith('/api/v1/nodes?fieldSelector=metadata.name=edge-1')));
});
