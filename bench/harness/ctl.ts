// Control-socket clients for polling BIRD and FRR many times a second without starting
// birdc/vtysh each time (each start costs tens of ms of CPU on a busy 2-core machine).
//  - BIRD: the text protocol of birdc. Every reply line starts with a 4-digit code; "-"
//    after it (or a leading space) continues the reply, a space after it ends it.
//  - FRR: the vtysh protocol of a daemon's .vty socket. A command is sent with its NUL
//    terminator; the answer is the output followed by three NULs and a status byte.
import net from 'node:net';

/** One persistent connection carrying one command at a time. */
abstract class LineClient {
  protected readonly socket: net.Socket;
  protected buf: Buffer = Buffer.alloc(0);
  private waiter: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private error: Error | undefined;

  protected constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      this.drain();
    });
    const fail = (e: Error): void => {
      this.error ??= e;
      this.waiter?.reject(e);
      this.waiter = undefined;
    };
    socket.on('error', (e) => fail(e));
    socket.on('close', () => fail(new Error('control socket closed')));
  }

  protected static connect(path: string, timeoutMs: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(`connect ${path}: timeout`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  /** A complete reply at the start of `buf`: its text and length, or undefined. */
  protected abstract cut(buf: Buffer): { text: string; used: number } | undefined;
  protected abstract encode(cmd: string): Buffer;

  private drain(): void {
    if (!this.waiter) return; // an unasked reply (BIRD's greeting) waits for its reader
    const r = this.cut(this.buf);
    if (!r) return;
    this.buf = this.buf.subarray(r.used);
    const w = this.waiter;
    this.waiter = undefined;
    w?.resolve(r.text);
  }

  /** Sends one command (undefined: none, just read the next reply) and resolves with its whole reply. */
  command(cmd: string | undefined, timeoutMs = 30_000): Promise<string> {
    const run = (): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        if (this.error) {
          reject(this.error);
          return;
        }
        const t = setTimeout(() => {
          this.waiter = undefined;
          reject(new Error(`no answer to "${cmd ?? '(greeting)'}" within ${timeoutMs} ms`));
          this.socket.destroy();
        }, timeoutMs);
        this.waiter = {
          resolve: (s) => {
            clearTimeout(t);
            resolve(s);
          },
          reject: (e) => {
            clearTimeout(t);
            reject(e);
          },
        };
        if (cmd !== undefined) this.socket.write(this.encode(cmd));
        this.drain();
      });
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Where the first BIRD reply in `text` ends (after the newline of its "DDDD " line), or -1. */
export function birdReplyEnd(text: string): number {
  let i = 0;
  while (i < text.length) {
    const nl = text.indexOf('\n', i);
    if (nl < 0) return -1;
    if (/^\d{4} /.test(text.slice(i, i + 5))) return nl + 1;
    i = nl + 1;
  }
  return -1;
}

export class BirdCtl extends LineClient {
  /** Connects and reads the greeting ("0001 BIRD x ready."). */
  static async open(path: string, timeoutMs = 5000): Promise<BirdCtl> {
    const c = new BirdCtl(await LineClient.connect(path, timeoutMs));
    const hello = await c.command(undefined, timeoutMs);
    if (!/^0001 /.test(hello)) throw new Error(`unexpected BIRD greeting: ${hello}`);
    return c;
  }

  protected cut(buf: Buffer): { text: string; used: number } | undefined {
    const text = buf.toString('latin1');
    const end = birdReplyEnd(text);
    return end < 0 ? undefined : { text: text.slice(0, end), used: end };
  }

  protected encode(cmd: string): Buffer {
    return Buffer.from(`${cmd}\n`);
  }
}

/** Sum of "Routes: N imported" over the channels of `show protocols all NAME`. */
export function birdImported(text: string): number {
  let n = 0;
  for (const m of text.matchAll(/Routes:\s+(\d+) imported/g)) n += Number(m[1]);
  return n;
}

/** "BGP state: X" of `show protocols all NAME`. */
export function birdBgpState(text: string): string {
  return /BGP state:\s+(\S+)/.exec(text)?.[1] ?? '';
}

export class FrrVty extends LineClient {
  static async open(path: string, timeoutMs = 5000): Promise<FrrVty> {
    return new FrrVty(await LineClient.connect(path, timeoutMs));
  }

  protected cut(buf: Buffer): { text: string; used: number } | undefined {
    for (let i = 0; i + 3 < buf.length; i++) {
      if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 0) {
        const status = buf[i + 3]!;
        const text = buf.subarray(0, i).toString('utf8');
        return { text: status === 0 ? text : `%status ${status}\n${text}`, used: i + 4 };
      }
    }
    return undefined;
  }

  protected encode(cmd: string): Buffer {
    return Buffer.from(`${cmd}\0`);
  }
}

/** Sum of pfxRcd for `peer` over the address families of `show bgp summary json`. */
export function frrPrefixesReceived(json: string, peer: string): { count: number; state: string } {
  const doc = JSON.parse(json) as Record<string, { peers?: Record<string, { pfxRcd?: number; state?: string }> }>;
  let count = 0;
  let state = '';
  for (const af of Object.values(doc)) {
    const p = af?.peers?.[peer];
    if (!p) continue;
    count += p.pfxRcd ?? 0;
    state = p.state ?? state;
  }
  return { count, state };
}

/** Sum of accepted prefixes over the families of `gobgp neighbor -j`, for one neighbour. */
export function gobgpAccepted(json: string, peer: string): { count: number; state: string } {
  const t = json.trim();
  const list = (t === '' || t === 'null' ? [] : JSON.parse(t)) as Array<{
    conf?: { neighbor_address?: string };
    state?: { neighbor_address?: string; session_state?: number | string };
    afi_safis?: Array<{ state?: { accepted?: number; received?: number } }>;
  }>;
  for (const n of list) {
    const addr = n.conf?.neighbor_address ?? n.state?.neighbor_address;
    if (addr !== peer) continue;
    let count = 0;
    for (const f of n.afi_safis ?? []) count += f.state?.accepted ?? 0;
    return { count, state: String(n.state?.session_state ?? '') };
  }
  return { count: 0, state: 'absent' };
}
