// The interface the daemon programs the FIB through, and what it reports.
// Two implementations share all logic (fib.ts) and differ in the socket below:
// the kernel (rtnetlink through native/netlink) and memory (an in-process
// kernel model, for dry runs and unit tests).
import type { FibBatch } from './batch.js';
import type { Family } from './ip.js';
import type { GatewayInput } from './nexthops.js';

export type { GatewayInput } from './nexthops.js';
export type { Resolution as NextHopResolution } from './routes.js';
import type { Resolution } from './routes.js';

export interface KernelNexthop {
  readonly gateway?: string;
  readonly oif: number;
  readonly weight: number;
}

/** A route as the kernel shows it (dump()). */
export interface KernelRoute {
  readonly family: Family;
  /** "10.0.0.0/24" */
  readonly dst: string;
  readonly table: number;
  readonly protocol: number;
  readonly metric: number;
  /** RTN_* (1 = unicast). */
  readonly type: number;
  readonly scope: number;
  /** Nexthop object id (0 when the route carries its next hops inline). */
  readonly nhId: number;
  readonly nexthops: readonly KernelNexthop[];
}

export interface LinkInfo {
  readonly index: number;
  readonly name: string;
  /** Administratively up (IFF_UP): its connected subnets resolve next hops. */
  readonly up: boolean;
  /** Carrier (IFF_LOWER_UP). */
  readonly lowerUp: boolean;
  /** RFC 2863 operstate: "up", "down", "lowerlayerdown", "unknown", ... */
  readonly operstate: string;
}

export interface AddressInfo {
  readonly index: number;
  readonly family: Family;
  /** Our address on the link. */
  readonly local: string;
  /** The connected subnet, "10.0.0.0/24" (the peer /32 on point-to-point links). */
  readonly subnet: string;
}

export type FibOp = 'add' | 'replace' | 'delete';

/** Reported through on('result'). Successes are counted in stats(), not reported. */
export type FibEvent =
  | {
      readonly type: 'error';
      readonly prefix: string;
      readonly op: FibOp;
      readonly errno: number;
      /** EEXIST, ENETUNREACH, ... */
      readonly code: string;
      /** The kernel's extended ACK text, when it gave one. */
      readonly message?: string;
      /** Gateways of the route's next-hop set. */
      readonly gateways: readonly string[];
    }
  | {
      /** Another owner's route holds the key we need; our route is not written. */
      readonly type: 'conflict';
      readonly prefix: string;
      /** The other route's protocol, when known (from a dump or notification). */
      readonly protocol?: number;
    }
  | { readonly type: 'conflict-resolved'; readonly prefix: string }
  | {
      readonly type: 'nexthop-error';
      readonly id: number;
      readonly gateway?: string;
      readonly oif: number;
      readonly errno: number;
      readonly code: string;
      readonly message?: string;
    }
  | {
      /** A whole batch could not be sent (EPERM when not privileged, ...). */
      readonly type: 'send-error';
      readonly errno: number;
      readonly code: string;
      readonly routes: number;
    }
  | {
      /** State was reread from the kernel: start, ENOBUFS, a link with our next hops went down. */
      readonly type: 'resync';
      readonly reason: string;
    };

export interface FibStats {
  /** Prefixes we track (desired, installed or held by others). */
  readonly entries: number;
  readonly desired: number;
  readonly installed: number;
  /** `installed` split by family (adopted routes included). */
  readonly installedByFamily: { readonly 4: number; readonly 6: number };
  /** Queued or in flight. */
  readonly pending: number;
  readonly failed: number;
  readonly conflicts: number;
  /** Routes ours from before a restart, held until reconcile(). */
  readonly adopted: number;
  readonly nexthopObjects: number;
  readonly batches: number;
  readonly messages: number;
  readonly errors: number;
  readonly resyncs: number;
  readonly overflows: number;
  /** Route writes sent to the kernel, by kind (stale-route deletes and probes count as deletes). */
  readonly operations: { readonly add: number; readonly replace: number; readonly delete: number };
}

