// How long the code under test took in one run, apart from the oracles' own work (a
// round trip over thousands of prefixes costs more than the decoding it checks). The
// slow oracle judges the longest single call: one decode of one message must be quick.

export class Stopwatch {
  /** The longest timed call since `reset` (ms). */
  ms = 0;

  reset(): void {
    this.ms = 0;
  }

  time<T>(fn: () => T): T {
    const t = performance.now();
    try {
      return fn();
    } finally {
      const dt = performance.now() - t;
      if (dt > this.ms) this.ms = dt;
    }
  }
}
