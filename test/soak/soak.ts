#!/usr/bin/env node
// Soak: minutes of route churn and peer flaps against one tsbgpd, in namespaces, then
// checks that it gave back what it took. Not part of the test suite (it runs for
// minutes); run it as root:
//
//   node dist/test/soak/soak.js --minutes 5 [--routes 100000] [--json FILE]
//
// A feeder (bench/feeder through test/fault's speaker child) announces --routes
// synthetic IPv4 prefixes and takes them away again, in turns: withdraw-all, three flap
// cycles of 10% then withdraw-all, the session dropped (Cease) under the full table, the
// session reset from tsbgp's side (`tsbgp neighbor reset`). A BIRD peer with a few
// routes is restarted every ~2 minutes (more often only measures tsbgpd's damping). At every quiet point (the feeder's routes gone,
// the kernel settled) tsbgpd's RSS and open file descriptors are sampled.
//
// Pass: RSS at the last quiet point ≤ the first one (after a warm-up cycle) + the
// margin (max(--margin-mib, --margin-pct of the baseline)); fds at the end ≤ baseline;
// and after a final full announce the kernel's proto-186 routes equal the Loc-RIB's
// best paths, prefix and gateway for each. Exit 0 pass, 1 fail, 2 cannot run here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { GlobalInfo, NeighborInfo, RibEntry } from '../../src/api/types.js';
import { createLab } from '../lib/netns.js';
import { run, sleep, waitFor } from '../lib/proc.js';
import { PEER_TOOLS, startPeer, type PeerHandle } from '../lib/peers/index.js';
import { whyNoNetns } from '../lib/root.js';
import { Tsbgpd, TSBGP_JS } from '../e2e/lab.js';
import { fdCount, FaultSpeaker, protoCount, protoLines, rssMiB } from '../fault/lab.js';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    routes: { type: 'string', default: '100000' },
    'margin-mib': { type: 'string', default: '32' },
    'margin-pct': { type: 'string', default: '15' },
    json: { type: 'string' },
  },
});
const MINUTES = Number(opt.minutes);
const ROUTES = Number(opt.routes);
const MARGIN_MIB = Number(opt['margin-mib']);
const MARGIN_PCT = Number(opt['margin-pct']);

const NODE = '10.30.0.2';
const FEEDER = { address: '10.30.0.1', asn: 65030 } as const;
const BIRD = { address: '10.40.0.1', node: '10.40.0.2', asn: 65040 } as const;
const BIRD_ROUTES = ['172.16.40.0/24', '172.16.41.0/24', '192.168.40.0/24'];
const HOLD = 9;
/** BIRD is restarted once it has been up this long. */
const BIRD_EVERY_MS = 125_000;

const CHURN = ['withdraw', 'flap+withdraw', 'session-drop', 'neighbor-reset'] as const;
type Churn = (typeof CHURN)[number];

interface Sample {
  readonly cycle: number;
  readonly at: number;
  readonly churn: Churn;
  readonly rssMiB: number;
  readonly fds: number;
  /** Milliseconds: announce until the kernel held every route, churn until they were gone. */
  readonly installMs: number;
  readonly removeMs: number;
}

