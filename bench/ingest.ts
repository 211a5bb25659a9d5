// Ingest benchmark: the bench harness's feed through the daemon's receive path, in one
// process, without sockets, FIB or a feeder competing for the 2 cores.
//
//   node --expose-gc dist/bench/ingest.js [prefixes=1000000] [--mrt FILE]
//
// The feed (the harness's synthetic table, or an MRT replay) is cut into 64 KiB
// chunks as a socket would hand them over; per chunk: Framer → locateUpdate →
// Learner.update (intern, import policy, Adj-RIB-In, decision), then one bounded drain
// of a Loc-RIB change queue, as the FIB writer would. Reports CPU time (steadier than
// wall time on a shared machine), GC, the longest chunk (a lower bound of the event
// loop lag a full table causes), and memory: the RIB's typed arrays and the process's
// ArrayBuffer bytes at their peak and after a full GC (old arrays left by doubling
// stay until a major GC).
import { Learner } from '../src/daemon/learner.js';
import type { Neighbor } from '../src/daemon/speaker.js';
import { ImportGuards } from '../src/policy/guards.js';
import { Framer } from '../src/wire/framer.js';
import { MsgType } from '../src/wire/iana.js';
import { locateUpdate, ParsedUpdate, updateContext } from '../src/wire/update.js';
import { buildTables } from './feeder/feeder.js';
import { getGc, GcTime } from './lib.js';

const FEEDER_AS = 65010;
const RECEIVER_AS = 65001;
const CHUNK = 65536;

const args = process.argv.slice(2);
const mrtAt = args.indexOf('--mrt');
const mrt = mrtAt >= 0 ? args[mrtAt + 1] : undefined;
const count = Number(args.find((a, i) => !a.startsWith('--') && (mrtAt < 0 || i !== mrtAt + 1)) ?? 1_000_000);

const gc = getGc();

const gcTime = new GcTime();

const MB = (n: number): string => (n / 1048576).toFixed(1);

/** Memory after a full GC; ArrayBuffer backing stores are freed by a background sweeper, hence the waits. */
async function settled(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  return process.memoryUsage();
}

/** The feed as a socket would hand it over; nothing else of the tables stays referenced. */
async function feedChunks(): Promise<Buffer[]> {
  const tables = await buildTables(mrt !== undefined ? [{ type: 'mrt', file: mrt }] : [{ type: 'synthetic', count }], {
    localAs: FEEDER_AS,
    nextHop4: '198.18.0.2',
    nextHop6: '2001:db8:1::2',
    avoidAs: [RECEIVER_AS],
  });
  const feed = Buffer.concat(tables.flatMap((t) => t.announce().chunks));
  const chunks: Buffer[] = [];
  for (let o = 0; o < feed.length; o += CHUNK) chunks.push(Buffer.from(feed.subarray(o, o + CHUNK)));
  console.log(`feed: ${tables.map((t) => t.name).join(', ')}: ${MB(feed.length)} MB in ${chunks.length} chunks of 64 KiB`);
  return chunks;
}

async function main(): Promise<void> {
  const chunks = await feedChunks();
  const m0 = await settled();
  const learner = new Learner({ asn: RECEIVER_AS, routerId: 0xc6120001 }, new ImportGuards());
  const neighbor = {
    address: '198.18.0.2',
    options: { address: '198.18.0.2', peerAs: FEEDER_AS },
    peer: { negotiated: undefined },
    index: 1,
    advertised: new Map(),
  } as unknown as Neighbor;
  learner.addPeer(neighbor, { importPolicy: { defaultAction: 'Accept', allowDefaultRoute: true, rules: [] }, prefixLimits: new Map() }, RECEIVER_AS);
  const ctx = updateContext({ fourOctetAs: true, ebgp: true, peerAs: FEEDER_AS });
  const rib = learner.rib;
  const queues = [rib.v4.createQueue(), rib.v6.createQueue()] as const;
  const out = new Int32Array(4096);
  const framer = new Framer();
  const p = new ParsedUpdate();
  let peakAb = 0;
  let peakRss = 0;
  let worst = 0;
  let worstAt = 0;
  let sink = 0;

  gcTime.reset();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < chunks.length; k++) {
    const s0 = performance.now();
    framer.push(chunks[k]!);
    for (let f = framer.next(); f !== undefined; f = framer.next()) {
      if (f.type !== MsgType.UPDATE) continue;
      locateUpdate(f.body, ctx, p);
      learner.update(neighbor, p, ctx);
    }
    for (let i = 0; i < 2; i++) {
      const loc = i === 0 ? rib.v4 : rib.v6;
      const n = queues[i]!.drain(out.length, out);
      for (let j = 0; j < n; j++) sink += loc.bestAttr(out[j]!);
    }
    const d = performance.now() - s0;
    if (d > worst) {
      worst = d;
      worstAt = rib.v4.table.size + rib.v6.table.size;
    }
    if ((k & 15) === 0) {
      const m = process.memoryUsage();
      if (m.arrayBuffers > peakAb) peakAb = m.arrayBuffers;
      if (m.rss > peakRss) peakRss = m.rss;
    }
  }
  for (const q of queues) while (q.drain(out.length, out) > 0);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  await new Promise((r) => setTimeout(r, 20)); // GC entries arrive asynchronously
  const m1 = process.memoryUsage();
  const m2 = await settled();

  const prefixes = rib.v4.bestCount + rib.v6.bestCount;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`${prefixes} prefixes with a best path, ${rib.store.count} attribute sets (${rib.store.decodes} decoded, ${rib.store.fieldReads} read from the wire)`);
  console.log(
    `time: ${cpuMs.toFixed(0)} ms CPU (${((cpuMs * 1e6) / prefixes).toFixed(0)} ns a prefix), ${wall.toFixed(0)} ms wall; GC ${gcTime.ms.toFixed(0)} ms in ${gcTime.count} (longest ${gcTime.max.toFixed(0)} ms)`,
  );
  console.log(`longest chunk: ${worst.toFixed(1)} ms, at ${worstAt} prefixes`);
  console.log(
    `RIB typed arrays: Loc-RIB + prefix tables ${MB(rib.v4.byteSize + rib.v6.byteSize)} MB, attribute store ${MB(rib.store.byteSize)} MB`,
  );
  console.log(
    `ArrayBuffers above the start: peak ${MB(peakAb - m0.arrayBuffers)} MB, end ${MB(m1.arrayBuffers - m0.arrayBuffers)} MB, after GC ${MB(
      m2.arrayBuffers - m0.arrayBuffers,
    )} MB; heap after GC ${MB(m2.heapUsed - m0.heapUsed)} MB; peak RSS ${MB(peakRss)} MB (feed included)`,
  );
  // Keep the feed alive to here, or its bytes would leave the deltas above.
  if (sink === 0.5 || chunks.length === 0) console.log('');
}

await main();
