import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  bgpIdFromString,
  bgpIdToString,
  buildOpen,
  checkBgpIdentifier,
  checkPeerAs,
  decodeOpen,
  encodeOpen,
  validateOpen,
} from '../../src/wire/open.js';
import { buildCapabilities } from '../../src/wire/capabilities.js';
import { BgpError } from '../../src/wire/errors.js';
import { checkHeader } from '../../src/wire/header.js';
import { emptyCapabilities, peerAsOf, type Capabilities, type OpenMessage } from '../../src/wire/open-types.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);

function throwsBgp(fn: () => unknown, code: number, subcode: number, data?: string, label = ''): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgpError, `${label}: expected BgpError, got ${String(e)}`);
    assert.equal(`${e.code}/${e.subcode}`, `${code}/${subcode}`, label);
    if (data !== undefined) assert.equal(e.data.toString('hex'), data, label);
    return true;
  });
}

/** Checks the header of a whole message and returns its body. */
function bodyOf(msg: Buffer): Buffer {
  assert.equal(checkHeader(msg, 0, 4096), msg.length);
  assert.equal(msg[18], 1);
  return msg.subarray(19);
}

// Hand-built from RFC 4271 §4.2 / RFC 5492: AS 65001, hold 180, id 10.0.0.1, capabilities
// multiprotocol IPv4 unicast, route refresh, 4-octet AS 65001.
const CAPS_HEX = '01 04 0001 00 01  02 00  41 04 0000fde9';
const SIMPLE_OPEN = `${MARKER} 002d 01  04 fde9 00b4 0a000001 10  02 0e ${CAPS_HEX}`;
const SIMPLE: OpenMessage = {
  version: 4,
  myAs: 65001,
  holdTime: 180,
  bgpId: 0x0a000001,
  capabilities: { ...emptyCapabilities(), multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, fourOctetAs: 65001 },
};

test('a hand-built OPEN decodes and encodes both ways', () => {
  assert.deepEqual(decodeOpen(bodyOf(hex(SIMPLE_OPEN))), SIMPLE);
  assert.equal(encodeOpen(SIMPLE).toString('hex'), hex(SIMPLE_OPEN).toString('hex'));
  assert.deepEqual(buildOpen(65001, 180, 0x0a000001, buildCapabilities({ asn: 65001 })), SIMPLE);
});

// Captured from BIRD 2.0.12 (local as 4200000001, router id 192.0.2.1, hold 90, ipv4 with
// add paths rx, ipv6, graceful restart, extended messages, local role customer) by
// accepting its TCP connection in a throw-away network namespace.
const BIRD_OPEN =
  'ffffffffffffffffffffffffffffffff004e01045ba0005ac000020131022f01040001000101040002000102000600090103' +
  '400a007800010100000201004104fa56ea0145040001010146004700';

test('a real BIRD 2 OPEN decodes as read by hand, and re-encodes byte for byte', () => {
  const open = decodeOpen(bodyOf(hex(BIRD_OPEN)));
  const expected: OpenMessage = {
    version: 4,
    myAs: 23456, // AS_TRANS
    holdTime: 90,
    bgpId: 0xc0000201,
    capabilities: {
      multiprotocol: [
        { afi: 1, safi: 1 },
        { afi: 2, safi: 1 },
      ],
      routeRefresh: true,
      extendedMessage: true,
      role: 3,
      gracefulRestart: {
        restartState: false,
        notification: false,
        restartTime: 120,
        families: [
          { afi: 1, safi: 1, forwardingState: false },
          { afi: 2, safi: 1, forwardingState: false },
        ],
      },
      fourOctetAs: 4200000001,
      addPath: [{ afi: 1, safi: 1, mode: 1 }],
      enhancedRouteRefresh: true,
      unknown: [{ code: 71, value: Buffer.alloc(0) }], // long-lived graceful restart, empty
    },
  };
  assert.deepEqual(open, expected);
  assert.equal(peerAsOf(open), 4200000001);
  assert.equal(encodeOpen(open).toString('hex'), BIRD_OPEN);
});

test('a 4-octet AS goes out as AS_TRANS with the real AS in the capability', () => {
  const open = buildOpen(4200000001, 90, 0xc0000201, buildCapabilities({ asn: 4200000001, routeRefresh: false }));
  assert.equal(open.myAs, 23456);
  const expected = `${MARKER} 002b 01  04 5ba0 005a c0000201 0e  02 0c  01 04 0001 00 01  41 04 fa56ea01`;
  assert.equal(encodeOpen(open).toString('hex'), hex(expected).toString('hex'));
  // Given a large My AS and no capability, encodeOpen still says AS_TRANS and adds it.
  const raw: OpenMessage = { version: 4, myAs: 4200000001, holdTime: 90, bgpId: 0xc0000201, capabilities: emptyCapabilities() };
  assert.equal(encodeOpen(raw).toString('hex'), hex(`${MARKER} 0025 01  04 5ba0 005a c0000201 08  02 06  41 04 fa56ea01`).toString('hex'));
});

