// Resolution semantics: node selection, v1/v2 precedence and conflicts, router-id
// sources in priority order, secrets, Service and pod CIDR advertisements with
// Cilium's path-attribute rules. Objects are handed over in memory, as the
// Kubernetes source will do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolve } from '../../src/config/config.js';
import type { Advertisement, Instance } from '../../src/config/model.js';

const NODE_NAME = 'n1';

function node(extra: { labels?: Record<string, string>; annotations?: Record<string, string>; addresses?: { type: string; address: string }[]; podCIDRs?: string[] } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE_NAME, labels: extra.labels ?? { rack: 'r0' }, annotations: extra.annotations ?? {} },
    spec: { podCIDRs: extra.podCIDRs ?? ['10.1.0.0/24', 'fd00:1::/64'] },
    status: { addresses: extra.addresses ?? [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '10.0.0.10' }] },
  };
}

function policy(name: string, nodeSelector: unknown, vr: Record<string, unknown> = {}, neighbor: Record<string, unknown> = {}) {
  return {
    apiVersion: 'cilium.io/v2alpha1',
    kind: 'CiliumBGPPeeringPolicy',
    metadata: { name },
    spec: {
      ...(nodeSelector === undefined ? {} : { nodeSelector }),
      virtualRouters: [{ localASN: 65001, neighbors: [{ peerAddress: '10.0.0.1/32', peerASN: 65000, ...neighbor }], ...vr }],
    },
  };
}

function clusterConfig(name: string, instances: { name: string; localASN?: number; peers?: unknown[] }[], nodeSelector?: unknown) {
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumBGPClusterConfig',
    metadata: { name },
    spec: { ...(nodeSelector === undefined ? {} : { nodeSelector }), bgpInstances: instances },
  };
}

function service(name: string, labels: Record<string, string>, spec: Record<string, unknown>, lbIps: string[] = [], namespace = 'default') {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels },
    spec,
    status: { loadBalancer: { ingress: lbIps.map((ip) => ({ ip })) } },
  };
}

const codes = (ds: readonly { code: string }[]) => ds.map((d) => d.code);
const only = (instances: readonly Instance[] | undefined): Instance => {
  assert.equal(instances?.length, 1);
  return instances[0]!;
};
const prefixes = (advs: readonly Advertisement[]) => advs.map((a) => a.prefix);

test('nodeSelector: absent and {} select every node; a non-matching selector does not', () => {
  for (const sel of [undefined, {}]) {
    const r = resolve([node(), policy('p', sel)], NODE_NAME);
    assert.equal(r.config?.api, 'v1', JSON.stringify(sel));
    assert.equal(r.config?.instances.length, 1);
  }
  const r = resolve([node(), policy('p', { matchLabels: { rack: 'r1' } })], NODE_NAME);
  assert.deepEqual(r.config, { nodeName: NODE_NAME, api: 'none', instances: [] });
  assert.deepEqual(codes(r.warnings), ['NoConfigForNode']);
});

test('several CiliumBGPPeeringPolicies select the node: none is applied (Cilium rule), and each is named', () => {
  const r = resolve(
    [node(), policy('a', { matchLabels: { rack: 'r0' } }), policy('b', {}), policy('c', { matchLabels: { rack: 'other' } })],
    NODE_NAME,
  );
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.config, { nodeName: NODE_NAME, api: 'none', instances: [] });
  assert.deepEqual(codes(r.warnings), ['ConflictingPeeringPolicies', 'ConflictingPeeringPolicies']);
  assert.deepEqual(r.warnings.map((w) => w.object), ['CiliumBGPPeeringPolicy/a', 'CiliumBGPPeeringPolicy/b']);
  assert.match(r.warnings[0]!.message, /2 CiliumBGPPeeringPolicies select node "n1" \(a, b\): none is applied/);
});

test('v1 and v2 both select the node: the v1 policy wins, the v2 config is reported as ignored', () => {
  const r = resolve(
    [node(), policy('p', {}), clusterConfig('cc', [{ name: 'i', localASN: 65010, peers: [{ name: 'x', peerAddress: '10.0.0.2' }] }])],
    NODE_NAME,
  );
  assert.equal(r.config?.api, 'v1');
  assert.equal(only(r.config?.instances).name, 'vr-65001');
  assert.deepEqual(codes(r.warnings), ['PeeringPolicyTakesPrecedence']);
  assert.equal(r.warnings[0]!.object, 'CiliumBGPClusterConfig/cc');
});

