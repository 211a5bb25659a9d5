import { ErrorCode } from './iana.js';

/**
 * A protocol error that ends the session: it carries exactly the NOTIFICATION
 * (code, subcode, data) that RFC 4271 §6 asks us to send. Thrown inside the codec
 * and caught at one place only, the message boundary of the session.
 */
export class BgpError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;

  constructor(code: number, subcode: number, data: Buffer = EMPTY, message?: string) {
    super(message ?? `BGP error ${code}/${subcode}`);
    this.name = 'BgpError';
    this.code = code;
    this.subcode = subcode;
    this.data = data;
  }
}

export const EMPTY: Buffer = Buffer.alloc(0);

/**
 * RFC 7606 error handling actions, ranked so that the strongest wins when one
 * UPDATE has several problems (a higher number is stronger).
 */
export const UpdateAction = {
  NONE: 0,
  ATTRIBUTE_DISCARD: 1,
  TREAT_AS_WITHDRAW: 2,
  AFI_SAFI_DISABLE: 3,
  SESSION_RESET: 4,
} as const;
export type UpdateAction = (typeof UpdateAction)[keyof typeof UpdateAction];

export function headerError(subcode: number, data: Buffer = EMPTY, message?: string): BgpError {
  return new BgpError(ErrorCode.MESSAGE_HEADER, subcode, data, message);
}
export function openError(subcode: number, data: Buffer = EMPTY, message?: string): BgpError {
  return new BgpError(ErrorCode.OPEN_MESSAGE, subcode, data, message);
}
export function updateError(subcode: number, data: Buffer = EMPTY, message?: string): BgpError {
  return new BgpError(ErrorCode.UPDATE_MESSAGE, subcode, data, message);
}
