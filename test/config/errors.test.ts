// Every validation error names the file, document, object, field path, line:column,
// what was expected and what was found. Expected positions are found by searching
// the YAML text for the offending key, independently of the locator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveTexts } from '../../src/config/config.js';
import { formatDiagnostic } from '../../src/config/diagnostics.js';
import type { Diagnostic } from '../../src/config/diagnostics.js';

const FILE = 'cluster.yaml';

function load(yaml: string, node = 'n1') {
  return resolveTexts([{ file: FILE, text: yaml }], node);
}

/** 1-based line and column of the `occurrence`-th appearance of `needle`. */
function positionOf(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let idx = -1;
  for (let i = 0; i < occurrence; i++) {
    idx = text.indexOf(needle, idx + 1);
    assert.ok(idx >= 0, `"${needle}" not in the test YAML`);
  }
  const before = text.slice(0, idx);
  const line = before.split('\n').length;
  return { line, column: idx - before.lastIndexOf('\n') };
}

interface Expect {
  readonly code: string;
  readonly path: string;
  readonly message: string;
  /** Text at the reported position (its first occurrence, or [text, n]). */
  readonly at: string | readonly [string, number];
  readonly document?: number;
  readonly object?: string;
}

function expectOneError(yaml: string, e: Expect, node?: string): Diagnostic {
  const r = load(yaml, node);
  assert.equal(r.config, undefined, 'a config with errors must not be returned');
  assert.equal(r.errors.length, 1, `exactly one error expected, got:\n${r.errors.map(formatDiagnostic).join('\n')}`);
  const d = r.errors[0]!;
  const [needle, n] = typeof e.at === 'string' ? [e.at, 1] : e.at;
  const pos = positionOf(yaml, needle, n);
  assert.equal(d.code, e.code);
  assert.equal(d.path, e.path);
  assert.equal(d.message, e.message);
  assert.equal(d.file, FILE);
  assert.equal(d.document, e.document ?? 1);
  if (e.object !== undefined) assert.equal(d.object, e.object);
  assert.deepEqual({ line: d.line, column: d.column }, pos);
  // The one-line form carries all of it.
  assert.equal(
    formatDiagnostic(d),
    `${FILE}:${pos.line}:${pos.column}: document ${e.document ?? 1}, ${d.object}: ${e.path}: ${e.message}`,
  );
  return d;
}

const NODE = `
---
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {rack: r0}
status:
  addresses: [{type: InternalIP, address: 10.0.0.10}]
`;

/** A valid v1 policy; `neighbor` lines are appended to the only neighbor, `vr` lines to the router. */
function policy(neighbor: string[] = [], vr: string[] = [], spec: string[] = []): string {
  return [
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata:',
    '  name: rack0',
    'spec:',
    ...spec.map((l) => `  ${l}`),
    '  virtualRouters:',
    '  - localASN: 65001',
    ...vr.map((l) => `    ${l}`),
    '    neighbors:',
    '    - peerAddress: 10.0.0.1/32',
    '      peerASN: 65000',
    ...neighbor.map((l) => `      ${l}`),
  ].join('\n') + NODE;
}

const N = 'spec.virtualRouters[0].neighbors[0]';
const VR = 'spec.virtualRouters[0]';
const OBJ = 'CiliumBGPPeeringPolicy/rack0';

test('the base policy used below is valid', () => {
  const r = load(policy());
  assert.deepEqual(r.errors, []);
  assert.equal(r.config?.instances.length, 1);
});

test('error: unknown field (a typo) with a suggestion', () => {
  // Cilium's own docs once had this typo; a silent default would hide it.
  expectOneError(policy(['connetRetryTimeSeconds: 90']), {
    code: 'UnknownField',
    path: `${N}.connetRetryTimeSeconds`,
    message: 'unknown field "connetRetryTimeSeconds"; did you mean "connectRetryTimeSeconds"?',
    at: 'connetRetryTimeSeconds',
    object: OBJ,
  });
});

test('error: hold time out of range', () => {
  expectOneError(policy(['holdTimeSeconds: 2']), {
    code: 'InvalidValue',
    path: `${N}.holdTimeSeconds`,
    message: 'expected 0 or a number of seconds from 3 to 65535, found 2',
    at: 'holdTimeSeconds',
  });
});

