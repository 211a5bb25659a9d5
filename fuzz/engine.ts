// The coverage-guided loop. Per batch: mutate K corpus entries, run them all, take one
// coverage snapshot. A snapshot costs ~1-2 ms whatever ran, so per-input snapshots would
// cap us near 600 execs/s; a batch pays it once. Block hits add up exactly across a
// batch (a block is hit by the batch iff by some input), so a batch that hits a block
// never hit before is bisected (halves re-run, each with its own snapshot) down to the
// inputs responsible, which are snapshotted alone and kept with their full features
// (block × count bucket). Count buckets do not add up across inputs, so they are only
// learned from inputs run alone: bisection leaves, seeds, and a sample of mutants every
// `countSampleEvery` batches.
import { Coverage, featureOf, Snapshot, type UrlFilter } from './coverage.js';
import { type Layout, mutateRaw } from './mutate.js';
import { OracleViolation } from './oracle.js';
import { Rng } from './rng.js';
import type { Stopwatch } from './stopwatch.js';

export interface Target {
  readonly name: string;
  /** Largest input worth trying (bytes). */
  readonly maxLen: number;
  /** Runs one input through the code under test and the oracles; throws on a finding. */
  run(input: Buffer): void;
  /** Initial inputs (valid messages and real ones). */
  seeds(): Buffer[];
  /** Where the length fields, TLVs and prefix lengths are, for the BGP-aware mutators. */
  layout(input: Buffer): Layout;
  /** Structure-aware mutation (lengths kept consistent); undefined if the input does not parse. */
  mutate?(input: Buffer, rng: Rng, other: Buffer): Buffer | undefined;
  /**
   * The longest call into the code under test in the last run, without the oracles'
   * work; the slow oracle judges this when present, the whole run otherwise.
   */
  readonly stopwatch?: Stopwatch;
}

export type FindingKind = 'crash' | 'oracle' | 'slow' | 'memory';

export interface Finding {
  readonly target: string;
  readonly kind: FindingKind;
  /** Findings with one signature are one bug; the smallest input is kept. */
  readonly signature: string;
  readonly message: string;
  readonly stack: string;
  input: Buffer;
}

/** Lets a watchdog thread see which input is running (see watchdog.ts). */
export interface Heartbeat {
  beat(input: Buffer): void;
}

export interface FuzzOptions {
  readonly seed?: number;
  /** Inputs per coverage snapshot. */
  readonly batchSize?: number;
  /** Stop after this many executions (re-runs included). */
  readonly maxExecs?: number;
  /** Stop after this many seconds. */
  readonly seconds?: number;
  /** An input slower than this (ms, confirmed by re-runs) is a finding. */
  readonly slowMs?: number;
  /** Heap + external growth over one batch (MB) that triggers a per-input check. */
  readonly memBatchMb?: number;
  /** Growth for one input (MB) that is a finding. */
  readonly memInputMb?: number;
  /** Every this many batches, run `countSampleSize` mutants alone to learn count buckets (0: never). */
  readonly countSampleEvery?: number;
  readonly countSampleSize?: number;
  /** Extra starting inputs (a saved corpus). */
  readonly corpus?: readonly Buffer[];
  /** Scripts whose coverage counts. */
  readonly include?: UrlFilter;
  /** End the run at the first finding (tests that look for a planted bug). */
  readonly stopOnFinding?: boolean;
  /** Try to shrink each finding's input at the end (execs per finding). */
  readonly minimizeBudget?: number;
  readonly statusEveryMs?: number;
  readonly onStatus?: (s: FuzzStats) => void;
  readonly onNewInput?: (input: Buffer) => void;
  readonly onFinding?: (f: Finding) => void;
  readonly heartbeat?: Heartbeat;
}

export interface TimelinePoint {
  readonly seconds: number;
  readonly execs: number;
  readonly corpus: number;
  readonly hitBlocks: number;
  readonly features: number;
}

export interface FuzzStats {
  readonly target: string;
  execs: number;
  seconds: number;
  execsPerSec: number;
  corpus: number;
  /** Blocks of the code under test executed by some input. */
  hitBlocks: number;
  /** Blocks V8 has shown us (executed functions' blocks, hit or not). */
  knownBlocks: number;
  /** Distinct (block, count bucket) pairs. */
  features: number;
  findings: number;
  batches: number;
  bisections: number;
  snapshots: number;
  /** Time in coverage snapshots vs running inputs (ms). */
  snapshotMs: number;
  runMs: number;
  timeline: TimelinePoint[];
}

