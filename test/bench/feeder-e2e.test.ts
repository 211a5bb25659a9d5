// End to end over loopback TCP: the feeder (127.0.0.2) feeds the project's Speaker
// (127.0.0.1) with a synthetic table; a counting RouteSink checks that every prefix
// arrived with the feeder's AS first and its address as next hop, that End-of-RIB came,
// that withdraw-all empties the table and that a flap cycle puts back what it took.
//   FEEDER_E2E_COUNT=500000 to measure a bigger feed (default 100k).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker, type Neighbor, type RouteSink } from '../../src/daemon/speaker.js';
import { decodeAttributes, type ParsedUpdate, type UpdateContext } from '../../src/wire/update.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { UpdateAction } from '../../src/wire/errors.js';
import { Afi } from '../../src/wire/iana.js';
import { buildTables, epochNow, runFeeder } from '../../bench/feeder/feeder.js';
import { SyntheticTable } from '../../bench/feeder/synthetic.js';
import { waitFor } from '../lib/proc.js';

const COUNT = Number(process.env.FEEDER_E2E_COUNT ?? 100_000);
const FEEDER_AS = 65010;
const RECEIVER_AS = 65001;

/** Keeps the set of present prefixes (test only: numbers for IPv4, strings for IPv6). */
class CountingSink implements RouteSink {
  readonly v4 = new Set<number>();
  readonly v6 = new Set<string>();
  announcements = 0;
  withdrawals = 0;
  /** Distinct attribute keys seen, and a few decoded samples. */
  readonly attrKeys = new Set<string>();
  readonly samples: { firstAs: number | undefined; nextHop: string }[] = [];
  readonly endOfRibs: string[] = [];
  treatAsWithdraw = 0;
  lastUpdateAt = 0;
  private readonly c = new NlriCursor();

  update(_n: Neighbor, p: ParsedUpdate, ctx: UpdateContext): void {
    this.lastUpdateAt = epochNow();
    let announce = p.announcedCount > 0 && p.action < UpdateAction.TREAT_AS_WITHDRAW;
    if (announce) {
      const key = p.attrKey.toString('hex');
      if (!this.attrKeys.has(key)) {
        this.attrKeys.add(key);
        if (this.samples.length < 2000) {
          const a = decodeAttributes(p, ctx);
          if (a !== null) {
            const nh = a.nextHop ?? a.mpNextHop?.global;
            this.samples.push({ firstAs: a.asPath[0]?.asns[0], nextHop: nh ? [...nh].join('.') : '' });
          }
        }
      }
    }
    if (p.action >= UpdateAction.TREAT_AS_WITHDRAW) {
      this.treatAsWithdraw++;
      announce = false;
    }
    this.walk(p.buf, p.withdrawnStart, p.withdrawnEnd, Afi.IPV4, false);
    if (p.mpUnreach?.supported) this.walk(p.buf, p.mpUnreach.nlriStart, p.mpUnreach.nlriEnd, p.mpUnreach.afi, false);
    this.walk(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, announce);
    if (p.mpReach?.supported) this.walk(p.buf, p.mpReach.nlriStart, p.mpReach.nlriEnd, p.mpReach.afi, announce);
  }

  private walk(buf: Buffer, start: number, end: number, afi: number, announce: boolean): void {
    const c = this.c.reset(buf, start, end, afi, false);
    while (c.next()) {
      if (announce) this.announcements++;
      else this.withdrawals++;
      if (afi === Afi.IPV4) {
        const k = c.addr * 64 + c.length;
        if (announce) this.v4.add(k);
        else this.v4.delete(k);
      } else {
        const k = `${c.w0}:${c.w1}:${c.w2}:${c.w3}/${c.length}`;
        if (announce) this.v6.add(k);
        else this.v6.delete(k);
      }
    }
  }

  peerDown(): void {
    this.v4.clear();
    this.v6.clear();
  }

  endOfRib(_n: Neighbor, afi: number, safi: number): void {
    this.endOfRibs.push(`${afi}/${safi}`);
  }
}

async function receiver(sink: CountingSink): Promise<Speaker> {
  const sp = new Speaker({ localAs: RECEIVER_AS, routerId: '10.0.0.1', listen: { address: '127.0.0.1', port: 0 } }, sink);
  await sp.start();
  sp.addNeighbor({ address: '127.0.0.2', peerAs: FEEDER_AS, passive: true, holdTime: 30, ebgpMultihopTtl: 2 });
  return sp;
}

