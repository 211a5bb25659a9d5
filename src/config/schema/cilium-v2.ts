// The BGPv2 kinds (cilium.io/v2 and v2alpha1): CiliumBGPClusterConfig,
// CiliumBGPPeerConfig, CiliumBGPAdvertisement, CiliumBGPNodeConfigOverride, plus
// CiliumLoadBalancerIPPool (read only for its blocks and labels, to select
// path attributes by pool as v1's advertisedPathAttributes does).
import { z } from 'zod';
import { DEFAULTS } from '../model.js';
import {
  bool, cidr, communities, intIn, ipAddress, ipv4Address, labelSelector, list, localAsn, metadata, nonEmptyStr, obj, oneOf,
  peerAsn, port, U32_MAX,
} from './common.js';
import {
  afi, checkKeepAlive, connectRetry, gracefulRestart, holdTime, keepAlive, safi, SERVICE_ADDRESS_TYPES,
} from './bgp-common.js';
import { checkTtlSecurity, importPolicy, prefixLimit, routeInstall, ttlSecurityHops } from './extensions.js';

const name255 = () =>
  nonEmptyStr().refine((s) => s.length <= 255, { message: 'expected a name of at most 255 characters' });

function uniqueNames(items: readonly { name: string }[], ctx: z.RefinementCtx, listField: string, what: string): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const first = seen.get(it.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [listField, i, 'name'],
        message: `duplicate ${what} name "${it.name}": already defined at ${listField}[${first}]`,
      });
    } else seen.set(it.name, i);
  });
}

const peerV2 = () =>
  obj({
    name: name255(),
    peerAddress: ipAddress().optional(),
    peerASN: peerAsn().default(0),
    autoDiscovery: obj({
      mode: oneOf(['DefaultGateway', 'Unnumbered'] as const),
      defaultGateway: obj({ addressFamily: oneOf(['ipv4', 'ipv6'] as const) }).optional(),
      unnumbered: obj({ interface: nonEmptyStr() }).optional(),
    }).optional(),
    peerConfigRef: obj({
      name: nonEmptyStr(),
      // v2alpha1 had these; their only valid values are the defaults.
      group: oneOf(['cilium.io'] as const).optional(),
      kind: oneOf(['CiliumBGPPeerConfig'] as const).optional(),
    }).optional(),
  }).superRefine((p, ctx) => {
    if (p.peerAddress === undefined && p.autoDiscovery === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['peerAddress'], message: 'required field is missing (a peer needs peerAddress or autoDiscovery)' });
    }
  });

const bgpInstance = () =>
  obj({
    name: name255(),
    localASN: localAsn().optional(),
    localPort: port().optional(),
    peers: list(peerV2()).default([]),
    // tsbgp extension
    routeInstall: routeInstall().optional(),
    alwaysCompareMed: bool().default(false),
  }).superRefine((inst, ctx) => {
    uniqueNames(inst.peers, ctx, 'peers', 'peer');
    const seen = new Map<string, number>();
    inst.peers.forEach((p, i) => {
      if (p.peerAddress === undefined) return;
      const first = seen.get(p.peerAddress.address);
      if (first !== undefined) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['peers', i, 'peerAddress'],
          message: `duplicate peer address ${p.peerAddress.address}: already used by peers[${first}]`,
        });
      } else seen.set(p.peerAddress.address, i);
    });
  });

export const clusterConfig = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      nodeSelector: labelSelector().optional(),
      bgpInstances: list(bgpInstance(), 1, 16),
    }).superRefine((s, ctx) => uniqueNames(s.bgpInstances, ctx, 'bgpInstances', 'BGP instance')),
    status: z.unknown(),
  });

const familyWithAdverts = () =>
  obj({
    afi: afi(),
    safi: safi(),
    // Absent = no advertisements for this family.
    advertisements: labelSelector().optional(),
    prefixLimit: prefixLimit().optional(),
  });

