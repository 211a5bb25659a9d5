import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Afi, AttrType, HEADER_LEN, MAX_MESSAGE_LEN } from '../../src/wire/iana.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { decodeAttributes, locateUpdate, ParsedUpdate, updateContext } from '../../src/wire/update.js';
import { forEachMessage } from '../../bench/feeder/chunks.js';
import { PrefixSet } from '../../bench/feeder/prefix-set.js';
import { isReservedV4, SyntheticTable, tailIndex, V4_LENGTH_MIX, V6_LENGTH_MIX } from '../../bench/feeder/synthetic.js';
import type { Feed } from '../../bench/feeder/table.js';

const LOCAL_AS = 65010;
const RECEIVER_AS = 3356; // a transit AS the generator would otherwise use

interface Decoded {
  messages: number;
  announced: PrefixSet;
  withdrawn: PrefixSet;
  nlri: number;
  withdrawals: number;
  attrKeys: Set<string>;
  pathLengths: number[];
  firstAs: Set<number>;
  allAsns: Set<number>;
  withMed: number;
  communityCounts: number[];
  nextHops: Set<string>;
  maxLength: number;
}

/** Decodes every message of a feed with the project's UPDATE decoder. */
function decode(feed: Feed, afi: number): Decoded {
  const ctx = updateContext({ fourOctetAs: true });
  const p = new ParsedUpdate();
  const c = new NlriCursor();
  const d: Decoded = {
    messages: 0,
    announced: new PrefixSet(afi),
    withdrawn: new PrefixSet(afi),
    nlri: 0,
    withdrawals: 0,
    attrKeys: new Set(),
    pathLengths: new Array<number>(12).fill(0),
    firstAs: new Set(),
    allAsns: new Set(),
    withMed: 0,
    communityCounts: new Array<number>(6).fill(0),
    nextHops: new Set(),
    maxLength: 0,
  };
  const add = (set: PrefixSet): void => {
    if (afi === Afi.IPV4) set.addV4(c.addr, c.length);
    else set.addV6(c.w0, c.w1, c.w2, c.w3, c.length);
  };
  forEachMessage(feed.chunks, (chunk, s, l) => {
    d.messages++;
    d.maxLength = Math.max(d.maxLength, l);
    assert.equal(chunk[s + 18], 2, 'every message is an UPDATE');
    locateUpdate(chunk.subarray(s + HEADER_LEN, s + l), ctx, p);
    assert.equal(p.error, null, p.reason);
    assert.equal(p.action, 0, p.reason);
    // Withdrawals
    c.reset(p.buf, p.withdrawnStart, p.withdrawnEnd, Afi.IPV4, false);
    while (c.next()) {
      d.withdrawals++;
      add(d.withdrawn);
    }
    if (p.mpUnreach) {
      c.reset(p.buf, p.mpUnreach.nlriStart, p.mpUnreach.nlriEnd, p.mpUnreach.afi, false);
      while (c.next()) {
        d.withdrawals++;
        add(d.withdrawn);
      }
    }
    if (p.announcedCount === 0) return;
    const key = p.attrKey.toString('hex');
    const fresh = !d.attrKeys.has(key);
    d.attrKeys.add(key);
    if (afi === Afi.IPV4) c.reset(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, false);
    else {
      assert.ok(p.mpReach && p.mpReach.afi === Afi.IPV6 && p.nlriCount === 0, 'IPv6 routes travel in MP_REACH_NLRI');
      assert.equal(p.has(AttrType.NEXT_HOP), false, 'no NEXT_HOP in an MP-only UPDATE');
      c.reset(p.buf, p.mpReach.nlriStart, p.mpReach.nlriEnd, Afi.IPV6, false);
    }
    while (c.next()) {
      d.nlri++;
      add(d.announced);
    }
    if (!fresh) return;
    const a = decodeAttributes(p, ctx)!;
    const asns = a.asPath.flatMap((seg) => seg.asns);
    d.pathLengths[asns.length] = (d.pathLengths[asns.length] ?? 0) + 1;
    d.firstAs.add(asns[0]!);
    for (const x of asns.slice(1)) d.allAsns.add(x);
    if (a.med !== undefined) d.withMed++;
    const nc = a.communities?.length ?? 0;
    d.communityCounts[nc] = (d.communityCounts[nc] ?? 0) + 1;
    const nh = afi === Afi.IPV4 ? a.nextHop! : a.mpNextHop!.global;
    d.nextHops.add(nh.toString('hex'));
    assert.equal(a.origin !== undefined, true);
  });
  return d;
}

