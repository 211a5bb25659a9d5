// Bounded coverage-guided fuzz runs of every target (part of the normal suite).
// Each runs a fixed number of executions from a fixed seed, so a run is reproducible;
// TSBGP_FUZZ_SECONDS=600 runs each target that long instead (a longer campaign), and
// TSBGP_FUZZ_SEED picks another seed. Any oracle violation fails with the input in hex:
// save it with `node dist/fuzz/run.js --replay` in mind (see docs/fuzzing.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fuzzer, type Finding } from '../../fuzz/engine.js';
import { makeTarget, type TargetName } from '../../fuzz/targets/index.js';

const SECONDS = Number(process.env.TSBGP_FUZZ_SECONDS ?? 0);
const SEED = Number(process.env.TSBGP_FUZZ_SEED ?? 20240611);
/** Generous: the suite shares two cores with other work; the CLI uses 50 ms. */
const SLOW_MS = Number(process.env.TSBGP_FUZZ_SLOW_MS ?? 250);

const BUDGET: Readonly<Record<TargetName, number>> = { update: 40_000, stream: 25_000, fsm: 6_000 };
/** Blocks a bounded run must reach: a guard against a fuzzer that silently stops exploring. */
const MIN_BLOCKS: Readonly<Record<TargetName, number>> = { update: 500, stream: 600, fsm: 400 };

function show(f: Finding): string {
  const hex = f.input.toString('hex');
  return `${f.kind}: ${f.message.split('\n')[0]}\n  input (${f.input.length} bytes): ${hex.length > 400 ? hex.slice(0, 400) + '…' : hex}`;
}

for (const name of ['update', 'stream', 'fsm'] as const) {
  const what = SECONDS > 0 ? `${SECONDS} s` : `${BUDGET[name]} executions`;
  test(`fuzz ${name}: ${what} without an oracle violation`, { timeout: SECONDS > 0 ? SECONDS * 1000 + 120_000 : 120_000 }, () => {
    const target = makeTarget(name);
    const res = new Fuzzer(target, {
      seed: SEED,
      ...(SECONDS > 0 ? { seconds: SECONDS } : { maxExecs: BUDGET[name] }),
      slowMs: SLOW_MS,
      countSampleEvery: 8,
      minimizeBudget: 300,
    }).run();
    const s = res.stats;
    process.stdout.write(
      `# ${name}: ${s.execs} execs in ${s.seconds.toFixed(1)} s (${s.execsPerSec}/s), corpus ${s.corpus}, ` +
        `blocks ${s.hitBlocks}/${s.knownBlocks}, features ${s.features}\n`,
    );
    assert.deepEqual(res.findings.map(show), [], 'fuzzing found oracle violations');
    assert.ok(s.hitBlocks >= MIN_BLOCKS[name], `only ${s.hitBlocks} blocks hit`);
    assert.ok(s.corpus > 10, `corpus of ${s.corpus}`);
  });
}