test('error: keepalive larger than the hold time', () => {
  expectOneError(policy(['holdTimeSeconds: 9', 'keepAliveTimeSeconds: 10']), {
    code: 'InvalidValue',
    path: `${N}.keepAliveTimeSeconds`,
    message: 'keepalive time (10) must not exceed the hold time holdTimeSeconds (9)',
    at: 'keepAliveTimeSeconds',
  });
});

test('error: keepalive larger than the default hold time', () => {
  expectOneError(policy(['keepAliveTimeSeconds: 100']), {
    code: 'InvalidValue',
    path: `${N}.keepAliveTimeSeconds`,
    message: 'keepalive time (100) must not exceed the hold time holdTimeSeconds (90)',
    at: 'keepAliveTimeSeconds',
  });
});

test('error: v1 peerAddress must be a /32 or /128', () => {
  const yaml = policy().replace('peerAddress: 10.0.0.1/32', 'peerAddress: 10.0.0.1');
  expectOneError(yaml, {
    code: 'InvalidValue',
    path: `${N}.peerAddress`,
    message: 'expected a host address in CIDR form, /32 for IPv4 or /128 for IPv6 (e.g. 10.0.0.1/32), found "10.0.0.1"',
    at: 'peerAddress',
  });
});

test('error: required field missing (peerASN)', () => {
  const yaml = policy().replace('      peerASN: 65000\n', '');
  expectOneError(yaml, {
    code: 'MissingField',
    path: `${N}.peerASN`,
    message: 'required field is missing (expected an ASN from 0 to 4294967295)',
    at: 'peerAddress', // the neighbor entry that lacks it
  });
});

test('error: local ASN 0 is reserved', () => {
  expectOneError(policy().replace('localASN: 65001', 'localASN: 0'), {
    code: 'InvalidValue',
    path: `${VR}.localASN`,
    message: 'expected an ASN from 1 to 4294967295 (not 23456, AS_TRANS), found 0',
    at: 'localASN',
  });
});

test('error: peer ASN beyond 32 bits', () => {
  expectOneError(policy().replace('peerASN: 65000', 'peerASN: 4294967296'), {
    code: 'InvalidValue',
    path: `${N}.peerASN`,
    message: 'expected an ASN from 0 to 4294967295, found 4294967296',
    at: 'peerASN',
  });
});

test('error: wrong type (string where an integer is expected)', () => {
  expectOneError(policy(['peerPort: "179"']), {
    code: 'InvalidValue',
    path: `${N}.peerPort`,
    message: 'expected a TCP port from 1 to 65535, found "179"',
    at: 'peerPort',
  });
});

test('error: eBGP multihop TTL 0', () => {
  expectOneError(policy(['eBGPMultihopTTL: 0']), {
    code: 'InvalidValue',
    path: `${N}.eBGPMultihopTTL`,
    message: 'expected a TTL from 1 to 255, found 0',
    at: 'eBGPMultihopTTL',
  });
});

test('error: graceful restart time above 4095', () => {
  expectOneError(policy(['gracefulRestart:', '  enabled: true', '  restartTimeSeconds: 5000']), {
    code: 'InvalidValue',
    path: `${N}.gracefulRestart.restartTimeSeconds`,
    message: 'expected a number of seconds from 1 to 4095, found 5000',
    at: 'restartTimeSeconds',
  });
});

test('error: prefix limit warning threshold above 100', () => {
  expectOneError(policy(['prefixLimit:', '  maxPrefixes: 100', '  warningThresholdPercent: 101']), {
    code: 'InvalidValue',
    path: `${N}.prefixLimit.warningThresholdPercent`,
    message: 'expected a percentage from 1 to 100, found 101',
    at: 'warningThresholdPercent',
  });
});

test('error: per-family prefix limit of zero', () => {
  expectOneError(policy(['families:', '- afi: ipv4', '  safi: unicast', '  prefixLimit: {maxPrefixes: 0}']), {
    code: 'InvalidValue',
    path: `${N}.families[0].prefixLimit.maxPrefixes`,
    message: 'expected an integer from 1 to 4294967295, found 0',
    at: 'maxPrefixes',
  });
});

