// Real sockets on loopback (127.0.0.1, 127.0.0.2, ::1). None of this needs root:
// TCP_MD5SIG, IP_TTL and IP_MINTTL are unprivileged on Linux.
// Failed handshakes (wrong key, TTL below GTSM) show as connect timeouts: the
// kernel drops the SYN silently, so each such case costs FAIL_MS; they run in parallel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { inspect } from 'node:util';
import {
  BgpListener,
  connectPeer,
  getSocketMinTtl,
  getSocketTtl,
  ipFamily,
  normaliseAddress,
  setSocketTtl,
  TransportError,
  whenDrained,
  write,
  type ConnectOptions,
} from '../../src/session/transport.js';
import {
  loadNativeSocket,
  nativeSocketStatus,
  NativeUnavailableError,
  type NativeLoader,
} from '../../src/session/native-socket.js';

const FAIL_MS = 1500;
const SECRET = 'S3cr3t-p4ssw0rd-xyzzy';

const failingLoader: NativeLoader = () => {
  throw new NativeUnavailableError('injected: addon not built');
};

/** A listener that remembers every accepted socket so cleanup can close them. */
async function startListener(
  address: string,
  setup: (l: BgpListener) => void = () => {},
  loader?: NativeLoader,
): Promise<{ l: BgpListener; port: number; accepted: { socket: net.Socket; remote: string }[]; stop: () => Promise<void> }> {
  const l = loader ? new BgpListener(loader) : new BgpListener();
  const accepted: { socket: net.Socket; remote: string }[] = [];
  l.on('connection', (socket, remote) => {
    accepted.push({ socket, remote });
    socket.on('error', () => {});
  });
  l.on('error', (err) => assert.fail(err));
  setup(l);
  const addr = await l.listen({ address, port: 0 });
  const stop = async (): Promise<void> => {
    for (const a of accepted) a.socket.destroy();
    await l.close();
  };
  return { l, port: addr.port, accepted, stop };
}

/** 'ok' (and the socket is closed) or the error's code. */
async function outcome(opts: ConnectOptions): Promise<string> {
  try {
    const s = await connectPeer({ timeoutMs: FAIL_MS, ...opts });
    s.destroy();
    return 'ok';
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

function once<T>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (v: T) => resolve(v)));
}

test('the native addon is built and loads', () => {
  const status = nativeSocketStatus();
  assert.deepEqual(status, { available: true }, 'run `npm run build:native`');
  const n = loadNativeSocket();
  const fd4 = n.socket(4);
  const fd6 = n.socket(6);
  assert.equal(n.family(fd4), 4);
  assert.equal(n.family(fd6), 6);
  n.close(fd4);
  n.close(fd6);
});

test('ipFamily and normaliseAddress', () => {
  assert.equal(ipFamily('192.0.2.1'), 4);
  assert.equal(ipFamily('2001:db8::1'), 6);
  assert.equal(ipFamily('fe80::1%eth0'), 6);
  assert.throws(() => ipFamily('router.example'), { code: 'ERR_TSBGP_INVALID_ADDRESS' });
  assert.throws(() => ipFamily('192.0.2.1%eth0'), { code: 'ERR_TSBGP_INVALID_ADDRESS' });
  assert.equal(normaliseAddress('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(normaliseAddress('::FFFF:10.0.0.1'), '10.0.0.1');
  assert.equal(normaliseAddress('2001:db8::1'), '2001:db8::1');
});

test('connect and accept over IPv4 and IPv6, bytes flow both ways', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const srv = await startListener(host);
    try {
      const got = once<[net.Socket, string]>(srv.l, 'connection');
      const c = await connectPeer({ peerAddress: host, peerPort: srv.port, timeoutMs: 5000 });
      await got;
      const server = srv.accepted[0]!;
      assert.equal(server.remote, host);
      assert.equal(c.remotePort, srv.port);
      const toServer = once<Buffer>(server.socket, 'data');
      c.write('open');
      assert.equal((await toServer).toString(), 'open');
      const toClient = once<Buffer>(c, 'data');
      server.socket.write('keepalive');
      assert.equal((await toClient).toString(), 'keepalive');
      c.destroy();
    } finally {
      await srv.stop();
    }
  }
});

