// The fault lab: the route-learning lab of test/e2e (BIRD in domain A, FRR in domain B,
// a static route of the node on 192.168.30.0/24) plus a third link into a "speakers"
// namespace where misbehaving BGP speakers (speaker-child.ts) listen for tsbgpd:
//
//   router-a (BIRD 65010) ── eth-a ─┐
//   router-b (FRR 65020)  ── eth-b ─┤ node (tsbgpd 65001)
//   spk: 10.30.0.1 feeder 65030,   ─┘ eth-s 10.30.0.2/24
//        10.30.0.3 stalled reader 65031 (its own virtual router 65005, which advertises
//        a bulk Service), 10.30.0.4 feeder 65032 whose next hop is 10.31.0.1
//
// Also here: the parent side of the speaker child, and cheap probes of a process
// (RSS, open file descriptors) and of the node's kernel table.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Lab, Ns } from '../lib/netns.js';
import { check, run } from '../lib/proc.js';
import { IpcChild } from '../lib/ipc-child.js';
import { addr, buildTwoDomainLab, DOMAIN_A, DOMAIN_B, type TwoDomainLab } from '../e2e/lab.js';
import type { ChildEvent, ChildState, Command, FeedArgs, RawArgs } from './speaker-child.js';
import type { PhaseResult } from '../../bench/feeder/feeder.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./speaker-child.js', import.meta.url));

export const NODE_AS = 65001;
/** The instance that only talks to the stalled reader. */
export const BULK_AS = 65005;
export const NODE_S = '10.30.0.2';
export const FEEDER = { address: '10.30.0.1', asn: 65030 } as const;
export const STALLED = { address: '10.30.0.3', asn: 65031 } as const;
export const FAR_NH = { address: '10.30.0.4', asn: 65032, nextHop: '10.31.0.1' } as const;
/** Hold time of every tsbgpd session in the fault lab (keepalive a third). */
export const HOLD = 6;

/** One speaker child in the speakers namespace, driven over IPC. */
export class FaultSpeaker extends IpcChild<Command, ChildEvent> {
  static async start(lab: Lab, ns: Ns, name: string): Promise<FaultSpeaker> {
    const s = new FaultSpeaker(
      { lab, ns, script: CHILD_SCRIPT, logFile: join(lab.dir, `speaker-${name}.log`), nodeArgs: ['--max-old-space-size=2048'] },
      'speaker',
      30,
    );
    await s.ready();
    return s;
  }

  feed(args: FeedArgs): Promise<{ port: number }> {
    return this.call({ cmd: 'feed', args });
  }
  raw(args: RawArgs): Promise<{ port: number }> {
    return this.call({ cmd: 'raw', args });
  }
  announce(): Promise<PhaseResult> {
    return this.call({ cmd: 'announce' });
  }
  withdraw(): Promise<PhaseResult> {
    return this.call({ cmd: 'withdraw' });
  }
  flap(cycles: number, fraction: number): Promise<PhaseResult[]> {
    return this.call({ cmd: 'flap', args: { cycles, fraction } });
  }
  resetMidUpdate(): Promise<{ sentBytes: number; messageLength: number }> {
    return this.call({ cmd: 'resetMidUpdate' });
  }
  stall(keepalives: boolean): Promise<boolean> {
    return this.call({ cmd: 'stall', args: { keepalives } });
  }
  state(): Promise<ChildState> {
    return this.call({ cmd: 'state' });
  }
  close(): Promise<boolean> {
    return this.call({ cmd: 'close' });
  }
}

export interface FaultLab extends TwoDomainLab {
  readonly spk: Ns;
}

/** The two domains of the e2e lab plus the speakers' namespace on eth-s. */
export async function buildFaultLab(lab: Lab): Promise<FaultLab> {
  const t = await buildTwoDomainLab(lab);
  const spk = await lab.addNamespace('spk');
  await lab.link(t.node, spk, { ifA: 'eth-s', ifB: 'eth-node', a: `${NODE_S}/24`, b: `${FEEDER.address}/24` });
  for (const a of [STALLED.address, FAR_NH.address]) await lab.check(spk, 'ip', ['addr', 'add', `${a}/24`, 'dev', 'eth-node']);
  // Small receive buffers for the speakers (they only read KEEPALIVEs and the bulk Service):
  // the stalled reader's window closes after ~64 KiB instead of megabytes, so tsbgpd's
  // socket stops taking data within a reload or two.
  await lab.check(spk, 'sysctl', ['-qw', 'net.ipv4.tcp_rmem=4096 32768 65536']);
  return { ...t, spk };
}

export interface FaultPolicyOptions {
  /** Add the bulk instance: a Service with this many external IPs, advertised to the stalled reader only. */
  readonly bulkServiceIps?: number;
  /** Which half of the bulk addresses (churned by reloads). */
  readonly bulkShift?: number;
}

