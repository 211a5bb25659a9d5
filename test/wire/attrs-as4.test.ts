// RFC 6793 §4.2.3: rebuilding the path and aggregator received from an OLD (2-octet) peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpdateAction } from '../../src/wire/errors.js';
import { mergeAs4Path } from '../../src/wire/attrs/as4.js';
import type { AsPathSegment } from '../../src/wire/attrs/types.js';
import { parseUpdate } from '../../src/wire/update.js';
import { CTX2, CTX4, NEXT_HOP, NLRI_2, ORIGIN_IGP, tlv, updateBody } from './update-helpers.js';

const seq = (...asns: number[]): AsPathSegment => ({ type: 2, asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 1, asns });
const confed = (...asns: number[]): AsPathSegment => ({ type: 3, asns });
const T = 23456; // AS_TRANS

test('merge: the leading extra ASNs of AS_PATH are kept, the rest comes from AS4_PATH', () => {
  // An OLD speaker (AS 100) prepended itself after a NEW one sent [70000, 80000].
  assert.deepEqual(mergeAs4Path([seq(100, T, T)], [seq(70000, 80000)]), [seq(100, 70000, 80000)]);
  // A sequence is split when only part of it is needed.
  assert.deepEqual(mergeAs4Path([seq(1, 2, 3, T)], [seq(70000)]), [seq(1, 2, 3, 70000)]);
  // Equal counts: AS4_PATH is the whole answer.
  assert.deepEqual(mergeAs4Path([seq(T, 200)], [seq(70000, 200)]), [seq(70000, 200)]);
});

test('merge: AS4_PATH longer than AS_PATH is ignored', () => {
  assert.deepEqual(mergeAs4Path([seq(100)], [seq(70000, 80000)]), [seq(100)]);
});

test('merge: an AS_SET counts as one ASN, whatever its size', () => {
  // AS_PATH counts 2 + 1 = 3; AS4_PATH counts 1 → take 2 from the front.
  assert.deepEqual(mergeAs4Path([seq(100, 200), set(300, 400)], [set(70000, 300)]), [seq(100, 200), set(70000, 300)]);
  // AS_SET in the leading part is taken whole and counts 1.
  assert.deepEqual(mergeAs4Path([set(1, 2, 3), seq(T)], [seq(70000)]), [set(1, 2, 3), seq(70000)]);
});

test('merge: confederation segments count 0 and come along at the front', () => {
  assert.deepEqual(mergeAs4Path([confed(65010), seq(100, T)], [seq(70000)]), [confed(65010), seq(100, 70000)]);
  // With nothing else to take, a leading confederation segment is still prepended.
  assert.deepEqual(mergeAs4Path([confed(65010), seq(T)], [seq(70000)]), [confed(65010), seq(70000)]);
});

// Full UPDATEs from an OLD peer (2-octet AS_PATH).
function oldPeerUpdate(extra: Buffer[]): Buffer {
  return updateBody({ attrs: [ORIGIN_IGP, ...extra, NEXT_HOP], nlri: NLRI_2 });
}
const AS_PATH_100_T_T = tlv(0x40, 2, [2, 3, 0, 100, 0x5b, 0xa0, 0x5b, 0xa0]);
const AS4_PATH_70000_80000 = tlv(0xc0, 17, [2, 2, 0, 1, 0x11, 0x70, 0, 1, 0x38, 0x80]);

test('UPDATE from an OLD peer: AS4_PATH is merged into AS_PATH', () => {
  const p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, AS4_PATH_70000_80000]), CTX2);
  assert.equal(p.action, UpdateAction.NONE, p.reason);
  assert.deepEqual(p.attrs!.asPath, [seq(100, 70000, 80000)]);
  assert.deepEqual(p.attrs!.unknown, []);
});

test('UPDATE from an OLD peer: AS4_PATH longer than AS_PATH is ignored', () => {
  const p = parseUpdate(oldPeerUpdate([tlv(0x40, 2, [2, 1, 0, 100]), AS4_PATH_70000_80000]), CTX2);
  assert.deepEqual(p.attrs!.asPath, [seq(100)]);
});