test('an fd-created socket (TTL set) exchanges data in both directions on IPv4 and IPv6', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const srv = await startListener(host);
    try {
      const got = once<[net.Socket, string]>(srv.l, 'connection');
      const c = await connectPeer({ peerAddress: host, peerPort: srv.port, ttl: 64, timeoutMs: 5000 });
      await got;
      const server = srv.accepted[0]!.socket;
      const toClient = once<Buffer>(c, 'data');
      server.write('hello');
      assert.equal((await toClient).toString(), 'hello');
      const toServer = once<Buffer>(server, 'data');
      c.write('back');
      assert.equal((await toServer).toString(), 'back');
      const ended = once<void>(server, 'end');
      c.end();
      await ended;
      c.destroy();
    } finally {
      await srv.stop();
    }
  }
});

test('local address binding: plain and through the addon', async () => {
  const srv = await startListener('0.0.0.0');
  try {
    const plain = await connectPeer({ peerAddress: '127.0.0.1', peerPort: srv.port, localAddress: '127.0.0.2' });
    assert.equal(plain.localAddress, '127.0.0.2');
    const viaNative = await connectPeer({
      peerAddress: '127.0.0.1',
      peerPort: srv.port,
      localAddress: '127.0.0.2',
      ttl: 2,
    });
    assert.equal(viaNative.localAddress, '127.0.0.2');
    while (srv.accepted.length < 2) await once(srv.l, 'connection');
    assert.deepEqual(
      srv.accepted.map((a) => a.remote),
      ['127.0.0.2', '127.0.0.2'],
    );
    assert.deepEqual(
      srv.accepted.map((a) => a.socket.remotePort).sort(),
      [plain.localPort, viaNative.localPort].sort(),
    );
    plain.destroy();
    viaNative.destroy();
  } finally {
    await srv.stop();
  }
});

test('TTL and minimum TTL set before connect are on the socket', async () => {
  for (const host of ['127.0.0.1', '::1']) {
    const srv = await startListener(host);
    try {
      const c = await connectPeer({ peerAddress: host, peerPort: srv.port, ttl: 7, minTtl: 3 });
      assert.equal(getSocketTtl(c), 7);
      assert.equal(getSocketMinTtl(c), 3);
      setSocketTtl(c, 200);
      assert.equal(getSocketTtl(c), 200);
      c.destroy();
    } finally {
      await srv.stop();
    }
  }
});

test('GTSM: a listener with minimum TTL 255 takes a SYN sent with TTL 255, drops TTL 1 (IPv4, IPv6)', async () => {
  // Loopback delivers packets with the TTL they were sent with, so this proves the
  // TTL was in force for the SYN itself.
  const inherited: number[] = [];
  const v4 = await startListener('127.0.0.1', (l) => {
    l.setMinTtl(255);
    l.on('connection', (s) => inherited.push(getSocketMinTtl(s)));
  });
  const v6 = await startListener('::1', (l) => l.setMinTtl(255));
  try {
    const results = await Promise.all([
      outcome({ peerAddress: '127.0.0.1', peerPort: v4.port, ttl: 255 }),
      outcome({ peerAddress: '127.0.0.1', peerPort: v4.port, ttl: 1 }),
      outcome({ peerAddress: '::1', peerPort: v6.port, ttl: 255 }),
      outcome({ peerAddress: '::1', peerPort: v6.port, ttl: 254 }),
    ]);
    assert.deepEqual(results, ['ok', 'ERR_TSBGP_CONNECT_TIMEOUT', 'ok', 'ERR_TSBGP_CONNECT_TIMEOUT']);
    assert.equal(v4.accepted.length, 1);
    assert.equal(v6.accepted.length, 1);
    // Accepted sockets inherit the listener's GTSM setting.
    assert.deepEqual(inherited, [255]);
  } finally {
    await v4.stop();
    await v6.stop();
  }
});

test('MD5: the right key connects; a wrong key or no key does not (IPv4 and IPv6)', async () => {
  const v4 = await startListener('127.0.0.1', (l) => l.setPeerKey('127.0.0.1', SECRET));
  const v6 = await startListener('::1', (l) => l.setPeerKey('::1', SECRET));
  try {
    const results = await Promise.all([
      outcome({ peerAddress: '127.0.0.1', peerPort: v4.port, md5Password: SECRET }),
      outcome({ peerAddress: '127.0.0.1', peerPort: v4.port, md5Password: 'not-the-key' }),
      outcome({ peerAddress: '127.0.0.1', peerPort: v4.port }),
      outcome({ peerAddress: '::1', peerPort: v6.port, md5Password: SECRET }),
      outcome({ peerAddress: '::1', peerPort: v6.port, md5Password: 'not-the-key' }),
      outcome({ peerAddress: '::1', peerPort: v6.port }),
    ]);
    assert.deepEqual(results, [
      'ok',
      'ERR_TSBGP_CONNECT_TIMEOUT',
      'ERR_TSBGP_CONNECT_TIMEOUT',
      'ok',
      'ERR_TSBGP_CONNECT_TIMEOUT',
      'ERR_TSBGP_CONNECT_TIMEOUT',
    ]);
    assert.equal(v4.accepted.length, 1);
    assert.equal(v6.accepted.length, 1);
  } finally {
    await v4.stop();
    await v6.stop();
  }
});

