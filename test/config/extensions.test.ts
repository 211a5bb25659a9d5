// tsbgp.io extension kinds: the route-learning fields moved out of the Cilium objects
// into BGPPeerConfigExtension / BGPClusterConfigExtension resolve to exactly the same
// NodeConfig as the inline fields; conflicts, duplicates and missing targets are reported.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { resolve } from '../../src/config/config.js';
import { readConfigInputs } from '../../src/config/load.js';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../test/fixtures/config');

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string }; spec: Record<string, unknown> };

async function bgpv2(): Promise<Obj[]> {
  const read = await readConfigInputs([join(FIXTURES, 'bgpv2')]);
  const out: Obj[] = [];
  const add = (v: unknown) => {
    const o = v as Obj;
    if (o.kind.endsWith('List') && Array.isArray(o['items'])) (o['items'] as unknown[]).forEach(add);
    else out.push(structuredClone(o));
  };
  read.inputs.forEach((i) => add(i.value));
  return out;
}

/** Moves every extension field out of the Cilium objects into extension objects. */
function split(objs: Obj[]): Obj[] {
  const out: Obj[] = [];
  for (const o of objs) {
    if (o.kind === 'CiliumBGPPeerConfig') {
      const spec: Record<string, unknown> = { peerConfigRef: { name: o.metadata.name } };
      for (const f of ['prefixLimit', 'importPolicy'] as const) {
        if (o.spec[f] !== undefined) {
          spec[f] = o.spec[f];
          delete o.spec[f];
        }
      }
      const fams = (o.spec['families'] ?? []) as Record<string, unknown>[];
      const limited = fams.filter((f) => f['prefixLimit'] !== undefined);
      if (limited.length > 0) spec['families'] = limited.map((f) => ({ afi: f['afi'], safi: f['safi'], prefixLimit: f['prefixLimit'] }));
      for (const f of fams) delete f['prefixLimit'];
      out.push({ apiVersion: 'tsbgp.io/v1alpha1', kind: 'BGPPeerConfigExtension', metadata: { name: `x-${o.metadata.name}` }, spec });
    }
    if (o.kind === 'CiliumBGPClusterConfig') {
      const insts = o.spec['bgpInstances'] as Record<string, unknown>[];
      const ext = insts.map((i) => {
        const e: Record<string, unknown> = { name: i['name'] };
        for (const f of ['routeInstall', 'alwaysCompareMed']) {
          if (i[f] !== undefined) {
            e[f] = i[f];
            delete i[f];
          }
        }
        return e;
      });
      out.push({ apiVersion: 'tsbgp.io/v1alpha1', kind: 'BGPClusterConfigExtension', metadata: { name: `x-${o.metadata.name}` }, spec: { clusterConfigRef: { name: o.metadata.name }, bgpInstances: ext } });
    }
    out.push(o);
  }
  return out;
}

test('extension kinds resolve to the same NodeConfig as the inline fields', async () => {
  const inline = resolve(await bgpv2(), 'worker-1');
  assert.ok(inline.config);
  const objs = split(await bgpv2());
  // The Cilium objects really lost the fields (as Cilium's CRDs would prune them).
  const pc = objs.find((o) => o.kind === 'CiliumBGPPeerConfig')!;
  assert.equal(pc.spec['importPolicy'], undefined);
  const without = resolve(objs.filter((o) => !o.kind.endsWith('Extension')), 'worker-1');
  assert.notDeepEqual(without.config, inline.config, 'the fixture uses extension fields');
  const extended = resolve(objs, 'worker-1');
  assert.deepEqual(extended.errors, []);
  assert.deepEqual(extended.config, inline.config);
  assert.deepEqual(extended.warnings.map((w) => w.code), inline.warnings.map((w) => w.code));
});

test('a field both inline and in an extension: ExtensionConflict, no config', async () => {
  const objs = await bgpv2();
  objs.push({ apiVersion: 'tsbgp.io/v1alpha1', kind: 'BGPPeerConfigExtension', metadata: { name: 'x' }, spec: { peerConfigRef: { name: 'cilium-peer' }, prefixLimit: { maxPrefixes: 7 } } });
  const r = resolve(objs, 'worker-1');
  assert.equal(r.config, undefined);
  assert.deepEqual(r.errors.map((e) => [e.code, e.object, e.path]), [['ExtensionConflict', 'BGPPeerConfigExtension/x', 'spec.prefixLimit']]);
});

test('missing targets warn; two extensions of one object and unknown families are errors', async () => {
  const base = split(await bgpv2());
  const missing = resolve([...base, { apiVersion: 'tsbgp.io/v1alpha1', kind: 'BGPPeerConfigExtension', metadata: { name: 'ghost' }, spec: { peerConfigRef: { name: 'nope' }, prefixLimit: { maxPrefixes: 1 } } }], 'worker-1');
  assert.ok(missing.config);
  assert.deepEqual(missing.warnings.filter((w) => w.code === 'ExtensionTargetNotFound').map((w) => w.object), ['BGPPeerConfigExtension/ghost']);
  const dup = resolve([...base, { apiVersion: 'tsbgp.io/v1alpha1', kind: 'BGPPeerConfigExtension', metadata: { name: 'z-second' }, spec: { peerConfigRef: { name: 'cilium-peer' } } }], 'worker-1');
  assert.deepEqual(dup.errors.map((e) => [e.code, e.object]), [['DuplicateExtension', 'BGPPeerConfigExtension/z-second']]);
  const fam = split(await bgpv2());
  const ext = fam.find((o) => o.kind === 'BGPPeerConfigExtension')!;
  (ext.spec['families'] as unknown[]).push({ afi: 'l2vpn', safi: 'evpn', prefixLimit: { maxPrefixes: 3 } });
  const r = resolve(fam, 'worker-1');
  assert.deepEqual(r.errors.map((e) => [e.code, e.path]), [['ExtensionUnknownFamily', 'spec.families[1]']]);
  // Field typos in an extension object are reported on it, with a suggestion.
  const typo = split(await bgpv2());
  const t = typo.find((o) => o.kind === 'BGPClusterConfigExtension')!;
  (t.spec['bgpInstances'] as Record<string, unknown>[])[0]!['routeInstal'] = { table: 5 };
  const tr = resolve(typo, 'worker-1');
  assert.equal(tr.errors[0]?.code, 'UnknownField');
  assert.match(tr.errors[0]!.message, /did you mean "routeInstall"/);
  assert.equal(tr.errors[0]!.object, 'BGPClusterConfigExtension/x-cilium-bgp');
});
