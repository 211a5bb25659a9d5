/**
 * The management API's data model: what `tsbgp` shows and what automation reads.
 *
 * Every type here is plain JSON: fields are always present (`null` where a value is
 * unknown or does not apply), times are relative seconds computed when the answer is
 * built, addresses and prefixes are canonical text. `-o json` prints these objects as
 * they are, so field names are a stable interface: add fields, never rename them.
 *
 * The daemon implements DaemonView (at the bottom); the server (server.ts) validates
 * requests, resolves neighbours, streams with backpressure and redacts secrets.
 */
import type { AfiName } from '../config/net.js';

export type { AfiName } from '../config/net.js';
export type SafiName = 'unicast';

/** Where tsbgpd listens and tsbgp connects unless told otherwise. */
export const DEFAULT_SOCKET_PATH = '/run/tsbgp/tsbgpd.sock';

/** RFC 4271 §8 state names, as the session FSM names them. */
export const SESSION_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

// ---------------------------------------------------------------------------
// Global

export interface FibStats {
  /** Routes in the kernel as tsbgp wants them. */
  readonly installed: number;
  /** Wanted but not yet written (queued, in flight, waiting for a next hop). */
  readonly pending: number;
  /** Another protocol owns the kernel route for the prefix: tsbgp leaves it alone. */
  readonly conflicts: number;
  /** The kernel refused the last write for the prefix. */
  readonly errors: number;
  /** Kernel writes since start, by kind (counters). */
  readonly operations: { readonly add: number; readonly replace: number; readonly delete: number };
  /** Writes the kernel refused since start (counter). */
  readonly failures: number;
  /** false = dry-run backend (nothing reaches the kernel). */
  readonly kernel: boolean;
}

export interface InstanceFamilySummary {
  readonly afi: AfiName;
  readonly safi: SafiName;
  /** Prefixes in the Loc-RIB. */
  readonly prefixes: number;
  /** Paths in the Loc-RIB (all neighbours). */
  readonly paths: number;
  /** Prefixes this instance has in the kernel. */
  readonly installed: number;
  /** Prefixes this node originates (pod CIDRs, service IPs). */
  readonly originated: number;
}

export interface InstanceSummary {
  readonly name: string;
  readonly localAs: number;
  readonly routerId: string;
  /** null = does not listen (connects out only). */
  readonly listenPort: number | null;
  readonly neighbors: number;
  readonly established: number;
  readonly families: readonly InstanceFamilySummary[];
  readonly routeInstall: {
    readonly enabled: boolean;
    readonly table: number;
    readonly metric: number;
    readonly protocol: number;
    readonly maxPaths: number;
  };
}

export interface GlobalInfo {
  readonly nodeName: string;
  /** tsbgp version (package.json). */
  readonly version: string;
  /** Seconds since the daemon started. */
  readonly uptime: number;
  readonly pid: number;
  /** Sorted by name; empty when no policy selects this node. */
  readonly instances: readonly InstanceSummary[];
  readonly fib: FibStats;
}

// ---------------------------------------------------------------------------
// Neighbours

export interface MessageCounts {
  readonly open: number;
  readonly update: number;
  readonly notification: number;
  readonly keepalive: number;
  readonly routeRefresh: number;
  readonly total: number;
}

export interface LastError {
  /** `sent` / `received` for a NOTIFICATION; null for a local reason (connection lost). */
  readonly direction: 'sent' | 'received' | null;
  /** NOTIFICATION code and subcode; null when no NOTIFICATION was involved. */
  readonly code: number | null;
  readonly subcode: number | null;
  /** Human text, e.g. `Cease/Maximum Number of Prefixes Reached` or `connection lost`. */
  readonly text: string;
  /** The Shutdown Communication (RFC 9003) when there was one. */
  readonly message: string | null;
  /** Seconds ago. */
  readonly age: number;
}

export interface PrefixLimitState {
  readonly max: number;
  readonly warningThresholdPercent: number;
  /** The warning threshold was crossed (and not cleared since). */
  readonly warning: boolean;
  /** The limit was exceeded: the session is down because of it (Idle(PfxCt)). */
  readonly overflow: boolean;
  /** Seconds until the automatic restart; null = none scheduled (0 restart timer: wait for an operator). */
  readonly restartIn: number | null;
}

