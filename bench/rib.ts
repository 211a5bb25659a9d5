// RIB benchmark: a full-table-sized IPv4 feed through the real speaker path.
//
//   node dist/bench/rib.js [prefixes=1000000] [perSet=5]
//
// Builds (untimed) 200k UPDATE bodies per peer with the wire encoder: random /24s,
// 5 prefixes per attribute set, AS paths of 1-10 ASNs, some MEDs and communities.
// Then, timed, per UPDATE: locateUpdate → AttrStore.intern (decodeAttributes on a
// miss) → NlriCursor → AdjRibIn.announceV4 → unref; a ChangeQueue is drained every 64
// UPDATEs the way the FIB would (reading the best attribute and next hop of each slot).
// Peer 1 alone first, then peer 2 with the same prefixes (every prefix runs the
// decision with two candidates), then peer down for each (AdjRibIn.clear).
// A parse-only pass (locate + cursor walk, no RIB) is timed too, to split the cost.
// Memory: process.memoryUsage() deltas after a full GC, per prefix.
import { Afi } from '../src/wire/iana.js';
import { updateContext } from '../src/wire/attrs/context.js';
import { emptyAttributes, type PathAttributes } from '../src/wire/attrs/types.js';
import { NlriCursor } from '../src/wire/nlri/prefix.js';
import { decodeAttributes, locateUpdate, ParsedUpdate } from '../src/wire/update.js';
import { encodeContext, packUpdates, PrefixBatch } from '../src/wire/update-encoder.js';
import type { AdjRibIn } from '../src/rib/adj-rib-in.js';
import type { ChangeQueue, LocRib } from '../src/rib/loc-rib.js';
import { Rib } from '../src/rib/rib.js';
import { getGc, GcTime, xorshift32 } from './lib.js';

const N = Number(process.argv[2] ?? 1_000_000);
const PER_SET = Number(process.argv[3] ?? 5);

const gc = getGc();

const gcTime = new GcTime();

// Deterministic so runs are comparable.
const rnd = xorshift32(0x9e3779b9);

function randomPrefixes(n: number): Uint32Array {
  const seen = new Uint8Array(1 << 24);
  const out = new Uint32Array(n);
  let k = 0;
  while (k < n) {
    const x = rnd() >>> 8;
    if (x < 0x010000 || seen[x] === 1) continue; // skip 0.0.0.0/8 - ish and duplicates
    seen[x] = 1;
    out[k++] = (x << 8) >>> 0;
  }
  return out;
}

function randomAttrs(nextHop: number): PathAttributes {
  const len = 1 + (rnd() % 10);
  const asns: number[] = [];
  asns.push(64512 + (nextHop & 0xff)); // the neighbour AS first
  for (let i = 1; i < len; i++) asns.push(1 + (rnd() % 400000));
  const a = emptyAttributes();
  a.origin = (rnd() % 3) as 0 | 1 | 2;
  a.asPath = [{ type: 2, asns }];
  a.nextHop = Buffer.from([10, 0, 0, nextHop]);
  if (rnd() % 2 === 0) a.med = rnd() % 1000;
  if (rnd() % 3 === 0) {
    const n = 1 + (rnd() % 4);
    a.communities = Uint32Array.from({ length: n }, () => rnd());
  }
  return a;
}

/**
 * UPDATE bodies (without the 19-byte header) for one peer, back to back in one Buffer
 * with their offsets, as they would sit in a socket's read buffer: no object per
 * message stays alive to burden the GC.
 */
interface Stream {
  buf: Buffer;
  offs: Uint32Array;
  count: number;
}

function buildUpdates(prefixes: Uint32Array, nextHop: number): Stream {
  const ctx = encodeContext();
  const parts: Buffer[] = [];
  const batch = new PrefixBatch(Afi.IPV4, PER_SET);
  const msgs: Buffer[] = [];
  for (let i = 0; i < prefixes.length; i += PER_SET) {
    batch.clear();
    for (let j = i; j < Math.min(prefixes.length, i + PER_SET); j++) batch.addV4(prefixes[j]!, 24);
    msgs.length = 0;
    packUpdates(randomAttrs(nextHop), batch, ctx, msgs);
    for (const m of msgs) parts.push(m.subarray(19));
  }
  const offs = new Uint32Array(parts.length + 1);
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    offs[i] = total;
    total += parts[i]!.length;
  }
  offs[parts.length] = total;
  const buf = Buffer.concat(parts, total);
  return { buf, offs, count: parts.length };
}

