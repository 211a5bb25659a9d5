// CustomResourceDefinitions with structural schemas, generated from this table so
// deploy/crds/*.yaml and the zod schemas (src/config/schema/) stay in step (a test
// compares the files with this output and validates every example against them).
//
// Two sets:
// - tsbgp.io: the extension kinds (route-learning fields for Cilium objects named by
//   reference) and BGPNodeStatus. Always installed.
// - cilium.io: tsbgp's versions of the Cilium BGP kinds *with* the extension fields
//   inline, for clusters where Cilium's BGP control plane is off and its BGP CRDs are
//   not installed. Never install them over Cilium's own CRDs.
//
// Value checks stay with the zod schemas (tsbgp reports them with the object's name);
// the CRD schemas fix the structure (fields and types, so nothing is pruned) and the
// enums and ranges that are cheap to state.
import { TSBGP_GROUP, TSBGP_VERSION } from './resources.js';

type Schema = Record<string, unknown>;

const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
const int = (minimum?: number, maximum?: number): Schema => ({
  type: 'integer', format: 'int64', ...(minimum !== undefined ? { minimum } : {}), ...(maximum !== undefined ? { maximum } : {}),
});
const bool = (): Schema => ({ type: 'boolean' });
const arr = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const obj = (properties: Record<string, Schema>, required: readonly string[] = [], extra: Schema = {}): Schema => ({
  type: 'object', properties, ...(required.length > 0 ? { required: [...required] } : {}), ...extra,
});
const enumOf = (values: readonly string[]): Schema => ({ type: 'string', enum: [...values] });
const intOrString = (): Schema => ({ 'x-kubernetes-int-or-string': true });
const stringMap = (): Schema => ({ type: 'object', additionalProperties: { type: 'string' } });
const anything = (): Schema => ({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });

const U32 = 4294967295;
const AFIS = ['ipv4', 'ipv6', 'l2vpn', 'ls', 'opaque'];
const SAFIS = ['unicast', 'multicast', 'mpls_label', 'encapsulation', 'vpls', 'evpn', 'ls', 'sr_policy', 'mup', 'mpls_vpn', 'mpls_vpn_multicast', 'route_target_constraints', 'flowspec_unicast', 'flowspec_vpn', 'key_value'];
const SERVICE_ADDRESSES = ['LoadBalancerIP', 'ClusterIP', 'ExternalIP'];

