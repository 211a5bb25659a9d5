// A scripted DaemonView for the API, CLI and metrics tests. The real daemon's view is
// tested end-to-end elsewhere (test/e2e); here the point is the protocol, the server's
// behaviour and the renderings, on data whose every value the tests know.
import { ApiError, ErrorCode } from '../../src/api/errors.js';
import type {
  AdjRibQuery, AdjRibRoute, ApiEvent, ConfigView, DaemonView, FibQuery, FibRoute, GlobalInfo, MessageCounts, NeighborFamily, NeighborInfo, NeighborRef,
  RibEntry, RibPath, RibQuery,
} from '../../src/api/types.js';

export const SECRET = 's3cr3t-md5-pa55';

export function counts(update: number, keepalive: number): MessageCounts {
  return { open: 1, update, notification: 0, keepalive, routeRefresh: 0, total: 1 + update + keepalive };
}

export function family(afi: 'ipv4' | 'ipv6', received: number, accepted: number, installed: number, advertised: number, extra: Partial<NeighborFamily> = {}): NeighborFamily {
  return { afi, safi: 'unicast', negotiated: true, received, accepted, installed, advertised, stale: 0, prefixLimit: null, ...extra };
}

export function neighbor(over: Partial<NeighborInfo> & Pick<NeighborInfo, 'address'>): NeighborInfo {
  return {
    instance: 'vr-65001',
    name: over.address,
    port: 179,
    peerAs: 65000,
    remoteAs: 65000,
    localAs: 65001,
    localAddress: null,
    routerId: over.address,
    state: 'Established',
    adminDown: false,
    uptime: 341,
    downtime: null,
    establishedCount: 1,
    lastError: null,
    timers: { holdTime: 90, keepalive: 30, connectRetry: 120, negotiatedHoldTime: 90, negotiatedKeepalive: 30 },
    capabilities: [
      { name: 'multiprotocol ipv4-unicast', advertised: true, received: true },
      { name: 'route-refresh', advertised: true, received: true },
      { name: '4-octet-as', advertised: true, received: false },
    ],
    families: [family('ipv4', 2, 2, 2, 1)],
    gracefulRestart: { phase: 'none', expiresIn: null },
    outQueue: { bytes: 0, prefixes: 0 },
    messages: { sent: counts(3, 10), received: counts(5, 11) },
    ...over,
  };
}

/** Two neighbours of one instance: one up, one held down by its prefix limit. */
export const NEIGHBORS: NeighborInfo[] = [
  neighbor({ address: '10.0.255.1' }),
  neighbor({
    address: '10.0.255.2',
    peerAs: 65002,
    remoteAs: 65002,
    state: 'Idle',
    uptime: null,
    downtime: 3723,
    establishedCount: 2,
    timers: { holdTime: 90, keepalive: 30, connectRetry: 120, negotiatedHoldTime: null, negotiatedKeepalive: null },
    lastError: { direction: 'sent', code: 6, subcode: 1, text: 'Cease/Maximum Number of Prefixes Reached', message: null, age: 3723 },
    families: [
      family('ipv4', 1001, 990, 0, 0, { negotiated: false, prefixLimit: { max: 1000, warningThresholdPercent: 75, warning: true, overflow: true, restartIn: 60 } }),
    ],
  }),
];

export function path(over: Partial<RibPath>): RibPath {
  return {
    neighbor: '10.0.255.1',
    pathId: null,
    nextHop: '10.0.255.1',
    asPath: [{ type: 'sequence', asns: [65001] }],
    origin: 'igp',
    med: 0,
    localPref: null,
    communities: [],
    largeCommunities: [],
    age: 341,
    best: true,
    multipath: false,
    stale: false,
    reason: null,
    ...over,
  };
}

