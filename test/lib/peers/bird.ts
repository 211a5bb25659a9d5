// BIRD 2 driver: writes bird.conf, runs `bird -f` inside a namespace, reads its view with
// birdc (BIRD 2 has no JSON: the text of `show protocols all` / `show route all` is parsed).
// Originated prefixes are blackhole routes of a static protocol whose attributes are set
// by the BGP export filter (BIRD only sends MED/LOCAL_PREF set there); announce/withdraw
// rewrite the file and `birdc configure`, which leaves the BGP sessions up.
// Without `kernel: true` there is no kernel protocol, so BIRD never touches the FIB.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, Ns, NsRef } from '../netns.js';
import { check, run } from '../proc.js';
import {
  announcementMap,
  familiesOf,
  isV6,
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

function q(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

function pair(s: string, n: number, what: string): string {
  const parts = s.split(':');
  if (parts.length !== n || parts.some((p) => !/^\d+$/.test(p))) throw new Error(`bad ${what}: ${s}`);
  return `(${parts.join(',')})`;
}

/** Filter statements that give an originated route its attributes. */
function attrStatements(a: Announcement): string[] {
  const out: string[] = [];
  for (const c of a.communities ?? []) out.push(`bgp_community.add(${pair(c, 2, 'community')});`);
  for (const c of a.largeCommunities ?? []) out.push(`bgp_large_community.add(${pair(c, 3, 'large community')});`);
  // prepend() puts each AS in front: go from the last to the first.
  for (const asn of [...(a.asPath ?? [])].reverse()) out.push(`bgp_path.prepend(${asn});`);
  if (a.med !== undefined) out.push(`bgp_med = ${a.med};`);
  if (a.localPref !== undefined) out.push(`bgp_local_pref = ${a.localPref};`);
  if (a.origin !== undefined) out.push(`bgp_origin = ORIGIN_${a.origin.toUpperCase()};`);
  if (a.nextHop !== undefined) out.push(`bgp_next_hop = ${a.nextHop};`);
  return out;
}

/** bird.conf for the config; neighbor i is protocol n<i>. */
export function renderBirdConf(c: PeerConfig): string {
  const anns = announcementMap(c);
  const L: string[] = [];
  L.push('# written by test/lib/peers/bird.ts', 'log stderr all;', `router id ${c.routerId};`, '');
  L.push('protocol device { scan time 10; }');
  if (c.kernel) {
    // Install what BGP learned so packets are forwarded through this namespace.
    L.push('protocol kernel k4 { ipv4 { import none; export where source = RTS_BGP; }; }');
    L.push('protocol kernel k6 { ipv6 { import none; export where source = RTS_BGP; }; }');
  }
  for (const afi of ['ipv4', 'ipv6'] as const) {
    L.push(`protocol static ann${afi === 'ipv4' ? 4 : 6} {`, `  ${afi};`);
    for (const [p] of anns) if (isV6(p) === (afi === 'ipv6')) L.push(`  route ${p} blackhole;`);
    L.push('}');
  }
  L.push('filter tsb_export {');
  for (const [p, a] of anns) {
    const st = attrStatements(a);
    if (st.length > 0) L.push(`  if net = ${p} then {`, ...st.map((s) => `    ${s}`), '  }');
  }
  L.push('  accept;', '}');
  c.neighbors.forEach((n, i) => {
    const local = `local${n.localAddress !== undefined ? ` ${n.localAddress}` : ''}${
      c.listenPort !== undefined ? ` port ${c.listenPort}` : ''
    } as ${c.asn};`;
    L.push(`protocol bgp n${i} {`, `  ${local}`);
    L.push(`  neighbor ${n.address}${n.port !== undefined ? ` port ${n.port}` : ''} as ${n.asn};`);
    if (n.password !== undefined) L.push(`  password ${q(n.password)};`);
    if (n.passive) L.push('  passive on;');
    if (n.as4 === false) L.push('  enable as4 off;');
    if (n.multihop !== undefined) L.push(`  multihop ${n.multihop};`);
    L.push(
      `  hold time ${n.holdTime ?? 9};`,
      `  keepalive time ${n.keepalive ?? 3};`,
      `  connect retry time ${n.connectRetry ?? 1};`,
      '  connect delay time 1;',
      '  error wait time 1, 4;',
    );
    for (const afi of familiesOf(n)) {
      L.push(`  ${afi} { import all; export filter tsb_export;${n.nextHopSelf ? ' next hop self;' : ''} };`);
    }
    L.push('}');
  });
  return `${L.join('\n')}\n`;
}

/** Parses `birdc show protocols all`: one entry per BGP protocol. */
export function parseBirdProtocols(text: string): Array<{ name: string; state: string; address: string; asn: number }> {
  const out: Array<{ name: string; state: string; address: string; asn: number }> = [];
  let cur: { name: string; state: string; address: string; asn: number } | undefined;
  for (const line of text.split('\n')) {
    const head = /^(\S+)\s+(\S+)\s+\S+\s+\S+\s+\S+/.exec(line);
    if (head && !line.startsWith('BIRD ') && head[1] !== 'Name') {
      cur = head[2] === 'BGP' ? { name: head[1]!, state: '', address: '', asn: 0 } : undefined;
      if (cur) out.push(cur);
      continue;
    }
    if (!cur) continue;
    const kv = /^\s+(BGP state|Neighbor address|Neighbor AS):\s+(\S+)/.exec(line);
    if (!kv) continue;
    if (kv[1] === 'BGP state') cur.state = kv[2]!;
    else if (kv[1] === 'Neighbor address') cur.address = normAddr(kv[2]!);
    else cur.asn = Number(kv[2]);
  }
  return out;
}

/**
 * Parses `birdc show route all`. A route starts with "PREFIX TYPE [PROTO ...] * (PREF)"; more
 * paths of the same prefix start with whitespace instead of the prefix. Attribute lines
 * are "\tBGP.name: value". `peerOf` maps a protocol name to its neighbor address.
 */
export function parseBirdRoutes(text: string, peerOf: (proto: string) => string | undefined): PeerRoute[] {
  type Draft = {
    prefix: string;
    nextHop: string;
    via: string;
    asPath: number[];
    communities: string[];
    largeCommunities: string[];
    localPref?: number;
    med?: number;
    origin?: NonNullable<PeerRoute['origin']>;
    best: boolean;
    peer?: string;
  };
  const out: Draft[] = [];
  let prefix = '';
  let cur: Draft | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('BIRD ') || line.startsWith('Table ') || line.trim() === '') continue;
    const head = /^(\S*)\s+([a-z]+)\s+\[(\S+)[^\]]*\]\s*(\*)?\s*\(\d+/.exec(line);
    if (head) {
      if (head[1]) prefix = normPrefix(head[1]);
      cur = { prefix, nextHop: '', via: '', asPath: [], communities: [], largeCommunities: [], best: head[4] === '*' };
      const peer = peerOf(head[3]!);
      if (peer !== undefined) cur.peer = peer;
      out.push(cur);
      continue;
    }
    if (!cur) continue;
    const via = /^\s+via\s+(\S+)/.exec(line);
    if (via) {
      if (!cur.via) cur.via = normAddr(via[1]!);
      continue;
    }
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const v = attr[2]!.trim();
    switch (attr[1]) {
      case 'as_path':
        cur.asPath = (v.match(/\d+/g) ?? []).map(Number);
        break;
      case 'next_hop':
        cur.nextHop = normAddr(v.split(/\s+/)[0] ?? '');
        break;
      case 'med':
        cur.med = Number(v);
        break;
      case 'local_pref':
        cur.localPref = Number(v);
        break;
      case 'origin': {
        const o = normOrigin(v);
        if (o !== undefined) cur.origin = o;
        break;
      }
      case 'community':
        cur.communities = [...v.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
        break;
      case 'large_community':
        cur.largeCommunities = [...v.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
        break;
    }
  }
  return out.map(({ via, ...r }) => ({ ...r, nextHop: r.nextHop || via }));
}

class BirdPeer extends SingleProcessPeer implements PeerHandle {
  readonly kind = 'bird' as const;
  config: PeerConfig;
  private readonly anns: Map<string, Announcement>;
  private readonly conf: string;
  private readonly sock: string;
  private readonly pidFile: string;
  private readonly logFile: string;

  constructor(
    protected readonly lab: Lab,
    readonly ns: Ns,
    config: PeerConfig,
  ) {
    super();
    this.config = config;
    this.anns = announcementMap(config);
    const dir = lab.mkdir(`${ns.name}-bird`);
    this.conf = join(dir, 'bird.conf');
    this.sock = join(dir, 'bird.ctl');
    this.pidFile = join(dir, 'bird.pid');
    this.logFile = join(dir, 'bird.log');
  }

  private writeConf(): void {
    this.config = withAnnouncements(this.config, this.anns);
    writeFileSync(this.conf, renderBirdConf(this.config));
  }

  async start(): Promise<void> {
    this.writeConf();
    // Parse-only run first: a config error is reported at once, with BIRD's message.
    await check('bird', ['-p', '-c', this.conf]);
    const child = this.lab.spawnIn(this.ns, 'bird', ['-f', '-c', this.conf, '-s', this.sock, '-P', this.pidFile], {
      logFile: this.logFile,
    });
    this.child = child;
    await waitReady(
      child,
      async () => /Daemon is up and running/.test(await this.birdc('show', 'status')),
      `bird in ${this.ns.name}`,
      this.logFile,
    );
  }

  /** birdc talks to the control socket; it need not run inside the namespace. */
  private async birdc(...args: string[]): Promise<string> {
    const r = await check('birdc', ['-s', this.sock, ...args], { timeoutMs: 10_000 });
    return r.stdout;
  }

  async neighbors(): Promise<PeerNeighbor[]> {
    const protos = parseBirdProtocols(await this.birdc('show', 'protocols', 'all'));
    return protos.map((p) => {
      const spec = this.config.neighbors[Number(p.name.slice(1))];
      return {
        address: p.address || normAddr(spec?.address ?? ''),
        state: normState(p.state),
        asn: p.asn || (spec?.asn ?? 0),
      };
    });
  }

  async routes(afi: Afi): Promise<PeerRoute[]> {
    const text = await this.birdc('show', 'route', 'all', 'table', afi === 'ipv4' ? 'master4' : 'master6');
    return parseBirdRoutes(text, (proto) => {
      const m = /^n(\d+)$/.exec(proto);
      const spec = m ? this.config.neighbors[Number(m[1])] : undefined;
      return spec ? normAddr(spec.address) : undefined;
    });
  }

  private async reconfigure(): Promise<void> {
    this.writeConf();
    if (!this.child) return;
    const out = await this.birdc('configure');
    if (!/Reconfigured|Reconfiguration in progress|Reconfiguration confirmed/.test(out)) {
      throw new Error(`birdc configure failed in ${this.ns.name}:\n${out}`);
    }
  }

  async announce(prefix: string, attrs: Announcement = {}): Promise<void> {
    this.anns.set(normPrefix(prefix), attrs);
    await this.reconfigure();
  }

  async withdraw(prefix: string): Promise<void> {
    this.anns.delete(normPrefix(prefix));
    await this.reconfigure();
  }

  async logs(): Promise<string> {
    let state = '';
    if (this.child) {
      const r = await run('birdc', ['-s', this.sock, 'show', 'protocols'], { timeoutMs: 3000 });
      state = `\n--- birdc show protocols ---\n${r.stdout}`;
    }
    return `${readLog(this.logFile)}${state}`;
  }
}

/** Starts BIRD 2 in `ns` with the given neighbors and announcements. */
export async function startBird(lab: Lab, ns: NsRef, config: PeerConfig): Promise<PeerHandle> {
  const peer = new BirdPeer(lab, lab.ns(ns), config);
  try {
    await peer.start();
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return peer;
}
