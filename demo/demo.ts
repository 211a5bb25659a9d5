// `npm run demo`: tsbgp's whole story on one machine, narrated for a newcomer.
//
//   1. The classic Cilium BGP demo: two "Kubernetes nodes" (network namespaces) run
//      tsbgpd from the demo's CiliumBGPPeeringPolicy, unchanged, and a gobgpd router
//      learns their pod CIDRs (`gobgp neighbor`, `gobgp global rib` on the router).
//   2. Route learning: a node with two NICs into two routing domains (BIRD and FRR
//      routers, a host behind each) learns each domain's prefixes into its kernel.
//
// Without root (or without BIRD/FRR/GoBGP) it says what the full lab needs and runs
// what it can: three tsbgpd processes on loopback addresses with the dry-run FIB.
//
// Options: --no-pause (or TSBGP_DEMO_NO_PAUSE=1) never waits for Enter; pauses only
// happen on a terminal anyway. TSBGP_DEMO_MODE=loopback forces the unprivileged part.
// Every claim is checked (✔ / ✘); the exit status is 1 when a check failed.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FibRoute, NeighborInfo, RibEntry } from '../src/api/types.js';
import {
  addr,
  buildTwoDomainLab,
  gobgp,
  ping,
  protoRoutes,
  REPO_ROOT,
  routeGet,
  startNodeDaemon,
  STATIC_PREFIX,
  Tsbgpd,
  writePolicy,
  type TwoDomainLab,
} from '../test/e2e/lab.js';
import { createLab, type Lab } from '../test/lib/netns.js';
import { run, waitFor } from '../test/lib/proc.js';
import { PEER_TOOLS, startPeer } from '../test/lib/peers/index.js';
import { whyNoNetns } from '../test/lib/root.js';

// ---------------------------------------------------------------------------
// Narration

const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint = (code: string) => (s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const cyan = paint('36');

const noPause =
  process.argv.includes('--no-pause') || process.env.TSBGP_DEMO_NO_PAUSE === '1' || !process.stdin.isTTY || !process.stdout.isTTY;

const out = (s = ''): void => void process.stdout.write(`${s}\n`);

function title(text: string): void {
  out();
  out(bold(`━━━ ${text} ${'━'.repeat(Math.max(3, 76 - text.length))}`));
}

/** Narrative text, wrapped at 88 columns. */
function say(text: string): void {
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line.length + word.length + 1 > 88 && line !== '') {
        out(`  ${line}`);
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out(`  ${line}`);
  }
}

/** Shows a command as typed on `host`, then its output. */
function shell(host: string, cmd: string, output: string): void {
  out();
  out(`${cyan(`${host}$`)} ${bold(cmd)}`);
  const text = output.replace(/\s+$/, '');
  if (text !== '') out(text.replace(/^/gm, '    '));
}

let passed = 0;
const failed: string[] = [];

function ok(cond: boolean, text: string, detail = ''): boolean {
  if (cond) {
    passed++;
    out(`  ${green('✔')} ${text}`);
  } else {
    failed.push(text);
    out(`  ${red('✘')} ${text}${detail ? `\n${detail.replace(/^/gm, '      ')}` : ''}`);
  }
  return cond;
}

async function pause(): Promise<void> {
  if (noPause) return;
  out();
  process.stdout.write(dim('  (Enter: continue · Ctrl-C: stop and clean up) '));
  // terminal: false keeps the tty in cooked mode, so Ctrl-C still raises SIGINT.
  const rl = createInterface({ input: process.stdin, terminal: false });
  await new Promise<void>((resolve) => rl.once('line', () => resolve()));
  rl.close();
}

