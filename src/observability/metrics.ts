/**
 * Prometheus metrics. Per-peer and per-table values are read from the daemon's read
 * models (the same ones the API serves) once per scrape, so the data path never touches
 * a label map; counters of rare events (state transitions, prefix-limit hits, config
 * reloads) are counted from the daemon's event stream. Labels carry only names,
 * addresses and families: never anything from a Secret.
 *
 * /metrics, /healthz (live) and /readyz (ready) are served on a configurable TCP address.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ApiEvent, ConfigView, GlobalInfo, MaybePromise, NeighborInfo, SessionState } from '../api/types.js';

/** BGP4-MIB (RFC 4273) bgpPeerState values. */
export const PEER_STATE_VALUE: { readonly [S in SessionState]: number } = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

/** What the metrics read: a subset of the API's DaemonView. */
export interface MetricsSource {
  global(): MaybePromise<GlobalInfo>;
  neighbors(): MaybePromise<readonly NeighborInfo[]>;
  subscribe?(listener: (event: ApiEvent) => void): () => void;
  /** Read once at construction: the load that happened before the metrics existed (the start) counts too. */
  config?(): MaybePromise<ConfigView>;
}

export interface MetricsOptions {
  /** Node.js process and event-loop metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** monitorEventLoopDelay resolution in ms (default 10). */
  readonly eventLoopResolutionMs?: number;
}

const PEER = ['instance', 'neighbor'] as const;
const PEER_FAMILY = ['instance', 'neighbor', 'afi', 'safi'] as const;
const MESSAGE_TYPES = ['open', 'update', 'notification', 'keepalive', 'routeRefresh'] as const;
const MESSAGE_LABEL: Record<(typeof MESSAGE_TYPES)[number], string> = {
  open: 'open',
  update: 'update',
  notification: 'notification',
  keepalive: 'keepalive',
  routeRefresh: 'route-refresh',
};

export class Metrics {
  readonly registry = new Registry();
  private readonly source: MetricsSource;
  private readonly unsubscribe: (() => void) | undefined;

  private readonly info = this.gauge('tsbgp_info', 'Constant 1, labelled with the version and node name.', ['version', 'node']);
  private readonly uptime = this.gauge('tsbgp_uptime_seconds', 'Seconds since tsbgpd started.', []);
  private readonly sessionState = this.gauge('tsbgp_session_state', 'BGP session state (BGP4-MIB bgpPeerState: 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established).', [...PEER, 'peer_as']);
  private readonly sessionUp = this.gauge('tsbgp_session_up', '1 when the session is Established.', PEER);
  private readonly adminDown = this.gauge('tsbgp_session_admin_down', '1 when an operator shut the session down.', PEER);
  private readonly sessionUptime = this.gauge('tsbgp_session_uptime_seconds', 'Seconds in Established (0 when down).', PEER);
  private readonly established = this.counter('tsbgp_session_established_total', 'Times the session reached Established.', PEER);
  private readonly transitions = this.counter('tsbgp_session_state_transitions_total', 'Session state changes, by the state entered.', [...PEER, 'from', 'to']);
  private readonly received = this.gauge('tsbgp_prefixes_received', 'Prefixes received from the peer (before import policy).', PEER_FAMILY);
  private readonly accepted = this.gauge('tsbgp_prefixes_accepted', 'Received prefixes accepted by the import policy.', PEER_FAMILY);
  private readonly installed = this.gauge('tsbgp_prefixes_installed', 'Accepted prefixes installed in the kernel.', PEER_FAMILY);
  private readonly advertised = this.gauge('tsbgp_prefixes_advertised', 'Prefixes advertised to the peer.', PEER_FAMILY);
  private readonly limitMax = this.gauge('tsbgp_prefix_limit_max', 'Configured maximum prefixes for the peer and family.', PEER_FAMILY);
  private readonly limitOverflow = this.gauge('tsbgp_prefix_limit_overflow', '1 while the session is down because the prefix limit was exceeded.', PEER_FAMILY);
  private readonly limitEvents = this.counter('tsbgp_prefix_limit_events_total', 'Prefix-limit events: warning (threshold), overflow (session torn down), restart.', [...PEER_FAMILY, 'kind']);
  private readonly messagesIn = this.counter('tsbgp_messages_received_total', 'BGP messages received, by type (type="update": UPDATEs in).', [...PEER, 'type']);
  private readonly messagesOut = this.counter('tsbgp_messages_sent_total', 'BGP messages sent, by type (type="update": UPDATEs out).', [...PEER, 'type']);
  private readonly ribPrefixes = this.gauge('tsbgp_rib_prefixes', 'Prefixes in the Loc-RIB.', ['instance', 'afi', 'safi']);
  private readonly ribPaths = this.gauge('tsbgp_rib_paths', 'Paths in the Loc-RIB.', ['instance', 'afi', 'safi']);
  private readonly fibRoutes = this.gauge('tsbgp_fib_routes', 'Routes tsbgp wants in the kernel, by status.', ['status']);
  private readonly fibOps = this.counter('tsbgp_fib_operations_total', 'Kernel route writes, by operation.', ['op']);
  private readonly fibFailures = this.counter('tsbgp_fib_failures_total', 'Kernel route writes the kernel refused.', []);
  private readonly fibEvents = this.counter('tsbgp_fib_events_total', 'FIB problems seen: error (write refused), conflict (route owned by another protocol), resolved.', ['status']);
  private readonly fibKernel = this.gauge('tsbgp_fib_kernel', '1 when routes are written to the kernel, 0 for the dry-run backend.', []);
  private readonly reloads = this.counter('tsbgp_config_reloads_total', 'Configuration loads, by result.', ['result']);
  private readonly lastReloadOk = this.gauge('tsbgp_config_last_reload_successful', '1 when the last configuration load was applied, 0 when it was refused.', []);
  private readonly lastReloadTime = this.gauge('tsbgp_config_last_reload_timestamp_seconds', 'Unix time of the last configuration load attempt.', []);
  /** A config-reload event was counted: the seed from config() must not count it again. */
  private reloadSeen = false;
  /** Neighbours with a peer-state event counted (`instance neighbor`): the transition seed skips them. */
  private readonly transitionSeen = new Set<string>();

