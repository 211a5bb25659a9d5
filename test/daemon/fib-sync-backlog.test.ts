// FibSync feeds the FIB only as much as keeps its backlog under BACKLOG_HIGH; the rest
// waits in the Loc-RIB's change queue (where a flapping prefix coalesces) and FibSync
// looks again every BACKLOG_POLL_MS.
//
// Most tests drive FibSync against a fake backend whose backlog the test sets: what it
// was handed and not yet "written", plus a `held` amount standing for a busy kernel.
// One runs a full 100k table through the memory backend (the real Fib engine).
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { BACKLOG_HIGH, BACKLOG_POLL_MS, FibSync } from '../../src/daemon/fib-sync.js';
import type {
  AddressInfo,
  FibBackend,
  FibStats,
  GatewayInput,
  KernelRoute,
  LinkInfo,
  NextHopResolution,
  RouteState,
} from '../../src/fib/backend.js';
import type { FibBatch } from '../../src/fib/batch.js';
import { Fib } from '../../src/fib/fib.js';
import { createMemoryFib, SimKernel } from '../../src/fib/memory.js';
import { RtProt } from '../../src/fib/netlink/constants.js';
import type { Rib } from '../../src/rib/rib.js';
import { Afi } from '../../src/wire/iana.js';
import { waitFor } from '../lib/proc.js';
import { newRib, pa, peer } from '../rib/helpers.js';

const T = { timeout: 30_000 };
const TABLE = 4 * BACKLOG_HIGH;
/** First /24 of the table: 20.0.0.0, then every following /24. */
const BASE = 0x14000000;

/** One apply() as the backend saw it. */
interface Step {
  readonly n: number;
  /** How many times FibSync had read the backlog (it reads it once per step of work). */
  readonly read: number;
  /** What that last read returned. */
  readonly readValue: number;
  /** The backlog just before this apply(). */
  readonly backlog: number;
}

/**
 * A FibBackend that records what it is handed. Its backlog is what it was handed and
 * has not "written" yet (`write`, or the writer started by `writeEvery`), plus `held`.
 */
class FakeFib extends EventEmitter implements FibBackend {
  held = 0;
  queued = 0;
  /** Reads of `backlog`: FibSync reads it once per step (and per poll), the test never. */
  reads = 0;
  private lastRead = 0;
  readonly steps: Step[] = [];
  /** Last handle per IPv4 prefix (address * 64 + length), -1 = withdrawn. */
  readonly state = new Map<number, number>();
  /** Times each prefix was handed over. */
  readonly handed = new Map<number, number>();
  readonly gateways = new Map<number, readonly GatewayInput[]>();
  private writer: NodeJS.Timeout | undefined = undefined;

  get backlog(): number {
    this.reads++;
    return (this.lastRead = this.held + this.queued);
  }

  get applied(): number {
    let n = 0;
    for (const s of this.steps) n += s.n;
    return n;
  }

  apply(batch: FibBatch): void {
    this.steps.push({ n: batch.length, read: this.reads, readValue: this.lastRead, backlog: this.held + this.queued });
    for (let i = 0; i < batch.length; i++) {
      assert.equal(batch.family[i], 4);
      const a = batch.addr;
      const o = i * 16;
      const key = (((a[o]! << 24) | (a[o + 1]! << 16) | (a[o + 2]! << 8) | a[o + 3]!) >>> 0) * 64 + batch.plen[i]!;
      this.state.set(key, batch.nh[i]!);
      this.handed.set(key, (this.handed.get(key) ?? 0) + 1);
    }
    this.queued += batch.length;
  }

  /** The kernel takes `n` of the queued writes. */
  write(n: number): void {
    this.queued = Math.max(0, this.queued - n);
  }

  /** Writes `n` every millisecond until stopWriting(). */
  writeEvery(n: number): void {
    this.stopWriting();
    this.writer = setInterval(() => this.write(n), 1);
  }

  stopWriting(): void {
    if (this.writer) clearInterval(this.writer);
    this.writer = undefined;
  }

