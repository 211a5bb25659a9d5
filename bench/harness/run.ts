#!/usr/bin/env node
// `npm run bench [-- options]`: the side-by-side full-table bench (see bench.ts).
// Needs root (network namespaces) and BIRD 2, FRR and GoBGP installed.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { whyNoNetns } from '../../test/lib/root.js';
import { runBench } from './bench.js';
import { parseOptions, USAGE } from './options.js';
import { toolsOf } from './receivers.js';
import { markdown, svgChart, type BenchResult } from './report.js';

const RESULTS = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

/** `--render FILE.json`: writes FILE.md and FILE.svg again from a saved result (after a report change). */
function render(file: string): number {
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const base = file.replace(/\.json$/, '');
  writeFileSync(`${base}.md`, markdown(r, `${basename(base)}.svg`));
  writeFileSync(`${base}.svg`, svgChart(r));
  process.stdout.write(markdown(r));
  return 0;
}

async function main(): Promise<number> {
  if (process.argv[2] === '--render' && process.argv[3] !== undefined) return render(process.argv[3]);
  let o;
  try {
    o = parseOptions(process.argv.slice(2), RESULTS);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (o === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const why = whyNoNetns('ip', ...o.receivers.flatMap(toolsOf));
  if (why !== undefined) {
    process.stderr.write(`bench: cannot run: ${why}\n`);
    return 1;
  }
  const { result, files } = await runBench(o);
  process.stdout.write(`\n${markdown(result)}\n`);
  for (const f of files) process.stdout.write(`wrote ${f}\n`);
  // Every run of every round: one failed round fails the bench.
  return result.receivers.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
