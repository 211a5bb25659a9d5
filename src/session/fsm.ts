/**
 * The BGP session finite state machine: RFC 4271 §8.2.2 with RFC 6608 FSM error
 * subcodes, RFC 4486 / RFC 8538 Cease subcodes and RFC 9003 shutdown messages.
 *
 * `step(state, event, env)` is pure: no sockets, no timers, no clock. It returns the
 * next state and the list of actions the I/O shell must perform, in order. Time and
 * randomness come in through `env` (`now` in ms, `random` for RFC 4271 §10 jitter).
 *
 * STATES (`state.name`)
 *   Idle         No connection; incoming connections are refused. Leaves on ManualStart,
 *                ManualReset, AutomaticStart or IdleHoldTimer_Expires. `state.stopped`
 *                (after ManualStop, or AutomaticStop without restart) blocks all but
 *                ManualStart; a running idle hold timer (backoff) also defers AutomaticStart.
 *   Connect      Our outgoing TCP attempt is in flight; ConnectRetryTimer runs.
 *   Active       Waiting for the peer to connect to us. Passive peers (`config.passive`)
 *                stay here with no timer; others retry when ConnectRetryTimer expires.
 *   OpenSent     Connected, our OPEN sent, waiting for the peer's (hold timer 240 s).
 *   OpenConfirm  OPENs exchanged and accepted (`state.negotiated` is set), our KEEPALIVE
 *                sent, waiting for the peer's.
 *   Established  UPDATEs flow.
 *
 * ACTIONS: what the shell does for each, in array order, right after `step` returns.
 *   Connect             Open an outgoing TCP connection to the peer; deliver Tcp_CR_Acked
 *                       when it connects, TcpConnectionFails when it fails.
 *   DropConnection      Close this FSM's connection after flushing what is already queued
 *                       (a NOTIFICATION sent just before must go out), or abort its pending
 *                       outgoing attempt. Must be harmless when there is nothing to close.
 *   SendOpen            Send our OPEN built from `state.config` (localAs, holdTime,
 *                       routerId, capabilities).
 *   SendKeepalive       Send a KEEPALIVE.
 *   SendNotification    Send NOTIFICATION {code, subcode, data}; `data` is ready-to-send bytes.
 *   StartTimer          (Re)start the one-shot timer `timer` for `seconds` (may be fractional)
 *                       and deliver <Timer>_Expires when it fires. A running timer restarts.
 *                       ('hold' is restarted on every KEEPALIVE/UPDATE: a shell may keep one
 *                       deadline and a lazy timer instead of re-arming per message.)
 *                       'sendHold' (RFC 9687) runs in Established only: the shell restarts
 *                       it itself whenever the connection makes progress writing (or has
 *                       nothing queued), so SendHoldTimer_Expires means data queued for the
 *                       peer has not moved for the whole SendHoldTime.
 *   StopTimer           Cancel the timer; no expiry for it may be delivered afterwards.
 *                       (A stale expiry is ignored anyway: the state tracks running timers.)
 *   SessionEstablished  Tell the speaker: send our routes, accept the peer's. `negotiated`
 *                       (also in `state.negotiated` from OpenConfirm on) fixes the families,
 *                       4-octet AS, ADD-PATH and the maximum message length.
 *   SessionDown         Leaving Established: drop the peer's routes, or mark them stale when
 *                       `graceful` (RFC 4724 helper / RFC 8538).
 *   ProcessUpdate       Hand the UPDATE just delivered as UpdateMsg to the RIB.
 *   ProcessRouteRefresh Hand the ROUTE-REFRESH just delivered as RouteRefreshMsg to the
 *                       Adj-RIB-Out.
 *
 * EVENTS the shell delivers, from its inputs:
 *   OPEN decoded → BGPOpen; a BgpError thrown by the framer or header check → BGPHeaderErr,
 *   by the OPEN decoder → BGPOpenMsgErr; NOTIFICATION → NotifMsg (the FSM treats
 *   OPEN/Unsupported Version as NotifMsgVerErr itself); KEEPALIVE → KeepAliveMsg;
 *   UPDATE → UpdateMsg (parse it only in Established; an UPDATE error that RFC 7606 says
 *   ends the session → UpdateMsgErr); ROUTE-REFRESH → RouteRefreshMsg; socket closed or
 *   failed → TcpConnectionFails.
 *
 * TWO CONNECTIONS (RFC 4271 §6.8): one FSM owns at most one connection. The shell keeps
 * a primary FSM per peer and at most one secondary; `admitConnection` (collision.ts)
 * says what to do with each connection that completes, `resolveOpenCollision` which
 * FSM to close once an OPEN is accepted. A secondary that leaves OpenSent/OpenConfirm/
 * Established, and a primary closed by a collision verdict, are discarded after their
 * send/drop/stop/SessionDown actions run (their StartTimer is ignored); a secondary
 * whose peer FSM was discarded becomes the primary.
 *
 * DELIBERATE DEVIATIONS from the letter of RFC 4271 §8.2.2 (reasons inline):
 *   - Connect + TcpConnectionFails goes to Active and restarts ConnectRetryTimer (the RFC's
 *     DelayOpen branch) instead of Idle: we keep accepting the peer's connection.
 *   - A NOTIFICATION received in OpenSent is not answered with an FSM Error NOTIFICATION.
 *   - ROUTE-REFRESH restarts the hold timer like KEEPALIVE and UPDATE.
 *   - Going to Idle after an error starts the idle hold timer with exponential backoff
 *     (the RFC's optional DampPeerOscillations); IdleHoldTimer_Expires restarts the session.
 *   - OpenCollisionDump leaves the FSM in Idle with no restart: it is about to be discarded.
 *   - RFC 9687 Send Hold Timer (event 29, SendHoldTimer_Expires): started on entering
 *     Established, not with a hold time of 0; on expiry Send Hold Timer Expired (code 8)
 *     is sent best effort and the session ends like on any other error.
 */
