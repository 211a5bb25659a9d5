// tsbgp's own kinds (tsbgp.io/v1alpha1): the route-learning fields for clusters
// whose cilium.io CRDs are Cilium's (which prune unknown fields). Each object names
// one Cilium object and carries only the extension fields; the resolver lays them
// over that object, so the result equals writing the fields inline.
import { z } from 'zod';
import { bool, list, metadata, nonEmptyStr, obj } from './common.js';
import { afi, safi } from './bgp-common.js';
import { importPolicy, prefixLimit, routeInstall, ttlSecurityHops } from './extensions.js';

export const TSBGP_API_VERSION = 'tsbgp.io/v1alpha1';

export const peerConfigExtension = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      peerConfigRef: obj({ name: nonEmptyStr() }),
      prefixLimit: prefixLimit().optional(),
      importPolicy: importPolicy().optional(),
      ttlSecurityHops: ttlSecurityHops().optional(),
      families: list(obj({ afi: afi(), safi: safi(), prefixLimit: prefixLimit() })).optional(),
    }),
    status: z.unknown(),
  });

export const clusterConfigExtension = () =>
  obj({
    apiVersion: z.unknown(),
    kind: z.unknown(),
    metadata: metadata(),
    spec: obj({
      clusterConfigRef: obj({ name: nonEmptyStr() }),
      bgpInstances: list(
        obj({
          name: nonEmptyStr(),
          routeInstall: routeInstall().optional(),
          alwaysCompareMed: bool().optional(),
        }),
        1,
      ),
    }),
    status: z.unknown(),
  });

export type PeerConfigExtension = z.output<ReturnType<typeof peerConfigExtension>>;
export type ClusterConfigExtension = z.output<ReturnType<typeof clusterConfigExtension>>;
