// NOTIFICATION (RFC 4271 §4.5), shutdown communication (RFC 9003), max-prefix data
// (RFC 4486 §4) and a human description for logs and the CLI.
import { isUtf8 } from 'node:buffer';
import { EMPTY, headerError } from './errors.js';
import { encodeMessage } from './header.js';
import {
  CeaseSubcode,
  ERROR_CODE_NAMES,
  ERROR_SUBCODE_NAMES,
  ErrorCode,
  HEADER_LEN,
  HeaderSubcode,
  MAX_MESSAGE_LEN,
  MsgType,
  OpenSubcode,
} from './iana.js';

export interface NotificationMessage {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  /**
   * RFC 9003 shutdown communication of a Cease/Administrative Shutdown or Reset,
   * when present and well-formed; otherwise undefined (the raw `data` is kept).
   */
  readonly shutdownMessage: string | undefined;
}

/** What encoding needs: a BgpError fits as is. */
export interface NotificationFields {
  readonly code: number;
  readonly subcode: number;
  readonly data?: Buffer;
}

/** RFC 9003 §2: at most 255 octets of UTF-8. */
export const SHUTDOWN_MESSAGE_MAX = 255;

/** Decodes a NOTIFICATION body. Never throws for content; only a body shorter than 2 bytes. */
export function decodeNotification(body: Buffer): NotificationMessage {
  if (body.length < 2) {
    const len = Buffer.allocUnsafe(2);
    len.writeUInt16BE(body.length + HEADER_LEN, 0);
    throw headerError(HeaderSubcode.BAD_MESSAGE_LENGTH, len, 'NOTIFICATION too short');
  }
  const code = body[0]!;
  const subcode = body[1]!;
  // Copied: notifications are kept for display long after the read chunk.
  const data = body.length > 2 ? Buffer.from(body.subarray(2)) : EMPTY;
  return { code, subcode, data, shutdownMessage: isShutdown(code, subcode) ? decodeShutdownData(data) : undefined };
}

function isShutdown(code: number, subcode: number): boolean {
  return code === ErrorCode.CEASE && (subcode === CeaseSubcode.ADMIN_SHUTDOWN || subcode === CeaseSubcode.ADMIN_RESET);
}

/**
 * The whole NOTIFICATION message. Data is cut to fit `maxLength` (an error's data can
 * be a whole message, which would not fit once the NOTIFICATION header is added).
 */
export function encodeNotification(n: NotificationFields, maxLength: number = MAX_MESSAGE_LEN): Buffer {
  const data = n.data ?? EMPTY;
  const room = maxLength - HEADER_LEN - 2;
  const kept = data.length > room ? data.subarray(0, room) : data;
  const body = Buffer.allocUnsafe(2 + kept.length);
  body[0] = n.code;
  body[1] = n.subcode;
  body.set(kept, 2);
  return encodeMessage(MsgType.NOTIFICATION, body);
}

/** A Cease NOTIFICATION with an RFC 9003 shutdown communication (subcode 2 or 4). */
export function shutdownNotification(subcode: number, message: string): NotificationFields {
  return { code: ErrorCode.CEASE, subcode, data: encodeShutdownData(message) };
}

/** RFC 9003 data: length byte + UTF-8, cut to 255 bytes on a character boundary. */
export function encodeShutdownData(message: string): Buffer {
  const utf8 = Buffer.from(message, 'utf8');
  let len = utf8.length;
  if (len > SHUTDOWN_MESSAGE_MAX) {
    len = SHUTDOWN_MESSAGE_MAX;
    // Back off over continuation bytes (10xxxxxx) so no character is split.
    while (len > 0 && (utf8[len]! & 0xc0) === 0x80) len--;
  }
  const out = Buffer.allocUnsafe(1 + len);
  out[0] = len;
  utf8.copy(out, 1, 0, len);
  return out;
}