export const RIB: RibEntry[] = [
  {
    instance: 'vr-65001',
    afi: 'ipv4',
    safi: 'unicast',
    prefix: '10.3.0.0/16',
    paths: [
      path({}),
      path({ neighbor: '10.0.255.2', nextHop: '10.0.255.2', asPath: [{ type: 'sequence', asns: [65002, 65001] }], med: null, age: 340, best: false, reason: 'as-path-length', communities: ['65002:100', 'no-export'] }),
    ],
  },
  {
    instance: 'vr-65001',
    afi: 'ipv4',
    safi: 'unicast',
    prefix: '10.4.0.0/24',
    paths: [
      path({ age: 90061 }),
      path({ neighbor: '10.0.255.2', nextHop: '10.0.255.2', age: 60, best: false, multipath: true, reason: 'router-id' }),
    ],
  },
  {
    instance: 'vr-65001',
    afi: 'ipv6',
    safi: 'unicast',
    prefix: '2001:db8::/32',
    paths: [path({ nextHop: 'fe80::1', asPath: [{ type: 'sequence', asns: [65001] }, { type: 'set', asns: [64512, 64513] }], origin: 'incomplete', med: null, localPref: 100, largeCommunities: ['65001:1:2'], age: 5 })],
  },
];

export const FIB: FibRoute[] = [
  {
    instance: 'vr-65001',
    afi: 'ipv4',
    prefix: '10.3.0.0/16',
    table: 254,
    metric: 20,
    protocol: 186,
    nexthops: [{ gateway: '10.0.255.1', dev: 'eth0', weight: 1 }],
    status: 'installed',
    detail: null,
    kernel: { protocol: 186, metric: 20, nexthops: [{ gateway: '10.0.255.1', dev: 'eth0', weight: 1 }], nexthopId: null },
  },
  {
    instance: 'vr-65001',
    afi: 'ipv4',
    prefix: '10.4.0.0/24',
    table: 254,
    metric: 20,
    protocol: 186,
    nexthops: [
      { gateway: '10.0.255.1', dev: 'eth0', weight: 1 },
      { gateway: '10.0.255.2', dev: 'eth1', weight: 1 },
    ],
    status: 'conflict',
    detail: 'owned by bird (12)',
    kernel: { protocol: 12, metric: 32, nexthops: [{ gateway: '192.168.1.1', dev: 'eth2', weight: 1 }], nexthopId: null },
  },
  {
    instance: 'vr-65001',
    afi: 'ipv6',
    prefix: '2001:db8::/32',
    table: 100,
    metric: 20,
    protocol: 186,
    nexthops: [{ gateway: 'fe80::1', dev: 'eth0', weight: 1 }],
    status: 'error',
    detail: 'Network is unreachable',
    kernel: null,
  },
];

export function globalInfo(instances: readonly string[] = ['vr-65001']): GlobalInfo {
  return {
    nodeName: 'node-1',
    version: '0.1.0',
    uptime: 3600,
    pid: 4242,
    instances: instances.map((name, k) => ({
      name,
      localAs: 65001 + k,
      routerId: `10.0.0.${k + 2}`,
      listenPort: k === 0 ? null : 179,
      neighbors: 2,
      established: 1,
      families: [
        { afi: 'ipv4', safi: 'unicast', prefixes: 2, paths: 4, installed: 1, originated: 1 },
        { afi: 'ipv6', safi: 'unicast', prefixes: 1, paths: 1, installed: 0, originated: 0 },
      ],
      routeInstall: { enabled: true, table: 254, metric: 20, protocol: 186, maxPaths: 4 },
    })),
    fib: { installed: 1, pending: 0, conflicts: 1, errors: 1, operations: { add: 3, replace: 1, delete: 2 }, failures: 4, kernel: false },
  };
}

export interface Call {
  readonly action: string;
  readonly ref: NeighborRef;
  readonly arg?: string | null;
}

/** Adj-RIB routes for the fake: `n` generated rows. */
export function adjRoute(neighbor: string, i: number, accepted = true): AdjRibRoute {
  return {
    instance: 'vr-65001',
    neighbor,
    afi: 'ipv4',
    safi: 'unicast',
    prefix: `10.${(i >> 8) & 255}.${i & 255}.0/24`,
    pathId: null,
    nextHop: neighbor,
    asPath: [{ type: 'sequence', asns: [65000] }],
    origin: 'igp',
    med: null,
    localPref: null,
    communities: [],
    largeCommunities: [],
    age: 12,
    accepted,
    reason: accepted ? null : 'rule deny-default',
  };
}