  gatewayOf(handle: number | undefined): string | undefined {
    return handle === undefined ? undefined : this.gateways.get(handle)?.map((g) => g.address).join(',');
  }

  defineNexthop(handle: number, gateways: readonly GatewayInput[]): void {
    this.gateways.set(handle, gateways);
  }
  removeNexthop(handle: number): void {
    this.gateways.delete(handle);
  }
  /** Every next hop is on a link. */
  resolveNextHop(address: string): NextHopResolution | null {
    return { gateway: address, ifindex: 2, metric: 0, via: null };
  }
  connectedVia(): number {
    return 2;
  }
  addresses(): AddressInfo[] {
    return [];
  }
  links(): LinkInfo[] {
    return [];
  }
  async start(): Promise<void> {}
  reserve(): void {}
  reconcile(): void {}
  async flush(): Promise<void> {}
  async dump(): Promise<KernelRoute[]> {
    return [];
  }
  route(): RouteState | null {
    return null;
  }
  stats(): FibStats {
    throw new Error('not used by FibSync');
  }
  async stop(): Promise<void> {
    this.stopWriting();
  }
}

function v4key(addr: number, len: number): number {
  return addr * 64 + len;
}

/** Announces `count` /24s from BASE from one peer through next hop `nh` (one attribute set). */
function announceTable(rib: Rib, p: number, count: number, nh: number[]): void {
  const id = rib.store.internAttributes(pa({ nextHop: Buffer.from(nh) }), 0);
  const adj = rib.adjRibIn(p, Afi.IPV4);
  for (let i = 0; i < count; i++) adj.announceV4((BASE + i * 256) >>> 0, 24, 0, id);
}

/**
 * After each read of the backlog, FibSync hands over no more than the room it showed:
 * the apply() calls between two reads add up to at most BACKLOG_HIGH - that value.
 * `exact`: the backlog grows by what apply() takes (the fake), so each call also fits
 * the room left at that moment. (The real Fib starts writing inside apply() and counts
 * a batch in flight as a full one, so its backlog may jump by more.)
 */
function assertWithinRoom(steps: readonly Step[], exact: boolean): void {
  let sum = 0;
  for (const [i, s] of steps.entries()) {
    assert.ok(s.n > 0, `apply #${i} is empty`);
    sum = i > 0 && steps[i - 1]!.read === s.read ? sum + s.n : s.n;
    const room = BACKLOG_HIGH - s.readValue;
    assert.ok(sum <= room, `apply #${i}: ${sum} routes handed over since the backlog read ${s.readValue} (room ${room})`);
    if (exact) assert.ok(s.n <= BACKLOG_HIGH - s.backlog, `apply #${i}: ${s.n} routes with a backlog of ${s.backlog}`);
  }
}

function lab(t: { after: (fn: () => Promise<void> | void) => void }) {
  const fib = new FakeFib();
  const rib = newRib();
  const sync = new FibSync(rib, fib, 1);
  const p1 = rib.peers.add(peer(1, false));
  t.after(async () => {
    sync.stop();
    await fib.stop();
  });
  return { fib, rib, sync, p1 };
}

