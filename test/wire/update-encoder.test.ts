// The UPDATE packer and End-of-RIB: byte vectors, fill limits, and decode(encode(x)) == x.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UpdateAction } from '../../src/wire/errors.js';
import { updateContext } from '../../src/wire/attrs/context.js';
import { emptyAttributes, type PathAttributes } from '../../src/wire/attrs/types.js';
import { NlriCursor, maskBits } from '../../src/wire/nlri/prefix.js';
import { PrefixBatch } from '../../src/wire/nlri/batch.js';
import { locateUpdate, parseUpdate, type ParsedUpdate } from '../../src/wire/update.js';
import {
  encodeContext,
  encodeEndOfRib,
  packUpdates,
  packWithdrawals,
  type EncodeContext,
} from '../../src/wire/update-encoder.js';

const FF16 = new Array<number>(16).fill(0xff);

function header(msg: Buffer): { len: number; type: number } {
  assert.deepEqual([...msg.subarray(0, 16)], FF16, 'marker');
  return { len: msg.readUInt16BE(16), type: msg[18]! };
}

/** Entries of one message as [pathId, words..., len] tuples, with the parse result. */
function decodeMsg(msg: Buffer, fourOctetAs: boolean, addPathRx: number): { p: ParsedUpdate; entries: number[][] } {
  const h = header(msg);
  assert.equal(h.len, msg.length);
  assert.equal(h.type, 2);
  const p = parseUpdate(msg.subarray(19), updateContext({ fourOctetAs, addPathRx }));
  const entries: number[][] = [];
  const c = new NlriCursor();
  const walk = (start: number, end: number, afi: number, ap: boolean) => {
    c.reset(p.buf, start, end, afi, ap);
    while (c.next()) entries.push(c.v6 ? [c.pathId, c.w0, c.w1, c.w2, c.w3, c.length] : [c.pathId, c.addr, c.length]);
  };
  walk(p.withdrawnStart, p.withdrawnEnd, 1, p.classicAddPath);
  walk(p.nlriStart, p.nlriEnd, 1, p.classicAddPath);
  if (p.mpReach) walk(p.mpReach.nlriStart, p.mpReach.nlriEnd, p.mpReach.afi, p.mpReach.addPath);
  if (p.mpUnreach) walk(p.mpUnreach.nlriStart, p.mpUnreach.nlriEnd, p.mpUnreach.afi, p.mpUnreach.addPath);
  return { p, entries };
}

function expectedEntries(batch: PrefixBatch, addPath: boolean): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < batch.count; i++) {
    const id = addPath ? batch.pathIds[i]! : 0;
    if (batch.stride === 1) out.push([id, batch.words[i]!, batch.lens[i]!]);
    else out.push([id, ...batch.words.subarray(i * 4, i * 4 + 4), batch.lens[i]!]);
  }
  return out;
}

/** Checks sizes, tight filling and that every prefix comes back in order. */
function checkPacking(msgs: Buffer[], batch: PrefixBatch, ctx: EncodeContext, addPath: boolean): ParsedUpdate[] {
  const all: number[][] = [];
  const parsed: ParsedUpdate[] = [];
  for (let m = 0; m < msgs.length; m++) {
    const msg = msgs[m]!;
    assert.ok(msg.length <= ctx.maxLength, `message ${m} is ${msg.length} bytes`);
    const { p, entries } = decodeMsg(msg, ctx.fourOctetAs, ctx.addPathTx);
    assert.equal(p.action, UpdateAction.NONE, p.reason);
    assert.ok(entries.length > 0);
    all.push(...entries);
    parsed.push(p);
    if (m < msgs.length - 1) {
      // The next prefix would not have fitted: the message is as full as it can be.
      const next = batch.entrySize(all.length, addPath);
      assert.ok(msg.length + next > ctx.maxLength, `message ${m} (${msg.length} bytes) could take ${next} more`);
    }
  }
  assert.deepEqual(all, expectedEntries(batch, addPath));
  return parsed;
}

const BASE: PathAttributes = {
  ...emptyAttributes(),
  origin: 0,
  asPath: [{ type: 2, asns: [65001, 65002] }],
  nextHop: Buffer.from([192, 0, 2, 1]),
  communities: new Uint32Array([1, 2, 3]),
};

