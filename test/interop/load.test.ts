// Sessions stay up under load. A BIRD feeder holds 500,000 IPv4 /24s, each static route
// with its own attribute block (every 5 consecutive prefixes share a MED); BIRD then
// sends one UPDATE per prefix (measured: 500,000 UPDATEs), the worst case per prefix,
// over a session with a 9 s hold time; tsbgp counts the
// NLRI in a counting sink. Then the other way: tsbgp originates 500,000 /24s to a BIRD.
// Both sides must stay Established throughout (no NOTIFICATION, no flap) and every
// prefix must arrive. Reported: time to receive everything and the receiving child's
// event-loop delay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsRoot } from '../lib/root.js';
import { createLab } from '../lib/netns.js';
import { waitFor } from '../lib/proc.js';
import { parseBirdProtocols } from '../lib/peers/bird.js';
import { since, SpeakerChild, startRawBird, TIMERS, TSBGP_AS, PEER_AS, type RawBird } from './speaker-lab.js';

const COUNT = 500_000;
const PER_SET = 5;

/** 11.0.0.0/24, 11.0.1.0/24, … (COUNT of them). */
function nthPrefix(i: number): string {
  const a = 11 + Math.floor(i / 65536);
  return `${a}.${(i >> 8) & 255}.${i & 255}.0/24`;
}

function feederConf(neighbor: string): string {
  const L: string[] = ['log stderr all;', 'router id 2.2.2.2;', 'protocol device { scan time 10; }', 'protocol static feed4 {', '  ipv4;'];
  for (let i = 0; i < COUNT; i++) L.push(`  route ${nthPrefix(i)} blackhole { bgp_med = ${Math.floor(i / PER_SET)}; };`);
  L.push('}');
  L.push(
    'protocol bgp feed {',
    `  local as ${PEER_AS};`,
    `  neighbor ${neighbor} as ${TSBGP_AS};`,
    // Wait for tsbgp to connect: the session starts only once the table is loaded.
    '  passive on;',
    '  hold time 9; keepalive time 3; connect retry time 1; connect delay time 1; error wait time 1, 4;',
    '  ipv4 { import none; export all; };',
    '}',
  );
  return `${L.join('\n')}\n`;
}

function sinkConf(neighbor: string): string {
  return [
    'log stderr all;',
    'router id 2.2.2.2;',
    'protocol device { scan time 10; }',
    'protocol bgp sink {',
    `  local as ${PEER_AS};`,
    `  neighbor ${neighbor} as ${TSBGP_AS};`,
    '  passive on;',
    '  hold time 9; keepalive time 3; connect retry time 1; connect delay time 1; error wait time 1, 4;',
    '  ipv4 { import all; export none; };',
    '}',
    '',
  ].join('\n');
}

interface BirdBgp {
  state: string;
  /** The protocol's state column (up once the session is Established) and when it last changed. */
  proto: string;
  since: string;
  lastError: string | undefined;
  imported: number;
  exported: number;
}

/** BGP state, the protocol's Since column, its last error and route counts. */
async function birdBgp(bird: RawBird, proto: string): Promise<BirdBgp> {
  const text = await bird.birdc('show', 'protocols', 'all', proto);
  const p = parseBirdProtocols(text)[0];
  const head = new RegExp(`^${proto}\\s+BGP\\s+\\S+\\s+(\\S+)\\s+(\\S+)`, 'm').exec(text);
  const routes = /Routes:\s+(\d+) imported, (?:\d+ filtered, )?(\d+) exported/.exec(text);
  return {
    state: p?.state ?? '',
    proto: head?.[1] ?? '',
    since: head?.[2] ?? '',
    lastError: /Last error:\s+(.*)/.exec(text)?.[1],
    imported: Number(routes?.[1] ?? 0),
    exported: Number(routes?.[2] ?? 0),
  };
}

/** hh:mm:ss.mmm → ms of the day. */
function clockMs(t: string): number {
  const m = /^(\d+):(\d+):(\d+)(?:\.(\d+))?$/.exec(t);
  if (!m) return NaN;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number((m[4] ?? '0').padEnd(3, '0').slice(0, 3));
}

/**
 * The session left Established or restarted since `up`. BIRD prints Since from its
 * monotonic clock converted to wall time, which wobbles by a millisecond between calls;
 * a restart moves it by at least the error wait time (1 s).
 */