import { CeaseSubcode, ErrorCode, FsmSubcode, OpenSubcode } from '../wire/iana.js';
import { EMPTY } from '../wire/errors.js';
import { encodeShutdownData } from '../wire/notification.js';
import type { OpenMessage } from '../wire/open-types.js';
import { checkOpen, negotiate, type LocalSettings, type Negotiated, type Notification } from './negotiate.js';
import {
  DEFAULT_BACKOFF,
  failuresAfterEstablished,
  idleHoldTime,
  jitter,
  sendHoldTime,
  type BackoffOptions,
  type Random,
} from './timers.js';

export type { Notification, Negotiated, LocalSettings } from './negotiate.js';

export const FSM_STATES = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const;
export type FsmStateName = (typeof FSM_STATES)[number];

export const TIMERS = ['connectRetry', 'hold', 'keepalive', 'idleHold', 'sendHold'] as const;
export type TimerName = (typeof TIMERS)[number];
export type TimerFlags = { readonly [K in TimerName]: boolean };

/** RFC 4271 §8.2.2: "set the HoldTimer to a large value"; 4 minutes is suggested. */
export const DEFAULT_OPEN_HOLD_TIME = 240;

/** Defaults of Cilium's BGP peer config (and of most speakers). */
export const DEFAULT_TIMERS = { holdTime: 90, keepaliveTime: 30, connectRetryTime: 120 } as const;

export interface SessionConfig extends LocalSettings {
  /** Seconds between outgoing connection attempts (jittered). */
  readonly connectRetryTime: number;
  /** Never connect; wait for the peer (Active with no ConnectRetryTimer). */
  readonly passive: boolean;
  /** Hold timer while waiting for the peer's OPEN; default 240 s. */
  readonly openHoldTime?: number;
  /** Idle hold-down backoff; default DEFAULT_BACKOFF. */
  readonly backoff?: BackoffOptions;
  /**
   * RFC 9687 SendHoldTime, seconds; 0 = none. Default max(480, 2 × negotiated hold time);
   * never runs when the negotiated hold time is 0.
   */
  readonly sendHoldTime?: number;
}

/** Why a session (or an attempt) ended; kept in `state.lastDown` for display. */
export type DownReason =
  | { readonly type: 'NotificationSent'; readonly notification: Notification }
  | { readonly type: 'NotificationReceived'; readonly notification: Notification }
  | { readonly type: 'ConnectionLost' }
  /** Stopped or reset by us before any OPEN was sent (nothing to notify). */
  | { readonly type: 'Stopped' }
  /** Connect/Active got an event that needs a BGP connection (RFC: "any other event"). */
  | { readonly type: 'UnexpectedEvent'; readonly event: FsmEvent['type'] };

