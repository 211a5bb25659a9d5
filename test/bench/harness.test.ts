// The bench harness (bench/harness): its parsers, probes and report on recorded
// outputs, and (as root, with BIRD, FRR and GoBGP installed) a CI-sized run against
// every receiver that checks counts, not timings: each RIB and FIB reaches exactly the
// feed's prefixes and withdraw-all empties them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Afi } from '../../src/wire/iana.js';
import { SyntheticTable } from '../../bench/feeder/synthetic.js';
import { applyFeed, encodePrefixes4, encodePrefixes6, RECORD4, RECORD6 } from '../../bench/harness/expected.js';
import { birdImported, birdReplyEnd, frrPrefixesReceived, gobgpAccepted } from '../../bench/harness/ctl.js';
import { parseRt6Entries, parseStatCpuTicks, parseTrieStatPrefixes, statusKb } from '../../bench/harness/proc-stats.js';
import { backoff, watchCount } from '../../bench/harness/watch.js';
import { defaultTimeoutSec, parseOptions, USAGE, type BenchOptions } from '../../bench/harness/options.js';
import { lagMaxMs } from '../../bench/harness/measure.js';
import type { PhaseTimes, ReceiverResult } from '../../bench/harness/measure.js';
import { markdown, resultBaseName, sizeLabel, spread, summarize, svgChart, type BenchResult, type RunResult } from '../../bench/harness/report.js';
import { birdConf, frrBgpdConf, gobgpConf, toolsOf, tsbgpdManifest, type ReceiverKind } from '../../bench/harness/receivers.js';
import { resolveTexts } from '../../src/config/config.js';
import { needsRoot } from '../lib/root.js';

// ---------------------------------------------------------------------------
// Recorded outputs (BIRD 2.0.12, FRR 8.4.4, GoBGP 3.10.0, Linux 6.x), trimmed.

const BIRD_PROTOCOLS = `2002-Name       Proto      Table      State  Since         Info
1002-feed       BGP        ---        up     13:45:20.099  Established   
1006-  BGP state:          Established
     Neighbor address: 192.0.2.2
     Neighbor AS:      65010
   Channel ipv4
     State:          UP
     Table:          master4
     Routes:         30 imported, 0 exported, 30 preferred
     Route change stats:     received   rejected   filtered    ignored   accepted
       Import updates:             30          0          0          0         30
   Channel ipv6
     State:          UP
     Table:          master6
     Routes:         7 imported, 0 exported, 7 preferred
 
0000 
`;

const FRR_SUMMARY = `{
"ipv4Unicast":{ "routerId":"192.0.2.1", "as":65001, "ribCount":59,
  "peers":{ "192.0.2.2":{ "remoteAs":65010, "pfxRcd":30, "pfxSnt":0, "state":"Established" } } }
,
"ipv6Unicast":{ "routerId":"192.0.2.1", "as":65001, "ribCount":13,
  "peers":{ "192.0.2.2":{ "remoteAs":65010, "pfxRcd":7, "pfxSnt":0, "state":"Established" } } }
}
`;

const GOBGP_NEIGHBOR = JSON.stringify([
  {
    conf: { local_asn: 65001, neighbor_address: '192.0.2.2', peer_asn: 65010, type: 1 },
    state: { neighbor_address: '192.0.2.2', peer_asn: 65010, session_state: 6 },
    afi_safis: [
      { config: { family: { afi: 1, safi: 1 }, enabled: true }, state: { family: { afi: 1, safi: 1 }, enabled: true, received: 30, accepted: 30 } },
      // proto3 JSON leaves out zero counters
      { config: { family: { afi: 2, safi: 1 }, enabled: true }, state: { family: { afi: 2, safi: 1 }, enabled: true } },
    ],
  },
]);

const TRIESTAT = `Basic info: size of leaf: 48 bytes, size of tnode: 40 bytes.
Main:
	Aver depth:     1.66
	Max depth:      2
	Leaves:         10
	Prefixes:       11
	Internal nodes: 2
Local:
	Aver depth:     1.66
	Leaves:         3
	Prefixes:       3
`;

test('BIRD replies end at a "DDDD " line; imported routes are summed over channels', () => {
  const end = birdReplyEnd(BIRD_PROTOCOLS + '0001 next');
  assert.equal(end, BIRD_PROTOCOLS.length, 'the reply ends after "0000 \\n"');
  assert.equal(birdReplyEnd(BIRD_PROTOCOLS.slice(0, -7)), -1, 'no final line yet');
  assert.equal(birdReplyEnd('0001 BIRD 2.0.12 ready.\n'), 24, 'the greeting is one line');
  assert.equal(birdImported(BIRD_PROTOCOLS), 37);
});

