// Decoding throughput: 500k IPv4 prefixes in UPDATEs of ~5 prefixes each, as a peer
// sending a full table would. Times locate + decode + NLRI iteration, both decoding
// every UPDATE and decoding only on an intern-cache miss (how the RIB is meant to use it).
//   npx tsc -p tsconfig.json && node dist/bench/update-decode.js [prefixes]
import { updateContext } from '../src/wire/attrs/context.js';
import { emptyAttributes, type PathAttributes } from '../src/wire/attrs/types.js';
import { UpdateAction } from '../src/wire/errors.js';
import { PrefixBatch } from '../src/wire/nlri/batch.js';
import { NlriCursor } from '../src/wire/nlri/prefix.js';
import { decodeAttributes, locateUpdate, ParsedUpdate } from '../src/wire/update.js';
import { encodeContext, packUpdates } from '../src/wire/update-encoder.js';

const TOTAL = Number(process.argv[2] ?? 500_000);
const PER_UPDATE = 5;
const ATTR_SETS = 20_000; // a full table has ~200k sets for ~1M prefixes

function makeUpdates(): Buffer[] {
  const ectx = encodeContext();
  const bodies: Buffer[] = [];
  const batch = new PrefixBatch(1, PER_UPDATE);
  let x = 0x12345678;
  for (let made = 0, u = 0; made < TOTAL; u++) {
    const set = u % ATTR_SETS;
    const attrs: PathAttributes = {
      ...emptyAttributes(),
      origin: 0,
      asPath: [{ type: 2, asns: [65001, 3356, 1000 + (set % 5000), 64512 + (set % 1000)] }],
      nextHop: Buffer.from([192, 0, 2, 1]),
      med: set,
      communities: new Uint32Array([(65001 << 16) | (set & 0xffff), 0xffff0001]),
    };
    batch.clear();
    for (let i = 0; i < PER_UPDATE && made < TOTAL; i++, made++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      batch.addV4(x, 16 + (x % 9));
    }
    for (const m of packUpdates(attrs, batch, ectx)) bodies.push(m.subarray(19));
  }
  return bodies;
}

/** Byte compare in JS: for keys of a few dozen bytes it beats Buffer#equals (a native call). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function run(bodies: Buffer[], cacheOnMiss: boolean): { ms: number; prefixes: number; decodes: number } {
  const ctx = updateContext();
  const p = new ParsedUpdate();
  const c = new NlriCursor();
  const cache = new Map<number, { key: Buffer; attrs: PathAttributes }>();
  let prefixes = 0;
  let decodes = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (const body of bodies) {
    locateUpdate(body, ctx, p);
    if (p.action >= UpdateAction.TREAT_AS_WITHDRAW) throw new Error(p.reason);
    let attrs: PathAttributes | null = null;
    if (cacheOnMiss) {
      const hit = cache.get(p.attrHash);
      if (hit !== undefined && sameBytes(hit.key, p.attrKey)) attrs = hit.attrs;
      else {
        attrs = decodeAttributes(p, ctx);
        decodes++;
        cache.set(p.attrHash, { key: Buffer.from(p.attrKey), attrs: attrs! });
      }
    } else {
      attrs = decodeAttributes(p, ctx);
      decodes++;
    }
    sink += attrs!.med ?? 0;
    c.reset(p.buf, p.nlriStart, p.nlriEnd, 1, p.classicAddPath);
    while (c.next()) {
      sink ^= c.addr + c.length;
      prefixes++;
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (sink === 0.5) console.log(sink); // keep the work observable
  return { ms, prefixes, decodes };
}

const bodies = makeUpdates();
console.log(`${bodies.length} UPDATEs, ${TOTAL} prefixes, ${ATTR_SETS} attribute sets`);
// Best of a few runs per mode: the machines are shared, the first runs also warm the JIT.
for (const cacheOnMiss of [false, true]) {
  let best = { ms: Infinity, prefixes: 0, decodes: 0 };
  for (let i = 0; i < 4; i++) {
    const r = run(bodies, cacheOnMiss);
    if (r.ms < best.ms) best = r;
  }
  const rate = Math.round((best.prefixes / best.ms) * 1000);
  console.log(
    `${cacheOnMiss ? 'decode on miss' : 'decode always'}: ${best.ms.toFixed(1)} ms, ${best.decodes} decodes, ` +
      `${rate.toLocaleString('en')} prefixes/s, ${((best.ms * 1000) / best.prefixes).toFixed(3)} µs/prefix`,
  );
}
