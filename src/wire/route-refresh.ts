// ROUTE-REFRESH (RFC 2918) with the RFC 7313 subtypes in the formerly reserved byte:
// AFI(2) subtype(1) SAFI(1).
import { BgpError } from './errors.js';
import { encodeMessage } from './header.js';
import { ErrorCode, MsgType, RouteRefreshErrorSubcode, RouteRefreshSubtype } from './iana.js';

export type RouteRefreshSubtype = (typeof RouteRefreshSubtype)[keyof typeof RouteRefreshSubtype];

export interface RouteRefreshMessage {
  readonly afi: number;
  readonly safi: number;
  /** 0 normal request, 1 Beginning of Route Refresh, 2 End of Route Refresh. */
  readonly subtype: RouteRefreshSubtype;
}

const BODY_LEN = 4;

export function encodeRouteRefresh(afi: number, safi: number, subtype: RouteRefreshSubtype = RouteRefreshSubtype.NORMAL): Buffer {
  return encodeMessage(MsgType.ROUTE_REFRESH, Buffer.of(afi >> 8, afi & 0xff, subtype, safi));
}

/**
 * Decodes a ROUTE-REFRESH body. Returns undefined for an unknown subtype, which
 * RFC 7313 §5 says to ignore. A body that is not 4 bytes is ROUTE-REFRESH Message
 * Error / Invalid Message Length with the whole message as data (RFC 7313 §5; we
 * never negotiate ORF, so a longer subtype-0 message is invalid too).
 * The header check guarantees at least 4 bytes; fewer is reported the same way.
 */
export function decodeRouteRefresh(body: Buffer): RouteRefreshMessage | undefined {
  if (body.length >= 3) {
    const subtype = body[2]!;
    if (subtype > RouteRefreshSubtype.EORR) return undefined;
  }
  if (body.length !== BODY_LEN) {
    throw new BgpError(
      ErrorCode.ROUTE_REFRESH_MESSAGE,
      RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH,
      encodeMessage(MsgType.ROUTE_REFRESH, body),
      `ROUTE-REFRESH body of ${body.length} bytes`,
    );
  }
  return { afi: body.readUInt16BE(0), subtype: body[2] as RouteRefreshSubtype, safi: body[3]! };
}
