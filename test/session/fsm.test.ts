import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  hardReset,
  initialState,
  shutdownData,
  step,
  type FsmAction,
  type FsmEvent,
  type SessionConfig,
  type SessionState,
  type StepEnv,
  type TimerName,
} from '../../src/session/fsm.js';
import { emptyCapabilities, type Capabilities, type OpenMessage } from '../../src/wire/open-types.js';

// Values below are written from RFC 4271 §8.2.2 / RFC 6608 by hand, not from running the code.

const LOCAL_ID = 0x0a000001; // 10.0.0.1
const PEER_ID = 0x0a000002; // 10.0.0.2

function caps(asn: number, extra: Partial<Capabilities> = {}): Capabilities {
  return { ...emptyCapabilities(), multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, fourOctetAs: asn, ...extra };
}

function config(over: Partial<SessionConfig> = {}): SessionConfig {
  return {
    localAs: 65001,
    routerId: LOCAL_ID,
    peerAs: 65002,
    holdTime: 90,
    keepaliveTime: 30,
    connectRetryTime: 120,
    passive: false,
    capabilities: caps(65001),
    ...over,
  };
}

function peerOpen(over: Partial<OpenMessage> = {}): OpenMessage {
  return { version: 4, myAs: 65002, holdTime: 90, bgpId: PEER_ID, capabilities: caps(65002), ...over };
}

/** Runs events in order; returns the final result (state + actions of the last step). */
function run(s: SessionState, events: FsmEvent[], env: StepEnv = {}): { state: SessionState; actions: readonly FsmAction[] } {
  let r: { state: SessionState; actions: readonly FsmAction[] } = { state: s, actions: [] };
  for (const e of events) r = step(r.state, e, env);
  return r;
}

const EV = {
  start: { type: 'ManualStart' },
  acked: { type: 'Tcp_CR_Acked' },
  confirmed: { type: 'TcpConnectionConfirmed' },
  fails: { type: 'TcpConnectionFails' },
  keepalive: { type: 'KeepAliveMsg' },
  update: { type: 'UpdateMsg' },
} satisfies Record<string, FsmEvent>;

function open(o: Partial<OpenMessage> = {}): FsmEvent {
  return { type: 'BGPOpen', open: peerOpen(o) };
}

/** States reached through real transitions. */
function reach(name: 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established', cfg = config()): SessionState {
  const path: Record<typeof name, FsmEvent[]> = {
    Idle: [],
    Connect: [EV.start],
    Active: [EV.start, EV.fails],
    OpenSent: [EV.start, EV.acked],
    OpenConfirm: [EV.start, EV.acked, open()],
    Established: [EV.start, EV.acked, open(), EV.keepalive],
  };
  const s = run(initialState(cfg), path[name]).state;
  assert.equal(s.name, name);
  return s;
}

const startT = (timer: TimerName, seconds: number): FsmAction => ({
  type: 'StartTimer',
  timer,
  seconds,
});
const stopT = (timer: TimerName): FsmAction => ({ type: 'StopTimer', timer });
const notif = (code: number, subcode: number, data: number[] = []): FsmAction => ({
  type: 'SendNotification',
  code,
  subcode,
  data: Buffer.from(data),
});
const DROP: FsmAction = { type: 'DropConnection' };
const CONNECT: FsmAction = { type: 'Connect' };
const SEND_OPEN: FsmAction = { type: 'SendOpen' };
const SEND_KA: FsmAction = { type: 'SendKeepalive' };

interface Row {
  from: Parameters<typeof reach>[0];
  event: FsmEvent;
  to: SessionState['name'];
  actions: FsmAction[];
  /** Anything else to check on the resulting state. */
  check?: (s: SessionState, before: SessionState) => void;
}

