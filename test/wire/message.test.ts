import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeMessage, type BgpMessage } from '../../src/wire/message.js';
import { Framer } from '../../src/wire/framer.js';
import { encodeMessage } from '../../src/wire/header.js';
import { BgpError } from '../../src/wire/errors.js';
import { encodeOpen, buildOpen, decodeOpen } from '../../src/wire/open.js';
import { buildCapabilities } from '../../src/wire/capabilities.js';
import { encodeNotification, encodeShutdownData, encodeMaxPrefixData, decodeNotification } from '../../src/wire/notification.js';
import { encodeRouteRefresh, decodeRouteRefresh } from '../../src/wire/route-refresh.js';
import { KEEPALIVE } from '../../src/wire/keepalive.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function throwsBgp(fn: () => unknown, code: number, subcode: number, data?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgpError, `expected BgpError, got ${String(e)}`);
    assert.equal(`${e.code}/${e.subcode}`, `${code}/${subcode}`);
    if (data !== undefined) assert.equal(e.data.toString('hex'), data);
    return true;
  });
}

test('decodeMessage dispatches on the type', () => {
  assert.deepEqual(decodeMessage(4, Buffer.alloc(0)), { type: 'keepalive' });

  const update = hex('0000 0000');
  const u = decodeMessage(2, update);
  assert.equal(u.type, 'update');
  assert.equal(u.type === 'update' && u.body, update); // raw, same buffer

  const open = decodeMessage(1, hex('04 fde9 00b4 0a000001 00'));
  assert.equal(open.type, 'open');
  assert.equal(open.type === 'open' && open.open.myAs, 65001);

  const n = decodeMessage(3, hex('06 02 02 6f6b'));
  assert.equal(n.type === 'notification' && n.notification.shutdownMessage, 'ok');

  assert.deepEqual(decodeMessage(5, hex('0002 01 01')), { type: 'route-refresh', refresh: { afi: 2, safi: 1, subtype: 1 } });
  assert.deepEqual(decodeMessage(5, hex('0002 07 01')), {
    type: 'ignored',
    msgType: 5,
    reason: 'unknown ROUTE-REFRESH subtype 7',
  });
});

test('decodeMessage repeats the header length checks for callers without a framer', () => {
  throwsBgp(() => decodeMessage(6, Buffer.alloc(0)), 1, 3, '06');
  throwsBgp(() => decodeMessage(4, Buffer.of(0)), 1, 2, '0014');
  throwsBgp(() => decodeMessage(1, Buffer.alloc(9)), 1, 2, '001c');
  throwsBgp(() => decodeMessage(2, Buffer.alloc(5000)), 1, 2, '139b');
  assert.equal(decodeMessage(2, Buffer.alloc(5000), { maxLength: 65535 }).type, 'update');
  throwsBgp(() => decodeMessage(1, Buffer.alloc(5000), { maxLength: 65535 }), 1, 2, '139b');
});

// ---- corruption: mutated messages decode or fail with an RFC error, nothing else ----