test('FRR pfxRcd and GoBGP accepted are summed over families for the feeder only', () => {
  assert.deepEqual(frrPrefixesReceived(FRR_SUMMARY, '192.0.2.2'), { count: 37, state: 'Established' });
  assert.deepEqual(frrPrefixesReceived(FRR_SUMMARY, '192.0.2.9'), { count: 0, state: '' });
  assert.deepEqual(gobgpAccepted(GOBGP_NEIGHBOR, '192.0.2.2'), { count: 30, state: '6' });
  assert.deepEqual(gobgpAccepted('null', '192.0.2.2'), { count: 0, state: 'absent' });
});

test('kernel and process counters parse /proc text', () => {
  assert.equal(parseTrieStatPrefixes(TRIESTAT), 11, 'the Main trie, not Local');
  assert.throws(() => parseTrieStatPrefixes('Local:\n\tPrefixes: 3\n'), /no Main table/);
  assert.equal(parseRt6Entries('0010 000a 000b 000c 0000 0000 0000\n'), 12, 'fourth field, hex');
  assert.throws(() => parseRt6Entries('0010 000a\n'), /unexpected/);
  // A comm with spaces and a parenthesis; utime 1234 and stime 56 are fields 14 and 15.
  const stat = '4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 3 0 100 0 0';
  assert.equal(parseStatCpuTicks(stat), 1290);
  assert.equal(statusKb('Name:\tbird\nVmHWM:\t   21504 kB\nVmRSS:\t   20000 kB\n', 'VmHWM'), 21504 * 1024);
  assert.equal(statusKb('Name:\tbird\n', 'VmHWM'), 0);
  assert.equal(lagMaxMs('# HELP x\nnodejs_eventloop_lag_max_seconds 0.353\nnodejs_eventloop_lag_min_seconds 0.01\n'), 353);
  assert.equal(lagMaxMs('nothing here'), null);
});

test('the expected RIB replays the feed: announce fills it, withdraw-all empties it', () => {
  const t4 = new SyntheticTable({ count: 3000, afi: Afi.IPV4, localAs: 65010, nextHop: '192.0.2.2', seed: 5 });
  const t6 = new SyntheticTable({ count: 500, afi: Afi.IPV6, localAs: 65010, nextHop: '2001:db8:1::2', seed: 5 });
  let s = applyFeed(t4.announce().chunks, 65010, 65001);
  s = applyFeed(t6.announce().chunks, 65010, 65001, s);
  assert.equal(s.v4.size, 3000);
  assert.equal(s.v6.size, 500);
  assert.equal(s.treatAsWithdraw + s.broken + s.loops, 0);
  const f4 = encodePrefixes4(s.v4, s.v4.size);
  const f6 = encodePrefixes6(s.v6, s.v6.size);
  assert.equal(f4.length, 3000 * RECORD4);
  assert.equal(f6.length, 500 * RECORD6);
  // The records decode back to the same keys, and lengths are in range.
  for (let o = 0; o < f4.length; o += RECORD4) {
    const len = f4[o + 4]!;
    assert.ok(len >= 8 && len <= 24, `length ${len}`);
    assert.ok(s.v4.has(f4.readUInt32BE(o) * 64 + len));
  }
  for (let o = 0; o < f6.length; o += RECORD6) assert.equal(f6[o]! >> 5, 1, '2000::/3');
  const w = applyFeed(t4.withdrawAll().chunks, 65010, 65001, applyFeed(t6.withdrawAll().chunks, 65010, 65001, s));
  assert.equal(w.v4.size + w.v6.size, 0);
  // Every synthetic path starts with the feeder's AS: a receiver in that AS sees loops only.
  const loops = applyFeed(t4.announce().chunks, 65010, 65010);
  assert.equal(loops.v4.size, 0);
  assert.equal(loops.loops, t4.announce().messages);
});

