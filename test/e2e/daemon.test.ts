// tsbgpd as an operator runs it, end to end in namespaces: started from a file with
// four sessions to three real routers (GoBGP, BIRD, FRR over IPv4, FRR over IPv6), then
// steered and observed only through what an operator has: the file + SIGHUP, the
// `tsbgp` CLI (table and -o json) and the Prometheus endpoint, each checked against
// what the routers themselves report (`gobgp neighbor -j`, `birdc show protocols all`,
// `vtysh -c 'show bgp neighbors json'`).
//
// What route-learning.test.ts already proves (kernel routes, FIB conflicts, prefix-limit
// behaviour, restarts, an import-policy SIGHUP) is not repeated here; this file covers
// a timer change, an added advertisement, a refused reload, the metrics (each checked
// against the routers or the kernel), `tsbgp fib --kernel`, and the CLI actions with
// `tsbgp monitor` watching. The steps share one lab and run in order.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionResult, ApiEvent, ConfigView, FibRoute, GlobalInfo, NeighborInfo } from '../../src/api/types.js';
import { createLab, type Lab, type Ns } from '../lib/netns.js';
import { sleep, waitFor } from '../lib/proc.js';
import { normAddr, PEER_TOOLS, startPeer, type PeerHandle } from '../lib/peers/index.js';
import { needsRoot } from '../lib/root.js';
import { birdc, gobgp, protoRoutes, TSBGP_JS, Tsbgpd, vtysh } from './lab.js';

const skip = needsRoot('curl', ...PEER_TOOLS.bird, ...PEER_TOOLS.frr, ...PEER_TOOLS.gobgp);

const NODE = 'dm-node-1';
const NODE_AS = 65001;
const METRICS = '127.0.0.1:9179';
const SHUTDOWN_MSG = 'dm maintenance: replacing optics, back at 17:00';

interface RouterSpec {
  readonly key: 'gobgp' | 'bird' | 'frr';
  readonly asn: number;
  readonly routerId: string;
  /** Node end / router end of the link (IPv4, and IPv6 for FRR). */
  readonly node4: string;
  readonly router4: string;
  readonly node6?: string;
  readonly router6?: string;
  readonly announce: readonly string[];
}

const ROUTERS: readonly RouterSpec[] = [
  // 10.199.0.0/24 hits the node's Reject rule: received 3, accepted 2.
  { key: 'gobgp', asn: 65100, routerId: '10.1.0.1', node4: '10.1.0.2', router4: '10.1.0.1', announce: ['10.100.0.0/24', '10.100.1.0/24', '10.199.0.0/24'] },
  { key: 'bird', asn: 65200, routerId: '10.2.0.1', node4: '10.2.0.2', router4: '10.2.0.1', announce: ['10.200.0.0/24', '10.200.1.0/24'] },
  {
    key: 'frr', asn: 65300, routerId: '10.3.0.1', node4: '10.3.0.2', router4: '10.3.0.1', node6: 'fd00:3::2', router6: 'fd00:3::1',
    announce: ['10.30.0.0/24', 'fd00:30::/64', 'fd00:31::/64'],
  },
];
const G = ROUTERS[0]!;
const B = ROUTERS[1]!;
const F = ROUTERS[2]!;
const F6 = 'fd00:3::1';
/** The four sessions as tsbgp names them (neighbour address), in the order tsbgp sorts them. */
const SESSIONS = [G.router4, B.router4, F.router4, F6] as const;

interface Edits {
  hold: Record<string, number>;
  podCidrs: string[];
  /** Replaces one neighbour's holdTimeSeconds with raw text (an invalid edit). */
  rawHold?: { address: string; text: string };
  /** A prefix limit on one neighbour. */
  limit?: { address: string; max: number; restart: number };
}

function neighborYaml(address: string, asn: number, afi: 'ipv4' | 'ipv6', e: Edits): string[] {
  const hold = e.rawHold?.address === address ? e.rawHold.text : String(e.hold[address] ?? 9);
  return [
    `    - peerAddress: "${address}/${afi === 'ipv4' ? 32 : 128}"`,
    `      peerASN: ${asn}`,
    `      holdTimeSeconds: ${hold}`,
    '      keepAliveTimeSeconds: 3',
    '      connectRetryTimeSeconds: 1',
    `      families: [{afi: ${afi}, safi: unicast}]`,
    ...(e.limit?.address === address ? [`      prefixLimit: {maxPrefixes: ${e.limit.max}, restartTimerSeconds: ${e.limit.restart}}`] : []),
    '      importPolicy:',
    '        defaultAction: Accept',
    '        rules:',
    '        - name: no-199',
    '          match: {prefixes: [{cidr: 10.199.0.0/16, le: 32}]}',
    '          action: Reject',
  ];
}

