// Graceful restart (RFC 4724, RFC 8538) against real peers in network namespaces:
//
//   gr-frr  (FRR, AS 65020, bgp graceful-restart)      ── 10.31.1.0/24 ──┐
//   gr-bird (BIRD 2, AS 65030, graceful restart on)     ── 10.31.2.0/24 ──┼── gr-node (tsbgpd, AS 65001)
//   gr-plain (BIRD 2, AS 65040, no graceful restart)    ── 10.31.3.0/24 ──┘
//
// Helper role: the peer's process is killed (SIGKILL): its routes stay in the node's
// kernel (sampled all along) until it returns and sends End-of-RIB, then what it no
// longer announces is swept; without graceful restart the routes leave at once.
// Restarting role: tsbgpd is restarted (SIGTERM + start, SIGKILL + start): the kernel
// routes never leave, FRR and BIRD keep the node's prefix all along, and a route
// withdrawn while tsbgpd was down is swept after the peers' End-of-RIB.
//
// The FRR and BIRD configs are written here (the shared drivers have no graceful
// restart settings); the daemons run from the lab like the drivers run them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLab, type Lab, type Ns } from '../lib/netns.js';
import { run, sleep, waitFor } from '../lib/proc.js';
import { needsRoot } from '../lib/root.js';
import type { Tsbgpd } from '../e2e/lab.js';
import { acceptRule, ciliumManifest, type ManifestNeighbor } from '../lib/cilium-manifest.js';
import { BirdProcess, crash, finishNodeLab, nodeKernelRoutes, startNodeDaemon, waitNodeKernel } from '../lib/node-daemon.js';

const skip = needsRoot('bird', 'birdc', 'vtysh', '/usr/lib/frr/bgpd', '/usr/lib/frr/zebra');

const NODE_ASN = 65001;
const POD_CIDR = '10.244.7.0/24';
const RESTART_TIME = 20;
const FRR_PREFIXES = ['192.168.21.0/24', '192.168.22.0/24', '192.168.23.0/24'];
const BIRD_PREFIXES = ['192.168.31.0/24', '192.168.32.0/24'];
const PLAIN_PREFIXES = ['192.168.41.0/24'];

function policy(): string {
  const nb = (address: string, asn: number, gr: boolean): ManifestNeighbor => ({
    address,
    asn,
    ...(gr ? { gracefulRestart: `{enabled: true, restartTimeSeconds: ${RESTART_TIME}}` } : {}),
    defaultAction: 'Reject',
    rules: [acceptRule('lab', '192.168.0.0/16', { ge: 24, le: 24 })],
  });
  return ciliumManifest({
    name: 'gr',
    asn: NODE_ASN,
    routeInstall: '{enabled: true, table: main, metric: 20, protocol: 186}',
    neighbors: [nb('10.31.1.2', 65020, true), nb('10.31.2.2', 65030, true), nb('10.31.3.2', 65040, false)],
    node: { name: 'gr-node', routerId: '10.255.31.1', podCidr: POD_CIDR, address: '10.31.1.1' },
  });
}

