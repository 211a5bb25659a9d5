// Adj-RIB-In of one peer in one address family: (prefix, ADD-PATH id) → attribute set.
//
// The routes themselves live in the Loc-RIB's candidate lists (loc-rib.ts explains
// why); this class is the peer's door into them: it turns the speaker's per-prefix
// calls into list changes, counts the peer's routes (prefix limits), keeps the
// optional pre-policy copies (off by default: soft reconfiguration inbound), and
// clears or walks the peer's routes.
//
// Speaker loop for one UPDATE (no allocation per prefix):
//   const raw = store.intern(parsed.attrKey, parsed.attrHash, decode, sessionTag);
//   for each announced prefix: in.announceV4(cur.addr, cur.length, cur.pathId, post, raw)
//     where post = raw, or store.internModified(raw, changes) from policy, or -1 (rejected)
//   for each withdrawn prefix: in.withdrawV4(cur.addr, cur.length, cur.pathId)
//   store.unref(raw) (and each post id the policy handed out)
// Without ADD-PATH the path id is 0.
import { Afi } from '../wire/iana.js';
import { PrefixBatch } from '../wire/nlri/batch.js';
import { RibChange, type LocRib } from './loc-rib.js';

export { RibChange } from './loc-rib.js';

export class AdjRibIn {
  readonly peer: number;
  readonly rib: LocRib;
  /** Keep the pre-policy attribute set of every route (soft reconfiguration inbound). */
  keepPrePolicy: boolean;
  /** Post-policy routes of this peer in this family. */
  count = 0;
  /** Pre-policy copies held. */
  preCount = 0;
  /**
   * Graceful restart (RFC 4724 §4.2): slots whose routes from this peer are stale,
   * one bit per slot (a full table costs 128 KiB, no object per route). A set bit
   * always means the peer still has a path (or a pre-policy copy) there, so the slot
   * cannot be freed and reused under it: every removal through this class clears the bit.
   */
  private stale: Uint32Array | null = null;
  /** Slots marked stale and not re-announced or withdrawn since. */
  staleCount = 0;
  /**
   * ADD-PATH only: path ids re-announced in a slot still marked stale because the
   * peer had other paths there; the sweep keeps these. Empty without ADD-PATH.
   */
  private readonly refreshed = new Map<number, number[]>();

  constructor(rib: LocRib, peer: number, keepPrePolicy = false) {
    if (!rib.peers.has(peer)) throw new RangeError(`no peer ${peer}`);
    this.rib = rib;
    this.peer = peer;
    this.keepPrePolicy = keepPrePolicy;
  }

  /**
   * Announces an IPv4 prefix. `attrId` is the post-policy set (-1: policy rejected it;
   * any older route of this (prefix, pathId) is withdrawn). `rawId` is the set as
   * received, kept when keepPrePolicy (defaults to attrId).
   */
  announceV4(addr: number, len: number, pathId: number, attrId: number, rawId = attrId): RibChange {
    const rib = this.rib;
    if (attrId < 0 && !this.keepPrePolicy) {
      const s = rib.v4!.find(addr, len);
      return s < 0 ? RibChange.NONE : this.remove(s, pathId);
    }
    return this.announce(rib.slotV4(addr, len), pathId, attrId, rawId);
  }

  withdrawV4(addr: number, len: number, pathId: number): RibChange {
    const s = this.rib.v4!.find(addr, len);
    return s < 0 ? RibChange.NONE : this.withdraw(s, pathId);
  }

  announceV6(w0: number, w1: number, w2: number, w3: number, len: number, pathId: number, attrId: number, rawId = attrId): RibChange {
    const rib = this.rib;
    if (attrId < 0 && !this.keepPrePolicy) {
      const s = rib.v6!.find(w0, w1, w2, w3, len);
      return s < 0 ? RibChange.NONE : this.remove(s, pathId);
    }
    return this.announce(rib.slotV6(w0, w1, w2, w3, len), pathId, attrId, rawId);
  }

