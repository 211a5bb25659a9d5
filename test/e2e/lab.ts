// The route-learning lab shared by the end-to-end test and `npm run demo`:
//
//                 domain A (BIRD, AS 65010)            domain B (FRR, AS 65020)
//   host-a ── 192.168.10.0/24 ── router-a            router-b ── 192.168.20.0/24 ── host-b
//                                   │ 10.10.0.0/24      │ 10.20.0.0/24
//                                 eth-a ─── node ─── eth-b     (tsbgpd, AS 65001)
//
// Each router announces its host's prefix, a few more, and a default route, over an
// IPv4 and an IPv6 session; the node learns them into its kernel through tsbgpd. Also
// here: starting tsbgpd in a namespace (or on the host) and calling the `tsbgp` CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, Ns } from '../lib/netns.js';
import { check, run, sleep, type RunResult } from '../lib/proc.js';
import { startPeer, tail, type PeerHandle, type PeerKind } from '../lib/peers/index.js';

/** The repository (this file runs as dist/test/e2e/lab.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const TSBGPD_JS = join(REPO_ROOT, 'dist/src/bin/tsbgpd.js');
export const TSBGP_JS = join(REPO_ROOT, 'dist/src/bin/tsbgp.js');

// ---------------------------------------------------------------------------
// tsbgpd and tsbgp

export interface TsbgpdOptions {
  /** Configuration files (each passed as --config). */
  readonly config: readonly string[];
  readonly nodeName: string;
  /** API socket path (a file path: Unix sockets in the file system cross namespaces). */
  readonly socket: string;
  /** Default kernel. */
  readonly fib?: 'kernel' | 'memory';
  /** Default false: reload on SIGHUP only. */
  readonly watch?: boolean;
  readonly logFormat?: 'json' | 'text';
  readonly logFile: string;
  readonly metricsAddress?: string;
}

function tsbgpdArgs(o: TsbgpdOptions): string[] {
  const args = [TSBGPD_JS];
  for (const c of o.config) args.push('--config', c);
  args.push('--node-name', o.nodeName, '--api-socket', o.socket, '--fib', o.fib ?? 'kernel');
  args.push('--log-format', o.logFormat ?? 'json', '--log-level', 'info');
  if (o.watch !== true) args.push('--no-watch');
  if (o.metricsAddress !== undefined) args.push('--metrics-address', o.metricsAddress);
  return args;
}

/** One running tsbgpd, tracked by pid. */
export class Tsbgpd {
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exitWaiters: Array<() => void> = [];

  private constructor(
    readonly child: ChildProcess,
    readonly pid: number,
    readonly options: TsbgpdOptions,
  ) {
    child.on('exit', (code, signal) => {
      this.exited = { code, signal };
      for (const w of this.exitWaiters.splice(0)) w();
    });
  }

  /** Starts tsbgpd inside a lab namespace (`ip netns exec` execs node: the pid is tsbgpd's). */
  static async startIn(lab: Lab, ns: Ns, o: TsbgpdOptions): Promise<Tsbgpd> {
    const child = lab.spawnIn(ns, process.execPath, tsbgpdArgs(o), { logFile: o.logFile });
    return Tsbgpd.ready(child, o);
  }

