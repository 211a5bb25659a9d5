// A growable list of prefixes of one address family, stored column-wise in typed
// arrays: the input of the UPDATE packer. No object per prefix.
import { Afi } from '../iana.js';
import { maskBits, nlriEntrySize, writeNlriV4, writeNlriV6, writePathId } from './prefix.js';

export class PrefixBatch {
  readonly afi: number;
  /** Address words per prefix: 1 (IPv4) or 4 (IPv6). */
  readonly stride: number;
  count: number;
  words: Uint32Array;
  lens: Uint8Array;
  pathIds: Uint32Array;

  constructor(afi: number, capacity = 64) {
    if (afi !== Afi.IPV4 && afi !== Afi.IPV6) throw new RangeError(`unsupported AFI ${afi}`);
    const cap = Math.max(1, capacity);
    this.afi = afi;
    this.stride = afi === Afi.IPV6 ? 4 : 1;
    this.count = 0;
    this.words = new Uint32Array(cap * this.stride);
    this.lens = new Uint8Array(cap);
    this.pathIds = new Uint32Array(cap);
  }

  private grow(): void {
    const cap = this.lens.length * 2;
    const words = new Uint32Array(cap * this.stride);
    words.set(this.words);
    const lens = new Uint8Array(cap);
    lens.set(this.lens);
    const ids = new Uint32Array(cap);
    ids.set(this.pathIds);
    this.words = words;
    this.lens = lens;
    this.pathIds = ids;
  }

  clear(): void {
    this.count = 0;
  }

  /** Adds an IPv4 prefix; host bits are cleared so the encoding is canonical. */
  addV4(addr: number, len: number, pathId = 0): void {
    if (this.stride !== 1) throw new RangeError('addV4 on an IPv6 batch');
    if (len < 0 || len > 32) throw new RangeError(`bad IPv4 prefix length ${len}`);
    if (this.count === this.lens.length) this.grow();
    const i = this.count++;
    this.words[i] = (addr & maskBits(len)) >>> 0;
    this.lens[i] = len;
    this.pathIds[i] = pathId >>> 0;
  }

  /** Adds an IPv6 prefix given as four 32-bit words, most significant first. */
  addV6(w0: number, w1: number, w2: number, w3: number, len: number, pathId = 0): void {
    if (this.stride !== 4) throw new RangeError('addV6 on an IPv4 batch');
    if (len < 0 || len > 128) throw new RangeError(`bad IPv6 prefix length ${len}`);
    if (this.count === this.lens.length) this.grow();
    const i = this.count++;
    const o = i * 4;
    this.words[o] = (w0 & maskBits(len)) >>> 0;
    this.words[o + 1] = (w1 & maskBits(len - 32)) >>> 0;
    this.words[o + 2] = (w2 & maskBits(len - 64)) >>> 0;
    this.words[o + 3] = (w3 & maskBits(len - 96)) >>> 0;
    this.lens[i] = len;
    this.pathIds[i] = pathId >>> 0;
  }

  /** Adds a prefix from its address bytes (4 or 16); convenient for tests and config. */
  addBytes(bytes: Uint8Array, len: number, pathId = 0): void {
    const w = (k: number): number =>
      (((bytes[k] ?? 0) << 24) | ((bytes[k + 1] ?? 0) << 16) | ((bytes[k + 2] ?? 0) << 8) | (bytes[k + 3] ?? 0)) >>> 0;
    if (this.stride === 1) this.addV4(w(0), len, pathId);
    else this.addV6(w(0), w(4), w(8), w(12), len, pathId);
  }

  /** Wire size of entry `i`. */
  entrySize(i: number, addPath: boolean): number {
    return nlriEntrySize(this.lens[i]!, addPath);
  }

  /** Writes entry `i` as NLRI at `pos`; returns the new position. */
  write(i: number, out: Uint8Array, pos: number, addPath: boolean): number {
    let p = pos;
    if (addPath) p = writePathId(out, p, this.pathIds[i]!);
    if (this.stride === 1) return writeNlriV4(out, p, this.words[i]!, this.lens[i]!);
    const o = i * 4;
    const ws = this.words;
    return writeNlriV6(out, p, ws[o]!, ws[o + 1]!, ws[o + 2]!, ws[o + 3]!, this.lens[i]!);
  }
}
