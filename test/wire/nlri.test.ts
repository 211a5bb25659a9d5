import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BgpError } from '../../src/wire/errors.js';
import {
  countNlri,
  maskBits,
  nlriEntrySize,
  NlriCursor,
  writeNlriV4,
  writeNlriV6,
  writePathId,
} from '../../src/wire/nlri/prefix.js';
import { PrefixBatch } from '../../src/wire/nlri/batch.js';
import { formatAddress, formatPrefix, formatV4, parseAddress, parsePrefix } from '../../src/wire/nlri/format.js';

function collectV4(buf: Buffer, addPath = false): string[] {
  const c = new NlriCursor().reset(buf, 0, buf.length, 1, addPath);
  const out: string[] = [];
  while (c.next()) out.push(`${addPath ? `${c.pathId}:` : ''}${formatV4(c.addr, c.length)}`);
  return out;
}

function collectV6(buf: Buffer, addPath = false): string[] {
  const c = new NlriCursor().reset(buf, 0, buf.length, 2, addPath);
  const bytes = new Uint8Array(16);
  const out: string[] = [];
  while (c.next()) {
    c.addrBytes(bytes);
    out.push(`${addPath ? `${c.pathId}:` : ''}${formatPrefix(2, bytes, c.length)}`);
  }
  return out;
}

test('maskBits gives network masks, including the 0 and 32 edges', () => {
  assert.equal(maskBits(0), 0);
  assert.equal(maskBits(1), 0x80000000);
  assert.equal(maskBits(8), 0xff000000);
  assert.equal(maskBits(31), 0xfffffffe);
  assert.equal(maskBits(32), 0xffffffff);
  assert.equal(maskBits(-5), 0);
  assert.equal(maskBits(40), 0xffffffff);
});

test('IPv4 NLRI: lengths 0, 8, 24, 32 and 1-byte prefixes decode', () => {
  const buf = Buffer.from([0, 8, 10, 24, 192, 168, 1, 32, 192, 0, 2, 255, 1, 0x80]);
  assert.equal(countNlri(buf, 0, buf.length, 32, false), 5);
  assert.deepEqual(collectV4(buf), ['0.0.0.0/0', '10.0.0.0/8', '192.168.1.0/24', '192.0.2.255/32', '128.0.0.0/1']);
});

test('host bits beyond the prefix length are zeroed (RFC 4271: ignored)', () => {
  // 10.255.x/9 sent as 10.255: only the top bit of the 2nd byte counts.
  const buf = Buffer.from([9, 10, 0xff, 20, 172, 16, 0xff]);
  assert.deepEqual(collectV4(buf), ['10.128.0.0/9', '172.16.240.0/20']);
  const v6 = Buffer.from([33, 0x20, 0x01, 0x0d, 0xb8, 0xff]);
  assert.deepEqual(collectV6(v6), ['2001:db8:8000::/33']);
});

test('ADD-PATH NLRI: a 4-byte path id precedes each prefix (RFC 7911)', () => {
  const buf = Buffer.from([0, 0, 0, 1, 24, 10, 1, 2, 0xff, 0xff, 0xff, 0xff, 16, 10, 2]);
  assert.equal(countNlri(buf, 0, buf.length, 32, true), 2);
  assert.deepEqual(collectV4(buf, true), ['1:10.1.2.0/24', '4294967295:10.2.0.0/16']);
  // Read without ADD-PATH the same bytes go wrong (a path id octet 0xff ends up as a length).
  assert.equal(countNlri(buf, 0, buf.length, 32, false), -1);
});

test('malformed NLRI fields are refused by countNlri and by the cursor', () => {
  const cases: [number[], number, boolean][] = [
    [[33, 1, 2, 3, 4, 5], 32, false], // prefix length > 32
    [[129, ...new Array<number>(17).fill(0)], 128, false], // > 128
    [[24, 10, 1], 32, false], // overrun
    [[0, 0, 0, 1], 32, true], // path id without length octet
    [[0, 0, 0], 32, true], // truncated path id
  ];
  for (const [bytes, max, ap] of cases) {
    const buf = Buffer.from(bytes);
    assert.equal(countNlri(buf, 0, buf.length, max, ap), -1, JSON.stringify(bytes));
    const c = new NlriCursor().reset(buf, 0, buf.length, max === 128 ? 2 : 1, ap);
    assert.throws(
      () => {
        while (c.next());
      },
      (e: unknown) => e instanceof BgpError && e.code === 3 && e.subcode === 10,
    );
  }
  // An empty field is valid and empty.
  assert.equal(countNlri(Buffer.alloc(0), 0, 0, 32, false), 0);
});

test('IPv6 NLRI decodes into four words', () => {
  const buf = Buffer.from([
    64, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, // 2001:db8:1:2::/64
    128, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // fe80::1/128
    0, // ::/0
  ]);
  const c = new NlriCursor().reset(buf, 0, buf.length, 2, false);
  assert.ok(c.next());
  assert.deepEqual([c.w0, c.w1, c.w2, c.w3, c.length], [0x20010db8, 0x00010002, 0, 0, 64]);
  assert.ok(c.next());
  assert.deepEqual([c.w0, c.w1, c.w2, c.w3, c.length], [0xfe800000, 0, 0, 1, 128]);
  assert.ok(c.next());
  assert.deepEqual([c.w0, c.w1, c.w2, c.w3, c.length], [0, 0, 0, 0, 0]);
  assert.equal(c.next(), false);
});