/**
 * The shutdown communication in `data`, or undefined when there is none or it is
 * malformed (length past the end, or not UTF-8). Bytes after it are ignored.
 */
export function decodeShutdownData(data: Buffer): string | undefined {
  if (data.length === 0) return undefined;
  const len = data[0]!;
  if (1 + len > data.length) return undefined;
  const text = data.subarray(1, 1 + len);
  if (!isUtf8(text)) return undefined;
  return text.toString('utf8');
}

export interface MaxPrefixData {
  readonly afi: number;
  readonly safi: number;
  readonly limit: number;
}

/** RFC 4486 §4 Cease/Maximum Number of Prefixes Reached data: AFI(2) SAFI(1) limit(4). */
export function encodeMaxPrefixData(afi: number, safi: number, limit: number): Buffer {
  const b = Buffer.allocUnsafe(7);
  b.writeUInt16BE(afi, 0);
  b[2] = safi;
  b.writeUInt32BE(limit >>> 0, 3);
  return b;
}

/** The max-prefix data if `data` has that shape, else undefined (the data is optional). */
export function decodeMaxPrefixData(data: Buffer): MaxPrefixData | undefined {
  if (data.length !== 7) return undefined;
  return { afi: data.readUInt16BE(0), safi: data[2]!, limit: data.readUInt32BE(3) };
}

function errorName(code: number, subcode: number): string {
  const codeName = ERROR_CODE_NAMES[code] ?? `Error code ${code}`;
  if (subcode === 0) return codeName; // "Unspecific" adds nothing
  const sub = ERROR_SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`;
  return `${codeName}/${sub}`;
}

const HEX_SHOWN = 32;

function detail(code: number, subcode: number, data: Buffer): string {
  if (isShutdown(code, subcode)) {
    const msg = decodeShutdownData(data);
    if (msg !== undefined) return `: ${JSON.stringify(msg)}`;
  }
  if (code === ErrorCode.CEASE && subcode === CeaseSubcode.MAX_PREFIXES) {
    const m = decodeMaxPrefixData(data);
    if (m) return ` (AFI ${m.afi} SAFI ${m.safi}, limit ${m.limit})`;
  }
  if (code === ErrorCode.CEASE && subcode === CeaseSubcode.HARD_RESET && data.length >= 2) {
    // RFC 8538 §3.1: the data is the ErrCode, Subcode and Data of the NOTIFICATION it wraps.
    const innerCode = data[0]!;
    const innerSub = data[1]!;
    const codeName = ERROR_CODE_NAMES[innerCode] ?? `code ${innerCode}`;
    const subName = ERROR_SUBCODE_NAMES[innerCode]?.[innerSub] ?? `subcode ${innerSub}`;
    return ` (${codeName}/${subName}${detail(innerCode, innerSub, data.subarray(2))})`;
  }
  if (code === ErrorCode.MESSAGE_HEADER && subcode === HeaderSubcode.BAD_MESSAGE_LENGTH && data.length === 2) {
    return ` (length ${data.readUInt16BE(0)})`;
  }
  if (code === ErrorCode.MESSAGE_HEADER && subcode === HeaderSubcode.BAD_MESSAGE_TYPE && data.length === 1) {
    return ` (type ${data[0]!})`;
  }
  if (code === ErrorCode.OPEN_MESSAGE && subcode === OpenSubcode.UNSUPPORTED_VERSION && data.length === 2) {
    return ` (supported version ${data.readUInt16BE(0)})`;
  }
  if (data.length === 0) return '';
  const hex = data.subarray(0, HEX_SHOWN).toString('hex');
  return ` (data ${hex}${data.length > HEX_SHOWN ? `… ${data.length} bytes` : ''})`;
}

/** E.g. `Cease/Administrative Shutdown: "maintenance"`. */
export function describeNotification(n: NotificationFields): string {
  const data = n.data ?? EMPTY;
  return errorName(n.code, n.subcode) + detail(n.code, n.subcode, data);
}
