// CiliumBGPPeeringPolicy (cilium.io/v2alpha1): every field of Cilium's schema with
// its defaults, plus tsbgp's route-learning extension fields.
import { z } from 'zod';
import { DEFAULTS } from '../model.js';
import {
  bool, communities, hostCidr, intIn, labelSelector, list, localAsn, metadata, nonEmptyStr, obj, oneOf, peerAsn, port, U32_MAX,
} from './common.js';
import {
  checkKeepAlive, connectRetry, familyV1, gracefulRestart, holdTime, keepAlive, SERVICE_ADDRESS_TYPES,
} from './bgp-common.js';
import { checkTtlSecurity, importPolicy, prefixLimit, routeInstall, ttlSecurityHops } from './extensions.js';

export const PATH_ATTRIBUTE_SELECTOR_TYPES = ['PodCIDR', 'CiliumLoadBalancerIPPool', 'CiliumPodIPPool'] as const;

const pathAttributes = () =>
  obj({
    selectorType: oneOf(PATH_ATTRIBUTE_SELECTOR_TYPES),
    // Absent = every object of selectorType.
    selector: labelSelector().optional(),
    communities: communities().optional(),
    localPreference: intIn(0, U32_MAX).optional(),
  });

const neighbor = () =>
  obj({
    peerAddress: hostCidr(),
    peerPort: port().default(DEFAULTS.peerPort),
    peerASN: peerAsn(),
    authSecretRef: nonEmptyStr().optional(),
    eBGPMultihopTTL: intIn(1, 255, 'a TTL').default(DEFAULTS.ebgpMultihopTtl),
    connectRetryTimeSeconds: connectRetry(),
    holdTimeSeconds: holdTime(),
    keepAliveTimeSeconds: keepAlive(),
    gracefulRestart: gracefulRestart().optional(),
    families: list(familyV1()).optional(),
    advertisedPathAttributes: list(pathAttributes()).optional(),
    // tsbgp extension
    prefixLimit: prefixLimit().optional(),
    importPolicy: importPolicy().optional(),
    ttlSecurityHops: ttlSecurityHops().optional(),
  }).superRefine((n, ctx) => {
    checkKeepAlive(ctx, n.holdTimeSeconds, n.keepAliveTimeSeconds, ['keepAliveTimeSeconds'], 'holdTimeSeconds');
    checkTtlSecurity(ctx, n.ttlSecurityHops, n.eBGPMultihopTTL, 'eBGPMultihopTTL');
  });

const virtualRouter = () =>
  obj({
    localASN: localAsn(),
    exportPodCIDR: bool().default(false),
    podIPPoolSelector: labelSelector().optional(),
    serviceSelector: labelSelector().optional(),
    serviceAdvertisements: list(oneOf(SERVICE_ADDRESS_TYPES)).default(['LoadBalancerIP']),
    neighbors: list(neighbor(), 1),
    // tsbgp extension
    routeInstall: routeInstall().optional(),
    alwaysCompareMed: bool().default(false),
  }).superRefine((vr, ctx) => {
    const seen = new Map<string, number>();
    vr.neighbors.forEach((n, i) => {
      const first = seen.get(n.peerAddress.address);
      if (first !== undefined) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['neighbors', i, 'peerAddress'],
          message: `duplicate neighbor ${n.peerAddress.address}: already defined at neighbors[${first}]`,
        });
      } else seen.set(n.peerAddress.address, i);
    });
  });

export const peeringPolicy = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      nodeSelector: labelSelector().optional(),
      virtualRouters: list(virtualRouter(), 1),
    }).superRefine((s, ctx) => {
      // Cilium identifies a virtual router by its local ASN.
      const seen = new Map<number, number>();
      s.virtualRouters.forEach((vr, i) => {
        const first = seen.get(vr.localASN);
        if (first !== undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['virtualRouters', i, 'localASN'],
            message: `duplicate virtual router for localASN ${vr.localASN}: already defined at virtualRouters[${first}]`,
          });
        } else seen.set(vr.localASN, i);
      });
    }),
    status: z.unknown(),
  });

export type PeeringPolicy = z.output<ReturnType<typeof peeringPolicy>>;
export type VirtualRouter = PeeringPolicy['spec']['virtualRouters'][number];
export type Neighbor = VirtualRouter['neighbors'][number];
export type PathAttributes = NonNullable<Neighbor['advertisedPathAttributes']>[number];