/** Waits like waitFor, but a timeout is a failed check instead of an exception. */
async function waitCheck<T>(fn: () => Promise<T>, until: (v: T) => boolean, label: string, timeoutMs = 30_000): Promise<T | undefined> {
  try {
    return await waitFor(fn, { timeoutMs, intervalMs: 250, until, label });
  } catch (e) {
    ok(false, label, (e as Error).message.slice(0, 1500));
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Part 1: the classic Cilium BGP demo

const DEMO_FIXTURES = join(REPO_ROOT, 'test/fixtures/config/cilium-demo');
const KIND_NODES = [
  { name: 'cilium-bgp-cluster-control-plane', ns: 'control-plane', ip: '172.18.0.3', podCidr: '10.244.0.0/24' },
  { name: 'cilium-bgp-cluster-worker', ns: 'worker', ip: '172.18.0.2', podCidr: '10.244.1.0/24' },
] as const;
const ROUTER_IP = '172.18.0.5';

async function classicDemo(lab: Lab): Promise<void> {
  title('1. The classic Cilium BGP demo: nodes announce their pod CIDRs to a router');
  say(
    'Cilium\'s BGP demo runs a kind cluster whose nodes peer with a gobgpd router (AS 65000) ' +
      'and announce their pod CIDRs from AS 65001. Here each "Kubernetes node" is a network ' +
      'namespace on the kind network 172.18.0.0/16, running tsbgpd instead of the Cilium agent. ' +
      'tsbgpd reads the same objects the Kubernetes API would hold: the demo\'s ' +
      'CiliumBGPPeeringPolicy, unchanged, and the `kubectl get nodes -o yaml` dump (podCIDRs, addresses).',
  );
  const policyFile = join(DEMO_FIXTURES, 'cilium-bgp-peering-policy.yaml');
  const nodesFile = join(DEMO_FIXTURES, 'nodes.yaml');
  shell('you', `cat ${policyFile.slice(REPO_ROOT.length)}`, readFileSync(policyFile, 'utf8'));

  await lab.lan('kind', [
    { ns: await lab.addNamespace('router0'), addr: `${ROUTER_IP}/16`, ifname: 'eth0' },
    ...(await Promise.all(KIND_NODES.map(async (n) => ({ ns: await lab.addNamespace(n.ns), addr: `${n.ip}/16`, ifname: 'eth0' })))),
  ]);
  const router = await startPeer('gobgp', lab, 'router0', {
    asn: 65000,
    routerId: ROUTER_IP,
    neighbors: KIND_NODES.map((n) => ({ address: n.ip, asn: 65001 })),
  });
  const dir = lab.mkdir('kind-nodes');
  const daemons: Tsbgpd[] = [];
  for (const n of KIND_NODES) {
    daemons.push(
      await Tsbgpd.startIn(lab, lab.ns(n.ns), {
        config: [policyFile, nodesFile],
        nodeName: n.name,
        socket: join(dir, `${n.ns}.sock`),
        logFile: join(dir, `${n.ns}.log`),
      }),
    );
  }
  say(
    '\nStarted: gobgpd in namespace router0 (172.18.0.5), and one tsbgpd per node: ' +
      KIND_NODES.map((n) => `\`tsbgpd --config … --node-name ${n.name}\` (${n.ip})`).join(', ') +
      '.',
  );

  await waitCheck(
    () => router.neighbors(),
    (ns) => KIND_NODES.every((k) => ns.some((x) => x.address === k.ip && x.state === 'Established')),
    'both nodes Established on the router',
  );
  await waitCheck(
    () => router.routes('ipv4'),
    (rs) => KIND_NODES.every((k) => rs.some((r) => r.prefix === k.podCidr)),
    'both pod CIDRs in the router\'s RIB',
  );

  say('\nOn the router, as in the Cilium demo:');
  shell('router0', 'gobgp neighbor', await gobgp(lab, router.ns, 'neighbor'));
  shell('router0', 'gobgp global rib', await gobgp(lab, router.ns, 'global', 'rib'));
  out();
  const seen = await router.neighbors();
  const rib = await router.routes('ipv4');
  for (const k of KIND_NODES) {
    ok(seen.some((x) => x.address === k.ip && x.state === 'Established' && x.asn === 65001), `gobgpd: session with ${k.name} (${k.ip}, AS 65001) Established`);
    const r = rib.find((x) => x.prefix === k.podCidr);
    ok(
      r !== undefined && r.nextHop === k.ip && r.asPath.join(' ') === '65001',
      `gobgpd learned pod CIDR ${k.podCidr} from ${k.name}: next hop ${k.ip}, AS path 65001`,
      JSON.stringify(r),
    );
  }
  await pause();

  say(
    '\nThe node\'s own view, with tsbgp (tables modelled on `gobgp neighbor`): one session, its ' +
      'pod CIDR advertised. Nothing comes back: both nodes are in AS 65001, so the router keeps ' +
      'the worker\'s pod CIDR from this node (an AS-path loop), and this policy has no ' +
      '`importPolicy` anyway, which means "learn nothing": Cilium\'s behaviour stays the default.',
  );
  const cp = daemons[0]!;
  shell(KIND_NODES[0].ns, 'tsbgp neighbor', (await cp.cli(['neighbor'])).stdout);
  const n = (await cp.json<NeighborInfo[]>(['neighbor'])).find((x) => x.address === ROUTER_IP);
  const f = n?.families.find((x) => x.afi === 'ipv4');
  ok(
    n?.state === 'Established' && n.remoteAs === 65000 && f?.advertised === 1 && f.accepted === 0,
    `tsbgpd on ${KIND_NODES[0].name}: Established with ${ROUTER_IP} (AS 65000), its pod CIDR advertised, nothing learned`,
  );
  const learned = await protoRoutes(lab, lab.ns(KIND_NODES[0].ns), 4);
  ok(learned.length === 0, `no route installed in ${KIND_NODES[0].name}'s kernel`);
  for (const d of daemons) await d.stop('SIGTERM');
  await router.stop();
  await pause();
}

// ---------------------------------------------------------------------------
// Part 2: route learning into the kernel

async function routeLearningDemo(lab: Lab): Promise<void> {
  title('2. Route learning: one node, two routing domains, one kernel');
  say(
    'A node with two NICs: eth-a into routing domain A (a BIRD router, AS 65010, with host-a ' +
      '192.168.10.10 behind it) and eth-b into domain B (an FRR router, AS 65020, with host-b ' +
      '192.168.20.10). Each router announces its host\'s prefix, a few more, and a default ' +
      'route, over IPv4 and IPv6 sessions. tsbgpd must learn each domain\'s prefixes into the ' +
      'node\'s kernel, via that domain\'s router, and nothing its import policy rejects. ' +
      `The node already has a static route for ${STATIC_PREFIX}, which domain B also announces.`,
  );
  const t = await buildTwoDomainLab(lab);
  const file = writePolicy(t);
  const policy = readFileSync(file, 'utf8');
  shell('node', 'cat policy.yaml', excerpt(policy));
  const d = await startNodeDaemon(t, file);
  say('\nStarted BIRD in router-a, FRR (zebra + bgpd) in router-b, and `tsbgpd --config policy.yaml --node-name edge-1` in node.');

  const all = await waitCheck(
    () => d.json<NeighborInfo[]>(['neighbor']),
    (ns) => ns.length === 4 && ns.every((x) => x.state === 'Established'),
    'tsbgpd: all four sessions Established',
  );
  const expected = t.domains.flatMap((dm) => [...dm.spec.accepted4, ...dm.spec.accepted6].filter((p) => p !== STATIC_PREFIX));
  await waitCheck(
    async () => [...(await protoRoutes(lab, t.node, 4)), ...(await protoRoutes(lab, t.node, 6))].map((r) => r.dst),
    (dsts) => expected.every((p) => dsts.includes(p)),
    'learned prefixes in the node\'s kernel',
  );

  shell('node', 'tsbgp neighbor', (await d.cli(['neighbor'])).stdout);
  shell('node', 'tsbgp global rib', (await d.cli(['global', 'rib'])).stdout);
  out();
  if (all) {
    for (const dm of t.domains) {
      for (const a of [addr(dm.spec.router4), addr(dm.spec.router6)]) {
        ok(
          all.some((x) => x.address === a && x.state === 'Established' && x.remoteAs === dm.spec.asn),
          `session with ${dm.spec.kind === 'bird' ? 'BIRD' : 'FRR'} ${a} (AS ${dm.spec.asn}) Established`,
        );
      }
    }
  }
  await pause();

  say(
    '\nWhat tsbgp wants in the kernel and what it got. Routes carry protocol 186 (`proto bgp`), ' +
      'table main, metric 20, so they never collide with other owners. The static route stays ' +
      'untouched: tsbgp reports the conflict instead of overwriting it.',
  );
  shell('node', 'tsbgp fib', (await d.cli(['fib'])).stdout);
  shell('node', 'ip route show proto bgp', (await lab.check(t.node, 'ip', ['route', 'show', 'proto', 'bgp'])).stdout);
  shell('node', 'ip -6 route show proto bgp', (await lab.check(t.node, 'ip', ['-6', 'route', 'show', 'proto', 'bgp'])).stdout);
  shell('node', `ip route show ${STATIC_PREFIX}`, (await lab.check(t.node, 'ip', ['route', 'show', STATIC_PREFIX])).stdout);
  out();
  await checkKernel(t, d);
  await pause();

  say('\nTraffic follows: each host is reached through its own domain\'s NIC.');
  for (const dm of t.domains) {
    for (const host of [addr(dm.spec.host4), addr(dm.spec.host6)]) {
      const rg = await lab.exec(t.node, 'ip', ['route', 'get', host]);
      shell('node', `ip route get ${host}`, rg.stdout + rg.stderr);
      const p = await ping(lab, t.node, host);
      shell('node', `ping -c 1 ${host}`, p.output);
      const via = await routeGet(lab, t.node, host).catch(() => undefined);
      ok(
        p.ok && via?.dev === dm.nodeIf,
        `ping ${host} (host-${dm.spec.key}, domain ${dm.spec.key.toUpperCase()}) ok, out of ${dm.nodeIf} via ${via?.gateway ?? '?'}`,
      );
    }
  }
  const stop = await d.stop('SIGTERM');
  const left = [...(await protoRoutes(lab, t.node, 4)), ...(await protoRoutes(lab, t.node, 6))];
  out();
  ok(stop.code === 0 && left.length === 0, 'tsbgpd stopped (SIGTERM) and removed every route it had installed');
}

/** The policy with domain A's and B's IPv4 neighbours in full (the IPv6 ones are alike). */
function excerpt(policy: string): string {
  const lines = policy.split('\n');
  const starts = lines.flatMap((l, i) => (l.startsWith('    - peerAddress') ? [i] : []));
  const end = lines.indexOf('---');
  if (starts.length !== 4 || end < 0) return policy;
  return [
    ...lines.slice(0, starts[1]),
    '    # - peerAddress: "fd00:a::1/128"   (the same, for IPv6)',
    ...lines.slice(starts[2], starts[3]),
    '    # - peerAddress: "fd00:b::1/128"   (the same, for IPv6)',
    ...lines.slice(end),
  ].join('\n');
}

async function checkKernel(t: TwoDomainLab, d: Tsbgpd): Promise<void> {
  const kernel = [...(await protoRoutes(t.lab, t.node, 4)), ...(await protoRoutes(t.lab, t.node, 6))];
  for (const dm of t.domains) {
    const want = [...dm.spec.accepted4, ...dm.spec.accepted6].filter((p) => p !== STATIC_PREFIX);
    const gws = [addr(dm.spec.router4), addr(dm.spec.router6), dm.routerLinkLocal];
    const bad = want.filter((p) => !kernel.some((r) => r.dst === p && r.dev === dm.nodeIf && gws.includes(r.gateway ?? '')));
    ok(
      bad.length === 0,
      `kernel: domain ${dm.spec.key.toUpperCase()}'s prefixes via ${addr(dm.spec.router4)} / ${addr(dm.spec.router6)} on ${dm.nodeIf}: ${want.join(', ')}`,
      bad.length ? `missing or wrong: ${bad.join(', ')}` : '',
    );
  }
  ok(!kernel.some((r) => r.dst === '0.0.0.0/0' || r.dst === '::/0'), 'default routes learned but not installed (allowDefaultRoute: false)');
  ok(!kernel.some((r) => r.dst === '10.99.0.0/16' || r.dst === '10.98.0.0/16'), 'prefixes the import policies reject are not installed (10.99.0.0/16, 10.98.0.0/16)');
  const fib = await d.json<FibRoute[]>(['fib']);
  const st = await run('ip', ['-n', t.node.netns, '-j', 'route', 'show', STATIC_PREFIX]);
  const staticRoutes = JSON.parse(st.stdout || '[]') as Array<{ protocol?: string }>;
  ok(
    fib.find((r) => r.prefix === STATIC_PREFIX)?.status === 'conflict' && staticRoutes.length === 1 && staticRoutes[0]!.protocol === 'static',
    `static route ${STATIC_PREFIX} untouched; tsbgp fib reports a conflict`,
  );
}

// ---------------------------------------------------------------------------
// Without root: tsbgpd on loopback addresses with the dry-run FIB

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const LOOP_NODES = [
  { name: 'node-1', ip: '127.0.0.2', podCidr: '10.244.0.0/24' },
  { name: 'node-2', ip: '127.0.0.3', podCidr: '10.244.1.0/24' },
] as const;

function loopbackConfig(ports: readonly number[], unusedPort: number): string {
  const timers = ['      holdTimeSeconds: 9', '      keepAliveTimeSeconds: 3'];
  return [
    '# Loopback lab: three tsbgpd processes on one host, no privileges. The nodes listen on',
    '# their own port (annotation local-port) and the router connects to them, because',
    '# every connection on lo leaves from 127.0.0.1.',
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: nodes}',
    'spec:',
    '  nodeSelector: {matchLabels: {role: node}}',
    '  virtualRouters:',
    '  - localASN: 65001',
    '    exportPodCIDR: true',
    '    neighbors:',
    '    - peerAddress: 127.0.0.1/32',
    '      peerASN: 65000',
    `      peerPort: ${unusedPort}        # nobody listens there: the router connects to us`,
    ...timers,
    '      connectRetryTimeSeconds: 30',
    '---',
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: router}',
    'spec:',
    '  nodeSelector: {matchLabels: {role: router}}',
    '  virtualRouters:',
    '  - localASN: 65000',
    '    neighbors:',
    ...LOOP_NODES.flatMap((n, i) => [
      `    - peerAddress: ${n.ip}/32`,
      '      peerASN: 65001',
      `      peerPort: ${ports[i]}`,
      ...timers,
      '      connectRetryTimeSeconds: 1',
      '      importPolicy:',
      '        rules:',
      '        - {name: pod-cidrs, match: {prefixes: [{cidr: 10.244.0.0/16, le: 24}]}, action: Accept}',
    ]),
    ...LOOP_NODES.flatMap((n, i) => [
      '---',
      'apiVersion: v1',
      'kind: Node',
      'metadata:',
      `  name: ${n.name}`,
      '  labels: {role: node}',
      `  annotations: {cilium.io/bgp-virtual-router.65001: "router-id=${n.ip},local-port=${ports[i]}"}`,
      `spec: {podCIDRs: [${n.podCidr}]}`,
    ]),
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    '  name: router',
    '  labels: {role: router}',
    '  annotations: {cilium.io/bgp-virtual-router.65000: "router-id=127.0.0.1"}',
    '',
  ].join('\n');
}

