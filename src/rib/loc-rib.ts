// Loc-RIB of one BGP instance and address family.
//
// Every prefix has a slot (prefix-table.ts). Per slot: a singly linked list of
// candidate paths (post-policy routes of every peer: peer index, ADD-PATH id,
// attribute set id) in a pool of typed arrays, 10 bytes a path (14 once a peer sends
// ADD-PATH ids: the id array is made on the first non-zero id); and `nMulti`: the
// first nMulti entries of the list are the best path followed by the rest of the
// multipath (ECMP) set (0 = no usable path). Optional pre-policy copies live in a
// second list per slot (only allocated once a peer keeps them).
//
// The per-peer Adj-RIB-In (adj-rib-in.ts) is a view of these lists: a peer's routes
// are the entries carrying its index. One table of routes instead of a copy per peer
// keeps the memory near 40 bytes a prefix and makes "add a route" one list walk.
//
// The decision re-runs on each change of a prefix's candidates (lists are short). When
// the best path or the multipath set changes (which path, or its attribute set), the
// slot is pushed onto every ChangeQueue: the FIB and each Adj-RIB-Out drain their own
// queue in batches, at their own pace. A slot whose last path went away stays in the
// table (readable, with no best path) until every queue has drained and released it,
// so a consumer always learns the withdrawal of the prefix it knew.
import { AttrFlagBit, type AttrStore } from './attr-store.js';
import { CandidateSet, DEFAULT_DECISION, type DecisionOptions, REASON_NAMES, type ReasonName, select } from './decision.js';
import { PrefixTableV4, PrefixTableV6, type PrefixTable } from './prefix-table.js';
import type { PeerTable } from './peers.js';

export interface LocRibOptions extends DecisionOptions {
  /** LOCAL_PREF of paths without one (eBGP-learned, unless policy set it). Default 100. */
  readonly defaultLocalPref: number;
  /** Treat a missing MED as the worst value instead of 0 (RFC 4271 says 0). Default false. */
  readonly medMissingAsWorst: boolean;
  /** Initial number of prefix slots (grows by doubling). */
  readonly initialSlots: number;
}

export const DEFAULT_LOC_RIB: LocRibOptions = {
  ...DEFAULT_DECISION,
  defaultLocalPref: 100,
  medMissingAsWorst: false,
  initialSlots: 1024,
};

/** What a change to one peer's path did. */
export const RibChange = { NONE: 0, ADDED: 1, REPLACED: 2, REMOVED: 3 } as const;
export type RibChange = (typeof RibChange)[keyof typeof RibChange];

const NIL = -1;
const MED_WORST = 4294967296; // above every u32 MED

/** A per-consumer queue of slots whose best path / multipath set changed, deduplicated. */
export class ChangeQueue {
  private queued: Uint8Array;
  private ring: Int32Array;
  private first = 0;
  private n = 0;
  private held: Int32Array;
  private heldCount = 0;

  /** @internal use LocRib.createQueue() */
  constructor(private readonly rib: LocRib) {
    this.queued = new Uint8Array(rib.table.slotCapacity);
    this.ring = new Int32Array(1024);
    this.held = new Int32Array(64);
  }

  /** Slots waiting. */
  get size(): number {
    return this.n;
  }

  /** @internal returns true when the slot was not queued yet */
  push(slot: number): boolean {
    if (slot >= this.queued.length) {
      const q = new Uint8Array(Math.max(this.rib.table.slotCapacity, slot + 1));
      q.set(this.queued);
      this.queued = q;
    }
    if (this.queued[slot] !== 0) return false;
    this.queued[slot] = 1;
    if (this.n === this.ring.length) {
      const r = new Int32Array(this.ring.length * 2);
      for (let i = 0; i < this.n; i++) r[i] = this.ring[(this.first + i) % this.ring.length]!;
      this.ring = r;
      this.first = 0;
    }
    this.ring[(this.first + this.n) % this.ring.length] = slot;
    this.n++;
    return true;
  }

  /**
   * Moves up to `max` changed slots into `out` (oldest first) and returns how many.
   * Releases the previous batch first: a drained slot stays readable (prefix, state)
   * until the next drain() or release() of this queue.
   */
  drain(max: number, out: Int32Array): number {
    this.release();
    const k = Math.min(max, this.n, out.length);
    if (k > this.held.length) {
      let c = this.held.length;
      while (c < k) c *= 2;
      this.held = new Int32Array(c);
    }
    const ring = this.ring;
    const cap = ring.length;
    for (let i = 0; i < k; i++) {
      const s = ring[this.first]!;
      this.first = this.first + 1 === cap ? 0 : this.first + 1;
      this.queued[s] = 0;
      out[i] = s;
      this.held[i] = s;
    }
    this.n -= k;
    if (this.n === 0) this.first = 0;
    this.heldCount = k;
    return k;
  }