test('watchCount: reaches, settles, times out, aborts', async () => {
  assert.equal(backoff(0), 10);
  assert.equal(backoff(2000), 50);
  assert.equal(backoff(60_000), 250);
  let n = 0;
  const start = performance.timeOrigin + performance.now();
  const reached = await watchCount({ start, timeoutMs: 5000, target: 5, read: () => ++n });
  assert.equal(reached.count, 5);
  assert.ok(reached.at !== null && reached.at >= reached.lowAt);
  assert.equal(reached.polls, 5);

  let v = 0;
  const settled = await watchCount({ start, timeoutMs: 5000, target: 100, read: () => (v = Math.min(v + 10, 97)), settleMs: 100, tolerance: 5 });
  assert.equal(settled.settled, true);
  assert.equal(settled.count, 97);

  const never = await watchCount({ start: performance.timeOrigin + performance.now(), timeoutMs: 100, target: 1, read: () => 0 });
  assert.equal(never.at, null);
  assert.match(never.error ?? '', /timed out after 0 s at 0 of 1/);

  // An expensive probe (20 ms) with costFactor 4 waits >= 80 ms between reads: at most 6 reads in 500 ms
  // (without the factor the backoff alone allows ~16).
  const slow = await watchCount({
    start: performance.timeOrigin + performance.now(),
    timeoutMs: 500,
    target: 1,
    read: () => new Promise<number>((r) => setTimeout(() => r(0), 20)),
    costFactor: 4,
  });
  assert.ok(slow.polls >= 2 && slow.polls <= 6, `${slow.polls} polls`);
  assert.ok(slow.maxReadMs >= 19, `slowest read ${slow.maxReadMs} ms`);

  const gone = await watchCount({ start, timeoutMs: 5000, target: 1, read: () => 0, abort: () => 'session closed' });
  assert.equal(gone.error, 'session closed');
  const broken = await watchCount({ start, timeoutMs: 5000, target: 1, read: () => Promise.reject(new Error('EPIPE')) });
  assert.match(broken.error ?? '', /read failed: EPIPE/);
});

test('options: sizes, families, receivers', () => {
  const d = parseOptions([], '/out');
  assert.ok(d !== 'help');
  assert.equal(d.count, 100_000);
  assert.equal(d.afi, 4);
  assert.deepEqual(d.receivers, ['tsbgpd', 'bird', 'bird-kernel', 'frr', 'gobgp']);
  assert.equal(d.holdTime, 9);
  assert.equal(d.keepalive, 3);
  assert.equal(d.timeoutSec, 84);
  assert.equal(d.outDir, '/out');
  const full = parseOptions(['--full'], '/out');
  assert.ok(full !== 'help' && full.count === 1_000_000 && full.timeoutSec === 300);
  const six = parseOptions(['--full', '--afi', '6', '--receivers', 'bird,tsbgpd', '--no-save', '--hold', '90'], '/out');
  assert.ok(six !== 'help');
  assert.equal(six.count, 230_000);
  assert.deepEqual(six.receivers, ['bird', 'tsbgpd']);
  assert.equal(six.outDir, undefined);
  assert.equal(six.keepalive, 30);
  assert.equal(parseOptions(['--help'], '/out'), 'help');
  assert.throws(() => parseOptions(['--receivers', 'quagga'], '/out'), /unknown quagga/);
  assert.throws(() => parseOptions(['--afi', '5'], '/out'), /4 or 6/);
  assert.throws(() => parseOptions(['--full', '--count', '5'], '/out'), /exclude/);
  assert.equal(defaultTimeoutSec(0), 60);
  assert.deepEqual(toolsOf('bird-kernel'), ['bird']);
});

test('receiver configurations: tsbgpd accepts everything from the feeder; the others name it', () => {
  const c = { localAs: 65001, address: '192.0.2.1', peerAddress: '192.0.2.2', peerAs: 65010, holdTime: 9, keepalive: 3 };
  const res = resolveTexts([{ file: 'bench.yaml', text: tsbgpdManifest(c, 'bench') }], 'bench');
  assert.deepEqual(res.errors, []);
  const inst = res.config!.instances[0]!;
  assert.equal(inst.localAsn, 65001);
  assert.equal(inst.routerId, '192.0.2.1');
  assert.equal(inst.routeInstall.enabled, true);
  assert.match(birdConf(c, true), /protocol kernel k4 \{ ipv4 \{ import none; export all; \}; \}/);
  assert.doesNotMatch(birdConf(c, false), /protocol kernel/);
  assert.match(birdConf(c, false), /neighbor 192\.0\.2\.2 as 65010;\s+hold time 9; keepalive time 3;/);
  assert.match(frrBgpdConf(c), /neighbor 192\.0\.2\.2 timers 3 9/);
  assert.equal(frrBgpdConf(c).match(/neighbor 192\.0\.2\.2 activate/g)?.length, 2);
  assert.match(gobgpConf(c), /port = -1/);
  assert.match(gobgpConf(c), /hold-time = 9/);
});