export class FakeView implements DaemonView {
  neighborsList: NeighborInfo[] = NEIGHBORS;
  ribEntries: RibEntry[] = RIB;
  fibRoutes: FibRoute[] = FIB;
  instances: string[] = ['vr-65001'];
  /** When set, rib() generates this many synthetic entries instead of `ribEntries`. */
  bigRib = 0;
  /** Rows the rib generator has produced so far (backpressure tests). */
  produced = 0;
  /** Generators that were closed early (iterator.return). */
  closedEarly = 0;
  readonly calls: Call[] = [];
  readonly queries: unknown[] = [];
  private readonly listeners = new Set<(e: ApiEvent) => void>();
  failNext: Error | undefined;

  get subscribers(): number {
    return this.listeners.size;
  }

  emit(e: ApiEvent): void {
    for (const l of this.listeners) l(e);
  }

  global(): GlobalInfo {
    return globalInfo(this.instances);
  }

  neighbors(): readonly NeighborInfo[] {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    return this.neighborsList;
  }

  *rib(q: RibQuery): Generator<RibEntry> {
    this.queries.push(q);
    let finished = false;
    try {
      if (this.bigRib > 0) {
        for (let i = 0; i < this.bigRib; i++) {
          this.produced++;
          yield {
            instance: 'vr-65001',
            afi: 'ipv4',
            safi: 'unicast',
            prefix: `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.0/24`,
            paths: [path({ age: i % 1000 })],
          };
        }
      } else {
        for (const e of this.ribEntries) {
          if (q.instance !== null && e.instance !== q.instance) continue;
          if (q.afi !== null && e.afi !== q.afi) continue;
          if (q.prefix !== null && q.match === 'exact' && e.prefix !== q.prefix) continue;
          this.produced++;
          yield e;
        }
      }
      finished = true;
    } finally {
      if (!finished) this.closedEarly++;
    }
  }

  *adjRibIn(q: AdjRibQuery): Generator<AdjRibRoute> {
    this.queries.push(q);
    yield adjRoute(q.neighbor.address, 1);
    yield adjRoute(q.neighbor.address, 2, false);
  }

  async *adjRibOut(q: AdjRibQuery): AsyncGenerator<AdjRibRoute> {
    this.queries.push(q);
    for (let i = 0; i < 3; i++) {
      await Promise.resolve();
      yield { ...adjRoute(q.neighbor.address, 100 + i), nextHop: '10.0.255.254', asPath: [{ type: 'sequence', asns: [65001] }] };
    }
  }

  *fib(q: FibQuery): Generator<FibRoute> {
    this.queries.push(q);
    for (const r of this.fibRoutes) {
      if (q.afi !== null && r.afi !== q.afi) continue;
      if (q.status !== null && r.status !== q.status) continue;
      yield r;
    }
  }

  config(): ConfigView {
    return {
      files: ['/etc/tsbgp/policy.yaml'],
      // As a daemon that forgot to use SecretValue might hand it over: the server redacts.
      applied: { nodeName: 'node-1', instances: [{ name: 'vr-65001', peers: [{ address: '10.0.255.1', md5Password: SECRET, auth: { password: SECRET } }] }] },
      appliedAge: 120,
      lastReload: {
        age: 30,
        ok: false,
        trigger: 'SIGHUP',
        errors: [
          {
            severity: 'error',
            code: 'InvalidValue',
            message: 'expected 0 or a number of seconds from 3 to 65535, found 2',
            file: '/etc/tsbgp/policy.yaml',
            document: 1,
            object: 'CiliumBGPPeeringPolicy/rack0',
            path: 'spec.virtualRouters[0].neighbors[0].holdTimeSeconds',
            line: 14,
            column: 9,
          },
        ],
        warnings: [],
        changes: [],
      },
    };
  }

  subscribe(listener: (e: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  reset(ref: NeighborRef): void {
    this.calls.push({ action: 'reset', ref });
  }

  softReset(ref: NeighborRef, direction: 'in' | 'out'): void {
    this.calls.push({ action: `softReset-${direction}`, ref });
  }

  shutdown(ref: NeighborRef, message: string | null): void {
    this.calls.push({ action: 'shutdown', ref, arg: message });
  }

  enable(ref: NeighborRef): void {
    if (ref.address === '10.0.255.2') throw new ApiError(ErrorCode.NOT_POSSIBLE, 'neighbor 10.0.255.2 is not shut down');
    this.calls.push({ action: 'enable', ref });
  }
}
