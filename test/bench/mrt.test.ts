import { SHARED_DATA } from '../../fuzz/paths.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Afi, HEADER_LEN, MsgType } from '../../src/wire/iana.js';
import { formatPrefix } from '../../src/wire/nlri/format.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { decodeAttributes, locateUpdate, ParsedUpdate, updateContext } from '../../src/wire/update.js';
import { emptyAttributes } from '../../src/wire/attrs/types.js';
import { forEachMessage } from '../../bench/feeder/chunks.js';
import {
  Bgp4mpMessage,
  decodeBgp4mp,
  decodeRib,
  decodeTableDump,
  MrtRecord,
  MrtSplitter,
  readMrt,
  RibRecord,
  TableDumpEntry,
} from '../../bench/feeder/mrt.js';
import { loadMrtTable, rewriteAttributes, ribUpdateBody, surveyMrt, type Rewrite } from '../../bench/feeder/mrt-replay.js';
import { PrefixSet } from '../../bench/feeder/prefix-set.js';
import type { Feed } from '../../bench/feeder/table.js';

// The public MRT files live beside the repository (../shared/data), as in CI.
const DATA = SHARED_DATA;
const PCH = join(DATA, 'pch-as3856-fulltable-updates.et-header.2015.gz');
const RIS = join(DATA, 'ris-updates.20160811.1600.gz');
const BVIEW = join(DATA, 'ris-rrc05-bview.20020722.2337.gz');

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** An MRT record: header (RFC 6396 §2) + microseconds for _ET types + body. */
function record(type: number, subtype: number, body: Buffer, ts = 0x5b000000, micro?: number): Buffer {
  const et = micro !== undefined;
  const h = Buffer.alloc(12 + (et ? 4 : 0));
  h.writeUInt32BE(ts, 0);
  h.writeUInt16BE(type, 4);
  h.writeUInt16BE(subtype, 6);
  h.writeUInt32BE(body.length + (et ? 4 : 0), 8);
  if (et) h.writeUInt32BE(micro, 12);
  return Buffer.concat([h, body]);
}