export interface SessionState {
  readonly name: FsmStateName;
  readonly config: SessionConfig;
  /** Timers the shell has running, as far as the FSM asked. */
  readonly timers: TimerFlags;
  /** RFC 4271 ConnectRetryCounter: consecutive failures, drives the idle hold backoff. */
  readonly failures: number;
  /** No automatic restart until ManualStart (ManualStop, AutomaticStop without restart). */
  readonly stopped: boolean;
  /** Which side opened the connection this FSM owns (OpenSent and later). */
  readonly connection: 'outgoing' | 'incoming' | undefined;
  /** Set from OpenConfirm on. */
  readonly negotiated: Negotiated | undefined;
  /** `env.now` when Established was entered. */
  readonly establishedAt: number | undefined;
  readonly lastDown: DownReason | undefined;
}

export type FsmEvent =
  | { readonly type: 'ManualStart' }
  /** RFC 4271 event 4: listen first, connect when ConnectRetryTimer expires. */
  | { readonly type: 'ManualStart_with_PassiveTcpEstablishment' }
  /** Cease/Administrative Shutdown with an RFC 9003 message; stays Idle until ManualStart. */
  | { readonly type: 'ManualStop'; readonly message?: string }
  /** Cease/Administrative Reset, then restart. `hardReset`: RFC 8538 user control. */
  | { readonly type: 'ManualReset'; readonly message?: string; readonly hardReset?: boolean }
  | { readonly type: 'AutomaticStart' }
  /**
   * The system ends the session with Cease/`subcode` (max prefixes, peer deconfigured,
   * other configuration change, out of resources, BFD down…). `restart` (default true)
   * restarts after the backoff or after `restartAfter` seconds; false stays Idle.
   */
  | {
      readonly type: 'AutomaticStop';
      readonly subcode: number;
      readonly data?: Buffer;
      readonly restart?: boolean;
      readonly restartAfter?: number;
      readonly hardReset?: boolean;
    }
  | { readonly type: 'ConnectRetryTimer_Expires' }
  | { readonly type: 'HoldTimer_Expires' }
  | { readonly type: 'KeepaliveTimer_Expires' }
  | { readonly type: 'IdleHoldTimer_Expires' }
  /** RFC 9687 event 29: what we queued for the peer has not moved for SendHoldTime. */
  | { readonly type: 'SendHoldTimer_Expires' }
  /** A connection request arrived (informational; no state change). */
  | { readonly type: 'TcpConnection_Valid' }
  /** Our outgoing connection is up. */
  | { readonly type: 'Tcp_CR_Acked' }
  /** We accepted the peer's connection. */
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails' }
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage }
  | { readonly type: 'BGPHeaderErr'; readonly error: Notification }
  | { readonly type: 'BGPOpenMsgErr'; readonly error: Notification }
  | { readonly type: 'OpenCollisionDump' }
  | { readonly type: 'NotifMsgVerErr'; readonly data?: Buffer }
  | { readonly type: 'NotifMsg'; readonly code: number; readonly subcode: number; readonly data?: Buffer }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  | { readonly type: 'UpdateMsgErr'; readonly error: Notification }
  | { readonly type: 'RouteRefreshMsg' };

export type FsmAction =
  | { readonly type: 'Connect' }
  | { readonly type: 'DropConnection' }
  | { readonly type: 'SendOpen' }
  | { readonly type: 'SendKeepalive' }
  | { readonly type: 'SendNotification'; readonly code: number; readonly subcode: number; readonly data: Buffer }
  | { readonly type: 'StartTimer'; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: 'StopTimer'; readonly timer: TimerName }
  | { readonly type: 'SessionEstablished'; readonly negotiated: Negotiated }
  | { readonly type: 'SessionDown'; readonly reason: DownReason; readonly graceful: boolean }
  | { readonly type: 'ProcessUpdate' }
  | { readonly type: 'ProcessRouteRefresh' };

export interface StepEnv {
  /** Milliseconds on any monotonic clock; used for the Established duration. */
  readonly now?: number;
  /** Jitters ConnectRetry, Keepalive and IdleHold timers when given (RFC 4271 §10). */
  readonly random?: Random;
}

export interface StepResult {
  readonly state: SessionState;
  readonly actions: readonly FsmAction[];
}