export interface NeighborFamily {
  readonly afi: AfiName;
  readonly safi: SafiName;
  /** Both sides announced it (false while not established). */
  readonly negotiated: boolean;
  /** Prefixes in the Adj-RIB-In before import policy (what the prefix limit counts). */
  readonly received: number;
  /** Prefixes the import policy accepted. */
  readonly accepted: number;
  /** Accepted prefixes whose path is in the kernel (best or multipath, installed). */
  readonly installed: number;
  /** Prefixes in the Adj-RIB-Out. */
  readonly advertised: number;
  /** Accepted prefixes kept from before the peer restarted (graceful restart helper), not re-learned yet. */
  readonly stale: number;
  readonly prefixLimit: PrefixLimitState | null;
}

/** Graceful restart, helper role, for one neighbour (RFC 4724 §4.2). */
export interface GracefulRestartState {
  /**
   * `none`; `restarting`: the session went down gracefully and its routes are kept until
   * it returns (restart timer); `waiting`: it returned, stale routes go at its End-of-RIB
   * or when the stale-path timer fires.
   */
  readonly phase: 'none' | 'restarting' | 'waiting';
  /** Seconds until the running timer drops the stale routes; null when none runs. */
  readonly expiresIn: number | null;
}

export interface Capability {
  /** e.g. `multiprotocol ipv4-unicast`, `route-refresh`, `4-octet-as`, `graceful-restart`. */
  readonly name: string;
  readonly advertised: boolean;
  readonly received: boolean;
}

export interface NeighborInfo {
  /** The instance (virtual router) the neighbour belongs to. */
  readonly instance: string;
  /** v2 `peers[].name`; v1 the peer address. */
  readonly name: string;
  /** Canonical IP address. */
  readonly address: string;
  readonly port: number;
  /** Configured peer AS; 0 = taken from the peer's OPEN. */
  readonly peerAs: number;
  /** The AS the peer announced; null before its OPEN. */
  readonly remoteAs: number | null;
  readonly localAs: number;
  readonly localAddress: string | null;
  /** The peer's BGP identifier (dotted); null before its OPEN. */
  readonly routerId: string | null;
  readonly state: SessionState;
  /** Stopped by an operator (`shutdown`) until `enable`. */
  readonly adminDown: boolean;
  /** Seconds in Established; null when not established. */
  readonly uptime: number | null;
  /** Seconds since the session left Established (or since configured); null when established. */
  readonly downtime: number | null;
  /** Times the session reached Established (flaps + 1). */
  readonly establishedCount: number;
  readonly lastError: LastError | null;
  readonly timers: {
    readonly holdTime: number;
    readonly keepalive: number;
    readonly connectRetry: number;
    /** null when not established. */
    readonly negotiatedHoldTime: number | null;
    readonly negotiatedKeepalive: number | null;
  };
  readonly capabilities: readonly Capability[];
  /** Configured families, in afi order. */
  readonly families: readonly NeighborFamily[];
  readonly gracefulRestart: GracefulRestartState;
  /**
   * What waits for the peer to read: bytes written to its session that the kernel has not
   * taken, and prefixes not yet packed into UPDATEs (held back while the socket is full).
   */
  readonly outQueue: { readonly bytes: number; readonly prefixes: number };
  readonly messages: { readonly sent: MessageCounts; readonly received: MessageCounts };
}

// ---------------------------------------------------------------------------
// Routes

export interface AsPathSegment {
  readonly type: 'sequence' | 'set' | 'confed-sequence' | 'confed-set';
  readonly asns: readonly number[];
}

/** The attributes of one path, decoded for display. */
export interface PathAttributesView {
  readonly nextHop: string;
  readonly asPath: readonly AsPathSegment[];
  readonly origin: 'igp' | 'egp' | 'incomplete';
  readonly med: number | null;
  readonly localPref: number | null;
  /** `65000:100`, or the RFC name for well-known values (`no-export`). */
  readonly communities: readonly string[];
  /** `global:local1:local2`. */
  readonly largeCommunities: readonly string[];
}

export interface RibPath extends PathAttributesView {
  /** Address of the neighbour the path came from; null for a route this node originates. */
  readonly neighbor: string | null;
  /** ADD-PATH identifier (RFC 7911); null without ADD-PATH. */
  readonly pathId: number | null;
  /** Seconds since the path was received or last changed. */
  readonly age: number;
  readonly best: boolean;
  /** Installed beside the best as an equal-cost path (not set on the best itself). */
  readonly multipath: boolean;
  /** Kept through a graceful restart, not yet refreshed. */
  readonly stale: boolean;
  /** Why it is not the best: a decision step name (rib/decision.ts REASON_NAMES); null on the best. */
  readonly reason: string | null;
}

