/**
 * The I/O shell around the pure FSM (fsm.ts) for one configured neighbour: it owns the
 * TCP connection(s), the framer and the timers, turns bytes and timer expiries into FSM
 * events, and performs the actions `step` returns. Route handling is not here: UPDATE
 * bodies go to `handlers.update`, which belongs to the speaker.
 *
 * Two connections may exist at once during a collision (RFC 4271 §6.8): `primary` and
 * `secondary`, each with its own FSM state; collision.ts decides which one survives.
 *
 * Fast path: in Established, KEEPALIVE and UPDATE only restart the hold timer (plus
 * ProcessUpdate), so the shell does that itself instead of calling `step` once per
 * UPDATE of a full table. Every other message goes through the FSM.
 *
 * Send hold timer (RFC 9687): every write passes a per-connection callback that Node
 * calls once the bytes reach the kernel; it marks progress. The timer only checks, when
 * it fires, whether something has been queued without progress for SendHoldTime.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Framer } from '../wire/framer.js';
import { BgpError } from '../wire/errors.js';
import { MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, MsgType } from '../wire/iana.js';
import { KEEPALIVE } from '../wire/keepalive.js';
import { decodeMessage } from '../wire/message.js';
import { describeNotification, encodeNotification, type NotificationMessage } from '../wire/notification.js';
import { buildOpen, encodeOpen } from '../wire/open.js';
import type { RouteRefreshMessage } from '../wire/route-refresh.js';
import { admitConnection, resolveOpenCollision, type Direction } from './collision.js';
import { CeaseSubcode } from '../wire/iana.js';
import {
  initialState,
  shutdownData,
  step,
  type DownReason,
  type FsmAction,
  type FsmEvent,
  type FsmStateName,
  type Negotiated,
  type Notification,
  type SessionConfig,
  type SessionState,
  type TimerName,
} from './fsm.js';
import { jitter } from './timers.js';
import { connectPeer, normaliseAddress, setSocketMinTtl, setSocketTtl, whenDrained, type ConnectOptions } from './transport.js';

export interface PeerOptions {
  /** The FSM's configuration (AS numbers, router id, timers, capabilities, passive). */
  readonly session: SessionConfig;
  readonly address: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly md5Password?: string;
  /** Outgoing TTL (1 for directly connected eBGP; multihop up to 255). */
  readonly ttl?: number;
  /** GTSM (RFC 5082): drop segments whose TTL is below this. */
  readonly minTtl?: number;
  readonly connectTimeoutMs?: number;
}

export interface PeerHandlers {
  /** An UPDATE body in Established. Return a BgpError to end the session with it. */
  update(body: Buffer, negotiated: Negotiated): BgpError | undefined;
}

export interface PeerCounters {
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  /** Times the session reached Established. */
  established: number;
  /** Times it left Established. */
  flaps: number;
}

export interface PeerEvents {
  state: [name: FsmStateName, previous: FsmStateName];
  established: [negotiated: Negotiated];
  down: [reason: DownReason, graceful: boolean];
  notificationSent: [n: Notification, text: string];
  notificationReceived: [n: NotificationMessage, text: string];
  routeRefresh: [msg: RouteRefreshMessage];
  /** A writable socket drained after `sendUpdate` returned false. */
  drain: [];
}

/** One TCP connection and the FSM instance that owns it. */
class Connection {
  fsm: SessionState;
  socket: Socket | undefined = undefined;
  direction: Direction | undefined = undefined;
  framer: Framer = new Framer(MAX_MESSAGE_LEN);
  pendingConnect: AbortController | undefined = undefined;
  readonly timers: Record<TimerName, NodeJS.Timeout | undefined> = {
    connectRetry: undefined,
    hold: undefined,
    keepalive: undefined,
    idleHold: undefined,
    sendHold: undefined,
  };
  /** Hold timer as a deadline (ms): messages move it without re-arming a timer. */
  holdDeadline = 0;
  /** When the armed hold timeout fires (ms); a deadline before it needs a re-arm. */
  holdFiresAt = 0;
  discarded = false;
  /** SendHoldTime in ms while the FSM runs the send hold timer, else 0. */
  sendHoldMs = 0;
  /** Last time (ms) the socket had nothing queued or got bytes into the kernel. */
  sendProgressAt = 0;
  /** now() when this turn's read slice began; 0 = none open (see READ_SLICE_MS). */
  sliceStart = 0;
  /** Reading was paused because the slice ran out. */
  slicePaused = false;
  /** Closes the slice on the next turn of the event loop, resuming a paused socket. */
  readonly endSlice = (): void => {
    this.sliceStart = 0;
    if (!this.slicePaused) return;
    this.slicePaused = false;
    if (this.socket && !this.socket.destroyed) this.socket.resume();
  };
  /** The write callback: one per connection, not one per message. */
  readonly onWritten = (): void => {
    this.sendProgressAt = now();
  };