// hold 90 (min of 90 and 90), keepalive 30; OpenSent hold = 240.
const rows: Row[] = [
  // Idle
  { from: 'Idle', event: EV.start, to: 'Connect', actions: [startT('connectRetry', 120), CONNECT] },
  { from: 'Idle', event: { type: 'AutomaticStart' }, to: 'Connect', actions: [startT('connectRetry', 120), CONNECT] },
  {
    from: 'Idle',
    event: { type: 'ManualStart_with_PassiveTcpEstablishment' },
    to: 'Active',
    actions: [startT('connectRetry', 120)],
  },
  { from: 'Idle', event: { type: 'ManualStop' }, to: 'Idle', actions: [], check: (s) => assert.equal(s.stopped, true) },
  { from: 'Idle', event: EV.confirmed, to: 'Idle', actions: [] },
  { from: 'Idle', event: EV.acked, to: 'Idle', actions: [] },
  { from: 'Idle', event: EV.fails, to: 'Idle', actions: [] },
  { from: 'Idle', event: open(), to: 'Idle', actions: [] },
  { from: 'Idle', event: EV.keepalive, to: 'Idle', actions: [] },
  { from: 'Idle', event: EV.update, to: 'Idle', actions: [] },
  { from: 'Idle', event: { type: 'NotifMsg', code: 6, subcode: 2 }, to: 'Idle', actions: [] },
  { from: 'Idle', event: { type: 'ConnectRetryTimer_Expires' }, to: 'Idle', actions: [] },
  { from: 'Idle', event: { type: 'HoldTimer_Expires' }, to: 'Idle', actions: [] },
  { from: 'Idle', event: { type: 'IdleHoldTimer_Expires' }, to: 'Idle', actions: [] }, // not running

  // Connect
  { from: 'Connect', event: EV.start, to: 'Connect', actions: [] },
  {
    from: 'Connect',
    event: { type: 'ConnectRetryTimer_Expires' },
    to: 'Connect',
    actions: [DROP, startT('connectRetry', 120), CONNECT],
  },
  {
    from: 'Connect',
    event: EV.acked,
    to: 'OpenSent',
    actions: [stopT('connectRetry'), SEND_OPEN, startT('hold', 240)],
    check: (s) => assert.equal(s.connection, 'outgoing'),
  },
  {
    from: 'Connect',
    event: EV.confirmed,
    to: 'OpenSent',
    actions: [stopT('connectRetry'), SEND_OPEN, startT('hold', 240)],
    check: (s) => assert.equal(s.connection, 'incoming'),
  },
  { from: 'Connect', event: EV.fails, to: 'Active', actions: [startT('connectRetry', 120)] },
  {
    from: 'Connect',
    event: { type: 'ManualStop', message: 'ignored: no OPEN sent' },
    to: 'Idle',
    actions: [DROP, stopT('connectRetry')],
    check: (s) => {
      assert.equal(s.stopped, true);
      assert.equal(s.failures, 0);
    },
  },
  {
    from: 'Connect',
    event: { type: 'ManualReset' },
    to: 'Idle',
    actions: [DROP, stopT('connectRetry'), startT('idleHold', 1)],
    check: (s) => assert.equal(s.stopped, false),
  },
  {
    from: 'Connect',
    event: { type: 'BGPHeaderErr', error: { code: 1, subcode: 1, data: Buffer.alloc(0) } },
    to: 'Idle',
    actions: [DROP, stopT('connectRetry'), startT('idleHold', 1)],
    check: (s) => assert.equal(s.failures, 1),
  },
  {
    from: 'Connect',
    event: EV.update,
    to: 'Idle',
    actions: [DROP, stopT('connectRetry'), startT('idleHold', 1)],
    check: (s) => assert.deepEqual(s.lastDown, { type: 'UnexpectedEvent', event: 'UpdateMsg' }),
  },
  {
    from: 'Connect',
    event: { type: 'AutomaticStop', subcode: 3, restart: false },
    to: 'Idle',
    actions: [DROP, stopT('connectRetry')],
    check: (s) => assert.equal(s.stopped, true),
  },

  // Active (reached by Connect + TcpConnectionFails: ConnectRetryTimer running)
  { from: 'Active', event: EV.start, to: 'Active', actions: [] },
  {
    from: 'Active',
    event: { type: 'ConnectRetryTimer_Expires' },
    to: 'Connect',
    actions: [startT('connectRetry', 120), CONNECT],
  },
  {
    from: 'Active',
    event: EV.confirmed,
    to: 'OpenSent',
    actions: [stopT('connectRetry'), SEND_OPEN, startT('hold', 240)],
    check: (s) => assert.equal(s.connection, 'incoming'),
  },
  { from: 'Active', event: EV.fails, to: 'Idle', actions: [stopT('connectRetry'), startT('idleHold', 1)] },
  { from: 'Active', event: { type: 'ManualStop' }, to: 'Idle', actions: [stopT('connectRetry')] },
  {
    from: 'Active',
    event: { type: 'NotifMsg', code: 6, subcode: 2 },
    to: 'Idle',
    actions: [stopT('connectRetry'), startT('idleHold', 1)],
  },

  // OpenSent (hold timer 240 running)
  {
    from: 'OpenSent',
    event: open(),
    to: 'OpenConfirm',
    actions: [SEND_KA, startT('keepalive', 30), startT('hold', 90)],
    check: (s) => {
      assert.equal(s.negotiated?.holdTime, 90);
      assert.equal(s.negotiated?.peerAs, 65002);
    },
  },
  {
    from: 'OpenSent',
    event: open({ holdTime: 9 }),
    to: 'OpenConfirm',
    actions: [SEND_KA, startT('keepalive', 3), startT('hold', 9)],
  },
  { from: 'OpenSent', event: open({ holdTime: 0 }), to: 'OpenConfirm', actions: [SEND_KA, stopT('hold')] },
  {
    from: 'OpenSent',
    event: { type: 'HoldTimer_Expires' },
    to: 'Idle',
    actions: [notif(4, 0), DROP, startT('idleHold', 1)],
    check: (s) => assert.equal(s.failures, 1),
  },
  {
    from: 'OpenSent',
    event: EV.fails,
    to: 'Active',
    actions: [DROP, stopT('hold'), startT('connectRetry', 120)],
    check: (s) => assert.equal(s.failures, 0),
  },
  { from: 'OpenSent', event: EV.confirmed, to: 'OpenSent', actions: [] },
  { from: 'OpenSent', event: EV.start, to: 'OpenSent', actions: [] },
  // RFC 6608: unexpected messages in OpenSent → FSM Error subcode 1.
  { from: 'OpenSent', event: EV.keepalive, to: 'Idle', actions: [notif(5, 1), DROP, stopT('hold'), startT('idleHold', 1)] },
  { from: 'OpenSent', event: EV.update, to: 'Idle', actions: [notif(5, 1), DROP, stopT('hold'), startT('idleHold', 1)] },
  {
    from: 'OpenSent',
    event: { type: 'RouteRefreshMsg' },
    to: 'Idle',
    actions: [notif(5, 1), DROP, stopT('hold'), startT('idleHold', 1)],
  },
  {
    from: 'OpenSent',
    event: { type: 'NotifMsgVerErr' },
    to: 'Idle',
    actions: [DROP, stopT('hold'), startT('idleHold', 1)],
    check: (s) => assert.equal(s.failures, 0),
  },
  {
    from: 'OpenSent',
    event: { type: 'NotifMsg', code: 2, subcode: 1, data: Buffer.from([0, 4]) },
    to: 'Idle',
    actions: [DROP, stopT('hold'), startT('idleHold', 1)],
    check: (s) => assert.equal(s.failures, 0),
  },
  {
    from: 'OpenSent',
    event: { type: 'NotifMsg', code: 6, subcode: 3 },
    to: 'Idle',
    actions: [DROP, stopT('hold'), startT('idleHold', 1)],
    check: (s) => {
      assert.equal(s.failures, 1);
      assert.deepEqual(s.lastDown, {
        type: 'NotificationReceived',
        notification: { code: 6, subcode: 3, data: Buffer.alloc(0) },
      });
    },
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPHeaderErr', error: { code: 1, subcode: 2, data: Buffer.from([0, 0x13]) } },
    to: 'Idle',
    actions: [notif(1, 2, [0, 0x13]), DROP, stopT('hold'), startT('idleHold', 1)],
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpenMsgErr', error: { code: 2, subcode: 4, data: Buffer.alloc(0) } },
    to: 'Idle',
    actions: [notif(2, 4), DROP, stopT('hold'), startT('idleHold', 1)],
  },
  {
    from: 'OpenSent',
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    actions: [notif(6, 7), DROP, stopT('hold')],
  },
  {
    from: 'OpenSent',
    event: { type: 'ManualStop', message: 'maint' },
    to: 'Idle',
    actions: [notif(6, 2, [5, ...Buffer.from('maint')]), DROP, stopT('hold')],
    check: (s) => assert.equal(s.stopped, true),
  },
  {
    from: 'OpenSent',
    event: { type: 'ManualReset' },
    to: 'Idle',
    actions: [notif(6, 4), DROP, stopT('hold'), startT('idleHold', 1)],
    check: (s) => assert.equal(s.stopped, false),
  },
  {
    from: 'OpenSent',
    event: { type: 'AutomaticStop', subcode: 6 },
    to: 'Idle',
    actions: [notif(6, 6), DROP, stopT('hold'), startT('idleHold', 1)],
  },
  {
    from: 'OpenSent',
    event: { type: 'AutomaticStop', subcode: 1, data: Buffer.from([0, 1, 1, 0, 0, 0, 10]), restartAfter: 300 },
    to: 'Idle',
    actions: [notif(6, 1, [0, 1, 1, 0, 0, 0, 10]), DROP, stopT('hold'), startT('idleHold', 300)],
  },

  // OpenConfirm (hold 90 and keepalive 30 running)
  {
    from: 'OpenConfirm',
    event: EV.keepalive,
    to: 'Established',
    actions: [startT('hold', 90), startT('sendHold', 480), { type: 'SessionEstablished', negotiated: reach('OpenConfirm').negotiated! }],
  },
  { from: 'OpenConfirm', event: { type: 'KeepaliveTimer_Expires' }, to: 'OpenConfirm', actions: [SEND_KA, startT('keepalive', 30)] },
  {
    from: 'OpenConfirm',
    event: { type: 'HoldTimer_Expires' },
    to: 'Idle',
    actions: [notif(4, 0), DROP, stopT('keepalive'), startT('idleHold', 1)],
  },
  {
    from: 'OpenConfirm',
    event: EV.update,
    to: 'Idle',
    actions: [notif(5, 2), DROP, stopT('hold'), stopT('keepalive'), startT('idleHold', 1)],
  },
  {
    from: 'OpenConfirm',
    event: open(),
    to: 'Idle',
    actions: [notif(5, 2), DROP, stopT('hold'), stopT('keepalive'), startT('idleHold', 1)],
  },
  {
    from: 'OpenConfirm',
    event: { type: 'NotifMsg', code: 6, subcode: 5 },
    to: 'Idle',
    actions: [DROP, stopT('hold'), stopT('keepalive'), startT('idleHold', 1)],
  },
  { from: 'OpenConfirm', event: EV.fails, to: 'Idle', actions: [DROP, stopT('hold'), stopT('keepalive'), startT('idleHold', 1)] },
  {
    from: 'OpenConfirm',
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    actions: [notif(6, 7), DROP, stopT('hold'), stopT('keepalive')],
  },
  { from: 'OpenConfirm', event: EV.acked, to: 'OpenConfirm', actions: [] },

  // Established (hold 90, keepalive 30 and send hold 480 running)
  { from: 'Established', event: EV.update, to: 'Established', actions: [{ type: 'ProcessUpdate' }, startT('hold', 90)] },
  { from: 'Established', event: EV.keepalive, to: 'Established', actions: [startT('hold', 90)] },
  {
    from: 'Established',
    event: { type: 'RouteRefreshMsg' },
    to: 'Established',
    actions: [{ type: 'ProcessRouteRefresh' }, startT('hold', 90)],
  },
  { from: 'Established', event: { type: 'KeepaliveTimer_Expires' }, to: 'Established', actions: [SEND_KA, startT('keepalive', 30)] },
  { from: 'Established', event: EV.confirmed, to: 'Established', actions: [] },
  { from: 'Established', event: EV.start, to: 'Established', actions: [] },
  {
    from: 'Established',
    event: { type: 'HoldTimer_Expires' },
    to: 'Idle',
    actions: [
      notif(4, 0),
      DROP,
      stopT('keepalive'),
      stopT('sendHold'),
      {
        type: 'SessionDown',
        reason: { type: 'NotificationSent', notification: { code: 4, subcode: 0, data: Buffer.alloc(0) } },
        graceful: false,
      },
      startT('idleHold', 1),
    ],
  },
  {
    from: 'Established',
    event: { type: 'UpdateMsgErr', error: { code: 3, subcode: 1, data: Buffer.alloc(0) } },
    to: 'Idle',
    actions: [
      notif(3, 1),
      DROP,
      stopT('hold'),
      stopT('keepalive'),
      stopT('sendHold'),
      {
        type: 'SessionDown',
        reason: { type: 'NotificationSent', notification: { code: 3, subcode: 1, data: Buffer.alloc(0) } },
        graceful: false,
      },
      startT('idleHold', 1),
    ],
  },
  {
    from: 'Established',
    event: open(),
    to: 'Idle',
    actions: [
      notif(5, 3),
      DROP,
      stopT('hold'),
      stopT('keepalive'),
      stopT('sendHold'),
      {
        type: 'SessionDown',
        reason: { type: 'NotificationSent', notification: { code: 5, subcode: 3, data: Buffer.alloc(0) } },
        graceful: false,
      },
      startT('idleHold', 1),
    ],
  },
  {
    from: 'Established',
    event: { type: 'NotifMsg', code: 6, subcode: 4 },
    to: 'Idle',
    actions: [
      DROP,
      stopT('hold'),
      stopT('keepalive'),
      stopT('sendHold'),
      {
        type: 'SessionDown',
        reason: { type: 'NotificationReceived', notification: { code: 6, subcode: 4, data: Buffer.alloc(0) } },
        graceful: false,
      },
      startT('idleHold', 1),
    ],
  },
  {
    from: 'Established',
    event: EV.fails,
    to: 'Idle',
    actions: [
      DROP,
      stopT('hold'),
      stopT('keepalive'),
      stopT('sendHold'),
      { type: 'SessionDown', reason: { type: 'ConnectionLost' }, graceful: false },
      startT('idleHold', 1),
    ],
  },
  {
    from: 'Established',
    event: { type: 'ManualStop' },
    to: 'Idle',
    actions: [
      notif(6, 2),
      DROP,
      stopT('hold'),
      stopT('keepalive'),
      stopT('sendHold'),
      {
        type: 'SessionDown',
        reason: { type: 'NotificationSent', notification: { code: 6, subcode: 2, data: Buffer.alloc(0) } },
        graceful: false,
      },
    ],
    check: (s) => {
      assert.equal(s.stopped, true);
      assert.equal(s.timers.idleHold, false);
    },
  },
];

