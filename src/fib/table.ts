// The FIB's per-prefix state: one entry per (family, prefix, length) that we
// want installed, have installed, or see held by another owner. Entries live in
// typed arrays with stable ids (the dirty queue and in-flight batches hold ids);
// an open-addressing index over the ids finds them by key. ~40 bytes per entry
// (31 in the entry arrays, 8-16 in the index), no object per prefix.
//
// desired, installed and flags are written only through setDesired, setInstalled
// and setFlags, which keep running counts of them (what Fib.stats() reports), so
// nobody walks a million entries to count them.
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

const PENDING = EntryFlag.DIRTY | EntryFlag.INFLIGHT;
/** Flags with a running count. */
const COUNTED = PENDING | EntryFlag.FAILED | EntryFlag.CONFLICT | EntryFlag.ADOPTED;

/** Running counts over live entries (what a walk of the table would count). */
export interface FibTableCounts {
  /** desired >= 0. */
  readonly desired: number;
  /** installed >= 0, IPv4 and IPv6 entries. */
  readonly installed4: number;
  readonly installed6: number;
  /** DIRTY or INFLIGHT. */
  readonly pending: number;
  readonly failed: number;
  readonly conflicts: number;
  readonly adopted: number;
}

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

/** The hash of a key given as its words (w4 = KEY_LIVE | family << 8 | plen). */
function hashWords(w0: number, w1: number, w2: number, w3: number, w4: number): number {
  let h = mix(mix(0x2545f491, w4), w0);
  if (((w4 >> 8) & 0xff) === 6) h = mix(mix(mix(h, w1), w2), w3);
  return fmix(h);
}

/** Bits needed for the numbers 0..n. */
function bitsFor(n: number): number {
  return 32 - Math.clz32(n);
}

/** Index slot bits for the distance of an entry from its home slot; DIST_MAX means "that or more". */
const DIST_BITS = 4;
const DIST_MAX = (1 << DIST_BITS) - 1;
/** The largest capacity: the id + 1, the distance and at least one hash bit fit an int32 slot. */
const MAX_CAPACITY = 2 ** (31 - DIST_BITS) - 1;

export class FibTable {
  /** Entry capacity (ids are 0..capacity-1). */
  capacity: number;
  /** Live entries. */
  size = 0;
  /** One past the highest id ever used: scans stop here. */
  hwm = 0;
  /**
   * 4 address words (big-endian, as int32) + (KEY_LIVE | family << 8 | plen) per
   * entry. A free entry's first word links the free list.
   */
  keys: Int32Array;
  /** Last errno of a failed write (0 when none). */
  errno: Uint16Array;
  private des: Int32Array;
  private inst: Int32Array;
  private fl: Uint8Array;
  /**
   * Open addressing, linear probing, at most half full, one int32 per slot: 0 =
   * empty, else (low to high bits) the entry id + 1 (`idBits`), its distance from
   * its home slot (DIST_BITS, capped) and the hash's top bits. The hash bits tell
   * most other keys apart without reading their entry (one cache miss per lookup,
   * not two); the distance gives backward-shift deletion the home slots it needs
   * without reading (and hashing) the keys of the entries it shifts.
   */
  private index: Int32Array;
  private mask: number;
  private idBits: number;
  private idMask: number;
  /** The hash bits kept in a slot. */
  private tagMask: number;
  /** Head of the free list (linked through keys), -1 when empty. */
  private freeHead = -1;
  private sink = 0;
  private nDesired = 0;
  private nInstalled4 = 0;
  private nInstalled6 = 0;
  /** Live entries installed with each form id: the nexthop GC asks which forms are in use. */
  private formRefs = new Int32Array(64);
  private nPending = 0;
  private nFailed = 0;
  private nConflicts = 0;
  private nAdopted = 0;

  constructor(initial = 1024) {
    this.capacity = Math.min(MAX_CAPACITY, Math.max(16, Math.ceil(initial)));
    this.keys = new Int32Array(this.capacity * KEY_WORDS);
    this.des = new Int32Array(this.capacity);
    this.inst = new Int32Array(this.capacity);
    this.fl = new Uint8Array(this.capacity);
    this.errno = new Uint16Array(this.capacity);
    this.index = new Int32Array(0);
    this.mask = 0;
    this.idBits = 0;
    this.idMask = 0;
    this.tagMask = 0;
    this.rehash();
  }

