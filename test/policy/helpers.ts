// Builders for policy tests: config objects from short forms, routes from CIDR text.
import type { ImportPolicy, ImportRule, PolicyAction, PrefixMatch, RuleMatch, RuleSet, LargeCommunity } from '../../src/config/model.js';
import { parseCidr } from '../../src/config/net.js';
import { emptyAttributes, type PathAttributes } from '../../src/wire/attrs/types.js';

/** A PrefixMatch as the config schema builds it: ge alone = up to the max; le alone starts at the length. */
export function pm(cidr: string, ge?: number, le?: number): PrefixMatch {
  const c = parseCidr(cidr);
  if (c === undefined) throw new Error(`bad cidr ${cidr}`);
  const max = c.afi === 'ipv4' ? 32 : 128;
  const g = ge ?? c.length;
  const l = le ?? (ge !== undefined ? max : c.length);
  return { cidr, afi: c.afi, length: c.length, ge: g, le: l };
}

export interface RuleSpec {
  name?: string;
  action?: PolicyAction;
  prefixes?: PrefixMatch[];
  communities?: number[];
  large?: LargeCommunity[];
  contains?: number[];
  originatedBy?: number[];
  localPref?: number;
  addCommunities?: number[];
  addLarge?: LargeCommunity[];
}

export function rule(s: RuleSpec, i = 0): ImportRule {
  const match: RuleMatch = {
    prefixes: s.prefixes,
    communities: s.communities,
    largeCommunities: s.large,
    asPathContains: s.contains,
    asPathOriginatedBy: s.originatedBy,
  };
  const set: RuleSet = {
    localPreference: s.localPref,
    addCommunities: s.addCommunities ?? [],
    addLargeCommunities: s.addLarge ?? [],
  };
  return { name: s.name ?? `rule-${i}`, match, action: s.action ?? 'Accept', set };
}

export function policy(rules: RuleSpec[], defaultAction: PolicyAction = 'Reject', allowDefaultRoute = false): ImportPolicy {
  return { defaultAction, allowDefaultRoute, rules: rules.map((r, i) => rule(r, i)) };
}

export interface Route {
  afi: number;
  a0: number;
  w1: number;
  w2: number;
  w3: number;
  len: number;
}

/** CIDR text → the evaluate() arguments (host bits cleared, as the NLRI decoder does). */
export function route(cidr: string): Route {
  const c = parseCidr(cidr);
  if (c === undefined) throw new Error(`bad cidr ${cidr}`);
  const w: number[] = [];
  for (let i = 0; i < c.bytes.length; i += 4) {
    let x = ((c.bytes[i]! << 24) | (c.bytes[i + 1]! << 16) | (c.bytes[i + 2]! << 8) | c.bytes[i + 3]!) >>> 0;
    const bits = Math.max(0, Math.min(32, c.length - i * 8));
    x = bits === 0 ? 0 : bits === 32 ? x : (x & (0xffffffff << (32 - bits))) >>> 0;
    w.push(x);
  }
  return { afi: c.afi === 'ipv4' ? 1 : 2, a0: w[0]!, w1: w[1] ?? 0, w2: w[2] ?? 0, w3: w[3] ?? 0, len: c.length };
}

export interface AttrSpec {
  communities?: number[] | undefined;
  large?: number[][] | undefined;
  /** [segment type, asns] */
  path?: [1 | 2 | 3 | 4, number[]][];
}

export function attrs(s: AttrSpec = {}): PathAttributes {
  return {
    ...emptyAttributes(),
    origin: 0,
    asPath: (s.path ?? [[2, [65001]]]).map(([type, asns]) => ({ type, asns })),
    nextHop: Buffer.from([192, 0, 2, 1]),
    communities: s.communities === undefined ? undefined : Uint32Array.from(s.communities),
    largeCommunities: s.large === undefined ? undefined : Uint32Array.from(s.large.flat()),
  };
}

/** 65000:100 style. */
export const comm = (hi: number, lo: number): number => ((hi << 16) | lo) >>> 0;