function policy(e: Edits): string {
  return [
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: dm-three-routers}',
    'spec:',
    '  nodeSelector: {matchLabels: {dm: "yes"}}',
    '  virtualRouters:',
    `  - localASN: ${NODE_AS}`,
    '    exportPodCIDR: true',
    '    routeInstall: {enabled: true, table: main, metric: 20, protocol: 186}',
    '    neighbors:',
    ...neighborYaml(G.router4, G.asn, 'ipv4', e),
    ...neighborYaml(B.router4, B.asn, 'ipv4', e),
    ...neighborYaml(F.router4, F.asn, 'ipv4', e),
    ...neighborYaml(F6, F.asn, 'ipv6', e),
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    `  name: ${NODE}`,
    '  labels: {dm: "yes"}',
    `  annotations: {cilium.io/bgp-virtual-router.${NODE_AS}: "router-id=10.255.0.1"}`,
    `spec: {podCIDRs: [${e.podCidrs.map((c) => `"${c}"`).join(', ')}]}`,
    'status:',
    '  addresses:',
    `  - {type: InternalIP, address: ${G.node4}}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// Prometheus text

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one series named `name` whose labels include `labels`. */
function metric(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(hits.length <= 1, `${name} ${JSON.stringify(labels)} matches ${hits.length} series`);
  return hits[0]?.value;
}

// ---------------------------------------------------------------------------
// The routers' own views

interface GobgpNeighbor {
  conf?: { neighbor_address?: string };
  state?: {
    session_state?: number | string;
    flops?: number;
    messages?: { received?: Record<string, number | undefined>; sent?: Record<string, number | undefined> };
  };
  timers?: { state?: { uptime?: { seconds?: number }; negotiated_hold_time?: number } };
}

describe('tsbgpd from a file: SIGHUP, refused edits, metrics and CLI actions against GoBGP, BIRD and FRR', { skip }, () => {
  let lab: Lab;
  let node: Ns;
  const routers = new Map<string, { spec: RouterSpec; ns: Ns; peer: PeerHandle }>();
  let daemon: Tsbgpd;
  let file: string;
  const edits: Edits = { hold: {}, podCidrs: ['10.244.0.0/24', 'fd00:244::/64'] };
  const started = Date.now();

  const write = (): void => writeFileSync(file, policy(edits));
  const routerNs = (key: string): Ns => routers.get(key)!.ns;

  const neighbors = (): Promise<NeighborInfo[]> => daemon.json<NeighborInfo[]>(['neighbor']);
  const byAddr = (list: readonly NeighborInfo[], a: string): NeighborInfo => {
    const n = list.find((x) => x.address === normAddr(a));
    assert.ok(n, `tsbgp neighbor lists ${a}`);
    return n;
  };
  const allEstablished = (label: string, timeoutMs = 25_000): Promise<NeighborInfo[]> =>
    waitFor(neighbors, {
      timeoutMs,
      intervalMs: 200,
      label,
      until: (ns) => ns.length === SESSIONS.length && ns.every((n) => n.state === 'Established'),
    });

  const scrape = async (): Promise<Sample[]> => {
    const r = await lab.check(node, 'curl', ['-sS', '--fail', '--max-time', '5', `http://${METRICS}/metrics`]);
    return parseMetrics(r.stdout);
  };

  const gobgpNode = async (): Promise<GobgpNeighbor> => {
    const list = JSON.parse(await gobgp(lab, routerNs('gobgp'), 'neighbor', '-j')) as GobgpNeighbor[];
    const n = list.find((x) => x.conf?.neighbor_address === G.node4);
    assert.ok(n, `gobgp knows ${G.node4}`);
    return n;
  };
  const frrNode = async (address: string): Promise<Record<string, unknown>> => {
    const doc = JSON.parse(await vtysh(lab, routerNs('frr'), `show bgp neighbors ${address} json`)) as Record<string, Record<string, unknown>>;
    const n = doc[address];
    assert.ok(n, `FRR knows ${address}`);
    return n;
  };
  const frrStat = (n: Record<string, unknown>, key: string): number => Number((n.messageStats as Record<string, unknown> | undefined)?.[key]);
  /** `birdc show protocols all n0` (the driver's only protocol towards the node). */
  const birdProto = (): Promise<string> => birdc(lab, routerNs('bird'), 'show', 'protocols', 'all', 'n0');

  /** Session identity on the routers' side: unchanged unless the session was re-established. */
  const peerSide = async (): Promise<{ gobgpUptime: number; gobgpFlops: number; birdSince: string; frr4: number; frr6: number }> => {
    const g = await gobgpNode();
    const since = /^n0\s+BGP\s+\S+\s+\S+\s+(\S+\s+\S+|\S+)\s+Established/m.exec(await birdProto());
    return {
      gobgpUptime: g.timers?.state?.uptime?.seconds ?? -1,
      gobgpFlops: g.state?.flops ?? 0,
      birdSince: since?.[1] ?? '?',
      frr4: Number((await frrNode(F.node4)).connectionsEstablished),
      frr6: Number((await frrNode(normAddr(F.node6!))).connectionsEstablished),
    };
  };

  before(async () => {
    lab = createLab('dm-daemon');
    node = await lab.addNamespace('dm-node');
    for (const spec of ROUTERS) {
      const ns = await lab.addNamespace(`dm-${spec.key}`);
      await lab.link(node, ns, {
        ifA: `eth-${spec.key}`,
        ifB: 'eth-node',
        a: `${spec.node4}/24`,
        b: `${spec.router4}/24`,
        ...(spec.node6 !== undefined ? { a6: `${spec.node6}/64`, b6: `${spec.router6!}/64` } : {}),
      });
      routers.set(spec.key, { spec, ns, peer: undefined as unknown as PeerHandle });
    }
    await Promise.all(
      ROUTERS.map(async (spec) => {
        const r = routers.get(spec.key)!;
        const neighbors: Array<{ address: string; asn: number; families: Array<'ipv4' | 'ipv6'> }> = [{ address: spec.node4, asn: NODE_AS, families: ['ipv4'] }];
        if (spec.node6 !== undefined) neighbors.push({ address: spec.node6, asn: NODE_AS, families: ['ipv6'] });
        r.peer = await startPeer(spec.key, lab, r.ns, { asn: spec.asn, routerId: spec.routerId, neighbors, announce: spec.announce.map((prefix) => ({ prefix })) });
      }),
    );
    const dir = lab.mkdir('dm-tsbgpd');
    file = join(dir, 'policy.yaml');
    write();
    daemon = await Tsbgpd.startIn(lab, node, {
      config: [file],
      nodeName: NODE,
      socket: join(dir, 'tsbgpd.sock'),
      fib: 'kernel',
      logFile: join(dir, 'tsbgpd.log'),
      metricsAddress: METRICS,
    });
  });

  after(async () => {
    const log = daemon?.logTail(60) ?? '';
    try {
      if (daemon?.alive) await daemon.stop('SIGTERM');
    } finally {
      await lab?.cleanup();
    }
    process.stderr.write(`# daemon e2e: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    if (process.env.E2E_LOGS === '1') process.stderr.write(`${log}\n`);
  });

  it('starts from the file: four sessions, and tsbgp neighbor (table and JSON) matches each router\'s view', async () => {
    const ns = await allEstablished('four sessions Established in tsbgp');
    for (const { spec, peer } of routers.values()) {
      await peer.waitEstablished(spec.node4);
      if (spec.node6 !== undefined) await peer.waitEstablished(spec.node6);
    }
    // Received counts = what each router advertises; accepted after the no-199 rule; all
    // accepted installed. FRR also sends the node's own pod CIDR back (it has no
    // sender-side loop check): received, but refused for the AS loop.
    const expect: Record<string, [string, number, number, number, string]> = {
      [G.router4]: ['ipv4', 3, 2, 2, G.routerId],
      [B.router4]: ['ipv4', 2, 2, 2, B.routerId],
      [F.router4]: ['ipv4', 2, 1, 1, F.routerId],
      [F6]: ['ipv6', 3, 2, 2, F.routerId],
    };
    // The kernel must have caught up before "installed" is compared.
    await waitFor(async () => [...(await protoRoutes(lab, node, 4)), ...(await protoRoutes(lab, node, 6))].length, {
      timeoutMs: 10_000,
      label: '7 routes in the node\'s kernel',
      until: (n) => n === 7,
    });
    const now = await neighbors();
    assert.deepEqual(now.map((n) => n.address), [...SESSIONS], 'sorted: IPv4 first');
    for (const n of now) {
      const [afi, received, accepted, installed, routerId] = expect[n.address]!;
      assert.equal(n.localAs, NODE_AS);
      assert.equal(n.routerId, routerId);
      assert.equal(n.families.length, 1);
      assert.deepEqual(
        [n.families[0]!.afi, n.families[0]!.received, n.families[0]!.accepted, n.families[0]!.installed, n.families[0]!.advertised],
        [afi, received, accepted, installed, 1],
        `families of ${n.address}`,
      );
      assert.equal(n.timers.negotiatedHoldTime, 9);
      assert.equal(n.establishedCount, 1);
      assert.ok(ns.find((x) => x.address === n.address));
    }

    // GoBGP's side: Established, the node's AS, the node's pod CIDR received; its UPDATE
    // counters are tsbgp's in the other direction.
    const g = await gobgpNode();
    assert.equal(Number(g.state?.session_state === 'established' ? 6 : g.state?.session_state), 6, `gobgp state ${JSON.stringify(g.state?.session_state)}`);
    const gRoutes = await routers.get('gobgp')!.peer.routes('ipv4');
    assert.deepEqual(gRoutes.filter((r) => r.peer === G.node4).map((r) => [r.prefix, r.asPath]), [['10.244.0.0/24', [NODE_AS]]]);
    const tG = byAddr(now, G.router4);
    assert.equal(g.state?.messages?.sent?.update, tG.messages.received.update, 'UPDATEs gobgp sent = UPDATEs tsbgp received');
    assert.equal(g.state?.messages?.received?.update, tG.messages.sent.update, 'UPDATEs gobgp received = UPDATEs tsbgp sent');

    // BIRD's side.
    const bird = await birdProto();
    assert.match(bird, /BGP state:\s+Established/);
    assert.match(bird, new RegExp(`Neighbor AS:\\s+${NODE_AS}`));
    assert.match(bird, /Routes:\s+1 imported, 2 exported/, `BIRD imports the pod CIDR and exports its 2 prefixes:\n${bird}`);

    // FRR's side, both sessions.
    for (const [nodeAddr, ours] of [[F.node4, F.router4], [normAddr(F.node6!), F6]] as const) {
      const f = await frrNode(nodeAddr);
      assert.equal(f.bgpState, 'Established');
      assert.equal(f.remoteAs, NODE_AS);
      const t = byAddr(now, ours);
      assert.equal(frrStat(f, 'updatesRecv'), t.messages.sent.update, `FRR ${nodeAddr}: updates received = tsbgp sent`);
      assert.equal(frrStat(f, 'updatesSent'), t.messages.received.update, `FRR ${nodeAddr}: updates sent = tsbgp received`);
    }

    // tsbgp global rib (table): each learned prefix best (*>) via the router that sent it, with its AS.
    const rib = await daemon.cli(['global', 'rib', '-a', 'ipv4']);
    assert.equal(rib.code, 0, rib.stderr);
    assert.match(rib.stdout, /^\s+Network\s+Next Hop\s+AS_PATH\s+Age\s+Attrs/);
    for (const { spec } of routers.values()) {
      for (const p of spec.announce.filter((x) => !x.includes(':') && !x.startsWith('10.199.'))) {
        const re = new RegExp(`^\\*>\\s+${p.replace(/\./g, '\\.')}\\s+${spec.router4.replace(/\./g, '\\.')}\\s+${spec.asn}\\s`, 'm');
        assert.match(rib.stdout, re, `global rib row of ${p}:\n${rib.stdout}`);
      }
    }
    assert.doesNotMatch(rib.stdout, /10\.199\.0\.0|10\.244\.0\.0/, 'rejected and looped routes are not in the Loc-RIB');
    // tsbgp fib (table) lists every route the kernel has from tsbgp as installed.
    const fib = await daemon.cli(['fib']);
    assert.equal(fib.code, 0, fib.stderr);
    for (const r of [...(await protoRoutes(lab, node, 4)), ...(await protoRoutes(lab, node, 6))]) {
      const row = fib.stdout.split('\n').find((l) => l.startsWith(`${r.dst} `));
      // IPv6: the kernel may hold the router's link-local next hop (RFC 2545), tsbgp shows the global one.
      const via = (r.gateway ?? '').includes(':') ? ` dev ${r.dev ?? '?'}` : `via ${r.gateway ?? '?'} dev ${r.dev ?? '?'}`;
      assert.ok(row !== undefined && /\sinstalled$/.test(row) && row.includes(via), `fib row of ${r.dst} (${r.gateway} ${r.dev}):\n${fib.stdout}`);
    }

    // The table: gobgp's layout plus installed and advertised columns.
    const table = await daemon.cli(['neighbor']);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^Peer\s+AS\s+Up\/Down\s+State\s+\|#Received\s+Accepted\s+Installed\s+Advertised$/);
    for (const a of SESSIONS) {
      const [, r, acc, inst] = expect[a]!;
      const as = a === G.router4 ? G.asn : a === B.router4 ? B.asn : F.asn;
      assert.match(table.stdout, new RegExp(`^${a.replace(/\./g, '\\.')}\\s+${as}\\s+\\d\\d:\\d\\d:\\d\\d\\s+Establ\\s+\\|\\s+${r}\\s+${acc}\\s+${inst}\\s+1$`, 'm'), `row of ${a}:\n${table.stdout}`);
    }
  });

  it('metrics scraped over HTTP match the sessions, counts per peer and family, messages, the FIB and the start load', async () => {
    const ns = await neighbors();
    const s = await scrape();
    for (const n of ns) {
      const peer = { instance: n.instance, neighbor: n.address };
      const fam = { ...peer, afi: n.families[0]!.afi, safi: 'unicast' };
      assert.equal(metric(s, 'tsbgp_session_state', peer), 6, `${n.address} state`);
      assert.equal(metric(s, 'tsbgp_session_up', peer), 1);
      assert.equal(metric(s, 'tsbgp_session_established_total', peer), 1);
      assert.equal(metric(s, 'tsbgp_prefixes_received', fam), n.families[0]!.received);
      assert.equal(metric(s, 'tsbgp_prefixes_accepted', fam), n.families[0]!.accepted);
      assert.equal(metric(s, 'tsbgp_prefixes_installed', fam), n.families[0]!.installed);
      assert.equal(metric(s, 'tsbgp_prefixes_advertised', fam), 1);
      // Counted by the metrics from the event stream: the session came up once since they exist.
      assert.equal(
        metric(s, 'tsbgp_session_state_transitions_total', { ...peer, to: 'Established' }),
        1,
        `${n.address} transitions: ${JSON.stringify(s.filter((x) => x.name === 'tsbgp_session_state_transitions_total'))}`,
      );
    }
    // UPDATEs in/out against the routers' own counters.
    const g = await gobgpNode();
    const G4 = { instance: ns[0]!.instance, neighbor: G.router4 };
    assert.equal(metric(s, 'tsbgp_messages_received_total', { ...G4, type: 'update' }), g.state?.messages?.sent?.update);
    assert.equal(metric(s, 'tsbgp_messages_sent_total', { ...G4, type: 'update' }), g.state?.messages?.received?.update);
    const f = await frrNode(F.node4);
    const F4 = { instance: ns[0]!.instance, neighbor: F.router4 };
    assert.equal(metric(s, 'tsbgp_messages_received_total', { ...F4, type: 'update' }), frrStat(f, 'updatesSent'));
    assert.equal(metric(s, 'tsbgp_messages_sent_total', { ...F4, type: 'update' }), frrStat(f, 'updatesRecv'));

    // The kernel's view: 7 routes installed, none pending or in conflict.
    const kernel = [...(await protoRoutes(lab, node, 4)), ...(await protoRoutes(lab, node, 6))];
    assert.equal(metric(s, 'tsbgp_fib_routes', { status: 'installed' }), kernel.length);
    assert.equal(metric(s, 'tsbgp_fib_routes', { status: 'conflict' }), 0);
    assert.equal(metric(s, 'tsbgp_fib_kernel'), 1);
    const adds = metric(s, 'tsbgp_fib_operations_total', { op: 'add' });
    const g0 = await daemon.json<GlobalInfo>(['global']);
    assert.equal(adds, g0.fib.operations.add, 'the scrape and tsbgp global agree');
    if (adds === 0) process.stderr.write('# note: the FIB backend reports no operations by kind yet (fib/backend.ts FibStats.operations)\n');
    else assert.ok(adds! >= kernel.length, `at least one add per installed route (${adds})`);
    // The Loc-RIB holds learned routes (originated ones live in the Adj-RIB-Out).
    assert.equal(metric(s, 'tsbgp_rib_prefixes', { afi: 'ipv4' }), 5, 'Loc-RIB IPv4: the 5 accepted prefixes');
    assert.equal(metric(s, 'tsbgp_rib_prefixes', { afi: 'ipv6' }), 2, 'Loc-RIB IPv6: the 2 accepted prefixes');
    assert.deepEqual(
      g0.instances[0]!.families.map((f) => [f.afi, f.prefixes, f.installed]),
      [['ipv4', 5, 5], ['ipv6', 2, 2]],
      'tsbgp global agrees',
    );

    // The load at start counts.
    assert.equal(metric(s, 'tsbgp_config_reloads_total', { result: 'success' }), 1);
    assert.equal(metric(s, 'tsbgp_config_reloads_total', { result: 'failure' }), 0);
    assert.equal(metric(s, 'tsbgp_config_last_reload_successful'), 1);
    assert.ok(metric(s, 'nodejs_eventloop_lag_p99_seconds')! >= 0, 'event-loop lag exported');
    const health = await lab.check(node, 'curl', ['-sS', '--fail', `http://${METRICS}/readyz`]);
    assert.equal(health.stdout, 'ok\n');
  });

  it('SIGHUP with a new hold time on BIRD\'s neighbour resets only that session (BIRD saw the Cease; the others kept theirs)', async () => {
    const beforeT = await neighbors();
    const beforeP = await peerSide();
    edits.hold[B.router4] = 6;
    write();
    daemon.signal('SIGHUP');
    const cfg = await waitFor(() => daemon.json<ConfigView>(['config']), {
      timeoutMs: 10_000,
      label: 'the SIGHUP reload is recorded',
      until: (c) => c.lastReload?.trigger === 'SIGHUP',
    });
    assert.equal(cfg.lastReload!.ok, true);
    assert.deepEqual(cfg.lastReload!.changes.filter((c) => c.includes('peer')), [`${beforeT[0]!.instance} peer ${B.router4}: session-reset`]);

    const after = await waitFor(neighbors, {
      timeoutMs: 25_000,
      intervalMs: 200,
      label: 'BIRD back with hold time 6',
      until: (ns) => ns.every((n) => n.state === 'Established') && byAddr(ns, B.router4).timers.negotiatedHoldTime === 6,
    });
    // BIRD: re-established, and the last thing it heard from the node was a Cease.
    const bird = await birdProto();
    assert.match(bird, /Hold timer:\s+[\d.]+\/6/, `BIRD negotiated 6 s:\n${bird}`);
    // BIRD shows the Shutdown Communication (RFC 9003) of the Cease it received.
    assert.match(bird, /Message:\s+neighbor deconfigured/, `BIRD received Cease/Administrative Shutdown with its message:\n${bird}`);
    const birdNow = await peerSide();
    assert.notEqual(birdNow.birdSince, beforeP.birdSince, 'BIRD\'s session is a new one');

    // The others: same sessions on both sides.
    for (const a of [G.router4, F.router4, F6]) {
      const b = byAddr(beforeT, a);
      const n = byAddr(after, a);
      assert.equal(n.establishedCount, b.establishedCount, `${a} did not flap in tsbgp`);
      assert.ok(n.uptime! >= b.uptime!, `${a} uptime kept`);
    }
    assert.equal(birdNow.gobgpFlops, beforeP.gobgpFlops, 'GoBGP saw no flap');
    assert.ok(birdNow.gobgpUptime >= beforeP.gobgpUptime, 'GoBGP\'s session kept its uptime');
    assert.equal(birdNow.frr4, beforeP.frr4, 'FRR IPv4: no new connection');
    assert.equal(birdNow.frr6, beforeP.frr6, 'FRR IPv6: no new connection');

    const s = await scrape();
    const inst = beforeT[0]!.instance;
    assert.equal(metric(s, 'tsbgp_session_state_transitions_total', { instance: inst, neighbor: B.router4, to: 'Established' }), 2);
    assert.equal(metric(s, 'tsbgp_session_state_transitions_total', { instance: inst, neighbor: G.router4, to: 'Established' }), 1);
    assert.equal(metric(s, 'tsbgp_config_reloads_total', { result: 'success' }), 2);
  });

  it('SIGHUP adding a pod CIDR sends one UPDATE to each peer of that family, and nothing flaps', async () => {
    const beforeT = await neighbors();
    const beforeP = await peerSide();
    const gBefore = (await gobgpNode()).state?.messages?.received?.update ?? 0;
    edits.podCidrs = ['10.244.0.0/24', '10.244.7.0/24', 'fd00:244::/64'];
    write();
    daemon.signal('SIGHUP');
    // Every IPv4 router gets it; the IPv6 session does not.
    await waitFor(() => routers.get('gobgp')!.peer.routes('ipv4'), {
      timeoutMs: 10_000,
      label: 'GoBGP has 10.244.7.0/24',
      until: (rs) => rs.some((r) => r.prefix === '10.244.7.0/24' && r.peer === G.node4),
    });
    await waitFor(() => routers.get('frr')!.peer.routes('ipv4'), {
      timeoutMs: 10_000,
      label: 'FRR has 10.244.7.0/24',
      until: (rs) => rs.some((r) => r.prefix === '10.244.7.0/24' && r.peer === F.node4),
    });
    await waitFor(() => birdc(lab, routerNs('bird'), 'show', 'route', '10.244.7.0/24'), {
      timeoutMs: 10_000,
      label: 'BIRD has 10.244.7.0/24',
      until: (out) => out.includes('10.244.7.0/24'),
    });
    const afterT = await neighbors();
    for (const b of beforeT) {
      const n = byAddr(afterT, b.address);
      assert.equal(n.state, 'Established');
      assert.equal(n.establishedCount, b.establishedCount, `${b.address} did not flap`);
      const v4 = !b.address.includes(':');
      assert.equal(n.families[0]!.advertised, v4 ? 2 : 1, `${b.address} advertises ${v4 ? 2 : 1}`);
      assert.equal(n.messages.sent.update - b.messages.sent.update, v4 ? 1 : 0, `${b.address}: exactly one UPDATE more`);
    }
    const afterP = await peerSide();
    assert.deepEqual({ ...afterP, gobgpUptime: 0 }, { ...beforeP, gobgpUptime: 0 }, 'no router saw its session change');
    assert.equal(((await gobgpNode()).state?.messages?.received?.update ?? 0) - gBefore, 1, 'GoBGP received one UPDATE');

    const cfg = await daemon.json<ConfigView>(['config']);
    assert.equal(cfg.lastReload?.ok, true);
    assert.ok(cfg.lastReload!.changes.every((c) => !c.includes('reset')), `only hot changes: ${JSON.stringify(cfg.lastReload!.changes)}`);

    // adj-out shows it, as the table and as JSON.
    const out = await daemon.json<Array<{ prefix: string; nextHop: string; asPath: unknown }>>(['neighbor', G.router4, 'adj-out']);
    assert.deepEqual(out.map((r) => [r.prefix, r.nextHop]), [['10.244.0.0/24', G.node4], ['10.244.7.0/24', G.node4]]);
    const text = await daemon.cli(['neighbor', G.router4, 'adj-out']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^\s*Network\s+Next Hop\s+AS_PATH/m);
    assert.match(text.stdout, new RegExp(`^\\s*10\\.244\\.7\\.0/24\\s+${G.node4.replace(/\./g, '\\.')}\\s+${NODE_AS}\\s`, 'm'), text.stdout);
  });

  it('an invalid edit is refused: every session stays up, tsbgp config shows the error with file and field path, metrics count it', async () => {
    const beforeT = await neighbors();
    const beforeP = await peerSide();
    edits.rawHold = { address: G.router4, text: '2' };
    write();
    daemon.signal('SIGHUP');
    const cfg = await waitFor(() => daemon.json<ConfigView>(['config']), {
      timeoutMs: 10_000,
      label: 'the refused reload is recorded',
      until: (c) => c.lastReload?.ok === false,
    });
    const err = cfg.lastReload!.errors[0];
    assert.ok(err, JSON.stringify(cfg.lastReload));
    assert.equal(err.file, file);
    assert.match(err.path ?? '', /virtualRouters\[0\]\.neighbors\[0\]\.holdTimeSeconds$/, `field path: ${err.path}`);
    assert.equal(typeof err.line, 'number');
    assert.deepEqual(cfg.lastReload!.changes, []);
    assert.ok(cfg.applied !== null, 'the previous configuration is still the applied one');

    const text = await daemon.cli(['config']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Last load \(SIGHUP, .*\): REFUSED, previous configuration kept/);
    assert.ok(text.stdout.includes(file), text.stdout);
    assert.match(text.stdout, /holdTimeSeconds/);

    await sleep(2000); // long enough for a wrongly applied change to show
    const afterT = await neighbors();
    for (const b of beforeT) {
      const n = byAddr(afterT, b.address);
      assert.equal(n.state, 'Established');
      assert.equal(n.establishedCount, b.establishedCount, `${b.address} did not flap`);
    }
    assert.equal(byAddr(afterT, G.router4).timers.holdTime, 9, 'the running hold time is the old one');
    const afterP = await peerSide();
    assert.deepEqual({ ...afterP, gobgpUptime: 0 }, { ...beforeP, gobgpUptime: 0 }, 'no router saw a change');

    let s = await scrape();
    assert.equal(metric(s, 'tsbgp_config_reloads_total', { result: 'failure' }), 1);
    assert.equal(metric(s, 'tsbgp_config_last_reload_successful'), 0);

    // Fixed again: applied, nothing to change.
    delete edits.rawHold;
    write();
    daemon.signal('SIGHUP');
    const ok = await waitFor(() => daemon.json<ConfigView>(['config']), { timeoutMs: 10_000, label: 'fixed file applied', until: (c) => c.lastReload?.ok === true });
    assert.deepEqual(ok.lastReload!.changes, []);
    s = await scrape();
    assert.equal(metric(s, 'tsbgp_config_last_reload_successful'), 1);
    assert.equal(metric(s, 'tsbgp_config_reloads_total', { result: 'success' }), 4);
  });

  it('tsbgp fib --kernel reads the kernel; a route deleted behind tsbgp\'s back comes back, a stray one with its protocol goes (counted by op)', async () => {
    const ops0 = (await daemon.json<GlobalInfo>(['global'])).fib.operations;
    const v4 = async (): Promise<string[]> => (await protoRoutes(lab, node, 4)).map((r) => r.dst).sort();
    const want = await v4();
    assert.ok(want.includes('10.200.1.0/24'));
    await lab.check(node, 'ip', ['route', 'del', '10.200.1.0/24', 'proto', '186']);
    await lab.check(node, 'ip', ['route', 'add', '10.77.0.0/24', 'via', G.router4, 'proto', '186', 'metric', '20']);
    await waitFor(v4, { timeoutMs: 10_000, label: 'tsbgp repaired its table', until: (have) => JSON.stringify(have) === JSON.stringify(want) });
    const ops1 = await waitFor(async () => (await daemon.json<GlobalInfo>(['global'])).fib.operations, {
      timeoutMs: 5000,
      label: 'the repair is counted',
      until: (o) => o.add > ops0.add && o.delete > ops0.delete,
    });
    assert.deepEqual(ops1, { add: ops0.add + 1, replace: ops0.replace, delete: ops0.delete + 1 }, 'one add (the deleted route), one delete (the stray)');
    const s = await scrape();
    for (const op of ['add', 'replace', 'delete'] as const) assert.equal(metric(s, 'tsbgp_fib_operations_total', { op }), ops1[op], `metric op=${op}`);

    // The comparison: every wanted route installed, the kernel side read from the kernel.
    const rows = await daemon.json<FibRoute[]>(['fib', '--kernel']);
    assert.deepEqual(rows.map((r) => `${r.prefix} ${r.status}`), [
      '10.30.0.0/24 installed', '10.100.0.0/24 installed', '10.100.1.0/24 installed', '10.200.0.0/24 installed', '10.200.1.0/24 installed',
      'fd00:30::/64 installed', 'fd00:31::/64 installed',
    ]);
    for (const r of rows) {
      assert.ok(r.kernel !== null, `${r.prefix}: kernel route read`);
      assert.equal(r.kernel.protocol, 186);
      assert.equal(r.kernel.metric, 20);
      assert.equal(typeof r.kernel.nexthopId, 'number', `${r.prefix}: a nexthop object (${JSON.stringify(r.kernel)})`);
      assert.deepEqual(r.kernel.nexthops.map((h) => h.dev), r.nexthops.map((h) => h.dev), `${r.prefix}: same interface`);
    }
    const table = await daemon.cli(['fib', '--kernel', '--status', 'stale']);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(table.stdout, 'No routes to install.\n', 'nothing stale left');
  });

  it('after a crash the next tsbgpd shows a stray route of its protocol as stale until it reconciles; its metrics count the start', async () => {
    const status = await daemon.stop('SIGKILL');
    assert.equal(status.signal, 'SIGKILL');
    await lab.check(node, 'ip', ['route', 'add', '10.77.0.0/24', 'via', G.router4, 'proto', '186', 'metric', '20']);
    daemon = await Tsbgpd.startIn(lab, node, { ...daemon.options, logFile: `${daemon.options.logFile}.2` });
    const first = await daemon.json<FibRoute[]>(['fib', '--kernel', '--status', 'stale']);
    const stray = first.find((r) => r.prefix === '10.77.0.0/24');
    assert.ok(stray, `the stray route is listed as stale: ${JSON.stringify(first.map((r) => r.prefix))}`);
    assert.deepEqual(stray.nexthops, [], 'tsbgp wants nothing there');
    assert.deepEqual(stray.kernel, { protocol: 186, metric: 20, nexthops: [{ gateway: G.router4, dev: 'eth-gobgp', weight: 1 }], nexthopId: null });
    assert.match(stray.detail ?? '', /not wanted/);
    const text = await daemon.cli(['fib', '--kernel', '--status', 'stale']);
    assert.match(text.stdout, /^10\.77\.0\.0\/24\s+main\s+20\s+bgp\s+-\s+stale \(.*\); kernel has proto bgp metric 20 via 10\.1\.0\.1 dev eth-gobgp$/m, text.stdout);

    await allEstablished('sessions back after the restart');
    await waitFor(() => daemon.json<FibRoute[]>(['fib', '--kernel']), {
      timeoutMs: 20_000,
      intervalMs: 300,
      label: 'reconciled: the 7 routes installed, nothing stale',
      until: (rows) => rows.length === 7 && rows.every((r) => r.status === 'installed'),
    });
    assert.ok(!(await protoRoutes(lab, node, 4)).some((r) => r.dst === '10.77.0.0/24'), 'the stray route was deleted');

    const s = await scrape();
    assert.equal(metric(s, 'tsbgp_config_reloads_total', { result: 'success' }), 1, 'the new process counts its start');
    assert.equal(metric(s, 'tsbgp_config_last_reload_successful'), 1);
    for (const a of SESSIONS) {
      assert.equal(metric(s, 'tsbgp_session_state_transitions_total', { neighbor: a, to: 'Established' }), 1, `${a} up once in this process`);
    }
  });

  it('shutdown with a message (the router shows it), enable, reset, soft reset in and out; monitor sees each', async () => {
    const inst = (await neighbors())[0]!.instance;
    // tsbgp monitor, as an operator would leave it running in another terminal.
    const mon = spawn(process.execPath, [TSBGP_JS, '--socket', daemon.options.socket, 'monitor', '-o', 'json', '-t', 'admin,peer-state'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let monOut = '';
    let monErr = '';
    mon.stdout.on('data', (b: Buffer) => (monOut += b.toString()));
    mon.stderr.on('data', (b: Buffer) => (monErr += b.toString()));
    const monExit = new Promise<number | null>((resolve) => mon.on('exit', (c) => resolve(c)));
    const events = (): ApiEvent[] => monOut.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as ApiEvent);
    await sleep(500); // subscribed

    try {
      // --- shutdown FRR's IPv4 session with an RFC 9003 message
      const frrBefore = await frrNode(F.node4);
      const sd = await daemon.cli(['neighbor', F.router4, 'shutdown', '-m', SHUTDOWN_MSG, '-o', 'json']);
      assert.equal(sd.code, 0, sd.stderr);
      assert.deepEqual(JSON.parse(sd.stdout) as ActionResult[], [{ instance: inst, neighbor: F.router4, action: 'shutdown' }]);
      const frrDown = await waitFor(() => frrNode(F.node4), { timeoutMs: 10_000, label: 'FRR sees the session down', until: (n) => n.bgpState !== 'Established' });
      assert.equal(frrDown.lastErrorCodeSubcode, '0602', 'Cease (6) / Administrative Shutdown (2)');
      assert.ok(JSON.stringify(frrDown).includes(SHUTDOWN_MSG), `FRR shows the shutdown communication:\n${JSON.stringify(frrDown, null, 1).slice(0, 3000)}`);
      const down = byAddr(await neighbors(), F.router4);
      assert.equal(down.state, 'Idle');
      assert.equal(down.adminDown, true);
      assert.deepEqual([down.lastError?.direction, down.lastError?.code, down.lastError?.subcode, down.lastError?.message], ['sent', 6, 2, SHUTDOWN_MSG]);
      const table = await daemon.cli(['neighbor']);
      assert.match(table.stdout, new RegExp(`^${F.router4.replace(/\./g, '\\.')}\\s+${F.asn}\\s+\\S+\\s+Idle\\(Admin\\)\\s`, 'm'), table.stdout);
      assert.match((await daemon.cli(['neighbor', F.router4])).stdout, new RegExp(SHUTDOWN_MSG.replace(/[.:]/g, '.')));
      await sleep(3000);
      assert.notEqual((await frrNode(F.node4)).bgpState, 'Established', 'stays down (FRR keeps trying, tsbgp refuses)');
      let s = await scrape();
      assert.equal(metric(s, 'tsbgp_session_admin_down', { instance: inst, neighbor: F.router4 }), 1);
      assert.equal(metric(s, 'tsbgp_session_up', { instance: inst, neighbor: F.router4 }), 0);
      assert.equal(metric(s, 'tsbgp_session_state', { instance: inst, neighbor: F.router4 }), 1);

      // --- enable
      const en = await daemon.cli(['neighbor', F.router4, 'enable']);
      assert.equal(en.code, 0, en.stderr);
      assert.match(en.stdout, new RegExp(`neighbor ${F.router4.replace(/\./g, '\\.')} \\(${inst}\\): enabled`));
      await waitFor(() => frrNode(F.node4), { timeoutMs: 20_000, label: 'FRR Established again', until: (n) => n.bgpState === 'Established' });
      const up = await waitFor(() => neighbors(), { timeoutMs: 10_000, label: 'tsbgp Established again', until: (ns) => byAddr(ns, F.router4).state === 'Established' });
      assert.equal(byAddr(up, F.router4).adminDown, false);
      assert.equal(Number((await frrNode(F.node4)).connectionsEstablished), Number(frrBefore.connectionsEstablished) + 1);

      // --- reset GoBGP: Cease/Administrative Reset, then back
      const gBefore = await gobgpNode();
      const tBefore = byAddr(await neighbors(), G.router4);
      const rs = await daemon.cli(['neighbor', G.router4, 'reset', '-o', 'json']);
      assert.equal(rs.code, 0, rs.stderr);
      assert.deepEqual(JSON.parse(rs.stdout) as ActionResult[], [{ instance: inst, neighbor: G.router4, action: 'reset' }]);
      const tAfter = await waitFor(() => neighbors(), {
        timeoutMs: 20_000,
        label: 'GoBGP re-established after reset',
        until: (ns) => byAddr(ns, G.router4).state === 'Established' && byAddr(ns, G.router4).establishedCount === tBefore.establishedCount + 1,
      });
      assert.deepEqual([byAddr(tAfter, G.router4).lastError?.code, byAddr(tAfter, G.router4).lastError?.subcode], [6, 4], 'Cease/Administrative Reset sent');
      const gAfter = await waitFor(() => gobgpNode(), { timeoutMs: 10_000, label: 'gobgp Established', until: (n) => n.state?.session_state === 6 || n.state?.session_state === 'established' });
      assert.equal(gAfter.state?.messages?.received?.notification, (gBefore.state?.messages?.received?.notification ?? 0) + 1, 'GoBGP received one NOTIFICATION');
      assert.ok((gAfter.state?.flops ?? 0) > (gBefore.state?.flops ?? 0) || (gAfter.timers?.state?.uptime?.seconds ?? 0) > (gBefore.timers?.state?.uptime?.seconds ?? 0), 'GoBGP saw a new session');

      // --- soft reset in / out towards FRR IPv4: ROUTE-REFRESH one way, UPDATEs the other; no flap
      const f0 = await frrNode(F.node4);
      const t0 = byAddr(await neighbors(), F.router4);
      const sin = await daemon.cli(['neighbor', F.router4, 'softreset', 'in']);
      assert.equal(sin.code, 0, sin.stderr);
      assert.match(sin.stdout, /soft reset in \(route refresh requested\)/);
      const f1 = await waitFor(() => frrNode(F.node4), { timeoutMs: 5000, label: 'FRR got a ROUTE-REFRESH', until: (n) => frrStat(n, 'routeRefreshRecv') === frrStat(f0, 'routeRefreshRecv') + 1 });
      assert.equal(frrStat(f1, 'updatesRecv'), frrStat(f0, 'updatesRecv'), 'soft reset in sends no UPDATE');
      const sout = await daemon.cli(['neighbor', F.router4, 'softreset', 'out', '-o', 'json']);
      assert.equal(sout.code, 0, sout.stderr);
      assert.deepEqual(JSON.parse(sout.stdout) as ActionResult[], [{ instance: inst, neighbor: F.router4, action: 'soft-reset-out' }]);
      const f2 = await waitFor(() => frrNode(F.node4), { timeoutMs: 5000, label: 'FRR got the routes again', until: (n) => frrStat(n, 'updatesRecv') > frrStat(f1, 'updatesRecv') });
      assert.equal(frrStat(f2, 'routeRefreshRecv'), frrStat(f1, 'routeRefreshRecv'), 'soft reset out sends no ROUTE-REFRESH');
      assert.equal(f2.connectionsEstablished, f0.connectionsEstablished, 'no flap');
      const t2 = byAddr(await neighbors(), F.router4);
      assert.equal(t2.establishedCount, t0.establishedCount);
      assert.equal(t2.messages.sent.routeRefresh, t0.messages.sent.routeRefresh + 1);
      s = await scrape();
      assert.equal(metric(s, 'tsbgp_messages_sent_total', { instance: inst, neighbor: F.router4, type: 'route-refresh' }), t2.messages.sent.routeRefresh);
      assert.equal(metric(s, 'tsbgp_session_admin_down', { instance: inst, neighbor: F.router4 }), 0);

      // --- a refused action: the exit code and the API's error code
      const bad = await daemon.cli(['neighbor', '10.9.9.9', 'reset']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /no neighbor 10\.9\.9\.9.*\[ENOENT_NEIGHBOR\]/);
    } finally {
      mon.kill('SIGINT'); // Ctrl-C: monitor ends cleanly
    }
    assert.equal(await monExit, 0, `monitor exit:\n${monErr}`);
    const ev = events();
    const admin = ev.filter((e) => e.type === 'admin').map((e) => (e.type === 'admin' ? `${e.action} ${e.neighbor}${e.message !== null ? ` ${e.message}` : ''}` : ''));
    assert.deepEqual(admin, [`shutdown ${F.router4} ${SHUTDOWN_MSG}`, `enable ${F.router4}`, `reset ${G.router4}`, `soft-reset-in ${F.router4}`, `soft-reset-out ${F.router4}`]);
    const frrStates = ev.filter((e) => e.type === 'peer-state' && e.neighbor === F.router4).map((e) => (e.type === 'peer-state' ? e.to : ''));
    assert.equal(frrStates[0], 'Idle', `FRR IPv4 states: ${frrStates.join(' ')}`);
    assert.equal(frrStates.at(-1), 'Established');
    const downEv = ev.find((e) => e.type === 'peer-state' && e.neighbor === F.router4 && e.to === 'Idle');
    assert.ok(downEv?.type === 'peer-state' && (downEv.reason ?? '').includes(SHUTDOWN_MSG), `down reason: ${JSON.stringify(downEv)}`);
    assert.ok(ev.some((e) => e.type === 'peer-state' && e.neighbor === G.router4 && e.to === 'Established'), 'GoBGP back after the reset');
  });

  it('a prefix limit overflow (GoBGP sees Cease/1) and its restart are counted in the metrics', async () => {
    const inst = (await neighbors())[0]!.instance;
    const G4 = { instance: inst, neighbor: G.router4, afi: 'ipv4', safi: 'unicast' };
    edits.limit = { address: G.router4, max: 3, restart: 3 };
    write();
    daemon.signal('SIGHUP');
    await waitFor(neighbors, { timeoutMs: 10_000, label: 'limit applied', until: (ns) => byAddr(ns, G.router4).families[0]!.prefixLimit?.max === 3 });
    let s = await scrape();
    assert.equal(metric(s, 'tsbgp_prefix_limit_max', G4), 3);
    assert.equal(metric(s, 'tsbgp_prefix_limit_overflow', G4), 0);
    const gBefore = await gobgpNode();
    const gobgpPeer = routers.get('gobgp')!.peer;
    await gobgpPeer.announce('10.100.2.0/24'); // a 4th prefix: over the limit
    const over = await waitFor(neighbors, {
      timeoutMs: 10_000,
      label: "overflow on GoBGP's session",
      until: (ns) => byAddr(ns, G.router4).families[0]!.prefixLimit?.overflow === true,
    });
    assert.deepEqual([byAddr(over, G.router4).lastError?.code, byAddr(over, G.router4).lastError?.subcode], [6, 1]);
    const gDown = await gobgpNode();
    assert.equal(gDown.state?.messages?.received?.notification, (gBefore.state?.messages?.received?.notification ?? 0) + 1, 'GoBGP received the Cease');
    s = await scrape();
    assert.equal(metric(s, 'tsbgp_prefix_limit_events_total', { ...G4, kind: 'overflow' }), 1);
    assert.equal(metric(s, 'tsbgp_prefix_limit_overflow', G4), 1);
    assert.equal(metric(s, 'tsbgp_session_up', { instance: inst, neighbor: G.router4 }), 0);
    const table = await daemon.cli(['neighbor']);
    assert.match(table.stdout, /^10\.1\.0\.1\s+65100\s+\S+\s+Idle\(PfxCt\)\s/m, table.stdout);

    await gobgpPeer.withdraw('10.100.2.0/24');
    await waitFor(neighbors, { timeoutMs: 15_000, label: 'back after the restart timer', until: (ns) => byAddr(ns, G.router4).state === 'Established' });
    s = await scrape();
    assert.equal(metric(s, 'tsbgp_prefix_limit_events_total', { ...G4, kind: 'restart' }), 1);
    assert.equal(metric(s, 'tsbgp_prefix_limit_overflow', G4), 0);
    assert.equal(metric(s, 'tsbgp_session_up', { instance: inst, neighbor: G.router4 }), 1);
  });
});
