// The API server over a real Unix socket, driven line by line. The daemon side is a
// FakeView (test/api/fake-view.ts); the real daemon's view is tested end-to-end elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiServer } from '../../src/api/server.js';
import { silentLogger, subsystemLogger } from '../../src/observability/log.js';
import { FakeView, neighbor, NEIGHBORS, SECRET } from './fake-view.js';
import { RawConn, startServer } from './helpers.js';

function errorOf(m: Record<string, unknown>): { code: string; message: string } {
  assert.ok('error' in m, `expected an error line, got ${JSON.stringify(m)}`);
  return m['error'] as { code: string; message: string };
}

test('socket: directory created 0755, socket file 0600, removed on close', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  try {
    const dirMode = statSync(join(r.dir, 'run')).mode & 0o777;
    assert.equal(dirMode, 0o755);
    const st = statSync(r.path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
  } finally {
    await r.server.close();
  }
  assert.equal(existsSync(r.path), false, 'socket file removed');
  rmSync(r.dir, { recursive: true, force: true });
});

test('socket: a group makes it 0660 and group-owned', { skip: process.getuid?.() !== 0 ? 'needs root to chown' : false }, async () => {
  const r = await startServer(new FakeView(), { group: 65534 });
  try {
    const st = statSync(r.path);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.gid, 65534);
  } finally {
    await r.stop();
  }
});

test('socket: a stale socket is replaced, a live one or a regular file is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-api-'));
  try {
    const path = join(dir, 'tsbgpd.sock');
    // A daemon killed with SIGKILL leaves its socket file behind.
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // While it lives, a second server must not steal the path.
    await assert.rejects(new ApiServer(new FakeView(), { socketPath: path }).listen(), /another process is serving/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.ok(existsSync(path), 'stale socket left behind');
    const s = new ApiServer(new FakeView(), { socketPath: path });
    await s.listen();
    const c = await RawConn.open(path);
    const m = await c.request(1, 'global');
    assert.equal((m['result'] as { nodeName: string }).nodeName, 'node-1');
    c.close();
    await s.close();

    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'precious');
    await assert.rejects(new ApiServer(new FakeView(), { socketPath: file }).listen(), /is not a socket/);
    assert.ok(existsSync(file), 'regular file untouched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unary methods: global, neighbors (filters), config (redacted)', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  const c = await RawConn.open(r.path);
  try {
    const g = await c.request(1, 'global');
    assert.deepEqual(g, { id: 1, result: view.global() });

    const all = await c.request(2, 'neighbors');
    assert.deepEqual(all['result'], NEIGHBORS);

    const one = await c.request('x', 'neighbors', { address: '10.0.255.2' });
    assert.equal(one.id, 'x');
    assert.deepEqual((one['result'] as { address: string }[]).map((n) => n.address), ['10.0.255.2']);

    const none = await c.request(3, 'neighbors', { address: '10.9.9.9' });
    assert.deepEqual(errorOf(none), { code: 'ENOENT_NEIGHBOR', message: 'no neighbor 10.9.9.9' });

    const badInst = await c.request(4, 'neighbors', { instance: 'vr-9' });
    assert.equal(errorOf(badInst).code, 'ENOENT_INSTANCE');
    assert.match(errorOf(badInst).message, /no instance "vr-9"; instances: vr-65001/);

    const cfg = await c.request(5, 'config');
    const text = JSON.stringify(cfg);
    assert.ok(!text.includes(SECRET), 'no secret in the config answer');
    const peer = (cfg['result'] as { applied: { instances: { peers: { md5Password: string; auth: { password: string } }[] }[] } }).applied.instances[0]!.peers[0]!;
    assert.equal(peer.md5Password, '<redacted>');
    assert.equal(peer.auth.password, '<redacted>');
    assert.equal((cfg['result'] as { lastReload: { ok: boolean } }).lastReload.ok, false);
  } finally {
    c.close();
    await r.stop();
  }
});

test('neighbor addresses are canonicalised; IPv6 matches whatever spelling the client uses', async () => {
  const view = new FakeView();
  view.neighborsList = [neighbor({ address: '2001:db8::1' })];
  const r = await startServer(view);
  const c = await RawConn.open(r.path);
  try {
    const m = await c.request(1, 'neighbors', { address: '2001:0DB8:0:0::0001' });
    assert.deepEqual((m['result'] as { address: string }[]).map((n) => n.address), ['2001:db8::1']);
    const bad = await c.request(2, 'neighbors', { address: '10.0.0.256' });
    assert.equal(errorOf(bad).code, 'EINVALID_PARAMS');
    assert.match(errorOf(bad).message, /"address" must be an IPv4 or IPv6 address, got "10\.0\.0\.256"/);
  } finally {
    c.close();
    await r.stop();
  }
});

