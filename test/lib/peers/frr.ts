// FRR driver: runs zebra and bgpd of the Debian package inside a namespace, each with
// its own config, pid files, zserv socket and vty sockets in a private dir (so several
// FRR instances run side by side and nothing is shared with a system FRR), and reads its
// view with `vtysh --vty_socket DIR ... json`.
//
// Privileges: the daemons are built for user frr and vty group frrvty; `-u root -g frrvty`
// keeps them root (the private dirs are root's) while passing the vty group check.
// bgpd runs with -n (no kernel install) unless `kernel: true`.
// Originated prefixes are `network P route-map TSB-ANN-n` statements; the route-map sets
// their attributes. Changes go through vtysh and are also kept for restart().
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, Ns, NsRef } from '../netns.js';
import { run } from '../proc.js';
import {
  afiOf,
  announcementMap,
  familiesOf,
  normAddr,
  normOrigin,
  normPrefix,
  normState,
  readLog,
  waitEstablishedVia,
  waitReady,
  withAnnouncements,
  type Afi,
  type Announcement,
  type PeerConfig,
  type PeerHandle,
  type PeerNeighbor,
  type PeerRoute,
} from './index.js';

const ZEBRA = '/usr/lib/frr/zebra';
const BGPD = '/usr/lib/frr/bgpd';
const VTY_GROUP = 'frrvty';

/** route-map `set` lines for an originated prefix. */
function setLines(prefix: string, a: Announcement): string[] {
  const out: string[] = [];
  if (a.communities?.length) out.push(`set community ${a.communities.join(' ')}`);
  if (a.largeCommunities?.length) out.push(`set large-community ${a.largeCommunities.join(' ')}`);
  if (a.asPath?.length) out.push(`set as-path prepend ${a.asPath.join(' ')}`);
  if (a.med !== undefined) out.push(`set metric ${a.med}`);
  if (a.localPref !== undefined) out.push(`set local-preference ${a.localPref}`);
  if (a.origin !== undefined) out.push(`set origin ${a.origin}`);
  if (a.nextHop !== undefined) {
    out.push(afiOf(prefix) === 'ipv6' ? `set ipv6 next-hop global ${a.nextHop}` : `set ip next-hop ${a.nextHop}`);
  }
  return out;
}

