// Hang detection for the fuzz loop. A target stuck in an endless loop never returns to
// our per-input timer, so a worker thread watches a heartbeat in shared memory: before
// each input the loop copies the input there and bumps a counter. If the counter stops
// moving for `stallMs`, the worker saves the input being run and kills the process.
import { Worker } from 'node:worker_threads';
import type { Heartbeat } from './engine.js';

export interface WatchdogOptions {
  /** Where the stuck input goes (hex, one line). */
  readonly outFile: string;
  readonly stallMs: number;
  /** Largest input the loop will run. */
  readonly maxLen: number;
}

export class Watchdog implements Heartbeat {
  private readonly ctl: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly worker: Worker;

  constructor(o: WatchdogOptions) {
    const sab = new SharedArrayBuffer(8 + o.maxLen);
    this.ctl = new Int32Array(sab, 0, 2);
    this.bytes = new Uint8Array(sab, 8);
    this.worker = new Worker(new URL('./watchdog-worker.js', import.meta.url), {
      workerData: { sab, stallMs: o.stallMs, outFile: o.outFile },
    });
    this.worker.unref();
  }

  beat(input: Buffer): void {
    const n = Math.min(input.length, this.bytes.length);
    this.bytes.set(input.subarray(0, n));
    Atomics.store(this.ctl, 1, n);
    Atomics.add(this.ctl, 0, 1);
  }

  /** The loop is done (or between phases): the worker stops judging. */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