test('rib: items then done; the daemon gets a normalised query; limit stops the generator', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  const c = await RawConn.open(r.path);
  try {
    const all = await c.collect(1, 'rib');
    assert.deepEqual(all.items, view.ribEntries);
    assert.deepEqual(all.end, { id: 1, done: true, count: 3 });
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: null, prefix: null, match: 'exact' });

    const v6 = await c.collect(2, 'rib', { afi: 'ipv6' });
    assert.deepEqual((v6.items as { prefix: string }[]).map((e) => e.prefix), ['2001:db8::/32']);

    // Host bits are cleared; a CIDR means exact match.
    const exact = await c.collect(3, 'rib', { prefix: '10.3.7.1/16' });
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: 'ipv4', prefix: '10.3.0.0/16', match: 'exact' });
    assert.equal(exact.items.length, 1);

    // A bare address asks for the longest match, as a host prefix.
    await c.collect(4, 'rib', { prefix: '10.4.0.9' });
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: 'ipv4', prefix: '10.4.0.9/32', match: 'longest' });
    await c.collect(5, 'rib', { prefix: '2001:DB8::1', instance: 'vr-65001' });
    assert.deepEqual(view.queries.at(-1), { instance: 'vr-65001', afi: 'ipv6', prefix: '2001:db8::1/128', match: 'longest' });

    const mismatch = await c.request(6, 'rib', { prefix: '10.0.0.0/8', afi: 'ipv6' });
    assert.match(errorOf(mismatch).message, /rib: "prefix" 10\.0\.0\.0\/8 is not in family ipv6/);

    const before = view.closedEarly;
    const limited = await c.collect(7, 'rib', { limit: 2 });
    assert.equal(limited.items.length, 2);
    assert.deepEqual(limited.end, { id: 7, done: true, count: 2, limited: true });
    assert.equal(view.closedEarly, before + 1, 'generator closed (return) when the limit stops it');

    const notLimited = await c.collect(8, 'rib', { limit: 3 });
    assert.deepEqual(notLimited.end, { id: 8, done: true, count: 3 });
  } finally {
    c.close();
    await r.stop();
  }
});

test('adjRibIn (sync source), adjRibOut (async source), fib with status filter', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  const c = await RawConn.open(r.path);
  try {
    const adjIn = await c.collect(1, 'adjRibIn', { address: '10.0.255.1', afi: 'ipv4' });
    assert.equal(adjIn.items.length, 2);
    assert.deepEqual(view.queries.at(-1), { neighbor: { instance: 'vr-65001', address: '10.0.255.1' }, afi: 'ipv4' });
    assert.deepEqual((adjIn.items as { accepted: boolean }[]).map((x) => x.accepted), [true, false]);

    const adjOut = await c.collect(2, 'adjRibOut', { address: '10.0.255.2' });
    assert.equal(adjOut.items.length, 3);
    assert.deepEqual(adjOut.end, { id: 2, done: true, count: 3 });

    const missing = await c.request(3, 'adjRibIn', {});
    assert.deepEqual(errorOf(missing), { code: 'EINVALID_PARAMS', message: 'adjRibIn: missing required parameter "address"' });
    const unknown = await c.request(4, 'adjRibOut', { address: '10.0.0.99' });
    assert.equal(errorOf(unknown).code, 'ENOENT_NEIGHBOR');

    const conflicts = await c.collect(5, 'fib', { status: 'conflict' });
    assert.deepEqual((conflicts.items as { prefix: string }[]).map((x) => x.prefix), ['10.4.0.0/24']);
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: null, status: 'conflict', kernel: false });
    const badStatus = await c.request(6, 'fib', { status: 'weird' });
    assert.match(errorOf(badStatus).message, /fib: "status" must be one of installed, pending, conflict, error, unresolved-nexthop, missing, stale, got "weird"/);
    await c.collect(7, 'fib', { kernel: true, afi: 'ipv6' });
    assert.deepEqual(view.queries.at(-1), { instance: null, afi: 'ipv6', status: null, kernel: true }, 'the kernel comparison reaches the daemon');
    const badKernel = await c.request(8, 'fib', { kernel: 'yes' });
    assert.deepEqual(errorOf(badKernel), { code: 'EINVALID_PARAMS', message: 'fib: "kernel" must be true or false, got "yes"' });
  } finally {
    c.close();
    await r.stop();
  }
});

