// Mutators, layouts and the structure-aware UPDATE/stream models of the fuzzer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatFinding, parseFindingFile } from '../../fuzz/finding-file.js';
import { streamLayout, updateLayout } from '../../fuzz/layout.js';
import { EMPTY_LAYOUT, mutateRaw, RAW_OPS } from '../../fuzz/mutate.js';
import { Rng } from '../../fuzz/rng.js';
import { parseStream, serializeStream, mutateStream } from '../../fuzz/struct/stream-model.js';
import { mutateUpdate, parseUpdateModel, serializeUpdate } from '../../fuzz/struct/update-model.js';

/** A valid UPDATE body, laid out by hand (RFC 4271 §4.3):
 *  0: withdrawn length 2 | 2: 10.0.0.0/8 (length octet at 2) | 4: attribute length 0x14
 *  6: ORIGIN 40 01 01 00 (length octet at 8)
 *  10: AS_PATH 40 02 06 | 02 01 0000fde9 (length octet at 12, segment count at 14)
 *  19: NEXT_HOP 40 03 04 c0000201 (length octet at 21) | 26: NLRI 18 c0a801 (length octet at 26). */
const BODY = Buffer.from('0002080a0014400101004002060201' + '0000fde9' + '400304c0000201' + '18c0a801', 'hex');

test('rng: same seed, same sequence; below(n) stays in range', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 100; i++) assert.equal(a.u32(), b.u32());
  const r = new Rng(1);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = r.below(7);
    assert.ok(v >= 0 && v < 7);
    seen.add(v);
  }
  assert.equal(seen.size, 7);
});

test('updateLayout finds the length fields, TLVs and prefix length octets', () => {
  const l = updateLayout(BODY);
  const offs = l.lengths.map((f) => `${f.off}/${f.size}`);
  assert.deepEqual(offs, ['0/2', '4/2', '8/1', '12/1', '14/1', '21/1']);
  assert.deepEqual(
    l.tlvs.map((t) => [t.start, t.end]),
    [
      [6, 10],
      [10, 19],
      [19, 26],
    ],
  );
  assert.deepEqual(l.prefixLens, [2, 26]);
});

test('streamLayout covers the header length of each message and the UPDATE inside', () => {
  const msg = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.of(0, 19 + BODY.length, 2), BODY]);
  const l = streamLayout(Buffer.concat([msg, msg]));
  assert.deepEqual(
    l.lengths.filter((f) => f.size === 2).map((f) => f.off),
    [16, 19, 23, 16 + msg.length, 19 + msg.length, 23 + msg.length],
  );
  assert.deepEqual(l.prefixLens, [21, 45, 21 + msg.length, 45 + msg.length]);
});

test('every raw mutator returns a buffer no longer than the limit', () => {
  const rng = new Rng(3);
  const ctx = { maxLen: 40, other: BODY, layout: updateLayout };
  for (const [op] of RAW_OPS) {
    for (let i = 0; i < 200; i++) {
      const out = op(BODY.subarray(0, rng.below(BODY.length + 1)), rng, ctx);
      assert.ok(Buffer.isBuffer(out) && out.length <= Math.max(40, BODY.length), `${op.name} gave ${out.length} bytes`);
    }
  }
  // Mutation does not change its input.
  const copy = Buffer.from(BODY);
  for (let i = 0; i < 500; i++) mutateRaw(BODY, rng, { maxLen: 4096, other: BODY, layout: () => EMPTY_LAYOUT });
  assert.ok(copy.equals(BODY));
});

test('the UPDATE model parses and writes back byte for byte', () => {
  const m = parseUpdateModel(BODY);
  assert.ok(m !== undefined);
  assert.deepEqual(
    m.attrs.map((a) => a.type),
    [1, 2, 3],
  );
  assert.equal(m.withdrawn.toString('hex'), '080a');
  assert.equal(m.nlri.toString('hex'), '18c0a801');
  assert.ok(serializeUpdate(m).equals(BODY));
  assert.equal(parseUpdateModel(BODY.subarray(0, 10)), undefined, 'inconsistent lengths do not parse');
});

test('structured UPDATE mutants keep every length consistent', () => {
  const rng = new Rng(9);
  let cur: Buffer = BODY;
  for (let i = 0; i < 3000; i++) {
    const next = mutateUpdate(cur, rng, BODY);
    assert.ok(next !== undefined);
    assert.ok(parseUpdateModel(next) !== undefined, `mutant ${i} does not parse: ${next.toString('hex')}`);
    cur = next.length > 3000 ? BODY : next;
  }
});

test('the stream model splits at header lengths and rebuilds headers', () => {
  const msg = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.of(0, 19 + BODY.length, 2), BODY]);
  const ka = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.of(0, 19, 4)]);
  const stream = Buffer.concat([msg, ka, msg]);
  const msgs = parseStream(stream);
  assert.deepEqual(
    msgs?.map((m) => [m.type, m.body.length]),
    [
      [2, BODY.length],
      [4, 0],
      [2, BODY.length],
    ],
  );
  assert.ok(serializeStream(msgs!, 65535).equals(stream));
  const rng = new Rng(5);
  for (let i = 0; i < 500; i++) {
    const out = mutateStream(stream, rng, stream, 3 * 65536, [ka]);
    assert.ok(out !== undefined && parseStream(out) !== undefined, 'stream mutants keep their header lengths');
  }
});

test('finding files round-trip the input and the metadata', () => {
  const f = {
    target: 'update',
    kind: 'oracle' as const,
    signature: 'oracle:x',
    message: 'two\nlines',
    stack: 'OracleViolation: two\n    at check (file:///x/dist/fuzz/oracle.js:1:1)',
    input: Buffer.of(0, 1, 0xfe),
  };
  const back = parseFindingFile(formatFinding(f, { todo: 'owner fixes it' }));
  assert.ok(back.input.equals(f.input));
  assert.equal(back.meta.target, 'update');
  assert.equal(back.meta.message, 'two lines');
  assert.equal(back.meta.todo, 'owner fixes it');
  assert.equal(parseFindingFile('# target: fsm\n\n').input.length, 0);
});