  /** Gives the last drained batch back (slots with no path left may then be freed). */
  release(): void {
    const h = this.held;
    for (let i = 0; i < this.heldCount; i++) this.rib.unpend(h[i]!);
    this.heldCount = 0;
  }

  /** Detaches the queue from its Loc-RIB, releasing everything it holds. */
  close(): void {
    this.release();
    while (this.n > 0) {
      const s = this.ring[this.first]!;
      this.first = (this.first + 1) % this.ring.length;
      this.n--;
      this.queued[s] = 0;
      this.rib.unpend(s);
    }
    this.rib.removeQueue(this);
  }
}

export class LocRib {
  readonly afi: 1 | 2;
  readonly table: PrefixTable;
  /** The same table, typed by family (exactly one is non-null). */
  readonly v4: PrefixTableV4 | null;
  readonly v6: PrefixTableV6 | null;
  readonly store: AttrStore;
  readonly peers: PeerTable;
  readonly opts: LocRibOptions;

  // Per slot.
  private head: Int32Array;
  private preHead: Int32Array | null = null;
  private nMulti: Uint8Array;
  private pend: Uint16Array;

  // Path pool (free entries chained through pNext).
  private pNext: Int32Array;
  private pPeer: Uint16Array;
  /** ADD-PATH ids; null while every id is 0 (no ADD-PATH peer): 4 MB less at 1M paths. */
  private pPathId: Uint32Array | null = null;
  private pAttr: Int32Array;
  private freePath = NIL;
  private pathLimit = 0;
  /** Post-policy paths stored (all peers). */
  pathCount = 0;
  /** Prefixes with a best path. */
  bestCount = 0;

  private queues: ChangeQueue[] = [];
  private readonly cs = new CandidateSet(8);
  private snapPath: Int32Array;
  private snapAttr: Int32Array;
  private seq: Int32Array = new Int32Array(8);

  constructor(afi: 1 | 2, store: AttrStore, peers: PeerTable, opts: Partial<LocRibOptions> = {}) {
    this.afi = afi;
    this.store = store;
    this.peers = peers;
    this.opts = { ...DEFAULT_LOC_RIB, ...opts };
    if (this.opts.maxPaths < 1 || this.opts.maxPaths > 255) throw new RangeError('maxPaths must be 1..255');
    const init = this.opts.initialSlots;
    if (afi === 1) {
      this.v4 = new PrefixTableV4(init);
      this.v6 = null;
      this.table = this.v4;
    } else {
      this.v6 = new PrefixTableV6(init);
      this.v4 = null;
      this.table = this.v6;
    }
    const n = this.table.slotCapacity;
    this.head = new Int32Array(n).fill(NIL);
    this.nMulti = new Uint8Array(n);
    this.pend = new Uint16Array(n);
    const p = Math.max(16, init);
    this.pNext = new Int32Array(p);
    this.pPeer = new Uint16Array(p);
    this.pAttr = new Int32Array(p);
    this.snapPath = new Int32Array(this.opts.maxPaths);
    this.snapAttr = new Int32Array(this.opts.maxPaths);
  }

  // ---- Slots ----

  /** Slot of an IPv4 prefix, created when absent (then it has no path until one is set). */
  slotV4(addr: number, len: number): number {
    const s = this.v4!.insert(addr, len);
    if (s >= this.head.length) this.growSlots();
    return s;
  }

  slotV6(w0: number, w1: number, w2: number, w3: number, len: number): number {
    const s = this.v6!.insert(w0, w1, w2, w3, len);
    if (s >= this.head.length) this.growSlots();
    return s;
  }

  /** Frees a slot that holds nothing and that no queue holds (no-op otherwise). */
  maybeFree(slot: number): void {
    if (this.head[slot] !== NIL || this.pend[slot] !== 0) return;
    if (this.preHead !== null && this.preHead[slot] !== NIL) return;
    if (!this.table.isLive(slot)) return;
    this.nMulti[slot] = 0;
    this.table.deleteSlot(slot);
  }