for (const row of rows) {
  test(`${row.from} + ${row.event.type} → ${row.to}`, () => {
    const before = reach(row.from);
    const r = step(before, row.event);
    assert.equal(r.state.name, row.to);
    assert.deepEqual(r.actions, row.actions);
    row.check?.(r.state, before);
  });
}

test('the timers the state believes running follow the actions', () => {
  let s = initialState(config());
  const running = new Set<string>();
  const events: FsmEvent[] = [EV.start, EV.fails, { type: 'ConnectRetryTimer_Expires' }, EV.acked, open(), EV.keepalive, EV.update];
  for (const e of events) {
    const r = step(s, e);
    if (e.type === 'ConnectRetryTimer_Expires') running.delete('connectRetry');
    for (const a of r.actions) {
      if (a.type === 'StartTimer') running.add(a.timer);
      if (a.type === 'StopTimer') {
        assert.ok(running.has(a.timer), `StopTimer ${a.timer} only for a running timer`);
        running.delete(a.timer);
      }
    }
    s = r.state;
    const flagged = Object.entries(s.timers)
      .filter(([, v]) => v)
      .map(([k]) => k)
      .sort();
    assert.deepEqual(flagged, [...running].sort(), `after ${e.type}`);
  }
  assert.deepEqual([...running].sort(), ['hold', 'keepalive', 'sendHold']);
});