test('actions: reset, softReset in+out, shutdown with message, enable refused by the daemon', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  const c = await RawConn.open(r.path);
  const ref = { instance: 'vr-65001', address: '10.0.255.1' };
  try {
    assert.deepEqual(await c.request(1, 'reset', { address: '10.0.255.1' }), { id: 1, result: { instance: 'vr-65001', neighbor: '10.0.255.1', action: 'reset' } });
    const soft = await c.request(2, 'softReset', { address: '10.0.255.1' });
    assert.deepEqual((soft['result'] as { action: string }[]).map((x) => x.action), ['soft-reset-in', 'soft-reset-out']);
    await c.request(3, 'softReset', { address: '10.0.255.1', direction: 'out' });
    await c.request(4, 'shutdown', { address: '10.0.255.1', message: 'maintenance until 18:00' });
    assert.deepEqual(view.calls, [
      { action: 'reset', ref },
      { action: 'softReset-in', ref },
      { action: 'softReset-out', ref },
      { action: 'softReset-out', ref },
      { action: 'shutdown', ref, arg: 'maintenance until 18:00' },
    ]);

    // RFC 9003: 255 bytes. 128 two-byte characters = 256 bytes.
    const long = await c.request(5, 'shutdown', { address: '10.0.255.1', message: 'é'.repeat(128) });
    assert.equal(errorOf(long).code, 'EINVALID_PARAMS');
    assert.match(errorOf(long).message, /256 bytes of UTF-8; RFC 9003 allows at most 255/);
    assert.equal(view.calls.length, 5, 'nothing called for a refused request');

    const refused = await c.request(6, 'enable', { address: '10.0.255.2' });
    assert.deepEqual(errorOf(refused), { code: 'ENOT_POSSIBLE', message: 'neighbor 10.0.255.2 is not shut down' });

    const dir = await c.request(7, 'softReset', { address: '10.0.255.1', direction: 'sideways' });
    assert.match(errorOf(dir).message, /softReset: "direction" must be one of in, out, both, got "sideways"/);
  } finally {
    c.close();
    await r.stop();
  }
});

test('an address in two instances is ambiguous until the instance is named', async () => {
  const view = new FakeView();
  view.instances = ['a', 'b'];
  view.neighborsList = [neighbor({ address: '10.0.0.1', instance: 'a' }), neighbor({ address: '10.0.0.1', instance: 'b' })];
  const r = await startServer(view);
  const c = await RawConn.open(r.path);
  try {
    const amb = await c.request(1, 'reset', { address: '10.0.0.1' });
    assert.deepEqual(errorOf(amb), { code: 'EAMBIGUOUS_NEIGHBOR', message: 'neighbor 10.0.0.1 exists in instances a, b; say which with "instance"' });
    const ok = await c.request(2, 'reset', { address: '10.0.0.1', instance: 'b' });
    assert.deepEqual(ok['result'], { instance: 'b', neighbor: '10.0.0.1', action: 'reset' });
    assert.deepEqual(view.calls, [{ action: 'reset', ref: { instance: 'b', address: '10.0.0.1' } }]);
  } finally {
    c.close();
    await r.stop();
  }
});

test('monitor: ack, filtered events, cancel ends it and unsubscribes; disconnect unsubscribes', async () => {
  const view = new FakeView();
  const r = await startServer(view);
  const c = await RawConn.open(r.path);
  try {
    c.send({ id: 1, method: 'monitor', params: { types: ['peer-state'] } });
    assert.deepEqual(await c.next(), { id: 1, result: { subscribed: true } });
    assert.equal(view.subscribers, 1);
    const up = { type: 'peer-state', time: '2024-05-01T10:00:00.000Z', instance: 'vr-65001', neighbor: '10.0.255.1', from: 'OpenConfirm', to: 'Established', reason: null } as const;
    view.emit({ type: 'fib', time: '2024-05-01T10:00:01.000Z', instance: 'vr-65001', prefix: '10.0.0.0/8', table: 254, status: 'error', detail: 'x' });
    view.emit(up);
    assert.deepEqual(await c.next(), { id: 1, event: up }, 'the fib event was filtered out');

    assert.deepEqual(await c.request(2, 'cancel', { id: 1 }).then(async (first) => [first, await c.next()]), [
      { id: 1, done: true, count: 0, cancelled: true },
      { id: 2, result: { cancelled: true } },
    ]);
    assert.equal(view.subscribers, 0);
    assert.deepEqual(await c.request(3, 'cancel', { id: 1 }), { id: 3, result: { cancelled: false } });

    c.send({ id: 4, method: 'monitor', params: { neighbor: '10.0.255.2' } });
    await c.next();
    assert.equal(view.subscribers, 1);
    c.close();
    for (let i = 0; i < 50 && view.subscribers > 0; i++) await sleep(10);
    assert.equal(view.subscribers, 0, 'a closed connection unsubscribes');
  } finally {
    c.close();
    await r.stop();
  }
});

