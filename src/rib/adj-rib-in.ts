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
    return to >= rib.table.slotLimit ? -1 : to;
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
    const c = this.rib.removePath(slot, this.peer, pathId);
    if (c === RibChange.REMOVED) this.count--;
    else this.rib.maybeFree(slot); // an unused slot made by a rejected announce
    return c;
  }
}