test('a passive peer never connects: Active without a timer, and connects only when the peer does', () => {
  const cfg = config({ passive: true });
  const r1 = step(initialState(cfg), EV.start);
  assert.equal(r1.state.name, 'Active');
  assert.deepEqual(r1.actions, []);
  // ManualStart_with_PassiveTcpEstablishment does not make a passive peer connect either.
  assert.deepEqual(step(initialState(cfg), { type: 'ManualStart_with_PassiveTcpEstablishment' }).actions, []);
  const r2 = step(r1.state, { type: 'ConnectRetryTimer_Expires' });
  assert.equal(r2.state, r1.state, 'a timer that is not running is ignored');
  const r3 = step(r1.state, EV.confirmed);
  assert.equal(r3.state.name, 'OpenSent');
  assert.deepEqual(r3.actions, [SEND_OPEN, startT('hold', 240)]);
  // Losing the connection in OpenSent returns to Active without arming ConnectRetryTimer.
  const r4 = step(r3.state, EV.fails);
  assert.equal(r4.state.name, 'Active');
  assert.deepEqual(r4.actions, [DROP, stopT('hold')]);
});

test('hold time 0: no keepalives, no hold timer, stale expiries ignored', () => {
  const s = run(reach('OpenSent'), [open({ holdTime: 0 })]).state;
  const r = step(s, EV.keepalive);
  assert.equal(r.state.name, 'Established');
  assert.deepEqual(r.actions, [{ type: 'SessionEstablished', negotiated: s.negotiated! }]);
  assert.deepEqual(step(r.state, EV.update).actions, [{ type: 'ProcessUpdate' }]);
  assert.deepEqual(step(r.state, EV.keepalive).actions, []);
  assert.deepEqual(step(r.state, { type: 'HoldTimer_Expires' }).state.name, 'Established');
  assert.deepEqual(step(r.state, { type: 'KeepaliveTimer_Expires' }).actions, []);
});

