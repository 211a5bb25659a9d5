import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fnv1a } from '../../src/wire/attrs/hash.js';
import { emptyAttributes, type PathAttributes } from '../../src/wire/attrs/types.js';
import { updateContext } from '../../src/wire/attrs/context.js';
import { locateUpdate, decodeAttributes, ParsedUpdate } from '../../src/wire/update.js';
import { encodeContext, packUpdates, PrefixBatch } from '../../src/wire/update-encoder.js';
import { AttrStore, TAG_LOCAL, applyModification, neighborAs } from '../../src/rib/attr-store.js';
import { NEXTHOP_SELF } from '../../src/rib/nexthop.js';
import { DecisionFields, readDecisionFields } from '../../src/wire/attrs/fields.js';
import { CTX4, baseV4, tlv } from '../wire/update-helpers.js';

function attrs(over: Partial<PathAttributes> = {}): PathAttributes {
  return { ...emptyAttributes(), origin: 0, asPath: [{ type: 2, asns: [65001, 65002] }], nextHop: Buffer.from([192, 0, 2, 1]), ...over };
}

function counter(a: PathAttributes | null = attrs()): { n: number; decode: () => PathAttributes | null } {
  const c = { n: 0, decode: (): PathAttributes | null => (c.n++, a) };
  return c;
}

const key = (...b: number[]): Buffer => Buffer.from(b);

/** Arena block size (attr-store.ts) and the arena's share of byteSize. */
const BLOCK = 1 << 17;
function arenaBytes(s: AttrStore): number {
  return (s as unknown as { blocks: Buffer[] }).blocks.length * BLOCK;
}

test('identical bytes intern to the same id and decode once', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const c = counter();
  const k1 = key(1, 2, 3, 4);
  const id = s.intern(k1, fnv1a(k1), c.decode);
  // A different Buffer with the same bytes, at an offset inside a bigger one.
  const big = Buffer.from([9, 9, 1, 2, 3, 4, 9]);
  const k2 = big.subarray(2, 6);
  assert.equal(s.intern(k2, fnv1a(k2), c.decode), id);
  assert.equal(c.n, 1);
  assert.equal(s.refCount(id), 2);
  assert.equal(s.count, 1);
  // Changing the caller's buffer afterwards does not change the stored key (copied once).
  k1[0] = 7;
  assert.deepEqual([...s.keyOf(id)], [1, 2, 3, 4]);
});

test('different bytes with the same hash stay distinct', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const a = key(1, 2, 3);
  const b = key(1, 2, 4);
  const ia = s.intern(a, 42, counter().decode);
  const ib = s.intern(b, 42, counter().decode);
  assert.notEqual(ia, ib);
  assert.equal(s.intern(a, 42, counter().decode), ia);
  assert.equal(s.intern(b, 42, counter().decode), ib);
  // A prefix of a key is another key.
  const ic = s.intern(key(1, 2), 42, counter().decode);
  assert.notEqual(ic, ia);
});

test('the same bytes under different tags are different sets', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const k = key(5, 5);
  const i0 = s.intern(k, fnv1a(k), counter().decode, 0);
  const i1 = s.intern(k, fnv1a(k), counter().decode, 1);
  assert.notEqual(i0, i1);
  assert.equal(s.intern(k, fnv1a(k), counter().decode, 1), i1);
});

test('decode returning null stores nothing (treat-as-withdraw)', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const c = counter(null);
  assert.equal(s.intern(key(1), 1, c.decode), -1);
  assert.equal(s.count, 0);
  assert.equal(s.intern(key(1), 1, c.decode), -1);
  assert.equal(c.n, 2);
});

