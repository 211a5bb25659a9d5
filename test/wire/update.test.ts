// locateUpdate / decodeAttributes: layout, MP_REACH/MP_UNREACH, ADD-PATH, End-of-RIB, the
// intern key, and RFC 7606 error handling case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BgpError, UpdateAction } from '../../src/wire/errors.js';
import { updateContext, type UpdateContext } from '../../src/wire/attrs/context.js';
import { fnv1a } from '../../src/wire/attrs/hash.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { formatPrefix } from '../../src/wire/nlri/format.js';
import { locateUpdate, parseUpdate, ParsedUpdate, decodeAttributes } from '../../src/wire/update.js';
import {
  AS_PATH_2,
  AS_PATH_4,
  b,
  baseV4,
  CTX2,
  CTX4,
  CTX_EBGP,
  NEXT_HOP,
  NLRI_2,
  ORIGIN_IGP,
  tlv,
  updateBody,
} from './update-helpers.js';

const NH6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]; // 2001:db8::1
const LL6 = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]; // fe80::2
const NLRI6 = [32, 0x20, 0x01, 0x0d, 0xb8, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0]; // 2001:db8::/32, 2001:db8:1::/64

function mpReach(afi: number, safi: number, nh: number[], nlri: number[], flags = 0x90): Buffer {
  return tlv(flags, 14, [afi >> 8, afi & 0xff, safi, nh.length, ...nh, 0, ...nlri]);
}
function mpUnreach(afi: number, safi: number, nlri: number[], flags = 0x90): Buffer {
  return tlv(flags, 15, [afi >> 8, afi & 0xff, safi, ...nlri]);
}

function prefixes(p: ParsedUpdate, which: 'withdrawn' | 'nlri' | 'reach' | 'unreach'): string[] {
  const c = new NlriCursor();
  if (which === 'withdrawn') c.reset(p.buf, p.withdrawnStart, p.withdrawnEnd, 1, p.classicAddPath);
  else if (which === 'nlri') c.reset(p.buf, p.nlriStart, p.nlriEnd, 1, p.classicAddPath);
  else if (which === 'reach') c.reset(p.buf, p.mpReach!.nlriStart, p.mpReach!.nlriEnd, p.mpReach!.afi, p.mpReach!.addPath);
  else c.reset(p.buf, p.mpUnreach!.nlriStart, p.mpUnreach!.nlriEnd, p.mpUnreach!.afi, p.mpUnreach!.addPath);
  const out: string[] = [];
  const bytes = new Uint8Array(16);
  while (c.next()) {
    c.addrBytes(bytes);
    const afi = c.v6 ? 2 : 1;
    out.push(`${c.addPath ? `${c.pathId} ` : ''}${formatPrefix(afi, bytes.subarray(0, afi === 1 ? 4 : 16), c.length)}`);
  }
  return out;
}

test('a plain IPv4 UPDATE: offsets, counts and attributes', () => {
  const body = updateBody({ withdrawn: [16, 172, 16], attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP], nlri: NLRI_2 });
  const p = parseUpdate(body, CTX4);
  assert.equal(p.action, UpdateAction.NONE);
  assert.equal(p.error, null);
  assert.deepEqual([p.withdrawnStart, p.withdrawnEnd, p.withdrawnCount], [2, 5, 1]);
  assert.deepEqual([p.attrStart, p.attrEnd], [7, 7 + 4 + 9 + 7]);
  assert.deepEqual([p.nlriStart, p.nlriEnd, p.nlriCount], [27, 33, 2]);
  assert.equal(p.mpReach, null);
  assert.equal(p.endOfRib, null);
  assert.deepEqual(prefixes(p, 'withdrawn'), ['172.16.0.0/16']);
  assert.deepEqual(prefixes(p, 'nlri'), ['10.0.0.0/8', '192.168.1.0/24']);
  assert.equal(p.attrs!.origin, 0);
  assert.deepEqual(p.attrs!.asPath, [{ type: 2, asns: [65001] }]);
  assert.deepEqual(p.attribute(3), NEXT_HOP);
  assert.equal(p.attribute(4), undefined);
});