test('OPEN validation: each NOTIFICATION, then Idle with the idle hold timer', () => {
  const cases: { open: Partial<OpenMessage>; cfg?: Partial<SessionConfig>; code: number; subcode: number; data: number[] }[] = [
    { open: { version: 3 }, code: 2, subcode: 1, data: [0, 4] },
    { open: { version: 5 }, code: 2, subcode: 1, data: [0, 4] },
    // 65003 = 0xFDEB; data is the 2-octet My AS field.
    { open: { myAs: 65003, capabilities: caps(65003) }, code: 2, subcode: 2, data: [0xfd, 0xeb] },
    // 4-octet capability wins: the 2-octet field says 65002 but the capability 65003.
    { open: { myAs: 65002, capabilities: caps(65003) }, code: 2, subcode: 2, data: [0xfd, 0xea] },
    // AS_TRANS (23456 = 0x5BA0) without the capability is not a real AS, even for "any".
    { open: { myAs: 23456, capabilities: caps(0, { fourOctetAs: undefined }) }, cfg: { peerAs: 0 }, code: 2, subcode: 2, data: [0x5b, 0xa0] },
    { open: { myAs: 0, capabilities: caps(0, { fourOctetAs: undefined }) }, cfg: { peerAs: 0 }, code: 2, subcode: 2, data: [0, 0] },
    { open: { bgpId: 0 }, code: 2, subcode: 3, data: [] },
    // iBGP with our own identifier.
    { open: { myAs: 65001, capabilities: caps(65001), bgpId: LOCAL_ID }, cfg: { peerAs: 65001 }, code: 2, subcode: 3, data: [] },
    { open: { holdTime: 1 }, code: 2, subcode: 6, data: [] },
    { open: { holdTime: 2 }, code: 2, subcode: 6, data: [] },
  ];
  for (const c of cases) {
    const r = step(reach('OpenSent', config(c.cfg)), open(c.open));
    assert.equal(r.state.name, 'Idle', JSON.stringify(c.open));
    assert.deepEqual(r.actions, [notif(c.code, c.subcode, c.data), DROP, stopT('hold'), startT('idleHold', 1)]);
    assert.equal(r.state.failures, 1);
    assert.equal(r.state.negotiated, undefined);
  }
});

test('OPEN validation accepts: any AS (peerAs 0), 4-octet AS behind AS_TRANS, eBGP with our identifier, hold 0 and 3', () => {
  const ok: { open: Partial<OpenMessage>; cfg?: Partial<SessionConfig>; peerAs: number }[] = [
    { open: { myAs: 64512, capabilities: caps(64512) }, cfg: { peerAs: 0 }, peerAs: 64512 },
    { open: { myAs: 23456, capabilities: caps(4200000000) }, cfg: { peerAs: 4200000000 }, peerAs: 4200000000 },
    { open: { myAs: 23456, capabilities: caps(4200000000) }, cfg: { peerAs: 0 }, peerAs: 4200000000 },
    // A 2-octet-only speaker (no capability) with a real AS.
    { open: { capabilities: caps(0, { fourOctetAs: undefined }) }, peerAs: 65002 },
    { open: { bgpId: LOCAL_ID }, peerAs: 65002 },
    { open: { holdTime: 0 }, peerAs: 65002 },
    { open: { holdTime: 3 }, peerAs: 65002 },
  ];
  for (const c of ok) {
    const r = step(reach('OpenSent', config(c.cfg)), open(c.open));
    assert.equal(r.state.name, 'OpenConfirm', JSON.stringify(c.open));
    assert.equal(r.state.negotiated?.peerAs, c.peerAs);
  }
  const ibgp = step(reach('OpenSent', config({ peerAs: 0 })), open({ myAs: 65001, capabilities: caps(65001) }));
  assert.equal(ibgp.state.negotiated?.internal, true);
});