test('refcount frees at zero and ids are reused', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const ka = key(1);
  const a = s.intern(ka, fnv1a(ka), counter().decode);
  s.ref(a);
  s.unref(a);
  assert.equal(s.isLive(a), true);
  s.unref(a);
  assert.equal(s.isLive(a), false);
  assert.equal(s.count, 0);
  assert.throws(() => s.get(a), RangeError);
  assert.throws(() => s.unref(a));
  const c = counter();
  const kb = key(2, 2);
  const b = s.intern(kb, fnv1a(kb), c.decode);
  assert.equal(b, a, 'freed id reused');
  assert.equal(c.n, 1);
  // The old key no longer matches.
  const c2 = counter();
  const a2 = s.intern(ka, fnv1a(ka), c2.decode);
  assert.equal(c2.n, 1, 'decoded again after being freed');
  assert.notEqual(a2, b);
});

test('decision fields are precomputed per RFC', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const a = attrs({
    origin: 1,
    asPath: [
      { type: 3, asns: [64512, 64513] }, // confed sequence: counts 0, skipped for neighbour AS
      { type: 2, asns: [65010, 65011, 65012] },
      { type: 1, asns: [1, 2, 3, 4] }, // AS_SET counts 1
      { type: 4, asns: [64514] }, // confed set: counts 0
    ],
    localPref: 250,
    med: 7,
    originatorId: 0x01020304,
    clusterList: Uint32Array.from([1, 2, 3]),
  });
  const id = s.internAttributes(a, 0);
  assert.equal(s.asPathLen[id], 4);
  assert.equal(s.neighborAs[id], 65010);
  assert.equal(s.origin[id], 1);
  assert.equal(s.localPref[id], 250);
  assert.equal(s.hasLocalPref(id), true);
  assert.equal(s.med[id], 7);
  assert.equal(s.hasMed(id), true);
  assert.equal(s.originatorId[id], 0x01020304);
  assert.equal(s.clusterLen[id], 3);
  assert.deepEqual([...s.nextHops.address(s.nextHop4[id]!)], [192, 0, 2, 1]);
  assert.equal(s.nextHop6[id], NEXTHOP_SELF);

  const bare = s.internAttributes(attrs({ asPath: [], nextHop: undefined }), 0);
  assert.equal(s.hasLocalPref(bare), false);
  assert.equal(s.hasMed(bare), false);
  assert.equal(s.asPathLen[bare], 0);
  assert.equal(s.neighborAs[bare], 0);
  assert.equal(s.nextHop4[bare], NEXTHOP_SELF);
});

test('neighborAs: first AS of the first non-confederation segment when it is a sequence', () => {
  assert.equal(neighborAs([{ type: 2, asns: [7, 8] }]), 7);
  assert.equal(neighborAs([{ type: 1, asns: [7, 8] }]), 0);
  assert.equal(neighborAs([{ type: 4, asns: [9] }, { type: 2, asns: [5] }]), 5);
  assert.equal(neighborAs([]), 0);
});

test('next hops are shared between sets and released with them', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const x = s.internAttributes(attrs({ med: 1 }), 0);
  const y = s.internAttributes(attrs({ med: 2 }), 0);
  assert.notEqual(x, y);
  const nh = s.nextHop4[x]!;
  assert.equal(s.nextHop4[y], nh);
  assert.equal(s.nextHops.refCount(nh), 2);
  s.unref(x);
  assert.equal(s.nextHops.refCount(nh), 1);
  s.unref(y);
  assert.equal(s.nextHops.lookup(Buffer.from([192, 0, 2, 1])), -1);
});

test('IPv6 sets get an MP next hop; link-local makes a distinct next hop', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const g = Buffer.alloc(16, 1);
  const ll = Buffer.alloc(16, 2);
  const a = s.internAttributes(attrs({ nextHop: undefined, mpNextHop: { global: g, linkLocal: undefined } }), 0);
  const b = s.internAttributes(attrs({ nextHop: undefined, mpNextHop: { global: g, linkLocal: ll } }), 0);
  assert.notEqual(s.nextHop6[a], s.nextHop6[b]);
  assert.equal(s.nextHops.address(s.nextHop6[b]!).length, 32);
  assert.equal(s.nextHop4[a], s.nextHop6[a], 'IPv4 over an IPv6 next hop (RFC 8950)');
  s.unref(a);
  s.unref(b);
  assert.equal(s.nextHops.ids().length, 0);
});

