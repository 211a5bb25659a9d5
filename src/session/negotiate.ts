// What two speakers agree on once both OPENs are known (RFC 4271 §4.2 hold time, RFC 5492
// capabilities), and the OPEN checks that depend on our configuration (RFC 4271 §6.2).
// Pure: the FSM calls these when it receives a valid OPEN.
import { AS_TRANS, Afi, BGP_VERSION, ErrorCode, OpenSubcode, Safi } from '../wire/iana.js';
import { EMPTY } from '../wire/errors.js';
import type { AfiSafi, Capabilities, GracefulRestartCapability, OpenMessage } from '../wire/open-types.js';
import { peerAsOf } from '../wire/open-types.js';

/** A NOTIFICATION to send, ready for the codec: a BgpError fits as is. */
export interface Notification {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

/** Our side of the OPEN exchange (a subset of the session configuration). */
export interface LocalSettings {
  /** Our AS (4-octet). */
  readonly localAs: number;
  /** Our BGP identifier, unsigned 32-bit. */
  readonly routerId: number;
  /** The AS we expect the peer to be; 0 accepts whatever AS the peer's OPEN announces. */
  readonly peerAs: number;
  /** Hold time we propose, seconds: 0 (no keepalives) or at least 3. */
  readonly holdTime: number;
  /** Keepalive interval we want, seconds; 0 or less means hold/3. */
  readonly keepaliveTime: number;
  /** Capabilities we send in our OPEN. */
  readonly capabilities: Capabilities;
}

/** The result of the OPEN exchange: what the session runs with. */
export interface Negotiated {
  /** The peer's real AS (4-octet capability first, RFC 6793). */
  readonly peerAs: number;
  readonly peerBgpId: number;
  /** iBGP: the peer is in our AS. */
  readonly internal: boolean;
  /** Seconds; 0 means no hold timer and no keepalives. */
  readonly holdTime: number;
  /** Seconds between our KEEPALIVEs; 0 when holdTime is 0. */
  readonly keepaliveTime: number;
  /** Families both sides announced (IPv4 unicast for a side without Multiprotocol). */
  readonly families: readonly AfiSafi[];
  /** Both sides announced the 4-octet AS capability: AS_PATH carries 4-octet ASes. */
  readonly fourOctetAs: boolean;
  /** Both sides announced RFC 8654 extended messages: up to 65535 bytes each way. */
  readonly extendedMessage: boolean;
  /** The peer accepts ROUTE-REFRESH (RFC 2918). */
  readonly routeRefresh: boolean;
  /** The peer understands BoRR/EoRR (RFC 7313). */
  readonly enhancedRouteRefresh: boolean;
  /** Families whose NLRI we receive with path identifiers (RFC 7911). */
  readonly addPathReceive: readonly AfiSafi[];
  /** Families whose NLRI we send with path identifiers. */
  readonly addPathSend: readonly AfiSafi[];
  /** The peer's Graceful Restart capability, when it sent one. */
  readonly peerGracefulRestart: GracefulRestartCapability | undefined;
  /** Both sides announced Graceful Restart (RFC 4724): the helper procedures apply. */
  readonly gracefulRestart: boolean;
  /** Both sides set the N bit (RFC 8538): NOTIFICATIONs other than Hard Reset are graceful. */
  readonly gracefulNotification: boolean;
  readonly peerCapabilities: Capabilities;
}

/** RFC 4271 §4.2: the smaller of the two; 0 on either side means 0. */
export function negotiateHoldTime(ours: number, theirs: number): number {
  return Math.min(ours, theirs);
}

/**
 * RFC 4271 §10: keepalive at most one third of the hold time; our configured value
 * when smaller; 0 (none) when the hold time is 0. Whole seconds, at least 1.
 */
export function keepaliveFor(holdTime: number, configured: number): number {
  if (holdTime <= 0) return 0;
  const third = Math.max(1, Math.floor(holdTime / 3));
  return configured > 0 ? Math.min(configured, third) : third;
}

const IPV4_UNICAST: readonly AfiSafi[] = [{ afi: Afi.IPV4, safi: Safi.UNICAST }];

/** RFC 4760 §8: a speaker that sends no Multiprotocol capability speaks IPv4 unicast only. */
export function announcedFamilies(caps: Capabilities): readonly AfiSafi[] {
  return caps.multiprotocol.length === 0 ? IPV4_UNICAST : caps.multiprotocol;
}

function has(list: readonly AfiSafi[], f: AfiSafi): boolean {
  for (const g of list) if (g.afi === f.afi && g.safi === f.safi) return true;
  return false;
}

/** Families in both lists, in our order, without duplicates. */
export function commonFamilies(ours: readonly AfiSafi[], theirs: readonly AfiSafi[]): AfiSafi[] {
  const out: AfiSafi[] = [];
  for (const f of ours) if (has(theirs, f) && !has(out, f)) out.push({ afi: f.afi, safi: f.safi });
  return out;
}

const ADD_PATH_RECEIVE = 1;
const ADD_PATH_SEND = 2;

/**
 * RFC 7911 §4: path ids flow in one direction for a family when the sender announced
 * send (2 or 3) and the receiver announced receive (1 or 3). Only negotiated families.
 */
function addPathFamilies(
  families: readonly AfiSafi[],
  ours: Capabilities,
  theirs: Capabilities,
  ourBit: number,
  theirBit: number,
): AfiSafi[] {
  const out: AfiSafi[] = [];
  for (const f of families) {
    const o = ours.addPath.find((a) => a.afi === f.afi && a.safi === f.safi);
    const t = theirs.addPath.find((a) => a.afi === f.afi && a.safi === f.safi);
    if (o !== undefined && t !== undefined && (o.mode & ourBit) !== 0 && (t.mode & theirBit) !== 0) {
      out.push({ afi: f.afi, safi: f.safi });
    }
  }
  return out;
}

/** The session parameters from our settings and the peer's (already checked) OPEN. */
export function negotiate(local: LocalSettings, open: OpenMessage): Negotiated {
  const ours = local.capabilities;
  const theirs = open.capabilities;
  const peerAs = peerAsOf(open);
  const holdTime = negotiateHoldTime(local.holdTime, open.holdTime);
  const families = commonFamilies(announcedFamilies(ours), announcedFamilies(theirs));
  const gracefulRestart = ours.gracefulRestart !== undefined && theirs.gracefulRestart !== undefined;
  return {
    peerAs,
    peerBgpId: open.bgpId >>> 0,
    internal: peerAs === local.localAs,
    holdTime,
    keepaliveTime: keepaliveFor(holdTime, local.keepaliveTime),
    families,
    fourOctetAs: ours.fourOctetAs !== undefined && theirs.fourOctetAs !== undefined,
    extendedMessage: ours.extendedMessage && theirs.extendedMessage,
    routeRefresh: theirs.routeRefresh,
    enhancedRouteRefresh: theirs.enhancedRouteRefresh,
    addPathReceive: addPathFamilies(families, ours, theirs, ADD_PATH_RECEIVE, ADD_PATH_SEND),
    addPathSend: addPathFamilies(families, ours, theirs, ADD_PATH_SEND, ADD_PATH_RECEIVE),
    peerGracefulRestart: theirs.gracefulRestart,
    gracefulRestart,
    gracefulNotification:
      gracefulRestart && ours.gracefulRestart!.notification && theirs.gracefulRestart!.notification,
    peerCapabilities: theirs,
  };
}

function openNotification(subcode: number, data: Buffer = EMPTY): Notification {
  return { code: ErrorCode.OPEN_MESSAGE, subcode, data };
}

function u16(v: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v & 0xffff, 0);
  return b;
}

