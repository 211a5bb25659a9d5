// readDecisionFields (the no-object path for new attribute sets) against the full
// decoder: whenever it vouches for an UPDATE, decodeAttributes must find nothing wrong
// and yield the same decision fields. Seeded random attribute sets, then seeded
// corruptions of them; the reader must also say no often enough to be worth testing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateContext, type UpdateContext } from '../../src/wire/attrs/context.js';
import { DecisionFields, readDecisionFields } from '../../src/wire/attrs/fields.js';
import { asPathCount } from '../../src/wire/attrs/as-path.js';
import { emptyAttributes, type AsPathSegment, type PathAttributes } from '../../src/wire/attrs/types.js';
import { PrefixBatch } from '../../src/wire/nlri/batch.js';
import { UpdateAction } from '../../src/wire/errors.js';
import { decodeAttributes, locateUpdate, ParsedUpdate } from '../../src/wire/update.js';
import { encodeContext, packUpdates } from '../../src/wire/update-encoder.js';
import { neighborAs } from '../../src/rib/attr-store.js';
import { b, rng, tlv, updateBody, ORIGIN_IGP, NEXT_HOP, AS_PATH_4, CTX_EBGP } from './update-helpers.js';

const OWN_AS = 64512;

function randomAttrs(r: () => number, v6: boolean): PathAttributes {
  const segs: AsPathSegment[] = [];
  const nseg = r() % 3;
  for (let i = 0; i < nseg; i++) {
    const type = ([2, 2, 1, 3, 4] as const)[r() % 5]!;
    const asns = Array.from({ length: 1 + (r() % 4) }, () => (r() % 8 === 0 ? OWN_AS : 1 + (r() % 200000)));
    segs.push({ type, asns });
  }
  const a: PathAttributes = { ...emptyAttributes(), origin: (r() % 3) as 0 | 1 | 2, asPath: segs };
  if (!v6) a.nextHop = Buffer.from([10, r() & 0xff, 0, 1]);
  if (r() % 2) a.med = r();
  if (r() % 3 === 0) a.localPref = r() % 1000;
  if (r() % 4 === 0) a.atomicAggregate = true;
  if (r() % 4 === 0) a.aggregator = { asn: 1 + (r() % 70000), address: r() };
  if (r() % 2) a.communities = new Uint32Array(Array.from({ length: 1 + (r() % 4) }, () => r()));
  if (r() % 5 === 0) a.originatorId = r();
  if (r() % 5 === 0) a.clusterList = new Uint32Array(Array.from({ length: 1 + (r() % 3) }, () => r()));
  if (r() % 4 === 0) a.extendedCommunities = Buffer.alloc(8 * (1 + (r() % 2)), r() & 0xff);
  if (r() % 4 === 0) a.largeCommunities = new Uint32Array([r(), r(), r()]);
  if (r() % 6 === 0) a.unknown = [{ flags: 0xe0, type: 99, value: Buffer.from([1, 2]) }];
  if (v6) {
    a.mpNextHop = {
      global: Buffer.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), r() & 0xff]),
      linkLocal: r() % 2 ? Buffer.from([0xfe, 0x80, ...new Array<number>(13).fill(0), 2]) : undefined,
    };
  }
  return a;
}

