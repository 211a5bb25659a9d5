// Thousands of corrupted valid UPDATEs: each must end as a clean parse, an RFC 7606
// action, or a BgpError with code 3 — never another exception, never a hang. The PRNG
// is seeded, so a failure names the seed and mutation that reproduce it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BgpError, UpdateAction } from '../../src/wire/errors.js';
import { updateContext, type UpdateContext } from '../../src/wire/attrs/context.js';
import { fnv1a } from '../../src/wire/attrs/hash.js';
import { emptyAttributes, type PathAttributes } from '../../src/wire/attrs/types.js';
import { NlriCursor } from '../../src/wire/nlri/prefix.js';
import { PrefixBatch } from '../../src/wire/nlri/batch.js';
import { decodeAttributes, locateUpdate, ParsedUpdate } from '../../src/wire/update.js';
import { encodeContext, encodeEndOfRib, packUpdates, packWithdrawals } from '../../src/wire/update-encoder.js';
import { rng, tlv, updateBody, ORIGIN_IGP, NEXT_HOP } from './update-helpers.js';


interface Seed {
  name: string;
  body: Buffer;
  ctx: UpdateContext;
}

function seeds(): Seed[] {
  const out: Seed[] = [];
  const attrs: PathAttributes = {
    ...emptyAttributes(),
    origin: 1,
    asPath: [
      { type: 2, asns: [65001, 70000, 3] },
      { type: 1, asns: [10, 20] },
    ],
    nextHop: Buffer.from([192, 0, 2, 1]),
    med: 7,
    localPref: 100,
    atomicAggregate: true,
    aggregator: { asn: 70000, address: 0x0a000001 },
    communities: new Uint32Array([1, 2]),
    originatorId: 5,
    clusterList: new Uint32Array([6, 7]),
    extendedCommunities: Buffer.alloc(16, 3),
    largeCommunities: new Uint32Array([1, 2, 3]),
    mpNextHop: {
      global: Buffer.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]),
      linkLocal: Buffer.from([0xfe, 0x80, ...new Array<number>(13).fill(0), 2]),
    },
    unknown: [{ flags: 0xe0, type: 99, value: Buffer.from([1, 2, 3]) }],
  };
  const v4 = new PrefixBatch(1);
  for (let i = 0; i < 6; i++) v4.addV4((0x0a000000 + i * 0x10100) >>> 0, 16 + i * 3, i + 1);
  const v6 = new PrefixBatch(2);
  for (let i = 0; i < 5; i++) v6.addV6(0x20010db8, i << 16, 0, 0, 40 + i * 17, i + 1);
  const body = (m: Buffer) => m.subarray(19);
  for (const fourOctetAs of [true, false]) {
    for (const addPath of [0, 3]) {
      const ectx = encodeContext({ fourOctetAs, addPathTx: addPath });
      const dctx = updateContext({ fourOctetAs, addPathRx: addPath });
      const tag = `${fourOctetAs ? '4' : '2'}-octet${addPath ? ' add-path' : ''}`;
      out.push({ name: `v4 ${tag}`, body: body(packUpdates(attrs, v4, ectx)[0]!), ctx: dctx });
      out.push({ name: `v6 ${tag}`, body: body(packUpdates(attrs, v6, ectx)[0]!), ctx: dctx });
      out.push({ name: `v4 withdraw ${tag}`, body: body(packWithdrawals(v4, ectx)[0]!), ctx: dctx });
      out.push({ name: `v6 withdraw ${tag}`, body: body(packWithdrawals(v6, ectx)[0]!), ctx: dctx });
    }
  }
  out.push({ name: 'EoR v4', body: body(encodeEndOfRib(1, 1)), ctx: updateContext() });
  out.push({ name: 'EoR v6', body: body(encodeEndOfRib(2, 1)), ctx: updateContext() });
  out.push({
    name: 'OLD peer with AS4_PATH and extended lengths',
    body: updateBody({
      withdrawn: [8, 11],
      attrs: [
        ORIGIN_IGP,
        tlv(0x50, 2, [2, 3, 0, 100, 0x5b, 0xa0, 0x5b, 0xa0]),
        NEXT_HOP,
        tlv(0xc0, 7, [0x5b, 0xa0, 10, 0, 0, 1]),
        tlv(0xd0, 17, [2, 2, 0, 1, 0x11, 0x70, 0, 1, 0x38, 0x80]),
        tlv(0xc0, 18, [0, 1, 0x11, 0x70, 10, 0, 0, 1]),
        tlv(0x80, 14, [0, 1, 128, 12, ...new Array<number>(12).fill(1), 0, 88, 1, 2, 3]),
      ],
      nlri: [8, 10, 32, 1, 2, 3, 4],
    }),
    ctx: updateContext({ fourOctetAs: false, ebgp: true, peerAs: 100, enforceFirstAs: true }),
  });
  return out;
}