test('internModified: same base + same change → same id; the base is kept alive', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const base = s.internAttributes(attrs({ communities: Uint32Array.from([1, 2]) }), 0);
  const m1 = s.internModified(base, { localPref: 300, addCommunities: [3, 2] });
  const m2 = s.internModified(base, { localPref: 300, addCommunities: [3, 2] });
  assert.equal(m1, m2);
  assert.notEqual(m1, base);
  assert.equal(s.localPref[m1], 300);
  assert.deepEqual([...s.get(m1).communities!], [1, 2, 3]);
  assert.deepEqual([...s.get(base).communities!], [1, 2], 'base untouched');
  assert.equal(s.baseOf(m1), base);
  const m3 = s.internModified(base, { localPref: 301 });
  assert.notEqual(m3, m1);
  // No change at all → the base itself.
  assert.equal(s.internModified(base, {}), base);
  s.unref(base); // the {} reference
  s.unref(base); // the caller's original reference: still alive through m1 and m3
  assert.equal(s.isLive(base), true);
  s.unref(m1);
  s.unref(m2);
  s.unref(m3);
  assert.equal(s.isLive(base), false);
  assert.equal(s.count, 0);
});

test('internModified applies each kind of change', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const base = s.internAttributes(attrs({ med: 5, communities: Uint32Array.from([10, 20]) }), 0);
  const noMed = s.internModified(base, { med: null });
  assert.equal(s.hasMed(noMed), false);
  assert.equal(s.get(noMed).med, undefined);
  const med9 = s.internModified(base, { med: 9 });
  assert.equal(s.med[med9], 9);
  const rm = s.internModified(base, { removeCommunities: [10] });
  assert.deepEqual([...s.get(rm).communities!], [20]);
  const nh = s.internModified(base, { nextHop: Uint8Array.from([10, 1, 1, 1]) });
  assert.deepEqual([...s.nextHops.address(s.nextHop4[nh]!)], [10, 1, 1, 1]);
  const pre = s.internModified(base, { prepend: { asn: 64999, count: 2 } });
  assert.deepEqual(s.get(pre).asPath, [{ type: 2, asns: [64999, 64999, 65001, 65002] }]);
  assert.equal(s.asPathLen[pre], 4);
  assert.equal(s.neighborAs[pre], 64999);
  const lc = s.internModified(base, { addLargeCommunities: [1, 2, 3, 1, 2, 3] });
  assert.deepEqual([...s.get(lc).largeCommunities!], [1, 2, 3]);
  assert.equal(new Set([noMed, med9, rm, nh, pre, lc, base]).size, 7);
});

test('wire round trip: the decoder key interns, and a repeat hits without decoding', () => {
  const s = new AttrStore({ initialCapacity: 4 });
  const p = new ParsedUpdate();
  const c = { n: 0 };
  const decode = (): PathAttributes | null => (c.n++, decodeAttributes(p, CTX4));
  locateUpdate(baseV4(), CTX4, p);
  const id = s.intern(p.attrKey, p.attrHash, decode);
  assert.equal(s.asPathLen[id], 1);
  assert.equal(s.neighborAs[id], 65001);
  locateUpdate(baseV4([], [24, 10, 1, 2]), CTX4, p); // same attributes, other NLRI
  assert.equal(s.intern(p.attrKey, p.attrHash, decode), id);
  locateUpdate(baseV4([tlv(0x80, 4, [0, 0, 0, 9])]), CTX4, p); // + MED
  const id2 = s.intern(p.attrKey, p.attrHash, decode);
  assert.notEqual(id2, id);
  assert.equal(s.med[id2], 9);
  assert.equal(c.n, 2);
});

