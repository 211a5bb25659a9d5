// BGP best-path selection (RFC 4271 §9.1.2.2, RFC 4456 §9, RFC 7911 path ids).
//
// Candidates are columns of a CandidateSet (struct of typed arrays, reused), so a
// selection allocates nothing. Each tie-breaker is its own function returning < 0
// when `a` is better, > 0 when `b` is, 0 on a tie; the steps run in this order and
// the first non-zero one names the reason:
//
//   0 next hop resolvable   unresolvable paths are not eligible at all (§9.1.2.1)
//   1 LOCAL_PREF            higher wins (eBGP paths: the policy-set value, else the default)
//   2 AS_PATH length        shorter wins; AS_SET counts 1, confederation segments 0
//   3 ORIGIN                IGP < EGP < INCOMPLETE
//   4 MED                   lower wins, only between paths from the same neighbour AS
//                           (unless alwaysCompareMed); a missing MED was mapped to 0
//                           (RFC 4271) or to the worst value by whoever filled the set
//   5 eBGP over iBGP
//   6 IGP metric            to the next hop; lower wins
//   7 BGP Identifier        lower wins; ORIGINATOR_ID stands in when present (RFC 4456)
//   8 CLUSTER_LIST length   shorter wins (RFC 4456 §9, between 7 and 9)
//   9 peer address          lower wins
//  10 path id               lower wins (ADD-PATH: several paths from one peer)
//
// Why MED needs care: "compare MED only within one neighbour AS" is not transitive
// (A beats B on MED, B beats C on router id, C beats A on router id), so a pairwise
// fold would depend on arrival order. We use deterministic MED: group the eligible
// paths by neighbour AS, pick the best of each group with every step (MED included;
// within a group this order is a plain lexicographic order, hence transitive), then
// pick the best among group winners (all from different ASes, so MED never applies:
// again lexicographic). This selects exactly what RFC 4271 §9.1.2.2's elimination
// procedure selects: the paths it removes in step (c) are those that lose on MED
// inside their group among the paths still tied on 1-3, and the later steps pick the
// best survivor, which is the best group winner. With alwaysCompareMed there is one group.
//
// Multipath (ECMP): paths that tie with the best through step 6 (MED compared as for
// the best: same neighbour AS, or alwaysCompareMed), come from the same neighbour AS
// as the best (unless multipathRelax), and have a next hop distinct from every path
// already chosen, ordered by the remaining steps, up to maxPaths including the best.

