// Import policy: which learned routes enter the Adj-RIB-In, and with what changes.
//
// compileImportPolicy turns the configuration (config/model.ts ImportPolicy) into flat
// typed arrays once per configuration change; `evaluate` runs per (prefix, attribute
// set) with no allocation and no closures. Order of checks (first hit decides):
//   1. no importPolicy            → reject 'no-import-policy' (Cilium: learn nothing)
//   2. own prefix / connected     → reject 'own-prefix' / 'connected-subnet' (guards.ts)
//   3. 0.0.0.0/0 or ::/0          → reject 'default-route' unless allowDefaultRoute
//   4. rules in order, first match → 'rule:<name>' with its action (and set, if Accept)
//   5. defaultAction              → 'default-action'
//
// A rule matches when every present condition holds (AND); inside one list any entry
// may match (OR). An empty list matches nothing (the config schema never makes one).
//   prefixes           route inside entry.cidr and entry.ge <= length <= entry.le
//   communities        the route carries any listed standard community
//   largeCommunities   the route carries any listed large community
//   asPathContains     any listed ASN appears anywhere in AS_PATH (AS_SETs and
//                      confederation segments included)
//   asPathOriginatedBy the origin AS is listed. The origin AS is the last ASN of the
//                      last non-confederation segment; when that segment is an AS_SET
//                      (an aggregate) any ASN of the set counts as the origin. A path
//                      with no such segment (locally originated, or only
//                      confederation segments) has no origin AS and never matches.
//
// Caching: the attribute conditions (communities, AS path) depend only on the
// attribute set, so per attribute set id the filter keeps a bitmask "rules whose
// attribute conditions hold" (rules without any have their bit always set). The RIB
// reuses ids after a set is freed, so each cached mask also remembers the
// PathAttributes object it was computed from and is recomputed when another object
// shows up under that id. A recompiled policy is a new filter with an empty cache.
import type { ImportPolicy, ImportRule, PrefixMatch } from '../config/model.js';
import { Afi, AsPathSegment as SegType } from '../wire/iana.js';
import type { PathAttributes } from '../wire/attrs/types.js';
import { GuardHit, type ImportGuards } from './guards.js';
import { modifyAttributes, type RuleModification } from './modify.js';
import { mask32, prefixWords } from './prefix-set.js';

/** Why a route was accepted or rejected (stable numbers, for metrics labels). */
export const ImportReason = {
  NO_POLICY: 0,
  OWN_PREFIX: 1,
  CONNECTED_SUBNET: 2,
  DEFAULT_ROUTE: 3,
  RULE: 4,
  DEFAULT_ACTION: 5,
  UNSUPPORTED_FAMILY: 6,
} as const;
export type ImportReason = (typeof ImportReason)[keyof typeof ImportReason];

export const IMPORT_REASON_TEXT: Readonly<Record<ImportReason, string>> = {
  0: 'no-import-policy',
  1: 'own-prefix',
  2: 'connected-subnet',
  3: 'default-route',
  4: 'rule',
  5: 'default-action',
  6: 'unsupported-family',
};

/**
 * The result of one evaluation. The filter returns the same object every call:
 * read it before evaluating the next route.
 */
export class Verdict {
  accepted = false;
  reason: ImportReason = ImportReason.NO_POLICY;
  /** Text for explanations: 'rule:<name>' or IMPORT_REASON_TEXT[reason]. */
  text = 'no-import-policy';
  /** Index of the deciding rule, or -1. */
  ruleIndex = -1;
  /**
   * Modification id (the rule index) when the route is accepted with attribute
   * changes, else -1. Cache the modified attribute set per (attrSetId, modId):
   * `filter.modification(modId)` for AttrStore.internModified, or
   * `filter.applyModifications(attrs, modId)`.
   */
  modId = -1;
}

// Rule condition flags.
const F_PREFIX = 1;
const F_COMM = 2;
const F_LARGE = 4;
const F_CONTAINS = 8;
const F_ORIGIN = 16;
const F_ATTR = F_COMM | F_LARGE | F_CONTAINS | F_ORIGIN;

/** Flat per-rule ranges: entries of rule r are [off[r], off[r+1]). */
class Ranges {
  readonly off: Uint32Array;
  constructor(counts: readonly number[]) {
    this.off = new Uint32Array(counts.length + 1);
    for (let i = 0; i < counts.length; i++) this.off[i + 1] = this.off[i]! + counts[i]!;
  }
}

