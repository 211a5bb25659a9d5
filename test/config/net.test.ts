import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  canonicalIp, cidrContains, formatCidr, hostBitsZero, ipv4ToNumber, parseCidr, parseIp, prefixOf,
} from '../../src/config/net.js';
import {
  formatCommunity, formatLargeCommunity, normaliseLarge, parseAnyCommunity, parseLargeCommunity, parseStandardCommunity,
} from '../../src/config/communities.js';

test('IPv6 canonical text follows RFC 5952', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:DB8::1', '2001:db8::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longest run wins
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], // §5: IPv4-mapped keeps the dotted quad
    ['::ffff:a00:1', '::ffff:10.0.0.1'],
    ['::10.0.0.1', '::a00:1'],
    ['1:2:3:4:5:6:10.0.0.1', '1:2:3:4:5:6:a00:1'],
  ];
  for (const [input, expected] of cases) assert.equal(canonicalIp(input), expected, input);
});

test('malformed addresses are refused, not guessed', () => {
  for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.-1', '', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9',
    'g::1', '1:2:3:4::5:6:7:8', '12345::1', '::ffff:1.2.3', '10.0.0.1 ', 'fe80::1%eth0']) {
    assert.equal(parseIp(bad), undefined, JSON.stringify(bad));
  }
});

test('CIDR parsing, host bits and containment', () => {
  assert.equal(parseCidr('10.0.0.0'), undefined);
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.0/024'), undefined);
  assert.equal(parseCidr('fd00::/129'), undefined);
  const c = parseCidr('10.1.2.3/16')!;
  assert.equal(hostBitsZero(c), false);
  assert.equal(hostBitsZero(parseCidr('10.1.0.0/16')!), true);
  assert.equal(hostBitsZero(parseCidr('10.1.0.0/15')!), false); // bit 16 set
  assert.equal(hostBitsZero(parseCidr('0.0.0.0/0')!), true);
  assert.equal(formatCidr(parseCidr('FD00:0:0::/48')!), 'fd00::/48');
  assert.equal(prefixOf(parseIp('172.16.5.20')!, 24), '172.16.5.0/24');
  assert.equal(prefixOf(parseIp('172.16.5.20')!, 20), '172.16.0.0/20');
  assert.equal(prefixOf(parseIp('2001:db8:1:2::7')!, 56), '2001:db8:1::/56');
  assert.equal(cidrContains(parseCidr('10.0.0.0/8')!, parseCidr('10.200.0.0/16')!), true);
  assert.equal(cidrContains(parseCidr('10.0.0.0/8')!, parseCidr('11.0.0.0/16')!), false);
  assert.equal(cidrContains(parseCidr('10.0.0.0/16')!, parseCidr('10.0.0.0/8')!), false);
  assert.equal(cidrContains(parseCidr('::/0')!, parseCidr('10.0.0.0/8')!), false);
  assert.equal(ipv4ToNumber('10.0.0.1'), 0x0a000001);
  assert.equal(ipv4ToNumber('255.255.255.255'), 0xffffffff);
});

test('community text forms (RFC 1997, RFC 8092, Cilium well-known names)', () => {
  assert.equal(parseStandardCommunity('65000:100'), 65000 * 65536 + 100);
  assert.equal(parseStandardCommunity('4259840100'), 4259840100);
  assert.equal(parseStandardCommunity('0:0'), 0);
  assert.equal(parseStandardCommunity('65535:65535'), 0xffffffff);
  for (const bad of ['65536:1', '1:65536', '1:2:3', ':1', '1:', '4294967296', '-1', '01:2', 'a:b', '']) {
    assert.equal(parseStandardCommunity(bad), undefined, bad);
  }
  assert.equal(parseAnyCommunity('no-export'), 0xffffff01);
  assert.equal(parseAnyCommunity('blackhole'), 0xffff029a);
  assert.equal(parseAnyCommunity('no-peer'), 0xffffff04);
  assert.equal(parseAnyCommunity('toString'), undefined); // not an inherited property
  assert.deepEqual(parseLargeCommunity('4294967295:0:7'), [4294967295, 0, 7]);
  assert.equal(parseLargeCommunity('1:2'), undefined);
  assert.equal(parseLargeCommunity('1:2:4294967296'), undefined);
  assert.equal(formatCommunity(0xffffff01), '65535:65281');
  assert.equal(formatLargeCommunity([65000, 1, 2]), '65000:1:2');
  assert.deepEqual(normaliseLarge([[2, 0, 0], [1, 5, 5], [2, 0, 0]]), [[1, 5, 5], [2, 0, 0]]);
});
