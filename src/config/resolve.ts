// Typed objects + a node name → the normalised NodeConfig of that node.
//
// Decisions (see docs/configuration.md):
// - v1 and v2 are alternatives, as in Cilium: if exactly one CiliumBGPPeeringPolicy
//   selects the node it is used and CiliumBGPClusterConfigs are ignored (warning);
//   if several select it, none is applied (Cilium's rule: the node runs no BGP) and
//   the v2 kinds are not consulted either.
// - v2: every CiliumBGPClusterConfig selecting the node contributes its instances;
//   an instance name defined by more than one of them is a conflict and neither
//   definition is applied (condition cilium.io/ConflictingClusterConfig).
// - Router ID: CiliumBGPNodeConfigOverride routerID, else the Node annotation
//   cilium.io/bgp-virtual-router.<localASN> router-id, else the Node's first IPv4
//   InternalIP; none of them is an error.
// - Listen port: override localPort, else the instance's localPort (v2), else the
//   annotation's local-port; none = do not listen (Cilium's default in both APIs).
import { AdvertisementCollector, mergeAttributes, NO_ATTRIBUTES, routePrefix, serviceAddresses, serviceSelectorLabels } from './advertise.js';
import type { PathAttributeSet } from './advertise.js';
import type { LargeCommunity } from './communities.js';
import { makeDiagnostic } from './diagnostics.js';
import type { Diagnostic, PathSegment, Severity, Source } from './diagnostics.js';
import type { Family, Instance, NodeConfig, Peer, PrefixLimit } from './model.js';
import { DEFAULTS, SecretValue } from './model.js';
import { cidrContains, compareBytes, parseCidr, parseIp } from './net.js';
import type { AfiName } from './net.js';
import { parseVirtualRouterAnnotation, virtualRouterAnnotationKey } from './router-id.js';
import type { VirtualRouterAttributes } from './router-id.js';
import { optionalSelectorMatches, selectorMatches } from './selector.js';
import type { LabelSelector, Labels } from './selector.js';
import { effectiveKeepAlive } from './schema/bgp-common.js';
import type { ServiceAddressType } from './schema/bgp-common.js';
import type { CidrValue, IpValue } from './schema/common.js';
import type { AdvertisementEntry, BgpInstanceV2, LoadBalancerIPPool, PeerConfig } from './schema/cilium-v2.js';
import type { Neighbor, PathAttributes, VirtualRouter } from './schema/cilium-v1.js';
import { DEFAULT_ROUTE_INSTALL } from './schema/extensions.js';
import { KINDS } from './validate.js';
import type { KnownObject, TypedObject } from './validate.js';

export interface ResolveOptions {
  /** Namespace holding the MD5 Secrets (Cilium's bgpControlPlane.secretNamespace). */
  readonly secretNamespace?: string;
}

interface Catalog {
  policies: TypedObject<'CiliumBGPPeeringPolicy'>[];
  clusterConfigs: TypedObject<'CiliumBGPClusterConfig'>[];
  peerConfigs: Map<string, TypedObject<'CiliumBGPPeerConfig'>>;
  advertisements: TypedObject<'CiliumBGPAdvertisement'>[];
  overrides: Map<string, TypedObject<'CiliumBGPNodeConfigOverride'>>;
  pools: TypedObject<'CiliumLoadBalancerIPPool'>[];
  nodes: Map<string, TypedObject<'Node'>>;
  services: TypedObject<'Service'>[];
  secrets: Map<string, TypedObject<'Secret'>>;
  peerExtensions: TypedObject<'BGPPeerConfigExtension'>[];
  clusterExtensions: TypedObject<'BGPClusterConfigExtension'>[];
}

interface NodeInfo {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly podCIDRs: readonly CidrValue[];
  readonly internalIPv4: string | undefined;
  readonly object: TypedObject<'Node'> | undefined;
}

/** What a diagnostic points at: an object (its source and ref) and a path inside it. */
interface Anchor {
  readonly source: Source;
  readonly ref: string;
}

interface WrittenFamily {
  readonly afi: string;
  readonly safi: string;
  readonly prefixLimit?: PrefixLimit | undefined;
}

const DEFAULT_FAMILIES: readonly WrittenFamily[] = [
  { afi: 'ipv4', safi: 'unicast' },
  { afi: 'ipv6', safi: 'unicast' },
];

const DEFAULT_PEER_SPEC: PeerConfig['spec'] = KINDS.CiliumBGPPeerConfig.schema.parse({ metadata: { name: 'default' } }).spec;

function where(o: KnownObject): string {
  const s = o.source;
  if (s.file === undefined) return o.ref;
  const pos = s.locate?.(s.base);
  return `${s.file}${pos !== undefined ? `:${pos.line}` : ''}${s.document !== undefined ? ` (document ${s.document})` : ''}`;
}

class Resolver {
  readonly diagnostics: Diagnostic[] = [];
  readonly #secretNamespace: string;
  readonly #cat: Catalog;
  readonly #node: NodeInfo;
  readonly #warnedOnce = new Set<string>();

