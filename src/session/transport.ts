// The only file in session/ that touches sockets: outgoing connects and the
// listener, with TCP MD5 (RFC 2385), TTL / GTSM (RFC 5082) and write backpressure.
// Options that must hold for the SYN are set through the native addon on an fd we
// create, then Node's net.Socket adopts the fd and connects it. When the addon is
// missing, a session that needs MD5 or TTL control is refused, never opened unsigned.
// Passwords are never put into messages.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  loadNativeSocket,
  NativeUnavailableError,
  type NativeLoader,
  type NativeSocket,
} from './native-socket.js';

export { NativeUnavailableError, ERR_NATIVE_UNAVAILABLE, type NativeLoader } from './native-socket.js';

export const TransportErrorCode = {
  CONNECT_TIMEOUT: 'ERR_TSBGP_CONNECT_TIMEOUT',
  CONNECT_ABORTED: 'ERR_TSBGP_CONNECT_ABORTED',
  INVALID_ADDRESS: 'ERR_TSBGP_INVALID_ADDRESS',
  MD5_KEY_INVALID: 'ERR_TSBGP_MD5_KEY_INVALID',
  NO_FD: 'ERR_TSBGP_NO_FD',
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

export class TransportError extends Error {
  readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string) {
    super(message);
    this.name = 'TransportError';
    this.code = code;
  }
}

export const BGP_PORT = 179;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const MD5_MAX_KEY_BYTES = 80; // TCP_MD5SIG_MAXKEYLEN

