// Coverage feedback from V8's precise block coverage (node:inspector, Profiler domain).
//
// `Profiler.takePreciseCoverage` returns the functions executed since the previous
// call, each with nested block ranges and execution counts, and resets the counters.
// V8 leaves out a block whose count equals its parent's (and merges equal neighbours),
// so a block's count is that of the innermost reported range containing it. We keep,
// per function, every block range ever reported and read each one's effective count
// from the innermost reported range; a block is then a small integer id.
//
// Feature ids: `block * 16 + bucket` with libFuzzer's count buckets (1, 2, 3, 4-7,
// 8-15, 16-31, 32-127, 128+). A "hit" is just the block id (count > 0).
import { Session } from 'node:inspector';

interface Range {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}
interface FunctionCoverage {
  readonly functionName: string;
  readonly ranges: readonly Range[];
}
interface ScriptCoverage {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly FunctionCoverage[];
}

interface Block {
  readonly start: number;
  readonly end: number;
  readonly id: number;
}

/** Blocks hit in one snapshot: parallel arrays of block id and count (count > 0). */
export class Snapshot {
  ids: number[] = [];
  counts: number[] = [];
  /** Blocks learned (seen for the first time, hit or not) in this snapshot. */
  learned = 0;

  clear(): void {
    this.ids.length = 0;
    this.counts.length = 0;
    this.learned = 0;
  }
}

/** libFuzzer's count classes, 1..8; 0 for count 0. */
export function bucket(count: number): number {
  if (count <= 0) return 0;
  if (count <= 3) return count;
  if (count <= 7) return 4;
  if (count <= 15) return 5;
  if (count <= 31) return 6;
  if (count <= 127) return 7;
  return 8;
}

export function featureOf(block: number, count: number): number {
  return block * 16 + bucket(count);
}

/** Which script URLs count (the code under test, not the harness or node internals). */
export type UrlFilter = (url: string) => boolean;

export const CODEC_AND_SESSION: UrlFilter = (url) => url.includes('/dist/src/wire/') || url.includes('/dist/src/session/');

/**
 * One inspector session per process, started once and never stopped: after
 * `Profiler.stopPreciseCoverage`, a restart no longer counts blocks of functions
 * compiled under the first one (seen on Node 20), so fuzzers run one after another
 * share the session. Only one Coverage may take snapshots at a time.
 */
let shared: Session | undefined;

function sharedSession(post: (s: Session, method: string, params?: object) => unknown): Session {
  if (shared === undefined) {
    const s = new Session();
    s.connect();
    post(s, 'Profiler.enable');
    post(s, 'Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    shared = s;
  }
  return shared;
}

export class Coverage {
  private session: Session | undefined;
  private readonly include: UrlFilter;
  private readonly scripts = new Map<string, boolean>();
  /** Known blocks per function, keyed `scriptId:start:end` of the function range. */
  private readonly fns = new Map<string, Block[]>();
  private readonly blockIndex = new Map<string, number>();
  /** Script URL and offsets of every block id, for reports. */
  readonly blockInfo: { url: string; fn: string; start: number; end: number }[] = [];
  private running = false;
  /** Snapshots taken, and the time spent in them (ms). */
  snapshots = 0;
  snapshotMs = 0;

  constructor(include: UrlFilter = CODEC_AND_SESSION) {
    this.include = include;
  }

  get blockCount(): number {
    return this.blockInfo.length;
  }

  start(): void {
    if (this.running) return;
    this.session = sharedSession(syncPost);
    this.running = true;
    this.post('Profiler.takePreciseCoverage'); // drop what ran before
  }

  /** Stops using the session (which stays up for the next Coverage). */
  stop(): void {
    this.running = false;
  }

  /** Forgets the counts since the last snapshot. */
  reset(): void {
    this.take(undefined);
  }

  /** Counts since the previous snapshot (or reset), into `out` when given. */
  take(out: Snapshot | undefined): void {
    const t0 = performance.now();
    const res = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    this.snapshots++;
    if (out !== undefined) {
      out.clear();
      for (const sc of res.result) {
        let ok = this.scripts.get(sc.scriptId);
        if (ok === undefined) {
          ok = this.include(sc.url);
          this.scripts.set(sc.scriptId, ok);
        }
        if (ok) for (const fn of sc.functions) this.addFunction(sc, fn, out);
      }
    }
    this.snapshotMs += performance.now() - t0;
  }

  private addFunction(sc: ScriptCoverage, fn: FunctionCoverage, out: Snapshot): void {
    const ranges = fn.ranges;
    const top = ranges[0];
    if (top === undefined) return;
    const fnKey = `${sc.scriptId}:${top.startOffset}:${top.endOffset}`;
    let blocks = this.fns.get(fnKey);
    if (blocks === undefined) {
      blocks = [];
      this.fns.set(fnKey, blocks);
    }
    // Learn ranges not seen before (count 0 ranges teach us the block structure).
    for (const r of ranges) {
      const key = `${fnKey}:${r.startOffset}:${r.endOffset}`;
      if (this.blockIndex.has(key)) continue;
      const id = this.blockInfo.length;
      this.blockIndex.set(key, id);
      this.blockInfo.push({ url: sc.url, fn: fn.functionName, start: r.startOffset, end: r.endOffset });
      blocks.push({ start: r.startOffset, end: r.endOffset, id });
      out.learned++;
    }
    // Effective count of each known block: the innermost reported range containing it.
    for (const b of blocks) {
      let best = -1;
      let bestSize = Infinity;
      for (let i = 0; i < ranges.length; i++) {
        const r = ranges[i]!;
        if (r.startOffset <= b.start && b.end <= r.endOffset) {
          const size = r.endOffset - r.startOffset;
          if (size < bestSize) {
            bestSize = size;
            best = r.count;
          }
        }
      }
      if (best > 0) {
        out.ids.push(b.id);
        out.counts.push(best);
      }
    }
  }

  /** Where a block is, for reports: `file.js:fn@start-end`. */
  describe(block: number): string {
    const i = this.blockInfo[block];
    if (i === undefined) return `block ${block}`;
    const file = i.url.slice(i.url.lastIndexOf('/dist/') + 6);
    return `${file}:${i.fn || '(anonymous)'}@${i.start}-${i.end}`;
  }

  private post(method: string, params?: object): unknown {
    if (this.session === undefined || !this.running) throw new Error('coverage not started');
    return syncPost(this.session, method, params);
  }
}

function syncPost(session: Session, method: string, params?: object): unknown {
  // The in-thread inspector session answers synchronously.
  let result: unknown;
  let error: Error | null = null;
  let done = false;
  session.post(method, params, (err, res) => {
    error = err;
    result = res;
    done = true;
  });
  if (!done) throw new Error(`inspector ${method} did not answer synchronously`);
  if (error !== null) throw error;
  return result;
}
