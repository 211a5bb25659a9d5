// Every attribute as hand-built bytes, decoded and encoded (RFC 4271 §4.3/§5, RFC 1997,
// RFC 4360, RFC 4456, RFC 6793, RFC 8092).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpdateAction } from '../../src/wire/errors.js';
import { updateContext } from '../../src/wire/attrs/context.js';
import { emptyAttributes, type PathAttributes } from '../../src/wire/attrs/types.js';
import { parseUpdate, type ParsedUpdate } from '../../src/wire/update.js';
import { encodeAttributes } from '../../src/wire/update-encoder.js';
import { AS_PATH_4, CTX2, CTX4, NEXT_HOP, NLRI_2, ORIGIN_IGP, tlv, updateBody, b } from './update-helpers.js';

function parseWith(attrs: Buffer[], ctx = CTX4): ParsedUpdate {
  return parseUpdate(updateBody({ attrs, nlri: NLRI_2 }), ctx);
}

/** Parses [ORIGIN, AS_PATH, NEXT_HOP, extra] and returns the attributes. */
function decodeExtra(extra: Buffer, ctx = CTX4): PathAttributes {
  const p = parseWith([ORIGIN_IGP, AS_PATH_4, NEXT_HOP, extra], ctx);
  assert.equal(p.action, UpdateAction.NONE, p.reason);
  return p.attrs!;
}

function attrsWith(over: Partial<PathAttributes>): PathAttributes {
  return { ...emptyAttributes(), ...over };
}

test('ORIGIN: IGP, EGP, INCOMPLETE both ways', () => {
  for (const v of [0, 1, 2] as const) {
    const wire = tlv(0x40, 1, [v]);
    const p = parseWith([wire, AS_PATH_4, NEXT_HOP]);
    assert.equal(p.attrs!.origin, v);
    // An empty AS_PATH is always written (well-known mandatory): 40 02 00.
    assert.deepEqual(encodeAttributes(attrsWith({ origin: v }), CTX4), b([0x40, 1, 1, v], [0x40, 2, 0]));
  }
});

test('AS_PATH with 4-octet ASNs: sequence and set both ways', () => {
  const value = [2, 2, 0, 0, 0xfd, 0xe9, 0, 1, 0x11, 0x70, 1, 1, 0, 0, 0, 100];
  const wire = tlv(0x40, 2, value);
  const p = parseWith([ORIGIN_IGP, wire, NEXT_HOP]);
  const path = [
    { type: 2, asns: [65001, 70000] },
    { type: 1, asns: [100] },
  ];
  assert.deepEqual(p.attrs!.asPath, path);
  assert.deepEqual(encodeAttributes(attrsWith({ asPath: p.attrs!.asPath }), CTX4), wire);
});

test('AS_PATH with 2-octet ASNs from an OLD peer; encoding to one adds AS_TRANS and AS4_PATH', () => {
  const wire = tlv(0x40, 2, [2, 2, 0xfd, 0xe9, 0x03, 0xe8]); // [65001, 1000]
  const p = parseWith([ORIGIN_IGP, wire, NEXT_HOP], CTX2);
  assert.deepEqual(p.attrs!.asPath, [{ type: 2, asns: [65001, 1000] }]);
  // All 2-octet: no AS4_PATH (RFC 6793 §4.2.2 SHOULD NOT).
  assert.deepEqual(encodeAttributes(attrsWith({ asPath: [{ type: 2, asns: [65001, 1000] }] }), CTX2), wire);
  // 70000 does not fit: AS_PATH gets AS_TRANS (23456 = 0x5ba0), AS4_PATH carries the truth.
  const enc = encodeAttributes(attrsWith({ asPath: [{ type: 2, asns: [65001, 70000] }] }), CTX2);
  assert.deepEqual(
    enc,
    b(tlv(0x40, 2, [2, 2, 0xfd, 0xe9, 0x5b, 0xa0]), tlv(0xc0, 17, [2, 2, 0, 0, 0xfd, 0xe9, 0, 1, 0x11, 0x70])),
  );
});

test('AS_PATH segments longer than 255 ASNs are split when encoding', () => {
  const asns = Array.from({ length: 300 }, (_, i) => i + 1);
  const enc = encodeAttributes(attrsWith({ asPath: [{ type: 2, asns }] }), CTX4);
  // 2 + 255*4 + 2 + 45*4 = 1204 bytes: extended length.
  assert.deepEqual([...enc.subarray(0, 4)], [0x50, 2, 1204 >> 8, 1204 & 0xff]);
  assert.deepEqual([...enc.subarray(4, 6)], [2, 255]);
  assert.deepEqual([...enc.subarray(4 + 2 + 255 * 4, 4 + 2 + 255 * 4 + 2)], [2, 45]);
});

