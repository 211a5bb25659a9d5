// Reload diffs: each kind of edit produces the expected typed change with the least
// disruptive effect, and only the peers concerned are touched.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolve } from '../../src/config/config.js';
import { diffConfigs, EFFECT_TABLE, effectOf, planChanges } from '../../src/config/diff.js';
import type { ConfigChange } from '../../src/config/diff.js';
import type { NodeConfig } from '../../src/config/model.js';

interface Knobs {
  hold?: number;
  importPolicy?: unknown;
  prefixLimit?: unknown;
  familyLimit?: unknown;
  routeInstall?: unknown;
  routerId?: string;
  password?: string;
  secretName?: string;
  services?: { name: string; ip: string; labels?: Record<string, string> }[];
  extraPeer?: boolean;
  localAsn?: number;
  connectRetry?: number;
  alwaysCompareMed?: boolean;
}

/** Two v1 neighbors: 10.0.0.1 (edited by the knobs) and 10.0.0.2 (never edited). */
function config(k: Knobs = {}): NodeConfig {
  const localAsn = k.localAsn ?? 65001;
  const objects: unknown[] = [
    {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: 'n1', annotations: { [`cilium.io/bgp-virtual-router.${localAsn}`]: `router-id=${k.routerId ?? '10.0.0.10'}` } },
      spec: { podCIDRs: ['10.1.0.0/24'] },
    },
    {
      apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumBGPPeeringPolicy', metadata: { name: 'p' },
      spec: {
        virtualRouters: [{
          localASN: localAsn,
          exportPodCIDR: true,
          serviceSelector: { matchLabels: { bgp: 'on' } },
          ...(k.routeInstall !== undefined ? { routeInstall: k.routeInstall } : {}),
          ...(k.alwaysCompareMed !== undefined ? { alwaysCompareMed: k.alwaysCompareMed } : {}),
          neighbors: [
            {
              peerAddress: '10.0.0.1/32', peerASN: 65000,
              ...(k.hold !== undefined ? { holdTimeSeconds: k.hold } : {}),
              ...(k.connectRetry !== undefined ? { connectRetryTimeSeconds: k.connectRetry } : {}),
              ...(k.importPolicy !== undefined ? { importPolicy: k.importPolicy } : {}),
              ...(k.prefixLimit !== undefined ? { prefixLimit: k.prefixLimit } : {}),
              ...(k.familyLimit !== undefined ? { families: [{ afi: 'ipv4', safi: 'unicast', prefixLimit: k.familyLimit }, { afi: 'ipv6', safi: 'unicast' }] } : {}),
              ...(k.password !== undefined ? { authSecretRef: k.secretName ?? 'pw' } : {}),
            },
            { peerAddress: '10.0.0.2/32', peerASN: 65002 },
            ...(k.extraPeer === true ? [{ peerAddress: '10.0.0.3/32', peerASN: 65003 }] : []),
          ],
        }],
      },
    },
    ...(k.password !== undefined
      ? [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: k.secretName ?? 'pw', namespace: 'kube-system' }, stringData: { password: k.password } }]
      : []),
    ...(k.services ?? []).map((s) => ({
      apiVersion: 'v1', kind: 'Service', metadata: { name: s.name, labels: s.labels ?? { bgp: 'on' } },
      spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: s.ip }] } },
    })),
  ];
  const r = resolve(objects, 'n1');
  assert.deepEqual(r.errors, []);
  return r.config!;
}

const brief = (cs: readonly ConfigChange[]) =>
  cs.map((c) => [c.kind, 'peer' in c ? c.peer : c.instance, 'field' in c ? c.field : 'prefix' in c ? c.prefix : '-', c.effect]);

test('identical configs: no change', () => {
  assert.deepEqual(diffConfigs(config({ password: 'a' }), config({ password: 'a' })), []);
});