  constructor(fsm: SessionState) {
    this.fsm = fsm;
  }
}

const now = (): number => performance.now();

/**
 * Longest stretch (ms) of reading before the connection yields to the event loop. libuv
 * hands a busy socket up to 32 reads of 64 KiB in one go: a full table would hold
 * timers, the API and the FIB writer's feed for ~100 ms per burst. Pausing after a
 * slice lets them run in between; the bytes wait in the socket's buffer.
 */
const READ_SLICE_MS = 8;

export class Peer extends EventEmitter<PeerEvents> {
  readonly options: PeerOptions;
  private readonly handlers: PeerHandlers;
  private primary: Connection;
  private secondary: Connection | undefined = undefined;
  readonly counters: PeerCounters = { messagesIn: 0, messagesOut: 0, updatesIn: 0, updatesOut: 0, established: 0, flaps: 0 };
  /** Messages read, by BGP type code (1 OPEN .. 5 ROUTE-REFRESH; 0 = any other), for the API. */
  readonly receivedByType = new Float64Array(6);
  /** Messages written, by BGP type code (as receivedByType). */
  readonly sentByType = new Float64Array(6);
  /** performance.now() of the last state change, for Up/Down columns. */
  lastChange = now();

  constructor(options: PeerOptions, handlers: PeerHandlers) {
    super();
    this.options = options;
    this.handlers = handlers;
    this.primary = new Connection(initialState(options.session));
  }

  get state(): SessionState {
    return this.primary.fsm;
  }

  /** Our address on the established connection (IPv4-mapped forms unwrapped). */
  get localAddress(): string | undefined {
    const a = this.primary.socket?.localAddress;
    return a === undefined ? undefined : normaliseAddress(a);
  }

  get negotiated(): Negotiated | undefined {
    return this.primary.fsm.name === 'Established' ? this.primary.fsm.negotiated : undefined;
  }

  /** Bytes written to the session but not yet taken by the kernel (Node's write queue). */
  get queuedBytes(): number {
    return this.primary.socket?.writableLength ?? 0;
  }

  start(): void {
    this.dispatch(this.primary, {
      type: this.options.session.passive ? 'ManualStart_with_PassiveTcpEstablishment' : 'ManualStart',
    });
  }

  /** Administrative shutdown (Cease/2 with an RFC 9003 message); stays down until start(). */
  stop(message?: string): void {
    const ev: FsmEvent = message === undefined ? { type: 'ManualStop' } : { type: 'ManualStop', message };
    if (this.secondary) this.dispatch(this.secondary, ev);
    this.dispatch(this.primary, ev);
  }

  /** Administrative reset (Cease/4), then the session restarts. */
  reset(message?: string): void {
    const ev: FsmEvent = message === undefined ? { type: 'ManualReset' } : { type: 'ManualReset', message };
    if (this.secondary) this.dispatch(this.secondary, ev);
    this.dispatch(this.primary, ev);
  }

  /**
   * The system ends the session with Cease/`subcode` (e.g. 1, maximum prefixes) and
   * restarts it after `restartAfter` seconds, or never (until start()) when undefined.
   */
  automaticStop(subcode: number, data: Buffer, restartAfter: number | undefined): void {
    const ev: FsmEvent =
      restartAfter === undefined
        ? { type: 'AutomaticStop', subcode, data, restart: false }
        : { type: 'AutomaticStop', subcode, data, restart: true, restartAfter };
    if (this.secondary) this.dispatch(this.secondary, ev);
    this.dispatch(this.primary, ev);
  }

