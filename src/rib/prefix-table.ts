// Prefix → slot tables over typed arrays (open addressing, linear probing,
// backward-shift deletion, so there are no tombstones). A slot is a small int that
// names one prefix for as long as it is in the table; the RIB keeps its per-prefix
// state in arrays indexed by slot. No strings, no object per prefix.
//
// Buckets:
//   IPv4: one u32, (8 hash bits) << 24 | (slot + 1); the address lives per slot.
//         The hash bits settle almost every probe of a foreign entry without reading
//         the slot's key, and 4 bytes a bucket instead of 8 save ~8 MB at 1M
//         prefixes (2^21 buckets at the 0.7 load limit).
//   IPv6: [hash, slot + 1]  the words live per slot (compared on a hash match)
// 0 marks an empty bucket. Per slot we keep the length (255 = free) and the key
// words. Freed slots are reused LIFO.

const EMPTY_LEN = 255; // `lens[slot]` of a free slot
const MAX_LOAD = 0.7;
const V4_MAX_SLOTS = (1 << 24) - 1; // slot + 1 shares a word with 8 hash bits

/** murmur3's 32-bit finaliser: spreads the low-entropy bits of /24s over the word. */
function fmix32(x: number): number {
  let h = x;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashV4(addr: number, len: number): number {
  return fmix32(addr ^ Math.imul(len + 1, 0x9e3779b1));
}

export function hashV6(w0: number, w1: number, w2: number, w3: number, len: number): number {
  return fmix32(
    Math.imul(w0, 0x9e3779b1) ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3, 0x27d4eb2f) ^ len,
  );
}

function bucketsFor(n: number): number {
  let cap = 16;
  while (cap * MAX_LOAD < n) cap *= 2;
  return cap;
}

/** `home` is cyclically outside (hole, j]: the entry at j may move back into the hole. */
function movable(home: number, hole: number, j: number): boolean {
  return hole <= j ? home <= hole || home > j : home <= hole && home > j;
}

/** What the two families share: slot numbering, liveness, iteration. */
export abstract class PrefixTable {
  /** Address family: 1 (IPv4) or 2 (IPv6). */
  abstract readonly afi: 1 | 2;
  /** Live prefixes. */
  size = 0;
  /** Slots ever handed out; every live slot is below it. */
  slotLimit = 0;
  /** Set by insert: true when the prefix was not in the table before. */
  inserted = false;
  /** Length of each slot's prefix, 255 for a free slot. */
  protected lens: Uint8Array;
  /** Buckets (see the header comment). Int32: values stay small integers for the JIT. */
  protected b: Int32Array;
  /** Number of buckets - 1. */
  protected mask: number;
  private free: Int32Array;
  private freeCount = 0;

  /** `bucketWords`: u32 words per bucket. */
  constructor(initialSlots: number, bucketWords: number) {
    const n = Math.max(16, initialSlots);
    this.lens = new Uint8Array(n).fill(EMPTY_LEN);
    const cap = bucketsFor(n);
    this.b = new Int32Array(cap * bucketWords);
    this.mask = cap - 1;
    this.free = new Int32Array(16);
  }

  /** Entries the per-slot arrays currently hold (grows by doubling). Arrays indexed by slot need this many. */
  get slotCapacity(): number {
    return this.lens.length;
  }

  isLive(slot: number): boolean {
    return slot >= 0 && slot < this.slotLimit && this.lens[slot] !== EMPTY_LEN;
  }

  /** Prefix length of a live slot. */
  prefixLength(slot: number): number {
    return this.lens[slot]!;
  }

  /** First live slot at or after `from`, or -1: `for (s = t.nextLive(0); s >= 0; s = t.nextLive(s + 1))`. */
  nextLive(from: number): number {
    const lens = this.lens;
    for (let s = from < 0 ? 0 : from; s < this.slotLimit; s++) if (lens[s] !== EMPTY_LEN) return s;
    return -1;
  }

  /** Removes a live slot's prefix; the slot number may be handed out again by a later insert. */
  abstract deleteSlot(slot: number): void;

  /** Removes every prefix (keeps the allocated capacity). */
  clear(): void {
    this.b.fill(0);
    this.lens.fill(EMPTY_LEN);
    this.size = 0;
    this.slotLimit = 0;
    this.freeCount = 0;
  }

  /** Bytes held by the typed arrays (for metrics and the benchmark). */
  get byteSize(): number {
    return this.b.byteLength + this.lens.byteLength + this.free.byteLength + this.extraBytes();
  }

  protected abstract extraBytes(): number;
  protected abstract growSlotArrays(n: number): void;
  protected abstract rehash(buckets: number): void;

  protected checkLive(slot: number): void {
    if (!this.isLive(slot)) throw new RangeError(`slot ${slot} is not live`);
  }

  /** Grows the buckets when one more entry would pass the load limit; true when it did. */
  protected reserveOne(): boolean {
    if (this.size + 1 <= (this.mask + 1) * MAX_LOAD) return false;
    this.rehash((this.mask + 1) * 2);
    return true;
  }

