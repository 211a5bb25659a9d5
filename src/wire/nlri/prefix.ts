// IPv4/IPv6 unicast NLRI (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 ADD-PATH).
// Wire form of one entry: [path id: 4 bytes, only with ADD-PATH] length(bits) prefix(ceil(len/8)).
// Everything here works on offsets into a Buffer and writes numbers into reused
// fields: no object or string per prefix.
import { BgpError, updateError } from '../errors.js';
import { Afi, UpdateSubcode } from '../iana.js';

/** Bytes a prefix of `len` bits occupies after its length octet. */
export function prefixBytes(len: number): number {
  return (len + 7) >>> 3;
}

/** Wire size of one NLRI entry: length octet, prefix bytes, and the ADD-PATH id if any. */
export function nlriEntrySize(len: number, addPath: boolean): number {
  return 1 + ((len + 7) >>> 3) + (addPath ? 4 : 0);
}

/** The network mask of a 32-bit word holding `bits` (0..32) significant bits. */
export function maskBits(bits: number): number {
  // `<< 32` is `<< 0` in JS, so 0 needs its own case.
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

/** Maximum prefix length of an address family (32 for IPv4, 128 for IPv6). */
export function maxPrefixLength(afi: number): number {
  return afi === Afi.IPV6 ? 128 : 32;
}

/**
 * Validates an NLRI field and counts its entries: every prefix length is at most
 * `maxBits` and no entry overruns `end`. Returns the count, or -1 if the field is
 * malformed. This is the check that lets every later walk over the field trust it.
 */
export function countNlri(buf: Uint8Array, start: number, end: number, maxBits: number, addPath: boolean): number {
  let pos = start;
  let n = 0;
  while (pos < end) {
    if (addPath) {
      if (pos + 4 >= end) return -1; // path id plus at least the length octet
      pos += 4;
    }
    const len = buf[pos]!;
    if (len > maxBits) return -1;
    pos += 1 + ((len + 7) >>> 3);
    if (pos > end) return -1;
    n++;
  }
  return n;
}

/** Reads up to 4 bytes (`avail`, 0..4) as a big-endian word, zero padded on the right. */
function readPartialWord(b: Uint8Array, p: number, avail: number): number {
  switch (avail) {
    case 0:
      return 0;
    case 1:
      return (b[p]! << 24) >>> 0;
    case 2:
      return ((b[p]! << 24) | (b[p + 1]! << 16)) >>> 0;
    case 3:
      return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8)) >>> 0;
    default:
      return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }
}

function clamp4(n: number): number {
  return n < 0 ? 0 : n > 4 ? 4 : n;
}

const EMPTY_U8 = new Uint8Array(0);

function invalidNetworkField(): BgpError {
  return updateError(UpdateSubcode.INVALID_NETWORK_FIELD, undefined, 'malformed NLRI entry');
}

/**
 * An allocation-free iterator over one NLRI field. After `next()` returns true the
 * fields describe the current entry: `pathId` (0 without ADD-PATH), `length` in bits,
 * `addr` (IPv4, unsigned 32-bit) or `w0..w3` (IPv6, four unsigned 32-bit words, most
 * significant first). Bits beyond `length` are zeroed: RFC 4271 says to ignore them.
 *
 * Meant for ranges that `locateUpdate` has already validated; on a malformed range
 * it throws BgpError(3, Invalid Network Field) rather than read garbage.
 */
export class NlriCursor {
  buf: Uint8Array;
  pos: number;
  end: number;
  v6: boolean;
  addPath: boolean;
  pathId: number;
  length: number;
  addr: number;
  w0: number;
  w1: number;
  w2: number;
  w3: number;

  constructor() {
    this.buf = EMPTY_U8;
    this.pos = 0;
    this.end = 0;
    this.v6 = false;
    this.addPath = false;
    this.pathId = 0;
    this.length = 0;
    this.addr = 0;
    this.w0 = 0;
    this.w1 = 0;
    this.w2 = 0;
    this.w3 = 0;
  }