function share(hist: Uint32Array, len: number, total: number): number {
  return hist[len]! / total;
}

function expected(mix: readonly (readonly [number, number])[], len: number): number {
  const sum = mix.reduce((s, [, w]) => s + w, 0);
  return mix.find(([l]) => l === len)![1] / sum;
}

test('IPv4: 200k prefixes with the full-table length mix, all distinct and routable', () => {
  const n = 200_000;
  const t = new SyntheticTable({ count: n, localAs: LOCAL_AS, nextHop: '192.0.2.1', seed: 42, avoidAs: [RECEIVER_AS] });
  const h = t.lengthHistogram();
  assert.ok(share(h, 24, n) > 0.58 && share(h, 24, n) < 0.62, `/24 share ${share(h, 24, n)}`);
  for (const [len] of V4_LENGTH_MIX) {
    const want = expected(V4_LENGTH_MIX, len);
    // Binomial noise at n = 200k is below 0.3 points for every length.
    assert.ok(Math.abs(share(h, len, n) - want) < 0.004, `/${len}: ${share(h, len, n)} vs ${want}`);
  }
  // Ordered as in real tables: /24, then /22, /23, /21, /20, /19, /16.
  const order = [24, 22, 23, 21, 20, 19, 16];
  for (let i = 1; i < order.length; i++) assert.ok(h[order[i - 1]!]! > h[order[i]!]!, `/${order[i - 1]} > /${order[i]}`);
  let other = 0;
  for (let l = 0; l <= 32; l++) if (!V4_LENGTH_MIX.some(([x]) => x === l)) other += h[l]!;
  assert.equal(other, 0, 'no length outside the mix');

  const set = new PrefixSet(Afi.IPV4, n);
  for (let i = 0; i < n; i++) {
    const addr = t.words[i]!;
    const len = t.lens[i]!;
    assert.equal(isReservedV4(addr), false, `reserved ${addr.toString(16)}/${len}`);
    const host = len === 32 ? 0 : addr & ((1 << (32 - len)) - 1);
    assert.equal(host, 0, 'host bits clear');
    set.addV4(addr, len);
  }
  assert.equal(set.size, n, 'no duplicate prefix');
  // The reserved check itself (RFC 6890 blocks): 10/8, 127/8, 192.168/16, 224/4 are out; 8.8.8.0 is in.
  assert.equal(isReservedV4(0x0a010200), true);
  assert.equal(isReservedV4(0x7f000000), true);
  assert.equal(isReservedV4(0xc0a80100), true);
  assert.equal(isReservedV4(0xe0000000), true);
  assert.equal(isReservedV4(0x08080800), false);
});

