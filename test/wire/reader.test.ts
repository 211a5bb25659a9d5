import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../src/wire/reader.js';
import { BgpError, updateError } from '../../src/wire/errors.js';
import { Writer } from '../../src/wire/writer.js';

const short = () => updateError(1);

test('reader reads big-endian values and stops at its bound', () => {
  const r = new Reader(Buffer.from([1, 0, 2, 0, 0, 0, 3, 9]), short, 0, 7);
  assert.equal(r.u8(), 1);
  assert.equal(r.u16(), 2);
  assert.equal(r.u32(), 3);
  assert.equal(r.remaining, 0);
  assert.throws(() => r.u8(), (e: unknown) => e instanceof BgpError && e.code === 3 && e.subcode === 1);
});

test('a view cannot read past its own length', () => {
  const r = new Reader(Buffer.from([2, 0xaa, 0xbb, 0xcc]), short);
  const len = r.u8();
  const v = r.view(len);
  assert.deepEqual([...v.bytes(2)], [0xaa, 0xbb]);
  assert.throws(() => v.u8(), BgpError);
  assert.equal(r.u8(), 0xcc);
});

test('writer grows and patches length fields', () => {
  const w = new Writer(2);
  const at = w.placeholder(2);
  w.u32(0xdeadbeef).u8(7);
  w.patchU16(at, 5);
  assert.deepEqual([...w.toBuffer()], [0, 5, 0xde, 0xad, 0xbe, 0xef, 7]);
});