  constructor(source: MetricsSource, options: MetricsOptions = {}) {
    this.source = source;
    if (options.defaultMetrics !== false) {
      // Includes nodejs_eventloop_lag_{min,max,mean,p50,p90,p99}_seconds (monitorEventLoopDelay)
      // and process CPU, memory, file descriptors.
      collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: options.eventLoopResolutionMs ?? 10 });
    }
    this.reloads.inc({ result: 'success' }, 0);
    this.reloads.inc({ result: 'failure' }, 0);
    this.unsubscribe = source.subscribe?.((e) => this.observe(e));
    this.seedReload(source);
    this.seedTransitions(source);
  }

  /**
   * Sessions that came up before the metrics existed (tsbgpd starts its sessions first):
   * the edges into and out of Established are known from each neighbour's established
   * count, since RFC 4271 §8 enters Established only from OpenConfirm and leaves it only
   * to Idle. Other transitions before this point are not reconstructed.
   */
  private seedTransitions(source: MetricsSource): void {
    const seed = (list: readonly NeighborInfo[]): void => {
      for (const n of list) {
        if (this.transitionSeen.has(`${n.instance} ${n.address}`) || n.establishedCount <= 0) continue;
        const peer = { instance: n.instance, neighbor: n.address };
        this.transitions.inc({ ...peer, from: 'OpenConfirm', to: 'Established' }, n.establishedCount);
        const left = n.establishedCount - (n.state === 'Established' ? 1 : 0);
        if (left > 0) this.transitions.inc({ ...peer, from: 'Established', to: 'Idle' }, left);
      }
    };
    let list: MaybePromise<readonly NeighborInfo[]>;
    try {
      list = source.neighbors();
    } catch {
      return;
    }
    if (list instanceof Promise) list.then(seed, () => undefined);
    else seed(list);
  }

  /**
   * The daemon loads its configuration before the metrics exist: count that load (and
   * whatever was the last one) from the config view, unless an event got here first.
   */
  private seedReload(source: MetricsSource): void {
    const seed = (v: ConfigView): void => {
      const r = v.lastReload;
      if (r === null || this.reloadSeen) return;
      this.countReload(r.ok, Date.now() - r.age * 1000);
    };
    let view: MaybePromise<ConfigView> | undefined;
    try {
      view = source.config?.();
    } catch {
      return;
    }
    if (view === undefined) return;
    if (view instanceof Promise) view.then(seed, () => undefined);
    else seed(view);
  }

  private countReload(ok: boolean, atMs: number): void {
    this.reloadSeen = true;
    this.reloads.inc({ result: ok ? 'success' : 'failure' });
    this.lastReloadOk.set(ok ? 1 : 0);
    this.lastReloadTime.set(Math.floor(atMs / 1000));
  }

  private gauge(name: string, help: string, labelNames: readonly string[]): Gauge<string> {
    return new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  private counter(name: string, help: string, labelNames: readonly string[]): Counter<string> {
    return new Counter({ name, help, labelNames: [...labelNames], registers: [this.registry] });
  }

  /** Counts one daemon event (called through `subscribe`, or directly). */
  observe(e: ApiEvent): void {
    switch (e.type) {
      case 'peer-state':
        this.transitionSeen.add(`${e.instance} ${e.neighbor}`);
        this.transitions.inc({ instance: e.instance, neighbor: e.neighbor, from: e.from, to: e.to });
        break;
      case 'prefix-limit':
        this.limitEvents.inc({ instance: e.instance, neighbor: e.neighbor, afi: e.afi, safi: e.safi, kind: e.kind });
        break;
      case 'fib':
        this.fibEvents.inc({ status: e.status });
        break;
      case 'config-reload': {
        const at = Date.parse(e.time);
        this.countReload(e.ok, Number.isNaN(at) ? Date.now() : at);
        break;
      }
      default:
        break;
    }
  }

  /** Reads the current snapshot into the gauges and snapshot counters. */
  async refresh(): Promise<void> {
    const [g, neighbors] = await Promise.all([this.source.global(), this.source.neighbors()]);
    this.info.reset();
    this.info.set({ version: g.version, node: g.nodeName }, 1);
    this.uptime.set(g.uptime);

    for (const m of [this.sessionState, this.sessionUp, this.adminDown, this.sessionUptime, this.received, this.accepted, this.installed, this.advertised, this.limitMax, this.limitOverflow]) m.reset();
    for (const c of [this.established, this.messagesIn, this.messagesOut]) c.reset();
    for (const n of neighbors) {
      const peer = { instance: n.instance, neighbor: n.address };
      this.sessionState.set({ ...peer, peer_as: String(n.remoteAs ?? n.peerAs) }, PEER_STATE_VALUE[n.state] ?? 0);
      this.sessionUp.set(peer, n.state === 'Established' ? 1 : 0);
      this.adminDown.set(peer, n.adminDown ? 1 : 0);
      this.sessionUptime.set(peer, n.uptime ?? 0);
      this.established.inc(peer, n.establishedCount);
      for (const t of MESSAGE_TYPES) {
        this.messagesIn.inc({ ...peer, type: MESSAGE_LABEL[t] }, n.messages.received[t]);
        this.messagesOut.inc({ ...peer, type: MESSAGE_LABEL[t] }, n.messages.sent[t]);
      }
      for (const f of n.families) {
        const l = { ...peer, afi: f.afi, safi: f.safi };
        this.received.set(l, f.received);
        this.accepted.set(l, f.accepted);
        this.installed.set(l, f.installed);
        this.advertised.set(l, f.advertised);
        if (f.prefixLimit !== null) {
          this.limitMax.set(l, f.prefixLimit.max);
          this.limitOverflow.set(l, f.prefixLimit.overflow ? 1 : 0);
        }
      }
    }

    this.ribPrefixes.reset();
    this.ribPaths.reset();
    for (const i of g.instances) {
      for (const f of i.families) {
        this.ribPrefixes.set({ instance: i.name, afi: f.afi, safi: f.safi }, f.prefixes);
        this.ribPaths.set({ instance: i.name, afi: f.afi, safi: f.safi }, f.paths);
      }
    }
    const fib = g.fib;
    this.fibRoutes.set({ status: 'installed' }, fib.installed);
    this.fibRoutes.set({ status: 'pending' }, fib.pending);
    this.fibRoutes.set({ status: 'conflict' }, fib.conflicts);
    this.fibRoutes.set({ status: 'error' }, fib.errors);
    this.fibOps.reset();
    this.fibOps.inc({ op: 'add' }, fib.operations.add);
    this.fibOps.inc({ op: 'replace' }, fib.operations.replace);
    this.fibOps.inc({ op: 'delete' }, fib.operations.delete);
    this.fibFailures.reset();
    this.fibFailures.inc(fib.failures);
    this.fibKernel.set(fib.kernel ? 1 : 0);
  }

  /** The exposition text, refreshed. */
  async text(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  close(): void {
    this.unsubscribe?.();
    this.registry.clear();
  }
}

// ---------------------------------------------------------------------------
// HTTP endpoint

export interface Health {
  /** The process works (event loop turns, API answers): false → restart me. */
  readonly live: boolean;
  /** Configuration applied and sessions started: false → do not count on me yet. */
  readonly ready: boolean;
  /** Why not, one line each. */
  readonly reasons?: readonly string[];
}

export interface MetricsServerOptions {
  /** `host:port`, `[v6]:port` or `:port` (all addresses); port 0 picks a free one. */
  readonly address: string;
  readonly metrics: Metrics;
  readonly health?: () => MaybePromise<Health>;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

/** Parses a listen address; throws with the expected forms on anything else. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`invalid metrics address ${JSON.stringify(text)}: expected HOST:PORT, [IPv6]:PORT or :PORT`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '::' : host, port };
}

async function respond(req: IncomingMessage, res: ServerResponse, opts: MetricsServerOptions): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  if (path === '/metrics') {
    const body = await opts.metrics.text();
    res.writeHead(200, { 'content-type': opts.metrics.contentType }).end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (path === '/healthz' || path === '/readyz') {
    const h = opts.health ? await opts.health() : { live: true, ready: true };
    const ok = path === '/healthz' ? h.live : h.live && h.ready;
    const lines = ok ? ['ok'] : (h.reasons?.length ? h.reasons : ['not ok']);
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${lines.join('\n')}\n`);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const { host, port } = parseListenAddress(opts.address);
  const server = createServer((req, res) => {
    respond(req, res, opts).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    host: a.address,
    port: a.port,
    url: `http://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