test('MP_REACH_NLRI with a 16-byte IPv6 next hop', () => {
  const body = updateBody({ attrs: [mpReach(2, 1, NH6, NLRI6), ORIGIN_IGP, AS_PATH_4] });
  const p = parseUpdate(body, CTX4);
  assert.equal(p.action, UpdateAction.NONE, p.reason); // no NEXT_HOP needed without classic NLRI
  const r = p.mpReach!;
  assert.deepEqual([r.afi, r.safi, r.nextHopLen, r.count, r.supported], [2, 1, 16, 2, true]);
  assert.deepEqual(prefixes(p, 'reach'), ['2001:db8::/32', '2001:db8:1::/64']);
  assert.deepEqual(p.attrs!.mpNextHop, { global: Buffer.from(NH6), linkLocal: undefined });
  assert.equal(p.announcedCount, 2);
});

test('MP_REACH_NLRI with a 32-byte next hop (global + link-local, RFC 2545)', () => {
  const body = updateBody({ attrs: [mpReach(2, 1, [...NH6, ...LL6], NLRI6), ORIGIN_IGP, AS_PATH_4] });
  const p = parseUpdate(body, CTX4);
  assert.equal(p.action, UpdateAction.NONE);
  assert.deepEqual(p.attrs!.mpNextHop, { global: Buffer.from(NH6), linkLocal: Buffer.from(LL6) });
  assert.deepEqual(prefixes(p, 'reach'), ['2001:db8::/32', '2001:db8:1::/64']);
});

test('MP_UNREACH_NLRI withdrawals, and IPv4 unicast carried in MP_REACH', () => {
  const p = parseUpdate(updateBody({ attrs: [mpUnreach(2, 1, NLRI6)] }), CTX4);
  assert.equal(p.action, UpdateAction.NONE);
  assert.equal(p.endOfRib, null);
  assert.deepEqual(prefixes(p, 'unreach'), ['2001:db8::/32', '2001:db8:1::/64']);
  assert.equal(p.withdrawnTotal, 2);
  const q = parseUpdate(updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, mpReach(1, 1, [10, 0, 0, 1], NLRI_2)] }), CTX4);
  assert.equal(q.action, UpdateAction.NONE);
  assert.deepEqual(prefixes(q, 'reach'), ['10.0.0.0/8', '192.168.1.0/24']);
  assert.deepEqual(q.attrs!.mpNextHop, { global: Buffer.from([10, 0, 0, 1]), linkLocal: undefined });
});

test('ADD-PATH: path identifiers in the classic fields and in MP attributes, per family', () => {
  const ctx = updateContext({ addPathRx: 1 | 2 });
  const body = updateBody({
    withdrawn: [0, 0, 0, 9, 8, 11],
    attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, mpReach(2, 1, NH6, [0, 0, 0, 5, 32, 0x20, 0x01, 0x0d, 0xb8])],
    nlri: [0, 0, 0, 1, 8, 10, 0, 0, 0, 2, 8, 10],
  });
  const p = parseUpdate(body, ctx);
  assert.equal(p.action, UpdateAction.NONE, p.reason);
  assert.deepEqual(prefixes(p, 'withdrawn'), ['9 11.0.0.0/8']);
  assert.deepEqual(prefixes(p, 'nlri'), ['1 10.0.0.0/8', '2 10.0.0.0/8']);
  assert.deepEqual(prefixes(p, 'reach'), ['5 2001:db8::/32']);
  // ADD-PATH for IPv6 only: the classic IPv4 fields are read without ids.
  const v6only = updateContext({ addPathRx: 2 });
  const q = parseUpdate(body, v6only);
  assert.equal(q.action, UpdateAction.SESSION_RESET); // [0,0,0,9,8,11] as plain NLRI overruns
});

test('an MP family we do not parse is recorded but not read', () => {
  const p = parseUpdate(updateBody({ attrs: [mpReach(1, 128, [0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1], [1, 2, 3]), ORIGIN_IGP, AS_PATH_4] }), CTX4);
  assert.equal(p.action, UpdateAction.NONE);
  assert.deepEqual([p.mpReach!.afi, p.mpReach!.safi, p.mpReach!.supported, p.mpReach!.count], [1, 128, false, 0]);
  assert.equal(p.attrs!.mpNextHop, undefined);
});