  // ---- Reading (FIB, Adj-RIB-Out, CLI) ----

  /** Best path entry of a slot, or -1. */
  best(slot: number): number {
    return this.nMulti[slot]! > 0 ? this.head[slot]! : NIL;
  }

  /** Attribute set id of the best path, or -1. */
  bestAttr(slot: number): number {
    return this.nMulti[slot]! > 0 ? this.pAttr[this.head[slot]!]! : NIL;
  }

  /** Size of the multipath set, best included (0: no usable path). */
  multipathCount(slot: number): number {
    return this.nMulti[slot]!;
  }

  /** First post-policy path entry of a slot (best first, then multipath, then the rest), or -1. */
  firstPath(slot: number): number {
    return this.head[slot]!;
  }

  nextPath(p: number): number {
    return this.pNext[p]!;
  }

  pathPeer(p: number): number {
    return this.pPeer[p]!;
  }

  pathId(p: number): number {
    const ids = this.pPathId;
    return ids === null ? 0 : ids[p]!;
  }

  private setPathId(p: number, id: number): void {
    if (this.pPathId === null) {
      if (id === 0) return;
      this.pPathId = new Uint32Array(this.pNext.length);
    }
    this.pPathId[p] = id;
  }

  pathAttr(p: number): number {
    return this.pAttr[p]!;
  }

  /** Next hop id of an attribute set in this family. */
  nextHopOf(attrId: number): number {
    return this.nhArray()[attrId]!;
  }

  /** Fills `out` with the multipath entries of a slot (best first); returns the count. */
  multipath(slot: number, out: Int32Array): number {
    const k = Math.min(this.nMulti[slot]!, out.length);
    let p = this.head[slot]!;
    for (let i = 0; i < k; i++) {
      out[i] = p;
      p = this.pNext[p]!;
    }
    return k;
  }

  /** Pre-policy list of a slot (-1 when none). */
  firstPrePolicy(slot: number): number {
    return this.preHead === null ? NIL : this.preHead[slot]!;
  }

  // ---- Changes queues ----

  createQueue(): ChangeQueue {
    const q = new ChangeQueue(this);
    this.queues.push(q);
    return q;
  }

  /** @internal */
  removeQueue(q: ChangeQueue): void {
    const i = this.queues.indexOf(q);
    if (i >= 0) this.queues.splice(i, 1);
  }

  /** @internal a queue gave a slot back */
  unpend(slot: number): void {
    if (--this.pend[slot]! === 0 && this.head[slot] === NIL) this.maybeFree(slot);
  }

  private markDirty(slot: number): void {
    const qs = this.queues;
    for (let i = 0; i < qs.length; i++) if (qs[i]!.push(slot)) this.pend[slot]!++;
  }

  // ---- Post-policy paths ----

  /** Entry of (peer, pathId) at a slot, or -1. */
  findPath(slot: number, peer: number, pathId: number): number {
    for (let p = this.head[slot]!; p !== NIL; p = this.pNext[p]!) {
      if (this.pPeer[p] === peer && this.pathId(p) === pathId) return p;
    }
    return NIL;
  }

  /**
   * Adds or replaces the path (peer, pathId) at `slot` with attribute set `attrId`
   * (takes a reference on it) and re-runs the decision.
   */
  setPath(slot: number, peer: number, pathId: number, attrId: number): RibChange {
    let tail = NIL;
    let p = this.head[slot]!;
    while (p !== NIL) {
      if (this.pPeer[p] === peer && this.pathId(p) === pathId) break;
      tail = p;
      p = this.pNext[p]!;
    }
    if (p !== NIL) {
      const old = this.pAttr[p]!;
      if (old === attrId) return RibChange.NONE;
      this.snapshot(slot);
      this.store.ref(attrId);
      this.pAttr[p] = attrId;
      this.store.unref(old);
      this.decide(slot);
      return RibChange.REPLACED;
    }
    this.snapshot(slot);
    this.store.ref(attrId);
    p = this.allocPath();
    this.pNext[p] = NIL;
    this.pPeer[p] = peer;
    this.setPathId(p, pathId >>> 0);
    this.pAttr[p] = attrId;
    if (tail === NIL) this.head[slot] = p;
    else this.pNext[tail] = p;
    this.pathCount++;
    this.decide(slot);
    return RibChange.ADDED;
  }