function receiver(over: Partial<ReceiverResult> & Pick<ReceiverResult, 'kind' | 'label' | 'fib'>): ReceiverResult {
  const phase = (ms: number | null, target = 1000) => ({ ms, lowMs: 0, count: ms === null ? 10 : target, target, settled: false, polls: 3, maxReadMs: 1 });
  return {
    version: '1',
    ok: true,
    errors: [],
    notes: [],
    holdTime: 9,
    sendMs: 100,
    rib: phase(500),
    fibInstall: over.fib ? phase(2000) : null,
    fibListed: over.fib ? 1000 : null,
    withdraw: { sendMs: 50, rib: phase(300, 0), fib: over.fib ? phase(900, 0) : null },
    cpuIngestSec: 1.25,
    cpuTotalSec: 2,
    peakRss: 150e6,
    rssAfterIngest: 140e6,
    procs: [],
    gaps: { ingest: { maxKeepaliveGapMs: 3100, maxRxGapMs: 3100, closed: null, keepalivesReceived: 1 }, withdraw: null },
    lagMaxMs: null,
    logFiles: [],
    ...over,
  };
}

const SAMPLE: BenchResult = {
  schema: 1,
  date: '2025-01-02T03:04:05.000Z',
  machine: { cpu: 'Test CPU', cores: 2, memoryGiB: 8, kernel: '6.1.0', node: '20.0.0', loadStart: 1.5, loadEnd: 2 },
  settings: { count: 1000, afi: 4, sets: 200, mrt: null, seed: null, receivers: ['tsbgpd', 'gobgp'], holdTime: 9, keepalive: 3, timeoutSec: 60, floorRounds: 1, settleSec: 0, tolerance: 0 },
  feed: {
    tables: ['synthetic'], messages: 200, prefixes: 1000, bytes: 20_000, expected4: 1000, expected6: 0, treatAsWithdraw: 0, loops: 0, broken: 0,
    withdrawMessages: 3, withdrawPrefixes: 1000, sets: 200, buildMs: 5, target: 1000,
  },
  floor: { routes4: 1000, routes6: 0, rounds: 1, addSec: 0.5, delSec: 0.25, addPerSec: 2000, all: [{ addSec: 0.5, delSec: 0.25, errors: 0 }] },
  receivers: [
    receiver({ kind: 'tsbgpd', label: 'tsbgpd 0.1.0', fib: true, lagMaxMs: { ingest: 42.4, withdraw: 7 } }),
    receiver({ kind: 'gobgp', label: 'GoBGP <3> & co', fib: false, ok: false, errors: ['RIB: timed out'], rib: { ms: null, lowMs: 60_000, count: 10, target: 1000, settled: false, polls: 200, maxReadMs: 5 } }),
  ],
  durationSec: 10,
};

test('the markdown report: one row per receiver plus the floor, FIB as a ratio to the floor', () => {
  const md = markdown(SAMPLE);
  const rows = md.split('\n').filter((l) => l.startsWith('| '));
  assert.equal(rows.length, 4, 'header, tsbgpd, GoBGP, floor');
  assert.equal(rows[1], '| tsbgpd 0.1.0 | 0.50 s | 2.00 s | 4.0× | 150 MB | 1.3 s | 0.30 s | 0.90 s | 3.1 s | 42 ms |');
  assert.match(rows[2]!, /^\| GoBGP <3> & co ⚠ \| not reached \(10 of 1,000\) \| — \| — \| 150 MB /);
  assert.equal(rows[3], '| kernel floor (rtnetlink, pipelined, no ACK per route) | — | 0.50 s | 1.0× | — | — | — | 0.25 s | — | — |');
  assert.match(md, /1,000 synthetic IPv4 prefixes, 200 attribute sets/);
  assert.match(md, /- GoBGP <3> & co: \*\*RIB: timed out\*\*/);
  assert.equal(resultBaseName(SAMPLE), '2025-01-02-1k-ipv4');
  assert.equal(resultBaseName({ ...SAMPLE, settings: { ...SAMPLE.settings, mrt: '/d/pch-as3856-fulltable.2015.gz' } }), '2025-01-02-mrt-pch-as3856-fulltable.2015');
  assert.deepEqual([sizeLabel(100_000), sizeLabel(1_000_000), sizeLabel(230_000), sizeLabel(577_706), sizeLabel(1_500_000)], ['100k', '1M', '230k', '577706', '1.5M']);
});