/** One Loc-RIB destination with all its paths, best first. */
export interface RibEntry {
  readonly instance: string;
  readonly afi: AfiName;
  readonly safi: SafiName;
  /** Canonical CIDR. */
  readonly prefix: string;
  readonly paths: readonly RibPath[];
}

/** One route of an Adj-RIB-In or Adj-RIB-Out. */
export interface AdjRibRoute extends PathAttributesView {
  readonly instance: string;
  readonly neighbor: string;
  readonly afi: AfiName;
  readonly safi: SafiName;
  readonly prefix: string;
  readonly pathId: number | null;
  readonly age: number;
  /** Adj-RIB-In: passed the import policy. Adj-RIB-Out: always true. */
  readonly accepted: boolean;
  /** Why the import policy rejected it (`rule deny-default`, `default route`); null when accepted. */
  readonly reason: string | null;
}

// ---------------------------------------------------------------------------
// FIB

export interface FibNexthop {
  /** null for a directly connected route. */
  readonly gateway: string | null;
  /** Interface name; null when the kernel picks it. */
  readonly dev: string | null;
  /** ECMP weight (1 when unweighted). */
  readonly weight: number;
}

/**
 * `missing` and `stale` come only from a comparison with the kernel (`kernel: true`):
 * missing = tsbgp wrote the route but the kernel no longer has it (someone deleted it);
 * stale = a route with tsbgp's protocol and metric that tsbgp does not want (adopted
 * from a previous run and not yet reconciled, or written by someone else).
 */
export const FIB_STATUSES = ['installed', 'pending', 'conflict', 'error', 'unresolved-nexthop', 'missing', 'stale'] as const;
export type FibStatus = (typeof FIB_STATUSES)[number];

export interface KernelRoute {
  readonly protocol: number;
  readonly metric: number;
  readonly nexthops: readonly FibNexthop[];
  /** The kernel nexthop object the route uses (RTA_NH_ID); null for inline next hops or when not read. */
  readonly nexthopId: number | null;
}

/** A route tsbgp wants in the kernel, and what the kernel has for it. */
export interface FibRoute {
  readonly instance: string;
  readonly afi: AfiName;
  readonly prefix: string;
  readonly table: number;
  readonly metric: number;
  readonly protocol: number;
  /** What tsbgp wants (ECMP: several). */
  readonly nexthops: readonly FibNexthop[];
  readonly status: FibStatus;
  /** conflict: `owned by bird (12)`; error: the kernel's text; else null. */
  readonly detail: string | null;
  /**
   * The kernel's route for this prefix in this table: read from the kernel when the
   * query asked for `kernel`, else what tsbgp's last successful write put there; null =
   * none or unknown.
   */
  readonly kernel: KernelRoute | null;
}

// ---------------------------------------------------------------------------
// Configuration

/** A validation message (config/diagnostics.ts Diagnostic, with nulls for JSON). */
export interface ConfigIssue {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly file: string | null;
  readonly document: number | null;
  readonly object: string | null;
  readonly path: string | null;
  readonly line: number | null;
  readonly column: number | null;
}

export interface ReloadStatus {
  /** Seconds ago. */
  readonly age: number;
  /** false: the new files were refused and the previous configuration kept running. */
  readonly ok: boolean;
  /** `start`, `SIGHUP`, `file-change`. */
  readonly trigger: string;
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
  /** One line per change applied (empty when refused or when nothing changed). */
  readonly changes: readonly string[];
}

export interface ConfigView {
  /** The files the configuration was read from. */
  readonly files: readonly string[];
  /**
   * The running configuration (config/model.ts NodeConfig as JSON); null before the
   * first good load. The server redacts every `password`/`md5Password` field again.
   */
  readonly applied: unknown;
  /** Seconds since `applied` took effect. */
  readonly appliedAge: number | null;
  /** The last load attempt, good or bad; null before the first. */
  readonly lastReload: ReloadStatus | null;
}

// ---------------------------------------------------------------------------
// Events (`monitor`)

interface EventBase {
  /** ISO 8601 time of the event. */
  readonly time: string;
}