/** Offsets of length fields in a valid body: the two section lengths and every TLV length. */
function lengthFields(body: Buffer): number[] {
  const out = [0, 1];
  const wlen = body.readUInt16BE(0);
  const aAt = 2 + wlen;
  out.push(aAt, aAt + 1);
  let p = aAt + 2;
  const end = p + body.readUInt16BE(aAt);
  while (p + 3 <= end) {
    const ext = (body[p]! & 0x10) !== 0;
    out.push(p, p + 2); // flags (toggles extended length) and length
    if (ext) out.push(p + 3);
    const len = ext ? body.readUInt16BE(p + 2) : body[p + 2]!;
    if (body[p + 1] === 14) out.push((ext ? p + 4 : p + 3) + 3); // MP next hop length
    p += (ext ? 4 : 3) + len;
  }
  return out;
}

function mutate(src: Buffer, r: () => number): Buffer {
  let buf = Buffer.from(src);
  const rounds = 1 + (r() % 3);
  for (let k = 0; k < rounds; k++) {
    const n = buf.length;
    switch (r() % 7) {
      case 0: // bit flips
        if (n > 0) buf[r() % n]! ^= 1 << (r() % 8);
        break;
      case 1: // truncation
        buf = buf.subarray(0, r() % (n + 1));
        break;
      case 2: // random byte
        if (n > 0) buf[r() % n] = r() & 0xff;
        break;
      case 3: {
        // length field edits: small nudges and wild values
        const fields = lengthFields(src).filter((o) => o < n);
        if (fields.length === 0) break;
        const at = fields[r() % fields.length]!;
        const v = buf[at]!;
        const choices = [v + 1, v - 1, v + 4, v - 4, 0, 0xff, r() & 0xff];
        buf[at] = choices[r() % choices.length]! & 0xff;
        break;
      }
      case 4: {
        // insert random bytes
        const at = r() % (n + 1);
        const extra = Buffer.from(Array.from({ length: 1 + (r() % 4) }, () => r() & 0xff));
        buf = Buffer.concat([buf.subarray(0, at), extra, buf.subarray(at)]);
        break;
      }
      case 5: {
        // delete a range
        const at = r() % (n + 1);
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(Math.min(n, at + 1 + (r() % 4)))]);
        break;
      }
      default: {
        // NLRI-ish byte: a prefix length that is too big
        if (n > 0) buf[n - 1 - (r() % Math.min(n, 8))] = 33 + (r() % 100);
      }
    }
  }
  return buf;
}

const cursor = new NlriCursor();
function walk(p: ParsedUpdate, start: number, end: number, afi: number, addPath: boolean): number {
  assert.ok(start >= 0 && start <= end && end <= p.buf.length, `range ${start}..${end} of ${p.buf.length}`);
  cursor.reset(p.buf, start, end, afi, addPath);
  let n = 0;
  while (cursor.next()) n++;
  return n;
}

