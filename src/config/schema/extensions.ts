// tsbgp's route-learning fields, added to the Cilium kinds: prefixLimit and
// importPolicy (v1 neighbors[], CiliumBGPPeerConfig.spec, and per family),
// routeInstall and alwaysCompareMed (v1 virtualRouters[], v2 bgpInstances[]).
import { z } from 'zod';
import { normaliseCommunities, normaliseLarge } from '../communities.js';
import type { ImportPolicy, ImportRule, PrefixLimit, PrefixMatch, RouteInstall } from '../model.js';
import { DEFAULTS } from '../model.js';
import { maxLength } from '../net.js';
import { anyCommunity, asn, bool, check, cidr, intIn, largeCommunity, list, obj, oneOf, str, U32_MAX } from './common.js';

/** setTimeout's ceiling (2^31-1 ms) in whole seconds: a longer timer would fire at once. */
export const MAX_TIMER_SECONDS = 2147483;

export const prefixLimit = () =>
  obj({
    maxPrefixes: intIn(1, U32_MAX),
    warningThresholdPercent: intIn(1, 100, 'a percentage').default(DEFAULTS.warningThresholdPercent),
    restartTimerSeconds: intIn(0, MAX_TIMER_SECONDS, 'a number of seconds').default(DEFAULTS.restartTimerSeconds),
  }).transform(
    (p): PrefixLimit => ({
      maxPrefixes: p.maxPrefixes,
      warningThresholdPercent: p.warningThresholdPercent,
      restartTimerSeconds: p.restartTimerSeconds,
    }),
  );

const ACTIONS = ['Accept', 'Reject'] as const;

const prefixMatch = () =>
  obj({
    cidr: cidr(),
    ge: intIn(0, 128, 'a prefix length').optional(),
    le: intIn(0, 128, 'a prefix length').optional(),
  })
    .superRefine((p, ctx) => {
      const max = maxLength(p.cidr.afi);
      const len = p.cidr.length;
      const ge = p.ge ?? len;
      const le = p.le ?? (p.ge !== undefined ? max : len);
      const bad = (path: string, message: string) => ctx.addIssue({ code: z.ZodIssueCode.custom, path: [path], message });
      if (p.ge !== undefined && (p.ge < len || p.ge > max)) {
        bad('ge', `ge must be between the prefix length ${len} and ${max}, found ${p.ge}`);
      } else if (p.le !== undefined && (p.le < ge || p.le > max)) {
        bad('le', `le must be between ${ge} (${p.ge !== undefined ? 'ge' : 'the prefix length'}) and ${max}, found ${p.le}`);
      } else if (ge > le) {
        bad('ge', `ge (${ge}) must not exceed le (${le})`);
      }
    })
    .transform((p): PrefixMatch => {
      const max = maxLength(p.cidr.afi);
      const len = p.cidr.length;
      const ge = p.ge ?? len;
      // "ge" alone means "up to the longest"; "le" alone starts at the prefix length.
      const le = p.le ?? (p.ge !== undefined ? max : len);
      return { cidr: p.cidr.cidr, afi: p.cidr.afi, length: len, ge, le };
    });

const ruleMatch = () =>
  obj({
    prefixes: list(prefixMatch(), 1).optional(),
    communities: list(anyCommunity(), 1).optional(),
    largeCommunities: list(largeCommunity(), 1).optional(),
    asPath: obj({
      contains: list(asn(), 1).optional(),
      originatedBy: list(asn(), 1).optional(),
    }).optional(),
  });

const ruleSet = () =>
  obj({
    localPreference: intIn(0, U32_MAX).optional(),
    addCommunities: list(anyCommunity()).optional(),
    addLargeCommunities: list(largeCommunity()).optional(),
  });

const rule = () =>
  obj({
    name: str().optional(),
    // No match = every route (all of zero conditions hold).
    match: ruleMatch().optional(),
    action: oneOf(ACTIONS),
    set: ruleSet().optional(),
  }).superRefine((r, ctx) => {
    if (r.action === 'Reject' && r.set !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['set'], message: 'set is only valid with action Accept (a rejected route is not kept)' });
    }
  });

