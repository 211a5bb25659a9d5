#!/usr/bin/env node
// Runs the compiled tests with Node's built-in runner.
//   node scripts/test.mjs            all tests (interop/e2e skip with a reason when not root)
//   node scripts/test.mjs --unit     only the pure tests (no namespaces, no peers)
//   node scripts/test.mjs PATH...    only these compiled test files or folders
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const unit = args.includes('--unit');
const paths = args.filter((a) => !a.startsWith('--'));
const SLOW = ['interop', 'e2e', 'bench', 'fault'];

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (unit && SLOW.includes(name)) continue;
      collect(p, out);
    } else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = paths.length
  ? paths.flatMap((p) => (statSync(p).isDirectory() ? collect(p, []) : [p]))
  : collect('dist/test', []);
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first');
  process.exit(1);
}
// Interop tests share namespaces names and peers: run files one at a time.
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
