// Golden tests: manifests as operators write them → the exact normalised NodeConfig.
// The expected objects were derived by hand from Cilium's documented defaults and
// semantics (REFERENCE.md), not from running the code.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolve } from '../../src/config/config.js';
import { loadConfig, readConfigInputs } from '../../src/config/load.js';
import type { Advertisement, ImportPolicy, NodeConfig, Peer, PrefixLimit } from '../../src/config/model.js';
import { SecretValue, toPlainJSON } from '../../src/config/model.js';

// dist/test/config → the source tree's fixtures.
const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '../../../test/fixtures/config');

const c = (hi: number, lo: number) => hi * 65536 + lo;

test('classic Cilium demo policy (v1) → one virtual router peering with gobgpd, pod CIDR advertised', async () => {
  const r = await loadConfig([join(FIXTURES, 'cilium-demo')], 'cilium-bgp-cluster-worker');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(
    r.warnings.map((w) => [w.code, w.object, w.line]),
    [['UnknownKind', 'ConfigMap/kube-proxy', 65]],
  );
  const peer: Peer = {
    name: '172.18.0.5',
    address: '172.18.0.5',
    afi: 'ipv4',
    port: 179,
    peerAsn: 65000,
    localAddress: undefined,
    authSecretRef: undefined,
    md5Password: undefined,
    ebgpMultihopTtl: 1,
    timers: { connectRetry: 120, holdTime: 90, keepalive: 30 },
    gracefulRestart: { enabled: false, restartTime: 120 },
    families: [
      { afi: 'ipv4', safi: 'unicast', prefixLimit: undefined },
      { afi: 'ipv6', safi: 'unicast', prefixLimit: undefined },
    ],
    importPolicy: undefined,
    prefixLimit: undefined,
  };
  const expected: NodeConfig = {
    nodeName: 'cilium-bgp-cluster-worker',
    api: 'v1',
    instances: [
      {
        name: 'vr-65001',
        localAsn: 65001,
        routerId: '172.18.0.2', // the worker's InternalIP
        listenPort: undefined, // Cilium v1 does not listen unless annotated
        routeInstall: { enabled: true, table: 254, metric: 20, protocol: 186, maxPaths: 1 },
        alwaysCompareMed: false,
        peers: [peer],
        advertisements: [
          {
            prefix: '10.244.1.0/24',
            afi: 'ipv4',
            safi: 'unicast',
            source: 'PodCIDR',
            origins: ['Node/cilium-bgp-cluster-worker podCIDR'],
            communities: [],
            largeCommunities: [],
            localPreference: undefined,
            peers: ['172.18.0.5'],
          },
        ],
        origin: 'CiliumBGPPeeringPolicy/01-bgp-peering-policy',
      },
    ],
  };
  assert.deepEqual(r.config, expected);

  // The control-plane node gets its own pod CIDR and router id from the same files.
  const cp = await loadConfig([join(FIXTURES, 'cilium-demo')], 'cilium-bgp-cluster-control-plane');
  assert.equal(cp.config?.instances[0]?.routerId, '172.18.0.3');
  assert.deepEqual(cp.config?.instances[0]?.advertisements.map((a) => a.prefix), ['10.244.0.0/24']);
});

