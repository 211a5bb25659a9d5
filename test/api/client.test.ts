// The client against the real server on a temp socket (FakeView behind it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiCallError, connect, DaemonNotRunningError } from '../../src/api/client.js';
import { FakeView, NEIGHBORS } from './fake-view.js';
import { startServer } from './helpers.js';

test('no socket: DaemonNotRunningError with the socket path and how to start the daemon', async () => {
  const path = join(tmpdir(), `tsbgp-none-${process.pid}.sock`);
  const err = await connect({ socketPath: path }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof DaemonNotRunningError);
  assert.equal(err.message, `tsbgpd is not running (no socket at ${path}); start it with: tsbgpd --config FILE --api-socket ${path}`);
});

test('stale socket (nobody listening): DaemonNotRunningError too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-api-'));
  try {
    const path = join(dir, 's.sock');
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    await assert.rejects(connect({ socketPath: path }), (e: unknown) => e instanceof DaemonNotRunningError && /nothing listens on .*stale socket/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('call: results, and ApiCallError with the server code', async () => {
  const r = await startServer(new FakeView());
  const c = await connect({ socketPath: r.path });
  try {
    assert.deepEqual(await c.call('neighbors'), NEIGHBORS);
    const [g, n] = await Promise.all([c.call('global'), c.call('neighbors', { address: '10.0.255.2' })]);
    assert.equal(g.nodeName, 'node-1');
    assert.equal(n[0]!.address, '10.0.255.2');
    await assert.rejects(c.call('reset', { address: '192.0.2.1' }), (e: unknown) => e instanceof ApiCallError && e.code === 'ENOENT_NEIGHBOR' && e.message === 'no neighbor 192.0.2.1');
  } finally {
    c.close();
    await r.stop();
  }
});

test('stream: items in order with a summary; an early break cancels the server side', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  const c = await connect({ socketPath: r.path });
  try {
    const s = c.stream('rib', { afi: 'ipv4' });
    const prefixes: string[] = [];
    for await (const e of s) prefixes.push(e.prefix);
    assert.deepEqual(prefixes, ['10.3.0.0/16', '10.4.0.0/24']);
    assert.deepEqual(await s.summary, { count: 2, limited: false, cancelled: false });

    const bad = c.stream('rib', { afi: 'ipv9' as 'ipv4' });
    await assert.rejects(
      (async () => {
        for await (const _ of bad) assert.fail('no items expected');
      })(),
      (e: unknown) => e instanceof ApiCallError && e.code === 'EINVALID_PARAMS',
    );

    view.bigRib = 50_000;
    const big = c.stream('rib');
    let n = 0;
    for await (const _ of big) {
      if (++n === 10) break;
    }
    const summary = await big.summary;
    assert.equal(summary.cancelled, true);
    assert.ok(view.produced < 50_000, `server stopped early (${view.produced} produced)`);
    // The connection is still usable.
    assert.equal((await c.call('global')).pid, 4242);
  } finally {
    c.close();
    await r.stop();
  }
});

test('stream: 100k rows through a slow consumer without the client buffering them all', async () => {
  const view = new FakeView();
  view.bigRib = 100_000;
  const r = await startServer(view);
  const c = await connect({ socketPath: r.path });
  try {
    const s = c.stream('rib');
    let n = 0;
    let maxAhead = 0;
    for await (const e of s) {
      n++;
      if (n === 1) {
        // Stall the consumer: the client pauses its socket, the server stops producing.
        await sleep(300);
        maxAhead = view.produced - n;
      }
      assert.equal(e.paths.length, 1);
    }
    assert.equal(n, 100_000);
    assert.ok(maxAhead < 20_000, `${maxAhead} rows produced ahead of a stalled consumer`);
    assert.equal((await s.summary).count, 100_000);
  } finally {
    c.close();
    await r.stop();
  }
});

test('monitor: ready, events, cancel; a daemon restart ends the stream with an error', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  const c = await connect({ socketPath: r.path });
  try {
    const s = c.stream('monitor');
    await s.ready;
    view.emit({ type: 'admin', time: 't', instance: 'vr-65001', neighbor: '10.0.255.1', action: 'shutdown', message: 'bye' });
    const it = s[Symbol.asyncIterator]();
    const first = await it.next();
    assert.deepEqual(first.value, { type: 'admin', time: 't', instance: 'vr-65001', neighbor: '10.0.255.1', action: 'shutdown', message: 'bye' });
    s.cancel();
    const end = await it.next();
    assert.equal(end.done, true);
    assert.deepEqual(await s.summary, { count: 0, limited: false, cancelled: true });

    const s2 = c.stream('monitor');
    await s2.ready;
    await r.server.close();
    await assert.rejects(s2.summary, /connection to tsbgpd closed/);
  } finally {
    c.close();
    await r.stop();
  }
});