test('IPv4: decoding every UPDATE gives back each prefix once and the requested number of attribute sets', () => {
  const n = 100_000;
  const sets = 20_000;
  const t = new SyntheticTable({ count: n, sets, localAs: LOCAL_AS, nextHop: '192.0.2.1', seed: 5, avoidAs: [RECEIVER_AS] });
  const feed = t.announce();
  assert.equal(feed.prefixes, n);
  const d = decode(feed, Afi.IPV4);
  assert.equal(d.messages, feed.messages);
  assert.equal(d.nlri, n, 'NLRI count');
  assert.equal(d.announced.size, n, 'distinct NLRI');
  for (let i = 0; i < n; i += 97) assert.ok(d.announced.hasV4(t.words[i]!, t.lens[i]!), 'the table prefixes are the ones sent');
  assert.equal(d.attrKeys.size, sets, 'distinct attribute sets');
  assert.ok(d.maxLength <= MAX_MESSAGE_LEN);
  // Each set's prefixes travel together: messages ≈ sets (plus the big sets' extra messages).
  assert.ok(d.messages >= sets && d.messages < sets * 1.2, `${d.messages} messages`);
  // Paths: 1..10 hops, the feeder's AS first, never the receiver's AS.
  assert.deepEqual([...d.firstAs], [LOCAL_AS]);
  assert.equal(d.pathLengths[0], 0);
  assert.equal(d.pathLengths[11], 0);
  for (let l = 1; l <= 10; l++) assert.ok(d.pathLengths[l]! > 0, `some paths of ${l} hops`);
  const mostCommon = d.pathLengths.indexOf(Math.max(...d.pathLengths));
  assert.ok(mostCommon === 3 || mostCommon === 4, `typical path length ${mostCommon}`);
  assert.equal(d.allAsns.has(RECEIVER_AS), false, 'receiver AS avoided');
  assert.equal(d.allAsns.has(23456), false, 'AS_TRANS never used');
  // MED on about 30% of sets; 0-4 communities, each count present.
  assert.ok(d.withMed / sets > 0.25 && d.withMed / sets < 0.35, `MED share ${d.withMed / sets}`);
  assert.equal(d.communityCounts[5], 0);
  for (let k = 0; k <= 4; k++) assert.ok(d.communityCounts[k]! > sets / 20, `${k} communities`);
  assert.deepEqual([...d.nextHops], ['c0000201']);
  // Set sizes shaped like the 2015 table (shared/data: half the sets carry one prefix,
  // median 2, 90th percentile 10, 99th 79, largest 1022).
  const sizes = Array.from({ length: sets }, (_, s) => t.setStart[s + 1]! - t.setStart[s]!).sort((x, y) => x - y);
  const ones = sizes.filter((x) => x === 1).length;
  assert.ok(ones > sets * 0.4 && ones < sets * 0.65, `${ones} single-prefix sets`);
  assert.ok(sizes[sets >> 1]! <= 2, `median ${sizes[sets >> 1]}`);
  const p90 = sizes[Math.floor(sets * 0.9)]!;
  assert.ok(p90 >= 4 && p90 <= 16, `90th percentile ${p90}`);
  assert.ok(sizes[sets - 1]! > 200, `largest set ${sizes[sets - 1]}`);
});

test('one set, checked by hand: its UPDATE carries exactly its attributes and its prefixes', () => {
  assert.ok(Math.abs(tailIndex(5, 1000) - 1.13) < 0.02, `a = ${tailIndex(5, 1000)}`);
  // With a = 1 the mean of min(cap, X) is the harmonic number H(cap): H(4) = 25/12.
  assert.ok(Math.abs(tailIndex(25 / 12, 4) - 1) < 1e-6);
  const t = new SyntheticTable({ count: 50, sets: 10, localAs: 4200000001, nextHop: '198.51.100.7', seed: 9 });
  const a = t.attributes(3);
  const ctx = updateContext();
  const p = new ParsedUpdate();
  const c = new NlriCursor();
  let found = 0;
  forEachMessage(t.announce().chunks, (chunk, s, l) => {
    locateUpdate(chunk.subarray(s + HEADER_LEN, s + l), ctx, p);
    const got = decodeAttributes(p, ctx)!;
    if (JSON.stringify(got.asPath) !== JSON.stringify(a.asPath) || got.med !== a.med) return;
    found++;
    assert.deepEqual([...got.nextHop!], [198, 51, 100, 7]);
    assert.equal(got.asPath[0]!.asns[0], 4200000001, '4-octet AS as first hop');
    assert.deepEqual([...(got.communities ?? [])], [...(a.communities ?? [])]);
    c.reset(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, false);
    const prefixes: string[] = [];
    while (c.next()) prefixes.push(`${c.addr}/${c.length}`);
    const want: string[] = [];
    for (let i = t.setStart[3]!; i < t.setStart[4]!; i++) want.push(`${t.words[i]}/${t.lens[i]}`);
    assert.deepEqual(prefixes, want);
  });
  assert.equal(found, 1);
});

