// Faults with real peers, in network namespaces (docs/reliability.md lists each one with
// what was expected and seen). One lab, steps in order, each leaving the lab as it found
// it: tsbgpd (AS 65001) learns from BIRD (domain A), FRR (domain B) and feeders, and
// advertises a bulk Service to a peer that stops reading.
//
// What the e2e route-learning test already proves (clean peer stop, SIGTERM / SIGKILL
// restarts with a handful of routes, the static route never touched, prefix limit) is
// not repeated; here the faults are the rough ones: killed and hung peers, a link going
// down, a TCP RST in the middle of an UPDATE, a flooding peer, a peer that stops reading,
// routes the kernel cannot take, routes and nexthop objects deleted behind tsbgpd's back,
// a bad reload, and SIGKILL with 50k routes installed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigView, FibRoute, GlobalInfo, NeighborInfo, RibEntry } from '../../src/api/types.js';
import { createLab, type Lab } from '../lib/netns.js';
import { check, sleep, waitFor } from '../lib/proc.js';
import { PEER_TOOLS } from '../lib/peers/index.js';
import { needsRoot } from '../lib/root.js';
import { addr, DOMAIN_A, DOMAIN_B, STATIC_PREFIX, Tsbgpd, vtysh } from '../e2e/lab.js';
import {
  buildFaultLab,
  FAR_NH,
  faultPolicy,
  FaultSpeaker,
  FEEDER,
  HOLD,
  metric,
  NODE_S,
  protoCount,
  protoLines,
  rssMiB,
  scrape,
  signalPid,
  STALLED,
  type FaultLab,
  type FaultPolicyOptions,
} from './lab.js';

const skip = needsRoot('curl', ...PEER_TOOLS.bird, ...PEER_TOOLS.frr);

const A4 = addr(DOMAIN_A.router4);
const B4 = addr(DOMAIN_B.router4);
/** What each router's IPv4 session brings into the kernel (no default route; B's static-route prefix is a conflict). */
const A_ROUTES = ['192.168.10.0/24', '192.168.11.0/24', '172.16.10.0/24', '10.99.0.0/16'].map((p) => `${p} via ${A4} dev eth-a`);
const B_ROUTES = ['192.168.20.0/24', '172.16.20.0/24', '10.98.0.0/16'].map((p) => `${p} via ${B4} dev eth-b`);
const FEED_COUNT = 50_000;
const BULK = 20_000;
/** RFC 9687 SendHoldTime for this lab (the default is minutes): through tsbgpd's TSBGP_SEND_HOLD_TIME test hook. */
const SEND_HOLD = 15;
const METRICS = `${NODE_S}:9179`;
/** Open bug (docs/reliability.md row 6: src/fib/fib.ts notify() ignores RTM_DELNEXTHOP of our own protocol); set to undefined once fixed. */
const NH_TODO: string | undefined = undefined;

