// deploy/: the CRDs are what src/k8s/crds.ts generates; their structural schemas
// accept every example manifest (test/fixtures/config and docs/*.md) that tsbgp's
// own validation accepts, keep every field (nothing pruned), and reject wrong types;
// `kubectl kustomize` renders every overlay, and the rendered objects validate
// against the Kubernetes API schemas (kubernetes-models) and meet the security and
// RBAC requirements.
//
// Regenerate the CRD files after changing src/k8s/crds.ts:
//   TSBGP_UPDATE_CRDS=1 node scripts/test.mjs dist/test/k8s/deploy.test.js
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { extractCodeBlocks } from '../../src/config/docs.js';
import { validateInput } from '../../src/config/validate.js';
import { NO_SOURCE } from '../../src/config/diagnostics.js';
import { TSBGPD_NODE_FLAGS } from '../../src/bin/node-flags.js';
import { CILIUM_KINDS, crdFor, renderCrdFiles, TSBGP_KINDS } from '../../src/k8s/crds.js';
import { findTool } from '../lib/root.js';
import { run } from '../lib/proc.js';
import { checkStructural, validateValue } from './openapi.js';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const DEPLOY = join(ROOT, 'deploy');

type Obj = Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

const yamlText = (v: unknown) => stringify(v, { lineWidth: 0 });

if (process.env['TSBGP_UPDATE_CRDS'] === '1') {
  for (const [rel, text] of renderCrdFiles(yamlText)) {
    mkdirSync(dirname(join(DEPLOY, 'crds', rel)), { recursive: true });
    writeFileSync(join(DEPLOY, 'crds', rel), text);
  }
}

