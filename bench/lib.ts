// What the in-process micro-benchmarks share: a full GC on demand, the time spent in
// GC (to tell it apart from the work), and a seeded PRNG so runs are comparable.
import { PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** global.gc, enabled at run time when node was started without --expose-gc. */
export function getGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g !== undefined) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** GC pauses since the last reset(), from the 'gc' performance entries (they arrive asynchronously). */
export class GcTime {
  ms = 0;
  max = 0;
  count = 0;

  constructor() {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        this.ms += e.duration;
        this.count++;
        if (e.duration > this.max) this.max = e.duration;
      }
    }).observe({ entryTypes: ['gc'] });
  }

  reset(): void {
    this.ms = this.max = this.count = 0;
  }
}

/** xorshift32 from `seed` (non-zero): a new unsigned 32-bit value per call. */
export function xorshift32(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