const NO_TIMERS: TimerFlags = { connectRetry: false, hold: false, keepalive: false, idleHold: false, sendHold: false };

/** A new session in Idle. It starts on ManualStart (or AutomaticStart). */
export function initialState(config: SessionConfig): SessionState {
  return {
    name: 'Idle',
    config,
    timers: NO_TIMERS,
    failures: 0,
    stopped: false,
    connection: undefined,
    negotiated: undefined,
    establishedAt: undefined,
    lastDown: undefined,
  };
}

/**
 * An FSM for a second connection to a peer whose primary FSM already owns one
 * (RFC 4271 §8: one FSM per connection). It waits in Active with no timer; deliver
 * TcpConnectionConfirmed (or Tcp_CR_Acked) next.
 */
export function secondaryState(primary: SessionState): SessionState {
  return { ...initialState(primary.config), name: 'Active', failures: primary.failures };
}

// ---------------------------------------------------------------------------
// Encoding helpers for NOTIFICATION data the FSM produces itself.

/** RFC 9003 shutdown communication for Cease/2 and Cease/4 (none without a message). */
export function shutdownData(message: string | undefined): Buffer {
  return message === undefined || message === '' ? EMPTY : encodeShutdownData(message);
}

/** RFC 8538 §3.1: Cease/Hard Reset whose data is the original ErrCode, Subcode, Data. */
export function hardReset(n: Notification): Notification {
  const data = Buffer.allocUnsafe(2 + n.data.length);
  data[0] = n.code;
  data[1] = n.subcode;
  n.data.copy(data, 2);
  return { code: ErrorCode.CEASE, subcode: CeaseSubcode.HARD_RESET, data };
}

export function isHardReset(n: { readonly code: number; readonly subcode: number }): boolean {
  return n.code === ErrorCode.CEASE && n.subcode === CeaseSubcode.HARD_RESET;
}

/**
 * Cease subcodes sent as Hard Reset once the N bit is exchanged (RFC 8538 §5.1 table:
 * max prefixes, administrative shutdown, peer deconfigured, hard reset), plus BFD Down:
 * the forwarding path failed, so keeping stale routes would blackhole traffic.
 * Administrative Reset is the user's choice (`hardReset` flag).
 */
const HARD_RESET_CEASE: ReadonlySet<number> = new Set([
  CeaseSubcode.MAX_PREFIXES,
  CeaseSubcode.ADMIN_SHUTDOWN,
  CeaseSubcode.PEER_DECONFIGURED,
  CeaseSubcode.HARD_RESET,
  CeaseSubcode.BFD_DOWN,
]);

function cease(subcode: number, data: Buffer = EMPTY): Notification {
  return { code: ErrorCode.CEASE, subcode, data };
}

function fsmError(subcode: number): Notification {
  return { code: ErrorCode.FSM, subcode, data: EMPTY };
}

const HOLD_TIMER_EXPIRED: Notification = { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0, data: EMPTY };
const SEND_HOLD_TIMER_EXPIRED: Notification = { code: ErrorCode.SEND_HOLD_TIMER_EXPIRED, subcode: 0, data: EMPTY };

// ---------------------------------------------------------------------------
// The step function.

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** One step's scratch: the next state being built and the actions so far. */
interface Ctx {
  readonly s: Mutable<SessionState>;
  readonly timers: Mutable<TimerFlags>;
  readonly actions: FsmAction[];
  readonly env: StepEnv;
}

const TIMER_OF_EVENT: Partial<Record<FsmEvent['type'], TimerName>> = {
  ConnectRetryTimer_Expires: 'connectRetry',
  HoldTimer_Expires: 'hold',
  KeepaliveTimer_Expires: 'keepalive',
  IdleHoldTimer_Expires: 'idleHold',
  SendHoldTimer_Expires: 'sendHold',
};

const UNCHANGED: readonly FsmAction[] = Object.freeze([]);