export interface FuzzResult {
  readonly stats: FuzzStats;
  readonly findings: Finding[];
  readonly corpus: Buffer[];
  /** Blocks V8 showed us that no input executed (`file:function@start-end`). */
  readonly uncovered: string[];
}

const MB = 1024 * 1024;

interface Entry {
  readonly data: Buffer;
}

export class Fuzzer {
  private readonly target: Target;
  private readonly opts: FuzzOptions;
  private readonly rng: Rng;
  private readonly cov: Coverage;
  private readonly snap = new Snapshot();
  private hitSeen = new Uint8Array(4096);
  private readonly featSeen = new Set<number>();
  private readonly entries: Entry[] = [];
  private readonly findings = new Map<string, Finding>();
  private readonly mctx: { maxLen: number; other: Buffer; layout: (b: Buffer) => Layout };
  private readonly stats: FuzzStats;
  private readonly slowMs: number;
  private t0 = 0;
  /** Code under test ran since the last snapshot (else a reset is not needed). */
  private dirty = true;

  constructor(target: Target, opts: FuzzOptions = {}) {
    this.target = target;
    this.opts = opts;
    this.rng = new Rng(opts.seed ?? 1);
    this.cov = new Coverage(opts.include);
    this.slowMs = opts.slowMs ?? 50;
    this.mctx = { maxLen: target.maxLen, other: Buffer.alloc(0), layout: (b) => target.layout(b) };
    this.stats = {
      target: target.name,
      execs: 0,
      seconds: 0,
      execsPerSec: 0,
      corpus: 0,
      hitBlocks: 0,
      knownBlocks: 0,
      features: 0,
      findings: 0,
      batches: 0,
      bisections: 0,
      snapshots: 0,
      snapshotMs: 0,
      runMs: 0,
      timeline: [],
    };
  }

  run(): FuzzResult {
    const o = this.opts;
    const batchSize = o.batchSize ?? 100;
    const maxExecs = o.maxExecs ?? Infinity;
    const deadline = o.seconds === undefined ? Infinity : o.seconds * 1000;
    const statusEvery = o.statusEveryMs ?? 10_000;
    const sampleEvery = o.countSampleEvery ?? 0;
    const sampleSize = o.countSampleSize ?? 4;
    this.t0 = performance.now();
    let nextStatus = statusEvery;
    this.cov.start();
    try {
      for (const s of [...this.target.seeds(), ...(o.corpus ?? [])]) this.tryAdd(s, true);
      if (this.entries.length === 0) this.entries.push({ data: Buffer.alloc(0) });
      this.point();
      const batch: Buffer[] = [];
      const stop = o.stopOnFinding === true;
      while (this.stats.execs < maxExecs && this.elapsed() < deadline && !(stop && this.findings.size > 0)) {
        batch.length = 0;
        for (let i = 0; i < batchSize; i++) batch.push(this.child());
        const m0 = memNow();
        for (const x of batch) this.exec(x);
        this.take();
        this.stats.batches++;
        const fresh = this.newHits(this.snap);
        if (fresh.length > 0) {
          this.stats.bisections++;
          this.bisect(batch, fresh);
          for (const id of fresh) this.markHit(id); // even if no single input reproduces it
        }
        if (memNow() - m0 > (o.memBatchMb ?? 64) * MB) this.memoryCheck(batch);
        if (sampleEvery > 0 && this.stats.batches % sampleEvery === 0) {
          for (let i = 0; i < sampleSize; i++) this.tryAdd(this.child(), false);
        }
        if (this.elapsed() >= nextStatus) {
          nextStatus += statusEvery;
          this.point();
          o.onStatus?.(this.refresh());
        }
      }
      this.point();
      if ((o.minimizeBudget ?? 0) > 0) for (const f of this.findings.values()) this.minimize(f, o.minimizeBudget!);
    } finally {
      this.cov.stop();
    }
    const uncovered: string[] = [];
    for (let id = 0; id < this.cov.blockCount; id++) if (!this.isHit(id)) uncovered.push(this.cov.describe(id));
    return { stats: this.refresh(), findings: [...this.findings.values()], corpus: this.entries.map((e) => e.data), uncovered };
  }

  private elapsed(): number {
    return performance.now() - this.t0;
  }

  private refresh(): FuzzStats {
    const s = this.stats;
    s.seconds = this.elapsed() / 1000;
    s.execsPerSec = s.seconds > 0 ? Math.round(s.execs / s.seconds) : 0;
    s.corpus = this.entries.length;
    s.knownBlocks = this.cov.blockCount;
    s.features = this.featSeen.size;
    s.findings = this.findings.size;
    s.snapshots = this.cov.snapshots;
    s.snapshotMs = Math.round(this.cov.snapshotMs);
    return s;
  }