  /** Takes a slot number for a new prefix of length `len`. */
  protected allocSlot(len: number): number {
    let slot: number;
    if (this.freeCount > 0) slot = this.free[--this.freeCount]!;
    else {
      slot = this.slotLimit++;
      if (slot >= this.lens.length) {
        const n = this.lens.length * 2;
        const l = new Uint8Array(n).fill(EMPTY_LEN);
        l.set(this.lens);
        this.lens = l;
        this.growSlotArrays(n);
      }
    }
    this.lens[slot] = len;
    this.size++;
    return slot;
  }

  protected releaseSlot(slot: number): void {
    this.lens[slot] = EMPTY_LEN;
    this.size--;
    if (this.freeCount === this.free.length) {
      const f = new Int32Array(this.free.length * 2);
      f.set(this.free);
      this.free = f;
    }
    this.free[this.freeCount++] = slot;
  }
}

/** IPv4 prefixes: key (addr u32, len 0..32). Addresses must already have host bits cleared. */
export class PrefixTableV4 extends PrefixTable {
  readonly afi = 1 as const;
  /** Address of each slot. */
  private addr: Uint32Array;

  constructor(initialSlots = 1024) {
    super(initialSlots, 1);
    this.addr = new Uint32Array(this.lens.length);
  }

  /** Slot of the prefix, or -1. */
  find(addr: number, len: number): number {
    const a = addr >>> 0;
    const h = hashV4(a, len);
    const fp = h >>> 24;
    const b = this.b;
    const mask = this.mask;
    const keys = this.addr;
    const lens = this.lens;
    let i = h & mask;
    for (;;) {
      const w = b[i]!;
      if (w === 0) return -1;
      if (w >>> 24 === fp) {
        const s = (w & 0xffffff) - 1;
        if (keys[s] === a && lens[s] === len) return s;
      }
      i = (i + 1) & mask;
    }
  }

  /** Slot of the prefix, adding it when absent (`inserted` tells which). */
  insert(addr: number, len: number): number {
    const a = addr >>> 0;
    const h = hashV4(a, len);
    const fp = h >>> 24;
    let b = this.b;
    let mask = this.mask;
    const lens = this.lens;
    const keys = this.addr;
    let i = h & mask;
    for (;;) {
      const w = b[i]!;
      if (w === 0) break;
      if (w >>> 24 === fp) {
        const s = (w & 0xffffff) - 1;
        if (keys[s] === a && lens[s] === len) {
          this.inserted = false;
          return s;
        }
      }
      i = (i + 1) & mask;
    }
    if (len < 0 || len > 32) throw new RangeError(`bad IPv4 prefix length ${len}`);
    if (this.size >= V4_MAX_SLOTS) throw new RangeError('IPv4 prefix table full');
    if (this.reserveOne()) {
      b = this.b;
      mask = this.mask;
      i = h & mask;
      while (b[i] !== 0) i = (i + 1) & mask;
    }
    const slot = this.allocSlot(len);
    this.addr[slot] = a;
    b[i] = (fp << 24) | (slot + 1);
    this.inserted = true;
    return slot;
  }

  /** Removes the prefix; returns its former slot or -1. */
  delete(addr: number, len: number): number {
    const s = this.find(addr, len);
    if (s >= 0) this.deleteSlot(s);
    return s;
  }

