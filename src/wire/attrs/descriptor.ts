// The shape of one entry of the attribute descriptor table (table.ts), and the TLV
// header writer every encoder shares.
import type { UpdateAction } from '../errors.js';
import { AttrFlag } from '../iana.js';
import type { Writer } from '../writer.js';
import type { AttrEncodeContext, UpdateContext } from './context.js';
import type { AsPathSegment, PathAttributes } from './types.js';

/** Decoded values that only matter after every attribute is read (RFC 6793 merge). */
export interface DecodeScratch {
  as4Path: AsPathSegment[] | undefined;
  as4Aggregator: { asn: number; address: number } | undefined;
}

/**
 * Decodes the value bytes buf[start, end) into `out`. Returns UpdateAction.NONE on
 * success, or the RFC 7606 action for what it found; on ATTRIBUTE_DISCARD it must
 * leave its field of `out` unset.
 */
export type AttrDecoder = (
  buf: Buffer,
  start: number,
  end: number,
  ctx: UpdateContext,
  out: PathAttributes,
  scratch: DecodeScratch,
) => UpdateAction;

/** Writes the whole attribute (header + value) when `attrs` has it; otherwise nothing. */
export type AttrEncoder = (attrs: PathAttributes, ctx: AttrEncodeContext, w: Writer) => void;

export interface AttrDescriptor {
  readonly type: number;
  readonly name: string;
  /** Expected Optional|Transitive bits (RFC 4271 §5); a mismatch makes the attribute malformed. */
  readonly flags: number;
  /** RFC 7606 action when the attribute is malformed, including wrong flags (§3.c). */
  readonly onError: UpdateAction;
  readonly decode: AttrDecoder;
  /** Undefined for attributes the packer writes itself (MP_REACH/MP_UNREACH). */
  readonly encode: AttrEncoder | undefined;
}

/** Writes flags, type and length; the Extended Length bit only when the value exceeds 255 bytes. */
export function writeAttrHeader(w: Writer, flags: number, type: number, len: number): void {
  const base = flags & (AttrFlag.OPTIONAL | AttrFlag.TRANSITIVE | AttrFlag.PARTIAL);
  if (len > 255) {
    w.u8(base | AttrFlag.EXTENDED_LENGTH).u8(type).u16(len);
  } else {
    w.u8(base).u8(type).u8(len);
  }
}

/** Reads a big-endian u32 at `p` (the caller checked the bound). */
export function u32At(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

export function u16At(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** A copy of buf[start, end): decoded sets outlive the message buffer. */
export function copyBytes(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  buf.copy(out, 0, start, end);
  return out;
}
