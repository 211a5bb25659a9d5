import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { EntryFlag, FibTable, IdQueue } from '../../src/fib/table.js';

const key = (fam: 4 | 6, b: Uint8Array, plen: number): string => `${fam}|${Buffer.from(b.subarray(0, fam === 4 ? 4 : 16)).toString('hex')}/${plen}`;

test('FibTable agrees with a Map under random inserts and removes (with growth)', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          del: fc.boolean(),
          v6: fc.boolean(),
          // few distinct keys so removes hit and probe chains collide
          a: fc.integer({ min: 0, max: 40 }),
          plen: fc.integer({ min: 0, max: 2 }),
        }),
        { maxLength: 300 },
      ),
      (ops) => {
        const t = new FibTable(16);
        const model = new Map<string, number>();
        const b = new Uint8Array(16);
        for (const op of ops) {
          const fam = op.v6 ? 6 : 4;
          b.fill(0);
          b[0] = op.a;
          b[fam === 4 ? 3 : 15] = op.a * 7;
          const k = key(fam, b, op.plen);
          if (op.del) {
            const id = t.find(fam, b, 0, op.plen);
            assert.equal(id >= 0, model.has(k));
            if (id >= 0) {
              assert.equal(id, model.get(k));
              t.remove(id);
              model.delete(k);
            }
          } else {
            const id = t.insert(fam, b, 0, op.plen);
            if (model.has(k)) assert.equal(id, model.get(k));
            model.set(k, id);
          }
        }
        assert.equal(t.size, model.size);
        for (const [k, id] of model) {
          const out = new Uint8Array(16);
          t.addr(id, out, 0);
          assert.equal(key(t.family(id), out, t.plen(id)), k);
          assert.equal(t.find(t.family(id), out, 0, t.plen(id)), id);
        }
      },
    ),
  );
});

test('FibTable: a new entry starts empty; removed ids are reused', () => {
  const t = new FibTable(16);
  const a = Uint8Array.of(10, 0, 0, 0);
  const id = t.insert(4, a, 0, 8);
  assert.equal(t.desired[id], -1);
  assert.equal(t.installed[id], -1);
  assert.equal(t.flags[id], EntryFlag.LIVE);
  t.setDesired(id, 5);
  t.remove(id);
  assert.equal(t.find(4, a, 0, 8), -1);
  assert.ok(!t.live(id));
  const again = t.insert(4, Uint8Array.of(11, 0, 0, 0), 0, 8);
  assert.equal(again, id);
  assert.equal(t.desired[again], -1);
  // 10.0.0.0/8 and 10.0.0.0/9 and the IPv6 prefix with the same first bytes are distinct
  const x = t.insert(4, a, 0, 8);
  const y = t.insert(4, a, 0, 9);
  const z = t.insert(6, new Uint8Array([10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0, 8);
  assert.equal(new Set([x, y, z]).size, 3);
});

test('IdQueue is FIFO across growth and compaction', () => {
  const q = new IdQueue();
  const model: number[] = [];
  for (let i = 0; i < 5000; i++) {
    q.push(i);
    model.push(i);
    if (i % 3 === 0) assert.equal(q.shift(), model.shift());
  }
  while (model.length) assert.equal(q.shift(), model.shift());
  assert.equal(q.shift(), -1);
  assert.equal(q.length, 0);
});
