// What counts as a bug: an OracleViolation thrown by a target's checks, or any other
// exception escaping the code under test. Shared checks for BgpError values live here.
import { BgpError } from '../src/wire/errors.js';
import { ERROR_SUBCODE_NAMES, ErrorCode, HeaderSubcode } from '../src/wire/iana.js';

/** A property of the code under test does not hold for this input. */
export class OracleViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OracleViolation';
  }
}

export function check(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new OracleViolation(typeof message === 'string' ? message : message());
}

/** Subcodes RFC 4271 marks deprecated: never sent (OPEN 5 Authentication, UPDATE 7 AS Loop). */
const DEPRECATED: Readonly<Record<number, readonly number[]>> = { 2: [5], 3: [7] };

/**
 * A NOTIFICATION (code, subcode) we may send: a registered pair from the IANA table,
 * not deprecated; `codes` limits the codes the caller can produce.
 */
export function validNotification(code: number, subcode: number, codes: readonly number[]): string | undefined {
  if (!codes.includes(code)) return `error code ${code} not in [${codes.join(',')}]`;
  const subs = ERROR_SUBCODE_NAMES[code];
  if (subs === undefined || subs[subcode] === undefined) return `subcode ${subcode} is not registered for code ${code}`;
  if (DEPRECATED[code]?.includes(subcode) === true) return `subcode ${code}/${subcode} is deprecated`;
  return undefined;
}

/** Codes a decoder may raise: header, OPEN, UPDATE, ROUTE-REFRESH errors. */
export const DECODER_CODES: readonly number[] = [
  ErrorCode.MESSAGE_HEADER,
  ErrorCode.OPEN_MESSAGE,
  ErrorCode.UPDATE_MESSAGE,
  ErrorCode.ROUTE_REFRESH_MESSAGE,
];

/** A NOTIFICATION's fields: a BgpError, or a SendNotification action. */
export interface NotificationFields {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  readonly message?: string;
}

/** Checks a BgpError's (or NOTIFICATION's) code, subcode and the data RFC 4271 §6.1 prescribes. */
export function checkBgpError(e: NotificationFields, codes: readonly number[] = DECODER_CODES): void {
  const bad = validNotification(e.code, e.subcode, codes);
  check(bad === undefined, () => `${bad!} (${e.message ?? 'NOTIFICATION'})`);
  check(Buffer.isBuffer(e.data), 'BgpError data is not a Buffer');
  if (e.code === ErrorCode.MESSAGE_HEADER) {
    // §6.1: Bad Message Length carries the erroneous length field, Bad Message Type the type.
    if (e.subcode === HeaderSubcode.BAD_MESSAGE_LENGTH) check(e.data.length === 2, 'Bad Message Length data is not 2 bytes');
    if (e.subcode === HeaderSubcode.BAD_MESSAGE_TYPE) check(e.data.length === 1, 'Bad Message Type data is not 1 byte');
    if (e.subcode === HeaderSubcode.CONNECTION_NOT_SYNCHRONIZED) check(e.data.length === 0, 'Not Synchronized has data');
  }
  // Data must fit a NOTIFICATION of the largest message (65535 - 19 - 2).
  check(e.data.length <= 65535 - 21, `BgpError data of ${e.data.length} bytes`);
}

/** Runs `fn`; a BgpError is checked and returned, anything else escapes (a crash). */
export function catchBgp<T>(fn: () => T, codes: readonly number[] = DECODER_CODES): T | BgpError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BgpError) {
      checkBgpError(e, codes);
      return e;
    }
    throw e;
  }
}
