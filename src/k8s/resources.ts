// The API resources the kubernetes source lists and watches, and how each one is
// scoped so a node only receives what it needs: its own Node (field selector), the
// Secrets of one namespace, every Service (advertisements select them cluster-wide)
// and the cluster-scoped BGP kinds.
export type CiliumV2Version = 'v2' | 'v2alpha1';

export interface ResourceDef {
  readonly kind: string;
  /** apiVersion stamped on listed items (list responses omit it on core kinds). */
  readonly apiVersion: string;
  /** Collection path, e.g. /apis/cilium.io/v2/ciliumbgppeerconfigs. */
  readonly path: string;
  readonly fieldSelector: string | undefined;
  /** Label selector (Services only, optional: restricts what every node caches). */
  readonly labelSelector?: string | undefined;
  /** A missing CRD (404) is normal: that API is simply not in use on this cluster. */
  readonly optional: boolean;
}

export interface ResourceScope {
  readonly nodeName: string;
  readonly secretNamespace: string;
  /** Version served for the BGPv2 kinds: v2 (Cilium ≥ 1.18), v2alpha1 (1.16, 1.17). */
  readonly ciliumV2Version: CiliumV2Version;
  /** Watch tsbgp's extension kinds (tsbgp.io/v1alpha1); default true. */
  readonly extensions?: boolean;
  /**
   * Only Services with these labels (e.g. `bgp.tsbgp.io/advertise=true`): on large
   * clusters every node caches every Service otherwise. Advertisement selectors must
   * then only select labelled Services.
   */
  readonly serviceLabelSelector?: string | undefined;
}

const crd = (group: string, version: string, kind: string, plural: string): ResourceDef => ({
  kind, apiVersion: `${group}/${version}`, path: `/apis/${group}/${version}/${plural}`, fieldSelector: undefined, optional: true,
});

export const TSBGP_GROUP = 'tsbgp.io';
export const TSBGP_VERSION = 'v1alpha1';

export function watchedResources(scope: ResourceScope): ResourceDef[] {
  const v = scope.ciliumV2Version;
  const defs: ResourceDef[] = [
    crd('cilium.io', 'v2alpha1', 'CiliumBGPPeeringPolicy', 'ciliumbgppeeringpolicies'),
    crd('cilium.io', v, 'CiliumBGPClusterConfig', 'ciliumbgpclusterconfigs'),
    crd('cilium.io', v, 'CiliumBGPPeerConfig', 'ciliumbgppeerconfigs'),
    crd('cilium.io', v, 'CiliumBGPAdvertisement', 'ciliumbgpadvertisements'),
    crd('cilium.io', v, 'CiliumBGPNodeConfigOverride', 'ciliumbgpnodeconfigoverrides'),
    crd('cilium.io', v, 'CiliumLoadBalancerIPPool', 'ciliumloadbalancerippools'),
    { kind: 'Node', apiVersion: 'v1', path: '/api/v1/nodes', fieldSelector: `metadata.name=${scope.nodeName}`, optional: false },
    { kind: 'Service', apiVersion: 'v1', path: '/api/v1/services', fieldSelector: undefined, labelSelector: scope.serviceLabelSelector, optional: false },
    { kind: 'Secret', apiVersion: 'v1', path: `/api/v1/namespaces/${encodeURIComponent(scope.secretNamespace)}/secrets`, fieldSelector: undefined, optional: false },
  ];
  if (scope.extensions !== false) {
    defs.push(
      crd(TSBGP_GROUP, TSBGP_VERSION, 'BGPPeerConfigExtension', 'bgppeerconfigextensions'),
      crd(TSBGP_GROUP, TSBGP_VERSION, 'BGPClusterConfigExtension', 'bgpclusterconfigextensions'),
    );
  }
  return defs;
}
