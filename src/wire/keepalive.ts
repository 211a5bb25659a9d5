// KEEPALIVE (RFC 4271 §4.4): a bare 19-byte header. Built once and shared; never mutate it.
import { EMPTY } from './errors.js';
import { encodeMessage } from './header.js';
import { MsgType } from './iana.js';

export const KEEPALIVE: Buffer = encodeMessage(MsgType.KEEPALIVE, EMPTY);