test('End-of-RIB vectors (RFC 4724 §2) and their decoding', () => {
  const v4 = encodeEndOfRib(1, 1);
  assert.deepEqual([...v4], [...FF16, 0, 23, 2, 0, 0, 0, 0]);
  const v6 = encodeEndOfRib(2, 1);
  assert.deepEqual([...v6], [...FF16, 0, 29, 2, 0, 0, 0, 6, 0x80, 15, 3, 0, 2, 1]);
  assert.deepEqual({ ...locateUpdate(v4.subarray(19), updateContext()).endOfRib }, { afi: 1, safi: 1 });
  assert.deepEqual({ ...locateUpdate(v6.subarray(19), updateContext()).endOfRib }, { afi: 2, safi: 1 });
});

test('a small IPv4 UPDATE, byte for byte', () => {
  const batch = new PrefixBatch(1);
  batch.addV4(0x0a000000, 8);
  batch.addV4(0xc0a80100, 24);
  const attrs: PathAttributes = { ...emptyAttributes(), origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: Buffer.from([192, 0, 2, 1]) };
  const [msg, ...more] = packUpdates(attrs, batch, encodeContext());
  assert.equal(more.length, 0);
  const body = [0, 0, 0, 20, 0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, 0x40, 3, 4, 192, 0, 2, 1, 8, 10, 24, 192, 168, 1];
  assert.deepEqual([...msg!], [...FF16, 0, 19 + body.length, 2, ...body]);
});

test('a small IPv6 UPDATE, byte for byte: MP_REACH first, no NEXT_HOP, 1-octet length', () => {
  const batch = new PrefixBatch(2);
  batch.addV6(0x20010db8, 0, 0, 0, 32);
  const gl = Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  const attrs: PathAttributes = {
    ...emptyAttributes(),
    origin: 0,
    asPath: [],
    nextHop: Buffer.from([192, 0, 2, 1]), // must be left out
    mpNextHop: { global: gl, linkLocal: undefined },
  };
  const [msg] = packUpdates(attrs, batch, encodeContext());
  const mp = [0x80, 14, 26, 0, 2, 1, 16, ...gl, 0, 32, 0x20, 0x01, 0x0d, 0xb8];
  const rest = [0x40, 1, 1, 0, 0x40, 2, 0];
  const body = [0, 0, 0, mp.length + rest.length, ...mp, ...rest];
  assert.deepEqual([...msg!], [...FF16, 0, 19 + body.length, 2, ...body]);
});

test('IPv4 packer fills 4096-byte messages exactly and loses nothing', () => {
  const batch = new PrefixBatch(1);
  for (let i = 0; i < 3000; i++) batch.addV4((0x0a000000 + (i << 8)) >>> 0, 24);
  const ctx = encodeContext();
  const msgs = packUpdates(BASE, batch, ctx);
  // Attributes: ORIGIN 4 + AS_PATH 13 + NEXT_HOP 7 + COMMUNITIES 15 = 39 bytes; header
  // 19 + 4 → 4096 - 62 = 4034 bytes of NLRI = 1008 prefixes of 4 bytes (2 bytes spare).
  assert.equal(msgs.length, 3);
  assert.equal(msgs[0]!.length, 62 + 1008 * 4);
  assert.equal(msgs[2]!.length, 62 + (3000 - 2016) * 4);
  const parsed = checkPacking(msgs, batch, ctx, false);
  for (const p of parsed) assert.deepEqual(p.attrs, BASE);
});

test('IPv4 packer with varied prefix lengths, ADD-PATH and 65535-byte messages', () => {
  const batch = new PrefixBatch(1);
  let x = 12345;
  for (let i = 0; i < 40000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    batch.addV4(x, x % 33, i);
  }
  for (const ctx of [encodeContext({ addPathTx: 1 }), encodeContext({ addPathTx: 1, maxLength: 65535 })]) {
    const msgs = packUpdates(BASE, batch, ctx);
    checkPacking(msgs, batch, ctx, true);
    if (ctx.maxLength === 65535) assert.ok(msgs.some((m) => m.length > 60000));
  }
});

