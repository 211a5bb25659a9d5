// Property: the compiled filter agrees with a naive reference written from the rule
// semantics, working on prefixes as bit strings and on plain arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ImportPolicy, LargeCommunity } from '../../src/config/model.js';
import { parseCidr } from '../../src/config/net.js';
import type { PathAttributes } from '../../src/wire/attrs/types.js';
import { ImportGuards } from '../../src/policy/guards.js';
import { compileImportPolicy } from '../../src/policy/import.js';
import { attrs, pm, policy, route, type RuleSpec } from './helpers.js';

// ---- Reference ----

function bitString(cidr: string): { afi: string; bits: string } {
  const c = parseCidr(cidr)!;
  const all = [...c.bytes].map((b) => b.toString(2).padStart(8, '0')).join('');
  return { afi: c.afi, bits: all.slice(0, c.length) };
}

/** `inner` equal to or inside `outer`. */
function inside(inner: string, outer: string): boolean {
  const i = bitString(inner);
  const o = bitString(outer);
  return i.afi === o.afi && i.bits.startsWith(o.bits);
}

function refEvaluate(p: ImportPolicy | undefined, own: string[], connected: string[], cidr: string, a: PathAttributes): string {
  if (p === undefined) return 'R:no-import-policy';
  if (own.some((o) => inside(cidr, o))) return 'R:own-prefix';
  if (connected.some((o) => inside(cidr, o))) return 'R:connected-subnet';
  const len = bitString(cidr).bits.length;
  if (len === 0 && !p.allowDefaultRoute) return 'R:default-route';
  const comms = a.communities === undefined ? [] : [...a.communities];
  const large: string[] = [];
  for (let i = 0; a.largeCommunities !== undefined && i < a.largeCommunities.length; i += 3) {
    large.push(`${a.largeCommunities[i]}:${a.largeCommunities[i + 1]}:${a.largeCommunities[i + 2]}`);
  }
  const allAsns = a.asPath.flatMap((s) => s.asns);
  const real = a.asPath.filter((s) => (s.type === 1 || s.type === 2) && s.asns.length > 0);
  const last = real[real.length - 1];
  const origins = last === undefined ? [] : last.type === 1 ? [...last.asns] : [last.asns[last.asns.length - 1]!];
  for (const r of p.rules) {
    const m = r.match;
    const ok =
      (m.prefixes === undefined || m.prefixes.some((e) => inside(cidr, e.cidr) && len >= e.ge && len <= e.le)) &&
      (m.communities === undefined || m.communities.some((c) => comms.includes(c))) &&
      (m.largeCommunities === undefined || m.largeCommunities.some((c) => large.includes(c.join(':')))) &&
      (m.asPathContains === undefined || m.asPathContains.some((x) => allAsns.includes(x))) &&
      (m.asPathOriginatedBy === undefined || m.asPathOriginatedBy.some((x) => origins.includes(x)));
    if (ok) return `${r.action === 'Accept' ? 'A' : 'R'}:rule:${r.name}`;
  }
  return `${p.defaultAction === 'Accept' ? 'A' : 'R'}:default-action`;
}

// ---- Generators (small value pools so that matches happen) ----

const V4_BASES = [0x0a000000, 0x0a010000, 0x0a010200, 0xc0a80000, 0xac100000, 0, 0xffffffff];
const V6_W0 = [0x20010db8, 0xfd000000, 0, 0xffffffff];
const V6_W = [0, 1, 0x10000, 0x80000000, 0xffffffff];

