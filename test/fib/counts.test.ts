// Fib.stats() reads running counts kept by FibTable's writers instead of walking
// the table. These tests drive the table and the whole engine (memory backend)
// through random mixes of changes and compare the counts with a full recount
// after every step and at every event the engine emits meanwhile.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FibStats } from '../../src/fib/backend.js';
import { FibBatch } from '../../src/fib/batch.js';
import type { Fib } from '../../src/fib/fib.js';
import { SimKernel, createMemoryFib } from '../../src/fib/memory.js';
import { RtProt } from '../../src/fib/netlink/constants.js';
import { EntryFlag, FibTable } from '../../src/fib/table.js';

const TABLE = 100;
const T = { timeout: 60_000 };

test('FibTable running counts equal a recount under random writes, inserts and removes', () => {
  const flagBits = [EntryFlag.DIRTY, EntryFlag.INFLIGHT, EntryFlag.FOREIGN, EntryFlag.CONFLICT, EntryFlag.FAILED, EntryFlag.ADOPTED, EntryFlag.PROBE];
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          op: fc.integer({ min: 0, max: 8 }), // 0, 7, 8: insert
          key: fc.integer({ min: 0, max: 12 }), // few keys: most ops hit a live entry
          v6: fc.boolean(),
          value: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.integer({ min: 60, max: 200 })), // form ids past the first growth too
          bits: fc.integer({ min: 0, max: 127 }),
        }),
        { minLength: 50, maxLength: 400 },
      ),
      (ops) => {
        const t = new FibTable(16);
        const b = new Uint8Array(16);
        for (const o of ops) {
          const fam = o.v6 ? 6 : 4;
          b.fill(0);
          b[0] = o.key;
          const id = o.op === 0 || o.op > 6 ? t.insert(fam, b, 0, 24) : t.find(fam, b, 0, 24);
          if (id < 0) continue;
          let bits = 0;
          for (let i = 0; i < flagBits.length; i++) if (o.bits & (1 << i)) bits |= flagBits[i]!;
          switch (o.op) {
            case 1:
              t.setDesired(id, o.value);
              break;
            case 2:
              t.setInstalled(id, o.value);
              break;
            case 3:
              t.addFlags(id, bits);
              break;
            case 4:
              t.clearFlags(id, bits);
              break;
            case 5:
              t.setFlags(id, bits); // LIVE is kept whatever the caller passes
              assert.ok(t.live(id));
              break;
            case 6:
              t.remove(id);
              break;
          }
          assert.deepEqual(t.counts(), t.recount());
          assert.deepEqual(t.installedForms(), t.recountForms());
        }
      },
    ),
  );
});

test('FibTable.reserve sizes the table once; entries and ids survive', () => {
  const t = new FibTable(16);
  const a = new Uint8Array(4);
  const ids: number[] = [];
  for (let i = 0; i < 100; i++) {
    a[1] = i;
    ids.push(t.insert(4, a, 0, 16));
    t.setInstalled(ids[i]!, i);
  }
  t.reserve(5000);
  assert.ok(t.capacity >= 5000);
  const cap = t.capacity;
  t.reserve(10); // never shrinks
  assert.equal(t.capacity, cap);
  for (let i = 0; i < 100; i++) {
    a[1] = i;
    assert.equal(t.find(4, a, 0, 16), ids[i]);
    assert.equal(t.installed[ids[i]!], i);
  }
  for (let i = 100; i < 5000; i++) {
    a[0] = i >> 8;
    a[1] = i & 0xff;
    t.insert(4, a, 0, 24);
  }
  assert.equal(t.capacity, cap, 'filling up to the reservation does not grow');
  assert.equal(t.size, 5000);
  assert.deepEqual(t.counts(), t.recount());
  assert.equal(t.counts().installed4, 100, 'form ids 0..99 are all installed forms');
  // A reservation creeping up one entry at a time still grows geometrically.
  t.reserve(cap + 1);
  assert.ok(t.capacity >= cap * 1.5, `capacity ${t.capacity} after reserving ${cap + 1}`);
  a[0] = 0;
  a[1] = 7;
  assert.equal(t.find(4, a, 0, 16), ids[7]);
  assert.equal(t.size, 5000);
});

// ---------------------------------------------------------------------------
// The engine

/** xorshift32: a failing seed replays the same run. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

const V4 = Array.from({ length: 40 }, (_, i) => `20.0.${i}.0/24`);
const V6 = Array.from({ length: 20 }, (_, i) => `2001:db8:100:${i.toString(16)}::/64`);
const UNIVERSE = [...V4, ...V6];
/** Handles by family: reachable, another link, unreachable (ENETUNREACH), invalid (EINVAL). */
const H4 = [1, 2, 3];
const H6 = [4, 5];

type Counted = Pick<FibStats, 'entries' | 'desired' | 'installed' | 'installedByFamily' | 'pending' | 'failed' | 'conflicts' | 'adopted'>;

function counted(s: FibStats): Counted {
  return {
    entries: s.entries,
    desired: s.desired,
    installed: s.installed,
    installedByFamily: { 4: s.installedByFamily[4], 6: s.installedByFamily[6] },
    pending: s.pending,
    failed: s.failed,
    conflicts: s.conflicts,
    adopted: s.adopted,
  };
}

