import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  admitConnection,
  collisionLoser,
  CONNECTION_REJECTED,
  resolveOpenCollision,
} from '../../src/session/collision.js';
import { initialState, step, type FsmEvent, type SessionConfig, type SessionState } from '../../src/session/fsm.js';
import { emptyCapabilities, type Capabilities, type OpenMessage } from '../../src/wire/open-types.js';

const GR = { restartState: false, notification: false, restartTime: 120, families: [] };

function caps(asn: number, extra: Partial<Capabilities> = {}): Capabilities {
  return { ...emptyCapabilities(), multiprotocol: [{ afi: 1, safi: 1 }], fourOctetAs: asn, ...extra };
}

function config(routerId: number, over: Partial<SessionConfig> = {}): SessionConfig {
  return {
    localAs: 65001,
    routerId,
    peerAs: 65002,
    holdTime: 90,
    keepaliveTime: 30,
    connectRetryTime: 120,
    passive: false,
    capabilities: caps(65001),
    ...over,
  };
}

function openEvent(bgpId: number, c: Capabilities = caps(65002)): FsmEvent {
  const open: OpenMessage = { version: 4, myAs: 65002, holdTime: 90, bgpId, capabilities: c };
  return { type: 'BGPOpen', open };
}

function run(s: SessionState, events: FsmEvent[]): SessionState {
  for (const e of events) s = step(s, e).state;
  return s;
}

test('§6.8: the lower identifier closes the connection it initiated', () => {
  assert.equal(collisionLoser(1, 2, 65001, 65002), 'outgoing');
  assert.equal(collisionLoser(2, 1, 65001, 65002), 'incoming');
  // Unsigned: 128.0.0.0 is larger than 127.255.255.255 (a signed compare says otherwise).
  assert.equal(collisionLoser(0x80000000, 0x7fffffff, 65001, 65002), 'incoming');
  assert.equal(collisionLoser(0x7fffffff, 0x80000000, 65001, 65002), 'outgoing');
  assert.equal(collisionLoser(0xffffffff, 0xfffffffe, 65001, 65002), 'incoming');
  assert.equal(collisionLoser(-1, 0xfffffffe, 65001, 65002), 'incoming'); // -1 >>> 0 = 0xffffffff
});

test('RFC 6286 §2.3: equal identifiers, the larger AS keeps the connection it initiated', () => {
  assert.equal(collisionLoser(5, 5, 65001, 65000), 'incoming'); // we are larger: keep ours
  assert.equal(collisionLoser(5, 5, 65000, 65001), 'outgoing');
  assert.equal(collisionLoser(5, 5, 4200000000, 65001), 'incoming');
});

test('admission of a new connection by the primary FSM’s state', () => {
  const cfg = config(10);
  const idle = initialState(cfg);
  assert.deepEqual(admitConnection(idle, 'incoming', undefined), { type: 'Reject', notification: CONNECTION_REJECTED });
  assert.deepEqual(CONNECTION_REJECTED, { code: 6, subcode: 5, data: Buffer.alloc(0) });
  assert.deepEqual(admitConnection(idle, 'outgoing', undefined), { type: 'Reject', notification: undefined });

  const connect = run(idle, [{ type: 'ManualStart' }]);
  assert.deepEqual(admitConnection(connect, 'incoming', undefined), { type: 'Deliver', event: { type: 'TcpConnectionConfirmed' } });
  assert.deepEqual(admitConnection(connect, 'outgoing', undefined), { type: 'Deliver', event: { type: 'Tcp_CR_Acked' } });

  const openSent = run(connect, [{ type: 'Tcp_CR_Acked' }]);
  const second = admitConnection(openSent, 'incoming', undefined);
  assert.equal(second.type, 'Secondary');
  assert.ok(second.type === 'Secondary');
  assert.equal(second.state.name, 'Active');
  assert.deepEqual(second.event, { type: 'TcpConnectionConfirmed' });
  // A third connection is refused.
  assert.deepEqual(admitConnection(openSent, 'incoming', second.state), { type: 'Reject', notification: CONNECTION_REJECTED });

  const established = run(openSent, [openEvent(20), { type: 'KeepAliveMsg' }]);
  assert.equal(established.name, 'Established');
  assert.deepEqual(admitConnection(established, 'incoming', undefined), { type: 'Reject', notification: CONNECTION_REJECTED });
});

/** Primary connects out; the peer connects in at the same time (a secondary FSM). */
function crossed(localId: number): { primary: SessionState; secondary: SessionState } {
  const primary = run(initialState(config(localId)), [{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }]);
  const adm = admitConnection(primary, 'incoming', undefined);
  assert.ok(adm.type === 'Secondary');
  const r = step(adm.state, adm.event);
  assert.deepEqual(r.actions, [{ type: 'SendOpen' }, { type: 'StartTimer', timer: 'hold', seconds: 240 }]);
  assert.equal(r.state.connection, 'incoming');
  return { primary, secondary: r.state };
}

