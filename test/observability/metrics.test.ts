// Metrics scraped over HTTP from 127.0.0.1:0, fed by the FakeView (test/api/fake-view.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Health } from '../../src/observability/metrics.js';
import { Metrics, parseListenAddress, startMetricsServer } from '../../src/observability/metrics.js';
import { FakeView, NEIGHBORS, SECRET } from '../api/fake-view.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A minimal parser of the Prometheus text format (enough for these assertions). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const s = samples.find((x) => x.name === name && Object.keys(labels).length === Object.keys(x.labels).length && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s?.value;
}

const P1 = { instance: 'vr-65001', neighbor: '10.0.255.1' };
const P2 = { instance: 'vr-65001', neighbor: '10.0.255.2' };
const V4 = { afi: 'ipv4', safi: 'unicast' };

test('metrics endpoint: per-peer, per-family, RIB, FIB, events, process and event-loop series; no secrets', async () => {
  const view = new FakeView();
  // A daemon object carrying a password next to the fields metrics read must not leak it.
  view.neighborsList = NEIGHBORS.map((n) => ({ ...n, md5Password: SECRET }));
  const metrics = new Metrics(view);
  const server = await startMetricsServer({ address: '127.0.0.1:0', metrics });
  try {
    assert.ok(server.port > 0);
    view.emit({ type: 'peer-state', time: 't', instance: 'vr-65001', neighbor: '10.0.255.1', from: 'OpenConfirm', to: 'Established', reason: null });
    view.emit({ type: 'prefix-limit', time: 't', instance: 'vr-65001', neighbor: '10.0.255.2', afi: 'ipv4', safi: 'unicast', kind: 'overflow', count: 1001, max: 1000 });
    view.emit({ type: 'config-reload', time: 't', ok: false, trigger: 'SIGHUP', errors: [], changes: [] });
    view.emit({ type: 'fib', time: 't', instance: 'vr-65001', prefix: '10.4.0.0/24', table: 254, status: 'conflict', detail: null });

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    assert.ok(!body.includes(SECRET), 'no secret in the metrics');
    const s = parse(body);

    assert.equal(value(s, 'tsbgp_info', { version: '0.1.0', node: 'node-1' }), 1);
    assert.equal(value(s, 'tsbgp_session_state', { ...P1, peer_as: '65000' }), 6);
    assert.equal(value(s, 'tsbgp_session_state', { ...P2, peer_as: '65002' }), 1);
    assert.equal(value(s, 'tsbgp_session_up', P1), 1);
    assert.equal(value(s, 'tsbgp_session_up', P2), 0);
    assert.equal(value(s, 'tsbgp_session_uptime_seconds', P1), 341);
    assert.equal(value(s, 'tsbgp_session_established_total', P2), 2);
    // Seeded from the established counts when the metrics were built (P1 up once, P2 up
    // twice and now down), then counted from events (P1's event above).
    assert.equal(value(s, 'tsbgp_session_state_transitions_total', { ...P1, from: 'OpenConfirm', to: 'Established' }), 2);
    assert.equal(value(s, 'tsbgp_session_state_transitions_total', { ...P1, from: 'Established', to: 'Idle' }), undefined);
    assert.equal(value(s, 'tsbgp_session_state_transitions_total', { ...P2, from: 'OpenConfirm', to: 'Established' }), 2);
    assert.equal(value(s, 'tsbgp_session_state_transitions_total', { ...P2, from: 'Established', to: 'Idle' }), 2);
    assert.equal(value(s, 'tsbgp_prefixes_received', { ...P2, ...V4 }), 1001);
    assert.equal(value(s, 'tsbgp_prefixes_accepted', { ...P2, ...V4 }), 990);
    assert.equal(value(s, 'tsbgp_prefixes_installed', { ...P1, ...V4 }), 2);
    assert.equal(value(s, 'tsbgp_prefixes_advertised', { ...P1, ...V4 }), 1);
    assert.equal(value(s, 'tsbgp_prefix_limit_max', { ...P2, ...V4 }), 1000);
    assert.equal(value(s, 'tsbgp_prefix_limit_overflow', { ...P2, ...V4 }), 1);
    assert.equal(value(s, 'tsbgp_prefix_limit_max', { ...P1, ...V4 }), undefined, 'no limit configured: no series');
    assert.equal(value(s, 'tsbgp_prefix_limit_events_total', { ...P2, ...V4, kind: 'overflow' }), 1);
    assert.equal(value(s, 'tsbgp_messages_received_total', { ...P1, type: 'update' }), 5);
    assert.equal(value(s, 'tsbgp_messages_sent_total', { ...P1, type: 'update' }), 3);
    assert.equal(value(s, 'tsbgp_messages_sent_total', { ...P1, type: 'keepalive' }), 10);
    assert.equal(value(s, 'tsbgp_rib_prefixes', { instance: 'vr-65001', ...V4 }), 2);
    assert.equal(value(s, 'tsbgp_rib_paths', { instance: 'vr-65001', ...V4 }), 4);
    assert.equal(value(s, 'tsbgp_fib_routes', { status: 'conflict' }), 1);
    assert.equal(value(s, 'tsbgp_fib_operations_total', { op: 'add' }), 3);
    assert.equal(value(s, 'tsbgp_fib_operations_total', { op: 'delete' }), 2);
    assert.equal(value(s, 'tsbgp_fib_failures_total', {}), 4);
    assert.equal(value(s, 'tsbgp_fib_events_total', { status: 'conflict' }), 1);
    assert.equal(value(s, 'tsbgp_fib_kernel', {}), 0);
    // The view's last reload (a refused SIGHUP, before the metrics existed) plus the event.
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'failure' }), 2);
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'success' }), 0);
    assert.equal(value(s, 'tsbgp_config_last_reload_successful', {}), 0);
    assert.ok(s.some((x) => x.name === 'nodejs_eventloop_lag_p99_seconds'), 'event-loop lag');
    assert.ok(s.some((x) => x.name === 'process_cpu_user_seconds_total'), 'process metrics');
    assert.ok(s.some((x) => x.name === 'process_resident_memory_bytes'), 'process memory');

    // A neighbour removed from the configuration disappears from the next scrape.
    view.neighborsList = [NEIGHBORS[0]!];
    const s2 = parse(await (await fetch(`${server.url}/metrics`)).text());
    assert.equal(value(s2, 'tsbgp_session_up', P2), undefined);
    assert.equal(value(s2, 'tsbgp_session_up', P1), 1);
    assert.equal(value(s2, 'tsbgp_messages_received_total', { ...P1, type: 'update' }), 5, 'snapshot counters are not added up twice');
  } finally {
    await server.close();
    metrics.close();
  }
  assert.equal(view.subscribers, 0, 'close() unsubscribes');
});

