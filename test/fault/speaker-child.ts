// A misbehaving BGP speaker for the fault tests, run inside a lab namespace:
//   ip netns exec <ns> node dist/test/fault/speaker-child.js
// driven over an IPC channel ({ id, cmd, args } → { id, ok, result | error }; unsolicited
// { event } messages). Two kinds of session, one at a time per process:
//
// - 'feed': the benchmark feeder (bench/feeder) listening for tsbgpd, with a synthetic
//   table; it announces, withdraws, flaps, and can cut itself off in the middle of an
//   UPDATE with a TCP RST (the first half of a real UPDATE, then resetAndDestroy()).
// - 'raw': a bare speaker (OPEN, KEEPALIVE, nothing else) that can stop reading its
//   socket, with or without still sending KEEPALIVEs: the stalled reader.
//
// The process exits when the channel closes (the test died).
import net from 'node:net';
import { Feeder, buildTables, type PhaseResult } from '../../bench/feeder/feeder.js';
import type { FeedTable } from '../../bench/feeder/table.js';
import { buildCapabilities } from '../../src/wire/capabilities.js';
import { Framer } from '../../src/wire/framer.js';
import { Afi, MsgType, Safi } from '../../src/wire/iana.js';
import { KEEPALIVE } from '../../src/wire/keepalive.js';
import { decodeNotification, describeNotification } from '../../src/wire/notification.js';
import { bgpIdFromString, buildOpen, encodeOpen } from '../../src/wire/open.js';
import { normaliseAddress } from '../../src/session/transport.js';

export interface FeedArgs {
  /** tsbgpd's address: the only connection accepted. */
  readonly peer: string;
  /** Our address (we listen on it, port 179). */
  readonly localAddress: string;
  readonly localAs: number;
  readonly peerAs: number;
  readonly holdTime: number;
  /** Synthetic IPv4 prefixes in the table. */
  readonly count: number;
  readonly seed?: number;
  /** Next hop of every route (default: our address). */
  readonly nextHop4?: string;
}

export interface RawArgs {
  readonly peer: string;
  readonly localAddress: string;
  readonly localAs: number;
  readonly holdTime: number;
}

export type Command =
  | { cmd: 'feed'; args: FeedArgs }
  | { cmd: 'announce' }
  | { cmd: 'withdraw' }
  | { cmd: 'flap'; args: { cycles: number; fraction: number } }
  | { cmd: 'resetMidUpdate' }
  | { cmd: 'close' }
  | { cmd: 'raw'; args: RawArgs }
  | { cmd: 'stall'; args: { keepalives: boolean } }
  | { cmd: 'state' };

export interface ChildState {
  readonly kind: 'feed' | 'raw' | 'none';
  /** 'listening', 'established', 'closed'. */
  readonly state: string;
  readonly closedReason: string | null;
  /** raw: bytes the kernel holds for us unread are not visible; this counts what we did read. */
  readonly bytesRead: number;
  readonly stalled: boolean;
}

export type ChildEvent = { type: 'established' } | { type: 'closed'; reason: string };

let tables: FeedTable[] = [];
let tableKey = '';
let feeder: Feeder | undefined;
let feedState = 'none';
let raw: RawSession | undefined;

function send(m: object): void {
  process.send?.(m);
}

