import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { maskBits } from '../../src/wire/nlri/prefix.js';
import { PrefixTableV4, PrefixTableV6 } from '../../src/rib/prefix-table.js';


// Small key spaces so that operations hit existing keys often; the tiny initial
// capacity forces many rehashes and long probe runs (exercising backward shift).
const op4 = fc.record({
  kind: fc.constantFrom<'ins' | 'del' | 'find'>('ins', 'ins', 'del', 'find'),
  addr: fc.integer({ min: 0, max: 63 }).map((x) => ((x * 0x01000000) | (x & 7)) >>> 0),
  len: fc.constantFrom(0, 8, 24, 29, 32),
});

function checkV4(t: PrefixTableV4, ref: Map<string, number>): void {
  assert.equal(t.size, ref.size);
  const seen = new Set<number>();
  for (let s = t.nextLive(0); s >= 0; s = t.nextLive(s + 1)) {
    const k = `${t.addrOf(s)}/${t.prefixLength(s)}`;
    assert.equal(ref.get(k), s, `slot ${s} holds ${k}`);
    seen.add(s);
  }
  assert.equal(seen.size, ref.size);
  for (const [k, s] of ref) {
    const [a, l] = k.split('/').map(Number) as [number, number];
    assert.equal(t.find(a, l), s);
  }
}

test('PrefixTableV4 agrees with a Map under random insert/delete/find', () => {
  fc.assert(
    fc.property(fc.array(op4, { maxLength: 300 }), (ops) => {
      const t = new PrefixTableV4(1);
      const ref = new Map<string, number>();
      for (const o of ops) {
        const addr = (o.addr & maskBits(o.len)) >>> 0;
        const k = `${addr}/${o.len}`;
        if (o.kind === 'ins') {
          const s = t.insert(addr, o.len);
          assert.equal(t.inserted, !ref.has(k));
          if (ref.has(k)) assert.equal(s, ref.get(k));
          else {
            // A new key never takes a slot that is still in use.
            assert.ok(![...ref.values()].includes(s));
            ref.set(k, s);
          }
        } else if (o.kind === 'del') {
          const s = t.delete(addr, o.len);
          assert.equal(s, ref.get(k) ?? -1);
          ref.delete(k);
        } else {
          assert.equal(t.find(addr, o.len), ref.get(k) ?? -1);
        }
      }
      checkV4(t, ref);
    }),
    { numRuns: 200 },
  );
});

test('PrefixTableV4 reuses freed slots and keeps slotLimit', () => {
  const t = new PrefixTableV4(16);
  const a = t.insert(0x0a000000, 8);
  const b = t.insert(0x0b000000, 8);
  assert.deepEqual([a, b], [0, 1]);
  t.deleteSlot(a);
  assert.equal(t.isLive(a), false);
  assert.equal(t.find(0x0a000000, 8), -1);
  const c = t.insert(0xc0a80000, 16);
  assert.equal(c, a, 'the freed slot is handed out again');
  assert.equal(t.addrOf(c), 0xc0a80000);
  assert.equal(t.prefixLength(c), 16);
  assert.equal(t.slotLimit, 2);
  assert.throws(() => t.deleteSlot(5), RangeError);
});

test('PrefixTableV4 grows to 100k prefixes and finds them all', () => {
  const t = new PrefixTableV4(16);
  const n = 100_000;
  for (let i = 0; i < n; i++) t.insert((i << 8) >>> 0, 24);
  assert.equal(t.size, n);
  for (let i = 0; i < n; i++) assert.equal(t.find((i << 8) >>> 0, 24), i);
  assert.equal(t.find((n << 8) >>> 0, 24), -1);
  assert.equal(t.find(0, 23), -1, 'same address, other length');
  // Delete every other one, then check the rest are still reachable.
  for (let i = 0; i < n; i += 2) t.delete((i << 8) >>> 0, 24);
  assert.equal(t.size, n / 2);
  for (let i = 1; i < n; i += 2) assert.equal(t.find((i << 8) >>> 0, 24), i);
  for (let i = 0; i < n; i += 2) assert.equal(t.find((i << 8) >>> 0, 24), -1);
});

test('PrefixTableV4 handles the extremes of the key space', () => {
  const t = new PrefixTableV4();
  const s0 = t.insert(0, 0);
  const s1 = t.insert(0xffffffff, 32);
  const s2 = t.insert(0x80000000, 1);
  assert.equal(t.addrOf(s0), 0);
  assert.equal(t.addrOf(s1), 0xffffffff);
  assert.equal(t.prefixLength(s1), 32);
  assert.equal(t.addrOf(s2), 0x80000000);
  assert.equal(t.find(0xffffffff, 32), s1);
  assert.throws(() => t.insert(0, 33), RangeError);
});

