// A batch of route changes from the daemon to the FIB: struct of arrays, no
// object per route. Reuse one batch: fill, apply(), clear().
import { type Family, parsePrefix } from './ip.js';

export class FibBatch {
  length = 0;
  family: Uint8Array;
  plen: Uint8Array;
  /** Next-hop set handle, or -1 to withdraw the prefix. */
  nh: Int32Array;
  /** 16 bytes per route (IPv4 uses the first 4). */
  addr: Uint8Array;

  constructor(capacity = 1024) {
    this.family = new Uint8Array(capacity);
    this.plen = new Uint8Array(capacity);
    this.nh = new Int32Array(capacity);
    this.addr = new Uint8Array(capacity * 16);
  }

  private ensure(): void {
    if (this.length < this.nh.length) return;
    const cap = this.nh.length * 2;
    const f = new Uint8Array(cap);
    f.set(this.family);
    this.family = f;
    const p = new Uint8Array(cap);
    p.set(this.plen);
    this.plen = p;
    const n = new Int32Array(cap);
    n.set(this.nh);
    this.nh = n;
    const a = new Uint8Array(cap * 16);
    a.set(this.addr);
    this.addr = a;
  }

  /**
   * Adds one change: install `family` prefix `src[off..]/plen` through next-hop
   * set `nh`, or withdraw it when `nh` is -1. Host bits must be zero.
   */
  push(family: Family, src: Uint8Array, off: number, plen: number, nh: number): void {
    this.ensure();
    const i = this.length++;
    this.family[i] = family;
    this.plen[i] = plen;
    this.nh[i] = nh;
    const n = family === 4 ? 4 : 16;
    const at = i * 16;
    for (let k = 0; k < n; k++) this.addr[at + k] = src[off + k]!;
  }

  /** IPv4 prefix given as a 32-bit number (network order value, e.g. 0x0a000000 for 10.0.0.0). */
  pushV4(addr: number, plen: number, nh: number): void {
    this.ensure();
    const i = this.length++;
    this.family[i] = 4;
    this.plen[i] = plen;
    this.nh[i] = nh;
    const at = i * 16;
    this.addr[at] = addr >>> 24;
    this.addr[at + 1] = (addr >>> 16) & 0xff;
    this.addr[at + 2] = (addr >>> 8) & 0xff;
    this.addr[at + 3] = addr & 0xff;
  }

  /** Text form, for configuration and tests. Throws on an invalid prefix. */
  pushPrefix(prefix: string, nh: number): void {
    const p = parsePrefix(prefix);
    if (!p) throw new Error(`invalid prefix ${prefix}`);
    this.push(p.family, p.bytes, 0, p.plen, nh);
  }

  clear(): void {
    this.length = 0;
  }
}