test('the SVG chart: a bar per phase and receiver, escaped labels, the floor marked', () => {
  const svg = svgChart(SAMPLE);
  assert.ok(svg.startsWith('<svg ') && svg.trimEnd().endsWith('</svg>'));
  assert.match(svg, /GoBGP &lt;3&gt; &amp; co \(!\)/);
  assert.doesNotMatch(svg, /<3>/);
  assert.equal((svg.match(/<rect [^>]*fill="#3b6fb6"><title>/g) ?? []).length, 1, 'one RIB bar (GoBGP did not finish)');
  assert.equal((svg.match(/<rect [^>]*fill="#e08a1e"><title>/g) ?? []).length, 1, 'one FIB bar');
  assert.equal((svg.match(/<rect [^>]*fill="#5a9e5a"><title>/g) ?? []).length, 2, 'two RSS bars');
  assert.match(svg, /RIB: not reached/);
  assert.match(svg, /stroke-dasharray="5,3"/);
  // Log scale over 0.1–10 s (two decades on 380 px): 0.5 s and 2 s are log10(4) / 2 of the axis apart.
  const w = (title: string) => Number(new RegExp(`width="([0-9.]+)" height="13" fill="[^"]+"><title>${title}`).exec(svg)![1]);
  assert.ok(Math.abs(w('tsbgpd 0.1.0 RIB') - ((Math.log10(0.5) + 1) / 2) * 380) < 0.1);
  assert.ok(Math.abs(w('tsbgpd 0.1.0 FIB') - w('tsbgpd 0.1.0 RIB') - (Math.log10(4) / 2) * 380) < 0.2);
});

// ---------------------------------------------------------------------------
// Several rounds: medians and ranges.

test('options: --rounds', () => {
  const d = parseOptions([], '/out');
  assert.ok(d !== 'help' && d.rounds === 1);
  const three = parseOptions(['--rounds', '3', '--receivers', 'tsbgpd,bird'], '/out');
  assert.ok(three !== 'help' && three.rounds === 3 && three.floorRounds === 1);
  assert.throws(() => parseOptions(['--rounds', '0'], '/out'), /--rounds: expected an integer from 1 to 50, got 0/);
  assert.throws(() => parseOptions(['--rounds', '2.5'], '/out'), /--rounds/);
  assert.match(USAGE, /--rounds N +run every receiver N times/);
});

test('spread: median (mean of the middle two when even), range, values in round order', () => {
  assert.deepEqual(spread([3, 1, 2]), { values: [3, 1, 2], median: 2, min: 1, max: 3 });
  assert.deepEqual(spread([4, 1, 3, 2]), { values: [4, 1, 3, 2], median: 2.5, min: 1, max: 4 });
  assert.deepEqual(spread([7]), { values: [7], median: 7, min: 7, max: 7 });
  assert.equal(spread([]), null);
});

const ph = (ms: number | null, count = 1000, target = 1000): PhaseTimes => ({ ms, lowMs: 0, count, target, settled: false, polls: 3, maxReadMs: 1 });
const gaps = (ms: number): ReceiverResult['gaps'] => ({ ingest: { maxKeepaliveGapMs: ms, maxRxGapMs: ms, closed: null, keepalivesReceived: 1 }, withdraw: null });