/** Compares the reader's fields with what the attribute store computes from the decoded set. */
function check(body: Buffer, ctx: UpdateContext, label: string): boolean {
  const p = new ParsedUpdate();
  locateUpdate(body, ctx, p);
  const f = new DecisionFields();
  const ok = readDecisionFields(p, ctx, OWN_AS, f);
  if (!ok) return false;
  const a = decodeAttributes(p, ctx);
  assert.ok(a !== null, `${label}: reader vouched, decoder reset the session`);
  assert.equal(p.action, UpdateAction.NONE, `${label}: reader vouched, decoder found ${p.reason}`);
  assert.equal(f.origin, a.origin ?? 2, `${label}: origin`);
  assert.equal(f.hasMed, a.med !== undefined, `${label}: has med`);
  assert.equal(f.med, a.med ?? 0, `${label}: med`);
  assert.equal(f.hasLocalPref, a.localPref !== undefined, `${label}: has local pref`);
  assert.equal(f.localPref, a.localPref ?? 0, `${label}: local pref`);
  assert.equal(f.hasOriginatorId, a.originatorId !== undefined, `${label}: has originator`);
  assert.equal(f.originatorId, a.originatorId ?? 0, `${label}: originator`);
  assert.equal(f.clusterLen, a.clusterList?.length ?? 0, `${label}: cluster list`);
  assert.equal(f.asPathLen, asPathCount(a.asPath), `${label}: path length`);
  assert.equal(f.neighborAs, neighborAs(a.asPath), `${label}: neighbour AS`);
  assert.equal(f.loop, a.asPath.some((s) => s.asns.includes(OWN_AS)), `${label}: loop`);
  const nh = f.nextHopAt < 0 ? undefined : p.buf.subarray(f.nextHopAt, f.nextHopAt + 4);
  assert.deepEqual(nh && Buffer.from(nh), a.nextHop, `${label}: next hop`);
  const mp = a.mpNextHop === undefined ? Buffer.alloc(0) : Buffer.concat([a.mpNextHop.global, a.mpNextHop.linkLocal ?? Buffer.alloc(0)]);
  assert.deepEqual(Buffer.from(p.buf.subarray(f.mpNextHopAt, f.mpNextHopAt + f.mpNextHopLen)), mp, `${label}: MP next hop`);
  return true;
}

function corrupt(src: Buffer, r: () => number): Buffer {
  const buf = Buffer.from(src);
  const n = 1 + (r() % 3);
  for (let k = 0; k < n; k++) {
    const at = r() % buf.length;
    if (r() % 2) buf[at]! ^= 1 << (r() % 8);
    else buf[at] = r() & 0xff;
  }
  return buf;
}

const CONTEXTS: [string, UpdateContext][] = [
  ['iBGP', updateContext()],
  ['eBGP', updateContext({ ebgp: true, peerAs: 65001 })],
  ['eBGP first-AS', updateContext({ ebgp: true, peerAs: 65001, enforceFirstAs: true })],
  ['2-octet', updateContext({ fourOctetAs: false })],
];

test('when the field reader vouches for an UPDATE, the full decoder agrees on every decision field', () => {
  const r = rng(0x5eed);
  let vouched = 0;
  let declined = 0;
  let corruptVouched = 0;
  for (let i = 0; i < 3000; i++) {
    const v6 = i % 3 === 0;
    const attrs = randomAttrs(r, v6);
    if (i % 7 === 0 && attrs.asPath.length > 0) attrs.asPath[0] = { type: 2, asns: [65001, ...attrs.asPath[0]!.asns] };
    const batch = new PrefixBatch(v6 ? 2 : 1);
    if (v6) batch.addV6(0x20010db8, i, 0, 0, 48, 0);
    else batch.addV4((0x0b000000 + i * 256) >>> 0, 24, 0);
    const [name, ctx] = CONTEXTS[i % CONTEXTS.length]!;
    const msg = packUpdates(attrs, batch, encodeContext({ fourOctetAs: ctx.fourOctetAs }))[0]!;
    const body = msg.subarray(19);
    if (check(body, ctx, `#${i} ${name}`)) vouched++;
    else declined++;
    for (let k = 0; k < 5; k++) if (check(corrupt(body, r), ctx, `#${i}.${k} ${name} corrupted`)) corruptVouched++;
  }
  // Both answers must be common, or the test proves little.
  assert.ok(vouched > 600, `vouched for ${vouched}`);
  assert.ok(declined > 300, `declined ${declined}`);
  assert.ok(corruptVouched > 100, `vouched for ${corruptVouched} corrupted ones`);
});