test('v2: instances of several ClusterConfigs merge; a name defined twice is a conflict and neither applies', () => {
  const r = resolve(
    [
      node(),
      clusterConfig('a', [{ name: 'shared', localASN: 65001 }, { name: 'only-a', localASN: 65002 }]),
      clusterConfig('b', [{ name: 'shared', localASN: 65003 }], { matchLabels: { rack: 'r0' } }),
      clusterConfig('c', [{ name: 'only-c', localASN: 65004 }], { matchLabels: { rack: 'nope' } }),
    ],
    NODE_NAME,
  );
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.config?.instances.map((i) => [i.name, i.localAsn, i.origin]), [['only-a', 65002, 'CiliumBGPClusterConfig/a']]);
  assert.deepEqual(codes(r.warnings), ['cilium.io/ConflictingClusterConfig', 'cilium.io/ConflictingClusterConfig']);
  assert.equal(r.warnings[0]!.path, 'spec.bgpInstances[0].name');
});

test('router ID: override, then annotation, then the first IPv4 InternalIP', () => {
  const ann = { 'cilium.io/bgp-virtual-router.65001': 'router-id=192.0.2.7, local-port=1790' };
  const override = {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumBGPNodeConfigOverride',
    metadata: { name: NODE_NAME },
    spec: { bgpInstances: [{ name: 'vr-65001', routerID: '198.51.100.1' }] },
  };
  const addresses = [
    { type: 'ExternalIP', address: '203.0.113.5' },
    { type: 'InternalIP', address: 'fd00::10' },
    { type: 'InternalIP', address: '10.0.0.10' },
    { type: 'InternalIP', address: '10.0.0.11' },
  ];
  const withAll = resolve([node({ annotations: ann, addresses }), policy('p', {}), override], NODE_NAME);
  assert.equal(only(withAll.config?.instances).routerId, '198.51.100.1');
  assert.equal(only(withAll.config?.instances).listenPort, 1790); // the annotation's local-port still applies

  const noOverride = resolve([node({ annotations: ann, addresses }), policy('p', {})], NODE_NAME);
  assert.equal(only(noOverride.config?.instances).routerId, '192.0.2.7');

  const onlyAddress = resolve([node({ addresses }), policy('p', {})], NODE_NAME);
  assert.equal(only(onlyAddress.config?.instances).routerId, '10.0.0.10'); // IPv6 and ExternalIP skipped
  assert.equal(only(onlyAddress.config?.instances).listenPort, undefined); // Cilium: no listener by default

  // The annotation is per local ASN: another ASN's annotation does not apply.
  const otherAsn = resolve([node({ annotations: { 'cilium.io/bgp-virtual-router.65999': 'router-id=192.0.2.9' }, addresses }), policy('p', {})], NODE_NAME);
  assert.equal(only(otherAsn.config?.instances).routerId, '10.0.0.10');

  // Last key wins; an unknown key is a warning.
  const dup = resolve([node({ annotations: { 'cilium.io/bgp-virtual-router.65001': 'router-id=192.0.2.1,router-id=192.0.2.2,color=blue' } }), policy('p', {})], NODE_NAME);
  assert.equal(only(dup.config?.instances).routerId, '192.0.2.2');
  assert.deepEqual(codes(dup.warnings), ['InvalidAnnotation']);
  assert.equal(dup.warnings[0]!.message, 'unknown key "color" ignored (known: router-id, local-port)');
});

test('v2 override: router id, local ASN, listen port and per-peer local address', () => {
  const r = resolve(
    [
      node(),
      clusterConfig('cc', [{ name: 'i1', peers: [{ name: 'tor', peerAddress: '10.0.0.1', peerASN: 65000 }] }]),
      {
        apiVersion: 'cilium.io/v2alpha1',
        kind: 'CiliumBGPNodeConfigOverride',
        metadata: { name: NODE_NAME },
        spec: { bgpInstances: [{ name: 'i1', routerID: '1.1.1.1', localASN: 65020, localPort: 1179, peers: [{ name: 'tor', localAddress: '10.0.0.10' }, { name: 'ghost' }] }, { name: 'i9' }] },
      },
    ],
    NODE_NAME,
  );
  assert.deepEqual(r.errors, []);
  const i = only(r.config?.instances);
  assert.deepEqual([i.routerId, i.localAsn, i.listenPort, i.peers[0]?.localAddress], ['1.1.1.1', 65020, 1179, '10.0.0.10']);
  assert.deepEqual(codes(r.warnings), ['UnknownOverridePeer', 'UnknownOverrideInstance']);
});