test('idle hold backoff doubles with repeated failures and resets after ManualStart', () => {
  // Bad BGP Identifier each time; the idle hold requested: 1, 2, 4, … capped at 120.
  let t = step(initialState(config()), EV.start).state;
  const seconds: number[] = [];
  for (let i = 0; i < 9; i++) {
    const r = run(t, [EV.acked, open({ bgpId: 0 })]);
    const idleHold = r.actions.find((a) => a.type === 'StartTimer' && a.timer === 'idleHold');
    assert.ok(idleHold && idleHold.type === 'StartTimer');
    seconds.push(idleHold.seconds);
    assert.equal(r.state.failures, i + 1);
    t = step(r.state, { type: 'IdleHoldTimer_Expires' }).state;
  }
  assert.deepEqual(seconds, [1, 2, 4, 8, 16, 32, 64, 120, 120]);

  // ManualStart resets the count.
  const idle = run(t, [EV.acked, open({ bgpId: 0 })]).state;
  assert.equal(idle.failures, 10);
  const restarted = step(idle, EV.start);
  assert.equal(restarted.state.failures, 0);
  assert.deepEqual(restarted.actions, [stopT('idleHold'), startT('connectRetry', 120), CONNECT]);
});

test('a session that stayed Established long enough forgets earlier failures', () => {
  // Three failures first.
  let s = step(initialState(config()), EV.start).state;
  for (let i = 0; i < 3; i++) {
    s = run(s, [EV.acked, open({ bgpId: 0 }), { type: 'IdleHoldTimer_Expires' }]).state;
  }
  assert.equal(s.failures, 3);
  const up = run(s, [EV.acked, open(), EV.keepalive], { now: 1_000_000 }).state;
  assert.equal(up.establishedAt, 1_000_000);

  // Down after 10 s: the count goes on (4 → 8 s idle hold).
  const quick = step(up, EV.fails, { now: 1_010_000 });
  assert.equal(quick.state.failures, 4);
  assert.deepEqual(quick.actions.at(-1), startT('idleHold', 8));

  // Down after 200 s (> 120 s stable): starts again at 1 failure, 1 s.
  const late = step(up, EV.fails, { now: 1_200_000 });
  assert.equal(late.state.failures, 1);
  assert.deepEqual(late.actions.at(-1), startT('idleHold', 1));
});

test('ManualStop holds the session down; only ManualStart brings it back', () => {
  const down = step(reach('Established'), { type: 'ManualStop', message: 'maintenance' }).state;
  assert.equal(down.stopped, true);
  assert.deepEqual(step(down, { type: 'AutomaticStart' }).actions, []);
  assert.equal(step(down, { type: 'AutomaticStart' }).state.name, 'Idle');
  assert.equal(step(down, { type: 'ManualReset' }).state.name, 'Idle');
  assert.equal(step(down, { type: 'IdleHoldTimer_Expires' }).state.name, 'Idle');
  const up = step(down, EV.start);
  assert.equal(up.state.name, 'Connect');
  assert.equal(up.state.stopped, false);

  // ManualStop while waiting out the idle hold cancels the restart.
  const waiting = step(reach('OpenSent'), { type: 'HoldTimer_Expires' }).state;
  assert.equal(waiting.timers.idleHold, true);
  const stopped = step(waiting, { type: 'ManualStop' });
  assert.deepEqual(stopped.actions, [stopT('idleHold')]);
  assert.equal(step(stopped.state, { type: 'IdleHoldTimer_Expires' }).state.name, 'Idle');
});

test('AutomaticStart waits out a running hold-down; ManualStart does not', () => {
  const waiting = step(reach('OpenSent'), { type: 'HoldTimer_Expires' }).state;
  const auto = step(waiting, { type: 'AutomaticStart' });
  assert.equal(auto.state.name, 'Idle');
  assert.deepEqual(auto.actions, []);
  assert.equal(auto.state.timers.idleHold, true);
  const manual = step(waiting, EV.start);
  assert.equal(manual.state.name, 'Connect');
});

test('ManualReset restarts: Cease/Administrative Reset with the message, then a short idle hold', () => {
  const r = step(reach('Established'), { type: 'ManualReset', message: 'new policy' });
  const data = [10, ...Buffer.from('new policy')];
  assert.deepEqual(r.actions[0], notif(6, 4, data));
  assert.deepEqual(r.actions.at(-1), startT('idleHold', 1));
  assert.equal(r.state.stopped, false);
  const again = step(r.state, { type: 'IdleHoldTimer_Expires' });
  assert.equal(again.state.name, 'Connect');

  // In Idle during the hold-down, a reset skips the rest of the wait.
  const waiting = step(reach('OpenSent'), { type: 'HoldTimer_Expires' }).state;
  const now = step(waiting, { type: 'ManualReset' });
  assert.equal(now.state.name, 'Connect');
  assert.deepEqual(now.actions, [stopT('idleHold'), startT('connectRetry', 120), CONNECT]);
});

test('AutomaticStop without restart stays down', () => {
  const r = step(reach('Established'), { type: 'AutomaticStop', subcode: 3, restart: false });
  assert.deepEqual(r.actions[0], notif(6, 3));
  assert.equal(r.state.stopped, true);
  assert.ok(!r.actions.some((a) => a.type === 'StartTimer'));
});

test('jitter applies to ConnectRetry, Keepalive and IdleHold, never to Hold', () => {
  const low: StepEnv = { random: () => 0 };
  assert.deepEqual(step(initialState(config()), EV.start, low).actions, [startT('connectRetry', 90), CONNECT]);
  const confirm = step(reach('OpenSent'), open(), low);
  assert.deepEqual(confirm.actions, [SEND_KA, startT('keepalive', 22.5), startT('hold', 90)]);
  const held = step(reach('OpenSent'), { type: 'HoldTimer_Expires' }, { random: () => 0.5 });
  assert.deepEqual(held.actions.at(-1), startT('idleHold', 0.875));
  const est = step(reach('Established'), EV.update, low);
  assert.deepEqual(est.actions, [{ type: 'ProcessUpdate' }, startT('hold', 90)]);
});

