import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Framer, type Frame } from '../../src/wire/framer.js';
import { checkHeader, encodeMessage } from '../../src/wire/header.js';
import { BgpError } from '../../src/wire/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ff'.repeat(16);

/** Asserts `fn` throws a BgpError with this code/subcode (and data, when given). */
function throwsBgp(fn: () => unknown, code: number, subcode: number, data?: Buffer, label = ''): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgpError, `${label}: expected BgpError, got ${String(e)}`);
    assert.equal(`${e.code}/${e.subcode}`, `${code}/${subcode}`, label);
    if (data) assert.equal(e.data.toString('hex'), data.toString('hex'), label);
    return true;
  });
}

function drain(f: Framer): Frame[] {
  const out: Frame[] = [];
  for (let m = f.next(); m !== undefined; m = f.next()) out.push(m);
  return out;
}

// A stream of five messages, written by hand from RFC 4271 §4 / RFC 2918.
const KEEPALIVE_HEX = `${MARKER} 0013 04`;
const OPEN_HEX = `${MARKER} 001d 01  04 fde9 005a c0000201 00`; // minimal OPEN, no parameters
const UPDATE_HEX = `${MARKER} 0017 02  0000 0000`; // End-of-RIB for IPv4 unicast
const NOTIF_HEX = `${MARKER} 0015 03  06 02`; // Cease / Administrative Shutdown
const RR_HEX = `${MARKER} 0017 05  0001 00 01`; // refresh IPv4 unicast
const STREAM = hex(KEEPALIVE_HEX + OPEN_HEX + UPDATE_HEX + NOTIF_HEX + RR_HEX);
const EXPECTED: { type: number; body: string }[] = [
  { type: 4, body: '' },
  { type: 1, body: '04fde9005ac000020100' },
  { type: 2, body: '00000000' },
  { type: 3, body: '0602' },
  { type: 5, body: '00010001' },
];

function asPlain(frames: Frame[]): { type: number; body: string }[] {
  return frames.map((f) => ({ type: f.type, body: f.body.toString('hex') }));
}

test('encodeMessage writes marker, length and type around the body', () => {
  assert.deepEqual(encodeMessage(4, Buffer.alloc(0)), hex(KEEPALIVE_HEX));
  assert.deepEqual(encodeMessage(3, Buffer.of(6, 2)), hex(NOTIF_HEX));
  assert.throws(() => encodeMessage(2, Buffer.alloc(65535 - 18)), RangeError);
});

test('a whole stream in one chunk yields every message in order', () => {
  const f = new Framer();
  f.push(STREAM);
  assert.deepEqual(asPlain(drain(f)), EXPECTED);
  assert.equal(f.buffered, 0);
});

test('splitting the stream at every byte offset gives the same messages', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    const f = new Framer();
    const frames = [...f.feed(STREAM.subarray(0, i)), ...f.feed(STREAM.subarray(i))];
    assert.deepEqual(asPlain(frames), EXPECTED, `split at ${i}`);
  }
});

test('splitting at every pair of offsets gives the same messages', () => {
  for (let i = 0; i <= STREAM.length; i++) {
    for (let j = i; j <= STREAM.length; j++) {
      const f = new Framer();
      const frames = [
        ...f.feed(Buffer.from(STREAM.subarray(0, i))),
        ...f.feed(Buffer.from(STREAM.subarray(i, j))),
        ...f.feed(Buffer.from(STREAM.subarray(j))),
      ];
      assert.deepEqual(asPlain(frames), EXPECTED, `split at ${i}, ${j}`);
    }
  }
});

test('one byte at a time gives the same messages and reports what is buffered', () => {
  const f = new Framer();
  const frames: Frame[] = [];
  for (let i = 0; i < STREAM.length; i++) {
    frames.push(...f.feed(STREAM.subarray(i, i + 1)));
    const consumed = EXPECTED.slice(0, frames.length).reduce((n, m) => n + 19 + m.body.length / 2, 0);
    assert.equal(f.buffered, i + 1 - consumed);
  }
  assert.deepEqual(asPlain(frames), EXPECTED);
});

test('bodies inside one chunk are views of it; spanning bodies are their own copies', () => {
  const chunk = Buffer.from(STREAM);
  const f = new Framer();
  f.push(chunk);
  const open = drain(f)[1]!;
  chunk[19 + 19] = 0x99; // first body byte of the OPEN: a view sees the change
  assert.equal(open.body[0], 0x99);

  const copy = Buffer.from(STREAM);
  const g = new Framer();
  g.push(copy.subarray(0, 25)); // KEEPALIVE + part of the OPEN
  assert.equal(drain(g)[0]?.type, 4);
  g.push(copy.subarray(25));
  const spanned = drain(g)[0]!;
  copy.fill(0); // reusing the chunks must not change a body that was assembled
  assert.equal(spanned.body.toString('hex'), EXPECTED[1]!.body);
});