test('End-of-RIB: IPv4 (empty UPDATE) and IPv6 (only an empty MP_UNREACH_NLRI)', () => {
  const v4 = locateUpdate(Buffer.from([0, 0, 0, 0]), CTX4);
  assert.deepEqual({ ...v4.endOfRib }, { afi: 1, safi: 1 });
  assert.equal(v4.action, UpdateAction.NONE);
  const v6 = locateUpdate(Buffer.from([0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1]), CTX4);
  assert.deepEqual({ ...v6.endOfRib }, { afi: 2, safi: 1 });
  // Not End-of-RIB: MP_UNREACH with prefixes, an extra attribute, or withdrawn routes.
  assert.equal(locateUpdate(updateBody({ attrs: [mpUnreach(2, 1, NLRI6)] }), CTX4).endOfRib, null);
  assert.equal(locateUpdate(updateBody({ attrs: [mpUnreach(2, 1, []), ORIGIN_IGP] }), CTX4).endOfRib, null);
  assert.equal(locateUpdate(updateBody({ withdrawn: [8, 10], attrs: [mpUnreach(2, 1, [])] }), CTX4).endOfRib, null);
  assert.equal(locateUpdate(updateBody({ withdrawn: [8, 10] }), CTX4).endOfRib, null);
  // Stray octets after the empty MP_UNREACH: a treat-as-withdraw, not an End-of-RIB.
  const junk = locateUpdate(Buffer.from([0, 0, 0, 8, 0x80, 15, 3, 0, 2, 1, 0x80, 4]), CTX4);
  assert.equal(junk.action, UpdateAction.TREAT_AS_WITHDRAW);
  assert.equal(junk.endOfRib, null);
});

test('FNV-1a matches the published 32-bit test vectors', () => {
  assert.equal(fnv1a(Buffer.from('')), 0x811c9dc5);
  assert.equal(fnv1a(Buffer.from('a')), 0xe40c292c);
  assert.equal(fnv1a(Buffer.from('foobar')), 0xbf9cf968);
});

test('attrKey: zero-copy without MP attributes; hash over exactly the key', () => {
  const body = baseV4();
  const p = locateUpdate(body, CTX4);
  assert.equal(p.attrKey.buffer, body.buffer); // a view, not a copy
  assert.deepEqual(p.attrKey, body.subarray(p.attrStart, p.attrEnd));
  assert.equal(p.attrHash, fnv1a(p.attrKey));
  // Same attributes, other prefixes → same key.
  const q = locateUpdate(baseV4([], [24, 10, 9, 9]), CTX4);
  assert.deepEqual(q.attrKey, p.attrKey);
  assert.equal(q.attrHash, p.attrHash);
});

test('attrKey with MP attributes: NLRI and MP_UNREACH excluded, next hop included', () => {
  const key = (attrs: Buffer[]) => {
    const p = locateUpdate(updateBody({ attrs }), CTX4);
    assert.equal(p.action, UpdateAction.NONE, p.reason);
    return Buffer.from(p.attrKey);
  };
  const k1 = key([mpReach(2, 1, NH6, NLRI6), ORIGIN_IGP, AS_PATH_4]);
  const k2 = key([mpReach(2, 1, NH6, [16, 0x20, 0x02], 0x80), ORIGIN_IGP, mpUnreach(2, 1, NLRI6), AS_PATH_4]);
  assert.deepEqual(k1, k2);
  // Layout: the other attributes, then a synthetic MP_REACH TLV (AFI, SAFI, next hop).
  assert.deepEqual(k1, b(ORIGIN_IGP, AS_PATH_4, [0x90, 14, 0, 20, 0, 2, 1, 16], NH6));
  const k3 = key([mpReach(2, 1, [...NH6, ...LL6], NLRI6), ORIGIN_IGP, AS_PATH_4]);
  assert.notDeepEqual(k1, k3);
  // MP_UNREACH alone is cut out and nothing is appended.
  assert.deepEqual(key([ORIGIN_IGP, mpUnreach(2, 1, NLRI6)]), ORIGIN_IGP);
  const p = locateUpdate(updateBody({ attrs: [mpReach(2, 1, NH6, NLRI6), ORIGIN_IGP, AS_PATH_4] }), CTX4);
  assert.equal(p.attrHash, fnv1a(p.attrKey));
});