test('the field reader declines what needs the full decoder', () => {
  const p = new ParsedUpdate();
  const f = new DecisionFields();
  const cases: [string, Buffer, UpdateContext][] = [
    ['LOCAL_PREF from eBGP (discarded)', updateBody({ attrs: [ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0, 0, 0xfd, 0xe9]), NEXT_HOP, tlv(0x40, 5, [0, 0, 0, 100])], nlri: [8, 10] }), CTX_EBGP],
    ['AS 0 in AS_PATH', updateBody({ attrs: [ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0, 0, 0, 0]), NEXT_HOP], nlri: [8, 10] }), updateContext()],
    ['ORIGIN 3', updateBody({ attrs: [tlv(0x40, 1, [3]), AS_PATH_4, NEXT_HOP], nlri: [8, 10] }), updateContext()],
    ['NEXT_HOP of 5 bytes', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, tlv(0x40, 3, [1, 2, 3, 4, 5])], nlri: [8, 10] }), updateContext()],
    ['MED with the transitive bit', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0xc0, 4, [0, 0, 0, 1])], nlri: [8, 10] }), updateContext()],
    ['an unknown optional attribute', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0xc0, 99, [1])], nlri: [8, 10] }), updateContext()],
    ['confederation segment from eBGP', updateBody({ attrs: [ORIGIN_IGP, tlv(0x40, 2, [3, 1, 0, 0, 0xfd, 0xe9]), NEXT_HOP], nlri: [8, 10] }), CTX_EBGP],
    ['first AS not the peer', updateBody({ attrs: [ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0, 0, 0xfd, 0xea]), NEXT_HOP], nlri: [8, 10] }), updateContext({ ebgp: true, peerAs: 65001, enforceFirstAs: true })],
    ['a 2-octet session', updateBody({ attrs: [ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0xfd, 0xe9]), NEXT_HOP], nlri: [8, 10] }), updateContext({ fourOctetAs: false })],
    ['AGGREGATOR with AS 0 (discarded)', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0xc0, 7, [0, 0, 0, 0, 10, 0, 0, 1])], nlri: [8, 10] }), updateContext()],
    ['ATOMIC_AGGREGATE with a value (discarded)', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0x40, 6, [1])], nlri: [8, 10] }), updateContext()],
    ['an AS_PATH segment of no AS', updateBody({ attrs: [ORIGIN_IGP, tlv(0x40, 2, [2, 0]), NEXT_HOP], nlri: [8, 10] }), updateContext()],
    ['empty EXTENDED_COMMUNITIES', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0xc0, 16, [])], nlri: [8, 10] }), updateContext()],
    ['empty LARGE_COMMUNITY', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0xc0, 32, [])], nlri: [8, 10] }), updateContext()],
    ['empty COMMUNITIES', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0xc0, 8, [])], nlri: [8, 10] }), updateContext()],
    ['empty CLUSTER_LIST', updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP, tlv(0x80, 10, [])], nlri: [8, 10] }), updateContext()],
    ['a repeated attribute', updateBody({ attrs: [ORIGIN_IGP, ORIGIN_IGP, AS_PATH_4, NEXT_HOP], nlri: [8, 10] }), updateContext()],
  ];
  for (const [name, body, ctx] of cases) {
    locateUpdate(body, ctx, p);
    assert.equal(readDecisionFields(p, ctx, OWN_AS, f), false, name);
  }
  // And the plain case is read.
  locateUpdate(b(updateBody({ attrs: [ORIGIN_IGP, AS_PATH_4, NEXT_HOP], nlri: [8, 10] })), CTX_EBGP, p);
  assert.equal(readDecisionFields(p, CTX_EBGP, OWN_AS, f), true);
  assert.equal(f.neighborAs, 65001);
  assert.equal(f.asPathLen, 1);
  assert.deepEqual([...p.buf.subarray(f.nextHopAt, f.nextHopAt + 4)], [192, 0, 2, 1]);
});