test('hold time change: that one session resets, the other peer is untouched', () => {
  const changes = diffConfigs(config(), config({ hold: 9 }));
  // The unset keepalive follows: a third of a hold time below 30 s.
  assert.deepEqual(brief(changes), [
    ['peer-changed', '10.0.0.1', 'timers.holdTime', 'session-reset'],
    ['peer-changed', '10.0.0.1', 'timers.keepalive', 'session-reset'],
  ]);
  const c = changes[0]!;
  assert.ok(c.kind === 'peer-changed');
  assert.deepEqual([c.before, c.after], [90, 9]);
  assert.deepEqual(planChanges(changes), { restartInstances: [], peers: [{ instance: 'vr-65001', peer: '10.0.0.1', effect: 'session-reset' }] });
});

test('connect-retry change is hot (it only matters while the session is down)', () => {
  assert.deepEqual(brief(diffConfigs(config(), config({ connectRetry: 5 }))), [['peer-changed', '10.0.0.1', 'timers.connectRetry', 'hot']]);
});

test('import policy change: soft reset in, no session reset', () => {
  const a = config({ importPolicy: { defaultAction: 'Reject' } });
  const b = config({ importPolicy: { defaultAction: 'Accept' } });
  assert.deepEqual(brief(diffConfigs(a, b)), [['peer-changed', '10.0.0.1', 'importPolicy', 'soft-reset-in']]);
  // Adding a policy where there was none (start learning) is the same effect.
  assert.deepEqual(brief(diffConfigs(config(), a)), [['peer-changed', '10.0.0.1', 'importPolicy', 'soft-reset-in']]);
});

test('prefix limit changes are hot (they clear an overflow)', () => {
  assert.deepEqual(brief(diffConfigs(config({ prefixLimit: { maxPrefixes: 10 } }), config({ prefixLimit: { maxPrefixes: 20 } }))), [
    ['peer-changed', '10.0.0.1', 'prefixLimit', 'hot'],
  ]);
  const fa = config({ familyLimit: { maxPrefixes: 10 } });
  const fb = config({ familyLimit: { maxPrefixes: 10, restartTimerSeconds: 30 } });
  const changes = diffConfigs(fa, fb);
  assert.deepEqual(brief(changes), [['peer-changed', '10.0.0.1', 'families.prefixLimit', 'hot']]);
  const c = changes[0]!;
  assert.ok(c.kind === 'peer-changed');
  assert.deepEqual(c.after, { family: 'ipv4/unicast', prefixLimit: { maxPrefixes: 10, warningThresholdPercent: 75, restartTimerSeconds: 30 } });
});

test('advertisements: a new Service is announced, a removed one withdrawn, to both peers, hot', () => {
  const before = config({ services: [{ name: 'a', ip: '172.16.0.1' }] });
  const after = config({ services: [{ name: 'b', ip: '172.16.0.2' }] });
  const changes = diffConfigs(before, after);
  assert.deepEqual(changes, [
    { kind: 'advertisement', instance: 'vr-65001', prefix: '172.16.0.2/32', announce: ['10.0.0.1', '10.0.0.2'], withdraw: [], effect: 'hot' },
    { kind: 'advertisement', instance: 'vr-65001', prefix: '172.16.0.1/32', announce: [], withdraw: ['10.0.0.1', '10.0.0.2'], effect: 'hot' },
  ]);
  const plan = planChanges(changes);
  assert.deepEqual(plan.restartInstances, []);
  assert.deepEqual(plan.peers.map((p) => [p.peer, p.effect]), [['10.0.0.1', 'hot'], ['10.0.0.2', 'hot']]);
});

test('route install and alwaysCompareMed changes restart the instance', () => {
  const ri = diffConfigs(config(), config({ routeInstall: { table: 100 } }));
  assert.deepEqual(brief(ri), [['instance-changed', 'vr-65001', 'routeInstall', 'instance-restart']]);
  assert.deepEqual(planChanges(ri).restartInstances, ['vr-65001']);
  assert.deepEqual(brief(diffConfigs(config(), config({ alwaysCompareMed: true }))), [['instance-changed', 'vr-65001', 'alwaysCompareMed', 'instance-restart']]);
});