  /** Next-hop handle the daemon wants, -1 for none. Written through setDesired. */
  get desired(): ArrayLike<number> {
    return this.des;
  }

  /** Form id of what the kernel holds for us, -1 for nothing. Written through setInstalled. */
  get installed(): ArrayLike<number> {
    return this.inst;
  }

  /** EntryFlag bits. Written through setFlags, addFlags, clearFlags. */
  get flags(): ArrayLike<number> {
    return this.fl;
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

  /** The slot holding the loaded key, or -1 - (the empty slot where it would go). */
  private slotOf(h: number): number {
    const idx = this.index;
    const ks = this.keys;
    const mask = this.mask;
    const idMask = this.idMask;
    const tagMask = this.tagMask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = idx[i]!;
      if (v === 0) return -1 - i;
      if (((v ^ h) & tagMask) !== 0) continue;
      const k = ((v & idMask) - 1) * KEY_WORDS;
      if (ks[k] === this.w0 && ks[k + 4] === this.w4 && ks[k + 1] === this.w1 && ks[k + 2] === this.w2 && ks[k + 3] === this.w3) {
        return i;
      }
    }
  }

  /**
   * Reads the index slot where this prefix's lookup will start (and the key it
   * probably finds there), changing nothing. A caller holding a batch touches a few
   * prefixes ahead of looking them up: the cache misses of independent reads overlap
   * instead of each lookup waiting for its own (~20 % off an insert into a large table).
   */
  touch(family: Family, a: Uint8Array, off: number, plen: number): void {
    const h = this.load(family, a, off, plen);
    const v = this.index[h & this.mask]!;
    // Kept in a field so the compiler cannot drop the reads.
    this.sink ^= v !== 0 && ((v ^ h) & this.tagMask) === 0 ? this.keys[((v & this.idMask) - 1) * KEY_WORDS]! : v;
  }

  /** The entry id for this prefix, or -1. `a[off..]` holds 4 or 16 address bytes. */
  find(family: Family, a: Uint8Array, off: number, plen: number): number {
    const i = this.slotOf(this.load(family, a, off, plen));
    return i < 0 ? -1 : (this.index[i]! & this.idMask) - 1;
  }

  /** The entry for this prefix, created (desired = installed = -1, flags = LIVE) if absent. */
  insert(family: Family, a: Uint8Array, off: number, plen: number): number {
    if (this.freeHead < 0 && this.hwm === this.capacity) this.grow(this.capacity * 2);
    const h = this.load(family, a, off, plen);
    const i = this.slotOf(h);
    if (i >= 0) return (this.index[i]! & this.idMask) - 1;
    let id: number;
    const ks = this.keys;
    if (this.freeHead >= 0) {
      id = this.freeHead;
      this.freeHead = ks[id * KEY_WORDS]!;
    } else {
      id = this.hwm++;
    }
    const k = id * KEY_WORDS;
    ks[k] = this.w0;
    ks[k + 1] = this.w1;
    ks[k + 2] = this.w2;
    ks[k + 3] = this.w3;
    ks[k + 4] = this.w4;
    this.des[id] = -1;
    this.inst[id] = -1;
    this.fl[id] = EntryFlag.LIVE;
    this.errno[id] = 0;
    const slot = -1 - i;
    this.index[slot] = (h & this.tagMask) | (Math.min((slot - h) & this.mask, DIST_MAX) << this.idBits) | (id + 1);
    this.size++;
    return id;
  }

