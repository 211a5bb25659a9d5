// The receivers under test, each started inside its own namespace with a minimal
// configuration: one eBGP neighbour (the feeder), IPv4 and IPv6 unicast, accept
// everything, send nothing back. Each connects to the feeder (which listens), and
// reports how many of the feeder's prefixes its RIB holds, cheaply enough to be asked
// many times a second.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ApiClient } from '../../src/api/client.js';
import type { Lab, Ns } from '../../test/lib/netns.js';
import { check, pidAlive, run, sleep } from '../../test/lib/proc.js';
import { BirdCtl, birdImported, frrPrefixesReceived, FrrVty, gobgpAccepted } from './ctl.js';
import { TSBGPD_NODE_FLAGS } from '../../src/bin/node-flags.js';

export const RECEIVER_KINDS = ['tsbgpd', 'bird', 'bird-kernel', 'frr', 'gobgp'] as const;
export type ReceiverKind = (typeof RECEIVER_KINDS)[number];

const TSBGPD_JS = fileURLToPath(new URL('../../src/bin/tsbgpd.js', import.meta.url));
const FRR_DIR = '/usr/lib/frr';
export const METRICS_PORT = 9179;

export interface ReceiverContext {
  readonly lab: Lab;
  readonly ns: Ns;
  /** A private directory for configs, sockets and logs. */
  readonly dir: string;
  readonly localAs: number;
  /** The receiver's address on the link, and the feeder's. */
  readonly address: string;
  readonly peerAddress: string;
  readonly peerAs: number;
  readonly holdTime: number;
  readonly keepalive: number;
}

export interface Receiver {
  readonly kind: ReceiverKind;
  /** e.g. "BIRD 2.0.12, kernel export". */
  readonly label: string;
  readonly version: string;
  /** Writes routes into the kernel FIB. */
  readonly fib: boolean;
  /** The `proto` its kernel routes carry (for `ip route show proto X`). */
  readonly kernelProto: string | undefined;
  /** Processes whose memory and CPU are the receiver's. */
  pids(): number[];
  /** The feeder's prefixes in the RIB (all families). */
  ribCount(): Promise<number>;
  /** The receiver's session to the feeder, in its own words ('' when unknown). */
  sessionState(): Promise<string>;
  /** GET URL of its Prometheus metrics, reachable from the feeder namespace. */
  readonly metricsUrl: string | undefined;
  readonly logFiles: readonly string[];
  stop(): Promise<void>;
}

/** The first line of a program's version output. */
function versionOf(cmd: string, args: string[], re: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  const m = re.exec(`${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  return m?.[1] ?? 'unknown';
}

/** Polls `ready` until it holds, failing early (with the log) when the process died. */
async function waitUp(what: string, pids: () => number[], logFile: string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = pids().filter((p) => !pidAlive(p));
    if (dead.length > 0) throw new Error(`${what} exited during start:\n${tailOf(logFile)}`);
    try {
      if (await ready()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms:\n${tailOf(logFile)}`);
    await sleep(100);
  }
}

export function tailOf(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function killAll(lab: Lab, pids: readonly number[]): Promise<void> {
  for (const p of pids) await lab.kill(p, 5000);
}

// ---------------------------------------------------------------------------
// tsbgpd

/** A CiliumBGPPeeringPolicy that learns everything from the feeder, and its Node. */
export function tsbgpdManifest(c: Pick<ReceiverContext, 'localAs' | 'address' | 'peerAddress' | 'peerAs' | 'holdTime' | 'keepalive'>, nodeName: string): string {
  return [
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: bench}',
    'spec:',
    '  virtualRouters:',
    `  - localASN: ${c.localAs}`,
    '    routeInstall: {enabled: true, table: main, metric: 20, protocol: 186}',
    '    neighbors:',
    `    - peerAddress: ${c.peerAddress}/32`,
    `      peerASN: ${c.peerAs}`,
    `      holdTimeSeconds: ${c.holdTime}`,
    `      keepAliveTimeSeconds: ${c.keepalive}`,
    '      connectRetryTimeSeconds: 1',
    '      families: [{afi: ipv4, safi: unicast}, {afi: ipv6, safi: unicast}]',
    '      importPolicy: {defaultAction: Accept, allowDefaultRoute: true}',
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    `  name: ${nodeName}`,
    `  annotations: {cilium.io/bgp-virtual-router.${c.localAs}: "router-id=${c.address}"}`,
    `status: {addresses: [{type: InternalIP, address: ${c.address}}]}`,
    '',
  ].join('\n');
}

