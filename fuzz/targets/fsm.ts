// Target 3: the session FSM (src/session/fsm.ts `step`) driven by a byte string that
// mixes control events and BGP messages. A 0xff byte starts a message (its marker);
// any other byte is one control event (timers, TCP, start/stop). Messages are decoded
// with the real decoders and delivered as the shell would (BGPOpen, UpdateMsg or
// UpdateMsgErr from locateUpdate, NotifMsg, BGPHeaderErr/BGPOpenMsgErr…).
// Each input runs under three configurations (active eBGP with GR+N bit and ADD-PATH,
// passive iBGP accepting any AS, hold time 0).
// Oracles per step: no exception; the state is one of the six and its fields agree with
// it (negotiated, connection, establishedAt); the timer flags equal what the actions
// started and stopped, a StopTimer never names a stopped timer, and an expiry of a timer
// that is not running changes nothing; OpenConfirm/Established run hold and keepalive
// timers iff the hold time is non-zero; messages go out only on a connection; every
// NOTIFICATION has a registered code/subcode and is followed by DropConnection;
// SessionEstablished/SessionDown exactly on entering/leaving Established; UPDATEs and
// ROUTE-REFRESHes are processed only in Established; negotiated timers are sane.
import {
  FSM_STATES,
  initialState,
  step,
  type FsmAction,
  type FsmEvent,
  type SessionConfig,
  type SessionState,
  type TimerName,
} from '../../src/session/fsm.js';
import { buildCapabilities } from '../../src/wire/capabilities.js';
import { familyBit, updateContext } from '../../src/wire/attrs/context.js';
import { BgpError } from '../../src/wire/errors.js';
import { checkHeader } from '../../src/wire/header.js';
import { CeaseSubcode, ErrorCode, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN } from '../../src/wire/iana.js';
import { KEEPALIVE } from '../../src/wire/keepalive.js';
import { decodeMessage } from '../../src/wire/message.js';
import { buildOpen, encodeOpen } from '../../src/wire/open.js';
import { locateUpdate, ParsedUpdate } from '../../src/wire/update.js';
import type { Target } from '../engine.js';
import { streamLayout } from '../layout.js';
import { type Layout, mutateRaw } from '../mutate.js';
import { catchBgp, checkBgpError, OracleViolation, validNotification } from '../oracle.js';
import { Rng } from '../rng.js';
import { Stopwatch } from '../stopwatch.js';
import { encodedControlMessages, encodedUpdates, LOCAL_AS, PEER_AS } from '../seeds.js';
import { mutateStream } from '../struct/stream-model.js';

const HEADER_LEN = 19;
export const FSM_MAX = 16384;

/**
 * Control events by opcode: the low 5 bits of the byte pick the event (past the table:
 * a clock tick of 60 s), the high 3 bits a variant.
 */
const CONTROL: readonly ((v: number) => FsmEvent | 'tick')[] = [
  () => ({ type: 'ManualStart' }),
  () => ({ type: 'ManualStart_with_PassiveTcpEstablishment' }),
  (v) => (v & 4 ? { type: 'ManualStop', message: 'maintenance ✓' } : { type: 'ManualStop' }),
  (v) => ({ type: 'ManualReset', hardReset: (v & 4) !== 0 }),
  () => ({ type: 'AutomaticStart' }),
  (v) => ({ type: 'AutomaticStop', subcode: CEASE_SUBCODES[v % CEASE_SUBCODES.length]!, hardReset: (v & 4) !== 0 }),
  (v) => ({ type: 'AutomaticStop', subcode: CEASE_SUBCODES[v % CEASE_SUBCODES.length]!, restart: false }),
  () => ({ type: 'AutomaticStop', subcode: CeaseSubcode.OTHER_CONFIG_CHANGE, restartAfter: 5 }),
  () => ({ type: 'ConnectRetryTimer_Expires' }),
  () => ({ type: 'HoldTimer_Expires' }),
  () => ({ type: 'KeepaliveTimer_Expires' }),
  () => ({ type: 'IdleHoldTimer_Expires' }),
  () => ({ type: 'SendHoldTimer_Expires' }),
  () => ({ type: 'TcpConnection_Valid' }),
  () => ({ type: 'Tcp_CR_Acked' }),
  () => ({ type: 'TcpConnectionConfirmed' }),
  () => ({ type: 'TcpConnectionFails' }),
  () => ({ type: 'OpenCollisionDump' }),
  () => ({ type: 'NotifMsgVerErr' }),
  () => 'tick',
];