test('IPv6 packer: 32-byte next hop, extended length MP_REACH, exact fill at 4096 and 65535', () => {
  const batch = new PrefixBatch(2);
  for (let i = 0; i < 9000; i++) batch.addV6(0x20010db8, i, i * 7, 0, 64 + (i % 65));
  const attrs: PathAttributes = {
    ...BASE,
    nextHop: undefined,
    mpNextHop: { global: Buffer.alloc(16, 0x20), linkLocal: Buffer.from([0xfe, 0x80, ...new Array<number>(14).fill(1)]) },
  };
  for (const ctx of [encodeContext(), encodeContext({ maxLength: 65535 })]) {
    const msgs = packUpdates(attrs, batch, ctx);
    const parsed = checkPacking(msgs, batch, ctx, false);
    for (const p of parsed) assert.deepEqual(p.attrs, attrs);
    // Full messages carry MP_REACH with the extended length flag.
    assert.equal(msgs[0]![23], 0x90);
  }
});

test('withdrawals: classic field for IPv4, MP_UNREACH for IPv6, with and without ADD-PATH', () => {
  const v4 = new PrefixBatch(1);
  for (let i = 0; i < 2500; i++) v4.addV4(i << 12, 20, i);
  const v6 = new PrefixBatch(2);
  for (let i = 0; i < 2500; i++) v6.addV6(0x20010db8, i, 0, 0, 48, i);
  for (const addPathTx of [0, 3]) {
    const ctx = encodeContext({ addPathTx });
    const m4 = packWithdrawals(v4, ctx);
    const p4 = checkPacking(m4, v4, ctx, addPathTx !== 0);
    for (const p of p4) {
      assert.equal(p.attrEnd - p.attrStart, 0);
      assert.ok(p.withdrawnCount > 0);
    }
    const m6 = packWithdrawals(v6, ctx);
    const p6 = checkPacking(m6, v6, ctx, addPathTx !== 0);
    for (const p of p6) {
      assert.ok(p.mpUnreach !== null && p.mpUnreach.count > 0);
      assert.equal(p.typeCount, 1);
    }
  }
  // A single IPv6 withdrawal: 1-octet attribute length.
  const one = new PrefixBatch(2);
  one.addV6(0x20010db8, 0, 0, 0, 32);
  const [msg] = packWithdrawals(one, encodeContext());
  assert.deepEqual([...msg!.subarray(19)], [0, 0, 0, 11, 0x80, 15, 8, 0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8]);
});

test('packer refuses what cannot be sent', () => {
  const v4 = new PrefixBatch(1);
  v4.addV4(0, 0);
  assert.throws(() => packUpdates({ ...BASE, nextHop: undefined }, v4, encodeContext()), RangeError);
  const huge = { ...BASE, unknown: [{ flags: 0xe0, type: 200, value: Buffer.alloc(4060) }] };
  assert.throws(() => packUpdates(huge, v4, encodeContext()), RangeError);
  assert.equal(packUpdates(huge, v4, encodeContext({ maxLength: 65535 })).length, 1);
  const v6 = new PrefixBatch(2);
  v6.addV6(0, 0, 0, 0, 0);
  assert.throws(() => packUpdates(BASE, v6, encodeContext()), RangeError);
  assert.deepEqual(packUpdates(BASE, new PrefixBatch(1), encodeContext()), []);
});

// ---------------------------------------------------------------------------------
// Property: decode(encode(x)) == x.

const KNOWN = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const asn = fc.integer({ min: 1, max: 0xffffffff });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