const SEEDS: Buffer[] = [
  KEEPALIVE,
  encodeOpen(buildOpen(65001, 180, 0x0a000001, buildCapabilities({ asn: 65001 }))),
  encodeOpen(
    buildOpen(
      4200000001,
      90,
      0xc0000201,
      buildCapabilities({
        asn: 4200000001,
        families: [
          { afi: 1, safi: 1 },
          { afi: 2, safi: 1 },
        ],
        enhancedRouteRefresh: true,
        extendedMessage: true,
        gracefulRestart: { restartState: true, notification: true, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: true }] },
        addPath: [{ afi: 1, safi: 1, mode: 3 }],
        role: 3,
      }),
    ),
  ),
  encodeOpen(buildOpen(65001, 180, 0x0a000001, buildCapabilities({ asn: 65001 })), { extendedParams: true }),
  // BIRD 2 OPEN (see open.test.ts).
  hex(
    'ffffffffffffffffffffffffffffffff004e01045ba0005ac000020131022f01040001000101040002000102000600090103' +
      '400a007800010100000201004104fa56ea0145040001010146004700',
  ),
  encodeNotification({ code: 6, subcode: 2, data: encodeShutdownData('maintenance window') }),
  encodeNotification({ code: 6, subcode: 1, data: encodeMaxPrefixData(1, 1, 1000) }),
  encodeNotification({ code: 2, subcode: 1, data: Buffer.of(0, 4) }),
  encodeRouteRefresh(1, 1, 0),
  encodeRouteRefresh(2, 1, 1),
  encodeRouteRefresh(1, 1, 2),
  encodeMessage(2, hex('0000 0000')),
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(seed: Buffer, muts: Mutation[], fixLength: boolean): Buffer {
  let b = Buffer.from(seed);
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'set') b[at] = m.value;
    else if (m.kind === 'flip') b[at]! ^= 1 << m.bit;
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
  }
  // Most random bytes would die at the header; fixing the length lets them reach the decoders.
  if (fixLength && b.length >= 19 && b.length <= 0xffff) b.writeUInt16BE(b.length, 16);
  return b;
}

const ALLOWED = new Set(['1/1', '1/2', '1/3', '2/0', '2/1', '2/2', '2/3', '2/4', '2/6', '2/11', '7/1']);

/** The RFC's data for each error, checked on every failure. */
function checkError(e: BgpError, frameBody: Buffer | undefined): void {
  const key = `${e.code}/${e.subcode}`;
  assert.ok(ALLOWED.has(key), `unexpected error ${key}`);
  if (key === '1/2') assert.equal(e.data.length, 2);
  else if (key === '1/3') assert.equal(e.data.length, 1);
  else if (key === '2/1') assert.equal(e.data.toString('hex'), '0004');
  else if (key === '7/1') {
    assert.ok(frameBody);
    assert.deepEqual(e.data, encodeMessage(5, frameBody));
  } else assert.equal(e.data.length, 0, key);
}

/** A successful decode must survive its own re-encoding. */
function checkDecoded(m: BgpMessage): void {
  if (m.type === 'open') assert.deepEqual(decodeOpen(encodeOpen(m.open).subarray(19)), m.open);
  else if (m.type === 'notification') assert.deepEqual(decodeNotification(encodeNotification(m.notification).subarray(19)), m.notification);
  else if (m.type === 'route-refresh') {
    const r = m.refresh;
    assert.deepEqual(decodeRouteRefresh(encodeRouteRefresh(r.afi, r.safi, r.subtype).subarray(19)), r);
  }
}

test('corruption: thousands of mutated messages decode or fail with an RFC error', () => {
  const seen = new Map<string, number>();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: SEEDS.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
      (i, muts, fixLength, extended) => {
        const bytes = mutate(SEEDS[i]!, muts, fixLength);
        const framer = new Framer(extended ? 65535 : 4096);
        const ctx = { maxLength: extended ? 65535 : 4096 };
        let body: Buffer | undefined;
        try {
          framer.push(bytes);
          for (let f = framer.next(); f !== undefined; f = framer.next()) {
            body = f.body;
            checkDecoded(decodeMessage(f.type, f.body, ctx));
            seen.set('ok', (seen.get('ok') ?? 0) + 1);
          }
        } catch (e) {
          if (!(e instanceof BgpError)) throw e;
          checkError(e, body);
          seen.set(`${e.code}/${e.subcode}`, (seen.get(`${e.code}/${e.subcode}`) ?? 0) + 1);
        }
      },
    ),
    { numRuns: 6000 },
  );
  // The mutations must reach the decoders, not only the header check.
  for (const key of ['ok', '1/1', '1/2', '1/3', '2/0', '2/1', '2/4', '7/1']) {
    assert.ok((seen.get(key) ?? 0) > 0, `no case ended in ${key}: ${JSON.stringify([...seen])}`);
  }
});