export const peerConfig = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      transport: obj({
        peerPort: port().default(DEFAULTS.peerPort),
        // v2alpha1 only, deprecated there: the source port is always ephemeral.
        localPort: port().optional(),
      }).optional(),
      timers: obj({
        connectRetryTimeSeconds: connectRetry(),
        holdTimeSeconds: holdTime(),
        keepAliveTimeSeconds: keepAlive(),
      })
        .superRefine((t, ctx) => checkKeepAlive(ctx, t.holdTimeSeconds, t.keepAliveTimeSeconds, ['keepAliveTimeSeconds'], 'holdTimeSeconds'))
        .optional(),
      authSecretRef: nonEmptyStr().optional(),
      gracefulRestart: gracefulRestart().optional(),
      ebgpMultihop: intIn(1, 255, 'a TTL').default(DEFAULTS.ebgpMultihopTtl),
      families: list(familyWithAdverts()).optional(),
      // tsbgp extension
      prefixLimit: prefixLimit().optional(),
      importPolicy: importPolicy().optional(),
      ttlSecurityHops: ttlSecurityHops().optional(),
    })
      .superRefine((s, ctx) => checkTtlSecurity(ctx, s.ttlSecurityHops, s.ebgpMultihop, 'ebgpMultihop'))
      .default({}),
    status: z.unknown(),
  });

export const ADVERTISEMENT_TYPES = ['PodCIDR', 'CiliumPodIPPool', 'Service', 'Interface'] as const;

const advertisementEntry = () =>
  obj({
    advertisementType: oneOf(ADVERTISEMENT_TYPES),
    service: obj({
      addresses: list(oneOf(SERVICE_ADDRESS_TYPES), 1),
      aggregationLengthIPv4: intIn(0, 31, 'a prefix length').optional(),
      aggregationLengthIPv6: intIn(0, 127, 'a prefix length').optional(),
    }).optional(),
    // Newer Cilium releases: advertise an interface's addresses (not supported by tsbgp).
    interface: obj({ name: nonEmptyStr() }).optional(),
    // Absent = no objects of advertisementType are selected (PodCIDR needs none).
    selector: labelSelector().optional(),
    attributes: obj({
      communities: communities().optional(),
      localPreference: intIn(0, U32_MAX).optional(),
    }).optional(),
  }).superRefine((a, ctx) => {
    if (a.advertisementType === 'Service' && a.service === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['service'], message: "required field is missing (advertisementType 'Service' needs service.addresses)" });
    }
  });

export const advertisement = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({ advertisements: list(advertisementEntry()) }),
    status: z.unknown(),
  });

export const nodeConfigOverride = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      bgpInstances: list(
        obj({
          name: name255(),
          routerID: ipv4Address().optional(),
          localPort: port().optional(),
          localASN: localAsn().optional(),
          peers: list(
            obj({
              name: name255(),
              localAddress: ipAddress().optional(),
              localPort: port().optional(), // deprecated, no effect (as in Cilium)
            }),
          ).optional(),
        }).superRefine((i, ctx) => uniqueNames(i.peers ?? [], ctx, 'peers', 'peer')),
        1,
      ),
    }).superRefine((s, ctx) => uniqueNames(s.bgpInstances, ctx, 'bgpInstances', 'BGP instance')),
    status: z.unknown(),
  });

const ipBlock = () =>
  obj({ cidr: cidr().optional(), start: ipAddress().optional(), stop: ipAddress().optional() }).superRefine((b, ctx) => {
    const range = b.start !== undefined || b.stop !== undefined;
    if (b.cidr === undefined && !range) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['cidr'], message: 'required field is missing (a block needs cidr, or start and stop)' });
    } else if (b.cidr !== undefined && range) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['start'], message: 'a block has either cidr or start/stop, not both' });
    } else if (range && (b.start === undefined || b.stop === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [b.start === undefined ? 'start' : 'stop'], message: 'required field is missing (a range needs start and stop)' });
    } else if (range && b.start!.afi !== b.stop!.afi) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['stop'], message: 'start and stop must be of the same address family' });
    }
  });

export const loadBalancerIPPool = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      blocks: list(ipBlock()).optional(),
      cidrs: list(ipBlock()).optional(), // deprecated alias of blocks
      serviceSelector: labelSelector().optional(),
      allowFirstLastIPs: oneOf(['Yes', 'No'] as const).optional(),
      disabled: bool().default(false),
    }),
    status: z.unknown(),
  });

export type ClusterConfig = z.output<ReturnType<typeof clusterConfig>>;
export type BgpInstanceV2 = ClusterConfig['spec']['bgpInstances'][number];
export type PeerV2 = BgpInstanceV2['peers'][number];
export type PeerConfig = z.output<ReturnType<typeof peerConfig>>;
export type AdvertisementObject = z.output<ReturnType<typeof advertisement>>;
export type AdvertisementEntry = AdvertisementObject['spec']['advertisements'][number];
export type NodeConfigOverride = z.output<ReturnType<typeof nodeConfigOverride>>;
export type LoadBalancerIPPool = z.output<ReturnType<typeof loadBalancerIPPool>>;
