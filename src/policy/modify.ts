// Attribute changes an Accept rule makes ("set": LOCAL_PREF, add communities).
import type { PathAttributes } from '../wire/attrs/types.js';

/**
 * What one rule changes. Only the keys present change something. Structurally a
 * subset of rib/attr-store.ts `AttrModification`, so it can be handed to
 * `AttrStore.internModified(baseId, mod)` as is.
 */
export interface RuleModification {
  readonly localPref?: number;
  /** Standard communities to add (32-bit values), in order, without duplicates. */
  readonly addCommunities?: readonly number[];
  /** Large communities to add as flat triples (global admin, local 1, local 2). */
  readonly addLargeCommunities?: readonly number[];
}

/**
 * A new PathAttributes: `a` with `mod` applied. Communities keep the received order;
 * added ones not already carried are appended (in the rule's order). Unchanged parts
 * are shared with `a`; `a` is not modified.
 */
export function modifyAttributes(a: PathAttributes, mod: RuleModification): PathAttributes {
  const out: PathAttributes = { ...a };
  if (mod.localPref !== undefined) out.localPref = mod.localPref >>> 0;
  const add = mod.addCommunities;
  if (add !== undefined && add.length > 0) {
    const cur = a.communities;
    const extra: number[] = [];
    for (const raw of add) {
      const c = raw >>> 0;
      if ((cur === undefined || !cur.includes(c)) && !extra.includes(c)) extra.push(c);
    }
    if (extra.length > 0) {
      const n = cur === undefined ? 0 : cur.length;
      const next = new Uint32Array(n + extra.length);
      if (cur !== undefined) next.set(cur);
      next.set(extra, n);
      out.communities = next;
    }
  }
  const large = mod.addLargeCommunities;
  if (large !== undefined && large.length >= 3) {
    const cur = a.largeCommunities;
    const extra: number[] = [];
    for (let i = 0; i + 2 < large.length; i += 3) {
      const g = large[i]! >>> 0;
      const l1 = large[i + 1]! >>> 0;
      const l2 = large[i + 2]! >>> 0;
      if (!hasTriple(cur, g, l1, l2) && !hasTriple(extra, g, l1, l2)) extra.push(g, l1, l2);
    }
    if (extra.length > 0) {
      const n = cur === undefined ? 0 : cur.length;
      const next = new Uint32Array(n + extra.length);
      if (cur !== undefined) next.set(cur);
      next.set(extra, n);
      out.largeCommunities = next;
    }
  }
  return out;
}

function hasTriple(list: ArrayLike<number> | undefined, g: number, l1: number, l2: number): boolean {
  if (list === undefined) return false;
  for (let j = 0; j + 2 < list.length; j += 3) {
    if (list[j] === g && list[j + 1] === l1 && list[j + 2] === l2) return true;
  }
  return false;
}