test('MD5 on a dual-stack listener: an IPv4 peer key is matched for IPv4 clients', async () => {
  const srv = await startListener('::', (l) => l.setPeerKey('127.0.0.1', SECRET));
  try {
    const results = await Promise.all([
      outcome({ peerAddress: '127.0.0.1', peerPort: srv.port, md5Password: SECRET }),
      outcome({ peerAddress: '127.0.0.1', peerPort: srv.port }),
      // No key for ::1, so an unsigned IPv6 client is still welcome.
      outcome({ peerAddress: '::1', peerPort: srv.port }),
    ]);
    assert.deepEqual(results, ['ok', 'ERR_TSBGP_CONNECT_TIMEOUT', 'ok']);
    assert.deepEqual(srv.accepted.map((a) => a.remote).sort(), ['127.0.0.1', '::1']);
  } finally {
    await srv.stop();
  }
});

test('MD5 keys can be added, changed and removed while listening', async () => {
  const srv = await startListener('127.0.0.1');
  try {
    assert.equal(await outcome({ peerAddress: '127.0.0.1', peerPort: srv.port }), 'ok');
    srv.l.setPeerKey('127.0.0.1', 'first-key');
    srv.l.setPeerKey('127.0.0.1', SECRET); // replaces
    const afterAdd = await Promise.all([
      outcome({ peerAddress: '127.0.0.1', peerPort: srv.port }),
      outcome({ peerAddress: '127.0.0.1', peerPort: srv.port, md5Password: 'first-key' }),
      outcome({ peerAddress: '127.0.0.1', peerPort: srv.port, md5Password: SECRET }),
    ]);
    assert.deepEqual(afterAdd, ['ERR_TSBGP_CONNECT_TIMEOUT', 'ERR_TSBGP_CONNECT_TIMEOUT', 'ok']);
    srv.l.setPeerKey('127.0.0.1', undefined);
    srv.l.setPeerKey('127.0.0.1', undefined); // removing twice is fine
    assert.equal(await outcome({ peerAddress: '127.0.0.1', peerPort: srv.port }), 'ok');
    assert.equal(srv.accepted.length, 3);
  } finally {
    await srv.stop();
  }
});

test('the addon reports errno names: ENOENT for a missing key, key too long, bad address', () => {
  const n = loadNativeSocket();
  const fd = n.socket(4);
  try {
    assert.throws(() => n.setMd5(fd, '127.0.0.1'), (e: Error & { code?: string; syscall?: string; errno?: number }) => {
      assert.equal(e.code, 'ENOENT');
      assert.equal(e.syscall, 'setsockopt');
      assert.equal(e.errno, -2);
      assert.match(e.message, /no TCP MD5 key to remove for peer 127\.0\.0\.1/);
      return true;
    });
    assert.throws(() => n.setMd5(fd, '127.0.0.1', Buffer.alloc(81, 0x41)), {
      code: 'ERR_TSBGP_MD5_KEY_TOO_LONG',
      message: /81 bytes, at most 80/,
    });
    n.setMd5(fd, '127.0.0.1', Buffer.alloc(80, 0x41)); // the limit itself is accepted
    n.setMd5(fd, '127.0.0.1');
    assert.throws(() => n.setMd5(fd, '::1', Buffer.from('k')), { code: 'EAFNOSUPPORT' });
    assert.throws(() => n.setMd5(fd, 'nonsense', Buffer.from('k')), { code: 'EINVAL' });
    assert.throws(() => n.setTtl(fd, 0), RangeError);
    assert.throws(() => n.setTtl(fd, 256), RangeError);
    assert.throws(() => n.setMinTtl(fd, -1), RangeError);
    n.setTtl(fd, 1);
    assert.equal(n.getTtl(fd), 1);
    n.setTtl(fd, -1); // back to the system default
    assert.notEqual(n.getTtl(fd), 1);
  } finally {
    n.close(fd);
  }
  assert.throws(() => n.family(fd), { code: 'EBADF' });
});