test('random intern/unref sequences keep ids, bytes and counts consistent (arena compaction)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 300 })), { maxLength: 400 }),
      (ops) => {
        const s = new AttrStore({ initialCapacity: 2 });
        const held = new Map<string, { id: number; refs: number }>();
        const mk = (k: number, len: number): Buffer => Buffer.alloc(len, k);
        for (const [add, k, len] of ops) {
          const name = `${k}/${len}`;
          const b = mk(k, len);
          if (add || !held.has(name)) {
            const id = s.intern(b, fnv1a(b), () => attrs(), TAG_LOCAL);
            const h = held.get(name);
            if (h !== undefined) {
              assert.equal(id, h.id);
              h.refs++;
            } else {
              for (const v of held.values()) assert.notEqual(v.id, id);
              held.set(name, { id, refs: 1 });
            }
          } else {
            const h = held.get(name)!;
            s.unref(h.id);
            if (--h.refs === 0) held.delete(name);
          }
        }
        assert.equal(s.count, held.size);
        for (const [name, h] of held) {
          const [k, len] = name.split('/').map(Number) as [number, number];
          assert.ok(s.keyOf(h.id).equals(mk(k, len)));
          assert.equal(s.refCount(h.id), h.refs);
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('big keys across arena blocks keep their bytes under intern/unref churn', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 60_000 })), { minLength: 20, maxLength: 120 }),
      (ops) => {
        const s = new AttrStore({ initialCapacity: 2 });
        const held = new Map<number, { id: number; len: number }>();
        const mk = (k: number, len: number): Buffer => {
          const b = Buffer.alloc(len, k);
          b.writeUInt32BE(len, 1); // byte 0 is k: distinct bytes per (k, len)
          return b;
        };
        let maxBlocks = 0;
        for (const [add, k, len0] of ops) {
          const len = Math.max(5, len0);
          const h = held.get(k);
          if (add && h === undefined) {
            const b = mk(k, len);
            held.set(k, { id: s.intern(b, fnv1a(b), () => attrs(), TAG_LOCAL), len });
          } else if (!add && h !== undefined) {
            s.unref(h.id);
            held.delete(k);
          }
          let live = 0;
          for (const v of held.values()) live += v.len;
          const arena = arenaBytes(s);
          maxBlocks = Math.max(maxBlocks, arena / BLOCK);
          // At most twice the live bytes (+ a partly filled block and a key's worth of slack).
          assert.ok(arena <= 2 * live + 3 * BLOCK, `arena ${arena} for ${live} live bytes`);
        }
        for (const [k, h] of held) assert.ok(s.keyOf(h.id).equals(mk(k, h.len)), `key ${k} intact`);
        assert.equal(s.count, held.size);
      },
    ),
    { numRuns: 60 },
  );
});

test('freed keys are reclaimed: the arena shrinks back to about the live keys', () => {
  const s = new AttrStore();
  const mk = (k: number): Buffer => {
    const b = Buffer.alloc(30_000, k & 0xff);
    b.writeUInt16BE(k, 0);
    return b;
  };
  const ids: number[] = [];
  for (let k = 0; k < 40; k++) ids.push(s.intern(mk(k), fnv1a(mk(k)), () => attrs(), TAG_LOCAL));
  assert.equal(arenaBytes(s), 10 * BLOCK, 'four 30 kB keys a block');
  for (let k = 4; k < 40; k++) s.unref(ids[k]!);
  for (let k = 100; k < 108; k++) ids.push(s.intern(mk(k), fnv1a(mk(k)), () => attrs(), TAG_LOCAL));
  // 12 live keys: 3 blocks after compaction (12 without it).
  assert.equal(arenaBytes(s), 3 * BLOCK);
  for (let k = 0; k < 4; k++) assert.ok(s.keyOf(ids[k]!).equals(mk(k)));
  for (let i = 0; i < 8; i++) assert.ok(s.keyOf(ids[40 + i]!).equals(mk(100 + i)));
  // Lookups still find the moved keys.
  assert.equal(s.intern(mk(2), fnv1a(mk(2)), () => assert.fail('no decode on a hit'), TAG_LOCAL), ids[2]);
});

// ---- Decoded objects rebuilt on demand ----

