// FIB table micro-benchmark: the per-prefix bookkeeping of fib/table.ts and the cost
// of Fib.stats() on a full table, without the kernel.
//
//   node dist/bench/fib-table.js [prefixes=1000000] [rounds=3]
//
// Prefixes: random IPv4, lengths spread like a full table (~60 % /24, the rest /8../32),
// in random order (the order a RIB hands them over is not sorted). Per round, timed:
//   insert   into a table that starts at 4096 entries and doubles (as Fib's does);
//            the time spent in growth is reported apart (FibTable's grow, wrapped)
//   presized insert into a table sized for all of them at once (FibTable(n), what
//            Fib.reserve(n) does)
//   find     every prefix (hits), then as many absent ones (misses)
//   remove   every prefix, in insertion order, the way Fib frees an entry: right after
//            it read the entry (its family, desired and installed state)
// Then Fib.apply() of the n prefixes in batches of 4096 (memory backend, not started:
// apply() only records and queues), into a new Fib and into one that reserve(n)ed,
// and Fib.stats() on the full Fib, averaged over many calls.
// Memory: ArrayBuffer bytes of a full table after a GC, per entry. The best round is
// reported (the machine is shared).
import { FibBatch } from '../src/fib/batch.js';
import type { Fib } from '../src/fib/fib.js';
import { createMemoryFib } from '../src/fib/memory.js';
import { FibTable } from '../src/fib/table.js';
import { getGc, GcTime, xorshift32 } from './lib.js';

const N = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 3);

const gc = getGc();

const gcTime = new GcTime();

// Deterministic so runs are comparable.
const rnd = xorshift32(0x2545f491);

/** A prefix length drawn like a full IPv4 table's. */
function plenOf(r: number): number {
  const p = r % 1000;
  if (p < 600) return 24;
  if (p < 700) return 23;
  if (p < 780) return 22;
  if (p < 840) return 21;
  if (p < 890) return 20;
  if (p < 930) return 19;
  if (p < 950) return 18;
  if (p < 965) return 17;
  if (p < 975) return 16;
  if (p < 980) return 8 + (r % 8);
  return 25 + (r % 8);
}

/** n distinct prefixes: 4 address bytes each (host bits zero) and their lengths. */
function prefixes(n: number): { addr: Uint8Array; plen: Uint8Array } {
  const addr = new Uint8Array(n * 4);
  const plen = new Uint8Array(n);
  const seen = new Set<number>();
  let k = 0;
  while (k < n) {
    const r = rnd();
    const len = plenOf(rnd());
    const a = len === 0 ? 0 : (r & (0xffffffff << (32 - len))) >>> 0;
    const key = a * 64 + len;
    if (seen.has(key)) continue;
    seen.add(key);
    addr[k * 4] = a >>> 24;
    addr[k * 4 + 1] = (a >>> 16) & 0xff;
    addr[k * 4 + 2] = (a >>> 8) & 0xff;
    addr[k * 4 + 3] = a & 0xff;
    plen[k] = len;
    k++;
  }
  return { addr, plen };
}

// Time spent growing, measured by wrapping FibTable's private grow.
let growMs = 0;
let grows = 0;
const proto = FibTable.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const origGrow = proto['grow'];
if (typeof origGrow === 'function') {
  proto['grow'] = function (this: unknown, ...args: unknown[]): unknown {
    const t0 = performance.now();
    const r = origGrow.apply(this, args);
    growMs += performance.now() - t0;
    grows++;
    return r;
  };
}

interface Round {
  insertMs: number;
  growMs: number;
  grows: number;
  presizedMs: number;
  findMs: number;
  missMs: number;
  removeMs: number;
  gcMs: number;
}

function round(p: { addr: Uint8Array; plen: Uint8Array }, miss: { addr: Uint8Array; plen: Uint8Array }): Round {
  gc();
  const gc0 = gcTime.ms;
  growMs = 0;
  grows = 0;
  let t0 = performance.now();
  const t = new FibTable(4096);
  for (let i = 0; i < N; i++) t.insert(4, p.addr, i * 4, p.plen[i]!);
  const insertMs = performance.now() - t0;
  const g = { ms: growMs, n: grows };
  if (t.size !== N) throw new Error(`size ${t.size}, expected ${N}`);

  t0 = performance.now();
  let sum = 0;
  for (let i = 0; i < N; i++) sum += t.find(4, p.addr, i * 4, p.plen[i]!);
  const findMs = performance.now() - t0;
  if (sum !== (N * (N - 1)) / 2) throw new Error('find returned wrong ids');

  t0 = performance.now();
  let misses = 0;
  for (let i = 0; i < N; i++) if (t.find(4, miss.addr, i * 4, miss.plen[i]!) < 0) misses++;
  const missMs = performance.now() - t0;
  if (misses !== N) throw new Error('a miss was found');

  t0 = performance.now();
  for (let i = 0; i < N; i++) if (t.family(i) === 4 && t.desired[i]! < 0 && t.installed[i]! < 0) t.remove(i);
  const removeMs = performance.now() - t0;
  if (t.size !== 0) throw new Error('remove left entries');

  gc();
  t0 = performance.now();
  const u = new FibTable(N);
  for (let i = 0; i < N; i++) u.insert(4, p.addr, i * 4, p.plen[i]!);
  const presizedMs = performance.now() - t0;
  if (u.size !== N) throw new Error('presized size');
  return { insertMs, growMs: g.ms, grows: g.n, presizedMs, findMs, missMs, removeMs, gcMs: gcTime.ms - gc0 };
}