/** Advances the FSM by one event. Pure: same inputs, same outputs. */
export function step(state: SessionState, event: FsmEvent, env: StepEnv = {}): StepResult {
  const expired = TIMER_OF_EVENT[event.type];
  // A timer the FSM stopped (or never started) cannot expire: a late callback is ignored.
  if (expired !== undefined && !state.timers[expired]) return { state, actions: UNCHANGED };

  const c: Ctx = { s: { ...state }, timers: { ...state.timers }, actions: [], env };
  if (expired !== undefined) c.timers[expired] = false; // it fired
  switch (state.name) {
    case 'Idle':
      idle(c, event);
      break;
    case 'Connect':
      connect(c, event);
      break;
    case 'Active':
      active(c, event);
      break;
    case 'OpenSent':
      openSent(c, event);
      break;
    case 'OpenConfirm':
      openConfirm(c, event);
      break;
    case 'Established':
      established(c, event);
      break;
  }
  c.s.timers = c.timers;
  return { state: c.s, actions: c.actions };
}

function start(c: Ctx, timer: TimerName, seconds: number): void {
  c.timers[timer] = true;
  c.actions.push({ type: 'StartTimer', timer, seconds });
}

function stop(c: Ctx, timer: TimerName): void {
  if (!c.timers[timer]) return;
  c.timers[timer] = false;
  c.actions.push({ type: 'StopTimer', timer });
}

function jittered(c: Ctx, seconds: number): number {
  return c.env.random === undefined ? seconds : jitter(seconds, c.env.random);
}

function backoffOf(cfg: SessionConfig): BackoffOptions {
  return cfg.backoff ?? DEFAULT_BACKOFF;
}

/** Leaves Idle (or restarts from it): connect now, or wait for the peer. */
function startSession(c: Ctx, listenFirst: boolean): void {
  stop(c, 'idleHold');
  const cfg = c.s.config;
  if (cfg.passive) {
    c.s.name = 'Active';
  } else if (listenFirst) {
    start(c, 'connectRetry', jittered(c, cfg.connectRetryTime));
    c.s.name = 'Active';
  } else {
    start(c, 'connectRetry', jittered(c, cfg.connectRetryTime));
    c.actions.push({ type: 'Connect' });
    c.s.name = 'Connect';
  }
}

/** A connection came up (either direction): send our OPEN, wait for theirs. */
function connected(c: Ctx, direction: 'outgoing' | 'incoming'): void {
  stop(c, 'connectRetry');
  c.actions.push({ type: 'SendOpen' });
  start(c, 'hold', c.s.config.openHoldTime ?? DEFAULT_OPEN_HOLD_TIME);
  c.s.connection = direction;
  c.s.name = 'OpenSent';
}

interface IdleExit {
  /** NOTIFICATION to send first (wrapped as Hard Reset when RFC 8538 says so). */
  readonly notify?: Notification;
  readonly forceHardReset?: boolean;
  /** Required when nothing is sent. */
  readonly reason?: DownReason;
  readonly failures: 'increment' | 'reset' | 'keep';
  /**
   * backoff: idle hold from the failure count; number: idle hold of that many seconds;
   * stop: stay Idle until ManualStart; none: no timer (the FSM is being discarded).
   */
  readonly restart: 'backoff' | 'stop' | 'none' | number;
}

/** Every way back to Idle: notify, drop, stop timers, report, schedule the restart. */
function toIdle(c: Ctx, x: IdleExit): void {
  const s = c.s;
  const n = s.negotiated;
  let reason = x.reason ?? { type: 'Stopped' };
  if (x.notify !== undefined) {
    let sent = x.notify;
    if (
      n !== undefined &&
      n.gracefulNotification &&
      !isHardReset(sent) &&
      (x.forceHardReset === true || (sent.code === ErrorCode.CEASE && HARD_RESET_CEASE.has(sent.subcode)))
    ) {
      sent = hardReset(sent);
    }
    c.actions.push({ type: 'SendNotification', code: sent.code, subcode: sent.subcode, data: sent.data });
    reason = { type: 'NotificationSent', notification: sent };
  }
  if (s.name !== 'Idle' && s.name !== 'Active') c.actions.push({ type: 'DropConnection' });
  for (const t of TIMERS) stop(c, t);

  let failures = s.failures;
  if (s.name === 'Established') {
    c.actions.push({ type: 'SessionDown', reason, graceful: n !== undefined && gracefulDown(n, reason) });
    const upFor = ((c.env.now ?? 0) - (s.establishedAt ?? 0)) / 1000;
    failures = failuresAfterEstablished(failures, upFor, backoffOf(s.config));
  }
  if (x.failures === 'increment') failures++;
  else if (x.failures === 'reset') failures = 0;

  s.failures = failures;
  s.stopped = x.restart === 'stop';
  if (x.restart === 'backoff') start(c, 'idleHold', jittered(c, idleHoldTime(failures, backoffOf(s.config))));
  else if (typeof x.restart === 'number') start(c, 'idleHold', x.restart);

  s.name = 'Idle';
  s.connection = undefined;
  s.negotiated = undefined;
  s.establishedAt = undefined;
  s.lastDown = reason;
}

