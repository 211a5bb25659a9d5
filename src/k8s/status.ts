// This node's BGP status in the cluster: one BGPNodeStatus object (tsbgp.io/v1alpha1,
// named after the node, owned by the Node so it goes away with it) whose status has
// the shape of Cilium's CiliumBGPNodeConfig status — instances, peers, peering state,
// applied timers, established time, per-family route counts — extended with accepted
// and installed counts, the prefix-limit state, and conditions.
//
// Writes are rate limited: a state change (session up/down, condition, prefix limit)
// is written after a random 1-`fastMs` delay (so a route reflector restart seen by
// every node does not make them all write in the same second) and never more often
// than once per `minGapMs`; counter churn alone (every UPDATE changes `received`) at
// most once per `countsMs`. docs/kubernetes.md has the arithmetic for 5,000 nodes.
import type { ConfigView, DaemonView, NeighborInfo, SessionState } from '../api/types.js';
import type { ApiRequest } from './http.js';
import { ApiError } from './http.js';
import { TSBGP_GROUP, TSBGP_VERSION } from './resources.js';

export const NODE_STATUS_KIND = 'BGPNodeStatus';
export const NODE_STATUS_PLURAL = 'bgpnodestatuses';

/** Cilium's peeringState values are the FSM state in lower case. */
const PEERING_STATE: { readonly [S in SessionState]: string } = {
  Idle: 'idle', Connect: 'connect', Active: 'active', OpenSent: 'open_sent', OpenConfirm: 'open_confirm', Established: 'established',
};

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

export interface RouteCount {
  readonly afi: string;
  readonly safi: string;
  readonly received: number;
  readonly accepted: number;
  readonly installed: number;
  readonly advertised: number;
  readonly prefixLimit?: { readonly maxPrefixes: number; readonly warning: boolean; readonly exceeded: boolean; readonly restartInSeconds?: number };
}

export interface PeerStatus {
  readonly name: string;
  readonly peerAddress: string;
  readonly peerASN: number;
  readonly peeringState: string;
  readonly adminDown: boolean;
  readonly establishedTime?: string;
  readonly timers?: { readonly appliedHoldTimeSeconds: number; readonly appliedKeepaliveSeconds: number };
  readonly lastError?: string;
  readonly routeCount: readonly RouteCount[];
}

export interface NodeStatus {
  readonly bgpInstances: readonly { readonly name: string; readonly peers: readonly PeerStatus[] }[];
  readonly conditions: readonly Condition[];
}

/** Keeps lastTransitionTime when a condition's status did not change. */
function carry(prev: readonly Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime'>, now: string): Condition {
  const p = prev?.find((x) => x.type === c.type);
  return { ...c, lastTransitionTime: p !== undefined && p.status === c.status ? p.lastTransitionTime : now };
}

