import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildCapabilities, decodeCapabilities, encodeCapabilities } from '../../src/wire/capabilities.js';
import { BgpError } from '../../src/wire/errors.js';
import { emptyCapabilities, type Capabilities } from '../../src/wire/open-types.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function throwsBgp(fn: () => unknown, code: number, subcode: number, label = ''): void {
  assert.throws(
    fn,
    (e: unknown) => e instanceof BgpError && e.code === code && e.subcode === subcode,
    `${label}: expected BgpError ${code}/${subcode}`,
  );
}

function caps(patch: Partial<Capabilities>): Capabilities {
  return { ...emptyCapabilities(), ...patch };
}

// Each row: capability TLV bytes (from the layout in the named RFC) → decoded value.
const VECTORS: [string, string, Capabilities][] = [
  ['RFC 4760 multiprotocol IPv6 unicast', '01 04 0002 00 01', caps({ multiprotocol: [{ afi: 2, safi: 1 }] })],
  ['RFC 2918 route refresh', '02 00', caps({ routeRefresh: true })],
  ['RFC 8654 extended message', '06 00', caps({ extendedMessage: true })],
  ['RFC 9234 role peer', '09 01 04', caps({ role: 4 })],
  [
    'RFC 4724/8538 graceful restart, R and N set, 120 s, IPv4 unicast forwarding kept',
    '40 06  c0 78  0001 01 80',
    caps({
      gracefulRestart: {
        restartState: true,
        notification: true,
        restartTime: 120,
        families: [{ afi: 1, safi: 1, forwardingState: true }],
      },
    }),
  ],
  [
    'graceful restart, no flags, 4095 s, no families',
    '40 02  0f ff',
    caps({ gracefulRestart: { restartState: false, notification: false, restartTime: 4095, families: [] } }),
  ],
  ['RFC 6793 4-octet AS 4200000001', '41 04 fa56ea01', caps({ fourOctetAs: 4200000001 })],
  [
    'RFC 7911 ADD-PATH IPv4 both, IPv6 receive',
    '45 08  0001 01 03  0002 01 01',
    caps({
      addPath: [
        { afi: 1, safi: 1, mode: 3 },
        { afi: 2, safi: 1, mode: 1 },
      ],
    }),
  ],
  ['RFC 7313 enhanced route refresh', '46 00', caps({ enhancedRouteRefresh: true })],
  ['unknown capabilities are kept', '47 00  05 06 000100010002', caps({
    unknown: [
      { code: 71, value: Buffer.alloc(0) },
      { code: 5, value: hex('000100010002') },
    ],
  })],
];

test('capability vectors decode and encode both ways', () => {
  for (const [what, bytes, expected] of VECTORS) {
    assert.deepEqual(decodeCapabilities(hex(bytes)), expected, what);
    assert.equal(encodeCapabilities(expected).toString('hex'), hex(bytes).toString('hex'), what);
  }
});

test('the old Cisco route refresh code 128 counts as route refresh', () => {
  assert.deepEqual(decodeCapabilities(hex('80 00')), caps({ routeRefresh: true }));
});

test('capabilities accumulate; duplicates of a family are kept once', () => {
  const c = decodeCapabilities(hex('01 04 0001 00 01  01 04 0001 00 01  01 04 0002 00 01'));
  assert.deepEqual(c.multiprotocol, [
    { afi: 1, safi: 1 },
    { afi: 2, safi: 1 },
  ]);
  decodeCapabilities(hex('02 00'), c);
  assert.equal(c.routeRefresh, true);
  assert.equal(c.multiprotocol.length, 2);
  // A later ADD-PATH entry for the same family replaces the earlier one.
  const a = decodeCapabilities(hex('45 04 0001 01 01  45 04 0001 01 02'));
  assert.deepEqual(a.addPath, [{ afi: 1, safi: 1, mode: 2 }]);
});

test('ADD-PATH entries with a mode other than 1..3 are not negotiated', () => {
  const c = decodeCapabilities(hex('45 0c  0001 01 00  0002 01 04  0001 80 02'));
  assert.deepEqual(c.addPath, [{ afi: 1, safi: 128, mode: 2 }]);
});

test('a repeated role with the same value is one role; different values are Role Mismatch', () => {
  assert.equal(decodeCapabilities(hex('09 01 03  09 01 03')).role, 3);
  throwsBgp(() => decodeCapabilities(hex('09 01 03  09 01 01')), 2, 11, 'role conflict');
});

test('bad capability lengths are OPEN Message Error / Unspecific', () => {
  const bad: [string, string][] = [
    ['multiprotocol of 3', '01 03 000101'],
    ['multiprotocol of 5', '01 05 0001000100'],
    ['route refresh with a value', '02 01 00'],
    ['cisco route refresh with a value', '80 01 00'],
    ['extended message with a value', '06 01 00'],
    ['role of 0', '09 00'],
    ['role of 2', '09 02 0101'],
    ['graceful restart of 1', '40 01 00'],
    ['graceful restart of 5', '40 05 0078000101'],
    ['4-octet AS of 2', '41 02 fde9'],
    ['ADD-PATH of 0', '45 00'],
    ['ADD-PATH of 5', '45 05 0001010300'],
    ['enhanced route refresh with a value', '46 01 00'],
    ['length past the end', '41 04 0000fd'],
    ['code without length', '41'],
  ];
  for (const [what, bytes] of bad) throwsBgp(() => decodeCapabilities(hex(bytes)), 2, 0, what);
});

test('buildCapabilities: IPv4 unicast, route refresh and our AS by default', () => {
  const c = buildCapabilities({ asn: 65001 });
  assert.deepEqual(c, caps({ multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, fourOctetAs: 65001 }));
  assert.equal(encodeCapabilities(c).toString('hex'), '010400010001' + '0200' + '41040000fde9');
  const d = buildCapabilities({
    asn: 4200000001,
    families: [{ afi: 2, safi: 1 }],
    routeRefresh: false,
    enhancedRouteRefresh: true,
    extendedMessage: true,
    addPath: [{ afi: 2, safi: 1, mode: 2 }],
    role: 0,
  });
  assert.equal(
    encodeCapabilities(d).toString('hex'),
    '010400020001' + '0600' + '090100' + '4104fa56ea01' + '450400020102' + '4600',
  );
});

test('more than 63 ADD-PATH families are split over several capabilities and decode back', () => {
  const families = Array.from({ length: 70 }, (_, i) => ({ afi: 1, safi: i, mode: 1 as const }));
  const bytes = encodeCapabilities(caps({ addPath: families }));
  assert.equal(bytes[0], 69);
  assert.equal(bytes[1], 252);
  assert.equal(bytes[254], 69);
  assert.equal(bytes[255], 28);
  assert.deepEqual(decodeCapabilities(bytes).addPath, families);
});

test('encoding values the wire cannot carry is a local RangeError', () => {
  assert.throws(() => encodeCapabilities(caps({ unknown: [{ code: 99, value: Buffer.alloc(256) }] })), RangeError);
  assert.throws(
    () =>
      encodeCapabilities(
        caps({ gracefulRestart: { restartState: false, notification: false, restartTime: 4096, families: [] } }),
      ),
    RangeError,
  );
});