  withdrawV6(w0: number, w1: number, w2: number, w3: number, len: number, pathId: number): RibChange {
    const s = this.rib.v6!.find(w0, w1, w2, w3, len);
    return s < 0 ? RibChange.NONE : this.withdraw(s, pathId);
  }

  /** Announce by slot (from LocRib.slotV4/slotV6). See announceV4. Returns the post-policy change. */
  announce(slot: number, pathId: number, attrId: number, rawId = attrId): RibChange {
    const rib = this.rib;
    if (this.staleCount > 0 && this.isStale(slot)) this.refresh(slot, pathId >>> 0);
    if (this.keepPrePolicy && rawId >= 0) {
      if (rib.setPrePolicy(slot, this.peer, pathId, rawId) === RibChange.ADDED) this.preCount++;
    }
    if (attrId < 0) return this.remove(slot, pathId);
    const c = rib.setPath(slot, this.peer, pathId, attrId);
    if (c === RibChange.ADDED) this.count++;
    return c;
  }

  /** Withdraws (prefix at slot, pathId): the route and its pre-policy copy. */
  withdraw(slot: number, pathId: number): RibChange {
    const rib = this.rib;
    if (rib.firstPrePolicy(slot) >= 0) this.preCount -= rib.removePrePolicyOf(slot, this.peer, pathId);
    return this.remove(slot, pathId);
  }

  /**
   * A new import-policy verdict for a route known from its pre-policy copy (soft
   * reconfiguration inbound): sets (attrId >= 0) or removes (-1) the post-policy path.
   * Unlike announce, the copy and any stale mark stay as they are: nothing was received.
   */
  reapply(slot: number, pathId: number, attrId: number): RibChange {
    const rib = this.rib;
    if (attrId < 0) {
      const c = rib.removePath(slot, this.peer, pathId);
      if (c === RibChange.REMOVED) this.count--;
      return c;
    }
    const c = rib.setPath(slot, this.peer, pathId, attrId);
    if (c === RibChange.ADDED) this.count++;
    return c;
  }

  /**
   * One step of dropping this peer's pre-policy copies (soft reconfiguration turned
   * off): up to `maxSlots` slots from `from`. Returns where to continue, or -1 when done.
   * Set keepPrePolicy false first, or new copies appear behind the step.
   */
  dropPrePolicyFrom(from: number, maxSlots: number): number {
    const rib = this.rib;
    const limit = rib.table.slotLimit;
    const end = Math.min(limit, from + maxSlots);
    for (let s = from; s < end; s++) {
      if (rib.firstPrePolicy(s) < 0) continue;
      const n = rib.removePrePolicyOf(s, this.peer, -1);
      if (n === 0) continue;
      this.preCount -= n;
      // A rejected route held only by its copy is gone: its slot carries no mark and may go.
      if (this.staleCount > 0 && this.isStale(s) && !this.hasEntry(rib.firstPath(s))) this.unmark(s);
      rib.maybeFree(s);
    }
    return end >= limit ? -1 : end;
  }

  /** The post-policy attribute set of (slot, pathId), or -1. */
  lookup(slot: number, pathId: number): number {
    const p = this.rib.findPath(slot, this.peer, pathId >>> 0);
    return p < 0 ? -1 : this.rib.pathAttr(p);
  }

  /** The pre-policy attribute set of (slot, pathId), or -1. */
  prePolicy(slot: number, pathId: number): number {
    return this.rib.prePolicyAttr(slot, this.peer, pathId >>> 0);
  }

  /**
   * Removes every route of this peer (peer down) in one go. Returns the withdrawn
   * (prefix, path id) pairs; the best-path consequences go through the Loc-RIB's
   * change queues. For a full table this blocks for a few hundred ms: use clearFrom
   * in steps when other sessions must keep being served.
   */
  clear(): PrefixBatch {
    const out = new PrefixBatch(this.rib.afi === 1 ? Afi.IPV4 : Afi.IPV6, Math.max(1, this.count));
    this.clearFrom(0, Infinity, out);
    return out;
  }