test('NEXT_HOP, MED, LOCAL_PREF, ORIGINATOR_ID both ways', () => {
  const cases: [Buffer, Partial<PathAttributes>][] = [
    [tlv(0x80, 4, [0, 0, 1, 0]), { med: 256 }],
    [tlv(0x40, 5, [0, 0, 0, 100]), { localPref: 100 }],
    [tlv(0x80, 9, [10, 0, 0, 9]), { originatorId: 0x0a000009 }],
  ];
  for (const [wire, want] of cases) {
    const got = decodeExtra(wire);
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k as keyof PathAttributes], v, k);
    assert.deepEqual(encodeAttributes(attrsWith(want), CTX4), b([0x40, 2, 0], wire));
  }
  const p = parseWith([ORIGIN_IGP, AS_PATH_4, NEXT_HOP]);
  assert.deepEqual(p.attrs!.nextHop, Buffer.from([192, 0, 2, 1]));
  assert.deepEqual(
    encodeAttributes(attrsWith({ nextHop: Buffer.from([192, 0, 2, 1]) }), CTX4),
    b([0x40, 2, 0], [0x40, 3, 4, 192, 0, 2, 1]),
  );
  // withNextHop = false leaves it out (MP-only UPDATEs).
  assert.deepEqual(encodeAttributes(attrsWith({ nextHop: Buffer.from([192, 0, 2, 1]) }), CTX4, false), b([0x40, 2, 0]));
});

test('ATOMIC_AGGREGATE and AGGREGATOR (4-octet and 2-octet) both ways', () => {
  const atomic = tlv(0x40, 6, []);
  assert.equal(decodeExtra(atomic).atomicAggregate, true);
  assert.deepEqual(encodeAttributes(attrsWith({ atomicAggregate: true }), CTX4), b([0x40, 2, 0], [0x40, 6, 0]));

  const agg4 = tlv(0xc0, 7, [0, 1, 0x11, 0x70, 10, 0, 0, 1]);
  assert.deepEqual(decodeExtra(agg4).aggregator, { asn: 70000, address: 0x0a000001 });
  assert.deepEqual(encodeAttributes(attrsWith({ aggregator: { asn: 70000, address: 0x0a000001 } }), CTX4), b([0x40, 2, 0], agg4));

  const agg2 = tlv(0xc0, 7, [0xfd, 0xe9, 10, 0, 0, 1]);
  const p = parseWith([ORIGIN_IGP, tlv(0x40, 2, [2, 1, 0xfd, 0xe9]), NEXT_HOP, agg2], CTX2);
  assert.deepEqual(p.attrs!.aggregator, { asn: 65001, address: 0x0a000001 });
  assert.deepEqual(encodeAttributes(attrsWith({ aggregator: { asn: 65001, address: 0x0a000001 } }), CTX2), b([0x40, 2, 0], agg2));
  // A 4-octet aggregator to an OLD peer: AGGREGATOR(AS_TRANS) + AS4_AGGREGATOR.
  assert.deepEqual(
    encodeAttributes(attrsWith({ aggregator: { asn: 70000, address: 0x0a000001 } }), CTX2),
    b([0x40, 2, 0], tlv(0xc0, 7, [0x5b, 0xa0, 10, 0, 0, 1]), tlv(0xc0, 18, [0, 1, 0x11, 0x70, 10, 0, 0, 1])),
  );
});

test('COMMUNITIES, EXTENDED_COMMUNITIES, LARGE_COMMUNITY, CLUSTER_LIST both ways', () => {
  const comm = tlv(0xc0, 8, [0xff, 0xff, 0xff, 0x01, 0xfd, 0xe9, 0, 100]);
  assert.deepEqual([...decodeExtra(comm).communities!], [0xffffff01, ((65001 << 16) | 100) >>> 0]);
  assert.deepEqual(
    encodeAttributes(attrsWith({ communities: new Uint32Array([0xffffff01, ((65001 << 16) | 100) >>> 0]) }), CTX4),
    b([0x40, 2, 0], comm),
  );

  const ext = tlv(0xc0, 16, [0, 2, 0xfd, 0xe9, 0, 0, 0, 100]); // route target 65001:100
  assert.deepEqual(decodeExtra(ext).extendedCommunities, Buffer.from([0, 2, 0xfd, 0xe9, 0, 0, 0, 100]));
  assert.deepEqual(
    encodeAttributes(attrsWith({ extendedCommunities: Buffer.from([0, 2, 0xfd, 0xe9, 0, 0, 0, 100]) }), CTX4),
    b([0x40, 2, 0], ext),
  );

  const large = tlv(0xc0, 32, [0, 0, 0xfd, 0xe9, 0, 0, 0, 1, 0, 0, 0, 2]);
  assert.deepEqual([...decodeExtra(large).largeCommunities!], [65001, 1, 2]);
  assert.deepEqual(encodeAttributes(attrsWith({ largeCommunities: new Uint32Array([65001, 1, 2]) }), CTX4), b([0x40, 2, 0], large));

  const cl = tlv(0x80, 10, [1, 1, 1, 1, 2, 2, 2, 2]);
  assert.deepEqual([...decodeExtra(cl).clusterList!], [0x01010101, 0x02020202]);
  assert.deepEqual(encodeAttributes(attrsWith({ clusterList: new Uint32Array([0x01010101, 0x02020202]) }), CTX4), b([0x40, 2, 0], cl));
});