export interface PeerStateEvent extends EventBase {
  readonly type: 'peer-state';
  readonly instance: string;
  readonly neighbor: string;
  readonly from: SessionState;
  readonly to: SessionState;
  /** Why it went down (LastError.text); null when going up. */
  readonly reason: string | null;
}

export interface PrefixLimitEvent extends EventBase {
  readonly type: 'prefix-limit';
  readonly instance: string;
  readonly neighbor: string;
  readonly afi: AfiName;
  readonly safi: SafiName;
  /** warning: threshold crossed; overflow: session torn down; restart: restart timer fired. */
  readonly kind: 'warning' | 'overflow' | 'restart';
  readonly count: number;
  readonly max: number;
}

export interface FibEvent extends EventBase {
  readonly type: 'fib';
  readonly instance: string;
  readonly prefix: string;
  readonly table: number;
  readonly status: 'error' | 'conflict' | 'resolved';
  readonly detail: string | null;
}

export interface ConfigReloadEvent extends EventBase {
  readonly type: 'config-reload';
  readonly ok: boolean;
  readonly trigger: string;
  readonly errors: readonly ConfigIssue[];
  readonly changes: readonly string[];
}

export interface AdminEvent extends EventBase {
  readonly type: 'admin';
  readonly instance: string;
  readonly neighbor: string;
  readonly action: AdminAction;
  readonly message: string | null;
}

/** Sent by the server (not the daemon) when a slow client missed events. */
export interface EventsLostEvent extends EventBase {
  readonly type: 'events-lost';
  readonly count: number;
}

export type ApiEvent = PeerStateEvent | PrefixLimitEvent | FibEvent | ConfigReloadEvent | AdminEvent | EventsLostEvent;
export type ApiEventType = ApiEvent['type'];
export const EVENT_TYPES = ['peer-state', 'prefix-limit', 'fib', 'config-reload', 'admin', 'events-lost'] as const satisfies readonly ApiEventType[];

// ---------------------------------------------------------------------------
// Actions

export const ADMIN_ACTIONS = ['reset', 'soft-reset-in', 'soft-reset-out', 'shutdown', 'enable'] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

/** A neighbour, resolved by the server: it exists in that instance. */
export interface NeighborRef {
  readonly instance: string;
  readonly address: string;
}

export interface ActionResult {
  readonly instance: string;
  readonly neighbor: string;
  readonly action: AdminAction;
}

// ---------------------------------------------------------------------------
// Requests: parameters as the client sends them (all optional unless noted)

export interface NeighborsParams {
  readonly instance?: string;
  readonly address?: string;
}

export interface RibParams {
  readonly instance?: string;
  readonly afi?: AfiName;
  /** A CIDR (exact match, or longest match when `match` says so) or an address (longest match). */
  readonly prefix?: string;
  readonly match?: 'exact' | 'longest';
  /** Stop after this many items. */
  readonly limit?: number;
}

export interface AdjRibParams {
  /** Required. */
  readonly address: string;
  readonly instance?: string;
  readonly afi?: AfiName;
  readonly limit?: number;
}

export interface FibParams {
  readonly instance?: string;
  readonly afi?: AfiName;
  readonly status?: FibStatus;
  readonly limit?: number;
  /** Read the kernel's table and compare (one dump per instance: costly on a full table). */
  readonly kernel?: boolean;
}

export interface MonitorParams {
  /** Default: every type. */
  readonly types?: readonly ApiEventType[];
  readonly neighbor?: string;
  readonly instance?: string;
}

export interface NeighborActionParams {
  /** Required. */
  readonly address: string;
  readonly instance?: string;
}

export interface SoftResetParams extends NeighborActionParams {
  /** Default `both`. */
  readonly direction?: 'in' | 'out' | 'both';
}

export interface ShutdownParams extends NeighborActionParams {
  /** RFC 9003 Shutdown Communication: at most 255 bytes of UTF-8. */
  readonly message?: string;
}

/** Requests as the daemon receives them: validated and normalised. */
export interface RibQuery {
  readonly instance: string | null;
  readonly afi: AfiName | null;
  /** Canonical CIDR (for `longest`, a host prefix /32 or /128 is the address itself). */
  readonly prefix: string | null;
  readonly match: 'exact' | 'longest';
}

export interface AdjRibQuery {
  readonly neighbor: NeighborRef;
  readonly afi: AfiName | null;
}