  /**
   * One step of a resumable clear: removes this peer's routes from up to `maxSlots`
   * slots starting at `from`, appending them to `out` (if given). Returns the slot to
   * continue from, or -1 when done. Until it is done the peer index must not announce
   * again (give a reconnected peer a new index).
   */
  clearFrom(from: number, maxSlots: number, out: PrefixBatch | null = null): number {
    const rib = this.rib;
    const v4 = rib.v4;
    const v6 = rib.v6;
    const to = from + maxSlots;
    const visit =
      out === null
        ? null
        : (slot: number, pathId: number): void => {
            if (v4 !== null) out.addV4(v4.addrOf(slot), v4.prefixLength(slot), pathId);
            else out.addV6(v6!.word(slot, 0), v6!.word(slot, 1), v6!.word(slot, 2), v6!.word(slot, 3), v6!.prefixLength(slot), pathId);
          };
    this.count -= rib.removePeer(this.peer, visit, from, to);
    this.preCount -= rib.lastPreRemoved;
    const done = to >= rib.table.slotLimit;
    if (this.stale !== null) {
      if (done && from === 0) this.forgetStale();
      else for (let s = from, e = Math.min(to, this.stale.length * 32); s < e; s++) this.unmark(s);
    }
    return done ? -1 : to;
  }

  // ---- Graceful restart: stale routes ----

  /**
   * Marks every route this peer has now as stale (its session went down gracefully).
   * Routes already stale stay stale (consecutive restarts). One pass over the slots.
   * Returns the number of stale slots.
   */
  markStale(): number {
    const rib = this.rib;
    const limit = rib.table.slotLimit;
    const need = (limit + 31) >>> 5;
    if (this.stale === null || this.stale.length < need) {
      const grown = new Uint32Array(Math.max(need, 1));
      if (this.stale !== null) grown.set(this.stale);
      this.stale = grown;
    }
    const bits = this.stale;
    let n = 0;
    for (let s = 0; s < limit; s++) {
      if (this.hasEntry(rib.firstPath(s)) || this.hasEntry(rib.firstPrePolicy(s))) {
        bits[s >>> 5]! |= 1 << (s & 31);
        n++;
      }
    }
    // A new down starts a new round: what was re-announced since is stale again.
    this.refreshed.clear();
    this.staleCount = n;
    return n;
  }