function parseObjects(text: string): unknown[] {
  const out: unknown[] = [];
  const add = (v: unknown) => {
    const o = v as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object') return;
    if (typeof o['kind'] === 'string' && o['kind'].endsWith('List') && Array.isArray(o['items'])) (o['items'] as unknown[]).forEach(add);
    else out.push(o);
  };
  for (const d of parseAllDocuments(text)) if (d.errors.length === 0) add(d.toJS());
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Every example object: fixture files, and YAML blocks of the docs. */
function examples(): { where: string; object: Obj }[] {
  const out: { where: string; object: Obj }[] = [];
  for (const f of walk(join(ROOT, 'test/fixtures/config')).filter((f) => /\.(ya?ml|json)$/.test(f))) {
    for (const o of parseObjects(readFileSync(f, 'utf8'))) out.push({ where: f.slice(ROOT.length + 1), object: o as Obj });
  }
  for (const doc of ['docs/configuration.md', 'docs/kubernetes.md']) {
    if (!existsSync(join(ROOT, doc))) continue;
    for (const b of extractCodeBlocks(readFileSync(join(ROOT, doc), 'utf8'))) {
      if (b.info.split(' ')[0] !== 'yaml') continue;
      for (const o of parseObjects(b.text)) out.push({ where: `${doc}:${b.line}`, object: o as Obj });
    }
  }
  return out;
}

const ALL_KINDS = [...TSBGP_KINDS, ...CILIUM_KINDS];

function schemaFor(o: Obj): Record<string, unknown> | undefined {
  const [group, version] = o.apiVersion.split('/');
  const k = ALL_KINDS.find((x) => x.kind === o.kind && x.group === group && x.versions.includes(version ?? ''));
  if (k === undefined) return undefined;
  const crd = crdFor(k) as { spec: { versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
  return crd.spec.versions.find((v) => v.name === version)!.schema.openAPIV3Schema;
}

test('deploy/crds holds exactly what src/k8s/crds.ts generates', () => {
  for (const [rel, text] of renderCrdFiles(yamlText)) {
    const file = join(DEPLOY, 'crds', rel);
    assert.ok(existsSync(file), `${rel} missing: regenerate with TSBGP_UPDATE_CRDS=1`);
    assert.equal(readFileSync(file, 'utf8'), text, `${rel} is stale: regenerate with TSBGP_UPDATE_CRDS=1`);
  }
});

test('every CRD is a valid CustomResourceDefinition with a structural schema', async () => {
  const { CustomResourceDefinition } = await import('kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition');
  for (const k of ALL_KINDS) {
    const crd = crdFor(k) as { spec: { versions: { schema: { openAPIV3Schema: Record<string, unknown> } }[] } };
    new CustomResourceDefinition(crd as never).validate();
    for (const v of crd.spec.versions) assert.deepEqual(checkStructural(v.schema.openAPIV3Schema), [], k.kind);
  }
});

test('the CRD schemas accept every example tsbgp accepts (fixtures and docs), and prune nothing', () => {
  let checked = 0;
  const kinds = new Set<string>();
  for (const { where, object } of examples()) {
    const schema = schemaFor(object);
    if (schema === undefined) continue;
    // Examples that show an error on purpose (docs) are not for the CRD to accept.
    const own = validateInput({ value: object, source: NO_SOURCE });
    if (own.diagnostics.some((d) => d.severity === 'error')) continue;
    assert.deepEqual(validateValue(schema, object), [], `${where}: ${object.kind}/${object.metadata.name}`);
    checked++;
    kinds.add(object.kind);
  }
  // The route-learning fixtures and docs cover v1 and v2 with the extension fields.
  assert.ok(checked >= 10, `only ${checked} examples checked`);
  for (const k of ['CiliumBGPPeeringPolicy', 'CiliumBGPClusterConfig', 'CiliumBGPPeerConfig', 'CiliumBGPAdvertisement', 'CiliumBGPNodeConfigOverride']) {
    assert.ok(kinds.has(k), `no example of ${k}`);
  }
});

test('the extension fields survive (not pruned), and wrong types are rejected', () => {
  const schema = schemaFor({ apiVersion: 'cilium.io/v2', kind: 'CiliumBGPPeerConfig', metadata: { name: 'x' } })!;
  const good = {
    apiVersion: 'cilium.io/v2', kind: 'CiliumBGPPeerConfig', metadata: { name: 'x' },
    spec: {
      prefixLimit: { maxPrefixes: 1000, warningThresholdPercent: 80, restartTimerSeconds: 60 },
      importPolicy: { defaultAction: 'Reject', rules: [{ name: 'ok', match: { prefixes: [{ cidr: '10.0.0.0/8', le: 24 }], communities: ['65000:1', 'no-export', 4259840001] }, action: 'Accept', set: { localPreference: 200 } }] },
      families: [{ afi: 'ipv4', safi: 'unicast', prefixLimit: { maxPrefixes: 10 } }],
    },
  };
  assert.deepEqual(validateValue(schema, good), []);
  const wrong = structuredClone(good) as { spec: { prefixLimit: Record<string, unknown>; importPolicy: { rules: Record<string, unknown>[] } } };
  wrong.spec.prefixLimit['maxPrefixes'] = '1000';
  assert.deepEqual(validateValue(schema, wrong), [{ path: '.spec.prefixLimit.maxPrefixes', message: 'expected integer, found string' }]);
  const badEnum = structuredClone(good) as typeof wrong;
  badEnum.spec.importPolicy.rules[0]!['action'] = 'accept';
  assert.equal(validateValue(schema, badEnum)[0]?.path, '.spec.importPolicy.rules[0].action');
  const typo = structuredClone(good) as typeof wrong;
  typo.spec.prefixLimit['maxPrefix'] = 1;
  assert.match(validateValue(schema, typo)[0]?.message ?? '', /prune/);
  // routeInstall.table is a number or a name.
  const cc = schemaFor({ apiVersion: 'cilium.io/v2', kind: 'CiliumBGPClusterConfig', metadata: { name: 'x' } })!;
  const inst = (table: unknown) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumBGPClusterConfig', metadata: { name: 'c' }, spec: { bgpInstances: [{ name: 'i', localASN: 65001, routeInstall: { table } }] } });
  assert.deepEqual(validateValue(cc, inst(100)), []);
  assert.deepEqual(validateValue(cc, inst('main')), []);
  assert.equal(validateValue(cc, inst(true)).length, 1);
});

// ---------------------------------------------------------------------------
// kustomize

const kubectl = findTool('kubectl');

async function render(overlay: string): Promise<Obj[]> {
  const r = await run(kubectl!, ['kustomize', join(DEPLOY, 'overlays', overlay)], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  return parseObjects(r.stdout) as Obj[];
}

/** kubernetes-models class for an apiVersion/kind, when it has one. */
async function modelFor(o: Obj): Promise<(new (v: unknown) => { validate(): void }) | undefined> {
  const [a, b] = o.apiVersion.split('/');
  const path = b === undefined ? `kubernetes-models/${a}/${o.kind}` : `kubernetes-models/${a}/${b}/${o.kind}`;
  try {
    const m = (await import(path)) as Record<string, new (v: unknown) => { validate(): void }>;
    return m[o.kind];
  } catch {
    return undefined;
  }
}

for (const overlay of ['with-cilium', 'standalone', 'servicemonitor']) {
  test(`kubectl kustomize deploy/overlays/${overlay}: renders, and every object validates against the API schemas`, { skip: kubectl === undefined ? 'kubectl not installed' : false }, async () => {
    const objs = await render(overlay);
    const unvalidated: string[] = [];
    for (const o of objs) {
      const Model = await modelFor(o);
      if (Model === undefined) {
        unvalidated.push(`${o.apiVersion}/${o.kind}`);
        continue;
      }
      assert.doesNotThrow(() => new Model(o).validate(), `${o.kind}/${o.metadata.name}`);
    }
    // Only kinds kubernetes-models does not know: the CRD-backed ServiceMonitor.
    assert.deepEqual([...new Set(unvalidated)], overlay === 'servicemonitor' ? ['monitoring.coreos.com/v1/ServiceMonitor'] : []);
    const crds = objs.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.name).sort();
    const tsbgpCrds = TSBGP_KINDS.map((k) => `${k.plural}.${k.group}`);
    const ciliumCrds = CILIUM_KINDS.map((k) => `${k.plural}.${k.group}`);
    assert.deepEqual(crds, (overlay === 'standalone' ? [...tsbgpCrds, ...ciliumCrds] : tsbgpCrds).sort());
  });
}

test('the DaemonSet: host network, NET_ADMIN+NET_RAW only, node name from the downward API, probes, metrics annotations', { skip: kubectl === undefined ? 'kubectl not installed' : false }, async () => {
  const objs = await render('with-cilium');
  const ds = objs.find((o) => o.kind === 'DaemonSet') as unknown as {
    spec: { template: { metadata: { annotations: Record<string, string> }; spec: { hostNetwork: boolean; containers: {
      args: string[]; env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]; ports: { name: string; containerPort: number }[];
      livenessProbe: { httpGet: { path: string; port: string } }; readinessProbe: { httpGet: { path: string; port: string } };
      securityContext: { privileged?: boolean; allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[]; add: string[] } };
    }[] } } };
  };
  const pod = ds.spec.template.spec;
  assert.equal(pod.hostNetwork, true);
  const c = pod.containers[0]!;
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] });
  assert.equal(c.securityContext.privileged, undefined);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.equal(c.env.find((e) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
  assert.ok(c.args.includes('--node-name=$(NODE_NAME)'));
  assert.ok(c.args.includes('--source=kubernetes'));
  const metricsArg = c.args.find((a) => a.startsWith('--metrics-address='))!;
  const port = Number(metricsArg.split(':').at(-1));
  assert.equal(c.ports.find((p) => p.name === 'metrics')?.containerPort, port);
  assert.deepEqual([c.livenessProbe.httpGet.path, c.livenessProbe.httpGet.port], ['/healthz', 'metrics']);
  assert.deepEqual([c.readinessProbe.httpGet.path, c.readinessProbe.httpGet.port], ['/readyz', 'metrics']);
  assert.equal(ds.spec.template.metadata.annotations['prometheus.io/port'], String(port));
  assert.equal(ds.spec.template.metadata.annotations['prometheus.io/scrape'], 'true');
  // The secret namespace of the flag is the one the Role grants.
  const ns = c.args.find((a) => a.startsWith('--secret-namespace='))!.split('=')[1];
  const role = objs.find((o) => o.kind === 'Role' && (o as unknown as { rules: { resources: string[] }[] }).rules.some((r) => r.resources.includes('secrets')))!;
  assert.equal(role.metadata.namespace, ns);
});