function v4Text(addr: number, len: number): string {
  const a = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${len}`;
}

function v6Text(words: number[], len: number): string {
  const groups: string[] = [];
  words.forEach((w, i) => {
    const bits = Math.max(0, Math.min(32, len - 32 * i));
    const m = bits === 0 ? 0 : (w & (0xffffffff << (32 - bits))) >>> 0;
    groups.push((m >>> 16).toString(16), (m & 0xffff).toString(16));
  });
  return `${groups.join(':')}/${len}`;
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const v4Prefix = fc.tuple(fc.oneof(fc.constantFrom(...V4_BASES), u32), fc.integer({ min: 0, max: 32 })).map(([a, l]) => v4Text(a, l));
const v6Word = fc.oneof(fc.constantFrom(...V6_W), u32);
const v6Prefix = fc
  .tuple(fc.oneof(fc.constantFrom(...V6_W0), u32), v6Word, v6Word, v6Word, fc.integer({ min: 0, max: 128 }))
  .map(([w0, w1, w2, w3, l]) => v6Text([w0, w1, w2, w3], l));
const anyPrefix = fc.oneof({ weight: 3, arbitrary: v4Prefix }, { weight: 1, arbitrary: v6Prefix });

const prefixEntry = anyPrefix.chain((cidr) => {
  const c = parseCidr(cidr)!;
  const max = c.afi === 'ipv4' ? 32 : 128;
  return fc
    .tuple(fc.integer({ min: c.length, max }), fc.integer({ min: 0, max }))
    .map(([ge, extra]) => pm(cidr, ge, Math.min(max, ge + (extra % 9))));
});

const COMMS = [1, 2, 3, 0xffffff01];
const LARGE: LargeCommunity[] = [
  [65000, 1, 1],
  [65000, 1, 2],
  [4200000000, 0, 7],
];
const ASNS = [1, 2, 3, 4, 5];

const someOf = <T>(pool: readonly T[]) => fc.subarray([...pool], { minLength: 1 });

const ruleSpec: fc.Arbitrary<RuleSpec> = fc.record(
  {
    action: fc.constantFrom('Accept' as const, 'Reject' as const),
    prefixes: fc.array(prefixEntry, { minLength: 1, maxLength: 3 }),
    communities: someOf(COMMS),
    large: someOf(LARGE),
    contains: someOf(ASNS),
    originatedBy: someOf(ASNS),
    localPref: fc.integer({ min: 0, max: 1000 }),
  },
  { requiredKeys: ['action'] },
);

const attrSpec = fc.record({
  communities: fc.option(fc.subarray(COMMS), { nil: undefined }),
  large: fc.option(fc.subarray(LARGE).map((l) => l.map((c) => [...c])), { nil: undefined }),
  path: fc.array(fc.tuple(fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const), fc.array(fc.constantFrom(...ASNS), { minLength: 1, maxLength: 4 })), {
    maxLength: 3,
  }),
});

test('evaluate agrees with a naive reference', () => {
  fc.assert(
    fc.property(
      fc.option(
        fc.record({
          rules: fc.array(ruleSpec, { maxLength: 6 }),
          defaultAction: fc.constantFrom('Accept' as const, 'Reject' as const),
          allowDefault: fc.boolean(),
        }),
        { nil: undefined, freq: 10 },
      ),
      fc.array(anyPrefix, { maxLength: 2 }),
      fc.array(anyPrefix, { maxLength: 2 }),
      fc.array(attrSpec, { minLength: 1, maxLength: 4 }),
      fc.array(fc.tuple(anyPrefix, fc.nat()), { minLength: 1, maxLength: 12 }),
      (spec, own, connected, attrSpecs, routes) => {
        const p = spec === undefined ? undefined : policy(spec.rules.map((r, i) => ({ ...r, name: `r${i}` })), spec.defaultAction, spec.allowDefault);
        const f = compileImportPolicy(p, new ImportGuards(own, connected));
        // One PathAttributes per id, as the RIB's interned sets: exercises the cache.
        const sets = attrSpecs.map((s) => attrs(s));
        for (const [cidr, k] of routes) {
          const id = k % sets.length;
          const a = sets[id]!;
          const r = route(cidr);
          const v = f.evaluate(r.afi, r.a0, r.w1, r.w2, r.w3, r.len, a, id);
          const want = refEvaluate(p, own, connected, cidr, a);
          assert.equal(`${v.accepted ? 'A' : 'R'}:${v.text}`, want, cidr);
          const rule = v.ruleIndex >= 0 ? p!.rules[v.ruleIndex]! : undefined;
          const modifies = rule !== undefined && rule.action === 'Accept' && rule.set.localPreference !== undefined;
          assert.equal(v.modId, modifies ? v.ruleIndex : -1);
        }
      },
    ),
    { numRuns: 400 },
  );
});
