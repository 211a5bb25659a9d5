// The watchdog thread (see watchdog.ts). Plain and small: it must keep running while the
// main thread is stuck.
import { writeFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';

const { sab, stallMs, outFile } = workerData as { sab: SharedArrayBuffer; stallMs: number; outFile: string };
const ctl = new Int32Array(sab, 0, 2);
const bytes = new Uint8Array(sab, 8);
let last = -1;
let since = Date.now();

setInterval(() => {
  const beat = Atomics.load(ctl, 0);
  const now = Date.now();
  if (beat !== last) {
    last = beat;
    since = now;
    return;
  }
  if (beat === 0 || now - since < stallMs) return;
  const n = Atomics.load(ctl, 1);
  const input = Buffer.from(bytes.subarray(0, n));
  writeFileSync(outFile, input.toString('hex') + '\n');
  process.stderr.write(`\nfuzz watchdog: no progress for ${now - since} ms; input (${n} bytes) saved to ${outFile}\n`);
  process.kill(process.pid, 'SIGKILL');
}, Math.max(50, Math.floor(stallMs / 4)));