test('health endpoints follow the callback; unknown paths 404, other methods 405', async () => {
  let health: Health = { live: true, ready: false, reasons: ['configuration not loaded yet'] };
  const metrics = new Metrics(new FakeView(), { defaultMetrics: false });
  const server = await startMetricsServer({ address: '127.0.0.1:0', metrics, health: () => health });
  try {
    let r = await fetch(`${server.url}/healthz`);
    assert.deepEqual([r.status, await r.text()], [200, 'ok\n']);
    r = await fetch(`${server.url}/readyz`);
    assert.deepEqual([r.status, await r.text()], [503, 'configuration not loaded yet\n']);
    health = { live: true, ready: true };
    r = await fetch(`${server.url}/readyz`);
    assert.deepEqual([r.status, await r.text()], [200, 'ok\n']);
    health = { live: false, ready: true };
    r = await fetch(`${server.url}/healthz`);
    assert.equal(r.status, 503);
    r = await fetch(`${server.url}/nope`);
    assert.equal(r.status, 404);
    await r.text();
    r = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(r.status, 405);
    await r.text();
    r = await fetch(`${server.url}/metrics`);
    assert.ok(!(await r.text()).includes('nodejs_'), 'default metrics off');
  } finally {
    await server.close();
    metrics.close();
  }
});

test('the load before the metrics existed (tsbgpd start) is counted once, with its result and time', async () => {
  const start = { files: [], applied: null, appliedAge: 0, lastReload: { age: 5, ok: true, trigger: 'start', errors: [], warnings: [], changes: [] } };
  const view = new FakeView();
  const source = { global: () => view.global(), neighbors: () => view.neighbors(), subscribe: (l: Parameters<FakeView['subscribe']>[0]) => view.subscribe(l), config: () => start };
  const metrics = new Metrics(source, { defaultMetrics: false });
  try {
    let s = parse(await metrics.text());
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'success' }), 1, 'the start counts as a load');
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'failure' }), 0);
    assert.equal(value(s, 'tsbgp_config_last_reload_successful', {}), 1);
    const ts = value(s, 'tsbgp_config_last_reload_timestamp_seconds', {})!;
    assert.ok(Math.abs(ts - (Date.now() / 1000 - 5)) < 3, `timestamp ${ts}`);
    view.emit({ type: 'config-reload', time: '2026-01-02T03:04:05.000Z', ok: false, trigger: 'SIGHUP', errors: [], changes: [] });
    s = parse(await metrics.text());
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'success' }), 1);
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'failure' }), 1);
    assert.equal(value(s, 'tsbgp_config_last_reload_successful', {}), 0);
    assert.equal(value(s, 'tsbgp_config_last_reload_timestamp_seconds', {}), Date.parse('2026-01-02T03:04:05.000Z') / 1000);
  } finally {
    metrics.close();
  }

  // An async config view that answers after a reload event: that event is the last load, not counted twice.
  let answer: (v: typeof start) => void = () => undefined;
  const late = new Promise<typeof start>((resolve) => (answer = resolve));
  const view2 = new FakeView();
  const m2 = new Metrics({ global: () => view2.global(), neighbors: () => view2.neighbors(), subscribe: (l) => view2.subscribe(l), config: () => late }, { defaultMetrics: false });
  try {
    view2.emit({ type: 'config-reload', time: 't', ok: true, trigger: 'SIGHUP', errors: [], changes: [] });
    answer(start);
    await late;
    await new Promise((r) => setImmediate(r));
    const s = parse(await m2.text());
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'success' }), 1);
  } finally {
    m2.close();
  }

  // No load yet (or no config view): nothing counted, both results present at 0.
  const m3 = new Metrics({ global: () => view.global(), neighbors: () => view.neighbors() }, { defaultMetrics: false });
  try {
    const s = parse(await m3.text());
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'success' }), 0);
    assert.equal(value(s, 'tsbgp_config_reloads_total', { result: 'failure' }), 0);
  } finally {
    m3.close();
  }
});

test('listen addresses', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9179'), { host: '127.0.0.1', port: 9179 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress(':9179'), { host: '::', port: 9179 });
  assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  for (const bad of ['9179', '127.0.0.1', '1.2.3.4:70000', '::1:80', 'host:port']) {
    assert.throws(() => parseListenAddress(bad), /invalid metrics address .*expected HOST:PORT, \[IPv6\]:PORT or :PORT/, bad);
  }
});
