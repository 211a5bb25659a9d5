// Desired state vs the kernel, one prefix at a time. Pure: the writer calls
// decide() for each dirty entry, and a dump of the kernel's table goes through
// classifyKernelRoute() to rebuild what is installed (start, resync).
import { Rtn } from './netlink/constants.js';
import { EntryFlag } from './table.js';

export const Action = {
  /** Nothing to write and nothing to report. */
  NONE: 0,
  /** RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL: never overwrites anyone. */
  ADD: 1,
  /** RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE: only over our own route. */
  REPLACE: 2,
  /** RTM_DELROUTE qualified by our protocol and metric. */
  DELETE: 3,
  /** Another owner holds the key: skip and report. */
  CONFLICT: 4,
  /** A message for this prefix is in flight: decide again when it is answered. */
  WAIT: 5,
  /** Adopted from before a restart and not (yet) desired: keep until reconcile. */
  HOLD: 6,
  /** The kernel already holds what we want. */
  KEEP: 7,
  /**
   * Unsure whether our route is on the key (EEXIST on add, another owner's
   * replace): delete ours, qualified by protocol and metric; the answer tells.
   */
  PROBE: 8,
} as const;
export type Action = (typeof Action)[keyof typeof Action];

export const ACTION_NAMES: Readonly<Record<Action, string>> = {
  0: 'none',
  1: 'add',
  2: 'replace',
  3: 'delete',
  4: 'conflict',
  5: 'wait',
  6: 'hold',
  7: 'keep',
  8: 'probe',
};

/**
 * What to do for one prefix. `desired` and `installed` are form ids (the
 * kernel encoding of a next hop: a nexthop object id or a gateway list), -1
 * for none; equal ids mean the kernel already has exactly what we want.
 * `holdAdopted` is true until the daemon says its desired state is complete.
 */
export function decide(desired: number, installed: number, flags: number, holdAdopted: boolean): Action {
  if (flags & EntryFlag.INFLIGHT) return Action.WAIT;
  if (flags & EntryFlag.FAILED) return Action.NONE;
  if (flags & EntryFlag.PROBE) return Action.PROBE;
  if (desired < 0) {
    if (installed < 0) return Action.NONE;
    if (holdAdopted && flags & EntryFlag.ADOPTED) return Action.HOLD;
    return Action.DELETE;
  }
  // A replace could land on another owner's route: never write a key they hold.
  if (flags & EntryFlag.FOREIGN) return desired === installed ? Action.KEEP : Action.CONFLICT;
  if (installed < 0) return Action.ADD;
  return desired === installed ? Action.KEEP : Action.REPLACE;
}

export const RouteClass = {
  /** Not in our table, or not our key: none of our business. */
  IGNORE: 0,
  /** Ours (protocol and metric): what the kernel holds for the prefix. */
  OURS: 1,
  /** Our protocol with another metric (an older configuration): delete it. */
  OURS_STALE: 2,
  /** Another owner on our exact key: we must not write this prefix. */
  FOREIGN: 3,
} as const;
export type RouteClass = (typeof RouteClass)[keyof typeof RouteClass];

export interface Ownership {
  readonly table: number;
  readonly protocol: number;
  readonly metric: number;
}

/**
 * How a route seen in the kernel (dump or notification) relates to us. The
 * kernel's route key is (table, prefix, tos, metric); we always use tos 0.
 */
export function classifyKernelRoute(
  own: Ownership,
  table: number,
  protocol: number,
  metric: number,
  tos: number,
  type: number,
): RouteClass {
  if (table !== own.table || tos !== 0) return RouteClass.IGNORE;
  if (protocol === own.protocol) {
    if (type !== Rtn.UNICAST) return RouteClass.OURS_STALE;
    return metric === own.metric ? RouteClass.OURS : RouteClass.OURS_STALE;
  }
  return metric === own.metric ? RouteClass.FOREIGN : RouteClass.IGNORE;
}
