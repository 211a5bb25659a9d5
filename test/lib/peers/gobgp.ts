// GoBGP driver: writes gobgpd.toml, runs gobgpd inside a namespace with its gRPC API on a
// unix socket in the lab dir (so the `gobgp` CLI needs no namespace and no TCP port), and
// reads its view with `gobgp --target unix://... -j`. gobgpd never touches the FIB (no
// zebra), so `kernel: true` is refused. Originated prefixes live only in gobgpd's RIB:
// they are added with `gobgp global rib add` and added again after restart().
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, Ns, NsRef } from '../netns.js';
import { run } from '../proc.js';
import {
  afiOf,
  announcementMap,
  communityText,
  familiesOf,
  normAddr,
  normOrigin,
  normPrefix,
  normState,
  readLog,
  SingleProcessPeer,
  waitReady,
  withAnnouncements,
  type Afi,
  type Announcement,
  type PeerConfig,
  type PeerHandle,
  type PeerNeighbor,
  type PeerRoute,
} from './index.js';

const s = (v: string): string => JSON.stringify(v); // a TOML basic string

/** gobgpd.toml for the config. */
export function renderGobgpConf(c: PeerConfig): string {
  if (c.kernel) throw new Error('gobgp driver: kernel: true is not supported (gobgpd has no FIB without zebra)');
  const L: string[] = ['# written by test/lib/peers/gobgp.ts', '[global.config]'];
  L.push(`  as = ${c.asn}`, `  router-id = ${s(c.routerId)}`, `  port = ${c.listenPort ?? 179}`);
  for (const n of c.neighbors) {
    if (n.as4 === false) throw new Error('gobgp driver: GoBGP cannot turn off the 4-octet AS capability');
    if (n.nextHopSelf) throw new Error('gobgp driver: nextHopSelf is not supported (eBGP always uses self)');
    L.push('', '[[neighbors]]', '  [neighbors.config]');
    L.push(`    neighbor-address = ${s(n.address)}`, `    peer-as = ${n.asn}`);
    if (n.password !== undefined) L.push(`    auth-password = ${s(n.password)}`);
    L.push(
      '  [neighbors.timers.config]',
      `    connect-retry = ${n.connectRetry ?? 1}`,
      `    hold-time = ${n.holdTime ?? 9}`,
      `    keepalive-interval = ${n.keepalive ?? 3}`,
      '    idle-hold-time-after-reset = 1',
      '    minimum-advertisement-interval = 0',
    );
    const transport: string[] = [];
    if (n.passive) transport.push('    passive-mode = true');
    if (n.localAddress !== undefined) transport.push(`    local-address = ${s(n.localAddress)}`);
    if (n.port !== undefined) transport.push(`    remote-port = ${n.port}`);
    if (transport.length > 0) L.push('  [neighbors.transport.config]', ...transport);
    if (n.multihop !== undefined) {
      L.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', `    multihop-ttl = ${n.multihop}`);
    }
    for (const afi of familiesOf(n)) {
      L.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${afi}-unicast"`);
    }
  }
  return `${L.join('\n')}\n`;
}

/** `gobgp global rib add` arguments (after the prefix) for an announcement. */
export function gobgpAddArgs(a: Announcement): string[] {
  const out: string[] = [];
  if (a.nextHop !== undefined) out.push('nexthop', a.nextHop);
  if (a.origin !== undefined) out.push('origin', a.origin);
  if (a.asPath?.length) out.push('aspath', a.asPath.join(','));
  if (a.med !== undefined) out.push('med', String(a.med));
  if (a.localPref !== undefined) out.push('local-pref', String(a.localPref));
  if (a.communities?.length) out.push('community', a.communities.join(','));
  if (a.largeCommunities?.length) out.push('large-community', a.largeCommunities.join(','));
  return out;
}

interface GobgpAttr {
  type: number;
  value?: unknown;
  as_paths?: Array<{ segment_type?: number; asns?: number[] }>;
  nexthop?: string;
  nexthops?: string[];
  metric?: number;
  communities?: number[];
}
interface GobgpPath {
  nlri?: { prefix?: string };
  best?: boolean;
  attrs?: GobgpAttr[];
  'neighbor-ip'?: string;
  'source-id'?: string;
}