function attrsArb(fourOctetAs: boolean, v6: boolean): fc.Arbitrary<PathAttributes> {
  // Confederation segments only on 4-octet sessions: towards an OLD speaker they are
  // left out of AS4_PATH, so the merge cannot rebuild a path with confed segments in
  // the middle (RFC 6793 §4.2.3 is lossy there).
  const segType = fourOctetAs ? fc.constantFrom(1, 2, 3, 4) : fc.constantFrom(1, 2);
  const seg = fc.record({ type: segType as fc.Arbitrary<1 | 2 | 3 | 4>, asns: fc.array(asn, { minLength: 1, maxLength: 12 }) }).map(
    (r) => ({ ...r }),
  );
  // From an OLD peer an AGGREGATOR that is not AS_TRANS voids AS4_PATH (RFC 6793
  // §4.2.3), so 2-octet aggregators would not round-trip a 4-octet path.
  const aggAsn = fourOctetAs ? asn : fc.integer({ min: 0x10000, max: 0xffffffff });
  const unknown = fc
    .uniqueArray(
      fc.record({
        flags: fc.constant(0xe0),
        type: fc.integer({ min: 19, max: 255 }).filter((t) => !KNOWN.has(t)),
        value: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      }),
      { selector: (u) => u.type, maxLength: 3 },
    )
    .map((us) => us.map((u) => ({ ...u })).sort((a, b) => a.type - b.type));
  return fc.record({
    origin: fc.constantFrom(0, 1, 2) as fc.Arbitrary<0 | 1 | 2>,
    asPath: fc.array(seg, { maxLength: 5 }),
    nextHop: v6 ? fc.constant(undefined) : fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => Buffer.from(a)),
    med: opt(u32),
    localPref: opt(u32),
    atomicAggregate: fc.boolean(),
    aggregator: opt(fc.record({ asn: aggAsn, address: u32 }).map((r) => ({ ...r }))),
    communities: opt(fc.uint32Array({ minLength: 1, maxLength: 40 })),
    originatorId: opt(u32),
    clusterList: opt(fc.uint32Array({ minLength: 1, maxLength: 10 })),
    extendedCommunities: opt(fc.integer({ min: 1, max: 10 }).chain((n) => fc.uint8Array({ minLength: 8 * n, maxLength: 8 * n }))).map(
      (a) => (a === undefined ? undefined : Buffer.from(a)),
    ),
    largeCommunities: opt(fc.integer({ min: 1, max: 10 }).chain((n) => fc.uint32Array({ minLength: 3 * n, maxLength: 3 * n }))),
    mpNextHop: v6
      ? fc.record({
          global: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a)),
          linkLocal: opt(fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a))),
        })
      : fc.constant(undefined),
    unknown,
  }).map((r) => ({ ...r, mpNextHop: r.mpNextHop === undefined ? undefined : { ...r.mpNextHop } }));
}

test('property: packUpdates → parse gives back the attributes and every prefix', () => {
  const scenario = fc
    .record({ fourOctetAs: fc.boolean(), v6: fc.boolean(), addPath: fc.boolean(), big: fc.boolean() })
    .chain((s) =>
      fc.record({
        s: fc.constant(s),
        attrs: attrsArb(s.fourOctetAs, s.v6),
        prefixes: fc.array(
          fc.record({
            words: fc.uint32Array({ minLength: 4, maxLength: 4 }),
            len: fc.integer({ min: 0, max: s.v6 ? 128 : 32 }),
            id: u32,
          }),
          { minLength: 1, maxLength: 1500 },
        ),
      }),
    );
  fc.assert(
    fc.property(scenario, ({ s, attrs, prefixes }) => {
      const fb = s.v6 ? 2 : 1;
      const ctx = encodeContext({ fourOctetAs: s.fourOctetAs, addPathTx: s.addPath ? fb : 0, maxLength: s.big ? 65535 : 4096 });
      const batch = new PrefixBatch(s.v6 ? 2 : 1);
      for (const p of prefixes) {
        if (s.v6) batch.addV6(p.words[0]!, p.words[1]!, p.words[2]!, p.words[3]!, p.len, p.id);
        else batch.addV4(p.words[0]!, p.len, p.id);
      }
      const msgs = packUpdates(attrs, batch, ctx);
      const parsed = checkPacking(msgs, batch, ctx, s.addPath);
      for (const p of parsed) assert.deepEqual(p.attrs, attrs);
      // Masking is what the batch promised.
      for (let i = 0; i < prefixes.length && !s.v6; i++) {
        assert.equal(batch.words[i], (prefixes[i]!.words[0]! & maskBits(prefixes[i]!.len)) >>> 0);
      }
      const w = packWithdrawals(batch, ctx);
      checkPacking(w, batch, ctx, s.addPath);
    }),
    { numRuns: 150 },
  );
});