/** Pure: the daemon's read model → the status object. */
export function buildNodeStatus(neighbors: readonly NeighborInfo[], config: ConfigView, now: Date, prev?: NodeStatus): NodeStatus {
  const iso = now.toISOString();
  const byInstance = new Map<string, PeerStatus[]>();
  let overflow = 0;
  for (const n of neighbors) {
    const peers = byInstance.get(n.instance) ?? [];
    byInstance.set(n.instance, peers);
    const est = n.state === 'Established' && n.uptime !== null;
    let establishedTime = est ? new Date(Math.floor((now.getTime() - n.uptime * 1000) / 1000) * 1000).toISOString() : undefined;
    // Uptime is rounded: keep the earlier value unless the session really re-established.
    const before = prev?.bgpInstances.find((i) => i.name === n.instance)?.peers.find((p) => p.name === n.name)?.establishedTime;
    if (establishedTime !== undefined && before !== undefined && Math.abs(Date.parse(before) - Date.parse(establishedTime)) <= 2000) establishedTime = before;
    peers.push({
      name: n.name,
      peerAddress: n.address,
      peerASN: n.remoteAs ?? n.peerAs,
      peeringState: PEERING_STATE[n.state],
      adminDown: n.adminDown,
      ...(establishedTime !== undefined ? { establishedTime } : {}),
      ...(n.timers.negotiatedHoldTime !== null
        ? { timers: { appliedHoldTimeSeconds: n.timers.negotiatedHoldTime, appliedKeepaliveSeconds: n.timers.negotiatedKeepalive ?? 0 } }
        : {}),
      ...(n.lastError !== null ? { lastError: n.lastError.text } : {}),
      routeCount: n.families.map((f): RouteCount => {
        if (f.prefixLimit?.overflow === true) overflow++;
        return {
          afi: f.afi,
          safi: f.safi,
          received: f.received,
          accepted: f.accepted,
          installed: f.installed,
          advertised: f.advertised,
          ...(f.prefixLimit !== null
            ? {
                prefixLimit: {
                  maxPrefixes: f.prefixLimit.max,
                  warning: f.prefixLimit.warning,
                  exceeded: f.prefixLimit.overflow,
                  ...(f.prefixLimit.restartIn !== null ? { restartInSeconds: f.prefixLimit.restartIn } : {}),
                },
              }
            : {}),
        };
      }),
    });
  }
  const r = config.lastReload;
  const errs = r?.errors ?? [];
  const firstErr = errs[0];
  const configCond = r === null
    ? { type: 'ConfigApplied', status: 'Unknown' as const, reason: 'NotLoaded', message: 'no configuration loaded yet' }
    : r.ok
      ? { type: 'ConfigApplied', status: 'True' as const, reason: 'Applied', message: `${r.warnings.length} warning(s)` }
      : {
          type: 'ConfigApplied',
          status: 'False' as const,
          reason: 'ConfigRejected',
          message: `${errs.length} error(s); the previous configuration keeps running${firstErr !== undefined ? `. First: ${firstErr.object ?? ''}${firstErr.path !== null ? ` ${firstErr.path}` : ''}: ${firstErr.message}` : ''}`.slice(0, 1024),
        };
  const active = neighbors.filter((n) => !n.adminDown);
  const up = active.filter((n) => n.state === 'Established').length;
  const sessionsCond = {
    type: 'SessionsEstablished',
    status: up === active.length ? ('True' as const) : ('False' as const),
    reason: up === active.length ? 'AllEstablished' : 'SessionsDown',
    message: `${up}/${active.length} sessions established`,
  };
  const limitCond = {
    type: 'PrefixLimitExceeded',
    status: overflow > 0 ? ('True' as const) : ('False' as const),
    reason: overflow > 0 ? 'SessionTornDown' : 'WithinLimits',
    message: overflow > 0 ? `${overflow} peer families exceeded their prefix limit` : 'no prefix limit exceeded',
  };
  return {
    bgpInstances: [...byInstance.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, peers]) => ({ name, peers })),
    conditions: [configCond, sessionsCond, limitCond].map((c) => carry(prev?.conditions, c, iso)),
  };
}

/** The status without the counters: what makes a write urgent. */
export function significantPart(s: NodeStatus): string {
  return JSON.stringify({
    c: s.conditions.map((c) => [c.type, c.status, c.reason, c.message]),
    i: s.bgpInstances.map((i) => [i.name, i.peers.map((p) => [p.name, p.peeringState, p.adminDown, p.establishedTime, p.timers, p.routeCount.map((r) => r.prefixLimit)])]),
  });
}

export interface StatusWriterOptions {
  readonly nodeName: string;
  /** The Node's uid, for the owner reference (garbage collection with the Node). */
  readonly nodeUid?: () => string | undefined;
  /** Upper bound of the random delay before a state change is written (default 10 s). */
  readonly fastMs?: number;
  /** Least time between two writes (default 5 s). */
  readonly minGapMs?: number;
  /** Least time between writes that only change counters (default 5 min). */
  readonly countsMs?: number;
  readonly onError?: (err: unknown) => void;
  readonly now?: () => Date;
}

export const STATUS_BASE = `/apis/${TSBGP_GROUP}/${TSBGP_VERSION}/${NODE_STATUS_PLURAL}`;

