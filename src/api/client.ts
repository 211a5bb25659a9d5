/**
 * Client of the management API (used by `tsbgp`, usable by scripts).
 * Streams are async iterables that pause the socket while the consumer is behind, so a
 * million-route table flows through without being held in memory.
 */
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { LineSplitter } from './lines.js';
import { DEFAULT_SOCKET_PATH } from './types.js';
import type { RequestId, StreamMethod, StreamMethods, UnaryMethod, UnaryMethods } from './types.js';

export { DEFAULT_SOCKET_PATH } from './types.js';

/** Nobody serves the socket: the one message operators should see. */
export class DaemonNotRunningError extends Error {
  readonly socketPath: string;
  constructor(socketPath: string, detail: string) {
    super(`tsbgpd is not running (${detail}); start it with: tsbgpd --config FILE --api-socket ${socketPath}`);
    this.name = 'DaemonNotRunningError';
    this.socketPath = socketPath;
  }
}

/** The server answered with an error line. */
export class ApiCallError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ApiCallError';
    this.code = code;
  }
}

export interface ClientOptions {
  readonly socketPath?: string;
  /** Default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Longest response line accepted; default 256 MiB. */
  readonly maxLineBytes?: number;
}

export interface StreamSummary {
  readonly count: number;
  /** Stopped at the request's `limit`: more items exist. */
  readonly limited: boolean;
  readonly cancelled: boolean;
}

/** Connects, mapping "nobody there" errors to DaemonNotRunningError. */
export function connect(options: ClientOptions = {}): Promise<ApiClient> {
  const path = options.socketPath ?? DEFAULT_SOCKET_PATH;
  const timeout = options.connectTimeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out after ${timeout} ms connecting to ${path} (tsbgpd busy or hung?)`));
    }, timeout);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new ApiClient(socket, options.maxLineBytes ?? 256 * 1024 * 1024));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(connectError(path, err));
    });
  });
}

export function connectError(path: string, err: NodeJS.ErrnoException): Error {
  switch (err.code) {
    case 'ENOENT':
      return new DaemonNotRunningError(path, `no socket at ${path}`);
    case 'ECONNREFUSED':
      return new DaemonNotRunningError(path, `nothing listens on ${path}: a stale socket left by a stopped daemon`);
    case 'EACCES':
    case 'EPERM':
      return new Error(`permission denied on ${path}: run as root, or as a member of the socket's group`);
    case 'ENOTSOCK':
      return new Error(`${path} is not a socket`);
    default:
      return new Error(`cannot connect to ${path}: ${err.message}`);
  }
}

interface Pending {
  line(msg: Record<string, unknown>): void;
  fail(err: Error): void;
}

const QUEUE_HIGH = 1024;
const QUEUE_LOW = 128;

export class ApiClient {
  private readonly socket: Socket;
  private readonly pending = new Map<RequestId, Pending>();
  private nextId = 1;
  private closedError: Error | undefined;
  /** Streams whose consumers are behind; the socket reads again when none is. */
  private readonly fullStreams = new Set<object>();

  constructor(socket: Socket, maxLineBytes: number) {
    this.socket = socket;
    const splitter = new LineSplitter(maxLineBytes, {
      line: (text) => this.onLine(text),
      oversize: () => this.failAll(new Error(`response line longer than ${maxLineBytes} bytes`)),
    });
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', (err) => this.failAll(new Error(`connection to tsbgpd failed: ${err.message}`)));
    socket.on('close', () => this.failAll(new Error('connection to tsbgpd closed')));
  }

  close(): void {
    this.closedError ??= new Error('client closed');
    this.socket.destroy();
  }

  /** A request with one result. */
  call<M extends UnaryMethod>(method: M, params?: UnaryMethods[M]['params']): Promise<UnaryMethods[M]['result']> {
    return new Promise((resolve, reject) => {
      const id = this.send(method, params, reject);
      if (id === undefined) return;
      this.pending.set(id, {
        line: (msg) => {
          this.pending.delete(id);
          if ('error' in msg) reject(toCallError(msg['error']));
          else if ('result' in msg) resolve(msg['result'] as UnaryMethods[M]['result']);
          else reject(new Error(`unexpected answer to ${method}: ${JSON.stringify(msg).slice(0, 200)}`));
        },
        fail: (err) => {
          this.pending.delete(id);
          reject(err);
        },
      });
    });
  }

  /** A streamed request (`rib`, `adjRibIn`, `adjRibOut`, `fib`, `monitor`). */
  stream<M extends StreamMethod>(method: M, params?: StreamMethods[M]['params']): ResultStream<StreamMethods[M]['item']> {
    const s = new ResultStream<StreamMethods[M]['item']>(this, (paused) => this.setFull(s, paused));
    const id = this.send(method, params, (err) => s.fail(err));
    if (id !== undefined) {
      s.id = id;
      this.pending.set(id, {
        line: (msg) => {
          if ('item' in msg) s.push(msg['item'] as StreamMethods[M]['item']);
          else if ('event' in msg) s.push(msg['event'] as StreamMethods[M]['item']);
          else if ('result' in msg) s.acknowledge();
          else if ('error' in msg) {
            this.pending.delete(id);
            s.fail(toCallError(msg['error']));
          } else if (msg['done'] === true) {
            this.pending.delete(id);
            s.end({ count: Number(msg['count'] ?? 0), limited: msg['limited'] === true, cancelled: msg['cancelled'] === true });
          }
        },
        fail: (err) => {
          this.pending.delete(id);
          s.fail(err);
        },
      });
    }
    return s;
  }