test('AGGREGATOR = AS_TRANS: AS4_AGGREGATOR replaces it and AS4_PATH is used', () => {
  const agg = tlv(0xc0, 7, [0x5b, 0xa0, 10, 0, 0, 1]);
  const agg4 = tlv(0xc0, 18, [0, 1, 0x11, 0x70, 10, 0, 0, 1]);
  const p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, agg, AS4_PATH_70000_80000, agg4]), CTX2);
  assert.deepEqual(p.attrs!.aggregator, { asn: 70000, address: 0x0a000001 });
  assert.deepEqual(p.attrs!.asPath, [seq(100, 70000, 80000)]);
});

test('AGGREGATOR not AS_TRANS: AS4_AGGREGATOR and AS4_PATH are both ignored', () => {
  const agg = tlv(0xc0, 7, [0, 200, 10, 0, 0, 2]);
  const agg4 = tlv(0xc0, 18, [0, 1, 0x11, 0x70, 10, 0, 0, 1]);
  const p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, agg, AS4_PATH_70000_80000, agg4]), CTX2);
  assert.deepEqual(p.attrs!.aggregator, { asn: 200, address: 0x0a000002 });
  assert.deepEqual(p.attrs!.asPath, [seq(100, T, T)]);
});

test('AS4_PATH: confederation segments are dropped, the rest is used (RFC 6793 §6)', () => {
  const as4 = tlv(0xc0, 17, [3, 1, 0, 0, 0xfd, 0xea, 2, 2, 0, 1, 0x11, 0x70, 0, 1, 0x38, 0x80]);
  const p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, as4]), CTX2);
  assert.equal(p.action, UpdateAction.NONE);
  assert.deepEqual(p.attrs!.asPath, [seq(100, 70000, 80000)]);
});

test('malformed AS4_PATH / AS4_AGGREGATOR are discarded, the route stays', () => {
  // Segment claims 3 ASNs, carries 2.
  const bad4 = tlv(0xc0, 17, [2, 3, 0, 1, 0x11, 0x70, 0, 1, 0x38, 0x80]);
  let p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, bad4]), CTX2);
  assert.equal(p.action, UpdateAction.ATTRIBUTE_DISCARD);
  assert.deepEqual(p.attrs!.asPath, [seq(100, T, T)]);
  // AS4_AGGREGATOR of 6 bytes: discarded, AGGREGATOR(AS_TRANS) stays as received.
  const agg = tlv(0xc0, 7, [0x5b, 0xa0, 10, 0, 0, 1]);
  p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, agg, tlv(0xc0, 18, [0, 1, 0x11, 0x70, 10, 0])]), CTX2);
  assert.equal(p.action, UpdateAction.ATTRIBUTE_DISCARD);
  assert.deepEqual(p.attrs!.aggregator, { asn: T, address: 0x0a000001 });
  // AS 0 in AS4_PATH (RFC 7607): discarded.
  p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, tlv(0xc0, 17, [2, 1, 0, 0, 0, 0])]), CTX2);
  assert.equal(p.action, UpdateAction.ATTRIBUTE_DISCARD);
  // AS4_PATH with wrong flags (sent as well-known): discarded as malformed.
  p = parseUpdate(oldPeerUpdate([AS_PATH_100_T_T, tlv(0x40, 17, [2, 1, 0, 1, 0x11, 0x70])]), CTX2);
  assert.equal(p.action, UpdateAction.ATTRIBUTE_DISCARD);
  assert.deepEqual(p.attrs!.asPath, [seq(100, T, T)]);
});

test('on a 4-octet session AS4_PATH / AS4_AGGREGATOR are ignored silently', () => {
  const asPath = tlv(0x40, 2, [2, 1, 0, 0, 0, 100]);
  const agg = tlv(0xc0, 7, [0, 0, 0x5b, 0xa0, 10, 0, 0, 1]);
  const p = parseUpdate(
    oldPeerUpdate([asPath, agg, AS4_PATH_70000_80000, tlv(0xc0, 18, [0, 1, 0x11, 0x70, 10, 0, 0, 1])]),
    CTX4,
  );
  assert.equal(p.action, UpdateAction.NONE);
  assert.deepEqual(p.attrs!.asPath, [seq(100)]);
  assert.deepEqual(p.attrs!.aggregator, { asn: T, address: 0x0a000001 });
  assert.deepEqual(p.attrs!.unknown, []);
});