/** Decision steps, in order; also the reasons a path loses. */
export const Reason = {
  EQUAL: 0,
  NEXT_HOP_UNRESOLVABLE: 1,
  LOCAL_PREF: 2,
  AS_PATH_LENGTH: 3,
  ORIGIN: 4,
  MED: 5,
  EBGP_OVER_IBGP: 6,
  IGP_METRIC: 7,
  ROUTER_ID: 8,
  CLUSTER_LIST_LENGTH: 9,
  PEER_ADDRESS: 10,
  PATH_ID: 11,
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Stable names of the reasons, for the CLI and the API. */
export const REASON_NAMES = [
  'equal',
  'next-hop-unresolvable',
  'local-pref',
  'as-path-length',
  'origin',
  'med',
  'ebgp-over-ibgp',
  'igp-metric',
  'router-id',
  'cluster-list-length',
  'peer-address',
  'path-id',
] as const;
export type ReasonName = (typeof REASON_NAMES)[number];

export interface DecisionOptions {
  /** Compare MED between paths from different neighbour ASes too. Default false. */
  readonly alwaysCompareMed: boolean;
  /** Largest multipath set, best included. 1 = no ECMP (default). */
  readonly maxPaths: number;
  /** Multipath across different neighbour ASes (AS_PATH lengths must still tie). Default false. */
  readonly multipathRelax: boolean;
}

export const DEFAULT_DECISION: DecisionOptions = { alwaysCompareMed: false, maxPaths: 1, multipathRelax: false };

/** Candidate paths as columns; index i is candidate i. `handle` is the caller's name for it. */
export class CandidateSet {
  n = 0;
  handle: Int32Array;
  eligible: Uint8Array;
  localPref: Uint32Array;
  asPathLen: Uint32Array;
  origin: Uint8Array;
  /** Effective MED; Float64 so "missing as worst" can be 2^32, above every real MED. */
  med: Float64Array;
  neighborAs: Uint32Array;
  ebgp: Uint8Array;
  igpMetric: Uint32Array;
  routerId: Uint32Array;
  clusterLen: Uint32Array;
  /** Peer address as 4 words (IPv4 mapped), stride 4. */
  peerAddr: Uint32Array;
  pathId: Uint32Array;
  nextHop: Int32Array;

  /** Output of select: the multipath set (best first) and its size. */
  multi: Int32Array;
  multiCount = 0;
  /** Output of select with explain: why each candidate lost, and to which candidate (-1: none). */
  lostReason: Uint8Array;
  lostTo: Int32Array;

  /** @internal scratch for select */
  groupWinner: Int32Array;
  /** @internal */
  groupOf: Int32Array;
  /** @internal */
  order: Int32Array;

  constructor(capacity = 8) {
    const n = Math.max(2, capacity);
    this.handle = new Int32Array(n);
    this.eligible = new Uint8Array(n);
    this.localPref = new Uint32Array(n);
    this.asPathLen = new Uint32Array(n);
    this.origin = new Uint8Array(n);
    this.med = new Float64Array(n);
    this.neighborAs = new Uint32Array(n);
    this.ebgp = new Uint8Array(n);
    this.igpMetric = new Uint32Array(n);
    this.routerId = new Uint32Array(n);
    this.clusterLen = new Uint32Array(n);
    this.peerAddr = new Uint32Array(n * 4);
    this.pathId = new Uint32Array(n);
    this.nextHop = new Int32Array(n);
    this.multi = new Int32Array(n);
    this.lostReason = new Uint8Array(n);
    this.lostTo = new Int32Array(n);
    this.groupWinner = new Int32Array(n);
    this.groupOf = new Int32Array(n);
    this.order = new Int32Array(n);
  }

  get capacity(): number {
    return this.handle.length;
  }

  /** Makes room for `n` candidates (keeps the first `this.n`). */
  reserve(n: number): void {
    if (n <= this.handle.length) return;
    let cap = this.handle.length;
    while (cap < n) cap *= 2;
    const i32 = (a: Int32Array): Int32Array => {
      const x = new Int32Array(cap);
      x.set(a);
      return x;
    };
    const u32 = (a: Uint32Array, k = 1): Uint32Array => {
      const x = new Uint32Array(cap * k);
      x.set(a);
      return x;
    };
    const u8 = (a: Uint8Array): Uint8Array => {
      const x = new Uint8Array(cap);
      x.set(a);
      return x;
    };
    this.handle = i32(this.handle);
    this.eligible = u8(this.eligible);
    this.localPref = u32(this.localPref);
    this.asPathLen = u32(this.asPathLen);
    this.origin = u8(this.origin);
    const med = new Float64Array(cap);
    med.set(this.med);
    this.med = med;
    this.neighborAs = u32(this.neighborAs);
    this.ebgp = u8(this.ebgp);
    this.igpMetric = u32(this.igpMetric);
    this.routerId = u32(this.routerId);
    this.clusterLen = u32(this.clusterLen);
    this.peerAddr = u32(this.peerAddr, 4);
    this.pathId = u32(this.pathId);
    this.nextHop = i32(this.nextHop);
    this.multi = new Int32Array(cap);
    this.lostReason = new Uint8Array(cap);
    this.lostTo = new Int32Array(cap);
    this.groupWinner = new Int32Array(cap);
    this.groupOf = new Int32Array(cap);
    this.order = new Int32Array(cap);
  }

  clear(): void {
    this.n = 0;
    this.multiCount = 0;
  }

  /** Appends a candidate described by an object (tests, the CLI's "why"); returns its index. */
  add(p: PathInfo, handle = this.n): number {
    const i = this.n;
    this.reserve(i + 1);
    this.n = i + 1;
    this.handle[i] = handle;
    this.eligible[i] = p.resolvable === false ? 0 : 1;
    this.localPref[i] = p.localPref ?? 100;
    this.asPathLen[i] = p.asPathLength ?? 0;
    this.origin[i] = p.origin ?? 0;
    this.med[i] = p.med ?? 0;
    this.neighborAs[i] = p.neighborAs ?? 0;
    this.ebgp[i] = p.ebgp === true ? 1 : 0;
    this.igpMetric[i] = p.igpMetric ?? 0;
    this.routerId[i] = p.routerId ?? 0;
    this.clusterLen[i] = p.clusterListLength ?? 0;
    const a = p.peerAddress ?? new Uint8Array(4);
    const o = i * 4;
    const word = (k: number): number => ((a[k]! << 24) | (a[k + 1]! << 16) | (a[k + 2]! << 8) | a[k + 3]!) >>> 0;
    if (a.length === 4) {
      this.peerAddr[o] = 0;
      this.peerAddr[o + 1] = 0;
      this.peerAddr[o + 2] = 0xffff;
      this.peerAddr[o + 3] = word(0);
    } else {
      for (let k = 0; k < 4; k++) this.peerAddr[o + k] = word(k * 4);
    }
    this.pathId[i] = p.pathId ?? 0;
    this.nextHop[i] = p.nextHop ?? 0;
    return i;
  }
}

/** A path for the object API (tests, CLI). Omitted fields take the neutral value. */
export interface PathInfo {
  /** Default true. */
  readonly resolvable?: boolean;
  /** Effective LOCAL_PREF; default 100. */
  readonly localPref?: number;
  readonly asPathLength?: number;
  readonly origin?: 0 | 1 | 2;
  /** Effective MED (missing already mapped); default 0. */
  readonly med?: number;
  readonly neighborAs?: number;
  readonly ebgp?: boolean;
  readonly igpMetric?: number;
  /** BGP Identifier of the peer, or the ORIGINATOR_ID when the path has one. */
  readonly routerId?: number;
  readonly clusterListLength?: number;
  /** 4 or 16 bytes. */
  readonly peerAddress?: Uint8Array;
  readonly pathId?: number;
  /** Next hop id (equal ids = same next hop). Default 0. */
  readonly nextHop?: number;
}

// ---- The tie-breakers: < 0 means a is better, > 0 means b is better. ----

export function byNextHopResolvable(s: CandidateSet, a: number, b: number): number {
  return s.eligible[b]! - s.eligible[a]!;
}

export function byLocalPref(s: CandidateSet, a: number, b: number): number {
  return s.localPref[b]! - s.localPref[a]!;
}

export function byAsPathLength(s: CandidateSet, a: number, b: number): number {
  return s.asPathLen[a]! - s.asPathLen[b]!;
}

export function byOrigin(s: CandidateSet, a: number, b: number): number {
  return s.origin[a]! - s.origin[b]!;
}

/** 0 when the MEDs are not comparable (different neighbour AS and not alwaysCompareMed). */
export function byMed(s: CandidateSet, a: number, b: number, alwaysCompareMed: boolean): number {
  if (!alwaysCompareMed && s.neighborAs[a] !== s.neighborAs[b]) return 0;
  return s.med[a]! - s.med[b]!;
}

export function byEbgp(s: CandidateSet, a: number, b: number): number {
  return s.ebgp[b]! - s.ebgp[a]!;
}

export function byIgpMetric(s: CandidateSet, a: number, b: number): number {
  return s.igpMetric[a]! - s.igpMetric[b]!;
}

export function byRouterId(s: CandidateSet, a: number, b: number): number {
  return s.routerId[a]! - s.routerId[b]!;
}

export function byClusterListLength(s: CandidateSet, a: number, b: number): number {
  return s.clusterLen[a]! - s.clusterLen[b]!;
}

export function byPeerAddress(s: CandidateSet, a: number, b: number): number {
  const w = s.peerAddr;
  const oa = a * 4;
  const ob = b * 4;
  for (let k = 0; k < 4; k++) {
    const d = w[oa + k]! - w[ob + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

export function byPathId(s: CandidateSet, a: number, b: number): number {
  return s.pathId[a]! - s.pathId[b]!;
}

/**
 * Compares candidates a and b through step `last` (a Reason; PATH_ID = every step).
 * Returns 0 on a tie, -r when a wins by reason r, +r when b wins by reason r.
 */
export function compareAt(s: CandidateSet, a: number, b: number, alwaysCompareMed: boolean, last: number = Reason.PATH_ID): number {
  let d = byNextHopResolvable(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.NEXT_HOP_UNRESOLVABLE : Reason.NEXT_HOP_UNRESOLVABLE;
  d = byLocalPref(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.LOCAL_PREF : Reason.LOCAL_PREF;
  d = byAsPathLength(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.AS_PATH_LENGTH : Reason.AS_PATH_LENGTH;
  d = byOrigin(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.ORIGIN : Reason.ORIGIN;
  d = byMed(s, a, b, alwaysCompareMed);
  if (d !== 0) return d < 0 ? -Reason.MED : Reason.MED;
  d = byEbgp(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.EBGP_OVER_IBGP : Reason.EBGP_OVER_IBGP;
  d = byIgpMetric(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.IGP_METRIC : Reason.IGP_METRIC;
  if (last <= Reason.IGP_METRIC) return 0;
  d = byRouterId(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.ROUTER_ID : Reason.ROUTER_ID;
  d = byClusterListLength(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.CLUSTER_LIST_LENGTH : Reason.CLUSTER_LIST_LENGTH;
  d = byPeerAddress(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.PEER_ADDRESS : Reason.PEER_ADDRESS;
  d = byPathId(s, a, b);
  if (d !== 0) return d < 0 ? -Reason.PATH_ID : Reason.PATH_ID;
  return 0;
}

/**
 * Selects the best candidate (returns its index, -1 when none is eligible) and fills
 * `s.multi[0..s.multiCount)` with the multipath set, best first. With `explain`, fills
 * `s.lostReason` / `s.lostTo` for every candidate (Reason.EQUAL / -1 for the best).
 */
export function select(s: CandidateSet, opts: DecisionOptions, explain = false): number {
  const n = s.n;
  const acm = opts.alwaysCompareMed;
  const gw = s.groupWinner;
  const gof = s.groupOf;
  let groups = 0;
  s.multiCount = 0;
  // Best of each neighbour-AS group (one group with alwaysCompareMed).
  for (let i = 0; i < n; i++) {
    gof[i] = -1;
    if (s.eligible[i] === 0) continue;
    let g = 0;
    if (acm) g = groups === 0 ? -1 : 0;
    else {
      const as = s.neighborAs[i];
      while (g < groups && s.neighborAs[gw[g]!] !== as) g++;
      if (g === groups) g = -1;
    }
    if (g < 0) {
      g = groups++;
      gw[g] = i;
    } else if (compareAt(s, i, gw[g]!, acm) < 0) gw[g] = i;
    gof[i] = g;
  }
  let best = -1;
  for (let g = 0; g < groups; g++) {
    const w = gw[g]!;
    if (best < 0 || compareAt(s, w, best, acm) < 0) best = w;
  }
  if (explain) {
    for (let i = 0; i < n; i++) {
      if (i === best) {
        s.lostReason[i] = Reason.EQUAL;
        s.lostTo[i] = -1;
      } else if (gof[i]! < 0) {
        s.lostReason[i] = Reason.NEXT_HOP_UNRESOLVABLE;
        s.lostTo[i] = -1;
      } else {
        const w = gw[gof[i]!]!;
        const to = w !== i ? w : best;
        s.lostReason[i] = Math.abs(compareAt(s, i, to, acm));
        s.lostTo[i] = to;
      }
    }
  }
  if (best < 0) return -1;
  s.multi[0] = best;
  s.multiCount = 1;
  if (opts.maxPaths > 1) selectMultipath(s, best, opts);
  return best;
}

function selectMultipath(s: CandidateSet, best: number, opts: DecisionOptions): void {
  const order = s.order;
  const acm = opts.alwaysCompareMed;
  let m = 0;
  for (let i = 0; i < s.n; i++) {
    if (i === best || s.eligible[i] === 0) continue;
    if (!opts.multipathRelax && s.neighborAs[i] !== s.neighborAs[best]) continue;
    if (compareAt(s, i, best, acm, Reason.IGP_METRIC) !== 0) continue;
    // Insertion sort by the remaining steps (stable, small n).
    let j = m++;
    while (j > 0 && compareAt(s, i, order[j - 1]!, acm) < 0) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
  }
  for (let k = 0; k < m && s.multiCount < opts.maxPaths; k++) {
    const c = order[k]!;
    const nh = s.nextHop[c];
    let dup = false;
    for (let q = 0; q < s.multiCount; q++) if (s.nextHop[s.multi[q]!] === nh) dup = true;
    if (!dup) s.multi[s.multiCount++] = c;
  }
}

// ---- Object API for tests, the CLI and the API ("why is this the best path?"). ----

export interface CompareResult {
  /** 0: a wins, 1: b wins, -1: identical. */
  readonly winner: 0 | 1 | -1;
  readonly reason: ReasonName;
}

/** Compares two paths (MED only when from the same neighbour AS, unless alwaysCompareMed). */
export function compare(a: PathInfo, b: PathInfo, opts: Partial<DecisionOptions> = {}): CompareResult {
  const s = new CandidateSet(2);
  s.add(a);
  s.add(b);
  const r = compareAt(s, 0, 1, opts.alwaysCompareMed ?? false);
  return { winner: r === 0 ? -1 : r < 0 ? 0 : 1, reason: REASON_NAMES[Math.abs(r)]! };
}

export interface SelectResult {
  /** Index of the best path in the input, -1 when none is eligible. */
  readonly best: number;
  /** Indexes of the multipath set, best first (just [best] without ECMP; [] when none). */
  readonly multipath: number[];
  /** Per input path: 'best', 'multipath', or the name of the step it lost on. */
  readonly reasons: string[];
  /** Per input path: the index of the path it lost to (-1 for best/multipath/unresolvable). */
  readonly lostTo: number[];
}

export function selectBest(paths: readonly PathInfo[], opts: Partial<DecisionOptions> = {}): SelectResult {
  const o: DecisionOptions = { ...DEFAULT_DECISION, ...opts };
  const s = new CandidateSet(paths.length);
  for (const p of paths) s.add(p);
  const best = select(s, o, true);
  const multipath = Array.from(s.multi.subarray(0, s.multiCount));
  const reasons: string[] = [];
  const lostTo: number[] = [];
  for (let i = 0; i < paths.length; i++) {
    if (i === best) {
      reasons.push('best');
      lostTo.push(-1);
    } else if (multipath.includes(i)) {
      reasons.push('multipath');
      lostTo.push(-1);
    } else {
      reasons.push(REASON_NAMES[s.lostReason[i]!]!);
      lostTo.push(s.lostTo[i]!);
    }
  }
  return { best, multipath, reasons, lostTo };
}