function fullAttrs(): PathAttributes {
  return attrs({
    origin: 2,
    asPath: [
      { type: 2, asns: [65001, 4200000000] },
      { type: 1, asns: [7, 8] },
    ],
    med: 77,
    localPref: 120,
    atomicAggregate: true,
    aggregator: { asn: 65009, address: 0x0a000001 },
    communities: Uint32Array.from([0xfde80001, 0xffffff01]),
    originatorId: 0x01010101,
    clusterList: Uint32Array.from([5, 6]),
    extendedCommunities: Buffer.from([0, 2, 0xfd, 0xe8, 0, 0, 0, 1]),
    largeCommunities: Uint32Array.from([65001, 1, 2]),
    unknown: [{ flags: 0xc0, type: 99, value: Buffer.from([1, 2, 3]) }],
  });
}

function bodiesFor(a: PathAttributes, afi: 1 | 2): Buffer[] {
  const batch = new PrefixBatch(afi, 2);
  if (afi === 1) batch.addV4(0x0a000000, 8);
  else batch.addV6(0x20010db8, 0, 0, 0, 32);
  return packUpdates(a, batch, encodeContext()).map((m) => m.subarray(19));
}

test('sets under a context tag are decoded again from their key after eviction', () => {
  const ll = Buffer.alloc(16, 0);
  ll[0] = 0xfe;
  ll[1] = 0x80;
  ll[15] = 1;
  const cases: [string, PathAttributes, 1 | 2][] = [
    ['IPv4, every attribute', fullAttrs(), 1],
    ['IPv6 MP next hop with link-local', { ...fullAttrs(), nextHop: undefined, mpNextHop: { global: Buffer.alloc(16, 0x20), linkLocal: ll } }, 2],
    ['IPv6 MP next hop, global only', { ...attrs(), nextHop: undefined, mpNextHop: { global: Buffer.alloc(16, 0x20), linkLocal: undefined } }, 2],
  ];
  for (const ctx of [updateContext(), updateContext({ ebgp: true, peerAs: 65001 })]) {
    for (const [name, a, afi] of cases) {
      const s = new AttrStore({ initialCapacity: 4, cacheSize: 1 });
      const tag = s.contextTag(ctx);
      const p = new ParsedUpdate();
      locateUpdate(bodiesFor(a, afi)[0]!, ctx, p);
      const got: { a: PathAttributes | null } = { a: null };
      const id = s.intern(p.attrKey, p.attrHash, () => (got.a = decodeAttributes(p, ctx)), tag);
      const first = got.a;
      assert.ok(first !== null);
      const rebuilt = s.get(id);
      assert.notEqual(rebuilt, first, `${name}: rebuilt, not kept`);
      assert.deepEqual(rebuilt, first, `${name}: same attributes`);
      assert.equal(s.get(id), rebuilt, 'then cached');
      assert.equal(s.redecodes, 1);
      // Evict it with another set, then ask again.
      const other = s.internAttributes(attrs({ med: 12345 }), TAG_LOCAL);
      const again = s.internModified(other, { localPref: 1 });
      s.get(again);
      const third = s.get(id);
      assert.notEqual(third, rebuilt, 'evicted and rebuilt');
      assert.deepEqual(third, first);
      assert.equal(s.redecodes, 3);
      if (ctx.ebgp) assert.equal(rebuilt.localPref, undefined, 'eBGP context drops LOCAL_PREF again');
    }
  }
});