  constructor(objects: readonly KnownObject[], nodeName: string, options: ResolveOptions) {
    this.#secretNamespace = options.secretNamespace ?? DEFAULTS.secretNamespace;
    this.#cat = this.#catalog(objects);
    this.#node = this.#nodeInfo(nodeName);
  }

  diag(anchor: Anchor | undefined, path: readonly PathSegment[], code: string, message: string, severity: Severity = 'error'): void {
    this.diagnostics.push(makeDiagnostic({ code, message, severity, source: anchor?.source, object: anchor?.ref, path }));
  }

  /** A warning reported once per key (e.g. once per Service, not once per peer). */
  warnOnce(key: string, anchor: Anchor | undefined, path: readonly PathSegment[], code: string, message: string): void {
    if (this.#warnedOnce.has(key)) return;
    this.#warnedOnce.add(key);
    this.diag(anchor, path, code, message, 'warning');
  }

  #catalog(objects: readonly KnownObject[]): Catalog {
    const cat: Catalog = {
      policies: [], clusterConfigs: [], peerConfigs: new Map(), advertisements: [], overrides: new Map(),
      pools: [], nodes: new Map(), services: [], secrets: new Map(), peerExtensions: [], clusterExtensions: [],
    };
    const seen = new Map<string, KnownObject>();
    for (const o of objects) {
      const key = `${o.kind}/${o.namespace ?? ''}/${o.name}`;
      const first = seen.get(key);
      if (first !== undefined) {
        this.diag(o, ['metadata', 'name'], 'DuplicateObject', `${o.ref} is defined twice: already defined at ${where(first)}`);
        continue;
      }
      seen.set(key, o);
      switch (o.kind) {
        case 'CiliumBGPPeeringPolicy': cat.policies.push(o); break;
        case 'CiliumBGPClusterConfig': cat.clusterConfigs.push(o); break;
        case 'CiliumBGPPeerConfig': cat.peerConfigs.set(o.name, o); break;
        case 'CiliumBGPAdvertisement': cat.advertisements.push(o); break;
        case 'CiliumBGPNodeConfigOverride': cat.overrides.set(o.name, o); break;
        case 'CiliumLoadBalancerIPPool': cat.pools.push(o); break;
        case 'Node': cat.nodes.set(o.name, o); break;
        case 'Service': cat.services.push(o); break;
        case 'Secret': cat.secrets.set(`${o.namespace}/${o.name}`, o); break;
        case 'BGPPeerConfigExtension': cat.peerExtensions.push(o); break;
        case 'BGPClusterConfigExtension': cat.clusterExtensions.push(o); break;
      }
    }
    const byName = (a: KnownObject, b: KnownObject) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
    cat.policies.sort(byName);
    cat.clusterConfigs.sort(byName);
    cat.advertisements.sort(byName);
    cat.services.sort(byName);
    cat.pools.sort(byName);
    cat.peerExtensions.sort(byName);
    cat.clusterExtensions.sort(byName);
    this.#applyPeerExtensions(cat);
    this.#applyClusterExtensions(cat);
    return cat;
  }

  // ---- tsbgp.io extension kinds: laid over the Cilium object they name ----

