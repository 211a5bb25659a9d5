// Shapes shared by the v1 and v2 Cilium BGP kinds: timers, graceful restart,
// families, and the keepalive/hold-time rule.
import { z } from 'zod';
import { DEFAULTS } from '../model.js';
import { bool, check, intIn, obj, oneOf } from './common.js';
import { prefixLimit } from './extensions.js';

/** Cilium's AFI/SAFI enums: all are valid manifests, tsbgp runs the unicast ones. */
export const CILIUM_AFIS = ['ipv4', 'ipv6', 'l2vpn', 'ls', 'opaque'] as const;
export const CILIUM_SAFIS = [
  'unicast', 'multicast', 'mpls_label', 'encapsulation', 'vpls', 'evpn', 'ls', 'sr_policy', 'mup',
  'mpls_vpn', 'mpls_vpn_multicast', 'route_target_constraints', 'flowspec_unicast', 'flowspec_vpn', 'key_value',
] as const;

export const SERVICE_ADDRESS_TYPES = ['LoadBalancerIP', 'ClusterIP', 'ExternalIP'] as const;
export type ServiceAddressType = (typeof SERVICE_ADDRESS_TYPES)[number];

export const connectRetry = () => intIn(1, 2147483647, 'a number of seconds').default(DEFAULTS.connectRetryTimeSeconds);

/** RFC 4271 §4.2: zero (no keepalives, no hold timer) or at least three seconds. */
export const holdTime = () =>
  check('0 or a number of seconds from 3 to 65535', (v) =>
    typeof v === 'number' && Number.isInteger(v) && (v === 0 || (v >= 3 && v <= 65535)) ? v : undefined,
  ).default(DEFAULTS.holdTimeSeconds);

/** Default depends on the hold time, so it is resolved later (effectiveKeepAlive). */
export const keepAlive = () => intIn(0, 65535, 'a number of seconds').optional();

/** Keepalive must not exceed the hold time; zero only goes with a zero hold time. */
export function checkKeepAlive(
  ctx: z.RefinementCtx,
  hold: number,
  keepalive: number | undefined,
  path: (string | number)[],
  holdField: string,
): void {
  if (keepalive === undefined) return;
  if (keepalive > hold) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path,
      message: `keepalive time (${keepalive}) must not exceed the hold time ${holdField} (${hold})`,
    });
  } else if (keepalive === 0 && hold !== 0) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `keepalive time 0 is only valid with a hold time of 0, found hold time ${hold}` });
  }
}

/**
 * Unset keepalive: Cilium's 30 s when the hold time allows it (every manifest Cilium
 * accepts resolves the same); with a shorter hold time, where Cilium would reject the
 * manifest, a third of it (RFC 4271 §10's ratio); 0 with a zero hold time.
 */
export function effectiveKeepAlive(hold: number, keepalive: number | undefined): number {
  if (keepalive !== undefined) return keepalive;
  return hold >= DEFAULTS.keepAliveTimeSeconds ? DEFAULTS.keepAliveTimeSeconds : Math.floor(hold / 3);
}

export const gracefulRestart = () =>
  obj({
    enabled: bool(),
    restartTimeSeconds: intIn(1, 4095, 'a number of seconds').default(DEFAULTS.gracefulRestartTimeSeconds),
  });

export const afi = () => oneOf(CILIUM_AFIS);
export const safi = () => oneOf(CILIUM_SAFIS);

/** v1 neighbors[].families[] (with tsbgp's per-family prefixLimit). */
export const familyV1 = () => obj({ afi: afi(), safi: safi(), prefixLimit: prefixLimit().optional() });