test('bad requests get precise errors and the connection keeps serving', async () => {
  const view = new FakeView();
  const r = await startServer(view, { maxLineBytes: 1024 });
  const c = await RawConn.open(r.path);
  try {
    c.send('{"id":1,"method":\n');
    let m = await c.next();
    assert.equal(m.id, null);
    assert.equal(errorOf(m).code, 'EPARSE');
    assert.match(errorOf(m).message, /^request is not valid JSON: /);

    c.send('[1,2]\n');
    assert.deepEqual(errorOf(await c.next()), { code: 'EINVALID_REQUEST', message: 'request must be a JSON object {"id", "method", "params"}' });

    c.send('{"method":"global"}\n');
    m = await c.next();
    assert.equal(m.id, null);
    assert.equal(errorOf(m).code, 'EINVALID_REQUEST');

    m = await c.request(2, 'frobnicate');
    assert.equal(m.id, 2);
    assert.equal(errorOf(m).code, 'EUNKNOWN_METHOD');
    assert.match(errorOf(m).message, /unknown method "frobnicate"; methods: global, neighbors/);

    m = await c.request(3, 'global', { verbose: true });
    assert.deepEqual(errorOf(m), { code: 'EINVALID_PARAMS', message: 'global: unknown parameter "verbose" (it takes no parameters)' });

    m = await c.request(4, 'rib', { afi: 'ipv5' });
    assert.deepEqual(errorOf(m), { code: 'EINVALID_PARAMS', message: 'rib: "afi" must be one of ipv4, ipv6, got "ipv5"' });

    m = await c.request(5, 'rib', { limit: 0 });
    assert.match(errorOf(m).message, /rib: "limit" must be an integer from 1 to/);

    m = await c.request(6, 'neighbors', []);
    assert.deepEqual(errorOf(m), { code: 'EINVALID_PARAMS', message: 'neighbors: "params" must be an object' });

    // A line over the limit: one error, the rest of the line is skipped, the next line works.
    c.send(`{"id":7,"method":"global","params":{"pad":"${'x'.repeat(5000)}"}}\n`);
    m = await c.next();
    assert.deepEqual(m, { id: null, error: { code: 'ETOO_LARGE', message: 'request line longer than 1024 bytes; skipped up to the next newline' } });
    m = await c.request(8, 'global');
    assert.equal((m['result'] as { nodeName: string }).nodeName, 'node-1');

    // The daemon failing is an internal error for this request only.
    view.failNext = new Error('table locked');
    m = await c.request(9, 'neighbors');
    assert.deepEqual(errorOf(m), { code: 'EINTERNAL', message: 'internal error: table locked' });
    m = await c.request(10, 'neighbors');
    assert.ok(Array.isArray(m['result']));

    // Several requests in one write, answered in order.
    c.send('{"id":11,"method":"global"}\n{"id":12,"method":"neighbors","params":{"address":"10.0.255.1"}}\n');
    assert.equal((await c.next()).id, 11);
    assert.equal((await c.next()).id, 12);
  } finally {
    c.close();
    await r.stop();
  }
});

test('limits: duplicate ids, requests in flight, clients', async () => {
  const view = new FakeView();
  const r = await startServer(view, { maxInFlight: 2, maxClients: 2 });
  const c = await RawConn.open(r.path);
  try {
    c.send({ id: 1, method: 'monitor' });
    await c.next();
    const dup = await c.request(1, 'global');
    assert.equal(errorOf(dup).code, 'EDUPLICATE_ID');
    c.send({ id: 2, method: 'monitor' });
    await c.next();
    const busy = await c.request(3, 'global');
    assert.equal(errorOf(busy).code, 'EBUSY');
    // cancel is always accepted, and frees a slot.
    await c.request(4, 'cancel', { id: 2 });
    await c.next();
    const ok = await c.request(5, 'global');
    assert.ok('result' in ok);

    const c2 = await RawConn.open(r.path);
    const c3 = await RawConn.open(r.path);
    const refused = await c3.next();
    assert.equal(errorOf(refused).code, 'EBUSY');
    assert.match(errorOf(refused).message, /too many clients \(2\)/);
    for (let i = 0; i < 50 && !c3.closed; i++) await sleep(10);
    assert.ok(c3.closed, 'the extra client is disconnected');
    assert.ok('result' in (await c2.request(1, 'global')), 'the others still work');
    c2.close();
  } finally {
    c.close();
    await r.stop();
  }
});

