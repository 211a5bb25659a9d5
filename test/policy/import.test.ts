import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImportPolicy } from '../../src/config/model.js';
import type { PathAttributes } from '../../src/wire/attrs/types.js';
import { ImportGuards } from '../../src/policy/guards.js';
import { compileImportPolicy, ImportReason, type ImportFilter } from '../../src/policy/import.js';
import { attrs, comm, pm, policy, route, type AttrSpec, type RuleSpec } from './helpers.js';

const NO_EXPORT = 0xffffff01;

function guards(): ImportGuards {
  return new ImportGuards(['10.244.1.0/24', '203.0.113.7/32', 'fd00:244:1::/64'], ['192.168.10.5/24', '2001:db8:10::1/64']);
}

function run(f: ImportFilter, cidr: string, a: PathAttributes = attrs(), id = -1): { accepted: boolean; text: string; modId: number } {
  const r = route(cidr);
  const v = f.evaluate(r.afi, r.a0, r.w1, r.w2, r.w3, r.len, a, id);
  return { accepted: v.accepted, text: v.text, modId: v.modId };
}

interface Case {
  rules: RuleSpec[];
  defaultAction?: 'Accept' | 'Reject';
  allowDefault?: boolean;
  /** [route, attributes, expected: 'A:<text>' accepted or 'R:<text>' rejected] */
  rows: [string, AttrSpec, string][];
}