/**
 * RFC 4271 §6.2 checks of a received OPEN against our settings, in the RFC's order.
 * Returns the NOTIFICATION to send, or undefined when the OPEN is acceptable.
 * (The codec already refuses most of these while decoding; the FSM checks again
 * because an OpenMessage may come from elsewhere, e.g. tests or a replay.)
 */
export function checkOpen(local: LocalSettings, open: OpenMessage): Notification | undefined {
  // Data: the largest version we support below theirs, or our smallest: 4 either way.
  if (open.version !== BGP_VERSION) return openNotification(OpenSubcode.UNSUPPORTED_VERSION, u16(BGP_VERSION));

  const peerAs = peerAsOf(open);
  // AS 0 is never valid (RFC 7607 §2). AS_TRANS (RFC 6793) only stands in for a
  // 4-octet AS and is nobody's real AS: My AS = AS_TRANS without the 4-octet
  // capability (or the capability carrying AS_TRANS) is a bad peer AS.
  // Data: the 2-octet My AS field as received.
  if (peerAs === 0 || peerAs === AS_TRANS || (local.peerAs !== 0 && peerAs !== local.peerAs)) {
    return openNotification(OpenSubcode.BAD_PEER_AS, u16(open.myAs));
  }

  // RFC 6286 §2.2: any non-zero identifier, but not ours on an internal session.
  const internal = peerAs === local.localAs;
  if (open.bgpId >>> 0 === 0 || (internal && open.bgpId >>> 0 === local.routerId >>> 0)) {
    return openNotification(OpenSubcode.BAD_BGP_IDENTIFIER);
  }

  if (open.holdTime === 1 || open.holdTime === 2) return openNotification(OpenSubcode.UNACCEPTABLE_HOLD_TIME);
  return undefined;
}