test('step is pure: the input state is not modified', () => {
  const s = reach('Established');
  const copy = structuredClone(s);
  step(s, { type: 'HoldTimer_Expires' });
  step(s, EV.update);
  assert.deepEqual(s, copy);
});

// --- RFC 8538 / RFC 4724 -----------------------------------------------------

const GR = { restartState: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingState: false }] };

function grConfig(n: boolean): SessionConfig {
  return config({ capabilities: caps(65001, { gracefulRestart: { ...GR, notification: n } }) });
}
function grEstablished(ourN: boolean, peerN: boolean, peerGr = true): SessionState {
  const peerCaps = caps(65002, peerGr ? { gracefulRestart: { ...GR, notification: peerN } } : {});
  const s = run(initialState(grConfig(ourN)), [EV.start, EV.acked, open({ capabilities: peerCaps }), EV.keepalive]).state;
  assert.equal(s.name, 'Established');
  return s;
}
function sessionDown(actions: readonly FsmAction[]): FsmAction & { type: 'SessionDown' } {
  const a = actions.find((x) => x.type === 'SessionDown');
  assert.ok(a && a.type === 'SessionDown');
  return a;
}

test('RFC 8538: with the N bit exchanged, Administrative Shutdown goes out as Hard Reset', () => {
  const r = step(grEstablished(true, true), { type: 'ManualStop', message: 'bye' });
  // Hard Reset data = ErrCode 6, Subcode 2, then the shutdown communication (len 3 "bye").
  assert.deepEqual(r.actions[0], notif(6, 9, [6, 2, 3, 0x62, 0x79, 0x65]));
  assert.equal(sessionDown(r.actions).graceful, false);
});

test('RFC 8538: Administrative Reset is a soft (graceful) reset unless hardReset is asked', () => {
  const soft = step(grEstablished(true, true), { type: 'ManualReset' });
  assert.deepEqual(soft.actions[0], notif(6, 4));
  assert.equal(sessionDown(soft.actions).graceful, true);
  const hard = step(grEstablished(true, true), { type: 'ManualReset', hardReset: true });
  assert.deepEqual(hard.actions[0], notif(6, 9, [6, 4]));
  assert.equal(sessionDown(hard.actions).graceful, false);
});

test('RFC 8538: max prefixes is always hard; hold timer expiry and UPDATE errors stay graceful', () => {
  const maxp = step(grEstablished(true, true), { type: 'AutomaticStop', subcode: 1, data: Buffer.from([0, 1, 1, 0, 0, 3, 0xe8]) });
  assert.deepEqual(maxp.actions[0], notif(6, 9, [6, 1, 0, 1, 1, 0, 0, 3, 0xe8]));
  const hold = step(grEstablished(true, true), { type: 'HoldTimer_Expires' });
  assert.deepEqual(hold.actions[0], notif(4, 0));
  assert.equal(sessionDown(hold.actions).graceful, true);
  const upd = step(grEstablished(true, true), { type: 'UpdateMsgErr', error: { code: 3, subcode: 11, data: Buffer.alloc(0) } });
  assert.deepEqual(upd.actions[0], notif(3, 11));
  assert.equal(sessionDown(upd.actions).graceful, true);
});

test('RFC 8538: a received Hard Reset ends gracefulness; other NOTIFICATIONs keep it', () => {
  const hard = step(grEstablished(true, true), { type: 'NotifMsg', code: 6, subcode: 9, data: Buffer.from([6, 2]) });
  assert.equal(sessionDown(hard.actions).graceful, false);
  const soft = step(grEstablished(true, true), { type: 'NotifMsg', code: 6, subcode: 6 });
  assert.equal(sessionDown(soft.actions).graceful, true);
});

test('N bit on one side only: plain Cease, NOTIFICATIONs not graceful, TCP loss graceful (RFC 4724)', () => {
  for (const [ourN, peerN] of [
    [true, false],
    [false, true],
  ] as const) {
    const stop = step(grEstablished(ourN, peerN), { type: 'ManualStop' });
    assert.deepEqual(stop.actions[0], notif(6, 2));
    const notified = step(grEstablished(ourN, peerN), { type: 'NotifMsg', code: 6, subcode: 6 });
    assert.equal(sessionDown(notified.actions).graceful, false);
    const lost = step(grEstablished(ourN, peerN), EV.fails);
    assert.equal(sessionDown(lost.actions).graceful, true);
  }
  // The peer without Graceful Restart: nothing is graceful.
  const noGr = step(grEstablished(true, true, false), EV.fails);
  assert.equal(sessionDown(noGr.actions).graceful, false);
});

// --- helpers -------------------------------------------------------------------