/** What a walk finds, from the public per-prefix view (every prefix the run can touch). */
function recount(fib: Fib): Counted {
  const c = { entries: 0, desired: 0, installed: 0, v4: 0, v6: 0, pending: 0, failed: 0, conflicts: 0, adopted: 0 };
  for (const p of UNIVERSE) {
    const r = fib.route(p);
    if (!r) continue;
    c.entries++;
    if (r.nexthop !== null) c.desired++;
    if (r.installed !== null) {
      c.installed++;
      if (p.includes(':')) c.v6++;
      else c.v4++;
    }
    if (r.flags.includes('dirty') || r.flags.includes('inflight')) c.pending++;
    if (r.flags.includes('failed')) c.failed++;
    if (r.flags.includes('conflict')) c.conflicts++;
    if (r.flags.includes('adopted')) c.adopted++;
  }
  return {
    entries: c.entries,
    desired: c.desired,
    installed: c.installed,
    installedByFamily: { 4: c.v4, 6: c.v6 },
    pending: c.pending,
    failed: c.failed,
    conflicts: c.conflicts,
    adopted: c.adopted,
  };
}

async function run(seed: number, steps: number): Promise<{ checks: number; seen: Set<string> }> {
  const rnd = prng(seed);
  const kernel = new SimKernel();
  const eth0 = kernel.addLink('eth0');
  const eth1 = kernel.addLink('eth1');
  kernel.addAddress(eth0, '10.0.0.1/24');
  kernel.addAddress(eth0, '2001:db8::1/64');
  kernel.addAddress(eth1, '10.1.0.1/24');
  let checks = 0;
  const mismatches: string[] = [];
  // Which states the run reached (so a change that stops exercising failures or conflicts shows).
  const seen = new Set<string>();
  let where = 'start';
  const check = (fib: Fib, at: string): void => {
    const want = recount(fib);
    const got = counted(fib.stats());
    checks++;
    for (const k of ['pending', 'failed', 'conflicts', 'adopted'] as const) if (want[k] > 0) seen.add(k);
    if (want.installed > 0) seen.add('installed');
    if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`seed ${seed} ${at}: stats ${JSON.stringify(got)} != recount ${JSON.stringify(want)}`);
  };
  const define = (fib: Fib): void => {
    fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    fib.defineNexthop(2, [{ address: '10.1.0.2' }]);
    fib.defineNexthop(3, [{ address: '192.0.2.1' }]);
    fib.defineNexthop(4, [{ address: '2001:db8::2' }]);
    fib.defineNexthop(5, [{ address: 'fe80::1' }]);
  };
  const open = async (): Promise<Fib> => {
    const { fib } = createMemoryFib({ table: TABLE, retryMs: 0, gcIntervalMs: 0, maxInflight: 2, batchBytes: 2048 }, kernel);
    // Counts must be right at every instant, also inside the engine's own callbacks.
    fib.on('result', (e) => {
      seen.add(`event:${e.type}`);
      check(fib, `${where} (event ${e.type})`);
    });
    fib.on('idle', () => check(fib, `${where} (idle)`));
    await fib.start();
    check(fib, `${where} (started)`);
    define(fib);
    return fib;
  };
  const pick = <X>(xs: readonly X[]): X => xs[rnd(xs.length)]!;
  const tryKernel = (f: () => void): void => {
    try {
      f();
    } catch {
      // EEXIST / ESRCH: the random op did not apply, like `ip route` failing
    }
  };

  let fib = await open();
  const b = new FibBatch();
  let eth1Up = true;
  let extraAddr = false;
  for (let step = 0; step < steps; step++) {
    const r = rnd(100);
    const v6 = rnd(3) === 0;
    const dst = v6 ? pick(V6) : pick(V4);
    const gw = v6 ? '2001:db8::9' : '10.1.0.9';
    if (r < 40) {
      where = `step ${step} apply`;
      b.clear();
      const n = 1 + rnd(25);
      for (let i = 0; i < n; i++) {
        const six = rnd(3) === 0;
        const hs = six ? H6 : H4;
        b.pushPrefix(six ? pick(V6) : pick(V4), rnd(4) === 0 ? -1 : pick(hs));
      }
      fib.apply(b);
    } else if (r < 48) {
      where = `step ${step} foreign add ${dst}`;
      tryKernel(() => kernel.addRoute({ dst, gateway: gw, table: TABLE, metric: 20, protocol: RtProt.STATIC }));
    } else if (r < 52) {
      where = `step ${step} foreign replace ${dst}`;
      tryKernel(() => kernel.addRoute({ dst, gateway: gw, table: TABLE, metric: 20, protocol: RtProt.STATIC, replace: true }));
    } else if (r < 60) {
      where = `step ${step} foreign delete ${dst}`;
      tryKernel(() => kernel.delRoute({ dst, table: TABLE, protocol: RtProt.STATIC, metric: 20 }));
    } else if (r < 64) {
      where = `step ${step} ours added behind our back ${dst}`;
      tryKernel(() => kernel.addRoute({ dst, gateway: gw, table: TABLE, metric: 20, protocol: RtProt.BGP }));
    } else if (r < 68) {
      where = `step ${step} ours deleted behind our back ${dst}`;
      tryKernel(() => kernel.delRoute({ dst, table: TABLE, protocol: RtProt.BGP, metric: 20 }));
    } else if (r < 73) {
      where = `step ${step} eth1 ${eth1Up ? 'down' : 'up'}`;
      eth1Up = !eth1Up;
      kernel.setLinkUp(eth1, eth1Up);
    } else if (r < 78) {
      where = `step ${step} 192.0.2.100/24 ${extraAddr ? 'removed' : 'added'}`;
      if (extraAddr) kernel.delAddress(eth1, '192.0.2.100/24');
      else kernel.addAddress(eth1, '192.0.2.100/24');
      extraAddr = !extraAddr;
    } else if (r < 83) {
      where = `step ${step} redefine handle 2`;
      fib.defineNexthop(2, [{ address: pick(['10.1.0.2', '10.1.0.3', '10.0.0.3', '192.0.2.7']) }]);
    } else if (r < 86) {
      where = `step ${step} remove handle 1`;
      fib.removeNexthop(1);
      fib.defineNexthop(1, [{ address: '10.0.0.2' }]);
    } else if (r < 89) {
      where = `step ${step} reconcile`;
      fib.reconcile();
    } else if (r < 92) {
      where = `step ${step} overflow`;
      kernel.rcvLimit = 4096; // the next writes overrun the sockets: ENOBUFS, a resync
      b.clear();
      for (const p of V4) b.pushPrefix(p, pick(H4));
      fib.apply(b);
      await sleep(5);
      kernel.rcvLimit = 8 << 20;
    } else if (r < 96) {
      where = `step ${step} restart (graceful)`;
      await fib.stop({ keep: true });
      check(fib, `${where} (stopped)`);
      fib = await open();
    } else {
      where = `step ${step} settle`;
    }
    check(fib, where);
    const wait = rnd(10);
    if (wait < 3) {
      await fib.flush();
      check(fib, `${where} (flushed)`);
    } else if (wait < 5 || r >= 96) {
      for (let i = 0; i < 2; i++) {
        await sleep(25);
        await fib.flush();
      }
      check(fib, `${where} (settled)`);
    }
  }
  where = 'final stop';
  await fib.stop();
  check(fib, 'stopped');
  assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} mismatches`);
  assert.equal(kernel.routes(TABLE, RtProt.BGP).length, 0, 'stop deleted our routes');
  return { checks, seen };
}

test('Fib.stats() counts equal a full recount through random applies, failures, conflicts, resyncs, restarts and stop', T, async () => {
  const seen = new Set<string>();
  let checks = 0;
  for (const seed of [1, 0x5eed, 0xc0ffee]) {
    const r = await run(seed, 120);
    checks += r.checks;
    for (const s of r.seen) seen.add(s);
  }
  // The runs reached the states whose counts are at stake.
  for (const s of ['installed', 'pending', 'failed', 'conflicts', 'adopted', 'event:error', 'event:conflict', 'event:resync']) {
    assert.ok(seen.has(s), `the runs never reached ${s} (${[...seen].join(', ')})`);
  }
  assert.ok(checks > 500, `checks: ${checks}`);
});

test('apply on a table past the cache-sized threshold (lookups touched ahead) records every change', () => {
  // Not started: apply() only records desired state, so this is quick.
  const { fib } = createMemoryFib({ table: TABLE, retryMs: 0 });
  const n = 100_000;
  fib.reserve(n);
  const b = new FibBatch(4096);
  const push = (i: number, nh: number): void => b.pushV4((0x0b000000 + i * 256) >>> 0, 24, nh);
  for (let i = 0; i < n; i++) {
    push(i, 1 + (i % 3));
    if (b.length === 4096) {
      fib.apply(b);
      b.clear();
    }
  }
  fib.apply(b);
  b.clear();
  assert.equal(fib.stats().entries, n);
  assert.equal(fib.stats().desired, n);
  // Withdraw the odd ones, move the others' next hop: both go through lookups of existing entries.
  for (let i = 0; i < n; i++) {
    push(i, i % 2 ? -1 : 7);
    if (b.length === 4096) {
      fib.apply(b);
      b.clear();
    }
  }
  fib.apply(b);
  const s = fib.stats();
  assert.equal(s.entries, n, 'withdrawn entries stay until the kernel answered');
  assert.equal(s.desired, n / 2);
  assert.equal(s.pending, n);
  assert.equal(fib.route('11.0.2.0/24')!.nexthop, 7);
  assert.equal(fib.route('11.0.3.0/24')!.nexthop, null);
  assert.equal(fib.route(`${11 + (99_998 >> 16)}.${(99_998 >> 8) & 0xff}.${99_998 & 0xff}.0/24`)!.nexthop, 7);
  assert.equal(fib.route('13.0.0.0/24'), null, 'never applied');
});
