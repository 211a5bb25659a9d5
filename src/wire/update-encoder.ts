// UPDATE encoding: path attributes from a PathAttributes, and a packer that puts one
// attribute set and many prefixes into as few messages as the maximum length allows
// (RFC 4271 §4.3, RFC 4760, RFC 6793 §4.2.2, RFC 7911, RFC 8654, RFC 4724 End-of-RIB).
//
// Attribute order: MP_REACH/MP_UNREACH first (RFC 7606 §5.1), then by type code.
// The header is written here (16 × 0xff, length, type 2) so this file has no
// dependency on header.ts.
import { Afi, AttrFlag, AttrType, HEADER_LEN, MAX_MESSAGE_LEN, MsgType, Safi } from './iana.js';
import { type AttrEncodeContext, familyBit } from './attrs/context.js';
import { writeAttrHeader } from './attrs/descriptor.js';
import { ATTR_TABLE, ENCODE_ORDER } from './attrs/table.js';
import type { PathAttributes, UnknownAttribute } from './attrs/types.js';
import { PrefixBatch } from './nlri/batch.js';
import { Writer } from './writer.js';

export { PrefixBatch } from './nlri/batch.js';

export interface EncodeContext extends AttrEncodeContext {
  /** RFC 7911: FamilyBit mask of the families in which we send path identifiers. */
  readonly addPathTx: number;
  /** 4096, or 65535 when extended messages are negotiated (RFC 8654). */
  readonly maxLength: number;
}

export function encodeContext(over: Partial<EncodeContext> = {}): EncodeContext {
  return {
    fourOctetAs: over.fourOctetAs ?? true,
    addPathTx: over.addPathTx ?? 0,
    maxLength: over.maxLength ?? MAX_MESSAGE_LEN,
  };
}

/** Writes the 19-byte message header of an UPDATE of `length` bytes at `pos`. */
export function writeUpdateHeader(buf: Buffer, pos: number, length: number): void {
  buf.fill(0xff, pos, pos + 16);
  buf[pos + 16] = length >>> 8;
  buf[pos + 17] = length & 0xff;
  buf[pos + 18] = MsgType.UPDATE;
}

function writeUnknown(w: Writer, u: UnknownAttribute): void {
  writeAttrHeader(w, u.flags, u.type, u.value.length);
  w.bytes(u.value);
}

/**
 * Writes every attribute of `attrs` except MP_REACH/MP_UNREACH, in type order.
 * `withNextHop` false leaves out NEXT_HOP (RFC 4760 §3: MP-only UPDATEs should not carry it).
 * Unknown attributes keep their flags (Partial included); those whose type we
 * recognise are skipped so an attribute can never appear twice.
 */
export function writeAttributes(attrs: PathAttributes, ctx: AttrEncodeContext, w: Writer, withNextHop = true): void {
  const unknown =
    attrs.unknown.length === 0
      ? attrs.unknown
      : attrs.unknown.filter((u) => ATTR_TABLE[u.type] === undefined).sort((a, b) => a.type - b.type);
  let u = 0;
  for (const d of ENCODE_ORDER) {
    while (u < unknown.length && unknown[u]!.type < d.type) writeUnknown(w, unknown[u++]!);
    if (d.type === AttrType.NEXT_HOP && !withNextHop) continue;
    d.encode!(attrs, ctx, w);
  }
  while (u < unknown.length) writeUnknown(w, unknown[u++]!);
}

/** The attribute section bytes (without MP attributes) as a new Buffer. */
export function encodeAttributes(attrs: PathAttributes, ctx: AttrEncodeContext, withNextHop = true): Buffer {
  const w = new Writer(128);
  writeAttributes(attrs, ctx, w, withNextHop);
  return w.toBuffer();
}

function addPathFor(ctx: EncodeContext, afi: number): boolean {
  return (ctx.addPathTx & familyBit(afi, Safi.UNICAST)) !== 0;
}