test('no capabilities: Opt Parm Len 0', () => {
  const open: OpenMessage = { version: 4, myAs: 1, holdTime: 0, bgpId: 1, capabilities: emptyCapabilities() };
  const msg = `${MARKER} 001d 01  04 0001 0000 00000001 00`;
  assert.equal(encodeOpen(open).toString('hex'), hex(msg).toString('hex'));
  assert.deepEqual(decodeOpen(bodyOf(hex(msg))), open);
});

// RFC 9072 §2: Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length (2),
// then parameters with 2-byte lengths.
const EXT_OPEN = `${MARKER} 0031 01  04 fde9 00b4 0a000001 ff ff 0011  02 000e ${CAPS_HEX}`;

test('RFC 9072 extended optional parameters decode, and encode on request', () => {
  assert.deepEqual(decodeOpen(bodyOf(hex(EXT_OPEN))), SIMPLE);
  assert.equal(encodeOpen(SIMPLE, { extendedParams: true }).toString('hex'), hex(EXT_OPEN).toString('hex'));
  // Non-Ext OP Len is ignored once the type says extended (it only must not be 0).
  const other = hex(EXT_OPEN);
  other[19 + 9] = 1;
  assert.deepEqual(decodeOpen(bodyOf(other)), SIMPLE);
});

test('capabilities over 253 bytes switch to the RFC 9072 format by themselves', () => {
  const caps = buildCapabilities({
    asn: 65001,
    families: Array.from({ length: 50 }, (_, i) => ({ afi: 1, safi: i + 1 })),
  });
  const msg = encodeOpen(buildOpen(65001, 90, 1, caps));
  const body = bodyOf(msg);
  const capLen = 50 * 6 + 2 + 6;
  assert.deepEqual([...body.subarray(9, 16)], [255, 255, (capLen + 3) >> 8, (capLen + 3) & 0xff, 2, capLen >> 8, capLen & 0xff]);
  assert.deepEqual(decodeOpen(body).capabilities, caps);
});

test('capabilities may be spread over several optional parameters', () => {
  const body = hex('04 fde9 00b4 0a000001 0c  02 06 01 04 0001 00 01  02 02 02 00');
  const open = decodeOpen(body);
  assert.deepEqual(open.capabilities.multiprotocol, [{ afi: 1, safi: 1 }]);
  assert.equal(open.capabilities.routeRefresh, true);
});

test('OPEN errors carry the RFC 4271 §6.2 subcodes', () => {
  const cases: [string, string, number, number, string | undefined][] = [
    ['version 3', '03 fde9 00b4 0a000001 00', 2, 1, '0004'],
    ['version 5', '05 fde9 00b4 0a000001 00', 2, 1, '0004'],
    ['hold time 1', '04 fde9 0001 0a000001 00', 2, 6, ''],
    ['hold time 2', '04 fde9 0002 0a000001 00', 2, 6, ''],
    ['BGP identifier 0', '04 fde9 00b4 00000000 00', 2, 3, ''],
    ['My AS 0 (RFC 7607)', '04 0000 00b4 0a000001 00', 2, 2, ''],
    ['4-octet AS 0 (RFC 7607)', '04 5ba0 00b4 0a000001 08 02 06 41 04 00000000', 2, 2, ''],
    ['authentication parameter', '04 fde9 00b4 0a000001 04 01 02 abcd', 2, 4, ''],
    ['unknown parameter type', '04 fde9 00b4 0a000001 02 07 00', 2, 4, ''],
    ['opt len past the end', '04 fde9 00b4 0a000001 05 02 02 02 00', 2, 0, undefined],
    ['bytes after the parameters', '04 fde9 00b4 0a000001 02 02 00 00', 2, 0, undefined],
    ['parameter length past opt len', '04 fde9 00b4 0a000001 04 02 05 02 00', 2, 0, undefined],
    ['parameter header cut', '04 fde9 00b4 0a000001 01 02', 2, 0, undefined],
    ['capability cut inside its parameter', '04 fde9 00b4 0a000001 05 02 03 41 04 00', 2, 0, undefined],
    ['extended length past the end', '04 fde9 00b4 0a000001 ff ff 0012 02 000e' + CAPS_HEX.replace(/ /g, ''), 2, 0, undefined],
    ['extended header cut', '04 fde9 00b4 0a000001 ff ff 00', 2, 0, undefined],
    ['extended parameter header cut', '04 fde9 00b4 0a000001 ff ff 0002 02 00', 2, 0, undefined],
    ['role conflict', '04 fde9 00b4 0a000001 08 02 06 09 01 00 09 01 03', 2, 11, ''],
    ['body shorter than the fixed part', '04 fde9 00b4 0a0000', 1, 2, '001b'],
  ];
  for (const [what, body, code, subcode, data] of cases) throwsBgp(() => decodeOpen(hex(body)), code, subcode, data, what);
});