test('streaming 100k destinations respects backpressure: a client that does not read stalls the generator', async () => {
  const view = new FakeView();
  view.bigRib = 100_000;
  const r = await startServer(view);
  try {
    const socket = createConnection(r.path);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write('{"id":1,"method":"rib"}\n');
    await sleep(400);
    const whilePaused = view.produced;
    assert.ok(whilePaused > 0, 'the stream started');
    // Each row is ~300 bytes: kernel and stream buffers hold a few thousand at most.
    assert.ok(whilePaused < 20_000, `generator ran ahead of the client: ${whilePaused} rows produced`);
    await sleep(200);
    assert.ok(view.produced - whilePaused < 100, 'no progress while the client does not read');

    let buf = '';
    let items = 0;
    let last = '';
    let done: Record<string, unknown> | undefined;
    socket.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const m = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
          buf = buf.slice(nl + 1);
          if ('item' in m) {
            items++;
            last = (m['item'] as { prefix: string }).prefix;
          } else {
            done = m;
            resolve();
          }
        }
      });
      socket.on('error', reject);
      socket.resume();
    });
    assert.equal(items, 100_000);
    assert.equal(last, '11.134.159.0/24', 'in order, the last one last (99999 = 1*65536 + 134*256 + 159)');
    assert.deepEqual(done, { id: 1, done: true, count: 100_000 });
    socket.destroy();
  } finally {
    await r.stop();
  }
});

test('a client disconnecting mid-stream stops the generator', async () => {
  const view = new FakeView();
  view.bigRib = 100_000;
  const r = await startServer(view);
  try {
    const socket = createConnection(r.path);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.pause();
    socket.write('{"id":1,"method":"rib"}\n');
    await sleep(200);
    socket.destroy();
    for (let i = 0; i < 100 && view.closedEarly === 0; i++) await sleep(10);
    assert.equal(view.closedEarly, 1, 'the generator was closed');
    assert.ok(view.produced < 20_000);
    assert.equal(r.server.clientCount, 0);
  } finally {
    await r.stop();
  }
});

test('close() ends client connections', async () => {
  const r = await startServer(new FakeView());
  const c = await RawConn.open(r.path);
  c.send({ id: 1, method: 'monitor' });
  await c.next();
  await r.stop();
  for (let i = 0; i < 50 && !c.closed; i++) await sleep(10);
  assert.ok(c.closed);
});

test('monitor: a subscriber that does not read loses events, bounded, and is told how many', async () => {
  const view = new FakeView();
  // The daemon's pino logger is an ApiLog.
  const r = await startServer(view, { log: subsystemLogger(silentLogger(), 'api') });
  try {
    const socket = createConnection(r.path);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.setEncoding('utf8');
    let buf = '';
    const lines: Record<string, unknown>[] = [];
    socket.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
    });
    socket.write('{"id":1,"method":"monitor","params":{"types":["admin","events-lost"]}}\n');
    while (view.subscribers === 0) await sleep(5);
    socket.pause();
    const message = 'm'.repeat(200);
    const total = 20_000;
    for (let i = 0; i < total; i++) view.emit({ type: 'admin', time: String(i), instance: 'vr-65001', neighbor: '10.0.255.1', action: 'reset', message });
    socket.resume();
    for (let i = 0; i < 200 && !lines.some((l) => (l['event'] as { type?: string } | undefined)?.type === 'events-lost'); i++) {
      await sleep(10);
      if (i === 50) view.emit({ type: 'admin', time: 'last', instance: 'vr-65001', neighbor: '10.0.255.1', action: 'enable', message: null });
    }
    const events = lines.filter((l) => 'event' in l).map((l) => l['event'] as { type: string; count?: number; time: string });
    const lost = events.find((e) => e.type === 'events-lost');
    assert.ok(lost, 'an events-lost notice');
    const delivered = events.filter((e) => e.type === 'admin').length;
    assert.ok(delivered < total, 'some events were dropped rather than buffered');
    const lostCount = events.filter((e) => e.type === 'events-lost').reduce((n, e) => n + (e.count ?? 0), 0);
    assert.equal(delivered + lostCount, total + (events.some((e) => e.time === 'last') ? 1 : 0), 'every event delivered or counted');
    socket.destroy();
  } finally {
    await r.stop();
  }
});