test('a ParsedUpdate is fully reset between messages', () => {
  const p = new ParsedUpdate();
  parseUpdate(updateBody({ attrs: [mpReach(2, 1, NH6, NLRI6), ORIGIN_IGP, AS_PATH_4] }), CTX4, p);
  assert.notEqual(p.mpReach, null);
  parseUpdate(baseV4(), CTX4, p);
  assert.equal(p.mpReach, null);
  assert.equal(p.typeCount, 3);
  assert.equal(p.has(14), false);
  assert.equal(p.attrs!.mpNextHop, undefined);
  parseUpdate(Buffer.from([0, 9]), CTX4, p);
  assert.equal(p.action, UpdateAction.SESSION_RESET);
  parseUpdate(baseV4(), CTX4, p);
  assert.equal(p.error, null);
  assert.equal(p.action, UpdateAction.NONE);
});

// ---------------------------------------------------------------------------------
// RFC 7606, case by case.

interface Case {
  name: string;
  body: Buffer;
  ctx?: UpdateContext;
  action: UpdateAction;
  /** For SESSION_RESET: [code, subcode, data]. */
  notify?: [number, number, Buffer];
  check?: (p: ParsedUpdate) => void;
}

const TAW = UpdateAction.TREAT_AS_WITHDRAW;
const DISCARD = UpdateAction.ATTRIBUTE_DISCARD;
const RESET = UpdateAction.SESSION_RESET;
const NONE = UpdateAction.NONE;

const withAttrs = (attrs: Buffer[], nlri: number[] = NLRI_2) => updateBody({ attrs, nlri });
const unknownWK = tlv(0x40, 60, [1, 2]);
const badMpNh = mpReach(2, 1, NH6.slice(0, 8), NLRI6);
const badMpLen = mpReach(2, 1, NH6, [129, ...new Array<number>(17).fill(0)]);
const mpOverrun = mpReach(2, 1, NH6, [64, 0x20, 0x01]);
const mpFlags = mpReach(2, 1, NH6, NLRI6, 0xd0);
const mpShort = tlv(0x80, 14, [0, 2, 1, 16]);
const unShort = tlv(0x80, 15, [0, 2]);
const unBad = mpUnreach(2, 1, [200, 1]);

