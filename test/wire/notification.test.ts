import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeMaxPrefixData,
  decodeNotification,
  decodeShutdownData,
  describeNotification,
  encodeMaxPrefixData,
  encodeNotification,
  encodeShutdownData,
  shutdownNotification,
} from '../../src/wire/notification.js';
import { BgpError, openError } from '../../src/wire/errors.js';
import { checkHeader } from '../../src/wire/header.js';
import { ERROR_CODE_NAMES, ERROR_SUBCODE_NAMES } from '../../src/wire/iana.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);

function bodyOf(msg: Buffer, max = 4096): Buffer {
  assert.equal(checkHeader(msg, 0, max), msg.length);
  assert.equal(msg[18], 3);
  return msg.subarray(19);
}

test('NOTIFICATION vectors (RFC 4271 §4.5) both ways', () => {
  // Hold Timer Expired, no data.
  const hold = `${MARKER} 0015 03  04 00`;
  assert.equal(encodeNotification({ code: 4, subcode: 0 }).toString('hex'), hex(hold).toString('hex'));
  assert.deepEqual(decodeNotification(bodyOf(hex(hold))), { code: 4, subcode: 0, data: Buffer.alloc(0), shutdownMessage: undefined });
  // OPEN / Unsupported Version Number, data = version 4; from a BgpError as is.
  const ver = `${MARKER} 0017 03  02 01 0004`;
  assert.equal(encodeNotification(openError(1, Buffer.of(0, 4))).toString('hex'), hex(ver).toString('hex'));
  assert.deepEqual(decodeNotification(bodyOf(hex(ver))).data, Buffer.of(0, 4));
});

test('RFC 9003 shutdown communication: "maintenance"', () => {
  const msg = `${MARKER} 0021 03  06 02  0b ${Buffer.from('maintenance').toString('hex')}`;
  assert.equal(encodeNotification(shutdownNotification(2, 'maintenance')).toString('hex'), hex(msg).toString('hex'));
  const n = decodeNotification(bodyOf(hex(msg)));
  assert.equal(n.shutdownMessage, 'maintenance');
  assert.equal(describeNotification(n), 'Cease/Administrative Shutdown: "maintenance"');
  // Administrative Reset carries one too; other Cease subcodes do not.
  assert.equal(decodeNotification(hex('06 04 02 6869')).shutdownMessage, 'hi');
  assert.equal(decodeNotification(hex('06 03 02 6869')).shutdownMessage, undefined);
  assert.equal(decodeNotification(hex('03 02 02 6869')).shutdownMessage, undefined);
});

test('malformed shutdown communications are kept raw', () => {
  const cases: [string, string, string | undefined][] = [
    ['no data (older speakers)', '', undefined],
    ['empty message', '00', ''],
    ['length past the end', '05 6869', undefined],
    ['invalid UTF-8', '02 c328', undefined],
    ['cut in a character', '01 c3', undefined],
    ['trailing bytes are ignored', '02 6869 ff', 'hi'],
    ['multi-byte UTF-8', '06 e282ac c3a9 21', '€é!'],
  ];
  for (const [what, data, expected] of cases) {
    const n = decodeNotification(hex(`06 02 ${data}`));
    assert.equal(n.shutdownMessage, expected, what);
    assert.equal(n.data.toString('hex'), hex(data).toString('hex'), what);
  }
  assert.equal(describeNotification(decodeNotification(hex('06 02 05 6869'))), 'Cease/Administrative Shutdown (data 056869)');
});

test('long shutdown messages are cut to 255 bytes on a UTF-8 boundary', () => {
  const ascii = 'a'.repeat(300);
  const a = encodeShutdownData(ascii);
  assert.equal(a[0], 255);
  assert.equal(a.length, 256);
  // 254 ASCII bytes then a 3-byte "€": it cannot fit whole in 255, so it is dropped.
  const euro = encodeShutdownData('a'.repeat(254) + '€€');
  assert.equal(euro[0], 254);
  assert.equal(decodeShutdownData(euro), 'a'.repeat(254));
  // 85 "€" are exactly 255 bytes.
  const exact = encodeShutdownData('€'.repeat(90));
  assert.equal(exact[0], 255);
  assert.equal(decodeShutdownData(exact), '€'.repeat(85));
  // 4-byte characters: 63 fit in 252 bytes.
  const emoji = encodeShutdownData('😀'.repeat(70));
  assert.equal(emoji[0], 252);
  assert.equal(decodeShutdownData(emoji), '😀'.repeat(63));
});