test('v2: a bgpInstance without localASN anywhere is an error', () => {
  const r = resolve([node(), clusterConfig('cc', [{ name: 'i1' }])], NODE_NAME);
  assert.equal(r.config, undefined);
  assert.deepEqual(r.errors.map((e) => [e.code, e.object, e.path]), [['MissingField', 'CiliumBGPClusterConfig/cc', 'spec.bgpInstances[0].localASN']]);
});

test('v2: peers without a PeerConfig use the defaults; a missing PeerConfig leaves the peer out', () => {
  const r = resolve(
    [
      node(),
      clusterConfig('cc', [{ name: 'i1', localASN: 65001, peers: [
        { name: 'plain', peerAddress: '10.0.0.1' },
        { name: 'missing', peerAddress: '10.0.0.2', peerConfigRef: { name: 'nope' } },
        { name: 'auto', autoDiscovery: { mode: 'DefaultGateway', defaultGateway: { addressFamily: 'ipv4' } } },
      ] }]),
    ],
    NODE_NAME,
  );
  assert.deepEqual(r.errors, []);
  const i = only(r.config?.instances);
  assert.deepEqual(i.peers.map((p) => p.name), ['plain']);
  const p = i.peers[0]!;
  assert.deepEqual(
    [p.peerAsn, p.port, p.ebgpMultihopTtl, p.timers, p.gracefulRestart, p.families.map((f) => f.afi), p.importPolicy, i.advertisements],
    [0, 179, 1, { connectRetry: 120, holdTime: 90, keepalive: 30 }, { enabled: false, restartTime: 120 }, ['ipv4', 'ipv6'], undefined, []],
  );
  assert.deepEqual(codes(r.warnings), ['cilium.io/MissingPeerConfigs', 'UnsupportedAutoDiscovery']);
});

test('MD5 secret: looked up in the secret namespace (configurable); stringData wins; missing = warning, no password', () => {
  const secret = (ns: string, body: Record<string, unknown>) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pw', namespace: ns }, ...body });
  const pol = policy('p', {}, {}, { authSecretRef: 'pw' });
  const inKs = resolve([node(), pol, secret('kube-system', { data: { password: Buffer.from('abc').toString('base64') } })], NODE_NAME);
  assert.equal(only(inKs.config?.instances).peers[0]?.md5Password?.reveal(), 'abc');

  const both = resolve([node(), pol, secret('kube-system', { data: { password: Buffer.from('old').toString('base64') }, stringData: { password: 'new' } })], NODE_NAME);
  assert.equal(only(both.config?.instances).peers[0]?.md5Password?.reveal(), 'new');

  const elsewhere = [node(), pol, secret('bgp', { stringData: { password: 'xyz' } })];
  const wrongNs = resolve(elsewhere, NODE_NAME);
  assert.equal(only(wrongNs.config?.instances).peers[0]?.md5Password, undefined);
  assert.deepEqual(codes(wrongNs.warnings), ['cilium.io/MissingAuthSecret']);
  assert.match(wrongNs.warnings[0]!.message, /^Secret kube-system\/pw not found/);
  assert.equal(wrongNs.warnings[0]!.path, 'spec.virtualRouters[0].neighbors[0].authSecretRef');

  const configured = resolve(elsewhere, NODE_NAME, { secretNamespace: 'bgp' });
  assert.equal(only(configured.config?.instances).peers[0]?.md5Password?.reveal(), 'xyz');

  const noKey = resolve([node(), pol, secret('kube-system', { stringData: { pass: 'x' } })], NODE_NAME);
  assert.equal(only(noKey.config?.instances).peers[0]?.md5Password, undefined);
  assert.match(noKey.warnings[0]!.message, /has no "password" key/);
});