  /**
   * Ends the session for a restart of this speaker (graceful restart, RFC 4724 §4 and
   * RFC 8538 §4), staying down until start(): with the N bit negotiated, Cease/
   * Administrative Reset, which the peer must not treat as a Hard Reset; with Graceful
   * Restart but no N bit, the connection closes with no NOTIFICATION (a NOTIFICATION
   * would make the peer drop our routes); without Graceful Restart, a plain stop().
   */
  gracefulStop(message?: string): void {
    const n = this.negotiated;
    if (n === undefined || !n.gracefulRestart) {
      this.stop(message);
      return;
    }
    if (n.gracefulNotification) {
      const ev: FsmEvent = { type: 'AutomaticStop', subcode: CeaseSubcode.ADMIN_RESET, data: shutdownData(message), restart: false };
      if (this.secondary) this.dispatch(this.secondary, ev);
      this.dispatch(this.primary, ev);
      return;
    }
    // The FSM would send a NOTIFICATION for any stop: close the socket behind its back,
    // then let it see the connection fail (routes kept, like the peer will).
    const c = this.primary;
    const s = c.socket;
    c.socket = undefined;
    s?.end();
    if (s) setTimeout(() => s.destroy(), 2000).unref();
    if (this.secondary) this.dispatch(this.secondary, { type: 'ManualStop' });
    this.dispatch(c, { type: 'TcpConnectionFails' });
    this.dispatch(c, { type: 'ManualStop' });
  }

  /**
   * A new ConnectRetryTime (seconds) for the running neighbour: every later start of the
   * timer uses it, and a timer running now is re-armed with it (jittered as usual), so a
   * shorter value takes effect without waiting out the old one.
   */
  setConnectRetryTime(seconds: number): void {
    (this.options as { session: SessionConfig }).session = { ...this.options.session, connectRetryTime: seconds };
    for (const c of [this.primary, this.secondary]) {
      if (!c || c.discarded) continue;
      c.fsm = { ...c.fsm, config: { ...c.fsm.config, connectRetryTime: seconds } };
      if (c.timers.connectRetry !== undefined) this.startTimer(c, 'connectRetry', jitter(seconds, Math.random));
    }
  }

  /** Stops everything without sending anything (process exit, peer removed by config). */
  destroy(): void {
    for (const c of [this.primary, this.secondary]) {
      if (!c) continue;
      this.clearTimers(c);
      this.closeSocket(c, true);
      c.discarded = true;
    }
  }

  /** A connection the listener accepted from this peer's address. */
  acceptIncoming(socket: Socket): void {
    this.admit(socket, 'incoming');
  }

  /**
   * Sends an encoded UPDATE (header included). Returns false when the socket buffer is
   * full: stop producing until 'drain'. Throws if the session is not Established.
   */
  sendUpdate(msg: Buffer): boolean {
    const c = this.established();
    if (!c || !c.socket) throw new Error(`peer ${this.options.address} is not established`);
    this.counters.updatesOut++;
    return this.write(c, msg);
  }

  /** Sends a ROUTE-REFRESH (encoded with its header). */
  sendRaw(msg: Buffer): boolean {
    const c = this.established();
    return c ? this.write(c, msg) : false;
  }

  private established(): Connection | undefined {
    return this.primary.fsm.name === 'Established' ? this.primary : undefined;
  }

  // ---------------------------------------------------------------------------
  // FSM driving

  private dispatch(c: Connection, event: FsmEvent): void {
    if (c.discarded) return;
    const before = c.fsm.name;
    const { state, actions } = step(c.fsm, event, { now: Date.now(), random: Math.random });
    c.fsm = state;
    for (const a of actions) this.perform(c, a);
    if (c === this.primary && state.name !== before) {
      this.lastChange = now();
      this.emit('state', state.name, before);
    }
    if (event.type === 'BGPOpen' && state.name === 'OpenConfirm') this.resolveCollision(c);
    if (c === this.secondary && !isNegotiating(state.name)) this.discard(c);
  }