const cases: Case[] = [
  // §7.1 ORIGIN
  { name: 'ORIGIN length 2', body: withAttrs([tlv(0x40, 1, [0, 0]), AS_PATH_4, NEXT_HOP]), action: TAW },
  { name: 'ORIGIN value 3', body: withAttrs([tlv(0x40, 1, [3]), AS_PATH_4, NEXT_HOP]), action: TAW },
  // §7.2 AS_PATH
  { name: 'AS_PATH segment overrun', body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [2, 2, 0, 0, 0, 1]), NEXT_HOP]), action: TAW },
  { name: 'AS_PATH zero-length segment', body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [2, 0]), NEXT_HOP]), action: TAW },
  { name: 'AS_PATH unknown segment type', body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [5, 1, 0, 0, 0, 1]), NEXT_HOP]), action: TAW },
  { name: 'AS_PATH lone trailing octet', body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0, 0, 0, 1, 2]), NEXT_HOP]), action: TAW },
  { name: 'AS_PATH with AS 0 (RFC 7607)', body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0, 0, 0, 0]), NEXT_HOP]), action: TAW },
  {
    name: 'AS_PATH 2-octet encoding on a 4-octet session (odd length)',
    body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [2, 3, 0, 1, 0, 2, 0, 3]), NEXT_HOP]),
    action: TAW,
  },
  {
    name: 'AS_PATH confederation segment from an eBGP peer',
    body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [3, 1, 0, 0, 0xfd, 0xe9, 2, 1, 0, 0, 0xfd, 0xe9]), NEXT_HOP]),
    ctx: CTX_EBGP,
    action: TAW,
  },
  {
    name: 'AS_PATH confederation segment from an iBGP peer is accepted',
    body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [3, 1, 0, 0, 0xfd, 0xe9]), NEXT_HOP]),
    action: NONE,
  },
  {
    name: 'enforce-first-as: leftmost AS is not the peer',
    body: withAttrs([ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0, 0, 0, 7]), NEXT_HOP]),
    ctx: updateContext({ ebgp: true, peerAs: 65001, enforceFirstAs: true }),
    action: TAW,
  },
  {
    name: 'enforce-first-as: leftmost AS is the peer',
    body: withAttrs([ORIGIN_IGP, AS_PATH_4, NEXT_HOP]),
    ctx: updateContext({ ebgp: true, peerAs: 65001, enforceFirstAs: true }),
    action: NONE,
  },
  // §7.3-7.5
  { name: 'NEXT_HOP length 5', body: withAttrs([ORIGIN_IGP, AS_PATH_4, tlv(0x40, 3, [1, 2, 3, 4, 5])]), action: TAW },
  { name: 'MED length 3', body: baseV4([tlv(0x80, 4, [0, 0, 1])]), action: TAW },
  { name: 'LOCAL_PREF length 3 (iBGP)', body: baseV4([tlv(0x40, 5, [0, 0, 1])]), action: TAW },
  {
    name: 'LOCAL_PREF from an eBGP peer is discarded',
    body: baseV4([tlv(0x40, 5, [0, 0, 0, 100])]),
    ctx: CTX_EBGP,
    action: DISCARD,
    check: (p) => assert.equal(p.attrs!.localPref, undefined),
  },
  // §7.6-7.7
  {
    name: 'ATOMIC_AGGREGATE length 1',
    body: baseV4([tlv(0x40, 6, [0])]),
    action: DISCARD,
    check: (p) => assert.equal(p.attrs!.atomicAggregate, false),
  },
  {
    name: 'AGGREGATOR length 6 on a 4-octet session',
    body: baseV4([tlv(0xc0, 7, [0xfd, 0xe9, 10, 0, 0, 1])]),
    action: DISCARD,
    check: (p) => assert.equal(p.attrs!.aggregator, undefined),
  },
  {
    name: 'AGGREGATOR length 8 on a 2-octet session',
    body: withAttrs([ORIGIN_IGP, AS_PATH_2, NEXT_HOP, tlv(0xc0, 7, [0, 0, 0xfd, 0xe9, 10, 0, 0, 1])]),
    ctx: CTX2,
    action: DISCARD,
  },
  { name: 'AGGREGATOR with AS 0 (RFC 7607)', body: baseV4([tlv(0xc0, 7, [0, 0, 0, 0, 10, 0, 0, 1])]), action: DISCARD },
  // §7.8 and friends
  { name: 'COMMUNITIES length 5', body: baseV4([tlv(0xc0, 8, [0, 0, 0, 1, 2])]), action: TAW },
  { name: 'COMMUNITIES length 0', body: baseV4([tlv(0xc0, 8, [])]), action: TAW },
  { name: 'ORIGINATOR_ID length 5', body: baseV4([tlv(0x80, 9, [1, 2, 3, 4, 5])]), action: TAW },
  { name: 'CLUSTER_LIST length 6', body: baseV4([tlv(0x80, 10, [1, 2, 3, 4, 5, 6])]), action: TAW },
  { name: 'CLUSTER_LIST length 0', body: baseV4([tlv(0x80, 10, [])]), action: TAW },
  { name: 'EXTENDED_COMMUNITIES length 12', body: baseV4([tlv(0xc0, 16, new Array<number>(12).fill(0))]), action: TAW },
  { name: 'LARGE_COMMUNITY length 16', body: baseV4([tlv(0xc0, 32, new Array<number>(16).fill(1))]), action: TAW },
  // §3.c flags
  { name: 'ORIGIN flagged optional', body: withAttrs([tlv(0xc0, 1, [0]), AS_PATH_4, NEXT_HOP]), action: TAW },
  { name: 'NEXT_HOP flagged non-transitive', body: withAttrs([ORIGIN_IGP, AS_PATH_4, tlv(0x00, 3, [1, 2, 3, 4])]), action: TAW },
  { name: 'MED flagged transitive', body: baseV4([tlv(0xc0, 4, [0, 0, 0, 1])]), action: TAW },
  { name: 'COMMUNITIES flagged non-transitive', body: baseV4([tlv(0x80, 8, [0, 0, 0, 1])]), action: TAW },
  {
    name: 'AGGREGATOR with wrong flags takes its own handling (discard)',
    body: baseV4([tlv(0x40, 7, [0, 0, 0xfd, 0xe9, 10, 0, 0, 1])]),
    action: DISCARD,
  },
  {
    name: 'Partial bit on a well-known attribute is not an error',
    body: withAttrs([tlv(0x60, 1, [0]), AS_PATH_4, NEXT_HOP]),
    action: NONE,
  },
  // §3.d missing well-known attributes
  { name: 'missing ORIGIN', body: withAttrs([AS_PATH_4, NEXT_HOP]), action: TAW },
  { name: 'missing AS_PATH', body: withAttrs([ORIGIN_IGP, NEXT_HOP]), action: TAW },
  { name: 'missing NEXT_HOP with classic NLRI', body: withAttrs([ORIGIN_IGP, AS_PATH_4]), action: TAW },
  { name: 'NLRI and no attributes at all', body: withAttrs([]), action: TAW },
  { name: 'withdrawals need no attributes', body: updateBody({ withdrawn: [8, 10] }), action: NONE },
  {
    name: 'MP_REACH without ORIGIN',
    body: updateBody({ attrs: [mpReach(2, 1, NH6, NLRI6), AS_PATH_4] }),
    action: TAW,
  },
  // §3.g duplicates
  {
    name: 'duplicate MED: the first one counts',
    body: baseV4([tlv(0x80, 4, [0, 0, 0, 1]), tlv(0x80, 4, [0, 0, 0, 2, 9])]),
    action: NONE,
    check: (p) => {
      assert.equal(p.attrs!.med, 1);
      assert.equal(p.duplicates, 1);
    },
  },
  {
    name: 'duplicate MP_REACH_NLRI',
    body: updateBody({ attrs: [mpReach(2, 1, NH6, NLRI6), mpReach(2, 1, NH6, NLRI6), ORIGIN_IGP, AS_PATH_4] }),
    action: RESET,
    notify: [3, 1, Buffer.alloc(0)],
  },
  {
    name: 'duplicate MP_UNREACH_NLRI',
    body: updateBody({ attrs: [mpUnreach(2, 1, []), mpUnreach(2, 1, [])] }),
    action: RESET,
    notify: [3, 1, Buffer.alloc(0)],
  },
  // Unrecognised attributes
  {
    name: 'unrecognised well-known attribute',
    body: baseV4([unknownWK]),
    action: RESET,
    notify: [3, 2, unknownWK],
  },
  // §4 framing
  { name: 'body shorter than 4 bytes', body: Buffer.from([0, 0, 0]), action: RESET, notify: [3, 1, Buffer.alloc(0)] },
  { name: 'withdrawn length overruns', body: Buffer.from([0, 5, 8, 10, 0, 0]), action: RESET, notify: [3, 1, Buffer.alloc(0)] },
  { name: 'total attribute length overruns', body: Buffer.from([0, 0, 0, 9, 0x40, 1, 1, 0]), action: RESET, notify: [3, 1, Buffer.alloc(0)] },
  {
    name: 'last attribute overruns the section: treat-as-withdraw, NLRI still found',
    body: b([0, 0, 0, 20], ORIGIN_IGP, AS_PATH_4, [0x40, 3, 9, 192, 0, 2, 1], NLRI_2),
    action: TAW,
    check: (p) => {
      assert.equal(p.nlriCount, 2);
      assert.equal(p.attrsComplete, false);
      assert.deepEqual(prefixes(p, 'nlri'), ['10.0.0.0/8', '192.168.1.0/24']);
    },
  },
  {
    name: 'two stray octets at the end of the section',
    body: b([0, 0, 0, 22], ORIGIN_IGP, AS_PATH_4, NEXT_HOP, [0x80, 4], NLRI_2),
    action: TAW,
    check: (p) => assert.equal(p.nlriCount, 2),
  },
  {
    name: 'extended-length header cut short',
    body: b([0, 0, 0, 23], ORIGIN_IGP, AS_PATH_4, NEXT_HOP, [0x90, 4, 0], NLRI_2),
    action: TAW,
  },
  {
    name: 'MP_REACH overruns the section',
    body: b([0, 0, 0, 8], [0x80, 14, 30, 0, 2, 1, 16, 0]),
    action: RESET,
    notify: [3, 1, Buffer.alloc(0)],
  },
  // §5.3 NLRI
  { name: 'NLRI prefix length 33', body: baseV4([], [33, 1, 2, 3, 4, 5]), action: RESET, notify: [3, 10, Buffer.alloc(0)] },
  { name: 'NLRI overrun', body: baseV4([], [24, 10, 0]), action: RESET, notify: [3, 10, Buffer.alloc(0)] },
  {
    name: 'withdrawn prefix length 40',
    body: updateBody({ withdrawn: [40, 1, 2, 3, 4, 5] }),
    action: RESET,
    notify: [3, 10, Buffer.alloc(0)],
  },
  {
    name: 'NLRI error beats treat-as-withdraw (strongest wins)',
    body: withAttrs([tlv(0x40, 1, [7])], [33, 0, 0, 0, 0, 0]),
    action: RESET,
    notify: [3, 10, Buffer.alloc(0)],
  },
  // §7.11-7.12 MP attributes (no AFI/SAFI disable: session reset, RFC 4760 §7 subcode)
  { name: 'MP_REACH IPv6 next hop of 8 bytes', body: updateBody({ attrs: [badMpNh, ORIGIN_IGP, AS_PATH_4] }), action: RESET, notify: [3, 9, badMpNh] },
  {
    name: 'MP_REACH IPv4 next hop of 16 bytes',
    body: updateBody({ attrs: [mpReach(1, 1, NH6, NLRI_2), ORIGIN_IGP, AS_PATH_4] }),
    action: RESET,
    notify: [3, 9, mpReach(1, 1, NH6, NLRI_2)],
  },
  { name: 'MP_REACH IPv6 prefix length 129', body: updateBody({ attrs: [badMpLen, ORIGIN_IGP, AS_PATH_4] }), action: RESET, notify: [3, 9, badMpLen] },
  { name: 'MP_REACH NLRI overrun', body: updateBody({ attrs: [mpOverrun, ORIGIN_IGP, AS_PATH_4] }), action: RESET, notify: [3, 9, mpOverrun] },
  { name: 'MP_REACH too short for its header', body: updateBody({ attrs: [mpShort] }), action: RESET, notify: [3, 9, mpShort] },
  { name: 'MP_REACH flagged transitive', body: updateBody({ attrs: [mpFlags, ORIGIN_IGP, AS_PATH_4] }), action: RESET, notify: [3, 4, mpFlags] },
  { name: 'MP_UNREACH too short', body: updateBody({ attrs: [unShort] }), action: RESET, notify: [3, 9, unShort] },
  { name: 'MP_UNREACH bad prefix', body: updateBody({ attrs: [unBad] }), action: RESET, notify: [3, 9, unBad] },
  // Strongest wins among attribute actions.
  {
    name: 'treat-as-withdraw beats attribute discard',
    body: withAttrs([tlv(0x40, 1, [9]), AS_PATH_4, NEXT_HOP, tlv(0x40, 6, [1])]),
    action: TAW,
  },
];