const CEASE_SUBCODES = [
  CeaseSubcode.MAX_PREFIXES,
  CeaseSubcode.PEER_DECONFIGURED,
  CeaseSubcode.OTHER_CONFIG_CHANGE,
  CeaseSubcode.OUT_OF_RESOURCES,
  CeaseSubcode.BFD_DOWN,
  CeaseSubcode.HARD_RESET,
];

/** Opcodes, for building seeds. */
export const OP = {
  start: 0,
  startPassive: 1,
  stop: 2,
  reset: 3,
  autoStart: 4,
  autoStop: 5,
  connectRetry: 8,
  hold: 9,
  keepalive: 10,
  idleHold: 11,
  acked: 13,
  confirmed: 14,
  fails: 15,
  collision: 16,
  tick: 18,
} as const;

const ALL_FAMILIES = [
  { afi: 1, safi: 1 },
  { afi: 2, safi: 1 },
];
const GR = {
  restartState: false,
  notification: true,
  restartTime: 120,
  families: ALL_FAMILIES.map((f) => ({ ...f, forwardingState: true })),
};

export const FSM_CONFIGS: readonly SessionConfig[] = [
  {
    localAs: LOCAL_AS,
    routerId: 0x0a000001,
    peerAs: PEER_AS,
    holdTime: 90,
    keepaliveTime: 30,
    connectRetryTime: 120,
    passive: false,
    capabilities: buildCapabilities({
      asn: LOCAL_AS,
      families: ALL_FAMILIES,
      extendedMessage: true,
      enhancedRouteRefresh: true,
      gracefulRestart: GR,
      addPath: [
        { afi: 1, safi: 1, mode: 3 },
        { afi: 2, safi: 1, mode: 3 },
      ],
    }),
  },
  {
    localAs: PEER_AS,
    routerId: 0x0a000001,
    peerAs: 0,
    holdTime: 3,
    keepaliveTime: 0,
    connectRetryTime: 5,
    passive: true,
    openHoldTime: 10,
    capabilities: buildCapabilities({ asn: PEER_AS, gracefulRestart: { ...GR, notification: false } }),
  },
  {
    localAs: LOCAL_AS,
    routerId: 0x0a000001,
    peerAs: PEER_AS,
    holdTime: 0,
    keepaliveTime: 0,
    connectRetryTime: 30,
    passive: false,
    backoff: { initial: 2, max: 10, multiplier: 3, stableAfter: 30 },
    capabilities: buildCapabilities({ asn: LOCAL_AS, routeRefresh: false }),
  },
];

/** The peer's OPEN that every configuration accepts (AS, identifier, capabilities). */
export function peerOpen(): Buffer {
  const caps = buildCapabilities({
    asn: PEER_AS,
    families: ALL_FAMILIES,
    extendedMessage: true,
    gracefulRestart: GR,
    addPath: [
      { afi: 1, safi: 1, mode: 3 },
      { afi: 2, safi: 1, mode: 1 },
    ],
  });
  return encodeOpen(buildOpen(PEER_AS, 90, 0x0a000002, caps));
}

export interface FsmCounters {
  steps: number;
  established: number;
  notificationsSent: number;
  updates: number;
}

const TIMER_OF: Partial<Record<FsmEvent['type'], TimerName>> = {
  ConnectRetryTimer_Expires: 'connectRetry',
  HoldTimer_Expires: 'hold',
  KeepaliveTimer_Expires: 'keepalive',
  IdleHoldTimer_Expires: 'idleHold',
  SendHoldTimer_Expires: 'sendHold',
};

const FSM_CODES = [1, 2, 3, 4, 5, 6, 7, 8];
const CONNECTED: readonly string[] = ['OpenSent', 'OpenConfirm', 'Established'];

export class FsmTarget implements Target {
  readonly name = 'fsm';
  readonly maxLen = FSM_MAX;
  readonly stopwatch = new Stopwatch();
  readonly counters: FsmCounters = { steps: 0, established: 0, notificationsSent: 0, updates: 0 };
  private readonly parsed = new ParsedUpdate();
  private readonly library: Buffer[];

  constructor() {
    this.library = [peerOpen(), KEEPALIVE, ...encodedControlMessages(), ...encodedUpdates().slice(0, 6)];
  }

