// Interned, refcounted attribute sets (ARCHITECTURE habit 5).
//
// An attribute set is identified by the raw bytes the UPDATE decoder hands over
// (`attrKey`) plus a small `tag` naming the decoding context (2- vs 4-octet AS, eBGP
// vs iBGP...: the same bytes can decode differently in two sessions). On a miss the
// bytes are copied once into the arena and `decode` runs once; identical bytes map to
// the same id afterwards. Ids are small ints, reused after their last unref.
//
// The arena is a list of 128 KiB blocks (a key never spans two; no key is longer than
// a message): it grows a block at a time instead of doubling one Buffer, so it holds
// about the live keys (200k sets: ~8 MB, not 16), and growing copies nothing. Freed
// keys are reclaimed by compacting into new blocks once they are half the bytes.
// Index buckets hold 8 bits of the hash beside the id, so a probe past another set
// rarely reads that set's per-id arrays.
//
// The fields the decision process reads are precomputed per id into typed arrays, so
// best-path selection never touches the PathAttributes object.
//
// Ownership: intern / internModified / internAttributes return an id carrying one
// reference owned by the caller. Every stored route takes its own reference (ref);
// the caller drops its one (unref) when done with the UPDATE, so a set no route kept
// is freed at once.
//
// Policy changes (set LOCAL_PREF, add a community, ...) make a derived set with
// internModified(baseId, changes): keyed by (base id, canonical bytes of the changes),
// so the same change to the same set yields the same id; a derived set holds a
// reference on its base.
//
// Decoded objects are not kept per set when they can be rebuilt (a PathAttributes is
// ~650 bytes of heap; 200k of them would cost more than the rest of the RIB): sets
// interned under a tag from contextTag(ctx) are re-decoded from their key bytes
// (redecode.ts), derived sets are rebuilt from their base and their change bytes.
// get() keeps the most recently used ones in a small LRU cache. Sets under any other
// tag (and TAG_LOCAL ones) keep their decoded object. The caller of intern already
// has the fresh decoded object (for policy); get() is for later readers (Adj-RIB-Out,
// CLI).
import type { DecisionFields } from '../wire/attrs/fields.js';
import { AsPathSegment as SegType, Origin } from '../wire/iana.js';
import { asPathCount } from '../wire/attrs/as-path.js';
import { fnv1a } from '../wire/attrs/hash.js';
import type { AsPathSegment, PathAttributes } from '../wire/attrs/types.js';
import { encodeAttributes } from '../wire/update-encoder.js';
import type { UpdateContext } from '../wire/attrs/context.js';
import { NEXTHOP_SELF, NextHopTable } from './nexthop.js';
import { KeyDecoder } from './redecode.js';

/** Tag of sets made by internModified (never used by a session). */
const TAG_MODIFIED = -1;
/** Tag for internAttributes (locally originated routes). Session tags should be >= 0. */
export const TAG_LOCAL = -2;

/** Bits of `AttrStore.flags`. */
export const AttrFlagBit = {
  LIVE: 1,
  HAS_LOCAL_PREF: 2,
  HAS_MED: 4,
  HAS_ORIGINATOR_ID: 8,
} as const;

/** What a policy may change. Every field is optional; absent means "leave as is". */
export interface AttrModification {
  localPref?: number;
  /** A number sets MULTI_EXIT_DISC; null removes it. */
  med?: number | null;
  /** 4 bytes: NEXT_HOP; 16 bytes: the global MP next hop (link-local is dropped). */
  nextHop?: Uint8Array;
  addCommunities?: readonly number[];
  removeCommunities?: readonly number[];
  /** Flat triples (global admin, local 1, local 2). */
  addLargeCommunities?: readonly number[];
  /** Prepends `asn` `count` times to the AS_PATH (count 1..255). */
  prepend?: { readonly asn: number; readonly count: number };
}