/** Everything a caller may rely on, whatever the input. */
function check(body: Buffer, ctx: UpdateContext, p: ParsedUpdate): void {
  locateUpdate(body, ctx, p);
  assert.ok(p.action >= UpdateAction.NONE && p.action <= UpdateAction.SESSION_RESET);
  assert.notEqual(p.action, UpdateAction.AFI_SAFI_DISABLE); // we never choose it
  if (p.action === UpdateAction.SESSION_RESET) {
    assert.ok(p.error instanceof BgpError);
    assert.equal(p.error.code, 3);
    assert.ok([1, 2, 4, 9, 10].includes(p.error.subcode), `subcode ${p.error.subcode}`);
    assert.equal(decodeAttributes(p, ctx), null);
    return;
  }
  assert.equal(p.error, null);
  if (p.action < UpdateAction.TREAT_AS_WITHDRAW) assert.equal(p.attrHash, fnv1a(p.attrKey));
  else assert.equal(p.attrKey.length, 0);
  // Every range the RIB will walk is valid and holds what locate counted.
  assert.equal(walk(p, p.withdrawnStart, p.withdrawnEnd, 1, p.classicAddPath), p.withdrawnCount);
  assert.equal(walk(p, p.nlriStart, p.nlriEnd, 1, p.classicAddPath), p.nlriCount);
  const r = p.mpReach;
  if (r !== null && r.supported) assert.equal(walk(p, r.nlriStart, r.nlriEnd, r.afi, r.addPath), r.count);
  const u = p.mpUnreach;
  if (u !== null && u.supported) assert.equal(walk(p, u.nlriStart, u.nlriEnd, u.afi, u.addPath), u.count);
  const before = p.action;
  const attrs = decodeAttributes(p, ctx);
  assert.ok(attrs !== null);
  assert.ok(p.action >= before && p.action <= UpdateAction.TREAT_AS_WITHDRAW, `decode raised to ${p.action}`);
  assert.equal(p.error, null);
  for (const seg of attrs.asPath) assert.ok(seg.asns.length > 0 && seg.type >= 1 && seg.type <= 4);
}

test('every seed parses cleanly before mutation', () => {
  const p = new ParsedUpdate();
  for (const s of seeds()) {
    check(s.body, s.ctx, p);
    assert.equal(p.action, UpdateAction.NONE, `${s.name}: ${p.reason}`);
  }
});

test('corrupted UPDATEs: clean parse, RFC 7606 action or BgpError(3, …) — nothing else', () => {
  const all = seeds();
  const alt = [updateContext(), updateContext({ fourOctetAs: false, addPathRx: 3, ebgp: true, peerAs: 65001, enforceFirstAs: true })];
  const p = new ParsedUpdate();
  const tally = [0, 0, 0, 0, 0];
  const PER_SEED = 400;
  for (let si = 0; si < all.length; si++) {
    const s = all[si]!;
    const r = rng(0x9e3779b9 ^ (si * 7919));
    for (let i = 0; i < PER_SEED; i++) {
      const body = mutate(s.body, r);
      for (const ctx of [s.ctx, alt[i & 1]!]) {
        try {
          check(body, ctx, p);
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          assert.fail(`seed "${s.name}" mutation ${i} body ${body.toString('hex')}: ${msg}`);
        }
        tally[p.action]!++;
      }
    }
  }
  const total = tally.reduce((a, b) => a + b, 0);
  if (process.env.SHOW_TALLY) console.log(tally);
  assert.equal(total, all.length * PER_SEED * 2);
  // The corpus reaches every outcome we produce (otherwise the mutations are too tame).
  assert.ok(tally[UpdateAction.NONE]! > 0, 'some clean parses');
  assert.ok(tally[UpdateAction.ATTRIBUTE_DISCARD]! > 0, 'some discards');
  assert.ok(tally[UpdateAction.TREAT_AS_WITHDRAW]! > 0, 'some withdrawals');
  assert.ok(tally[UpdateAction.SESSION_RESET]! > 0, 'some resets');
});
