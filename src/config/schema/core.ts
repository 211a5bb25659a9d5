// Core Kubernetes kinds a cluster dump holds (v1 Node, Service, Secret). Every field
// of their spec is known (typos are errors); the ones tsbgp does not use are accepted
// as anything. `status` is lenient: only the parts we read are checked.
import { z } from 'zod';
import { check, cidr, ipAddress, list, metadata, obj, oneOf, str } from './common.js';
import type { IpValue } from './common.js';

const nodeAddress = () =>
  z.object({ type: str(), address: str() }).passthrough();

export const node = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      podCIDR: cidr().optional(),
      podCIDRs: list(cidr()).optional(),
      providerID: z.unknown(),
      unschedulable: z.unknown(),
      taints: z.unknown(),
      configSource: z.unknown(),
      externalID: z.unknown(),
    }).default({}),
    status: z.object({ addresses: list(nodeAddress()).optional() }).passthrough().optional(),
  });

export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

/** "None" (headless) and "" (unset) are not addresses (null); anything else must be one. */
const clusterIp = () =>
  check('an IP address, "None" or ""', (v): IpValue | null | undefined => {
    if (v === 'None' || v === '') return null;
    if (typeof v !== 'string') return undefined;
    const r = ipAddress().safeParse(v);
    return r.success ? r.data : undefined;
  });

export const service = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      type: oneOf(SERVICE_TYPES).default('ClusterIP'),
      clusterIP: clusterIp().optional(),
      clusterIPs: list(clusterIp()).optional(),
      externalIPs: list(ipAddress()).optional(),
      loadBalancerClass: str().optional(),
      loadBalancerIP: z.unknown(),
      externalTrafficPolicy: oneOf(['Cluster', 'Local'] as const).optional(),
      internalTrafficPolicy: oneOf(['Cluster', 'Local'] as const).optional(),
      // Known ServiceSpec fields tsbgp does not use.
      ports: z.unknown(),
      selector: z.unknown(),
      sessionAffinity: z.unknown(),
      sessionAffinityConfig: z.unknown(),
      loadBalancerSourceRanges: z.unknown(),
      externalName: z.unknown(),
      healthCheckNodePort: z.unknown(),
      publishNotReadyAddresses: z.unknown(),
      ipFamilies: z.unknown(),
      ipFamilyPolicy: z.unknown(),
      allocateLoadBalancerNodePorts: z.unknown(),
      trafficDistribution: z.unknown(),
    }).default({}),
    status: z
      .object({
        loadBalancer: z
          .object({
            ingress: list(z.object({ ip: ipAddress().optional(), hostname: z.unknown() }).passthrough()).optional(),
          })
          .passthrough()
          .optional(),
      })
      .passthrough()
      .optional(),
  });

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const secret = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    type: z.unknown(),
    immutable: z.unknown(),
    data: z.record(z.string(), check('base64-encoded data', (v) => (typeof v === 'string' && BASE64.test(v) ? Buffer.from(v, 'base64').toString('utf8') : undefined))).optional(),
    stringData: z.record(z.string(), str()).optional(),
  });

export type NodeObject = z.output<ReturnType<typeof node>>;
export type ServiceObject = z.output<ReturnType<typeof service>>;
export type SecretObject = z.output<ReturnType<typeof secret>>;