interface Feed {
  prefixes: number;
  updates: number;
}

class Consumer {
  private readonly out = new Int32Array(4096);
  seen = 0;
  sink = 0;
  constructor(
    private readonly loc: LocRib,
    private readonly q: ChangeQueue,
  ) {}
  drain(): void {
    for (;;) {
      const n = this.q.drain(this.out.length, this.out);
      if (n === 0) return;
      for (let i = 0; i < n; i++) {
        const a = this.loc.bestAttr(this.out[i]!);
        this.sink += a < 0 ? 1 : this.loc.nextHopOf(a);
      }
      this.seen += n;
    }
  }
}

const CTX = updateContext({ ebgp: true });

/** Parse and decode every UPDATE (what a RIB without interning would pay). */
function parseDecode(st: Stream): number {
  const p = new ParsedUpdate();
  let n = 0;
  for (let u = 0; u < st.count; u++) {
    locateUpdate(st.buf.subarray(st.offs[u]!, st.offs[u + 1]!), CTX, p);
    if (decodeAttributes(p, CTX) !== null) n += p.nlriCount;
  }
  return n;
}

function feed(st: Stream, inRib: AdjRibIn | null, rib: Rib | null, tag: number, consumer: Consumer | null): Feed {
  const ctx = CTX;
  const p = new ParsedUpdate();
  const cur = new NlriCursor();
  const decode = (): PathAttributes | null => {
    const a = decodeAttributes(p, ctx);
    return a !== null && p.action < 2 ? a : null;
  };
  let prefixes = 0;
  for (let u = 0; u < st.count; u++) {
    locateUpdate(st.buf.subarray(st.offs[u]!, st.offs[u + 1]!), ctx, p);
    const id = rib === null ? 0 : rib.store.intern(p.attrKey, p.attrHash, decode, tag);
    cur.reset(p.buf, p.nlriStart, p.nlriEnd, 1, p.classicAddPath);
    if (inRib === null) {
      while (cur.next()) prefixes += cur.length > 0 ? 1 : 0;
    } else {
      while (cur.next()) {
        inRib.announceV4(cur.addr, cur.length, cur.pathId, id);
        prefixes++;
      }
      rib!.store.unref(id);
    }
    if (consumer !== null && (u & 63) === 63) consumer.drain();
  }
  consumer?.drain();
  return { prefixes, updates: st.count };
}

interface Mem {
  heap: number;
  ext: number;
  rss: number;
}
function mem(): Mem {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, ext: m.external, rss: m.rss }; // external includes arrayBuffers
}

function fmt(ns: number): string {
  return `${ns.toFixed(0)} ns`;
}

interface Timing {
  /** Wall-clock ns. */
  wall: number;
  /** CPU ns of this process (user + system): less disturbed by other load on the machine. */
  cpu: number;
  /** GC pause ns. */
  gc: number;
}

/** Runs fn and measures it; GC entries arrive asynchronously, hence the await. */
async function timed(fn: () => void): Promise<Timing> {
  gcTime.reset();
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wall = Number(process.hrtime.bigint() - t0);
  const c = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 20));
  return { wall, cpu: (c.user + c.system) * 1000, gc: gcTime.ms * 1e6 };
}

function per(t: Timing, n: number): string {
  return `${fmt(t.cpu / n)} CPU (${fmt(t.wall / n)} wall, GC ${fmt(t.gc / n)})`;
}

