import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter } from '../../src/api/lines.js';

function run(max: number, chunks: Buffer[]): string[] {
  const out: string[] = [];
  const s = new LineSplitter(max, { line: (t) => out.push(t), oversize: () => out.push('<oversize>') });
  for (const c of chunks) s.push(c);
  return out;
}

test('lines come out whole wherever the input is split', () => {
  const text = '{"id":1}\n{"id":"é2"}\r\n\n{"id":3}\n';
  const bytes = Buffer.from(text);
  const expected = ['{"id":1}', '{"id":"é2"}\r', '{"id":3}'];
  for (let i = 0; i <= bytes.length; i++) {
    for (let j = i; j <= bytes.length; j++) {
      assert.deepEqual(run(1000, [bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]), expected, `split at ${i},${j}`);
    }
  }
});

test('an oversize line is reported once, skipped to its newline, and the next line is read', () => {
  const long = 'x'.repeat(50);
  const chunks = [Buffer.from(`${long.slice(0, 20)}`), Buffer.from(`${long.slice(20)}`), Buffer.from('\nok\n')];
  assert.deepEqual(run(10, chunks), ['<oversize>', 'ok']);
  // Exactly at the bound is fine; one more byte is not.
  assert.deepEqual(run(3, [Buffer.from('abc\nabcd\nab\n')]), ['abc', '<oversize>', 'ab']);
});

test('an unfinished line is held, not emitted', () => {
  const out: string[] = [];
  const s = new LineSplitter(100, { line: (t) => out.push(t), oversize: () => out.push('!') });
  s.push(Buffer.from('{"id":'));
  assert.deepEqual(out, []);
  assert.equal(s.pending, 6);
  s.push(Buffer.from('1}\n'));
  assert.deepEqual(out, ['{"id":1}']);
  assert.equal(s.pending, 0);
});