/** Whether the peer's routes are kept as stale when an Established session ends. */
function gracefulDown(n: Negotiated, reason: DownReason): boolean {
  switch (reason.type) {
    case 'ConnectionLost':
      return n.gracefulRestart; // RFC 4724 §4.2
    case 'NotificationSent':
    case 'NotificationReceived':
      return n.gracefulNotification && !isHardReset(reason.notification); // RFC 8538 §4
    default:
      return false;
  }
}

/** ManualStop / ManualReset / AutomaticStop, the same in every state with a connection or attempt. */
function stopEvent(c: Ctx, e: FsmEvent, connected: boolean): boolean {
  switch (e.type) {
    case 'ManualStop':
      toIdle(c, {
        ...(connected ? { notify: cease(CeaseSubcode.ADMIN_SHUTDOWN, shutdownData(e.message)) } : {}),
        failures: 'reset',
        restart: 'stop',
      });
      return true;
    case 'ManualReset':
      toIdle(c, {
        ...(connected ? { notify: cease(CeaseSubcode.ADMIN_RESET, shutdownData(e.message)) } : {}),
        forceHardReset: e.hardReset === true,
        failures: 'reset',
        restart: 'backoff',
      });
      return true;
    case 'AutomaticStop':
      toIdle(c, {
        ...(connected ? { notify: cease(e.subcode, e.data ?? EMPTY) } : {}),
        forceHardReset: e.hardReset === true,
        failures: 'increment',
        restart: e.restart === false ? 'stop' : (e.restartAfter ?? 'backoff'),
      });
      return true;
    default:
      return false;
  }
}

function isVersionError(e: FsmEvent): boolean {
  return (
    e.type === 'NotifMsgVerErr' ||
    (e.type === 'NotifMsg' && e.code === ErrorCode.OPEN_MESSAGE && e.subcode === OpenSubcode.UNSUPPORTED_VERSION)
  );
}

function receivedOf(e: FsmEvent & { type: 'NotifMsg' | 'NotifMsgVerErr' }): DownReason {
  const notification: Notification =
    e.type === 'NotifMsg'
      ? { code: e.code, subcode: e.subcode, data: e.data ?? EMPTY }
      : { code: ErrorCode.OPEN_MESSAGE, subcode: OpenSubcode.UNSUPPORTED_VERSION, data: e.data ?? EMPTY };
  return { type: 'NotificationReceived', notification };
}

// --- Idle ---------------------------------------------------------------------

function idle(c: Ctx, e: FsmEvent): void {
  switch (e.type) {
    case 'ManualStart':
      c.s.failures = 0;
      c.s.stopped = false;
      startSession(c, false);
      return;
    case 'ManualStart_with_PassiveTcpEstablishment':
      c.s.failures = 0;
      c.s.stopped = false;
      startSession(c, true);
      return;
    case 'AutomaticStart':
      // Respects both a stop and a running hold-down (which restarts the session itself).
      if (!c.s.stopped && !c.timers.idleHold) startSession(c, false);
      return;
    case 'IdleHoldTimer_Expires':
      if (!c.s.stopped) startSession(c, false);
      return;
    case 'ManualReset':
      // Skip what is left of the hold-down; a stopped session stays stopped.
      if (c.s.stopped) return;
      c.s.failures = 0;
      startSession(c, false);
      return;
    case 'ManualStop':
      // Also cancels a pending automatic restart.
      stop(c, 'idleHold');
      c.s.failures = 0;
      c.s.stopped = true;
      return;
    case 'AutomaticStop':
      if (e.restart === false) {
        stop(c, 'idleHold');
        c.s.stopped = true;
      }
      return;
    default:
      return; // RFC 4271: any other event in Idle changes nothing
  }
}

// --- Connect ------------------------------------------------------------------