/** Three rounds: tsbgpd fine in all, GoBGP fails round 2, FRR fails all three (FIB reached in round 3 only). */
const ROUNDS: RunResult[] = [1, 2, 3].flatMap((round) => {
  const i = round - 1;
  return [
    {
      ...receiver({ kind: 'tsbgpd', label: 'tsbgpd 0.1.0', fib: true }),
      round,
      rib: ph([1710, 2540, 1490][i]!),
      fibInstall: ph([4000, 5200, 3600][i]!),
      withdraw: { sendMs: 50, rib: ph([300, 350, 310][i]!, 0, 0), fib: ph([900, 1000, 800][i]!, 0, 0) },
      peakRss: [150e6, 160e6, 155e6][i]!,
      cpuIngestSec: [1.25, 2, 1.5][i]!,
      gaps: gaps([3100, 2900, 3000][i]!),
      lagMaxMs: [{ ingest: 42.4, withdraw: 7 }, { ingest: 100, withdraw: 7 }, { ingest: 60, withdraw: null }][i]!,
    },
    round === 2
      ? { ...receiver({ kind: 'gobgp', label: 'GoBGP 3.10.0', fib: false }), round, ok: false, errors: ['RIB: timed out'], rib: ph(null, 10), peakRss: 999e6 }
      : { ...receiver({ kind: 'gobgp', label: 'GoBGP 3.10.0', fib: false }), round, rib: ph(round === 1 ? 17_600 : 12_000) },
    {
      ...receiver({ kind: 'frr', label: 'FRR 8.4.4', fib: true }),
      round,
      ok: false,
      errors: [round === 3 ? 'session closed' : 'FIB: timed out'],
      notes: round === 1 ? ['RIB settled at 999 of 1,000'] : [],
      rib: ph(400 + 100 * round),
      fibInstall: round === 3 ? ph(3000) : ph(null, 900 + 45 * round),
    },
  ];
});