test('pushing again before draining keeps the order', () => {
  const f = new Framer();
  f.push(STREAM.subarray(0, 40));
  f.push(STREAM.subarray(40));
  assert.deepEqual(asPlain(drain(f)), EXPECTED);
});

test('header errors carry the RFC 4271 §6.1 subcode and data', () => {
  const cases: [string, string, number, string][] = [
    ['marker not all ones', `${'ff'.repeat(15)}fe 0013 04`, 1, ''],
    ['length below 19', `${MARKER} 0012 04`, 2, '0012'],
    ['length above 4096', `${MARKER} 1001 02`, 2, '1001'],
    ['type 0', `${MARKER} 0013 00`, 3, '00'],
    ['type 6', `${MARKER} 0017 06`, 3, '06'],
    ['KEEPALIVE of 20', `${MARKER} 0014 04`, 2, '0014'],
    ['OPEN of 28', `${MARKER} 001c 01`, 2, '001c'],
    ['UPDATE of 22', `${MARKER} 0016 02`, 2, '0016'],
    ['NOTIFICATION of 20', `${MARKER} 0014 03`, 2, '0014'],
    ['ROUTE-REFRESH of 22', `${MARKER} 0016 05`, 2, '0016'],
  ];
  for (const [what, h, subcode, data] of cases) {
    const bytes = hex(h);
    throwsBgp(() => checkHeader(bytes, 0, 4096), 1, subcode, hex(data), what);
    // The framer finds it too, whether the header comes whole or byte by byte.
    const whole = new Framer();
    throwsBgp(() => whole.feed(Buffer.concat([bytes, Buffer.alloc(100)])).next(), 1, subcode, hex(data), what);
    const bytewise = new Framer();
    const feedBytes = (): void => {
      for (const b of bytes) assert.equal(bytewise.feed(Buffer.of(b)).next().done, true);
    };
    throwsBgp(feedBytes, 1, subcode, hex(data), `${what}, byte by byte`);
  }
});

test('the first bad header stops the framer for good, after the good messages before it', () => {
  const f = new Framer();
  f.push(Buffer.concat([hex(KEEPALIVE_HEX), hex(`${MARKER} 0013 09`), hex(KEEPALIVE_HEX)]));
  assert.equal(f.next()?.type, 4);
  throwsBgp(() => f.next(), 1, 3, Buffer.of(9));
  throwsBgp(() => f.next(), 1, 3);
  throwsBgp(() => f.push(hex(KEEPALIVE_HEX)), 1, 3);
});

test('extended messages: 65535 is accepted after setMaxLength, except for OPEN and KEEPALIVE', () => {
  const big = encodeMessage(2, Buffer.alloc(5000 - 19));
  const f = new Framer();
  throwsBgp(() => [...f.feed(big)], 1, 2, hex('1388'));

  // Negotiation happens between two messages of the same chunk: the pull model allows it.
  const g = new Framer();
  g.push(Buffer.concat([hex(OPEN_HEX), big, encodeMessage(2, Buffer.alloc(65535 - 19))]));
  assert.equal(g.next()?.type, 1);
  g.setMaxLength(65535);
  assert.equal(g.next()?.body.length, 5000 - 19);
  assert.equal(g.next()?.body.length, 65535 - 19);

  const h = new Framer(65535);
  throwsBgp(() => [...h.feed(hex(`${MARKER} 1001 01`))], 1, 2, hex('1001'));
  throwsBgp(() => checkHeader(hex(`${MARKER} 0014 04`), 0, 65535), 1, 2, hex('0014'));
  assert.equal(checkHeader(hex(`${MARKER} ffff 03`), 0, 65535), 65535);
  assert.throws(() => new Framer(100), RangeError);
  assert.throws(() => g.setMaxLength(70000), RangeError);
});

test('a large table-sized stream in uneven chunks frames every message', () => {
  const msgs: Buffer[] = [];
  for (let i = 0; i < 2000; i++) msgs.push(encodeMessage(2, Buffer.alloc(4 + (i % 500), i & 0xff)));
  const stream = Buffer.concat(msgs);
  const f = new Framer();
  let n = 0;
  let sum = 0;
  for (let off = 0, k = 0; off < stream.length; k++) {
    const size = 1 + ((k * 7919) % 3000);
    for (const m of f.feed(stream.subarray(off, off + size))) {
      assert.equal(m.body.length, 4 + (n % 500));
      assert.equal(m.body[0], n & 0xff);
      sum += m.body.length;
      n++;
    }
    off += size;
  }
  assert.equal(n, 2000);
  assert.equal(sum, stream.length - 19 * 2000);
});