function connect(c: Ctx, e: FsmEvent): void {
  if (stopEvent(c, e, false)) return;
  switch (e.type) {
    case 'ManualStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart':
    case 'TcpConnection_Valid':
      return;
    case 'ConnectRetryTimer_Expires':
      c.actions.push({ type: 'DropConnection' });
      start(c, 'connectRetry', jittered(c, c.s.config.connectRetryTime));
      c.actions.push({ type: 'Connect' });
      return;
    case 'Tcp_CR_Acked':
      connected(c, 'outgoing');
      return;
    case 'TcpConnectionConfirmed':
      connected(c, 'incoming');
      return;
    case 'TcpConnectionFails':
      // RFC's DelayOpen branch rather than Idle: keep listening, retry on the timer.
      start(c, 'connectRetry', jittered(c, c.s.config.connectRetryTime));
      c.s.name = 'Active';
      return;
    default:
      // Header/OPEN errors, NOTIFICATIONs and any message: no OPEN was sent, so no
      // NOTIFICATION (SendNOTIFICATIONwithoutOPEN is off).
      toIdle(c, { reason: { type: 'UnexpectedEvent', event: e.type }, failures: 'increment', restart: 'backoff' });
  }
}

// --- Active -------------------------------------------------------------------

function active(c: Ctx, e: FsmEvent): void {
  if (stopEvent(c, e, false)) return;
  switch (e.type) {
    case 'ManualStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart':
    case 'TcpConnection_Valid':
      return;
    case 'ConnectRetryTimer_Expires':
      start(c, 'connectRetry', jittered(c, c.s.config.connectRetryTime));
      c.actions.push({ type: 'Connect' });
      c.s.name = 'Connect';
      return;
    case 'Tcp_CR_Acked':
      connected(c, 'outgoing');
      return;
    case 'TcpConnectionConfirmed':
      connected(c, 'incoming');
      return;
    case 'TcpConnectionFails':
      toIdle(c, { reason: { type: 'ConnectionLost' }, failures: 'increment', restart: 'backoff' });
      return;
    default:
      toIdle(c, { reason: { type: 'UnexpectedEvent', event: e.type }, failures: 'increment', restart: 'backoff' });
  }
}

// --- OpenSent, OpenConfirm, Established: a connection exists -----------------

/** Events handled alike once connected; returns false when the state must decide. */
function connectedCommon(c: Ctx, e: FsmEvent): boolean {
  if (stopEvent(c, e, true)) return true;
  switch (e.type) {
    case 'ManualStart':
    case 'ManualStart_with_PassiveTcpEstablishment':
    case 'AutomaticStart':
      return true;
    case 'TcpConnection_Valid':
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      // A second connection: the shell runs it in its own FSM (collision.ts).
      return true;
    case 'HoldTimer_Expires':
      toIdle(c, { notify: HOLD_TIMER_EXPIRED, failures: 'increment', restart: 'backoff' });
      return true;
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
      toIdle(c, { notify: e.error, failures: 'increment', restart: 'backoff' });
      return true;
    case 'OpenCollisionDump':
      toIdle(c, { notify: cease(CeaseSubcode.CONNECTION_COLLISION), failures: 'keep', restart: 'none' });
      return true;
    default:
      return false;
  }
}

/** RFC 6608: the FSM Error subcode for an unexpected message in this state. */
const UNEXPECTED_SUBCODE = {
  OpenSent: FsmSubcode.UNEXPECTED_IN_OPENSENT,
  OpenConfirm: FsmSubcode.UNEXPECTED_IN_OPENCONFIRM,
  Established: FsmSubcode.UNEXPECTED_IN_ESTABLISHED,
} as const;

function unexpected(c: Ctx, e: FsmEvent, name: keyof typeof UNEXPECTED_SUBCODE): void {
  // A message the state does not expect gets the RFC 6608 subcode; anything else
  // (a timer that should not be running here) gets Unspecified.
  const message =
    e.type === 'BGPOpen' ||
    e.type === 'KeepAliveMsg' ||
    e.type === 'UpdateMsg' ||
    e.type === 'UpdateMsgErr' ||
    e.type === 'RouteRefreshMsg';
  toIdle(c, {
    notify: fsmError(message ? UNEXPECTED_SUBCODE[name] : FsmSubcode.UNSPECIFIED),
    failures: 'increment',
    restart: 'backoff',
  });
}