test('BGPv2 ClusterConfig + PeerConfig + Advertisements + Override + Node + Services + Secret', async () => {
  const r = await loadConfig([join(FIXTURES, 'bgpv2')], 'worker-1');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  const v4Limit: PrefixLimit = { maxPrefixes: 1000, warningThresholdPercent: 75, restartTimerSeconds: 0 };
  const peerLimit: PrefixLimit = { maxPrefixes: 500, warningThresholdPercent: 90, restartTimerSeconds: 60 };
  const importPolicy: ImportPolicy = {
    defaultAction: 'Reject',
    allowDefaultRoute: false,
    softReconfiguration: false,
    rules: [
      {
        name: 'fabric',
        match: {
          prefixes: [{ cidr: '10.128.0.0/9', afi: 'ipv4', length: 9, ge: 9, le: 24 }],
          communities: [c(65000, 100), 0xffffff01],
          largeCommunities: undefined,
          asPathContains: undefined,
          asPathOriginatedBy: undefined,
        },
        action: 'Accept',
        set: { localPreference: 200, addCommunities: [c(65000, 999)], addLargeCommunities: [] },
      },
      {
        name: 'rule-1',
        match: {
          prefixes: undefined,
          communities: undefined,
          largeCommunities: undefined,
          asPathContains: undefined,
          asPathOriginatedBy: [64666],
        },
        action: 'Reject',
        set: { localPreference: undefined, addCommunities: [], addLargeCommunities: [] },
      },
    ],
  };
  const common = {
    port: 179,
    authSecretRef: 'bgp-auth-secret',
    ebgpMultihopTtl: 4,
    timers: { connectRetry: 120, holdTime: 9, keepalive: 3 },
    gracefulRestart: { enabled: true, restartTime: 15 },
    families: [
      { afi: 'ipv4', safi: 'unicast', prefixLimit: v4Limit },
      { afi: 'ipv6', safi: 'unicast', prefixLimit: peerLimit }, // inherits the peer-level limit
    ],
    importPolicy,
    prefixLimit: peerLimit,
  } as const;
  const instance = r.config!.instances[0]!;
  const [tor1, tor2] = instance.peers;
  // Passwords are compared by content, outside deepEqual (private field).
  assert.equal(tor1?.md5Password?.reveal(), 's3cr3t-pass');
  assert.equal(tor2?.md5Password?.reveal(), 's3cr3t-pass');
  const both = ['peer-65000-tor1', 'peer-65100-tor2'];
  const podAttrs = { communities: [c(65000, 99)], largeCommunities: [], localPreference: 99 };
  const svcAttrs = { communities: [0xffffff01], largeCommunities: [[65000, 1, 2]] as const, localPreference: undefined };
  const advertisements: Advertisement[] = [
    { prefix: '10.1.0.0/24', afi: 'ipv4', safi: 'unicast', source: 'PodCIDR', origins: ['Node/worker-1 podCIDR'], ...podAttrs, peers: both },
    {
      // ClusterIPs of web and other-lb, aggregated to /24 (other-lb's LB IP is excluded by its class).
      prefix: '10.96.12.0/24', afi: 'ipv4', safi: 'unicast', source: 'Service',
      origins: ['Service/shop/other-lb ClusterIP', 'Service/shop/web ClusterIP'], ...svcAttrs, peers: both,
    },
    { prefix: '172.16.5.0/24', afi: 'ipv4', safi: 'unicast', source: 'Service', origins: ['Service/shop/web LoadBalancerIP'], ...svcAttrs, peers: both },
    { prefix: 'fd00:1::/64', afi: 'ipv6', safi: 'unicast', source: 'PodCIDR', origins: ['Node/worker-1 podCIDR'], ...podAttrs, peers: both },
  ];
  const expected: NodeConfig = {
    nodeName: 'worker-1',
    api: 'v2',
    instances: [
      {
        name: 'instance-65000',
        localAsn: 65000,
        routerId: '192.168.10.1', // from the override, not the InternalIP 10.0.2.10
        listenPort: 179,
        routeInstall: { enabled: true, table: 254, metric: 30, protocol: 186, maxPaths: 2 },
        alwaysCompareMed: false,
        peers: [
          { name: 'peer-65000-tor1', address: 'fd00:10::1', afi: 'ipv6', peerAsn: 65000, localAddress: 'fd00:10::2', md5Password: tor1!.md5Password, ...common },
          { name: 'peer-65100-tor2', address: '10.0.2.1', afi: 'ipv4', peerAsn: 65100, localAddress: undefined, md5Password: tor2!.md5Password, ...common },
        ],
        advertisements,
        origin: 'CiliumBGPClusterConfig/cilium-bgp',
      },
    ],
  };
  assert.deepEqual(r.config, expected);
});