  seeds(): Buffer[] {
    const open = peerOpen();
    const ups = encodedUpdates();
    const notif = encodedControlMessages()[5]!;
    const rr = encodedControlMessages()[10]!;
    const ops = (...xs: number[]): Buffer => Buffer.from(xs);
    const up = ops(OP.start, OP.acked);
    return [
      Buffer.concat([up, open, KEEPALIVE, ups[0]!, ups[1]!, KEEPALIVE, ops(OP.keepalive, OP.tick, OP.hold)]),
      Buffer.concat([up, open, KEEPALIVE, rr, ups[2]!, notif, ops(OP.idleHold, OP.acked), open, KEEPALIVE]),
      Buffer.concat([ops(OP.startPassive, OP.confirmed), open, KEEPALIVE, ops(OP.fails, OP.idleHold, OP.connectRetry)]),
      Buffer.concat([up, open, ops(OP.keepalive), KEEPALIVE, ops(OP.stop, OP.start, OP.connectRetry, OP.acked), open, ops(OP.collision)]),
      Buffer.concat([up, open, KEEPALIVE, ops(OP.reset | 0x80, OP.tick, OP.idleHold, OP.acked, OP.autoStop), ups[3]!]),
      Buffer.concat([ops(OP.start, OP.fails, OP.connectRetry, OP.confirmed, OP.hold, OP.autoStart, OP.idleHold)]),
    ];
  }

  layout(input: Buffer): Layout {
    // Layout of the messages inside, shifted to their offsets.
    const out: Layout = { lengths: [], tlvs: [], prefixLens: [] };
    for (const it of items(input)) {
      if (it.kind !== 'msg') continue;
      const l = streamLayout(input.subarray(it.start, it.end));
      for (const f of l.lengths) out.lengths.push({ ...f, off: f.off + it.start });
      for (const t of l.tlvs) out.tlvs.push({ start: t.start + it.start, end: t.end + it.start });
      for (const p of l.prefixLens) out.prefixLens.push(p + it.start);
    }
    return out;
  }

  mutate(input: Buffer, rng: Rng, other: Buffer): Buffer | undefined {
    const its = items(input).map((it) => input.subarray(it.start, it.end));
    switch (rng.below(6)) {
      case 0: // insert control events
        for (let n = rng.range(1, 3); n > 0; n--) its.splice(rng.below(its.length + 1), 0, Buffer.of(rng.below(255)));
        break;
      case 1: // drop an item
        if (its.length > 0) its.splice(rng.below(its.length), 1);
        break;
      case 2: // duplicate an item
        if (its.length > 0) its.splice(rng.below(its.length + 1), 0, rng.pick(its));
        break;
      case 3: // a library message
        its.splice(rng.below(its.length + 1), 0, rng.pick(this.library));
        break;
      case 4: {
        // change one message
        const msgs = its.map((b, i) => [b, i] as const).filter(([b]) => b[0] === 0xff && b.length >= HEADER_LEN);
        if (msgs.length === 0) return undefined;
        const [b, i] = rng.pick(msgs);
        its[i] = mutateStream(b, rng, other, MAX_EXTENDED_MESSAGE_LEN, this.library) ?? b;
        break;
      }
      default: {
        // change a control byte
        const ctl = its.map((b, i) => [b, i] as const).filter(([b]) => b.length === 1 && b[0] !== 0xff);
        if (ctl.length === 0) return undefined;
        const [, i] = rng.pick(ctl);
        its[i] = Buffer.of(rng.below(255));
      }
    }
    const out = Buffer.concat(its);
    return out.length > this.maxLen ? mutateRaw(out.subarray(0, this.maxLen), rng, { maxLen: this.maxLen, other, layout: () => this.layout(out) }) : out;
  }

  run(input: Buffer): void {
    for (let i = 0; i < FSM_CONFIGS.length; i++) {
      try {
        this.runConfig(input, FSM_CONFIGS[i]!);
      } catch (e) {
        if (e instanceof Error) e.message = `[config ${i}] ${e.message}`;
        throw e;
      }
    }
  }