test('summarize: per receiver the medians and ranges of the completed rounds, every failure kept', () => {
  const before = structuredClone(ROUNDS);
  const [ts, go, frr, ...rest] = summarize(ROUNDS, 0.5);
  assert.deepEqual(ROUNDS, before, 'pure: the runs are left as they were');
  assert.equal(rest.length, 0);
  assert.deepEqual([ts!.kind, go!.kind, frr!.kind], ['tsbgpd', 'gobgp', 'frr']);

  assert.deepEqual(ts!.rib, { ms: { values: [1710, 2540, 1490], median: 1710, min: 1490, max: 2540 }, missed: 0, bestCount: 0, target: 1000, settled: false });
  assert.deepEqual(ts!.fibInstall?.ms, { values: [4000, 5200, 3600], median: 4000, min: 3600, max: 5200 });
  assert.deepEqual(ts!.fibRatio?.values, [8, 10.4, 7.2]);
  assert.equal(ts!.fibRatio?.median, 8);
  assert.equal(ts!.withdrawRib?.ms?.median, 310);
  assert.equal(ts!.withdrawFib?.ms?.median, 900);
  assert.equal(ts!.peakRss?.median, 155e6);
  assert.equal(ts!.cpuIngestSec?.median, 1.5);
  assert.equal(ts!.keepaliveGapMs?.median, 3000);
  assert.deepEqual(ts!.lagMaxMs, { values: [42.4, 100, 60], median: 60, min: 42.4, max: 100 });
  assert.deepEqual([ts!.rounds, ts!.okRounds, ts!.counted], [[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
  assert.deepEqual(ts!.errors, []);

  // GoBGP: round 2 failed; its figures (even its RSS) are left out, its error is kept.
  assert.deepEqual([go!.okRounds, go!.counted], [[1, 3], [1, 3]]);
  assert.deepEqual(go!.rib?.ms, { values: [17_600, 12_000], median: 14_800, min: 12_000, max: 17_600 });
  assert.equal(go!.peakRss?.median, 150e6);
  assert.equal(go!.fib, false);
  assert.equal(go!.fibInstall, null);
  assert.equal(go!.fibRatio, null);
  assert.equal(go!.lagMaxMs, null, 'not scraped');
  assert.deepEqual(go!.errors, ['round 2: RIB: timed out']);

  // FRR completed no round: all three count; the FIB reached the target in one.
  assert.deepEqual([frr!.okRounds, frr!.counted], [[], [1, 2, 3]]);
  assert.equal(frr!.rib?.ms?.median, 600);
  assert.deepEqual(frr!.fibInstall, { ms: { values: [3000], median: 3000, min: 3000, max: 3000 }, missed: 2, bestCount: 990, target: 1000, settled: false });
  assert.deepEqual(frr!.errors, ['round 1: FIB: timed out', 'round 2: FIB: timed out', 'round 3: session closed']);
  assert.deepEqual(frr!.notes, ['round 1: RIB settled at 999 of 1,000']);

  // Without `round`, a run's round is its place among its kind's runs; without a floor, no ratio.
  const untagged = summarize(ROUNDS.map(({ round: _r, ...x }) => x));
  assert.deepEqual(untagged[1]!.okRounds, [1, 3]);
  assert.equal(untagged[0]!.fibRatio, null);
  // A lag scraped but never read is 'unread', shown as '?'.
  assert.equal(summarize([{ ...ROUNDS[0]!, lagMaxMs: { ingest: null, withdraw: null } }])[0]!.lagMaxMs, 'unread');
});

const MULTI: BenchResult = {
  ...SAMPLE,
  settings: { ...SAMPLE.settings, receivers: ['tsbgpd', 'gobgp', 'frr'], rounds: 3 },
  receivers: ROUNDS,
};

test('the markdown of several rounds: medians with ranges, the rounds named, every failure listed', () => {
  const md = markdown(MULTI);
  const rows = md.split('\n').filter((l) => l.startsWith('| '));
  assert.equal(rows.length, 5, 'header, three receivers, floor');
  assert.equal(rows[1], '| tsbgpd 0.1.0 | 1.71 s (1.49–2.54) | 4.00 s (3.60–5.20) | 8.0× | 155 MB | 1.5 s | 0.31 s (0.30–0.35) | 0.90 s (0.80–1.00) | 3.0 s | 60 ms |');
  assert.equal(rows[2], '| GoBGP 3.10.0 ⚠ | 14.8 s (12.0–17.6) | — | — | 150 MB | 1.3 s | 0.30 s (0.30–0.30) | — | 3.1 s | — |');
  assert.equal(rows[3], '| FRR 8.4.4 ⚠ | 0.60 s (0.50–0.70) | 3.00 s, not reached in 2 | 6.0× | 150 MB | 1.3 s | 0.30 s (0.30–0.30) | 0.90 s (0.90–0.90) | 3.1 s | — |');
  assert.equal(rows[4], '| kernel floor (rtnetlink, pipelined, no ACK per route) | — | 0.50 s | 1.0× | — | — | — | 0.25 s | — | — |');
  assert.match(md, /^Medians of 3 rounds; times with their range \(fastest–slowest round\) in brackets\.$/m);
  assert.match(md, /3 rounds: every receiver in turn, in the order listed, then all of them again/);
  assert.ok(md.includes('- GoBGP 3.10.0: 2 of 3 rounds complete (1, 3), figures from those; **round 2: RIB: timed out**\n'));
  assert.ok(
    md.includes('- FRR 8.4.4: no round of 3 complete, figures from all of them; **round 1: FIB: timed out**; **round 2: FIB: timed out**; **round 3: session closed**; round 1: RIB settled at 999 of 1,000\n'),
  );
  assert.match(md, /- \\\* settled: /);
  assert.doesNotMatch(md, /- tsbgpd/, 'no notes for a receiver without any');
  // A receiver that never reached a phase shows its best count, like one round does.
  const never = markdown({ ...MULTI, receivers: ROUNDS.filter((x) => x.kind === 'frr').map((x) => ({ ...x, fibInstall: ph(null, 900 + 30 * x.round!) })) });
  assert.match(never, /^\| FRR 8\.4\.4 ⚠ \| 0\.60 s \(0\.50–0\.70\) \| not reached \(990 of 1,000\) \| — \|/m);
  // One round is the report as before: no medians, no ranges, whatever `rounds` says.
  for (const one of [SAMPLE, { ...SAMPLE, settings: { ...SAMPLE.settings, rounds: 1 } }]) {
    assert.equal(markdown(one), markdown(SAMPLE));
    assert.doesNotMatch(markdown(one), /Medians|\brounds?\b/);
  }
});

test('the SVG chart of several rounds: bars at the medians, the range across them', () => {
  const svg = svgChart(MULTI);
  assert.match(svg, /medians of 3 rounds, line: fastest–slowest/);
  assert.equal((svg.match(/<rect [^>]*fill="#3b6fb6"><title>/g) ?? []).length, 3, 'three RIB bars');
  assert.equal((svg.match(/<rect [^>]*fill="#e08a1e"><title>/g) ?? []).length, 2, 'two FIB bars (tsbgpd, FRR round 3)');
  assert.equal((svg.match(/<path d="M/g) ?? []).length, 4, 'ranges: tsbgpd RIB and FIB, GoBGP RIB, FRR RIB');
  assert.match(svg, /<title>tsbgpd 0\.1\.0 RIB: 1\.71 s \(1\.49–2\.54\)<\/title>/);
  // Log scale over 0.1–100 s (three decades on 380 px), the bar ends at the median.
  const w = Number(/width="([0-9.]+)" height="13" fill="[^"]+"><title>tsbgpd 0\.1\.0 RIB/.exec(svg)![1]);
  assert.ok(Math.abs(w - ((Math.log10(1.71) + 1) / 3) * 380) < 0.1, `${w}`);
  assert.equal((svgChart(SAMPLE).match(/<path /g) ?? []).length, 0, 'one round: no ranges');
});

// ---------------------------------------------------------------------------
// The CI-sized run.

const CI_COUNT = Number(process.env.BENCH_CI_COUNT ?? 20_000);
const TOOLS = ['bird', 'birdc', 'vtysh', 'gobgpd', 'gobgp'];

function options(count: number, afi: 4 | 6, receivers: ReceiverKind[]): BenchOptions {
  return {
    count,
    afi,
    sets: undefined,
    seed: 11,
    mrt: undefined,
    receivers,
    holdTime: 9,
    keepalive: 3,
    timeoutSec: 60,
    rounds: 1,
    floorRounds: 1,
    withdraw: true,
    outDir: undefined,
  };
}

/** Every receiver got exactly `n` prefixes into its RIB (and FIB) and none after withdraw-all. */
function checkCounts(result: BenchResult, n: number): void {
  assert.equal(result.feed.prefixes, n);
  assert.equal(result.feed.target, n, 'synthetic prefixes are unique');
  assert.ok(result.floor !== null && !('error' in result.floor), `floor: ${JSON.stringify(result.floor)}`);
  assert.equal(result.floor.routes4 + result.floor.routes6, n);
  assert.equal(result.floor.all[0]!.errors, 0);
  for (const r of result.receivers) {
    const who = `${r.label}: ${r.errors.join('; ')}`;
    assert.equal(r.errors.length, 0, who);
    assert.deepEqual(r.notes, [], who);
    assert.equal(r.holdTime, 9, who);
    assert.equal(r.rib?.count, n, `${who} RIB`);
    assert.ok(r.rib.ms !== null && r.rib.ms >= r.rib.lowMs, who);
    assert.equal(r.fib, r.kind !== 'bird' && r.kind !== 'gobgp', `${who} installs into the kernel`);
    if (r.fib) {
      assert.equal(r.fibInstall?.count, n, `${who} FIB`);
      assert.equal(r.fibListed, n, `${who} ip route show proto`);
      assert.equal(r.withdraw?.fib?.count, 0, `${who} FIB empty`);
    } else {
      assert.equal(r.fibInstall, null);
    }
    assert.equal(r.withdraw?.rib?.count, 0, `${who} RIB empty`);
    // CPU is counted in 10 ms ticks: BIRD can take in 20k prefixes in less than one.
    assert.ok((r.peakRss ?? 0) > 1e6 && (r.cpuTotalSec ?? -1) >= 0, `${who} memory and CPU sampled`);
    assert.equal(r.procs.length, r.kind === 'frr' ? 2 : 1, `${who} processes`);
    assert.equal(r.gaps.withdraw?.closed, null, `${who} session up until the end`);
    if (r.kind === 'tsbgpd') assert.ok(r.lagMaxMs !== null && r.lagMaxMs.ingest !== null, 'tsbgpd metrics scraped');
    else assert.equal(r.lagMaxMs, null);
  }
}

test(`bench harness: ${CI_COUNT} IPv4 prefixes reach every receiver's RIB and FIB and leave again`, { skip: needsRoot(...TOOLS), timeout: 240_000 }, async (t) => {
  const { runBench } = await import('../../bench/harness/bench.js');
  const all: ReceiverKind[] = ['tsbgpd', 'bird', 'bird-kernel', 'frr', 'gobgp'];
  const { result } = await runBench(options(CI_COUNT, 4, all), (line) => t.diagnostic(line));
  t.diagnostic(`\n${markdown(result)}`);
  assert.deepEqual(result.receivers.map((r) => r.kind), all);
  checkCounts(result, CI_COUNT);
});

test('bench harness: IPv6 prefixes reach the kernel-installing receivers', { skip: needsRoot(...TOOLS), timeout: 120_000 }, async (t) => {
  const { runBench } = await import('../../bench/harness/bench.js');
  const { result } = await runBench(options(5000, 6, ['tsbgpd', 'bird-kernel', 'frr']), (line) => t.diagnostic(line));
  t.diagnostic(`\n${markdown(result)}`);
  assert.equal(result.feed.expected6, 5000);
  assert.equal(result.feed.expected4, 0);
  checkCounts(result, 5000);
});
