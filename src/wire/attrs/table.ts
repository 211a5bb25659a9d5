// The attribute descriptor table (BIRD's bgp_attr_table): one entry per attribute we
// understand, indexed by type code. Everything not here is "unrecognised" (RFC 4271 §5).
import { AGGREGATOR, AS4_AGGREGATOR, ATOMIC_AGGREGATE } from './aggregator.js';
import { AS4_PATH, AS_PATH } from './as-path.js';
import { CLUSTER_LIST, LOCAL_PREF, MULTI_EXIT_DISC, NEXT_HOP, ORIGIN, ORIGINATOR_ID } from './basic.js';
import { COMMUNITIES, EXTENDED_COMMUNITIES, LARGE_COMMUNITY } from './communities.js';
import type { AttrDescriptor } from './descriptor.js';
import { MP_REACH_NLRI, MP_UNREACH_NLRI } from './mp.js';

const ALL: readonly AttrDescriptor[] = [
  ORIGIN,
  AS_PATH,
  NEXT_HOP,
  MULTI_EXIT_DISC,
  LOCAL_PREF,
  ATOMIC_AGGREGATE,
  AGGREGATOR,
  COMMUNITIES,
  ORIGINATOR_ID,
  CLUSTER_LIST,
  MP_REACH_NLRI,
  MP_UNREACH_NLRI,
  EXTENDED_COMMUNITIES,
  AS4_PATH,
  AS4_AGGREGATOR,
  LARGE_COMMUNITY,
];

/** Descriptor by type code (undefined = unrecognised). */
export const ATTR_TABLE: readonly (AttrDescriptor | undefined)[] = (() => {
  const t = new Array<AttrDescriptor | undefined>(256).fill(undefined);
  for (const d of ALL) t[d.type] = d;
  return t;
})();

/** 1 for each recognised type code: the locate phase's cheap "is it known" test. */
export const KNOWN_TYPES: Uint8Array = (() => {
  const k = new Uint8Array(256);
  for (const d of ALL) k[d.type] = 1;
  return k;
})();

/** Descriptors with an encoder, in ascending type order (the canonical order on the wire). */
export const ENCODE_ORDER: readonly AttrDescriptor[] = ALL.filter((d) => d.encode !== undefined).sort(
  (a, b) => a.type - b.type,
);
