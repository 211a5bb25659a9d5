// One entry point from a framed message to a typed value. UPDATE bodies pass through
// raw: their decoder needs negotiated state (ADD-PATH, 4-octet AS) and lives in update.ts.
import { checkTypeLength } from './header.js';
import { HEADER_LEN, MAX_MESSAGE_LEN, MsgType } from './iana.js';
import { decodeNotification, type NotificationMessage } from './notification.js';
import { decodeOpen } from './open.js';
import type { OpenMessage } from './open-types.js';
import { decodeRouteRefresh, type RouteRefreshMessage } from './route-refresh.js';

export type BgpMessage =
  | { readonly type: 'open'; readonly open: OpenMessage }
  | { readonly type: 'update'; readonly body: Buffer }
  | { readonly type: 'notification'; readonly notification: NotificationMessage }
  | { readonly type: 'keepalive' }
  | { readonly type: 'route-refresh'; readonly refresh: RouteRefreshMessage }
  /** A message the RFCs say to skip (a ROUTE-REFRESH with an unknown subtype). */
  | { readonly type: 'ignored'; readonly msgType: number; readonly reason: string };

export interface MessageContext {
  /** 4096, or 65535 once extended messages are negotiated (RFC 8654). */
  readonly maxLength: number;
}

const DEFAULT_CONTEXT: MessageContext = { maxLength: MAX_MESSAGE_LEN };
const KEEPALIVE_MSG: BgpMessage = { type: 'keepalive' };

/**
 * Decodes a framed message. The per-type length check is repeated here (cheap) so
 * callers that did not use the Framer get the same errors. Throws BgpError.
 */
export function decodeMessage(type: number, body: Buffer, ctx: MessageContext = DEFAULT_CONTEXT): BgpMessage {
  checkTypeLength(type, HEADER_LEN + body.length, ctx.maxLength);
  switch (type) {
    case MsgType.UPDATE:
      return { type: 'update', body };
    case MsgType.KEEPALIVE:
      return KEEPALIVE_MSG;
    case MsgType.OPEN:
      return { type: 'open', open: decodeOpen(body) };
    case MsgType.NOTIFICATION:
      return { type: 'notification', notification: decodeNotification(body) };
    default: {
      // checkTypeLength refused every other type, so this is ROUTE-REFRESH.
      const refresh = decodeRouteRefresh(body);
      if (refresh === undefined) {
        return { type: 'ignored', msgType: type, reason: `unknown ROUTE-REFRESH subtype ${body[2]!}` };
      }
      return { type: 'route-refresh', refresh };
    }
  }
}