function sortedU32(list: readonly number[]): number[] {
  return [...new Set(list.map((x) => x >>> 0))].sort((a, b) => a - b);
}

function hasSorted(arr: Uint32Array, lo: number, hi: number, x: number): boolean {
  hi--;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = arr[mid]!;
    if (v === x) return true;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export interface ImportFilter {
  /** False when built from an absent importPolicy (everything is rejected). */
  readonly present: boolean;
  readonly ruleCount: number;
  /** True when some rule looks at communities or the AS path. */
  readonly usesAttributes: boolean;
  /**
   * Evaluates one route. IPv4: afi 1, `a0` the address (unsigned 32-bit), w1..w3
   * ignored; IPv6: afi 2, a0..w3 the four address words (most significant first).
   * `attrSetId` keys the attribute cache (pass -1 to skip caching).
   */
  evaluate(afi: number, a0: number, w1: number, w2: number, w3: number, len: number, attrs: PathAttributes, attrSetId: number): Verdict;
  /** The changes of rule `modId` (a Verdict.modId >= 0). */
  modification(modId: number): RuleModification;
  /** Pure: a new PathAttributes with rule `modId`'s changes. */
  applyModifications(attrs: PathAttributes, modId: number): PathAttributes;
  ruleName(index: number): string;
  /** Drops the cached mask of an attribute set (optional: ids are validated anyway). */
  forget(attrSetId: number): void;
  /** Attribute sets with a cached mask. */
  readonly cachedSets: number;
}

class CompiledFilter implements ImportFilter {
  readonly present: boolean;
  readonly ruleCount: number;
  readonly usesAttributes: boolean;
  cachedSets = 0;

  private readonly guards: ImportGuards;
  private readonly verdict = new Verdict();
  private readonly allowDefault: boolean;
  private readonly defaultAccept: boolean;
  private readonly names: readonly string[];
  private readonly texts: readonly string[];
  private readonly accept: Uint8Array;
  private readonly flags: Uint8Array;
  private readonly mods: readonly (RuleModification | undefined)[];

  // Prefix conditions per family. IPv4 as signed 32-bit so `a0 & mask` compares as is.
  private readonly p4: Ranges;
  private readonly p4Addr: Int32Array;
  private readonly p4Mask: Int32Array;
  private readonly p4Lo: Uint8Array;
  private readonly p4Hi: Uint8Array;
  private readonly p6: Ranges;
  private readonly p6Addr: Int32Array; // 4 words per entry
  private readonly p6Mask: Int32Array;
  private readonly p6Lo: Uint8Array;
  private readonly p6Hi: Uint8Array;

  // Attribute conditions.
  private readonly comm: Ranges;
  private readonly commVal: Uint32Array; // sorted per rule
  private readonly large: Ranges;
  private readonly largeVal: Uint32Array; // triples
  private readonly contains: Ranges;
  private readonly containsVal: Uint32Array; // sorted per rule
  private readonly origin: Ranges;
  private readonly originVal: Uint32Array; // sorted per rule

  // Attribute mask cache: `words` Uint32 per slot; slot 0 is scratch, slot id+1 is set `id`.
  private readonly words: number;
  private readonly alwaysBits: Uint32Array;
  private bits: Uint32Array;
  private owners: (PathAttributes | undefined)[] = [];

  constructor(policy: ImportPolicy | undefined, guards: ImportGuards) {
    this.guards = guards;
    this.present = policy !== undefined;
    const rules: readonly ImportRule[] = policy?.rules ?? [];
    const n = rules.length;
    this.ruleCount = n;
    this.allowDefault = policy?.allowDefaultRoute ?? false;
    this.defaultAccept = policy?.defaultAction === 'Accept';
    this.names = rules.map((r) => r.name);
    this.texts = rules.map((r) => `rule:${r.name}`);
    this.accept = Uint8Array.from(rules, (r) => (r.action === 'Accept' ? 1 : 0));
    this.flags = new Uint8Array(n);
    this.mods = rules.map((r) => (r.action === 'Accept' ? ruleModification(r) : undefined));

    const v4: { r: number; m: PrefixMatch; words: number[] }[] = [];
    const v6: { r: number; m: PrefixMatch; words: number[] }[] = [];
    const comm: number[][] = [];
    const large: number[][] = [];
    const contains: number[][] = [];
    const origin: number[][] = [];
    rules.forEach((rule, r) => {
      const m = rule.match;
      let f = 0;
      if (m.prefixes !== undefined) {
        f |= F_PREFIX;
        for (const pm of m.prefixes) {
          const w = prefixWords(pm.cidr);
          (w.afi === 'ipv4' ? v4 : v6).push({ r, m: pm, words: w.words });
        }
      }
      if (m.communities !== undefined) f |= F_COMM;
      if (m.largeCommunities !== undefined) f |= F_LARGE;
      if (m.asPathContains !== undefined) f |= F_CONTAINS;
      if (m.asPathOriginatedBy !== undefined) f |= F_ORIGIN;
      this.flags[r] = f;
      comm.push(sortedU32(m.communities ?? []));
      large.push((m.largeCommunities ?? []).flatMap((c) => [c[0] >>> 0, c[1] >>> 0, c[2] >>> 0]));
      contains.push(sortedU32(m.asPathContains ?? []));
      origin.push(sortedU32(m.asPathOriginatedBy ?? []));
    });

    // Prefix entries, grouped by rule (stable: v4/v6 lists are already in rule order).
    const count = (list: { r: number }[]) => rules.map((_, r) => list.filter((e) => e.r === r).length);
    // Effective length range: ge/le, but never shorter than the entry's own length.
    const lo = (e: { m: PrefixMatch }) => Math.max(e.m.ge, e.m.length);
    this.p4 = new Ranges(count(v4));
    this.p4Addr = Int32Array.from(v4, (e) => e.words[0]! | 0);
    this.p4Mask = Int32Array.from(v4, (e) => mask32(e.m.length) | 0);
    this.p4Lo = Uint8Array.from(v4, lo);
    this.p4Hi = Uint8Array.from(v4, (e) => e.m.le);
    this.p6 = new Ranges(count(v6));
    this.p6Addr = Int32Array.from(v6.flatMap((e) => e.words.map((w) => w | 0)));
    this.p6Mask = Int32Array.from(v6.flatMap((e) => [0, 1, 2, 3].map((i) => mask32(e.m.length - 32 * i) | 0)));
    this.p6Lo = Uint8Array.from(v6, lo);
    this.p6Hi = Uint8Array.from(v6, (e) => e.m.le);

    this.comm = new Ranges(comm.map((l) => l.length));
    this.commVal = Uint32Array.from(comm.flat());
    this.large = new Ranges(large.map((l) => l.length));
    this.largeVal = Uint32Array.from(large.flat());
    this.contains = new Ranges(contains.map((l) => l.length));
    this.containsVal = Uint32Array.from(contains.flat());
    this.origin = new Ranges(origin.map((l) => l.length));
    this.originVal = Uint32Array.from(origin.flat());

    this.words = Math.max(1, Math.ceil(n / 32));
    this.alwaysBits = new Uint32Array(this.words);
    let usesAttributes = false;
    for (let r = 0; r < n; r++) {
      if ((this.flags[r]! & F_ATTR) === 0) this.alwaysBits[r >>> 5] = (this.alwaysBits[r >>> 5]! | (1 << (r & 31))) >>> 0;
      else usesAttributes = true;
    }
    this.usesAttributes = usesAttributes;
    this.bits = new Uint32Array(this.words * (usesAttributes ? 64 : 1));
  }

  evaluate(afi: number, a0: number, w1: number, w2: number, w3: number, len: number, attrs: PathAttributes, attrSetId: number): Verdict {
    const v = this.verdict;
    if (!this.present) return this.reject(v, ImportReason.NO_POLICY);
    let hit: GuardHit;
    if (afi === Afi.IPV4) hit = this.guards.checkV4(a0, len);
    else if (afi === Afi.IPV6) hit = this.guards.checkV6(a0, w1, w2, w3, len);
    else return this.reject(v, ImportReason.UNSUPPORTED_FAMILY);
    if (hit === GuardHit.OWN) return this.reject(v, ImportReason.OWN_PREFIX);
    if (hit === GuardHit.CONNECTED) return this.reject(v, ImportReason.CONNECTED_SUBNET);
    if (len === 0 && !this.allowDefault) return this.reject(v, ImportReason.DEFAULT_ROUTE);

    let bits: Uint32Array;
    let base = 0;
    if (this.usesAttributes) {
      base = this.attrSlot(attrs, attrSetId) * this.words;
      bits = this.bits;
    } else {
      bits = this.alwaysBits;
    }
    const flags = this.flags;
    for (let w = 0; w < this.words; w++) {
      let b = bits[base + w]! | 0;
      while (b !== 0) {
        const low = b & -b;
        b ^= low;
        const r = (w << 5) + 31 - Math.clz32(low);
        if ((flags[r]! & F_PREFIX) !== 0) {
          const ok = afi === Afi.IPV4 ? this.prefixV4(r, a0, len) : this.prefixV6(r, a0, w1, w2, w3, len);
          if (!ok) continue;
        }
        v.reason = ImportReason.RULE;
        v.text = this.texts[r]!;
        v.ruleIndex = r;
        if (this.accept[r] === 1) {
          v.accepted = true;
          v.modId = this.mods[r] === undefined ? -1 : r;
        } else {
          v.accepted = false;
          v.modId = -1;
        }
        return v;
      }
    }
    v.accepted = this.defaultAccept;
    v.reason = ImportReason.DEFAULT_ACTION;
    v.text = IMPORT_REASON_TEXT[ImportReason.DEFAULT_ACTION];
    v.ruleIndex = -1;
    v.modId = -1;
    return v;
  }

  modification(modId: number): RuleModification {
    const m = this.mods[modId];
    if (m === undefined) throw new RangeError(`rule ${modId} has no modification`);
    return m;
  }

  applyModifications(attrs: PathAttributes, modId: number): PathAttributes {
    return modifyAttributes(attrs, this.modification(modId));
  }

  ruleName(index: number): string {
    const name = this.names[index];
    if (name === undefined) throw new RangeError(`no rule ${index}`);
    return name;
  }

  forget(attrSetId: number): void {
    if (attrSetId >= 0 && this.owners[attrSetId] !== undefined) {
      this.owners[attrSetId] = undefined;
      this.cachedSets--;
    }
  }

  private reject(v: Verdict, reason: ImportReason): Verdict {
    v.accepted = false;
    v.reason = reason;
    v.text = IMPORT_REASON_TEXT[reason];
    v.ruleIndex = -1;
    v.modId = -1;
    return v;
  }

  private prefixV4(r: number, a0: number, len: number): boolean {
    const end = this.p4.off[r + 1]!;
    for (let i = this.p4.off[r]!; i < end; i++) {
      if (len >= this.p4Lo[i]! && len <= this.p4Hi[i]! && (a0 & this.p4Mask[i]!) === this.p4Addr[i]) return true;
    }
    return false;
  }

  private prefixV6(r: number, w0: number, w1: number, w2: number, w3: number, len: number): boolean {
    const end = this.p6.off[r + 1]!;
    const a = this.p6Addr;
    const m = this.p6Mask;
    for (let i = this.p6.off[r]!; i < end; i++) {
      if (len < this.p6Lo[i]! || len > this.p6Hi[i]!) continue;
      const p = i * 4;
      if ((w0 & m[p]!) === a[p] && (w1 & m[p + 1]!) === a[p + 1] && (w2 & m[p + 2]!) === a[p + 2] && (w3 & m[p + 3]!) === a[p + 3]) {
        return true;
      }
    }
    return false;
  }

  /** Slot of the attribute mask for this set (computed on a miss). */
  private attrSlot(attrs: PathAttributes, id: number): number {
    if (id < 0) {
      this.computeBits(attrs, 0);
      return 0;
    }
    const slot = id + 1;
    if (this.owners[id] === attrs) return slot;
    if ((slot + 1) * this.words > this.bits.length) {
      let cap = this.bits.length / this.words;
      while (cap <= slot) cap *= 2;
      const next = new Uint32Array(cap * this.words);
      next.set(this.bits);
      this.bits = next;
    }
    if (this.owners[id] === undefined) this.cachedSets++;
    while (this.owners.length < id) this.owners.push(undefined);
    this.owners[id] = attrs;
    this.computeBits(attrs, slot);
    return slot;
  }

  private computeBits(attrs: PathAttributes, slot: number): void {
    const base = slot * this.words;
    this.bits.set(this.alwaysBits, base);
    // The origin segment, found once per attribute set.
    let originSeg: readonly number[] | undefined;
    let originIsSet = false;
    for (let s = attrs.asPath.length - 1; s >= 0; s--) {
      const seg = attrs.asPath[s]!;
      if ((seg.type === SegType.AS_SEQUENCE || seg.type === SegType.AS_SET) && seg.asns.length > 0) {
        originSeg = seg.asns;
        originIsSet = seg.type === SegType.AS_SET;
        break;
      }
    }
    for (let r = 0; r < this.ruleCount; r++) {
      const f = this.flags[r]!;
      if ((f & F_ATTR) === 0) continue;
      if ((f & F_COMM) !== 0 && !this.matchCommunities(r, attrs.communities)) continue;
      if ((f & F_LARGE) !== 0 && !this.matchLarge(r, attrs.largeCommunities)) continue;
      if ((f & F_CONTAINS) !== 0 && !this.matchContains(r, attrs)) continue;
      if ((f & F_ORIGIN) !== 0 && !this.matchOrigin(r, originSeg, originIsSet)) continue;
      const i = base + (r >>> 5);
      this.bits[i] = (this.bits[i]! | (1 << (r & 31))) >>> 0;
    }
  }

  private matchCommunities(r: number, c: Uint32Array | undefined): boolean {
    if (c === undefined) return false;
    const lo = this.comm.off[r]!;
    const hi = this.comm.off[r + 1]!;
    for (let i = 0; i < c.length; i++) if (hasSorted(this.commVal, lo, hi, c[i]!)) return true;
    return false;
  }

  private matchLarge(r: number, c: Uint32Array | undefined): boolean {
    if (c === undefined) return false;
    const lo = this.large.off[r]!;
    const hi = this.large.off[r + 1]!;
    const v = this.largeVal;
    for (let i = 0; i + 2 < c.length; i += 3) {
      for (let j = lo; j < hi; j += 3) {
        if (c[i] === v[j] && c[i + 1] === v[j + 1] && c[i + 2] === v[j + 2]) return true;
      }
    }
    return false;
  }

  private matchContains(r: number, attrs: PathAttributes): boolean {
    const lo = this.contains.off[r]!;
    const hi = this.contains.off[r + 1]!;
    for (const seg of attrs.asPath) {
      for (const asn of seg.asns) if (hasSorted(this.containsVal, lo, hi, asn >>> 0)) return true;
    }
    return false;
  }

  private matchOrigin(r: number, seg: readonly number[] | undefined, isSet: boolean): boolean {
    if (seg === undefined) return false;
    const lo = this.origin.off[r]!;
    const hi = this.origin.off[r + 1]!;
    if (!isSet) return hasSorted(this.originVal, lo, hi, seg[seg.length - 1]! >>> 0);
    for (const asn of seg) if (hasSorted(this.originVal, lo, hi, asn >>> 0)) return true;
    return false;
  }
}

/** The rule's `set` as a RuleModification, or undefined when it changes nothing. */
function ruleModification(rule: ImportRule): RuleModification | undefined {
  const s = rule.set;
  const mod: { localPref?: number; addCommunities?: readonly number[]; addLargeCommunities?: readonly number[] } = {};
  if (s.localPreference !== undefined) mod.localPref = s.localPreference >>> 0;
  if (s.addCommunities.length > 0) mod.addCommunities = [...new Set(s.addCommunities.map((c) => c >>> 0))];
  if (s.addLargeCommunities.length > 0) {
    const flat: number[] = [];
    for (const c of s.addLargeCommunities) {
      let dup = false;
      for (let j = 0; j < flat.length; j += 3) dup ||= flat[j] === c[0] >>> 0 && flat[j + 1] === c[1] >>> 0 && flat[j + 2] === c[2] >>> 0;
      if (!dup) flat.push(c[0] >>> 0, c[1] >>> 0, c[2] >>> 0);
    }
    mod.addLargeCommunities = flat;
  }
  return Object.keys(mod).length === 0 ? undefined : Object.freeze(mod);
}

/**
 * Compiles a peer's import policy (undefined = learn nothing). `guards` is shared and
 * read at every evaluation, so updating it needs no recompilation. Throws RangeError
 * on a prefix that does not parse (the config layer validated it already).
 */
export function compileImportPolicy(policy: ImportPolicy | undefined, guards: ImportGuards): ImportFilter {
  return new CompiledFilter(policy, guards);
}