function openSent(c: Ctx, e: FsmEvent): void {
  if (connectedCommon(c, e)) return;
  switch (e.type) {
    case 'TcpConnectionFails':
      c.actions.push({ type: 'DropConnection' });
      stop(c, 'hold');
      if (!c.s.config.passive) start(c, 'connectRetry', jittered(c, c.s.config.connectRetryTime));
      c.s.connection = undefined;
      c.s.lastDown = { type: 'ConnectionLost' };
      c.s.name = 'Active';
      return;
    case 'BGPOpen': {
      const err = checkOpen(c.s.config, e.open);
      if (err !== undefined) {
        toIdle(c, { notify: err, failures: 'increment', restart: 'backoff' });
        return;
      }
      const n = negotiate(c.s.config, e.open);
      c.s.negotiated = n;
      c.actions.push({ type: 'SendKeepalive' });
      if (n.holdTime > 0) {
        start(c, 'keepalive', jittered(c, n.keepaliveTime));
        start(c, 'hold', n.holdTime);
      } else {
        stop(c, 'hold');
      }
      c.s.name = 'OpenConfirm';
      return;
    }
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      // Version errors do not count (the peer may retry with another version); in
      // either case a NOTIFICATION is not answered with one.
      toIdle(c, { reason: receivedOf(e), failures: isVersionError(e) ? 'keep' : 'increment', restart: 'backoff' });
      return;
    default:
      unexpected(c, e, 'OpenSent');
  }
}

function openConfirm(c: Ctx, e: FsmEvent): void {
  if (connectedCommon(c, e)) return;
  switch (e.type) {
    case 'KeepaliveTimer_Expires':
      c.actions.push({ type: 'SendKeepalive' });
      start(c, 'keepalive', jittered(c, c.s.negotiated!.keepaliveTime));
      return;
    case 'TcpConnectionFails':
      toIdle(c, { reason: { type: 'ConnectionLost' }, failures: 'increment', restart: 'backoff' });
      return;
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      toIdle(c, { reason: receivedOf(e), failures: 'increment', restart: 'backoff' });
      return;
    case 'KeepAliveMsg': {
      const n = c.s.negotiated!;
      if (n.holdTime > 0) start(c, 'hold', n.holdTime);
      const sendHold = sendHoldTime(n.holdTime, c.s.config.sendHoldTime);
      if (sendHold > 0) start(c, 'sendHold', sendHold);
      c.actions.push({ type: 'SessionEstablished', negotiated: n });
      c.s.establishedAt = c.env.now ?? 0;
      c.s.name = 'Established';
      return;
    }
    default:
      unexpected(c, e, 'OpenConfirm');
  }
}

function established(c: Ctx, e: FsmEvent): void {
  if (connectedCommon(c, e)) return;
  const n = c.s.negotiated!;
  switch (e.type) {
    case 'KeepaliveTimer_Expires':
      c.actions.push({ type: 'SendKeepalive' });
      start(c, 'keepalive', jittered(c, n.keepaliveTime));
      return;
    case 'TcpConnectionFails':
      toIdle(c, { reason: { type: 'ConnectionLost' }, failures: 'increment', restart: 'backoff' });
      return;
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      toIdle(c, { reason: receivedOf(e), failures: 'increment', restart: 'backoff' });
      return;
    case 'KeepAliveMsg':
      if (n.holdTime > 0) start(c, 'hold', n.holdTime);
      return;
    case 'UpdateMsg':
      c.actions.push({ type: 'ProcessUpdate' });
      if (n.holdTime > 0) start(c, 'hold', n.holdTime);
      return;
    case 'RouteRefreshMsg':
      c.actions.push({ type: 'ProcessRouteRefresh' });
      if (n.holdTime > 0) start(c, 'hold', n.holdTime);
      return;
    case 'UpdateMsgErr':
      toIdle(c, { notify: e.error, failures: 'increment', restart: 'backoff' });
      return;
    case 'SendHoldTimer_Expires':
      // RFC 9687 §4: best effort, the peer is not reading; then like any other error.
      toIdle(c, { notify: SEND_HOLD_TIMER_EXPIRED, failures: 'increment', restart: 'backoff' });
      return;
    default:
      unexpected(c, e, 'Established');
  }
}