export interface ConnectOptions {
  peerAddress: string;
  peerPort?: number;
  localAddress?: string;
  localPort?: number;
  /** RFC 2385 password (1..80 bytes of UTF-8); undefined = unsigned session. */
  md5Password?: string;
  /** TTL of our packets (eBGP: 1, multihop up to 255, GTSM: 255). */
  ttl?: number;
  /** GTSM: drop incoming packets whose TTL is below this (RFC 5082: 255 - hops + 1). */
  minTtl?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** 4 or 6 for an IP literal (an IPv6 one may carry %scope); throws otherwise. */
export function ipFamily(address: string): 4 | 6 {
  const pct = address.indexOf('%');
  const host = pct < 0 ? address : address.slice(0, pct);
  const fam = net.isIP(host);
  if (fam === 4 && pct < 0) return 4;
  if (fam === 6) return 6;
  throw new TransportError(TransportErrorCode.INVALID_ADDRESS, `not an IP address: ${JSON.stringify(address)}`);
}

/** '::ffff:192.0.2.1' (an IPv4 peer on a dual-stack socket) → '192.0.2.1'. */
export function normaliseAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

function md5Key(password: string): Buffer {
  const key = Buffer.from(password, 'utf8');
  if (key.length === 0 || key.length > MD5_MAX_KEY_BYTES) {
    key.fill(0);
    throw new TransportError(
      TransportErrorCode.MD5_KEY_INVALID,
      `TCP MD5 password must be 1 to ${MD5_MAX_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  return key;
}

function requireNative(loader: NativeLoader, why: string): NativeSocket {
  try {
    return loader();
  } catch (err) {
    if (err instanceof NativeUnavailableError) {
      throw new NativeUnavailableError(`${why} needs the native socket addon: ${err.message}`, { cause: err });
    }
    throw new NativeUnavailableError(`${why} needs the native socket addon, which failed to load`, { cause: err });
  }
}

function neededFor(o: { md5?: boolean; ttl?: number | undefined; minTtl?: number | undefined }): string | undefined {
  const parts: string[] = [];
  if (o.md5) parts.push('TCP MD5');
  if (o.ttl !== undefined) parts.push('TTL');
  if (o.minTtl !== undefined) parts.push('minimum TTL (GTSM)');
  return parts.length ? parts.join(', ') : undefined;
}

/**
 * Opens a TCP connection to a BGP peer with MD5/TTL/GTSM applied before the SYN.
 * Resolves with a connected socket (TCP_NODELAY set); rejects on error, timeout
 * or abort, leaving nothing open.
 */
export async function connectPeer(opts: ConnectOptions, loader: NativeLoader = loadNativeSocket): Promise<net.Socket> {
  const family = ipFamily(opts.peerAddress);
  if (opts.localAddress !== undefined && ipFamily(opts.localAddress) !== family) {
    throw new TransportError(
      TransportErrorCode.INVALID_ADDRESS,
      `local address ${opts.localAddress} and peer ${opts.peerAddress} are of different families`,
    );
  }
  const port = opts.peerPort ?? BGP_PORT;
  const why = neededFor({ md5: opts.md5Password !== undefined, ttl: opts.ttl, minTtl: opts.minTtl });
  if (opts.signal?.aborted) {
    throw new TransportError(TransportErrorCode.CONNECT_ABORTED, `connect to ${opts.peerAddress} aborted`);
  }

  let socket: net.Socket;
  if (why === undefined) {
    const o: net.TcpNetConnectOpts = { host: opts.peerAddress, port, family };
    if (opts.localAddress !== undefined) o.localAddress = opts.localAddress;
    if (opts.localPort !== undefined) o.localPort = opts.localPort;
    socket = net.connect(o);
  } else {
    const native = requireNative(loader, `a session with ${why}`);
    const key = opts.md5Password === undefined ? undefined : md5Key(opts.md5Password);
    const fd = native.socket(family);
    try {
      if (key !== undefined) native.setMd5(fd, opts.peerAddress, key);
      if (opts.ttl !== undefined) native.setTtl(fd, opts.ttl);
      if (opts.minTtl !== undefined) native.setMinTtl(fd, opts.minTtl);
      if (opts.localAddress !== undefined || opts.localPort !== undefined) {
        native.bind(fd, opts.localAddress ?? (family === 6 ? '::' : '0.0.0.0'), opts.localPort ?? 0);
      }
      // manualStart: do not start reading an fd that is not connected yet; Node
      // starts reading after the connect completes.
      socket = new net.Socket({ fd, manualStart: true } as net.SocketConstructorOpts);
    } catch (err) {
      native.close(fd);
      throw err;
    } finally {
      key?.fill(0);
    }
    socket.connect(port, opts.peerAddress);
  }
  return settleConnect(socket, opts, port);
}

function settleConnect(socket: net.Socket, opts: ConnectOptions, port: number): Promise<net.Socket> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const where = `${opts.peerAddress} port ${port}`;
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      opts.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onConnect = (): void => {
      cleanup();
      socket.setNoDelay(true);
      resolve(socket);
    };
    const onError = (err: Error): void => fail(err);
    const onAbort = (): void =>
      fail(new TransportError(TransportErrorCode.CONNECT_ABORTED, `connect to ${where} aborted`));
    const timer = setTimeout(
      () => fail(new TransportError(TransportErrorCode.CONNECT_TIMEOUT, `connect to ${where} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('connect', onConnect);
    socket.once('error', onError);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The fd under a connected or accepted net.Socket (Linux). */
export function socketFd(socket: net.Socket | net.Server): number {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new TransportError(TransportErrorCode.NO_FD, 'socket has no file descriptor (closed or not connected)');
  }
  return fd;
}

/** Per-session TTL / GTSM on an accepted (or connected) socket. */
export function setSocketTtl(socket: net.Socket, ttl: number, loader: NativeLoader = loadNativeSocket): void {
  requireNative(loader, 'setting the TTL').setTtl(socketFd(socket), ttl);
}
export function setSocketMinTtl(socket: net.Socket, minTtl: number, loader: NativeLoader = loadNativeSocket): void {
  requireNative(loader, 'setting the minimum TTL').setMinTtl(socketFd(socket), minTtl);
}
export function getSocketTtl(socket: net.Socket, loader: NativeLoader = loadNativeSocket): number {
  return requireNative(loader, 'reading the TTL').getTtl(socketFd(socket));
}
export function getSocketMinTtl(socket: net.Socket, loader: NativeLoader = loadNativeSocket): number {
  return requireNative(loader, 'reading the minimum TTL').getMinTtl(socketFd(socket));
}

export interface ListenOptions {
  /** '0.0.0.0', '::' (dual stack), or one address. */
  address: string;
  /** 179 unless given; 0 picks a free port (tests). */
  port?: number;
  backlog?: number;
}

type ListenerEvents = {
  /** remoteAddress is normalised: IPv4 peers of a dual-stack listener appear as IPv4. */
  connection: [socket: net.Socket, remoteAddress: string];
  error: [err: Error];
};

/**
 * A BGP listen socket. Peer keys, TTL and minimum TTL given before listen() are
 * applied to the socket before it starts listening, so no unsigned connection
 * from a keyed peer can slip in; accepted sockets inherit them. A listener whose
 * 'error' has no handler throws, as any EventEmitter does.
 */
export class BgpListener extends EventEmitter<ListenerEvents> {
  readonly #loader: NativeLoader;
  readonly #keys = new Map<string, Buffer>();
  #ttl: number | undefined = undefined;
  #minTtl: number | undefined = undefined;
  #server: net.Server | undefined = undefined;
  #native: NativeSocket | undefined = undefined;
  #family: 4 | 6 = 4;

  constructor(loader: NativeLoader = loadNativeSocket) {
    super();
    this.#loader = loader;
  }

  get listening(): boolean {
    return this.#server?.listening ?? false;
  }

  address(): net.AddressInfo | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  async listen(opts: ListenOptions): Promise<net.AddressInfo> {
    if (this.#server) throw new Error('BgpListener is already listening');
    const family = ipFamily(opts.address);
    const port = opts.port ?? BGP_PORT;
    const why = neededFor({ md5: this.#keys.size > 0, ttl: this.#ttl, minTtl: this.#minTtl });
    let native: NativeSocket | undefined;
    if (why !== undefined) native = requireNative(this.#loader, `a listener with ${why}`);
    else {
      try {
        native = this.#loader();
      } catch {
        native = undefined; // a plain listener works without the addon
      }
    }

    const server = net.createServer();
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', (err) => this.emit('error', err));
    // Node listens on an fd we bound ({ fd } is a documented handle form).
    let target: { fd: number; backlog?: number } | net.ListenOptions;
    if (native) {
      const fd = native.socket(family);
      try {
        native.bind(fd, opts.address, port, true);
        this.#family = family;
        this.#native = native;
        for (const [peer, key] of this.#keys) this.#applyKey(fd, peer, key);
        if (this.#ttl !== undefined) native.setTtl(fd, this.#ttl);
        if (this.#minTtl !== undefined) native.setMinTtl(fd, this.#minTtl);
      } catch (err) {
        this.#native = undefined;
        native.close(fd);
        throw err;
      }
      target = { fd };
    } else {
      target = { host: opts.address, port };
    }
    if (opts.backlog !== undefined) target.backlog = opts.backlog;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(target, () => {
        server.removeListener('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      this.#native = undefined;
      server.close();
      throw err;
    });
    this.#server = server;
    return this.address()!;
  }

  /** Adds, changes (password) or removes (undefined) the TCP MD5 key of one peer. */
  setPeerKey(peerAddress: string, password: string | undefined): void {
    ipFamily(peerAddress);
    const peer = normaliseAddress(peerAddress);
    const old = this.#keys.get(peer);
    if (password === undefined) {
      if (old === undefined) return;
      this.#keys.delete(peer);
      old.fill(0);
      const fd = this.#fd();
      if (fd !== undefined) {
        try {
          this.#native!.setMd5(fd, peer);
        } catch (err) {
          if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
        }
      }
      return;
    }
    const native = requireNative(this.#loader, 'a TCP MD5 key');
    const key = md5Key(password);
    const fd = this.#fd();
    if (fd !== undefined) {
      this.#native = native;
      try {
        this.#applyKey(fd, peer, key);
      } catch (err) {
        key.fill(0);
        throw err;
      }
    }
    old?.fill(0);
    this.#keys.set(peer, key);
  }

  /** TTL of packets sent from the listen socket (the SYN-ACK) and inherited by accepted sockets. */
  setTtl(ttl: number | undefined): void {
    this.#setOpt('ttl', ttl);
  }

  /** GTSM on the listen socket: SYNs below this TTL are dropped; inherited by accepted sockets. */
  setMinTtl(minTtl: number | undefined): void {
    this.#setOpt('minTtl', minTtl);
  }

  close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#native = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      // server.close() calls back only once every accepted connection has ended. The
      // peers destroy theirs first, but a connection still being handed over (or ended
      // and waiting on its peer) must not hold up a shutdown, which goes on to remove
      // kernel routes: stop waiting after a second.
      const giveUp = setTimeout(resolve, 1000);
      server.close(() => {
        clearTimeout(giveUp);
        resolve();
      });
    });
  }

  #setOpt(which: 'ttl' | 'minTtl', value: number | undefined): void {
    const fd = this.#fd();
    if (value !== undefined || fd !== undefined) {
      const native = requireNative(this.#loader, which === 'ttl' ? 'setting the TTL' : 'setting the minimum TTL');
      if (fd !== undefined) {
        // Undefined restores the defaults: the system TTL (-1), GTSM off (0).
        if (which === 'ttl') native.setTtl(fd, value ?? -1);
        else native.setMinTtl(fd, value ?? 0);
      }
    }
    if (which === 'ttl') this.#ttl = value;
    else this.#minTtl = value;
  }

  #fd(): number | undefined {
    return this.#server && this.#native ? socketFd(this.#server) : undefined;
  }

  // A v4-only socket cannot hold keys for IPv6 peers, who can never reach it anyway.
  #applyKey(fd: number, peer: string, key: Buffer): void {
    if (this.#family === 4 && ipFamily(peer) === 6) return;
    this.#native!.setMd5(fd, peer, key);
  }

  #accept(socket: net.Socket): void {
    const remote = socket.remoteAddress;
    if (remote === undefined) {
      socket.destroy(); // already gone
      return;
    }
    socket.setNoDelay(true);
    this.emit('connection', socket, normaliseAddress(remote));
  }
}

/**
 * Writes one encoded message. False means the socket's buffer is full (or the
 * socket is gone): stop generating updates for this peer until whenDrained().
 */
export function write(socket: net.Socket, buf: Buffer): boolean {
  if (socket.destroyed || !socket.writable) return false;
  return socket.write(buf);
}

/** Resolves when the socket can take more data, or when it closes (check socket.destroyed). */
export function whenDrained(socket: net.Socket): Promise<void> {
  if (socket.destroyed || !socket.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      socket.removeListener('drain', done);
      socket.removeListener('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