  private runConfig(input: Buffer, config: SessionConfig): void {
    const rng = new Rng(input.length);
    let now = 1_000_000;
    const env = { now, random: (): number => rng.float() };
    const sw = this.stopwatch;
    let s = initialState(config);
    const deliver = (e: FsmEvent): void => {
      env.now = now += 1000;
      const r = sw.time(() => step(s, e, env));
      this.counters.steps++;
      checkStep(s, e, r.state, r.actions);
      for (const a of r.actions) if (a.type === 'SendNotification') this.counters.notificationsSent++;
      if (r.state.name === 'Established' && s.name !== 'Established') this.counters.established++;
      s = r.state;
    };
    let p = 0;
    while (p < input.length) {
      const b = input[p]!;
      if (b !== 0xff) {
        const op = CONTROL[b & 0x1f];
        const ev = op === undefined ? 'tick' : op(b >>> 5);
        if (ev === 'tick') now += 60_000;
        else deliver(ev);
        p++;
        continue;
      }
      // A message: its header, checked as the framer would.
      if (p + HEADER_LEN > input.length) {
        deliver({ type: 'TcpConnectionFails' });
        return;
      }
      const max = s.negotiated?.extendedMessage === true ? MAX_EXTENDED_MESSAGE_LEN : MAX_MESSAGE_LEN;
      const at = p;
      const len = catchBgp(() => sw.time(() => checkHeader(input, at, max)));
      if (len instanceof BgpError) {
        deliver({ type: 'BGPHeaderErr', error: len });
        p += HEADER_LEN;
        continue;
      }
      if (p + len > input.length) {
        deliver({ type: 'TcpConnectionFails' });
        return;
      }
      const type = input[p + 18]!;
      const body = input.subarray(p + HEADER_LEN, p + len);
      p += len;
      const m = catchBgp(() => sw.time(() => decodeMessage(type, body, { maxLength: max })));
      if (m instanceof BgpError) {
        if (m.code === ErrorCode.OPEN_MESSAGE) deliver({ type: 'BGPOpenMsgErr', error: m });
        else if (m.code === ErrorCode.MESSAGE_HEADER) deliver({ type: 'BGPHeaderErr', error: m });
        else deliver({ type: 'UpdateMsgErr', error: m });
        continue;
      }
      switch (m.type) {
        case 'open':
          deliver({ type: 'BGPOpen', open: m.open });
          break;
        case 'keepalive':
          deliver({ type: 'KeepAliveMsg' });
          break;
        case 'notification':
          deliver({ type: 'NotifMsg', code: m.notification.code, subcode: m.notification.subcode, data: m.notification.data });
          break;
        case 'route-refresh':
          deliver({ type: 'RouteRefreshMsg' });
          break;
        case 'update': {
          const n = s.negotiated;
          if (s.name === 'Established' && n !== undefined) {
            this.counters.updates++;
            let addPathRx = 0;
            for (const f of n.addPathReceive) addPathRx |= familyBit(f.afi, f.safi);
            const ctx = updateContext({ fourOctetAs: n.fourOctetAs, addPathRx, ebgp: !n.internal, peerAs: n.peerAs });
            const pu = sw.time(() => locateUpdate(m.body, ctx, this.parsed));
            deliver(pu.error !== null ? { type: 'UpdateMsgErr', error: pu.error } : { type: 'UpdateMsg' });
          } else {
            deliver({ type: 'UpdateMsg' });
          }
          break;
        }
        default:
          break; // ignored message
      }
    }
  }
}

interface Item {
  kind: 'ctl' | 'msg' | 'tail';
  start: number;
  end: number;
}

/** Splits an FSM input into control bytes, whole messages and a trailing fragment. */
function items(b: Buffer): Item[] {
  const out: Item[] = [];
  let p = 0;
  while (p < b.length) {
    if (b[p] !== 0xff) {
      out.push({ kind: 'ctl', start: p, end: p + 1 });
      p++;
      continue;
    }
    const len = p + HEADER_LEN <= b.length ? (b[p + 16]! << 8) | b[p + 17]! : 0;
    if (len >= HEADER_LEN && p + len <= b.length) {
      out.push({ kind: 'msg', start: p, end: p + len });
      p += len;
    } else {
      out.push({ kind: 'tail', start: p, end: b.length });
      break;
    }
  }
  return out;
}

const TIMER_NAMES: readonly TimerName[] = ['connectRetry', 'hold', 'keepalive', 'idleHold', 'sendHold'];