test('error: import policy prefix with host bits set', () => {
  expectOneError(policy(['importPolicy:', '  rules:', '  - match:', '      prefixes: [{cidr: 10.1.2.0/16}]', '    action: Accept']), {
    code: 'InvalidValue',
    path: `${N}.importPolicy.rules[0].match.prefixes[0].cidr`,
    message: 'host bits must be zero: "10.1.2.0/16" is not a network prefix (did you mean 10.1.0.0/16?)',
    at: 'cidr',
  });
});

test('error: ge shorter than the prefix', () => {
  expectOneError(policy(['importPolicy:', '  rules:', '  - match:', '      prefixes:', '      - {cidr: 10.0.0.0/16, ge: 8}', '    action: Accept']), {
    code: 'InvalidValue',
    path: `${N}.importPolicy.rules[0].match.prefixes[0].ge`,
    message: 'ge must be between the prefix length 16 and 32, found 8',
    at: 'ge:',
  });
});

test('error: le beyond the address length', () => {
  expectOneError(policy(['importPolicy:', '  rules:', '  - match:', '      prefixes:', '      - {cidr: 10.0.0.0/16, le: 33}', '    action: Accept']), {
    code: 'InvalidValue',
    path: `${N}.importPolicy.rules[0].match.prefixes[0].le`,
    message: 'le must be between 16 (the prefix length) and 32, found 33',
    at: 'le:',
  });
});

test('error: set on a Reject rule', () => {
  expectOneError(policy(['importPolicy:', '  rules:', '  - action: Reject', '    set: {localPreference: 10}']), {
    code: 'InvalidValue',
    path: `${N}.importPolicy.rules[0].set`,
    message: 'set is only valid with action Accept (a rejected route is not kept)',
    at: 'set:',
  });
});

test('error: enum value with a near miss gets a suggestion', () => {
  expectOneError(policy(['families: [{afi: IPv4, safi: unicast}]']), {
    code: 'InvalidValue',
    path: `${N}.families[0].afi`,
    message: 'expected one of ipv4, ipv6, l2vpn, ls, opaque, found "IPv4"; did you mean "ipv4"?',
    at: 'afi',
  });
});

test('error: import policy action not Accept/Reject', () => {
  expectOneError(policy(['importPolicy: {defaultAction: Allow}']), {
    code: 'InvalidValue',
    path: `${N}.importPolicy.defaultAction`,
    message: 'expected one of Accept, Reject, found "Allow"',
    at: 'defaultAction',
  });
});

test('error: standard community out of range', () => {
  expectOneError(policy(['advertisedPathAttributes:', '- selectorType: PodCIDR', '  communities:', '    standard: ["65536:1"]']), {
    code: 'InvalidValue',
    path: `${N}.advertisedPathAttributes[0].communities.standard[0]`,
    message: 'expected a community as "<0-65535>:<0-65535>" or a 32-bit decimal, found "65536:1"',
    at: '"65536:1"',
  });
});

test('error: unknown well-known community name', () => {
  expectOneError(policy(['advertisedPathAttributes:', '- selectorType: PodCIDR', '  communities:', '    wellKnown: [no-exports]']), {
    code: 'InvalidValue',
    path: `${N}.advertisedPathAttributes[0].communities.wellKnown[0]`,
    message:
      'expected a well-known community (internet, planned-shut, accept-own, route-filter-translated-v4, route-filter-v4, route-filter-translated-v6, route-filter-v6, llgr-stale, no-llgr, blackhole, no-export, no-advertise, no-export-subconfed, no-peer), found "no-exports"',
    at: 'no-exports',
  });
});

test('error: malformed large community in an import rule', () => {
  expectOneError(policy(['importPolicy:', '  rules:', '  - match: {largeCommunities: ["65000:1"]}', '    action: Accept']), {
    code: 'InvalidValue',
    path: `${N}.importPolicy.rules[0].match.largeCommunities[0]`,
    message: 'expected a large community as "<u32>:<u32>:<u32>", found "65000:1"',
    at: '"65000:1"',
  });
});