/** bgpd.conf for the config; `maps` names the route-map of each announced prefix. */
export function renderBgpdConf(c: PeerConfig, maps: ReadonlyMap<string, string>, hostname: string): string {
  const anns = announcementMap(c);
  const L: string[] = ['! written by test/lib/peers/frr.ts', `hostname ${hostname}`, '!'];
  for (const [p, a] of anns) {
    L.push(`route-map ${maps.get(p)} permit 10`, ...setLines(p, a).map((s) => ` ${s}`), 'exit', '!');
  }
  L.push(
    `router bgp ${c.asn}`,
    ` bgp router-id ${c.routerId}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' no bgp default ipv4-unicast',
    ' timers bgp 3 9',
  );
  for (const n of c.neighbors) {
    const a = n.address;
    L.push(` neighbor ${a} remote-as ${n.asn}`);
    L.push(` neighbor ${a} timers ${n.keepalive ?? 3} ${n.holdTime ?? 9}`);
    L.push(` neighbor ${a} timers connect ${n.connectRetry ?? 1}`);
    L.push(` neighbor ${a} advertisement-interval 0`);
    if (n.port !== undefined) L.push(` neighbor ${a} port ${n.port}`);
    if (n.localAddress !== undefined) L.push(` neighbor ${a} update-source ${n.localAddress}`);
    if (n.password !== undefined) L.push(` neighbor ${a} password ${n.password}`);
    if (n.passive) L.push(` neighbor ${a} passive`);
    if (n.multihop !== undefined) L.push(` neighbor ${a} ebgp-multihop ${n.multihop}`);
    // FRR has no switch for the AS4 capability alone: send no capabilities at all.
    if (n.as4 === false) L.push(` neighbor ${a} dont-capability-negotiate`);
  }
  for (const afi of ['ipv4', 'ipv6'] as const) {
    L.push(` address-family ${afi} unicast`);
    for (const [p] of anns) if (afiOf(p) === afi) L.push(`  network ${p} route-map ${maps.get(p)}`);
    for (const n of c.neighbors) {
      if (!familiesOf(n).includes(afi)) continue;
      L.push(`  neighbor ${n.address} activate`);
      if (n.nextHopSelf) L.push(`  neighbor ${n.address} next-hop-self`);
    }
    L.push(' exit-address-family');
  }
  L.push('exit', '!');
  return `${L.join('\n')}\n`;
}

interface FrrPath {
  aspath?: { string?: string; segments?: Array<{ type?: string; list?: number[] }> };
  origin?: string;
  metric?: number;
  locPrf?: number;
  community?: { list?: string[]; string?: string };
  largeCommunity?: { list?: string[]; string?: string };
  nexthops?: Array<{ ip?: string; scope?: string; afi?: string }>;
  bestpath?: { overall?: boolean } | boolean;
  local?: boolean;
  sourced?: boolean;
  peer?: { peerId?: string };
}

/** Parses `show bgp <afi> unicast json detail` (each prefix: a header object, then its paths). */
export function parseFrrRoutes(json: string): PeerRoute[] {
  const doc = JSON.parse(json || '{}') as { routes?: Record<string, FrrPath[]> };
  const out: PeerRoute[] = [];
  for (const [prefix, entries] of Object.entries(doc.routes ?? {})) {
    for (const p of entries) {
      if (p.nexthops === undefined && p.aspath === undefined) continue; // the prefix header
      const segs = p.aspath?.segments;
      const asPath = segs
        ? segs.flatMap((s) => s.list ?? [])
        : (p.aspath?.string?.match(/\d+/g) ?? []).map(Number);
      const nh = p.nexthops?.find((n) => n.scope !== 'link-local') ?? p.nexthops?.[0];
      const ip = nh?.ip ?? '';
      const local = p.local === true || p.sourced === true;
      const route: {
        -readonly [K in keyof PeerRoute]: PeerRoute[K];
      } = {
        prefix: normPrefix(prefix),
        nextHop: ip === '0.0.0.0' || ip === '::' ? '' : normAddr(ip),
        asPath,
        communities: p.community?.list ?? (p.community?.string?.split(' ') ?? []),
        largeCommunities: p.largeCommunity?.list ?? (p.largeCommunity?.string?.split(' ') ?? []),
        best: typeof p.bestpath === 'boolean' ? p.bestpath : p.bestpath?.overall === true,
      };
      if (p.locPrf !== undefined) route.localPref = p.locPrf;
      if (p.metric !== undefined) route.med = p.metric;
      const origin = normOrigin(p.origin);
      if (origin !== undefined) route.origin = origin;
      if (!local && p.peer?.peerId !== undefined) route.peer = normAddr(p.peer.peerId);
      out.push(route);
    }
  }
  return out;
}

class FrrPeer implements PeerHandle {
  readonly kind = 'frr' as const;
  config: PeerConfig;
  private readonly anns: Map<string, Announcement>;
  private readonly maps = new Map<string, string>();
  private mapSeq = 0;
  private readonly dir: string;
  private zebra: ChildProcess | undefined;
  private bgpd: ChildProcess | undefined;
  private crashDirs: string[] = [];

  constructor(
    private readonly lab: Lab,
    readonly ns: Ns,
    config: PeerConfig,
  ) {
    this.config = config;
    this.anns = announcementMap(config);
    for (const p of this.anns.keys()) this.maps.set(p, this.newMapName());
    this.dir = lab.mkdir(`${ns.name}-frr`);
    lab.onCleanup(() => this.removeCrashDirs());
  }

  private removeCrashDirs(): void {
    for (const d of this.crashDirs) rmSync(d, { recursive: true, force: true });
    this.crashDirs = [];
  }

  private newMapName(): string {
    return `TSB-ANN-${++this.mapSeq}`;
  }

  private path(f: string): string {
    return join(this.dir, f);
  }

  private common(daemon: string): string[] {
    return [
      '-u', 'root', '-g', VTY_GROUP,
      '--vty_socket', this.dir,
      '-i', this.path(`${daemon}.pid`),
      '-z', this.path('zserv.api'),
      '-f', this.path(`${daemon}.conf`),
      '-P', '0', // no vty TCP port
      '--log', 'stdout',
      '--log-level', 'informational',
    ];
  }

  async start(): Promise<void> {
    const group = await run('getent', ['group', VTY_GROUP]);
    if (group.code !== 0) throw new Error(`FRR needs the ${VTY_GROUP} group (installed by the frr package)`);
    this.config = withAnnouncements(this.config, this.anns);
    writeFileSync(this.path('zebra.conf'), `hostname ${this.ns.name}\n`);
    writeFileSync(this.path('bgpd.conf'), renderBgpdConf(this.config, this.maps, this.ns.name));
    const zlog = this.path('zebra.log');
    this.zebra = this.lab.spawnIn(this.ns, ZEBRA, this.common('zebra'), { logFile: zlog });
    // FRR keeps a crash-log dir per daemon pid under /var/tmp/frr: removed on stop.
    this.crashDirs.push(`/var/tmp/frr/zebra.${this.zebra.pid}`);
    await waitReady(this.zebra, () => this.vtyOk('zebra'), `zebra in ${this.ns.name}`, zlog);
    const blog = this.path('bgpd.log');
    const bargs = [...this.common('bgpd')];
    if (!this.config.kernel) bargs.push('-n');
    if (this.config.listenPort !== undefined) bargs.push('-p', String(this.config.listenPort));
    this.bgpd = this.lab.spawnIn(this.ns, BGPD, bargs, { logFile: blog });
    this.crashDirs.push(`/var/tmp/frr/bgpd.${this.bgpd.pid}`);
    await waitReady(this.bgpd, () => this.vtyOk('bgpd'), `bgpd in ${this.ns.name}`, blog);
  }

  private async vtyOk(daemon: string): Promise<boolean> {
    const r = await run('vtysh', ['--vty_socket', this.dir, '-d', daemon, '-c', 'show version'], { timeoutMs: 5000 });
    return r.code === 0 && /FRRouting/.test(r.stdout);
  }

  /** Runs vtysh commands (each one `-c`); rejects on a vtysh error or an FRR '%' message. */
  private async vtysh(...cmds: string[]): Promise<string> {
    const args = ['--vty_socket', this.dir];
    for (const c of cmds) args.push('-c', c);
    const r = await run('vtysh', args, { timeoutMs: 10_000 });
    const bad = r.stdout.split('\n').find((l) => /^%/.test(l.trim()));
    if (r.code !== 0 || bad !== undefined) {
      throw new Error(`vtysh in ${this.ns.name} failed (${r.code}): ${bad ?? ''}\n${r.stderr}${r.stdout}`.trim());
    }
    return r.stdout;
  }

  pids(): number[] {
    return [this.zebra, this.bgpd]
      .filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null)
      .map((c) => c.pid!)
      .filter((p) => p !== undefined);
  }

  async stop(): Promise<void> {
    const b = this.bgpd?.pid;
    const z = this.zebra?.pid;
    this.bgpd = undefined;
    this.zebra = undefined;
    if (b !== undefined) await this.lab.kill(b);
    if (z !== undefined) await this.lab.kill(z);
    this.removeCrashDirs();
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  waitEstablished(peerAddr: string, timeoutMs?: number): Promise<void> {
    return waitEstablishedVia(this, peerAddr, timeoutMs);
  }

  async neighbors(): Promise<PeerNeighbor[]> {
    const doc = JSON.parse(await this.vtysh('show bgp neighbors json')) as Record<
      string,
      { remoteAs?: number; bgpState?: string }
    >;
    return Object.entries(doc)
      .filter(([, v]) => typeof v === 'object' && v !== null && 'bgpState' in v)
      .map(([addr, v]) => ({ address: normAddr(addr), state: normState(v.bgpState), asn: v.remoteAs ?? 0 }));
  }

  async routes(afi: Afi): Promise<PeerRoute[]> {
    return parseFrrRoutes(await this.vtysh(`show bgp ${afi} unicast json detail`));
  }

  async announce(prefix: string, attrs: Announcement = {}): Promise<void> {
    const p = normPrefix(prefix);
    const old = this.maps.get(p);
    const name = this.newMapName();
    this.anns.set(p, attrs);
    this.maps.set(p, name);
    this.config = withAnnouncements(this.config, this.anns);
    if (!this.bgpd) return;
    // A fresh route-map per change: FRR applies edits of a used route-map only after its
    // route-map delay timer, a new `network` statement at once.
    const cmds = ['configure terminal', `route-map ${name} permit 10`, ...setLines(p, attrs), 'exit'];
    cmds.push(`router bgp ${this.config.asn}`, `address-family ${afiOf(p)} unicast`);
    if (old !== undefined) cmds.push(`no network ${p}`);
    cmds.push(`network ${p} route-map ${name}`, 'exit-address-family', 'exit');
    if (old !== undefined) cmds.push(`no route-map ${old}`);
    await this.vtysh(...cmds);
  }

  async withdraw(prefix: string): Promise<void> {
    const p = normPrefix(prefix);
    const old = this.maps.get(p);
    this.anns.delete(p);
    this.maps.delete(p);
    this.config = withAnnouncements(this.config, this.anns);
    if (!this.bgpd || old === undefined) return;
    await this.vtysh(
      'configure terminal',
      `router bgp ${this.config.asn}`,
      `address-family ${afiOf(p)} unicast`,
      `no network ${p}`,
      'exit-address-family',
      'exit',
      `no route-map ${old}`,
    );
  }

  async logs(): Promise<string> {
    let state = '';
    if (this.bgpd) {
      const r = await run('vtysh', ['--vty_socket', this.dir, '-c', 'show bgp summary'], { timeoutMs: 3000 });
      state = `\n--- show bgp summary ---\n${r.stdout}`;
    }
    return `--- zebra ---\n${readLog(this.path('zebra.log'))}--- bgpd ---\n${readLog(this.path('bgpd.log'))}${state}`;
  }
}

/** Starts FRR (zebra + bgpd) in `ns` with the given neighbors and announcements. */
export async function startFrr(lab: Lab, ns: NsRef, config: PeerConfig): Promise<PeerHandle> {
  const peer = new FrrPeer(lab, lab.ns(ns), config);
  try {
    await peer.start();
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return peer;
}