test('data that would not fit is cut to the message maximum', () => {
  const big = Buffer.alloc(5000, 7);
  const m = encodeNotification({ code: 3, subcode: 1, data: big });
  assert.equal(m.length, 4096);
  assert.equal(bodyOf(m).length, 4096 - 19);
  const e = encodeNotification({ code: 3, subcode: 1, data: big }, 65535);
  assert.equal(e.length, 19 + 2 + 5000);
});

test('RFC 4486 max-prefix data: AFI(2) SAFI(1) limit(4)', () => {
  const data = encodeMaxPrefixData(2, 1, 100000);
  assert.equal(data.toString('hex'), '0002' + '01' + '000186a0');
  assert.deepEqual(decodeMaxPrefixData(data), { afi: 2, safi: 1, limit: 100000 });
  assert.equal(decodeMaxPrefixData(Buffer.alloc(6)), undefined);
  assert.equal(
    describeNotification({ code: 6, subcode: 1, data }),
    'Cease/Maximum Number of Prefixes Reached (AFI 2 SAFI 1, limit 100000)',
  );
});

test('describeNotification names codes and subcodes, with readable data', () => {
  const cases: [number, number, string, string][] = [
    [1, 1, '', 'Message Header Error/Connection Not Synchronized'],
    [1, 2, '1001', 'Message Header Error/Bad Message Length (length 4097)'],
    [1, 3, '09', 'Message Header Error/Bad Message Type (type 9)'],
    [2, 1, '0004', 'OPEN Message Error/Unsupported Version Number (supported version 4)'],
    [2, 0, '', 'OPEN Message Error'],
    [2, 11, '', 'OPEN Message Error/Role Mismatch'],
    [3, 11, 'abcd', 'UPDATE Message Error/Malformed AS_PATH (data abcd)'],
    [4, 0, '', 'Hold Timer Expired'],
    [5, 2, '', 'Finite State Machine Error/Receive Unexpected Message in OpenConfirm State'],
    [6, 10, '', 'Cease/BFD Down'],
    [6, 9, '06 04 02 6f6b', 'Cease/Hard Reset (Cease/Administrative Reset: "ok")'],
    [6, 9, '09', 'Cease/Hard Reset (data 09)'],
    [7, 1, '', 'ROUTE-REFRESH Message Error/Invalid Message Length'],
    [8, 0, '', 'Send Hold Timer Expired'],
    [6, 77, '', 'Cease/subcode 77'],
    [42, 1, '', 'Error code 42/subcode 1'],
  ];
  for (const [code, subcode, data, text] of cases) {
    assert.equal(describeNotification({ code, subcode, data: hex(data) }), text);
  }
  const long = describeNotification({ code: 3, subcode: 1, data: Buffer.alloc(40, 0xab) });
  assert.equal(long, `UPDATE Message Error/Malformed Attribute List (data ${'ab'.repeat(32)}… 40 bytes)`);
  // Every named code and subcode is reachable by name.
  for (const [code, subs] of Object.entries(ERROR_SUBCODE_NAMES)) {
    for (const [sub, name] of Object.entries(subs)) {
      const d = describeNotification({ code: Number(code), subcode: Number(sub) });
      assert.ok(d.startsWith(ERROR_CODE_NAMES[Number(code)]!), d);
      if (Number(sub) !== 0) assert.ok(d.includes(name), d);
    }
  }
});

test('a NOTIFICATION body under 2 bytes is a Bad Message Length', () => {
  assert.throws(
    () => decodeNotification(Buffer.of(6)),
    (e: unknown) => e instanceof BgpError && e.code === 1 && e.subcode === 2 && e.data.toString('hex') === '0014',
  );
});

test('property: encode then decode a NOTIFICATION keeps code, subcode and data', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 300 }),
      (code, subcode, raw) => {
        const data = Buffer.from(raw);
        const n = decodeNotification(bodyOf(encodeNotification({ code, subcode, data })));
        assert.equal(n.code, code);
        assert.equal(n.subcode, subcode);
        assert.deepEqual(n.data, data);
        assert.equal(typeof describeNotification(n), 'string');
      },
    ),
    { numRuns: 300 },
  );
});

test('property: any string survives as a shutdown communication up to the byte limit', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (s) => {
      const n = decodeNotification(bodyOf(encodeNotification(shutdownNotification(4, s))));
      const got = n.shutdownMessage;
      assert.ok(got !== undefined);
      assert.ok(Buffer.byteLength(got) <= 255);
      assert.ok(s.startsWith(got), 'a prefix of the original');
      if (Buffer.byteLength(s) <= 255) assert.equal(got, s);
    }),
    { numRuns: 300 },
  );
});