export interface FibQuery {
  readonly instance: string | null;
  readonly afi: AfiName | null;
  readonly status: FibStatus | null;
  /** Compare with a dump of the kernel's table (adds `missing` and `stale` rows). */
  readonly kernel: boolean;
}

/** Unary methods: one `result` line. */
export interface UnaryMethods {
  global: { params: Record<string, never>; result: GlobalInfo };
  neighbors: { params: NeighborsParams; result: NeighborInfo[] };
  config: { params: Record<string, never>; result: ConfigView };
  reset: { params: NeighborActionParams; result: ActionResult };
  softReset: { params: SoftResetParams; result: ActionResult[] };
  shutdown: { params: ShutdownParams; result: ActionResult };
  enable: { params: NeighborActionParams; result: ActionResult };
  /** Stops a stream or subscription of the same connection. */
  cancel: { params: { id: RequestId }; result: { cancelled: boolean } };
}

/** Streamed methods: `item` lines, then `done`. */
export interface StreamMethods {
  rib: { params: RibParams; item: RibEntry };
  adjRibIn: { params: AdjRibParams; item: AdjRibRoute };
  adjRibOut: { params: AdjRibParams; item: AdjRibRoute };
  fib: { params: FibParams; item: FibRoute };
  /** Never ends by itself: `event` lines until `cancel` or disconnect. */
  monitor: { params: MonitorParams; item: ApiEvent };
}

export type UnaryMethod = keyof UnaryMethods;
export type StreamMethod = keyof StreamMethods;
export type Method = UnaryMethod | StreamMethod;

// ---------------------------------------------------------------------------
// Wire framing: one JSON object per line, both ways

export type RequestId = number | string;

export interface Request {
  readonly id: RequestId;
  readonly method: string;
  readonly params?: unknown;
}

export interface ErrorBody {
  /** Stable code (errors.ts ErrorCode). */
  readonly code: string;
  readonly message: string;
}

/** Lines the server sends. */
export type Response =
  | { readonly id: RequestId; readonly result: unknown }
  | { readonly id: RequestId | null; readonly error: ErrorBody }
  | { readonly id: RequestId; readonly item: unknown }
  | { readonly id: RequestId; readonly event: ApiEvent }
  /** `limited`: stopped at `limit` (more items exist); `cancelled`: stopped by `cancel`. */
  | { readonly id: RequestId; readonly done: true; readonly count: number; readonly limited?: boolean; readonly cancelled?: boolean };

// ---------------------------------------------------------------------------
// What the daemon implements

/** Rows pulled one at a time by the server, only as fast as the client reads. */
export type RowSource<T> = Iterable<T> | AsyncIterable<T>;

export type MaybePromise<T> = T | Promise<T>;

/**
 * The daemon's side of the API. Read methods return fresh snapshots (ages computed at
 * call time). Streams are pulled lazily across event-loop turns: a generator walking a
 * table that changes meanwhile must stay valid (skip or repeat a row, never throw).
 * Throw ApiError (errors.ts) for a refusal with a stable code; anything else becomes
 * EINTERNAL. The server has already checked that a NeighborRef exists.
 */
export interface DaemonView {
  global(): MaybePromise<GlobalInfo>;
  /** Every neighbour of every instance, sorted by instance then address. */
  neighbors(): MaybePromise<readonly NeighborInfo[]>;
  /** Loc-RIB destinations matching the query; ordered by instance, afi (ipv4 first), then prefix preferably. */
  rib(query: RibQuery): RowSource<RibEntry>;
  adjRibIn(query: AdjRibQuery): RowSource<AdjRibRoute>;
  adjRibOut(query: AdjRibQuery): RowSource<AdjRibRoute>;
  fib(query: FibQuery): RowSource<FibRoute>;
  config(): MaybePromise<ConfigView>;
  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (event: ApiEvent) => void): () => void;
  /** Hard reset: NOTIFICATION Cease/Administrative Reset, then reconnect (also leaves Idle(PfxCt)). */
  reset(neighbor: NeighborRef): MaybePromise<void>;
  /** ROUTE-REFRESH towards the peer (`in`) or re-send the Adj-RIB-Out (`out`). */
  softReset(neighbor: NeighborRef, direction: 'in' | 'out'): MaybePromise<void>;
  /** Cease/Administrative Shutdown with the message; stays Idle(Admin) until enable. */
  shutdown(neighbor: NeighborRef, message: string | null): MaybePromise<void>;
  enable(neighbor: NeighborRef): MaybePromise<void>;
}