  reset(buf: Uint8Array, start: number, end: number, afi: number, addPath: boolean): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.v6 = afi === Afi.IPV6;
    this.addPath = addPath;
    this.pathId = 0;
    this.length = 0;
    this.addr = 0;
    this.w0 = this.w1 = this.w2 = this.w3 = 0;
    return this;
  }

  next(): boolean {
    let p = this.pos;
    const end = this.end;
    if (p >= end) return false;
    const b = this.buf;
    if (this.addPath) {
      if (p + 5 > end) throw invalidNetworkField();
      this.pathId = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
      p += 4;
    }
    const len = b[p++]!;
    const nb = (len + 7) >>> 3;
    if (len > (this.v6 ? 128 : 32) || p + nb > end) throw invalidNetworkField();
    if (this.v6) {
      this.w0 = (readPartialWord(b, p, clamp4(nb)) & maskBits(len)) >>> 0;
      this.w1 = (readPartialWord(b, p + 4, clamp4(nb - 4)) & maskBits(len - 32)) >>> 0;
      this.w2 = (readPartialWord(b, p + 8, clamp4(nb - 8)) & maskBits(len - 64)) >>> 0;
      this.w3 = (readPartialWord(b, p + 12, clamp4(nb - 12)) & maskBits(len - 96)) >>> 0;
    } else {
      this.addr = (readPartialWord(b, p, nb) & maskBits(len)) >>> 0;
    }
    this.length = len;
    this.pos = p + nb;
    return true;
  }

  /** Writes the current address (4 or 16 bytes) into `out` at `at`; for display and tests. */
  addrBytes(out: Uint8Array, at = 0): void {
    if (this.v6) {
      writeWord(out, at, this.w0);
      writeWord(out, at + 4, this.w1);
      writeWord(out, at + 8, this.w2);
      writeWord(out, at + 12, this.w3);
    } else {
      writeWord(out, at, this.addr);
    }
  }
}

function writeWord(out: Uint8Array, at: number, v: number): void {
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

/** Writes the first `n` (0..4) bytes of a big-endian word. */
function writeWordPrefix(out: Uint8Array, at: number, v: number, n: number): void {
  if (n > 0) out[at] = v >>> 24;
  if (n > 1) out[at + 1] = (v >>> 16) & 0xff;
  if (n > 2) out[at + 2] = (v >>> 8) & 0xff;
  if (n > 3) out[at + 3] = v & 0xff;
}

/** Writes a 4-byte ADD-PATH path identifier; returns the new position. */
export function writePathId(out: Uint8Array, pos: number, pathId: number): number {
  writeWord(out, pos, pathId >>> 0);
  return pos + 4;
}

/**
 * Writes one IPv4 NLRI entry (length octet + the shortest prefix bytes, host bits
 * cleared); returns the new position. The caller checked the room.
 */
export function writeNlriV4(out: Uint8Array, pos: number, addr: number, len: number): number {
  out[pos] = len;
  const nb = (len + 7) >>> 3;
  writeWordPrefix(out, pos + 1, (addr & maskBits(len)) >>> 0, nb);
  return pos + 1 + nb;
}

/** Writes one IPv6 NLRI entry from four words; returns the new position. */
export function writeNlriV6(
  out: Uint8Array,
  pos: number,
  w0: number,
  w1: number,
  w2: number,
  w3: number,
  len: number,
): number {
  out[pos] = len;
  const nb = (len + 7) >>> 3;
  const p = pos + 1;
  writeWordPrefix(out, p, (w0 & maskBits(len)) >>> 0, clamp4(nb));
  writeWordPrefix(out, p + 4, (w1 & maskBits(len - 32)) >>> 0, clamp4(nb - 4));
  writeWordPrefix(out, p + 8, (w2 & maskBits(len - 64)) >>> 0, clamp4(nb - 8));
  writeWordPrefix(out, p + 12, (w3 & maskBits(len - 96)) >>> 0, clamp4(nb - 12));
  return p + nb;
}
