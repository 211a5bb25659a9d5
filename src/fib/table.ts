// The FIB's per-prefix state: one entry per (family, prefix, length) that we
// want installed, have installed, or see held by another owner. Entries live in
// typed arrays with stable ids (the dirty queue and in-flight batches hold ids);
// an open-addressing index over the ids finds them by key. ~45 bytes per entry,
// no object per prefix.
import type { Family } from './ip.js';

/** Bits of FibTable.flags. */
export const EntryFlag = {
  /** Queued for the writer. */
  DIRTY: 0x1,
  /** A message for it is in the kernel's hands; wait for the answer. */
  INFLIGHT: 0x2,
  /** Another owner's route holds the same (table, prefix, metric). */
  FOREIGN: 0x4,
  /** A conflict with FOREIGN was reported. */
  CONFLICT: 0x8,
  /** The last write failed; retried when links, addresses or next hops change. */
  FAILED: 0x10,
  /** Ours from before a restart, not yet claimed by the desired state. */
  ADOPTED: 0x20,
  /** Our route may or may not be on the key: a qualified delete finds out (diff.ts PROBE). */
  PROBE: 0x40,
  LIVE: 0x80,
} as const;

/** Int32 words per entry in FibTable.keys: the address, then family and length. */
export const KEY_WORDS = 5;
/** Set in the fifth key word of a live entry (above family and length). */
const KEY_LIVE = 0x10000;