async function main(): Promise<void> {
  const t0 = process.hrtime.bigint();
  const prefixes = randomPrefixes(N);
  const bodies1 = buildUpdates(prefixes, 1);
  const bodies2 = buildUpdates(prefixes, 2);
  const genMs = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`generated ${N} prefixes, ${bodies1.count} + ${bodies2.count} UPDATEs in ${genMs.toFixed(0)} ms`);
  console.log(`load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')} on 2 cores (wall times suffer from it)`);

  // Wire-only baselines (no RIB).
  feed(bodies1, null, null, 0, null); // warm-up
  const tp = await timed(() => feed(bodies1, null, null, 0, null));
  const td = await timed(() => parseDecode(bodies1));
  console.log(`parse only (locate + cursor): ${per(tp, N)}/prefix`);
  console.log(`parse + decode every UPDATE:   ${per(td, N)}/prefix`);

  const m0 = mem();
  const rib = new Rib(
    { address: Uint8Array.from([10, 0, 0, 100]), bgpId: 0x0a000064, asn: 65000, ebgp: false, localAs: 65000 },
    {},
    1024,
    Number(process.env.CACHE ?? 4096),
  );
  const p1 = rib.peers.add({ address: Uint8Array.from([10, 0, 0, 1]), bgpId: 0x0a000001, asn: 64513, ebgp: true, localAs: 65000 });
  const p2 = rib.peers.add({ address: Uint8Array.from([10, 0, 0, 2]), bgpId: 0x0a000002, asn: 64514, ebgp: true, localAs: 65000 });
  const loc = rib.v4;
  const consumer = new Consumer(loc, loc.createQueue());
  const in1 = rib.adjRibIn(p1, Afi.IPV4);
  const in2 = rib.adjRibIn(p2, Afi.IPV4);
  // KEEP=1 keeps every decoded object (an unregistered tag) instead of re-decoding on demand.
  const tag = process.env.KEEP === '1' ? 1000 : rib.store.contextTag(CTX);

  let f1: Feed = { prefixes: 0, updates: 0 };
  const t1 = await timed(() => {
    f1 = feed(bodies1, in1, rib, tag, consumer);
  });
  const m1 = mem();
  const perB = (a: number, b: number): string => ((b - a) / N).toFixed(1);
  console.log(`\npeer 1 (${f1.prefixes} prefixes, ${rib.store.count} attribute sets, ${rib.store.decodes} decodes):`);
  console.log(`  all-in (parse + decode new sets + RIB + draining a change queue): ${per(t1, f1.prefixes)}/prefix`);
  console.log(`  minus parse only: ${fmt((t1.cpu - tp.cpu) / N)} CPU/prefix`);
  console.log(
    `  memory/prefix: heap ${perB(m0.heap, m1.heap)} B + typed arrays (external) ${perB(m0.ext, m1.ext)} B = ${(
      (m1.heap - m0.heap + m1.ext - m0.ext) /
      N
    ).toFixed(1)} B; RSS ${perB(m0.rss, m1.rss)} B`,
  );
  console.log(
    `  of which Loc-RIB + prefix table arrays ${(loc.byteSize / N).toFixed(1)} B, attribute store arrays + arena ${(rib.store.byteSize / N).toFixed(1)} B`,
  );
  console.log(`  best paths ${loc.bestCount}, changes drained ${consumer.seen}`);

  let f2: Feed = { prefixes: 0, updates: 0 };
  const t2 = await timed(() => {
    f2 = feed(bodies2, in2, rib, tag, consumer);
  });
  const m2 = mem();
  let p2best = 0;
  for (let s = loc.table.nextLive(0); s >= 0; s = loc.table.nextLive(s + 1)) if (loc.pathPeer(loc.best(s)) === p2) p2best++;
  console.log(`\npeer 2, same prefixes (${rib.store.count} attribute sets; every prefix now runs the decision on 2 paths):`);
  console.log(`  all-in ${per(t2, f2.prefixes)}/prefix; minus parse only: ${fmt((t2.cpu - tp.cpu) / N)} CPU/prefix`);
  console.log(`  memory/prefix added: heap ${perB(m1.heap, m2.heap)} B + typed arrays ${perB(m1.ext, m2.ext)} B; RSS ${perB(m1.rss, m2.rss)} B`);
  console.log(`  peer 2 is best for ${p2best} prefixes; changes drained ${consumer.seen}`);

  let n1 = 0;
  let n2 = 0;
  const c1 = await timed(() => {
    n1 = in1.clear().count;
    consumer.drain();
  });
  const c2 = await timed(() => {
    n2 = in2.clear().count;
    consumer.drain();
    consumer.drain(); // releases the last batch
  });
  console.log(`\nwithdraw all (peer down: AdjRibIn.clear + draining the changes):`);
  console.log(`  peer 1 (${n1} routes, peer 2 takes over): ${(c1.cpu / 1e6).toFixed(0)} ms CPU = ${per(c1, n1)}/prefix`);
  console.log(`  peer 2 (${n2} routes, prefixes disappear): ${(c2.cpu / 1e6).toFixed(0)} ms CPU = ${per(c2, n2)}/prefix`);
  console.log(`  left: ${loc.table.size} prefixes, ${rib.store.count} attribute sets, ${loc.pathCount} paths`);
  // Keep the inputs alive to the end: otherwise V8 may collect them once unused and
  // the memory deltas above would be understated.
  console.log(`  (inputs still held: ${bodies1.count + bodies2.count} UPDATEs, ${prefixes.length} prefixes)`);
  void p1;
}

await main();
