import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseIp, parsePrefix } from '../../src/fib/ip.js';
import { IfOper, NlmF, Rtm } from '../../src/fib/netlink/constants.js';
import {
  NlEncoder,
  RouteView,
  RouteWords,
  checkMsg,
  decodeAddr,
  decodeError,
  decodeLink,
  decodeNexthop,
  decodeRoute,
  gatewayBlock,
  nhIdBlock,
  putDelNexthop,
  putDumpRoutes,
  putNexthop,
  putNexthopGroup,
  putNoopAck,
  putRoute,
  routeDst,
  routeNexthops,
} from '../../src/fib/netlink/codec.js';

/** Hex with spaces and `|` as separators; `#` starts a comment. */
const h = (s: string): Buffer => Buffer.from(s.replace(/#[^\n]*/g, '').replace(/[\s|]/g, ''), 'hex');

const v4 = (s: string): Uint8Array => parseIp(s)!.bytes;

test('RTM_NEWROUTE IPv4 with a nexthop object, byte for byte', () => {
  const enc = new NlEncoder(256);
  const p = parsePrefix('10.1.2.0/24')!;
  const flags = NlmF.REQUEST | NlmF.CREATE | NlmF.EXCL;
  assert.ok(putRoute(enc, Rtm.NEWROUTE, flags, 5, 4, p.bytes, 0, 24, 100, 186, 20, nhIdBlock(7)));
  const want = h(`
    3c000000 1800 0106 05000000 00000000   # nlmsghdr: len 60, RTM_NEWROUTE, REQUEST|EXCL|CREATE, seq 5
    02 18 00 00 64 ba 00 01 00000000       # rtmsg: AF_INET /24 table 100 proto 186 scope universe unicast
    0800 0100 0a010200                     # RTA_DST
    0800 0f00 64000000                     # RTA_TABLE 100
    0800 0600 14000000                     # RTA_PRIORITY 20
    0800 1e00 07000000                     # RTA_NH_ID 7`);
  assert.equal(enc.toBuffer().toString('hex'), want.toString('hex'));
});

test('RTM_DELROUTE IPv6 in a table above 255: rtm_table UNSPEC + RTA_TABLE', () => {
  const enc = new NlEncoder(256);
  const p = parsePrefix('2001:db8::/32')!;
  putRoute(enc, Rtm.DELROUTE, NlmF.REQUEST, 6, 6, p.bytes, 0, 32, 1000, 186, 20, null);
  const want = h(`
    40000000 1900 0100 06000000 00000000
    0a 20 00 00 00 ba ff 00 00000000         # scope NOWHERE, type UNSPEC: match any
    1400 0100 20010db8 00000000 00000000 00000000
    0800 0f00 e8030000
    0800 0600 14000000`);
  assert.equal(enc.toBuffer().toString('hex'), want.toString('hex'));
});

test('putRoute refuses a message that does not fit and writes nothing', () => {
  const enc = new NlEncoder(60);
  const p = parsePrefix('10.1.2.0/24')!;
  assert.ok(putRoute(enc, Rtm.NEWROUTE, 1, 1, 4, p.bytes, 0, 24, 100, 186, 20, nhIdBlock(7)));
  assert.equal(enc.pos, 60);
  assert.equal(putRoute(enc, Rtm.NEWROUTE, 1, 2, 4, p.bytes, 0, 24, 100, 186, 20, nhIdBlock(7)), false);
  assert.equal(enc.pos, 60);
});

test('gateway blocks: single with oif, ECMP multipath, IPv6 gateway for IPv4 (RTA_VIA)', () => {
  const one = gatewayBlock(4, [{ family: 4, addr: v4('10.0.0.2'), oif: 3, weight: 1 }]);
  assert.equal(one.toString('hex'), h('0800 0500 0a000002 | 0800 0400 03000000').toString('hex'));
  const ecmp = gatewayBlock(4, [
    { family: 4, addr: v4('10.0.0.2'), oif: 3, weight: 1 },
    { family: 4, addr: v4('10.0.0.3'), oif: 0, weight: 2 },
  ]);
  const want = h(`
    2400 0900                                 # RTA_MULTIPATH, 36 bytes
    1000 00 00 03000000 | 0800 0500 0a000002  # rtnexthop len 16, hops 0 (weight 1), ifindex 3
    1000 00 01 00000000 | 0800 0500 0a000003  # weight 2 is stored as 1`);
  assert.equal(ecmp.toString('hex'), want.toString('hex'));
  const via = gatewayBlock(4, [{ family: 6, addr: parseIp('2001:db8::1')!.bytes, oif: 0, weight: 1 }]);
  assert.equal(via.toString('hex'), h('1600 1200 0a00 20010db8000000000000000000000001 0000').toString('hex'));
});

test('RTM_NEWNEXTHOP for a gateway and for an ECMP group, byte for byte', () => {
  const enc = new NlEncoder(256);
  putNexthop(enc, 0x605, 9, 100, 4, v4('10.0.0.2'), 0, 3, 186);
  assert.equal(
    enc.toBuffer().toString('hex'),
    h(`30000000 6800 0506 09000000 00000000
       02 00 ba 00 00000000
       0800 0100 64000000 | 0800 0600 0a000002 | 0800 0500 03000000`).toString('hex'),
  );
  enc.reset();
  putNexthopGroup(enc, 0x601, 10, 200, [{ id: 100, weight: 1 }, { id: 101, weight: 3 }], 186);
  assert.equal(
    enc.toBuffer().toString('hex'),
    h(`3c000000 6800 0106 0a000000 00000000
       00 00 ba 00 00000000
       0800 0100 c8000000
       1400 0200 64000000 00 00 0000 | 65000000 02 00 0000
       0600 0300 0000 0000`).toString('hex'),
  );
  enc.reset();
  putDelNexthop(enc, NlmF.REQUEST, 11, 200);
  assert.equal(enc.toBuffer().toString('hex'), h('20000000 6900 0100 0b000000 00000000 00000000 00000000 0800 0100 c8000000').toString('hex'));
});

test('dump request and NOOP marker', () => {
  const enc = new NlEncoder(128);
  putDumpRoutes(enc, 3, 6, 1000);
  assert.equal(
    enc.toBuffer().toString('hex'),
    h('24000000 1a00 0103 03000000 00000000 | 0a 00 00 00 00 00 00 00 00000000 | 0800 0f00 e8030000').toString('hex'),
  );
  enc.reset();
  putNoopAck(enc, 42);
  assert.equal(enc.toBuffer().toString('hex'), h('10000000 0100 0500 2a000000 00000000').toString('hex'));
});

test('decodeError: capped error with an extended ACK message', () => {
  const msg = Buffer.from('Nexthop has invalid gateway\0');
  const b = Buffer.concat([
    h('44000000 0200 0003 4d000000 d2040000'), // NLMSG_ERROR, CAPPED|ACK_TLVS, seq 77, pid 1234
    h('9bffffff'), // -101
    h('3c000000 1800 0106 4d000000 00000000'), // the request's header only
    h('2000 0100'),
    msg,
  ]);
  assert.equal(checkMsg(b, 0, b.length), 68);
  const e = decodeError(b, 0, b.length)!;
  assert.equal(e.errno, 101);
  assert.equal(e.reqSeq, 77);
  assert.equal(e.reqType, Rtm.NEWROUTE);
  assert.equal(e.message, 'Nexthop has invalid gateway');
  const ack = h('24000000 0200 0001 05000000 d2040000 00000000 10000000 0100 0500 05000000 00000000');
  assert.deepEqual(decodeError(ack, 0, ack.length), { errno: 0, reqType: 1, reqSeq: 5 });
  assert.equal(decodeError(ack, 0, 20), null, 'truncated');
});

test('decodeError: uncapped error skips the echoed request before the TLVs', () => {
  const req = h('18000000 1900 0100 07000000 00000000 02180000 00ba ff00'); // 24 bytes
  const tlv = h('0800 0200 10000000'); // OFFS 16
  const b = Buffer.concat([h('2c000000 0200 0002 07000000 01000000 feffffff'), req, tlv]);
  const e = decodeError(b, 0, b.length)!;
  assert.equal(e.errno, 2);
  assert.equal(e.reqSeq, 7);
  assert.equal(e.badAttrOffset, 16);
});

test('decodeRoute reads a kernel-style multipath route', () => {
  const b = h(`
    58000000 1800 0200 00000000 00000000
    02 18 00 00 00 ba 00 01 00000000
    0800 0f00 e8030000                            # RTA_TABLE 1000 (rtm_table 0)
    0800 0100 0b000100                            # RTA_DST 11.0.1.0
    0800 0600 14000000
    2400 0900
      1000 00 00 03000000 | 0800 0500 0a000002
      1000 04 02 04000000 | 0800 0500 0a010003    # flags ONLINK, weight 3`);
  const v = new RouteView();
  assert.equal(checkMsg(b, 0, b.length), b.length);
  assert.ok(decodeRoute(b, 0, b.length, v));
  assert.equal(v.family, 4);
  assert.equal(v.table, 1000);
  assert.equal(v.protocol, 186);
  assert.equal(v.metric, 20);
  assert.equal(routeDst(v), '11.0.1.0/24');
  assert.deepEqual(routeNexthops(v), [
    { gateway: '10.0.0.2', oif: 3, weight: 1, flags: 0 },
    { gateway: '10.1.0.3', oif: 4, weight: 3, flags: 4 },
  ]);
  assert.equal(decodeRoute(b, 0, b.length - 1, v), false, 'an attribute running past the end');
});

test('decodeLink, decodeAddr, decodeNexthop on hand-built messages', () => {
  const link = h(`
    38000000 1000 0000 00000000 00000000
    00 00 0100 03000000 43100100 00000000      # index 3, UP|BROADCAST|RUNNING|MULTICAST|LOWER_UP
    0700 0300 763000 00                        # IFLA_IFNAME "v0"
    0800 0400 dc050000                         # IFLA_MTU 1500
    0500 1000 06 000000                        # IFLA_OPERSTATE up`);
  assert.equal(checkMsg(link, 0, link.length), link.length);
  assert.deepEqual(decodeLink(link, 0, link.length), {
    index: 3,
    name: 'v0',
    flags: 0x11043,
    up: true,
    lowerUp: true,
    operstate: IfOper.UP,
    mtu: 1500,
    master: 0,
  });
  const addr = h(`
    30000000 1400 0000 00000000 00000000
    02 18 80 00 03000000
    0800 0100 0a000001 | 0800 0200 0a000001 | 0800 0800 00020000`);
  assert.equal(checkMsg(addr, 0, addr.length), addr.length);
  const a = decodeAddr(addr, 0, addr.length)!;
  assert.equal(a.family, 4);
  assert.equal(a.index, 3);
  assert.equal(a.plen, 24);
  assert.deepEqual([...a.address], [10, 0, 0, 1]);
  assert.equal(a.flags, 0x200, 'IFA_FLAGS wins over ifa_flags');
  const nh = h(`
    34000000 6800 0200 00000000 00000000
    00 00 ba 00 00000000
    0800 0100 c8000000
    1400 0200 64000000 00 00 0000 | 65000000 02 00 0000`);
  assert.equal(checkMsg(nh, 0, nh.length), nh.length);
  assert.deepEqual(decodeNexthop(nh, 0, nh.length), {
    id: 200,
    family: 0,
    protocol: 186,
    flags: 0,
    oif: 0,
    group: [
      { id: 100, weight: 1 },
      { id: 101, weight: 3 },
    ],
    blackhole: false,
  });
});

test('route messages round-trip through the decoder (IPv4 and IPv6, any table)', () => {
  const enc = new NlEncoder(512);
  const v = new RouteView();
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.nat(128),
      fc.integer({ min: 1, max: 0xfffffff }),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: undefined }),
      (isV4, raw, len, table, metric, nhId) => {
        const fam = isV4 ? 4 : 6;
        const plen = isV4 ? len % 33 : len;
        enc.reset();
        const block = nhId !== undefined ? nhIdBlock(nhId) : null;
        assert.ok(putRoute(enc, Rtm.NEWROUTE, 1, 9, fam, raw, 0, plen, table, 186, metric, block));
        assert.ok(decodeRoute(enc.buf, 0, enc.pos, v));
        assert.equal(v.family, fam);
        assert.equal(v.dstLen, plen);
        assert.equal(v.table, table);
        assert.equal(v.metric, metric);
        assert.equal(v.nhId, nhId ?? 0);
        assert.deepEqual([...enc.buf.subarray(v.dstOff, v.dstOff + (isV4 ? 4 : 16))], [...raw.subarray(0, isV4 ? 4 : 16)]);
      },
    ),
  );
});