async function loopbackDemo(why: string): Promise<void> {
  title('What this machine allows');
  say(
    `The full lab cannot run here: ${why}.\n` +
      'It needs root (network namespaces, veth links, kernel routes) and the routers BIRD 2, FRR ' +
      'and GoBGP (Debian packages bird2 frr gobgpd iproute2 iputils-ping; scripts/setup.sh ' +
      'installs them). Run `sudo npm run demo` for all of it.\n' +
      'Meanwhile, what runs without privileges: three tsbgpd processes on loopback addresses, ' +
      'with the dry-run FIB (`--fib memory`: the kernel routes tsbgp would write, kept in memory).',
  );
  title('Two nodes announce their pod CIDRs; a tsbgpd "router" learns them');
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-demo-'));
  const daemons: Tsbgpd[] = [];
  const cleanup = (): void => {
    for (const d of daemons) d.signal('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    out('\nInterrupted: stopping the tsbgpd processes and removing their files.');
    cleanup();
    process.exit(130);
  });
  try {
    const ports = [await freePort(), await freePort()];
    const unused = await freePort();
    const file = join(dir, 'loopback.yaml');
    writeFileSync(file, loopbackConfig(ports, unused));
    shell('you', 'cat loopback.yaml', readFileSync(file, 'utf8'));
    const start = (nodeName: string) =>
      Tsbgpd.startLocal({ config: [file], nodeName, socket: join(dir, `${nodeName}.sock`), fib: 'memory', logFile: join(dir, `${nodeName}.log`) });
    for (const n of LOOP_NODES) daemons.push(await start(n.name));
    const router = await start('router');
    daemons.push(router);
    say('\nStarted: `tsbgpd --fib memory --config loopback.yaml --node-name X` for node-1, node-2 and router.');

    await waitCheck(
      () => router.json<NeighborInfo[]>(['neighbor']),
      (ns) => ns.length === 2 && ns.every((n) => n.state === 'Established'),
      'router: both sessions Established',
    );
    await waitCheck(
      () => router.json<RibEntry[]>(['global', 'rib']),
      (rib) => LOOP_NODES.every((n) => rib.some((e) => e.prefix === n.podCidr)),
      'router: both pod CIDRs learned',
    );
    shell('router', 'tsbgp neighbor', (await router.cli(['neighbor'])).stdout);
    shell('router', 'tsbgp global rib', (await router.cli(['global', 'rib'])).stdout);
    shell('router', 'tsbgp fib', (await router.cli(['fib'])).stdout);
    shell('node-1', 'tsbgp neighbor', (await daemons[0]!.cli(['neighbor'])).stdout);
    out();
    const ns = await router.json<NeighborInfo[]>(['neighbor']);
    const rib = await router.json<RibEntry[]>(['global', 'rib']);
    const fib = await router.json<FibRoute[]>(['fib']);
    for (const n of LOOP_NODES) {
      ok(ns.some((x) => x.address === n.ip && x.state === 'Established' && x.remoteAs === 65001), `router: session with ${n.name} (${n.ip}, AS 65001) Established`);
      const e = rib.find((x) => x.prefix === n.podCidr);
      ok(e?.paths[0]?.nextHop === n.ip, `router learned ${n.name}'s pod CIDR ${n.podCidr} via ${n.ip}`);
      ok(fib.some((r) => r.prefix === n.podCidr && r.status === 'installed'), `router's dry-run FIB holds ${n.podCidr} (proto bgp, metric 20)`);
    }
  } finally {
    for (const d of daemons) await d.stop('SIGTERM').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------

async function fullDemo(): Promise<void> {
  // Say it before the lab's own handler (netns.ts) removes everything and re-raises.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => out(`\n${sig === 'SIGINT' ? 'Ctrl-C' : sig}: stopping every daemon and deleting the lab's namespaces.`));
  }
  const lab = createLab('demo');
  try {
    say(
      'tsbgp is a BGP control plane for Linux and Kubernetes nodes: it advertises pod CIDRs and ' +
        'service IPs like Cilium\'s BGP, and it also learns routes from its peers into the ' +
        'node\'s kernel. Everything below runs in network namespaces on this machine and is ' +
        'removed at the end (or on Ctrl-C).',
    );
    await pause();
    await classicDemo(lab);
    await routeLearningDemo(lab);
  } finally {
    await lab.cleanup();
  }
  out();
  say('Lab removed: namespaces, routers and tsbgpd processes are gone.');
}

async function main(): Promise<void> {
  const started = Date.now();
  out(bold('tsbgp demo'));
  const forced = process.env.TSBGP_DEMO_MODE;
  const why =
    forced === 'loopback'
      ? 'TSBGP_DEMO_MODE=loopback asks for the unprivileged part only'
      : whyNoNetns('ping', ...PEER_TOOLS.bird, ...PEER_TOOLS.frr, ...PEER_TOOLS.gobgp);
  try {
    if (why === undefined) await fullDemo();
    else await loopbackDemo(why);
  } catch (e) {
    failed.push(`the demo stopped: ${(e as Error).message}`);
    out(`\n  ${red('✘')} the demo stopped: ${(e as Error).stack ?? String(e)}`);
  }
  out();
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (failed.length === 0) out(green(bold(`Demo finished in ${secs} s: all ${passed} checks passed.`)));
  else out(red(bold(`Demo finished in ${secs} s: ${failed.length} of ${passed + failed.length} checks failed.`)));
  process.exitCode = failed.length === 0 ? 0 : 1;
}

await main();