  private perform(c: Connection, a: FsmAction): void {
    switch (a.type) {
      case 'Connect':
        this.connect(c);
        return;
      case 'DropConnection':
        this.closeSocket(c, false);
        return;
      case 'SendOpen': {
        const cfg = c.fsm.config;
        this.write(c, encodeOpen(buildOpen(cfg.localAs, cfg.holdTime, cfg.routerId, cfg.capabilities)));
        return;
      }
      case 'SendKeepalive':
        this.write(c, KEEPALIVE);
        return;
      case 'SendNotification': {
        const n: Notification = { code: a.code, subcode: a.subcode, data: a.data };
        this.write(c, encodeNotification(n, maxLengthOf(c)));
        if (c === this.primary) this.emit('notificationSent', n, describeNotification(n));
        return;
      }
      case 'StartTimer':
        this.startTimer(c, a.timer, a.seconds);
        return;
      case 'StopTimer':
        this.stopTimer(c, a.timer);
        return;
      case 'SessionEstablished':
        if (a.negotiated.extendedMessage) c.framer.setMaxLength(MAX_EXTENDED_MESSAGE_LEN);
        if (c === this.secondary) this.promote(c);
        this.counters.established++;
        this.emit('established', a.negotiated);
        return;
      case 'SessionDown':
        if (c !== this.primary) return;
        this.counters.flaps++;
        this.emit('down', a.reason, a.graceful);
        return;
      case 'ProcessUpdate':
      case 'ProcessRouteRefresh':
        // Handled where the message is read: the body is at hand there.
        return;
    }
  }

  private resolveCollision(c: Connection): void {
    const other = c === this.primary ? this.secondary : this.primary;
    const verdict = resolveOpenCollision(c.fsm, other?.fsm);
    if (verdict.type === 'None' || !other) return;
    const loser = verdict.which === 'self' ? c : other;
    this.dispatch(loser, verdict.event);
    this.discard(loser);
  }

  /** Forgets a connection's FSM; a surviving secondary becomes the primary. */
  private discard(c: Connection): void {
    this.clearTimers(c);
    this.closeSocket(c, false);
    c.discarded = true;
    if (c === this.secondary) {
      this.secondary = undefined;
    } else if (c === this.primary && this.secondary) {
      this.promote(this.secondary);
    }
  }

  private promote(c: Connection): void {
    if (c === this.primary) return;
    const old = this.primary;
    this.primary = c;
    this.secondary = undefined;
    if (!old.discarded) {
      this.clearTimers(old);
      this.closeSocket(old, false);
      old.discarded = true;
    }
    this.lastChange = now();
  }

  // ---------------------------------------------------------------------------
  // Connections

  private connect(c: Connection): void {
    const o = this.options;
    const ac = new AbortController();
    c.pendingConnect = ac;
    const opts: ConnectOptions = {
      peerAddress: o.address,
      peerPort: o.port,
      signal: ac.signal,
      timeoutMs: o.connectTimeoutMs ?? Math.max(1000, c.fsm.config.connectRetryTime * 1000),
    };
    if (o.localAddress !== undefined) opts.localAddress = o.localAddress;
    if (o.md5Password !== undefined) opts.md5Password = o.md5Password;
    if (o.ttl !== undefined) opts.ttl = o.ttl;
    if (o.minTtl !== undefined) opts.minTtl = o.minTtl;
    connectPeer(opts).then(
      (socket) => {
        if (c.pendingConnect !== ac || c.discarded) {
          socket.destroy();
          return;
        }
        c.pendingConnect = undefined;
        this.admit(socket, 'outgoing');
      },
      () => {
        if (c.pendingConnect !== ac || c.discarded) return;
        c.pendingConnect = undefined;
        this.dispatch(c, { type: 'TcpConnectionFails' });
      },
    );
  }

  private admit(socket: Socket, direction: Direction): void {
    const verdict = admitConnection(this.primary.fsm, direction, this.secondary?.fsm);
    switch (verdict.type) {
      case 'Reject':
        if (verdict.notification) socket.end(encodeNotification(verdict.notification));
        else socket.destroy();
        setTimeout(() => socket.destroy(), 1000).unref();
        return;
      case 'Deliver':
        this.attach(this.primary, socket, direction);
        this.dispatch(this.primary, verdict.event);
        return;
      case 'Secondary': {
        const c = new Connection(verdict.state);
        this.secondary = c;
        this.attach(c, socket, direction);
        this.dispatch(c, verdict.event);
        return;
      }
    }
  }