test(`feeds ${COUNT.toLocaleString('en')} IPv4 + ${(COUNT / 5).toLocaleString('en')} IPv6 prefixes into the Speaker over loopback`, async () => {
  const sink = new CountingSink();
  const sp = await receiver(sink);
  const count6 = Math.round(COUNT / 5);
  const t0 = epochNow();
  const tables = await buildTables(
    [
      { type: 'synthetic', count: COUNT, afi: Afi.IPV4, seed: 7 },
      { type: 'synthetic', count: count6, afi: Afi.IPV6, seed: 7 },
    ],
    { localAs: FEEDER_AS, nextHop4: '127.0.0.2', nextHop6: '2001:db8::2', avoidAs: [RECEIVER_AS] },
  );
  const buildMs = epochNow() - t0;
  const r = await runFeeder({
    peer: '127.0.0.1',
    port: sp.listenPort!,
    localAddress: '127.0.0.2',
    localAs: FEEDER_AS,
    peerAs: RECEIVER_AS,
    holdTime: 30,
    tables,
  });
  const f = r.feeder;
  try {
    assert.equal(r.peer.asn, RECEIVER_AS);
    assert.deepEqual([...r.peer.families].sort(), ['ipv4/unicast', 'ipv6/unicast']);
    assert.equal(r.announce.prefixes, COUNT + count6);
    await waitFor(() => sink.endOfRibs.length === 2, { timeoutMs: 120_000 });
    const doneAt = sink.lastUpdateAt;
    assert.deepEqual(sink.endOfRibs.sort(), ['1/1', '2/1']);
    assert.equal(sink.v4.size, COUNT, 'every IPv4 prefix present');
    assert.equal(sink.v6.size, count6, 'every IPv6 prefix present');
    assert.equal(sink.announcements, COUNT + count6, 'no prefix sent twice');
    assert.equal(sink.treatAsWithdraw, 0);
    const t4 = tables[0] as SyntheticTable;
    const t6 = tables[1] as SyntheticTable;
    assert.equal(sink.attrKeys.size, t4.sets + t6.sets, 'one attribute key per synthetic set');
    for (const s of sink.samples) {
      assert.equal(s.firstAs, FEEDER_AS);
      assert.ok(s.nextHop === '127.0.0.2' || s.nextHop === [0x20, 1, 0x0d, 0xb8, ...Array(11).fill(0), 2].join('.'), s.nextHop);
    }
    const gaps = f.rxGaps();
    console.log(
      `# build ${buildMs.toFixed(0)} ms; wrote ${r.announce.prefixes} prefixes (${(r.announce.bytes / 1e6).toFixed(1)} MB) ` +
        `in ${r.announce.ms.toFixed(0)} ms; receiver had them ${(doneAt - r.established).toFixed(0)} ms after Established ` +
        `(${Math.round((r.announce.prefixes / (doneAt - r.established)) * 1000).toLocaleString('en')} prefixes/s); ` +
        `longest receiver silence ${gaps.maxRxGapMs.toFixed(0)} ms`,
    );

    // One flap cycle: a tenth of the sets go and come back.
    const [wd, an] = await f.flap(1, 0.1);
    assert.ok(wd!.prefixes > COUNT / 50 && wd!.prefixes < COUNT / 4, `flap moved ${wd!.prefixes}`);
    assert.equal(an!.prefixes, wd!.prefixes);
    const before = sink.announcements;
    await waitFor(() => sink.announcements === before + an!.prefixes, { timeoutMs: 60_000 });
    assert.equal(sink.v4.size + sink.v6.size, COUNT + count6, 'the flap put everything back');

    const w = await f.withdrawAll();
    assert.equal(w.prefixes, COUNT + count6);
    await waitFor(() => sink.v4.size === 0 && sink.v6.size === 0, { timeoutMs: 60_000 });
    assert.equal(f.closedReason, undefined, 'session stayed up');
  } finally {
    await f.close();
    await sp.stop();
  }
});

test('the feeder refuses a receiver of another AS than expected', async () => {
  const sink = new CountingSink();
  const sp = await receiver(sink);
  try {
    await assert.rejects(
      runFeeder({
        peer: '127.0.0.1',
        port: sp.listenPort!,
        localAddress: '127.0.0.2',
        localAs: FEEDER_AS,
        peerAs: 64999,
        source: { type: 'synthetic', count: 10 },
        timeoutMs: 5000,
      }),
      /expected AS64999/,
    );
  } finally {
    await sp.stop();
  }
});

test('listen mode: the receiver connects to the feeder', async () => {
  const sink = new CountingSink();
  const sp = new Speaker({ localAs: RECEIVER_AS, routerId: '10.0.0.1' }, sink);
  let port = 0;
  const feeding = runFeeder({
    peer: '127.0.0.1',
    listen: true,
    port: 0,
    localAddress: '127.0.0.2',
    localAs: FEEDER_AS,
    source: { type: 'synthetic', count: 5000, seed: 3 },
    onListening: (p) => {
      port = p;
      sp.addNeighbor({ address: '127.0.0.2', port, localAddress: '127.0.0.1', peerAs: FEEDER_AS, holdTime: 30, ebgpMultihopTtl: 2, connectRetryTime: 1 });
    },
  });
  const r = await feeding;
  try {
    assert.ok(port > 0);
    await waitFor(() => sink.v4.size === 5000, { timeoutMs: 10_000 });
    const s = sink.samples[0]!;
    assert.equal(s.nextHop, '127.0.0.2', 'default next hop = our session address');
  } finally {
    await r.feeder.close();
    await sp.stop();
  }
});