function neighbor(address: string, asn: number): string[] {
  return [
    `    - peerAddress: "${address}/32"`,
    `      peerASN: ${asn}`,
    `      holdTimeSeconds: ${HOLD}`,
    `      keepAliveTimeSeconds: ${HOLD / 3}`,
    '      connectRetryTimeSeconds: 1',
    '      families: [{afi: ipv4, safi: unicast}]',
  ];
}

/** IPv4 external IPs of the bulk Service: 100.64.0.0/10 and up, `shift` moves the window. */
export function bulkIps(n: number, shift = 0): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = 0x64400000 + i + shift * n; // 100.64.0.0
    out.push(`${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`);
  }
  return out;
}

/** tsbgpd's config for the fault lab: everything IPv4, learn all but default routes. */
export function faultPolicy(o: FaultPolicyOptions = {}): string {
  const learn = ['      importPolicy: {defaultAction: Accept}'];
  const L = [
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: faults}',
    'spec:',
    '  virtualRouters:',
    `  - localASN: ${NODE_AS}`,
    '    routeInstall: {enabled: true, table: main, metric: 20, protocol: 186}',
    '    neighbors:',
    ...neighbor(addr(DOMAIN_A.router4), DOMAIN_A.asn),
    ...learn,
    ...neighbor(addr(DOMAIN_B.router4), DOMAIN_B.asn),
    ...learn,
    ...neighbor(FEEDER.address, FEEDER.asn),
    ...learn,
    ...neighbor(FAR_NH.address, FAR_NH.asn),
    ...learn,
  ];
  if (o.bulkServiceIps !== undefined) {
    L.push(
      `  - localASN: ${BULK_AS}`,
      // Two instances on one kernel key would delete each other's routes (configuration.md).
      '    routeInstall: {enabled: false}',
      '    serviceSelector: {matchLabels: {bulk: "yes"}}',
      '    serviceAdvertisements: [ExternalIP]',
      '    neighbors:',
      ...neighbor(STALLED.address, STALLED.asn),
    );
  }
  L.push(
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    '  name: fault-node',
    `  annotations: {cilium.io/bgp-virtual-router.${NODE_AS}: "router-id=10.255.0.1", cilium.io/bgp-virtual-router.${BULK_AS}: "router-id=10.255.0.5"}`,
    `status: {addresses: [{type: InternalIP, address: ${NODE_S}}]}`,
  );
  if (o.bulkServiceIps !== undefined) {
    L.push(
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: bulk, namespace: default, labels: {bulk: "yes"}}',
      'spec:',
      '  type: ClusterIP',
      `  externalIPs: [${bulkIps(o.bulkServiceIps, o.bulkShift ?? 0).join(', ')}]`,
    );
  }
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------------------
// Probes

/** Resident set size of a process in MiB (/proc/PID/status VmRSS). */
export function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

/** Open file descriptors of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Number of proto-186 IPv4 routes in the namespace's main table (`ip route show` text is cheaper than -j at 100k). */
export async function protoCount(ns: Ns, proto = 186): Promise<number> {
  const r = await check('ip', ['-n', ns.netns, '-4', 'route', 'show', 'table', 'main', 'proto', String(proto)], { timeoutMs: 60_000 });
  let n = 0;
  for (let i = r.stdout.indexOf('\n'); i !== -1; i = r.stdout.indexOf('\n', i + 1)) n++;
  return n;
}

/** Prefixes (dst) of the proto-186 IPv4 routes, with their gateway: 'dst via gw dev d'. */
export async function protoLines(ns: Ns, proto = 186): Promise<string[]> {
  const r = await check('ip', ['-n', ns.netns, '-4', 'route', 'show', 'table', 'main', 'proto', String(proto)], { timeoutMs: 60_000 });
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const f = l.trim().split(/\s+/);
      const dst = f[0] === 'default' ? '0.0.0.0/0' : f[0]!.includes('/') ? f[0]! : `${f[0]}/32`;
      const via = f.indexOf('via');
      const dev = f.indexOf('dev');
      return `${dst} via ${via >= 0 ? f[via + 1] : '-'} dev ${dev >= 0 ? f[dev + 1] : '-'}`;
    })
    .sort();
}

/** GET /metrics from inside the node namespace. */
export async function scrape(lab: Lab, ns: Ns, address: string): Promise<string> {
  const r = await lab.exec(ns, 'curl', ['-sS', '--max-time', '10', `http://${address}/metrics`], { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`curl ${address}/metrics: ${r.stderr}`);
  return r.stdout;
}

/** The value of one sample of a Prometheus text page (labels given as `k="v"` pieces, all must be present). */
export function metric(page: string, name: string, ...labels: string[]): number | undefined {
  for (const line of page.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (!labels.every((l) => rest.includes(l))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** Runs `kill -SIG pid` (any signal, including STOP/CONT). */
export async function signalPid(pid: number, sig: string): Promise<void> {
  await run('kill', [`-${sig}`, String(pid)]);
}