test('deterministic for a seed, different for another seed', () => {
  const mk = (seed: number) => new SyntheticTable({ count: 20_000, localAs: LOCAL_AS, nextHop: '192.0.2.1', seed });
  const a = Buffer.concat(mk(1).announce().chunks);
  const b = Buffer.concat(mk(1).announce().chunks);
  const c = Buffer.concat(mk(2).announce().chunks);
  assert.equal(a.equals(b), true);
  assert.equal(a.equals(c), false);
});

test('IPv6: /48-led mix in 2000::/3, MP_REACH with the configured next hop', () => {
  const n = 60_000;
  const t = new SyntheticTable({ count: n, afi: Afi.IPV6, localAs: LOCAL_AS, nextHop: '2001:db8:ffff::1', seed: 11 });
  const h = t.lengthHistogram();
  for (const [len] of V6_LENGTH_MIX) {
    const want = expected(V6_LENGTH_MIX, len);
    assert.ok(Math.abs(share(h, len, n) - want) < 0.007, `/${len}: ${share(h, len, n)} vs ${want}`);
  }
  const order = [48, 32, 40, 44, 29];
  for (let i = 1; i < order.length; i++) assert.ok(h[order[i - 1]!]! > h[order[i]!]!, `/${order[i - 1]} > /${order[i]}`);
  for (let i = 0; i < n; i++) {
    const w0 = t.words[i * 4]!;
    assert.equal(w0 >>> 29, 1, 'inside 2000::/3');
    assert.notEqual(w0, 0x20010db8, 'not the documentation prefix');
  }
  const d = decode(t.announce(), Afi.IPV6);
  assert.equal(d.nlri, n);
  assert.equal(d.announced.size, n);
  assert.equal(d.attrKeys.size, t.sets);
  assert.deepEqual([...d.nextHops], ['20010db8ffff00000000000000000001']);
});

test('withdraw-all withdraws every prefix once; a flap cycle withdraws and re-announces the same sets', () => {
  for (const afi of [Afi.IPV4, Afi.IPV6]) {
    const n = 30_000;
    const t = new SyntheticTable({ count: n, afi, localAs: LOCAL_AS, nextHop: afi === 1 ? '192.0.2.1' : '2001:db8::1', seed: 3 });
    const w = decode(t.withdrawAll(), afi);
    assert.equal(w.withdrawals, n);
    assert.equal(w.withdrawn.size, n);
    assert.equal(w.nlri, 0);
    assert.ok(w.messages < n / 300, `withdrawals are packed densely: ${w.messages} messages`);

    const fw = t.flapWithdraw(0, 0.1);
    const fa = t.flapAnnounce(0, 0.1);
    const dw = decode(fw, afi);
    const da = decode(fa, afi);
    assert.equal(fw.prefixes, dw.withdrawals);
    assert.equal(fa.prefixes, da.nlri);
    assert.equal(dw.withdrawn.size, da.announced.size, 'the same prefixes come back');
    assert.ok(da.attrKeys.size > t.sets * 0.08 && da.attrKeys.size < t.sets * 0.12, `${da.attrKeys.size} sets flapped`);
    // Every withdrawn prefix is re-announced.
    const back = decode(fa, afi).announced;
    assert.equal(back.size, dw.withdrawn.size);
    // Another cycle picks other sets.
    const other = decode(t.flapAnnounce(1, 0.1), afi);
    assert.notEqual([...other.attrKeys].sort().join(), [...da.attrKeys].sort().join());
  }
});

test('1M IPv4 prefixes / 200k sets are generated in a few seconds', () => {
  const t0 = performance.now();
  const t = new SyntheticTable({ count: 1_000_000, localAs: LOCAL_AS, nextHop: '192.0.2.1' });
  const feed = t.announce();
  const ms = performance.now() - t0;
  assert.equal(feed.prefixes, 1_000_000);
  assert.equal(t.sets, 200_000);
  console.log(
    `# 1M prefixes / 200k sets: ${feed.messages} UPDATEs, ${(feed.bytes / 1e6).toFixed(1)} MB in ${feed.chunks.length} chunks, ` +
      `${ms.toFixed(0)} ms (${Math.round(1e9 / ms).toLocaleString('en')} prefixes/s)`,
  );
  assert.ok(ms < 15_000, `${ms} ms`);
});
