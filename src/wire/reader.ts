import { BgpError } from './errors.js';

/**
 * A bounded cursor over a Buffer. Every read checks the bound; `view(len)` returns
 * a child reader limited to `len` bytes, so a wrong inner length can never read into
 * the next field. Running past the end throws the BgpError chosen by whoever made
 * the reader, because only the caller knows which NOTIFICATION a short field means.
 */
export class Reader {
  readonly buf: Buffer;
  pos: number;
  readonly end: number;
  private readonly onShort: () => BgpError;

  constructor(buf: Buffer, onShort: () => BgpError, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.onShort = onShort;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (this.pos + n > this.end) throw this.onShort();
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A zero-copy slice of the next `n` bytes. */
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** A child reader over the next `len` bytes; this reader moves past them. */
  view(len: number, onShort: () => BgpError = this.onShort): Reader {
    this.need(len);
    const child = new Reader(this.buf, onShort, this.pos, this.pos + len);
    this.pos += len;
    return child;
  }
}