test('shutdownData: length byte + UTF-8, at most 255 bytes, never splitting a character', () => {
  assert.deepEqual(shutdownData(undefined), Buffer.alloc(0));
  assert.deepEqual(shutdownData(''), Buffer.alloc(0));
  assert.deepEqual([...shutdownData('hi')], [2, 0x68, 0x69]);
  const fits = 'a' + 'é'.repeat(127); // 1 + 254 = 255 bytes
  assert.equal(shutdownData(fits)[0], 255);
  assert.equal(shutdownData(fits).length, 256);
  const over = 'é'.repeat(128); // 256 bytes: cut to 127 characters = 254 bytes
  const d = shutdownData(over);
  assert.equal(d[0], 254);
  assert.equal(d.subarray(1).toString('utf8'), 'é'.repeat(127));
  const emoji = 'x'.repeat(253) + '😀'; // 253 + 4 bytes: the emoji does not fit
  assert.deepEqual(shutdownData(emoji).subarray(1).toString('utf8'), 'x'.repeat(253));
});

test('hardReset wraps code, subcode and data', () => {
  const h = hardReset({ code: 6, subcode: 2, data: Buffer.from([1, 0x41]) });
  assert.deepEqual(h, { code: 6, subcode: 9, data: Buffer.from([6, 2, 1, 0x41]) });
});

// --- RFC 9687 Send Hold Timer -------------------------------------------------

test('RFC 9687: Established starts the send hold timer: 8 minutes, twice a larger hold time, or the configured value', () => {
  const startsOf = (cfg: SessionConfig, peerHold: number): FsmAction[] => {
    const r = run(initialState(cfg), [EV.start, EV.acked, open({ holdTime: peerHold }), EV.keepalive]);
    assert.equal(r.state.name, 'Established');
    return r.actions.filter((a) => a.type === 'StartTimer' && a.timer === 'sendHold');
  };
  assert.deepEqual(startsOf(config(), 90), [startT('sendHold', 480)]); // 2 × 90 < 480
  assert.deepEqual(startsOf(config({ holdTime: 300 }), 300), [startT('sendHold', 600)]); // 2 × 300 > 480
  assert.deepEqual(startsOf(config({ sendHoldTime: 5 }), 90), [startT('sendHold', 5)]);
  assert.deepEqual(startsOf(config({ sendHoldTime: 0 }), 90), [], 'configured off');
  // A hold time of 0 (no KEEPALIVEs at all): no send hold timer either.
  const zero = run(initialState(config({ holdTime: 0, sendHoldTime: 5 })), [EV.start, EV.acked, open({ holdTime: 0 }), EV.keepalive]);
  assert.equal(zero.state.name, 'Established');
  assert.equal(zero.state.timers.sendHold, false);
  assert.deepEqual(zero.actions.filter((a) => a.type === 'StartTimer'), []);
});

test('RFC 9687: Established + SendHoldTimer_Expires → Send Hold Timer Expired (8/0), drop, Idle with backoff', () => {
  const s = reach('Established');
  assert.equal(s.timers.sendHold, true);
  const r = step(s, { type: 'SendHoldTimer_Expires' });
  assert.equal(r.state.name, 'Idle');
  assert.deepEqual(r.actions, [
    notif(8, 0),
    DROP,
    stopT('hold'),
    stopT('keepalive'),
    {
      type: 'SessionDown',
      reason: { type: 'NotificationSent', notification: { code: 8, subcode: 0, data: Buffer.alloc(0) } },
      graceful: false,
    },
    startT('idleHold', 1),
  ]);
  assert.equal(r.state.failures, 1);
  assert.deepEqual(r.state.lastDown, { type: 'NotificationSent', notification: { code: 8, subcode: 0, data: Buffer.alloc(0) } });
  assert.equal(Object.values(r.state.timers).filter(Boolean).length, 1, 'only the idle hold timer runs');
});

test('RFC 9687: the send hold expiry on a fake clock: a session stable for 2 minutes restarts its backoff count; graceful sessions lose their routes', () => {
  // Established at t=0 after 3 failures; the peer stops reading and the timer fires at t=600 s.
  let s = { ...initialState(config({ sendHoldTime: 600 })), failures: 3 };
  s = run(s, [{ type: 'AutomaticStart' }, EV.acked, open(), EV.keepalive], { now: 0 }).state;
  assert.equal(s.failures, 3);
  const late = step(s, { type: 'SendHoldTimer_Expires' }, { now: 600_000 });
  assert.equal(late.state.failures, 1, 'stable 600 s: the old failures are forgotten, this one counts');
  // 10 s after Established the earlier failures still count: backoff 2^3 = 8 s.
  const early = step(s, { type: 'SendHoldTimer_Expires' }, { now: 10_000 });
  assert.equal(early.state.failures, 4);
  assert.deepEqual(early.actions.at(-1), startT('idleHold', 8));
  // With graceful restart + N bit, any NOTIFICATION but Hard Reset keeps routes stale (RFC 8538);
  // code 8 is a plain error, so the FSM reports it with the usual graceful rule.
  const down = late.actions.find((a) => a.type === 'SessionDown');
  assert.ok(down && down.type === 'SessionDown' && down.graceful === false);
});

test('RFC 9687: a send hold expiry the FSM did not start (or stopped) is ignored', () => {
  for (const name of ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm'] as const) {
    const s = reach(name);
    const r = step(s, { type: 'SendHoldTimer_Expires' });
    assert.equal(r.state, s, name);
    assert.deepEqual(r.actions, [], name);
  }
  const off = reach('Established', config({ sendHoldTime: 0 }));
  assert.equal(step(off, { type: 'SendHoldTimer_Expires' }).state, off);
});
