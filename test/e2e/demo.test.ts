// `npm run demo` in CI: runs dist/demo/demo.js and checks what it prints (the real
// commands' output, not only its own ✔ lines), that it leaves nothing behind, that
// Ctrl-C cleans up, and that the unprivileged part works for a user who is not root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, waitFor } from '../lib/proc.js';
import { PEER_TOOLS } from '../lib/peers/index.js';
import { findTool, needsRoot } from '../lib/root.js';
import { REPO_ROOT } from './lab.js';

const DEMO = join(REPO_ROOT, 'dist/demo/demo.js');
const skipFull = needsRoot('ping', ...PEER_TOOLS.bird, ...PEER_TOOLS.frr, ...PEER_TOOLS.gobgp);

function demoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSBGP_DEMO_NO_PAUSE: '1', NO_COLOR: '1', ...extra };
  delete env.TSBGP_DEMO_MODE;
  return { ...env, ...extra };
}

/** The output of `host$ cmd` as the demo printed it (its indented lines, unindented). */
function section(output: string, host: string, cmd: string): string {
  const lines = output.split('\n');
  const at = lines.findIndex((l) => l === `${host}$ ${cmd}`);
  assert.ok(at >= 0, `the demo shows \`${host}$ ${cmd}\``);
  const body: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('    ')) break;
    body.push(l.slice(4));
  }
  return body.join('\n');
}

/** Namespaces and temp dirs of a (finished) demo process, and processes still using them. */
function leftovers(pid: number): string[] {
  const mark = `tsb-${pid}-`;
  const left: string[] = [];
  let ns: string[] = [];
  try {
    ns = readdirSync('/run/netns');
  } catch {
    // no namespace at all
  }
  left.push(...ns.filter((n) => n.startsWith(mark)).map((n) => `netns ${n}`));
  left.push(...readdirSync(tmpdir()).filter((n) => n.startsWith(mark)).map((n) => `dir ${n}`));
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (cmd.includes(join(tmpdir(), mark))) left.push(`pid ${p}: ${cmd.trim()}`);
  }
  return left;
}

function assertRow(text: string, re: RegExp, what: string): void {
  assert.match(text, re, `${what}:\n${text}`);
}

