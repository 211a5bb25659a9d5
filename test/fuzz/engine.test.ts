// The fuzz engine's own parts: coverage feedback, bisection, findings, minimization.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucket, Coverage, featureOf, Snapshot } from '../../fuzz/coverage.js';
import { classify, Fuzzer, type Target } from '../../fuzz/engine.js';
import { EMPTY_LAYOUT } from '../../fuzz/mutate.js';
import { OracleViolation } from '../../fuzz/oracle.js';

const THIS_FILE = (url: string): boolean => url.endsWith('/dist/test/fuzz/engine.test.js');

test('count buckets follow libFuzzer: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+', () => {
  const cases: [number, number][] = [[0, 0], [1, 1], [2, 2], [3, 3], [4, 4], [7, 4], [8, 5], [15, 5], [16, 6], [31, 6], [32, 7], [127, 7], [128, 8], [1e6, 8]];
  for (const [count, b] of cases) assert.equal(bucket(count), b, `count ${count}`);
  assert.equal(featureOf(3, 5), 3 * 16 + 4);
});

// A function with two branches, so coverage can tell which ran.
function branchy(x: number): number {
  if (x > 10) {
    return x * 2;
  }
  return x + 1;
}

test('a snapshot reports the branch that ran, with its count, and resets the counts', () => {
  const cov = new Coverage(THIS_FILE);
  cov.start();
  try {
    const s = new Snapshot();
    branchy(1);
    cov.take(s); // learns the function and its blocks
    for (let i = 0; i < 5; i++) branchy(20);
    cov.take(s);
    const hot = s.ids.map((id, i) => [cov.describe(id), s.counts[i]] as const).filter(([d]) => d.includes(':branchy@'));
    // The whole function ran 5 times and the x > 10 branch 5 times; the other return never.
    assert.ok(hot.length >= 2, JSON.stringify(hot));
    assert.ok(hot.every(([, c]) => c === 5), JSON.stringify(hot));
    branchy(1);
    cov.take(s);
    const cold = s.ids.map((id, i) => [cov.describe(id), s.counts[i]] as const).filter(([d]) => d.includes(':branchy@'));
    // After the reset only one call counts; the x > 10 block is not hit this time.
    assert.ok(cold.every(([, c]) => c === 1), JSON.stringify(cold));
    assert.ok(cold.length < hot.length + 1, JSON.stringify(cold));
  } finally {
    cov.stop();
  }
});

/** Planted bug behind three magic bytes: hopeless for blind search, easy with coverage. */
function magic(b: Buffer): void {
  if (b.length < 4) return;
  if (b[1] === 0x42) {
    if (b[2] === 0x47) {
      if (b[3] === 0x50) {
        throw new TypeError('planted bug');
      }
    }
  }
}

function magicTarget(): Target {
  return {
    name: 'magic',
    maxLen: 16,
    run: magic,
    seeds: () => [Buffer.from('abcdefgh')],
    layout: () => EMPTY_LAYOUT,
  };
}

test('coverage guidance finds three magic bytes (blind search: one in 2^24 mutants at best)', () => {
  // Seeds 1-12 all find it within 500k executions; seed 10 needs about 35k.
  const res = new Fuzzer(magicTarget(), { seed: 10, maxExecs: 1_000_000, include: THIS_FILE, stopOnFinding: true, minimizeBudget: 200 }).run();
  const f = res.findings.find((x) => x.kind === 'crash');
  assert.ok(f !== undefined, `not found in ${res.stats.execs} execs (corpus ${res.stats.corpus})`);
  assert.match(f.message, /TypeError: planted bug/);
  assert.equal(f.input[1], 0x42);
  assert.equal(f.input[2], 0x47);
  assert.equal(f.input[3], 0x50);
  // Minimization keeps it at the 4 bytes the bug needs.
  assert.equal(f.input.length, 4);
  // Intermediate steps were kept: each magic byte opens a block.
  assert.ok(res.stats.corpus >= 3, `corpus ${res.stats.corpus}`);
});

test('an oracle violation and a crash get distinct, digit-free signatures', () => {
  const a = classify(new OracleViolation('prefix length 33\nmore'), 't', Buffer.alloc(0));
  const b = classify(new OracleViolation('prefix length 129'), 't', Buffer.alloc(0));
  assert.equal(a.kind, 'oracle');
  assert.equal(a.signature, b.signature);
  const c = classify(new RangeError('offset 7 out of range'), 't', Buffer.alloc(0));
  assert.equal(c.kind, 'crash');
  assert.match(c.signature, /^crash:RangeError: offset N out of range@/);
});

test('a slow input is reported once, with the time of the slowest call', () => {
  let calls = 0;
  const t: Target = {
    name: 'slow',
    maxLen: 8,
    run: (b) => {
      calls++;
      if (b.length > 0 && b[0] === 0x7f) {
        const until = performance.now() + 30;
        while (performance.now() < until) {
          /* spin */
        }
      }
    },
    seeds: () => [Buffer.of(0x7f), Buffer.of(1)],
    layout: () => EMPTY_LAYOUT,
  };
  const res = new Fuzzer(t, { seed: 1, maxExecs: 50, slowMs: 10, batchSize: 10 }).run();
  const slow = res.findings.filter((f) => f.kind === 'slow');
  assert.equal(slow.length, 1);
  assert.match(slow[0]!.message, /takes \d+\.\d ms \(limit 10 ms\)/);
  assert.ok(calls >= 50);
});
