// The notification socket's filter (native dropEchoes): the kernel drops the echoes
// of the writer's own route messages, while other processes' changes to our
// routes still reach the Fib (root only: runs in a namespace of its own).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { netlinkUnavailable } from '../../src/fib/kernel.js';

const SCRIPT = fileURLToPath(new URL('./kernel-scenarios.js', import.meta.url));

function why(): string | null {
  if (process.platform !== 'linux') return 'needs Linux';
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns unavailable: ${r.stderr || r.error?.message}`;
  return netlinkUnavailable();
}
const skip = why();
if (skip) console.log(`# echo filter tests skipped: ${skip}`);

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
test('echo filter: own route echoes dropped in the kernel, other writers still seen', { skip: skip ?? false, timeout: 60_000 }, (t) => {
  const ns = `fw-echo-${process.pid}`;
  ip('netns', 'add', ns);
  t.after(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  ip('-n', ns, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  ip('-n', ns, 'link', 'set', 'v0', 'up');
  ip('-n', ns, 'link', 'set', 'v1', 'up');
  ip('-n', ns, 'addr', 'add', '10.0.0.1/24', 'dev', 'v0');
  const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, SCRIPT, 'echoes'], { encoding: 'utf8', timeout: 50_000 });
  assert.equal(r.status, 0, r.stderr);
  const out: any = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const raw = out.raw;
  assert.equal(raw.attach, 0, 'SO_ATTACH_FILTER accepted');
  // Without the filter all three adds are seen; with it only the other socket's.
  assert.deepEqual(raw.pTypes, ['new', 'new', 'new']);
  assert.deepEqual(raw.pPids, [raw.writer, raw.other, raw.writer]);
  assert.deepEqual(raw.fTypes, ['new']);
  assert.deepEqual(raw.fPids, [raw.other]);
  // The Fib: 3000 routes without a notification overflow, and a route of ours
  // deleted by `ip route del` is noticed and written again.
  assert.equal(out.installed, 3000);
  assert.equal(out.stats.overflows, 0);
  assert.equal(out.back, 1, '11.0.5.0/24 reinstalled');
  assert.ok(out.stats.operations.add >= 3001, `re-added: ${JSON.stringify(out.stats.operations)}`);
  assert.deepEqual(out.events, []);
});