export class StatusWriter {
  /** Status writes done (PATCH …/status). */
  writes = 0;
  readonly #view: Pick<DaemonView, 'neighbors' | 'config' | 'subscribe'>;
  readonly #request: ApiRequest;
  readonly #o: StatusWriterOptions;
  #last: NodeStatus | undefined;
  #lastWriteAt = 0;
  #lastSignificant = '';
  #lastFull = '';
  #timer: NodeJS.Timeout | undefined;
  #tick: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #created = false;
  #writing = false;
  #stopped = false;

  constructor(view: Pick<DaemonView, 'neighbors' | 'config' | 'subscribe'>, request: ApiRequest, options: StatusWriterOptions) {
    this.#view = view;
    this.#request = request;
    this.#o = options;
  }

  start(): void {
    // Session and config events make a write due soon; a slow tick catches counter changes.
    this.#unsubscribe = this.#view.subscribe((e) => {
      if (e.type === 'peer-state' || e.type === 'prefix-limit' || e.type === 'config-reload' || e.type === 'admin') {
        this.#schedule(Math.round(1000 + Math.random() * Math.max(0, (this.#o.fastMs ?? 10_000) - 1000)));
      }
    });
    this.#tick = setInterval(() => this.#schedule(0), this.#o.countsMs ?? 300_000);
    this.#tick.unref();
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    clearInterval(this.#tick);
  }

  #schedule(delay: number): void {
    if (this.#stopped || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, delay);
  }

  /** Builds the status and writes it if the rate limits allow (else re-schedules). */
  async flush(): Promise<boolean> {
    if (this.#writing) return false;
    const now = this.#o.now?.() ?? new Date();
    const next = buildNodeStatus(await this.#view.neighbors(), await this.#view.config(), now, this.#last);
    const sig = significantPart(next);
    const full = JSON.stringify({ ...next, conditions: next.conditions.map((c) => ({ ...c, lastTransitionTime: '' })) });
    if (full === this.#lastFull) return false;
    const since = now.getTime() - this.#lastWriteAt;
    const gap = sig !== this.#lastSignificant ? (this.#o.minGapMs ?? 5000) : (this.#o.countsMs ?? 300_000);
    if (since < gap) {
      this.#schedule(gap - since);
      return false;
    }
    this.#writing = true;
    try {
      await this.#write(next);
      this.#last = next;
      this.#lastSignificant = sig;
      this.#lastFull = full;
      this.#lastWriteAt = now.getTime();
      this.writes++;
      return true;
    } catch (err) {
      this.#o.onError?.(err);
      this.#schedule(this.#o.minGapMs ?? 5000);
      return false;
    } finally {
      this.#writing = false;
    }
  }

  async #ensureObject(): Promise<void> {
    if (this.#created) return;
    const name = this.#o.nodeName;
    try {
      await this.#request(`${STATUS_BASE}/${encodeURIComponent(name)}`);
    } catch (err) {
      if (!(err instanceof ApiError && err.statusCode === 404)) throw err;
      const uid = this.#o.nodeUid?.();
      await this.#request(STATUS_BASE, {
        method: 'POST',
        body: {
          apiVersion: `${TSBGP_GROUP}/${TSBGP_VERSION}`,
          kind: NODE_STATUS_KIND,
          metadata: {
            name,
            ...(uid !== undefined ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid }] } : {}),
          },
          spec: { nodeName: name },
        },
      }).catch((e: unknown) => {
        if (!(e instanceof ApiError && e.statusCode === 409)) throw e; // created meanwhile: fine
      });
    }
    this.#created = true;
  }

  async #write(status: NodeStatus): Promise<void> {
    await this.#ensureObject();
    try {
      await this.#request(`${STATUS_BASE}/${encodeURIComponent(this.#o.nodeName)}/status`, { method: 'PATCH', body: { status } });
    } catch (err) {
      // Deleted under us: create it again on the next write.
      if (err instanceof ApiError && err.statusCode === 404) this.#created = false;
      throw err;
    }
  }
}