for (const c of cases) {
  test(`RFC 7606: ${c.name}`, () => {
    const p = parseUpdate(c.body, c.ctx ?? CTX4);
    assert.equal(p.action, c.action, `action (reason: ${p.reason})`);
    if (c.action === RESET) {
      assert.ok(p.error instanceof BgpError);
      const [code, subcode, data] = c.notify!;
      assert.deepEqual([p.error.code, p.error.subcode], [code, subcode], p.error.message);
      assert.deepEqual(p.error.data, data);
      assert.equal(p.attrs, null);
      assert.equal(p.attrKey.length, 0);
    } else {
      assert.equal(p.error, null);
      assert.ok(p.attrs !== null);
      // A withdrawal already known to locate gets no intern key; one found while
      // decoding keeps it (the RIB may remember the bad set as such).
      const located = locateUpdate(c.body, c.ctx ?? CTX4);
      if (located.action >= TAW) assert.equal(p.attrKey.length, 0, 'no intern key for a withdrawal');
      else assert.equal(p.attrHash, fnv1a(p.attrKey));
    }
    c.check?.(p);
  });
}

test('locate alone already knows the session-level and NLRI-dependent outcomes', () => {
  // Missing NEXT_HOP: a TAW without decoding anything.
  const p = locateUpdate(withAttrs([ORIGIN_IGP, AS_PATH_4]), CTX4);
  assert.equal(p.action, TAW);
  assert.equal(p.attrs, null);
  // A malformed MED is only found by decoding (the cache-miss path).
  const q = locateUpdate(baseV4([tlv(0x80, 4, [0, 0, 1])]), CTX4);
  assert.equal(q.action, NONE);
  assert.ok(q.attrKey.length > 0);
  decodeAttributes(q, CTX4);
  assert.equal(q.action, TAW);
  assert.equal(q.reason, 'MULTI_EXIT_DISC malformed');
});