function tooBig(): RangeError {
  return new RangeError('attributes leave no room for a single prefix in one UPDATE');
}

/**
 * Packs prefixes into the classic NLRI field (IPv4) or into MP_REACH_NLRI (IPv6),
 * all with the same attributes, filling each message up to `ctx.maxLength`.
 * IPv4 needs attrs.nextHop; IPv6 needs attrs.mpNextHop (16-byte global, optional
 * 16-byte link-local: RFC 2545). Messages (with header) are appended to `out`.
 */
export function packUpdates(
  attrs: PathAttributes,
  batch: PrefixBatch,
  ctx: EncodeContext,
  out: Buffer[] = [],
): Buffer[] {
  if (batch.count === 0) return out;
  const addPath = addPathFor(ctx, batch.afi);
  if (batch.afi === Afi.IPV4) {
    if (attrs.nextHop === undefined) throw new RangeError('IPv4 routes need attrs.nextHop');
    const attrBytes = encodeAttributes(attrs, ctx, true);
    packClassic(attrBytes, batch, addPath, ctx.maxLength, false, out);
    return out;
  }
  const nh = attrs.mpNextHop;
  if (nh === undefined || nh.global.length !== 16 || (nh.linkLocal !== undefined && nh.linkLocal.length !== 16)) {
    throw new RangeError('IPv6 routes need attrs.mpNextHop with a 16-byte global (and optional 16-byte link-local)');
  }
  const nhLen = nh.linkLocal === undefined ? 16 : 32;
  const mpFixed = Buffer.allocUnsafe(5 + nhLen);
  mpFixed.writeUInt16BE(batch.afi, 0);
  mpFixed[2] = Safi.UNICAST;
  mpFixed[3] = nhLen;
  nh.global.copy(mpFixed, 4);
  if (nh.linkLocal !== undefined) nh.linkLocal.copy(mpFixed, 20);
  mpFixed[4 + nhLen] = 0; // reserved
  const rest = encodeAttributes(attrs, ctx, false);
  packMp(AttrType.MP_REACH_NLRI, mpFixed, rest, batch, addPath, ctx.maxLength, out);
  return out;
}

/** Packs withdrawals: the classic withdrawn routes field (IPv4) or MP_UNREACH_NLRI (IPv6). */
export function packWithdrawals(batch: PrefixBatch, ctx: EncodeContext, out: Buffer[] = []): Buffer[] {
  if (batch.count === 0) return out;
  const addPath = addPathFor(ctx, batch.afi);
  if (batch.afi === Afi.IPV4) {
    packClassic(EMPTY_ATTRS, batch, addPath, ctx.maxLength, true, out);
    return out;
  }
  const mpFixed = Buffer.from([batch.afi >>> 8, batch.afi & 0xff, Safi.UNICAST]);
  packMp(AttrType.MP_UNREACH_NLRI, mpFixed, EMPTY_ATTRS, batch, addPath, ctx.maxLength, out);
  return out;
}

const EMPTY_ATTRS = Buffer.alloc(0);

/** IPv4: header | withdrawn len | withdrawn | attr len | attrs | NLRI. */
function packClassic(
  attrBytes: Buffer,
  batch: PrefixBatch,
  addPath: boolean,
  max: number,
  withdraw: boolean,
  out: Buffer[],
): void {
  const fixed = HEADER_LEN + 4 + attrBytes.length;
  let i = 0;
  while (i < batch.count) {
    let size = fixed;
    let j = i;
    while (j < batch.count) {
      const s = batch.entrySize(j, addPath);
      if (size + s > max) break;
      size += s;
      j++;
    }
    if (j === i) throw tooBig();
    const msg = Buffer.allocUnsafe(size);
    writeUpdateHeader(msg, 0, size);
    let pos = HEADER_LEN;
    const nlriBytes = size - fixed;
    if (withdraw) {
      msg.writeUInt16BE(nlriBytes, pos);
      pos += 2;
      for (let k = i; k < j; k++) pos = batch.write(k, msg, pos, addPath);
      msg.writeUInt16BE(0, pos);
    } else {
      msg.writeUInt16BE(0, pos);
      msg.writeUInt16BE(attrBytes.length, pos + 2);
      pos += 4;
      pos += attrBytes.copy(msg, pos);
      for (let k = i; k < j; k++) pos = batch.write(k, msg, pos, addPath);
    }
    out.push(msg);
    i = j;
  }
}