  private point(): void {
    const s = this.refresh();
    s.timeline.push({
      seconds: Math.round(s.seconds * 10) / 10,
      execs: s.execs,
      corpus: s.corpus,
      hitBlocks: s.hitBlocks,
      features: s.features,
    });
  }

  /** A mutant of a corpus entry; newer entries are picked more often. */
  private child(): Buffer {
    const n = this.entries.length;
    const rng = this.rng;
    const pick = (): Buffer => {
      const i = n > 8 && rng.oneIn(2) ? n - 1 - rng.below(Math.max(1, n >>> 2)) : rng.below(n);
      return this.entries[i]!.data;
    };
    const parent = pick();
    const other = pick();
    this.mctx.other = other;
    let out: Buffer | undefined;
    if (this.target.mutate !== undefined && rng.oneIn(2)) {
      out = this.target.mutate(parent, rng, other);
      if (out !== undefined && rng.oneIn(4)) out = mutateRaw(out, rng, this.mctx);
    }
    if (out === undefined) out = mutateRaw(parent, rng, this.mctx);
    return out.length > this.target.maxLen ? out.subarray(0, this.target.maxLen) : out;
  }

  /** Runs one input with the oracles; returns its run time (ms). */
  private exec(input: Buffer): number {
    this.opts.heartbeat?.beat(input);
    this.dirty = true;
    const sw = this.target.stopwatch;
    sw?.reset();
    const t = performance.now();
    let error: unknown;
    let failed = false;
    try {
      this.target.run(input);
    } catch (e) {
      failed = true;
      error = e;
    }
    const dt = performance.now() - t;
    this.stats.execs++;
    this.stats.runMs += dt;
    if (failed) this.report(classify(error, this.target.name, input));
    else if ((sw === undefined ? dt : sw.ms) > this.slowMs) this.slowCheck(input);
    return dt;
  }

  /** GC and JIT pauses are not findings: an input is slow only if three re-runs all are. */
  private slowCheck(input: Buffer): void {
    let best = Infinity;
    const sw = this.target.stopwatch;
    for (let i = 0; i < 3; i++) {
      sw?.reset();
      const t = performance.now();
      this.runQuiet(input);
      best = Math.min(best, sw === undefined ? performance.now() - t : sw.ms);
      this.stats.execs++;
      if (best <= this.slowMs) break;
    }
    if (best > this.slowMs) {
      this.report({
        target: this.target.name,
        kind: 'slow',
        signature: 'slow',
        message: `input of ${input.length} bytes: a call into the code under test takes ${best.toFixed(1)} ms (limit ${this.slowMs} ms)`,
        stack: '',
        input,
      });
    }
  }

  private memoryCheck(batch: readonly Buffer[]): void {
    const limit = (this.opts.memInputMb ?? 32) * MB;
    for (const x of batch) {
      let grew = Infinity;
      for (let i = 0; i < 2 && grew > limit; i++) {
        const m = memNow();
        this.runQuiet(x);
        grew = memNow() - m;
        this.stats.execs++;
      }
      if (grew > limit) {
        this.report({
          target: this.target.name,
          kind: 'memory',
          signature: 'memory',
          message: `input of ${x.length} bytes grows heap+external by ${(grew / MB).toFixed(1)} MB (limit ${limit / MB} MB)`,
          stack: '',
          input: x,
        });
      }
    }
    this.resetCoverage();
  }

  /** A re-run whose failure, if any, was already reported by `exec`. */
  private runQuiet(input: Buffer): void {
    this.opts.heartbeat?.beat(input);
    this.dirty = true;
    try {
      this.target.run(input);
    } catch {
      // reported by exec
    }
  }

  private report(f: Finding): void {
    const old = this.findings.get(f.signature);
    if (old !== undefined) {
      if (f.input.length < old.input.length) {
        old.input = f.input;
        this.opts.onFinding?.(old);
      }
      return;
    }
    this.findings.set(f.signature, f);
    this.opts.onFinding?.(f);
  }

  private take(): void {
    this.cov.take(this.snap);
    this.dirty = false;
  }

  private resetCoverage(): void {
    if (this.dirty) this.cov.reset();
    this.dirty = false;
  }

  private isHit(id: number): boolean {
    return id < this.hitSeen.length && this.hitSeen[id] === 1;
  }

