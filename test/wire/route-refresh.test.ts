import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRouteRefresh, encodeRouteRefresh } from '../../src/wire/route-refresh.js';
import { BgpError } from '../../src/wire/errors.js';
import { KEEPALIVE } from '../../src/wire/keepalive.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);

test('ROUTE-REFRESH vectors (RFC 2918, RFC 7313 subtypes) both ways', () => {
  const rows: [string, number, number, 0 | 1 | 2][] = [
    [`${MARKER} 0017 05  0001 00 01`, 1, 1, 0],
    [`${MARKER} 0017 05  0002 01 01`, 2, 1, 1], // BoRR IPv6 unicast
    [`${MARKER} 0017 05  0001 02 80`, 1, 128, 2], // EoRR IPv4 SAFI 128
  ];
  for (const [msg, afi, safi, subtype] of rows) {
    assert.equal(encodeRouteRefresh(afi, safi, subtype).toString('hex'), hex(msg).toString('hex'));
    assert.deepEqual(decodeRouteRefresh(hex(msg).subarray(19)), { afi, safi, subtype });
  }
  assert.equal(encodeRouteRefresh(2, 1).toString('hex'), hex(`${MARKER} 0017 05 0002 00 01`).toString('hex'));
});

test('an unknown subtype is ignored, whatever its length (RFC 7313 §5)', () => {
  assert.equal(decodeRouteRefresh(hex('0001 03 01')), undefined);
  assert.equal(decodeRouteRefresh(hex('0001 ff 01 0000')), undefined);
});

test('a ROUTE-REFRESH that is not 4 bytes is Invalid Message Length with the whole message', () => {
  for (const body of ['0001 01 01 00', '0001 02 01 0000000000', '0001 00 01 00', '0001 01', '']) {
    const b = hex(body);
    assert.throws(
      () => decodeRouteRefresh(b),
      (e: unknown) => {
        assert.ok(e instanceof BgpError);
        assert.equal(e.code, 7);
        assert.equal(e.subcode, 1);
        const whole = Buffer.concat([hex(MARKER), Buffer.of(0, 19 + b.length, 5), b]);
        assert.equal(e.data.toString('hex'), whole.toString('hex'));
        return true;
      },
      body,
    );
  }
});

test('KEEPALIVE is the bare 19-byte header', () => {
  assert.equal(KEEPALIVE.toString('hex'), `${MARKER}001304`);
});