test('the password never appears in JSON, inspect or string output', async () => {
  const r = await loadConfig([join(FIXTURES, 'bgpv2')], 'worker-1');
  const json = JSON.stringify(r.config);
  assert.ok(!json.includes('s3cr3t'));
  assert.ok(json.includes('"md5Password":"<redacted>"'));
  const { inspect } = await import('node:util');
  assert.ok(!inspect(r.config, { depth: 20 }).includes('s3cr3t'));
  const s = new SecretValue('hunter2');
  assert.equal(`${s}`, '<redacted>');
  assert.equal(s.reveal(), 'hunter2');
  const plain = toPlainJSON(r.config!) as { instances: { peers: { md5Password: unknown }[] }[] };
  assert.equal(plain.instances[0]!.peers[0]!.md5Password, '<redacted>');
});

test('a node the v2 config does not select gets no instance (and says why)', async () => {
  const r = await loadConfig([join(FIXTURES, 'bgpv2')], 'some-other-node');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.config, { nodeName: 'some-other-node', api: 'none', instances: [] });
  assert.deepEqual(r.warnings.map((w) => w.code), ['NodeNotFound', 'NoConfigForNode']);
});

test('route learning on a node in two routing domains (v1 + tsbgp extension fields)', async () => {
  const r = await loadConfig([join(FIXTURES, 'route-learning', 'policy.yaml')], 'edge-1');
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  const instance = r.config!.instances[0]!;
  const [a, b] = instance.peers;
  assert.equal(a?.md5Password?.reveal(), 'bird-secret');
  const aLimit: PrefixLimit = { maxPrefixes: 10000, warningThresholdPercent: 75, restartTimerSeconds: 0 };
  const expected: NodeConfig = {
    nodeName: 'edge-1',
    api: 'v1',
    instances: [
      {
        name: 'vr-65001',
        localAsn: 65001,
        routerId: '10.255.0.1', // the annotation beats the InternalIPs
        listenPort: 1790,
        routeInstall: { enabled: true, table: 254, metric: 50, protocol: 186, maxPaths: 4 },
        alwaysCompareMed: true,
        peers: [
          {
            name: '10.10.0.1',
            address: '10.10.0.1',
            afi: 'ipv4',
            port: 179,
            peerAsn: 65010,
            localAddress: undefined,
            authSecretRef: 'domain-a',
            md5Password: a!.md5Password,
            ebgpMultihopTtl: 1,
            timers: { connectRetry: 5, holdTime: 9, keepalive: 3 },
            gracefulRestart: { enabled: false, restartTime: 120 },
            families: [{ afi: 'ipv4', safi: 'unicast', prefixLimit: aLimit }],
            importPolicy: {
              defaultAction: 'Reject',
              allowDefaultRoute: false,
              softReconfiguration: false,
              rules: [
                {
                  name: 'domain-a-prefixes',
                  // "ge" alone: from 24 up to the longest prefix.
                  match: { prefixes: [{ cidr: '192.168.0.0/16', afi: 'ipv4', length: 16, ge: 24, le: 32 }], communities: undefined, largeCommunities: undefined, asPathContains: undefined, asPathOriginatedBy: undefined },
                  action: 'Accept',
                  set: { localPreference: undefined, addCommunities: [], addLargeCommunities: [] },
                },
              ],
            },
            prefixLimit: aLimit,
          },
          {
            name: '10.20.0.1',
            address: '10.20.0.1',
            afi: 'ipv4',
            port: 179,
            peerAsn: 65020,
            localAddress: undefined,
            authSecretRef: undefined,
            md5Password: undefined,
            ebgpMultihopTtl: 2,
            timers: { connectRetry: 120, holdTime: 90, keepalive: 30 },
            gracefulRestart: { enabled: true, restartTime: 120 },
            families: [
              { afi: 'ipv4', safi: 'unicast', prefixLimit: { maxPrefixes: 100, warningThresholdPercent: 50, restartTimerSeconds: 30 } },
              { afi: 'ipv6', safi: 'unicast', prefixLimit: undefined },
            ],
            importPolicy: {
              defaultAction: 'Accept',
              allowDefaultRoute: true,
              softReconfiguration: false,
              rules: [
                {
                  name: 'rule-0',
                  match: { prefixes: undefined, communities: [0xffffff01], largeCommunities: undefined, asPathContains: undefined, asPathOriginatedBy: undefined },
                  action: 'Reject',
                  set: { localPreference: undefined, addCommunities: [], addLargeCommunities: [] },
                },
                {
                  name: 'rule-1',
                  // "le" alone: from the prefix length up to 48.
                  match: { prefixes: [{ cidr: '2001:db8::/32', afi: 'ipv6', length: 32, ge: 32, le: 48 }], communities: undefined, largeCommunities: undefined, asPathContains: [64666, 64667], asPathOriginatedBy: undefined },
                  action: 'Accept',
                  set: { localPreference: 50, addCommunities: [], addLargeCommunities: [[65001, 1, 1], [65001, 2, 2]] },
                },
              ],
            },
            prefixLimit: undefined,
          },
        ],
        advertisements: [
          // Unquoted `64512:150` in YAML is the community, not a base-60 number.
          { prefix: '10.42.0.0/24', afi: 'ipv4', safi: 'unicast', source: 'PodCIDR', origins: ['Node/edge-1 podCIDR'], communities: [], largeCommunities: [], localPreference: undefined, peers: ['10.20.0.1'] },
          { prefix: '10.42.0.0/24', afi: 'ipv4', safi: 'unicast', source: 'PodCIDR', origins: ['Node/edge-1 podCIDR'], communities: [c(64512, 150)], largeCommunities: [], localPreference: undefined, peers: ['10.10.0.1'] },
          { prefix: '203.0.113.10/32', afi: 'ipv4', safi: 'unicast', source: 'Service', origins: ['Service/edge/ingress LoadBalancerIP'], communities: [], largeCommunities: [], localPreference: undefined, peers: ['10.20.0.1'] },
          { prefix: '203.0.113.10/32', afi: 'ipv4', safi: 'unicast', source: 'Service', origins: ['Service/edge/ingress LoadBalancerIP'], communities: [c(64512, 100)], largeCommunities: [[64512, 1, 1]], localPreference: undefined, peers: ['10.10.0.1'] },
        ],
        origin: 'CiliumBGPPeeringPolicy/two-domains',
      },
    ],
  };
  assert.equal(b?.md5Password, undefined);
  assert.deepEqual(r.config, expected);
});

test('the same manifests handed over in memory (Kubernetes mode) resolve to the same config', async () => {
  for (const [dir, nodeName] of [['bgpv2', 'worker-1'], ['cilium-demo', 'cilium-bgp-cluster-worker'], ['route-learning', 'edge-1']] as const) {
    const fromFiles = await loadConfig([join(FIXTURES, dir)], nodeName);
    const read = await readConfigInputs([join(FIXTURES, dir)]);
    // Through JSON, as objects arrive from the API server.
    const inMemory = resolve(read.inputs.map((i) => JSON.parse(JSON.stringify(i.value)) as unknown), nodeName);
    assert.deepEqual(inMemory.config, fromFiles.config, dir);
    assert.deepEqual(inMemory.warnings.map((w) => [w.code, w.object, w.path]), fromFiles.warnings.map((w) => [w.code, w.object, w.path]));
    // SecretValue compares by content only through reveal().
    const pw = (cfg: NodeConfig | undefined) => cfg?.instances.flatMap((i) => i.peers.map((p) => p.md5Password?.reveal()));
    assert.deepEqual(pw(inMemory.config), pw(fromFiles.config));
  }
});