/** The per-step oracles (see the header comment). Messages are built only on failure. */
export function checkStep(s: SessionState, e: FsmEvent, r: SessionState, actions: readonly FsmAction[]): void {
  const at = (): string => `${s.name} + ${e.type} → ${r.name}`;
  const fail = (why: string): never => {
    throw new OracleViolation(`${at()}: ${why}`);
  };
  if (!FSM_STATES.includes(r.name)) fail('unknown state');
  if (r.config !== s.config) fail('config replaced');
  const negotiatedState = r.name === 'OpenConfirm' || r.name === 'Established';
  if ((r.negotiated !== undefined) !== negotiatedState) fail(`negotiated ${r.negotiated === undefined ? 'missing' : 'set'}`);
  if ((r.connection !== undefined) !== CONNECTED.includes(r.name)) fail(`connection ${r.connection ?? 'undefined'}`);
  if ((r.establishedAt !== undefined) !== (r.name === 'Established')) fail('establishedAt');
  if (!Number.isInteger(r.failures) || r.failures < 0) fail(`failures ${r.failures}`);
  if (actions.length > 16) fail(`${actions.length} actions`);

  // Timers: replay the actions on the flags we had.
  const shadow: Record<TimerName, boolean> = { ...s.timers };
  const expired = TIMER_OF[e.type];
  if (expired !== undefined) {
    if (!shadow[expired]) {
      if (actions.length !== 0 || r !== s) fail('expiry of a stopped timer changed something');
      return;
    }
    shadow[expired] = false;
  }
  let sentNotification = -1;
  let established = false;
  let down = false;
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    switch (a.type) {
      case 'StartTimer':
        if (!Number.isFinite(a.seconds) || a.seconds <= 0) fail(`start ${a.timer} for ${a.seconds} s`);
        shadow[a.timer] = true;
        break;
      case 'StopTimer':
        if (!shadow[a.timer]) fail(`stop of ${a.timer}, which is not running`);
        shadow[a.timer] = false;
        break;
      case 'SendNotification': {
        const bad = validNotification(a.code, a.subcode, FSM_CODES);
        if (bad !== undefined) fail(`NOTIFICATION ${bad}`);
        if (!CONNECTED.includes(s.name)) fail('NOTIFICATION without a connection');
        checkBgpError(a, FSM_CODES);
        if (a.code === ErrorCode.CEASE && a.subcode === CeaseSubcode.HARD_RESET && a.data.length >= 2) {
          const inner = validNotification(a.data[0]!, a.data[1]!, FSM_CODES);
          if (inner !== undefined && a.data[0] !== ErrorCode.CEASE) fail(`Hard Reset wraps ${inner}`);
        }
        sentNotification = i;
        break;
      }
      case 'SendKeepalive':
        if (!CONNECTED.includes(s.name)) fail('KEEPALIVE without a connection');
        break;
      case 'SendOpen':
        if (!((s.name === 'Connect' || s.name === 'Active') && r.name === 'OpenSent')) fail('SendOpen');
        break;
      case 'SessionEstablished':
        if (!(s.name !== 'Established' && r.name === 'Established')) fail('SessionEstablished');
        established = true;
        break;
      case 'SessionDown':
        if (!(s.name === 'Established' && r.name !== 'Established')) fail('SessionDown');
        down = true;
        break;
      case 'ProcessUpdate':
      case 'ProcessRouteRefresh':
        if (!(s.name === 'Established' && r.name === 'Established')) fail(`${a.type} outside Established`);
        break;
      default:
        break;
    }
  }
  if (sentNotification >= 0 && !actions.slice(sentNotification).some((a) => a.type === 'DropConnection')) {
    fail('NOTIFICATION not followed by DropConnection');
  }
  if ((s.name !== 'Established' && r.name === 'Established') !== established) fail('SessionEstablished missing');
  if ((s.name === 'Established' && r.name !== 'Established') !== down) fail('SessionDown missing');
  for (const t of TIMER_NAMES) {
    if (shadow[t] !== r.timers[t]) fail(`timers ${JSON.stringify(r.timers)}, actions say ${JSON.stringify(shadow)}`);
  }

  // Timers each state must (not) run.
  const tm = r.timers;
  if (r.name === 'Idle' && (tm.connectRetry || tm.hold || tm.keepalive)) fail('timers running in Idle');
  if (r.stopped && (r.name !== 'Idle' || tm.idleHold)) fail('stopped but not idle');
  if (r.name === 'Connect' && !tm.connectRetry) fail('Connect without ConnectRetryTimer');
  if (r.name === 'OpenSent' && !(tm.hold && !tm.keepalive && !tm.idleHold && !tm.connectRetry)) fail('OpenSent timers');
  const n = r.negotiated;
  if (n !== undefined) {
    if (!(n.holdTime === 0 || n.holdTime >= 3)) fail(`negotiated hold time ${n.holdTime}`);
    if (n.holdTime > 0 && !(n.keepaliveTime >= 1 && n.keepaliveTime <= n.holdTime / 3)) fail(`keepalive ${n.keepaliveTime} for hold ${n.holdTime}`);
    const on = n.holdTime > 0;
    if (tm.hold !== on || tm.keepalive !== on || tm.connectRetry || tm.idleHold) fail(`timers ${JSON.stringify(tm)} with hold time ${n.holdTime}`);
  }
}