function bytesPerEntry(p: { addr: Uint8Array; plen: Uint8Array }): { grown: number; presized: number } {
  const measure = (make: () => FibTable): number => {
    gc();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const t = make();
    for (let i = 0; i < N; i++) t.insert(4, p.addr, i * 4, p.plen[i]!);
    gc();
    gc();
    const bytes = process.memoryUsage().arrayBuffers - before;
    if (t.size !== N) throw new Error('size');
    return bytes / N;
  };
  return { grown: measure(() => new FibTable(4096)), presized: measure(() => new FibTable(N)) };
}

/** Fib.apply of every prefix, 4096 a batch as FibSync hands them over; the Fib, for statsCost. */
function applyCost(p: { addr: Uint8Array; plen: Uint8Array }, reserve: boolean): { ms: number; fib: Fib } {
  const { fib } = createMemoryFib({ retryMs: 0 });
  const b = new FibBatch(4096);
  gc();
  const t0 = performance.now();
  // An older Fib has no reserve(): then this measures growth too.
  if (reserve) (fib as { reserve?: (n: number) => void }).reserve?.(N);
  for (let i = 0; i < N; i++) {
    b.push(4, p.addr, i * 4, p.plen[i]!, 1 + (i & 7));
    if (b.length === 4096 || i === N - 1) {
      fib.apply(b);
      b.clear();
    }
  }
  return { ms: performance.now() - t0, fib };
}

function statsCost(fib: Fib): { perCallMs: number; calls: number } {
  const s = fib.stats();
  if (s.entries !== N || s.desired !== N || s.pending !== N) throw new Error(`stats: ${JSON.stringify(s)}`);
  let calls = 0;
  let x = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 500 || calls < 10) {
    x += fib.stats().desired;
    calls++;
  }
  const ms = performance.now() - t0;
  if (x !== N * calls) throw new Error('stats changed');
  return { perCallMs: ms / calls, calls };
}

const p = prefixes(N);
const miss = prefixes(N); // the PRNG moved on: other prefixes (a few may repeat, checked below)
{
  const probe = new FibTable(N);
  for (let i = 0; i < N; i++) probe.insert(4, p.addr, i * 4, p.plen[i]!);
  let k = 0;
  for (let i = 0; i < N; i++) {
    if (probe.find(4, miss.addr, i * 4, miss.plen[i]!) >= 0) continue;
    miss.addr.copyWithin(k * 4, i * 4, i * 4 + 4);
    miss.plen[k++] = miss.plen[i]!;
  }
  // Refill the few overlaps by repeating absent ones: still misses.
  for (let i = k; i < N; i++) {
    miss.addr.copyWithin(i * 4, (i % k) * 4, (i % k) * 4 + 4);
    miss.plen[i] = miss.plen[i % k]!;
  }
}

const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(round(p, miss));
const best = (f: (r: Round) => number): number => Math.min(...rounds.map(f));
const ns = (ms: number): string => ((ms * 1e6) / N).toFixed(0);
const mem = bytesPerEntry(p);
let applyMs = Infinity;
let applyReservedMs = Infinity;
let full: Fib | null = null;
for (let r = 0; r < ROUNDS; r++) {
  applyMs = Math.min(applyMs, applyCost(p, false).ms);
  const a = applyCost(p, true);
  applyReservedMs = Math.min(applyReservedMs, a.ms);
  full = a.fib;
}
const st = statsCost(full!);

const out = {
  prefixes: N,
  rounds: ROUNDS,
  insertNsPerOp: Number(ns(best((r) => r.insertMs))),
  insertMs: Number(best((r) => r.insertMs).toFixed(1)),
  growMs: Number(best((r) => r.growMs).toFixed(1)),
  grows: rounds[0]!.grows,
  presizedInsertNsPerOp: Number(ns(best((r) => r.presizedMs))),
  findNsPerOp: Number(ns(best((r) => r.findMs))),
  missNsPerOp: Number(ns(best((r) => r.missMs))),
  removeNsPerOp: Number(ns(best((r) => r.removeMs))),
  gcMsPerRound: Number((rounds.reduce((a, r) => a + r.gcMs, 0) / ROUNDS).toFixed(1)),
  bytesPerEntry: Number(mem.grown.toFixed(1)),
  bytesPerEntryPresized: Number(mem.presized.toFixed(1)),
  tableMB: Number(((mem.grown * N) / 1e6).toFixed(1)),
  fibApplyNsPerPrefix: Number(ns(applyMs)),
  fibApplyReservedNsPerPrefix: Number(ns(applyReservedMs)),
  statsMsPerCall: Number(st.perCallMs.toFixed(4)),
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