test('RouteWords writes the same bytes as putRoute (v4/v6, add/replace/delete, any block)', () => {
  const words = new Int32Array(4);
  const bytes = new Uint8Array(16);
  const blocks = [
    null,
    nhIdBlock(0x7b000001),
    gatewayBlock(4, [{ family: 4, addr: Uint8Array.of(10, 0, 0, 2), oif: 3, weight: 1 }]),
    gatewayBlock(6, [
      { family: 6, addr: parseIp('2001:db8::2')!.bytes, oif: 3, weight: 1 },
      { family: 6, addr: parseIp('2001:db8::3')!.bytes, oif: 4, weight: 7 },
    ]),
  ];
  fc.assert(
    fc.property(
      fc.constantFrom<4 | 6>(4, 6),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 128 }),
      fc.constantFrom(0, 1, 2, 3),
      fc.constantFrom(100, 254, 1000),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.integer({ min: 1, max: 0xfffffff0 }),
      (family, addr, plen0, bi, table, metric, seq) => {
        const plen = family === 4 ? plen0 % 33 : plen0;
        bytes.set(addr);
        for (let w = 0; w < 4; w++) words[w] = (addr[w * 4]! << 24) | (addr[w * 4 + 1]! << 16) | (addr[w * 4 + 2]! << 8) | addr[w * 4 + 3]!;
        const nh = blocks[bi]!;
        const type = nh ? Rtm.NEWROUTE : Rtm.DELROUTE;
        const flags = nh ? NlmF.REQUEST | NlmF.CREATE | NlmF.REPLACE : NlmF.REQUEST;
        const a = new NlEncoder(4096);
        const b = new NlEncoder(4096);
        b.buf.fill(0xee); // stale bytes must not leak into padding
        a.u32(7); // messages after others
        b.u32(7);
        putRoute(a, type, flags, seq, family, bytes, 0, plen, table, 186, metric, nh);
        new RouteWords(b, table, 186, metric).put(type, flags, seq, family, words, 0, plen, nh);
        assert.equal(b.pos, a.pos);
        assert.deepEqual(b.buf.subarray(0, b.pos), a.buf.subarray(0, a.pos));
      },
    ),
    { numRuns: 300 },
  );
});