test('writeNlriV4/V6 write the shortest form with host bits cleared', () => {
  const out = Buffer.alloc(64);
  let p = writeNlriV4(out, 0, 0x0a0b0c0d, 12);
  assert.deepEqual([...out.subarray(0, p)], [12, 10, 0]);
  p = writeNlriV4(out, 0, 0xffffffff, 0);
  assert.deepEqual([...out.subarray(0, p)], [0]);
  p = writePathId(out, 0, 7);
  p = writeNlriV4(out, p, 0xc0000201, 32);
  assert.deepEqual([...out.subarray(0, p)], [0, 0, 0, 7, 32, 192, 0, 2, 1]);
  p = writeNlriV6(out, 0, 0x20010db8, 0xffffffff, 0, 0, 48);
  assert.deepEqual([...out.subarray(0, p)], [48, 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff]);
  assert.equal(nlriEntrySize(48, false), 7);
  assert.equal(nlriEntrySize(0, true), 5);
});

test('property: IPv4 and IPv6 prefixes round-trip through PrefixBatch and the cursor', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.nat()), {
        maxLength: 50,
      }),
      fc.boolean(),
      (items, addPath) => {
        const batch = new PrefixBatch(1, 2);
        for (const [a, l, id] of items) batch.addV4(a, l, id);
        const buf = Buffer.alloc(items.length * 9);
        let p = 0;
        for (let i = 0; i < batch.count; i++) p = batch.write(i, buf, p, addPath);
        assert.equal(countNlri(buf, 0, p, 32, addPath), items.length);
        const c = new NlriCursor().reset(buf, 0, p, 1, addPath);
        for (const [a, l, id] of items) {
          assert.ok(c.next());
          assert.equal(c.length, l);
          assert.equal(c.addr, (a & maskBits(l)) >>> 0);
          assert.equal(c.pathId, addPath ? id >>> 0 : 0);
        }
        assert.equal(c.next(), false);
      },
    ),
    { numRuns: 200 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 128 })), {
        maxLength: 30,
      }),
      (items) => {
        const batch = new PrefixBatch(2);
        for (const [bytes, l] of items) batch.addBytes(bytes, l, 0);
        const buf = Buffer.alloc(items.length * 17);
        let p = 0;
        for (let i = 0; i < batch.count; i++) p = batch.write(i, buf, p, false);
        const c = new NlriCursor().reset(buf, 0, p, 2, false);
        const got = new Uint8Array(16);
        for (const [bytes, l] of items) {
          assert.ok(c.next());
          c.addrBytes(got);
          // Expected: byte-wise masking, independent of the word-wise code under test.
          const want = Buffer.from(bytes.map((v, k) => v & ((0xff << (8 - Math.max(0, Math.min(8, l - 8 * k)))) & 0xff)));
          assert.deepEqual(Buffer.from(got), want);
          assert.equal(c.length, l);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('formatPrefix / parsePrefix (RFC 5952 text for IPv6)', () => {
  assert.equal(formatPrefix(1, Buffer.from([10, 0, 0, 0]), 8), '10.0.0.0/8');
  const v6 = (s: string) => formatAddress(2, parseAddress(s).bytes);
  assert.equal(v6('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(v6('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.equal(v6('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // first of equal runs
  assert.equal(v6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // a single 0 group is not shortened
  assert.equal(v6('::'), '::');
  assert.equal(v6('::1'), '::1');
  assert.equal(v6('fe80::'), 'fe80::');
  assert.equal(v6('::ffff:192.0.2.1'), '::ffff:c000:201');
  const p = parsePrefix('10.1.2.3/8');
  assert.deepEqual(p, { afi: 1, bytes: Buffer.from([10, 0, 0, 0]), len: 8 });
  const q = parsePrefix('2001:db8:ffff::/33');
  assert.equal(formatPrefix(q.afi, q.bytes, q.len), '2001:db8:8000::/33');
  assert.equal(parsePrefix('192.0.2.1').len, 32);
  for (const bad of ['10.0.0.0/33', '1.2.3', '256.0.0.0/8', '1:2:3:4:5:6:7:8:9', '1::2::3', 'x', '::/129', '10.0.0.0/']) {
    assert.throws(() => parsePrefix(bad), Error, bad);
  }
});

test('PrefixBatch grows, refuses bad lengths and mixed families', () => {
  const b = new PrefixBatch(1, 1);
  for (let i = 0; i < 100; i++) b.addV4(i << 8, 24);
  assert.equal(b.count, 100);
  assert.equal(b.words[99], 99 << 8);
  assert.throws(() => b.addV4(0, 33), RangeError);
  assert.throws(() => b.addV6(0, 0, 0, 0, 64), RangeError);
  assert.throws(() => new PrefixBatch(3), RangeError);
  b.clear();
  assert.equal(b.count, 0);
});