function event(e: ChildEvent): void {
  send({ event: e });
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

/** Listens for tsbgpd and runs the feeder's handshake; resolves once listening. */
async function feed(a: FeedArgs): Promise<{ port: number }> {
  if (feeder && feeder.closedReason === undefined) throw new Error('a feed session is open');
  const key = `${a.count}/${a.seed ?? 1}/${a.nextHop4 ?? a.localAddress}`;
  if (key !== tableKey) {
    tables = await buildTables([{ type: 'synthetic', count: a.count, seed: a.seed ?? 1 }], {
      localAs: a.localAs,
      nextHop4: a.nextHop4 ?? a.localAddress,
      avoidAs: [a.peerAs],
    });
    tableKey = key;
  }
  feedState = 'listening';
  return new Promise((resolve, reject) => {
    let listening = false;
    // A connection that dies before Established (tsbgpd reset it, e.g. a connect timer
    // that fired while its event loop was busy) is not the end: listen again, as a
    // real router would.
    const attempt = (left: number): void => {
      Feeder.open({
        peer: a.peer,
        listen: true,
        port: 179,
        localAddress: a.localAddress,
        localAs: a.localAs,
        peerAs: a.peerAs,
        holdTime: a.holdTime,
        timeoutMs: 120_000,
        tables,
        log,
        onListening: (port) => {
          if (!listening) resolve({ port });
          listening = true;
        },
      }).then(
        (f) => {
          feeder = f;
          feedState = 'established';
          f.on('closed', (reason) => {
            feedState = 'closed';
            event({ type: 'closed', reason });
          });
          event({ type: 'established' });
        },
        (e: unknown) => {
          if (!listening) {
            feedState = 'closed';
            reject(e as Error);
          } else if (left > 0) {
            log(`session failed before Established (${(e as Error).message}): listening again`);
            setTimeout(() => attempt(left - 1), 100);
          } else {
            feedState = 'closed';
            event({ type: 'closed', reason: (e as Error).message });
          }
        },
      );
    };
    attempt(20);
  });
}

function needFeeder(): Feeder {
  if (!feeder || feeder.closedReason !== undefined) throw new Error(`no feed session (${feeder?.closedReason ?? feedState})`);
  return feeder;
}

/** Half of the table's first UPDATE, then a TCP RST: tsbgpd sees a truncated message and a reset. */
function resetMidUpdate(): { sentBytes: number; messageLength: number } {
  const f = needFeeder();
  const first = tables[0]?.announce().chunks[0];
  if (!first || first.length < 19) throw new Error('no UPDATE to cut');
  const len = first.readUInt16BE(16);
  const half = first.subarray(0, Math.max(19, len >> 1));
  f.socket.write(half, () => f.socket.resetAndDestroy());
  return { sentBytes: half.length, messageLength: len };
}

/** The stalled reader: OPEN / KEEPALIVE only, and a socket it can stop reading. */
class RawSession {
  state = 'listening';
  closedReason: string | null = null;
  bytesRead = 0;
  stalled = false;
  private socket: net.Socket | undefined;
  private readonly framer = new Framer();
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private readonly server: net.Server;

  constructor(private readonly a: RawArgs) {
    this.server = net.createServer({ noDelay: true }, (s) => this.onConnection(s));
  }

  listen(): Promise<{ port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: 179, host: this.a.localAddress }, () => resolve({ port: 179 }));
    });
  }

  private onConnection(s: net.Socket): void {
    if (normaliseAddress(s.remoteAddress ?? '') !== normaliseAddress(this.a.peer) || this.socket) {
      s.destroy();
      return;
    }
    this.server.close();
    this.socket = s;
    s.on('error', (e) => this.shut(`socket error: ${e.message}`));
    s.on('close', () => this.shut('closed by tsbgpd'));
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    const caps = buildCapabilities({ asn: this.a.localAs, families: [{ afi: Afi.IPV4, safi: Safi.UNICAST }], routeRefresh: true });
    s.write(encodeOpen(buildOpen(this.a.localAs, this.a.holdTime, bgpIdFromString(this.a.localAddress) ?? 1, caps)));
    this.state = 'opensent';
  }

  private onData(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    this.framer.push(chunk);
    for (let m = this.framer.next(); m !== undefined; m = this.framer.next()) {
      if (m.type === MsgType.OPEN && this.state === 'opensent') {
        this.state = 'openconfirm';
        this.socket?.write(KEEPALIVE);
      } else if (m.type === MsgType.KEEPALIVE && this.state === 'openconfirm') {
        this.state = 'established';
        this.startKeepalives();
        event({ type: 'established' });
      } else if (m.type === MsgType.NOTIFICATION) {
        this.shut(`NOTIFICATION from tsbgpd: ${describeNotification(decodeNotification(m.body))}`);
      }
    }
  }

  private startKeepalives(): void {
    const every = Math.max(1, Math.floor(this.a.holdTime / 3)) * 1000;
    this.keepaliveTimer = setInterval(() => this.socket?.write(KEEPALIVE), every);
  }

  /** Stops reading; keeps sending KEEPALIVEs or goes silent too. */
  stall(keepalives: boolean): void {
    if (!this.socket || this.state !== 'established') throw new Error(`raw session is ${this.state}`);
    this.stalled = true;
    this.socket.pause();
    if (!keepalives && this.keepaliveTimer) {
      clearInterval(this.keepaliveTimer);
      this.keepaliveTimer = undefined;
    }
  }

  private shut(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedReason = reason;
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.socket?.destroy();
    this.server.close();
    event({ type: 'closed', reason });
  }

  close(): void {
    this.shut('closed by the test');
  }
}

function state(): ChildState {
  if (raw) return { kind: 'raw', state: raw.state, closedReason: raw.closedReason, bytesRead: raw.bytesRead, stalled: raw.stalled };
  if (feeder || feedState !== 'none') {
    return { kind: 'feed', state: feedState, closedReason: feeder?.closedReason ?? null, bytesRead: 0, stalled: false };
  }
  return { kind: 'none', state: 'none', closedReason: null, bytesRead: 0, stalled: false };
}

async function handle(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'feed':
      return feed(c.args);
    case 'announce':
      return needFeeder().announce();
    case 'withdraw':
      return needFeeder().withdrawAll();
    case 'flap': {
      const r: PhaseResult[] = await needFeeder().flap(c.args.cycles, c.args.fraction);
      return r;
    }
    case 'resetMidUpdate':
      return resetMidUpdate();
    case 'close':
      if (raw) raw.close();
      if (feeder) await feeder.close('fault test done');
      return true;
    case 'raw': {
      if (raw && raw.state !== 'closed') throw new Error('a raw session is open');
      raw = new RawSession(c.args);
      return raw.listen();
    }
    case 'stall':
      if (!raw) throw new Error('no raw session');
      raw.stall(c.args.keepalives);
      return true;
    case 'state':
      return state();
  }
}

process.on('message', (m: unknown) => {
  const msg = m as { id: number } & Command;
  handle(msg).then(
    (result) => send({ id: msg.id, ok: true, result }),
    (e: unknown) => send({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on('disconnect', () => process.exit(0));
send({ ready: true });
