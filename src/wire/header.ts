// The 19-byte message header (RFC 4271 §4.1) and its checks (§6.1, RFC 8654).
import { headerError } from './errors.js';
import { HEADER_LEN, HeaderSubcode, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, MsgType } from './iana.js';

const MARKER_LEN = 16;

/** Smallest legal length of each message type, header included. */
const MIN_LEN: Readonly<Record<number, number>> = {
  [MsgType.OPEN]: 29,
  [MsgType.UPDATE]: 23,
  [MsgType.NOTIFICATION]: 21,
  [MsgType.KEEPALIVE]: 19,
  // A ROUTE-REFRESH body is exactly 4 bytes; a longer one is reported by the
  // ROUTE-REFRESH decoder with code 7 (RFC 7313 §5), so only the minimum is checked here.
  [MsgType.ROUTE_REFRESH]: 23,
};

/**
 * Largest legal length of a message type given the negotiated maximum. RFC 8654 §3:
 * OPEN and KEEPALIVE never use the extended size.
 */
export function maxLengthOf(type: number, maxLength: number): number {
  if (type === MsgType.KEEPALIVE) return HEADER_LEN;
  if (type === MsgType.OPEN) return MAX_MESSAGE_LEN;
  return maxLength;
}

/** Wraps `body` in a header. Throws RangeError (a local bug) if it cannot fit 65535 bytes. */
export function encodeMessage(type: number, body: Uint8Array): Buffer {
  const len = HEADER_LEN + body.length;
  if (len > MAX_EXTENDED_MESSAGE_LEN) throw new RangeError(`BGP message too long: ${len}`);
  const out = Buffer.allocUnsafe(len);
  out.fill(0xff, 0, MARKER_LEN);
  out.writeUInt16BE(len, MARKER_LEN);
  out[MARKER_LEN + 2] = type;
  out.set(body, HEADER_LEN);
  return out;
}

function lengthField(len: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(Math.min(len, 0xffff), 0);
  return b;
}

/**
 * Checks a length against the limits of its type (RFC 4271 §6.1); throws
 * Bad Message Length with the 2-byte length field as data.
 */
export function checkTypeLength(type: number, len: number, maxLength: number): void {
  const min = MIN_LEN[type];
  if (min === undefined) throw headerError(HeaderSubcode.BAD_MESSAGE_TYPE, Buffer.of(type & 0xff), `bad message type ${type}`);
  if (len < min || len > maxLengthOf(type, maxLength)) {
    throw headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, lengthField(len), `bad length ${len} for message type ${type}`);
  }
}

/**
 * Validates the header at `buf[off..off+19)` and returns the message length.
 * Order as in RFC 4271 §6.1: marker, length, type, then the type's own limits.
 * The caller guarantees 19 readable bytes.
 */
export function checkHeader(buf: Uint8Array, off: number, maxLength: number): number {
  for (let i = off; i < off + MARKER_LEN; i++) {
    if (buf[i] !== 0xff) throw headerError(HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED, undefined, 'header marker is not all ones');
  }
  const len = (buf[off + MARKER_LEN]! << 8) | buf[off + MARKER_LEN + 1]!;
  if (len < HEADER_LEN || len > maxLength) {
    throw headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, lengthField(len), `bad message length ${len}`);
  }
  checkTypeLength(buf[off + MARKER_LEN + 2]!, len, maxLength);
  return len;
}

/** The type byte of the header at `off` (valid after `checkHeader`). */
export function headerType(buf: Uint8Array, off: number): MsgType {
  return buf[off + MARKER_LEN + 2] as MsgType;
}