  isStale(slot: number): boolean {
    const bits = this.stale;
    return bits !== null && slot >>> 5 < bits.length && (bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  /**
   * One step of the sweep: removes the routes still stale in up to `maxSlots` slots
   * from `from`. Returns where to continue, or -1 when done (nothing is stale then).
   */
  sweepStale(from: number, maxSlots: number): number {
    const bits = this.stale;
    if (bits === null || this.staleCount === 0) {
      this.forgetStale();
      return -1;
    }
    const rib = this.rib;
    const peer = this.peer;
    const end = Math.min(bits.length * 32, from + maxSlots);
    let ids: number[] | null = null;
    for (let s = from; s < end; ) {
      const w = bits[s >>> 5]!;
      if (w === 0) {
        s = (s | 31) + 1; // skip a clear word
        continue;
      }
      if ((w & (1 << (s & 31))) !== 0) {
        const keep = this.refreshed.get(s);
        if (ids === null) ids = [];
        ids.length = 0;
        // Post-policy paths, and pre-policy copies of routes the policy rejects.
        for (let p = rib.firstPath(s); p >= 0; p = rib.nextPath(p)) {
          if (rib.pathPeer(p) === peer && (keep === undefined || !keep.includes(rib.pathId(p)))) ids.push(rib.pathId(p));
        }
        for (let p = rib.firstPrePolicy(s); p >= 0; p = rib.nextPath(p)) {
          const id = rib.pathId(p);
          if (rib.pathPeer(p) === peer && (keep === undefined || !keep.includes(id)) && !ids.includes(id)) ids.push(id);
        }
        this.unmark(s);
        for (const id of ids) this.withdraw(s, id);
      }
      s++;
    }
    if (end < bits.length * 32) return end;
    this.forgetStale();
    return -1;
  }

  /** Forgets every stale mark (after a full sweep or a full clear). */
  forgetStale(): void {
    this.stale = null;
    this.staleCount = 0;
    this.refreshed.clear();
  }

  /** (slot, pathId) was re-announced while the slot is stale. */
  private refresh(slot: number, pathId: number): void {
    const rib = this.rib;
    let other = false;
    for (let p = rib.firstPath(slot); p >= 0; p = rib.nextPath(p)) {
      if (rib.pathPeer(p) === this.peer && rib.pathId(p) !== pathId) other = true;
    }
    for (let p = rib.firstPrePolicy(slot); p >= 0; p = rib.nextPath(p)) {
      if (rib.pathPeer(p) === this.peer && rib.pathId(p) !== pathId) other = true;
    }
    if (!other) {
      this.unmark(slot);
      return;
    }
    // ADD-PATH: other paths of this peer here may still be stale; remember this one.
    const ids = this.refreshed.get(slot);
    if (ids === undefined) this.refreshed.set(slot, [pathId]);
    else if (!ids.includes(pathId)) ids.push(pathId);
  }

  private unmark(slot: number): void {
    const bits = this.stale!;
    const i = slot >>> 5;
    const m = 1 << (slot & 31);
    if (i < bits.length && (bits[i]! & m) !== 0) {
      bits[i] = bits[i]! & ~m;
      this.staleCount--;
      if (this.refreshed.size > 0) this.refreshed.delete(slot);
    }
  }

  /**
   * Visits this peer's routes in slot order, from `from`, looking at up to `maxSlots`
   * slots; returns where to continue, or -1 when done (resumable, for the CLI and
   * refreshes). `pre` walks the pre-policy copies instead.
   */
  walk(from: number, maxSlots: number, visit: (slot: number, pathId: number, attrId: number) => void, pre = false): number {
    const rib = this.rib;
    const limit = rib.table.slotLimit;
    const end = Math.min(limit, from + maxSlots);
    for (let s = from; s < end; s++) {
      for (let p = pre ? rib.firstPrePolicy(s) : rib.firstPath(s); p >= 0; p = rib.nextPath(p)) {
        if (rib.pathPeer(p) === this.peer) visit(s, rib.pathId(p), rib.pathAttr(p));
      }
    }
    return end >= limit ? -1 : end;
  }

  private remove(slot: number, pathId: number): RibChange {
    // Before removePath: it may free the slot, and a freed slot must carry no mark. A
    // pre-policy copy of this peer keeps the slot (and the mark: the sweep removes it).
    const stale = this.staleCount > 0 && this.isStale(slot);
    if (stale && this.peerPathsAt(slot, pathId) === 0 && !this.hasEntry(this.rib.firstPrePolicy(slot))) this.unmark(slot);
    const c = this.rib.removePath(slot, this.peer, pathId);
    if (c === RibChange.REMOVED) this.count--;
    else this.rib.maybeFree(slot); // an unused slot made by a rejected announce
    return c;
  }

  /** Whether the list (post- or pre-policy) starting at entry `p` holds a path of this peer. */
  private hasEntry(p: number): boolean {
    const rib = this.rib;
    for (; p >= 0; p = rib.nextPath(p)) if (rib.pathPeer(p) === this.peer) return true;
    return false;
  }

  /** Paths of this peer at `slot` other than `pathId`. */
  private peerPathsAt(slot: number, pathId: number): number {
    const rib = this.rib;
    let n = 0;
    for (let p = rib.firstPath(slot); p >= 0; p = rib.nextPath(p)) {
      if (rib.pathPeer(p) === this.peer && rib.pathId(p) !== pathId >>> 0) n++;
    }
    return n;
  }
}