test('connect errors: refused, timeout, abort, bind failure; no fd is leaked', async () => {
  const srv = await startListener('127.0.0.1');
  const port = srv.port;
  await srv.stop(); // now nothing listens there
  const before = openFds();
  assert.equal(await outcome({ peerAddress: '127.0.0.1', peerPort: port, ttl: 64 }), 'ECONNREFUSED');
  assert.equal(await outcome({ peerAddress: '127.0.0.1', peerPort: port }), 'ECONNREFUSED');
  // 192.0.2.1 (TEST-NET-1) is not on this host, so bind fails before any packet is sent.
  assert.equal(
    await outcome({ peerAddress: '127.0.0.1', peerPort: port, localAddress: '192.0.2.1', ttl: 64 }),
    'EADDRNOTAVAIL',
  );
  await assert.rejects(connectPeer({ peerAddress: 'bgp.example', peerPort: port }), {
    code: 'ERR_TSBGP_INVALID_ADDRESS',
  });
  await assert.rejects(connectPeer({ peerAddress: '127.0.0.1', peerPort: port, localAddress: '::1' }), {
    code: 'ERR_TSBGP_INVALID_ADDRESS',
  });

  // A keyed listener silently drops an unsigned SYN: abort ends the wait early.
  const keyed = await startListener('127.0.0.1', (l) => l.setPeerKey('127.0.0.1', SECRET));
  try {
    const ac = new AbortController();
    const started = Date.now();
    const p = connectPeer({ peerAddress: '127.0.0.1', peerPort: keyed.port, timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, { code: 'ERR_TSBGP_CONNECT_ABORTED' });
    assert.ok(Date.now() - started < 2000);
    await assert.rejects(connectPeer({ peerAddress: '127.0.0.1', peerPort: keyed.port, signal: ac.signal }), {
      code: 'ERR_TSBGP_CONNECT_ABORTED',
    });
  } finally {
    await keyed.stop();
  }
  // Destroyed sockets give their fd back on a later tick.
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(openFds(), before);
});

test('without the addon: MD5/TTL sessions are refused with ERR_TSBGP_NATIVE_UNAVAILABLE, plain ones work', async () => {
  const status = nativeSocketStatus(failingLoader);
  assert.equal(status.available, false);
  assert.ok(!status.available && status.reason.includes('injected'));

  for (const extra of [{ md5Password: SECRET }, { ttl: 1 }, { minTtl: 254 }] as const) {
    await assert.rejects(connectPeer({ peerAddress: '127.0.0.1', peerPort: 1, ...extra }, failingLoader), (e: Error) => {
      assert.ok(e instanceof NativeUnavailableError);
      assert.equal((e as NativeUnavailableError).code, 'ERR_TSBGP_NATIVE_UNAVAILABLE');
      assert.match(e.message, /needs the native socket addon/);
      return true;
    });
  }
  // A loader that fails with something unexpected is reported the same way.
  const weird: NativeLoader = () => {
    throw new Error('dlopen: bad ELF');
  };
  await assert.rejects(connectPeer({ peerAddress: '127.0.0.1', peerPort: 1, ttl: 1 }, weird), {
    code: 'ERR_TSBGP_NATIVE_UNAVAILABLE',
  });

  const keyedListener = new BgpListener(failingLoader);
  assert.throws(() => keyedListener.setPeerKey('127.0.0.1', SECRET), { code: 'ERR_TSBGP_NATIVE_UNAVAILABLE' });
  assert.throws(() => keyedListener.setMinTtl(255), { code: 'ERR_TSBGP_NATIVE_UNAVAILABLE' });
  keyedListener.setPeerKey('127.0.0.1', undefined); // removing nothing needs nothing

  // Plain listener and plain connect fall back to Node's own sockets.
  const srv = await startListener('127.0.0.1', undefined, failingLoader);
  try {
    const c = await connectPeer({ peerAddress: '127.0.0.1', peerPort: srv.port }, failingLoader);
    while (srv.accepted.length < 1) await once(srv.l, 'connection');
    assert.equal(srv.accepted[0]!.remote, '127.0.0.1');
    c.destroy();
    // And the listener still refuses to take a key it cannot install.
    assert.throws(() => srv.l.setPeerKey('127.0.0.1', SECRET), { code: 'ERR_TSBGP_NATIVE_UNAVAILABLE' });
  } finally {
    await srv.stop();
  }
});

test('a password never appears in error text', async () => {
  const texts: string[] = [];
  const collect = (e: unknown): void => {
    texts.push(String(e), (e as Error).stack ?? '', inspect(e, { depth: 5 }), JSON.stringify(e));
  };
  const capture = async (p: Promise<unknown>): Promise<void> => {
    try {
      await p;
      assert.fail('expected a rejection');
    } catch (e) {
      collect(e);
    }
  };
  const tooLong = SECRET.repeat(5); // 105 bytes
  await capture(connectPeer({ peerAddress: '127.0.0.1', peerPort: 1, md5Password: tooLong }));
  await capture(connectPeer({ peerAddress: '127.0.0.1', peerPort: 1, md5Password: SECRET }, failingLoader));
  await capture(connectPeer({ peerAddress: 'nonsense', peerPort: 1, md5Password: SECRET }));
  await capture(connectPeer({ peerAddress: '127.0.0.1', peerPort: 1, md5Password: SECRET, localAddress: '192.0.2.1' }));
  const keyed = await startListener('127.0.0.1', (l) => l.setPeerKey('127.0.0.1', 'other'));
  try {
    await capture(connectPeer({ peerAddress: '127.0.0.1', peerPort: keyed.port, md5Password: SECRET, timeoutMs: 200 }));
    try {
      keyed.l.setPeerKey('127.0.0.1', tooLong);
    } catch (e) {
      collect(e);
    }
  } finally {
    await keyed.stop();
  }
  const n = loadNativeSocket();
  const fd = n.socket(4);
  for (const call of [
    () => n.setMd5(fd, '127.0.0.1', Buffer.from(tooLong)),
    () => n.setMd5(fd, '::1', Buffer.from(SECRET)),
    () => n.setMd5(fd, 'x'.repeat(200), Buffer.from(SECRET)),
  ]) {
    try {
      call();
    } catch (e) {
      collect(e);
    }
  }
  n.close(fd);
  assert.equal(texts.length, 9 * 4, 'every case threw');
  const codes = texts.filter((_, i) => i % 4 === 0);
  assert.ok(codes.some((t) => t.includes('1 to 80 bytes, got 105')), codes.join('\n'));
  assert.ok(codes.some((t) => t.includes('timed out')), codes.join('\n'));
  for (const t of texts) {
    assert.ok(!t.includes(SECRET) && !t.includes('S3cr3t'), `password leaked into: ${t}`);
  }
});

test('backpressure: write() says false when the peer stops reading, whenDrained() waits for it', async () => {
  const srv = await startListener('127.0.0.1');
  try {
    const c = await connectPeer({ peerAddress: '127.0.0.1', peerPort: srv.port, ttl: 64 });
    while (srv.accepted.length < 1) await once(srv.l, 'connection');
    const server = srv.accepted[0]!.socket;
    server.pause(); // a slow peer
    let received = 0;
    server.on('data', (d: Buffer) => (received += d.length));

    const chunk = Buffer.alloc(4096, 0xff); // a full-size BGP message
    let sent = 0;
    let accepted = true;
    while (accepted && sent < 256 * 1024 * 1024) {
      accepted = write(c, chunk);
      sent += chunk.length;
    }
    assert.equal(accepted, false, 'the buffers filled up');
    assert.equal(c.writableNeedDrain, true);

    let drained = false;
    const d = whenDrained(c).then(() => (drained = true));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(drained, false, 'no drain while the peer does not read');

    server.resume();
    await d;
    assert.equal(c.destroyed, false);
    assert.equal(write(c, chunk), true);
    sent += chunk.length;
    while (received < sent) await once(server, 'data');
    assert.equal(received, sent);

    c.destroy();
    assert.equal(write(c, chunk), false, 'a closed socket takes nothing');
    await whenDrained(c); // resolves at once
  } finally {
    await srv.stop();
  }
});

test('TransportError carries a stable code', () => {
  const e = new TransportError('ERR_TSBGP_CONNECT_TIMEOUT', 'x');
  assert.equal(e.code, 'ERR_TSBGP_CONNECT_TIMEOUT');
  assert.equal(e.name, 'TransportError');
  assert.ok(e instanceof Error);
});