async function startTsbgpd(c: ReceiverContext): Promise<Receiver> {
  const conf = join(c.dir, 'tsbgpd.yaml');
  const sock = join(c.dir, 'tsbgpd.sock');
  const logFile = join(c.dir, 'tsbgpd.log');
  writeFileSync(conf, tsbgpdManifest(c, 'bench'));
  // The flags tsbgpd ships with, then TSBGPD_NODE_ARGS: extra node flags, e.g. "--cpu-prof"
  // or "--import ./profiler.mjs" (a later --max-semi-space-size wins).
  const nodeArgs = [...TSBGPD_NODE_FLAGS, ...(process.env.TSBGPD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')];
  const args = [...nodeArgs, TSBGPD_JS, '--config', conf, '--node-name', 'bench', '--api-socket', sock, '--fib', 'kernel'];
  args.push('--log-format', 'json', '--log-level', 'info', '--no-watch', '--metrics-address', `${c.address}:${METRICS_PORT}`);
  const child = c.lab.spawnIn(c.ns, process.execPath, args, { logFile });
  const pid = child.pid!;
  let api: ApiClient | undefined;
  let version = 'unknown';
  try {
    await waitUp('tsbgpd', () => [pid], logFile, async () => {
      api ??= await connect({ socketPath: sock, connectTimeoutMs: 2000 });
      version = (await api.call('global')).version;
      return true;
    });
  } catch (e) {
    api?.close();
    await killAll(c.lab, [pid]);
    throw e;
  }
  const client = api!;
  return {
    kind: 'tsbgpd',
    label: `tsbgpd ${version}`,
    version,
    fib: true,
    kernelProto: 'bgp',
    metricsUrl: `http://${c.address}:${METRICS_PORT}/metrics`,
    logFiles: [logFile],
    pids: () => [pid],
    ribCount: async () => {
      const g = await client.call('global');
      let n = 0;
      for (const i of g.instances) for (const f of i.families) n += f.prefixes;
      return n;
    },
    sessionState: async () => {
      const ns = await client.call('neighbors');
      return ns.find((n) => n.address === c.peerAddress)?.state ?? '';
    },
    stop: async () => {
      client.close();
      await killAll(c.lab, [pid]);
    },
  };
}

// ---------------------------------------------------------------------------
// BIRD 2

export function birdConf(c: Pick<ReceiverContext, 'localAs' | 'address' | 'peerAddress' | 'peerAs' | 'holdTime' | 'keepalive'>, kernel: boolean): string {
  const L = [`router id ${c.address};`, 'protocol device { scan time 10; }'];
  if (kernel) {
    L.push('protocol kernel k4 { ipv4 { import none; export all; }; }');
    L.push('protocol kernel k6 { ipv6 { import none; export all; }; }');
  }
  L.push(
    'protocol bgp feed {',
    `  local ${c.address} as ${c.localAs};`,
    `  neighbor ${c.peerAddress} as ${c.peerAs};`,
    `  hold time ${c.holdTime}; keepalive time ${c.keepalive};`,
    '  connect retry time 1; connect delay time 1; error wait time 1, 4;',
    '  ipv4 { import all; export none; };',
    '  ipv6 { import all; export none; };',
    '}',
    '',
  );
  return L.join('\n');
}

async function startBird(c: ReceiverContext, kernel: boolean): Promise<Receiver> {
  const conf = join(c.dir, 'bird.conf');
  const sock = join(c.dir, 'bird.ctl');
  const logFile = join(c.dir, 'bird.log');
  writeFileSync(conf, birdConf(c, kernel));
  await check('bird', ['-p', '-c', conf]);
  const child = c.lab.spawnIn(c.ns, 'bird', ['-f', '-c', conf, '-s', sock, '-P', join(c.dir, 'bird.pid')], { logFile });
  const pid = child.pid!;
  let ctl: BirdCtl | undefined;
  try {
    await waitUp('bird', () => [pid], logFile, async () => {
      ctl ??= await BirdCtl.open(sock, 2000);
      return /Daemon is up and running/.test(await ctl.command('show status', 5000));
    });
  } catch (e) {
    ctl?.close();
    await killAll(c.lab, [pid]);
    throw e;
  }
  const b = ctl!;
  const version = versionOf('bird', ['--version'], /BIRD version (\S+)/);
  return {
    kind: kernel ? 'bird-kernel' : 'bird',
    label: `BIRD ${version}${kernel ? ', kernel export' : ', no kernel export'}`,
    version,
    fib: kernel,
    kernelProto: kernel ? 'bird' : undefined,
    metricsUrl: undefined,
    logFiles: [logFile],
    pids: () => [pid],
    ribCount: async () => birdImported(await b.command('show protocols all feed')),
    sessionState: async () => /BGP state:\s+(\S+)/.exec(await b.command('show protocols all feed'))?.[1] ?? '',
    stop: async () => {
      b.close();
      await killAll(c.lab, [pid]);
    },
  };
}

// ---------------------------------------------------------------------------
// FRR: zebra + bgpd

export function frrBgpdConf(c: Pick<ReceiverContext, 'localAs' | 'address' | 'peerAddress' | 'peerAs' | 'holdTime' | 'keepalive'>): string {
  const n = c.peerAddress;
  const L = [
    'hostname bench',
    `router bgp ${c.localAs}`,
    ` bgp router-id ${c.address}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ` neighbor ${n} remote-as ${c.peerAs}`,
    ` neighbor ${n} update-source ${c.address}`,
    ` neighbor ${n} timers ${c.keepalive} ${c.holdTime}`,
    ` neighbor ${n} timers connect 1`,
  ];
  for (const afi of ['ipv4', 'ipv6']) L.push(` address-family ${afi} unicast`, `  neighbor ${n} activate`, ' exit-address-family');
  L.push('exit', '');
  return L.join('\n');
}

async function startFrr(c: ReceiverContext): Promise<Receiver> {
  const group = await run('getent', ['group', 'frrvty']);
  if (group.code !== 0) throw new Error('FRR needs the frrvty group (installed by the frr package)');
  writeFileSync(join(c.dir, 'zebra.conf'), 'hostname bench\n');
  writeFileSync(join(c.dir, 'bgpd.conf'), frrBgpdConf(c));
  const common = (d: string): string[] => [
    '-u', 'root', '-g', 'frrvty',
    '--vty_socket', c.dir,
    '-i', join(c.dir, `${d}.pid`),
    '-z', join(c.dir, 'zserv.api'),
    '-f', join(c.dir, `${d}.conf`),
    '-P', '0',
    '--log', 'stdout',
    '--log-level', 'informational',
  ];
  const zlog = join(c.dir, 'zebra.log');
  const blog = join(c.dir, 'bgpd.log');
  const pids: number[] = [];
  const crashDirs: string[] = [];
  const cleanup = async (): Promise<void> => {
    await killAll(c.lab, [...pids].reverse());
    for (const d of crashDirs) rmSync(d, { recursive: true, force: true });
  };
  let vty: FrrVty | undefined;
  try {
    // zebra's netlink receive buffer: FRR's default for a full table (-s), as its packaging uses.
    const zebra = c.lab.spawnIn(c.ns, join(FRR_DIR, 'zebra'), [...common('zebra'), '-s', String(90_000_000)], { logFile: zlog });
    pids.push(zebra.pid!);
    crashDirs.push(`/var/tmp/frr/zebra.${zebra.pid}`);
    await waitUp('zebra', () => pids, zlog, async () => {
      const z = await FrrVty.open(join(c.dir, 'zebra.vty'), 2000);
      try {
        return /FRRouting/.test(await z.command('show version', 5000));
      } finally {
        z.close();
      }
    });
    const bgpd = c.lab.spawnIn(c.ns, join(FRR_DIR, 'bgpd'), common('bgpd'), { logFile: blog });
    pids.push(bgpd.pid!);
    crashDirs.push(`/var/tmp/frr/bgpd.${bgpd.pid}`);
    await waitUp('bgpd', () => pids, blog, async () => {
      vty ??= await FrrVty.open(join(c.dir, 'bgpd.vty'), 2000);
      return /FRRouting/.test(await vty.command('show version', 5000));
    });
  } catch (e) {
    vty?.close();
    await cleanup();
    throw e;
  }
  const v = vty!;
  const version = versionOf(join(FRR_DIR, 'bgpd'), ['--version'], /bgpd version (\S+)/);
  const summary = async (): Promise<{ count: number; state: string }> => frrPrefixesReceived(await v.command('show bgp summary json'), c.peerAddress);
  return {
    kind: 'frr',
    label: `FRR ${version} (bgpd + zebra)`,
    version,
    fib: true,
    kernelProto: 'bgp',
    metricsUrl: undefined,
    logFiles: [zlog, blog],
    pids: () => [...pids],
    ribCount: async () => (await summary()).count,
    sessionState: async () => (await summary()).state,
    stop: async () => {
      v.close();
      await cleanup();
    },
  };
}

// ---------------------------------------------------------------------------
// GoBGP

export function gobgpConf(c: Pick<ReceiverContext, 'localAs' | 'address' | 'peerAddress' | 'peerAs' | 'holdTime' | 'keepalive'>): string {
  return [
    '[global.config]',
    `  as = ${c.localAs}`,
    `  router-id = "${c.address}"`,
    '  port = -1', // connect out only: the feeder listens
    '',
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${c.peerAddress}"`,
    `    peer-as = ${c.peerAs}`,
    '  [neighbors.timers.config]',
    '    connect-retry = 1',
    `    hold-time = ${c.holdTime}`,
    `    keepalive-interval = ${c.keepalive}`,
    '  [neighbors.transport.config]',
    `    local-address = "${c.address}"`,
    '  [[neighbors.afi-safis]]',
    '    [neighbors.afi-safis.config]',
    '      afi-safi-name = "ipv4-unicast"',
    '  [[neighbors.afi-safis]]',
    '    [neighbors.afi-safis.config]',
    '      afi-safi-name = "ipv6-unicast"',
    '',
  ].join('\n');
}

async function startGobgp(c: ReceiverContext): Promise<Receiver> {
  const conf = join(c.dir, 'gobgpd.toml');
  const target = `unix://${join(c.dir, 'gobgp.sock')}`;
  const logFile = join(c.dir, 'gobgpd.log');
  writeFileSync(conf, gobgpConf(c));
  const args = ['-f', conf, '-t', 'toml', '--api-hosts', target, '--pprof-disable', '-l', 'info'];
  const child = c.lab.spawnIn(c.ns, 'gobgpd', args, { logFile });
  const pid = child.pid!;
  const gobgp = async (...a: string[]): Promise<string> => {
    const r = await run('gobgp', ['--target', target, ...a], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`gobgp ${a.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    await waitUp('gobgpd', () => [pid], logFile, async () => (await gobgp('global')).length > 0);
  } catch (e) {
    await killAll(c.lab, [pid]);
    throw e;
  }
  const version = versionOf('gobgpd', ['--version'], /version (\S+)/);
  const neighbor = async (): Promise<{ count: number; state: string }> => gobgpAccepted(await gobgp('neighbor', '-j'), c.peerAddress);
  return {
    kind: 'gobgp',
    label: `GoBGP ${version} (no FIB)`,
    version,
    fib: false,
    kernelProto: undefined,
    metricsUrl: undefined,
    logFiles: [logFile],
    pids: () => [pid],
    ribCount: async () => (await neighbor()).count,
    sessionState: async () => (await neighbor()).state,
    stop: () => killAll(c.lab, [pid]),
  };
}

/** Programs a receiver kind needs (for a skip reason). */
export function toolsOf(kind: ReceiverKind): string[] {
  switch (kind) {
    case 'tsbgpd':
      return [];
    case 'bird':
    case 'bird-kernel':
      return ['bird'];
    case 'frr':
      return ['vtysh', join(FRR_DIR, 'zebra'), join(FRR_DIR, 'bgpd')];
    case 'gobgp':
      return ['gobgpd', 'gobgp'];
  }
}

export function startReceiver(kind: ReceiverKind, c: ReceiverContext): Promise<Receiver> {
  switch (kind) {
    case 'tsbgpd':
      return startTsbgpd(c);
    case 'bird':
      return startBird(c, false);
    case 'bird-kernel':
      return startBird(c, true);
    case 'frr':
      return startFrr(c);
    case 'gobgp':
      return startGobgp(c);
  }
}