test('FibSync hands the FIB no more than the room under BACKLOG_HIGH, waits while it is full, and finishes once it drains', T, async (t) => {
  assert.ok(TABLE > 3 * BACKLOG_HIGH, 'a table well beyond the limit');
  const { fib, rib, sync, p1 } = lab(t);
  announceTable(rib, p1, TABLE, [10, 0, 0, 2]);

  // A kernel busy with other work: no room at all.
  fib.held = BACKLOG_HIGH;
  sync.schedule();
  await sleep(60);
  assert.equal(fib.steps.length, 0, 'nothing handed over while the backlog is full');
  assert.equal(sync.idle, false, 'the changes are still waiting');
  // It looks again every BACKLOG_POLL_MS: a few dozen times in 60 ms, not a busy loop.
  const polls = fib.reads;
  assert.ok(polls >= 5 && polls <= (3 * 60) / BACKLOG_POLL_MS, `${polls} looks at the backlog in 60 ms (every ${BACKLOG_POLL_MS} ms)`);

  // Room for 1000: exactly that much goes (the queue holds plenty), then nothing more.
  fib.held = BACKLOG_HIGH - 1000;
  await waitFor(() => fib.applied >= 1000, { timeoutMs: 2000, intervalMs: 2, label: 'the first 1000' });
  await sleep(30);
  assert.equal(fib.applied, 1000, 'the room, no more');
  assert.equal(sync.idle, false);

  // The kernel catches up: the rest follows as fast as it writes.
  fib.held = 0;
  fib.writeEvery(4096);
  await waitFor(() => sync.idle && fib.applied >= TABLE, { timeoutMs: 10_000, intervalMs: 5, label: 'the whole table' });
  assertWithinRoom(fib.steps, true);
  assert.equal(fib.applied, TABLE, 'each prefix handed over once');
  assert.equal(fib.state.size, TABLE);
  const handles = new Set(fib.state.values());
  assert.equal(handles.size, 1);
  assert.equal(fib.gatewayOf([...handles][0]), '10.0.0.2');
  assert.ok(
    fib.steps.some((s) => s.backlog > BACKLOG_HIGH / 2),
    'the backlog did come close to the limit (the limit was in play)',
  );
  assert.equal(sync.written, TABLE);
});

test('a prefix that changes several times while the FIB is full is handed over once, in its last state', T, async (t) => {
  const { fib, rib, sync, p1 } = lab(t);
  const adj = rib.adjRibIn(p1, Afi.IPV4);
  const attrs = (last: number): number => rib.store.internAttributes(pa({ nextHop: Buffer.from([10, 0, 0, last]) }), 0);
  const [a, b, c] = [attrs(2), attrs(3), attrs(4)];
  const X = 0x0a640000; // 10.100.0.0/16
  const Y = 0x0a650000; // 10.101.0.0/16
  announceTable(rib, p1, 1000, [10, 0, 0, 2]);

  fib.held = BACKLOG_HIGH;
  adj.announceV4(X, 16, 0, a);
  adj.announceV4(Y, 16, 0, a);
  sync.schedule();
  await sleep(10);
  adj.announceV4(X, 16, 0, b);
  adj.withdrawV4(X, 16, 0);
  sync.schedule();
  await sleep(10);
  adj.announceV4(X, 16, 0, c);
  adj.withdrawV4(Y, 16, 0); // Y ends withdrawn
  sync.schedule();
  await sleep(10);
  assert.equal(fib.steps.length, 0, 'nothing handed over while full');

  fib.held = 0;
  fib.writeEvery(4096);
  await waitFor(() => sync.idle && fib.state.has(v4key(X, 16)), { timeoutMs: 5000, intervalMs: 2, label: 'idle' });
  assertWithinRoom(fib.steps, true);
  assert.equal(fib.handed.get(v4key(X, 16)), 1, 'X handed over once');
  assert.equal(fib.gatewayOf(fib.state.get(v4key(X, 16))), '10.0.0.4', 'X with its last next hop');
  assert.equal(fib.handed.get(v4key(Y, 16)), 1, 'Y handed over once');
  assert.equal(fib.state.get(v4key(Y, 16)), -1, 'Y withdrawn, its last state');
  assert.equal(fib.applied, 1002, 'the table and X and Y, once each');
});