// Expected verdicts worked out by hand from the rule semantics in import.ts.
const CASES: Record<string, Case> = {
  'exact prefix': {
    rules: [{ prefixes: [pm('172.16.0.0/16')] }],
    rows: [
      ['172.16.0.0/16', {}, 'A:rule:rule-0'],
      ['172.16.1.0/24', {}, 'R:default-action'],
      ['172.17.0.0/16', {}, 'R:default-action'],
      ['172.0.0.0/8', {}, 'R:default-action'],
    ],
  },
  'ge/le edges': {
    rules: [{ prefixes: [pm('172.16.0.0/12', 20, 24)] }],
    rows: [
      ['172.16.0.0/12', {}, 'R:default-action'],
      ['172.16.0.0/19', {}, 'R:default-action'],
      ['172.16.0.0/20', {}, 'A:rule:rule-0'],
      ['172.31.255.0/24', {}, 'A:rule:rule-0'],
      ['172.31.255.128/25', {}, 'R:default-action'],
      ['172.32.0.0/20', {}, 'R:default-action'],
      ['172.15.255.0/24', {}, 'R:default-action'],
    ],
  },
  'ge alone reaches /32': {
    rules: [{ prefixes: [pm('10.0.0.0/8', 16)] }],
    rows: [
      ['10.0.0.0/8', {}, 'R:default-action'],
      ['10.0.0.0/15', {}, 'R:default-action'],
      ['10.1.0.0/16', {}, 'A:rule:rule-0'],
      ['10.1.2.3/32', {}, 'A:rule:rule-0'],
      ['11.1.2.3/32', {}, 'R:default-action'],
    ],
  },
  'le alone starts at the length': {
    rules: [{ prefixes: [pm('10.0.0.0/8', undefined, 16)] }],
    rows: [
      ['10.0.0.0/8', {}, 'A:rule:rule-0'],
      ['10.5.0.0/16', {}, 'A:rule:rule-0'],
      ['10.5.5.0/24', {}, 'R:default-action'],
    ],
  },
  'any of several prefix entries': {
    rules: [{ prefixes: [pm('10.0.0.0/8'), pm('192.0.2.0/24', 24, 32), pm('2001:db8::/32', 32, 48)] }],
    rows: [
      ['10.0.0.0/8', {}, 'A:rule:rule-0'],
      ['192.0.2.128/25', {}, 'A:rule:rule-0'],
      ['2001:db8:ff::/48', {}, 'A:rule:rule-0'],
      ['10.0.0.0/9', {}, 'R:default-action'],
    ],
  },
  'IPv6 prefixes across word boundaries': {
    rules: [{ prefixes: [pm('2001:db8::/32', 48, 64)] }, { prefixes: [pm('2001:db8:0:0:1::/80')] }, { prefixes: [pm('2001:db8:aaaa:bbbb:cccc:dddd:eeee:ff00/120', 120, 128)] }],
    rows: [
      ['2001:db8:1::/48', {}, 'A:rule:rule-0'],
      ['2001:db8:1:2::/64', {}, 'A:rule:rule-0'],
      ['2001:db8:1:2:8000::/65', {}, 'R:default-action'],
      ['2001:db9::/48', {}, 'R:default-action'],
      ['2001:db8::1:0:0:0/80', {}, 'A:rule:rule-1'],
      ['2001:db8::2:0:0:0/80', {}, 'R:default-action'],
      ['2001:db8::1:0:0:0/81', {}, 'R:default-action'],
      ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:ff42/128', {}, 'A:rule:rule-2'],
      ['2001:db8:aaaa:bbbb:cccc:dddd:eeee:fe42/128', {}, 'R:default-action'],
      ['2001:db8:aaaa:bbbb:cccc:dddd:eeef:ff42/128', {}, 'R:default-action'],
      // An IPv4 route never matches IPv6 entries.
      ['32.1.13.184/32', {}, 'R:default-action'],
    ],
  },
  'standard communities': {
    rules: [{ communities: [comm(65000, 100), NO_EXPORT] }],
    rows: [
      ['10.0.0.0/8', { communities: [comm(65000, 1), comm(65000, 100)] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { communities: [NO_EXPORT] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { communities: [comm(65000, 101)] }, 'R:default-action'],
      ['10.0.0.0/8', { communities: [] }, 'R:default-action'],
      ['10.0.0.0/8', {}, 'R:default-action'],
    ],
  },
  'large communities': {
    rules: [{ large: [[65000, 1, 2]] }],
    rows: [
      ['10.0.0.0/8', { large: [[65000, 1, 3], [65000, 1, 2]] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { large: [[65000, 2, 1]] }, 'R:default-action'],
      ['10.0.0.0/8', { large: [[1, 65000, 2]] }, 'R:default-action'],
      ['10.0.0.0/8', {}, 'R:default-action'],
    ],
  },
  'AS path contains': {
    rules: [{ contains: [3356] }],
    rows: [
      ['10.0.0.0/8', { path: [[2, [65001, 3356, 15169]]] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { path: [[2, [65001]], [1, [174, 3356]]] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { path: [[3, [3356]], [2, [65001]]] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { path: [[2, [65001, 174]]] }, 'R:default-action'],
      ['10.0.0.0/8', { path: [] }, 'R:default-action'],
    ],
  },
  'AS path originated by': {
    rules: [{ originatedBy: [15169] }],
    rows: [
      ['10.0.0.0/8', { path: [[2, [65001, 3356, 15169]]] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { path: [[2, [15169, 3356]]] }, 'R:default-action'],
      // Ends in an AS_SET: any ASN of the set is the origin.
      ['10.0.0.0/8', { path: [[2, [65001]], [1, [174, 15169]]] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { path: [[2, [15169]], [1, [174]]] }, 'R:default-action'],
      // Confederation segments are skipped when finding the origin.
      ['10.0.0.0/8', { path: [[2, [65001, 15169]], [3, [64512]]] }, 'A:rule:rule-0'],
      ['10.0.0.0/8', { path: [[3, [15169]]] }, 'R:default-action'],
      ['10.0.0.0/8', { path: [] }, 'R:default-action'],
    ],
  },
  'all conditions must hold': {
    rules: [{ prefixes: [pm('10.0.0.0/8', 8, 24)], communities: [comm(65000, 1)], contains: [3356], originatedBy: [64999], large: [[1, 2, 3]] }],
    rows: [
      ['10.1.0.0/16', { communities: [comm(65000, 1)], large: [[1, 2, 3]], path: [[2, [3356, 64999]]] }, 'A:rule:rule-0'],
      ['10.1.1.1/32', { communities: [comm(65000, 1)], large: [[1, 2, 3]], path: [[2, [3356, 64999]]] }, 'R:default-action'],
      ['10.1.0.0/16', { large: [[1, 2, 3]], path: [[2, [3356, 64999]]] }, 'R:default-action'],
      ['10.1.0.0/16', { communities: [comm(65000, 1)], path: [[2, [3356, 64999]]] }, 'R:default-action'],
      ['10.1.0.0/16', { communities: [comm(65000, 1)], large: [[1, 2, 3]], path: [[2, [174, 64999]]] }, 'R:default-action'],
      ['10.1.0.0/16', { communities: [comm(65000, 1)], large: [[1, 2, 3]], path: [[2, [64999, 3356]]] }, 'R:default-action'],
    ],
  },
  'first match decides': {
    rules: [
      { name: 'block-lab', action: 'Reject', prefixes: [pm('10.1.0.0/16', 16, 32)] },
      { name: 'allow-10', prefixes: [pm('10.0.0.0/8', 8, 32)] },
      { name: 'never-reached', action: 'Reject', prefixes: [pm('10.2.0.0/16')] },
    ],
    rows: [
      ['10.1.2.0/24', {}, 'R:rule:block-lab'],
      ['10.2.0.0/16', {}, 'A:rule:allow-10'],
      ['11.0.0.0/8', {}, 'R:default-action'],
    ],
  },
  'order reversed': {
    rules: [
      { name: 'allow-10', prefixes: [pm('10.0.0.0/8', 8, 32)] },
      { name: 'block-lab', action: 'Reject', prefixes: [pm('10.1.0.0/16', 16, 32)] },
    ],
    rows: [['10.1.2.0/24', {}, 'A:rule:allow-10']],
  },
  'defaultAction Accept': {
    rules: [{ name: 'no-lab', action: 'Reject', prefixes: [pm('10.1.0.0/16', 16, 32)] }],
    defaultAction: 'Accept',
    rows: [
      ['10.1.0.0/24', {}, 'R:rule:no-lab'],
      ['10.2.0.0/24', {}, 'A:default-action'],
      ['2001:db8::/32', {}, 'A:default-action'],
    ],
  },
  'no rules, defaultAction Reject': {
    rules: [],
    rows: [['10.2.0.0/24', {}, 'R:default-action']],
  },
  'a rule without conditions matches everything': {
    rules: [{ name: 'all', localPref: 50 }],
    rows: [
      ['10.2.0.0/24', {}, 'A:rule:all'],
      ['2001:db8::/32', { communities: [1] }, 'A:rule:all'],
    ],
  },
  'default route rejected unless allowed': {
    rules: [{ name: 'any', prefixes: [pm('0.0.0.0/0', 0, 32), pm('::/0', 0, 128)] }],
    rows: [
      ['0.0.0.0/0', {}, 'R:default-route'],
      ['::/0', {}, 'R:default-route'],
      ['0.0.0.0/1', {}, 'A:rule:any'],
      ['::/1', {}, 'A:rule:any'],
    ],
  },
  'default route allowed': {
    rules: [{ name: 'any', prefixes: [pm('0.0.0.0/0', 0, 32), pm('::/0', 0, 128)] }],
    allowDefault: true,
    rows: [
      ['0.0.0.0/0', {}, 'A:rule:any'],
      ['::/0', {}, 'A:rule:any'],
    ],
  },
  'default route allowed reaches defaultAction': {
    rules: [],
    defaultAction: 'Accept',
    allowDefault: true,
    rows: [['0.0.0.0/0', {}, 'A:default-action']],
  },
  'guards beat an Accept rule': {
    rules: [{ name: 'everything' }],
    defaultAction: 'Accept',
    allowDefault: true,
    rows: [
      ['10.244.1.0/24', {}, 'R:own-prefix'],
      ['10.244.1.128/25', {}, 'R:own-prefix'],
      ['10.244.0.0/16', {}, 'A:rule:everything'],
      ['10.244.2.0/24', {}, 'A:rule:everything'],
      ['203.0.113.7/32', {}, 'R:own-prefix'],
      ['203.0.113.6/32', {}, 'A:rule:everything'],
      ['203.0.113.0/24', {}, 'A:rule:everything'],
      ['192.168.10.0/24', {}, 'R:connected-subnet'],
      ['192.168.10.64/26', {}, 'R:connected-subnet'],
      ['192.168.10.5/32', {}, 'R:connected-subnet'],
      ['192.168.0.0/16', {}, 'A:rule:everything'],
      ['192.168.11.0/24', {}, 'A:rule:everything'],
      ['fd00:244:1::/64', {}, 'R:own-prefix'],
      ['fd00:244:1:0:1::/80', {}, 'R:own-prefix'],
      ['fd00:244:1:1::/64', {}, 'A:rule:everything'],
      ['2001:db8:10::/64', {}, 'R:connected-subnet'],
      ['2001:db8:10::1/128', {}, 'R:connected-subnet'],
      ['2001:db8:10::/48', {}, 'A:rule:everything'],
      ['0.0.0.0/0', {}, 'A:rule:everything'],
    ],
  },
};

for (const [name, c] of Object.entries(CASES)) {
  test(`import policy: ${name}`, () => {
    const f = compileImportPolicy(policy(c.rules, c.defaultAction ?? 'Reject', c.allowDefault ?? false), guards());
    for (const [cidr, a, want] of c.rows) {
      const got = run(f, cidr, attrs(a));
      assert.equal(`${got.accepted ? 'A' : 'R'}:${got.text}`, want, `${cidr} ${JSON.stringify(a)}`);
    }
  });
}

test('no importPolicy rejects everything', () => {
  const f = compileImportPolicy(undefined, new ImportGuards());
  assert.equal(f.present, false);
  for (const cidr of ['10.0.0.0/8', '2001:db8::/32', '0.0.0.0/0']) {
    const r = route(cidr);
    const v = f.evaluate(r.afi, r.a0, r.w1, r.w2, r.w3, r.len, attrs(), 1);
    assert.equal(v.accepted, false);
    assert.equal(v.reason, ImportReason.NO_POLICY);
    assert.equal(v.text, 'no-import-policy');
  }
});

test('an unknown AFI is rejected', () => {
  const f = compileImportPolicy(policy([], 'Accept'), new ImportGuards());
  const v = f.evaluate(25, 0, 0, 0, 0, 8, attrs(), -1);
  assert.equal(v.accepted, false);
  assert.equal(v.text, 'unsupported-family');
});

test('guards are read at evaluation time: updating them needs no recompile', () => {
  const g = new ImportGuards();
  const f = compileImportPolicy(policy([], 'Accept'), g);
  assert.equal(run(f, '10.9.0.0/16').accepted, true);
  const v0 = g.version;
  g.setConnected([{ afi: 'ipv4', bytes: Uint8Array.of(10, 9, 3, 4), length: 16 }]);
  assert.equal(g.version, v0 + 1);
  assert.equal(run(f, '10.9.0.0/16').text, 'connected-subnet');
  g.setConnected([]);
  g.setOwn(['10.9.0.0/20']);
  assert.equal(run(f, '10.9.0.0/16').accepted, true);
  assert.equal(run(f, '10.9.0.0/24').text, 'own-prefix');
  assert.throws(() => g.setOwn(['10.9.0.0/33']), RangeError);
});

test('set actions: modification id and modified attributes', () => {
  const f = compileImportPolicy(
    policy([
      { name: 'reject', action: 'Reject', prefixes: [pm('10.66.0.0/16')] },
      { name: 'plain', prefixes: [pm('10.77.0.0/16')] },
      {
        name: 'tag',
        prefixes: [pm('10.0.0.0/8', 8, 32)],
        localPref: 200,
        addCommunities: [comm(65000, 300), comm(65000, 100), comm(65000, 300)],
        addLarge: [[65000, 9, 9], [65000, 1, 1]],
      },
    ]),
    new ImportGuards(),
  );
  assert.equal(run(f, '10.66.0.0/16').modId, -1);
  assert.equal(run(f, '10.77.0.0/16').modId, -1);
  const v = run(f, '10.88.0.0/16');
  assert.deepEqual(v, { accepted: true, text: 'rule:tag', modId: 2 });
  assert.deepEqual(f.modification(2), {
    localPref: 200,
    addCommunities: [comm(65000, 300), comm(65000, 100)],
    addLargeCommunities: [65000, 9, 9, 65000, 1, 1],
  });
  assert.throws(() => f.modification(1), RangeError);

  const before = attrs({ communities: [comm(65000, 100), comm(1, 1)], large: [[65000, 1, 1]] });
  const snapshot = { communities: [...before.communities!], large: [...before.largeCommunities!] };
  const after = f.applyModifications(before, 2);
  assert.equal(after.localPref, 200);
  // Received order kept, new ones appended, already carried ones not repeated.
  assert.deepEqual([...after.communities!], [comm(65000, 100), comm(1, 1), comm(65000, 300)]);
  assert.deepEqual([...after.largeCommunities!], [65000, 1, 1, 65000, 9, 9]);
  // Unchanged fields shared, the input untouched.
  assert.equal(after.asPath, before.asPath);
  assert.equal(before.localPref, undefined);
  assert.deepEqual([...before.communities!], snapshot.communities);
  assert.deepEqual([...before.largeCommunities!], snapshot.large);

  const bare = f.applyModifications(attrs(), 2);
  assert.deepEqual([...bare.communities!], [comm(65000, 300), comm(65000, 100)]);
  assert.deepEqual([...bare.largeCommunities!], [65000, 9, 9, 65000, 1, 1]);
});

/** PathAttributes that counts reads of the fields the attribute conditions look at. */
function counted(a: PathAttributes): { attrs: PathAttributes; reads: () => number } {
  let n = 0;
  const p = new Proxy(a, {
    get(t, k, r) {
      if (k === 'communities' || k === 'asPath' || k === 'largeCommunities') n++;
      return Reflect.get(t, k, r) as unknown;
    },
  });
  return { attrs: p, reads: () => n };
}

test('attribute conditions are computed once per attribute set id', () => {
  const pol = policy([
    { name: 'blue', prefixes: [pm('10.0.0.0/8', 8, 32)], communities: [comm(65000, 1)] },
    { name: 'asn', action: 'Reject', contains: [666] },
  ]);
  const f = compileImportPolicy(pol, new ImportGuards());
  assert.equal(f.usesAttributes, true);
  const c = counted(attrs({ communities: [comm(65000, 1)] }));
  const first = run(f, '10.1.0.0/16', c.attrs, 7);
  const readsAfterFirst = c.reads();
  assert.ok(readsAfterFirst > 0);
  for (let i = 0; i < 100; i++) {
    const v = run(f, `10.${i}.0.0/16`, c.attrs, 7);
    assert.deepEqual(v, first);
  }
  assert.equal(c.reads(), readsAfterFirst, 'cached: no further reads');
  assert.equal(run(f, '11.0.0.0/8', c.attrs, 7).text, 'default-action');
  assert.equal(f.cachedSets, 1);

  // The id is reused for another set: the cache notices the new object.
  const other = attrs({ path: [[2, [65001, 666]]] });
  assert.equal(run(f, '10.1.0.0/16', other, 7).text, 'rule:asn');
  assert.equal(f.cachedSets, 1);
  f.forget(7);
  assert.equal(f.cachedSets, 0);

  // Ids far apart grow the cache; -1 skips it.
  assert.equal(run(f, '10.1.0.0/16', c.attrs, 5000).text, 'rule:blue');
  assert.equal(run(f, '10.1.0.0/16', other, -1).text, 'rule:asn');
  assert.equal(run(f, '10.1.0.0/16', c.attrs, 5000).text, 'rule:blue');

  // A recompiled policy does not see the old masks.
  const f2 = compileImportPolicy(policy([{ name: 'blue', prefixes: [pm('10.0.0.0/8', 8, 32)], communities: [comm(65000, 2)] }]), new ImportGuards());
  assert.equal(run(f2, '10.1.0.0/16', c.attrs, 5000).text, 'default-action');
});

test('policies without attribute conditions never read the attributes', () => {
  const f = compileImportPolicy(policy([{ prefixes: [pm('10.0.0.0/8', 8, 32)] }]), new ImportGuards());
  assert.equal(f.usesAttributes, false);
  const c = counted(attrs());
  assert.equal(run(f, '10.1.0.0/16', c.attrs, 3).accepted, true);
  assert.equal(c.reads(), 0);
});

test('more than 32 rules: first match across mask words', () => {
  const specs: RuleSpec[] = [];
  for (let i = 0; i < 70; i++) {
    specs.push(i % 2 === 0 ? { name: `c${i}`, communities: [i] } : { name: `p${i}`, prefixes: [pm(`10.${i}.0.0/16`)], action: 'Reject' });
  }
  const pol: ImportPolicy = policy(specs);
  const f = compileImportPolicy(pol, new ImportGuards());
  assert.equal(f.ruleCount, 70);
  assert.equal(run(f, '10.0.0.0/8', attrs({ communities: [68, 34, 40] }), 1).text, 'rule:c34');
  assert.equal(run(f, '10.63.0.0/16', attrs({ communities: [68] }), 2).text, 'rule:p63');
  assert.equal(run(f, '10.65.0.0/16', attrs({ communities: [64, 68] }), 3).text, 'rule:c64');
  assert.equal(run(f, '10.69.0.0/16', attrs({ communities: [1] }), 4).text, 'rule:p69');
  assert.equal(run(f, '10.69.0.0/16', attrs({ communities: [1] }), 4).accepted, false);
  assert.equal(run(f, '10.70.0.0/16', attrs({ communities: [1] }), 4).text, 'default-action');
  assert.equal(f.ruleName(33), 'p33');
});