/** One prefix's state, for the CLI. */
export interface RouteState {
  readonly prefix: string;
  /** Next-hop set handle the daemon asked for, null when withdrawn. */
  readonly nexthop: number | null;
  readonly gateways: readonly string[];
  /**
   * Per gateway, the interface it is reached through now (0: none). Set for link-local
   * and recursively resolved gateways (given with their interface) and connected ones.
   */
  readonly ifindexes: readonly number[];
  /** The kernel encoding we installed ("id:N" for nexthop object N, "gw4:..."), null if none. */
  readonly installed: string | null;
  /** The encoding we want, null when withdrawn or unresolved. */
  readonly wanted: string | null;
  readonly flags: readonly string[];
  /** Last error, "" if none. */
  readonly error: string;
}

export interface FibBackend {
  /**
   * Opens the sockets, reads links, addresses, nexthop objects and the table,
   * and adopts our routes from a previous run: they stay until reconcile().
   */
  start(): Promise<void>;
  /** Defines (or changes) next-hop set `handle`; routes refer to it by handle. */
  defineNexthop(handle: number, gateways: readonly GatewayInput[]): void;
  /** Forgets a next-hop set: its routes are withdrawn from the kernel. */
  removeNexthop(handle: number): void;
  /** Queues changes; returns at once, the kernel is written in the background. */
  apply(batch: FibBatch): void;
  /**
   * Sizes the per-prefix state for `n` prefixes in all (not n more) before that many
   * arrive (a full table), so it is allocated once instead of doubling and rehashing
   * along the way. Optional: it only saves time; it never shrinks, and calling it
   * again with a rising count costs no more than letting the table grow.
   */
  reserve(n: number): void;
  /** The desired state is complete (initial convergence): delete adopted routes not desired. */
  reconcile(): void;
  /** Resolves when everything queued so far was answered by the kernel. */
  flush(): Promise<void>;
  /** The kernel's routes in our table, of every owner. */
  dump(): Promise<KernelRoute[]>;
  links(): LinkInfo[];
  addresses(): AddressInfo[];
  /** Interface index through which `address` is directly connected, 0 if it is not. */
  connectedVia(address: string): number;
  /**
   * How the kernel reaches a next hop: directly (a connected subnet, metric 0) or
   * through the best route of another owner covering it (longest prefix, then lowest
   * metric; never one of ours), whose gateway and interface routes are installed
   * with. Null when unreachable or link-local (those need the session's interface).
   * Changes are announced by the 'routes' event (and 'link'/'address').
   */
  resolveNextHop(address: string): Resolution | null;
  route(prefix: string): RouteState | null;
  stats(): FibStats;
  /**
   * Route writes queued or in flight, an upper bound (O(1)): a producer keeps this near
   * what the kernel can take in a moment, the rest waits upstream where changes coalesce.
   */
  readonly backlog: number;
  on(event: 'result', listener: (e: FibEvent) => void): this;
  on(event: 'link', listener: (l: LinkInfo, removed: boolean) => void): this;
  on(event: 'address', listener: (a: AddressInfo, removed: boolean) => void): this;
  on(event: 'idle', listener: () => void): this;
  /** Routes of other owners changed: next hops may resolve differently (debounced). */
  on(event: 'routes', listener: () => void): this;
  off(event: 'result', listener: (e: FibEvent) => void): this;
  off(event: 'link', listener: (l: LinkInfo, removed: boolean) => void): this;
  off(event: 'address', listener: (a: AddressInfo, removed: boolean) => void): this;
  off(event: 'idle', listener: () => void): this;
  off(event: 'routes', listener: () => void): this;
  /** Closes the sockets; unless `keep` (graceful restart), deletes our routes and objects first. */
  stop(opts?: { readonly keep?: boolean | undefined }): Promise<void>;
}