const MAX_LOAD = 0.7;
/** Arena blocks: 2^17 bytes, more than any key (attributes of one message + next hop). */
const BLOCK_BITS = 17;
const BLOCK = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK - 1;
/** Buckets: (8 hash bits) << 24 | (id + 1), so ids stay below this. */
const MAX_IDS = (1 << 24) - 1;

export interface AttrStoreOptions {
  /** Initial number of ids (grows by doubling). */
  readonly initialCapacity?: number;
  /** Decoded objects kept for sets that can be rebuilt (LRU). Default 4096. */
  readonly cacheSize?: number;
  /** Share a next-hop table (default: a new one). */
  readonly nextHops?: NextHopTable;
}

function mixTag(hash: number, tag: number): number {
  let h = (hash ^ Math.imul(tag + 0x3c6ef372, 0x9e3779b1)) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

export class AttrStore {
  readonly nextHops: NextHopTable;
  /** Live sets. */
  count = 0;
  /** Sets ever decoded (misses): for metrics and tests. */
  decodes = 0;
  /** Sets stored from their wire fields alone (internFields), without a decode. */
  fieldReads = 0;

  // Per id: decision fields (read directly by the Loc-RIB).
  flags: Uint8Array;
  localPref: Uint32Array;
  med: Uint32Array;
  origin: Uint8Array;
  asPathLen: Uint32Array;
  neighborAs: Uint32Array;
  originatorId: Uint32Array;
  clusterLen: Uint32Array;
  /** Next hop id for IPv4 routes (NEXT_HOP, else the MP next hop: RFC 8950). */
  nextHop4: Int32Array;
  /** Next hop id for IPv6 routes (the MP_REACH next hop). */
  nextHop6: Int32Array;

  // Per id: interning bookkeeping.
  private refs: Int32Array;
  private hashes: Uint32Array; // hash mixed with the tag
  private tags: Int32Array;
  private keyOff: Int32Array;
  private keyLen: Int32Array;
  private base: Int32Array; // derived sets: the base id; else -1
  private attrs: (PathAttributes | null)[] = [];
  private freeIds: number[] = [];
  private contexts: UpdateContext[] = [];
  private readonly cache = new Map<number, PathAttributes>();
  private readonly cacheSize: number;
  private readonly keyDecoder = new KeyDecoder();
  /** Rebuilds of evicted decoded objects (metrics, tests). */
  redecodes = 0;
  private idLimit = 0;

  private buckets: Int32Array; // (hash >>> 24) << 24 | (id + 1) as int32, 0 = empty
  private mask: number;

  /** Key bytes; keyOff = block index << BLOCK_BITS | offset in the block. */
  private blocks: Buffer[] = [];
  /** Bytes used in the last block. */
  private blockUsed = BLOCK;
  /** Bytes of keys stored, and of those freed since (reclaimed by compaction). */
  private arenaUsed = 0;
  private arenaWaste = 0;
  private scratch = Buffer.allocUnsafe(256);

  constructor(opts: AttrStoreOptions = {}) {
    const n = Math.max(16, opts.initialCapacity ?? 1024);
    this.nextHops = opts.nextHops ?? new NextHopTable();
    this.cacheSize = Math.max(0, opts.cacheSize ?? 4096);
    this.flags = new Uint8Array(n);
    this.localPref = new Uint32Array(n);
    this.med = new Uint32Array(n);
    this.origin = new Uint8Array(n);
    this.asPathLen = new Uint32Array(n);
    this.neighborAs = new Uint32Array(n);
    this.originatorId = new Uint32Array(n);
    this.clusterLen = new Uint32Array(n);
    this.nextHop4 = new Int32Array(n);
    this.nextHop6 = new Int32Array(n);
    this.refs = new Int32Array(n);
    this.hashes = new Uint32Array(n);
    this.tags = new Int32Array(n);
    this.keyOff = new Int32Array(n);
    this.keyLen = new Int32Array(n);
    this.base = new Int32Array(n);
    let cap = 16;
    while (cap * MAX_LOAD < n) cap *= 2;
    this.buckets = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /**
   * The id of the set whose key is `key` (bytes [0, key.length)) under `tag`, taking one
   * reference for the caller. `hash` must be a hash of exactly those bytes (the
   * decoder's fnv1a). On a miss `decode` runs once; when it returns null (the UPDATE is
   * treat-as-withdraw) nothing is stored and -1 is returned.
   */
  intern(key: Uint8Array, hash: number, decode: () => PathAttributes | null, tag = 0): number {
    const h = mixTag(hash >>> 0, tag);
    const found = this.lookup(key, h, tag);
    if (found >= 0) {
      this.refs[found]!++;
      return found;
    }
    const attrs = decode();
    if (attrs === null) return -1;
    this.decodes++;
    // Not cached here: holding fresh objects for a while makes them survive young-GC
    // and get promoted, which costs more than decoding again on the rare get().
    const keep = tag < 0 || this.contexts[tag] === undefined;
    return this.insert(key, h, tag, attrs, keep, -1);
  }

  /**
   * intern() without a decoded object: on a miss, `read` fills the decision fields
   * straight from the wire (wire/attrs/fields.ts) and returns them, or returns null
   * when the full decoder must run (then `decode`, as in intern()). A set stored this
   * way is decoded from its key, under `tag`'s context, only when get() asks. `buf`
   * holds the next hops the fields point at.
   */
  internFields(
    key: Uint8Array,
    hash: number,
    tag: number,
    read: () => DecisionFields | null,
    buf: Uint8Array,
    decode: () => PathAttributes | null,
  ): number {
    const h = mixTag(hash >>> 0, tag);
    const found = this.lookup(key, h, tag);
    if (found >= 0) {
      this.refs[found]!++;
      return found;
    }
    const f = tag >= 0 && this.contexts[tag] !== undefined ? read() : null;
    if (f === null) {
      const attrs = decode();
      if (attrs === null) return -1;
      this.decodes++;
      return this.insert(key, h, tag, attrs, tag < 0 || this.contexts[tag] === undefined, -1);
    }
    this.fieldReads++;
    const id = this.place(key, h, tag, null, -1);
    let flags = AttrFlagBit.LIVE as number;
    if (f.hasLocalPref) flags |= AttrFlagBit.HAS_LOCAL_PREF;
    if (f.hasMed) flags |= AttrFlagBit.HAS_MED;
    if (f.hasOriginatorId) flags |= AttrFlagBit.HAS_ORIGINATOR_ID;
    this.flags[id] = flags;
    this.localPref[id] = f.localPref;
    this.med[id] = f.med;
    this.originatorId[id] = f.originatorId;
    this.origin[id] = f.origin;
    this.asPathLen[id] = f.asPathLen;
    this.neighborAs[id] = f.neighborAs;
    this.clusterLen[id] = f.clusterLen;
    const nh = this.nextHops;
    const mpId = f.mpNextHopLen > 0 ? nh.acquire(buf.subarray(f.mpNextHopAt, f.mpNextHopAt + f.mpNextHopLen)) : NEXTHOP_SELF;
    this.nextHop6[id] = mpId;
    if (f.nextHopAt >= 0) this.nextHop4[id] = nh.acquire(buf.subarray(f.nextHopAt, f.nextHopAt + 4));
    else {
      if (mpId !== NEXTHOP_SELF) nh.acquire(nh.address(mpId)); // shared by IPv4 routes (RFC 8950)
      this.nextHop4[id] = mpId;
    }
    this.count++;
    return id;
  }

  /**
   * A tag for sets decoded under `ctx` (the same tag for equal contexts). Sets interned
   * with it need not keep their decoded object: get() can decode the key again.
   */
  contextTag(ctx: UpdateContext): number {
    for (let i = 0; i < this.contexts.length; i++) {
      const c = this.contexts[i]!;
      if (
        c.fourOctetAs === ctx.fourOctetAs &&
        c.ebgp === ctx.ebgp &&
        c.enforceFirstAs === ctx.enforceFirstAs &&
        (!ctx.enforceFirstAs || c.peerAs === ctx.peerAs)
      ) {
        return i;
      }
    }
    this.contexts.push({ ...ctx });
    return this.contexts.length - 1;
  }

  /**
   * Interns a set built locally (originated routes, tests), keyed by its wire encoding
   * plus its MP next hop. Takes one reference for the caller.
   */
  internAttributes(attrs: PathAttributes, tag = TAG_LOCAL): number {
    const body = encodeAttributes(attrs, { fourOctetAs: true }, true);
    const nh = attrs.mpNextHop;
    const key = nh === undefined ? body : Buffer.concat([body, nh.global, nh.linkLocal ?? Buffer.alloc(0)]);
    return this.intern(key, fnv1a(key), () => attrs, tag);
  }

  /**
   * A set equal to `baseId`'s with `mod` applied, taking one reference for the caller.
   * Same base + same changes → same id. Returns baseId itself (with a new reference)
   * when `mod` changes nothing. Callers on a hot path should memoise per UPDATE.
   */
  internModified(baseId: number, mod: AttrModification): number {
    this.check(baseId);
    const len = this.encodeModification(baseId, mod);
    if (len === 5) {
      this.refs[baseId]!++;
      return baseId;
    }
    const key = this.scratch.subarray(0, len);
    const h = mixTag(fnv1a(key), TAG_MODIFIED);
    const found = this.lookup(key, h, TAG_MODIFIED);
    if (found >= 0) {
      this.refs[found]!++;
      return found;
    }
    const attrs = applyModification(this.get(baseId), mod);
    this.refs[baseId]!++; // held by the derived set
    return this.insert(key, h, TAG_MODIFIED, attrs, false, baseId);
  }

  ref(id: number): void {
    this.check(id);
    this.refs[id]!++;
  }

  unref(id: number): void {
    const r = --this.refs[id]!;
    if (r > 0) return;
    if (r < 0 || (this.flags[id]! & AttrFlagBit.LIVE) === 0) throw new Error(`attribute set ${id} released too often`);
    this.free(id);
  }

  refCount(id: number): number {
    return (this.flags[id]! & AttrFlagBit.LIVE) === 0 ? 0 : this.refs[id]!;
  }

  isLive(id: number): boolean {
    return id >= 0 && id < this.idLimit && (this.flags[id]! & AttrFlagBit.LIVE) !== 0;
  }

  /** The decoded attributes of a live set (shared: do not mutate). */
  get(id: number): PathAttributes {
    this.check(id);
    const kept = this.attrs[id];
    if (kept !== null && kept !== undefined) return kept;
    const c = this.cache.get(id);
    if (c !== undefined) {
      // Most recently used goes last.
      this.cache.delete(id);
      this.cache.set(id, c);
      return c;
    }
    const a = this.rebuild(id);
    this.redecodes++;
    this.cachePut(id, a);
    return a;
  }

  private rebuild(id: number): PathAttributes {
    const key = this.keyBytes(id);
    const tag = this.tags[id]!;
    if (tag === TAG_MODIFIED) {
      const base = this.get(this.base[id]!);
      return applyModification(base, decodeModification(key));
    }
    const ctx = this.contexts[tag];
    const a = ctx === undefined ? null : this.keyDecoder.decode(key, ctx);
    if (a === null) throw new Error(`attribute set ${id} cannot be decoded again`);
    return a;
  }

  private cachePut(id: number, a: PathAttributes): void {
    if (this.cacheSize === 0) return;
    this.cache.set(id, a);
    if (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
  }

  /** The stored key bytes (a view into the arena, valid until the next intern). */
  keyOf(id: number): Buffer {
    this.check(id);
    return this.keyBytes(id);
  }

  private keyBytes(id: number): Buffer {
    const off = this.keyOff[id]!;
    const at = off & BLOCK_MASK;
    return this.blocks[off >>> BLOCK_BITS]!.subarray(at, at + this.keyLen[id]!);
  }

  /** The base set of a derived one, or -1. */
  baseOf(id: number): number {
    this.check(id);
    return this.base[id]!;
  }

  hasLocalPref(id: number): boolean {
    return (this.flags[id]! & AttrFlagBit.HAS_LOCAL_PREF) !== 0;
  }

  hasMed(id: number): boolean {
    return (this.flags[id]! & AttrFlagBit.HAS_MED) !== 0;
  }

  /** Bytes held by typed arrays and the arena (not the decoded objects). */
  get byteSize(): number {
    const perId =
      this.flags.byteLength * 2 + // flags + origin
      this.localPref.byteLength * 14; // 14 four-byte arrays
    return perId + this.buckets.byteLength + this.blocks.length * BLOCK;
  }

  private check(id: number): void {
    if (!this.isLive(id)) throw new RangeError(`attribute set ${id} is not live`);
  }

  private lookup(key: Uint8Array, h: number, tag: number): number {
    const b = this.buckets;
    const mask = this.mask;
    const len = key.length;
    const fp = h >>> 24;
    let i = h & mask;
    for (;;) {
      const v = b[i]!;
      if (v === 0) return -1;
      if (v >>> 24 === fp) {
        const id = (v & 0xffffff) - 1;
        if (this.hashes[id] === h && this.keyLen[id] === len && this.tags[id] === tag && this.sameBytes(key, this.keyOff[id]!)) {
          return id;
        }
      }
      i = (i + 1) & mask;
    }
  }

  private sameBytes(key: Uint8Array, off: number): boolean {
    const a = this.blocks[off >>> BLOCK_BITS]!;
    const at = off & BLOCK_MASK;
    const n = key.length;
    for (let i = 0; i < n; i++) if (a[at + i] !== key[i]) return false;
    return true;
  }

  private static bucket(h: number, id: number): number {
    return ((h >>> 24) << 24) | (id + 1);
  }

  private insert(key: Uint8Array, h: number, tag: number, attrs: PathAttributes, keep: boolean, base: number): number {
    const id = this.place(key, h, tag, keep ? attrs : null, base);
    this.computeFields(id, attrs);
    this.count++;
    return id;
  }

  /** Takes an id for a new set, stores its key and indexes it (fields not set yet, not counted). */
  private place(key: Uint8Array, h: number, tag: number, stored: PathAttributes | null, base: number): number {
    if ((this.count + 1) > this.buckets.length * MAX_LOAD) this.rehash(this.buckets.length * 2);
    if (this.freeIds.length === 0 && this.idLimit >= MAX_IDS) throw new RangeError('attribute store full');
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.idLimit++;
    if (id >= this.refs.length) this.growIds(this.refs.length * 2);
    const off = this.storeKey(key);
    this.keyOff[id] = off;
    this.keyLen[id] = key.length;
    this.hashes[id] = h;
    this.tags[id] = tag;
    this.base[id] = base;
    this.refs[id] = 1;
    if (id === this.attrs.length) this.attrs.push(stored);
    else this.attrs[id] = stored;
    const b = this.buckets;
    const mask = this.mask;
    let i = h & mask;
    while (b[i] !== 0) i = (i + 1) & mask;
    b[i] = AttrStore.bucket(h, id);
    return id;
  }

  private free(id: number): void {
    // Unindex with backward shift (as in prefix-table.ts).
    const b = this.buckets;
    const mask = this.mask;
    let i = this.hashes[id]! & mask;
    while ((b[i]! & 0xffffff) !== id + 1) i = (i + 1) & mask;
    let hole = i;
    let j = (i + 1) & mask;
    for (;;) {
      const v = b[j]!;
      if (v === 0) break;
      const home = this.hashes[(v & 0xffffff) - 1]! & mask;
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        b[hole] = v;
        hole = j;
      }
      j = (j + 1) & mask;
    }
    b[hole] = 0;
    this.nextHops.release(this.nextHop4[id]!);
    this.nextHops.release(this.nextHop6[id]!);
    this.flags[id] = 0;
    this.attrs[id] = null;
    this.cache.delete(id);
    this.arenaWaste += this.keyLen[id]!;
    this.count--;
    this.freeIds.push(id);
    const base = this.base[id]!;
    if (base >= 0) this.unref(base);
  }

  private computeFields(id: number, a: PathAttributes): void {
    let f = AttrFlagBit.LIVE as number;
    if (a.localPref !== undefined) {
      f |= AttrFlagBit.HAS_LOCAL_PREF;
      this.localPref[id] = a.localPref;
    } else this.localPref[id] = 0;
    if (a.med !== undefined) {
      f |= AttrFlagBit.HAS_MED;
      this.med[id] = a.med;
    } else this.med[id] = 0;
    if (a.originatorId !== undefined) {
      f |= AttrFlagBit.HAS_ORIGINATOR_ID;
      this.originatorId[id] = a.originatorId;
    } else this.originatorId[id] = 0;
    this.flags[id] = f;
    this.origin[id] = a.origin ?? Origin.INCOMPLETE;
    this.asPathLen[id] = asPathCount(a.asPath);
    this.neighborAs[id] = neighborAs(a.asPath);
    this.clusterLen[id] = a.clusterList?.length ?? 0;
    const nh = this.nextHops;
    const mp = a.mpNextHop;
    let mpId = NEXTHOP_SELF;
    if (mp !== undefined) {
      mpId = nh.acquire(mp.linkLocal === undefined ? mp.global : Buffer.concat([mp.global, mp.linkLocal]));
    }
    this.nextHop6[id] = mpId;
    if (a.nextHop !== undefined) this.nextHop4[id] = nh.acquire(a.nextHop);
    else {
      // RFC 8950: IPv4 routes over an MP next hop; share the id (one more reference).
      if (mpId !== NEXTHOP_SELF) nh.acquire(nh.address(mpId));
      this.nextHop4[id] = mpId;
    }
  }

  private storeKey(key: Uint8Array): number {
    const n = key.length;
    if (n > BLOCK) throw new RangeError(`attribute key of ${n} bytes`);
    if (this.blockUsed + n > BLOCK) {
      // Half the stored bytes are dead: copy the live keys into fresh blocks instead.
      if (this.arenaWaste > BLOCK && this.arenaWaste * 2 > this.arenaUsed) this.compact();
      if (this.blockUsed + n > BLOCK) {
        this.blocks.push(Buffer.allocUnsafe(BLOCK));
        this.blockUsed = 0;
      }
    }
    const last = this.blocks.length - 1;
    const at = this.blockUsed;
    this.blocks[last]!.set(key, at);
    this.blockUsed += n;
    this.arenaUsed += n;
    return (last << BLOCK_BITS) | at;
  }

  /** Copies the live keys, in id order, into new blocks (the old ones are dropped). */
  private compact(): void {
    const old = this.blocks;
    this.blocks = [];
    this.blockUsed = BLOCK;
    this.arenaUsed = 0;
    this.arenaWaste = 0;
    for (let id = 0; id < this.idLimit; id++) {
      if ((this.flags[id]! & AttrFlagBit.LIVE) === 0) continue;
      const off = this.keyOff[id]!;
      const at = off & BLOCK_MASK;
      this.keyOff[id] = this.storeKey(old[off >>> BLOCK_BITS]!.subarray(at, at + this.keyLen[id]!));
    }
  }

  private rehash(cap: number): void {
    const b = new Int32Array(cap);
    const mask = cap - 1;
    for (let id = 0; id < this.idLimit; id++) {
      if ((this.flags[id]! & AttrFlagBit.LIVE) === 0) continue;
      const h = this.hashes[id]!;
      let i = h & mask;
      while (b[i] !== 0) i = (i + 1) & mask;
      b[i] = AttrStore.bucket(h, id);
    }
    this.buckets = b;
    this.mask = mask;
  }

  private growIds(n: number): void {
    const g8 = (a: Uint8Array): Uint8Array => {
      const x = new Uint8Array(n);
      x.set(a);
      return x;
    };
    const g32 = (a: Uint32Array): Uint32Array => {
      const x = new Uint32Array(n);
      x.set(a);
      return x;
    };
    const gi = (a: Int32Array): Int32Array => {
      const x = new Int32Array(n);
      x.set(a);
      return x;
    };
    this.flags = g8(this.flags);
    this.origin = g8(this.origin);
    this.localPref = g32(this.localPref);
    this.med = g32(this.med);
    this.asPathLen = g32(this.asPathLen);
    this.neighborAs = g32(this.neighborAs);
    this.originatorId = g32(this.originatorId);
    this.clusterLen = g32(this.clusterLen);
    this.hashes = g32(this.hashes);
    this.nextHop4 = gi(this.nextHop4);
    this.nextHop6 = gi(this.nextHop6);
    this.refs = gi(this.refs);
    this.tags = gi(this.tags);
    this.keyOff = gi(this.keyOff);
    this.keyLen = gi(this.keyLen);
    this.base = gi(this.base);
  }

  /** Canonical bytes of (base, mod) into `scratch`; returns the length (5 = no change). */
  private encodeModification(baseId: number, mod: AttrModification): number {
    const need =
      5 +
      5 + // local pref
      6 + // med
      18 + // next hop
      5 + 4 * ((mod.addCommunities?.length ?? 0) + (mod.removeCommunities?.length ?? 0) + (mod.addLargeCommunities?.length ?? 0)) +
      20;
    if (this.scratch.length < need) this.scratch = Buffer.allocUnsafe(need * 2);
    const s = this.scratch;
    let p = 0;
    s[p++] = 0xfe; // no session key starts like this: decoded attributes begin with flags
    p = s.writeUInt32BE(baseId, p);
    if (mod.localPref !== undefined) {
      s[p++] = 1;
      p = s.writeUInt32BE(mod.localPref >>> 0, p);
    }
    if (mod.med !== undefined) {
      s[p++] = 2;
      if (mod.med === null) s[p++] = 0;
      else {
        s[p++] = 1;
        p = s.writeUInt32BE(mod.med >>> 0, p);
      }
    }
    if (mod.nextHop !== undefined) {
      s[p++] = 3;
      s[p++] = mod.nextHop.length;
      s.set(mod.nextHop, p);
      p += mod.nextHop.length;
    }
    const list = (tag: number, xs: readonly number[] | undefined): void => {
      if (xs === undefined || xs.length === 0) return;
      s[p++] = tag;
      p = s.writeUInt16BE(xs.length, p);
      for (const x of xs) p = s.writeUInt32BE(x >>> 0, p);
    };
    list(4, mod.addCommunities);
    list(5, mod.removeCommunities);
    list(6, mod.addLargeCommunities);
    if (mod.prepend !== undefined && mod.prepend.count > 0) {
      s[p++] = 7;
      p = s.writeUInt32BE(mod.prepend.asn >>> 0, p);
      s[p++] = Math.min(255, mod.prepend.count);
    }
    return p;
  }
}

/** Inverse of encodeModification (the bytes after the 5-byte header). */
function decodeModification(key: Buffer): AttrModification {
  const mod: {
    localPref?: number;
    med?: number | null;
    nextHop?: Uint8Array;
    addCommunities?: number[];
    removeCommunities?: number[];
    addLargeCommunities?: number[];
    prepend?: { asn: number; count: number };
  } = {};
  let p = 5;
  const list = (): number[] => {
    const n = key.readUInt16BE(p);
    p += 2;
    const xs: number[] = [];
    for (let i = 0; i < n; i++, p += 4) xs.push(key.readUInt32BE(p));
    return xs;
  };
  while (p < key.length) {
    const t = key[p++]!;
    if (t === 1) {
      mod.localPref = key.readUInt32BE(p);
      p += 4;
    } else if (t === 2) {
      if (key[p++] === 0) mod.med = null;
      else {
        mod.med = key.readUInt32BE(p);
        p += 4;
      }
    } else if (t === 3) {
      const n = key[p++]!;
      mod.nextHop = Uint8Array.from(key.subarray(p, p + n));
      p += n;
    } else if (t === 4) mod.addCommunities = list();
    else if (t === 5) mod.removeCommunities = list();
    else if (t === 6) mod.addLargeCommunities = list();
    else if (t === 7) {
      mod.prepend = { asn: key.readUInt32BE(p), count: key[p + 4]! };
      p += 5;
    } else throw new Error(`bad modification tag ${t}`);
  }
  return mod;
}

/** Neighbour AS (RFC 4271 §9.1.2.2 c): the first AS of the first non-confederation segment, when it is an AS_SEQUENCE; 0 (local) otherwise. */
export function neighborAs(segs: readonly AsPathSegment[]): number {
  for (const s of segs) {
    if (s.type === SegType.AS_CONFED_SEQUENCE || s.type === SegType.AS_CONFED_SET) continue;
    return s.type === SegType.AS_SEQUENCE ? (s.asns[0] ?? 0) : 0;
  }
  return 0;
}

/** A new PathAttributes: `a` with `mod` applied (shares unchanged parts with `a`). */
export function applyModification(a: PathAttributes, mod: AttrModification): PathAttributes {
  const out: PathAttributes = { ...a };
  if (mod.localPref !== undefined) out.localPref = mod.localPref >>> 0;
  if (mod.med !== undefined) out.med = mod.med === null ? undefined : mod.med >>> 0;
  if (mod.nextHop !== undefined) {
    const nh = Buffer.from(mod.nextHop);
    if (nh.length === 4) out.nextHop = nh;
    else out.mpNextHop = { global: nh, linkLocal: undefined };
  }
  const add = mod.addCommunities ?? [];
  const remove = mod.removeCommunities ?? [];
  if (add.length > 0 || remove.length > 0) {
    const cur = a.communities === undefined ? [] : Array.from(a.communities);
    const kept = cur.filter((c) => !remove.includes(c));
    for (const c of add) if (!kept.includes(c >>> 0)) kept.push(c >>> 0);
    out.communities = kept.length === 0 ? undefined : Uint32Array.from(kept);
  }
  const large = mod.addLargeCommunities ?? [];
  if (large.length >= 3) {
    const cur = a.largeCommunities === undefined ? [] : Array.from(a.largeCommunities);
    for (let i = 0; i + 2 < large.length; i += 3) {
      let dup = false;
      for (let j = 0; j + 2 < cur.length; j += 3) {
        if (cur[j] === large[i]! >>> 0 && cur[j + 1] === large[i + 1]! >>> 0 && cur[j + 2] === large[i + 2]! >>> 0) dup = true;
      }
      if (!dup) cur.push(large[i]! >>> 0, large[i + 1]! >>> 0, large[i + 2]! >>> 0);
    }
    out.largeCommunities = Uint32Array.from(cur);
  }
  if (mod.prepend !== undefined && mod.prepend.count > 0) {
    const n = Math.min(255, mod.prepend.count);
    const asns = new Array<number>(n).fill(mod.prepend.asn >>> 0);
    const first = a.asPath[0];
    if (first !== undefined && first.type === SegType.AS_SEQUENCE && first.asns.length + n <= 255) {
      out.asPath = [{ type: SegType.AS_SEQUENCE, asns: [...asns, ...first.asns] }, ...a.asPath.slice(1)];
    } else {
      out.asPath = [{ type: SegType.AS_SEQUENCE, asns }, ...a.asPath];
    }
  }
  return out;
}