  deleteSlot(slot: number): void {
    this.checkLive(slot);
    const b = this.b;
    const mask = this.mask;
    const keys = this.addr;
    const lens = this.lens;
    const own = slot + 1;
    let hole = hashV4(keys[slot]!, lens[slot]!) & mask;
    while ((b[hole]! & 0xffffff) !== own) hole = (hole + 1) & mask;
    let j = (hole + 1) & mask;
    for (;;) {
      const w = b[j]!;
      if (w === 0) break;
      const s = (w & 0xffffff) - 1;
      const home = hashV4(keys[s]!, lens[s]!) & mask;
      if (movable(home, hole, j)) {
        b[hole] = w;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    b[hole] = 0;
    this.releaseSlot(slot);
  }

  /** Address (u32) of a live slot. */
  addrOf(slot: number): number {
    return this.addr[slot]!;
  }

  protected rehash(buckets: number): void {
    // From the slots (read in order), not the old buckets: no key lives in a bucket.
    const b = new Int32Array(buckets);
    const mask = buckets - 1;
    const keys = this.addr;
    const lens = this.lens;
    const limit = this.slotLimit;
    for (let s = 0; s < limit; s++) {
      const len = lens[s]!;
      if (len === EMPTY_LEN) continue;
      const h = hashV4(keys[s]!, len);
      let i = h & mask;
      while (b[i] !== 0) i = (i + 1) & mask;
      b[i] = ((h >>> 24) << 24) | (s + 1);
    }
    this.b = b;
    this.mask = mask;
  }

  protected growSlotArrays(n: number): void {
    const a = new Uint32Array(n);
    a.set(this.addr);
    this.addr = a;
  }

  protected extraBytes(): number {
    return this.addr.byteLength;
  }
}

/** IPv6 prefixes: key (four u32 words, most significant first; len 0..128). Host bits must be cleared. */
export class PrefixTableV6 extends PrefixTable {
  readonly afi = 2 as const;
  /** Four words per slot. */
  private words: Uint32Array;

  constructor(initialSlots = 1024) {
    super(initialSlots, 2);
    this.words = new Uint32Array(this.lens.length * 4);
  }

  find(w0: number, w1: number, w2: number, w3: number, len: number): number {
    return this.lookup(hashV6(w0, w1, w2, w3, len), w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0, len);
  }

  insert(w0: number, w1: number, w2: number, w3: number, len: number): number {
    const a0 = w0 >>> 0;
    const a1 = w1 >>> 0;
    const a2 = w2 >>> 0;
    const a3 = w3 >>> 0;
    const h = hashV6(a0, a1, a2, a3, len);
    const s0 = this.lookup(h, a0, a1, a2, a3, len);
    if (s0 >= 0) {
      this.inserted = false;
      return s0;
    }
    if (len < 0 || len > 128) throw new RangeError(`bad IPv6 prefix length ${len}`);
    this.reserveOne();
    const slot = this.allocSlot(len);
    const o = slot * 4;
    const ws = this.words;
    ws[o] = a0;
    ws[o + 1] = a1;
    ws[o + 2] = a2;
    ws[o + 3] = a3;
    const b = this.b;
    const mask = this.mask;
    let i = h & mask;
    while (b[2 * i + 1] !== 0) i = (i + 1) & mask;
    b[2 * i] = h | 0;
    b[2 * i + 1] = slot + 1;
    this.inserted = true;
    return slot;
  }

  delete(w0: number, w1: number, w2: number, w3: number, len: number): number {
    const s = this.find(w0, w1, w2, w3, len);
    if (s >= 0) this.deleteSlot(s);
    return s;
  }

  deleteSlot(slot: number): void {
    this.checkLive(slot);
    const b = this.b;
    const mask = this.mask;
    const o = slot * 4;
    const ws = this.words;
    let i = hashV6(ws[o]!, ws[o + 1]!, ws[o + 2]!, ws[o + 3]!, this.lens[slot]!) & mask;
    while (b[2 * i + 1] !== slot + 1) i = (i + 1) & mask;
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const v = b[2 * j + 1]!;
      if (v === 0) break;
      const home = b[2 * j]! & mask;
      if (movable(home, hole, j)) {
        b[2 * hole] = b[2 * j]!;
        b[2 * hole + 1] = v;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    b[2 * hole] = 0;
    b[2 * hole + 1] = 0;
    ws.fill(0, o, o + 4);
    this.releaseSlot(slot);
  }

  /** Word `i` (0..3) of a live slot's address. */
  word(slot: number, i: number): number {
    return this.words[slot * 4 + i]!;
  }

  /** Writes the 16 address bytes of a live slot into `out` at `at`. */
  addrBytes(slot: number, out: Uint8Array, at = 0): void {
    for (let i = 0; i < 4; i++) {
      const w = this.words[slot * 4 + i]!;
      out[at + i * 4] = w >>> 24;
      out[at + i * 4 + 1] = (w >>> 16) & 0xff;
      out[at + i * 4 + 2] = (w >>> 8) & 0xff;
      out[at + i * 4 + 3] = w & 0xff;
    }
  }

  private lookup(h: number, w0: number, w1: number, w2: number, w3: number, len: number): number {
    const b = this.b;
    const mask = this.mask;
    const ws = this.words;
    const hi = h | 0;
    let i = h & mask;
    for (;;) {
      const v = b[2 * i + 1]!;
      if (v === 0) return -1;
      if (b[2 * i] === hi) {
        const s = v - 1;
        const o = s * 4;
        if (ws[o] === w0 && ws[o + 1] === w1 && ws[o + 2] === w2 && ws[o + 3] === w3 && this.lens[s] === len) return s;
      }
      i = (i + 1) & mask;
    }
  }

  protected rehash(buckets: number): void {
    const old = this.b;
    const b = new Int32Array(buckets * 2);
    const mask = buckets - 1;
    for (let k = 0; k < old.length; k += 2) {
      const v = old[k + 1]!;
      if (v === 0) continue;
      const h = old[k]!;
      let i = h & mask;
      while (b[2 * i + 1] !== 0) i = (i + 1) & mask;
      b[2 * i] = h;
      b[2 * i + 1] = v;
    }
    this.b = b;
    this.mask = mask;
  }

  protected growSlotArrays(n: number): void {
    const w = new Uint32Array(n * 4);
    w.set(this.words);
    this.words = w;
  }

  protected extraBytes(): number {
    return this.words.byteLength;
  }
}
