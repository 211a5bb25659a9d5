/**
 * The management API server: NDJSON over a Unix socket.
 *
 *   → {"id":1,"method":"neighbors","params":{"address":"10.0.0.1"}}
 *   ← {"id":1,"result":[...]}
 *   → {"id":2,"method":"rib","params":{"afi":"ipv4"}}
 *   ← {"id":2,"item":{...}}  (one line per destination)
 *   ← {"id":2,"done":true,"count":912345}
 *   → {"id":3,"method":"monitor"}
 *   ← {"id":3,"result":{"subscribed":true}}, then {"id":3,"event":{...}} until cancel
 *   ← {"id":null,"error":{"code":"EPARSE","message":"..."}}
 *
 * Streams pull rows from the daemon only while the socket accepts them (backpressure)
 * and yield the event loop every few milliseconds, so one client reading a 1M-route
 * table neither buffers it nor stalls the sessions. A bad request gets an error line
 * and the connection keeps serving.
 */
import { chmod, chown, lstat, mkdir, readFile, unlink } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { redactSecrets } from '../observability/redact.js';
import { ApiError, ErrorCode } from './errors.js';
import { LineSplitter } from './lines.js';
import { isStreamMethod, parseRequest, validateParams } from './protocol.js';
import type { ParsedRequest, ValidMonitorParams } from './protocol.js';
import { DEFAULT_SOCKET_PATH } from './types.js';
import type {
  ActionResult, AdminAction, ApiEvent, DaemonView, EventsLostEvent, NeighborInfo, NeighborRef, RequestId, RowSource,
} from './types.js';

export { DEFAULT_SOCKET_PATH } from './types.js';

export interface ApiLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ApiServerOptions {
  /** Default DEFAULT_SOCKET_PATH. */
  readonly socketPath?: string;
  /** Socket file mode; default 0600 (root only), 0660 when `group` is set. */
  readonly mode?: number;
  /** Group (name or gid) that owns the socket, for non-root operators. */
  readonly group?: string | number;
  /** Longest request line accepted (bytes); default 64 KiB. */
  readonly maxLineBytes?: number;
  /** Concurrent connections; default 64. */
  readonly maxClients?: number;
  /** Requests in flight per connection (streams and subscriptions included); default 16. */
  readonly maxInFlight?: number;
  readonly log?: ApiLog;
}

const DEFAULTS = { maxLineBytes: 64 * 1024, maxClients: 64, maxInFlight: 16 };
/** Past this much unsent output, events for a subscriber are dropped (and counted). */
const EVENT_BACKLOG_BYTES = 1 << 20;
/** Past this much unsent output, stop reading requests from the client until it reads. */
const READ_PAUSE_BYTES = 4 << 20;
/** A stream yields the event loop after this long. */
const SLICE_MS = 8;

const NULL_LOG: ApiLog = { debug() {}, warn() {} };

export class ApiServer {
  readonly socketPath: string;
  private readonly view: DaemonView;
  private readonly opts: Required<Omit<ApiServerOptions, 'group' | 'log' | 'socketPath' | 'mode'>> & { mode: number; group: string | number | undefined };
  private readonly log: ApiLog;
  private readonly connections = new Set<Connection>();
  private server: Server | undefined;
  private closing = false;

  constructor(view: DaemonView, options: ApiServerOptions = {}) {
    this.view = view;
    this.socketPath = options.socketPath ?? DEFAULT_SOCKET_PATH;
    this.log = options.log ?? NULL_LOG;
    this.opts = {
      maxLineBytes: options.maxLineBytes ?? DEFAULTS.maxLineBytes,
      maxClients: options.maxClients ?? DEFAULTS.maxClients,
      maxInFlight: options.maxInFlight ?? DEFAULTS.maxInFlight,
      mode: options.mode ?? (options.group === undefined ? 0o600 : 0o660),
      group: options.group,
    };
  }

  get clientCount(): number {
    return this.connections.size;
  }

  /** Creates the directory (0755) if missing, replaces a stale socket, listens, sets mode and group. */
  async listen(): Promise<void> {
    const path = this.socketPath;
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    await removeStaleSocket(path);
    const gid = this.opts.group === undefined ? undefined : await resolveGroup(this.opts.group);
    const server = createServer({ allowHalfOpen: false }, (socket) => this.accept(socket));
    // bind() happens synchronously inside listen(): a tight umask means the socket is
    // never reachable by others, even before the chmod below.
    const oldMask = process.umask(0o177);
    try {
      server.listen(path);
    } finally {
      process.umask(oldMask);
    }
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    server.on('error', (err) => this.log.warn({ err }, 'api server error'));
    this.server = server;
    if (gid !== undefined) await chown(path, -1, gid);
    await chmod(path, this.opts.mode);
  }