  /** Removes the path (peer, pathId) at `slot`; frees the slot when nothing holds it. */
  removePath(slot: number, peer: number, pathId: number): RibChange {
    let prev = NIL;
    let p = this.head[slot]!;
    while (p !== NIL) {
      if (this.pPeer[p] === peer && this.pathId(p) === pathId) break;
      prev = p;
      p = this.pNext[p]!;
    }
    if (p === NIL) return RibChange.NONE;
    this.snapshot(slot);
    if (prev === NIL) this.head[slot] = this.pNext[p]!;
    else this.pNext[prev] = this.pNext[p]!;
    this.store.unref(this.pAttr[p]!);
    this.freePathEntry(p);
    this.pathCount--;
    this.decide(slot);
    this.maybeFree(slot);
    return RibChange.REMOVED;
  }

  /** Pre-policy copies removed by the last removePeer call. */
  lastPreRemoved = 0;

  /**
   * Removes every path of `peer` (post- and pre-policy) from the slots in [from, to);
   * calls `visit(slot, pathId)` for each removed post-policy path before its slot can
   * be freed. Returns the number of post-policy paths removed (pre-policy ones:
   * `lastPreRemoved`). Walk the whole table in steps to keep the event loop free.
   */
  removePeer(peer: number, visit: ((slot: number, pathId: number) => void) | null, from = 0, to = Infinity): number {
    let removed = 0;
    let preRemoved = 0;
    const end = Math.min(to, this.table.slotLimit);
    for (let slot = Math.max(0, from); slot < end; slot++) {
      let hit = false;
      for (let p = this.head[slot]!; p !== NIL; p = this.pNext[p]!) {
        if (this.pPeer[p] === peer) {
          hit = true;
          break;
        }
      }
      if (hit) {
        this.snapshot(slot);
        let prev = NIL;
        let p = this.head[slot]!;
        while (p !== NIL) {
          const next = this.pNext[p]!;
          if (this.pPeer[p] === peer) {
            if (visit !== null) visit(slot, this.pathId(p));
            if (prev === NIL) this.head[slot] = next;
            else this.pNext[prev] = next;
            this.store.unref(this.pAttr[p]!);
            this.freePathEntry(p);
            this.pathCount--;
            removed++;
          } else prev = p;
          p = next;
        }
        this.decide(slot);
      }
      const pre = this.preHead;
      const n = pre !== null && pre[slot] !== NIL ? this.removePrePolicyOf(slot, peer, -1) : 0;
      preRemoved += n;
      if (hit || n > 0) this.maybeFree(slot);
    }
    this.lastPreRemoved = preRemoved;
    return removed;
  }

  /**
   * Explains the selection at a slot for the CLI ("why is this the best path?"):
   * the post-policy path entries in list order, with the outcome for each.
   */
  explain(slot: number): { paths: number[]; best: number; multipath: number[]; reasons: ReasonName[]; lostTo: number[] } {
    const cs = new CandidateSet(4);
    this.fill(slot, cs);
    const best = select(cs, this.opts, true);
    const paths = Array.from(cs.handle.subarray(0, cs.n));
    const multipath = Array.from(cs.multi.subarray(0, cs.multiCount), (i) => paths[i]!);
    const reasons: ReasonName[] = [];
    const lostTo: number[] = [];
    for (let i = 0; i < cs.n; i++) {
      reasons.push(REASON_NAMES[cs.lostReason[i]!]!);
      lostTo.push(cs.lostTo[i]! < 0 ? -1 : paths[cs.lostTo[i]!]!);
    }
    return { paths, best: best < 0 ? -1 : paths[best]!, multipath, reasons, lostTo };
  }

  // ---- Pre-policy copies ----

  /** Stores the pre-policy attribute set of (peer, pathId) at slot (takes a reference). */
  setPrePolicy(slot: number, peer: number, pathId: number, attrId: number): RibChange {
    if (this.preHead === null) this.preHead = new Int32Array(this.head.length).fill(NIL);
    const ph = this.preHead;
    for (let p = ph[slot]!; p !== NIL; p = this.pNext[p]!) {
      if (this.pPeer[p] === peer && this.pathId(p) === pathId) {
        const old = this.pAttr[p]!;
        if (old === attrId) return RibChange.NONE;
        this.store.ref(attrId);
        this.pAttr[p] = attrId;
        this.store.unref(old);
        return RibChange.REPLACED;
      }
    }
    this.store.ref(attrId);
    const p = this.allocPath();
    this.pNext[p] = ph[slot]!;
    this.pPeer[p] = peer;
    this.setPathId(p, pathId >>> 0);
    this.pAttr[p] = attrId;
    ph[slot] = p;
    return RibChange.ADDED;
  }