test('unknown optional transitive attributes are kept with Partial set; non-transitive are dropped', () => {
  const got = decodeExtra(b(tlv(0xc0, 99, [0xab, 0xcd]), tlv(0x80, 98, [0])));
  assert.deepEqual(got.unknown, [{ flags: 0xe0, type: 99, value: Buffer.from([0xab, 0xcd]) }]);
  // Re-encoded in type order with Partial (0x20) kept.
  const enc = encodeAttributes(
    attrsWith({
      origin: 0,
      unknown: [
        { flags: 0xe0, type: 99, value: Buffer.from([0xab, 0xcd]) },
        { flags: 0xc0, type: 3 + 0, value: Buffer.from([1, 2, 3, 4]) }, // collides with NEXT_HOP: skipped
        { flags: 0xc0, type: 40, value: Buffer.alloc(300, 7) },
      ],
    }),
    CTX4,
  );
  assert.deepEqual(enc, b([0x40, 1, 1, 0], [0x40, 2, 0], [0xd0, 40, 1, 44], Buffer.alloc(300, 7), [0xe0, 99, 2, 0xab, 0xcd]));
});

test('the extended length form is used only above 255 bytes and accepted on receipt for any length', () => {
  const c63 = encodeAttributes(attrsWith({ communities: new Uint32Array(63).fill(1) }), CTX4);
  assert.deepEqual([...c63.subarray(3, 6)], [0xc0, 8, 252]);
  const c64 = encodeAttributes(attrsWith({ communities: new Uint32Array(64).fill(1) }), CTX4);
  assert.deepEqual([...c64.subarray(3, 7)], [0xd0, 8, 1, 0]);
  // ORIGIN sent with the extended length flag and length 1 is fine.
  const p = parseWith([tlv(0x50, 1, [2]), AS_PATH_4, NEXT_HOP]);
  assert.equal(p.action, UpdateAction.NONE);
  assert.equal(p.attrs!.origin, 2);
});

test('a full attribute set encodes in type-code order', () => {
  const attrs = attrsWith({
    origin: 1,
    asPath: [{ type: 2, asns: [65001] }],
    nextHop: Buffer.from([192, 0, 2, 1]),
    med: 5,
    localPref: 200,
    atomicAggregate: true,
    aggregator: { asn: 65001, address: 1 },
    communities: new Uint32Array([7]),
    originatorId: 9,
    clusterList: new Uint32Array([10]),
    extendedCommunities: Buffer.alloc(8, 1),
    largeCommunities: new Uint32Array([1, 2, 3]),
    unknown: [{ flags: 0xe0, type: 33, value: Buffer.from([5]) }],
  });
  const want = b(
    [0x40, 1, 1, 1],
    AS_PATH_4,
    NEXT_HOP,
    [0x80, 4, 4, 0, 0, 0, 5],
    [0x40, 5, 4, 0, 0, 0, 200],
    [0x40, 6, 0],
    [0xc0, 7, 8, 0, 0, 0xfd, 0xe9, 0, 0, 0, 1],
    [0xc0, 8, 4, 0, 0, 0, 7],
    [0x80, 9, 4, 0, 0, 0, 9],
    [0x80, 10, 4, 0, 0, 0, 10],
    [0xc0, 16, 8, 1, 1, 1, 1, 1, 1, 1, 1],
    [0xc0, 32, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
    [0xe0, 33, 1, 5],
  );
  const enc = encodeAttributes(attrs, CTX4);
  assert.deepEqual(enc, want);
  // And it decodes back to the same set.
  const p = parseUpdate(updateBody({ attrs: [enc], nlri: NLRI_2 }), updateContext());
  assert.equal(p.action, UpdateAction.NONE, p.reason);
  assert.deepEqual(p.attrs, attrs);
});