  /** Stops accepting, ends every stream and subscription, closes clients, removes the socket. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const server = this.server;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    if (server) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await unlink(this.socketPath).catch(() => undefined);
    }
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    if (this.connections.size >= this.opts.maxClients) {
      socket.on('error', () => undefined);
      socket.end(errorLine(null, new ApiError(ErrorCode.BUSY, `too many clients (${this.opts.maxClients}); try again later`)));
      return;
    }
    const conn = new Connection(socket, this.view, this.opts, this.log, () => this.connections.delete(conn));
    this.connections.add(conn);
  }
}

// ---------------------------------------------------------------------------

interface Job {
  /** Streams and subscriptions can be cancelled; unary requests always answer. */
  readonly stream: boolean;
  cancelled: boolean;
  /** Stops the job (a subscription unsubscribes, a stream stops at its next row). */
  cancel(): void;
}

function errorLine(id: RequestId | null, err: ApiError): string {
  return `${JSON.stringify({ id, error: { code: err.code, message: err.message } })}\n`;
}

function asApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new ApiError(ErrorCode.INTERNAL, `internal error: ${msg}`);
}

class Connection {
  private readonly jobs = new Map<RequestId, Job>();
  private readonly splitter: LineSplitter;
  private closed = false;
  private readonly drainWaiters: Array<() => void> = [];