  /** The pre-policy attribute set of (peer, pathId) at slot, or -1. */
  prePolicyAttr(slot: number, peer: number, pathId: number): number {
    if (this.preHead === null) return NIL;
    for (let p = this.preHead[slot]!; p !== NIL; p = this.pNext[p]!) {
      if (this.pPeer[p] === peer && this.pathId(p) === pathId) return this.pAttr[p]!;
    }
    return NIL;
  }

  /** Removes pre-policy copies of `peer` at slot (one pathId, or all with pathId -1); returns how many. */
  removePrePolicyOf(slot: number, peer: number, pathId: number): number {
    const ph = this.preHead;
    if (ph === null) return 0;
    let n = 0;
    let prev = NIL;
    let p = ph[slot]!;
    while (p !== NIL) {
      const next = this.pNext[p]!;
      if (this.pPeer[p] === peer && (pathId < 0 || this.pathId(p) === pathId >>> 0)) {
        if (prev === NIL) ph[slot] = next;
        else this.pNext[prev] = next;
        this.store.unref(this.pAttr[p]!);
        this.freePathEntry(p);
        n++;
      } else prev = p;
      p = next;
    }
    return n;
  }

  // ---- Re-evaluation (next-hop resolution or decision options changed) ----

  /** Re-runs the decision of one slot; returns true when its best/multipath changed. */
  reevaluate(slot: number): boolean {
    this.snapshot(slot);
    return this.decide(slot);
  }

  /**
   * Re-runs the decision of up to `maxSlots` slots from `from`; returns the slot to
   * continue from, or -1 when done (a resumable job: run it with a time budget).
   */
  reevaluateFrom(from: number, maxSlots: number): number {
    const t = this.table;
    const end = Math.min(t.slotLimit, from + maxSlots);
    for (let s = from; s < end; s++) if (this.head[s] !== NIL) this.reevaluate(s);
    return end >= t.slotLimit ? -1 : end;
  }

  /** Bytes held by the typed arrays of this Loc-RIB and its prefix table (not the attribute store). */
  get byteSize(): number {
    return (
      this.table.byteSize +
      this.head.byteLength +
      (this.preHead?.byteLength ?? 0) +
      this.nMulti.byteLength +
      this.pend.byteLength +
      this.pNext.byteLength +
      this.pPeer.byteLength +
      (this.pPathId?.byteLength ?? 0) +
      this.pAttr.byteLength
    );
  }

  // ---- Internals ----

  /** Records the current best/multipath of a slot (before a change). */
  private snapshot(slot: number): void {
    const k = this.nMulti[slot]!;
    let p = this.head[slot]!;
    for (let i = 0; i < k; i++) {
      this.snapPath[i] = p;
      this.snapAttr[i] = this.pAttr[p]!;
      p = this.pNext[p]!;
    }
    this.snapCount = k;
  }

  private snapCount = 0;

  /** Runs the decision on a slot, reorders its list, marks it dirty when the outcome changed. */
  private decide(slot: number): boolean {
    const h = this.head[slot]!;
    let k: number;
    if (h === NIL) k = 0;
    else if (this.pNext[h] === NIL) {
      // One candidate: it is the best iff its next hop resolves.
      k = this.store.nextHops.resolvable[this.nhArray()[this.pAttr[h]!]!] === 1 ? 1 : 0;
    } else k = this.decideMany(slot);
    this.nMulti[slot] = k;
    // Compare with the snapshot.
    const before = this.snapCount;
    if (before > 0 && k === 0) this.bestCount--;
    else if (before === 0 && k > 0) this.bestCount++;
    let changed = before !== k;
    if (!changed) {
      let p = this.head[slot]!;
      for (let i = 0; i < k; i++) {
        if (p !== this.snapPath[i] || this.pAttr[p] !== this.snapAttr[i]) {
          changed = true;
          break;
        }
        p = this.pNext[p]!;
      }
    }
    if (changed) this.markDirty(slot);
    return changed;
  }