/**
 * GTSM needs TTL 255 on every packet, so it cannot be combined with a multihop TTL
 * (FRR refuses the pair too); the extension kind gets the same check in resolve.
 */
export function checkTtlSecurity(ctx: z.RefinementCtx, hops: number | undefined, multihopTtl: number, multihopField: string): void {
  if (hops === undefined || multihopTtl <= 1) return;
  ctx.addIssue({
    code: z.ZodIssueCode.custom,
    path: ['ttlSecurityHops'],
    message: `ttlSecurityHops and ${multihopField} > 1 exclude each other (GTSM always sends with TTL 255); use ttlSecurityHops: ${multihopTtl} alone`,
  });
}

/** GTSM (RFC 5082): send with TTL 255, accept only packets from at most this many hops away. */
export const ttlSecurityHops = () => intIn(1, 254, 'a hop count');

export const importPolicy = () =>
  obj({
    defaultAction: oneOf(ACTIONS).default('Reject'),
    allowDefaultRoute: bool().default(false),
    // Keep a pre-policy copy of every received route (Adj-RIB-In pre-policy), so a policy
    // edit re-evaluates locally instead of asking the peer for a route refresh.
    softReconfiguration: bool().default(false),
    rules: list(rule()).default([]),
  }).transform(
    (p): ImportPolicy => ({
      defaultAction: p.defaultAction,
      allowDefaultRoute: p.allowDefaultRoute,
      softReconfiguration: p.softReconfiguration,
      rules: p.rules.map(
        (r, i): ImportRule => ({
          name: r.name ?? `rule-${i}`,
          match: {
            prefixes: r.match?.prefixes,
            communities: r.match?.communities,
            largeCommunities: r.match?.largeCommunities,
            asPathContains: r.match?.asPath?.contains,
            asPathOriginatedBy: r.match?.asPath?.originatedBy,
          },
          action: r.action,
          set: {
            localPreference: r.set?.localPreference,
            addCommunities: normaliseCommunities(r.set?.addCommunities ?? []),
            addLargeCommunities: normaliseLarge(r.set?.addLargeCommunities ?? []),
          },
        }),
      ),
    }),
  );

/** Kernel route tables that must not take BGP routes: 0 (unspec) and 255 (local). */
const TABLE_NAMES = { main: 254, default: 253 } as const;

const table = () =>
  check('a routing table id from 1 to 4294967295 except 255 (local), or "main" / "default"', (v) => {
    if (typeof v === 'string') return Object.hasOwn(TABLE_NAMES, v) ? TABLE_NAMES[v as keyof typeof TABLE_NAMES] : undefined;
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= U32_MAX && v !== 255 ? v : undefined;
  });

/** rtnetlink protocols 0-4 belong to the kernel (unspec, redirect, kernel, boot, static). */
const RESERVED_PROTOCOLS = ['unspec', 'redirect', 'kernel', 'boot', 'static'] as const;

const protocol = () =>
  z.unknown().transform((v, ctx): number => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 4) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `protocol ${v} (${RESERVED_PROTOCOLS[v]}) is reserved by the kernel; use 186 (bgp) or another value from 5 to 255 that no other daemon uses`,
      });
      return z.NEVER;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 5 || v > 255) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected a route protocol number from 5 to 255' });
      return z.NEVER;
    }
    return v;
  });

export const routeInstall = () =>
  obj({
    enabled: bool().default(DEFAULTS.routeInstall.enabled),
    table: table().default(DEFAULTS.routeInstall.table),
    metric: intIn(0, U32_MAX, 'a route metric').default(DEFAULTS.routeInstall.metric),
    protocol: protocol().default(DEFAULTS.routeInstall.protocol),
    maxPaths: intIn(1, 64).default(DEFAULTS.routeInstall.maxPaths),
  }).transform(
    (r): RouteInstall => ({ enabled: r.enabled, table: r.table, metric: r.metric, protocol: r.protocol, maxPaths: r.maxPaths }),
  );

export const DEFAULT_ROUTE_INSTALL: RouteInstall = { ...DEFAULTS.routeInstall };