test('RBAC is least privilege: reads only; Secrets in one namespace; writes only status and events', { skip: kubectl === undefined ? 'kubectl not installed' : false }, async () => {
  const objs = await render('with-cilium');
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
  const rules = (o: Obj) => (o as unknown as { rules: Rule[] }).rules;
  const cr = objs.find((o) => o.kind === 'ClusterRole')!;
  const READ = ['get', 'list', 'watch'];
  for (const r of rules(cr)) {
    assert.ok(!r.resources.includes('secrets'), 'no cluster-wide Secret access');
    assert.ok(!r.resources.includes('*') && !r.verbs.includes('*'));
    const writes = r.verbs.filter((v) => !READ.includes(v));
    if (writes.length === 0) continue;
    // Writes: create its BGPNodeStatus, and patch/update only the status subresource.
    if (r.resources.join() === 'bgpnodestatuses') assert.deepEqual(writes, ['create']);
    else assert.deepEqual(r.resources, ['bgpnodestatuses/status']);
  }
  const roles = objs.filter((o) => o.kind === 'Role');
  const secretRoles = roles.filter((o) => rules(o).some((r) => r.resources.includes('secrets')));
  assert.equal(secretRoles.length, 1);
  assert.deepEqual(rules(secretRoles[0]!), [{ apiGroups: [''], resources: ['secrets'], verbs: READ }]);
  const eventRole = roles.find((o) => rules(o).some((r) => r.resources.includes('events')))!;
  assert.deepEqual(rules(eventRole), [{ apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] }]);
  // Every binding names the tsbgp ServiceAccount only.
  for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
    assert.deepEqual((b as unknown as { subjects: unknown[] }).subjects, [{ kind: 'ServiceAccount', name: 'tsbgp', namespace: 'tsbgp' }]);
  }
  // The ClusterRole grants reading every resource the kubernetes source watches.
  const { watchedResources } = await import('../../src/k8s/resources.js');
  for (const d of watchedResources({ nodeName: 'n', secretNamespace: 'tsbgp-secrets', ciliumV2Version: 'v2' })) {
    const plural = d.path.split('/').at(-1)!;
    const group = d.apiVersion.includes('/') ? d.apiVersion.split('/')[0]! : '';
    const ok = [...rules(cr), ...rules(secretRoles[0]!)].some((r) => r.apiGroups.includes(group) && r.resources.includes(plural) && READ.every((v) => r.verbs.includes(v)));
    assert.ok(ok, `no read access to ${group}/${plural}`);
  }
});

test('the Dockerfile builds the daemon and runs tsbgpd from the paths the native addons are found at', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  assert.match(text, /FROM node:20/);
  const flags = TSBGPD_NODE_FLAGS.map((f) => `"${f}", `).join('');
  assert.ok(text.includes(`ENTRYPOINT ["node", ${flags}"/opt/tsbgp/dist/src/bin/tsbgpd.js"]`), 'the entry point runs tsbgpd with its V8 flags');
  for (const addon of ['native/socket/build/Release', 'native/netlink/build/Release']) assert.ok(text.includes(addon), addon);
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
  for (const p of ['node_modules', 'dist']) assert.ok(ignore.split('\n').includes(p), p);
});