  constructor(
    private readonly socket: Socket,
    private readonly view: DaemonView,
    private readonly opts: { maxLineBytes: number; maxInFlight: number },
    private readonly log: ApiLog,
    private readonly onClose: () => void,
  ) {
    this.splitter = new LineSplitter(opts.maxLineBytes, {
      line: (text) => this.onLine(text),
      oversize: () => this.write(errorLine(null, new ApiError(ErrorCode.TOO_LARGE, `request line longer than ${opts.maxLineBytes} bytes; skipped up to the next newline`))),
    });
    socket.on('data', (chunk: Buffer) => this.splitter.push(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', (err) => this.log.debug({ err }, 'api client socket error'));
    socket.on('close', () => this.finish());
    // A client that half-closes after its requests still gets its answers.
    socket.on('end', () => undefined);
  }

  destroy(): void {
    this.finish();
    this.socket.destroy();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.jobs.values()) job.cancel();
    this.jobs.clear();
    for (const w of this.drainWaiters.splice(0)) w();
    this.onClose();
  }

  /** Writes one line; false = the socket is backed up (wait for drain) or gone. */
  private write(line: string): boolean {
    if (this.closed || this.socket.destroyed) return false;
    const ok = this.socket.write(line);
    if (!ok && this.socket.writableLength > READ_PAUSE_BYTES) this.socket.pause();
    return ok;
  }

  private onDrain(): void {
    if (this.socket.isPaused()) this.socket.resume();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private drained(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private onLine(text: string): void {
    if (this.closed) return;
    const parsed = parseRequest(text);
    if (!parsed.ok) {
      this.write(errorLine(parsed.id, parsed.error));
      return;
    }
    const req = parsed.request;
    if (this.jobs.has(req.id)) {
      this.write(errorLine(req.id, new ApiError(ErrorCode.DUPLICATE_ID, `request id ${JSON.stringify(req.id)} is already in flight on this connection`)));
      return;
    }
    if (this.jobs.size >= this.opts.maxInFlight && req.method !== 'cancel') {
      this.write(errorLine(req.id, new ApiError(ErrorCode.BUSY, `too many requests in flight on this connection (${this.opts.maxInFlight}); cancel one or wait`)));
      return;
    }
    const job: Job = {
      stream: isStreamMethod(req.method),
      cancelled: false,
      cancel() {
        this.cancelled = true;
      },
    };
    if (req.method !== 'cancel') this.jobs.set(req.id, job);
    void this.run(req, job).then(
      () => undefined,
      (err: unknown) => {
        const e = asApiError(err);
        if (e.code === ErrorCode.INTERNAL) this.log.warn({ err, method: req.method }, 'api request failed');
        if (!job.cancelled) this.write(errorLine(req.id, e));
      },
    ).finally(() => {
      if (this.jobs.get(req.id) === job) this.jobs.delete(req.id);
    });
  }

  private async run(req: ParsedRequest, job: Job): Promise<void> {
    const view = this.view;
    const id = req.id;
    if (isStreamMethod(req.method)) {
      switch (req.method) {
        case 'rib': {
          const p = validateParams('rib', req.params);
          if (p.instance !== null) await checkInstance(view, p.instance);
          return this.pump(id, job, view.rib({ instance: p.instance, afi: p.afi, prefix: p.prefix, match: p.match }), p.limit);
        }
        case 'adjRibIn':
        case 'adjRibOut': {
          const p = validateParams(req.method, req.params);
          const neighbor = await resolveNeighbor(view, p.address, p.instance);
          const q = { neighbor, afi: p.afi };
          return this.pump(id, job, req.method === 'adjRibIn' ? view.adjRibIn(q) : view.adjRibOut(q), p.limit);
        }
        case 'fib': {
          const p = validateParams('fib', req.params);
          if (p.instance !== null) await checkInstance(view, p.instance);
          return this.pump(id, job, view.fib({ instance: p.instance, afi: p.afi, status: p.status, kernel: p.kernel }), p.limit);
        }
        case 'monitor':
          return this.subscribe(id, job, validateParams('monitor', req.params));
      }
    }
    let result: unknown;
    switch (req.method) {
      case 'global':
        validateParams('global', req.params);
        result = await view.global();
        break;
      case 'config':
        validateParams('config', req.params);
        result = redactSecrets(await view.config());
        break;
      case 'neighbors': {
        const p = validateParams('neighbors', req.params);
        if (p.instance !== null) await checkInstance(view, p.instance);
        const all = await view.neighbors();
        const list = all.filter((n) => (p.instance === null || n.instance === p.instance) && (p.address === null || n.address === p.address));
        if (p.address !== null && list.length === 0) throw noNeighbor(p.address, p.instance);
        result = list;
        break;
      }
      case 'reset':
      case 'enable': {
        const p = validateParams(req.method, req.params);
        const ref = await resolveNeighbor(view, p.address, p.instance);
        await (req.method === 'reset' ? view.reset(ref) : view.enable(ref));
        result = actionResult(ref, req.method);
        break;
      }
      case 'softReset': {
        const p = validateParams('softReset', req.params);
        const ref = await resolveNeighbor(view, p.address, p.instance);
        const out: ActionResult[] = [];
        if (p.direction !== 'out') {
          await view.softReset(ref, 'in');
          out.push(actionResult(ref, 'soft-reset-in'));
        }
        if (p.direction !== 'in') {
          await view.softReset(ref, 'out');
          out.push(actionResult(ref, 'soft-reset-out'));
        }
        result = out;
        break;
      }
      case 'shutdown': {
        const p = validateParams('shutdown', req.params);
        const ref = await resolveNeighbor(view, p.address, p.instance);
        await view.shutdown(ref, p.message);
        result = actionResult(ref, 'shutdown');
        break;
      }
      case 'cancel': {
        const p = validateParams('cancel', req.params);
        const target = this.jobs.get(p.id);
        const cancellable = target !== undefined && target.stream && !target.cancelled;
        if (cancellable) target.cancel();
        result = { cancelled: cancellable };
        break;
      }
    }
    this.write(`${JSON.stringify({ id, result })}\n`);
  }

  /** Streams rows as the socket accepts them; ends with a `done` line. */
  private async pump<T>(id: RequestId, job: Job, source: RowSource<T>, limit: number | null): Promise<void> {
    const head = `{"id":${JSON.stringify(id)},"item":`;
    const isAsync = Symbol.asyncIterator in source;
    const it: Iterator<T> | AsyncIterator<T> = isAsync ? (source as AsyncIterable<T>)[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
    let count = 0;
    let limited = false;
    let sliceStart = performance.now();
    try {
      for (;;) {
        if (job.cancelled || this.closed) break;
        // Sync sources are not awaited per row: a microtask per route adds up at 1M routes.
        const r = isAsync ? await it.next() : (it as Iterator<T>).next();
        if (r.done === true) break;
        if (limit !== null && count >= limit) {
          limited = true;
          break;
        }
        count++;
        if (!this.write(`${head}${JSON.stringify(r.value)}}\n`)) {
          await this.drained();
          sliceStart = performance.now();
        } else if ((count & 63) === 0 && performance.now() - sliceStart > SLICE_MS) {
          // The daemon's walk runs on our event loop: give the sessions a turn.
          await yieldTurn();
          sliceStart = performance.now();
        }
      }
    } finally {
      // Lets the daemon's generator release what it holds (stopped early or not).
      await it.return?.();
    }
    if (this.closed) return;
    const done: Record<string, unknown> = { id, done: true, count };
    if (limited) done['limited'] = true;
    if (job.cancelled) done['cancelled'] = true;
    this.write(`${JSON.stringify(done)}\n`);
  }

  /** Events until cancel or disconnect; a slow reader loses events and is told how many. */
  private subscribe(id: RequestId, job: Job, p: ValidMonitorParams): Promise<void> {
    const head = `{"id":${JSON.stringify(id)},"event":`;
    let lost = 0;
    return new Promise<void>((resolve) => {
      const flushLost = (): void => {
        if (lost === 0) return;
        const e: EventsLostEvent = { type: 'events-lost', time: new Date().toISOString(), count: lost };
        lost = 0;
        this.write(`${head}${JSON.stringify(e)}}\n`);
      };
      const listener = (e: ApiEvent): void => {
        try {
          if (job.cancelled || this.closed) return;
          if (p.types !== null && !p.types.has(e.type)) return;
          if (p.neighbor !== null && !('neighbor' in e && e.neighbor === p.neighbor)) return;
          if (p.instance !== null && !('instance' in e && e.instance === p.instance)) return;
          if (this.socket.writableLength > EVENT_BACKLOG_BYTES) {
            lost++;
            return;
          }
          flushLost();
          this.write(`${head}${JSON.stringify(e)}}\n`);
        } catch (err) {
          // Never throw into the daemon's event emitter.
          this.log.warn({ err }, 'api event not sent');
        }
      };
      const onDrain = (): void => flushLost();
      // The acknowledgement goes first, so no event can precede it.
      this.write(`${JSON.stringify({ id, result: { subscribed: true } })}\n`);
      const unsubscribe = this.view.subscribe(listener);
      this.socket.on('drain', onDrain);
      job.cancel = () => {
        if (job.cancelled) return;
        job.cancelled = true;
        unsubscribe();
        this.socket.off('drain', onDrain);
        if (!this.closed) this.write(`${JSON.stringify({ id, done: true, count: 0, cancelled: true })}\n`);
        resolve();
      };
    });
  }
}

function actionResult(ref: NeighborRef, action: AdminAction): ActionResult {
  return { instance: ref.instance, neighbor: ref.address, action };
}

function noNeighbor(address: string, instance: string | null): ApiError {
  return new ApiError(ErrorCode.NO_NEIGHBOR, instance === null ? `no neighbor ${address}` : `no neighbor ${address} in instance ${instance}`);
}

async function checkInstance(view: DaemonView, instance: string): Promise<void> {
  const g = await view.global();
  if (!g.instances.some((i) => i.name === instance)) {
    const names = g.instances.map((i) => i.name);
    throw new ApiError(ErrorCode.NO_INSTANCE, `no instance ${JSON.stringify(instance)}; instances: ${names.length === 0 ? '(none)' : names.join(', ')}`);
  }
}

/** The one neighbour an address (and optional instance) names, or a precise refusal. */
export async function resolveNeighbor(view: DaemonView, address: string, instance: string | null): Promise<NeighborRef> {
  if (instance !== null) await checkInstance(view, instance);
  const all: readonly NeighborInfo[] = await view.neighbors();
  const matches = all.filter((n) => n.address === address && (instance === null || n.instance === instance));
  if (matches.length === 0) throw noNeighbor(address, instance);
  if (matches.length > 1) {
    throw new ApiError(ErrorCode.AMBIGUOUS_NEIGHBOR, `neighbor ${address} exists in instances ${matches.map((m) => m.instance).join(', ')}; say which with "instance"`);
  }
  const m = matches[0]!;
  return { instance: m.instance, address: m.address };
}

/** Removes a socket file nobody listens on; refuses to touch anything else. */
async function removeStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket; refusing to replace it`);
  const alive = await new Promise<boolean>((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another process is serving ${path} (is tsbgpd already running?)`);
  await unlink(path);
}

/** A group name from /etc/group (Node has no getgrnam), or a numeric gid. */
export async function resolveGroup(group: string | number): Promise<number> {
  if (typeof group === 'number') return group;
  if (/^[0-9]+$/.test(group)) return Number(group);
  const text = await readFile('/etc/group', 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^[0-9]+$/.test(gid)) return Number(gid);
  }
  throw new Error(`unknown group ${JSON.stringify(group)} (not in /etc/group)`);
}
