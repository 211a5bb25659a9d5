// OPEN message (RFC 4271 §4.2) with RFC 9072 extended optional parameters and the
// §6.2 checks that need nothing but the message (the session adds peer-specific ones).
import { decodeCapabilities, encodeCapabilities, malformedOpen } from './capabilities.js';
import { BgpError, headerError, openError } from './errors.js';
import { encodeMessage } from './header.js';
import {
  AS_TRANS,
  BGP_VERSION,
  HEADER_LEN,
  HeaderSubcode,
  MAX_MESSAGE_LEN,
  MsgType,
  OpenSubcode,
  OptParamType,
} from './iana.js';
import { emptyCapabilities, type Capabilities, type OpenMessage } from './open-types.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';

/** Version, My AS, Hold Time, BGP Identifier, Opt Parm Len. */
const FIXED_LEN = 10;
const MAX_2OCTET_AS = 0xffff;

/**
 * Decodes and validates an OPEN body (the header already stripped).
 * Throws BgpError with the RFC 4271 §6.2 subcode; see `validateOpen`.
 */
export function decodeOpen(body: Buffer): OpenMessage {
  if (body.length < FIXED_LEN) {
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(Math.min(body.length + HEADER_LEN, 0xffff), 0);
    throw headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, len, 'OPEN too short');
  }
  // The version comes first: another version may lay out the rest differently.
  const version = body[0]!;
  if (version !== BGP_VERSION) throw unsupportedVersion(version);

  const myAs = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const bgpId = body.readUInt32BE(5);
  const optLen = body[9]!;

  const capabilities = emptyCapabilities();
  const r = new Reader(body, () => malformedOpen('truncated optional parameter'), FIXED_LEN);
  // RFC 9072: a non-zero length followed by type 255 marks the extended format.
  const extended = optLen !== 0 && body.length > FIXED_LEN && body[FIXED_LEN] === OptParamType.EXTENDED_LENGTH;
  let params: Reader;
  if (extended) {
    r.skip(1);
    params = r.view(r.u16());
  } else {
    params = r.view(optLen);
  }
  if (r.remaining !== 0) throw malformedOpen('optional parameters length does not match the message length');

  while (params.remaining > 0) {
    const type = params.u8();
    const len = extended ? params.u16() : params.u8();
    const value = params.view(len);
    if (type !== OptParamType.CAPABILITIES) {
      throw openError(OpenSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, undefined, `unsupported optional parameter ${type}`);
    }
    decodeCapabilities(value.bytes(len), capabilities);
  }

  const open: OpenMessage = { version, myAs, holdTime, bgpId, capabilities };
  validateOpen(open);
  return open;
}

function unsupportedVersion(version: number): BgpError {
  // RFC 4271 §6.2: data = 2-octet largest supported version below theirs (or our smallest).
  const data = Buffer.allocUnsafe(2);
  data.writeUInt16BE(BGP_VERSION, 0);
  return openError(OpenSubcode.UNSUPPORTED_VERSION, data, `unsupported BGP version ${version}`);
}

/**
 * The checks of RFC 4271 §6.2 that need only the message: version, hold time 1 or 2,
 * BGP identifier 0 (RFC 6286), AS 0 in My AS or the 4-octet AS capability (RFC 7607).
 * Comparisons with configuration are the session's (`checkPeerAs`, `checkBgpIdentifier`).
 */
export function validateOpen(open: OpenMessage): void {
  if (open.version !== BGP_VERSION) throw unsupportedVersion(open.version);
  if (open.myAs === 0 || open.capabilities.fourOctetAs === 0) {
    throw openError(OpenSubcode.BAD_PEER_AS, undefined, 'peer AS 0');
  }
  if (open.bgpId === 0) throw openError(OpenSubcode.BAD_BGP_IDENTIFIER, undefined, 'BGP identifier 0');
  if (open.holdTime === 1 || open.holdTime === 2) {
    throw openError(OpenSubcode.UNACCEPTABLE_HOLD_TIME, undefined, `hold time ${open.holdTime}`);
  }
}