function config(): string {
  const n = (address: string, asn: number): string[] => [
    `    - peerAddress: "${address}/32"`,
    `      peerASN: ${asn}`,
    `      holdTimeSeconds: ${HOLD}`,
    `      keepAliveTimeSeconds: ${HOLD / 3}`,
    '      connectRetryTimeSeconds: 1',
    '      families: [{afi: ipv4, safi: unicast}]',
    '      importPolicy: {defaultAction: Accept}',
  ];
  return [
    'apiVersion: cilium.io/v2alpha1',
    'kind: CiliumBGPPeeringPolicy',
    'metadata: {name: soak}',
    'spec:',
    '  virtualRouters:',
    '  - localASN: 65001',
    '    routeInstall: {enabled: true, table: main, metric: 20, protocol: 186}',
    '    neighbors:',
    ...n(FEEDER.address, FEEDER.asn),
    ...n(BIRD.address, BIRD.asn),
    '---',
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    '  name: soak-node',
    '  annotations: {cilium.io/bgp-virtual-router.65001: "router-id=10.255.0.1"}',
    '',
  ].join('\n');
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

async function main(): Promise<number> {
  const why = whyNoNetns(...PEER_TOOLS.bird);
  if (why !== undefined) {
    process.stderr.write(`soak: cannot run here: ${why}\n`);
    return 2;
  }
  const lab = createLab('ft-soak');
  let daemon: Tsbgpd | undefined;
  try {
    const node = await lab.addNamespace('node');
    const spk = await lab.addNamespace('spk');
    const rtr = await lab.addNamespace('bird');
    await lab.link(node, spk, { ifA: 'eth-s', ifB: 'eth-node', a: `${NODE}/24`, b: `${FEEDER.address}/24` });
    await lab.link(node, rtr, { ifA: 'eth-b', ifB: 'eth-node', a: `${BIRD.node}/24`, b: `${BIRD.address}/24` });
    const bird: PeerHandle = await startPeer('bird', lab, rtr, {
      asn: BIRD.asn,
      routerId: BIRD.address,
      neighbors: [{ address: BIRD.node, asn: 65001 }],
      announce: BIRD_ROUTES.map((prefix) => ({ prefix })),
    });
    const feeder = await FaultSpeaker.start(lab, spk, 'soak-feeder');
    const listen = (): Promise<{ port: number }> =>
      feeder.feed({ peer: NODE, localAddress: FEEDER.address, localAs: FEEDER.asn, peerAs: 65001, holdTime: HOLD, count: ROUTES });
    await listen();
    const dir = lab.mkdir('tsbgpd');
    const file = join(dir, 'soak.yaml');
    writeFileSync(file, config());
    const sock = join(dir, 'tsbgpd.sock');
    daemon = await Tsbgpd.startIn(lab, node, { config: [file], nodeName: 'soak-node', socket: sock, fib: 'kernel', logFile: join(dir, 'tsbgpd.log') });
    const d = daemon;
    const state = async (address: string): Promise<string> =>
      (await d.json<NeighborInfo[]>(['neighbor'])).find((n) => n.address === address)?.state ?? 'missing';
    const established = (address: string): Promise<string> =>
      waitFor(() => state(address), { timeoutMs: 60_000, label: `${address} Established`, until: (s) => s === 'Established' });
    const settle = (want: number, label: string): Promise<number> =>
      waitFor(() => protoCount(node), { timeoutMs: 120_000, intervalMs: 250, label, until: (n) => n === want });
    await established(FEEDER.address);
    await established(BIRD.address);
    await settle(BIRD_ROUTES.length, 'BIRD routes');
    log(`tsbgpd pid ${d.pid}: RSS ${rssMiB(d.pid).toFixed(0)} MiB, ${fdCount(d.pid)} fds; churning ${ROUTES} routes for ${MINUTES} min`);

    const samples: Sample[] = [];
    const full = ROUTES + BIRD_ROUTES.length;
    const t0 = Date.now();
    let flaps = 0;
    let announced = 0;
    let cycle = 0;
    let birdRestarts = 0;
    let birdUpSince = Date.now();
    const feederClosed = (): Promise<unknown> =>
      waitFor(() => feeder.state(), { timeoutMs: 30_000, label: 'feeder session closed', until: (s) => s.state === 'closed' });
    while (cycle === 0 || Date.now() - t0 < MINUTES * 60_000) {
      const churn = CHURN[cycle % CHURN.length]!;
      const a0 = Date.now();
      await feeder.announce();
      announced += ROUTES;
      await settle(full, `cycle ${cycle}: ${full} routes installed`);
      const installMs = Date.now() - a0;
      const r0 = Date.now();
      switch (churn) {
        case 'withdraw':
          await feeder.withdraw();
          break;
        case 'flap+withdraw':
          await feeder.flap(3, 0.1);
          flaps += 3;
          await feeder.withdraw();
          break;
        case 'session-drop':
          await feeder.close();
          break;
        case 'neighbor-reset': {
          const r = await d.cli(['neighbor', FEEDER.address, 'reset']);
          if (r.code !== 0) throw new Error(`tsbgp neighbor reset: ${r.stderr}`);
          break;
        }
      }
      await settle(BIRD_ROUTES.length, `cycle ${cycle}: feeder routes gone after ${churn}`);
      const removeMs = Date.now() - r0;
      if (churn === 'session-drop' || churn === 'neighbor-reset') {
        if (churn === 'neighbor-reset') await feederClosed();
        await listen();
        await established(FEEDER.address);
      }
      if (Date.now() - birdUpSince > BIRD_EVERY_MS) {
        // Flap the other peer too: BIRD restarted, its routes go and come back. Not more
        // often: tsbgpd damps a peer that keeps failing (idle hold 1, 2, 4... s, reset
        // only after 120 s Established), so faster restarts only measure the backoff.
        await bird.restart();
        birdRestarts++;
        await waitFor(() => state(BIRD.address), { timeoutMs: 150_000, label: 'BIRD Established again', until: (x) => x === 'Established' });
        await settle(BIRD_ROUTES.length, 'BIRD back');
        birdUpSince = Date.now();
      }
      await sleep(300); // let the CLI connections of this cycle close
      const s: Sample = { cycle, at: Date.now() - t0, churn, rssMiB: rssMiB(d.pid), fds: fdCount(d.pid), installMs, removeMs };
      samples.push(s);
      log(`cycle ${cycle} ${churn.padEnd(14)} install ${installMs} ms, remove ${removeMs} ms; RSS ${s.rssMiB.toFixed(1)} MiB, ${s.fds} fds`);
      cycle++;
    }

    // The end: everything announced once more, then the kernel must equal the Loc-RIB.
    await feeder.announce();
    announced += ROUTES;
    await settle(full, 'final announce installed');
    await waitFor(() => d.json<GlobalInfo>(['global']), { timeoutMs: 60_000, label: 'FIB settled', until: (g) => g.fib.pending === 0 });
    // 100k rows: more than the CLI helper's 15 s timeout on a busy machine.
    const ribOut = await run(process.execPath, [TSBGP_JS, '--socket', sock, 'global', 'rib', '-o', 'json'], { timeoutMs: 180_000 });
    if (ribOut.code !== 0) throw new Error(`tsbgp global rib: ${ribOut.stderr}`);
    const rib = JSON.parse(ribOut.stdout) as RibEntry[];
    const ribLines = rib
      .map((e) => {
        const best = e.paths.find((p) => p.best);
        return best ? `${e.prefix} via ${best.nextHop}` : undefined;
      })
      .filter((x): x is string => x !== undefined)
      .sort();
    const kernelLines = (await protoLines(node)).map((l) => l.replace(/ dev \S+$/, '')).sort();
    const ribSet = new Set(ribLines);
    const kernelSet = new Set(kernelLines);
    const onlyRib = ribLines.filter((l) => !kernelSet.has(l));
    const onlyKernel = kernelLines.filter((l) => !ribSet.has(l));

    // The baseline is the quiet point after the first full cycle (the warm-up).
    const base = samples[Math.min(1, samples.length - 1)]!;
    const last = samples[samples.length - 1]!;
    const margin = Math.max(MARGIN_MIB, (base.rssMiB * MARGIN_PCT) / 100);
    const rssMax = Math.max(...samples.map((s) => s.rssMiB));
    const result = {
      minutes: (Date.now() - t0) / 60_000,
      routes: ROUTES,
      cycles: samples.length,
      prefixesAnnounced: announced,
      flapCycles: flaps,
      birdRestarts,
      rss: { baselineMiB: base.rssMiB, endMiB: last.rssMiB, maxMiB: rssMax, marginMiB: margin },
      fds: { baseline: base.fds, end: last.fds, max: Math.max(...samples.map((s) => s.fds)) },
      installMs: { min: Math.min(...samples.map((s) => s.installMs)), max: Math.max(...samples.map((s) => s.installMs)) },
      removeMs: { min: Math.min(...samples.map((s) => s.removeMs)), max: Math.max(...samples.map((s) => s.removeMs)) },
      fibEqualsRib: { rib: ribLines.length, kernel: kernelLines.length, onlyRib: onlyRib.slice(0, 10), onlyKernel: onlyKernel.slice(0, 10) },
      daemonAlive: d.alive,
      samples,
    };
    const failures: string[] = [];
    if (last.rssMiB > base.rssMiB + margin) failures.push(`RSS ${last.rssMiB.toFixed(1)} MiB > baseline ${base.rssMiB.toFixed(1)} + ${margin.toFixed(1)}`);
    if (last.fds > base.fds) failures.push(`fds ${last.fds} > baseline ${base.fds}`);
    if (onlyRib.length > 0 || onlyKernel.length > 0) failures.push(`kernel ≠ Loc-RIB: ${onlyRib.length} only in the RIB, ${onlyKernel.length} only in the kernel`);
    if (ribLines.length !== full) failures.push(`Loc-RIB has ${ribLines.length} best paths, expected ${full}`);
    if (!d.alive) failures.push('tsbgpd died');
    if (opt.json !== undefined) writeFileSync(opt.json, `${JSON.stringify({ ...result, failures }, null, 2)}\n`);
    log(
      `done: ${samples.length} cycles in ${result.minutes.toFixed(1)} min, ${announced} prefixes announced, ${flaps} flap cycles, ${birdRestarts} BIRD restarts; ` +
        `RSS baseline ${base.rssMiB.toFixed(1)} → end ${last.rssMiB.toFixed(1)} MiB (max ${rssMax.toFixed(1)}, margin ${margin.toFixed(1)}); ` +
        `fds ${base.fds} → ${last.fds}; kernel ${kernelLines.length} = Loc-RIB ${ribLines.length}: ${onlyRib.length + onlyKernel.length === 0 ? 'yes' : 'NO'}`,
    );
    for (const f of failures) log(`FAIL: ${f}`);
    if (failures.length === 0) log('PASS');
    await daemon.stop('SIGTERM');
    return failures.length === 0 ? 0 : 1;
  } catch (e) {
    log(`error: ${(e as Error).stack ?? String(e)}`);
    if (daemon) log(daemon.logTail(20));
    return 1;
  } finally {
    if (daemon?.alive) await daemon.stop('SIGKILL').catch(() => undefined);
    await lab.cleanup().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`));
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
