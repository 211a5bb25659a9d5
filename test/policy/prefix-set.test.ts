import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseCidr } from '../../src/config/net.js';
import { GuardHit, ImportGuards } from '../../src/policy/guards.js';
import { mask32, PrefixSet } from '../../src/policy/prefix-set.js';
import { route } from './helpers.js';

function has(s: PrefixSet, cidr: string): boolean {
  const r = route(cidr);
  return r.afi === 1 ? s.containsV4(r.a0, r.len) : s.containsV6(r.a0, r.w1, r.w2, r.w3, r.len);
}

test('mask32 edges', () => {
  assert.equal(mask32(0), 0);
  assert.equal(mask32(-5), 0);
  assert.equal(mask32(1), 0x80000000);
  assert.equal(mask32(24), 0xffffff00);
  assert.equal(mask32(32), 0xffffffff);
  assert.equal(mask32(40), 0xffffffff);
});

test('equal or inside, never covering; host bits of entries ignored', () => {
  const s = new PrefixSet(['10.1.2.77/24', '10.9.0.0/16', '192.0.2.1/32', 'fe80::1/64', '2001:db8:1::/48', '::/0']);
  assert.equal(s.size, 6);
  const rows: [string, boolean][] = [
    ['10.1.2.0/24', true],
    ['10.1.2.128/25', true],
    ['10.1.2.3/32', true],
    ['10.1.0.0/16', false],
    ['10.1.3.0/24', false],
    ['10.9.255.0/24', true],
    ['10.8.0.0/16', false],
    ['192.0.2.1/32', true],
    ['192.0.2.0/31', false],
    ['192.0.2.2/32', false],
    ['0.0.0.0/0', false],
    // ::/0 covers every IPv6 prefix.
    ['2001:db9::/32', true],
    ['::/0', true],
  ];
  for (const [cidr, want] of rows) assert.equal(has(s, cidr), want, cidr);
  const v6only = new PrefixSet(['fe80::1/64', '2001:db8:1::/48']);
  assert.equal(has(v6only, 'fe80::/64'), true);
  assert.equal(has(v6only, 'fe80::/63'), false);
  assert.equal(has(v6only, 'fe80:0:0:1::/64'), false);
  assert.equal(has(v6only, '2001:db8:1:ffff::/64'), true);
  assert.equal(has(v6only, '2001:db8:2::/48'), false);
  assert.equal(has(new PrefixSet(), '10.0.0.0/8'), false);
});

test('bad inputs are refused', () => {
  assert.throws(() => new PrefixSet(['10.0.0.0']), RangeError);
  assert.throws(() => new PrefixSet(['10.0.0.0/33']), RangeError);
  assert.throws(() => new PrefixSet([{ afi: 'ipv4', bytes: new Uint8Array(16), length: 8 }]), RangeError);
});

test('guards: own before connected', () => {
  const g = new ImportGuards(['10.0.0.0/24'], ['10.0.0.0/16']);
  const r1 = route('10.0.0.0/25');
  const r2 = route('10.0.1.0/25');
  const r3 = route('10.1.0.0/25');
  assert.equal(g.checkV4(r1.a0, r1.len), GuardHit.OWN);
  assert.equal(g.checkV4(r2.a0, r2.len), GuardHit.CONNECTED);
  assert.equal(g.checkV4(r3.a0, r3.len), GuardHit.NONE);
  assert.equal(g.ownCount, 1);
  assert.equal(g.connectedCount, 1);
});

function bits(cidr: string): string {
  const c = parseCidr(cidr)!;
  return c.afi + [...c.bytes].map((b) => b.toString(2).padStart(8, '0')).join('').slice(0, c.length);
}

const v4 = fc
  .tuple(fc.constantFrom(0x0a000000, 0x0a0a0000, 0xc0000200), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 32 }))
  .map(([base, low, len]) => {
    const a = (base | (low & 0x3ff)) >>> 0;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${len}`;
  });
const v6 = fc
  .tuple(fc.constantFrom(0x20010db8, 0xfe800000), fc.constantFrom(0, 1), fc.constantFrom(0, 0xffffffff), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 128 }))
  .map(([w0, w1, w2, w3, len]) => {
    const g = [w0, w1, w2, w3].flatMap((w) => [(w >>> 16).toString(16), (w & 0xffff).toString(16)]);
    return `${g.join(':')}/${len}`;
  });

test('contains agrees with a bit-string reference', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(v4, v6), { maxLength: 12 }), fc.array(fc.oneof(v4, v6), { minLength: 1, maxLength: 20 }), (entries, probes) => {
      const s = new PrefixSet(entries);
      for (const p of probes) {
        const want = entries.some((e) => bits(p).startsWith(bits(e)));
        assert.equal(has(s, p), want, p);
      }
    }),
    { numRuns: 500 },
  );
});