test('a withdrawal of routes already handed over also waits for room, and goes as one state per prefix', T, async (t) => {
  const { fib, rib, sync, p1 } = lab(t);
  announceTable(rib, p1, 5000, [10, 0, 0, 2]);
  fib.writeEvery(100_000);
  sync.schedule();
  await waitFor(() => sync.idle && fib.applied === 5000, { timeoutMs: 5000, intervalMs: 2, label: 'installed' });
  fib.stopWriting();
  fib.queued = 0;

  // The peer goes away and comes back with another next hop while the FIB is full.
  fib.held = BACKLOG_HIGH - 100;
  const adj = rib.adjRibIn(p1, Afi.IPV4);
  for (let i = 0; i < 5000; i++) adj.withdrawV4((BASE + i * 256) >>> 0, 24, 0);
  sync.schedule();
  await waitFor(() => fib.applied >= 5100, { timeoutMs: 2000, intervalMs: 2, label: '100 more' });
  announceTable(rib, p1, 5000, [10, 0, 0, 9]);
  sync.schedule();
  await sleep(20);
  assert.equal(fib.applied, 5100, 'only the room');

  fib.held = 0;
  fib.writeEvery(2048);
  await waitFor(() => sync.idle, { timeoutMs: 5000, intervalMs: 2, label: 'idle' });
  assertWithinRoom(fib.steps, true);
  // The first 100 went out withdrawn and come back; the other 4900 went straight to the new next hop.
  assert.equal(fib.applied, 5000 + 100 + 5000);
  let thrice = 0;
  for (let i = 0; i < 5000; i++) {
    const k = v4key((BASE + i * 256) >>> 0, 24);
    assert.equal(fib.gatewayOf(fib.state.get(k)), '10.0.0.9', `prefix ${i} ends on the new next hop`);
    if (fib.handed.get(k) === 3) thrice++;
    else assert.equal(fib.handed.get(k), 2);
  }
  assert.equal(thrice, 100, 'the 100 handed over withdrawn: installed, withdrawn, installed again');
});

test('a 100k table through the memory FIB: every step within the room, all installed', T, async (t) => {
  const kernel = new SimKernel();
  const eth0 = kernel.addLink('eth0');
  kernel.addAddress(eth0, '10.0.0.1/24');
  const { fib } = createMemoryFib({ table: 100, retryMs: 0, gcIntervalMs: 0 }, kernel);
  await fib.start();
  // Watch FibSync's reads of the backlog and its apply() calls (the test reads the
  // backlog through `backlogOf`, unseen).
  const steps: Step[] = [];
  const getter = Object.getOwnPropertyDescriptor(Fib.prototype, 'backlog')!.get!;
  const backlogOf = (): number => getter.call(fib) as number;
  let reads = 0;
  let lastRead = 0;
  Object.defineProperty(fib, 'backlog', {
    get: () => {
      reads++;
      return (lastRead = backlogOf());
    },
  });
  const apply = fib.apply.bind(fib);
  fib.apply = (batch: FibBatch): void => {
    steps.push({ n: batch.length, read: reads, readValue: lastRead, backlog: backlogOf() });
    apply(batch);
  };
  const rib = newRib();
  const sync = new FibSync(rib, fib, 1);
  t.after(async () => {
    sync.stop();
    await fib.stop();
  });
  const p1 = rib.peers.add(peer(1, false));
  const t0 = performance.now();
  announceTable(rib, p1, TABLE, [10, 0, 0, 2]);
  sync.schedule();
  let maxBacklog = 0;
  await waitFor(
    () => {
      maxBacklog = Math.max(maxBacklog, backlogOf());
      return sync.idle && fib.stats().installed === TABLE;
    },
    { timeoutMs: 10_000, intervalMs: 2, label: 'all installed' },
  );
  const ms = performance.now() - t0;
  await fib.flush();
  console.log(`# ${TABLE} routes in ${ms.toFixed(0)} ms, ${steps.length} steps, backlog up to ${Math.max(maxBacklog, ...steps.map((s) => s.backlog))}`);
  assertWithinRoom(steps, false);
  assert.ok(steps.some((s) => s.backlog > BACKLOG_HIGH / 2), 'the backlog came close to the limit (the limit was in play)');
  assert.equal(steps.reduce((n, s) => n + s.n, 0), TABLE);
  assert.equal(kernel.routes(100, RtProt.BGP).length, TABLE);
  assert.equal(backlogOf(), 0);
});