test('router id change restarts the instance; its peer changes are subsumed in the plan', () => {
  const changes = diffConfigs(config(), config({ routerId: '10.0.0.99', hold: 30 }));
  assert.deepEqual(brief(changes), [
    ['instance-changed', 'vr-65001', 'routerId', 'instance-restart'],
    ['peer-changed', '10.0.0.1', 'timers.holdTime', 'session-reset'],
  ]);
  assert.deepEqual(planChanges(changes), { restartInstances: ['vr-65001'], peers: [] });
});

test('local ASN change: a different v1 instance (removed + added)', () => {
  const changes = diffConfigs(config(), config({ localAsn: 65009 }));
  assert.deepEqual(brief(changes), [
    ['instance-removed', 'vr-65001', '-', 'instance-restart'],
    ['instance-added', 'vr-65009', '-', 'hot'],
  ]);
});

test('password change resets the session; renaming the Secret with the same password does not', () => {
  const a = config({ password: 'one' });
  assert.deepEqual(brief(diffConfigs(a, config({ password: 'two' }))), [['peer-changed', '10.0.0.1', 'md5Password', 'session-reset']]);
  assert.deepEqual(brief(diffConfigs(a, config({ password: 'one', secretName: 'pw2' }))), [['peer-changed', '10.0.0.1', 'authSecretRef', 'hot']]);
  const c = diffConfigs(a, config({ password: 'two' }))[0]!;
  assert.ok(!JSON.stringify(c).includes('one') && !JSON.stringify(c).includes('two'), 'passwords redacted in changes');
  // Adding a password to a peer that had none.
  assert.deepEqual(brief(diffConfigs(config(), a)), [['peer-changed', '10.0.0.1', 'md5Password', 'session-reset']]);
});

test('peer added: hot and announced to; peer removed: that session only', () => {
  const added = diffConfigs(config(), config({ extraPeer: true }));
  assert.deepEqual(brief(added), [
    ['peer-added', '10.0.0.3', '-', 'hot'],
    ['advertisement', 'vr-65001', '10.1.0.0/24', 'hot'],
  ]);
  const adv = added[1]!;
  assert.ok(adv.kind === 'advertisement');
  assert.deepEqual([adv.announce, adv.withdraw], [['10.0.0.3'], []]);
  const removed = diffConfigs(config({ extraPeer: true }), config());
  assert.deepEqual(planChanges(removed).peers, [{ instance: 'vr-65001', peer: '10.0.0.3', effect: 'session-reset' }]);
});

test('the effect table is data: one row per (scope, field), and it drives the diff', () => {
  const keys = EFFECT_TABLE.map((r) => `${r.scope}.${r.field}`);
  assert.equal(new Set(keys).size, keys.length);
  for (const r of EFFECT_TABLE) {
    assert.equal(effectOf(r.scope, r.field), r.effect);
    assert.ok(r.why.length > 0 && r.sources.length > 0);
  }
  assert.throws(() => effectOf('peer', 'no-such-field'));
  // The brief's promises, checked against the table itself.
  const e = (scope: 'instance' | 'peer' | 'advertisement', field: string) => effectOf(scope, field);
  assert.equal(e('peer', 'timers.holdTime'), 'session-reset');
  assert.equal(e('peer', 'peerAsn'), 'session-reset');
  assert.equal(e('peer', 'address'), 'session-reset');
  assert.equal(e('peer', 'md5Password'), 'session-reset');
  assert.equal(e('peer', 'ebgpMultihopTtl'), 'session-reset');
  assert.equal(e('peer', 'importPolicy'), 'soft-reset-in');
  assert.equal(e('peer', 'prefixLimit'), 'hot');
  assert.equal(e('advertisement', 'prefix'), 'hot');
  assert.equal(e('instance', 'routeInstall'), 'instance-restart');
  assert.equal(e('instance', 'routerId'), 'instance-restart');
  assert.equal(e('instance', 'localAsn'), 'instance-restart');
});