test('error: route install protocol reserved by the kernel', () => {
  expectOneError(policy([], ['routeInstall: {protocol: 4}']), {
    code: 'InvalidValue',
    path: `${VR}.routeInstall.protocol`,
    message: 'protocol 4 (static) is reserved by the kernel; use 186 (bgp) or another value from 5 to 255 that no other daemon uses',
    at: 'protocol',
  });
});

test('error: route install maxPaths above 64', () => {
  expectOneError(policy([], ['routeInstall: {maxPaths: 65}']), {
    code: 'InvalidValue',
    path: `${VR}.routeInstall.maxPaths`,
    message: 'expected an integer from 1 to 64, found 65',
    at: 'maxPaths',
  });
});

test('error: route install into the local table', () => {
  expectOneError(policy([], ['routeInstall: {table: local}']), {
    code: 'InvalidValue',
    path: `${VR}.routeInstall.table`,
    message: 'expected a routing table id from 1 to 4294967295 except 255 (local), or "main" / "default", found "local"',
    at: 'table',
  });
});

test('error: empty neighbors list', () => {
  const yaml = policy().replace('    neighbors:\n    - peerAddress: 10.0.0.1/32\n      peerASN: 65000', '    neighbors: []');
  expectOneError(yaml, {
    code: 'InvalidValue',
    path: `${VR}.neighbors`,
    message: 'expected a list of at least 1 entry, found a list of 0',
    at: 'neighbors',
  });
});

test('error: duplicate neighbor address in one virtual router', () => {
  const yaml = policy().replace(
    '      peerASN: 65000',
    '      peerASN: 65000\n    - peerAddress: 10.0.0.1/32\n      peerASN: 65002',
  );
  expectOneError(yaml, {
    code: 'InvalidValue',
    path: 'spec.virtualRouters[0].neighbors[1].peerAddress',
    message: 'duplicate neighbor 10.0.0.1: already defined at neighbors[0]',
    at: ['peerAddress', 2],
  });
});

test('error: In selector without values', () => {
  expectOneError(policy([], [], ['nodeSelector:', '  matchExpressions:', '  - {key: rack, operator: In}']), {
    code: 'InvalidValue',
    path: 'spec.nodeSelector.matchExpressions[0].values',
    message: 'operator In needs a non-empty values list',
    at: '{key', // values is absent: the requirement itself
  });
});

test('error: unknown selector operator', () => {
  expectOneError(policy([], [], ['nodeSelector:', '  matchExpressions:', '  - {key: rack, operator: Equals, values: [a]}']), {
    code: 'InvalidValue',
    path: 'spec.nodeSelector.matchExpressions[0].operator',
    message: 'expected one of In, NotIn, Exists, DoesNotExist, found "Equals"',
    at: 'operator',
  });
});

test('error: label value that is not a string', () => {
  expectOneError(policy([], [], ['nodeSelector:', '  matchLabels: {rack: 0}']), {
    code: 'InvalidValue',
    path: 'spec.nodeSelector.matchLabels.rack',
    message: 'expected a label value (a string of at most 63 characters: alphanumerics, "-", "_", "."), found 0',
    at: 'rack: 0',
  });
});

test('error: wrong apiVersion for a known kind', () => {
  expectOneError(policy().replace('cilium.io/v2alpha1', 'cilium.io/v2'), {
    code: 'UnsupportedApiVersion',
    path: 'apiVersion',
    message: 'expected apiVersion cilium.io/v2alpha1 for kind CiliumBGPPeeringPolicy, found "cilium.io/v2"',
    at: 'apiVersion',
  });
});

test('error: unknown field in metadata, while API-server fields are accepted', () => {
  const yaml = policy().replace('  name: rack0', '  name: rack0\n  uid: 1234\n  resourceVersion: "77"\n  lables: {a: b}');
  expectOneError(yaml, {
    code: 'UnknownField',
    path: 'metadata.lables',
    message: 'unknown field "lables"; did you mean "labels"?',
    at: 'lables',
  });
});

