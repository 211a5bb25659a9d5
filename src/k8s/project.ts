// API objects → the input objects the config layer validates. Core kinds (Node,
// Service, Secret) are cut down to the fields tsbgp reads: the API server already
// validated them, and a field added by a newer Kubernetes must not make the whole
// configuration invalid. The BGP kinds pass whole (minus managedFields): their
// schema checks are the point, and a diagnostic names the object, not a file.
import type { KubernetesObject } from '@kubernetes/client-node';

type Obj = Record<string, unknown>;

function pick(o: unknown, keys: readonly string[]): Obj | undefined {
  if (o === null || typeof o !== 'object') return undefined;
  const out: Obj = {};
  for (const k of keys) {
    const v = (o as Obj)[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

function meta(o: KubernetesObject): Obj {
  return pick(o.metadata, ['name', 'namespace', 'labels', 'annotations']) ?? {};
}

export function projectObject(o: KubernetesObject): unknown {
  const base = { apiVersion: o.apiVersion, kind: o.kind };
  const any = o as unknown as Obj;
  switch (o.kind) {
    case 'Node': {
      const status = any['status'] as Obj | undefined;
      const addresses = Array.isArray(status?.['addresses'])
        ? (status['addresses'] as unknown[]).map((a) => pick(a, ['type', 'address']))
        : undefined;
      return { ...base, metadata: meta(o), spec: pick(any['spec'], ['podCIDR', 'podCIDRs']) ?? {}, ...(addresses ? { status: { addresses } } : {}) };
    }
    case 'Service': {
      const spec = pick(any['spec'], ['type', 'clusterIP', 'clusterIPs', 'externalIPs', 'loadBalancerClass', 'externalTrafficPolicy', 'internalTrafficPolicy']);
      const lb = ((any['status'] as Obj | undefined)?.['loadBalancer'] as Obj | undefined)?.['ingress'];
      const ingress = Array.isArray(lb) ? lb.map((i) => pick(i, ['ip'])) : undefined;
      return { ...base, metadata: meta(o), spec: spec ?? {}, ...(ingress ? { status: { loadBalancer: { ingress } } } : {}) };
    }
    case 'Secret':
      return { ...base, metadata: meta(o), ...pick(any, ['type', 'data', 'stringData']) };
    default: {
      const m = { ...(o.metadata as Obj | undefined) };
      delete m['managedFields'];
      return { ...any, metadata: m };
    }
  }
}