test('npm run demo: the classic Cilium demo and route learning, output checked', { skip: skipFull, timeout: 180_000 }, async () => {
  const t0 = Date.now();
  const child = spawn(process.execPath, [DEMO], { env: demoEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const secs = (Date.now() - t0) / 1000;
  process.stderr.write(`# demo (full lab): ${secs.toFixed(1)} s\n`);
  const ctx = `\n--- demo output ---\n${output.slice(-6000)}`;
  assert.equal(code, 0, `demo exit status${ctx}`);
  assert.match(output, /Demo finished in [\d.]+ s: all \d+ checks passed\./, ctx);
  assert.ok(!output.includes('✘'), `no failed check${ctx}`);

  // 1. The gobgpd router of the classic demo has both nodes and their pod CIDRs.
  const nb = section(output, 'router0', 'gobgp neighbor');
  assertRow(nb, /^\s*172\.18\.0\.3\s+65001\s+\S+\s+Establ/m, 'gobgp neighbor: control-plane Established');
  assertRow(nb, /^\s*172\.18\.0\.2\s+65001\s+\S+\s+Establ/m, 'gobgp neighbor: worker Established');
  const grib = section(output, 'router0', 'gobgp global rib');
  assertRow(grib, /^\*>\s+10\.244\.0\.0\/24\s+172\.18\.0\.3\s+65001\s/m, 'gobgp global rib: control-plane pod CIDR');
  assertRow(grib, /^\*>\s+10\.244\.1\.0\/24\s+172\.18\.0\.2\s+65001\s/m, 'gobgp global rib: worker pod CIDR');
  assertRow(section(output, 'control-plane', 'tsbgp neighbor'), /^172\.18\.0\.5\s+65000\s+\S+\s+Establ\s*\|\s*0\s+0\s+0\s+1$/m, 'tsbgp neighbor on a kind node');

  // 2. The route-learning node: four sessions, learned prefixes in its kernel, pings.
  const tn = section(output, 'node', 'tsbgp neighbor');
  for (const [peer, as] of [['10.10.0.1', 65010], ['fd00:a::1', 65010], ['10.20.0.1', 65020], ['fd00:b::1', 65020]] as const) {
    assertRow(tn, new RegExp(`^${peer.replace(/\./g, '\\.')}\\s+${as}\\s+\\S+\\s+Establ`, 'm'), `tsbgp neighbor: ${peer}`);
  }
  const rib = section(output, 'node', 'tsbgp global rib');
  assertRow(rib, /^\*>\s+192\.168\.10\.0\/24\s+10\.10\.0\.1\s+65010\s/m, 'tsbgp global rib: domain A');
  assertRow(rib, /^\*>\s+192\.168\.20\.0\/24\s+10\.20\.0\.1\s+65020\s/m, 'tsbgp global rib: domain B');
  assertRow(rib, /^\*>\s+fd00:10::\/64\s+fd00:a::1\s+65010\s/m, 'tsbgp global rib: domain A IPv6');
  assert.doesNotMatch(rib, /0\.0\.0\.0\/0|::\/0|10\.99\.0\.0|10\.98\.0\.0/, 'rejected routes are not in the Loc-RIB');
  const fib = section(output, 'node', 'tsbgp fib');
  assertRow(fib, /^192\.168\.30\.0\/24\s.*conflict/m, 'tsbgp fib: the static prefix is a conflict');
  assert.equal(fib.match(/ installed$/gm)?.length, 9, `tsbgp fib: 9 installed routes:\n${fib}`);

  const k4 = section(output, 'node', 'ip route show proto bgp');
  assertRow(k4, /^192\.168\.10\.0\/24 .*via 10\.10\.0\.1 dev eth-a .*metric 20/m, 'kernel: 192.168.10.0/24 via BIRD');
  assertRow(k4, /^172\.16\.10\.0\/24 .*via 10\.10\.0\.1 dev eth-a .*metric 20/m, 'kernel: 172.16.10.0/24 via BIRD');
  assertRow(k4, /^192\.168\.20\.0\/24 .*via 10\.20\.0\.1 dev eth-b .*metric 20/m, 'kernel: 192.168.20.0/24 via FRR');
  assert.doesNotMatch(k4, /^default|192\.168\.30\.0/m, 'no default route, no route over the static one');
  const k6 = section(output, 'node', 'ip -6 route show proto bgp');
  assertRow(k6, /^fd00:10::\/64 .*via fd00:a::1 dev eth-a/m, 'kernel: fd00:10::/64 via BIRD');
  assertRow(k6, /^fd00:20::\/64 .*via fd00:b::1 dev eth-b/m, 'kernel: fd00:20::/64 via FRR');
  assertRow(section(output, 'node', 'ip route show 192.168.30.0/24'), /via 10\.20\.0\.1 dev eth-b proto static metric 20/, 'static route');

  for (const [host, via, dev] of [
    ['192.168.10.10', '10.10.0.1', 'eth-a'],
    ['fd00:10::10', 'fd00:a::1', 'eth-a'],
    ['192.168.20.10', '10.20.0.1', 'eth-b'],
    ['fd00:20::10', 'fd00:b::1', 'eth-b'],
  ] as const) {
    assertRow(section(output, 'node', `ip route get ${host}`), new RegExp(`via ${via.replace(/\./g, '\\.')} dev ${dev}`), `route to ${host}`);
    assertRow(section(output, 'node', `ping -c 1 ${host}`), /1 packets transmitted, 1 received/, `ping ${host}`);
  }
  assert.match(output, /tsbgpd stopped \(SIGTERM\) and removed every route it had installed/);
  assert.deepEqual(leftovers(child.pid!), [], 'the demo removed its namespaces, dirs and processes');
});

test('Ctrl-C during the demo stops everything and removes the lab', { skip: skipFull, timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, [DEMO], { env: demoEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  // In the middle of part 2: routers and tsbgpd are running.
  await waitFor(() => output, { timeoutMs: 90_000, intervalMs: 100, label: 'demo reaches part 2', until: (o) => o.includes('Started BIRD in router-a') });
  const pid = child.pid!;
  assert.ok(leftovers(pid).some((l) => l.startsWith('netns')), 'the lab exists before Ctrl-C');
  child.kill('SIGINT');
  const timeout = new Promise<['timeout', null]>((resolve) => setTimeout(() => resolve(['timeout', null]), 30_000).unref());
  const [code, signal] = await Promise.race([exited, timeout]);
  assert.notEqual(code, 'timeout', `the demo exits after Ctrl-C:\n${output.slice(-3000)}`);
  assert.ok(signal === 'SIGINT' || code === 130, `ended by the interrupt (code ${code}, signal ${signal})`);
  assert.match(output, /Ctrl-C: stopping every daemon and deleting the lab's namespaces/);
  await waitFor(() => leftovers(pid), { timeoutMs: 5000, until: (l) => l.length === 0, label: 'nothing left after Ctrl-C' });
});

test('without root the demo explains what it needs and runs tsbgpd on loopback with the dry-run FIB', { timeout: 120_000 }, async () => {
  // As root, drop to nobody (setpriv) to prove the unprivileged path; else run as we are.
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const setpriv = findTool('setpriv');
  const cmd = isRoot && setpriv ? setpriv : process.execPath;
  const args = isRoot && setpriv ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, DEMO] : [DEMO];
  const env = demoEnv(isRoot && !setpriv ? { TSBGP_DEMO_MODE: 'loopback' } : {});
  const t0 = Date.now();
  const r = await run(cmd, args, { env, timeoutMs: 90_000 });
  process.stderr.write(`# demo (loopback): ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const output = r.stdout + r.stderr;
  const ctx = `\n--- demo output ---\n${output.slice(-5000)}`;
  assert.equal(r.code, 0, `exit status${ctx}`);
  assert.match(output, /The full lab cannot run here: \S/, ctx);
  if (isRoot && setpriv) assert.match(output, /needs root/, 'as nobody, it says root is needed');
  assert.match(output, /sudo npm run demo/);
  assert.match(output, /Demo finished in [\d.]+ s: all 6 checks passed\./, ctx);
  const nb = section(output, 'router', 'tsbgp neighbor');
  assertRow(nb, /^127\.0\.0\.2\s+65001\s+\S+\s+Establ\s*\|\s*1\s+1\s+1\s+0$/m, 'router sees node-1');
  assertRow(nb, /^127\.0\.0\.3\s+65001\s+\S+\s+Establ\s*\|\s*1\s+1\s+1\s+0$/m, 'router sees node-2');
  const rib = section(output, 'router', 'tsbgp global rib');
  assertRow(rib, /^\*>\s+10\.244\.0\.0\/24\s+127\.0\.0\.2\s+65001\s/m, 'node-1 pod CIDR');
  assertRow(rib, /^\*>\s+10\.244\.1\.0\/24\s+127\.0\.0\.3\s+65001\s/m, 'node-2 pod CIDR');
  const fib = section(output, 'router', 'tsbgp fib');
  assertRow(fib, /^10\.244\.0\.0\/24\s+main\s+20\s+bgp\s+via 127\.0\.0\.2 dev lo\s+installed$/m, 'dry-run FIB');
  assertRow(section(output, 'node-1', 'tsbgp neighbor'), /^127\.0\.0\.1\s+65000\s+\S+\s+Establ\s*\|\s*0\s+0\s+0\s+1$/m, 'node-1 sees the router');
});