test('error: v2 duplicate peer names, in the second document', () => {
  const yaml = `apiVersion: v1
kind: Node
metadata: {name: n1}
---
apiVersion: cilium.io/v2
kind: CiliumBGPClusterConfig
metadata:
  name: cc
spec:
  bgpInstances:
  - name: i1
    localASN: 65000
    peers:
    - {name: tor, peerAddress: 10.0.0.1, peerASN: 65001}
    - {name: tor, peerAddress: 10.0.0.2, peerASN: 65001}
`;
  expectOneError(yaml, {
    code: 'InvalidValue',
    path: 'spec.bgpInstances[0].peers[1].name',
    message: 'duplicate peer name "tor": already defined at peers[0]',
    at: ['name: tor', 2],
    document: 2,
    object: 'CiliumBGPClusterConfig/cc',
  });
});

test('error: v2 aggregation length above 31', () => {
  const yaml = `apiVersion: cilium.io/v2
kind: CiliumBGPAdvertisement
metadata: {name: adv}
spec:
  advertisements:
  - advertisementType: Service
    service:
      addresses: [LoadBalancerIP]
      aggregationLengthIPv4: 32
`;
  expectOneError(yaml, {
    code: 'InvalidValue',
    path: 'spec.advertisements[0].service.aggregationLengthIPv4',
    message: 'expected a prefix length from 0 to 31, found 32',
    at: 'aggregationLengthIPv4',
  });
});

test('error: v2 Service advertisement without service.addresses', () => {
  const yaml = `apiVersion: cilium.io/v2
kind: CiliumBGPAdvertisement
metadata: {name: adv}
spec:
  advertisements:
  - advertisementType: Service
`;
  expectOneError(yaml, {
    code: 'MissingField',
    path: 'spec.advertisements[0].service',
    message: "required field is missing (advertisementType 'Service' needs service.addresses)",
    at: 'advertisementType',
  });
});

