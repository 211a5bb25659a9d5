// The fuzzing CLI.
//   node dist/fuzz/run.js --target update --seconds 60 [--corpus DIR] [--out DIR]
//   node dist/fuzz/run.js --target all --seconds 600 --json
//   node dist/fuzz/run.js --replay fuzz-out/update/update-oracle-1234.hex
// Options: --execs N (stop after N executions), --seed N, --batch K (inputs per coverage
// snapshot), --count-sample N (every N batches run 4 mutants alone to learn count
// buckets; 0 = off), --slow-ms N, --stall-ms N (watchdog), --minimize N (execs per finding).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { classify, Fuzzer, type Finding, type FuzzStats } from './engine.js';
import { findingFileName, formatFinding, parseFindingFile } from './finding-file.js';
import { isTargetName, makeTarget, TARGET_NAMES, type TargetName } from './targets/index.js';
import { Watchdog } from './watchdog.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    target: { type: 'string', default: 'update' },
    seconds: { type: 'string' },
    execs: { type: 'string' },
    corpus: { type: 'string' },
    out: { type: 'string', default: 'fuzz-out' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    batch: { type: 'string', default: '100' },
    'count-sample': { type: 'string', default: '8' },
    'slow-ms': { type: 'string', default: '50' },
    'stall-ms': { type: 'string', default: '10000' },
    minimize: { type: 'string', default: '2000' },
    replay: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    uncovered: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
});

function log(s: string): void {
  if (!values.quiet) process.stderr.write(s + '\n');
}

/** A `.hex` file (finding format: comments + one hex line) or raw bytes. */
function readInput(path: string): Buffer {
  const raw = readFileSync(path);
  return path.endsWith('.hex') ? parseFindingFile(raw.toString('utf8')).input : raw;
}

function replay(paths: readonly string[]): number {
  let failed = 0;
  for (const p of paths) {
    const text = p.endsWith('.hex') ? readFileSync(p, 'utf8') : '';
    let name = values.target!;
    let input: Buffer;
    if (p.endsWith('.hex')) {
      const f = parseFindingFile(text);
      input = f.input;
      if (f.meta.target !== undefined) name = f.meta.target;
    } else {
      input = readInput(p);
    }
    if (!isTargetName(name)) throw new Error(`unknown target ${name}`);
    const target = makeTarget(name);
    const t = performance.now();
    try {
      target.run(input);
      process.stdout.write(`${p}: ${name}: ok (${(performance.now() - t).toFixed(2)} ms)\n`);
    } catch (e) {
      failed++;
      const f = classify(e, name, input);
      process.stdout.write(`${p}: ${name}: ${f.kind}: ${f.message}\n${f.stack}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

function loadCorpus(dir: string | undefined): Buffer[] {
  if (dir === undefined || !existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((n) => readInput(join(dir, n)));
}

function saveInput(dir: string, input: Buffer): void {
  const name = createHash('sha1').update(input).digest('hex').slice(0, 16);
  writeFileSync(join(dir, `${name}.bin`), input);
}

function statusLine(s: FuzzStats): string {
  return (
    `[${s.target}] ${s.seconds.toFixed(0)}s execs ${s.execs} (${s.execsPerSec}/s) corpus ${s.corpus} ` +
    `blocks ${s.hitBlocks}/${s.knownBlocks} features ${s.features} findings ${s.findings}`
  );
}

async function fuzzOne(name: TargetName, seconds: number | undefined, execs: number | undefined): Promise<object> {
  const target = makeTarget(name);
  const outDir = resolve(values.out!, name);
  mkdirSync(outDir, { recursive: true });
  const corpusDir = values.corpus === undefined ? undefined : resolve(values.corpus, values.target === 'all' ? name : '.');
  if (corpusDir !== undefined) mkdirSync(corpusDir, { recursive: true });
  const watchdog = new Watchdog({ outFile: join(outDir, 'hang-input.hex'), stallMs: Number(values['stall-ms']), maxLen: target.maxLen });
  const seed = Number(values.seed);
  const write = (f: Finding): void => {
    writeFileSync(join(outDir, findingFileName(f)), formatFinding(f, { seed: String(seed) }));
  };
  log(`[${name}] seed ${seed}, out ${outDir}${corpusDir === undefined ? '' : `, corpus ${corpusDir}`}`);
  const fuzzer = new Fuzzer(target, {
    seed,
    ...(seconds !== undefined ? { seconds } : {}),
    ...(execs !== undefined ? { maxExecs: execs } : {}),
    batchSize: Number(values.batch),
    countSampleEvery: Number(values['count-sample']),
    slowMs: Number(values['slow-ms']),
    minimizeBudget: Number(values.minimize),
    corpus: loadCorpus(corpusDir),
    heartbeat: watchdog,
    onStatus: (s) => log(statusLine(s)),
    ...(corpusDir === undefined ? {} : { onNewInput: (x: Buffer) => saveInput(corpusDir, x) }),
    onFinding: (f) => {
      log(`[${name}] FINDING ${f.kind}: ${f.message} (${f.input.length} bytes)`);
      write(f);
    },
  });
  const res = fuzzer.run();
  await watchdog.stop();
  for (const f of res.findings) write(f); // minimized versions
  log(statusLine(res.stats));
  if (values.uncovered) for (const u of res.uncovered) log(`  not hit: ${u}`);
  const summary = {
    ...res.stats,
    timeline: res.stats.timeline,
    counters: target.counters,
    findings: res.findings.map((f) => ({ kind: f.kind, message: f.message, bytes: f.input.length, file: join(outDir, findingFileName(f)) })),
  };
  return summary;
}

async function main(): Promise<number> {
  if (values.replay) return replay(positionals);
  const names: TargetName[] = values.target === 'all' ? [...TARGET_NAMES] : isTargetName(values.target!) ? [values.target] : [];
  if (names.length === 0) throw new Error(`--target must be one of ${TARGET_NAMES.join(', ')}, all`);
  const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
  const execs = values.execs === undefined ? undefined : Number(values.execs);
  const results: object[] = [];
  for (const n of names) results.push(await fuzzOne(n, seconds ?? (execs === undefined ? 60 : undefined), execs));
  if (values.json) process.stdout.write(JSON.stringify(results, null, 2) + '\n');
  const found = results.reduce((n, r) => n + (r as { findings: unknown[] }).findings.length, 0);
  return found === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