describe('faults: killed, hung and misbehaving peers, link loss, kernel refusals, bad reloads', { skip }, () => {
  let lab: Lab;
  let t: FaultLab;
  let daemon: Tsbgpd;
  let file: string;
  let feeder: FaultSpeaker;
  let far: FaultSpeaker;
  let stalled: FaultSpeaker;
  let policy: FaultPolicyOptions = { bulkServiceIps: BULK };
  let daemonSeq = 0;
  const started = Date.now();

  const writeConfig = (text = faultPolicy(policy)): void => writeFileSync(file, text);
  const startDaemon = async (): Promise<Tsbgpd> =>
    Tsbgpd.startIn(lab, t.node, {
      config: [file],
      nodeName: 'fault-node',
      socket: join(t.dir, 'tsbgpd.sock'),
      fib: 'kernel',
      logFile: join(t.dir, `tsbgpd-${++daemonSeq}.log`),
      metricsAddress: METRICS,
    });

  const neighbors = (): Promise<NeighborInfo[]> => daemon.json<NeighborInfo[]>(['neighbor']);
  const neighbor = async (address: string): Promise<NeighborInfo> => {
    const n = (await neighbors()).find((x) => x.address === address);
    assert.ok(n, `tsbgp neighbor lists ${address}`);
    return n;
  };
  const waitState = (address: string, until: (n: NeighborInfo) => boolean, label: string, timeoutMs = 20_000): Promise<NeighborInfo> =>
    waitFor(() => neighbor(address), { timeoutMs, intervalMs: 100, label, until });
  const established = (address: string, timeoutMs = 20_000): Promise<NeighborInfo> =>
    waitState(address, (n) => n.state === 'Established', `${address} Established`, timeoutMs);
  /** establishedCount per address, to prove later that nobody else flapped. */
  const flapCounts = async (...addresses: string[]): Promise<Record<string, number>> => {
    const ns = await neighbors();
    return Object.fromEntries(addresses.map((a) => [a, ns.find((n) => n.address === a)?.establishedCount ?? -1]));
  };
  const routerRoutes = async (): Promise<string[]> =>
    (await protoLines(t.node)).filter((l) => l.includes(` via ${A4} `) || l.includes(` via ${B4} `));
  const waitRouterRoutes = async (want: string[], label: string, timeoutMs = 10_000): Promise<number> => {
    const t0 = Date.now();
    const sorted = [...want].sort();
    try {
      await waitFor(routerRoutes, { timeoutMs, intervalMs: 100, label, until: (have) => JSON.stringify(have) === JSON.stringify(sorted) });
    } catch (e) {
      assert.deepEqual(await routerRoutes(), sorted, `${(e as Error).message}\n--- tsbgpd log ---\n${daemon.logTail(20)}`);
    }
    return Date.now() - t0;
  };
  const waitCount = (want: number, label: string, timeoutMs = 60_000): Promise<number> =>
    waitFor(() => protoCount(t.node), { timeoutMs, intervalMs: 250, label, until: (n) => n === want });
  const frrDrops = async (): Promise<number> => {
    const doc = JSON.parse(await vtysh(lab, t.b.routerNs, `show bgp neighbors ${addr(DOMAIN_B.node4)} json`)) as Record<string, { connectionsDropped?: number }>;
    return doc[addr(DOMAIN_B.node4)]?.connectionsDropped ?? 0;
  };
  /** Configuration loads so far (applied or refused), from /metrics. */
  const reloads = async (): Promise<number> => {
    const page = await scrape(lab, t.node, METRICS);
    let n = 0;
    for (const l of page.split('\n')) if (l.startsWith('tsbgp_config_reloads_total{')) n += Number(l.slice(l.lastIndexOf(' ') + 1));
    return n;
  };
  const feed = async (s: FaultSpeaker, address: string, asn: number, count: number, nextHop4?: string): Promise<void> => {
    // The far feeder's table gets its own seed: the same seed would repeat the feeder's first prefixes.
    const seed = nextHop4 === undefined ? 1 : 2;
    await s.feed({ peer: NODE_S, localAddress: address, localAs: asn, peerAs: 65001, holdTime: HOLD, count, seed, ...(nextHop4 ? { nextHop4 } : {}) });
  };

  before(async () => {
    lab = createLab('ft-faults');
    t = await buildFaultLab(lab);
    file = join(t.dir, 'faults.yaml');
    writeConfig();
    [feeder, far, stalled] = await Promise.all([
      FaultSpeaker.start(lab, t.spk, 'feeder'),
      FaultSpeaker.start(lab, t.spk, 'far-nexthop'),
      FaultSpeaker.start(lab, t.spk, 'stalled'),
    ]);
    await feed(feeder, FEEDER.address, FEEDER.asn, FEED_COUNT);
    await feed(far, FAR_NH.address, FAR_NH.asn, 20, FAR_NH.nextHop);
    await stalled.raw({ peer: NODE_S, localAddress: STALLED.address, localAs: STALLED.asn, holdTime: HOLD });
    process.env['TSBGP_SEND_HOLD_TIME'] = String(SEND_HOLD); // inherited by every tsbgpd started here
    daemon = await startDaemon();
  });

  after(async () => {
    try {
      if (daemon?.alive) await daemon.stop('SIGTERM');
    } finally {
      await lab?.cleanup();
    }
    process.stderr.write(`# fault tests: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  it('brings up BIRD, FRR, two feeders and the stalled-reader-to-be; installs the routers\' routes', async () => {
    for (const a of [A4, B4, FEEDER.address, FAR_NH.address, STALLED.address]) await established(a);
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'both domains installed');
    // The bulk instance sends its Service addresses to the stalled reader (who still reads).
    const s = await waitState(STALLED.address, (n) => (n.families[0]?.advertised ?? 0) === BULK, 'bulk advertised');
    assert.equal(s.instance, 'vr-65005');
  });

  it('a peer flooding 50k routes and 3 flap cycles: the routers\' sessions stay up and their news is installed meanwhile', async () => {
    const before = await flapCounts(A4, B4);
    const frrDropped = await frrDrops();
    const rss0 = rssMiB(daemon.pid);
    const flood = (async () => {
      await feeder.announce();
      await feeder.flap(3, 0.3);
    })();
    await sleep(300);
    // BIRD announces a new prefix while the flood is being processed.
    const t0 = Date.now();
    await t.a.router.announce('172.16.11.0/24');
    await waitRouterRoutes([...A_ROUTES, `172.16.11.0/24 via ${A4} dev eth-a`, ...B_ROUTES], 'BIRD\'s new prefix during the flood', 15_000);
    const newsMs = Date.now() - t0;
    await flood;
    await waitCount(FEED_COUNT + A_ROUTES.length + 1 + B_ROUTES.length, 'flood installed');
    const afterCounts = await flapCounts(A4, B4);
    assert.deepEqual(afterCounts, before, 'no router session flapped');
    const frr = JSON.parse(await vtysh(lab, t.b.routerNs, `show bgp neighbors ${addr(DOMAIN_B.node4)} json`)) as Record<string, { connectionsDropped?: number; bgpState?: string }>;
    assert.equal(frr[addr(DOMAIN_B.node4)]?.bgpState, 'Established', 'FRR still Established');
    assert.equal(frr[addr(DOMAIN_B.node4)]?.connectionsDropped ?? 0, frrDropped, 'FRR saw no drop');
    process.stderr.write(`# flood: BIRD's prefix installed after ${newsMs} ms during the flood; RSS ${rss0.toFixed(0)} → ${rssMiB(daemon.pid).toFixed(0)} MiB\n`);
    await t.a.router.withdraw('172.16.11.0/24');
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'BIRD\'s prefix withdrawn');
  });

  it('a TCP RST in the middle of an UPDATE: that session drops, its 50k routes leave the kernel, nothing else moves', async () => {
    const before = await flapCounts(A4, B4, FAR_NH.address, STALLED.address);
    const cut = await feeder.resetMidUpdate();
    assert.ok(cut.sentBytes < cut.messageLength, `half an UPDATE: ${cut.sentBytes} of ${cut.messageLength} bytes`);
    const t0 = Date.now();
    const down = await waitState(FEEDER.address, (n) => n.state !== 'Established', 'feeder session down', 5000);
    const downMs = Date.now() - t0;
    assert.match(down.lastError?.text ?? '', /./, 'a reason is recorded');
    const goneMs = await waitCount(A_ROUTES.length + B_ROUTES.length, 'feeder routes withdrawn', 30_000).then(() => Date.now() - t0);
    assert.ok(daemon.alive, 'tsbgpd is running');
    assert.deepEqual(await flapCounts(A4, B4, FAR_NH.address, STALLED.address), before, 'no other session flapped');
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'routers\' routes intact');
    process.stderr.write(`# rst mid-update: session down after ${downMs} ms (${down.lastError?.text}), 50k routes gone after ${goneMs} ms\n`);
    // The feeder listens again: tsbgpd reconnects by itself.
    await feed(feeder, FEEDER.address, FEEDER.asn, FEED_COUNT);
    await established(FEEDER.address);
  });

  it('kernel refuses: an unreachable next hop is held back (next-hop-unresolvable) and installed once reachable; a foreign route on our key is a reported conflict, ours goes in when it leaves', async () => {
    // (1) 20 routes whose next hop 10.31.0.1 is on no connected subnet: not eligible
    // (decision step 0), so they show in the Loc-RIB with that reason and in `tsbgp fib` as
    // unresolved-nexthop, with nothing in the kernel.
    await far.announce();
    const unresolved = await waitFor(() => daemon.json<RibEntry[]>(['global', 'rib']), {
      timeoutMs: 10_000,
      label: '20 routes with an unresolvable next hop',
      until: (rib) => rib.filter((e) => e.paths.some((p) => p.neighbor === FAR_NH.address && p.reason === 'next-hop-unresolvable')).length === 20,
    });
    const farPrefixes = unresolved.filter((e) => e.paths.some((p) => p.neighbor === FAR_NH.address)).map((e) => e.prefix);
    assert.ok(unresolved.filter((e) => farPrefixes.includes(e.prefix)).every((e) => e.paths.every((p) => !p.best)), 'none is a best path');
    const fibNow = await daemon.json<FibRoute[]>(['fib']);
    const listed = fibNow.filter((x) => farPrefixes.includes(x.prefix));
    assert.equal(listed.length, 20, 'tsbgp fib lists them');
    assert.ok(listed.every((x) => x.status === 'unresolved-nexthop' && x.kernel === null && x.nexthops[0]?.gateway === FAR_NH.nextHop), 'as unresolved, not in the kernel');
    assert.equal((await protoLines(t.node)).filter((l) => l.includes(FAR_NH.nextHop)).length, 0, 'nothing installed via 10.31.0.1');
    assert.ok(daemon.alive);
    // The next hop becomes reachable: a new connected subnet on eth-s.
    await lab.check(t.node, 'ip', ['addr', 'add', '10.31.0.2/24', 'dev', 'eth-s']);
    await lab.check(t.spk, 'ip', ['addr', 'add', '10.31.0.1/24', 'dev', 'eth-node']);
    const t0 = Date.now();
    await waitFor(async () => (await protoLines(t.node)).filter((l) => l.includes(`via ${FAR_NH.nextHop} dev eth-s`)).length, {
      timeoutMs: 10_000,
      label: 'the 20 routes installed via 10.31.0.1',
      until: (n) => n === 20,
    });
    process.stderr.write(`# unreachable next hop: installed ${Date.now() - t0} ms after the address appeared\n`);

    // (2) The node's static route on 192.168.30.0/24 (FRR announces it): conflict, reported.
    const conflict = (await daemon.json<FibRoute[]>(['fib'])).find((x) => x.prefix === STATIC_PREFIX);
    assert.equal(conflict?.status, 'conflict');
    const page = await scrape(lab, t.node, METRICS);
    assert.equal(metric(page, 'tsbgp_fib_routes', 'status="conflict"'), 1, 'tsbgp_fib_routes{status="conflict"}');
    await check('ip', ['-n', t.node.netns, 'route', 'del', STATIC_PREFIX, 'proto', 'static']);
    const t1 = Date.now();
    await waitFor(protoLines.bind(null, t.node), {
      timeoutMs: 10_000,
      label: 'ours installed once the static route left',
      until: (ls) => ls.includes(`${STATIC_PREFIX} via ${B4} dev eth-b`),
    });
    process.stderr.write(`# conflict: installed ${Date.now() - t1} ms after the static route was deleted\n`);
    assert.equal((await daemon.json<FibRoute[]>(['fib'])).find((x) => x.prefix === STATIC_PREFIX)?.status, 'installed');
    B_ROUTES.push(`${STATIC_PREFIX} via ${B4} dev eth-b`);
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'routers\' routes incl. the former conflict');
  });

  it('someone deletes one of our routes (ip route del): tsbgpd puts it back', async () => {
    const victim = `192.168.20.0/24 via ${B4} dev eth-b`;
    await check('ip', ['-n', t.node.netns, 'route', 'del', '192.168.20.0/24', 'proto', '186', 'metric', '20']);
    const t0 = Date.now();
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'the deleted route re-installed', 40_000);
    assert.ok((await protoLines(t.node)).includes(victim));
    assert.ok(daemon.alive);
    process.stderr.write(`# foreign route delete: back after ${Date.now() - t0} ms\n`);
  });

  it('link down into domain A: A\'s routes leave the kernel at once, B is untouched; link up brings them back', async () => {
    const before = await flapCounts(B4, FEEDER.address);
    const aBefore = (await neighbor(A4)).establishedCount;
    await lab.check(t.node, 'ip', ['link', 'set', 'eth-a', 'down']);
    const gone = await waitRouterRoutes(B_ROUTES, 'A gone, B kept', 5000);
    await sleep(2000);
    await lab.check(t.node, 'ip', ['link', 'set', 'eth-a', 'up']);
    const t0 = Date.now();
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'A back after link up', (HOLD + 20) * 1000);
    const back = Date.now() - t0;
    assert.deepEqual(await flapCounts(B4, FEEDER.address), before, 'B and the feeder did not flap');
    const aAfter = (await neighbor(A4)).establishedCount;
    process.stderr.write(`# link down: A's routes gone after ${gone} ms, back ${back} ms after link up (A re-established ${aAfter - aBefore} times)\n`);
  });

  it('FRR\'s bgpd killed (SIGKILL): B\'s routes leave the kernel well within the hold time; back after FRR restarts', async () => {
    const bgpd = t.b.router.pids()[1];
    assert.ok(bgpd !== undefined, 'bgpd pid');
    await signalPid(bgpd, 'KILL');
    const gone = await waitRouterRoutes(A_ROUTES, 'B gone', HOLD * 1000);
    assert.ok(gone < HOLD * 1000, `gone after ${gone} ms, hold time ${HOLD} s`);
    assert.equal((await neighbor(A4)).state, 'Established');
    await t.b.router.restart();
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'B back', 30_000);
    process.stderr.write(`# peer killed: routes gone after ${gone} ms\n`);
  });

  it('BIRD hung (SIGSTOP, no FIN): the hold timer expires and A\'s routes leave within the hold time; SIGCONT and it recovers', async () => {
    const pids = t.a.router.pids();
    assert.ok(pids.length > 0);
    const t0 = Date.now();
    for (const p of pids) await signalPid(p, 'STOP');
    try {
      const gone = await waitRouterRoutes(B_ROUTES, 'A gone by hold timer', (HOLD + 3) * 1000);
      const n = await neighbor(A4);
      assert.notEqual(n.state, 'Established');
      assert.deepEqual([n.lastError?.direction, n.lastError?.code], ['sent', 4], `Hold Timer Expired sent: ${JSON.stringify(n.lastError)}`);
      assert.ok(gone <= (HOLD + 1.5) * 1000, `gone after ${gone} ms (hold ${HOLD} s)`);
      process.stderr.write(`# peer hung: A's routes gone after ${Date.now() - t0} ms (hold ${HOLD} s)\n`);
    } finally {
      for (const p of pids) await signalPid(p, 'CONT');
    }
    await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'A back after SIGCONT', 40_000);
  });

  /** Leaves the lab as the next step expects it, whatever this one did: a fresh, reading raw session, Established. */
  const freshStalled = async (): Promise<void> => {
    if ((await stalled.state()).state !== 'closed') await stalled.close();
    await stalled.raw({ peer: NODE_S, localAddress: STALLED.address, localAs: STALLED.asn, holdTime: HOLD });
    await established(STALLED.address, 30_000);
    await waitFor(() => stalled.state(), { timeoutMs: 20_000, label: 'raw session established', until: (x) => x.state === 'established' });
  };

  it('a peer that stops reading (still sending KEEPALIVEs): tsbgpd stops writing to it, memory stays bounded, the send hold timer (RFC 9687) drops it, the others keep learning', async (ctx) => {
    ctx.after(freshStalled);
    const others = [A4, B4, FEEDER.address, FAR_NH.address];
    const before = await flapCounts(...others);
    await stalled.stall(true);
    const tStall = Date.now();
    const rss0 = rssMiB(daemon.pid);
    // Churn the bulk Service: each reload changes 20k withdrawals + 20k announcements
    // towards the stalled peer. Backpressure keeps at most one socket buffer and the
    // Adj-RIB-Out for it however many reloads happen; SendHoldTime after its socket
    // stopped taking data, the session goes. Reloads go on after that (at least 12 in all).
    const rss: number[] = [];
    const queued: { bytes: number; prefixes: number }[] = [];
    let downAt = 0;
    let down: NeighborInfo | undefined;
    let duringStall = 0;
    for (let i = 1; i <= 40 && (rss.length < 12 || downAt === 0); i++) {
      policy = { ...policy, bulkShift: i % 2 };
      writeConfig();
      const n0 = await reloads();
      daemon.signal('SIGHUP');
      await waitFor(reloads, { timeoutMs: 15_000, label: `reload ${i} done`, until: (n) => n > n0 });
      assert.equal((await daemon.json<ConfigView>(['config'])).lastReload?.ok, true);
      await sleep(700);
      rss.push(rssMiB(daemon.pid));
      if (downAt === 0) {
        const s = await neighbor(STALLED.address);
        if (s.state === 'Established') {
          duringStall = i;
          queued.push(s.outQueue);
        } else {
          downAt = Date.now();
          down = s;
        }
      }
    }
    // Meanwhile BIRD's news still reaches the kernel promptly.
    const t0 = Date.now();
    await t.a.router.announce('172.16.12.0/24');
    await waitRouterRoutes([...A_ROUTES, `172.16.12.0/24 via ${A4} dev eth-a`, ...B_ROUTES], 'BIRD learnt while a peer is stalled', 10_000);
    const newsMs = Date.now() - t0;
    await t.a.router.withdraw('172.16.12.0/24');
    const st = await stalled.state();
    const max4 = Math.max(...rss.slice(0, 4));
    const maxRest = Math.max(...rss.slice(4));
    process.stderr.write(
      `# stalled reader (keepalives on): RSS ${rss0.toFixed(0)} MiB before, max ${max4.toFixed(0)} over reloads 1–4, max ${maxRest.toFixed(0)} over reloads 5–${rss.length}; ` +
        `Established and stalled through reload ${duringStall}; dropped ${downAt ? ((downAt - tStall) / 1000).toFixed(1) : '-'} s after the stall began ` +
        `(SendHoldTime ${SEND_HOLD} s; ${JSON.stringify(down?.lastError ?? null)}); the peer read ${st.bytesRead} bytes; BIRD's prefix installed in ${newsMs} ms; ` +
        `RSS per reload: ${rss.map((x) => x.toFixed(0)).join(' ')}\n`,
    );
    assert.ok(down, `the stalled session was never dropped over ${rss.length} reloads`);
    assert.deepEqual([down.lastError?.direction, down.lastError?.code, down.lastError?.subcode], ['sent', 8, 0], `Send Hold Timer Expired sent: ${JSON.stringify(down.lastError)}`);
    // Not before SendHoldTime (the stall needs the buffers to fill first), and not much later.
    assert.ok(downAt - tStall >= SEND_HOLD * 1000, `dropped after ${downAt - tStall} ms`);
    assert.ok(downAt - tStall <= (SEND_HOLD + 45) * 1000, `dropped after ${downAt - tStall} ms`);
    // Counted and logged like any other session error: a NOTIFICATION out, a state change.
    const page = await scrape(lab, t.node, METRICS);
    const notifs = metric(page, 'tsbgp_messages_sent_total', `neighbor="${STALLED.address}"`, 'type="notification"') ?? 0;
    assert.ok(notifs >= 1, `tsbgp_messages_sent_total{type="notification"} for the stalled peer: ${notifs}`);
    assert.ok(
      daemon.log().split('\n').some((l) => l.includes(`"neighbor":"${STALLED.address}"`) && l.includes('"from":"Established","to":"Idle"')),
      'the session state change is logged',
    );
    // A 20k-address reload costs heap that V8 keeps and collects when it likes (RSS swings
    // by ±50–90 MiB between samples): bounded means no trend, the floor of the last reloads
    // no higher than the peak of the middle ones. A queue growing per reload (~250 KB each
    // without backpressure) would raise that floor; the exact bound is proven by
    // test/daemon/speaker-backpressure.test.ts.
    const mid = rss.slice(4, rss.length - 4);
    const last = rss.slice(-4);
    assert.ok(Math.min(...last) - Math.max(...mid) < 48, `RSS still growing: ${rss.map((x) => x.toFixed(0)).join(' ')} MiB`);
    // The exact measure: what tsbgpd holds for the stalled peer (tsbgp neighbor -o json,
    // outQueue) stays within one socket buffer and the prefixes there are to send, however
    // many reloads changed them (each reload changes 40k prefixes for it).
    const maxBytes = Math.max(...queued.map((q) => q.bytes));
    const maxPrefixes = Math.max(...queued.map((q) => q.prefixes));
    process.stderr.write(`# stalled reader: out queue at most ${maxBytes} bytes, ${maxPrefixes} prefixes over ${queued.length} reloads while Established\n`);
    assert.ok(queued.length >= 3, `sampled while stalled: ${queued.length}`);
    assert.ok(maxBytes < 4 * 1024 * 1024, `queued bytes bounded: ${maxBytes}`);
    assert.ok(maxPrefixes <= 2 * BULK + 64, `unsent prefixes bounded by the Adj-RIB-Out changes: ${maxPrefixes}`);
    assert.ok(st.bytesRead < 1_000_000, `the peer really stopped reading (${st.bytesRead} bytes read)`);
    assert.deepEqual(await flapCounts(...others), before, 'no other session flapped');
  });

  it('the stalled peer goes silent too: the hold timer tears its session down, the others stay', async () => {
    const others = [A4, B4, FEEDER.address, FAR_NH.address];
    const before = await flapCounts(...others);
    const t0 = Date.now();
    await stalled.stall(false);
    const n = await waitState(STALLED.address, (x) => x.state !== 'Established', 'stalled peer torn down', (HOLD + 5) * 1000);
    const ms = Date.now() - t0;
    assert.deepEqual([n.lastError?.direction, n.lastError?.code], ['sent', 4], `Hold Timer Expired: ${JSON.stringify(n.lastError)}`);
    assert.deepEqual(await flapCounts(...others), before);
    process.stderr.write(`# stalled + silent: torn down after ${ms} ms (hold ${HOLD} s); RSS now ${rssMiB(daemon.pid).toFixed(0)} MiB\n`);
    await stalled.close();
  });

  it('an invalid configuration reload changes nothing: sessions stay up, routes stay, the error is reported', async () => {
    const all = [A4, B4, FEEDER.address, FAR_NH.address];
    const before = await flapCounts(...all);
    const routes = await protoLines(t.node);
    writeConfig(faultPolicy(policy).replace(`holdTimeSeconds: ${HOLD}`, 'holdTimeSeconds: 2'));
    daemon.signal('SIGHUP');
    const cfg = await waitFor(() => daemon.json<ConfigView>(['config']), {
      timeoutMs: 10_000,
      label: 'refused reload reported',
      until: (c) => c.lastReload?.ok === false,
    });
    assert.match(JSON.stringify(cfg.lastReload), /holdTimeSeconds/);
    const page = await scrape(lab, t.node, METRICS);
    assert.equal(metric(page, 'tsbgp_config_last_reload_successful'), 0);
    writeConfig('this: is: not: yaml: [');
    daemon.signal('SIGHUP');
    await sleep(1500);
    assert.equal((await daemon.json<ConfigView>(['config'])).lastReload?.ok, false);
    await sleep(HOLD * 1000);
    assert.ok(daemon.alive);
    assert.deepEqual(await flapCounts(...all), before, 'no session flapped');
    assert.deepEqual(await protoLines(t.node), routes, 'kernel routes unchanged');
    writeConfig();
    daemon.signal('SIGHUP');
    await waitFor(() => daemon.json<ConfigView>(['config']), { timeoutMs: 10_000, label: 'good reload', until: (c) => c.lastReload?.ok === true });
    assert.deepEqual(await flapCounts(...all), before, 'the good reload flaps nothing either');
  });

  it('tsbgpd SIGKILLed with 50k routes installed: the next one adopts them (none lost meanwhile) and removes the orphans', async () => {
    await feeder.announce();
    // Settled: nothing pending, the kernel holds what tsbgp says it installed.
    await waitFor(async () => [(await daemon.json<GlobalInfo>(['global'])).fib, await protoCount(t.node)] as const, {
      timeoutMs: 60_000,
      intervalMs: 500,
      label: 'the 50k table settled in the kernel',
      until: ([f, k]) => f.pending === 0 && f.installed === k && k > FEED_COUNT,
    });
    const beforeKill = await protoLines(t.node);
    // The far-next-hop feeder will not come back: the prefixes only it announced become
    // orphans. (The two synthetic tables may share prefixes; those stay, via the feeder.)
    const rib = await daemon.json<RibEntry[]>(['global', 'rib']);
    const farOnly = new Set(rib.filter((e) => e.paths.every((x) => x.neighbor === FAR_NH.address)).map((e) => e.prefix));
    assert.ok(farOnly.size > 0, 'some routes only the far feeder has');
    const keep = new Set(beforeKill.map((l) => l.split(' ')[0]!).filter((pfx) => !farOnly.has(pfx)));
    const status = await daemon.stop('SIGKILL');
    assert.equal(status.signal, 'SIGKILL');
    assert.deepEqual(await protoLines(t.node), beforeKill, 'a crash leaves every route');
    await waitFor(() => feeder.state(), { timeoutMs: 10_000, label: 'feeder saw the crash', until: (s) => s.state === 'closed' });
    await feed(feeder, FEEDER.address, FEEDER.asn, FEED_COUNT);
    daemon = await startDaemon();
    try {
      await established(FEEDER.address, 30_000);
    } catch (e) {
      const ss = await lab.exec(t.node, 'ss', ['-tnp']);
      throw new Error(`${(e as Error).message}\n--- feeder ---\n${feeder.log()}\n--- tsbgpd ---\n${daemon.logTail(15)}\n--- ss ---\n${ss.stdout}`);
    }
    const t0 = Date.now();
    await feeder.announce();
    // The wanted routes never leave while the new daemon catches up; the orphans go.
    let min = Infinity;
    let ms = 0;
    for (;;) {
      const now = (await protoLines(t.node)).map((l) => l.split(' ')[0]!);
      const kept = now.filter((pfx) => keep.has(pfx)).length;
      const orphans = now.filter((pfx) => farOnly.has(pfx)).length;
      min = Math.min(min, kept);
      if (orphans === 0 && kept === keep.size && now.length === keep.size) {
        ms = Date.now() - t0;
        break;
      }
      if (Date.now() - t0 > 60_000) assert.fail(`not converged: ${now.length} routes, ${kept} of ${keep.size} kept, ${orphans} orphans left`);
      await sleep(500);
    }
    assert.equal(min, keep.size, 'no wanted route was lost during the restart');
    const fib = await daemon.json<FibRoute[]>(['fib']);
    assert.equal(fib.filter((x) => x.status === 'installed').length, keep.size, 'kernel = what tsbgp installed');
    assert.deepEqual(fib.filter((x) => x.status !== 'installed').map((x) => `${x.prefix} ${x.status}`), []);
    process.stderr.write(
      `# SIGKILL with ${beforeKill.length} routes: ${farOnly.size} orphans removed and ${keep.size} kept after ${ms} ms; never fewer than ${min} of them\n`,
    );
  });

  it('someone deletes the nexthop object B\'s routes use (ip nexthop del): tsbgpd puts the routes back', { todo: NH_TODO }, async () => {
    // Nexthop objects (ids from 0x7b000000): the kernel drops every route using the deleted one, without a route notification.
    const nhs = JSON.parse((await check('ip', ['-n', t.node.netns, '-j', 'nexthop', 'show'])).stdout || '[]') as Array<{ id: number; gateway?: string }>;
    const nh = nhs.find((x) => x.gateway === B4 && x.id >= 0x7b000000);
    assert.ok(nh, `tsbgp's nexthop object via ${B4}: ${JSON.stringify(nhs)}`);
    await check('ip', ['-n', t.node.netns, 'nexthop', 'del', 'id', String(nh.id)]);
    const t0 = Date.now();
    try {
      await waitRouterRoutes([...A_ROUTES, ...B_ROUTES], 'B\'s routes re-installed after their nexthop object was deleted', 40_000);
    } catch (e) {
      const fib = (await daemon.json<FibRoute[]>(['fib'])).filter((x) => x.nexthops.some((h) => h.gateway === B4));
      const nhAfter = (await check('ip', ['-n', t.node.netns, 'nexthop', 'show'])).stdout;
      throw new Error(
        `${(e as Error).message}\n--- tsbgp fib (B's prefixes) ---\n${fib.map((x) => `${x.prefix} ${x.status} ${x.detail ?? ''}`).join('\n')}` +
          `\n--- ip nexthop show ---\n${nhAfter}`,
      );
    }
    process.stderr.write(`# foreign nexthop delete: B's routes back after ${Date.now() - t0} ms\n`);
  });
});