test('collision, remote id higher: we close our outgoing connection (Cease/7)', () => {
  const { primary, secondary } = crossed(10);
  const s2 = step(secondary, openEvent(20)).state;
  assert.equal(s2.name, 'OpenConfirm');
  const v = resolveOpenCollision(s2, primary);
  assert.deepEqual(v, { type: 'Close', which: 'other', event: { type: 'OpenCollisionDump' } });
  const dumped = step(primary, v.type === 'Close' ? v.event : { type: 'ManualStart' });
  assert.equal(dumped.state.name, 'Idle');
  assert.deepEqual(dumped.actions, [
    { type: 'SendNotification', code: 6, subcode: 7, data: Buffer.alloc(0) },
    { type: 'DropConnection' },
    { type: 'StopTimer', timer: 'hold' },
  ]);
});

test('collision, remote id lower: we close the connection the peer initiated', () => {
  const { primary, secondary } = crossed(20);
  const s2 = step(secondary, openEvent(10)).state;
  assert.deepEqual(resolveOpenCollision(s2, primary), { type: 'Close', which: 'self', event: { type: 'OpenCollisionDump' } });
  // Seen from the outgoing side when its OPEN arrives second (other in OpenConfirm): same verdict.
  const p2 = step(primary, openEvent(10)).state;
  assert.deepEqual(resolveOpenCollision(p2, s2), { type: 'Close', which: 'other', event: { type: 'OpenCollisionDump' } });
});

test('both ends agree on the surviving connection', () => {
  // Speaker A (id 1) and B (id 2) connect to each other. A's outgoing is B's incoming.
  const aLoses = collisionLoser(1, 2, 65001, 65002); // A closes its outgoing = the A→B connection
  const bLoses = collisionLoser(2, 1, 65002, 65001); // B closes its incoming = the A→B connection
  assert.equal(aLoses, 'outgoing');
  assert.equal(bLoses, 'incoming');
});

test('no collision when the other FSM has no connection, or there is none', () => {
  const { secondary } = crossed(10);
  const s2 = step(secondary, openEvent(20)).state;
  assert.deepEqual(resolveOpenCollision(s2, undefined), { type: 'None' });
  assert.deepEqual(resolveOpenCollision(s2, initialState(config(10))), { type: 'None' });
  // An FSM that did not accept the OPEN has nothing to resolve.
  assert.deepEqual(resolveOpenCollision(secondary, s2), { type: 'None' });
});

test('two connections opened by the same side: the older one is closed', () => {
  const primary = run(initialState(config(10, { passive: true })), [{ type: 'ManualStart' }, { type: 'TcpConnectionConfirmed' }]);
  const adm = admitConnection(primary, 'incoming', undefined);
  assert.ok(adm.type === 'Secondary');
  const s2 = run(adm.state, [adm.event, openEvent(20)]);
  assert.deepEqual(resolveOpenCollision(s2, primary), { type: 'Close', which: 'other', event: { type: 'OpenCollisionDump' } });
});

test('Established wins over a new connection unless Graceful Restart says the peer restarted', () => {
  const grCaps = caps(65002, { gracefulRestart: GR });
  const grCfg = config(10, { capabilities: caps(65001, { gracefulRestart: GR }) });
  const established = run(initialState(grCfg), [{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }, openEvent(20, grCaps), { type: 'KeepAliveMsg' }]);
  assert.equal(established.name, 'Established');
  assert.equal(established.negotiated?.gracefulRestart, true);

  const adm = admitConnection(established, 'incoming', undefined);
  assert.ok(adm.type === 'Secondary');
  // The restarted peer's OPEN carries Graceful Restart: the old session ends as a TCP failure.
  const fresh = run(adm.state, [adm.event, openEvent(20, grCaps)]);
  const v = resolveOpenCollision(fresh, established);
  assert.deepEqual(v, { type: 'Close', which: 'other', event: { type: 'TcpConnectionFails' } });
  const old = step(established, { type: 'TcpConnectionFails' });
  assert.ok(!old.actions.some((a) => a.type === 'SendNotification'));
  assert.deepEqual(
    old.actions.find((a) => a.type === 'SessionDown'),
    { type: 'SessionDown', reason: { type: 'ConnectionLost' }, graceful: true },
  );

  // The new OPEN has no Graceful Restart: the Established session stays, the new one goes.
  const plain = run(adm.state, [adm.event, openEvent(20)]);
  assert.deepEqual(resolveOpenCollision(plain, established), { type: 'Close', which: 'self', event: { type: 'OpenCollisionDump' } });

  // Without Graceful Restart the connection is refused at once.
  const noGr = run(initialState(config(10)), [{ type: 'ManualStart' }, { type: 'Tcp_CR_Acked' }, openEvent(20), { type: 'KeepAliveMsg' }]);
  assert.deepEqual(admitConnection(noGr, 'incoming', undefined), { type: 'Reject', notification: CONNECTION_REJECTED });
});