/** Parses `gobgp global rib -a <afi> -j`: prefix → paths with numbered path attributes. */
export function parseGobgpRoutes(json: string): PeerRoute[] {
  const trimmed = json.trim();
  const doc = (trimmed === '' || trimmed === 'null' ? {} : JSON.parse(trimmed)) as Record<string, GobgpPath[]>;
  const out: PeerRoute[] = [];
  for (const [prefix, paths] of Object.entries(doc)) {
    for (const p of paths) {
      const r: { -readonly [K in keyof PeerRoute]: PeerRoute[K] } = {
        prefix: normPrefix(p.nlri?.prefix ?? prefix),
        nextHop: '',
        asPath: [],
        communities: [],
        largeCommunities: [],
        best: p.best === true,
      };
      for (const a of p.attrs ?? []) {
        switch (a.type) {
          case 1: {
            const o = normOrigin(a.value as number);
            if (o !== undefined) r.origin = o;
            break;
          }
          case 2:
            r.asPath = (a.as_paths ?? []).flatMap((seg) => seg.asns ?? []);
            break;
          case 3:
            r.nextHop = a.nexthop ?? '';
            break;
          case 4:
            r.med = a.metric ?? 0;
            break;
          case 5:
            r.localPref = a.value as number;
            break;
          case 8:
            r.communities = (a.communities ?? []).map(communityText);
            break;
          case 14: {
            // MP_REACH_NLRI: the first next hop is the global one.
            const nh = a.nexthop ?? a.nexthops?.[0];
            if (nh !== undefined) r.nextHop = nh;
            break;
          }
          case 32:
            r.largeCommunities = ((a.value ?? []) as Array<{ ASN: number; LocalData1: number; LocalData2: number }>).map(
              (v) => `${v.ASN}:${v.LocalData1}:${v.LocalData2}`,
            );
            break;
        }
      }
      if (r.nextHop === '0.0.0.0' || r.nextHop === '::') r.nextHop = '';
      r.nextHop = r.nextHop === '' ? '' : normAddr(r.nextHop);
      const from = p['neighbor-ip'];
      if (from !== undefined && from !== '<nil>' && from !== '') r.peer = normAddr(from);
      out.push(r);
    }
  }
  return out;
}

class GobgpPeer extends SingleProcessPeer implements PeerHandle {
  readonly kind = 'gobgp' as const;
  config: PeerConfig;
  private readonly anns: Map<string, Announcement>;
  private readonly conf: string;
  private readonly target: string;
  private readonly logFile: string;

  constructor(
    protected readonly lab: Lab,
    readonly ns: Ns,
    config: PeerConfig,
  ) {
    super();
    this.config = config;
    this.anns = announcementMap(config);
    const dir = lab.mkdir(`${ns.name}-gobgp`);
    this.conf = join(dir, 'gobgpd.toml');
    this.target = `unix://${join(dir, 'api.sock')}`;
    this.logFile = join(dir, 'gobgpd.log');
  }

  async start(): Promise<void> {
    this.config = withAnnouncements(this.config, this.anns);
    writeFileSync(this.conf, renderGobgpConf(this.config));
    const args = ['-f', this.conf, '-t', 'toml', '--api-hosts', this.target, '--pprof-disable', '-p', '-l', 'info'];
    const child = this.lab.spawnIn(this.ns, 'gobgpd', args, { logFile: this.logFile });
    this.child = child;
    await waitReady(
      child,
      async () => (await run('gobgp', ['--target', this.target, 'global'], { timeoutMs: 5000 })).code === 0,
      `gobgpd in ${this.ns.name}`,
      this.logFile,
    );
    for (const [p, a] of this.anns) await this.add(p, a);
  }

  private async gobgp(...args: string[]): Promise<string> {
    const r = await run('gobgp', ['--target', this.target, ...args], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`gobgp ${args.join(' ')} in ${this.ns.name}: exit ${r.code}\n${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  private async add(prefix: string, a: Announcement): Promise<void> {
    await this.gobgp('global', 'rib', 'add', '-a', afiOf(prefix), prefix, ...gobgpAddArgs(a));
  }

  async neighbors(): Promise<PeerNeighbor[]> {
    const text = (await this.gobgp('neighbor', '-j')).trim();
    const list = (text === '' || text === 'null' ? [] : JSON.parse(text)) as Array<{
      conf?: { neighbor_address?: string; peer_asn?: number };
      state?: { neighbor_address?: string; peer_asn?: number; session_state?: number | string };
    }>;
    return list.map((n) => ({
      address: normAddr(n.conf?.neighbor_address ?? n.state?.neighbor_address ?? ''),
      state: normState(n.state?.session_state),
      asn: n.conf?.peer_asn ?? n.state?.peer_asn ?? 0,
    }));
  }

  async routes(afi: Afi): Promise<PeerRoute[]> {
    return parseGobgpRoutes(await this.gobgp('global', 'rib', '-a', afi, '-j'));
  }

  async announce(prefix: string, attrs: Announcement = {}): Promise<void> {
    const p = normPrefix(prefix);
    // Replace, not add beside: drop the old path first so no attribute lingers.
    if (this.anns.has(p) && this.child) await this.gobgp('global', 'rib', 'del', '-a', afiOf(p), p);
    this.anns.set(p, attrs);
    this.config = withAnnouncements(this.config, this.anns);
    if (this.child) await this.add(p, attrs);
  }

  async withdraw(prefix: string): Promise<void> {
    const p = normPrefix(prefix);
    this.anns.delete(p);
    this.config = withAnnouncements(this.config, this.anns);
    if (this.child) await this.gobgp('global', 'rib', 'del', '-a', afiOf(p), p);
  }

  async logs(): Promise<string> {
    let state = '';
    if (this.child) {
      const r = await run('gobgp', ['--target', this.target, 'neighbor'], { timeoutMs: 3000 });
      state = `\n--- gobgp neighbor ---\n${r.stdout}`;
    }
    return `${readLog(this.logFile)}${state}`;
  }
}

/** Starts gobgpd in `ns` with the given neighbors and announcements. */
export async function startGobgp(lab: Lab, ns: NsRef, config: PeerConfig): Promise<PeerHandle> {
  const peer = new GobgpPeer(lab, lab.ns(ns), config);
  try {
    await peer.start();
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return peer;
}
