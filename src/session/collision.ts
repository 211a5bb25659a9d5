// Connection collisions (RFC 4271 §6.8, RFC 6286 §2.3, RFC 4486, RFC 4724 §4.2).
// Both speakers may connect to each other at once; each connection runs its own FSM
// (fsm.ts) and, once an OPEN tells us the peer's BGP identifier, exactly one survives.
// Pure decisions: the shell applies them by feeding the returned event to an FSM.
import { CeaseSubcode, ErrorCode } from '../wire/iana.js';
import { EMPTY } from '../wire/errors.js';
import { secondaryState, type FsmEvent, type Notification, type SessionState } from './fsm.js';

/** Who opened a connection: we ('outgoing') or the peer ('incoming'). */
export type Direction = 'outgoing' | 'incoming';

/** RFC 4486 §3: sent when we accept a TCP connection and then refuse the BGP session. */
export const CONNECTION_REJECTED: Notification = {
  code: ErrorCode.CEASE,
  subcode: CeaseSubcode.CONNECTION_REJECTED,
  data: EMPTY,
};

/**
 * RFC 4271 §6.8: which connection to close. Identifiers compare as unsigned 32-bit
 * numbers; when ours is lower we close the connection we initiated, otherwise the one
 * the peer initiated, so both ends keep the same connection. Equal identifiers (allowed
 * between ASes by RFC 6286 §2.3): the connection initiated by the speaker with the
 * larger AS survives.
 */
export function collisionLoser(localId: number, remoteId: number, localAs: number, remoteAs: number): Direction {
  const l = localId >>> 0;
  const r = remoteId >>> 0;
  if (l !== r) return l < r ? 'outgoing' : 'incoming';
  // Equal AS too is an iBGP session with our own identifier: refused at OPEN time
  // (Bad BGP Identifier), so the tie never reaches here.
  return localAs > remoteAs ? 'incoming' : 'outgoing';
}

export type Admission =
  /** Give the connection to the primary FSM: step(primary, event). */
  | { readonly type: 'Deliver'; readonly event: FsmEvent }
  /** Run it in a new FSM: step(state, event) and keep it as the peer's secondary. */
  | { readonly type: 'Secondary'; readonly state: SessionState; readonly event: FsmEvent }
  /** Close it; first send `notification` when there is one (incoming connections). */
  | { readonly type: 'Reject'; readonly notification: Notification | undefined };

function connectionEvent(direction: Direction): FsmEvent {
  return direction === 'outgoing' ? { type: 'Tcp_CR_Acked' } : { type: 'TcpConnectionConfirmed' };
}

function reject(direction: Direction): Admission {
  // Our own late attempt is closed quietly; the peer's gets Cease/Connection Rejected.
  return { type: 'Reject', notification: direction === 'incoming' ? CONNECTION_REJECTED : undefined };
}

/**
 * What to do with a TCP connection to or from a configured peer that just came up.
 * `primary` is the peer's main FSM, `secondary` the second one if it exists.
 * - Idle (including stopped): refused (RFC 4271 §8.2.2: Idle refuses connections).
 * - Connect / Active: the primary takes it.
 * - OpenSent / OpenConfirm: a second FSM runs it until an OPEN decides (§6.8).
 * - Established: refused, unless the session negotiated Graceful Restart: the peer
 *   may have restarted without us noticing (RFC 4724 §4.2), so its OPEN is heard.
 * A third connection is refused.
 */
export function admitConnection(
  primary: SessionState,
  direction: Direction,
  secondary: SessionState | undefined,
): Admission {
  const event = connectionEvent(direction);
  switch (primary.name) {
    case 'Idle':
      return reject(direction);
    case 'Connect':
    case 'Active':
      return { type: 'Deliver', event };
    case 'OpenSent':
    case 'OpenConfirm':
      return secondary === undefined ? { type: 'Secondary', state: secondaryState(primary), event } : reject(direction);
    case 'Established':
      return secondary === undefined && primary.negotiated?.gracefulRestart === true
        ? { type: 'Secondary', state: secondaryState(primary), event }
        : reject(direction);
  }
}

export type CollisionVerdict =
  | { readonly type: 'None' }
  /** Feed `event` to `which` FSM ('self' is the one that just accepted an OPEN). */
  | { readonly type: 'Close'; readonly which: 'self' | 'other'; readonly event: FsmEvent };

const NONE: CollisionVerdict = { type: 'None' };
const DUMP: FsmEvent = { type: 'OpenCollisionDump' };

/**
 * Call right after `self` accepted an OPEN (it is now in OpenConfirm), with the other
 * FSM of the same peer. The peer's identifier is the one in that OPEN; since both
 * connections go to the same configured neighbour, it also names the other
 * connection's speaker, so a connection still in OpenSent is resolved too (§6.8 allows
 * this when the identifier is known by other means).
 * - Other in OpenSent/OpenConfirm: the §6.8 comparison; the loser gets OpenCollisionDump
 *   (Cease/Connection Collision Resolution, RFC 4486). Two connections opened by the
 *   same side: the older one goes (its opener evidently gave up on it).
 * - Other Established: the new connection is closed (§6.8), except when Graceful
 *   Restart applies: then the peer restarted, and the old session ends as if its TCP
 *   connection had failed, with no NOTIFICATION and routes kept stale (RFC 4724 §4.2).
 */
export function resolveOpenCollision(self: SessionState, other: SessionState | undefined): CollisionVerdict {
  const n = self.negotiated;
  if (self.name !== 'OpenConfirm' || n === undefined || other === undefined) return NONE;
  switch (other.name) {
    case 'Idle':
    case 'Connect':
    case 'Active':
      return NONE;
    case 'OpenSent':
    case 'OpenConfirm': {
      if (self.connection === undefined || self.connection === other.connection) {
        return { type: 'Close', which: 'other', event: DUMP };
      }
      const loser = collisionLoser(self.config.routerId, n.peerBgpId, self.config.localAs, n.peerAs);
      return { type: 'Close', which: loser === self.connection ? 'self' : 'other', event: DUMP };
    }
    case 'Established':
      if (other.negotiated?.gracefulRestart === true && n.gracefulRestart) {
        return { type: 'Close', which: 'other', event: { type: 'TcpConnectionFails' } };
      }
      return { type: 'Close', which: 'self', event: DUMP };
  }
}