const labelSelector = (): Schema =>
  obj({
    matchLabels: stringMap(),
    matchExpressions: arr(obj({ key: str(), operator: enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist']), values: arr(str()) }, ['key', 'operator'])),
  }, [], { 'x-kubernetes-map-type': 'atomic' });

const communities = (): Schema =>
  obj({
    standard: arr(str({ pattern: '^([0-9]|[1-9][0-9]{1,9}|[0-9]{1,5}:[0-9]{1,5})$' })),
    wellKnown: arr(str()),
    large: arr(str({ pattern: '^([0-9]{1,10}):([0-9]{1,10}):([0-9]{1,10})$' })),
  });

const gracefulRestart = (): Schema => obj({ enabled: bool(), restartTimeSeconds: int(1, 4095) }, ['enabled']);

// ---- tsbgp extension fields (src/config/schema/extensions.ts) ----

export const prefixLimitSchema = (): Schema =>
  obj({ maxPrefixes: int(1, U32), warningThresholdPercent: int(1, 100), restartTimerSeconds: int(0, 2147483) }, ['maxPrefixes']);

const community = (): Schema => intOrString();

export const importPolicySchema = (): Schema =>
  obj({
    defaultAction: enumOf(['Accept', 'Reject']),
    allowDefaultRoute: bool(),
    softReconfiguration: bool(),
    rules: arr(
      obj({
        name: str(),
        match: obj({
          prefixes: arr(obj({ cidr: str(), ge: int(0, 128), le: int(0, 128) }, ['cidr']), { minItems: 1 }),
          communities: arr(community(), { minItems: 1 }),
          largeCommunities: arr(str(), { minItems: 1 }),
          asPath: obj({ contains: arr(int(1, U32), { minItems: 1 }), originatedBy: arr(int(1, U32), { minItems: 1 }) }),
        }),
        action: enumOf(['Accept', 'Reject']),
        set: obj({ localPreference: int(0, U32), addCommunities: arr(community()), addLargeCommunities: arr(str()) }),
      }, ['action']),
    ),
  });

export const routeInstallSchema = (): Schema =>
  obj({ enabled: bool(), table: intOrString(), metric: int(0, U32), protocol: int(5, 255), maxPaths: int(1, 64) });

// ---- Cilium kinds (src/config/schema/cilium-v1.ts, cilium-v2.ts) with the extensions inline ----

const family = (withAdverts: boolean): Schema =>
  obj({ afi: enumOf(AFIS), safi: enumOf(SAFIS), ...(withAdverts ? { advertisements: labelSelector() } : {}), prefixLimit: prefixLimitSchema() }, ['afi', 'safi']);

const peeringPolicySpec = (): Schema =>
  obj({
    nodeSelector: labelSelector(),
    virtualRouters: arr(
      obj({
        localASN: int(1, U32),
        exportPodCIDR: bool(),
        podIPPoolSelector: labelSelector(),
        serviceSelector: labelSelector(),
        serviceAdvertisements: arr(enumOf(SERVICE_ADDRESSES)),
        neighbors: arr(
          obj({
            peerAddress: str(),
            peerPort: int(1, 65535),
            peerASN: int(0, U32),
            authSecretRef: str(),
            eBGPMultihopTTL: int(1, 255),
            connectRetryTimeSeconds: int(1, 2147483647),
            holdTimeSeconds: int(0, 65535),
            keepAliveTimeSeconds: int(0, 65535),
            gracefulRestart: gracefulRestart(),
            families: arr(family(false)),
            advertisedPathAttributes: arr(
              obj({
                selectorType: enumOf(['PodCIDR', 'CiliumLoadBalancerIPPool', 'CiliumPodIPPool']),
                selector: labelSelector(),
                communities: communities(),
                localPreference: int(0, U32),
              }, ['selectorType']),
            ),
            prefixLimit: prefixLimitSchema(),
            importPolicy: importPolicySchema(),
            ttlSecurityHops: int(1, 254),
          }, ['peerAddress', 'peerASN']),
          { minItems: 1 },
        ),
        routeInstall: routeInstallSchema(),
        alwaysCompareMed: bool(),
      }, ['localASN', 'neighbors']),
      { minItems: 1 },
    ),
  }, ['virtualRouters']);

const clusterConfigSpec = (): Schema =>
  obj({
    nodeSelector: labelSelector(),
    bgpInstances: arr(
      obj({
        name: str({ minLength: 1, maxLength: 255 }),
        localASN: int(1, U32),
        localPort: int(1, 65535),
        peers: arr(
          obj({
            name: str({ minLength: 1, maxLength: 255 }),
            peerAddress: str(),
            peerASN: int(0, U32),
            autoDiscovery: obj({
              mode: enumOf(['DefaultGateway', 'Unnumbered']),
              defaultGateway: obj({ addressFamily: enumOf(['ipv4', 'ipv6']) }, ['addressFamily']),
              unnumbered: obj({ interface: str() }, ['interface']),
            }, ['mode']),
            peerConfigRef: obj({ name: str(), group: str(), kind: str() }, ['name']),
          }, ['name']),
        ),
        routeInstall: routeInstallSchema(),
        alwaysCompareMed: bool(),
      }, ['name']),
      { minItems: 1, maxItems: 16 },
    ),
  }, ['bgpInstances']);

const peerConfigSpec = (): Schema =>
  obj({
    transport: obj({ peerPort: int(1, 65535), localPort: int(1, 65535) }),
    timers: obj({ connectRetryTimeSeconds: int(1, 2147483647), holdTimeSeconds: int(0, 65535), keepAliveTimeSeconds: int(0, 65535) }),
    authSecretRef: str(),
    gracefulRestart: gracefulRestart(),
    ebgpMultihop: int(1, 255),
    families: arr(family(true)),
    prefixLimit: prefixLimitSchema(),
    importPolicy: importPolicySchema(),
    ttlSecurityHops: int(1, 254),
  });

const advertisementSpec = (): Schema =>
  obj({
    advertisements: arr(
      obj({
        advertisementType: enumOf(['PodCIDR', 'CiliumPodIPPool', 'Service', 'Interface']),
        service: obj({ addresses: arr(enumOf(SERVICE_ADDRESSES), { minItems: 1 }), aggregationLengthIPv4: int(0, 31), aggregationLengthIPv6: int(0, 127) }, ['addresses']),
        interface: obj({ name: str() }, ['name']),
        selector: labelSelector(),
        attributes: obj({ communities: communities(), localPreference: int(0, U32) }),
      }, ['advertisementType']),
    ),
  }, ['advertisements']);

const nodeConfigOverrideSpec = (): Schema =>
  obj({
    bgpInstances: arr(
      obj({
        name: str({ minLength: 1, maxLength: 255 }),
        routerID: str(),
        localPort: int(1, 65535),
        localASN: int(1, U32),
        peers: arr(obj({ name: str({ minLength: 1, maxLength: 255 }), localAddress: str(), localPort: int(1, 65535) }, ['name'])),
      }, ['name']),
      { minItems: 1 },
    ),
  }, ['bgpInstances']);

// ---- tsbgp.io kinds ----

const peerConfigExtensionSpec = (): Schema =>
  obj({
    peerConfigRef: obj({ name: str({ minLength: 1 }) }, ['name']),
    prefixLimit: prefixLimitSchema(),
    importPolicy: importPolicySchema(),
    ttlSecurityHops: int(1, 254),
    families: arr(obj({ afi: enumOf(AFIS), safi: enumOf(SAFIS), prefixLimit: prefixLimitSchema() }, ['afi', 'safi', 'prefixLimit'])),
  }, ['peerConfigRef']);

const clusterConfigExtensionSpec = (): Schema =>
  obj({
    clusterConfigRef: obj({ name: str({ minLength: 1 }) }, ['name']),
    bgpInstances: arr(obj({ name: str({ minLength: 1 }), routeInstall: routeInstallSchema(), alwaysCompareMed: bool() }, ['name']), { minItems: 1 }),
  }, ['clusterConfigRef', 'bgpInstances']);

const condition = (): Schema =>
  obj({ type: str(), status: enumOf(['True', 'False', 'Unknown']), reason: str(), message: str(), lastTransitionTime: str({ format: 'date-time' }) }, ['type', 'status', 'lastTransitionTime']);

export const nodeStatusSchema = (): Schema =>
  obj({
    conditions: arr(condition(), { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
    bgpInstances: arr(
      obj({
        name: str(),
        peers: arr(
          obj({
            name: str(),
            peerAddress: str(),
            peerASN: int(0, U32),
            peeringState: str(),
            adminDown: bool(),
            establishedTime: str({ format: 'date-time' }),
            timers: obj({ appliedHoldTimeSeconds: int(0, 65535), appliedKeepaliveSeconds: int(0, 65535) }),
            lastError: str(),
            routeCount: arr(
              obj({
                afi: str(), safi: str(), received: int(0), accepted: int(0), installed: int(0), advertised: int(0),
                prefixLimit: obj({ maxPrefixes: int(0), warning: bool(), exceeded: bool(), restartInSeconds: int(0) }),
              }, ['afi', 'safi']),
            ),
          }, ['name', 'peerAddress']),
        ),
      }, ['name']),
    ),
  });

// ---- CRD objects ----

export interface KindDef {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  /** Served versions; the first is the storage version. Identical schemas (no conversion needed). */
  readonly versions: readonly string[];
  readonly spec: () => Schema;
  readonly status?: () => Schema;
  readonly printerColumns?: readonly Schema[];
}

const ciliumV2 = ['v2', 'v2alpha1'];

export const TSBGP_KINDS: readonly KindDef[] = [
  { group: TSBGP_GROUP, kind: 'BGPPeerConfigExtension', plural: 'bgppeerconfigextensions', singular: 'bgppeerconfigextension', shortNames: ['bgppcx'], versions: [TSBGP_VERSION], spec: peerConfigExtensionSpec },
  { group: TSBGP_GROUP, kind: 'BGPClusterConfigExtension', plural: 'bgpclusterconfigextensions', singular: 'bgpclusterconfigextension', shortNames: ['bgpccx'], versions: [TSBGP_VERSION], spec: clusterConfigExtensionSpec },
  {
    group: TSBGP_GROUP, kind: 'BGPNodeStatus', plural: 'bgpnodestatuses', singular: 'bgpnodestatus', shortNames: ['bgpns'], versions: [TSBGP_VERSION],
    spec: () => obj({ nodeName: str() }),
    status: nodeStatusSchema,
    printerColumns: [
      { name: 'Config', type: 'string', jsonPath: ".status.conditions[?(@.type=='ConfigApplied')].status" },
      { name: 'Sessions', type: 'string', jsonPath: ".status.conditions[?(@.type=='SessionsEstablished')].message" },
      { name: 'PrefixLimit', type: 'string', jsonPath: ".status.conditions[?(@.type=='PrefixLimitExceeded')].status" },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  },
];

export const CILIUM_KINDS: readonly KindDef[] = [
  { group: 'cilium.io', kind: 'CiliumBGPPeeringPolicy', plural: 'ciliumbgppeeringpolicies', singular: 'ciliumbgppeeringpolicy', shortNames: ['bgpp'], versions: ['v2alpha1'], spec: peeringPolicySpec },
  { group: 'cilium.io', kind: 'CiliumBGPClusterConfig', plural: 'ciliumbgpclusterconfigs', singular: 'ciliumbgpclusterconfig', shortNames: ['cbgpcluster'], versions: ciliumV2, spec: clusterConfigSpec, status: anything },
  { group: 'cilium.io', kind: 'CiliumBGPPeerConfig', plural: 'ciliumbgppeerconfigs', singular: 'ciliumbgppeerconfig', shortNames: ['cbgppeer'], versions: ciliumV2, spec: peerConfigSpec, status: anything },
  { group: 'cilium.io', kind: 'CiliumBGPAdvertisement', plural: 'ciliumbgpadvertisements', singular: 'ciliumbgpadvertisement', shortNames: ['cbgpadvert'], versions: ciliumV2, spec: advertisementSpec },
  { group: 'cilium.io', kind: 'CiliumBGPNodeConfigOverride', plural: 'ciliumbgpnodeconfigoverrides', singular: 'ciliumbgpnodeconfigoverride', shortNames: ['cbgpnodeoverride'], versions: ciliumV2, spec: nodeConfigOverrideSpec },
];

export function crdFor(k: KindDef): Schema {
  const schema = obj({
    apiVersion: str(),
    kind: str(),
    metadata: { type: 'object' },
    spec: k.spec(),
    ...(k.status !== undefined ? { status: k.status() } : {}),
  }, ['spec']);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${k.group}`, labels: { 'app.kubernetes.io/part-of': 'tsbgp' } },
    spec: {
      group: k.group,
      scope: 'Cluster',
      names: { kind: k.kind, listKind: `${k.kind}List`, plural: k.plural, singular: k.singular, shortNames: [...k.shortNames] },
      versions: k.versions.map((v, i) => ({
        name: v,
        served: true,
        storage: i === 0,
        schema: { openAPIV3Schema: schema },
        ...(k.status !== undefined ? { subresources: { status: {} } } : {}),
        ...(k.printerColumns !== undefined ? { additionalPrinterColumns: [...k.printerColumns] } : {}),
      })),
    },
  };
}

/** deploy/crds/<set>/<file> → YAML text, including each set's kustomization.yaml. */
export function renderCrdFiles(stringify: (v: unknown) => string): Map<string, string> {
  const out = new Map<string, string>();
  const header = '# Generated from src/k8s/crds.ts; regenerate: TSBGP_UPDATE_CRDS=1 node scripts/test.mjs dist/test/k8s/deploy.test.js\n';
  for (const [set, kinds] of [['tsbgp', TSBGP_KINDS], ['cilium-bgp', CILIUM_KINDS]] as const) {
    const files: string[] = [];
    for (const k of kinds) {
      const file = `${k.plural}.${k.group}.yaml`;
      files.push(file);
      out.set(`${set}/${file}`, header + stringify(crdFor(k)));
    }
    out.set(
      `${set}/kustomization.yaml`,
      header + stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: files }),
    );
  }
  return out;
}