  #applyPeerExtensions(cat: Catalog): void {
    const used = new Map<string, string>();
    for (const ext of cat.peerExtensions) {
      const spec = ext.value.spec;
      const targetName = spec.peerConfigRef.name;
      const refPath = ['spec', 'peerConfigRef', 'name'];
      const target = cat.peerConfigs.get(targetName);
      if (target === undefined) {
        this.diag(ext, refPath, 'ExtensionTargetNotFound', `CiliumBGPPeerConfig "${targetName}" not found; extension ignored until it exists`, 'warning');
        continue;
      }
      const prev = used.get(targetName);
      if (prev !== undefined) {
        this.diag(ext, refPath, 'DuplicateExtension', `CiliumBGPPeerConfig "${targetName}" is already extended by ${prev}; merge the two objects`);
        continue;
      }
      used.set(targetName, ext.ref);
      const t = target.value.spec;
      const conflict = (field: string) =>
        this.diag(ext, ['spec', field], 'ExtensionConflict', `${target.ref} already sets ${field} itself (inline extension field); set it in one place only`);
      if (spec.prefixLimit !== undefined && t.prefixLimit !== undefined) conflict('prefixLimit');
      if (spec.importPolicy !== undefined && t.importPolicy !== undefined) conflict('importPolicy');
      if (spec.ttlSecurityHops !== undefined && t.ttlSecurityHops !== undefined) conflict('ttlSecurityHops');
      if (spec.ttlSecurityHops !== undefined && t.ebgpMultihop > 1) {
        this.diag(ext, ['spec', 'ttlSecurityHops'], 'InvalidValue', `ttlSecurityHops and ${target.ref} ebgpMultihop ${t.ebgpMultihop} exclude each other (GTSM always sends with TTL 255)`);
      }
      let families = t.families;
      if (spec.families !== undefined) {
        // No families written = Cilium's defaults (ipv4 and ipv6 unicast), which the extension may limit.
        type WrittenV2Family = NonNullable<typeof t.families>[number];
        const base = families ?? (DEFAULT_FAMILIES as readonly WrittenV2Family[]);
        const merged: WrittenV2Family[] = base.map((f) => ({ ...f }));
        spec.families.forEach((ef, k) => {
          const i = merged.findIndex((f) => f.afi === ef.afi && f.safi === ef.safi);
          if (i < 0) {
            this.diag(ext, ['spec', 'families', k], 'ExtensionUnknownFamily', `${target.ref} has no address family ${ef.afi}/${ef.safi}`);
          } else if (merged[i]!.prefixLimit !== undefined) {
            this.diag(ext, ['spec', 'families', k, 'prefixLimit'], 'ExtensionConflict', `${target.ref} already sets a prefixLimit for ${ef.afi}/${ef.safi}; set it in one place only`);
          } else {
            merged[i] = { ...merged[i]!, prefixLimit: ef.prefixLimit };
          }
        });
        families = merged;
      }
      const value = {
        ...target.value,
        spec: {
          ...t,
          prefixLimit: t.prefixLimit ?? spec.prefixLimit,
          importPolicy: t.importPolicy ?? spec.importPolicy,
          ttlSecurityHops: t.ttlSecurityHops ?? spec.ttlSecurityHops,
          families,
        },
      };
      cat.peerConfigs.set(targetName, { ...target, value });
    }
  }

  #applyClusterExtensions(cat: Catalog): void {
    const used = new Map<string, string>();
    for (const ext of cat.clusterExtensions) {
      const spec = ext.value.spec;
      const targetName = spec.clusterConfigRef.name;
      const refPath = ['spec', 'clusterConfigRef', 'name'];
      const idx = cat.clusterConfigs.findIndex((c) => c.name === targetName);
      const target = cat.clusterConfigs[idx];
      if (target === undefined) {
        this.diag(ext, refPath, 'ExtensionTargetNotFound', `CiliumBGPClusterConfig "${targetName}" not found; extension ignored until it exists`, 'warning');
        continue;
      }
      const prev = used.get(targetName);
      if (prev !== undefined) {
        this.diag(ext, refPath, 'DuplicateExtension', `CiliumBGPClusterConfig "${targetName}" is already extended by ${prev}; merge the two objects`);
        continue;
      }
      used.set(targetName, ext.ref);
      const instances = target.value.spec.bgpInstances.map((i) => ({ ...i }));
      spec.bgpInstances.forEach((ei, k) => {
        const i = instances.findIndex((x) => x.name === ei.name);
        if (i < 0) {
          this.diag(ext, ['spec', 'bgpInstances', k, 'name'], 'ExtensionTargetNotFound', `${target.ref} has no BGP instance "${ei.name}"; ignored`, 'warning');
          return;
        }
        const inst = instances[i]!;
        if (ei.routeInstall !== undefined) {
          if (inst.routeInstall !== undefined) {
            this.diag(ext, ['spec', 'bgpInstances', k, 'routeInstall'], 'ExtensionConflict', `${target.ref} already sets routeInstall for instance "${ei.name}"; set it in one place only`);
          } else {
            inst.routeInstall = ei.routeInstall;
          }
        }
        if (ei.alwaysCompareMed !== undefined) inst.alwaysCompareMed = ei.alwaysCompareMed;
      });
      cat.clusterConfigs[idx] = { ...target, value: { ...target.value, spec: { ...target.value.spec, bgpInstances: instances } } };
    }
  }

  #nodeInfo(nodeName: string): NodeInfo {
    const o = this.#cat.nodes.get(nodeName);
    if (o === undefined) {
      this.diag(undefined, [], 'NodeNotFound', `no Node object named "${nodeName}" in the configuration: the node has no labels, pod CIDRs or addresses`, 'warning');
      return { name: nodeName, labels: {}, annotations: {}, podCIDRs: [], internalIPv4: undefined, object: undefined };
    }
    const v = o.value;
    const cidrs = new Map<string, CidrValue>();
    for (const c of v.spec.podCIDRs ?? []) cidrs.set(c.cidr, c);
    if (v.spec.podCIDR !== undefined && !cidrs.has(v.spec.podCIDR.cidr)) cidrs.set(v.spec.podCIDR.cidr, v.spec.podCIDR);
    let internalIPv4: string | undefined;
    for (const a of v.status?.addresses ?? []) {
      if (a.type !== 'InternalIP') continue;
      const ip = parseIp(a.address);
      if (ip?.afi === 'ipv4') {
        internalIPv4 = a.address;
        break;
      }
    }
    return {
      name: nodeName,
      labels: v.metadata.labels ?? {},
      annotations: v.metadata.annotations ?? {},
      podCIDRs: [...cidrs.values()],
      internalIPv4,
      object: o,
    };
  }

  // ---- selection ----

  run(): NodeConfig {
    const node = this.#node;
    const policies = this.#cat.policies.filter((p) => optionalSelectorMatches(p.value.spec.nodeSelector, node.labels, true));
    const clusterConfigs = this.#cat.clusterConfigs.filter((c) => optionalSelectorMatches(c.value.spec.nodeSelector, node.labels, true));
    if (policies.length > 1) {
      for (const p of policies) {
        this.diag(p, ['spec', 'nodeSelector'], 'ConflictingPeeringPolicies',
          `${policies.length} CiliumBGPPeeringPolicies select node "${node.name}" (${policies.map((x) => x.name).join(', ')}): none is applied, the node runs no BGP until exactly one selects it`,
          'warning');
      }
      return { nodeName: node.name, api: 'none', instances: [] };
    }
    if (policies.length === 1) {
      const p = policies[0]!;
      for (const c of clusterConfigs) {
        this.diag(c, ['spec', 'nodeSelector'], 'PeeringPolicyTakesPrecedence',
          `ignored on node "${node.name}": CiliumBGPPeeringPolicy/${p.name} also selects it and the v1 policy takes precedence`, 'warning');
      }
      return { nodeName: node.name, api: 'v1', instances: this.#sortInstances(this.#buildV1(p)) };
    }
    if (clusterConfigs.length === 0) {
      this.diag(undefined, [], 'NoConfigForNode', `no CiliumBGPPeeringPolicy or CiliumBGPClusterConfig selects node "${node.name}": no BGP instance runs`, 'warning');
      return { nodeName: node.name, api: 'none', instances: [] };
    }
    return { nodeName: node.name, api: 'v2', instances: this.#sortInstances(this.#buildV2(clusterConfigs)) };
  }

  /** routeInstall kernel keys (table/protocol/metric) taken, by the instance that took them. */
  readonly #installKeys = new Map<string, string>();

  /**
   * Two instances installing into one kernel key would each delete the other's routes as
   * stale: refused, naming the instance that holds the key.
   */
  #claimInstallKey(inst: Instance, anchor: Anchor, path: readonly PathSegment[]): void {
    const ri = inst.routeInstall;
    if (!ri.enabled) return;
    const key = `${ri.table}/${ri.protocol}/${ri.metric}`;
    const holder = this.#installKeys.get(key);
    if (holder === undefined) {
      this.#installKeys.set(key, inst.name);
      return;
    }
    this.diag(anchor, [...path, 'routeInstall'], 'RouteInstallConflict',
      `instance "${inst.name}" would install routes with the same table ${ri.table}, protocol ${ri.protocol} and metric ${ri.metric} as instance "${holder}", and each would delete the other's routes; give one of them another table, protocol or metric, or routeInstall: {enabled: false}`);
  }

  #sortInstances(list: Instance[]): Instance[] {
    return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // ---- shared pieces ----

  #annotation(localAsn: number): VirtualRouterAttributes {
    const key = virtualRouterAnnotationKey(localAsn);
    const value = this.#node.annotations[key];
    if (value === undefined) return { routerId: undefined, localPort: undefined };
    const { attributes, problems } = parseVirtualRouterAnnotation(value);
    const anchor = this.#node.object;
    for (const p of problems) {
      const onceKey = `annotation:${key}:${p.message}`;
      if (this.#warnedOnce.has(onceKey)) continue;
      this.#warnedOnce.add(onceKey);
      this.diag(anchor, ['metadata', 'annotations', key], 'InvalidAnnotation', p.message, p.severity);
    }
    return attributes;
  }

  #routerId(instance: string, localAsn: number, override: string | undefined, ann: VirtualRouterAttributes, anchor: Anchor, path: readonly PathSegment[]): string {
    const id = override ?? ann.routerId ?? this.#node.internalIPv4;
    if (id !== undefined) return id;
    this.diag(anchor, path, 'NoRouterId',
      `no router ID for instance "${instance}" on node "${this.#node.name}": set routerID in CiliumBGPNodeConfigOverride/${this.#node.name}, ` +
        `or annotate the Node with ${virtualRouterAnnotationKey(localAsn)}: "router-id=<IPv4>", or give it an IPv4 InternalIP address`);
    return '0.0.0.0';
  }

  #password(secretName: string | undefined, anchor: Anchor, path: readonly PathSegment[]): SecretValue | undefined {
    if (secretName === undefined) return undefined;
    const s = this.#cat.secrets.get(`${this.#secretNamespace}/${secretName}`);
    if (s === undefined) {
      this.diag(anchor, path, 'cilium.io/MissingAuthSecret',
        `Secret ${this.#secretNamespace}/${secretName} not found: the session runs without TCP-MD5 (as Cilium does) until it appears`, 'warning');
      return undefined;
    }
    const value = s.value.stringData?.['password'] ?? s.value.data?.['password'];
    if (value === undefined) {
      this.diag(s, ['data'], 'cilium.io/MissingAuthSecret', `Secret ${s.namespace}/${s.name} has no "password" key: the session runs without TCP-MD5`, 'warning');
      return undefined;
    }
    return new SecretValue(value);
  }

  #families(
    written: readonly WrittenFamily[] | undefined,
    peerLimit: PrefixLimit | undefined,
    anchor: Anchor,
    path: readonly PathSegment[],
  ): Family[] {
    const out = new Map<AfiName, Family>();
    (written ?? DEFAULT_FAMILIES).forEach((f, k) => {
      if ((f.afi !== 'ipv4' && f.afi !== 'ipv6') || f.safi !== 'unicast') {
        this.diag(anchor, [...path, 'families', k], 'UnsupportedFamily', `address family ${f.afi}/${f.safi} is not supported by tsbgp (only ipv4/unicast and ipv6/unicast); ignored`, 'warning');
        return;
      }
      if (out.has(f.afi)) {
        this.diag(anchor, [...path, 'families', k], 'DuplicateFamily', `address family ${f.afi}/${f.safi} is listed twice; the first entry is used`, 'warning');
        return;
      }
      out.set(f.afi, { afi: f.afi, safi: 'unicast', prefixLimit: f.prefixLimit ?? peerLimit });
    });
    return (['ipv4', 'ipv6'] as const).filter((a) => out.has(a)).map((a) => out.get(a)!);
  }

  #servicesMatching(selector: LabelSelector): TypedObject<'Service'>[] {
    return this.#cat.services.filter((s) => selectorMatches(selector, serviceSelectorLabels(s.value, s.namespace!)));
  }

  #warnTrafficPolicy(svc: TypedObject<'Service'>, type: ServiceAddressType): boolean {
    const local = type === 'ClusterIP' ? svc.value.spec.internalTrafficPolicy === 'Local' : svc.value.spec.externalTrafficPolicy === 'Local';
    if (local) {
      const field = type === 'ClusterIP' ? 'internalTrafficPolicy' : 'externalTrafficPolicy';
      this.warnOnce(`tp:${svc.ref}:${field}`, svc, ['spec', field], 'TrafficPolicyLocalNotEvaluated',
        `${field}: Local is not evaluated (tsbgp has no endpoint data): the address is advertised as for Cluster, without aggregation`);
    }
    return local;
  }

  // ---- v1: CiliumBGPPeeringPolicy ----

  #buildV1(policy: TypedObject<'CiliumBGPPeeringPolicy'>): Instance[] {
    const out: Instance[] = [];
    policy.value.spec.virtualRouters.forEach((vr, i) => {
      const path: PathSegment[] = ['spec', 'virtualRouters', i];
      const name = `vr-${vr.localASN}`;
      const ann = this.#annotation(vr.localASN);
      const ovr = this.#overrideInstance(name);
      const routerId = this.#routerId(name, vr.localASN, ovr?.routerID, ann, policy, [...path, 'localASN']);
      if (vr.podIPPoolSelector !== undefined) {
        this.diag(policy, [...path, 'podIPPoolSelector'], 'UnsupportedPodIPPool', 'CiliumPodIPPool advertisements are not supported (tsbgp reads no pool objects); ignored', 'warning');
      }
      const collector = new AdvertisementCollector();
      const peers: Peer[] = [];
      vr.neighbors.forEach((n, j) => {
        const npath: PathSegment[] = [...path, 'neighbors', j];
        const peer = this.#v1Peer(n, ovr?.peers?.find((p) => p.name === n.peerAddress.address)?.localAddress?.address, policy, npath);
        if (peer === undefined) return;
        peers.push(peer);
        this.#v1Advertise(vr, n, peer, collector, policy, npath);
      });
      const instance: Instance = {
        name,
        localAsn: vr.localASN,
        routerId,
        listenPort: ovr?.localPort ?? ann.localPort,
        routeInstall: vr.routeInstall ?? DEFAULT_ROUTE_INSTALL,
        alwaysCompareMed: vr.alwaysCompareMed,
        peers: peers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        advertisements: collector.build(),
        origin: `CiliumBGPPeeringPolicy/${policy.name}`,
      };
      this.#claimInstallKey(instance, policy, path);
      out.push(instance);
    });
    return out;
  }

  #v1Peer(n: Neighbor, localAddress: string | undefined, anchor: Anchor, path: PathSegment[]): Peer | undefined {
    const families = this.#families(n.families, n.prefixLimit, anchor, path);
    if (families.length === 0) {
      this.diag(anchor, [...path, 'families'], 'NoSupportedFamily', `neighbor ${n.peerAddress.address} has no supported address family; it is not configured`, 'warning');
      return undefined;
    }
    return {
      name: n.peerAddress.address,
      address: n.peerAddress.address,
      afi: n.peerAddress.afi,
      port: n.peerPort,
      peerAsn: n.peerASN,
      localAddress,
      authSecretRef: n.authSecretRef,
      md5Password: this.#password(n.authSecretRef, anchor, [...path, 'authSecretRef']),
      ebgpMultihopTtl: n.eBGPMultihopTTL,
      ...(n.ttlSecurityHops !== undefined ? { ttlSecurityHops: n.ttlSecurityHops } : {}),
      timers: {
        connectRetry: n.connectRetryTimeSeconds,
        holdTime: n.holdTimeSeconds,
        keepalive: effectiveKeepAlive(n.holdTimeSeconds, n.keepAliveTimeSeconds),
      },
      gracefulRestart: { enabled: n.gracefulRestart?.enabled ?? false, restartTime: n.gracefulRestart?.restartTimeSeconds ?? DEFAULTS.gracefulRestartTimeSeconds },
      families,
      importPolicy: n.importPolicy,
      prefixLimit: n.prefixLimit,
    };
  }

  #v1Advertise(vr: VirtualRouter, n: Neighbor, peer: Peer, collector: AdvertisementCollector, anchor: Anchor, path: PathSegment[]): void {
    const afis = new Set(peer.families.map((f) => f.afi));
    const attrs = n.advertisedPathAttributes ?? [];
    attrs.forEach((a, k) => {
      if (a.selectorType === 'CiliumPodIPPool') {
        this.diag(anchor, [...path, 'advertisedPathAttributes', k, 'selectorType'], 'UnsupportedPodIPPool',
          'CiliumPodIPPool path attributes are not supported (tsbgp reads no pool objects); ignored', 'warning');
      }
    });
    if (vr.exportPodCIDR) {
      const podAttrs = mergeAttributes(
        attrs.filter((a) => a.selectorType === 'PodCIDR' && optionalSelectorMatches(a.selector, this.#node.labels, true)).map(pathAttributeSet),
      );
      for (const c of this.#node.podCIDRs) {
        if (!afis.has(c.afi)) continue;
        collector.add(peer.name, { prefix: c.cidr, afi: c.afi, source: 'PodCIDR', origin: `Node/${this.#node.name} podCIDR`, ...podAttrs });
      }
    }
    if (vr.serviceSelector === undefined) return;
    for (const svc of this.#servicesMatching(vr.serviceSelector)) {
      for (const type of vr.serviceAdvertisements) {
        const ips = serviceAddresses(svc.value, type);
        if (ips.length > 0) this.#warnTrafficPolicy(svc, type);
        for (const ip of ips) {
          if (!afis.has(ip.afi)) continue;
          const set =
            type === 'LoadBalancerIP'
              ? mergeAttributes(attrs.filter((a) => a.selectorType === 'CiliumLoadBalancerIPPool' && this.#poolSelects(a.selector, ip, anchor, path)).map(pathAttributeSet))
              : NO_ATTRIBUTES;
          collector.add(peer.name, { prefix: routePrefix(ip, undefined), afi: ip.afi, source: 'Service', origin: `${svc.ref} ${type}`, ...set });
        }
      }
    }
  }

  /** Absent selector: every pool, so every LoadBalancer IP; else a selected, enabled pool must contain the IP. */
  #poolSelects(selector: LabelSelector | undefined, ip: IpValue, anchor: Anchor, path: PathSegment[]): boolean {
    if (selector === undefined) return true;
    if (this.#cat.pools.length === 0) {
      this.warnOnce(`nopools:${anchor.ref}`, anchor, [...path, 'advertisedPathAttributes'], 'NoLoadBalancerIPPools',
        'a CiliumLoadBalancerIPPool selector is set but no CiliumLoadBalancerIPPool objects are loaded: it selects nothing');
      return false;
    }
    return this.#cat.pools.some((p) => !p.value.spec.disabled && selectorMatches(selector, p.value.metadata.labels ?? {}) && poolContains(p.value, ip));
  }

  // ---- v2: CiliumBGPClusterConfig & co. ----

  #overrideInstance(name: string) {
    return this.#cat.overrides.get(this.#node.name)?.value.spec.bgpInstances.find((i) => i.name === name);
  }

  #buildV2(configs: TypedObject<'CiliumBGPClusterConfig'>[]): Instance[] {
    const owners = new Map<string, TypedObject<'CiliumBGPClusterConfig'>[]>();
    for (const c of configs) {
      for (const inst of c.value.spec.bgpInstances) owners.set(inst.name, [...(owners.get(inst.name) ?? []), c]);
    }
    const out: Instance[] = [];
    for (const c of configs) {
      c.value.spec.bgpInstances.forEach((inst, i) => {
        const path: PathSegment[] = ['spec', 'bgpInstances', i];
        const own = owners.get(inst.name)!;
        if (own.length > 1) {
          this.diag(c, [...path, 'name'], 'cilium.io/ConflictingClusterConfig',
            `BGP instance "${inst.name}" is defined by ${own.length} CiliumBGPClusterConfigs selecting node "${this.#node.name}" (${own.map((o) => o.name).join(', ')}): none of them is applied`,
            'warning');
          return;
        }
        const instance = this.#v2Instance(c, inst, path);
        if (instance === undefined) return;
        this.#claimInstallKey(instance, c, path);
        out.push(instance);
      });
    }
    const ovr = this.#cat.overrides.get(this.#node.name);
    ovr?.value.spec.bgpInstances.forEach((oi, i) => {
      if (!owners.has(oi.name)) {
        this.diag(ovr, ['spec', 'bgpInstances', i, 'name'], 'UnknownOverrideInstance', `no CiliumBGPClusterConfig selecting this node defines a BGP instance "${oi.name}"; override ignored`, 'warning');
      }
    });
    return out;
  }

  #v2Instance(cc: TypedObject<'CiliumBGPClusterConfig'>, inst: BgpInstanceV2, path: PathSegment[]): Instance | undefined {
    const ovr = this.#overrideInstance(inst.name);
    const ovrObj = this.#cat.overrides.get(this.#node.name);
    const localAsn = ovr?.localASN ?? inst.localASN;
    if (localAsn === undefined) {
      this.diag(cc, [...path, 'localASN'], 'MissingField',
        `required field is missing: instance "${inst.name}" has no localASN here nor in CiliumBGPNodeConfigOverride/${this.#node.name}`);
      return undefined;
    }
    const ann = this.#annotation(localAsn);
    const routerId = this.#routerId(inst.name, localAsn, ovr?.routerID, ann, cc, [...path, 'name']);
    const collector = new AdvertisementCollector();
    const peers: Peer[] = [];
    inst.peers.forEach((p, j) => {
      const ppath: PathSegment[] = [...path, 'peers', j];
      if (p.peerAddress === undefined) {
        this.diag(cc, [...ppath, 'autoDiscovery'], 'UnsupportedAutoDiscovery', `peer "${p.name}": autoDiscovery (${p.autoDiscovery?.mode}) is not supported by tsbgp; set peerAddress. Peer not configured`, 'warning');
        return;
      }
      if (p.autoDiscovery !== undefined) {
        this.diag(cc, [...ppath, 'autoDiscovery'], 'UnsupportedAutoDiscovery', `peer "${p.name}": autoDiscovery is not supported by tsbgp and is ignored; peerAddress is used`, 'warning');
      }
      let pc: TypedObject<'CiliumBGPPeerConfig'> | undefined;
      if (p.peerConfigRef !== undefined) {
        pc = this.#cat.peerConfigs.get(p.peerConfigRef.name);
        if (pc === undefined) {
          this.diag(cc, [...ppath, 'peerConfigRef', 'name'], 'cilium.io/MissingPeerConfigs',
            `peer "${p.name}": CiliumBGPPeerConfig "${p.peerConfigRef.name}" not found; peer not configured until it exists`, 'warning');
          return;
        }
      }
      const localAddress = ovr?.peers?.find((op) => op.name === p.name)?.localAddress?.address;
      const peer = this.#v2Peer(p.name, p.peerAddress, p.peerASN, localAddress, pc, cc, ppath);
      if (peer === undefined) return;
      peers.push(peer);
      this.#v2Advertise(peer, pc, collector);
    });
    ovr?.peers?.forEach((op, k) => {
      if (!inst.peers.some((p) => p.name === op.name) && ovrObj !== undefined) {
        const oi = ovrObj.value.spec.bgpInstances.findIndex((x) => x.name === inst.name);
        this.diag(ovrObj, ['spec', 'bgpInstances', oi, 'peers', k, 'name'], 'UnknownOverridePeer', `instance "${inst.name}" has no peer "${op.name}"; override ignored`, 'warning');
      }
    });
    return {
      name: inst.name,
      localAsn,
      routerId,
      listenPort: ovr?.localPort ?? inst.localPort ?? ann.localPort,
      routeInstall: inst.routeInstall ?? DEFAULT_ROUTE_INSTALL,
      alwaysCompareMed: inst.alwaysCompareMed,
      peers: peers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      advertisements: collector.build(),
      origin: `CiliumBGPClusterConfig/${cc.name}`,
    };
  }

  #v2Peer(
    name: string,
    address: IpValue,
    peerAsn: number,
    localAddress: string | undefined,
    pc: TypedObject<'CiliumBGPPeerConfig'> | undefined,
    cc: TypedObject<'CiliumBGPClusterConfig'>,
    ppath: PathSegment[],
  ): Peer | undefined {
    const spec = pc?.value.spec ?? DEFAULT_PEER_SPEC;
    const anchor: Anchor = pc ?? cc;
    const families = this.#families(spec.families, spec.prefixLimit, anchor, pc !== undefined ? ['spec'] : ppath);
    if (families.length === 0) {
      this.diag(anchor, pc !== undefined ? ['spec', 'families'] : ppath, 'NoSupportedFamily', `peer "${name}" has no supported address family; it is not configured`, 'warning');
      return undefined;
    }
    if (pc !== undefined && spec.transport?.localPort !== undefined) {
      this.warnOnce(`localPort:${pc.ref}`, pc, ['spec', 'transport', 'localPort'], 'DeprecatedField', 'transport.localPort is deprecated and has no effect: the source port is ephemeral');
    }
    const hold = spec.timers?.holdTimeSeconds ?? DEFAULTS.holdTimeSeconds;
    return {
      name,
      address: address.address,
      afi: address.afi,
      port: spec.transport?.peerPort ?? DEFAULTS.peerPort,
      peerAsn,
      localAddress,
      authSecretRef: spec.authSecretRef,
      md5Password: this.#password(spec.authSecretRef, anchor, pc !== undefined ? ['spec', 'authSecretRef'] : ppath),
      ebgpMultihopTtl: spec.ebgpMultihop,
      ...(spec.ttlSecurityHops !== undefined ? { ttlSecurityHops: spec.ttlSecurityHops } : {}),
      timers: {
        connectRetry: spec.timers?.connectRetryTimeSeconds ?? DEFAULTS.connectRetryTimeSeconds,
        holdTime: hold,
        keepalive: effectiveKeepAlive(hold, spec.timers?.keepAliveTimeSeconds),
      },
      gracefulRestart: {
        enabled: spec.gracefulRestart?.enabled ?? false,
        restartTime: spec.gracefulRestart?.restartTimeSeconds ?? DEFAULTS.gracefulRestartTimeSeconds,
      },
      families,
      importPolicy: spec.importPolicy,
      prefixLimit: spec.prefixLimit,
    };
  }

  #v2Advertise(peer: Peer, pc: TypedObject<'CiliumBGPPeerConfig'> | undefined, collector: AdvertisementCollector): void {
    const written = pc?.value.spec.families ?? [];
    for (const fam of peer.families) {
      const selector = written.find((f) => f.afi === fam.afi && f.safi === fam.safi)?.advertisements;
      if (selector === undefined) continue; // no selector = nothing advertised for this family
      for (const adv of this.#cat.advertisements) {
        if (!selectorMatches(selector, adv.value.metadata.labels ?? {})) continue;
        adv.value.spec.advertisements.forEach((entry, k) => this.#v2Entry(adv, entry, k, fam.afi, peer, collector));
      }
    }
  }

  #v2Entry(
    adv: TypedObject<'CiliumBGPAdvertisement'>,
    entry: AdvertisementEntry,
    k: number,
    afi: AfiName,
    peer: Peer,
    collector: AdvertisementCollector,
  ): void {
    const set: PathAttributeSet = pathAttributeSet(entry.attributes ?? {});
    const path: PathSegment[] = ['spec', 'advertisements', k];
    switch (entry.advertisementType) {
      case 'PodCIDR':
        for (const c of this.#node.podCIDRs) {
          if (c.afi === afi) collector.add(peer.name, { prefix: c.cidr, afi, source: 'PodCIDR', origin: `Node/${this.#node.name} podCIDR`, ...set });
        }
        return;
      case 'CiliumPodIPPool':
      case 'Interface':
        this.warnOnce(`unsupported:${adv.ref}:${k}`, adv, [...path, 'advertisementType'], 'UnsupportedAdvertisement',
          `advertisementType ${entry.advertisementType} is not supported by tsbgp (${entry.advertisementType === 'CiliumPodIPPool' ? 'it reads no pool objects' : 'no interface addresses'}); ignored`);
        return;
      case 'Service': {
        if (entry.selector === undefined || entry.service === undefined) return; // no selector = no Service
        for (const svc of this.#servicesMatching(entry.selector)) {
          for (const type of entry.service.addresses) {
            const ips = serviceAddresses(svc.value, type);
            const local = ips.length > 0 && this.#warnTrafficPolicy(svc, type);
            for (const ip of ips) {
              if (ip.afi !== afi) continue;
              // Aggregation does not apply to Local traffic policy (each node's VIP stands alone).
              const agg = local ? undefined : afi === 'ipv4' ? entry.service.aggregationLengthIPv4 : entry.service.aggregationLengthIPv6;
              collector.add(peer.name, { prefix: routePrefix(ip, agg), afi, source: 'Service', origin: `${svc.ref} ${type}`, ...set });
            }
          }
        }
        return;
      }
    }
  }
}