function flapped(now: BirdBgp, up: BirdBgp): boolean {
  return now.state !== 'Established' || now.proto !== 'up' || !(Math.abs(clockMs(now.since) - clockMs(up.since)) < 100);
}

test(`load: ${COUNT} IPv4 prefixes from BIRD into tsbgp with hold time 9 s`, { skip: needsRoot('bird', 'birdc') }, async (t) => {
  const t0 = performance.now();
  const lab = createLab('load-rx');
  let child: SpeakerChild | undefined;
  try {
    const node = await lab.addNamespace('node');
    const feed = await lab.addNamespace('feed');
    const l = await lab.link(node, feed, { a: '192.0.2.1/30', b: '192.0.2.2/30' });
    const gen0 = performance.now();
    const conf = feederConf(l.ipA!);
    const genMs = since(gen0);
    const [bird, c] = await Promise.all([
      startRawBird(lab, feed, 'feeder', conf),
      SpeakerChild.start(lab, node, { localAs: TSBGP_AS, routerId: '1.1.1.1' }, 'counter'),
    ]);
    child = c;
    await waitFor(() => bird.birdc('show', 'route', 'count'), {
      timeoutMs: 30_000,
      label: 'BIRD loaded the table',
      until: (s) => new RegExp(`${COUNT} of ${COUNT} routes`).test(s),
    });
    t.diagnostic(`setup ${since(t0)} ms (config generated in ${genMs} ms)`);

    await child.lag(true);
    const a0 = performance.now();
    await child.addNeighbor({ address: l.ipB!, peerAs: PEER_AS, ...TIMERS });
    const up = await child.waitState(l.ipB!, 'Established', 20_000);
    assert.equal(up.negotiated?.holdTime, 9);
    const upAt = child.events.find((e) => e.type === 'established')!.at;
    const startAt = child.events.find((e) => e.type === 'state')!.at;
    t.diagnostic(`Established ${Math.round(upAt - startAt)} ms after the neighbor started: ${child.events.map((e) => (e.type === 'state' ? e.state : e.type)).join(' → ')}`);
    const birdUp = await waitFor(() => birdBgp(bird, 'feed'), {
      label: 'BIRD protocol up',
      until: (b) => b.state === 'Established' && b.proto === 'up',
    });

    // While the table flows, watch both sides every 250 ms.
    let birdSamples = 0;
    const counts = await waitFor(
      async () => {
        const [cnt, b] = await Promise.all([child!.counts(l.ipB!), birdBgp(bird, 'feed')]);
        birdSamples++;
        if (flapped(b, birdUp)) {
          throw new Error(`BIRD session flapped: ${JSON.stringify(b)}, before ${JSON.stringify(birdUp)}; tsbgp ${JSON.stringify(cnt)}`);
        }
        return cnt;
      },
      { timeoutMs: 60_000, intervalMs: 250, label: `all ${COUNT} prefixes counted`, until: (x) => x.unique24 >= COUNT },
    );
    const recvMs = Math.round(counts.lastAt - upAt);
    // One more keepalive round on a quiet session: both still up.
    await new Promise((r) => setTimeout(r, 3500));
    const lag = await child.lag();
    const n = await child.neighbor(l.ipB!);
    const b = await birdBgp(bird, 'feed');
    const final = await child.counts(l.ipB!);

    t.diagnostic(
      `received ${final.announced} prefixes in ${final.updates} UPDATEs, ` +
        `${recvMs} ms from Established to the last UPDATE (${Math.round(COUNT / (recvMs / 1000))} prefixes/s), ` +
        `${since(a0)} ms from addNeighbor until the test saw them all (polling tsbgp and a busy BIRD)`,
    );
    t.diagnostic(
      `tsbgp event loop delay max ${lag.max.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms, mean ${lag.mean.toFixed(1)} ms; rss ${Math.round(lag.rssMb)} MB`,
    );
    t.diagnostic(`BIRD exported ${b.exported}; ${birdSamples} samples of BIRD's state during the load`);

    assert.equal(final.unique24, COUNT);
    assert.equal(final.announced, COUNT, 'each prefix announced once');
    assert.equal(final.withdrawn, 0);
    assert.ok(final.updates >= COUNT / PER_SET / 2, `${final.updates} UPDATEs: the attribute sets were not packed away`);
    assert.equal(n.state, 'Established');
    assert.equal(n.counters['established'], 1);
    assert.equal(n.counters['flaps'], 0);
    assert.equal(n.counters['updatesIn'], final.updates + 1, 'the UPDATEs counted plus End-of-RIB');
    const bad = child.events.filter((e) => e.type === 'notificationSent' || e.type === 'notificationReceived' || e.type === 'down' || e.type === 'updateError');
    assert.deepEqual(bad, []);
    assert.equal(b.state, 'Established');
    assert.ok(!flapped(b, birdUp), `BIRD kept the same session: ${JSON.stringify(b)}`);
    assert.equal(b.lastError, undefined);
    assert.equal(b.exported, COUNT);
    // A peer with a 9 s hold time and our keepalive every 3 s tolerates a block of up to
    // ~6 s; the session surviving is asserted above, this guards the margin.
    assert.ok(lag.max < 6000, `event loop blocked for ${lag.max} ms`);
  } finally {
    await child?.stop().catch(() => undefined);
    await lab.cleanup();
    t.diagnostic(`total ${since(t0)} ms`);
  }
});