  /** @internal */
  cancel(id: RequestId): void {
    if (this.pending.has(id)) void this.call('cancel', { id }).catch(() => undefined);
  }

  private setFull(stream: object, full: boolean): void {
    if (full) this.fullStreams.add(stream);
    else this.fullStreams.delete(stream);
    if (this.fullStreams.size > 0) this.socket.pause();
    else this.socket.resume();
  }

  private send(method: string, params: unknown, fail: (err: Error) => void): number | undefined {
    if (this.closedError) {
      fail(this.closedError);
      return undefined;
    }
    const id = this.nextId++;
    this.socket.write(`${JSON.stringify(params === undefined ? { id, method } : { id, method, params })}\n`);
    return id;
  }

  private onLine(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      this.failAll(new Error(`tsbgpd sent a line that is not JSON: ${text.slice(0, 100)}`));
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as Record<string, unknown>;
    const id = m['id'];
    if (id === null || id === undefined) {
      // Errors about lines the server could not attribute (e.g. "too many clients").
      if ('error' in m) this.failAll(toCallError(m['error']));
      return;
    }
    this.pending.get(id as RequestId)?.line(m);
  }

  private failAll(err: Error): void {
    this.closedError ??= err;
    for (const p of [...this.pending.values()]) p.fail(err);
    this.pending.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

function toCallError(e: unknown): ApiCallError {
  if (typeof e === 'object' && e !== null) {
    const o = e as Record<string, unknown>;
    return new ApiCallError(String(o['code'] ?? 'EUNKNOWN'), String(o['message'] ?? 'error'));
  }
  return new ApiCallError('EUNKNOWN', String(e));
}

/** Items of one streamed request, in order; iterate once. */
export class ResultStream<T> implements AsyncIterable<T> {
  /** @internal */
  id: RequestId | undefined;
  /** Resolves with the `done` line; rejects with the stream's error. */
  readonly summary: Promise<StreamSummary>;
  /** Resolves when a subscription (`monitor`) is active on the server. */
  readonly ready: Promise<void>;
  private readonly queue: T[] = [];
  private head = 0;
  private finished: StreamSummary | undefined;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private full = false;
  private resolveSummary!: (s: StreamSummary) => void;
  private rejectSummary!: (e: Error) => void;
  private resolveReady!: () => void;
  private rejectReady!: (e: Error) => void;

  constructor(
    private readonly client: ApiClient,
    private readonly setFull: (full: boolean) => void,
  ) {
    this.summary = new Promise((resolve, reject) => {
      this.resolveSummary = resolve;
      this.rejectSummary = reject;
    });
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Callers that only iterate must not see unhandled rejections from these.
    this.summary.catch(() => undefined);
    this.ready.catch(() => undefined);
  }

  /** @internal */
  push(item: T): void {
    this.queue.push(item);
    if (!this.full && this.queue.length - this.head >= QUEUE_HIGH) {
      this.full = true;
      this.setFull(true);
    }
    this.signal();
  }

  /** @internal */
  acknowledge(): void {
    this.resolveReady();
  }

  /** @internal */
  end(summary: StreamSummary): void {
    this.finished = summary;
    this.resolveReady();
    this.resolveSummary(summary);
    this.release();
    this.signal();
  }

  /** @internal */
  fail(err: Error): void {
    if (this.finished || this.error) return;
    this.error = err;
    this.rejectReady(err);
    this.rejectSummary(err);
    this.release();
    this.signal();
  }

  /** Asks the server to stop; the stream then ends normally (summary.cancelled). */
  cancel(): void {
    if (this.id !== undefined && !this.finished && !this.error) this.client.cancel(this.id);
  }

  private release(): void {
    if (this.full) {
      this.full = false;
      this.setFull(false);
    }
  }

  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        if (this.head < this.queue.length) {
          const item = this.queue[this.head]!;
          this.queue[this.head] = undefined as T;
          this.head++;
          if (this.head > 4096 && this.head * 2 > this.queue.length) {
            this.queue.splice(0, this.head);
            this.head = 0;
          }
          if (this.full && this.queue.length - this.head <= QUEUE_LOW) {
            this.full = false;
            this.setFull(false);
          }
          yield item;
          continue;
        }
        if (this.error) throw this.error;
        if (this.finished) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      // A consumer that stops early (break, throw) stops the server's stream too.
      if (!this.finished && !this.error) this.cancel();
      this.release();
    }
  }
}