  private markHit(id: number): void {
    if (id >= this.hitSeen.length) {
      const grown = new Uint8Array(Math.max(id + 1, this.hitSeen.length * 2));
      grown.set(this.hitSeen);
      this.hitSeen = grown;
    }
    if (this.hitSeen[id] === 0) {
      this.hitSeen[id] = 1;
      this.stats.hitBlocks++;
    }
  }

  private newHits(s: Snapshot): number[] {
    const out: number[] = [];
    for (const id of s.ids) if (!this.isHit(id)) out.push(id);
    return out;
  }

  /** Finds the inputs of `inputs` that hit the blocks `fresh`; `inputs` already ran. */
  private bisect(inputs: readonly Buffer[], fresh: readonly number[]): void {
    if (inputs.length === 1) {
      this.tryAdd(inputs[0]!, false);
      return;
    }
    const mid = inputs.length >>> 1;
    for (const half of [inputs.slice(0, mid), inputs.slice(mid)]) {
      if (fresh.every((id) => this.isHit(id))) return; // the first half explained it all
      for (const x of half) this.exec(x);
      this.take();
      const hits = this.newHits(this.snap);
      if (hits.length > 0) this.bisect(half, hits);
    }
  }

  /** Runs `input` alone; keeps it if it adds a block or a count bucket. */
  private tryAdd(input: Buffer, seed: boolean): boolean {
    this.resetCoverage();
    this.exec(input);
    this.take();
    const s = this.snap;
    let fresh = 0;
    for (let i = 0; i < s.ids.length; i++) {
      const id = s.ids[i]!;
      const f = featureOf(id, s.counts[i]!);
      if (!this.isHit(id)) {
        this.markHit(id);
        fresh++;
      }
      if (!this.featSeen.has(f)) {
        this.featSeen.add(f);
        fresh++;
      }
    }
    if (fresh === 0 && !(seed && this.entries.length === 0)) return false;
    this.entries.push({ data: input });
    if (!seed) this.opts.onNewInput?.(input);
    return true;
  }

  /** Removes chunks (halves down to single bytes) while the same finding reproduces. */
  private minimize(f: Finding, budget: number): void {
    let cur = f.input;
    let spent = 0;
    for (let chunk = cur.length >>> 1; chunk >= 1 && spent < budget; chunk >>>= 1) {
      for (let at = 0; at + chunk <= cur.length && spent < budget; ) {
        const cand = Buffer.concat([cur.subarray(0, at), cur.subarray(at + chunk)]);
        spent++;
        if (this.reproduces(f, cand)) cur = cand;
        else at += chunk;
      }
    }
    f.input = cur;
    this.resetCoverage();
  }

  private reproduces(f: Finding, input: Buffer): boolean {
    if (f.kind === 'slow' || f.kind === 'memory') return false;
    try {
      this.opts.heartbeat?.beat(input);
      this.dirty = true;
      this.target.run(input);
      return false;
    } catch (e) {
      return classify(e, f.target, input).signature === f.signature;
    } finally {
      this.stats.execs++;
    }
  }
}

function memNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Digits vary between inputs of one bug (lengths, offsets); keep the words. */
function normalise(message: string): string {
  return message.split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 160);
}

/**
 * Where a crash happened, as file:line: the first frame in the code under test, else
 * the first frame outside node internals and this engine (whose call sites differ
 * between a run and its replays).
 */
function topFrame(stack: string): string {
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l));
  const loc = (l: string): string | undefined => /\(?((?:file|node):[^()\s]+):\d+\)?$/.exec(l.trim())?.[1];
  for (const l of frames) {
    const m = /\/dist\/(src\/[^:)]+:\d+)/.exec(l);
    if (m !== null) return m[1]!;
  }
  for (const l of frames) {
    const at = loc(l);
    if (at !== undefined && !at.startsWith('node:') && !at.includes('/dist/fuzz/engine.js')) return at.replace(/^.*\/dist\//, '');
  }
  return '?';
}

export function classify(e: unknown, target: string, input: Buffer): Finding {
  const err = e instanceof Error ? e : new Error(`non-Error thrown: ${String(e)}`);
  const stack = err.stack ?? '';
  if (err instanceof OracleViolation) {
    return { target, kind: 'oracle', signature: `oracle:${normalise(err.message)}`, message: err.message, stack, input };
  }
  const msg = `${err.name}: ${err.message}`;
  return { target, kind: 'crash', signature: `crash:${normalise(msg)}@${topFrame(stack)}`, message: msg, stack, input };
}