test(`load: tsbgp originates ${COUNT} IPv4 prefixes to BIRD with hold time 9 s`, { skip: needsRoot('bird', 'birdc') }, async (t) => {
  const t0 = performance.now();
  const lab = createLab('load-tx');
  let child: SpeakerChild | undefined;
  try {
    const node = await lab.addNamespace('node');
    const sink = await lab.addNamespace('sink');
    const l = await lab.link(node, sink, { a: '192.0.2.1/30', b: '192.0.2.2/30' });
    const [bird, c] = await Promise.all([
      startRawBird(lab, sink, 'sink', sinkConf(l.ipA!)),
      SpeakerChild.start(lab, node, { localAs: TSBGP_AS, routerId: '1.1.1.1' }, 'counter'),
    ]);
    child = c;
    const built = await child.announceRange({ base: '11.0.0.0', len: 24, count: COUNT, med: 7 });
    t.diagnostic(`setup ${since(t0)} ms; announce(${COUNT} specs) took ${Math.round(built.ms)} ms in the child`);
    await child.lag(true);
    const a0 = performance.now();
    await child.addNeighbor({ address: l.ipB!, peerAs: PEER_AS, ...TIMERS });
    await child.waitState(l.ipB!, 'Established', 20_000);
    const birdUp = await waitFor(() => birdBgp(bird, 'sink'), {
      label: 'BIRD protocol up',
      until: (b) => b.state === 'Established' && b.proto === 'up',
    });
    const done = await waitFor(
      async () => {
        const b = await birdBgp(bird, 'sink');
        if (flapped(b, birdUp)) throw new Error(`BIRD session flapped: ${JSON.stringify(b)}, before ${JSON.stringify(birdUp)}`);
        return b;
      },
      { timeoutMs: 60_000, intervalMs: 250, label: `BIRD imported ${COUNT}`, until: (b) => b.imported >= COUNT },
    );
    const sendMs = since(a0);
    await new Promise((r) => setTimeout(r, 3500));
    const lag = await child.lag();
    const n = await child.neighbor(l.ipB!);
    const b = await birdBgp(bird, 'sink');
    t.diagnostic(`BIRD imported ${done.imported} prefixes ${sendMs} ms after addNeighbor; tsbgp sent ${n.counters['updatesOut']} UPDATEs`);
    t.diagnostic(
      `tsbgp event loop delay max ${lag.max.toFixed(1)} ms, p99 ${lag.p99.toFixed(1)} ms; rss ${Math.round(lag.rssMb)} MB`,
    );
    assert.equal(b.imported, COUNT);
    assert.equal(b.state, 'Established');
    assert.ok(!flapped(b, birdUp), `BIRD kept the same session: ${JSON.stringify(b)}`);
    assert.equal(b.lastError, undefined);
    assert.equal(n.state, 'Established');
    assert.equal(n.counters['flaps'], 0);
    const bad = child.events.filter((e) => e.type === 'notificationSent' || e.type === 'notificationReceived' || e.type === 'down');
    assert.deepEqual(bad, []);
    // A spot check of what BIRD holds: the last prefix, with our MED and AS path.
    const last = await bird.birdc('show', 'route', 'all', nthPrefix(COUNT - 1));
    assert.match(last, /BGP\.as_path:\s+4200000001\b/, last);
    assert.match(last, /BGP\.med:\s+7\b/, last);
    assert.ok(lag.max < 6000, `event loop blocked for ${lag.max} ms`);
  } finally {
    await child?.stop().catch(() => undefined);
    await lab.cleanup();
    t.diagnostic(`total ${since(t0)} ms`);
  }
});