function frrConf(prefixes: readonly string[]): string {
  return [
    'hostname gr-frr',
    'router bgp 65020',
    ' bgp router-id 10.31.1.2',
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' bgp graceful-restart',
    ' bgp graceful-restart preserve-fw-state',
    ` bgp graceful-restart restart-time ${RESTART_TIME}`,
    ' bgp graceful-restart stalepath-time 60',
    ' timers bgp 3 9',
    ` neighbor 10.31.1.1 remote-as ${NODE_ASN}`,
    ' neighbor 10.31.1.1 timers 3 9',
    ' neighbor 10.31.1.1 timers connect 1',
    ' neighbor 10.31.1.1 advertisement-interval 0',
    ' address-family ipv4 unicast',
    ...prefixes.map((p) => `  network ${p}`),
    '  neighbor 10.31.1.1 activate',
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
}

function birdConf(id: string, asn: number, prefixes: readonly string[], gr: boolean): string {
  return [
    'log stderr all;',
    `router id ${id};`,
    'protocol device { scan time 10; }',
    'protocol static ann4 {',
    '  ipv4;',
    ...prefixes.map((p) => `  route ${p} blackhole;`),
    '}',
    'protocol bgp n0 {',
    `  local ${id} as ${asn};`,
    `  neighbor ${id.replace(/\.2$/, '.1')} as ${NODE_ASN};`,
    '  hold time 9; keepalive time 3; connect retry time 1; connect delay time 1; error wait time 1, 4;',
    gr ? `  graceful restart on; graceful restart time ${RESTART_TIME};` : '  graceful restart off;',
    '  ipv4 { import all; export where source = RTS_STATIC; };',
    '}',
    '',
  ].join('\n');
}

class Frr {
  zebra: ChildProcess | undefined;
  bgpd: ChildProcess | undefined;
  constructor(
    readonly lab: Lab,
    readonly ns: Ns,
    readonly dir: string,
  ) {}

  private common(d: string): string[] {
    return ['-u', 'root', '-g', 'frrvty', '--vty_socket', this.dir, '-i', join(this.dir, `${d}.pid`), '-z', join(this.dir, 'zserv.api'),
      '-f', join(this.dir, `${d}.conf`), '-P', '0', '--log', 'stdout', '--log-level', 'informational'];
  }

  async startZebra(): Promise<void> {
    writeFileSync(join(this.dir, 'zebra.conf'), 'hostname gr-frr\n');
    this.zebra = this.lab.spawnIn(this.ns, '/usr/lib/frr/zebra', this.common('zebra'), { logFile: join(this.dir, 'zebra.log') });
    this.lab.onCleanup(() => void run('rm', ['-rf', `/var/tmp/frr/zebra.${this.zebra?.pid}`]));
    await waitFor(() => this.vty('zebra'), { timeoutMs: 15_000, label: 'zebra up' });
  }

  async startBgpd(prefixes: readonly string[]): Promise<void> {
    writeFileSync(join(this.dir, 'bgpd.conf'), frrConf(prefixes));
    const b = this.lab.spawnIn(this.ns, '/usr/lib/frr/bgpd', [...this.common('bgpd'), '-n'], { logFile: join(this.dir, 'bgpd.log') });
    this.bgpd = b;
    this.lab.onCleanup(() => void run('rm', ['-rf', `/var/tmp/frr/bgpd.${b.pid}`]));
    await waitFor(() => this.vty('bgpd'), { timeoutMs: 15_000, label: 'bgpd up' });
  }

  private async vty(d: string): Promise<boolean> {
    const r = await run('vtysh', ['--vty_socket', this.dir, '-d', d, '-c', 'show version'], { timeoutMs: 5000 });
    return r.code === 0 && /FRRouting/.test(r.stdout);
  }

  async vtysh(cmd: string): Promise<string> {
    const r = await run('vtysh', ['--vty_socket', this.dir, '-c', cmd], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`vtysh ${cmd}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }

  /** One line in `router bgp / address-family ipv4 unicast`. */
  async configure(line: string): Promise<void> {
    const r = await run('vtysh', ['--vty_socket', this.dir, '-c', 'configure terminal', '-c', 'router bgp 65020', '-c', 'address-family ipv4 unicast', '-c', line]);
    if (r.code !== 0 || /^%/m.test(r.stdout)) throw new Error(`vtysh ${line}: ${r.stderr}${r.stdout}`);
  }

  async established(): Promise<boolean> {
    const doc = JSON.parse(await this.vtysh('show bgp neighbors 10.31.1.1 json')) as Record<string, { bgpState?: string }>;
    return doc['10.31.1.1']?.bgpState === 'Established';
  }

  /** Whether FRR's BGP table has the node's prefix (stale or not). */
  async hasPodCidr(): Promise<boolean> {
    const doc = JSON.parse(await this.vtysh('show bgp ipv4 unicast json')) as { routes?: Record<string, unknown[]> };
    return (doc.routes?.[POD_CIDR] ?? []).length > 0;
  }

  async killBgpd(): Promise<void> {
    if (await crash(this.bgpd)) this.bgpd = undefined;
  }
}

class Bird extends BirdProcess {
  constructor(
    lab: Lab,
    ns: Ns,
    dir: string,
    readonly id: string,
    readonly asn: number,
    readonly gr: boolean,
  ) {
    super(lab, ns, dir, id);
  }

  /** `recover`: bird -R, graceful restart recovery (R and F bits in its OPEN). */
  start(prefixes: readonly string[], recover = false): Promise<void> {
    return this.run(birdConf(this.id, this.asn, prefixes, this.gr), recover ? ['-R'] : []);
  }

  async established(): Promise<boolean> {
    return /Established/.test(await this.birdc('show', 'protocols', 'n0'));
  }

  async hasPodCidr(): Promise<boolean> {
    return (await this.birdc('show', 'route', 'protocol', 'n0')).includes(POD_CIDR);
  }
}

/**
 * `ip monitor route` in a namespace: every route change the kernel announces, so even a
 * delete followed within a millisecond by an add (which sampling would miss) is seen.
 */
class RouteMonitor {
  private readonly child: ChildProcess;
  private readonly file: string;
  constructor(
    private readonly lab: Lab,
    ns: Ns,
    name: string,
  ) {
    this.file = join(lab.dir, `monitor-${name}.log`);
    this.child = lab.spawnIn(ns, 'ip', ['monitor', 'route'], { logFile: this.file });
  }

  /** Stops the monitor; returns its "Deleted ..." lines. */
  async deletes(): Promise<string[]> {
    await sleep(200); // let the last notifications reach the file
    if (this.child.pid !== undefined) await this.lab.kill(this.child.pid);
    return readFileSync(this.file, 'utf8').split('\n').filter((l) => l.startsWith('Deleted'));
  }
}

/** The lines of `lines` about one of `prefixes`. */
function about(lines: readonly string[], prefixes: readonly string[]): string[] {
  return lines.filter((l) => prefixes.some((p) => l.includes(`${p} `)));
}

/** Samples something in the background until stopped; keeps every sample with its time. */
class Sampler<T> {
  readonly samples: { at: number; value: T }[] = [];
  /** Reads that failed: a test asserts there were none (a failed read hides the state). */
  readonly errors: string[] = [];
  private running = true;
  private readonly loop: Promise<void>;
  constructor(fn: () => Promise<T>, intervalMs: number) {
    this.loop = (async () => {
      while (this.running) {
        try {
          this.samples.push({ at: Date.now(), value: await fn() });
        } catch (e) {
          this.errors.push(e instanceof Error ? e.message : String(e));
        }
        await sleep(intervalMs);
      }
    })();
  }
  async stop(): Promise<{ at: number; value: T }[]> {
    this.running = false;
    await this.loop;
    return this.samples;
  }
}

describe('graceful restart against FRR and BIRD (helper and restarting speaker)', { skip }, () => {
  let lab: Lab;
  let node: Ns;
  let frr: Frr;
  let bird: Bird;
  let plain: Bird;
  let daemon: Tsbgpd | undefined;
  let policyFile: string;
  const started = Date.now();

  const kernel = (): Promise<string[]> => nodeKernelRoutes(node);
  const startDaemon = (): Promise<Tsbgpd> => startNodeDaemon(lab, node, policyFile, 'gr-node');
  const waitKernel = (want: readonly string[], label: string, timeoutMs?: number): Promise<void> =>
    waitNodeKernel(node, want, label, () => daemon?.logTail(30) ?? '', timeoutMs);

  const allPeersUp = async (): Promise<void> => {
    await waitFor(async () => (await frr.established()) && (await bird.established()) && (await plain.established()), {
      timeoutMs: 30_000,
      intervalMs: 200,
      label: 'FRR, BIRD and plain BIRD Established with the node',
    });
  };

  before(async () => {
    lab = createLab('gr');
    node = await lab.addNamespace('gr-node');
    const nsFrr = await lab.addNamespace('gr-frr');
    const nsBird = await lab.addNamespace('gr-bird');
    const nsPlain = await lab.addNamespace('gr-plain');
    await lab.link(node, nsFrr, { a: '10.31.1.1/24', b: '10.31.1.2/24', ifA: 'eth-frr', ifB: 'eth-node' });
    await lab.link(node, nsBird, { a: '10.31.2.1/24', b: '10.31.2.2/24', ifA: 'eth-bird', ifB: 'eth-node' });
    await lab.link(node, nsPlain, { a: '10.31.3.1/24', b: '10.31.3.2/24', ifA: 'eth-plain', ifB: 'eth-node' });
    frr = new Frr(lab, nsFrr, lab.mkdir('frr'));
    bird = new Bird(lab, nsBird, lab.mkdir('bird'), '10.31.2.2', 65030, true);
    plain = new Bird(lab, nsPlain, lab.mkdir('plain'), '10.31.3.2', 65040, false);
    await frr.startZebra();
    await frr.startBgpd(FRR_PREFIXES);
    await bird.start(BIRD_PREFIXES);
    await plain.start(PLAIN_PREFIXES);
    policyFile = join(lab.dir, 'policy.yaml');
    writeFileSync(policyFile, policy());
    daemon = await startDaemon();
  });

  after(() => finishNodeLab(lab, daemon, 'SIGKILL', 'graceful-restart interop', started));

  it('learns every peer\'s routes; graceful restart negotiated with FRR and BIRD, not with the plain BIRD', async () => {
    await allPeersUp();
    await waitKernel([...FRR_PREFIXES, ...BIRD_PREFIXES, ...PLAIN_PREFIXES], 'all routes in the node kernel');
    const gr = JSON.parse(await frr.vtysh('show bgp ipv4 neighbors 10.31.1.1 graceful-restart json')) as Record<string, Record<string, unknown>>;
    const n = gr['10.31.1.1'];
    assert.ok(n, `FRR graceful-restart view: ${JSON.stringify(gr)}`);
    assert.match(String(n.remoteGrMode), /Restart|Helper/, `FRR sees our GR capability: ${JSON.stringify(n)}`);
    // BIRD lists the capabilities each side announced; ours come after "Neighbor capabilities".
    const theirs = (out: string): string => out.split('Neighbor capabilities')[1] ?? '';
    assert.match(theirs(await bird.birdc('show', 'protocols', 'all', 'n0')), /Graceful restart/);
    assert.doesNotMatch(theirs(await plain.birdc('show', 'protocols', 'all', 'n0')), /Graceful restart/);
    await waitFor(() => frr.hasPodCidr(), { timeoutMs: 10_000, label: 'FRR learned the node prefix' });
    await waitFor(() => bird.hasPodCidr(), { timeoutMs: 10_000, label: 'BIRD learned the node prefix' });
  });

  it('helper: FRR\'s bgpd killed: its routes stay in the kernel until it returns; End-of-RIB sweeps what it dropped', async () => {
    const sampler = new Sampler(kernel, 50);
    const monitor = new RouteMonitor(lab, node, 'frr-kill');
    await sleep(300);
    await frr.killBgpd();
    const killedAt = Date.now();
    // Longer than the 9 s hold time: without graceful restart they would be gone.
    await sleep(11_000);
    // Back with one prefix fewer.
    const backAt = Date.now();
    await frr.startBgpd(FRR_PREFIXES.slice(0, 2));
    await waitFor(() => frr.established(), { timeoutMs: 20_000, label: 'FRR back' });
    await waitKernel([...FRR_PREFIXES.slice(0, 2), ...BIRD_PREFIXES, ...PLAIN_PREFIXES], 'the dropped prefix swept after End-of-RIB');
    const sweptAt = Date.now();
    const samples = await sampler.stop();
    assert.deepEqual(sampler.errors, []);
    const away = samples.filter((s) => s.at > killedAt && s.at < backAt);
    assert.ok(away.length > 20, `sampled the kernel while FRR was away (${away.length})`);
    // While FRR was away all three stayed; the two it announces again never left.
    for (const s of away) for (const p of FRR_PREFIXES) assert.ok(s.value.includes(p), `${p} in the kernel at +${s.at - killedAt} ms`);
    for (const s of samples) for (const p of FRR_PREFIXES.slice(0, 2)) assert.ok(s.value.includes(p), `${p} never left (+${s.at - killedAt} ms)`);
    assert.ok(sweptAt - backAt < 15_000, 'swept on End-of-RIB, not on the restart or stale-path timer');
    const deletes = await monitor.deletes();
    assert.deepEqual(about(deletes, FRR_PREFIXES.slice(0, 2)), [], 'the kernel never deleted a route FRR announces again');
    assert.equal(about(deletes, FRR_PREFIXES.slice(2)).length, 1, `the monitor saw the sweep: ${deletes.join('; ')}`);
  });

  it('helper with BIRD (bird -R: graceful restart recovery): routes kept while BIRD is down', async () => {
    const sampler = new Sampler(kernel, 50);
    await bird.kill();
    const killedAt = Date.now();
    await sleep(10_000);
    const backAt = Date.now();
    await bird.start(BIRD_PREFIXES.slice(0, 1), true);
    await waitFor(() => bird.established(), { timeoutMs: 20_000, label: 'BIRD back' });
    await waitKernel([...FRR_PREFIXES.slice(0, 2), ...BIRD_PREFIXES.slice(0, 1), ...PLAIN_PREFIXES], 'BIRD\'s dropped prefix swept', 30_000);
    const samples = await sampler.stop();
    assert.deepEqual(sampler.errors, []);
    const away = samples.filter((s) => s.at > killedAt && s.at < backAt);
    assert.ok(away.length > 20, `sampled the kernel while BIRD was away (${away.length})`);
    for (const s of away) for (const p of BIRD_PREFIXES) assert.ok(s.value.includes(p), `${p} kept while BIRD was away (+${s.at - killedAt} ms)`);
    for (const s of samples) assert.ok(s.value.includes(BIRD_PREFIXES[0]!), `${BIRD_PREFIXES[0]} never left`);
  });

  it('without graceful restart: the plain BIRD killed, its route leaves the kernel within the hold time', async () => {
    await plain.kill();
    const t0 = Date.now();
    await waitKernel([...FRR_PREFIXES.slice(0, 2), ...BIRD_PREFIXES.slice(0, 1)], 'plain route withdrawn', 9_000);
    const took = Date.now() - t0;
    assert.ok(took < 9_000, `gone after ${took} ms`);
    await plain.start(PLAIN_PREFIXES);
    await waitKernel([...FRR_PREFIXES.slice(0, 2), ...BIRD_PREFIXES.slice(0, 1), ...PLAIN_PREFIXES], 'plain route back');
  });

  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    it(`restarting: tsbgpd ${sig} + start: kernel routes never leave, FRR and BIRD keep our prefix, a withdrawn route is swept`, async () => {
      await allPeersUp();
      const want = [...FRR_PREFIXES.slice(0, 2), ...BIRD_PREFIXES.slice(0, 1), ...PLAIN_PREFIXES];
      await waitKernel(want, 'steady state before the restart');
      await waitFor(async () => (await frr.hasPodCidr()) && (await bird.hasPodCidr()), { timeoutMs: 10_000, label: 'peers have our prefix' });
      const kSampler = new Sampler(kernel, 50);
      const monitor = new RouteMonitor(lab, node, `restart-${sig}`);
      await sleep(300);
      const pSampler = new Sampler(async () => [await frr.hasPodCidr(), await bird.hasPodCidr()], 200);
      const stoppedAt = Date.now();
      const exit = await daemon!.stop(sig);
      if (sig === 'SIGTERM') assert.equal(exit.code, 0, daemon!.logTail(20));
      // While tsbgpd is away FRR withdraws a prefix: the node must sweep it after the restart.
      await frr.configure('no network 192.168.22.0/24');
      await sleep(2000);
      daemon = await startDaemon();
      const restartedAt = Date.now();
      await allPeersUp();
      const after = want.filter((p) => p !== '192.168.22.0/24');
      await waitKernel(after, 'withdrawn prefix swept after the restart', RESTART_TIME * 1000 + 10_000);
      const sweptAt = Date.now();
      await sleep(1000);
      const ks = await kSampler.stop();
      const ps = await pSampler.stop();
      const window = ks.filter((s) => s.at >= stoppedAt);
      assert.ok(window.length > 40, `kernel sampled during the restart (${window.length})`);
      for (const s of window) {
        for (const p of after) assert.ok(s.value.includes(p), `${p} in the kernel at +${s.at - stoppedAt} ms (${sig})`);
      }
      assert.deepEqual(pSampler.errors, [], 'every read of the peers worked');
      assert.deepEqual(kSampler.errors, []);
      const deletes = await monitor.deletes();
      assert.deepEqual(about(deletes, after), [], `the kernel never deleted a kept route (${sig})`);
      assert.equal(about(deletes, ['192.168.22.0/24']).length, 1, `the monitor saw the sweep: ${deletes.join('; ')}`);
      const pw = ps.filter((s) => s.at >= stoppedAt);
      assert.ok(pw.length > 5, `peers sampled during the restart (${pw.length})`);
      for (const s of pw) assert.deepEqual(s.value, [true, true], `FRR and BIRD keep ${POD_CIDR} at +${s.at - stoppedAt} ms (${sig})`);
      if (process.env.E2E_LOGS === '1') {
        process.stderr.write(`${daemon.logTail(60)}\n${JSON.stringify(window.map((s) => [s.at - stoppedAt, s.value.length]))}\n`);
      }
      process.stderr.write(`# ${sig}: restart took ${restartedAt - stoppedAt} ms, swept ${sweptAt - restartedAt} ms after start\n`);
      assert.ok(sweptAt - restartedAt < (RESTART_TIME - 5) * 1000, 'swept once the peers sent End-of-RIB, before the restart time');
      // Put the prefix back for the next round.
      await frr.configure('network 192.168.22.0/24');
      await waitKernel(want, 'prefix back');
    });
  }
});
