// Test helpers: a server on a socket in a fresh temp dir, and a raw line-level client.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from '../../src/api/server.js';
import type { ApiServerOptions } from '../../src/api/server.js';
import type { DaemonView } from '../../src/api/types.js';

export interface Running {
  readonly server: ApiServer;
  readonly dir: string;
  readonly path: string;
  stop(): Promise<void>;
}

export async function startServer(view: DaemonView, options: ApiServerOptions = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbgp-api-'));
  const path = options.socketPath ?? join(dir, 'run', 'tsbgpd.sock');
  const server = new ApiServer(view, { ...options, socketPath: path });
  await server.listen();
  return {
    server,
    dir,
    path,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Msg = Record<string, unknown> & { id: unknown };

/** Sends raw lines, reads parsed lines in order. */
export class RawConn {
  readonly socket: Socket;
  private buf = '';
  private readonly lines: Msg[] = [];
  private waiter: (() => void) | undefined;
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(this.buf.slice(0, nl)) as Msg);
        this.buf = this.buf.slice(nl + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(path: string): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once('connect', () => resolve(new RawConn(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  send(x: unknown): void {
    this.socket.write(typeof x === 'string' ? x : `${JSON.stringify(x)}\n`);
  }

  async next(timeoutMs = 5000): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('timeout waiting for a line');
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 50);
      });
    }
    return this.lines.shift()!;
  }

  /** Sends one request, returns its single answer line. */
  async request(id: number | string, method: string, params?: unknown): Promise<Msg> {
    this.send(params === undefined ? { id, method } : { id, method, params });
    return this.next();
  }

  /** All lines of one streamed request, up to its done or error line. */
  async collect(id: number | string, method: string, params?: unknown): Promise<{ items: unknown[]; end: Msg }> {
    this.send(params === undefined ? { id, method } : { id, method, params });
    const items: unknown[] = [];
    for (;;) {
      const m = await this.next();
      if (m.id !== id) throw new Error(`unexpected line for id ${String(m.id)}`);
      if ('item' in m) items.push(m['item']);
      else return { items, end: m };
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