test('hold time 0 and 3 are acceptable', () => {
  assert.equal(decodeOpen(hex('04 fde9 0000 0a000001 00')).holdTime, 0);
  assert.equal(decodeOpen(hex('04 fde9 0003 0a000001 00')).holdTime, 3);
});

test('session-side checks: BGP identifier and peer AS', () => {
  checkBgpIdentifier(0x0a000001, 0x0a000001, false); // eBGP may share our identifier
  throwsBgp(() => checkBgpIdentifier(0x0a000001, 0x0a000001, true), 2, 3);
  throwsBgp(() => checkBgpIdentifier(0, 0x0a000001, false), 2, 3);
  checkBgpIdentifier(0xffffffff, 0x0a000001, true);
  checkPeerAs(SIMPLE, 65001);
  throwsBgp(() => checkPeerAs(SIMPLE, 65002), 2, 2);
  const fourOctet = { ...SIMPLE, myAs: 23456, capabilities: { ...SIMPLE.capabilities, fourOctetAs: 4200000001 } };
  checkPeerAs(fourOctet, 4200000001);
  throwsBgp(() => checkPeerAs(fourOctet, 23456), 2, 2);
  validateOpen(SIMPLE);
  throwsBgp(() => validateOpen({ ...SIMPLE, version: 3 }), 2, 1, '0004');
});

test('BGP identifiers print and parse as dotted quads', () => {
  assert.equal(bgpIdToString(0xc0000201), '192.0.2.1');
  assert.equal(bgpIdToString(0xffffffff), '255.255.255.255');
  assert.equal(bgpIdFromString('192.0.2.1'), 0xc0000201);
  assert.equal(bgpIdFromString('255.255.255.255'), 0xffffffff);
  assert.equal(bgpIdFromString('256.0.0.1'), undefined);
  assert.equal(bgpIdFromString('1.2.3'), undefined);
});

// ---- property round-trip ----

/** fast-check records have a null prototype by default, which deepEqual would flag. */
function rec<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
}

const KNOWN_CODES = new Set([1, 2, 6, 9, 64, 65, 69, 70, 128]);
const family = rec({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }) });
const familyKey = (f: { afi: number; safi: number }): number => f.afi * 256 + f.safi;

const capabilitiesArb: fc.Arbitrary<Capabilities> = rec({
  multiprotocol: fc.uniqueArray(family, { selector: familyKey, maxLength: 6 }),
  routeRefresh: fc.boolean(),
  enhancedRouteRefresh: fc.boolean(),
  fourOctetAs: fc.option(fc.integer({ min: 1, max: 0xffffffff }), { nil: undefined }),
  extendedMessage: fc.boolean(),
  gracefulRestart: fc.option(
    rec({
      restartState: fc.boolean(),
      notification: fc.boolean(),
      restartTime: fc.integer({ min: 0, max: 4095 }),
      families: fc.array(
        rec({ afi: fc.integer({ min: 0, max: 0xffff }), safi: fc.integer({ min: 0, max: 255 }), forwardingState: fc.boolean() }),
        { maxLength: 5 },
      ),
    }),
    { nil: undefined },
  ),
  addPath: fc.uniqueArray(
    rec({
      afi: fc.integer({ min: 0, max: 0xffff }),
      safi: fc.integer({ min: 0, max: 255 }),
      mode: fc.constantFrom(1 as const, 2 as const, 3 as const),
    }),
    { selector: familyKey, maxLength: 5 },
  ),
  role: fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined }),
  unknown: fc.array(
    rec({
      code: fc.integer({ min: 0, max: 255 }).filter((c) => !KNOWN_CODES.has(c)),
      value: fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a)),
    }),
    { maxLength: 4 },
  ),
});

test('property: encodeOpen then decodeOpen gives the same OPEN', () => {
  fc.assert(
    fc.property(
      capabilitiesArb,
      fc.integer({ min: 1, max: 0xffff }),
      fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.boolean(),
      (capabilities, myAs, holdTime, bgpId, extendedParams) => {
        const open: OpenMessage = { version: 4, myAs, holdTime, bgpId, capabilities };
        const msg = encodeOpen(open, { extendedParams });
        assert.deepEqual(decodeOpen(bodyOf(msg)), open);
      },
    ),
    { numRuns: 400 },
  );
});