type Op6 = { kind: 'ins' | 'del' | 'find'; w: [number, number, number, number]; len: number };
const word = fc.constantFrom(0, 1, 0x20010db8, 0xffffffff, 0x80000000);
const op6 = fc.record({
  kind: fc.constantFrom<'ins' | 'del' | 'find'>('ins', 'ins', 'del', 'find'),
  w: fc.tuple(word, word, word, word),
  len: fc.constantFrom(0, 32, 48, 64, 127, 128),
});

function mask6(w: readonly number[], len: number): [number, number, number, number] {
  return [0, 1, 2, 3].map((i) => (w[i]! & maskBits(len - 32 * i)) >>> 0) as [number, number, number, number];
}

test('PrefixTableV6 agrees with a Map under random insert/delete/find', () => {
  fc.assert(
    fc.property(fc.array(op6 as fc.Arbitrary<Op6>, { maxLength: 300 }), (ops) => {
      const t = new PrefixTableV6(1);
      const ref = new Map<string, number>();
      for (const o of ops) {
        const w = mask6(o.w, o.len);
        const k = `${w.join(':')}/${o.len}`;
        if (o.kind === 'ins') {
          const s = t.insert(w[0], w[1], w[2], w[3], o.len);
          assert.equal(t.inserted, !ref.has(k));
          if (ref.has(k)) assert.equal(s, ref.get(k));
          else ref.set(k, s);
        } else if (o.kind === 'del') {
          assert.equal(t.delete(w[0], w[1], w[2], w[3], o.len), ref.get(k) ?? -1);
          ref.delete(k);
        } else {
          assert.equal(t.find(w[0], w[1], w[2], w[3], o.len), ref.get(k) ?? -1);
        }
      }
      assert.equal(t.size, ref.size);
      let live = 0;
      for (let s = t.nextLive(0); s >= 0; s = t.nextLive(s + 1)) {
        const ws = [0, 1, 2, 3].map((i) => t.word(s, i));
        assert.equal(ref.get(`${ws.join(':')}/${t.prefixLength(s)}`), s);
        live++;
      }
      assert.equal(live, ref.size);
    }),
    { numRuns: 200 },
  );
});

test('PrefixTableV6 addrBytes writes the address big-endian', () => {
  const t = new PrefixTableV6();
  const s = t.insert(0x20010db8, 0x00010002, 0, 0x000000ff, 128);
  const out = new Uint8Array(16);
  t.addrBytes(s, out);
  assert.deepEqual(Array.from(out), [0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0xff]);
  assert.throws(() => t.insert(0, 0, 0, 0, 129), RangeError);
});

test('PrefixTableV4 clear empties the table', () => {
  const t = new PrefixTableV4();
  t.insert(1 << 24, 8);
  t.clear();
  assert.equal(t.size, 0);
  assert.equal(t.find(1 << 24, 8), -1);
  assert.equal(t.nextLive(0), -1);
  assert.equal(t.insert(1 << 24, 8), 0);
});

test('PrefixTableV4 deletion keeps probe runs that wrap around the bucket array', async () => {
  const { hashV4 } = await import('../../src/rib/prefix-table.js');
  // 16 initial slots → 32 buckets (mask 31), no rehash below 22 entries. Pick /32s whose
  // home bucket is 28..31 or 0..1 (three each), so their probe runs cross the end of the array.
  const keys: number[] = [];
  const perHome = new Map<number, number>();
  for (let a = 1; keys.length < 18; a++) {
    const home = hashV4(a, 32) & 31;
    const n = perHome.get(home) ?? 0;
    if ((home >= 28 || home <= 1) && n < 3) {
      keys.push(a);
      perHome.set(home, n + 1);
    }
  }
  fc.assert(
    fc.property(fc.shuffledSubarray(keys, { minLength: 1 }), fc.shuffledSubarray(keys), (order, dels) => {
      const t = new PrefixTableV4(16);
      for (const a of order) t.insert(a, 32);
      const live = new Set(order);
      for (const a of dels) {
        assert.equal(t.delete(a, 32) >= 0, live.has(a));
        live.delete(a);
        for (const b of keys) assert.equal(t.find(b, 32) >= 0, live.has(b), `key ${b} after deleting ${a}`);
      }
    }),
    { numRuns: 300 },
  );
});
