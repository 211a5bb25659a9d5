// One raw manifest object → a typed, defaulted object of a kind tsbgp reads, or
// diagnostics. Unknown kinds are skipped with a warning (a whole cluster dump may
// be fed); `List` objects (kubectl get -o yaml) are flattened.
import type { z } from 'zod';
import { describeValue, makeDiagnostic } from './diagnostics.js';
import type { Diagnostic, PathSegment, Source } from './diagnostics.js';
import { issuesToDiagnostics } from './issues.js';
import { peeringPolicy } from './schema/cilium-v1.js';
import { advertisement, clusterConfig, loadBalancerIPPool, nodeConfigOverride, peerConfig } from './schema/cilium-v2.js';
import { node, secret, service } from './schema/core.js';
import { clusterConfigExtension, peerConfigExtension, TSBGP_API_VERSION } from './schema/tsbgp.js';

const CILIUM_V2 = ['cilium.io/v2', 'cilium.io/v2alpha1'] as const;

/** The kinds tsbgp reads, their accepted apiVersions and schemas (built once). */
export const KINDS = {
  CiliumBGPPeeringPolicy: { apiVersions: ['cilium.io/v2alpha1'], namespaced: false, schema: peeringPolicy() },
  CiliumBGPClusterConfig: { apiVersions: CILIUM_V2, namespaced: false, schema: clusterConfig() },
  CiliumBGPPeerConfig: { apiVersions: CILIUM_V2, namespaced: false, schema: peerConfig() },
  CiliumBGPAdvertisement: { apiVersions: CILIUM_V2, namespaced: false, schema: advertisement() },
  CiliumBGPNodeConfigOverride: { apiVersions: CILIUM_V2, namespaced: false, schema: nodeConfigOverride() },
  CiliumLoadBalancerIPPool: { apiVersions: CILIUM_V2, namespaced: false, schema: loadBalancerIPPool() },
  Node: { apiVersions: ['v1'], namespaced: false, schema: node() },
  Service: { apiVersions: ['v1'], namespaced: true, schema: service() },
  Secret: { apiVersions: ['v1'], namespaced: true, schema: secret() },
  BGPPeerConfigExtension: { apiVersions: [TSBGP_API_VERSION], namespaced: false, schema: peerConfigExtension() },
  BGPClusterConfigExtension: { apiVersions: [TSBGP_API_VERSION], namespaced: false, schema: clusterConfigExtension() },
} as const;

export type KindName = keyof typeof KINDS;
export type KindValue<K extends KindName> = z.output<(typeof KINDS)[K]['schema']>;

export interface TypedObject<K extends KindName = KindName> {
  readonly kind: K;
  readonly apiVersion: string;
  readonly name: string;
  /** Namespaced kinds only (default "default"). */
  readonly namespace: string | undefined;
  /** `Kind/name` or `Kind/namespace/name`, for messages. */
  readonly ref: string;
  readonly value: KindValue<K>;
  readonly source: Source;
}

export type KnownObject = { [K in KindName]: TypedObject<K> }[KindName];

export interface InputObject {
  readonly value: unknown;
  readonly source: Source;
}

export interface ValidateResult {
  readonly objects: KnownObject[];
  readonly diagnostics: Diagnostic[];
}

function isKind(kind: string): kind is KindName {
  return Object.hasOwn(KINDS, kind);
}

function objectRef(kind: string, name: unknown, namespace: string | undefined): string {
  const n = typeof name === 'string' && name.length > 0 ? name : '<unnamed>';
  return namespace === undefined ? `${kind}/${n}` : `${kind}/${namespace}/${n}`;
}

export function validateInput(input: InputObject): ValidateResult {
  const objects: KnownObject[] = [];
  const diagnostics: Diagnostic[] = [];
  validateInto(input.value, input.source, objects, diagnostics);
  return { objects, diagnostics };
}

function validateInto(raw: unknown, source: Source, objects: KnownObject[], diagnostics: Diagnostic[]): void {
  const diag = (code: string, message: string, path: readonly PathSegment[] = [], severity: 'error' | 'warning' = 'error', object?: string) =>
    diagnostics.push(makeDiagnostic({ code, message, source, path, severity, object }));

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    diag('NotAnObject', `expected a Kubernetes object (a mapping with apiVersion and kind), found ${describeValue(raw)}`);
    return;
  }
  const o = raw as Record<string, unknown>;
  const kind = o['kind'];
  const apiVersion = o['apiVersion'];
  if (typeof kind !== 'string' || kind.length === 0) {
    diag(kind === undefined ? 'MissingField' : 'InvalidValue', kind === undefined ? 'required field is missing' : `expected a kind name, found ${describeValue(kind)}`, ['kind']);
    return;
  }
  if (typeof apiVersion !== 'string' || apiVersion.length === 0) {
    diag(apiVersion === undefined ? 'MissingField' : 'InvalidValue', apiVersion === undefined ? 'required field is missing' : `expected an apiVersion, found ${describeValue(apiVersion)}`, ['apiVersion']);
    return;
  }
  // `kubectl get … -o yaml` wraps objects in a List.
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(o['items']))) {
    const items = o['items'];
    if (!Array.isArray(items)) {
      diag('InvalidType', `expected a list, found ${describeValue(items)}`, ['items']);
      return;
    }
    items.forEach((item, i) => validateInto(item, { ...source, base: [...source.base, 'items', i] }, objects, diagnostics));
    return;
  }
  const meta = o['metadata'];
  const rawName = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>)['name'] : undefined;
  const rawNs = meta !== null && typeof meta === 'object' ? (meta as Record<string, unknown>)['namespace'] : undefined;

  if (!isKind(kind)) {
    diag('UnknownKind', `kind ${kind} (${apiVersion}) is not used by tsbgp; ignored`, [], 'warning', objectRef(kind, rawName, undefined));
    return;
  }
  const def = KINDS[kind];
  const nsForRef = def.namespaced ? (typeof rawNs === 'string' && rawNs.length > 0 ? rawNs : 'default') : undefined;
  const ref = objectRef(kind, rawName, nsForRef);
  if (!(def.apiVersions as readonly string[]).includes(apiVersion)) {
    diag('UnsupportedApiVersion', `expected apiVersion ${def.apiVersions.join(' or ')} for kind ${kind}, found ${JSON.stringify(apiVersion)}`, ['apiVersion'], 'error', ref);
    return;
  }
  const parsed = def.schema.safeParse(raw);
  if (!parsed.success) {
    diagnostics.push(...issuesToDiagnostics(parsed.error.issues, raw, source, ref));
    return;
  }
  const value = parsed.data as { metadata: { name: string; namespace?: string | undefined } };
  objects.push({
    kind,
    apiVersion,
    name: value.metadata.name,
    namespace: nsForRef,
    ref,
    value,
    source,
  } as KnownObject);
}