  /** Loads the post-policy candidates of a slot into `cs` (list order). */
  private fill(slot: number, cs: CandidateSet): void {
    const st = this.store;
    const nh = this.store.nextHops;
    const nhOf = this.nhArray();
    const peers = this.peers;
    const o = this.opts;
    cs.clear();
    let i = 0;
    for (let p = this.head[slot]!; p !== NIL; p = this.pNext[p]!) {
      if (i === cs.capacity) cs.reserve(i + 1);
      const a = this.pAttr[p]!;
      const peer = this.pPeer[p]!;
      const f = st.flags[a]!;
      const n = nhOf[a]!;
      cs.handle[i] = p;
      cs.eligible[i] = nh.resolvable[n]!;
      cs.localPref[i] = (f & AttrFlagBit.HAS_LOCAL_PREF) !== 0 ? st.localPref[a]! : o.defaultLocalPref;
      cs.asPathLen[i] = st.asPathLen[a]!;
      cs.origin[i] = st.origin[a]!;
      cs.med[i] = (f & AttrFlagBit.HAS_MED) !== 0 ? st.med[a]! : o.medMissingAsWorst ? MED_WORST : 0;
      cs.neighborAs[i] = st.neighborAs[a]!;
      cs.ebgp[i] = peers.ebgp[peer]!;
      cs.igpMetric[i] = nh.metric[n]!;
      cs.routerId[i] = (f & AttrFlagBit.HAS_ORIGINATOR_ID) !== 0 ? st.originatorId[a]! : peers.bgpId[peer]!;
      cs.clusterLen[i] = st.clusterLen[a]!;
      const w = peers.addrWords;
      const pw = peer * 4;
      const cw = i * 4;
      cs.peerAddr[cw] = w[pw]!;
      cs.peerAddr[cw + 1] = w[pw + 1]!;
      cs.peerAddr[cw + 2] = w[pw + 2]!;
      cs.peerAddr[cw + 3] = w[pw + 3]!;
      cs.pathId[i] = this.pathId(p);
      cs.nextHop[i] = n;
      i++;
    }
    cs.n = i;
  }

  /** Selects among the candidates of a slot and puts the selection first in its list. */
  private decideMany(slot: number): number {
    const cs = this.cs;
    const o = this.opts;
    this.fill(slot, cs);
    const i = cs.n;
    const best = select(cs, o, false);
    if (best < 0) return 0;
    // Relink: selected entries first (in selection order), then the others in list order.
    if (this.seq.length < i) this.seq = new Int32Array(cs.capacity);
    const seq = this.seq;
    const k = cs.multiCount;
    let m = 0;
    for (let j = 0; j < k; j++) seq[m++] = cs.handle[cs.multi[j]!]!;
    for (let j = 0; j < i; j++) {
      let chosen = false;
      for (let q = 0; q < k; q++) if (cs.multi[q] === j) chosen = true;
      if (!chosen) seq[m++] = cs.handle[j]!;
    }
    this.head[slot] = seq[0]!;
    for (let j = 0; j + 1 < m; j++) this.pNext[seq[j]!] = seq[j + 1]!;
    this.pNext[seq[m - 1]!] = NIL;
    return k;
  }

  private nhArray(): Int32Array {
    return this.afi === 1 ? this.store.nextHop4 : this.store.nextHop6;
  }

  private allocPath(): number {
    let p = this.freePath;
    if (p !== NIL) {
      this.freePath = this.pNext[p]!;
      return p;
    }
    p = this.pathLimit++;
    if (p >= this.pNext.length) {
      const n = this.pNext.length * 2;
      const a = new Int32Array(n);
      a.set(this.pNext);
      this.pNext = a;
      const b = new Uint16Array(n);
      b.set(this.pPeer);
      this.pPeer = b;
      if (this.pPathId !== null) {
        const c = new Uint32Array(n);
        c.set(this.pPathId);
        this.pPathId = c;
      }
      const d = new Int32Array(n);
      d.set(this.pAttr);
      this.pAttr = d;
    }
    return p;
  }

  private freePathEntry(p: number): void {
    this.pAttr[p] = NIL;
    this.pNext[p] = this.freePath;
    this.freePath = p;
  }

  private growSlots(): void {
    const n = this.table.slotCapacity;
    const h = new Int32Array(n).fill(NIL);
    h.set(this.head);
    this.head = h;
    if (this.preHead !== null) {
      const ph = new Int32Array(n).fill(NIL);
      ph.set(this.preHead);
      this.preHead = ph;
    }
    const m = new Uint8Array(n);
    m.set(this.nMulti);
    this.nMulti = m;
    const pd = new Uint16Array(n);
    pd.set(this.pend);
    this.pend = pd;
  }
}