test('internFields: a set read from the wire has the fields and attributes of a decoded one', () => {
  const ll = Buffer.alloc(16, 0);
  ll[0] = 0xfe;
  ll[1] = 0x80;
  ll[15] = 1;
  const cases: [string, PathAttributes, 1 | 2][] = [
    ['IPv4, every attribute', { ...fullAttrs(), unknown: [] }, 1],
    ['IPv6 MP next hop with link-local', { ...fullAttrs(), unknown: [], nextHop: undefined, mpNextHop: { global: Buffer.alloc(16, 0x20), linkLocal: ll } }, 2],
  ];
  const ctx = updateContext();
  for (const [name, a, afi] of cases) {
    const decoded = new AttrStore({ initialCapacity: 4 });
    const read = new AttrStore({ initialCapacity: 4 });
    const p = new ParsedUpdate();
    locateUpdate(bodiesFor(a, afi)[0]!, ctx, p);
    const idD = decoded.intern(p.attrKey, p.attrHash, () => decodeAttributes(p, ctx), decoded.contextTag(ctx));
    const f = new DecisionFields();
    let decodes = 0;
    const tag = read.contextTag(ctx);
    const idR = read.internFields(p.attrKey, p.attrHash, tag, () => (readDecisionFields(p, ctx, 64512, f) ? f : null), p.buf, () => {
      decodes++;
      return decodeAttributes(p, ctx);
    });
    assert.equal(decodes, 0, `${name}: read from the wire`);
    assert.equal(read.fieldReads, 1);
    for (const k of ['origin', 'asPathLen', 'neighborAs', 'localPref', 'med', 'originatorId', 'clusterLen'] as const) {
      assert.equal(read[k][idR], decoded[k][idD], `${name}: ${k}`);
    }
    assert.equal(read.hasMed(idR), decoded.hasMed(idD));
    assert.equal(read.hasLocalPref(idR), decoded.hasLocalPref(idD));
    for (const k of ['nextHop4', 'nextHop6'] as const) {
      const x = read[k][idR]!;
      const y = decoded[k][idD]!;
      assert.equal(x === NEXTHOP_SELF, y === NEXTHOP_SELF, `${name}: ${k} present`);
      if (x !== NEXTHOP_SELF) assert.deepEqual([...read.nextHops.address(x)], [...decoded.nextHops.address(y)], `${name}: ${k}`);
    }
    assert.deepEqual(read.get(idR), decoded.get(idD), `${name}: decoded on demand from the key`);
    // A repeat is a hit: no read, no decode.
    assert.equal(read.internFields(p.attrKey, p.attrHash, tag, () => assert.fail('read again'), p.buf, () => assert.fail('decoded')), idR);
    assert.equal(read.refCount(idR), 2);
  }
});

test('contextTag: equal contexts share a tag, different ones do not', () => {
  const s = new AttrStore();
  const a = s.contextTag(updateContext());
  assert.equal(s.contextTag(updateContext({ addPathRx: 3 })), a, 'ADD-PATH does not change attribute decoding');
  assert.notEqual(s.contextTag(updateContext({ fourOctetAs: false })), a);
  assert.notEqual(s.contextTag(updateContext({ ebgp: true })), a);
  const e1 = s.contextTag(updateContext({ ebgp: true, enforceFirstAs: true, peerAs: 1 }));
  assert.notEqual(s.contextTag(updateContext({ ebgp: true, enforceFirstAs: true, peerAs: 2 })), e1);
  assert.equal(s.contextTag(updateContext({ ebgp: true, enforceFirstAs: true, peerAs: 1 })), e1);
});

test('derived sets are rebuilt from their base after eviction', () => {
  const s = new AttrStore({ cacheSize: 0 });
  const ctx = updateContext();
  const tag = s.contextTag(ctx);
  const p = new ParsedUpdate();
  locateUpdate(bodiesFor(fullAttrs(), 1)[0]!, ctx, p);
  const base = s.intern(p.attrKey, p.attrHash, () => decodeAttributes(p, ctx), tag);
  const mod = {
    localPref: 7,
    med: null,
    nextHop: Uint8Array.from([1, 2, 3, 4]),
    addCommunities: [9],
    removeCommunities: [0xfde80001],
    addLargeCommunities: [1, 2, 3],
    prepend: { asn: 65000, count: 3 },
  };
  const id = s.internModified(base, mod);
  const expected = applyModification(decodeAttributes(p, ctx)!, mod);
  assert.deepEqual(s.get(id), expected);
  assert.deepEqual(s.get(id), expected, 'twice');
  assert.equal(s.localPref[id], 7);
  assert.equal(s.hasMed(id), false);
  assert.equal(s.asPathLen[id], 3 + 3);
});