function beWord(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!; // int32: stays a Smi
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

export class FibTable {
  /** Entry capacity (ids are 0..capacity-1). */
  capacity: number;
  /** Live entries. */
  size = 0;
  /** One past the highest id ever used: scans stop here. */
  hwm = 0;
  /** 4 address words (big-endian, as int32) + (KEY_LIVE | family << 8 | plen) per entry. */
  keys: Int32Array;
  hashes: Int32Array;
  /** Next-hop handle the daemon wants, -1 for none. */
  desired: Int32Array;
  /** Form id of what the kernel holds for us, -1 for nothing. */
  installed: Int32Array;
  flags: Uint8Array;
  /** Last errno of a failed write (0 when none). */
  errno: Uint16Array;
  private index: Int32Array; // entry id + 1, 0 = empty
  private mask: number;
  private freeList: Int32Array;
  private freeTop = 0;

  constructor(initial = 1024) {
    this.capacity = Math.max(16, initial);
    this.keys = new Int32Array(this.capacity * KEY_WORDS);
    this.hashes = new Int32Array(this.capacity);
    this.desired = new Int32Array(this.capacity).fill(-1);
    this.installed = new Int32Array(this.capacity).fill(-1);
    this.flags = new Uint8Array(this.capacity);
    this.errno = new Uint16Array(this.capacity);
    this.freeList = new Int32Array(this.capacity);
    let n = 1;
    while (n < this.capacity * 2) n <<= 1;
    this.index = new Int32Array(n);
    this.mask = n - 1;
  }

  // Key words of the prefix being looked up (set by load(); avoids re-reading bytes).
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  private w4 = 0;

  /** Loads the key into w0..w4 and returns its hash. */
  private load(family: Family, a: Uint8Array, off: number, plen: number): number {
    this.w0 = beWord(a, off);
    this.w4 = KEY_LIVE | (family << 8) | plen;
    let h = mix(mix(0x2545f491, this.w4), this.w0);
    if (family === 6) {
      this.w1 = beWord(a, off + 4);
      this.w2 = beWord(a, off + 8);
      this.w3 = beWord(a, off + 12);
      h = mix(mix(mix(h, this.w1), this.w2), this.w3);
    } else {
      this.w1 = this.w2 = this.w3 = 0;
    }
    return fmix(h);
  }

  private slotOf(h: number): number {
    const idx = this.index;
    const ks = this.keys;
    for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
      const v = idx[i]!;
      if (v === 0) return -1 - i;
      const k = (v - 1) * KEY_WORDS;
      if (
        this.hashes[v - 1] === h &&
        ks[k] === this.w0 &&
        ks[k + 4] === this.w4 &&
        ks[k + 1] === this.w1 &&
        ks[k + 2] === this.w2 &&
        ks[k + 3] === this.w3
      ) {
        return i;
      }
    }
  }

  /** The entry id for this prefix, or -1. `a[off..]` holds 4 or 16 address bytes. */
  find(family: Family, a: Uint8Array, off: number, plen: number): number {
    const i = this.slotOf(this.load(family, a, off, plen));
    return i < 0 ? -1 : this.index[i]! - 1;
  }

  /** The entry for this prefix, created (desired = installed = -1, flags = 0) if absent. */
  insert(family: Family, a: Uint8Array, off: number, plen: number): number {
    if (this.freeTop === 0 && this.hwm === this.capacity) this.grow();
    const h = this.load(family, a, off, plen);
    const i = this.slotOf(h);
    if (i >= 0) return this.index[i]! - 1;
    const id = this.freeTop > 0 ? this.freeList[--this.freeTop]! : this.hwm++;
    const k = id * KEY_WORDS;
    const ks = this.keys;
    ks[k] = this.w0;
    ks[k + 1] = this.w1;
    ks[k + 2] = this.w2;
    ks[k + 3] = this.w3;
    ks[k + 4] = this.w4;
    this.hashes[id] = h;
    this.desired[id] = -1;
    this.installed[id] = -1;
    this.flags[id] = EntryFlag.LIVE;
    this.errno[id] = 0;
    this.index[-1 - i] = id + 1;
    this.size++;
    return id;
  }

  /** Frees an entry; its id may be reused by the next insert. */
  remove(id: number): void {
    if (!this.live(id)) return;
    const idx = this.index;
    const mask = this.mask;
    let i = this.hashes[id]! & mask;
    while (idx[i] !== id + 1) i = (i + 1) & mask;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = idx[j]!;
      if (v === 0) break;
      const home = this.hashes[v - 1]! & mask;
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        idx[i] = v;
        i = j;
      }
    }
    idx[i] = 0;
    this.keys[id * KEY_WORDS + 4] = 0;
    this.flags[id] = 0;
    this.desired[id] = -1;
    this.installed[id] = -1;
    this.freeList[this.freeTop++] = id;
    this.size--;
  }

  live(id: number): boolean {
    return id >= 0 && id < this.hwm && (this.flags[id]! & EntryFlag.LIVE) !== 0;
  }

  family(id: number): Family {
    return ((this.keys[id * KEY_WORDS + 4]! >> 8) & 0xff) === 6 ? 6 : 4;
  }

  plen(id: number): number {
    return this.keys[id * KEY_WORDS + 4]! & 0xff;
  }

  /** Writes the entry's 4 or 16 address bytes into `out` at `off`. */
  addr(id: number, out: Uint8Array, off: number): void {
    const k = id * KEY_WORDS;
    const n = this.family(id) === 4 ? 1 : 4;
    for (let w = 0; w < n; w++) {
      const v = this.keys[k + w]!;
      out[off + w * 4] = v >>> 24;
      out[off + w * 4 + 1] = (v >>> 16) & 0xff;
      out[off + w * 4 + 2] = (v >>> 8) & 0xff;
      out[off + w * 4 + 3] = v & 0xff;
    }
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const keys = new Int32Array(cap * KEY_WORDS);
    keys.set(this.keys);
    this.keys = keys;
    const hashes = new Int32Array(cap);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const desired = new Int32Array(cap).fill(-1);
    desired.set(this.desired);
    this.desired = desired;
    const installed = new Int32Array(cap).fill(-1);
    installed.set(this.installed);
    this.installed = installed;
    const flags = new Uint8Array(cap);
    flags.set(this.flags);
    this.flags = flags;
    const errno = new Uint16Array(cap);
    errno.set(this.errno);
    this.errno = errno;
    const free = new Int32Array(cap);
    free.set(this.freeList);
    this.freeList = free;
    this.capacity = cap;
    let n = 1;
    while (n < cap * 2) n <<= 1;
    const idx = new Int32Array(n);
    const mask = n - 1;
    for (let id = 0; id < this.hwm; id++) {
      if (!(this.flags[id]! & EntryFlag.LIVE)) continue;
      let i = this.hashes[id]! & mask;
      while (idx[i] !== 0) i = (i + 1) & mask;
      idx[i] = id + 1;
    }
    this.index = idx;
    this.mask = mask;
  }
}

/** A growable FIFO of entry ids. */
export class IdQueue {
  private buf = new Int32Array(1024);
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(id: number): void {
    if (this.tail === this.buf.length) {
      const live = this.tail - this.head;
      const next = live * 2 > this.buf.length ? new Int32Array(this.buf.length * 2) : this.buf;
      next.set(this.buf.subarray(this.head, this.tail), 0);
      this.buf = next;
      this.head = 0;
      this.tail = live;
    }
    this.buf[this.tail++] = id;
  }

  shift(): number {
    if (this.head === this.tail) return -1;
    const v = this.buf[this.head++]!;
    if (this.head === this.tail) this.head = this.tail = 0;
    return v;
  }

  clear(): void {
    this.head = this.tail = 0;
  }
}