  /** Starts tsbgpd in this process's namespace (the unprivileged demo). */
  static async startLocal(o: TsbgpdOptions): Promise<Tsbgpd> {
    const fd = openSync(o.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, tsbgpdArgs(o), { stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    child.on('error', () => undefined);
    return Tsbgpd.ready(child, o);
  }

  private static async ready(child: ChildProcess, o: TsbgpdOptions): Promise<Tsbgpd> {
    if (child.pid === undefined) throw new Error('cannot start tsbgpd');
    const d = new Tsbgpd(child, child.pid, o);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (d.exited) throw new Error(`tsbgpd (${o.nodeName}) exited during start (${d.exited.code ?? d.exited.signal}):\n${d.logTail()}`);
      const r = await tsbgp(o.socket, ['global', '-o', 'json']);
      if (r.code === 0) return d;
      if (Date.now() > deadline) {
        await d.stop('SIGKILL');
        throw new Error(`tsbgpd (${o.nodeName}) did not answer on ${o.socket} within 20 s:\n${r.stderr}\n${d.logTail()}`);
      }
      await sleep(150);
    }
  }

  get alive(): boolean {
    return this.exited === undefined;
  }

  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exited;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.exited) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  /** Sends `sig` (SIGTERM: clean stop; SIGKILL: crash) and waits for the exit. */
  async stop(sig: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
      this.signal(sig);
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      if ((await Promise.race([gone, timer])) === 'timeout') {
        this.signal('SIGKILL');
        await gone;
        throw new Error(`tsbgpd (${this.options.nodeName}) did not exit within ${timeoutMs} ms of ${sig}:\n${this.logTail()}`);
      }
    }
    return this.exited!;
  }

  log(): string {
    try {
      return readFileSync(this.options.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  logTail(lines = 40): string {
    return tail(this.log(), lines);
  }

  /** Runs `tsbgp --socket S ARGS...`. */
  cli(args: readonly string[]): Promise<RunResult> {
    return tsbgp(this.options.socket, args);
  }

  /** Runs `tsbgp ... -o json` and parses the output; throws with stderr on failure. */
  async json<T>(args: readonly string[]): Promise<T> {
    const r = await tsbgp(this.options.socket, [...args, '-o', 'json']);
    if (r.code !== 0) throw new Error(`tsbgp ${args.join(' ')} -o json: exit ${r.code}\n${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }
}

/** Runs the CLI against a daemon's socket (no namespace needed: the socket is a file). */
export function tsbgp(socket: string, args: readonly string[]): Promise<RunResult> {
  return run(process.execPath, [TSBGP_JS, '--socket', socket, ...args], { timeoutMs: 15_000 });
}

// ---------------------------------------------------------------------------
// The two-domain lab

export interface DomainSpec {
  /** 'a' or 'b': names the namespaces (router-a, host-a) and the node's NIC (eth-a). */
  readonly key: string;
  readonly kind: PeerKind;
  readonly asn: number;
  readonly routerId: string;
  /** Node end / router end of the node's link, IPv4 and IPv6, with lengths. */
  readonly node4: string;
  readonly router4: string;
  readonly node6: string;
  readonly router6: string;
  /** Router end / host end of the host's link. */
  readonly gw4: string;
  readonly host4: string;
  readonly gw6: string;
  readonly host6: string;
  /** What the router announces from the start. */
  readonly announce4: readonly string[];
  readonly announce6: readonly string[];
  /** What the node's import policy accepts of it (default routes excluded). */
  readonly accepted4: readonly string[];
  readonly accepted6: readonly string[];
}

export const NODE_ASN = 65001;
export const NODE_NAME = 'edge-1';
export const NODE_ROUTER_ID = '10.255.0.1';
export const NODE_POD_CIDRS = ['10.244.0.0/24', 'fd00:244::/64'] as const;
/** A prefix the node already routes with a static route; domain B announces it too. */
export const STATIC_PREFIX = '192.168.30.0/24';

export const DOMAIN_A: DomainSpec = {
  key: 'a',
  kind: 'bird',
  asn: 65010,
  routerId: '10.10.0.1',
  node4: '10.10.0.2/24',
  router4: '10.10.0.1/24',
  node6: 'fd00:a::2/64',
  router6: 'fd00:a::1/64',
  gw4: '192.168.10.1/24',
  host4: '192.168.10.10/24',
  gw6: 'fd00:10::1/64',
  host6: 'fd00:10::10/64',
  // 10.99.0.0/16 matches no rule of A's import policy: rejected by its defaultAction.
  announce4: ['192.168.10.0/24', '192.168.11.0/24', '172.16.10.0/24', '10.99.0.0/16', '0.0.0.0/0'],
  announce6: ['fd00:10::/64', 'fd00:1:10::/48', '::/0'],
  accepted4: ['192.168.10.0/24', '192.168.11.0/24', '172.16.10.0/24'],
  accepted6: ['fd00:10::/64', 'fd00:1:10::/48'],
};

export const DOMAIN_B: DomainSpec = {
  key: 'b',
  kind: 'frr',
  asn: 65020,
  routerId: '10.20.0.1',
  node4: '10.20.0.2/24',
  router4: '10.20.0.1/24',
  node6: 'fd00:b::2/64',
  router6: 'fd00:b::1/64',
  gw4: '192.168.20.1/24',
  host4: '192.168.20.10/24',
  gw6: 'fd00:20::1/64',
  host6: 'fd00:20::10/64',
  // 10.98.0.0/16 hits B's explicit Reject rule; 192.168.30.0/24 is accepted but the node
  // already has a static route for it (a FIB conflict, not a policy decision).
  announce4: ['192.168.20.0/24', '172.16.20.0/24', STATIC_PREFIX, '10.98.0.0/16', '0.0.0.0/0'],
  announce6: ['fd00:20::/64', 'fd00:2:20::/48', '::/0'],
  accepted4: ['192.168.20.0/24', '172.16.20.0/24', STATIC_PREFIX],
  accepted6: ['fd00:20::/64', 'fd00:2:20::/48'],
};

export const addr = (cidr: string): string => cidr.split('/')[0]!;

export interface Domain {
  readonly spec: DomainSpec;
  readonly routerNs: Ns;
  readonly hostNs: Ns;
  /** The node's NIC into this domain. */
  readonly nodeIf: string;
  /** The router's interface facing the node, and its IPv6 link-local address. */
  readonly routerIf: string;
  readonly routerLinkLocal: string;
  readonly router: PeerHandle;
}

export interface TwoDomainLab {
  readonly lab: Lab;
  readonly node: Ns;
  readonly a: Domain;
  readonly b: Domain;
  readonly domains: readonly Domain[];
  /** Where the node's config and logs go. */
  readonly dir: string;
}

export async function linkLocalOf(lab: Lab, ns: Ns, ifname: string): Promise<string> {
  const r = await check('ip', ['-n', ns.netns, '-j', '-6', 'addr', 'show', 'dev', ifname, 'scope', 'link']);
  const links = JSON.parse(r.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>;
  const ll = links[0]?.addr_info?.find((a) => (a.local ?? '').startsWith('fe80'))?.local;
  if (ll === undefined) throw new Error(`${ns.name}/${ifname} has no link-local address`);
  return ll;
}

async function buildDomain(lab: Lab, node: Ns, s: DomainSpec): Promise<Omit<Domain, 'router'>> {
  const routerNs = await lab.addNamespace(`router-${s.key}`, { forwarding: true });
  const hostNs = await lab.addNamespace(`host-${s.key}`);
  const nodeIf = `eth-${s.key}`;
  const routerIf = 'eth-node';
  await lab.link(node, routerNs, { ifA: nodeIf, ifB: routerIf, a: s.node4, b: s.router4, a6: s.node6, b6: s.router6 });
  await lab.link(routerNs, hostNs, { ifA: 'eth-host', ifB: 'eth0', a: s.gw4, b: s.host4, a6: s.gw6, b6: s.host6 });
  await lab.check(hostNs, 'ip', ['route', 'add', 'default', 'via', addr(s.gw4)]);
  await lab.check(hostNs, 'ip', ['-6', 'route', 'add', 'default', 'via', addr(s.gw6)]);
  return { spec: s, routerNs, hostNs, nodeIf, routerIf, routerLinkLocal: await linkLocalOf(lab, routerNs, routerIf) };
}

/** The router's BGP config: an IPv4 and an IPv6 session to the node, its announcements. */
function startRouter(lab: Lab, d: Omit<Domain, 'router'>): Promise<PeerHandle> {
  const s = d.spec;
  return startPeer(s.kind, lab, d.routerNs, {
    asn: s.asn,
    routerId: s.routerId,
    kernel: s.kind !== 'gobgp', // a real router: forwards along what it learned
    neighbors: [
      { address: addr(s.node4), asn: NODE_ASN, families: ['ipv4'] },
      { address: addr(s.node6), asn: NODE_ASN, families: ['ipv6'] },
    ],
    announce: [...s.announce4, ...s.announce6].map((prefix) => ({ prefix })),
  });
}

/**
 * Builds the namespaces and links, starts both routers, and gives the node the static
 * route it "already had" (same table and metric as tsbgp's routes: a real conflict).
 */
export async function buildTwoDomainLab(lab: Lab, specs: readonly [DomainSpec, DomainSpec] = [DOMAIN_A, DOMAIN_B]): Promise<TwoDomainLab> {
  const node = await lab.addNamespace('node');
  const [sa, sb] = specs;
  const da = await buildDomain(lab, node, sa);
  const db = await buildDomain(lab, node, sb);
  await lab.check(node, 'ip', ['route', 'add', STATIC_PREFIX, 'via', addr(sb.router4), 'dev', db.nodeIf, 'proto', 'static', 'metric', '20']);
  const [ra, rb] = await Promise.all([startRouter(lab, da), startRouter(lab, db)]);
  const a: Domain = { ...da, router: ra };
  const b: Domain = { ...db, router: rb };
  const dir = lab.mkdir('node-tsbgpd');
  return { lab, node, a, b, domains: [a, b], dir };
}

export interface PolicyOptions {
  /** allowDefaultRoute on domain A's / B's neighbours. */
  readonly allowDefaultA?: boolean;
  readonly allowDefaultB?: boolean;
  /** prefixLimit on domain B's IPv4 neighbour. */
  readonly prefixLimitB4?: { readonly maxPrefixes: number; readonly restartTimerSeconds: number };
  /** More neighbours (multihop, link-local next hops): each one's peerAddress, ASN and extra YAML lines. */
  readonly extraNeighbors?: ReadonlyArray<{ readonly peer: string; readonly asn: number; readonly lines?: readonly string[] }>;
}

function neighborYaml(s: DomainSpec, afi: 'ipv4' | 'ipv6', o: PolicyOptions): string[] {
  const peer = afi === 'ipv4' ? `${addr(s.router4)}/32` : `${addr(s.router6)}/128`;
  const allowDefault = s.key === 'a' ? o.allowDefaultA === true : o.allowDefaultB === true;
  const L = [
    `    - peerAddress: "${peer}"`,
    `      peerASN: ${s.asn}`,
    '      holdTimeSeconds: 9',
    '      keepAliveTimeSeconds: 3',
    '      connectRetryTimeSeconds: 1',
    `      families: [{afi: ${afi}, safi: unicast}]`,
  ];
  if (afi === 'ipv4' && s.key === 'b' && o.prefixLimitB4) {
    L.push(
      `      prefixLimit: {maxPrefixes: ${o.prefixLimitB4.maxPrefixes}, restartTimerSeconds: ${o.prefixLimitB4.restartTimerSeconds}}`,
    );
  }
  L.push('      importPolicy:', `        allowDefaultRoute: ${allowDefault}`);
  if (s.key === 'a') {
    // Domain A: learn only what the rules name.
    L.push(
      '        defaultAction: Reject',
      '        rules:',
      '        - name: domain-a-v4',
      '          match: {prefixes: [{cidr: 192.168.0.0/16, ge: 24, le: 24}, {cidr: 172.16.0.0/12, le: 24}]}',
      '          action: Accept',
      '        - name: domain-a-v6',
      '          match: {prefixes: [{cidr: "fd00::/8", le: 64}]}',
      '          action: Accept',
      // Matches the default routes, yet allowDefaultRoute (checked first) decides.
      '        - name: domain-a-default',
      '          match: {prefixes: [{cidr: 0.0.0.0/0}, {cidr: "::/0"}]}',
      '          action: Accept',
    );
  } else {
    // Domain B: learn everything but 10/8.
    L.push(
      '        defaultAction: Accept',
      '        rules:',
      '        - name: no-tens',
      '          match: {prefixes: [{cidr: 10.0.0.0/8, le: 32}]}',
      '          action: Reject',
    );
  }
  return L;
}

/** The node's configuration: one CiliumBGPPeeringPolicy and its Node object. */
export function twoDomainPolicy(specs: readonly DomainSpec[] = [DOMAIN_A, DOMAIN_B], o: PolicyOptions = {}): string {
  const L = [
    '# The route-learning node: one virtual router, an IPv4 and an IPv6 session into each',
    '# routing domain, an import policy per neighbour. Cilium fields plus tsbgp extensions.',
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: two-domains}',
    'spec:',
    '  nodeSelector: {matchLabels: {topology.example.com/domains: "2"}}',
    '  virtualRouters:',
    `  - localASN: ${NODE_ASN}`,
    '    exportPodCIDR: true',
    '    routeInstall: {enabled: true, table: main, metric: 20, protocol: 186}',
    '    neighbors:',
  ];
  for (const s of specs) {
    L.push(...neighborYaml(s, 'ipv4', o), ...neighborYaml(s, 'ipv6', o));
  }
  for (const n of o.extraNeighbors ?? []) {
    L.push(
      `    - peerAddress: "${n.peer}"`,
      `      peerASN: ${n.asn}`,
      '      holdTimeSeconds: 9',
      '      keepAliveTimeSeconds: 3',
      '      connectRetryTimeSeconds: 1',
      ...(n.lines ?? []).map((l) => `      ${l}`),
      '      importPolicy: {defaultAction: Accept}',
    );
  }
  L.push(
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    `  name: ${NODE_NAME}`,
    '  labels: {topology.example.com/domains: "2"}',
    `  annotations: {cilium.io/bgp-virtual-router.${NODE_ASN}: "router-id=${NODE_ROUTER_ID}"}`,
    `spec: {podCIDRs: [${NODE_POD_CIDRS.map((c) => `"${c}"`).join(', ')}]}`,
    'status:',
    '  addresses:',
    ...specs.map((s) => `  - {type: InternalIP, address: ${addr(s.node4)}}`),
    '',
  );
  return L.join('\n');
}

/** Writes the policy file and starts tsbgpd in the node namespace. */
export async function startNodeDaemon(t: TwoDomainLab, file: string, logName = 'tsbgpd.log'): Promise<Tsbgpd> {
  return Tsbgpd.startIn(t.lab, t.node, {
    config: [file],
    nodeName: NODE_NAME,
    socket: join(t.dir, 'tsbgpd.sock'),
    fib: 'kernel',
    logFile: join(t.dir, logName),
  });
}

export function writePolicy(t: TwoDomainLab, o: PolicyOptions = {}): string {
  mkdirSync(t.dir, { recursive: true });
  const file = join(t.dir, 'policy.yaml');
  writeFileSync(file, twoDomainPolicy([t.a.spec, t.b.spec], o));
  return file;
}

// ---------------------------------------------------------------------------
// Kernel views

/** A route as `ip -j route show` prints it. */
export interface IpRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly metric?: number;
  readonly nexthops?: ReadonlyArray<{ gateway?: string; dev?: string }>;
}

/** `ip -j -4|-6 route show table main proto PROTO` in a namespace ('default' spelled as a prefix). */
export async function protoRoutes(lab: Lab, ns: Ns, family: 4 | 6, proto: number | string = 186): Promise<IpRoute[]> {
  const r = await check('ip', ['-n', ns.netns, '-j', `-${family}`, 'route', 'show', 'table', 'main', 'proto', String(proto)]);
  const list = JSON.parse(r.stdout || '[]') as IpRoute[];
  return list.map((x) => ({ ...x, dst: x.dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : x.dst }));
}

/** `ip -j route get ADDR`: the route the kernel picks (dev, gateway). */
export async function routeGet(lab: Lab, ns: Ns, address: string): Promise<{ dst: string; gateway?: string; dev?: string; prefsrc?: string }> {
  const r = await check('ip', ['-n', ns.netns, '-j', 'route', 'get', address]);
  const list = JSON.parse(r.stdout) as Array<{ dst: string; gateway?: string; dev?: string; prefsrc?: string }>;
  if (list.length === 0) throw new Error(`ip route get ${address}: no answer`);
  return list[0]!;
}

/** One ping; resolves with ping's output and whether a reply came back. */
export async function ping(lab: Lab, ns: Ns, address: string): Promise<{ ok: boolean; output: string }> {
  const r = await lab.exec(ns, 'ping', ['-n', '-c', '1', '-W', '2', address], { timeoutMs: 10_000 });
  return { ok: r.code === 0, output: `${r.stdout}${r.stderr}` };
}

export { birdc, driverDir, gobgp, vtysh } from '../lib/peers/control.js';