function pathAttributeSet(a: Pick<PathAttributes, 'communities' | 'localPreference'>): PathAttributeSet {
  const c = a.communities;
  const large: LargeCommunity[] = [...(c?.large ?? [])];
  return {
    communities: [...(c?.standard ?? []), ...(c?.wellKnown ?? [])],
    largeCommunities: large,
    localPreference: a.localPreference,
  };
}

function poolContains(pool: LoadBalancerIPPool, ip: IpValue): boolean {
  const addr = parseIp(ip.address);
  if (addr === undefined) return false;
  for (const b of [...(pool.spec.blocks ?? []), ...(pool.spec.cidrs ?? [])]) {
    if (b.cidr !== undefined) {
      const c = parseCidr(b.cidr.cidr);
      if (c !== undefined && cidrContains(c, { ...addr, length: addr.bytes.length * 8 })) return true;
    } else if (b.start !== undefined && b.stop !== undefined && b.start.afi === addr.afi) {
      const lo = parseIp(b.start.address)!.bytes;
      const hi = parseIp(b.stop.address)!.bytes;
      if (compareBytes(lo, addr.bytes) <= 0 && compareBytes(addr.bytes, hi) <= 0) return true;
    }
  }
  return false;
}

/** Resolves validated objects; diagnostics include warnings and errors. */
export function resolveObjects(
  objects: readonly KnownObject[],
  nodeName: string,
  options: ResolveOptions = {},
): { config: NodeConfig; diagnostics: Diagnostic[] } {
  const r = new Resolver(objects, nodeName, options);
  const config = r.run();
  return { config, diagnostics: r.diagnostics };
}