/**
 * MP: header | 0 | attr len | MP TLV (fixed part + NLRI) | other attributes.
 * The MP TLV uses the 1-octet length whenever its value fits 255 bytes.
 */
function packMp(
  type: number,
  mpFixed: Buffer,
  rest: Buffer,
  batch: PrefixBatch,
  addPath: boolean,
  max: number,
  out: Buffer[],
): void {
  const fixed = HEADER_LEN + 4 + mpFixed.length + rest.length;
  let i = 0;
  while (i < batch.count) {
    let nlri = 0;
    let j = i;
    // First as if the TLV needs the extended (2-octet) length...
    while (j < batch.count) {
      const s = batch.entrySize(j, addPath);
      if (fixed + 4 + nlri + s > max) break;
      nlri += s;
      j++;
    }
    let hdr = 4;
    if (mpFixed.length + nlri <= 255) {
      // ...then, if it does not, use the saved octet for what still fits in 255 bytes.
      hdr = 3;
      while (j < batch.count) {
        const s = batch.entrySize(j, addPath);
        if (mpFixed.length + nlri + s > 255 || fixed + 3 + nlri + s > max) break;
        nlri += s;
        j++;
      }
    }
    if (j === i) throw tooBig();
    const size = fixed + hdr + nlri;
    const msg = Buffer.allocUnsafe(size);
    writeUpdateHeader(msg, 0, size);
    let pos = HEADER_LEN;
    msg.writeUInt16BE(0, pos);
    msg.writeUInt16BE(size - HEADER_LEN - 4, pos + 2);
    pos += 4;
    const valueLen = mpFixed.length + nlri;
    if (hdr === 4) {
      msg[pos++] = AttrFlag.OPTIONAL | AttrFlag.EXTENDED_LENGTH;
      msg[pos++] = type;
      msg[pos++] = valueLen >>> 8;
      msg[pos++] = valueLen & 0xff;
    } else {
      msg[pos++] = AttrFlag.OPTIONAL;
      msg[pos++] = type;
      msg[pos++] = valueLen;
    }
    pos += mpFixed.copy(msg, pos);
    for (let k = i; k < j; k++) pos = batch.write(k, msg, pos, addPath);
    rest.copy(msg, pos);
    out.push(msg);
    i = j;
  }
}

/**
 * End-of-RIB (RFC 4724 §2): for IPv4 unicast an UPDATE with nothing in it; for other
 * families an UPDATE whose only attribute is an empty MP_UNREACH_NLRI.
 */
export function encodeEndOfRib(afi: number, safi: number): Buffer {
  if (afi === Afi.IPV4 && safi === Safi.UNICAST) {
    const msg = Buffer.alloc(HEADER_LEN + 4);
    writeUpdateHeader(msg, 0, msg.length);
    return msg;
  }
  const msg = Buffer.alloc(HEADER_LEN + 4 + 6);
  writeUpdateHeader(msg, 0, msg.length);
  msg.writeUInt16BE(6, HEADER_LEN + 2);
  msg[HEADER_LEN + 4] = AttrFlag.OPTIONAL;
  msg[HEADER_LEN + 5] = AttrType.MP_UNREACH_NLRI;
  msg[HEADER_LEN + 6] = 3;
  msg.writeUInt16BE(afi, HEADER_LEN + 7);
  msg[HEADER_LEN + 9] = safi;
  return msg;
}