  /** Frees an entry; its id may be reused by the next insert. */
  remove(id: number): void {
    if (!this.live(id)) return;
    // Read up front: the loads overlap with the key's and the index's.
    const d = this.des[id]!;
    const n = this.inst[id]!;
    const f = this.fl[id]!;
    const idx = this.index;
    const mask = this.mask;
    const idBits = this.idBits;
    const idMask = this.idMask;
    const ks = this.keys;
    const k = id * KEY_WORDS;
    let i = hashWords(ks[k]!, ks[k + 1]!, ks[k + 2]!, ks[k + 3]!, ks[k + 4]!) & mask;
    while ((idx[i]! & idMask) !== id + 1) i = (i + 1) & mask;
    // Backward-shift deletion keeps probe chains intact without tombstones.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const v = idx[j]!;
      if (v === 0) break;
      const dist = (v >>> idBits) & DIST_MAX;
      let home: number;
      if (dist < DIST_MAX) {
        home = (j - dist) & mask;
      } else {
        const o = ((v & idMask) - 1) * KEY_WORDS;
        home = hashWords(ks[o]!, ks[o + 1]!, ks[o + 2]!, ks[o + 3]!, ks[o + 4]!) & mask;
      }
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!between) {
        idx[i] = (v & ~(DIST_MAX << idBits)) | (Math.min((i - home) & mask, DIST_MAX) << idBits);
        i = j;
      }
    }
    idx[i] = 0;
    // Uncount what the entry contributed, then clear it.
    if (d >= 0) this.nDesired--;
    if (n >= 0) {
      if (((ks[k + 4]! >> 8) & 0xff) === 6) this.nInstalled6--;
      else this.nInstalled4--;
      this.formRefs[n]!--;
    }
    this.uncountFlags(f);
    this.des[id] = -1;
    this.inst[id] = -1;
    this.fl[id] = 0;
    ks[k + 4] = 0;
    ks[k] = this.freeHead;
    this.freeHead = id;
    this.size--;
  }

  live(id: number): boolean {
    return id >= 0 && id < this.hwm && (this.fl[id]! & EntryFlag.LIVE) !== 0;
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

  // ------------------------------------------------------------ counted writes

  /** Sets the desired next-hop handle of a live entry (-1: none). */
  setDesired(id: number, handle: number): void {
    const old = this.des[id]!;
    this.des[id] = handle;
    if ((old >= 0) === (handle >= 0) || !(this.fl[id]! & EntryFlag.LIVE)) return;
    this.nDesired += handle >= 0 ? 1 : -1;
  }

  /** Sets the installed form id of a live entry (-1: nothing of ours in the kernel). */
  setInstalled(id: number, form: number): void {
    const old = this.inst[id]!;
    this.inst[id] = form;
    if (!(this.fl[id]! & EntryFlag.LIVE)) return;
    if (old >= 0) this.formRefs[old]!--;
    if (form >= 0) {
      if (form >= this.formRefs.length) {
        const grown = new Int32Array(Math.max(form + 1, this.formRefs.length * 2));
        grown.set(this.formRefs);
        this.formRefs = grown;
      }
      this.formRefs[form]!++;
    }
    if ((old >= 0) === (form >= 0)) return;
    const d = form >= 0 ? 1 : -1;
    if (((this.keys[id * KEY_WORDS + 4]! >> 8) & 0xff) === 6) this.nInstalled6 += d;
    else this.nInstalled4 += d;
  }

  /** Sets an entry's flags; LIVE is kept as it was (only insert and remove change it). */
  setFlags(id: number, flags: number): void {
    const old = this.fl[id]!;
    const f = (flags & ~EntryFlag.LIVE) | (old & EntryFlag.LIVE);
    this.fl[id] = f;
    const x = old ^ f;
    if ((x & COUNTED) === 0 || !(old & EntryFlag.LIVE)) return;
    if (x & PENDING) this.nPending += ((f & PENDING) !== 0 ? 1 : 0) - ((old & PENDING) !== 0 ? 1 : 0);
    if (x & EntryFlag.FAILED) this.nFailed += f & EntryFlag.FAILED ? 1 : -1;
    if (x & EntryFlag.CONFLICT) this.nConflicts += f & EntryFlag.CONFLICT ? 1 : -1;
    if (x & EntryFlag.ADOPTED) this.nAdopted += f & EntryFlag.ADOPTED ? 1 : -1;
  }

  /** Takes the counted flags of a live entry being removed off the counts. */
  private uncountFlags(f: number): void {
    if ((f & COUNTED) === 0) return;
    if (f & PENDING) this.nPending--;
    if (f & EntryFlag.FAILED) this.nFailed--;
    if (f & EntryFlag.CONFLICT) this.nConflicts--;
    if (f & EntryFlag.ADOPTED) this.nAdopted--;
  }

  addFlags(id: number, bits: number): void {
    this.setFlags(id, this.fl[id]! | bits);
  }

  clearFlags(id: number, bits: number): void {
    this.setFlags(id, this.fl[id]! & ~bits);
  }

  /** Running counts over the live entries, O(1). */
  counts(): FibTableCounts {
    return {
      desired: this.nDesired,
      installed4: this.nInstalled4,
      installed6: this.nInstalled6,
      pending: this.nPending,
      failed: this.nFailed,
      conflicts: this.nConflicts,
      adopted: this.nAdopted,
    };
  }

  /** The same counts by walking every entry: for tests of the running counts. */
  /** Form ids installed by at least one live entry (O(forms), not O(entries)). */
  installedForms(): Set<number> {
    const s = new Set<number>();
    const r = this.formRefs;
    for (let f = 0; f < r.length; f++) if (r[f]! > 0) s.add(f);
    return s;
  }

  /** installedForms() by a walk over the entries, for tests. */
  recountForms(): Set<number> {
    const s = new Set<number>();
    for (let id = 0; id < this.hwm; id++) if (this.fl[id]! & EntryFlag.LIVE && this.inst[id]! >= 0) s.add(this.inst[id]!);
    return s;
  }

  recount(): FibTableCounts {
    let desired = 0;
    let installed4 = 0;
    let installed6 = 0;
    let pending = 0;
    let failed = 0;
    let conflicts = 0;
    let adopted = 0;
    for (let id = 0; id < this.hwm; id++) {
      const f = this.fl[id]!;
      if (!(f & EntryFlag.LIVE)) continue;
      if (this.des[id]! >= 0) desired++;
      if (this.inst[id]! >= 0) {
        if (this.family(id) === 6) installed6++;
        else installed4++;
      }
      if (f & PENDING) pending++;
      if (f & EntryFlag.FAILED) failed++;
      if (f & EntryFlag.CONFLICT) conflicts++;
      if (f & EntryFlag.ADOPTED) adopted++;
    }
    return { desired, installed4, installed6, pending, failed, conflicts, adopted };
  }

  // ------------------------------------------------------------ sizing

  /**
   * Makes room for `n` entries in all (not n more), so that filling the table up to
   * n neither copies the entry arrays nor rehashes the index again. Never shrinks.
   * Grows by at least half: a caller reserving a little more at each step (a count
   * that is still rising) costs no more than letting the table grow by itself.
   */
  reserve(n: number): void {
    if (n > this.capacity) this.grow(Math.max(Math.ceil(n), this.capacity + (this.capacity >> 1)));
  }

  private grow(cap: number): void {
    if (cap > MAX_CAPACITY) {
      if (this.capacity >= MAX_CAPACITY) throw new RangeError(`FIB table full (${MAX_CAPACITY} entries)`);
      cap = MAX_CAPACITY;
    }
    // Ids at or above hwm were never used: only what is below is copied (insert
    // initialises an entry), so the new part of each array stays untouched.
    const used = this.hwm;
    const keys = new Int32Array(cap * KEY_WORDS);
    keys.set(this.keys.subarray(0, used * KEY_WORDS));
    this.keys = keys;
    const des = new Int32Array(cap);
    des.set(this.des.subarray(0, used));
    this.des = des;
    const inst = new Int32Array(cap);
    inst.set(this.inst.subarray(0, used));
    this.inst = inst;
    const fl = new Uint8Array(cap);
    fl.set(this.fl.subarray(0, used));
    this.fl = fl;
    const errno = new Uint16Array(cap);
    errno.set(this.errno.subarray(0, used));
    this.errno = errno;
    this.capacity = cap;
    this.rehash();
  }

  /** Builds the index for the capacity: at most half full, id bits for every id. */
  private rehash(): void {
    let n = 1;
    while (n < this.capacity * 2) n <<= 1;
    const idx = new Int32Array(n);
    const mask = n - 1;
    const idBits = bitsFor(this.capacity);
    const idMask = (1 << idBits) - 1;
    const tagMask = ~((1 << (idBits + DIST_BITS)) - 1);
    const ks = this.keys;
    const fl = this.fl;
    // In id order: the keys and flags are read front to back.
    for (let id = 0; id < this.hwm; id++) {
      if (!(fl[id]! & EntryFlag.LIVE)) continue;
      const k = id * KEY_WORDS;
      const h = hashWords(ks[k]!, ks[k + 1]!, ks[k + 2]!, ks[k + 3]!, ks[k + 4]!);
      let i = h & mask;
      while (idx[i] !== 0) i = (i + 1) & mask;
      idx[i] = (h & tagMask) | (Math.min((i - h) & mask, DIST_MAX) << idBits) | (id + 1);
    }
    this.index = idx;
    this.mask = mask;
    this.idBits = idBits;
    this.idMask = idMask;
    this.tagMask = tagMask;
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
