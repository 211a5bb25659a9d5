import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { formatIp, formatPrefix, hostBitsZero, isLinkLocal6, parseIp, parsePrefix, prefixContains } from '../../src/fib/ip.js';

test('parseIp: IPv4 and IPv6 forms', () => {
  assert.deepEqual([...parseIp('10.1.2.3')!.bytes], [10, 1, 2, 3]);
  assert.equal(parseIp('256.1.1.1'), null);
  assert.equal(parseIp('1.2.3'), null);
  assert.equal(parseIp('01.2.3.4'), null, 'leading zeros are ambiguous (octal)');
  const v6 = parseIp('2001:db8::1')!;
  assert.equal(v6.family, 6);
  assert.equal(Buffer.from(v6.bytes).toString('hex'), '20010db8000000000000000000000001');
  assert.equal(Buffer.from(parseIp('::')!.bytes).toString('hex'), '0'.repeat(32));
  assert.equal(Buffer.from(parseIp('::ffff:10.0.0.1')!.bytes).toString('hex'), '00000000000000000000ffff0a000001');
  assert.equal(Buffer.from(parseIp('fe80::1%eth0')!.bytes).toString('hex'), 'fe800000000000000000000000000001');
  assert.equal(parseIp('1::2::3'), null);
  assert.equal(parseIp('1:2:3:4:5:6:7'), null);
  assert.equal(parseIp('1:2:3:4:5:6:7:8:9'), null);
  assert.equal(parseIp('12345::'), null);
});

test('formatIp follows RFC 5952 (section 4 examples)', () => {
  const f = (s: string): string => formatIp(parseIp(s)!.bytes, 0, 6);
  assert.equal(f('2001:0db8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(f('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'first of two equal runs');
  assert.equal(f('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed');
  assert.equal(f('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1', 'the longest run wins');
  assert.equal(f('::'), '::');
  assert.equal(f('fe80::'), 'fe80::');
  assert.equal(formatIp(Uint8Array.of(192, 0, 2, 1), 0, 4), '192.0.2.1');
});

test('parsePrefix rejects host bits and bad lengths', () => {
  const p = parsePrefix('10.0.0.0/8')!;
  assert.equal(p.plen, 8);
  assert.equal(parsePrefix('10.0.0.1/8'), null);
  assert.equal(parsePrefix('10.0.0.0/33'), null);
  assert.equal(parsePrefix('2001:db8::/129'), null);
  assert.equal(parsePrefix('2001:db8::1')!.plen, 128);
  assert.equal(formatPrefix(p.bytes, 0, 4, 8), '10.0.0.0/8');
  assert.ok(hostBitsZero(Uint8Array.of(10, 0, 0, 0x80), 0, 4, 25));
  assert.ok(!hostBitsZero(Uint8Array.of(10, 0, 0, 0x40), 0, 4, 25));
});

test('prefixContains matches a byte-wise mask', () => {
  const net = Uint8Array.of(10, 1, 2, 0);
  assert.ok(prefixContains(net, 0, 23, Uint8Array.of(10, 1, 3, 200), 0));
  assert.ok(!prefixContains(net, 0, 24, Uint8Array.of(10, 1, 3, 200), 0));
  assert.ok(prefixContains(net, 0, 0, Uint8Array.of(1, 1, 1, 1), 0));
  assert.ok(isLinkLocal6(parseIp('fe80::1')!.bytes));
  assert.ok(isLinkLocal6(parseIp('febf::1')!.bytes));
  assert.ok(!isLinkLocal6(parseIp('fec0::1')!.bytes));
});

test('IPv6 text round-trips through bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      const text = formatIp(b, 0, 6);
      assert.deepEqual([...parseIp(text)!.bytes], [...b]);
    }),
  );
});
