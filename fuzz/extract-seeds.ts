// Picks a few hundred diverse real BGP messages from the MRT files in ../shared/data/
// and writes them to test/fixtures/fuzz/mrt-messages.hex (the committed seed corpus).
//   node dist/fuzz/extract-seeds.js [--per-file N] [--out FILE]
// Diversity: UPDATEs are grouped by their shape (attribute types and flags, AS_PATH
// segment types, MP families, which fields are empty, size class) and the first two of
// each shape are kept; every non-UPDATE message type is kept once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatHexLines } from './hexfile.js';
import { bgp4mpMessages, readMrtFile } from './mrt.js';
import { SHARED_DATA } from './paths.js';
import { MRT_SEED_FILE } from './seeds.js';

const FILES = ['pch-as3856-fulltable-updates.et-header.2015.gz', 'ris-updates.20160811.1600.gz'];

function log2(n: number): number {
  return n <= 1 ? 0 : Math.floor(Math.log2(n));
}

/** A coarse description of an UPDATE's shape; undefined when it does not parse. */
export function updateShape(msg: Buffer): string | undefined {
  const b = msg.subarray(19);
  if (b.length < 4) return undefined;
  const wlen = b.readUInt16BE(0);
  if (4 + wlen > b.length) return undefined;
  const alen = b.readUInt16BE(2 + wlen);
  const aEnd = 4 + wlen + alen;
  if (aEnd > b.length) return undefined;
  const parts: string[] = [`w${wlen > 0 ? 1 : 0}`, `n${aEnd < b.length ? 1 : 0}`, `s${log2(b.length)}`];
  let p = 4 + wlen;
  while (p + 3 <= aEnd) {
    const flags = b[p]!;
    const type = b[p + 1]!;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? b.readUInt16BE(p + 2) : b[p + 2]!;
    const vs = p + (ext ? 4 : 3);
    let extra = '';
    if (type === 14 || type === 15) extra = `:${b.readUInt16BE(vs)}/${b[vs + 2]}${type === 14 ? `/nh${b[vs + 3]}` : ''}`;
    if (type === 2 || type === 17) {
      const segs = new Set<number>();
      for (let q = vs; q + 2 <= vs + len; q += 2 + b[q + 1]! * 4) segs.add(b[q]!);
      extra = `:${[...segs].sort().join('')}`;
    }
    if (type === 8) extra = `:c${log2(len / 4)}`;
    parts.push(`${type}${ext ? 'x' : ''}${(flags & 0x20) !== 0 ? 'p' : ''}${extra}`);
    p = vs + len;
  }
  return parts.join(' ');
}

function main(): void {
  const { values } = parseArgs({
    options: { 'per-file': { type: 'string', default: '150' }, out: { type: 'string', default: MRT_SEED_FILE } },
  });
  const perFile = Number(values['per-file']);
  const picked: Buffer[] = [];
  const header: string[] = [
    'Real BGP messages (header included) from the public MRT files in ../shared/data/,',
    'picked for diversity by fuzz/extract-seeds.ts. Seeds of the fuzz targets.',
  ];
  for (const file of FILES) {
    const seen = new Map<string, number>();
    const candidates: Buffer[] = [];
    let total = 0;
    for (const m of bgp4mpMessages(readMrtFile(join(SHARED_DATA, file)))) {
      total++;
      const type = m.message[18]!;
      const key = type === 2 ? updateShape(m.message) : `type${type}`;
      if (key === undefined) continue;
      const count = seen.get(key) ?? 0;
      if (count >= (type === 2 ? 2 : 1)) continue;
      seen.set(key, count + 1);
      candidates.push(Buffer.from(m.message));
    }
    // Spread the picks over the whole file when there are more shapes than room.
    const step = Math.max(1, candidates.length / perFile);
    let n = 0;
    for (let i = 0; i < candidates.length && n < perFile; i = Math.floor(++n * step)) picked.push(candidates[i]!);
    header.push(`${file}: ${n} messages of ${total} read, ${seen.size} shapes`);
  }
  writeFileSync(values.out!, formatHexLines(picked, header));
  process.stdout.write(`${picked.length} messages → ${values.out}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