/** A BGP message with header. */
function bgp(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

// An UPDATE by hand: ORIGIN IGP, AS_PATH (4-byte) SEQ [65000 65001], NEXT_HOP 192.0.2.1,
// NLRI 198.51.100.0/24 and 203.0.113.128/25.
const UPDATE_AS4 = hex(`0000 0018 400101 00  40020a 02 02 0000fde8 0000fde9  400304 c0000201
                        18 c63364   19 cb007180`);
// The same with a 2-byte AS_PATH [65000 65001] and a withdrawal of 10.0.0.0/8.
const UPDATE_AS2 = hex(`0002 080a 0014 400101 00  400206 02 02 fde8 fde9  400304 c0000201 18 c63364`);

function bgp4mpBody(as4: boolean, update: Buffer): Buffer {
  const as = as4 ? hex('0000fde8 0000fdea') : hex('fde8 fdea');
  // peer AS 65000, local AS 65002, ifindex 0, AFI 1, peer 192.0.2.1, local 192.0.2.2
  return Buffer.concat([as, hex('0000 0001 c0000201 c0000202'), bgp(MsgType.UPDATE, update)]);
}

test('splitter: records come out whole wherever the stream is cut, _ET microseconds read', () => {
  const a = record(17, 4, bgp4mpBody(true, UPDATE_AS4), 0x56299500, 123456);
  const b = record(16, 0, hex('fde8 fdea 0000 0001 c0000201 c0000202 0001 0002'));
  const c = record(12, 1, hex('0000 0001 c6336400 18 01 3d000000 c0000202 fdea 0000'));
  const stream = Buffer.concat([a, b, c]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const sp = new MrtSplitter();
    const r = new MrtRecord();
    const seen: string[] = [];
    for (const part of [stream.subarray(0, cut), stream.subarray(cut)]) {
      sp.push(part);
      while (sp.next(r)) seen.push(`${r.type}/${r.subtype}@${r.offset} ${r.microseconds} ${r.body.toString('hex')}`);
    }
    assert.equal(sp.pending, 0);
    assert.deepEqual(seen, [
      `17/4@0 123456 ${bgp4mpBody(true, UPDATE_AS4).toString('hex')}`,
      `16/0@${a.length} 0 fde8fdea00000001c0000201c000020200010002`,
      `12/1@${a.length + b.length} 0 00000001c633640018013d000000c0000202fdea0000`,
    ]);
  }
});

test('BGP4MP: MESSAGE_AS4 and MESSAGE headers, STATE_CHANGE skipped', () => {
  const sp = new MrtSplitter();
  const r = new MrtRecord();
  const m = new Bgp4mpMessage();
  sp.push(record(16, 4, bgp4mpBody(true, UPDATE_AS4)));
  assert.ok(sp.next(r));
  assert.equal(decodeBgp4mp(r, m), true);
  assert.equal(m.peerAs, 65000);
  assert.equal(m.localAs, 65002);
  assert.equal(m.as4, true);
  assert.equal(m.peerAddressString(), '192.0.2.1');
  assert.equal(m.msgType, MsgType.UPDATE);
  assert.deepEqual(m.messageBody(), UPDATE_AS4);

  sp.push(record(16, 1, bgp4mpBody(false, UPDATE_AS2)));
  assert.ok(sp.next(r));
  assert.equal(decodeBgp4mp(r, m), true);
  assert.equal(m.as4, false);
  assert.equal(m.peerAs, 65000);
  assert.deepEqual(m.messageBody(), UPDATE_AS2);

  sp.push(record(16, 5, hex('0000fde8 0000fdea 0000 0001 c0000201 c0000202 0001 0002')));
  assert.ok(sp.next(r));
  assert.equal(decodeBgp4mp(r, m), false);
});

// TABLE_DUMP_V2 by hand (RFC 6396 §4.3): two peers; 2001:db8:1::/48 seen from both,
// 2001:db8:2::/48 from peer 0 with the same attributes; IPv6 attributes carry the
// abbreviated MP_REACH_NLRI (next hop length + next hop only, §4.3.4).
const ATTRS_P0 = hex(`400101 00  40020a 02 02 0000fde8 0000fde9  800e11 10 20010db80000000000000000000000ff`);
const ATTRS_P1 = hex(`400101 02  400206 02 01 0000fdea  800e11 10 20010db80000000000000000000000ee`);

function ribEntry(peer: number, attrs: Buffer, pathId?: number): Buffer {
  const h = Buffer.alloc(6 + (pathId !== undefined ? 4 : 0) + 2);
  h.writeUInt16BE(peer, 0);
  h.writeUInt32BE(0x5b000000, 2);
  if (pathId !== undefined) h.writeUInt32BE(pathId, 6);
  h.writeUInt16BE(attrs.length, h.length - 2);
  return Buffer.concat([h, attrs]);
}

function tableDumpV2File(): Buffer {
  // Collector 192.0.2.1, no view name; peer 0: IPv6 + 4-byte AS, 2001:db8::a AS65000;
  // peer 1: IPv4 + 4-byte AS, 192.0.2.2 AS65002.
  const peerIndex = hex(`c0000201 0000 0002
    03 0a000001 20010db800000000000000000000000a 0000fde8
    02 0a000002 c0000202 0000fdea`);
  const rib1 = Buffer.concat([hex('00000000 30 20010db80001 0002'), ribEntry(0, ATTRS_P0), ribEntry(1, ATTRS_P1)]);
  const rib2 = Buffer.concat([hex('00000001 30 20010db80002 0001'), ribEntry(0, ATTRS_P0)]);
  // A multicast record (subtype 3) is skipped.
  const mc = Buffer.concat([hex('00000002 18 c63364 0001'), ribEntry(1, hex('400101 00'))]);
  return Buffer.concat([record(13, 1, peerIndex), record(13, 4, rib1), record(13, 4, rib2), record(13, 3, mc)]);
}

/** Every UPDATE of a feed, decoded: NLRI as text, attributes, next hop. */
function decodeFeed(feed: Feed): { prefixes: string[]; withdrawn: string[]; asPath: number[]; nextHop: string; attrs: ReturnType<typeof decodeAttributes> }[] {
  const ctx = updateContext();
  const p = new ParsedUpdate();
  const c = new NlriCursor();
  const out: { prefixes: string[]; withdrawn: string[]; asPath: number[]; nextHop: string; attrs: ReturnType<typeof decodeAttributes> }[] = [];
  const text = (afi: number): string => {
    const b = Buffer.alloc(afi === Afi.IPV4 ? 4 : 16);
    c.addrBytes(b);
    return formatPrefix(afi, b, c.length);
  };
  forEachMessage(feed.chunks, (chunk, s, l) => {
    locateUpdate(chunk.subarray(s + HEADER_LEN, s + l), ctx, p);
    assert.equal(p.error, null, p.reason);
    const prefixes: string[] = [];
    const withdrawn: string[] = [];
    c.reset(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, false);
    while (c.next()) prefixes.push(text(Afi.IPV4));
    if (p.mpReach) {
      c.reset(p.buf, p.mpReach.nlriStart, p.mpReach.nlriEnd, p.mpReach.afi, false);
      while (c.next()) prefixes.push(text(p.mpReach.afi));
    }
    c.reset(p.buf, p.withdrawnStart, p.withdrawnEnd, Afi.IPV4, false);
    while (c.next()) withdrawn.push(text(Afi.IPV4));
    if (p.mpUnreach) {
      c.reset(p.buf, p.mpUnreach.nlriStart, p.mpUnreach.nlriEnd, p.mpUnreach.afi, false);
      while (c.next()) withdrawn.push(text(p.mpUnreach.afi));
    }
    const attrs = prefixes.length > 0 ? decodeAttributes(p, ctx) : null;
    const nh = attrs?.nextHop ?? attrs?.mpNextHop?.global;
    out.push({
      prefixes,
      withdrawn,
      asPath: attrs ? attrs.asPath.flatMap((x) => x.asns) : [],
      nextHop: nh ? formatPrefix(nh.length === 4 ? 1 : 2, nh, nh.length * 8).replace(/\/\d+$/, '') : '',
      attrs,
    });
  });
  return out;
}

function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-mrt-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('TABLE_DUMP_V2: entries of one peer grouped by attributes, abbreviated MP_REACH rebuilt', () =>
  withTempDir(async (dir) => {
    const file = join(dir, 'rib.gz');
    writeFileSync(file, gzipSync(tableDumpV2File()));
    const survey = await surveyMrt(file);
    assert.deepEqual(
      survey.peers.map((x) => [x.address, x.asn, x.routes, x.routes6]),
      [
        ['2001:db8::a', 65000, 2, 2],
        ['192.0.2.2', 65002, 1, 1],
      ],
    );
    assert.equal(survey.ribRecords, 2, 'the multicast record is not a unicast RIB record');

    const t = await loadMrtTable({ file, localAs: 65010, nextHop6: '2001:db8:ffff::1', nextHop4: '192.0.2.9' });
    assert.deepEqual(t.stats.peer, { address: '2001:db8::a', asn: 65000 }, 'default: the peer with most routes');
    assert.equal(t.stats.ribEntries, 2);
    assert.equal(t.stats.attributeSets, 1);
    assert.deepEqual(t.afis, [Afi.IPV6]);
    const msgs = decodeFeed(t.announce());
    assert.equal(msgs.length, 1);
    const m = msgs[0]!;
    assert.deepEqual(m.prefixes, ['2001:db8:1::/48', '2001:db8:2::/48']);
    assert.deepEqual(m.asPath, [65010, 65000, 65001]);
    assert.equal(m.nextHop, '2001:db8:ffff::1');
    assert.equal(m.attrs!.origin, 0);

    // The other peer, keeping its next hop from the abbreviated MP_REACH.
    const k = await loadMrtTable({ file, localAs: 65010, peer: { asn: 65002 }, nextHop: 'keep', asPath: 'keep' });
    const km = decodeFeed(k.announce());
    assert.equal(km.length, 1);
    assert.deepEqual(km[0]!.prefixes, ['2001:db8:1::/48']);
    assert.deepEqual(km[0]!.asPath, [65002]);
    assert.equal(km[0]!.nextHop, '2001:db8::ee');
    assert.equal(km[0]!.attrs!.origin, 2);

    // Withdraw-all: both prefixes, once, in MP_UNREACH_NLRI.
    const w = decodeFeed(t.withdrawAll());
    assert.deepEqual(w.flatMap((x) => x.withdrawn).sort(), ['2001:db8:1::/48', '2001:db8:2::/48']);
  }));

test('RIB ADD-PATH subtype: the path identifier is read and the entry decoded', () => {
  const body = Buffer.concat([hex('00000009 18 c63364 0001'), ribEntry(3, hex('400101 00'), 7)]);
  const sp = new MrtSplitter();
  const r = new MrtRecord();
  sp.push(record(13, 8, body));
  assert.ok(sp.next(r));
  const rib = new RibRecord();
  assert.equal(decodeRib(r, rib), true);
  assert.equal(rib.sequence, 9);
  assert.equal(rib.afi, Afi.IPV4);
  assert.equal(rib.prefixLen, 24);
  assert.equal(rib.words[0], 0xc6336400);
  assert.ok(rib.nextEntry());
  assert.equal(rib.peerIndex, 3);
  assert.equal(rib.pathId, 7);
  assert.deepEqual(rib.body.subarray(rib.attrStart, rib.attrEnd), hex('400101 00'));
  assert.equal(rib.nextEntry(), false);
});

test('TABLE_DUMP v1 and BGP4MP MESSAGE (2-byte AS paths) come out with 4-byte AS paths', () =>
  withTempDir(async (dir) => {
    // v1: 198.51.100.0/24 from 192.0.2.2 AS65002, AS_PATH (2-byte) [65002 80], NEXT_HOP 192.0.2.2.
    const attrs = hex('400101 00  400206 02 02 fdea 0050  400304 c0000202');
    const alen = Buffer.alloc(2);
    alen.writeUInt16BE(attrs.length);
    const v1 = Buffer.concat([hex('0000 0001 c6336400 18 01 3d000000 c0000202 fdea'), alen, attrs]);
    const sp = new MrtSplitter();
    const r = new MrtRecord();
    sp.push(record(12, 1, v1));
    assert.ok(sp.next(r));
    const td = new TableDumpEntry();
    assert.equal(decodeTableDump(r, td), true);
    assert.equal(td.peerAs, 65002);
    assert.equal(td.prefixLen, 24);
    const f1 = join(dir, 'v1.gz');
    writeFileSync(f1, gzipSync(record(12, 1, v1)));
    const t1 = await loadMrtTable({ file: f1, localAs: 4200000010, nextHop4: '192.0.2.9' });
    const m1 = decodeFeed(t1.announce());
    assert.deepEqual(m1.map((x) => [x.prefixes, x.asPath, x.nextHop]), [[['198.51.100.0/24'], [4200000010, 65002, 80], '192.0.2.9']]);

    // BGP4MP MESSAGE: withdraw 10.0.0.0/8 then announce 198.51.100.0/24 with [65000 65001].
    const f2 = join(dir, 'upd');
    writeFileSync(f2, record(16, 1, bgp4mpBody(false, UPDATE_AS2))); // plain, not gzip
    const t2 = await loadMrtTable({ file: f2, localAs: 65010, nextHop4: '192.0.2.9' });
    const m2 = decodeFeed(t2.announce());
    assert.deepEqual(
      m2.map((x) => [x.withdrawn, x.prefixes, x.asPath]),
      [
        [['10.0.0.0/8'], [], []],
        [[], ['198.51.100.0/24'], [65010, 65000, 65001]],
      ],
    );
    assert.equal(t2.stats.updatesIn, 1);
    assert.equal(t2.stats.withdrawn, 1);

    // Raw replay keeps a 4-octet session's bytes exactly.
    const f3 = join(dir, 'raw.gz');
    writeFileSync(f3, gzipSync(record(17, 4, bgp4mpBody(true, UPDATE_AS4), 1, 5)));
    const t3 = await loadMrtTable({ file: f3, localAs: 65000, raw: true });
    assert.deepEqual(Buffer.concat(t3.announce().chunks), bgp(MsgType.UPDATE, UPDATE_AS4));
  }));

test('ribUpdateBody accepts the abbreviated and the full MP_REACH_NLRI forms', () => {
  const nh = '20010db80000000000000000000000ff';
  const want = hex(`0000 001c  400101 00  800e15 0002 01 10 ${nh} 00`);
  assert.deepEqual(ribUpdateBody(hex(`400101 00  800e11 10 ${nh}`), Afi.IPV6), want);
  assert.deepEqual(ribUpdateBody(hex(`400101 00  900e0015 0002 01 10 ${nh} 00`), Afi.IPV6), want);
  assert.equal(ribUpdateBody(hex('400101'), Afi.IPV6), null, 'truncated attribute');
});

test('rewriteAttributes: prepend, no double prepend, replace, AS_SET first, eBGP drops iBGP attributes', () => {
  const rw: Rewrite = { localAs: 65010, asPath: 'prepend', nextHop: 'self', nextHop4: hex('c0000209'), nextHop6: undefined };
  const a = emptyAttributes();
  a.asPath = [{ type: 2, asns: [3356, 1299] }];
  a.localPref = 100;
  a.originatorId = 1;
  a.clusterList = new Uint32Array([1]);
  assert.equal(rewriteAttributes(a, rw, true, false), true);
  assert.deepEqual(a.asPath, [{ type: 2, asns: [65010, 3356, 1299] }]);
  assert.equal(a.localPref, undefined);
  assert.equal(a.originatorId, undefined);
  assert.equal(a.clusterList, undefined);
  assert.deepEqual([...a.nextHop!], [192, 0, 2, 9]);
  rewriteAttributes(a, rw, true, false);
  assert.deepEqual(a.asPath, [{ type: 2, asns: [65010, 3356, 1299] }], 'already first: not prepended twice');
  const b = emptyAttributes();
  b.asPath = [{ type: 2, asns: [3356, 1299] }];
  rewriteAttributes(b, { ...rw, asPath: 'replace' }, true, false);
  assert.deepEqual(b.asPath, [{ type: 2, asns: [65010, 1299] }]);
  const c = emptyAttributes();
  c.asPath = [{ type: 1, asns: [1, 2] }];
  rewriteAttributes(c, rw, true, false);
  assert.deepEqual(c.asPath, [{ type: 2, asns: [65010] }, { type: 1, asns: [1, 2] }]);
  assert.throws(() => rewriteAttributes(emptyAttributes(), rw, false, true), /nextHop6/);
});

// ---------------------------------------------------------------------------
// The real files in shared/data (see its README for the expected numbers)

function skipUnless(file: string): string | false {
  if (existsSync(file)) return false;
  const why = `${file} not found`;
  console.log(`# skipped: ${why}`);
  return why;
}

test('PCH 2015 full table: 89,679 UPDATEs, 577,737 NLRI, 577,706 distinct prefixes', { skip: skipUnless(PCH) }, async () => {
  const m = new Bgp4mpMessage();
  const p = new ParsedUpdate();
  const ctx = updateContext({ fourOctetAs: true });
  const seen = new PrefixSet(Afi.IPV4, 1 << 20);
  const c = new NlriCursor();
  let updates = 0;
  let nlri = 0;
  let et = 0;
  let first: Buffer | undefined;
  const t0 = performance.now();
  await readMrt(PCH, (rec) => {
    if (!decodeBgp4mp(rec, m) || m.msgType !== MsgType.UPDATE) return;
    assert.equal(rec.type, 17, 'BGP4MP_ET');
    assert.equal(rec.subtype, 4, 'MESSAGE_AS4');
    if (rec.microseconds !== 0) et++;
    updates++;
    locateUpdate(m.messageBody(), ctx, p);
    assert.equal(p.error, null);
    if (first === undefined && p.nlriCount > 0) first = Buffer.from(m.messageBody());
    nlri += p.nlriCount;
    c.reset(p.buf, p.nlriStart, p.nlriEnd, Afi.IPV4, false);
    while (c.next()) seen.addV4(c.addr, c.length);
  });
  const parseMs = performance.now() - t0;
  assert.equal(updates, 89_679);
  assert.equal(nlri, 577_737);
  assert.equal(seen.size, 577_706);
  assert.ok(et > 80_000, 'microsecond timestamps present');

  // Converted as AS3856 would send it over eBGP.
  const t1 = performance.now();
  const t = await loadMrtTable({ file: PCH, localAs: 3856, nextHop4: '192.0.2.9' });
  const loadMs = performance.now() - t1;
  console.log(`# PCH: streamed and located ${updates} UPDATEs in ${parseMs.toFixed(0)} ms; converted to a feed in ${loadMs.toFixed(0)} ms (two passes)`);
  assert.equal(t.stats.updatesIn, 89_679);
  // Four NLRI arrive with AS 0 in AS_PATH (RFC 7607: treat-as-withdraw), so they are
  // withdrawn, not announced; the End-of-RIB in the recording is not replayed.
  assert.equal(t.stats.announced, 577_733);
  assert.equal(t.stats.announced + 4, 577_737);
  assert.equal(t.stats.messagesOut, 89_678);
  const feed = t.announce();
  assert.equal(feed.prefixes, 577_733);
  assert.equal(t.withdrawAll().prefixes, 577_702);

  // Raw replay: the recorded bodies, End-of-RIB left out.
  const raw = await loadMrtTable({ file: PCH, localAs: 3856, raw: true, peer: { address: '206.220.231.55', asn: 3856 } });
  assert.equal(raw.stats.messagesOut, 89_678);
  assert.equal(raw.stats.announced, 577_737);

  // The first UPDATE, read by hand from the file: ORIGIN IGP, AS_PATH [61417 51336],
  // NEXT_HOP 185.1.1.241, MED 0, LOCAL_PREF 100, COMMUNITY 3856:52400, ORIGINATOR_ID,
  // CLUSTER_LIST (an iBGP feed), NLRI 0.0.0.0/0 and 178.215.220.0/22 first.
  const firstAttrs = decodeAttributes(locateUpdate(first!, ctx, p), ctx)!;
  assert.deepEqual(firstAttrs.asPath, [{ type: 2, asns: [61417, 51336] }]);
  assert.deepEqual([...firstAttrs.nextHop!], [185, 1, 1, 241]);
  assert.equal(firstAttrs.localPref, 100);
  const out = decodeFeed({ chunks: [firstMessages(feed.chunks[0]!, 4096)], messages: 0, prefixes: 0, bytes: 0 })[0]!;
  assert.deepEqual(out.prefixes.slice(0, 2), ['0.0.0.0/0', '178.215.220.0/22']);
  assert.equal(out.prefixes.length, 15);
  assert.deepEqual(out.asPath, [3856, 61417, 51336], 'the feeder (AS3856) prepends itself');
  assert.equal(out.nextHop, '192.0.2.9');
  assert.equal(out.attrs!.med, 0);
  assert.deepEqual([...out.attrs!.communities!], [(3856 << 16) | 52400]);
  assert.equal(out.attrs!.localPref, undefined, 'no LOCAL_PREF over eBGP');
  assert.equal(out.attrs!.originatorId, undefined);
  assert.equal(out.attrs!.clusterList, undefined);
});

/** The whole messages within the first `max` bytes of a chunk. */
function firstMessages(b: Buffer, max: number): Buffer {
  let p = 0;
  while (p + 19 <= Math.min(b.length, max)) {
    const len = b.readUInt16BE(p + 16);
    if (p + len > max) break;
    p += len;
  }
  return b.subarray(0, p);
}

test('RIS updates 2016: IPv4 and IPv6 with MP_REACH/MP_UNREACH; one peer replayed', { skip: skipUnless(RIS) }, async () => {
  const s = await surveyMrt(RIS);
  assert.equal(s.records, 17_406);
  assert.equal(s.peers.length, 35);
  const v6 = s.peers.reduce((n, x) => n + x.routes6, 0);
  const all = s.peers.reduce((n, x) => n + x.routes, 0);
  assert.ok(v6 > 0 && v6 < all, `IPv6 ${v6} of ${all} announcements`);
  const peer = [...s.peers].sort((a, b) => b.routes6 - a.routes6)[0]!;
  const t = await loadMrtTable({
    file: RIS,
    localAs: 65010,
    peer: { address: peer.address, asn: peer.asn },
    nextHop4: '192.0.2.9',
    nextHop6: '2001:db8::9',
  });
  assert.equal(t.stats.updatesIn, peer.updates);
  assert.ok(t.afis.includes(Afi.IPV6));
  const msgs = decodeFeed(t.announce());
  let v6Announced = 0;
  let v6Withdrawn = 0;
  for (const m of msgs) {
    const six = m.prefixes.filter((x) => x.includes(':')).length;
    v6Announced += six;
    v6Withdrawn += m.withdrawn.filter((x) => x.includes(':')).length;
    if (m.prefixes.length > 0) {
      assert.equal(m.asPath[0], 65010);
      assert.equal(m.nextHop, six > 0 ? '2001:db8::9' : '192.0.2.9');
      assert.ok(six === 0 || six === m.prefixes.length, 'one family per UPDATE');
      if (six > 0) assert.equal(m.attrs!.nextHop, undefined);
    }
  }
  assert.equal(v6Announced, peer.routes6, 'every IPv6 announcement of that peer replayed');
  assert.ok(v6Withdrawn >= 0);
  assert.equal(t.stats.announced + (t.stats.skipped['no usable next hop'] ?? 0), peer.routes);
  assert.equal(msgs.filter((m) => m.attrs?.mpNextHop !== undefined).length > 0, true);
});

test('RIS bview 2002 (TABLE_DUMP v1): 112,988 prefixes from 36 peers', { skip: skipUnless(BVIEW) }, async () => {
  const td = new TableDumpEntry();
  const distinct = new PrefixSet(Afi.IPV4, 1 << 17);
  const peers = new Set<string>();
  let records = 0;
  await readMrt(BVIEW, (rec) => {
    assert.equal(decodeTableDump(rec, td), true);
    records++;
    distinct.addV4(td.words[0]!, td.prefixLen);
    peers.add(`${td.peerAddressString()} ${td.peerAs}`);
  });
  assert.equal(records, 115_521);
  assert.equal(distinct.size, 112_988);
  assert.equal(peers.size, 36);

  // The first record, read by hand: 3.0.0.0/8 from 193.203.0.1 AS1853, path 1853 1239 80.
  const t = await loadMrtTable({ file: BVIEW, localAs: 65010, nextHop4: '192.0.2.9' });
  assert.deepEqual(t.stats.peer, { address: '193.203.0.1', asn: 1853 });
  assert.equal(t.stats.ribEntries, 112_986);
  assert.equal(t.stats.announced, 112_986);
  const msgs = decodeFeed(t.announce());
  const m = msgs.find((x) => x.prefixes.includes('3.0.0.0/8'))!;
  assert.deepEqual(m.asPath, [65010, 1853, 1239, 80]);
  assert.equal(m.nextHop, '192.0.2.9');
  assert.equal(m.attrs!.origin, 0);
  const total = msgs.reduce((n, x) => n + x.prefixes.length, 0);
  assert.equal(total, 112_986);
  assert.ok(msgs.length < 25_000, `${msgs.length} UPDATEs for ${t.stats.attributeSets} attribute sets`);
  const keep = await loadMrtTable({ file: BVIEW, localAs: 65010, nextHop: 'keep', peer: { address: '193.203.0.1' } });
  const k = decodeFeed(keep.announce()).find((x) => x.prefixes.includes('3.0.0.0/8'))!;
  assert.equal(k.nextHop, '193.203.0.1');
});