  private attach(c: Connection, socket: Socket, direction: Direction): void {
    if (c.pendingConnect) {
      c.pendingConnect.abort();
      c.pendingConnect = undefined;
    }
    if (c.socket && c.socket !== socket) c.socket.destroy();
    c.socket = socket;
    c.direction = direction;
    c.framer = new Framer(MAX_MESSAGE_LEN);
    if (direction === 'incoming') {
      // Per-peer TTL and GTSM on accepted sockets (the listener's are shared by all).
      if (this.options.ttl !== undefined) setSocketTtl(socket, this.options.ttl);
      if (this.options.minTtl !== undefined) setSocketMinTtl(socket, this.options.minTtl);
    }
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(c, socket, chunk));
    socket.on('error', () => undefined); // 'close' follows and reports the failure
    socket.on('close', () => {
      if (c.socket !== socket) return;
      c.socket = undefined;
      this.dispatch(c, { type: 'TcpConnectionFails' });
    });
    socket.on('drain', () => this.emit('drain'));
  }

  private closeSocket(c: Connection, hard: boolean): void {
    if (c.pendingConnect) {
      c.pendingConnect.abort();
      c.pendingConnect = undefined;
    }
    const s = c.socket;
    if (!s) return;
    c.socket = undefined;
    if (hard) {
      s.destroy();
      return;
    }
    // Let a NOTIFICATION written just before go out, but never wait long on a stuck peer.
    s.end();
    setTimeout(() => s.destroy(), 2000).unref();
  }

  private write(c: Connection, msg: Buffer): boolean {
    const s = c.socket;
    if (!s || s.destroyed) return false;
    this.counters.messagesOut++;
    const type = msg[18] ?? 0; // every message written carries its 19-byte header
    this.sentByType[type < 6 ? type : 0]!++;
    // An empty queue means nothing was stuck before this message.
    if (s.writableLength === 0) c.sendProgressAt = now();
    return s.write(msg, c.onWritten);
  }

  /** Resolves when the established socket can take more data (or is gone). */
  async drained(): Promise<void> {
    const s = this.primary.socket;
    if (s) await whenDrained(s);
  }

  // ---------------------------------------------------------------------------
  // Reading

  private onData(c: Connection, socket: Socket, chunk: Buffer): void {
    if (c.sliceStart === 0) {
      c.sliceStart = now();
      setImmediate(c.endSlice);
    }
    this.drainFrames(c, socket, chunk);
    if (c.socket === socket && !c.slicePaused && now() - c.sliceStart >= READ_SLICE_MS) {
      c.slicePaused = true;
      socket.pause();
    }
  }

  private drainFrames(c: Connection, socket: Socket, chunk: Buffer): void {
    try {
      c.framer.push(chunk);
    } catch (e) {
      this.protocolError(c, e, 'BGPHeaderErr');
      return;
    }
    while (c.socket === socket && !c.discarded) {
      let frame;
      try {
        frame = c.framer.next();
      } catch (e) {
        this.protocolError(c, e, 'BGPHeaderErr');
        return;
      }
      if (!frame) return;
      this.counters.messagesIn++;
      this.receivedByType[frame.type < 6 ? frame.type : 0]!++;
      this.onMessage(c, frame.type, frame.body);
    }
  }

  private onMessage(c: Connection, type: number, body: Buffer): void {
    const fsm = c.fsm;
    if (fsm.name === 'Established' && (type === MsgType.UPDATE || type === MsgType.KEEPALIVE)) {
      this.touchHold(c);
      if (type === MsgType.KEEPALIVE) return;
      this.counters.updatesIn++;
      const err = this.handlers.update(body, fsm.negotiated!);
      if (err) this.dispatch(c, { type: 'UpdateMsgErr', error: err });
      return;
    }
    let msg;
    try {
      msg = decodeMessage(type, body, { maxLength: maxLengthOf(c) });
    } catch (e) {
      this.protocolError(c, e, type === MsgType.OPEN ? 'BGPOpenMsgErr' : 'BGPHeaderErr');
      return;
    }
    switch (msg.type) {
      case 'open':
        this.dispatch(c, { type: 'BGPOpen', open: msg.open });
        return;
      case 'keepalive':
        this.dispatch(c, { type: 'KeepAliveMsg' });
        return;
      case 'update':
        this.dispatch(c, { type: 'UpdateMsg' });
        return;
      case 'notification': {
        const n = msg.notification;
        if (c === this.primary) this.emit('notificationReceived', n, describeNotification(n));
        this.dispatch(c, { type: 'NotifMsg', code: n.code, subcode: n.subcode, data: n.data });
        return;
      }
      case 'route-refresh':
        this.dispatch(c, { type: 'RouteRefreshMsg' });
        if (c.fsm.name === 'Established') this.emit('routeRefresh', msg.refresh);
        return;
      case 'ignored':
        return;
    }
  }

  private protocolError(c: Connection, e: unknown, type: 'BGPHeaderErr' | 'BGPOpenMsgErr'): void {
    if (!(e instanceof BgpError)) throw e;
    this.dispatch(c, { type, error: e });
  }

  // ---------------------------------------------------------------------------
  // Timers

  private startTimer(c: Connection, timer: TimerName, seconds: number): void {
    if (timer === 'sendHold') {
      this.stopTimer(c, timer);
      c.sendHoldMs = seconds * 1000;
      c.sendProgressAt = now();
      this.armSendHold(c, c.sendHoldMs);
      return;
    }
    if (timer === 'hold') {
      c.holdDeadline = now() + seconds * 1000;
      // The lazy timer only handles deadlines that move later. OpenSent arms 240 s and
      // OpenConfirm then asks for the negotiated hold time (9 s): fire sooner.
      if (c.timers.hold === undefined || c.holdFiresAt > c.holdDeadline) {
        this.stopTimer(c, 'hold');
        this.armHold(c, seconds * 1000);
      }
      return;
    }
    this.stopTimer(c, timer);
    c.timers[timer] = setTimeout(() => {
      c.timers[timer] = undefined;
      this.dispatch(c, { type: EXPIRY_EVENT[timer] });
    }, seconds * 1000);
  }

  private armHold(c: Connection, ms: number): void {
    c.holdFiresAt = now() + ms;
    c.timers.hold = setTimeout(() => {
      c.timers.hold = undefined;
      const left = c.holdDeadline - now();
      if (left > 0) {
        this.armHold(c, left);
        return;
      }
      // Timers run before socket reads in the event loop: after a long busy stretch the
      // peer's KEEPALIVE may be waiting unread. Read first (setImmediate runs after the
      // poll phase), then decide.
      setImmediate(() => {
        if (c.discarded || c.timers.hold !== undefined || !c.fsm.timers.hold) return;
        const still = c.holdDeadline - now();
        if (still > 0) this.armHold(c, still);
        else this.dispatch(c, { type: 'HoldTimer_Expires' });
      });
    }, ms);
  }

  private armSendHold(c: Connection, ms: number): void {
    c.timers.sendHold = setTimeout(() => {
      c.timers.sendHold = undefined;
      const left = this.sendHoldLeft(c);
      if (left > 0) {
        this.armSendHold(c, left);
        return;
      }
      // As for the hold timer: write completions waiting in the poll phase count first.
      setImmediate(() => {
        if (c.discarded || c.timers.sendHold !== undefined || !c.fsm.timers.sendHold) return;
        const still = this.sendHoldLeft(c);
        if (still > 0) this.armSendHold(c, still);
        else this.dispatch(c, { type: 'SendHoldTimer_Expires' });
      });
    }, ms);
  }

  /** Ms until the send hold timer expires; nothing queued counts as progress now. */
  private sendHoldLeft(c: Connection): number {
    const t = now();
    if (!c.socket || c.socket.writableLength === 0) c.sendProgressAt = t;
    return c.sendProgressAt + c.sendHoldMs - t;
  }

  private touchHold(c: Connection): void {
    const hold = c.fsm.negotiated?.holdTime ?? 0;
    if (hold > 0) c.holdDeadline = now() + hold * 1000;
  }

  private stopTimer(c: Connection, timer: TimerName): void {
    const t = c.timers[timer];
    if (t !== undefined) clearTimeout(t);
    c.timers[timer] = undefined;
    if (timer === 'sendHold') c.sendHoldMs = 0;
  }

  private clearTimers(c: Connection): void {
    for (const t of Object.keys(c.timers) as TimerName[]) this.stopTimer(c, t);
  }
}

const EXPIRY_EVENT = {
  connectRetry: 'ConnectRetryTimer_Expires',
  hold: 'HoldTimer_Expires',
  keepalive: 'KeepaliveTimer_Expires',
  idleHold: 'IdleHoldTimer_Expires',
  sendHold: 'SendHoldTimer_Expires',
} as const;

/** A secondary FSM lives only while its connection is being negotiated (or won). */
function isNegotiating(name: FsmStateName): boolean {
  return name === 'OpenSent' || name === 'OpenConfirm' || name === 'Established';
}

function maxLengthOf(c: Connection): number {
  return c.fsm.negotiated?.extendedMessage === true ? MAX_EXTENDED_MESSAGE_LEN : MAX_MESSAGE_LEN;
}