test('error: invalid field inside an item of a List (kubectl dump)', () => {
  const yaml = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Node
  metadata: {name: a}
- apiVersion: v1
  kind: Node
  metadata: {name: b}
  spec:
    podCIDRs: [10.0.0.1/24]
`;
  const d = expectOneError(yaml, {
    code: 'InvalidValue',
    path: 'spec.podCIDRs[0]',
    message: 'host bits must be zero: "10.0.0.1/24" is not a network prefix (did you mean 10.0.0.0/24?)',
    at: '10.0.0.1/24',
    object: 'Node/b',
  }, 'a');
  assert.equal(d.object, 'Node/b');
});

test('error: Secret data that is not base64', () => {
  const yaml = policy() + `
---
apiVersion: v1
kind: Secret
metadata: {name: pw, namespace: kube-system}
data:
  password: "not base64!"
`;
  expectOneError(yaml, {
    code: 'InvalidValue',
    path: 'data.password',
    message: 'expected base64-encoded data, found "not base64!"',
    at: 'password:',
    document: 3,
    object: 'Secret/kube-system/pw',
  });
});

test('error: Service clusterIP that is not an address', () => {
  const yaml = policy() + `
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: 10.96.0.300
`;
  expectOneError(yaml, {
    code: 'InvalidValue',
    path: 'spec.clusterIP',
    message: 'expected an IP address, "None" or "", found "10.96.0.300"',
    at: 'clusterIP',
    document: 3,
    object: 'Service/default/web',
  });
});

test('error: the same object twice', () => {
  const yaml = policy() + '\n---\n' + policy().split('\n---\n')[0]!;
  expectOneError(yaml, {
    code: 'DuplicateObject',
    path: 'metadata.name',
    message: `CiliumBGPPeeringPolicy/rack0 is defined twice: already defined at ${FILE}:1 (document 1)`,
    at: ['name: rack0', 2],
    document: 3,
  });
});

test('error: malformed node annotation router-id', () => {
  const yaml = policy().replace('  labels: {rack: r0}', '  labels: {rack: r0}\n  annotations:\n    cilium.io/bgp-virtual-router.65001: "router-id=10.0.0.256"');
  expectOneError(yaml, {
    code: 'InvalidAnnotation',
    path: 'metadata.annotations["cilium.io/bgp-virtual-router.65001"]',
    message: 'router-id: expected an IPv4 address, found "10.0.0.256"',
    at: 'cilium.io/bgp-virtual-router.65001',
    document: 2,
    object: 'Node/n1',
  });
});

test('error: no router ID source at all', () => {
  const yaml = policy().replace('status:\n  addresses: [{type: InternalIP, address: 10.0.0.10}]', 'status:\n  addresses: [{type: InternalIP, address: "fd00::10"}]');
  expectOneError(yaml, {
    code: 'NoRouterId',
    path: `${VR}.localASN`,
    message:
      'no router ID for instance "vr-65001" on node "n1": set routerID in CiliumBGPNodeConfigOverride/n1, or annotate the Node with cilium.io/bgp-virtual-router.65001: "router-id=<IPv4>", or give it an IPv4 InternalIP address',
    at: 'localASN',
  });
});

test('error: YAML syntax, with its position', () => {
  const r = load('apiVersion: v1\nkind: Node\nmetadata: name: n1\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, name: n2}\n');
  assert.equal(r.config, undefined);
  assert.deepEqual(
    r.errors.map((d) => [d.code, d.file, d.document, d.line]),
    [
      ['YamlSyntax', FILE, 1, 3], // a nested mapping on one line
      ['YamlSyntax', FILE, 2, 7], // duplicate key
    ],
  );
  assert.match(r.errors[1]!.message, /unique/);
});

test('several errors in one file are all reported, in source order', () => {
  const r = load(policy(['holdTimeSeconds: 1', 'bogus: true', 'eBGPMultihopTTL: 300']));
  assert.deepEqual(
    r.errors.map((d) => [d.code, d.path]),
    [
      ['InvalidValue', `${N}.holdTimeSeconds`],
      ['UnknownField', `${N}.bogus`],
      ['InvalidValue', `${N}.eBGPMultihopTTL`],
    ],
  );
});

test('ttlSecurityHops: GTSM on a neighbour reaches the model; with a multihop TTL it is refused', () => {
  const ok = load(policy(['ttlSecurityHops: 2']));
  assert.deepEqual(ok.errors, []);
  assert.equal(ok.config?.instances[0]?.peers[0]?.ttlSecurityHops, 2);
  assert.equal(load(policy()).config?.instances[0]?.peers[0]?.ttlSecurityHops, undefined, 'off unless written');
  expectOneError(policy(['eBGPMultihopTTL: 3', 'ttlSecurityHops: 3']), {
    code: 'InvalidValue',
    path: `${N}.ttlSecurityHops`,
    message: 'ttlSecurityHops and eBGPMultihopTTL > 1 exclude each other (GTSM always sends with TTL 255); use ttlSecurityHops: 3 alone',
    at: 'ttlSecurityHops',
  });
  expectOneError(policy(['ttlSecurityHops: 255']), {
    code: 'InvalidValue',
    path: `${N}.ttlSecurityHops`,
    message: 'expected a hop count from 1 to 254, found 255',
    at: 'ttlSecurityHops',
  });
});

test('error: two instances installing into the same kernel key (table, protocol, metric)', () => {
  const two = (second: string[]) =>
    policy([], [], []).replace(
      '  virtualRouters:\n',
      ['  virtualRouters:', '  - localASN: 65002', ...second.map((l) => `    ${l}`), '    neighbors:', '    - peerAddress: 10.0.0.2/32', '      peerASN: 65000', ''].join('\n'),
    );
  const yaml = two([]);
  const r = load(yaml);
  assert.equal(r.config, undefined);
  assert.equal(r.errors.length, 1, r.errors.map(formatDiagnostic).join('\n'));
  const d = r.errors[0]!;
  assert.equal(d.code, 'RouteInstallConflict');
  assert.equal(d.path, 'spec.virtualRouters[1].routeInstall');
  assert.match(d.message, /instance "vr-65001" would install routes with the same table 254, protocol 186 and metric 20 as instance "vr-65002"/);
  // Another metric, or no installation, and both instances load.
  assert.deepEqual(load(two(['routeInstall: {metric: 30}'])).errors, []);
  assert.deepEqual(load(two(['routeInstall: {enabled: false}'])).errors, []);
});