/**
 * RFC 4271 §6.2 / RFC 6286 §2.2: an internal peer must not use our own identifier.
 * (Identifier 0 is already refused by `validateOpen`.)
 */
export function checkBgpIdentifier(peerId: number, localId: number, internal: boolean): void {
  if (peerId === 0 || (internal && peerId >>> 0 === localId >>> 0)) {
    throw openError(OpenSubcode.BAD_BGP_IDENTIFIER, undefined, 'bad BGP identifier');
  }
}

/** Bad Peer AS unless the peer's real AS (4-octet capability first) is the expected one. */
export function checkPeerAs(open: OpenMessage, expected: number): void {
  const asn = open.capabilities.fourOctetAs ?? open.myAs;
  if (asn !== expected) throw openError(OpenSubcode.BAD_PEER_AS, undefined, `peer AS ${asn}, expected ${expected}`);
}

/** Our OPEN: My AS carries AS_TRANS when `asn` needs 4 octets; the capability carries `asn`. */
export function buildOpen(asn: number, holdTime: number, bgpId: number, capabilities: Capabilities): OpenMessage {
  return {
    version: BGP_VERSION,
    myAs: asn > MAX_2OCTET_AS ? AS_TRANS : asn,
    holdTime,
    bgpId: bgpId >>> 0,
    capabilities: { ...capabilities, fourOctetAs: capabilities.fourOctetAs ?? asn },
  };
}

export interface EncodeOpenOptions {
  /** Use the RFC 9072 format even when the parameters fit 255 bytes (testing a peer). */
  readonly extendedParams?: boolean;
}

/**
 * The whole OPEN message (header included). All capabilities go in one Capabilities
 * parameter; the RFC 9072 format is used only when they do not fit 255 bytes.
 * A My AS above 65535 is sent as AS_TRANS, and then the 4-octet AS capability
 * carries it if the capabilities do not already.
 */
export function encodeOpen(open: OpenMessage, opts: EncodeOpenOptions = {}): Buffer {
  let caps = open.capabilities;
  if (open.myAs > MAX_2OCTET_AS && caps.fourOctetAs === undefined) caps = { ...caps, fourOctetAs: open.myAs };
  const capBytes = encodeCapabilities(caps);
  const n = capBytes.length;
  const w = new Writer(FIXED_LEN + 7 + n);
  w.u8(open.version).u16(open.myAs > MAX_2OCTET_AS ? AS_TRANS : open.myAs).u16(open.holdTime).u32(open.bgpId);
  if (n === 0) {
    w.u8(0);
  } else if (opts.extendedParams === true || 2 + n > 255) {
    // Non-Ext OP Len 255, Non-Ext OP Type 255, Extended Opt. Parm. Length; then type(1) len(2).
    w.u8(255).u8(OptParamType.EXTENDED_LENGTH).u16(3 + n);
    w.u8(OptParamType.CAPABILITIES).u16(n).bytes(capBytes);
  } else {
    w.u8(2 + n).u8(OptParamType.CAPABILITIES).u8(n).bytes(capBytes);
  }
  const body = w.toBuffer();
  if (HEADER_LEN + body.length > MAX_MESSAGE_LEN) throw new RangeError(`OPEN too long: ${HEADER_LEN + body.length}`);
  return encodeMessage(MsgType.OPEN, body);
}

/** Dotted-quad form of a BGP identifier, for logs and the CLI. */
export function bgpIdToString(id: number): string {
  return `${(id >>> 24) & 0xff}.${(id >>> 16) & 0xff}.${(id >>> 8) & 0xff}.${id & 0xff}`;
}

/** Parses a dotted-quad BGP identifier; undefined if it is not one. */
export function bgpIdFromString(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    v = v * 256 + octet;
  }
  return v;
}
