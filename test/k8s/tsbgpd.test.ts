// tsbgpd --source kubernetes, as a process, against FakeApiServer (an HTTP server in
// the test, on 127.0.0.1: no API server can run here). Checks the wiring end to end:
// kubeconfig, first load from the API, /readyz, the BGPNodeStatus object and its
// status, a reload on change, a refused change (condition + Event, the last good
// configuration keeps running), and a clean SIGTERM. FIB in memory (no root needed);
// the only BGP peer is a closed port on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { connect } from '../../src/api/client.js';
import { STATUS_BASE } from '../../src/k8s/status.js';
import type { NodeStatus } from '../../src/k8s/status.js';
import { waitFor } from '../lib/proc.js';
import { FakeApiServer } from './fake-apiserver.js';

const TSBGPD = fileURLToPath(new URL('../../src/bin/tsbgpd.js', import.meta.url));
const NODE = 'k8s-node-1';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let server: FakeApiServer;
let dir = '';
let child: ChildProcess | undefined;
let stderr = '';

const peerConfig = (hold: number, ttl: unknown = 1) => ({
  apiVersion: 'cilium.io/v2', kind: 'CiliumBGPPeerConfig', metadata: { name: 'local' },
  spec: { transport: { peerPort: 0 }, timers: { holdTimeSeconds: hold, keepAliveTimeSeconds: 3 }, ebgpMultihop: ttl },
});

before(async () => {
  server = new FakeApiServer();
  await server.start();
  dir = await mkdtemp(join(tmpdir(), 'tsbgp-k8s-daemon-'));
});

after(async () => {
  if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

test('tsbgpd --source kubernetes: loads from the API server, reports status, reloads on change, refuses a bad change, rides out an API outage', { timeout: 90_000 }, async () => {
  const bgpPort = await freePort(); // nothing listens there: the session stays down
  const metricsPort = await freePort();
  server.put({ apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { bgp: 'on' } }, spec: { podCIDR: '10.244.1.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '10.255.0.1' }] } });
  server.put({
    apiVersion: 'cilium.io/v2', kind: 'CiliumBGPClusterConfig', metadata: { name: 'local' },
    spec: { nodeSelector: { matchLabels: { bgp: 'on' } }, bgpInstances: [{ name: 'main', localASN: 65001, peers: [{ name: 'lo-peer', peerAddress: '127.0.0.1', peerASN: 65002, peerConfigRef: { name: 'local' } }] }] },
  });
  const pc = peerConfig(9);
  (pc.spec.transport as { peerPort: number }).peerPort = bgpPort;
  server.put(pc);
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {insecure-skip-tls-verify: true, server: "http://127.0.0.1:${(server.kubeConfig().getCurrentCluster()!.server.split(':').at(-1))}"}}]
users: [{name: u, user: {token: test-token}}]
contexts: [{name: c, context: {cluster: fake, user: u}}]
current-context: c
`);
  const socket = join(dir, 'tsbgpd.sock');
  child = spawn(process.execPath, [
    TSBGPD, '--source', 'kubernetes', '--kubeconfig', kubeconfig, '--node-name', NODE, '--secret-namespace', 'tsbgp-secrets',
    '--fib', 'memory', '--api-socket', socket, '--metrics-address', `127.0.0.1:${metricsPort}`, '--log-format', 'json', '--log-level', 'warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));

  const ready = await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, { timeoutMs: 15_000, until: (s) => s === 200, label: 'readyz' }).catch((e: unknown) => {
    throw new Error(`${String(e)}\nstderr: ${stderr}`);
  });
  assert.equal(ready, 200);

  // Watches only: Node by field selector, Secrets of one namespace.
  assert.ok(server.requests.some((r) => r.path === '/api/v1/nodes' && r.query['fieldSelector'] === `metadata.name=${NODE}`));
  assert.ok(server.requests.some((r) => r.path === '/api/v1/namespaces/tsbgp-secrets/secrets'));
  assert.ok(!server.requests.some((r) => r.path.includes('/secrets') && !r.path.startsWith('/api/v1/namespaces/tsbgp-secrets/')));

  const client = await connect({ socketPath: socket });
  try {
    const cfg = await client.call('config');
    assert.ok(cfg.files.some((f) => f.startsWith('kubernetes:http://127.0.0.1:')), JSON.stringify(cfg.files));
    const hold = async () => (((await client.call('config')).applied as { instances: { peers: { timers: { holdTime: number } }[] }[] } | null)?.instances[0]?.peers[0]?.timers.holdTime);
    assert.equal(await hold(), 9);

    // The status object: owned by the Node, status patched with the peer.
    const statusOf = () => server.object(`${STATUS_BASE}/${NODE}`) as { metadata: { ownerReferences?: { uid: string }[] }; status?: NodeStatus } | undefined;
    const st = (await waitFor(() => statusOf()?.status, { timeoutMs: 10_000, label: 'status written' }))!;
    assert.equal(statusOf()!.metadata.ownerReferences?.[0]?.uid, `uid-/${NODE}`);
    assert.equal(st.bgpInstances[0]?.peers[0]?.peerAddress, '127.0.0.1');
    assert.notEqual(st.bgpInstances[0]?.peers[0]?.peeringState, 'established');
    assert.equal(st.conditions.find((c) => c.type === 'ConfigApplied')?.status, 'True');

    // A change in the cluster: reloaded.
    const changed = peerConfig(30);
    (changed.spec.transport as { peerPort: number }).peerPort = bgpPort;
    server.put(changed);
    await waitFor(hold, { timeoutMs: 10_000, until: (h) => h === 30, label: 'hold time 30 applied' });

    // A bad change: refused, the condition says so, an Event is recorded, hold time stays 30.
    const bad = peerConfig(45, 'three');
    (bad.spec.transport as { peerPort: number }).peerPort = bgpPort;
    server.put(bad);
    const cond = await waitFor(() => statusOf()?.status?.conditions.find((c) => c.type === 'ConfigApplied'), { timeoutMs: 25_000, until: (c) => c?.status === 'False', label: 'ConfigApplied=False' });
    assert.equal(cond!.reason, 'ConfigRejected');
    assert.match(cond!.message, /CiliumBGPPeerConfig\/local spec\.ebgpMultihop/);
    assert.equal(await hold(), 30);
    const ev = (await waitFor(() => server.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/default/events'), { timeoutMs: 5000, label: 'event' }))!;
    assert.equal((ev.body as { reason: string }).reason, 'BGPConfigRejected');
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 200, 'still ready: the last good configuration runs');

    // API server outage: the daemon keeps its instance and neighbour, stays ready, and
    // applies what changed meanwhile once the API is back (history compacted: re-list).
    const neighborsBefore = (await client.call('neighbors')).map((n) => `${n.instance}/${n.address}`);
    server.setDown(true);
    await waitFor(() => stderr.includes('list/watch failed'), { timeoutMs: 10_000, label: 'outage noticed' });
    assert.deepEqual((await client.call('neighbors')).map((n) => `${n.instance}/${n.address}`), neighborsBefore);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 200);
    const fixed = peerConfig(60);
    (fixed.spec.transport as { peerPort: number }).peerPort = bgpPort;
    server.put(fixed);
    server.compact();
    server.setDown(false);
    await waitFor(hold, { timeoutMs: 20_000, until: (h) => h === 60, label: 'change made during the outage applied' });
  } finally {
    client.close();
  }

  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  process.kill(child.pid!, 'SIGTERM');
  assert.equal(await exited, 0, stderr);
});