test('v1 services: selector required; LB class; ClusterIP None skipped; per-family delivery', () => {
  const objs = [
    node(),
    policy('p', {}, { serviceSelector: { matchLabels: { bgp: 'yes' } }, serviceAdvertisements: ['LoadBalancerIP', 'ClusterIP', 'ExternalIP'] },
      { families: [{ afi: 'ipv4', safi: 'unicast' }] }),
    service('lb', { bgp: 'yes' }, { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10', 'fd00:96::a'] }, ['172.16.0.1', '2001:db8::1']),
    service('cilium-class', { bgp: 'yes' }, { type: 'LoadBalancer', loadBalancerClass: 'io.cilium/bgp-control-plane', clusterIP: 'None' }, ['172.16.0.2']),
    service('other-class', { bgp: 'yes' }, { type: 'LoadBalancer', loadBalancerClass: 'metallb', clusterIP: 'None' }, ['172.16.0.3']),
    service('not-lb', { bgp: 'yes' }, { type: 'ClusterIP', clusterIP: '', externalIPs: ['198.51.100.9'] }, ['172.16.0.4']),
    service('unlabelled', {}, { type: 'LoadBalancer', clusterIP: '10.96.0.99' }, ['172.16.0.5']),
  ];
  const r = resolve(objs, NODE_NAME);
  assert.deepEqual(r.errors, []);
  const i = only(r.config?.instances);
  // ipv4 only: the peer has just that family. not-lb's ingress IP is ignored (not type LoadBalancer).
  assert.deepEqual(prefixes(i.advertisements), ['10.96.0.10/32', '172.16.0.1/32', '172.16.0.2/32', '198.51.100.9/32']);
  assert.deepEqual(i.advertisements.map((a) => a.origins), [
    ['Service/default/lb ClusterIP'], ['Service/default/lb LoadBalancerIP'], ['Service/default/cilium-class LoadBalancerIP'], ['Service/default/not-lb ExternalIP'],
  ]);
  // Without a serviceSelector no Service is advertised (Cilium: absent = none).
  const none = resolve([node(), policy('p', {}, { serviceAdvertisements: ['ClusterIP'] }), objs[2]!], NODE_NAME);
  assert.deepEqual(only(none.config?.instances).advertisements, []);
});

test('v1 services: default serviceAdvertisements is LoadBalancerIP; Cilium name/namespace selector keys', () => {
  const r = resolve(
    [
      node(),
      policy('p', {}, { serviceSelector: { matchExpressions: [{ key: 'io.kubernetes.service.namespace', operator: 'In', values: ['shop'] }] } }),
      service('web', {}, { type: 'LoadBalancer', clusterIP: '10.96.0.10' }, ['172.16.0.1'], 'shop'),
      service('web', {}, { type: 'LoadBalancer', clusterIP: '10.96.0.11' }, ['172.16.0.9'], 'default'),
    ],
    NODE_NAME,
  );
  assert.deepEqual(prefixes(only(r.config?.instances).advertisements), ['172.16.0.1/32']);
});

test('v1 pod CIDRs and path attributes: PodCIDR selector on node labels, LB pools, union/max on overlap, IPv6 only to IPv6-capable peers', () => {
  const pool = (name: string, labels: Record<string, string>, cidr: string) => ({
    apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumLoadBalancerIPPool', metadata: { name, labels }, spec: { blocks: [{ cidr }] },
  });
  const r = resolve(
    [
      node(),
      {
        apiVersion: 'cilium.io/v2alpha1',
        kind: 'CiliumBGPPeeringPolicy',
        metadata: { name: 'p' },
        spec: {
          virtualRouters: [{
            localASN: 65001,
            exportPodCIDR: true,
            serviceSelector: {},
            neighbors: [
              {
                peerAddress: '10.0.0.1/32', peerASN: 65001,
                advertisedPathAttributes: [
                  { selectorType: 'PodCIDR', localPreference: 150, communities: { standard: ['65001:1'] } },
                  { selectorType: 'PodCIDR', selector: { matchLabels: { rack: 'r0' } }, localPreference: 120, communities: { wellKnown: ['no-export'], standard: ['65001:1'] } },
                  { selectorType: 'PodCIDR', selector: { matchLabels: { rack: 'r9' } }, localPreference: 500 },
                  { selectorType: 'CiliumLoadBalancerIPPool', selector: { matchLabels: { env: 'prod' } }, communities: { large: ['65001:7:7'] } },
                ],
              },
              { peerAddress: '10.0.0.2/32', peerASN: 65002, families: [{ afi: 'ipv4', safi: 'unicast' }] },
            ],
          }],
        },
      },
      pool('prod', { env: 'prod' }, '172.16.0.0/24'),
      pool('dev', { env: 'dev' }, '172.16.1.0/24'),
      service('a', {}, { type: 'LoadBalancer' }, ['172.16.0.1']),
      service('b', {}, { type: 'LoadBalancer' }, ['172.16.1.1']),
    ],
    NODE_NAME,
  );
  assert.deepEqual(r.errors, []);
  const i = only(r.config?.instances);
  const rows = i.advertisements.map((a) => [a.prefix, a.communities, a.largeCommunities, a.localPreference, a.peers]);
  // Same prefix, different attributes per peer: one entry each (the attribute-less one sorts first).
  assert.deepEqual(rows, [
    ['10.1.0.0/24', [], [], undefined, ['10.0.0.2']],
    ['10.1.0.0/24', [65001 * 65536 + 1, 0xffffff01], [], 150, ['10.0.0.1']],
    ['172.16.0.1/32', [], [], undefined, ['10.0.0.2']],
    ['172.16.0.1/32', [], [[65001, 7, 7]], undefined, ['10.0.0.1']],
    ['172.16.1.1/32', [], [], undefined, ['10.0.0.1', '10.0.0.2']],
    ['fd00:1::/64', [65001 * 65536 + 1, 0xffffff01], [], 150, ['10.0.0.1']], // not to the ipv4-only peer
  ]);
});

test('v2: families select advertisements by label; aggregation; Local traffic policy keeps host routes', () => {
  const r = resolve(
    [
      node(),
      clusterConfig('cc', [{ name: 'i1', localASN: 65001, peers: [{ name: 'tor', peerAddress: '10.0.0.1', peerASN: 65000, peerConfigRef: { name: 'pc' } }] }]),
      {
        apiVersion: 'cilium.io/v2', kind: 'CiliumBGPPeerConfig', metadata: { name: 'pc' },
        spec: { families: [
          { afi: 'ipv4', safi: 'unicast', advertisements: { matchLabels: { adv: 'v4' } } },
          { afi: 'ipv6', safi: 'unicast' }, // no selector: nothing for IPv6
          { afi: 'l2vpn', safi: 'evpn' },
        ] },
      },
      {
        apiVersion: 'cilium.io/v2', kind: 'CiliumBGPAdvertisement', metadata: { name: 'a', labels: { adv: 'v4' } },
        spec: { advertisements: [
          { advertisementType: 'PodCIDR', attributes: { localPreference: 10 } },
          { advertisementType: 'Service', service: { addresses: ['LoadBalancerIP', 'ExternalIP'], aggregationLengthIPv4: 16 }, selector: {} },
          { advertisementType: 'Service', service: { addresses: ['ClusterIP'] } }, // no selector: no Service
          { advertisementType: 'CiliumPodIPPool', selector: {} },
        ] },
      },
      {
        apiVersion: 'cilium.io/v2', kind: 'CiliumBGPAdvertisement', metadata: { name: 'b', labels: { adv: 'v4' } },
        spec: { advertisements: [{ advertisementType: 'PodCIDR', attributes: { localPreference: 30, communities: { standard: ['1:1'] } } }] },
      },
      service('cluster', {}, { type: 'LoadBalancer', clusterIP: '10.96.0.1', externalIPs: ['198.51.100.7'] }, ['172.16.4.1']),
      service('local', {}, { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }, ['172.16.9.9']),
    ],
    NODE_NAME,
  );
  assert.deepEqual(r.errors, []);
  const i = only(r.config?.instances);
  assert.deepEqual(i.peers[0]?.families.map((f) => f.afi), ['ipv4', 'ipv6']);
  assert.deepEqual(i.advertisements.map((a) => [a.prefix, a.localPreference, a.communities]), [
    ['10.1.0.0/24', 30, [65537]], // overlap: highest LOCAL_PREF, union of communities
    ['172.16.0.0/16', undefined, []],
    ['172.16.9.9/32', undefined, []], // Local: not aggregated
    ['198.51.0.0/16', undefined, []],
  ]);
  assert.deepEqual(codes(r.warnings).sort(), ['TrafficPolicyLocalNotEvaluated', 'UnsupportedAdvertisement', 'UnsupportedFamily']);
});

test('unset keepalive: 30 s when the hold time allows, else a third of it', () => {
  const keepalive = (hold: number) => only(resolve([node(), policy('p', {}, {}, { holdTimeSeconds: hold })], NODE_NAME).config?.instances).peers[0]?.timers.keepalive;
  assert.deepEqual([90, 30, 29, 9, 3].map(keepalive), [30, 30, 9, 3, 1]);
});

test('hold time 0 means no keepalives; unknown Node is a warning, not an error', () => {
  const r = resolve([policy('p', {}, {}, { holdTimeSeconds: 0 }), { apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumBGPNodeConfigOverride', metadata: { name: NODE_NAME }, spec: { bgpInstances: [{ name: 'vr-65001', routerID: '10.9.9.9' }] } }], NODE_NAME);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(only(r.config?.instances).peers[0]?.timers, { connectRetry: 120, holdTime: 0, keepalive: 0 });
  assert.deepEqual(codes(r.warnings), ['NodeNotFound']);
});
